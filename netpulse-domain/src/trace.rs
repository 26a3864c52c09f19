//! Traceroute/MTR statistics per hop, as mtr defines them, in f64 milliseconds
//! (wave2-specs §3.1 and §3.3).
//!
//! - `Loss% = 100 − 100·received/(sent − in_flight)`: probes still in flight are not lost.
//! - Avg and StDev by Welford's update (`ssd += (x − avg_old)(x − avg_new)`,
//!   `StDev = sqrt(ssd/(received − 1))`), not trippy's underestimating `(x − avg_new)²`.
//! - Jitter of a reply is `|x − last|` (0 for the first); Javg is its running mean, Jmax its
//!   maximum, and Jint RFC 3550 A.8's interarrival estimator, unscaled: `J += (|D| − J)/16`.
//! - A hop whose loss exceeds the loss of a later hop is `rate_limited`: routers deprioritise
//!   generating ICMP; only the destination hop's loss is end-to-end loss.

/// One hop's running statistics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HopStats {
    /// Probes sent.
    pub sent: u32,
    /// Replies received.
    pub received: u32,
    /// Probes sent whose timeout has not passed yet.
    pub in_flight: u32,
    /// The newest RTT, ms.
    pub last: Option<f64>,
    /// The smallest RTT, ms.
    pub best: Option<f64>,
    /// The largest RTT, ms.
    pub worst: Option<f64>,
    /// The mean RTT, ms.
    pub avg: f64,
    ssd: f64,
    /// The mean jitter, ms.
    pub javg: f64,
    /// The largest jitter, ms.
    pub jmax: f64,
    /// The interarrival jitter estimate, ms (RFC 3550 A.8, unscaled).
    pub jint: f64,
}

impl HopStats {
    /// Counts a probe sent (in flight until [`HopStats::reply`] or [`HopStats::timeout`]).
    pub fn sent(&mut self) {
        self.sent += 1;
        self.in_flight += 1;
    }

    /// A reply after `rtt_ms`.
    pub fn reply(&mut self, rtt_ms: f64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.received += 1;
        let jitter = self.last.map_or(0.0, |l| (rtt_ms - l).abs());
        self.last = Some(rtt_ms);
        self.best = Some(self.best.map_or(rtt_ms, |b| b.min(rtt_ms)));
        self.worst = Some(self.worst.map_or(rtt_ms, |w| w.max(rtt_ms)));
        let n = f64::from(self.received);
        let old = self.avg;
        self.avg += (rtt_ms - old) / n;
        self.ssd += (rtt_ms - old) * (rtt_ms - self.avg);
        self.javg += (jitter - self.javg) / n;
        self.jmax = self.jmax.max(jitter);
        self.jint += (jitter - self.jint) / 16.0;
    }

    /// A probe whose timeout passed without a reply.
    pub fn timeout(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Loss %, without the probes in flight; `None` before any probe settled.
    pub fn loss_pct(&self) -> Option<f64> {
        let settled = self.sent.saturating_sub(self.in_flight);
        (settled > 0).then(|| 100.0 - 100.0 * f64::from(self.received) / f64::from(settled))
    }

    /// The sample standard deviation of the RTTs; `None` below two replies.
    pub fn stdev(&self) -> Option<f64> {
        (self.received > 1).then(|| (self.ssd / f64::from(self.received - 1)).max(0.0).sqrt())
    }

    /// The mean RTT; `None` without replies.
    pub fn mean(&self) -> Option<f64> {
        (self.received > 0).then_some(self.avg)
    }
}

/// For each hop (by TTL order), whether its loss exceeds the loss of some later hop — the sign
/// of ICMP rate limiting, not of packet loss.
pub fn rate_limited(hops: &[HopStats]) -> Vec<bool> {
    let mut out = vec![false; hops.len()];
    let mut min_later: Option<f64> = None;
    for (i, h) in hops.iter().enumerate().rev() {
        if let (Some(loss), Some(later)) = (h.loss_pct(), min_later) {
            out[i] = loss > later;
        }
        if let Some(loss) = h.loss_pct() {
            min_later = Some(min_later.map_or(loss, |m| m.min(loss)));
        }
    }
    out
}

/// Where a path breaks: the last TTL (1-based) that answered when the destination did not;
/// `None` when the destination was reached or nothing answered.
pub fn break_hop(responded: &[bool], destination_reached: bool) -> Option<usize> {
    if destination_reached {
        return None;
    }
    responded.iter().rposition(|r| *r).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_stdev_matches_two_pass() {
        // trippy's update gives 13.71 here; the true sample stdev is 15.30.
        let rtts = [10.0, 12.0, 30.0, 11.0, 10.0, 50.0, 12.0];
        let mut h = HopStats::default();
        for r in rtts {
            h.sent();
            h.reply(r);
        }
        let mean = rtts.iter().sum::<f64>() / 7.0;
        let two_pass = (rtts.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 6.0).sqrt();
        assert!((h.stdev().unwrap() - two_pass).abs() < 1e-9);
        assert!((two_pass - 15.30).abs() < 0.01);
        assert!((h.mean().unwrap() - mean).abs() < 1e-9);
        assert_eq!(
            (h.best, h.worst, h.last),
            (Some(10.0), Some(50.0), Some(12.0))
        );
        // Jitters: 0,2,18,19,1,40,38 → mean 118/7, max 40.
        assert!((h.javg - 118.0 / 7.0).abs() < 1e-9);
        assert!((h.jmax - 40.0).abs() < 1e-12);
    }

    #[test]
    fn loss_leaves_out_probes_in_flight() {
        let mut h = HopStats::default();
        for _ in 0..10 {
            h.sent();
        }
        for _ in 0..6 {
            h.reply(5.0);
        }
        h.timeout();
        h.timeout();
        // 2 still in flight: 6 of 8 settled came back.
        assert_eq!(h.loss_pct(), Some(25.0));
        assert_eq!(HopStats::default().loss_pct(), None);
    }

    #[test]
    fn loss_that_does_not_persist_is_rate_limiting() {
        let hop = |sent: u32, received: u32| {
            let mut h = HopStats::default();
            for _ in 0..sent {
                h.sent();
            }
            for _ in 0..received {
                h.reply(1.0);
            }
            for _ in received..sent {
                h.timeout();
            }
            h
        };
        let hops = [hop(20, 7), hop(20, 7), hop(20, 20)];
        assert_eq!(rate_limited(&hops), vec![true, true, false]);
        let hops = [hop(20, 20), hop(20, 10), hop(20, 10)];
        assert_eq!(rate_limited(&hops), vec![false, false, false]);
        assert_eq!(break_hop(&[true, true, false, false], false), Some(2));
        assert_eq!(break_hop(&[true, true, true], true), None);
        assert_eq!(break_hop(&[false, false], false), None);
    }
}
