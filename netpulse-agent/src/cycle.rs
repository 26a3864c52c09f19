//! One cycle of the agent: replay the spool (oldest first), poll `/due`, run each task, spool
//! its result durably and push it.
//!
//! A result leaves the spool only when the server has it (`201`, or `200` already recorded). A
//! result the server rejects for good (a 4xx other than 401/403) is moved to `rejected/` and
//! logged. Any other push failure keeps it spooled for the next cycle; the rest of that cycle's
//! results are then only spooled, not pushed, so an unreachable server does not cost one
//! timeout per result. A result the server keeps answering with a 5xx is set back after a few
//! tries (see [`crate::spool::Attempts`]): it stays spooled and is retried on later replays,
//! while the replay moves on to the results behind it.

use std::fmt;

use netpulse_domain::pool::Engine;
use netpulse_ports::agent_api::{AgentApiError, AgentInfo, PushOutcome, ResultPush};

use crate::agent::Agent;
use crate::spool::{Attempts, Spool, SpoolError, SpooledFile};

/// What one cycle did.
#[derive(Debug, Default)]
pub struct CycleReport {
    /// Why the poll failed; `None` when it succeeded.
    pub poll_error: Option<AgentApiError>,
    /// The server's `pollAfterSeconds` when the poll succeeded.
    pub poll_after_seconds: Option<u32>,
    /// Tasks run.
    pub tasks: usize,
    /// Results of this cycle's tasks the server now has.
    pub delivered: usize,
    /// Of the delivered (and replayed) results, those the server already had.
    pub already_recorded: usize,
    /// Results of this cycle's tasks left in the spool for a later cycle.
    pub spooled: usize,
    /// Spooled results from earlier cycles the server now has.
    pub replayed: usize,
    /// Results the server rejected for good (moved to `rejected/`).
    pub rejected: usize,
    /// Spooled results the replay moved on past (the server kept answering them with a 5xx, or
    /// they are still set back from earlier replays); they stay in the spool.
    pub set_back: usize,
    /// Unreadable spool files moved to `corrupt/`.
    pub corrupt: usize,
    /// Old results dropped because the spool was full.
    pub evicted: usize,
    /// Results that could neither be spooled nor delivered.
    pub lost: usize,
    /// Why the replay stopped early, if it did.
    pub replay_error: Option<String>,
    /// Why pushing this cycle's results stopped, if it did.
    pub push_error: Option<AgentApiError>,
    /// Results waiting in the spool when the cycle ended.
    pub pending: usize,
    /// Whether the server held the poll (long-poll): the next poll follows at once.
    pub long_polled: bool,
}

impl CycleReport {
    /// Whether the poll succeeded and every result was delivered or spooled (none rejected,
    /// none lost).
    pub fn succeeded(&self) -> bool {
        self.poll_error.is_none() && self.rejected == 0 && self.lost == 0
    }
}

impl fmt::Display for CycleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.poll_error {
            Some(e) => write!(f, "poll failed ({e})")?,
            None => write!(
                f,
                "{} task(s): {} delivered, {} spooled, {} rejected",
                self.tasks, self.delivered, self.spooled, self.rejected
            )?,
        }
        write!(
            f,
            "; {} replayed; {} pending in the spool",
            self.replayed, self.pending
        )?;
        if self.set_back > 0 {
            write!(f, " ({} set back after server errors)", self.set_back)?;
        }
        if self.lost > 0 {
            write!(f, "; {} LOST", self.lost)?;
        }
        Ok(())
    }
}

/// Runs a blocking spool operation off the async threads. Once started it completes even if
/// the calling future is dropped, so a result being stored is stored.
async fn on_spool<T, F>(spool: &Spool, op: F) -> Result<T, SpoolError>
where
    T: Send + 'static,
    F: FnOnce(&Spool) -> Result<T, SpoolError> + Send + 'static,
{
    let spool = spool.clone();
    let dir = spool.dir().to_owned();
    tokio::task::spawn_blocking(move || op(&spool))
        .await
        .unwrap_or_else(|e| {
            Err(SpoolError::Io {
                action: "work on",
                path: dir,
                source: std::io::Error::other(e.to_string()),
            })
        })
}

/// Logs how a test ended: INFO when it completed, WARN with the failure class (the
/// `fail_reason` the server will record) and the tool's message when it failed. The exit code
/// is a number, absent when the tool was killed or never started.
fn log_finished(engine: Engine, result: &ResultPush) {
    let seconds = result.finished_at.seconds_since(result.started_at);
    let exit_code = result.raw.exit_code;
    match netpulse_adapters::parse::parse(engine, &result.raw).failure {
        None => tracing::info!(result = %result.result_id, connection = %result.connection_id,
            exit_code, seconds, "test finished"),
        Some(failure) => {
            tracing::warn!(result = %result.result_id, connection = %result.connection_id,
            exit_code, seconds, fail_reason = failure.class.as_str(), message = %failure.message,
            "test failed");
        }
    }
}

/// How one push of a spooled result ended.
enum Delivery {
    Delivered(PushOutcome),
    Rejected,
    /// Kept in the spool; `set_back` when the server answered it with a 5xx often enough that
    /// the replay moves on past it.
    Kept {
        error: AgentApiError,
        set_back: bool,
    },
}

impl Agent {
    /// Runs one cycle. Never fails: everything that went wrong is in the report (and logged).
    pub async fn cycle(&self) -> CycleReport {
        let mut report = CycleReport::default();
        self.replay(&mut report).await;

        let engines = self.engines().available().await;
        let agent = AgentInfo {
            version: self.config().version.clone(),
            engines: engines.clone(),
            checks_version: self.checks().version(),
            wait: (!self.config().long_poll.is_zero()).then_some(self.config().long_poll),
        };
        let plan = match self.api().due(&agent).await {
            Ok(plan) => plan,
            Err(e) => {
                if let AgentApiError::Unauthorized { .. } = &e {
                    tracing::error!(
                        error = %e,
                        "the server refused this probe: check --probe-id (PROBE_ID) and --probe-token (PROBE_TOKEN)"
                    );
                } else {
                    tracing::warn!(error = %e, "polling for due work failed");
                }
                report.poll_error = Some(e);
                report.pending = self.count_pending().await;
                return report;
            }
        };
        report.poll_after_seconds = Some(plan.poll_after_seconds);
        report.long_polled = plan.long_polled;
        self.checks().update(plan.checks.clone());
        tracing::debug!(tasks = plan.tasks.len(), poll_after_seconds = plan.poll_after_seconds, engines = ?engines, "polled");

        // Check rounds meanwhile are flagged `duringSpeedTest`.
        let _speed_test = (!plan.tasks.is_empty()).then(|| self.checks().speed_test());
        for task in &plan.tasks {
            tracing::info!(task = %task.task_id, connection = %task.connection_id, engine = %task.engine,
                pool_entry = task.pool_entry.as_ref().map(ToString::to_string), scheduled = task.scheduled, "running test");
            let result = self
                .engines()
                .run_task(
                    task,
                    &engines,
                    task.timeout.unwrap_or(self.config().test_timeout),
                )
                .await;
            report.tasks += 1;
            log_finished(task.engine, &result);
            self.store_and_push(result, &mut report).await;
        }
        report.pending = self.count_pending().await;
        report
    }

    /// Stores a finished result in the spool, then pushes it unless pushing stopped earlier in
    /// this cycle.
    async fn store_and_push(&self, result: ResultPush, report: &mut CycleReport) {
        let stored = {
            let result = result.clone();
            on_spool(self.spool(), move |s| s.store(&result)).await
        };
        match stored {
            Ok((file, evicted)) => {
                report.evicted += evicted.len();
                if report.push_error.is_some() {
                    report.spooled += 1;
                    return;
                }
                match self.deliver(&file, &result).await {
                    Delivery::Delivered(outcome) => {
                        report.delivered += 1;
                        if outcome == PushOutcome::AlreadyRecorded {
                            report.already_recorded += 1;
                        }
                    }
                    Delivery::Rejected => report.rejected += 1,
                    Delivery::Kept { error: e, .. } => {
                        tracing::warn!(result = %result.result_id, error = %e, "push failed; the result stays spooled for the next cycle");
                        report.spooled += 1;
                        report.push_error = Some(e);
                    }
                }
            }
            Err(e) => {
                tracing::error!(result = %result.result_id, error = %e, "could not spool the result; pushing it without a safety net");
                match self.api().push(&result).await {
                    Ok(_) => report.delivered += 1,
                    Err(push) => {
                        tracing::error!(result = %result.result_id, error = %push, "the result could neither be spooled nor pushed: it is lost");
                        if matches!(push, AgentApiError::Rejected { .. }) {
                            report.rejected += 1;
                        } else {
                            report.lost += 1;
                        }
                    }
                }
            }
        }
    }

    /// Pushes the spooled results, oldest first, until one cannot be delivered.
    async fn replay(&self, report: &mut CycleReport) {
        let pending = match on_spool(self.spool(), Spool::pending).await {
            Ok(pending) => pending,
            Err(e) => {
                tracing::error!(error = %e, "cannot list the spool");
                report.replay_error = Some(e.to_string());
                return;
            }
        };
        if !pending.is_empty() {
            tracing::info!(
                count = pending.len(),
                "replaying spooled results, oldest first"
            );
        }
        for file in pending {
            if self.skipped_as_set_back(&file).await {
                report.set_back += 1;
                continue;
            }
            let loaded = {
                let file = file.clone();
                on_spool(self.spool(), move |s| s.load(&file)).await
            };
            let result = match loaded {
                Ok(result) => result,
                Err(SpoolError::Corrupt { reason, .. }) => {
                    report.corrupt += 1;
                    let moved = {
                        let (file, reason) = (file.clone(), reason.clone());
                        on_spool(self.spool(), move |s| s.quarantine(&file, &reason)).await
                    };
                    match moved {
                        Ok(to) => {
                            tracing::error!(file = %file.path().display(), moved_to = %to.display(), %reason,
                            "unreadable spool file set aside");
                        }
                        Err(e) => {
                            tracing::error!(file = %file.path().display(), %reason, error = %e,
                            "unreadable spool file could not be set aside");
                        }
                    }
                    continue;
                }
                Err(SpoolError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read a spooled result");
                    report.replay_error = Some(e.to_string());
                    return;
                }
            };
            match self.deliver(&file, &result).await {
                Delivery::Delivered(outcome) => {
                    report.replayed += 1;
                    if outcome == PushOutcome::AlreadyRecorded {
                        report.already_recorded += 1;
                    }
                }
                Delivery::Rejected => report.rejected += 1,
                Delivery::Kept {
                    error,
                    set_back: true,
                } => {
                    tracing::warn!(result = %result.result_id, %error,
                        "the server keeps failing on this result; it stays spooled, set back, and the replay goes on");
                    report.set_back += 1;
                }
                Delivery::Kept { error: e, .. } => {
                    tracing::warn!(result = %result.result_id, error = %e, "replay stopped; spooled results wait for the next cycle");
                    report.replay_error = Some(e.to_string());
                    return;
                }
            }
        }
    }

    /// Pushes one spooled result and settles its file: deleted when delivered, moved to
    /// `rejected/` when rejected, kept otherwise.
    async fn deliver(&self, file: &SpooledFile, result: &ResultPush) -> Delivery {
        match self.api().push(result).await {
            Ok(outcome) => {
                tracing::info!(result = %result.result_id, ?outcome, "result delivered");
                let file = file.clone();
                if let Err(e) = on_spool(self.spool(), move |s| s.remove(&file)).await {
                    tracing::warn!(result = %result.result_id, error = %e,
                        "delivered, but it could not be removed from the spool (it will be pushed again, harmlessly)");
                }
                Delivery::Delivered(outcome)
            }
            Err(AgentApiError::Rejected { status, body }) => {
                let reason = format!(
                    "rejected by the server with HTTP {status}: {body}\nresult {}, connection {}, task {}",
                    result.result_id,
                    result.connection_id,
                    result
                        .task_id
                        .as_ref()
                        .map_or_else(|| "none".to_owned(), ToString::to_string)
                );
                let moved = {
                    let (file, reason) = (file.clone(), reason.clone());
                    on_spool(self.spool(), move |s| s.reject(&file, &reason)).await
                };
                match moved {
                    Ok(to) => {
                        tracing::error!(result = %result.result_id, status, %body, moved_to = %to.display(),
                        "the server rejected the result for good; it was moved out of the spool");
                    }
                    Err(e) => {
                        tracing::error!(result = %result.result_id, status, %body, error = %e,
                        "the server rejected the result for good, and it could not be moved out of the spool");
                    }
                }
                Delivery::Rejected
            }
            Err(error) => {
                let set_back = match &error {
                    AgentApiError::ServerError { .. } => self.count_server_error(file).await,
                    _ => false,
                };
                Delivery::Kept { error, set_back }
            }
        }
    }

    /// Whether a spooled result is still set back from earlier server errors; if so, one replay
    /// of its wait is used up.
    async fn skipped_as_set_back(&self, file: &SpooledFile) -> bool {
        let file = file.clone();
        on_spool(self.spool(), move |s| {
            let attempts = s.attempts(&file);
            if attempts.skip_replays == 0 {
                return Ok(false);
            }
            s.set_attempts(
                &file,
                Attempts {
                    skip_replays: attempts.skip_replays - 1,
                    ..attempts
                },
            )?;
            Ok(true)
        })
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot update a spooled result's attempts");
            false
        })
    }

    /// Counts a 5xx answer for a spooled result; whether it is now set back.
    async fn count_server_error(&self, file: &SpooledFile) -> bool {
        let file = file.clone();
        let counted = on_spool(self.spool(), move |s| {
            let attempts = s.attempts(&file).after_server_error();
            s.set_attempts(&file, attempts)?;
            Ok(attempts)
        })
        .await;
        match counted {
            Ok(attempts) => attempts.set_back(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot record a spooled result's attempts");
                false
            }
        }
    }

    async fn count_pending(&self) -> usize {
        on_spool(self.spool(), |s| s.pending().map(|p| p.len()))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot list the spool");
                0
            })
    }
}
