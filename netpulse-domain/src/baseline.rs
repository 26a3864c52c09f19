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

/// Samples needed before a baseline is reliable.
pub const MIN_SAMPLES: usize = 50;
/// Days in the window.
pub const WINDOW_DAYS: u32 = 14;
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
}
