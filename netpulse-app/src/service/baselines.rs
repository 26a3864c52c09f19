//! Baselines of connections (issue 17, wave2-specs §5; checks' latency baselines are in
//! [`super::check_baselines`], recomputed with them): per connection and metric (download,
//! upload, ping), the statistics of the 14 local days (site time zone) before the day, from
//! scheduled, completed results outside maintenance windows (run-now and failed results do not
//! count), stored as one row per (connection, metric, day).
//!
//! - **Nightly**: housekeeping (under its lease) calls [`nightly`] every round; the domain says
//!   when it is due (once a local day, from 00:30, [`recompute_due`]); it recomputes every
//!   connection's rows of the day and records the day in the `baselines.computed_day` setting.
//! - **On demand**: [`rebuild`] (`netpulse baselines rebuild [--connection ID]`).
//! - Each recompute reads one bounded window per connection (an index range scan on
//!   `measurements (connection_id, completed_at, id)`), whatever the history's size.
//! - Ingest never reads history: it judges a result against the stored rows in force (see
//!   `netpulse_domain::ingest::decide`).

use jiff::tz::TimeZone;
use netpulse_domain::Timestamp;
use netpulse_domain::baseline::{
    self, Baseline, IN_FORCE_SECONDS, Metric, WINDOW_DAYS, recompute_due,
};
use netpulse_domain::id::ConnectionId;
use netpulse_ports::baseline_store::StoredBaseline;

use super::App;
use crate::error::AppError;

/// The setting holding the local day of the last nightly recompute.
pub const COMPUTED_DAY: &str = "baselines.computed_day";

/// The window of a local day's baselines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The local day, `YYYY-MM-DD`.
    pub day: String,
    /// When it starts (the window's end, exclusive).
    pub day_start: Timestamp,
    /// The start of the window: [`WINDOW_DAYS`] local days before.
    pub from: Timestamp,
    /// Minutes since the day's local midnight at the time asked.
    pub minutes: u32,
}

fn ours(z: &jiff::Zoned) -> Timestamp {
    Timestamp::from_unix_millis(z.timestamp().as_millisecond())
}

/// The window of the local day containing `at` in `tz` (DST-correct: days of 23 or 25 hours).
pub fn window(at: Timestamp, tz: &TimeZone) -> Window {
    let z = jiff::Timestamp::from_millisecond(at.unix_millis())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone());
    let date = z.date();
    let start = date.to_zoned(tz.clone()).map_or(at, |s| ours(&s));
    let from = date
        .checked_sub(jiff::Span::new().days(i64::from(WINDOW_DAYS)))
        .ok()
        .and_then(|d| d.to_zoned(tz.clone()).ok())
        .map_or_else(
            || start.plus_seconds(-i64::from(WINDOW_DAYS) * 86_400),
            |d| ours(&d),
        );
    Window {
        day: date.to_string(),
        day_start: start,
        from,
        minutes: u32::try_from(at.seconds_since(start).max(0) / 60).unwrap_or(u32::MAX),
    }
}

/// Recomputes one connection's rows of `w`'s day; returns them (one per metric with samples).
pub async fn recompute(
    app: &App,
    connection: &ConnectionId,
    w: &Window,
) -> Result<Vec<StoredBaseline>, AppError> {
    let samples = app
        .storage
        .baseline_samples(connection, w.from, w.day_start)
        .await?;
    let computed_at = app.clock.now();
    let rows: Vec<StoredBaseline> = baseline::of_results(&samples)
        .into_iter()
        .map(|(metric, baseline)| StoredBaseline {
            connection: connection.clone(),
            metric,
            day: w.day.clone(),
            day_start: w.day_start,
            baseline,
            computed_at,
        })
        .collect();
    app.storage
        .write_baselines(connection, &w.day, &rows)
        .await?;
    Ok(rows)
}

/// What a rebuild recomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Connections.
    pub connections: usize,
    /// Checks (all of them on a rebuild of everything, none for one connection).
    pub checks: usize,
}

/// Recomputes today's rows (site time zone) of one connection, or of every connection and
/// check.
pub async fn rebuild(app: &App, connection: Option<&ConnectionId>) -> Result<Rebuilt, AppError> {
    let tz = super::settings::load(app).await?.tz;
    let w = window(app.clock.now(), &tz);
    let ids = match connection {
        Some(id) => {
            require(app, id).await?;
            vec![id.clone()]
        }
        None => app
            .storage
            .connections(None)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect(),
    };
    for id in &ids {
        recompute(app, id, &w).await?;
    }
    let checks = if connection.is_none() {
        super::check_baselines::recompute_all(app, &w).await?
    } else {
        0
    };
    Ok(Rebuilt {
        connections: ids.len(),
        checks,
    })
}

/// The nightly recompute, called by housekeeping under its lease every round: recomputes
/// every connection's rows of today when due; returns whether it ran.
pub async fn nightly(app: &App) -> Result<bool, AppError> {
    let tz = super::settings::load(app).await?.tz;
    let w = window(app.clock.now(), &tz);
    let done = app.storage.setting(COMPUTED_DAY).await?;
    if !recompute_due(&w.day, w.minutes, done.as_deref()) {
        return Ok(false);
    }
    let n = rebuild(app, None).await?;
    app.storage
        .set_setting(COMPUTED_DAY, &w.day, app.clock.now())
        .await?;
    tracing::info!(day = %w.day, connections = n.connections, checks = n.checks, "baselines recomputed");
    Ok(true)
}

async fn require(
    app: &App,
    id: &ConnectionId,
) -> Result<netpulse_domain::model::Connection, AppError> {
    app.storage
        .connection(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "connection",
            id: id.to_string(),
        })
}

/// One metric's baseline in force now.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricBaseline {
    /// The metric.
    pub metric: Metric,
    /// The row in force (`None`: no samples yet, or not computed yet).
    pub row: Option<StoredBaseline>,
}

impl MetricBaseline {
    /// The statistics, if any.
    pub fn baseline(&self) -> Option<&Baseline> {
        self.row.as_ref().map(|r| &r.baseline)
    }
}

/// A connection's baselines in force now, with its deviation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionBaselines {
    /// The connection.
    pub connection: ConnectionId,
    /// Its deviation, percent.
    pub deviation_pct: f64,
    /// Download, upload and ping, in that order.
    pub metrics: Vec<MetricBaseline>,
}

/// The baselines in force for `id` now (the row of today, or of yesterday before the nightly
/// recompute ran): what ingest judges a result against.
pub async fn in_force(app: &App, id: &ConnectionId) -> Result<ConnectionBaselines, AppError> {
    let c = require(app, id).await?;
    let now = app.clock.now();
    let rows = app
        .storage
        .baselines_in_force(id, now.plus_seconds(-IN_FORCE_SECONDS), now)
        .await?;
    Ok(ConnectionBaselines {
        connection: id.clone(),
        deviation_pct: c.thresholds.baseline_deviation_pct(),
        metrics: Metric::ALL
            .into_iter()
            .map(|metric| MetricBaseline {
                metric,
                row: rows.iter().find(|r| r.metric == metric).cloned(),
            })
            .collect(),
    })
}

/// The nightly recompute as a housekeeping chore (see `notify::Chore`).
#[derive(Debug)]
pub struct NightlyChore(pub App);

#[async_trait::async_trait]
impl crate::notify::Chore for NightlyChore {
    async fn run(&self) {
        if let Err(e) = nightly(&self.0).await {
            tracing::warn!(error = %e, "baselines: recompute failed");
        }
    }
}
