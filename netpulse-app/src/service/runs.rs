//! Run-now: queueing a test of one connection (optionally on a pinned pool entry) or of every
//! enabled one, and reading how the requests are doing.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::model::RunPhase;
use netpulse_domain::pool::PoolEntry;
use netpulse_ports::storage::{RunScope, RunState};

use super::App;
use crate::error::AppError;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunTarget {
    /// One connection.
    Connection(ConnectionId),
    /// Every enabled connection.
    All,
}

/// Queues a run-now request; returns the connections queued. A pool entry can only be pinned
/// for one connection (`Invalid` on `poolEntry` otherwise).
pub async fn request(
    app: &App,
    target: &RunTarget,
    pin: Option<&PoolEntry>,
) -> Result<Vec<ConnectionId>, AppError> {
    let scope = match target {
        RunTarget::Connection(id) => {
            if app
                .storage
                .connection_probe_in_maintenance(id, app.clock.now())
                .await?
            {
                return Err(AppError::Conflict(
                    "the connection's probe is in maintenance".into(),
                ));
            }
            RunScope::Connection(id)
        }
        RunTarget::All if pin.is_some() => {
            return Err(AppError::invalid(
                "poolEntry",
                "cannot be pinned when every connection runs",
            ));
        }
        RunTarget::All => RunScope::All,
    };
    let queued = app.storage.request_run(scope, pin, app.clock.now()).await?;
    super::wakeups::signal_runs(app, target).await?;
    Ok(queued)
}

/// The state of a connection's latest run-now request (`None`: never asked).
pub async fn state(app: &App, id: &ConnectionId) -> Result<Option<RunState>, AppError> {
    Ok(app.storage.run_state(id).await?)
}

/// Requests still queued or running among those that moved since `since`.
pub async fn in_progress(
    app: &App,
    since: Timestamp,
) -> Result<Vec<(ConnectionId, RunState)>, AppError> {
    Ok(app
        .storage
        .recent_runs(since)
        .await?
        .into_iter()
        .filter(|(_, r)| matches!(r.phase, RunPhase::Queued | RunPhase::Running))
        .collect())
}
