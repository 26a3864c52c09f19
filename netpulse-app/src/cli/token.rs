//! `netpulse token …`: REST API tokens.

use clap::Subcommand;
use netpulse_domain::id::ApiTokenId;
use serde_json::{Value, json};

use super::output::print;
use super::{CliError, Output};
use crate::service::api_tokens;
use crate::startup::open_app;

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a REST API token; prints it once.
    Create {
        /// What the token is for.
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token.
    Revoke {
        /// The token id.
        id: String,
    },
}

/// Runs a token command.
pub async fn token(url: &str, out: &Output, cmd: TokenCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        TokenCommand::Create { name } => {
            let issued = api_tokens::create(&app, &name).await?;
            let (t, secret) = (&issued.token, &issued.secret);
            print(
                out,
                &json!({ "id": t.id.as_str(), "name": t.name, "token": secret }),
                || {
                    format!(
                        "token {} created\nid:    {}\ntoken: {secret}\n(shown only now)",
                        t.name, t.id
                    )
                },
            );
        }
        TokenCommand::List => {
            let list = api_tokens::list(&app).await?;
            let items: Vec<Value> = list
                .iter()
                .map(|t| {
                    json!({
                        "id": t.id.as_str(),
                        "name": t.name,
                        "createdAt": t.created_at.to_rfc3339(),
                    })
                })
                .collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<36}  {:<25}  NAME", "ID", "CREATED");
                for t in &list {
                    s.push_str(&format!(
                        "\n{:<36}  {:<25}  {}",
                        t.id,
                        t.created_at.to_rfc3339(),
                        t.name
                    ));
                }
                s
            });
        }
        TokenCommand::Revoke { id } => {
            let id = ApiTokenId::parse(&id).map_err(|e| CliError::usage("ID", e))?;
            api_tokens::revoke(&app, &id).await?;
            print(out, &json!({ "id": id.as_str(), "revoked": true }), || {
                format!("token {id} revoked")
            });
        }
    }
    Ok(())
}
