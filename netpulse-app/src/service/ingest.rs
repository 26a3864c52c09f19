//! Turning a pushed engine output into a judged, stored measurement.

use netpulse_adapters::parse;
use netpulse_domain::Timestamp;
use netpulse_domain::health::Verdict;
use netpulse_domain::id::{ConnectionId, ProbeId, ResultId, TaskId};
use netpulse_domain::model::{Measurement, RawOutput, clamp_times};
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::storage::{IncomingResult, RecordOutcome};

use super::{App, new_uuid};
use crate::error::AppError;

/// A result as an agent pushed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The agent's result id (a fresh one for the PHP agent, which sends none).
    pub result_id: ResultId,
    /// The connection tested.
    pub connection_id: ConnectionId,
    /// The task it answers.
    pub task_id: Option<TaskId>,
    /// The engine that ran.
    pub engine: Engine,
    /// The pool entry that was requested.
    pub pool_entry: Option<PoolEntry>,
    /// When the tool started (agent clock).
    pub started_at: Timestamp,
    /// When it finished (agent clock).
    pub finished_at: Timestamp,
    /// Scheduled (`true`) or run-now (`false`).
    pub scheduled: bool,
    /// What the tool printed.
    pub raw: RawOutput,
}

/// A fresh result id, for submissions that carry none.
pub fn fresh_result_id() -> ResultId {
    ResultId::parse(&new_uuid()).expect("uuid text is a valid id")
}

/// Records a submission for `probe`: the connection must be the probe's (else forbidden, the
/// same answer whether it exists or not); the output is parsed with the current parsers; the
/// tool's times are clamped to the receive time; the verdict is computed in the storage
/// transaction with the connection's thresholds as they are now.
pub async fn ingest(app: &App, probe: &ProbeId, s: Submission) -> Result<RecordOutcome, AppError> {
    let connection = app.storage.connection(&s.connection_id).await?;
    if connection.as_ref().is_none_or(|c| &c.probe_id != probe) {
        return Err(AppError::Forbidden(format!(
            "connection {} does not belong to probe {probe}",
            s.connection_id
        )));
    }
    let received = app.clock.now();
    let observation = parse::parse(s.engine, &s.raw);
    let (started, completed) = clamp_times(s.started_at, s.finished_at, received);
    let measurement = Measurement {
        id: s.result_id,
        probe_id: probe.clone(),
        connection_id: s.connection_id,
        engine: s.engine,
        pool_entry: s.pool_entry,
        observation,
        started_at: started,
        completed_at: completed,
        received_at: received,
        scheduled: s.scheduled,
        verdict: Verdict { breaches: vec![] },
        raw: s.raw,
    };
    // The global N and M come from the notification settings once saved (any process may
    // have changed them), else from the server's default.
    let default_alerts = app
        .storage
        .notification_settings()
        .await?
        .map_or(app.default_alerts, |s| s.alerts);
    let outcome = app
        .storage
        .record(IncomingResult { measurement }, &default_alerts)
        .await?;
    if let RecordOutcome::Recorded { measurement, edge } = &outcome {
        for listener in &app.listeners {
            listener.recorded(measurement, *edge);
        }
    }
    Ok(outcome)
}
