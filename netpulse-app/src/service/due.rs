//! What a probe should do now: `GET /due`.

use netpulse_domain::Timestamp;
use netpulse_domain::due_work::{DueInput, DueReason, due_work};
use netpulse_domain::id::{ConnectionId, ProbeId, TaskId};
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::storage::{PollDetails, ProbeCredentials};

use super::{App, POLL_DEBOUNCE_SECONDS, new_uuid};
use crate::error::AppError;

/// One task for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTask {
    /// A fresh id for this hand-out.
    pub task_id: TaskId,
    /// The connection to test.
    pub connection_id: ConnectionId,
    /// The server to use.
    pub pool_entry: Option<PoolEntry>,
    /// The engine.
    pub engine: Engine,
    /// Why.
    pub reason: DueReason,
    /// The interface to leave through.
    pub source_interface: Option<String>,
    /// The source address.
    pub source_address: Option<String>,
}

/// The answer to a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Tasks, in connection-name order.
    pub tasks: Vec<PlannedTask>,
    /// When to poll again.
    pub poll_after_seconds: u32,
    /// The probe is in maintenance: no tests, and no checks ([`super::probe_maintenance`]).
    pub maintenance: bool,
}

/// Whether a poll must be written: the last one is older than the debounce window, or the agent
/// reports something new.
fn poll_is_news(last: &ProbeCredentials, details: &PollDetails, now: Timestamp) -> bool {
    last.last_poll_at
        .is_none_or(|at| now.seconds_since(at) >= POLL_DEBOUNCE_SECONDS)
        || last.poll_details != *details
}

/// Records the poll (debounced), takes the probe's run-now requests and decides, per enabled
/// connection, whether a test is due. Reads only the per-connection state rows, never the
/// measurement history; in the common case (a poll inside the debounce window, nothing asked
/// for) that is one read after authentication, and no write.
pub async fn plan(
    app: &App,
    probe: &ProbeId,
    known: &ProbeCredentials,
    details: &PollDetails,
) -> Result<Plan, AppError> {
    let now = app.clock.now();
    if poll_is_news(known, details, now) {
        app.storage
            .record_poll(probe, now, details, POLL_DEBOUNCE_SECONDS)
            .await?;
    }
    if app.storage.probe_in_maintenance(probe, now).await? {
        return Ok(Plan {
            tasks: Vec::new(),
            poll_after_seconds: app.poll_interval_seconds,
            maintenance: true,
        });
    }
    let entries = app.storage.scheduling_entries(probe).await?;
    let mut taken = if entries.iter().any(|e| e.run_queued) {
        app.storage.take_run_requests(probe, now).await?
    } else {
        Vec::new()
    };
    let mut tasks = Vec::new();
    for entry in &entries {
        let c = &entry.connection;
        let run_now = taken
            .iter()
            .position(|t| t.connection_id == c.id)
            .map(|i| taken.swap_remove(i).request);
        let input = DueInput {
            connection_id: &c.id,
            enabled: c.enabled,
            schedule: &c.schedule,
            pool: &c.pool,
            policy: &c.adaptive,
            last: entry.state.last.as_ref(),
            history: &entry.state.history,
            run_now: run_now.as_ref(),
            now,
            engines: &details.engines,
        };
        if let Some(task) = due_work(&input, &app.calendar) {
            tasks.push(PlannedTask {
                task_id: TaskId::parse(&new_uuid())
                    .map_err(|e| AppError::invalid("taskId", e.to_string()))?,
                connection_id: c.id.clone(),
                pool_entry: task.pool_entry,
                engine: task.engine,
                reason: task.reason,
                source_interface: c.source_interface.clone(),
                source_address: c.source_address.clone(),
            });
        }
    }
    Ok(Plan {
        tasks,
        poll_after_seconds: app.poll_interval_seconds,
        maintenance: false,
    })
}
