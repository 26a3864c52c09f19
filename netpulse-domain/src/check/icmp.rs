//! ICMP echo statistics and how an echo series is judged: ok iff at least one reply came back;
//! loss at or above the warning and a median above the RTT warning flag an ok result degraded.

use super::{FailureClass, Outcome};

/// The statistics of one series of echoes.
#[derive(Debug, Clone, PartialEq)]
pub struct EchoStats {
    /// Echoes sent.
    pub sent: u32,
    /// Replies received in time.
    pub received: u32,
    /// `100·(sent−received)/sent`.
    pub loss_pct: f64,
    /// Smallest RTT, ms.
    pub min_ms: Option<f64>,
    /// Median RTT (the mean of the two middle ones for an even count), ms.
    pub median_ms: Option<f64>,
    /// Mean RTT, ms.
    pub mean_ms: Option<f64>,
    /// Largest RTT, ms.
    pub max_ms: Option<f64>,
    /// Sample standard deviation (Welford; needs two replies), ms.
    pub stdev_ms: Option<f64>,
    /// Mean |rtt_i − rtt_(i−1)| over consecutive replies in sequence order (mtr's Javg), ms.
    pub jitter_ms: Option<f64>,
}

impl EchoStats {
    /// The statistics of `sent` echoes whose replies took `rtts_ms` (in sequence order; lost
    /// echoes left out). More replies than echoes are capped at `sent`.
    pub fn from_rtts(sent: u32, rtts_ms: &[f64]) -> Self {
        let rtts: Vec<f64> = rtts_ms
            .iter()
            .copied()
            .filter(|r| r.is_finite() && *r >= 0.0)
            .take(sent as usize)
            .collect();
        let received = rtts.len() as u32;
        let loss_pct = if sent == 0 {
            100.0
        } else {
            100.0 * f64::from(sent - received) / f64::from(sent)
        };
        if rtts.is_empty() {
            return Self {
                sent,
                received,
                loss_pct,
                min_ms: None,
                median_ms: None,
                mean_ms: None,
                max_ms: None,
                stdev_ms: None,
                jitter_ms: None,
            };
        }
        // Welford's online mean and variance.
        let (mut mean, mut m2) = (0.0_f64, 0.0_f64);
        for (i, &x) in rtts.iter().enumerate() {
            let delta = x - mean;
            mean += delta / (i + 1) as f64;
            m2 += delta * (x - mean);
        }
        let n = rtts.len();
        let stdev_ms = (n >= 2).then(|| (m2 / (n - 1) as f64).sqrt());
        let jitter_ms = (n >= 2)
            .then(|| rtts.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (n - 1) as f64);
        let mut sorted = rtts.clone();
        sorted.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            f64::midpoint(sorted[n / 2 - 1], sorted[n / 2])
        };
        Self {
            sent,
            received,
            loss_pct,
            min_ms: Some(sorted[0]),
            median_ms: Some(median),
            mean_ms: Some(mean),
            max_ms: Some(sorted[n - 1]),
            stdev_ms,
            jitter_ms,
        }
    }

    /// How the series is judged: `(outcome, failure class, degraded)`. Ok iff at least one
    /// reply; degraded when ok and the loss is at least `loss_warn_pct` or the median is above
    /// `rtt_warn_ms`. All lost is `fail/timeout`.
    pub fn judge(
        &self,
        loss_warn_pct: f64,
        rtt_warn_ms: Option<f64>,
    ) -> (Outcome, Option<FailureClass>, bool) {
        if self.received == 0 {
            return (Outcome::Fail, Some(FailureClass::Timeout), false);
        }
        let lossy = self.loss_pct >= loss_warn_pct && self.loss_pct > 0.0;
        let slow = matches!((self.median_ms, rtt_warn_ms), (Some(m), Some(w)) if m > w);
        (Outcome::Ok, None, lossy || slow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("a value");
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn statistics_of_a_series_with_loss() {
        let s = EchoStats::from_rtts(5, &[10.0, 14.0, 12.0, 20.0]);
        assert_eq!((s.sent, s.received), (5, 4));
        close(Some(s.loss_pct), 20.0);
        close(s.min_ms, 10.0);
        close(s.max_ms, 20.0);
        close(s.median_ms, 13.0); // (12 + 14) / 2
        close(s.mean_ms, 14.0);
        // Sample variance: (16 + 0 + 4 + 36) / 3.
        close(s.stdev_ms, (56.0_f64 / 3.0).sqrt());
        // |14−10| + |12−14| + |20−12| = 14 over 3 steps.
        close(s.jitter_ms, 14.0 / 3.0);
        close(EchoStats::from_rtts(3, &[5.0, 1.0, 3.0]).median_ms, 3.0);
    }

    #[test]
    fn one_reply_has_no_spread_and_none_has_no_figures() {
        let s = EchoStats::from_rtts(5, &[7.5]);
        close(Some(s.loss_pct), 80.0);
        close(s.median_ms, 7.5);
        assert_eq!((s.stdev_ms, s.jitter_ms), (None, None));
        let s = EchoStats::from_rtts(5, &[]);
        close(Some(s.loss_pct), 100.0);
        assert_eq!(s.median_ms, None);
        let s = EchoStats::from_rtts(2, &[1.0, 2.0, 3.0]);
        assert_eq!(s.received, 2, "duplicates past `sent` are ignored");
    }

    #[test]
    fn ok_unless_every_echo_was_lost_and_warnings_degrade() {
        let lossy = EchoStats::from_rtts(5, &[10.0]);
        assert_eq!(lossy.judge(20.0, None), (Outcome::Ok, None, true));
        let clean = EchoStats::from_rtts(5, &[10.0; 5]);
        assert_eq!(clean.judge(20.0, None), (Outcome::Ok, None, false));
        assert_eq!(
            clean.judge(0.0, None),
            (Outcome::Ok, None, false),
            "0 % loss never warns"
        );
        assert_eq!(
            clean.judge(20.0, Some(10.0)),
            (Outcome::Ok, None, false),
            "at the limit"
        );
        assert_eq!(clean.judge(20.0, Some(9.9)), (Outcome::Ok, None, true));
        let one_lost = EchoStats::from_rtts(5, &[10.0; 4]);
        assert!(
            one_lost.judge(20.0, None).2,
            "20 % loss reaches a 20 % warning"
        );
        assert_eq!(
            EchoStats::from_rtts(5, &[]).judge(20.0, None),
            (Outcome::Fail, Some(FailureClass::Timeout), false)
        );
    }
}
