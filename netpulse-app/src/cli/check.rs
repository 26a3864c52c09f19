//! `netpulse check …`: connectivity checks and their settings as flags, and the default set.

use clap::{Args, Subcommand};
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_ports::check_store::Check;
use serde_json::{Value, json};

use super::or_none::{OrNone, or_none};
use super::output::{json_of, print};
use super::{CliError, Output};
use crate::check_dto::CheckDto;
use crate::error::AppError;
use crate::service::check_params::ParamsInput;
use crate::service::checks::{self, CheckInput, DEFAULT_HOSTS};
use crate::service::probes;
use crate::startup::open_app;

/// Check settings as flags (those not given keep their value on update).
#[derive(Debug, Args, Default)]
pub struct CheckFlags {
    /// Host or IP literal; an http(s):// URL for http; the name for dns.
    #[arg(long)]
    pub target: Option<String>,
    /// The port (tcp and udp).
    #[arg(long)]
    pub port: Option<u32>,
    /// dual (default), v4 or v6.
    #[arg(long)]
    pub family: Option<String>,
    /// service (default: its own alerts) or connectivity (feeds outages).
    #[arg(long)]
    pub role: Option<String>,
    /// Seconds between runs (10–3600, default 60).
    #[arg(long)]
    pub interval_seconds: Option<u32>,
    /// Service checks: failing rounds in a row that alert (default 3).
    #[arg(long)]
    pub alert_after: Option<u32>,
    /// Service checks: good rounds in a row that recover (default 2).
    #[arg(long)]
    pub recover_after: Option<u32>,
    /// true or false: whether the probe runs it.
    #[arg(long)]
    pub enabled: Option<bool>,
    /// A label `key=value` (repeatable; replaces all labels).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// icmp: echoes per round (1–20, default 5).
    #[arg(long)]
    pub count: Option<u32>,
    /// icmp: loss percent that flags a result degraded (default 20).
    #[arg(long)]
    pub loss_warn_pct: Option<f64>,
    /// icmp: median RTT in ms that flags a result degraded, or `none`.
    #[arg(long, value_parser = or_none::<f64>)]
    pub rtt_warn_ms: Option<OrNone<f64>>,
    /// http: GET (default) or HEAD.
    #[arg(long)]
    pub method: Option<String>,
    /// http: an accepted status or range, e.g. 200-399 (repeatable; replaces the set).
    #[arg(long = "accepted", value_name = "STATUS[-STATUS]")]
    pub accepted: Vec<String>,
    /// http: slowest accepted response in ms, or `none`.
    #[arg(long, value_parser = or_none::<u32>)]
    pub max_response_ms: Option<OrNone<u32>>,
    /// http: text the body must contain (empty: no condition).
    #[arg(long)]
    pub body_contains: Option<String>,
    /// http, tcp, udp: timeout in ms.
    #[arg(long)]
    pub timeout_ms: Option<u32>,
    /// dns: a resolver IP (repeatable; replaces the list; none given: /etc/resolv.conf).
    #[arg(long = "resolver", value_name = "IP")]
    pub resolvers: Vec<String>,
    /// dns: A or AAAA (repeatable; replaces the list).
    #[arg(long = "record-type", value_name = "TYPE")]
    pub record_types: Vec<String>,
    /// dns: true to count NXDOMAIN and NODATA as ok.
    #[arg(long)]
    pub expect_any: Option<bool>,
    /// dns: queries per resolver and record type (1–10, default 3).
    #[arg(long)]
    pub queries: Option<u32>,
    /// udp: dns (default), ntp or hex:<bytes>.
    #[arg(long)]
    pub payload: Option<String>,
}

fn listed(v: Vec<String>) -> Option<Vec<String>> {
    (!v.is_empty()).then_some(v)
}

impl CheckFlags {
    fn input(self, kind: Option<String>) -> CheckInput {
        CheckInput {
            kind,
            target: self.target,
            port: self.port.map(Some),
            family: self.family,
            role: self.role,
            interval_seconds: self.interval_seconds,
            params: ParamsInput {
                count: self.count,
                loss_warn_pct: self.loss_warn_pct,
                rtt_warn_ms: self.rtt_warn_ms.map(|v| v.0),
                method: self.method,
                accepted: listed(self.accepted),
                max_response_ms: self.max_response_ms.map(|v| v.0),
                body_contains: self.body_contains.map(|b| (!b.is_empty()).then_some(b)),
                timeout_ms: self.timeout_ms,
                resolvers: listed(self.resolvers),
                record_types: listed(self.record_types),
                expect_any: self.expect_any,
                queries: self.queries,
                payload: self.payload,
            },
            alert_after: self.alert_after.map(Some),
            recover_after: self.recover_after.map(Some),
            enabled: self.enabled,
            labels: listed(self.labels),
        }
    }
}

/// `check …`
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Create a check for a probe.
    Create {
        /// The probe that runs it.
        #[arg(long)]
        probe: String,
        /// icmp, http, dns, tcp or udp.
        #[arg(long)]
        kind: String,
        /// Settings.
        #[command(flatten)]
        flags: CheckFlags,
    },
    /// List checks.
    List {
        /// Only this probe's.
        #[arg(long)]
        probe: Option<String>,
    },
    /// Show every setting of a check.
    Show {
        /// The check id.
        id: String,
    },
    /// Change settings (flags not given keep their value; the kind cannot change).
    Update {
        /// The check id.
        id: String,
        /// Settings.
        #[command(flatten)]
        flags: CheckFlags,
    },
    /// Delete a check and its results.
    Delete {
        /// The check id.
        id: String,
    },
    /// The default connectivity set: add it to a probe, or switch it on or off for new probes.
    Defaults {
        /// Add the default set (again) to this probe.
        #[arg(long)]
        probe: Option<String>,
        /// `on` or `off`: whether new probes get the default set.
        #[arg(long, value_name = "on|off")]
        new_probes: Option<String>,
    },
}

/// Errors about a parameter name its flag (`params.count` → `--count`).
fn flagged(e: AppError) -> CliError {
    match e {
        AppError::Invalid { field, message } => {
            let field = field.strip_prefix("params.").unwrap_or(&field).to_owned();
            let field = match field.as_str() {
                "record_types" => "record_type".to_owned(),
                "resolvers" => "resolver".to_owned(),
                _ => field,
            };
            CliError::from(AppError::Invalid { field, message })
        }
        other => CliError::from(other),
    }
}

fn parse_check(text: &str) -> Result<CheckId, CliError> {
    CheckId::parse(text).map_err(|e| CliError::usage("ID", e))
}

fn parse_probe(text: &str) -> Result<ProbeId, CliError> {
    ProbeId::parse(text).map_err(|e| CliError::usage("--probe", e))
}

fn check_text(c: &Check) -> String {
    let mut s = String::new();
    if let Value::Object(map) = json_of(&CheckDto::from(c)) {
        for (k, v) in map {
            s.push_str(&format!("{k:<16} {v}\n"));
        }
    }
    s.trim_end().to_owned()
}

fn list_text(list: &[Check]) -> String {
    let mut s = format!(
        "{:<36}  {:<36}  {:<5}  {:<6}  {:<12}  {:<7}  TARGET",
        "ID", "PROBE", "KIND", "FAMILY", "ROLE", "ENABLED"
    );
    for c in list {
        let target = match c.spec.port {
            Some(p) => format!("{} port {p}", c.spec.target),
            None => c.spec.target.clone(),
        };
        s.push_str(&format!(
            "\n{:<36}  {:<36}  {:<5}  {:<6}  {:<12}  {:<7}  {target}",
            c.id, c.probe_id, c.spec.kind, c.spec.family, c.spec.role, c.enabled
        ));
    }
    s
}

/// Runs a check command.
pub async fn check(url: &str, out: &Output, cmd: CheckCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        CheckCommand::Create { probe, kind, flags } => {
            let probe = parse_probe(&probe)?;
            probes::get(&app, &probe)
                .await
                .map_err(|_| CliError::usage("--probe", format!("probe {probe} does not exist")))?;
            let c = checks::create(&app, &probe, flags.input(Some(kind)))
                .await
                .map_err(flagged)?;
            print(out, &json_of(&CheckDto::from(&c)), || {
                format!(
                    "{} check of {} created\nid: {}",
                    c.spec.kind, c.spec.target, c.id
                )
            });
        }
        CheckCommand::List { probe } => {
            let probe = probe.as_deref().map(parse_probe).transpose()?;
            let list = checks::list(&app, probe.as_ref()).await?;
            let items: Vec<Value> = list.iter().map(|c| json_of(&CheckDto::from(c))).collect();
            print(out, &json!({ "items": items }), || list_text(&list));
        }
        CheckCommand::Show { id } => {
            let c = checks::get(&app, &parse_check(&id)?).await?;
            print(out, &json_of(&CheckDto::from(&c)), || check_text(&c));
        }
        CheckCommand::Update { id, flags } => {
            let c = checks::update(&app, &parse_check(&id)?, flags.input(None))
                .await
                .map_err(flagged)?;
            print(out, &json_of(&CheckDto::from(&c)), || check_text(&c));
        }
        CheckCommand::Delete { id } => {
            let id = parse_check(&id)?;
            checks::delete(&app, &id).await?;
            print(out, &json!({ "id": id.as_str(), "deleted": true }), || {
                format!("check {id} and its results deleted")
            });
        }
        CheckCommand::Defaults { probe, new_probes } => {
            defaults(&app, out, probe.as_deref(), new_probes.as_deref()).await?;
        }
    }
    Ok(())
}

async fn defaults(
    app: &crate::service::App,
    out: &Output,
    probe: Option<&str>,
    new_probes: Option<&str>,
) -> Result<(), CliError> {
    if let Some(v) = new_probes {
        let on = match v {
            "on" => true,
            "off" => false,
            other => {
                return Err(CliError::usage(
                    "--new-probes",
                    format!("must be on or off (got {other:?})"),
                ));
            }
        };
        checks::set_defaults_for_new_probes(app, on).await?;
    }
    let mut added = Vec::new();
    if let Some(p) = probe {
        let p = parse_probe(p)?;
        probes::get(app, &p)
            .await
            .map_err(|_| CliError::usage("--probe", format!("probe {p} does not exist")))?;
        added = checks::add_defaults(app, &p).await?;
    }
    let on = checks::defaults_for_new_probes(app).await?;
    let items: Vec<Value> = added.iter().map(|c| json_of(&CheckDto::from(c))).collect();
    let hosts: Vec<Value> = DEFAULT_HOSTS
        .iter()
        .map(|(provider, address, _)| json!({ "provider": provider, "address": address }))
        .collect();
    print(
        out,
        &json!({ "newProbes": if on { "on" } else { "off" }, "added": items, "hosts": hosts }),
        || {
            let mut s = format!(
                "default set for new probes: {}\nhosts contacted every minute (ICMP and HTTP): {}",
                if on { "on" } else { "off" },
                DEFAULT_HOSTS
                    .iter()
                    .map(|(p, a, _)| format!("{a} ({p})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !added.is_empty() {
                s.push('\n');
                s.push_str(&list_text(&added));
            }
            s
        },
    );
    Ok(())
}
