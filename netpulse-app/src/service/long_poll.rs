//! `GET /due?wait=N`: the poll held until work appears or `N` seconds pass.
//!
//! The waiter subscribes to wake-ups and reads the probe's version row *before* it plans, so
//! work queued while it plans is not missed; then it sleeps until a notice concerns its probe,
//! the version row moved, or the wait ends, and plans again. An answer with nothing to do comes
//! when the wait ends. A poll without `wait` (older agents) is planned once, as before.

use std::time::Duration;

use netpulse_domain::id::ProbeId;
use netpulse_ports::storage::{PollDetails, ProbeCredentials};
use tokio::time::Instant;

use super::due::{Plan, plan};
use super::{App, checks};
use crate::error::AppError;

/// The longest wait an agent may ask for, seconds.
pub const MAX_WAIT_SECONDS: u32 = 50;

/// Reads the `wait` query parameter: whole seconds, 0 to [`MAX_WAIT_SECONDS`].
pub fn parse_wait(text: Option<&str>) -> Result<Duration, AppError> {
    let Some(text) = text else {
        return Ok(Duration::ZERO);
    };
    let seconds: u32 = text
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("wait", format!("must be whole seconds (got {text:?})")))?;
    if seconds > MAX_WAIT_SECONDS {
        return Err(AppError::invalid(
            "wait",
            format!("must be at most {MAX_WAIT_SECONDS} seconds (got {seconds})"),
        ));
    }
    Ok(Duration::from_secs(u64::from(seconds)))
}

/// The wait a poll gets: what the agent asked for, but never longer than the poll interval the
/// server tells agents, so scheduled work is not found later than without long-polling.
pub fn granted_wait(app: &App, asked: Duration) -> Duration {
    asked.min(Duration::from_secs(u64::from(app.poll_interval_seconds)))
}

/// Plans the poll; while there is nothing to do, waits up to `wait` for work to be queued for
/// the probe (a run-now request, a diagnostic) or for its check set to change from
/// `checks_known`, and plans again.
pub async fn plan_or_wait(
    app: &App,
    probe: &ProbeId,
    known: &ProbeCredentials,
    details: &PollDetails,
    wait: Duration,
    checks_known: Option<&str>,
) -> Result<Plan, AppError> {
    if wait.is_zero() {
        return plan(app, probe, known, details).await;
    }
    let deadline = Instant::now() + wait;
    let mut notices = app.wakeups.subscribe(&app.storage);
    let mut version = app.storage.work_version(probe).await?;
    loop {
        let planned = plan(app, probe, known, details).await?;
        if !planned.tasks.is_empty() || Instant::now() >= deadline {
            return Ok(planned);
        }
        if let Some(k) = checks_known
            && !checks::check_set(app, probe, Some(k)).await?.unchanged
        {
            return Ok(planned);
        }
        // Sleep until something concerns this probe, then plan again.
        loop {
            let tick = Instant::now() + app.wakeups.poll_every();
            tokio::select! {
                () = notices.concerning(probe) => break,
                () = tokio::time::sleep_until(deadline) => break,
                () = tokio::time::sleep_until(tick.min(deadline)) => {
                    let now = app.storage.work_version(probe).await?;
                    if now != version {
                        version = now;
                        break;
                    }
                }
            }
        }
    }
}
