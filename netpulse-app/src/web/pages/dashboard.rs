//! The dashboard `/`: a card per connection, and for the selected one a chart over a range,
//! tiles with window-over-window trends, a health card, the latest test, probe liveness and the
//! Run test dialog. It refreshes itself: a script polls `/dashboard/cursor` (cheap) while the
//! tab is visible and fetches the `live` block of the page again when the cursor moves.
//!
//! Cost per request: one query for the connections with their state, per connection its newest
//! completed result and its last 24 h, and for the selected connection its samples over two
//! windows of the range, its last 60 results and its window counts; all index ranges.

use std::collections::HashMap;

use netpulse_domain::Timestamp;
use netpulse_domain::degradation::HealthSample;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::pool::PoolEntry;
use netpulse_domain::stats::{SeriesRange, bucket_series, window_trend_percent};
use netpulse_domain::status::{ConnectionStatus, connection_status};
use netpulse_ports::storage::{RunScope, RunState};
use netpulse_ports::web_store::{ConnectionOverview, SeriesSample};
use poem::http::StatusCode;
use poem::web::{Data, Json, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::web::format::{self, UNKNOWN};
use crate::web::settings::{self, SiteSettings};
use crate::web::sparkline::{Sparkline, draw};
use crate::web::view::{Layout, ctx, fragment, html, json};
use crate::web::{Web, pages};

/// The window the status badge looks at (§1.9).
const STATUS_WINDOW_SECONDS: i64 = 7 * 86_400;
/// Results in the health strip.
const STRIP_LENGTH: u32 = 60;
/// Packet loss above this is shown as a warning, percent.
const LOSS_WARN_PERCENT: f64 = 1.0;

/// The dashboard's query.
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    connection: Option<String>,
    range: Option<String>,
}

/// A connection's card.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its probe's name.
    pub probe: String,
    /// Its colour name.
    pub colour: String,
    /// The configured ISP.
    pub isp: String,
    /// `healthy`, `degraded` or `down`.
    pub status: String,
    /// `Healthy`, `Degraded`, `Down`.
    pub status_label: String,
    /// The newest completed download.
    pub download: String,
    /// When that was.
    pub latest_when: String,
    /// 24 h of downloads.
    pub sparkline: Sparkline,
    /// Whether it is the selected one.
    pub selected: bool,
    /// Whether it is tested.
    pub enabled: bool,
    /// The link selecting it.
    pub href: String,
}

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
    /// Unhealthy results in the window.
    pub incidents: u64,
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
    /// `Healthy` or the breaches.
    pub verdict: String,
    /// Whether it was healthy.
    pub healthy: bool,
    /// Its detail page.
    pub href: String,
}

/// A range choice.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// The value.
    pub value: String,
    /// The link.
    pub href: String,
    /// Whether chosen.
    pub selected: bool,
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
    /// The tiles.
    pub tiles: Vec<Tile>,
    /// The health card.
    pub health: Health,
    /// The newest completed test.
    pub latest: Option<Latest>,
    /// Its pool entries (for pinning a run).
    pub pool: Vec<String>,
    /// Its current run-now state (`idle`, `queued`, `running`, `done`, `cancelled`).
    pub run_state: String,
    /// Whether it is tested (a disabled one cannot be run).
    pub enabled: bool,
}

/// A probe's liveness.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeLiveness {
    /// Its name.
    pub name: String,
    /// Polled recently.
    pub online: bool,
    /// `polled 2 minutes ago`, `never polled`.
    pub label: String,
    /// The agent's version.
    pub agent_version: String,
}

/// A run-now request in progress.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    /// The connection's name.
    pub connection: String,
    /// `queued`, `running`, `done`, `cancelled`.
    pub phase: String,
    /// When requested.
    pub ago: String,
}

/// The dashboard's data.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardPage {
    /// The cards.
    pub cards: Vec<Card>,
    /// The selected connection.
    pub selected: Option<Selected>,
    /// The range.
    pub range: String,
    /// The ranges.
    pub ranges: Vec<Choice>,
    /// Probes and their liveness.
    pub probes: Vec<ProbeLiveness>,
    /// Run-now requests in progress.
    pub runs: Vec<RunRow>,
    /// The change cursor the page was rendered at.
    pub cursor: String,
    /// When rendered, in the site's time zone.
    pub rendered_at: String,
    /// The query string of this view (for the refresh).
    pub query: String,
}

/// The change cursor as text.
pub async fn cursor_text(web: &Web) -> Result<String, AppError> {
    let c = web.app.storage.change_cursor().await?;
    Ok(format!(
        "{}.{}.{}",
        c.measurements,
        c.latest_at.map_or(0, Timestamp::unix_millis),
        c.runs_updated_at.map_or(0, Timestamp::unix_millis)
    ))
}

fn status_of(o: &ConnectionOverview, now: Timestamp) -> ConnectionStatus {
    let since = now.plus_seconds(-STATUS_WINDOW_SECONDS);
    let newest = o
        .state
        .last
        .as_ref()
        .filter(|l| l.completed_at >= since)
        .and_then(|_| o.state.history.newest_first().first().copied());
    connection_status(
        o.state.last_completed_at.is_some(),
        newest,
        o.connection.adaptive.is_degraded(&o.state.history),
    )
}

fn status_label(s: ConnectionStatus) -> &'static str {
    match s {
        ConnectionStatus::Healthy => "Healthy",
        ConnectionStatus::Degraded => "Degraded",
        ConnectionStatus::Down => "Down",
    }
}

fn sample_tone(s: HealthSample) -> (&'static str, &'static str) {
    match s {
        HealthSample::Healthy => ("healthy", "healthy"),
        HealthSample::Unhealthy => ("unhealthy", "below thresholds"),
        HealthSample::Failed => ("failed", "failed"),
        HealthSample::Unjudged => ("unknown", "not judged"),
    }
}

/// JSON that is safe inside `<script type="application/json">`.
pub fn script_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn round(v: Option<f64>, digits: i32) -> serde_json::Value {
    v.filter(|v| v.is_finite())
        .map_or(serde_json::Value::Null, |v| {
            let f = 10_f64.powi(digits);
            serde_json::json!((v * f).round() / f)
        })
}

fn range_href(connection: &str, range: SeriesRange) -> String {
    format!("/?connection={connection}&range={range}")
}

/// Everything the page shows.
pub async fn build(
    web: &Web,
    q: &DashboardQuery,
    site: &SiteSettings,
) -> Result<DashboardPage, AppError> {
    let now = web.app.clock.now();
    let storage = &web.app.storage;
    let range = q
        .range
        .as_deref()
        .and_then(|r| SeriesRange::parse(r).ok())
        .unwrap_or(SeriesRange::Week);
    let overviews = storage.connection_overviews().await?;
    let selected_id = q
        .connection
        .as_deref()
        .filter(|id| overviews.iter().any(|o| o.connection.id.as_str() == *id))
        .map(str::to_owned)
        .or_else(|| {
            overviews
                .iter()
                .find(|o| o.connection.enabled)
                .or(overviews.first())
                .map(|o| o.connection.id.as_str().to_owned())
        });
    let day_ago = now.plus_seconds(-86_400);
    let mut cards = Vec::with_capacity(overviews.len());
    let mut selected = None;
    for o in &overviews {
        let id = o.connection.id.as_str().to_owned();
        let status = status_of(o, now);
        let latest = storage.latest_completed(&o.connection.id).await?;
        let day = storage
            .series_samples(&o.connection.id, day_ago, now)
            .await?;
        let spark = bucket_series(
            SeriesRange::Day,
            now,
            &day.iter()
                .map(|s| (s.at, s.download_bps))
                .collect::<Vec<_>>(),
        );
        let is_selected = selected_id.as_deref() == Some(id.as_str());
        cards.push(Card {
            href: range_href(&id, range),
            name: o.connection.name.as_str().to_owned(),
            probe: o.probe_name.clone(),
            colour: o.connection.colour.as_str().to_owned(),
            isp: o.connection.isp.clone(),
            status: status.as_str().to_owned(),
            status_label: status_label(status).to_owned(),
            download: format::speed(latest.as_ref().and_then(|m| m.observation.download_bps)),
            latest_when: latest.as_ref().map_or_else(
                || "no completed test yet".to_owned(),
                |m| format::relative(m.completed_at, now),
            ),
            sparkline: draw(&spark.points.iter().map(|p| p.value).collect::<Vec<_>>()),
            selected: is_selected,
            enabled: o.connection.enabled,
            id: id.clone(),
        });
        if is_selected {
            selected = Some(selected_part(web, o, range, now, site, latest).await?);
        }
    }
    let probes = storage
        .probes()
        .await?
        .into_iter()
        .map(|p| {
            let stale_after = i64::from(web.app.poll_interval_seconds * 3).max(180);
            let online = p
                .last_poll_at
                .is_some_and(|t| now.seconds_since(t) <= stale_after);
            ProbeLiveness {
                name: p.name.as_str().to_owned(),
                online: online && p.enabled,
                label: match (p.enabled, p.last_poll_at) {
                    (false, _) => "disabled".to_owned(),
                    (true, None) => "never polled".to_owned(),
                    (true, Some(t)) => format!("polled {}", format::relative(t, now)),
                },
                agent_version: p.agent_version.unwrap_or_default(),
            }
        })
        .collect();
    let names: HashMap<String, String> = overviews
        .iter()
        .map(|o| {
            (
                o.connection.id.as_str().to_owned(),
                o.connection.name.as_str().to_owned(),
            )
        })
        .collect();
    let runs = storage
        .recent_runs(now.plus_seconds(-300))
        .await?
        .into_iter()
        .filter(|(_, r)| {
            matches!(
                r.phase,
                netpulse_domain::model::RunPhase::Queued
                    | netpulse_domain::model::RunPhase::Running
            )
        })
        .map(|(id, r)| RunRow {
            connection: names
                .get(id.as_str())
                .cloned()
                .unwrap_or_else(|| id.to_string()),
            phase: r.phase.as_str().to_owned(),
            ago: format::relative(r.requested_at, now),
        })
        .collect();
    let connection = selected_id.unwrap_or_default();
    Ok(DashboardPage {
        cards,
        selected,
        range: range.as_str().to_owned(),
        ranges: SeriesRange::ALL
            .into_iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                href: range_href(&connection, r),
                selected: r == range,
            })
            .collect(),
        probes,
        runs,
        cursor: cursor_text(web).await?,
        rendered_at: format::time_of_day(now, &site.tz),
        query: format!("connection={connection}&range={range}"),
    })
}

fn column(
    samples: &[SeriesSample],
    f: impl Fn(&SeriesSample) -> Option<f64>,
) -> Vec<(Timestamp, Option<f64>)> {
    samples.iter().map(|s| (s.at, f(s))).collect()
}

fn trend_tone(trend: Option<f64>, higher_is_better: bool) -> &'static str {
    match trend.filter(|t| t.is_finite()) {
        None => "none",
        Some(t) if t.abs() < 0.5 => "flat",
        Some(t) if (t > 0.0) == higher_is_better => "good",
        Some(_) => "bad",
    }
}

async fn selected_part(
    web: &Web,
    o: &ConnectionOverview,
    range: SeriesRange,
    now: Timestamp,
    site: &SiteSettings,
    latest: Option<netpulse_domain::model::Measurement>,
) -> Result<Selected, AppError> {
    let storage = &web.app.storage;
    let c = &o.connection;
    let since = range.since(now);
    // The previous window too, for the trends.
    let samples = storage
        .series_samples(&c.id, range.since(since), now)
        .await?;
    let dl = column(&samples, |s| s.download_bps);
    let ul = column(&samples, |s| s.upload_bps);
    let ping = column(&samples, |s| s.ping_ms);
    let jitter = column(&samples, |s| s.jitter_ms);
    let loss = column(&samples, |s| s.packet_loss_percent);
    let series = [&dl, &ul, &ping, &jitter, &loss].map(|col| bucket_series(range, now, col));
    let x: Vec<i64> = series[0]
        .points
        .iter()
        .map(|p| p.at.unix_seconds())
        .collect();
    let values = |i: usize, scale: f64, digits: i32| -> Vec<serde_json::Value> {
        series[i]
            .points
            .iter()
            .map(|p| round(p.value.map(|v| v / scale), digits))
            .collect()
    };
    let chart = serde_json::json!({
        "x": x,
        "download": values(0, 1e6, 2),
        "upload": values(1, 1e6, 2),
        "ping": values(2, 1.0, 2),
        "jitter": values(3, 1.0, 2),
        "loss": values(4, 1.0, 3),
        "sparse": series[0].sparse,
        "timeZone": site.time_zone,
        "colour": c.colour.as_str(),
    });
    let mean = |col: &[(Timestamp, Option<f64>)]| {
        let v: Vec<f64> = col
            .iter()
            .filter(|(t, _)| *t >= since)
            .filter_map(|(_, v)| *v)
            .collect();
        netpulse_domain::stats::mean(&v)
    };
    let tile = |label: &str,
                col: &[(Timestamp, Option<f64>)],
                idx: usize,
                higher_is_better: bool,
                fmt: fn(Option<f64>) -> String| {
        let m = mean(col);
        let trend = window_trend_percent(range, now, col);
        Tile {
            label: label.to_owned(),
            value: fmt(m),
            trend: format::trend(trend),
            trend_tone: trend_tone(trend, higher_is_better).to_owned(),
            warn: label == "Packet loss" && m.is_some_and(|v| v > LOSS_WARN_PERCENT),
            sparkline: draw(
                &series[idx]
                    .points
                    .iter()
                    .map(|p| p.value)
                    .collect::<Vec<_>>(),
            ),
        }
    };
    let tiles = vec![
        tile("Download", &dl, 0, true, format::speed),
        tile("Upload", &ul, 1, true, format::speed),
        tile("Ping", &ping, 2, false, format::millis),
        tile("Jitter", &jitter, 3, false, format::millis),
        tile("Packet loss", &loss, 4, false, format::percent),
    ];
    let counts = storage.window_counts(&c.id, since, now).await?;
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
    let run_state = storage
        .run_state(&c.id)
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
    Ok(Selected {
        id: c.id.as_str().to_owned(),
        name: c.name.as_str().to_owned(),
        colour: c.colour.as_str().to_owned(),
        chart_json: script_json(&chart),
        chart_summary: summary,
        sparse: series[0].sparse,
        tiles,
        health: Health {
            uptime: format::percent(uptime),
            uptime_value: uptime.unwrap_or(0.0),
            incidents: counts.incidents(),
            tests: counts.tests,
            failed: counts.failed,
            strip,
        },
        latest: latest.map(|m| Latest {
            when: format::date_time(m.completed_at, &site.tz),
            ago: format::relative(m.completed_at, now),
            server: server_label(
                m.observation.server.name.as_deref(),
                m.observation.server.location.as_deref(),
                m.observation.server.id.as_deref(),
            ),
            download: format::speed(m.observation.download_bps),
            upload: format::speed(m.observation.upload_bps),
            ping: format::millis(m.observation.ping_ms),
            jitter: format::millis(m.observation.jitter_ms),
            loss: format::percent(m.observation.packet_loss_percent),
            verdict: if m.verdict.healthy() {
                "Healthy".to_owned()
            } else {
                m.verdict
                    .breaches
                    .iter()
                    .map(|b| b.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            healthy: m.verdict.healthy(),
            href: format!("/history/{}", m.id),
        }),
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

/// `name · location`, falling back to the id, then to an em dash.
pub fn server_label(name: Option<&str>, location: Option<&str>, id: Option<&str>) -> String {
    match (
        name.filter(|n| !n.is_empty()),
        location.filter(|l| !l.is_empty()),
        id.filter(|i| !i.is_empty()),
    ) {
        (Some(n), Some(l), _) => format!("{n} · {l}"),
        (Some(n), None, _) => n.to_owned(),
        (None, _, Some(i)) => format!("#{i}"),
        (None, _, None) => UNKNOWN.to_owned(),
    }
}

/// `GET /`: the page, or (with `X-NetPulse-Fragment: live`) its live block.
#[handler]
pub(crate) async fn show(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let result = async {
        let site = settings::load(&web).await?;
        let page = build(&web, &q, &site).await?;
        Ok::<_, AppError>((site, page))
    }
    .await;
    let (site, page) = match result {
        Ok(v) => v,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    let layout = Layout::new(&ctx(req), &site, "Dashboard", "dashboard");
    if req.headers().get("X-NetPulse-Fragment").is_some() {
        return fragment(&web, "dashboard.html", "live", &layout, &page);
    }
    html(&web, StatusCode::OK, "dashboard.html", &layout, &page)
}

/// `GET /dashboard/cursor`: changes whenever a result is recorded or a run moves.
#[handler]
pub(crate) async fn cursor(web: Data<&Web>) -> Response {
    match cursor_text(&web).await {
        Ok(c) => json(StatusCode::OK, &serde_json::json!({ "cursor": c })),
        Err(e) => pages::app_error_json(&e),
    }
}

/// A run-now request from the dialog.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunBody {
    scope: String,
    connection_id: Option<String>,
    pool_entry: Option<String>,
}

/// `POST /dashboard/run` (JSON, `X-CSRF-Token`): queues a test of one connection (optionally
/// on a pinned pool entry) or of every enabled one.
#[handler]
pub(crate) async fn run(web: Data<&Web>, body: Json<RunBody>) -> Response {
    let result = async {
        let now = web.app.clock.now();
        let pin = body
            .pool_entry
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| PoolEntry::parse(p).map_err(|e| AppError::invalid("poolEntry", e.rule)))
            .transpose()?;
        let queued = match body.scope.as_str() {
            "connection" => {
                let id = body.connection_id.as_deref().ok_or_else(|| {
                    AppError::invalid("connectionId", "is required for scope connection")
                })?;
                let id = ConnectionId::parse(id)
                    .map_err(|e| AppError::invalid("connectionId", e.to_string()))?;
                web.app
                    .storage
                    .request_run(RunScope::Connection(&id), pin.as_ref(), now)
                    .await?
            }
            "all" if pin.is_some() => {
                return Err(AppError::invalid(
                    "poolEntry",
                    "cannot be pinned when every connection runs",
                ));
            }
            "all" => {
                web.app
                    .storage
                    .request_run(RunScope::All, None, now)
                    .await?
            }
            other => {
                return Err(AppError::invalid(
                    "scope",
                    format!("must be connection or all (got {other:?})"),
                ));
            }
        };
        Ok(queued)
    }
    .await;
    match result {
        Ok(ids) => json(
            StatusCode::ACCEPTED,
            &serde_json::json!({ "queued": ids.iter().map(ConnectionId::as_str).collect::<Vec<_>>() }),
        ),
        Err(e) => pages::app_error_json(&e),
    }
}

/// The run-status query.
#[derive(Debug, Deserialize)]
pub struct RunStatusQuery {
    connection: String,
}

/// `GET /dashboard/run-status?connection=…`.
#[handler]
pub(crate) async fn run_status(web: Data<&Web>, Query(q): Query<RunStatusQuery>) -> Response {
    let result = async {
        let id = ConnectionId::parse(&q.connection)
            .map_err(|e| AppError::invalid("connection", e.to_string()))?;
        Ok::<_, AppError>(web.app.storage.run_state(&id).await?)
    }
    .await;
    match result {
        Ok(state) => json(
            StatusCode::OK,
            &serde_json::json!({
                "state": state.as_ref().map_or("idle", |s| s.phase.as_str()),
                "updatedAt": state.as_ref().map(|s| s.updated_at.to_rfc3339()),
            }),
        ),
        Err(e) => pages::app_error_json(&e),
    }
}
