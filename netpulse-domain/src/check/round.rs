//! Rounds: when an agent runs its checks. Every agent runs a round every `period` seconds at
//! a fixed offset derived from its id (`crc32(agent_id) mod period`, in milliseconds), so that
//! agents are spread over the period instead of all firing at :00. Every result of a round
//! carries the round's scheduled time ([`round_at`]), not the moment its check ran.

use crate::Timestamp;
use crate::crc32::crc32_ieee;

/// The default round period, seconds.
pub const DEFAULT_PERIOD_S: u32 = 60;
/// How far into a round the checks' starts are spread, milliseconds.
pub const STAGGER_MS: u64 = 2000;

fn period_ms(period_s: u32) -> i64 {
    i64::from(period_s.max(1)) * 1000
}

/// The agent's offset into each period, milliseconds: `crc32(agent_id) mod period`.
pub fn offset_ms(agent_id: &str, period_s: u32) -> i64 {
    i64::from(crc32_ieee(agent_id.as_bytes())) % period_ms(period_s)
}

/// The scheduled time of the round running at `now`: the latest `k·period + offset` at or
/// before `now`.
pub fn round_at(now: Timestamp, period_s: u32, offset_ms: i64) -> Timestamp {
    let p = period_ms(period_s);
    let offset = offset_ms.rem_euclid(p);
    let k = (now.unix_millis() - offset).div_euclid(p);
    Timestamp::from_unix_millis(k * p + offset)
}

/// The scheduled time of the first round strictly after `now`.
pub fn next_round_after(now: Timestamp, period_s: u32, offset_ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(
        round_at(now, period_s, offset_ms).unix_millis() + period_ms(period_s),
    )
}

/// Whether a check with interval `interval_s` runs in the round scheduled at `round_at`: every
/// round when its interval is at most the period, otherwise every `round(interval/period)`-th
/// round (counted from the epoch, so every agent agrees which).
pub fn runs_in_round(interval_s: u32, period_s: u32, round_at: Timestamp) -> bool {
    let period = period_s.max(1);
    let every = i64::from(((interval_s + period / 2) / period).max(1));
    round_at
        .unix_millis()
        .div_euclid(period_ms(period))
        .rem_euclid(every)
        == 0
}

/// When check `index` of `count` starts after the round began, milliseconds: spread evenly
/// over [`STAGGER_MS`] (the first at once).
pub fn stagger_ms(index: usize, count: usize) -> u64 {
    if count == 0 {
        return 0;
    }
    (index.min(count) as u64) * STAGGER_MS / count as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str = "22222222-2222-4222-8222-222222222222";

    #[test]
    fn the_offset_is_the_crc32_of_the_agent_id_mod_the_period() {
        // crc32 of AGENT is 766_654_905 (see crc32.rs).
        assert_eq!(offset_ms(AGENT, 60), 766_654_905 % 60_000);
        assert_eq!(offset_ms(AGENT, 60), 34_905);
        assert!(offset_ms("other", 60) != offset_ms(AGENT, 60));
        assert_eq!(
            offset_ms(AGENT, 0),
            766_654_905 % 1000,
            "period 0 reads as 1 s"
        );
    }

    #[test]
    fn rounds_fall_at_the_offset_of_each_period() {
        let offset = 34_905;
        let base = 1_780_747_200_000; // a whole minute
        let at = |ms: i64| round_at(Timestamp::from_unix_millis(ms), 60, offset).unix_millis();
        assert_eq!(at(base + offset), base + offset, "exactly on the round");
        assert_eq!(at(base + offset + 59_999), base + offset);
        assert_eq!(
            at(base + offset - 1),
            base + offset - 60_000,
            "just before it"
        );
        assert_eq!(at(base), base + offset - 60_000);
        let next = next_round_after(Timestamp::from_unix_millis(base + offset), 60, offset);
        assert_eq!(next.unix_millis(), base + offset + 60_000, "strictly after");
        let next = next_round_after(Timestamp::from_unix_millis(base), 60, offset);
        assert_eq!(next.unix_millis(), base + offset);
    }

    #[test]
    fn long_intervals_run_in_every_nth_round() {
        let round = |k: i64| Timestamp::from_unix_millis(k * 60_000 + 1234);
        assert!((0..5).all(|k| runs_in_round(60, 60, round(k))));
        assert!(
            (0..5).all(|k| runs_in_round(10, 60, round(k))),
            "shorter: every round"
        );
        let runs: Vec<bool> = (0..6).map(|k| runs_in_round(180, 60, round(k))).collect();
        assert_eq!(runs, [true, false, false, true, false, false]);
    }

    #[test]
    fn starts_are_spread_over_two_seconds() {
        assert_eq!(stagger_ms(0, 8), 0);
        assert_eq!(stagger_ms(4, 8), 1000);
        assert_eq!(stagger_ms(7, 8), 1750);
        assert_eq!(stagger_ms(0, 0), 0);
    }
}
