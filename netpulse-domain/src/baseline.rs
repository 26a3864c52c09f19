//! Baselines: the learned normal of a series, and when a result deviates from it
//! (wave2-specs §5.2).
//!
//! - **Window**: the 14 full local days before the recompute day, `[D−14, D)` (the caller
//!   selects the samples: successful, scheduled results outside maintenance; run-now and
//!   adaptive retests are excluded because suspected trouble triggered them).
//! - **Statistic**: the exact median (the two middle values averaged when n is even, as
//!   PostgreSQL's `percentile_cont(0.5)`), with P10, P90 (linear interpolation, type 7) and
//!   the median absolute deviation.
//! - **Reliable** at [`MIN_SAMPLES`] samples or more; below that the UI shows "collecting n/50"
//!   and no deviation alert fires.
//! - **Deviation**: for a lower-is-worse metric (download, upload) a breach is
//!   `value < median × (1 − pct/100)`; for a higher-is-worse one (ping, jitter, loss, RTT)
//!   `value > median × (1 + pct/100)`. `pct` defaults to [`DEFAULT_DEVIATION_PCT`].

use crate::Timestamp;
use crate::check::{Family, Outcome};
use crate::error::InvalidValue;
use crate::measurement::Observation;

/// Samples needed before a baseline is reliable.
pub const MIN_SAMPLES: usize = 50;
/// Days in the window.
pub const WINDOW_DAYS: u32 = 14;
/// Minutes after local midnight (site time zone) from which the day's baselines are computed.
pub const RECOMPUTE_AFTER_MINUTES: u32 = 30;
/// How long a day's row stays in force, seconds: a result is judged against the newest row of
/// its series that started at most this long before it (two days: a local day may last 25 h,
/// and the recompute runs after midnight).
pub const IN_FORCE_SECONDS: i64 = 2 * 86_400;
/// The default deviation, percent.
pub const DEFAULT_DEVIATION_PCT: f64 = 30.0;

/// Which way a metric gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worse {
    /// Lower is worse (speeds).
    Lower,
    /// Higher is worse (latency, jitter, loss).
    Higher,
}

/// A series' baseline for one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    /// Samples in the window.
    pub n: usize,
    /// The exact median.
    pub median: f64,
    /// The 10th percentile (type 7).
    pub p10: f64,
    /// The 90th percentile (type 7).
    pub p90: f64,
    /// The median absolute deviation.
    pub mad: f64,
}

impl Baseline {
    /// The baseline of these samples; `None` when there are none (non-finite values are
    /// dropped).
    pub fn of(samples: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let median = median_sorted(&v);
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        Some(Self {
            n: v.len(),
            median,
            p10: type7(&v, 0.10),
            p90: type7(&v, 0.90),
            mad: median_sorted(&dev),
        })
    }

    /// Whether it has enough samples to alert on.
    pub fn reliable(&self) -> bool {
        self.n >= MIN_SAMPLES
    }

    /// Whether `value` deviates by more than `pct` percent in the worse direction. Always
    /// `false` for an unreliable baseline.
    pub fn breached_by(&self, value: f64, worse: Worse, pct: f64) -> bool {
        if !self.reliable() || !value.is_finite() {
            return false;
        }
        match worse {
            Worse::Lower => value < self.median * (1.0 - pct / 100.0),
            Worse::Higher => value > self.median * (1.0 + pct / 100.0),
        }
    }
}

impl Baseline {
    /// The band around the median within `pct` percent: `(median × (1 − pct/100), median ×
    /// (1 + pct/100))`, the low end at least 0. A lower-is-worse result breaches below the low
    /// end, a higher-is-worse one above the high end.
    pub fn band(&self, pct: f64) -> (f64, f64) {
        (
            (self.median * (1.0 - pct / 100.0)).max(0.0),
            self.median * (1.0 + pct / 100.0),
        )
    }
}

/// A metric of a connection's speed tests that has a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Download, bits per second.
    Download,
    /// Upload, bits per second.
    Upload,
    /// Idle latency, ms.
    Ping,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Self; 3] = [Self::Download, Self::Upload, Self::Ping];

    /// The code in storage and on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Download => "download",
            Self::Upload => "upload",
            Self::Ping => "ping",
        }
    }

    /// Reads a metric code.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| InvalidValue::new("metric", text, "is not a baseline metric"))
    }

    /// Which way it gets worse.
    pub const fn worse(self) -> Worse {
        match self {
            Self::Download | Self::Upload => Worse::Lower,
            Self::Ping => Worse::Higher,
        }
    }

    /// Its figure in a result (`None` for a failed test or an unknown figure).
    pub fn of(self, o: &Observation) -> Option<f64> {
        if !o.completed() {
            return None;
        }
        match self {
            Self::Download => o.download_bps,
            Self::Upload => o.upload_bps,
            Self::Ping => o.ping_ms,
        }
        .filter(|v| v.is_finite())
    }
}

/// The baselines in force for a connection's result: at most one per metric.
pub type InForce = [(Metric, Baseline)];

/// Whether `o` is more than `pct` percent worse than any of its reliable baselines.
pub fn deviates(o: &Observation, in_force: &InForce, pct: f64) -> bool {
    in_force.iter().any(|(metric, b)| {
        metric
            .of(o)
            .is_some_and(|v| b.breached_by(v, metric.worse(), pct))
    })
}

/// The samples of each metric in a window of results (a failed result or an unknown figure
/// adds nothing), and their baselines.
pub fn of_results<'a>(
    results: impl IntoIterator<Item = &'a Observation>,
) -> Vec<(Metric, Baseline)> {
    let mut samples: [Vec<f64>; 3] = [vec![], vec![], vec![]];
    for o in results {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            if let Some(v) = m.of(o) {
                samples[i].push(v);
            }
        }
    }
    Metric::ALL
        .into_iter()
        .zip(samples)
        .filter_map(|(m, v)| Baseline::of(&v).map(|b| (m, b)))
        .collect()
}

/// One check result as a latency baseline reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckSample {
    /// Its round.
    pub at: Timestamp,
    /// Its family.
    pub family: Family,
    /// How it came out.
    pub outcome: Outcome,
    /// Its latency, ms.
    pub latency_ms: Option<f64>,
}

/// A check's latency baselines per family from the results of a window: only `ok` results
/// with a latency count, none inside a maintenance window of the check's probe (`[start,
/// end)`, `None` = still open).
pub fn check_latency(
    samples: &[CheckSample],
    maintenance: &[(Timestamp, Option<Timestamp>)],
) -> Vec<(Family, Baseline)> {
    let paused = |at: Timestamp| {
        maintenance
            .iter()
            .any(|(s, e)| *s <= at && e.is_none_or(|e| at < e))
    };
    [Family::V4, Family::V6]
        .into_iter()
        .filter_map(|family| {
            let v: Vec<f64> = samples
                .iter()
                .filter(|s| s.family == family && s.outcome == Outcome::Ok && !paused(s.at))
                .filter_map(|s| s.latency_ms)
                .collect();
            Baseline::of(&v).map(|b| (family, b))
        })
        .collect()
}

/// Whether the nightly recompute of local day `today` is due, `minutes` after its local
/// midnight, when the last recompute was of `computed_day`: once a day, from 00:30.
pub fn recompute_due(today: &str, minutes: u32, computed_day: Option<&str>) -> bool {
    minutes >= RECOMPUTE_AFTER_MINUTES && computed_day != Some(today)
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// The type-7 quantile (linear interpolation between closest ranks) of sorted values.
pub fn type7(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // the examples have exact results
mod tests {
    use super::*;

    #[test]
    fn the_median_averages_the_middle_pair() {
        let b = Baseline::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(b.median, 2.5);
        assert_eq!(Baseline::of(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(Baseline::of(&[]), None);
        assert_eq!(Baseline::of(&[f64::NAN]), None);
    }

    #[test]
    fn percentiles_and_mad() {
        let v: Vec<f64> = (1..=11).map(f64::from).collect();
        let b = Baseline::of(&v).unwrap();
        assert_eq!((b.p10, b.p90, b.median), (2.0, 10.0, 6.0));
        // |x − 6| = 5,4,3,2,1,0,1,2,3,4,5 → median 3.
        assert_eq!(b.mad, 3.0);
        assert!((type7(&[1.0, 2.0], 0.25) - 1.25).abs() < 1e-12);
    }

    #[test]
    fn deviation_needs_a_reliable_baseline_and_the_worse_direction() {
        let samples = vec![100.0; 49];
        let b = Baseline::of(&samples).unwrap();
        assert!(!b.reliable());
        assert!(!b.breached_by(10.0, Worse::Lower, 30.0));
        let b = Baseline::of(&[100.0; 50]).unwrap();
        assert!(b.reliable());
        // 30 % below 100 is 70: 69.9 breaches, 70 does not.
        assert!(b.breached_by(69.9, Worse::Lower, DEFAULT_DEVIATION_PCT));
        assert!(!b.breached_by(70.0, Worse::Lower, DEFAULT_DEVIATION_PCT));
        assert!(!b.breached_by(500.0, Worse::Lower, DEFAULT_DEVIATION_PCT));
        assert!(b.breached_by(130.1, Worse::Higher, DEFAULT_DEVIATION_PCT));
        assert!(!b.breached_by(130.0, Worse::Higher, DEFAULT_DEVIATION_PCT));
    }

    fn result(down: f64, up: f64, ping: f64) -> Observation {
        Observation {
            download_bps: Some(down),
            upload_bps: Some(up),
            ping_ms: Some(ping),
            ..Observation::default()
        }
    }

    #[test]
    fn results_give_one_baseline_per_metric_with_figures() {
        let mut rs: Vec<Observation> = (1..=50)
            .map(|i| result(f64::from(i) * 1e6, 10e6, 20.0))
            .collect();
        rs.push(Observation::failed(
            crate::measurement::FailureClass::Network,
            "down",
        ));
        rs.push(Observation {
            ping_ms: None,
            ..result(1e6, 10e6, 0.0)
        });
        let b = of_results(&rs);
        let down = b.iter().find(|(m, _)| *m == Metric::Download).unwrap().1;
        assert_eq!(down.n, 51);
        assert_eq!(down.median, 25e6);
        let ping = b.iter().find(|(m, _)| *m == Metric::Ping).unwrap().1;
        assert_eq!((ping.n, ping.median), (50, 20.0));
        assert!(of_results(&[]).is_empty());
    }

    #[test]
    fn a_result_deviates_on_any_metric_in_its_worse_direction() {
        let b = of_results(&vec![result(100e6, 20e6, 10.0); 50]);
        assert!(!deviates(&result(100e6, 20e6, 10.0), &b, 30.0));
        assert!(deviates(&result(69e6, 20e6, 10.0), &b, 30.0));
        assert!(deviates(&result(100e6, 13e6, 10.0), &b, 30.0));
        assert!(deviates(&result(100e6, 20e6, 13.5), &b, 30.0));
        // Better is never a deviation; a wider deviation lets it pass.
        assert!(!deviates(&result(300e6, 90e6, 1.0), &b, 30.0));
        assert!(!deviates(&result(69e6, 20e6, 10.0), &b, 40.0));
        // A failed test is test_failed, not a deviation; nothing deviates from no baseline.
        let failed = Observation::failed(crate::measurement::FailureClass::Network, "x");
        assert!(!deviates(&failed, &b, 30.0));
        assert!(!deviates(&result(1.0, 1.0, 999.0), &[], 30.0));
        // Collecting (< 50 samples): no deviation.
        let collecting = of_results(&vec![result(100e6, 20e6, 10.0); 49]);
        assert!(!deviates(&result(1.0, 1.0, 999.0), &collecting, 30.0));
    }

    #[test]
    fn the_recompute_runs_once_a_day_from_half_past_midnight() {
        assert!(!recompute_due("2026-12-04", 29, Some("2026-12-03")));
        assert!(recompute_due("2026-12-04", 30, Some("2026-12-03")));
        assert!(recompute_due("2026-12-04", 600, None));
        assert!(!recompute_due("2026-12-04", 600, Some("2026-12-04")));
    }

    #[test]
    fn check_latency_counts_ok_results_outside_maintenance_per_family() {
        let t = |s: i64| Timestamp::from_unix_seconds(1_780_000_000 + s);
        let sample = |s, family, outcome, ms| CheckSample {
            at: t(s),
            family,
            outcome,
            latency_ms: ms,
        };
        let samples = vec![
            sample(0, Family::V4, Outcome::Ok, Some(10.0)),
            sample(60, Family::V4, Outcome::Ok, Some(20.0)),
            sample(120, Family::V4, Outcome::Fail, Some(900.0)),
            sample(180, Family::V4, Outcome::Ok, Some(500.0)), // in maintenance
            sample(240, Family::V4, Outcome::Ok, None),
            sample(0, Family::V6, Outcome::Ok, Some(30.0)),
            sample(600, Family::V6, Outcome::Ok, Some(700.0)), // in the open window
        ];
        let b = check_latency(&samples, &[(t(180), Some(t(181))), (t(600), None)]);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].0, Family::V4);
        assert_eq!((b[0].1.n, b[0].1.median), (2, 15.0));
        assert_eq!((b[1].0, b[1].1.n, b[1].1.median), (Family::V6, 1, 30.0));
        assert!(check_latency(&samples, &[(t(-1), None)]).is_empty());
    }

    #[test]
    fn the_band_and_metric_codes() {
        let b = Baseline::of(&[100.0]).unwrap();
        assert_eq!(b.band(30.0), (70.0, 130.0));
        assert_eq!(b.band(200.0), (0.0, 300.0));
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.as_str()).unwrap(), m);
        }
        assert_eq!(Metric::parse("jitter").unwrap_err().field, "metric");
    }
}
