//! `netpulse serve --local-agent`: the agent, in-process, for one machine setups. It is the same
//! agent loop as `netpulse-agent` (same HTTP API over loopback, same spool), for a probe named
//! after the host and labelled `local_agent=true`, created on first start together with one
//! connection. That connection's pool is empty (the Ookla CLI picks a server) when the Ookla CLI
//! is on `PATH`, and otherwise uses the built-in HTTP engine against `--local-agent-target`
//! (default `https://speed.cloudflare.com`, Cloudflare's public speed-test endpoints). The
//! probe's token is replaced at every start and handed to the in-process agent only; it is never
//! stored in clear.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use netpulse_adapters::agent_client::HttpAgentApi;
use netpulse_adapters::runners::process::resolve_executable;
use netpulse_agent::{AgentConfig, Engines};
use netpulse_domain::model::Probe;
use netpulse_domain::values::Labels;

use super::CliError;
use crate::error::AppError;
use crate::service::connections::ConnectionInput;
use crate::service::{App, connections, probes};

/// The label that marks the local agent's probe.
pub const LOCAL_LABEL: &str = "local_agent";

/// Settings of the in-process agent.
#[derive(Debug, Clone)]
pub struct LocalAgent {
    /// Where undelivered results are kept.
    pub spool_dir: PathBuf,
    /// The Ookla CLI.
    pub ookla_binary: PathBuf,
    /// iperf3.
    pub iperf3_binary: PathBuf,
    /// The HTTP engine's target when the Ookla CLI is missing.
    pub http_target: String,
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".to_owned())
}

/// The local probe, created (with its connection) on first start.
async fn local_probe(app: &App, settings: &LocalAgent) -> Result<Probe, AppError> {
    let existing = app.storage.probes().await?;
    if let Some(p) = existing
        .into_iter()
        .find(|p| p.labels.get(LOCAL_LABEL) == Some("true"))
    {
        return Ok(p);
    }
    let mut labels = Labels::new();
    labels.insert(LOCAL_LABEL, "true")?;
    let issued = probes::create(app, &host_name(), labels).await?;
    let ookla = resolve_executable(&settings.ookla_binary).is_some();
    let pool = if ookla {
        vec![]
    } else {
        vec![settings.http_target.clone()]
    };
    connections::create(
        app,
        &issued.probe.id,
        ConnectionInput {
            name: Some("internet".into()),
            server_pool: Some(pool),
            ..ConnectionInput::default()
        },
    )
    .await?;
    tracing::info!(
        probe = %issued.probe.id,
        engine = if ookla { "ookla" } else { "http" },
        "created the local agent's probe and connection"
    );
    Ok(issued.probe)
}

/// Prepares the local agent; returns the future that runs it until `shutdown`.
pub async fn start(
    app: &App,
    settings: LocalAgent,
    server_url: String,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<impl std::future::Future<Output = ()> + Send + 'static, CliError> {
    let probe = local_probe(app, &settings).await?;
    let token = probes::rotate_token(app, &probe.id).await?;
    let api = HttpAgentApi::new(&server_url, &probe.id, &token).map_err(|e| CliError {
        status: 1,
        message: format!("local agent: {e}"),
    })?;
    let mut config = AgentConfig::new(settings.spool_dir.clone());
    config.version = format!("{} (local)", env!("CARGO_PKG_VERSION"));
    config.poll_interval = Duration::from_secs(u64::from(app.poll_interval_seconds));
    let engines = Engines::builtin(
        settings.ookla_binary.clone(),
        settings.iperf3_binary.clone(),
    );
    let agent =
        netpulse_agent::Agent::new(config, engines, Arc::new(api)).map_err(|e| CliError {
            status: 2,
            message: format!(
                "invalid --local-agent-spool-dir {}: {e}",
                display(&settings.spool_dir)
            ),
        })?;
    tracing::info!(probe = %probe.id, name = %probe.name, "local agent starting");
    Ok(async move {
        agent.run(shutdown).await;
        tracing::info!("local agent stopped");
    })
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
