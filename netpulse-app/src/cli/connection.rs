//! `netpulse connection …`: connections (monitored links) and their settings as flags.

use clap::{Args, Subcommand};
use netpulse_domain::id::ProbeId;
use serde_json::{Value, json};

use super::or_none::{OrNone, or_none};
use super::output::{json_of, parse_connection, print, print_enabled};
use super::{CliError, Output};
use crate::dto::ConnectionDto;
use crate::service::connections::ConnectionInput;
use crate::service::{App, connections, probes};
use crate::startup::open_app;

/// Connection settings as flags.
#[derive(Debug, Args, Default)]
pub struct ConnectionFlags {
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// The ISP as you call it.
    #[arg(long)]
    pub isp: Option<String>,
    /// Plan download speed, whole Mbps (0 = unknown plan: no ratio check).
    #[arg(long)]
    pub download_mbps: Option<u64>,
    /// Plan upload speed, whole Mbps.
    #[arg(long)]
    pub upload_mbps: Option<u64>,
    /// Accent colour: primary, violet, amber, teal, rose, slate.
    #[arg(long)]
    pub colour: Option<String>,
    /// A label `key=value` (repeatable; replaces all labels).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A server pool entry (repeatable, in rotation order): `12345`, `ookla:12345`,
    /// `ookla:host:port`, `iperf3://host[:port]?…`, `http(s)://…`.
    #[arg(long = "server-pool", value_name = "ENTRY")]
    pub server_pool: Vec<String>,
    /// Remove every server pool entry (the engine chooses its own server).
    #[arg(long, conflicts_with = "server_pool")]
    pub clear_server_pool: bool,
    /// Schedule mode: even or cron.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Even schedule: tests per day (1–1440, default 24).
    #[arg(long)]
    pub tests_per_day: Option<u32>,
    /// Even schedule: largest jitter, seconds (default 120).
    #[arg(long = "jitter")]
    pub jitter_seconds: Option<u32>,
    /// Cron schedule: a 5-field expression (repeatable; commas inside are fine).
    #[arg(long = "cron", value_name = "EXPR")]
    pub cron: Vec<String>,
    /// Cron schedule: IANA time zone (default UTC).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Minimum download as a fraction of the plan, (0, 1] (default 0.7).
    #[arg(long)]
    pub min_download_ratio: Option<f64>,
    /// Minimum upload as a fraction of the plan, (0, 1] (default 0.7).
    #[arg(long)]
    pub min_upload_ratio: Option<f64>,
    /// Ping cap in ms, or `none` (default 100).
    #[arg(long, value_parser = or_none::<f64>)]
    pub max_ping_ms: Option<OrNone<f64>>,
    /// Jitter cap in ms, or `none` (default 50).
    #[arg(long, value_parser = or_none::<f64>)]
    pub max_jitter_ms: Option<OrNone<f64>>,
    /// Packet-loss cap in percent, or `none` (default 5).
    #[arg(long, value_parser = or_none::<f64>)]
    pub max_packet_loss_percent: Option<OrNone<f64>>,
    /// How much worse than its reliable baseline a result may be before it breaches
    /// `baseline_deviation`, percent in (0, 1000] (default 30).
    #[arg(long)]
    pub baseline_deviation_pct: Option<f64>,
    /// Retest interval while degraded, seconds (default 300).
    #[arg(long)]
    pub adaptive_interval_seconds: Option<u32>,
    /// Healthy results that end degradation (default 3).
    #[arg(long)]
    pub recovery_healthy_count: Option<u32>,
    /// Consecutive failures after which adaptive retesting backs off (default 5).
    #[arg(long)]
    pub max_consecutive_failures: Option<u32>,
    /// Own alert threshold: consecutive unhealthy results (default: the global setting).
    #[arg(long)]
    pub alert_after: Option<u32>,
    /// Own recovery threshold: consecutive healthy results.
    #[arg(long)]
    pub recover_after: Option<u32>,
    /// Network interface tests leave through (multi-WAN on one box).
    #[arg(long)]
    pub source_interface: Option<String>,
    /// Source address tests bind to.
    #[arg(long)]
    pub source_address: Option<String>,
}

impl ConnectionFlags {
    fn input(self) -> ConnectionInput {
        ConnectionInput {
            name: self.name,
            isp: self.isp,
            download_mbps: self.download_mbps,
            upload_mbps: self.upload_mbps,
            colour: self.colour,
            labels: (!self.labels.is_empty()).then_some(self.labels),
            server_pool: if self.clear_server_pool {
                Some(vec![])
            } else {
                (!self.server_pool.is_empty()).then_some(self.server_pool)
            },
            schedule: self.schedule,
            tests_per_day: self.tests_per_day,
            jitter_seconds: self.jitter_seconds,
            cron: (!self.cron.is_empty()).then_some(self.cron),
            timezone: self.timezone,
            min_download_ratio: self.min_download_ratio,
            min_upload_ratio: self.min_upload_ratio,
            max_ping_ms: self.max_ping_ms.map(|c| c.0),
            max_jitter_ms: self.max_jitter_ms.map(|c| c.0),
            max_packet_loss_percent: self.max_packet_loss_percent.map(|c| c.0),
            baseline_deviation_pct: self.baseline_deviation_pct,
            adaptive_interval_seconds: self.adaptive_interval_seconds,
            recovery_healthy_count: self.recovery_healthy_count,
            max_consecutive_failures: self.max_consecutive_failures,
            alert_after: self.alert_after.map(Some),
            recover_after: self.recover_after.map(Some),
            source_interface: self.source_interface.map(Some),
            source_address: self.source_address.map(Some),
            enabled: None,
        }
    }
}

/// `connection …`
#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Create a connection for a probe.
    Create {
        /// The owning probe's id.
        #[arg(long)]
        probe: String,
        /// Settings.
        #[command(flatten)]
        flags: ConnectionFlags,
    },
    /// List connections.
    List {
        /// Only this probe's.
        #[arg(long)]
        probe: Option<String>,
    },
    /// Show every setting of a connection.
    Show {
        /// The connection id.
        id: String,
    },
    /// Change settings (flags not given keep their value).
    Update {
        /// The connection id.
        id: String,
        /// Settings.
        #[command(flatten)]
        flags: ConnectionFlags,
    },
    /// Test this connection again.
    Enable {
        /// The connection id.
        id: String,
    },
    /// Stop testing this connection (cancels a queued run-now request).
    Disable {
        /// The connection id.
        id: String,
    },
    /// Delete a connection and its measurements.
    Delete {
        /// The connection id.
        id: String,
    },
}

fn connection_text(c: &netpulse_domain::model::Connection) -> String {
    let dto = ConnectionDto::from(c);
    let v = json_of(&dto);
    let mut s = String::new();
    if let Value::Object(map) = v {
        for (k, v) in map {
            s.push_str(&format!("{k:<26} {v}\n"));
        }
    }
    s.trim_end().to_owned()
}

/// Runs a connection command.
pub async fn connection(url: &str, out: &Output, cmd: ConnectionCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        ConnectionCommand::Create { probe, flags } => {
            let probe = ProbeId::parse(&probe).map_err(|e| CliError::usage("--probe", e))?;
            probes::get(&app, &probe)
                .await
                .map_err(|_| CliError::usage("--probe", format!("probe {probe} does not exist")))?;
            let c = connections::create(&app, &probe, flags.input()).await?;
            print(out, &json_of(&ConnectionDto::from(&c)), || {
                format!("connection {} created\nid: {}", c.name, c.id)
            });
        }
        ConnectionCommand::List { probe } => {
            let probe = probe
                .map(|p| ProbeId::parse(&p).map_err(|e| CliError::usage("--probe", e)))
                .transpose()?;
            let list = connections::list(&app, probe.as_ref()).await?;
            let items: Vec<Value> = list
                .iter()
                .map(|c| json_of(&ConnectionDto::from(c)))
                .collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<36}  {:<36}  {:<8}  NAME", "ID", "PROBE", "ENABLED");
                for c in &list {
                    s.push_str(&format!(
                        "\n{:<36}  {:<36}  {:<8}  {}",
                        c.id, c.probe_id, c.enabled, c.name
                    ));
                }
                s
            });
        }
        ConnectionCommand::Show { id } => {
            let c = connections::get(&app, &parse_connection(&id)?).await?;
            print(out, &json_of(&ConnectionDto::from(&c)), || {
                connection_text(&c)
            });
        }
        ConnectionCommand::Update { id, flags } => {
            let c = connections::update(&app, &parse_connection(&id)?, flags.input()).await?;
            print(out, &json_of(&ConnectionDto::from(&c)), || {
                connection_text(&c)
            });
        }
        ConnectionCommand::Enable { id } => set_connection(&app, out, &id, true).await?,
        ConnectionCommand::Disable { id } => set_connection(&app, out, &id, false).await?,
        ConnectionCommand::Delete { id } => {
            let id = parse_connection(&id)?;
            connections::delete(&app, &id).await?;
            print(out, &json!({ "id": id.as_str(), "deleted": true }), || {
                format!("connection {id} and its measurements deleted")
            });
        }
    }
    Ok(())
}

async fn set_connection(app: &App, out: &Output, id: &str, enabled: bool) -> Result<(), CliError> {
    let id = parse_connection(id)?;
    connections::set_enabled(app, &id, enabled).await?;
    print_enabled(out, "connection", id.as_str(), enabled);
    Ok(())
}
