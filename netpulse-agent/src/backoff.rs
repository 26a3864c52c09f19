//! Exponential back-off with jitter after failed cycles: the nominal delay doubles with each
//! consecutive failure (1 s, 2 s, 4 s … by default) up to a cap (the poll interval), and the
//! actual delay is drawn uniformly from the upper half of it ("equal jitter"), so that many
//! agents do not hammer a server that has just come back all at the same instant.

use std::time::Duration;

/// Consecutive-failure counter that yields the next delay.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    /// A back-off starting at `base`, never above `cap` (a cap below `base` is raised to it).
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap: cap.max(base),
            failures: 0,
        }
    }

    /// How many failures in a row have been recorded.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Forgets the failures (after a successful cycle).
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// The nominal delay after the failures recorded so far (zero before the first one).
    pub fn ceiling(&self) -> Duration {
        if self.failures == 0 {
            return Duration::ZERO;
        }
        let factor = 1_u32 << (self.failures - 1).min(20);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Records a failure and returns how long to wait before trying again: a random delay
    /// between half the nominal delay and the nominal delay.
    pub fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.ceiling();
        let half = ceiling / 2;
        let spread = u64::try_from(ceiling.saturating_sub(half).as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(random_u64() % spread.saturating_add(1))
    }
}

/// A random number from the operating system's generator (via a version 4 UUID, which the
/// agent already depends on for ids).
fn random_u64() -> u64 {
    let bits = uuid::Uuid::new_v4().as_u128();
    (bits as u64) ^ ((bits >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let mut ceilings = Vec::new();
        for _ in 0..6 {
            let delay = b.next_delay();
            let ceiling = b.ceiling();
            assert!(
                delay <= ceiling && delay >= ceiling / 2,
                "{delay:?} {ceiling:?}"
            );
            ceilings.push(ceiling.as_secs());
        }
        assert_eq!(ceilings, [1, 2, 4, 8, 10, 10]);
        assert_eq!(b.failures(), 6);
        b.reset();
        assert_eq!(b.ceiling(), Duration::ZERO);
        b.next_delay();
        assert_eq!(b.ceiling(), Duration::from_secs(1));
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let mut b = Backoff::new(Duration::from_secs(8), Duration::from_mins(1));
            seen.insert(b.next_delay());
        }
        assert!(seen.len() > 10, "{} distinct delays", seen.len());
    }

    #[test]
    fn many_failures_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_mins(1));
        for _ in 0..1000 {
            assert!(b.next_delay() <= Duration::from_mins(1));
        }
    }
}
