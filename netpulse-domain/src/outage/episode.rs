//! Episodes: runs of failing rounds, opened, kept and closed in O(1) per round
//! (wave2-specs §2.3, "Episode").

use std::cmp::Ordering;

use super::round::{RoundFacts, RoundState};
use super::{MAX_FAILING_CHECKS, OutageRules};

/// How bad an episode was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Severity {
    /// Every round of it was down.
    Complete,
    /// Some rounds were partial: the share of failed checks over all its failing rounds
    /// (Σk / Σn, 0–1), PlexSheep's formula per family.
    Partial(f64),
}

impl Severity {
    /// `Complete` or `Partial (37.50 %)`, as PlexSheep prints it.
    pub fn label(self) -> String {
        match self {
            Self::Complete => "Complete".to_owned(),
            Self::Partial(r) => format!("Partial ({:.2} %)", r * 100.0),
        }
    }
}

/// What the episode is blamed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// The agent's host lost its route or address (in at least half of the failing rounds).
    Link,
    /// The default-gateway check failed in at least half of the failing rounds.
    Lan,
    /// Neither: beyond the local network.
    Isp,
}

impl Attribution {
    /// `link`, `lan` or `isp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Lan => "lan",
            Self::Isp => "isp",
        }
    }
}

/// One outage episode of one agent and family.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Episode {
    /// The first failing round's time, ms.
    pub started_at_ms: i64,
    /// The end of the last failing round, ms (while open: so far).
    pub last_failure_end_ms: i64,
    /// Whether it has closed.
    pub closed: bool,
    /// Closed by a gap longer than `max_gap`: the real end is not known.
    pub end_uncertain: bool,
    /// Rounds down.
    pub rounds_down: u32,
    /// Rounds partial.
    pub rounds_partial: u32,
    /// Rounds without data between failures (listed as unknown, not as downtime).
    pub rounds_unknown: u32,
    /// Σ failed checks over the failing rounds.
    pub failed_checks: u64,
    /// Σ counted checks over the failing rounds.
    pub counted_checks: u64,
    /// Σ (k/n) · period over the failing rounds, ms.
    pub impact_ms: f64,
    /// Failing rounds in which the host lost its route.
    pub rounds_link: u32,
    /// Failing rounds in which the gateway check ran, and in which it failed.
    pub rounds_gateway_known: u32,
    /// Failing rounds in which the gateway check failed.
    pub rounds_gateway_failed: u32,
    /// The failing checks and the first failure class seen for each (at most
    /// [`MAX_FAILING_CHECKS`]).
    pub failing_checks: Vec<(String, Option<String>)>,
    /// The round whose arrival closed it, ms (0 while open): a round at or after it that
    /// arrives late means the episode must be replayed.
    pub closed_by_round_ms: i64,
}

impl Episode {
    /// The end, ms: `None` while open.
    pub fn ended_at_ms(&self) -> Option<i64> {
        self.closed.then_some(self.last_failure_end_ms)
    }

    /// From the start to the end of the last failing round, ms.
    pub fn duration_ms(&self) -> i64 {
        self.last_failure_end_ms - self.started_at_ms
    }

    /// Time in down rounds, ms.
    pub fn complete_ms(&self, rules: &OutageRules) -> i64 {
        i64::from(self.rounds_down) * rules.period_ms
    }

    /// Time in partial rounds, ms.
    pub fn partial_ms(&self, rules: &OutageRules) -> i64 {
        i64::from(self.rounds_partial) * rules.period_ms
    }

    /// `Complete` when no round was partial, else `Partial(Σk/Σn)`.
    pub fn severity(&self) -> Severity {
        if self.rounds_partial == 0 || self.counted_checks == 0 {
            Severity::Complete
        } else {
            Severity::Partial(self.failed_checks as f64 / self.counted_checks as f64)
        }
    }

    /// `link` when the host lost its route in at least half of the failing rounds, `lan` when
    /// the gateway check failed in at least half of the rounds it ran, else `isp`.
    pub fn attribution(&self) -> Attribution {
        let failing = self.rounds_down + self.rounds_partial;
        if failing > 0 && self.rounds_link * 2 >= failing {
            Attribution::Link
        } else if self.rounds_gateway_known > 0
            && self.rounds_gateway_failed * 2 >= self.rounds_gateway_known
        {
            Attribution::Lan
        } else {
            Attribution::Isp
        }
    }

    /// "Most severe" order: complete before partial, then impact, then duration (most severe
    /// first; ties broken by the earlier start).
    pub fn cmp_severity(&self, other: &Self) -> Ordering {
        let complete = |e: &Self| matches!(e.severity(), Severity::Complete);
        complete(other)
            .cmp(&complete(self))
            .then(other.impact_ms.total_cmp(&self.impact_ms))
            .then(other.duration_ms().cmp(&self.duration_ms()))
            .then(self.started_at_ms.cmp(&other.started_at_ms))
    }

    fn add_failing_round(&mut self, facts: &RoundFacts, k: u32, n: u32, link: bool, period: i64) {
        if k == n {
            self.rounds_down += 1;
        } else {
            self.rounds_partial += 1;
        }
        self.failed_checks += u64::from(k);
        self.counted_checks += u64::from(n);
        self.impact_ms += f64::from(k) / f64::from(n) * period as f64;
        self.rounds_link += u32::from(link);
        if let Some(failed) = facts.gateway_failed {
            self.rounds_gateway_known += 1;
            self.rounds_gateway_failed += u32::from(failed);
        }
        for c in &facts.checks {
            let failed = matches!(c.verdict, super::CheckVerdict::Failed { .. });
            if failed
                && self.failing_checks.len() < MAX_FAILING_CHECKS
                && !self.failing_checks.iter().any(|(id, _)| *id == c.check)
            {
                self.failing_checks
                    .push((c.check.clone(), c.failure_class.clone()));
            }
        }
        self.last_failure_end_ms = facts.round_at_ms + period;
    }
}

/// The running state of one agent and family: what the `outage_state` row stores.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EpisodeTracker {
    /// The newest round fed, ms (`None` before the first).
    pub last_round_at_ms: Option<i64>,
    /// The episode in progress, if any.
    pub open: Option<Episode>,
    /// Good rounds in a row since the open episode's last failing round.
    pub good_rounds: u32,
    /// Rounds without data since the open episode's last failing round.
    pub gap_rounds: u32,
}

impl EpisodeTracker {
    /// Whether a round at `round_at_ms` is late: not newer than the newest round fed. A late
    /// round must not be fed; replay the agent and family from before it instead.
    pub fn is_late(&self, round_at_ms: i64) -> bool {
        self.last_round_at_ms
            .is_some_and(|last| round_at_ms <= last)
    }

    /// Feeds the next round (newer than every round fed so far); returns the episode it
    /// closed, if any. Missing rounds between the previous one and this one count as unknown.
    pub fn feed(&mut self, rules: &OutageRules, facts: &RoundFacts) -> Option<Episode> {
        self.feed_state(rules, facts, RoundState::of(facts))
    }

    /// Feeds the next round with its state already decided (the `all` family combines the
    /// states of each family: [`super::round::combine_families`]); `facts` give the round time,
    /// the failing checks and the gateway check.
    pub fn feed_state(
        &mut self,
        rules: &OutageRules,
        facts: &RoundFacts,
        state: RoundState,
    ) -> Option<Episode> {
        let mut closed = self.step(rules, facts, state);
        if let Some(ep) = &mut closed {
            ep.closed_by_round_ms = facts.round_at_ms;
        }
        closed
    }

    fn step(
        &mut self,
        rules: &OutageRules,
        facts: &RoundFacts,
        state: RoundState,
    ) -> Option<Episode> {
        let mut closed = None;
        let missing = self.last_round_at_ms.map_or(0, |last| {
            let steps = (facts.round_at_ms - last) / rules.period_ms.max(1);
            u32::try_from((steps - 1).max(0)).unwrap_or(u32::MAX)
        });
        self.last_round_at_ms = Some(facts.round_at_ms);
        if self.open.is_some() {
            self.gap_rounds = self.gap_rounds.saturating_add(missing);
            // A gap longer than max_gap closes the episode at its last failing round.
            if let Some(ep) = &self.open {
                let gap_end = match state {
                    RoundState::Maintenance | RoundState::Unknown | RoundState::Local => {
                        facts.round_at_ms + rules.period_ms
                    }
                    _ => facts.round_at_ms,
                };
                let silent = gap_end
                    - ep.last_failure_end_ms
                    - i64::from(self.good_rounds) * rules.period_ms;
                if self.gap_rounds > 0 && silent > rules.max_gap_ms {
                    closed = self.close(true);
                }
            }
        }
        match state {
            RoundState::Down { n, link } => self.fail(rules, facts, n, n, link),
            RoundState::Partial { k, n, link } => self.fail(rules, facts, k, n, link),
            RoundState::Up | RoundState::Target => {
                if self.open.is_some() {
                    self.good_rounds += 1;
                    if self.good_rounds >= rules.success_threshold {
                        closed = closed.or(self.close(false));
                    }
                }
            }
            RoundState::Maintenance | RoundState::Unknown | RoundState::Local => {
                if self.open.is_some() {
                    self.gap_rounds = self.gap_rounds.saturating_add(1);
                }
            }
        }
        closed
    }

    /// Closes the open episode when nothing was heard for longer than `max_gap` after its last
    /// failing round (call it with the current time); returns the closed episode.
    pub fn close_if_silent(&mut self, rules: &OutageRules, now_ms: i64) -> Option<Episode> {
        let ep = self.open.as_ref()?;
        let last_heard = self
            .last_round_at_ms
            .map_or(ep.last_failure_end_ms, |r| r + rules.period_ms);
        let mut closed = (now_ms - last_heard.max(ep.last_failure_end_ms) > rules.max_gap_ms)
            .then(|| self.close(true))
            .flatten();
        if let Some(ep) = &mut closed {
            ep.closed_by_round_ms = now_ms;
        }
        closed
    }

    fn fail(&mut self, rules: &OutageRules, facts: &RoundFacts, k: u32, n: u32, link: bool) {
        let ep = self.open.get_or_insert_with(|| Episode {
            started_at_ms: facts.round_at_ms,
            ..Episode::default()
        });
        ep.rounds_unknown = ep.rounds_unknown.saturating_add(self.gap_rounds);
        ep.add_failing_round(facts, k, n, link, rules.period_ms);
        self.good_rounds = 0;
        self.gap_rounds = 0;
    }

    fn close(&mut self, uncertain: bool) -> Option<Episode> {
        let mut ep = self.open.take()?;
        ep.closed = true;
        ep.end_uncertain = uncertain;
        self.good_rounds = 0;
        self.gap_rounds = 0;
        Some(ep)
    }
}

/// Replays rounds (any order; duplicates of a round time keep the first) into episodes: the
/// closed ones in time order, and the tracker with the one still open. Feeding the same rounds
/// one by one in time order gives the same answer.
pub fn replay(rules: &OutageRules, rounds: &[RoundFacts]) -> (Vec<Episode>, EpisodeTracker) {
    let mut sorted: Vec<&RoundFacts> = rounds.iter().collect();
    sorted.sort_by_key(|r| r.round_at_ms);
    sorted.dedup_by_key(|r| r.round_at_ms);
    let mut tracker = EpisodeTracker::default();
    let mut closed = Vec::new();
    for r in sorted {
        closed.extend(tracker.feed(rules, r));
    }
    (closed, tracker)
}
