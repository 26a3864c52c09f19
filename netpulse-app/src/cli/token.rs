//! `netpulse token …`: REST API tokens.

use clap::Subcommand;
use netpulse_domain::id::ApiTokenId;
use serde_json::{Value, json};

use super::output::print;
use super::{CliError, Output};
use crate::service::{access, api_tokens, users};
use crate::startup::open_app;
use netpulse_domain::access::Role;

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a REST API token; prints it once.
    Create {
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// The owner's e-mail: the token can never do more than their current role. Without
        /// it, a service token limited by its scopes only.
        #[arg(long)]
        user: Option<String>,
        /// Scopes: a preset (read-only, operator, admin) or permission names, comma-separated
        /// (default: the owner's role, or admin for a service token).
        #[arg(long)]
        scopes: Option<String>,
        /// Days until it stops working (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
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
        TokenCommand::Create {
            name,
            user,
            scopes,
            expires_days,
        } => {
            let owner = match user {
                Some(e) => Some(
                    users::by_email(&app, &e.trim().to_lowercase())
                        .await?
                        .ok_or_else(|| {
                            CliError::usage("--user", format!("no user with e-mail {e}"))
                        })?,
                ),
                None => None,
            };
            let scopes = match scopes {
                Some(text) => access::parse_scopes("scopes", &text)
                    .map_err(|e| CliError::usage("--scopes", e))?,
                None => owner.as_ref().map_or(Role::Admin, |u| u.role).permissions(),
            };
            let expires_at = match expires_days {
                Some(0) => return Err(CliError::usage("--expires-days", "must be at least 1")),
                Some(d) => Some(app.clock.now().plus_seconds(86_400 * i64::from(d))),
                None => None,
            };
            let new = api_tokens::NewToken {
                name,
                owner: owner.map(|u| u.id),
                scopes,
                expires_at,
            };
            let issued = api_tokens::create(&app, &new).await?;
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
                        "userId": t.user_id.as_ref().map(|u| u.as_str().to_owned()),
                        "scopes": t.scopes.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                        "expiresAt": t.expires_at.map(netpulse_domain::Timestamp::to_rfc3339),
                        "lastUsedAt": t.last_used_at.map(netpulse_domain::Timestamp::to_rfc3339),
                        "lastUsedIp": t.last_used_ip,
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
