//! The chart of the selected connection: its samples as columns, bucketed over the range, and
//! the chart's JSON.

use netpulse_domain::Timestamp;
use netpulse_domain::stats::{Series, SeriesRange, bucket_series};
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

/// The selected connection's samples: download, upload, ping, jitter and loss columns (over
/// both windows, for the trends), and each bucketed over the range.
pub(super) struct Chart {
    /// Each figure's samples, by time.
    pub(super) columns: [Vec<(Timestamp, Option<f64>)>; 5],
    /// Each figure bucketed over the range.
    pub(super) series: [Series; 5],
}

impl Chart {
    /// The columns and series of `samples`.
    pub(super) fn of(samples: &[SeriesSample], range: SeriesRange, now: Timestamp) -> Self {
        let columns = [
            column(samples, |s| s.download_bps),
            column(samples, |s| s.upload_bps),
            column(samples, |s| s.ping_ms),
            column(samples, |s| s.jitter_ms),
            column(samples, |s| s.packet_loss_percent),
        ];
        let series = [0, 1, 2, 3, 4].map(|i| bucket_series(range, now, &columns[i]));
        Self { columns, series }
    }

    /// Whether the chart shows single results (too few for buckets).
    pub(super) fn sparse(&self) -> bool {
        self.series[DOWNLOAD].sparse
    }

    /// The sparkline of one figure's series.
    pub(super) fn sparkline(&self, idx: usize) -> Sparkline {
        draw(
            &self.series[idx]
                .points
                .iter()
                .map(|p| p.value)
                .collect::<Vec<_>>(),
        )
    }

    /// The chart's data for the page script (Mbps, ms, percent).
    pub(super) fn json(&self, time_zone: &str, colour: &str) -> serde_json::Value {
        let x: Vec<i64> = self.series[DOWNLOAD]
            .points
            .iter()
            .map(|p| p.at.unix_seconds())
            .collect();
        let values = |i: usize, scale: f64, digits: i32| -> Vec<serde_json::Value> {
            self.series[i]
                .points
                .iter()
                .map(|p| round(p.value.map(|v| v / scale), digits))
                .collect()
        };
        serde_json::json!({
            "x": x,
            "download": values(0, 1e6, 2),
            "upload": values(1, 1e6, 2),
            "ping": values(2, 1.0, 2),
            "jitter": values(3, 1.0, 2),
            "loss": values(4, 1.0, 3),
            "sparse": self.sparse(),
            "timeZone": time_zone,
            "colour": colour,
        })
    }
}
