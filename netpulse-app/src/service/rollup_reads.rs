//! Reading the speed rollups: the buckets of a window at a level, merged buckets, and the
//! window's counts. A window `[since, until)` at a level is the buckets whose start lies in
//! `[start of the bucket containing since, until)`, so its edges are whole buckets (the first
//! one may begin before `since`). The work is bounded by the window's bucket count, not by
//! how many results are stored.
//!
//! A read first folds in at most one batch of the hours still queued (the rollup job's own
//! recompute, `rollups::batch`): of the connection it reads, or of all for the servers page.
//! So a page shows a result pushed a moment ago instead of up to one job interval later, and
//! a long queue (after a time-zone change, a rebuild) never holds a page up: the job works
//! through the rest.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::rollup::{Level, SpeedBucket};
use netpulse_ports::rollup_store::StoredRollup;
use netpulse_ports::web_store::WindowCounts;

use super::App;
use super::rollups::bucket_start;
use crate::error::AppError;

/// The all-server buckets of one connection at `level` covering `[since, until)`.
pub async fn window(
    app: &App,
    connection: &ConnectionId,
    level: Level,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<StoredRollup>, AppError> {
    super::rollups::batch(app, Some(connection)).await?;
    let tz = super::settings::load(app).await?.tz;
    let from = bucket_start(level, since, &tz);
    Ok(app
        .storage
        .speed_rollups(Some(connection), level, false, from, until)
        .await?)
}

/// The per-server daily buckets of every connection covering `[since, until)`.
pub async fn server_days(
    app: &App,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<StoredRollup>, AppError> {
    super::rollups::batch(app, None).await?;
    let tz = super::settings::load(app).await?.tz;
    let from = bucket_start(Level::Day, since, &tz);
    Ok(app
        .storage
        .speed_rollups(None, Level::Day, true, from, until)
        .await?)
}

/// The merge of the buckets starting in `[from, until)`.
pub fn merged_between(rows: &[StoredRollup], from: Timestamp, until: Timestamp) -> SpeedBucket {
    SpeedBucket::merged(
        rows.iter()
            .filter(|r| r.bucket_at >= from && r.bucket_at < until)
            .map(|r| &r.bucket),
    )
}

/// Results, healthy and failed results of a merged bucket.
pub fn counts_of(b: &SpeedBucket) -> WindowCounts {
    WindowCounts {
        tests: b.results,
        healthy: b.healthy,
        failed: b.fail,
    }
}
