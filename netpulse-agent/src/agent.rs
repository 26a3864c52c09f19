//! The agent: its parts, the loop of cycles, and the pause between them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use netpulse_ports::agent_api::AgentApi;

use crate::backoff::Backoff;
use crate::checks::CheckRounds;
use crate::checks::thread::RoundsThread;
use crate::config::AgentConfig;
use crate::cycle::CycleReport;
use crate::engines::Engines;
use crate::spool::{Spool, SpoolError};

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The spool directory cannot be used.
    #[error("spool: {0}")]
    Spool(#[from] SpoolError),
    /// The check spool (`<spool>/checks`) cannot be used.
    #[error("check spool: {0}")]
    CheckSpool(#[from] std::io::Error),
}

/// An agent, ready to run: configuration, engines, the server's API and the opened spool.
#[derive(Debug)]
pub struct Agent {
    config: AgentConfig,
    engines: Engines,
    api: Arc<dyn AgentApi>,
    spool: Spool,
    checks: Arc<CheckRounds>,
}

impl Agent {
    /// Opens (and locks) the spool; deletes half-written files from an interrupted run and
    /// evicts results beyond the cap. Blocking file I/O: call it at start-up.
    pub fn new(
        config: AgentConfig,
        engines: Engines,
        api: Arc<dyn AgentApi>,
    ) -> Result<Self, AgentError> {
        let (spool, opened) = Spool::open(&config.spool_dir, config.spool_max_results)?;
        let checks = Arc::new(CheckRounds::new(&config.spool_dir, &config.agent_key)?);
        tracing::info!(
            spool = %config.spool_dir.display(),
            pending = opened.pending,
            removed_half_written = opened.removed_temporary,
            evicted = opened.evicted.len(),
            engines = ?engines.configured(),
            version = %config.version,
            "agent ready"
        );
        Ok(Self {
            config,
            engines,
            api,
            spool,
            checks,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The engines.
    pub fn engines(&self) -> &Engines {
        &self.engines
    }

    /// The server's API.
    pub fn api(&self) -> &Arc<dyn AgentApi> {
        &self.api
    }

    /// The spool.
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// The connectivity-check rounds.
    pub fn checks(&self) -> &Arc<CheckRounds> {
        &self.checks
    }

    /// How long to wait after a cycle: nothing more after a long poll the server held, else
    /// the server's `pollAfterSeconds`, or the configured interval when it named none (0); after a failed poll the back-off's next delay (capped
    /// by the interval). Never shorter than `min_sleep`.
    pub fn pause_after(&self, report: &CycleReport, backoff: &mut Backoff) -> Duration {
        let pause = match report.poll_after_seconds {
            // The held poll was the pause: poll again right after the work.
            Some(_) if report.poll_error.is_none() && report.long_polled => {
                backoff.reset();
                Duration::ZERO
            }
            Some(seconds) if report.poll_error.is_none() => {
                backoff.reset();
                if seconds > 0 {
                    Duration::from_secs(u64::from(seconds))
                } else {
                    self.config.poll_interval
                }
            }
            _ => backoff.next_delay(),
        };
        pause.max(self.config.min_sleep)
    }

    /// Runs cycles until `shutdown` completes, then returns at once: a test in progress is
    /// abandoned (its future is dropped, which stops the tool) and nothing half-done is pushed;
    /// results already finished stay in the spool for the next start.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        // The check rounds run beside the cycles, on their own clock and their own thread
        // (checks::thread), until shutdown; inline here if that thread cannot be started.
        match RoundsThread::start(Arc::clone(&self.checks), Arc::clone(&self.api)) {
            Ok(rounds) => {
                self.cycles(shutdown).await;
                rounds.stop().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the check thread; checks run on the agent's runtime");
                let rounds = Arc::clone(&self.checks).run_forever(Arc::clone(&self.api));
                tokio::select! {
                    () = self.cycles(shutdown) => {}
                    () = rounds => {}
                }
            }
        }
        tracing::info!("agent stopped");
    }

    async fn cycles(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = Backoff::new(self.config.backoff_base, self.config.poll_interval);
        loop {
            let report = tokio::select! {
                biased;
                () = &mut shutdown => break,
                report = self.cycle() => report,
            };
            let pause = self.pause_after(&report, &mut backoff);
            if report.poll_error.is_some() {
                tracing::warn!(
                    failures = backoff.failures(),
                    retry_in_ms = pause.as_millis() as u64,
                    "agent cycle failed: {report}"
                );
            } else {
                tracing::info!(next_poll_in_s = pause.as_secs(), "cycle done: {report}");
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Runs one cycle, or stops early when `shutdown` completes first (then `None`).
    pub async fn run_once(self, shutdown: impl Future<Output = ()>) -> Option<CycleReport> {
        let report = tokio::select! {
            biased;
            () = shutdown => None,
            report = self.cycle() => Some(report),
        };
        match &report {
            Some(r) if r.succeeded() => tracing::info!("cycle done: {r}"),
            Some(r) => tracing::warn!("agent cycle failed: {r}"),
            None => tracing::info!("stopped before the cycle finished"),
        }
        report
    }
}

/// Runs the agent until `shutdown` completes (see [`Agent::run`]); the only error is a spool
/// that cannot be opened. Like `mini-redis`'s `run(listener, shutdown)`: the binary passes a
/// signal future, the server (`--local-agent`) and tests pass their own.
pub async fn run(
    config: AgentConfig,
    engines: Engines,
    api: Arc<dyn AgentApi>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    let agent = Agent::new(config, engines, api)?;
    agent.run(shutdown).await;
    Ok(())
}
