//! The chart of the selected connection: its samples as columns, bucketed over the range, and
//! the chart's JSON: the rows with a value (empty buckets left out, so the line joins across
//! them), a null row where the data really stops (the rule of `netpulse_domain::chart_line`),
//! which points stand alone (drawn as dots), the failed tests (red markers), the reference
//! lines (the plan, the health floors and caps) and the baseline bands (the reliable
//! baselines in force, median ± the connection's deviation).

use netpulse_domain::Timestamp;
use netpulse_domain::baseline::{Baseline, Metric};
use netpulse_domain::chart_line::{alone, breaks_after, join_limit_seconds};
use netpulse_domain::degradation::HealthSample;
use netpulse_domain::model::Connection;
use netpulse_domain::rollup::{SpeedBucket, SpeedMetric};
use netpulse_domain::stats::{
    Point, Series, SeriesRange, bucket_series, mean, trend_percent, window_trend_percent,
};
use netpulse_ports::rollup_store::StoredRollup;
use netpulse_ports::web_store::SeriesSample;

use crate::web::sparkline::{Sparkline, draw};

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

fn column(
    samples: &[SeriesSample],
    f: impl Fn(&SeriesSample) -> Option<f64>,
) -> Vec<(Timestamp, Option<f64>)> {
    samples.iter().map(|s| (s.at, f(s))).collect()
}

/// The columns of the chart, in this order (index into [`Chart::columns`]).
pub(super) const DOWNLOAD: usize = 0;
/// The names of the columns in the JSON, and their scale and rounding.
const COLUMNS: [(&str, f64, i32); 5] = [
    ("download", 1e6, 2),
    ("upload", 1e6, 2),
    ("ping", 1.0, 2),
    ("jitter", 1.0, 2),
    ("loss", 1.0, 3),
];

/// The selected connection's samples: download, upload, ping, jitter and loss columns (over
/// both windows, for the trends), and each bucketed over the range.
pub(super) struct Chart {
    /// Each figure's mean over the window.
    pub(super) means: [Option<f64>; 5],
    /// Each figure's window-over-window trend, percent.
    pub(super) trends: [Option<f64>; 5],
    /// Each figure bucketed over the range.
    pub(super) series: [Series; 5],
    /// When the failed tests of the window completed (or, from rollups, the starts of the
    /// buckets with failures), ascending.
    failed: Vec<Timestamp>,
    /// Failed tests in the window.
    failed_total: usize,
    range: SeriesRange,
    now: Timestamp,
    /// Known points further apart than this are not joined, seconds.
    join_limit: i64,
}

impl Chart {
    /// The columns and series of `samples`; `expected_interval_seconds` is how often the
    /// connection is tested.
    pub(super) fn of(
        samples: &[SeriesSample],
        range: SeriesRange,
        now: Timestamp,
        expected_interval_seconds: i64,
    ) -> Self {
        let columns = [
            column(samples, |s| s.download_bps),
            column(samples, |s| s.upload_bps),
            column(samples, |s| s.ping_ms),
            column(samples, |s| s.jitter_ms),
            column(samples, |s| s.packet_loss_percent),
        ];
        let series = [0, 1, 2, 3, 4].map(|i| bucket_series(range, now, &columns[i]));
        let since = range.since(now);
        let means = [0, 1, 2, 3, 4].map(|i| {
            let v: Vec<f64> = columns[i]
                .iter()
                .filter(|(t, _)| *t >= since)
                .filter_map(|(_, v)| *v)
                .collect();
            mean(&v)
        });
        let trends = [0, 1, 2, 3, 4].map(|i| window_trend_percent(range, now, &columns[i]));
        let mut failed: Vec<Timestamp> = samples
            .iter()
            .filter(|s| s.sample == HealthSample::Failed && s.at >= since && s.at < now)
            .map(|s| s.at)
            .collect();
        failed.sort();
        let join_limit =
            join_limit_seconds(expected_interval_seconds, range.bucket_width_seconds());
        Self {
            means,
            trends,
            series,
            failed_total: failed.len(),
            failed,
            range,
            now,
            join_limit,
        }
    }

    /// Whether the chart shows single results (too few for buckets).
    pub(super) fn sparse(&self) -> bool {
        self.series[DOWNLOAD].sparse
    }

    /// The chart of a range answered from rollups: one point per stored bucket starting in
    /// the window (`current`) at its weighted mean; the tiles' means and trends merge the
    /// buckets of the window and of the one before (`previous`).
    pub(super) fn of_buckets(
        current: &[StoredRollup],
        previous: &[StoredRollup],
        range: SeriesRange,
        now: Timestamp,
        expected_interval_seconds: i64,
        bucket_seconds: i64,
    ) -> Self {
        let points: Vec<(Timestamp, &SpeedBucket)> =
            current.iter().map(|r| (r.bucket_at, &r.bucket)).collect();
        let series = SpeedMetric::ALL.map(|m| Series {
            points: points
                .iter()
                .map(|(at, b)| Point {
                    at: *at,
                    value: b.mean(m),
                })
                .collect(),
            sparse: false,
        });
        let now_b = SpeedBucket::merged(current.iter().map(|r| &r.bucket));
        let before = SpeedBucket::merged(previous.iter().map(|r| &r.bucket));
        let means = SpeedMetric::ALL.map(|m| now_b.mean(m));
        let trends = SpeedMetric::ALL.map(|m| trend_percent(before.mean(m), now_b.mean(m)));
        let failed = current
            .iter()
            .filter(|r| r.bucket.fail > 0)
            .map(|r| r.bucket_at)
            .collect();
        Self {
            means,
            trends,
            series,
            failed,
            failed_total: usize::try_from(now_b.fail).unwrap_or(usize::MAX),
            range,
            now,
            join_limit: join_limit_seconds(
                expected_interval_seconds,
                bucket_seconds.max(range.bucket_width_seconds()),
            ),
        }
    }

    /// How many tests of the window failed.
    pub(super) fn failed_count(&self) -> usize {
        self.failed_total
    }

    /// The sparkline of one figure's series.
    pub(super) fn sparkline(&self, idx: usize) -> Sparkline {
        let points: Vec<(Timestamp, Option<f64>)> = self.series[idx]
            .points
            .iter()
            .map(|p| (p.at, p.value))
            .collect();
        draw(
            &points,
            self.range.since(self.now),
            self.range.window_seconds(),
            self.join_limit,
        )
    }

    /// The rows with at least one value: (time, index of the point in each series).
    fn rows(&self) -> Vec<(Timestamp, usize)> {
        let n = self.series[DOWNLOAD].points.len();
        (0..n)
            .filter(|&i| {
                self.series
                    .iter()
                    .any(|s| s.points.get(i).is_some_and(|p| p.value.is_some()))
            })
            .map(|i| (self.series[DOWNLOAD].points[i].at, i))
            .collect()
    }

    /// The chart's data for the page script (Mbps, ms, percent).
    pub(super) fn json(
        &self,
        time_zone: &str,
        colour: &str,
        c: &Connection,
        in_force: &[(Metric, Baseline)],
    ) -> serde_json::Value {
        let rows = self.rows();
        let times: Vec<Timestamp> = rows.iter().map(|(t, _)| *t).collect();
        let breaks = breaks_after(&times, self.join_limit);
        // Each row, and after a break a row of nulls halfway to the next one.
        let mut x: Vec<i64> = Vec::new();
        let mut source: Vec<Option<usize>> = Vec::new();
        let mut break_rows: Vec<usize> = Vec::new();
        for (k, (t, i)) in rows.iter().enumerate() {
            x.push(t.unix_seconds());
            source.push(Some(*i));
            if breaks.contains(&k) {
                let next = rows[k + 1].0.unix_seconds();
                break_rows.push(x.len());
                x.push(i64::midpoint(t.unix_seconds(), next));
                source.push(None);
            }
        }
        let mut out = serde_json::Map::new();
        let mut lonely = serde_json::Map::new();
        for (col, (name, scale, digits)) in COLUMNS.iter().enumerate() {
            let points = &self.series[col].points;
            let values: Vec<serde_json::Value> = source
                .iter()
                .map(|s| round(s.and_then(|i| points[i].value).map(|v| v / scale), *digits))
                .collect();
            // Which rows of this column have no joined neighbour.
            let known_rows: Vec<usize> = (0..x.len())
                .filter(|&r| source[r].is_some_and(|i| points[i].value.is_some()))
                .collect();
            let known_times: Vec<Timestamp> = known_rows
                .iter()
                .map(|&r| Timestamp::from_unix_seconds(x[r]))
                .collect();
            let single: Vec<usize> = alone(&known_times, self.join_limit)
                .into_iter()
                .zip(&known_rows)
                .filter(|(a, _)| *a)
                .map(|(_, &r)| r)
                .collect();
            out.insert((*name).to_owned(), serde_json::json!(values));
            lonely.insert((*name).to_owned(), serde_json::json!(single));
        }
        let floor = |plan: u64, ratio: f64| {
            (plan > 0).then(|| {
                serde_json::json!({
                    "plan": plan as f64 / 1e6,
                    "floor": ((ratio * plan as f64).round() / 1e6 * 100.0).round() / 100.0,
                    "ratio": (ratio * 100.0).round(),
                })
            })
        };
        let t = &c.thresholds;
        out.insert("x".into(), serde_json::json!(x));
        out.insert("breaks".into(), serde_json::json!(break_rows));
        out.insert("alone".into(), serde_json::Value::Object(lonely));
        out.insert(
            "failed".into(),
            serde_json::json!(
                self.failed
                    .iter()
                    .map(|t| t.unix_seconds())
                    .collect::<Vec<_>>()
            ),
        );
        out.insert(
            "refs".into(),
            serde_json::json!({
                "download": floor(c.expected.download_bps, t.min_download_ratio()),
                "upload": floor(c.expected.upload_bps, t.min_upload_ratio()),
                "ping": t.max_ping_ms(),
                "jitter": t.max_jitter_ms(),
                "loss": t.max_packet_loss_percent(),
            }),
        );
        let pct = t.baseline_deviation_pct();
        let band = |metric: Metric, scale: f64| {
            in_force
                .iter()
                .find(|(m, b)| *m == metric && b.reliable())
                .map(|(_, b)| {
                    let (low, high) = b.band(pct);
                    serde_json::json!({
                        "low": round(Some(low / scale), 2),
                        "high": round(Some(high / scale), 2),
                        "median": round(Some(b.median / scale), 2),
                        "pct": pct,
                    })
                })
        };
        out.insert(
            "bands".into(),
            serde_json::json!({
                "download": band(Metric::Download, 1e6),
                "upload": band(Metric::Upload, 1e6),
                "ping": band(Metric::Ping, 1.0),
            }),
        );
        out.insert(
            "from".into(),
            serde_json::json!(self.range.since(self.now).unix_seconds()),
        );
        out.insert("to".into(), serde_json::json!(self.now.unix_seconds()));
        out.insert("sparse".into(), serde_json::json!(self.sparse()));
        out.insert("timeZone".into(), serde_json::json!(time_zone));
        out.insert("colour".into(), serde_json::json!(colour));
        serde_json::Value::Object(out)
    }
}
