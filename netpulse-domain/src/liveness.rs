//! Whether a probe's agent is alive: it polled within [`stale_after_seconds`] of now. The agent
//! health endpoint, the dashboard, the probes page and `/metrics` all use this one rule.

use crate::Timestamp;

/// Seconds of silence after which a probe counts as stale: three poll intervals, and never less
/// than three minutes.
pub fn stale_after_seconds(poll_interval_seconds: u32) -> i64 {
    i64::from(poll_interval_seconds.saturating_mul(3)).max(180)
}

/// Whether a probe whose last poll was `last_poll` is alive at `now` (never polled: not alive).
pub fn is_alive(last_poll: Option<Timestamp>, now: Timestamp, stale_after_seconds: i64) -> bool {
    last_poll.is_some_and(|t| now.seconds_since(t) <= stale_after_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_intervals_but_at_least_three_minutes() {
        assert_eq!(stale_after_seconds(60), 180);
        assert_eq!(stale_after_seconds(10), 180);
        assert_eq!(stale_after_seconds(300), 900);
        assert_eq!(stale_after_seconds(u32::MAX), i64::from(u32::MAX));
    }

    #[test]
    fn alive_up_to_the_limit_inclusive() {
        let now = Timestamp::from_unix_seconds(10_000);
        assert!(is_alive(Some(now.plus_seconds(-180)), now, 180));
        assert!(!is_alive(Some(now.plus_seconds(-181)), now, 180));
        assert!(!is_alive(None, now, 180));
    }
}
