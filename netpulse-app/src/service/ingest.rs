//! Turning a pushed engine output (the agent API's [`ResultPush`], the same shape the agent
//! sends) into a judged, stored measurement.

use netpulse_adapters::parse;
use netpulse_domain::health::Verdict;
use netpulse_domain::id::{ProbeId, ResultId};
use netpulse_domain::model::{Measurement, check_result_times, clamp_times};
use netpulse_ports::agent_api::ResultPush;
use netpulse_ports::storage::{IncomingResult, RecordOutcome};

use super::{App, new_uuid};
use crate::error::AppError;

/// A fresh result id, for submissions that carry none.
pub fn fresh_result_id() -> ResultId {
    ResultId::parse(&new_uuid()).expect("uuid text is a valid id")
}

/// Records a submission for `probe`: the connection must be the probe's (else forbidden, the
/// same answer whether it exists or not); the output is parsed with the current parsers; the
/// tool's times are clamped to the receive time; the verdict is computed in the storage
/// transaction with the connection's thresholds as they are now.
pub async fn ingest(app: &App, probe: &ProbeId, s: ResultPush) -> Result<RecordOutcome, AppError> {
    let connection = app.storage.connection(&s.connection_id).await?;
    if connection.as_ref().is_none_or(|c| &c.probe_id != probe) {
        return Err(AppError::Forbidden(format!(
            "connection {} does not belong to probe {probe}",
            s.connection_id
        )));
    }
    let received = app.clock.now();
    check_result_times(s.started_at, s.finished_at, received)?;
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
