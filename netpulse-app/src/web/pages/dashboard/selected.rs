//! The selected connection's part: tiles with trends, the health card and strip, the latest
//! test and its run-now state.

use netpulse_domain::Timestamp;
use netpulse_domain::degradation::HealthSample;
use netpulse_domain::model::Measurement;
use netpulse_domain::stats::SeriesRange;
use netpulse_domain::wording;
use netpulse_ports::storage::RunState;
use netpulse_ports::web_store::ConnectionOverview;
use serde::Serialize;

use super::chart::{Chart, script_json};
use super::server_text;
use crate::error::AppError;
use crate::service::{dashboard_failures, rollup_reads, runs};
use crate::web::Web;
use crate::web::format;
use crate::web::settings::SiteSettings;
use crate::web::sparkline::Sparkline;

/// Results in the health strip.
const STRIP_LENGTH: u32 = 60;
/// Packet loss above this is shown as a warning, percent.
const LOSS_WARN_PERCENT: f64 = 1.0;

/// A tile of the selected connection.
#[derive(Debug, Clone, Serialize)]
pub struct Tile {
    /// `Download`, `Upload`, `Ping`, `Packet loss`.
    pub label: String,
    /// The window's mean.
    pub value: String,
    /// The window-over-window trend.
    pub trend: String,
    /// `good`, `bad` or `flat` (for colour), `none` when unknown.
    pub trend_tone: String,
    /// Whether the value deserves attention.
    pub warn: bool,
    /// The window's series.
    pub sparkline: Sparkline,
}

/// One result in the health strip.
#[derive(Debug, Clone, Serialize)]
pub struct StripCell {
    /// `healthy`, `unhealthy`, `failed` or `unknown`.
    pub tone: String,
    /// For screen readers and tooltips.
    pub label: String,
}

/// The health card.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Healthy share of the window.
    pub uptime: String,
    /// The same, 0–100, for the meter.
    pub uptime_value: f64,
    /// Unhealthy results in the window (failed ones included).
    pub unhealthy: u64,
    /// Incidents (alert-to-recovery episodes) overlapping the window.
    pub incidents: usize,
    /// Results in the window.
    pub tests: u64,
    /// Failed results in the window.
    pub failed: u64,
    /// The last results, oldest first.
    pub strip: Vec<StripCell>,
}

/// The newest completed test.
#[derive(Debug, Clone, Serialize)]
pub struct Latest {
    /// When, in the site's time zone.
    pub when: String,
    /// How long ago.
    pub ago: String,
    /// Server name · location.
    pub server: String,
    /// Figures.
    pub download: String,
    /// Figures.
    pub upload: String,
    /// Figures.
    pub ping: String,
    /// Figures.
    pub jitter: String,
    /// Figures.
    pub loss: String,
    /// `Healthy` or `Unhealthy`.
    pub verdict: String,
    /// Each breach in words, the figure against its threshold.
    pub breaches: Vec<String>,
    /// Whether it was healthy.
    pub healthy: bool,
    /// Its detail page.
    pub href: String,
}

/// A failed test: when, and why.
#[derive(Debug, Clone, Serialize)]
pub struct FailureNote {
    /// When, in the site's time zone.
    pub when: String,
    /// How long ago.
    pub ago: String,
    /// The reason in words, with the tool's message.
    pub reason: String,
    /// Its detail page.
    pub href: String,
}

impl FailureNote {
    /// The note of a failed measurement.
    pub fn of(m: &Measurement, now: Timestamp, site: &SiteSettings) -> Self {
        Self {
            when: format::date_time(m.completed_at, &site.tz),
            ago: format::relative(m.completed_at, now),
            reason: wording::failure_reason(&m.observation)
                .unwrap_or_else(|| "Test failed".to_owned()),
            href: format!("/history/{}", m.id),
        }
    }
}

/// The selected connection's part.
#[derive(Debug, Clone, Serialize)]
pub struct Selected {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its colour.
    pub colour: String,
    /// The chart's data (JSON, safe inside a `<script type="application/json">`).
    pub chart_json: String,
    /// What the chart shows, for screen readers.
    pub chart_summary: String,
    /// Whether the chart shows single results (fewer than 12 in the window).
    pub sparse: bool,
    /// The reliable baseline band's text for the key (`""`: none, or still collecting).
    pub baseline_key: String,
    /// The tiles.
    pub tiles: Vec<Tile>,
    /// The health card.
    pub health: Health,
    /// The newest completed test.
    pub latest: Option<Latest>,
    /// The newest failed test, when it is newer than the newest completed one.
    pub failure: Option<FailureNote>,
    /// Failed tests in the window (red markers on the chart).
    pub failed_in_range: usize,
    /// Its pool entries (for pinning a run).
    pub pool: Vec<String>,
    /// Its current run-now state (`idle`, `queued`, `running`, `done`, `cancelled`).
    pub run_state: String,
    /// Whether it is tested (a disabled one cannot be run).
    pub enabled: bool,
}

fn sample_tone(s: HealthSample) -> (&'static str, &'static str) {
    match s {
        HealthSample::Healthy => ("healthy", "healthy"),
        HealthSample::Unhealthy => ("unhealthy", "below thresholds"),
        HealthSample::Failed => ("failed", "failed"),
        HealthSample::Unjudged => ("unknown", "not judged"),
    }
}

fn trend_tone(trend: Option<f64>, higher_is_better: bool) -> &'static str {
    match trend.filter(|t| t.is_finite()) {
        None => "none",
        Some(t) if t.abs() < 0.5 => "flat",
        Some(t) if (t > 0.0) == higher_is_better => "good",
        Some(_) => "bad",
    }
}

/// The selected connection's part (`latest`: its newest completed result).
pub(super) async fn selected_part(
    web: &Web,
    o: &ConnectionOverview,
    range: SeriesRange,
    now: Timestamp,
    site: &SiteSettings,
    latest: Option<Measurement>,
    failure: Option<&Measurement>,
) -> Result<Selected, AppError> {
    let storage = &web.app.storage;
    let c = &o.connection;
    let since = range.since(now);
    let interval = i64::from(c.schedule.normal_interval_seconds(&c.id));
    let (chart, counts) = if let Some(level) = range.level() {
        // Long ranges come from rollups: the window's buckets and the previous window's.
        let previous = range.since(since);
        let rows = rollup_reads::window(&web.app, &c.id, level, previous, now).await?;
        let tz = &site.tz;
        let cut = crate::service::rollups::bucket_start(level, since, tz);
        let (before, current): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.bucket_at < cut);
        let merged = rollup_reads::merged_between(&current, cut, now);
        (
            Chart::of_buckets(
                &current,
                &before,
                range,
                now,
                interval,
                level.nominal_seconds(),
            ),
            rollup_reads::counts_of(&merged),
        )
    } else {
        // The previous window too, for the trends.
        let samples = storage
            .series_samples(&c.id, range.since(since), now)
            .await?;
        (
            Chart::of(&samples, range, now, interval),
            storage.window_counts(&c.id, since, now).await?,
        )
    };
    let incidents = dashboard_failures::incident_count(&web.app, &c.id, since, now).await?;
    let tile = |label: &str, idx: usize, higher_is_better: bool, fmt: fn(Option<f64>) -> String| {
        let m = chart.means[idx];
        let trend = chart.trends[idx];
        Tile {
            label: label.to_owned(),
            value: fmt(m),
            trend: format::trend(trend),
            trend_tone: trend_tone(trend, higher_is_better).to_owned(),
            warn: label == "Packet loss" && m.is_some_and(|v| v > LOSS_WARN_PERCENT),
            sparkline: chart.sparkline(idx),
        }
    };
    let tiles = vec![
        tile("Download", 0, true, format::speed),
        tile("Upload", 1, true, format::speed),
        tile("Ping", 2, false, format::millis),
        tile("Jitter", 3, false, format::millis),
        tile("Packet loss", 4, false, format::percent),
    ];
    let uptime = (counts.tests > 0).then(|| counts.healthy as f64 / counts.tests as f64 * 100.0);
    let mut recent = storage.recent_samples(&c.id, STRIP_LENGTH).await?;
    recent.reverse();
    let strip = recent
        .iter()
        .map(|(at, s)| {
            let (tone, label) = sample_tone(*s);
            StripCell {
                tone: tone.to_owned(),
                label: format!("{} — {label}", format::date_time(*at, &site.tz)),
            }
        })
        .collect();
    let run_state = runs::state(&web.app, &c.id)
        .await?
        .map_or("idle", |r: RunState| r.phase.as_str())
        .to_owned();
    let summary = format!(
        "{} over {}: mean download {}, upload {}, ping {}; {} tests.",
        c.name,
        range.as_str(),
        tiles[0].value,
        tiles[1].value,
        tiles[2].value,
        counts.tests
    );
    let latest_at = latest.as_ref().map(|m| m.completed_at);
    let in_force: Vec<_> = crate::service::baselines::in_force(&web.app, &c.id)
        .await?
        .metrics
        .into_iter()
        .filter_map(|m| m.row.map(|r| (m.metric, r.baseline)))
        .collect();
    let baseline_key = match in_force.iter().map(|(_, b)| b.n).max() {
        Some(_) if in_force.iter().any(|(_, b)| b.reliable()) => format!(
            "baseline (14-day median ± {} %)",
            netpulse_domain::wording::one_decimal(c.thresholds.baseline_deviation_pct())
        ),
        Some(n) => format!(
            "baseline collecting {n}/{}",
            netpulse_domain::baseline::MIN_SAMPLES
        ),
        None => String::new(),
    };
    Ok(Selected {
        id: c.id.as_str().to_owned(),
        name: c.name.as_str().to_owned(),
        colour: c.colour.as_str().to_owned(),
        chart_json: script_json(&chart.json(&site.time_zone, c.colour.as_str(), c, &in_force)),
        chart_summary: summary,
        sparse: chart.sparse(),
        baseline_key,
        tiles,
        health: Health {
            uptime: format::percent(uptime),
            uptime_value: uptime.unwrap_or(0.0),
            unhealthy: counts.incidents(),
            incidents,
            tests: counts.tests,
            failed: counts.failed,
            strip,
        },
        latest: latest.map(|m| Latest {
            when: format::date_time(m.completed_at, &site.tz),
            ago: format::relative(m.completed_at, now),
            server: server_text(&m.observation.server),
            download: format::speed(m.observation.download_bps),
            upload: format::speed(m.observation.upload_bps),
            ping: format::millis(m.observation.ping_ms),
            jitter: format::millis(m.observation.jitter_ms),
            loss: format::percent(m.observation.packet_loss_percent),
            verdict: if m.verdict.healthy() {
                "Healthy".to_owned()
            } else {
                "Unhealthy".to_owned()
            },
            breaches: m
                .verdict
                .breaches
                .iter()
                .map(|b| wording::breach(*b, &m.observation, &c.thresholds, &c.expected))
                .collect(),
            healthy: m.verdict.healthy(),
            href: format!("/history/{}", m.id),
        }),
        failure: failure
            .filter(|f| latest_at.is_none_or(|at| f.completed_at > at))
            .map(|f| FailureNote::of(f, now, site)),
        failed_in_range: chart.failed_count(),
        pool: c
            .pool
            .entries()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        run_state,
        enabled: c.enabled,
    })
}
