//! `netpulse fleet …`: agent states, probe maintenance and registration tokens.

use clap::Subcommand;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use serde_json::{Value, json};

use super::output::print;
use super::{CliError, Output};
use crate::service::registration::TokenRequest;
use crate::service::{fleet, probe_maintenance, probes, registration};
use crate::startup::open_app;

/// `fleet …`
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Every probe with its agent state (ONLINE, DEGRADED, OFFLINE, MAINTENANCE).
    List,
    /// Create a registration token for self-registering agents; prints its secret once.
    TokenCreate {
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// When it stops registering (RFC 3339).
        #[arg(long)]
        expires: Option<String>,
        /// How many new agents it may register.
        #[arg(long)]
        max_uses: Option<u32>,
        /// A label for every probe it registers (`key=value`, repeatable).
        #[arg(long = "label")]
        labels: Vec<String>,
    },
    /// List registration tokens (never their secrets).
    TokenList,
    /// Revoke a registration token.
    TokenRevoke {
        /// The token id.
        id: String,
    },
    /// Switch a probe's maintenance on (from now) or off (ends every active window).
    Maintenance {
        /// The probe id.
        probe: String,
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        switch: String,
        /// With `on`: until when (RFC 3339); default: until switched off.
        #[arg(long)]
        until: Option<String>,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Schedule a maintenance window of a probe.
    MaintenanceSchedule {
        /// The probe id.
        probe: String,
        /// Start (RFC 3339).
        #[arg(long)]
        start: String,
        /// End (RFC 3339); default: until switched off.
        #[arg(long)]
        end: Option<String>,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
}

fn time(flag: &str, text: Option<&str>) -> Result<Option<Timestamp>, CliError> {
    text.map(|t| {
        Timestamp::parse_rfc3339(t).map_err(|_| CliError::usage(flag, "must be an RFC 3339 time"))
    })
    .transpose()
}

fn probe_id(text: &str) -> Result<ProbeId, CliError> {
    ProbeId::parse(text).map_err(|e| CliError::usage("PROBE", e))
}

/// Runs a fleet command.
pub async fn fleet_command(url: &str, out: &Output, cmd: FleetCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        FleetCommand::List => {
            let list = probes::list(&app).await?;
            let states = fleet::statuses(&app, &list, app.clock.now()).await?;
            let rows: Vec<(String, String, String)> = list
                .iter()
                .map(|p| {
                    let s = &states[&p.id];
                    (
                        p.id.to_string(),
                        p.name.to_string(),
                        s.verdict.state.as_str().to_owned(),
                    )
                })
                .collect();
            let items: Vec<Value> = rows
                .iter()
                .map(|(id, name, state)| json!({"id": id, "name": name, "state": state}))
                .collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<36}  {:<11}  NAME", "ID", "STATE");
                for (id, name, state) in &rows {
                    s.push_str(&format!("\n{id:<36}  {state:<11}  {name}"));
                }
                s
            });
        }
        FleetCommand::TokenCreate {
            name,
            expires,
            max_uses,
            labels,
        } => {
            let req = TokenRequest {
                name,
                expires_at: time("--expires", expires.as_deref())?,
                max_uses,
                labels: probes::labels_from_pairs(&labels)?,
            };
            let issued = registration::create_token(&app, req).await?;
            let (t, secret) = (&issued.token, &issued.secret);
            print(
                out,
                &json!({"id": t.id, "name": t.name, "secret": secret}),
                || {
                    format!(
                        "registration token {} created\nid:     {}\nsecret: {secret}\n(shown only now; \
                     start agents with AGENT_TOKEN={secret})",
                        t.name, t.id
                    )
                },
            );
        }
        FleetCommand::TokenList => {
            let now = app.clock.now();
            let list = registration::list_tokens(&app).await?;
            let items: Vec<Value> = list
                .iter()
                .map(|t| {
                    json!({"id": t.id, "name": t.name, "uses": t.uses, "maxUses": t.max_uses,
                           "status": t.status(now)})
                })
                .collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<36}  {:<8}  {:>5}  NAME", "ID", "STATUS", "USES");
                for t in &list {
                    s.push_str(&format!(
                        "\n{:<36}  {:<8}  {:>5}  {}",
                        t.id,
                        t.status(now),
                        t.uses,
                        t.name
                    ));
                }
                s
            });
        }
        FleetCommand::TokenRevoke { id } => {
            registration::revoke_token(&app, &id).await?;
            print(out, &json!({"id": id, "revoked": true}), || {
                format!("registration token {id} revoked")
            });
        }
        FleetCommand::Maintenance {
            probe,
            switch,
            until,
            reason,
        } => {
            let id = probe_id(&probe)?;
            let until = time("--until", until.as_deref())?;
            let w = probe_maintenance::switch(&app, &id, switch == "on", until, &reason).await?;
            print(
                out,
                &json!({"probe": id.as_str(), "inMaintenance": w.is_some()}),
                || format!("probe {id}: maintenance {switch}"),
            );
        }
        FleetCommand::MaintenanceSchedule {
            probe,
            start,
            end,
            reason,
        } => {
            let id = probe_id(&probe)?;
            let start = time("--start", Some(start.as_str()))?.expect("given");
            let end = time("--end", end.as_deref())?;
            let w = probe_maintenance::schedule(&app, &id, start, end, &reason).await?;
            print(out, &json!({"id": w.id, "probe": id.as_str()}), || {
                format!("maintenance window {} scheduled for probe {id}", w.id)
            });
        }
    }
    Ok(())
}
