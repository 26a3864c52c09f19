//! `netpulse serve --local-agent`: the agent, in-process, for one machine setups. It is the same
//! agent loop as `netpulse-agent` (same HTTP API over loopback, same spool), for a probe named
//! after the host and labelled `local_agent=true`, created on first start together with one
//! connection. That connection's pool is `--local-agent-target` when given; otherwise empty (the
//! Ookla CLI picks a server) when the Ookla CLI is on `PATH` (and really is the Ookla CLI), and
//! otherwise the built-in HTTP engine against `https://speed.cloudflare.com` (Cloudflare's public
//! speed-test endpoints). A target given on a later start replaces the connection's pool, or the
//! log says why it could not ([`local_agent::TargetOutcome`]). The probe's token is replaced at every start and handed to the in-process agent only; it is never
//! stored in clear.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::StartupError;
use crate::service::{App, local_agent, probes};
use netpulse_adapters::agent_client::HttpAgentApi;
use netpulse_adapters::runners::ookla::{OoklaConfig, OoklaRunner};
use netpulse_agent::{AgentConfig, Engines};
use netpulse_ports::clock::SystemClock;

/// Settings of the in-process agent.
#[derive(Debug, Clone)]
pub struct LocalAgent {
    /// Where undelivered results are kept.
    pub spool_dir: PathBuf,
    /// The Ookla CLI.
    pub ookla_binary: PathBuf,
    /// iperf3.
    pub iperf3_binary: PathBuf,
    /// `--local-agent-target`: the connection's pool entry, when given.
    pub http_target: Option<String>,
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
    let ookla = OoklaRunner::new(
        OoklaConfig {
            binary: settings.ookla_binary.clone(),
        },
        Arc::new(SystemClock),
    )
    .is_ookla_cli()
    .await;
    let (probe, target) =
        local_agent::ensure_probe(app, &host_name(), ookla, settings.http_target.as_deref())
            .await
            .map_err(|e| match e {
                crate::error::AppError::Invalid { field, message } if field == "server_pool" => {
                    StartupError::Setting {
                        flag: "--local-agent-target",
                        message,
                    }
                }
                other => other.into(),
            })?;
    match target {
        local_agent::TargetOutcome::NotGiven | local_agent::TargetOutcome::Unchanged => {}
        local_agent::TargetOutcome::Applied {
            connection,
            previous_pool,
        } => tracing::info!(%connection, ?previous_pool, target = settings.http_target.as_deref(),
            "the local agent's connection now tests against --local-agent-target"),
        local_agent::TargetOutcome::NotApplied(why) => {
            tracing::warn!(
                target = settings.http_target.as_deref(),
                "--local-agent-target not applied: {why}"
            );
        }
    }
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
