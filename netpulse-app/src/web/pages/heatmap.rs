//! The heatmap `/heatmap`: weekday × hour in the site's time zone (each result placed by its
//! own local time, so DST changes inside the window are right), download / upload / ping /
//! health over 30 or 90 days, colours on the p95 scale of the domain, and cells with fewer
//! than 3 results shown as "not enough data".

use netpulse_domain::Timestamp;
use netpulse_domain::rollup::{Level, SpeedMetric};
use netpulse_domain::stats::{
    HEATMAP_MIN_SAMPLES, Heatmap, HeatmapScale, goodness, health_heatmap, sum_heatmap,
    value_heatmap,
};
use netpulse_ports::rollup_store::StoredRollup;
use netpulse_ports::web_store::SeriesSample;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::service::{connections, rollup_reads};
use crate::web::format;
use crate::web::pages::history::Opt;
use crate::web::settings::SiteSettings;
use crate::web::{Web, pages};

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The heatmap's query.
#[derive(Debug, Default, Deserialize)]
pub struct HeatmapQuery {
    connection: Option<String>,
    metric: Option<String>,
    window: Option<String>,
}

/// One cell.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// `g0`…`g20` (goodness in 5 % steps), with `hm-sparse` when it has fewer than 3
    /// results; `hm-none` without any.
    pub class: String,
    /// The value, short (the unit is in the caption), shown in the cell.
    pub short: String,
    /// Value label, or "not enough data".
    pub label: String,
    /// Full text for screen readers and tooltips.
    pub aria: String,
}

/// One weekday.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    /// Its name.
    pub name: String,
    /// Short name.
    pub short: String,
    /// 24 cells.
    pub cells: Vec<Cell>,
}

/// A legend stop.
#[derive(Debug, Clone, Serialize)]
pub struct Stop {
    /// Class.
    pub class: String,
    /// Label.
    pub label: String,
}

/// The heatmap's data.
#[derive(Debug, Clone, Serialize)]
pub struct HeatmapPage {
    /// Connections.
    pub connections: Vec<Opt>,
    /// Metrics.
    pub metrics: Vec<Opt>,
    /// Windows.
    pub windows: Vec<Opt>,
    /// Rows (empty without connections).
    pub days: Vec<Day>,
    /// Hours 00–23.
    pub hours: Vec<String>,
    /// The legend.
    pub legend: Vec<Stop>,
    /// What is shown.
    pub caption: String,
    /// Results in the window.
    pub results: usize,
    /// The time zone.
    pub time_zone: String,
}

fn short_of(metric: &str, v: f64) -> String {
    match metric {
        "ping" => format::one_decimal(v),
        "health" => format!("{:.0}", v * 100.0),
        _ if v >= 1e9 => format!("{:.1}k", v / 1e9),
        _ => format!("{:.0}", v / 1e6),
    }
}

fn label_of(metric: &str, v: f64) -> String {
    match metric {
        "ping" => format::millis(Some(v)),
        "health" => format::percent(Some(v * 100.0)),
        _ => format::speed(Some(v)),
    }
}

fn choice(pairs: &[(&str, &str)], current: &str) -> Vec<Opt> {
    pairs
        .iter()
        .map(|(v, l)| Opt {
            value: (*v).into(),
            label: (*l).into(),
            selected: *v == current,
        })
        .collect()
}

/// The grid from hourly rollups: each UTC hour's bucket moves to its local wall-clock start
/// (DST-correct; in zones with a half-hour offset a bucket counts in the local hour it starts
/// in), and its cell mean is Σsum/Σvalues.
pub fn bucket_grid(
    rows: &[StoredRollup],
    metric: &str,
    site: &SiteSettings,
) -> (Vec<Day>, Vec<Stop>) {
    let local = |at: Timestamp| at.plus_seconds(i64::from(format::offset_seconds(at, &site.tz)));
    let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    let cells: Vec<(Timestamp, f64, usize, usize)> = rows
        .iter()
        .map(|r| {
            let b = &r.bucket;
            let at = local(r.bucket_at);
            if metric == "health" {
                return (at, b.healthy as f64, n(b.results), n(b.results));
            }
            let m = b.metric(match metric {
                "upload" => SpeedMetric::Upload,
                "ping" => SpeedMetric::Ping,
                _ => SpeedMetric::Download,
            });
            (at, m.sum, n(m.values), n(b.results))
        })
        .collect();
    let map = sum_heatmap(&cells, 0, 1);
    let (scale, lower_is_better) = if metric == "health" {
        (HeatmapScale::UNIT, false)
    } else {
        (HeatmapScale::for_values(map.values()), metric == "ping")
    };
    render_grid(&map, scale, lower_is_better, metric)
}

/// Builds the grid from samples (public for the tests of the time-zone rule).
pub fn grid(samples: &[SeriesSample], metric: &str, site: &SiteSettings) -> (Vec<Day>, Vec<Stop>) {
    // Each result moves to its local wall-clock time; the domain then reads weekday and hour at
    // offset 0.
    let local = |at: Timestamp| at.plus_seconds(i64::from(format::offset_seconds(at, &site.tz)));
    let (map, scale, lower_is_better) = if metric == "health" {
        let s: Vec<_> = samples.iter().map(|s| (local(s.at), s.sample)).collect();
        (health_heatmap(&s, 0, 1), HeatmapScale::UNIT, false)
    } else {
        let value = |s: &SeriesSample| match metric {
            "upload" => s.upload_bps,
            "ping" => s.ping_ms,
            _ => s.download_bps,
        };
        let s: Vec<_> = samples.iter().map(|s| (local(s.at), value(s))).collect();
        let map = value_heatmap(&s, 0, 1);
        let scale = HeatmapScale::for_values(map.values());
        (map, scale, metric == "ping")
    };
    render_grid(&map, scale, lower_is_better, metric)
}

fn render_grid(
    map: &Heatmap,
    scale: HeatmapScale,
    lower_is_better: bool,
    metric: &str,
) -> (Vec<Day>, Vec<Stop>) {
    let days = (0..7u8)
        .map(|d| Day {
            name: WEEKDAYS[usize::from(d)].into(),
            short: WEEKDAYS[usize::from(d)][..3].into(),
            cells: (0..24u8)
                .map(|h| {
                    let cell = map.cell(d, h).copied();
                    let n = cell.map_or(0, |c| c.attempts);
                    let sparse = cell.is_some_and(|c| c.samples < HEATMAP_MIN_SAMPLES);
                    let (class, label, short) = match cell.and_then(|c| c.value) {
                        Some(v) => (
                            format!(
                                "g{}{}",
                                (goodness(v, scale, lower_is_better) * 20.0).round() as u32,
                                if sparse { " hm-sparse" } else { "" }
                            ),
                            label_of(metric, v),
                            short_of(metric, v),
                        ),
                        None => ("hm-none".to_owned(), "no data".to_owned(), String::new()),
                    };
                    Cell {
                        aria: format!(
                            "{} {h:02}:00 — {label}, {n} result{}{}",
                            WEEKDAYS[usize::from(d)],
                            if n == 1 { "" } else { "s" },
                            if sparse && n > 0 {
                                " (few results)"
                            } else {
                                ""
                            }
                        ),
                        class,
                        label,
                        short,
                    }
                })
                .collect(),
        })
        .collect();
    // A legend only from values that are there.
    let any_value = map.values().next().is_some();
    let legend = if any_value {
        scale
            .legend()
            .iter()
            .map(|v| Stop {
                class: format!(
                    "g{}",
                    (goodness(*v, scale, lower_is_better) * 20.0).round() as u32
                ),
                label: label_of(metric, *v),
            })
            .collect()
    } else {
        vec![]
    };
    (days, legend)
}

async fn build(web: &Web, q: &HeatmapQuery, site: &SiteSettings) -> Result<HeatmapPage, AppError> {
    let now = web.app.clock.now();
    let connections = connections::list(&web.app, None).await?;
    let metric = q
        .metric
        .as_deref()
        .filter(|m| ["download", "upload", "ping", "health"].contains(m))
        .unwrap_or("download");
    let (window, days_back) = match q.window.as_deref() {
        Some("90d") => ("90d", 90),
        _ => ("30d", 30),
    };
    let selected = q
        .connection
        .as_deref()
        .and_then(|id| connections.iter().find(|c| c.id.as_str() == id))
        .or_else(|| connections.iter().find(|c| c.enabled))
        .or(connections.first());
    let mut page = HeatmapPage {
        connections: connections
            .iter()
            .map(|c| Opt {
                value: c.id.as_str().into(),
                label: c.name.as_str().into(),
                selected: selected.is_some_and(|s| s.id == c.id),
            })
            .collect(),
        metrics: choice(
            &[
                ("download", "Download"),
                ("upload", "Upload"),
                ("ping", "Ping"),
                ("health", "Health"),
            ],
            metric,
        ),
        windows: choice(&[("30d", "Last 30 days"), ("90d", "Last 90 days")], window),
        days: vec![],
        hours: (0..24).map(|h| format!("{h:02}")).collect(),
        legend: vec![],
        caption: String::new(),
        results: 0,
        time_zone: site.time_zone.clone(),
    };
    if let Some(c) = selected {
        // Hourly rollups: 24 × days buckets, whatever the number of results.
        let rows = rollup_reads::window(
            &web.app,
            &c.id,
            Level::Hour,
            now.plus_seconds(-days_back * 86_400),
            now,
        )
        .await?;
        let (days, legend) = bucket_grid(&rows, metric, site);
        page.days = days;
        page.legend = legend;
        page.results = rows
            .iter()
            .map(|r| usize::try_from(r.bucket.results).unwrap_or(0))
            .sum();
        page.caption = format!(
            "{} of {} by weekday and hour ({}), last {} days, in {}",
            page.metrics
                .iter()
                .find(|m| m.selected)
                .map_or("", |m| m.label.as_str()),
            c.name,
            site.time_zone,
            days_back,
            match metric {
                "ping" => "ms",
                "health" => "% healthy",
                _ => "Mbps (1.0k = 1 Gbps)",
            }
        );
    }
    Ok(page)
}

/// `GET /heatmap`.
#[handler]
pub(crate) async fn show(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<HeatmapQuery>,
) -> Response {
    pages::show(
        req,
        &web,
        "heatmap.html",
        "Heatmap",
        "heatmap",
        async |site| build(&web, &q, site).await,
    )
    .await
}
