//! Sign-in throttling: failed sign-ins per key (an account or an address) are counted in a
//! window that starts at the first failure; reaching the limit locks the key for a while.

use crate::Timestamp;

/// How many failures lock a key, within which window, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    /// Failures that lock the key.
    pub limit: u32,
    /// The window the failures are counted in, seconds (it starts at the first failure).
    pub window_seconds: i64,
    /// How long the key stays locked, seconds.
    pub lock_seconds: i64,
}

/// The failure count of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures in the current window.
    pub failures: u32,
    /// When the window started (the first failure of it).
    pub window_start: Timestamp,
    /// Locked until then, if locked.
    pub locked_until: Option<Timestamp>,
}

impl ThrottleState {
    /// The state after one more failure at `at`: a window older than the rule's starts over;
    /// reaching the limit locks the key for the rule's lock time.
    #[must_use]
    pub fn after_failure(previous: Option<Self>, at: Timestamp, rule: ThrottleRule) -> Self {
        let fresh = Self {
            failures: 1,
            window_start: at,
            locked_until: None,
        };
        let mut next = match previous {
            Some(p) if at.seconds_since(p.window_start) < rule.window_seconds => Self {
                failures: p.failures.saturating_add(1),
                ..p
            },
            _ => fresh,
        };
        if next.failures >= rule.limit {
            next.locked_until = Some(at.plus_seconds(rule.lock_seconds));
        }
        next
    }

    /// Whether the key is locked at `now`.
    pub fn locked_at(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: ThrottleRule = ThrottleRule {
        limit: 3,
        window_seconds: 60,
        lock_seconds: 300,
    };

    fn t(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(seconds)
    }

    #[test]
    fn failures_lock_within_the_window_and_start_over_after_it() {
        let a = ThrottleState::after_failure(None, t(0), RULE);
        assert_eq!((a.failures, a.locked_until), (1, None));
        let b = ThrottleState::after_failure(Some(a), t(30), RULE);
        assert_eq!(b.failures, 2);
        assert!(!b.locked_at(t(30)));
        let c = ThrottleState::after_failure(Some(b), t(59), RULE);
        assert_eq!(c.locked_until, Some(t(359)));
        assert!(c.locked_at(t(358)));
        assert!(!c.locked_at(t(359)));
        let d = ThrottleState::after_failure(Some(b), t(60), RULE);
        assert_eq!(
            (d.failures, d.window_start, d.locked_until),
            (1, t(60), None)
        );
    }

    #[test]
    fn the_window_keeps_its_start_while_failures_accumulate() {
        let a = ThrottleState::after_failure(None, t(100), RULE);
        let b = ThrottleState::after_failure(Some(a), t(150), RULE);
        assert_eq!(b.window_start, t(100));
        // 60 s after the window's start (not after the last failure) it starts over.
        let c = ThrottleState::after_failure(Some(b), t(160), RULE);
        assert_eq!((c.failures, c.window_start), (1, t(160)));
    }

    #[test]
    fn failures_past_the_limit_extend_the_lock_from_the_latest_one() {
        let mut s = None;
        for at in [0, 10, 20] {
            s = Some(ThrottleState::after_failure(s, t(at), RULE));
        }
        assert_eq!(s.unwrap().locked_until, Some(t(320)));
        let more = ThrottleState::after_failure(s, t(40), RULE);
        assert_eq!((more.failures, more.locked_until), (4, Some(t(340))));
    }

    #[test]
    fn a_limit_of_one_locks_on_the_first_failure() {
        let rule = ThrottleRule { limit: 1, ..RULE };
        let a = ThrottleState::after_failure(None, t(0), rule);
        assert!(a.locked_at(t(0)));
        assert!(a.locked_at(t(299)));
        assert!(!a.locked_at(t(300)));
    }

    #[test]
    fn an_unlocked_state_is_never_locked() {
        let a = ThrottleState::after_failure(None, t(0), RULE);
        assert!(!a.locked_at(t(0)));
        assert!(!a.locked_at(t(1_000_000)));
    }
}
