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

use super::StartupError;
use crate::service::{App, local_agent, probes};
use netpulse_adapters::agent_client::HttpAgentApi;
use netpulse_adapters::runners::process::resolve_executable;
use netpulse_agent::{AgentConfig, Engines};

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

/// Prepares the local agent; returns the future that runs it until `shutdown`.
pub async fn start(
    app: &App,
    settings: LocalAgent,
    server_url: String,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<impl std::future::Future<Output = ()> + Send + 'static, StartupError> {
    let ookla = resolve_executable(&settings.ookla_binary).is_some();
    let probe = local_agent::ensure_probe(app, &host_name(), ookla, &settings.http_target).await?;
    let token = probes::rotate_token(app, &probe.id).await?;
    let api = HttpAgentApi::new(&server_url, &probe.id, &token)
        .map_err(|e| StartupError::LocalAgent(e.to_string()))?;
    let mut config = AgentConfig::new(settings.spool_dir.clone());
    config.version = format!("{} (local)", env!("CARGO_PKG_VERSION"));
    config.poll_interval = Duration::from_secs(u64::from(app.poll_interval_seconds));
    config.agent_key = probe.id.to_string();
    let engines = Engines::builtin(
        settings.ookla_binary.clone(),
        settings.iperf3_binary.clone(),
    );
    let agent = netpulse_agent::Agent::new(config, engines, Arc::new(api)).map_err(|e| {
        StartupError::Setting {
            flag: "--local-agent-spool-dir",
            message: format!("{}: {e}", display(&settings.spool_dir)),
        }
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
