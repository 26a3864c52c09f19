//! Outages: when the internet was down, for how long, and how badly (wave2-specs §2.3).
//!
//! The connectivity checks of one agent and one family, taken in one round, give that round a
//! [`RoundState`] ([`round`]). A run of failing rounds is an [`Episode`] ([`episode`]): it opens
//! at the first `down` or `partial` round, survives a single good round, and closes at the end
//! of the last failing round before [`OutageRules::success_threshold`] good rounds in a row.
//! Time without data is *unknown*, never up: a gap of at most [`OutageRules::max_gap_ms`]
//! between failures keeps an episode open (listed as unknown, not as downtime); a longer one
//! closes it at its last failing round with `end_uncertain`. The `all` family
//! ([`round::combine_families`]) is down when every configured family is. Availability is
//! always reported with its coverage ([`availability`]).
//!
//! Unlike PlexSheep's reader, an episode is never chopped into 6-minute pieces, families are
//! never mixed into one ratio, a host without IPv6 is not in permanent partial outage (a family
//! it has not had for 24 h is `local`), and one lost ping is not an outage (an ICMP check fails
//! only when every echo is lost).
//!
//! Rounds must be fed in time order; a round older than the newest one fed is *late*
//! ([`episode::EpisodeTracker::is_late`]), and the caller replays that agent and family from
//! before it ([`episode::replay`]), so the episodes are the same whatever order the rounds
//! arrived in.

pub mod availability;
pub mod day_grade;
pub mod episode;
pub mod round;
pub mod series;

pub use availability::Availability;
pub use episode::{Attribution, Episode, EpisodeTracker, Severity};
pub use round::{CheckVerdict, RoundCheck, RoundFacts, RoundState};
pub use series::{FamilyMemory, ResultFact, SeriesFamily, SeriesRound};

/// The rules an outage record follows (defaults from the specs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutageRules {
    /// The round period, ms (60 s).
    pub period_ms: i64,
    /// Good rounds in a row that close an episode (2).
    pub success_threshold: u32,
    /// The longest run without data between failures that keeps an episode open, ms (5 min).
    pub max_gap_ms: i64,
}

impl Default for OutageRules {
    fn default() -> Self {
        Self {
            period_ms: 60_000,
            success_threshold: 2,
            max_gap_ms: 5 * 60_000,
        }
    }
}

impl OutageRules {
    /// A series whose newest round is at or after this time cannot be silent at `now_ms`
    /// (`EpisodeTracker::close_if_silent` closes nothing there: it was heard within `max_gap`),
    /// so whoever looks for silent series need not load the others.
    pub const fn silent_before(&self, now_ms: i64) -> i64 {
        now_ms - self.max_gap_ms - self.period_ms
    }
}

/// The most failing checks an episode lists (the first ones seen).
pub const MAX_FAILING_CHECKS: usize = 32;

#[cfg(test)]
#[allow(clippy::float_cmp)] // the examples have exact results
#[path = "outage_tests.rs"]
mod tests;
