//! What the dashboard tells about failures: a connection's newest failed test, its incidents
//! (alert-to-recovery episodes) in a window, and whether every test of the last day failed.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::model::Measurement;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort};

use super::App;
use crate::error::AppError;

/// The window of the "every test failed" banner, seconds.
pub const ALL_FAILED_WINDOW_SECONDS: i64 = 86_400;

/// The connection's newest failed test.
pub async fn latest_failure(
    app: &App,
    connection: &ConnectionId,
) -> Result<Option<Measurement>, AppError> {
    let filter = MeasurementFilter {
        connection: Some(connection.clone()),
        completed: Some(false),
        ..MeasurementFilter::default()
    };
    let page = app
        .storage
        .measurements(&filter, MeasurementSort::CompletedDesc, 1, None)
        .await?;
    Ok(page.items.into_iter().next())
}

/// How many incidents of the connection overlap `[since, until)`.
pub async fn incident_count(
    app: &App,
    connection: &ConnectionId,
    since: Timestamp,
    until: Timestamp,
) -> Result<usize, AppError> {
    Ok(app
        .storage
        .incidents(Some(connection), since, until)
        .await?
        .len())
}

/// How many tests the connection ran in the last day, when there were some and every one of
/// them failed.
pub async fn all_failed_last_day(
    app: &App,
    connection: &ConnectionId,
    now: Timestamp,
) -> Result<Option<u64>, AppError> {
    let counts = app
        .storage
        .window_counts(
            connection,
            now.plus_seconds(-ALL_FAILED_WINDOW_SECONDS),
            now,
        )
        .await?;
    Ok((counts.tests > 0 && counts.failed == counts.tests).then_some(counts.tests))
}
