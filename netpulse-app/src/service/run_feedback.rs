//! What the Run test dialog tells while it waits: the request's phase, when the probe's agent
//! will next poll (its last poll plus the poll interval), and once done the result it brought.

use netpulse_domain::id::ConnectionId;
use netpulse_domain::model::Measurement;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort, RunState};

use super::App;
use super::{connections, probes, runs};
use crate::error::AppError;

/// The dialog's view of one connection's run-now request.
#[derive(Debug, Clone)]
pub struct RunFeedback {
    /// The request, if any.
    pub state: Option<RunState>,
    /// Seconds until the probe's agent is expected to poll (0 when it is due or late); `None`
    /// when it never polled.
    pub next_poll_seconds: Option<i64>,
    /// The connection's newest result completed at or after the request.
    pub result: Option<Measurement>,
}

/// The feedback of `id`'s run-now request.
pub async fn feedback(app: &App, id: &ConnectionId) -> Result<RunFeedback, AppError> {
    let state = runs::state(app, id).await?;
    let connection = connections::get(app, id).await?;
    let probe = probes::get(app, &connection.probe_id).await?;
    let now = app.clock.now();
    let next_poll_seconds = probe
        .last_poll_at
        .map(|at| (i64::from(app.poll_interval_seconds) - now.seconds_since(at)).max(0));
    let result = match &state {
        Some(s) => {
            let filter = MeasurementFilter {
                connection: Some(id.clone()),
                since: Some(s.requested_at),
                ..MeasurementFilter::default()
            };
            app.storage
                .measurements(&filter, MeasurementSort::CompletedDesc, 1, None)
                .await?
                .items
                .into_iter()
                .next()
        }
        None => None,
    };
    Ok(RunFeedback {
        state,
        next_poll_seconds,
        result,
    })
}
