//! The figures of an SLA report (wave2-specs §7.2–§7.3), computed from the period's results.
//! The caller selects the results (the period `[start, end)` in the site time zone, exclusions
//! applied and listed) and gives each its local calendar day and hour; this module decides
//! every number the report prints, so the PDF, the CSV and the preview cannot disagree.
//!
//! - **Percentiles** are type 7 (linear interpolation; PostgreSQL's `percentile_cont`, numpy's
//!   default) everywhere. "P5" is the speed met in 95 % of tests — the SLA headline; "P95" is
//!   the speed exceeded in only 5 % of them.
//! - **80/80**: the speed reached in at least 80 % of peak-hour tests (P20 of the peak tests),
//!   as a share of plan — a single-line analogue of the FCC's Measuring Broadband America.
//! - **BNetzA-style tests** (§57(4) TKG; *not* a certified measurement): a deviation exists when
//!   90 % of the contracted maximum was not reached at least once on two of three measurement
//!   days, when the normally available speed was not reached in 90 % of tests, or when the
//!   minimum speed was undercut on two of three days. With more than three measurement days,
//!   "two of three" reads as "on at least two thirds of the days".
//! - **Peak-period loss bands** as the MBA reports: < 0.4 %, 0.4–1 %, > 1 %.

use crate::baseline::type7;

/// One speed result of the period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedSample {
    /// The measured speed, bit/s.
    pub bps: f64,
    /// Its local calendar day (any increasing day number, e.g. days since the epoch).
    pub local_day: i64,
    /// Its local hour, 0–23.
    pub local_hour: u8,
}

/// The plan a report compares against, bit/s.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlanSpeeds {
    /// The contracted maximum.
    pub max_bps: Option<f64>,
    /// The normally available speed.
    pub normal_bps: Option<f64>,
    /// The minimum (guaranteed) speed.
    pub min_bps: Option<f64>,
}

/// The peak hours, local `[from, to)` (default 19–23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeakHours {
    /// First peak hour.
    pub from: u8,
    /// First hour after the peak.
    pub to: u8,
}

impl Default for PeakHours {
    fn default() -> Self {
        Self { from: 19, to: 23 }
    }
}

impl PeakHours {
    /// Whether `hour` is in the peak (a range past midnight, e.g. 22–2, wraps).
    pub fn contains(self, hour: u8) -> bool {
        if self.from <= self.to {
            (self.from..self.to).contains(&hour)
        } else {
            hour >= self.from || hour < self.to
        }
    }
}

/// The summary of one direction's speeds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpeedSummary {
    /// Tests with a speed.
    pub tests: usize,
    /// Mean, median, P5, P10, P95, min, max, bit/s (`None` without tests).
    pub mean: Option<f64>,
    /// The median.
    pub median: Option<f64>,
    /// Met in 95 % of tests.
    pub p5: Option<f64>,
    /// Met in 90 % of tests.
    pub p10: Option<f64>,
    /// Exceeded in only 5 % of tests.
    pub p95: Option<f64>,
    /// The slowest.
    pub min: Option<f64>,
    /// The fastest.
    pub max: Option<f64>,
    /// Shares of tests at ≥ 90 %, ≥ 80 % and < 50 % of the plan's maximum (`None` without a
    /// plan or tests).
    pub share_at_least_90: Option<f64>,
    /// At least 80 % of plan.
    pub share_at_least_80: Option<f64>,
    /// Below half the plan.
    pub share_below_50: Option<f64>,
    /// The longest run of consecutive tests below 50 % of plan.
    pub longest_run_below_50: usize,
}

/// Summarises speeds (in time order) against the plan's maximum.
pub fn summarise(samples: &[SpeedSample], plan_max_bps: Option<f64>) -> SpeedSummary {
    let mut v: Vec<f64> = samples
        .iter()
        .map(|s| s.bps)
        .filter(|x| x.is_finite())
        .collect();
    let tests = v.len();
    if tests == 0 {
        return SpeedSummary::default();
    }
    let in_order = v.clone();
    v.sort_by(f64::total_cmp);
    let share = |pred: &dyn Fn(f64) -> bool| {
        plan_max_bps
            .filter(|p| *p > 0.0)
            .map(|_| v.iter().filter(|x| pred(**x)).count() as f64 / tests as f64)
    };
    let plan = plan_max_bps.unwrap_or(0.0);
    let mut longest = 0;
    let mut run = 0;
    if plan > 0.0 {
        for x in &in_order {
            if *x < 0.5 * plan {
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
    }
    SpeedSummary {
        tests,
        mean: Some(v.iter().sum::<f64>() / tests as f64),
        median: Some(type7(&v, 0.5)),
        p5: Some(type7(&v, 0.05)),
        p10: Some(type7(&v, 0.10)),
        p95: Some(type7(&v, 0.95)),
        min: v.first().copied(),
        max: v.last().copied(),
        share_at_least_90: share(&|x| x >= 0.9 * plan),
        share_at_least_80: share(&|x| x >= 0.8 * plan),
        share_below_50: share(&|x| x < 0.5 * plan),
        longest_run_below_50: longest,
    }
}

/// The speed reached in at least 80 % of peak-hour tests (their P20), as a share of the plan.
pub fn eighty_eighty(samples: &[SpeedSample], peak: PeakHours, plan_max_bps: f64) -> Option<f64> {
    let mut v: Vec<f64> = samples
        .iter()
        .filter(|s| peak.contains(s.local_hour) && s.bps.is_finite())
        .map(|s| s.bps)
        .collect();
    if v.is_empty() || plan_max_bps <= 0.0 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(type7(&v, 0.20) / plan_max_bps)
}

/// The three BNetzA-style tests; `None` where the plan lacks the speed a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BnetzaVerdicts {
    /// Measurement days.
    pub days: usize,
    /// 90 % of the maximum was not reached once on at least two thirds of the days.
    pub max_not_reached: Option<bool>,
    /// The normally available speed was reached in fewer than 90 % of tests.
    pub normal_not_reached: Option<bool>,
    /// The minimum was undercut on at least two thirds of the days.
    pub minimum_undercut: Option<bool>,
}

impl BnetzaVerdicts {
    /// Whether any test found a deviation.
    pub fn deviation(&self) -> bool {
        [
            self.max_not_reached,
            self.normal_not_reached,
            self.minimum_undercut,
        ]
        .into_iter()
        .any(|v| v == Some(true))
    }
}

/// Runs the BNetzA-style tests over the period's speeds.
pub fn bnetza(samples: &[SpeedSample], plan: &PlanSpeeds) -> BnetzaVerdicts {
    let mut days: Vec<i64> = samples.iter().map(|s| s.local_day).collect();
    days.sort_unstable();
    days.dedup();
    let n_days = days.len();
    if n_days == 0 {
        return BnetzaVerdicts::default();
    }
    // "On two of three days": on at least two thirds of the measurement days.
    let most_days = |count: usize| count * 3 >= n_days * 2;
    let per_day = |pred: &dyn Fn(f64) -> bool| {
        days.iter()
            .filter(|d| {
                samples
                    .iter()
                    .filter(|s| s.local_day == **d)
                    .any(|s| pred(s.bps))
            })
            .count()
    };
    BnetzaVerdicts {
        days: n_days,
        max_not_reached: plan.max_bps.filter(|m| *m > 0.0).map(|m| {
            let reached_days = per_day(&|x| x >= 0.9 * m);
            most_days(n_days - reached_days)
        }),
        normal_not_reached: plan.normal_bps.filter(|m| *m > 0.0).map(|m| {
            let reached = samples.iter().filter(|s| s.bps >= m).count();
            (reached as f64) < 0.9 * samples.len() as f64
        }),
        minimum_undercut: plan
            .min_bps
            .filter(|m| *m > 0.0)
            .map(|m| most_days(per_day(&|x| x < m))),
    }
}

/// The MBA peak-period packet-loss band of a loss percentage: 0 (< 0.4 %), 1 (0.4–1 %), 2
/// (> 1 %).
pub fn loss_band(loss_pct: f64) -> u8 {
    if loss_pct < 0.4 {
        0
    } else if loss_pct <= 1.0 {
        1
    } else {
        2
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // the examples have exact results
mod tests {
    use super::*;

    fn s(mbps: f64, day: i64, hour: u8) -> SpeedSample {
        SpeedSample {
            bps: mbps * 1e6,
            local_day: day,
            local_hour: hour,
        }
    }

    #[test]
    fn summary_uses_type7_and_plan_shares() {
        let v: Vec<_> = (1..=10).map(|i| s(f64::from(i) * 10.0, 0, 12)).collect();
        let sum = summarise(&v, Some(100e6));
        assert_eq!(sum.tests, 10);
        assert_eq!(sum.median, Some(55e6));
        // h = 9 × 0.05 = 0.45 → 10 + 0.45 × 10 = 14.5 Mbps.
        assert!((sum.p5.unwrap() - 14.5e6).abs() < 1.0);
        assert!((sum.p95.unwrap() - 95.5e6).abs() < 1.0);
        assert_eq!((sum.min, sum.max), (Some(10e6), Some(100e6)));
        assert_eq!(sum.share_at_least_90, Some(0.2));
        assert_eq!(sum.share_at_least_80, Some(0.3));
        assert_eq!(sum.share_below_50, Some(0.4));
        assert_eq!(sum.longest_run_below_50, 4);
        assert_eq!(summarise(&[], Some(1.0)), SpeedSummary::default());
        assert_eq!(summarise(&v, None).share_below_50, None);
    }

    #[test]
    fn eighty_eighty_takes_peak_tests_only() {
        let mut v: Vec<_> = (1..=6).map(|i| s(f64::from(i) * 10.0, 0, 20)).collect();
        v.push(s(1.0, 0, 3)); // off-peak, ignored
        // Peak: 10..60 → P20: h = 5 × 0.2 = 1 → 20 Mbps, 20 % of a 100 Mbps plan.
        assert_eq!(eighty_eighty(&v, PeakHours::default(), 100e6), Some(0.2));
        assert!(PeakHours { from: 22, to: 2 }.contains(1));
        assert!(!PeakHours::default().contains(23));
    }

    #[test]
    fn bnetza_tests_over_three_days() {
        let plan = PlanSpeeds {
            max_bps: Some(100e6),
            normal_bps: Some(80e6),
            min_bps: Some(50e6),
        };
        // Day 0 reaches 90 % once; days 1 and 2 never: a deviation on the maximum.
        let v = vec![
            s(95.0, 0, 10),
            s(85.0, 0, 11),
            s(85.0, 1, 10),
            s(40.0, 1, 11),
            s(85.0, 2, 10),
            s(85.0, 2, 11),
        ];
        let b = bnetza(&v, &plan);
        assert_eq!(b.days, 3);
        assert_eq!(b.max_not_reached, Some(true));
        // Normal (80) reached in 5 of 6 tests: 83 % < 90 %.
        assert_eq!(b.normal_not_reached, Some(true));
        // Minimum undercut on one day of three: not a deviation.
        assert_eq!(b.minimum_undercut, Some(false));
        assert!(b.deviation());
        let fine = vec![s(95.0, 0, 10), s(95.0, 1, 10), s(95.0, 2, 10)];
        assert!(!bnetza(&fine, &plan).deviation());
        let no_plan = bnetza(&fine, &PlanSpeeds::default());
        assert_eq!(no_plan.max_not_reached, None);
    }

    #[test]
    fn loss_bands() {
        assert_eq!(loss_band(0.39), 0);
        assert_eq!(loss_band(0.4), 1);
        assert_eq!(loss_band(1.0), 1);
        assert_eq!(loss_band(1.01), 2);
    }
}
