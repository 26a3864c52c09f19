//! `netpulse probe …`: probes (agent installations).

use clap::Subcommand;
use serde_json::{Value, json};

use super::output::{json_of, parse_probe, print, print_enabled};
use super::{CliError, Output};
use crate::dto::ProbeDto;
use crate::service::{App, probes};
use crate::startup::open_app;

/// `probe …`
#[derive(Debug, Subcommand)]
pub enum ProbeCommand {
    /// Create a probe; prints its id and its token (shown once).
    Create {
        /// The probe's name.
        name: String,
        /// A label `key=value` (repeatable; `site` is exported with metrics).
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
    },
    /// List probes.
    List,
    /// Replace a probe's token (the old one stops working at once); prints the new token.
    RotateToken {
        /// The probe id.
        id: String,
    },
    /// Allow a probe to poll and push.
    Enable {
        /// The probe id.
        id: String,
    },
    /// Refuse a probe's polls and pushes (403).
    Disable {
        /// The probe id.
        id: String,
    },
    /// Delete a probe (refused while it has connections).
    Delete {
        /// The probe id.
        id: String,
    },
}

/// Runs a probe command.
pub async fn probe(url: &str, out: &Output, cmd: ProbeCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        ProbeCommand::Create { name, labels } => {
            let labels = probes::labels_from_pairs(&labels)?;
            let issued = probes::create(&app, &name, labels).await?;
            print(
                out,
                &json!({ "id": issued.probe.id.as_str(), "token": issued.token, "probe": json_of(&ProbeDto::from(&issued.probe)) }),
                || {
                    format!(
                        "probe {} created\nid:    {}\ntoken: {}\n(the token is shown only now; store it for the agent as PROBE_TOKEN)",
                        issued.probe.name, issued.probe.id, issued.token
                    )
                },
            );
        }
        ProbeCommand::List => {
            let list = probes::list(&app).await?;
            let items: Vec<Value> = list.iter().map(|p| json_of(&ProbeDto::from(p))).collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<36}  {:<8}  {:<25}  NAME", "ID", "ENABLED", "LAST POLL");
                for p in &list {
                    let poll = p.last_poll_at.map_or_else(
                        || "never".to_owned(),
                        netpulse_domain::Timestamp::to_rfc3339,
                    );
                    s.push_str(&format!(
                        "\n{:<36}  {:<8}  {:<25}  {}",
                        p.id, p.enabled, poll, p.name
                    ));
                }
                s
            });
        }
        ProbeCommand::RotateToken { id } => {
            let id = parse_probe(&id)?;
            let token = probes::rotate_token(&app, &id).await?;
            print(out, &json!({ "id": id.as_str(), "token": token }), || {
                format!("new token for probe {id}:\n{token}\n(the old token no longer works)")
            });
        }
        ProbeCommand::Enable { id } => set_probe(&app, out, &id, true).await?,
        ProbeCommand::Disable { id } => set_probe(&app, out, &id, false).await?,
        ProbeCommand::Delete { id } => {
            let id = parse_probe(&id)?;
            probes::delete(&app, &id).await?;
            print(out, &json!({ "id": id.as_str(), "deleted": true }), || {
                format!("probe {id} deleted")
            });
        }
    }
    Ok(())
}

async fn set_probe(app: &App, out: &Output, id: &str, enabled: bool) -> Result<(), CliError> {
    let id = parse_probe(id)?;
    probes::set_enabled(app, &id, enabled).await?;
    print_enabled(out, "probe", id.as_str(), enabled);
    Ok(())
}
