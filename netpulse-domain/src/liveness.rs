//! Whether a probe's agent is alive: it polled within [`stale_after_seconds`] of now. The agent
//! health endpoint, the dashboard, the probes page, the probe-offline alert and `/metrics` all
//! use this one rule, which is the agent-state rule of [`crate::agent_state`]
//! (wave2-specs §4 and §11.1: silent longer than max(120 s, 2 × poll interval + 30 s)).

use crate::Timestamp;

/// Seconds of silence after which a probe counts as stale (offline):
/// [`crate::agent_state::offline_after_seconds`], max(120 s, 2 × poll interval + 30 s).
pub fn stale_after_seconds(poll_interval_seconds: u32) -> i64 {
    crate::agent_state::offline_after_seconds(poll_interval_seconds)
}

/// Whether a probe whose last poll was `last_poll` is alive at `now` (never polled: not alive).
pub fn is_alive(last_poll: Option<Timestamp>, now: Timestamp, stale_after_seconds: i64) -> bool {
    last_poll.is_some_and(|t| now.seconds_since(t) <= stale_after_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_intervals_and_thirty_seconds_but_at_least_two_minutes() {
        assert_eq!(stale_after_seconds(60), 150);
        assert_eq!(stale_after_seconds(30), 120);
        assert_eq!(stale_after_seconds(10), 120);
        assert_eq!(stale_after_seconds(300), 630);
        assert_eq!(stale_after_seconds(u32::MAX), 2 * i64::from(u32::MAX) + 30);
    }

    #[test]
    fn alive_up_to_the_limit_inclusive() {
        let now = Timestamp::from_unix_seconds(10_000);
        assert!(is_alive(Some(now.plus_seconds(-180)), now, 180));
        assert!(!is_alive(Some(now.plus_seconds(-181)), now, 180));
        assert!(!is_alive(None, now, 180));
    }
}
