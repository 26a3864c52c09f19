//! Noticing that the host was suspended (wave2-specs §2.3, the self-connectivity guard, item 3).
//!
//! Two clocks are compared: one that keeps running while the host sleeps and one that stops
//! ([`SuspendClocks`]). On Linux these are `CLOCK_BOOTTIME` and `CLOCK_MONOTONIC`, which
//! differ by exactly the time spent suspended (an NTP step moves neither); elsewhere the wall
//! clock and [`std::time::Instant`]. When the first advanced more than
//! [`SUSPEND_THRESHOLD_MS`] beyond the second between two looks, the host slept in between: the
//! rounds that start within [`RESUME_GRACE_MS`] after that look (the network may not be back
//! yet) are flagged `afterResume`, and the server counts their failures as unknown. The
//! suspended time itself has no rounds at all, so it stays unknown too.
//!
//! The resume is only known to lie between two looks; the grace starts at the look that saw
//! it, so it always covers at least 30 s after the real resume. [`SuspendDetector::watch`]
//! looks every [`WATCH_EVERY`] so that the round loop learns of a resume at once.

use std::sync::Mutex;
use std::time::Duration;

/// A suspend shorter than this is not noticed (ms).
pub const SUSPEND_THRESHOLD_MS: i64 = 5_000;

/// How long after a resume failures are ignored (ms).
pub const RESUME_GRACE_MS: i64 = 30_000;

/// How often [`SuspendDetector::watch`] looks at the clocks.
pub const WATCH_EVERY: Duration = Duration::from_secs(2);

/// The two clocks a suspend shows between, in ms from any fixed origin; injectable so that tests
/// drive a suspend.
pub trait SuspendClocks: Send + Sync + std::fmt::Debug {
    /// A clock that keeps running while the host is suspended.
    fn running_ms(&self) -> i64;
    /// A clock that stops while the host is suspended.
    fn awake_ms(&self) -> i64;
}

/// The host's clocks: `CLOCK_BOOTTIME` and `CLOCK_MONOTONIC` on Linux, the wall clock and
/// [`std::time::Instant`] (from the first look) elsewhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemSuspendClocks;

#[cfg(target_os = "linux")]
fn clock_ms(id: rustix::time::ClockId) -> i64 {
    let t = rustix::time::clock_gettime(id);
    t.tv_sec.saturating_mul(1000) + t.tv_nsec / 1_000_000
}

impl SuspendClocks for SystemSuspendClocks {
    #[cfg(target_os = "linux")]
    fn running_ms(&self) -> i64 {
        clock_ms(rustix::time::ClockId::Boottime)
    }

    #[cfg(target_os = "linux")]
    fn awake_ms(&self) -> i64 {
        clock_ms(rustix::time::ClockId::Monotonic)
    }

    #[cfg(not(target_os = "linux"))]
    fn running_ms(&self) -> i64 {
        super::now().unix_millis()
    }

    #[cfg(not(target_os = "linux"))]
    fn awake_ms(&self) -> i64 {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let origin = ORIGIN.get_or_init(std::time::Instant::now);
        i64::try_from(origin.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

#[derive(Debug, Default)]
struct Seen {
    /// The clocks at the last look: `(running, awake)`.
    last: Option<(i64, i64)>,
    /// The running clock until which rounds are in the grace.
    grace_until: Option<i64>,
    /// Suspends noticed so far.
    suspends: u64,
}

/// Notices suspends and says whether a round is within the grace after one.
#[derive(Debug)]
pub struct SuspendDetector {
    clocks: Box<dyn SuspendClocks>,
    seen: Mutex<Seen>,
}

impl SuspendDetector {
    /// A detector over `clocks`; the first look is taken now.
    pub fn new(clocks: Box<dyn SuspendClocks>) -> Self {
        let d = Self {
            clocks,
            seen: Mutex::new(Seen::default()),
        };
        d.look();
        d
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Looks at the clocks; returns the number of suspends noticed so far.
    pub fn look(&self) -> u64 {
        let (running, awake) = (self.clocks.running_ms(), self.clocks.awake_ms());
        let mut seen = self.lock();
        if let Some((r0, a0)) = seen.last {
            let slept = (running - r0) - (awake - a0);
            if slept > SUSPEND_THRESHOLD_MS {
                seen.suspends += 1;
                seen.grace_until = Some(running + RESUME_GRACE_MS);
                tracing::info!(
                    slept_s = slept / 1000,
                    "the host was suspended: failures in the next 30 s are not counted"
                );
            }
        }
        seen.last = Some((running, awake));
        seen.suspends
    }

    /// Whether now is within the grace after a resume (looking at the clocks first).
    pub fn in_grace(&self) -> bool {
        self.look();
        let running = self.clocks.running_ms();
        self.lock().grace_until.is_some_and(|until| running < until)
    }

    /// Returns once a suspend is noticed, looking every [`WATCH_EVERY`] (the round loop
    /// waits on it beside its sleep, whose monotonic timer does not see the suspend).
    pub async fn watch(&self) {
        let before = self.look();
        loop {
            tokio::time::sleep(WATCH_EVERY).await;
            if self.look() != before {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    #[derive(Debug, Default)]
    struct Clocks {
        running: AtomicI64,
        awake: AtomicI64,
    }

    #[derive(Debug)]
    struct Shared(Arc<Clocks>);

    impl SuspendClocks for Shared {
        fn running_ms(&self) -> i64 {
            self.0.running.load(Ordering::SeqCst)
        }
        fn awake_ms(&self) -> i64 {
            self.0.awake.load(Ordering::SeqCst)
        }
    }

    impl Clocks {
        fn awake_for(&self, ms: i64) {
            self.running.fetch_add(ms, Ordering::SeqCst);
            self.awake.fetch_add(ms, Ordering::SeqCst);
        }
        fn asleep_for(&self, ms: i64) {
            self.running.fetch_add(ms, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_system_clocks_show_no_suspend_while_awake() {
        let c = SystemSuspendClocks;
        let (r0, a0) = (c.running_ms(), c.awake_ms());
        let d = SuspendDetector::new(Box::new(c));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!d.in_grace());
        let (r1, a1) = (c.running_ms(), c.awake_ms());
        assert!(r1 - r0 >= 50 && a1 - a0 >= 50, "{r0} {r1} {a0} {a1}");
        assert_eq!(d.look(), 0);
    }

    #[test]
    fn a_suspend_opens_a_30_s_grace_and_a_short_drift_does_not() {
        let clocks = Arc::new(Clocks::default());
        let d = SuspendDetector::new(Box::new(Shared(Arc::clone(&clocks))));
        clocks.awake_for(60_000);
        assert!(!d.in_grace());
        // Below the threshold: not a suspend.
        clocks.asleep_for(SUSPEND_THRESHOLD_MS);
        assert!(!d.in_grace());
        clocks.asleep_for(3_600_000);
        clocks.awake_for(1_000);
        assert!(d.in_grace());
        clocks.awake_for(RESUME_GRACE_MS - 1);
        assert!(d.in_grace());
        clocks.awake_for(1);
        assert!(!d.in_grace());
        assert_eq!(d.look(), 1);
    }
}
