//! One outage series: an agent and a family (`v4`, `v6`, or `all`), fed from the stored
//! results of the agent's connectivity checks (wave2-specs §2.3).
//!
//! Results are grouped into rounds by their scheduled round time; each round of a series gets
//! its [`RoundFacts`] and [`RoundState`] ([`rounds`]). A series' episodes depend only on its
//! rounds in time order, so when rounds arrive late the series is replayed from
//! [`replay_from`]: before that point no episode was open, and a fresh [`EpisodeTracker`]
//! is exactly the series' state there.
//!
//! [`EpisodeTracker`]: super::EpisodeTracker

use std::fmt;

use super::round::{CheckVerdict, RoundCheck, RoundFacts, RoundState, combine_families};
use crate::check::{FailureClass, Family, Outcome};
use crate::error::InvalidValue;

/// The family of an outage series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeriesFamily {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
    /// Every configured family at once: down only when every one is.
    All,
}

impl SeriesFamily {
    /// Every series family, in display order.
    pub const ALL: [Self; 3] = [Self::V4, Self::V6, Self::All];

    /// `v4`, `v6` or `all`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V4 => "v4",
            Self::V6 => "v6",
            Self::All => "all",
        }
    }

    /// Reads `v4`, `v6` or `all`.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == text)
            .ok_or_else(|| InvalidValue::new("family", text, "must be one of v4, v6, all"))
    }

    /// The check family of a single-family series.
    pub const fn family(self) -> Option<Family> {
        match self {
            Self::V4 => Some(Family::V4),
            Self::V6 => Some(Family::V6),
            Self::All => None,
        }
    }

    fn covers(self, f: Family) -> bool {
        self.family().is_none_or(|own| own == f)
    }
}

impl From<Family> for SeriesFamily {
    fn from(f: Family) -> Self {
        match f {
            Family::V4 => Self::V4,
            Family::V6 => Self::V6,
        }
    }
}

impl fmt::Display for SeriesFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored result of a connectivity check, as far as outages are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultFact {
    /// The scheduled round time, ms.
    pub round_at_ms: i64,
    /// Its family.
    pub family: Family,
    /// The check's id.
    pub check: String,
    /// Who runs the target (the check's `provider` label, else its target).
    pub provider: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it was not ok.
    pub class: Option<FailureClass>,
    /// Whether it is the optional default-gateway check (labelled `gateway: true`): it is not
    /// one of the round's counted checks; its failure attributes an episode to the LAN.
    pub gateway: bool,
    /// Taken within the agent's grace after its host resumed from a suspend.
    pub after_resume: bool,
}

/// How long a family counts as configured on the host after its last ok result (24 h).
pub const FAMILY_MEMORY_MS: i64 = 86_400_000;

/// The last round in which each family had an ok result (what the 24 h rule needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FamilyMemory {
    /// The last round with an ok IPv4 result, ms.
    pub last_ok_v4: Option<i64>,
    /// The last round with an ok IPv6 result, ms.
    pub last_ok_v6: Option<i64>,
}

impl FamilyMemory {
    fn slot(&mut self, f: Family) -> &mut Option<i64> {
        match f {
            Family::V4 => &mut self.last_ok_v4,
            Family::V6 => &mut self.last_ok_v6,
        }
    }

    /// Whether the host had `family` within 24 h before `at_ms`.
    pub fn had(&self, family: Family, at_ms: i64) -> bool {
        let last = match family {
            Family::V4 => self.last_ok_v4,
            Family::V6 => self.last_ok_v6,
        };
        last.is_some_and(|t| t < at_ms && at_ms - t <= FAMILY_MEMORY_MS)
    }

    /// Notes an ok result of `family` in the round at `at_ms`.
    pub fn saw_ok(&mut self, family: Family, at_ms: i64) {
        let slot = self.slot(family);
        *slot = Some(slot.map_or(at_ms, |t| t.max(at_ms)));
    }
}

/// How one result counts for outages.
///
/// A missing route (`not_applicable` / `no_route`) on a family the host had within 24 h is a
/// failure of the host's link (an agent on the router loses its default route when the WAN
/// goes down); on a family it has not had, the family is not configured (`local`). Local errors
/// (no permission, sockets) say nothing about the network; other not-applicable results (a name
/// without an address of the family) are ignored.
pub fn verdict(outcome: Outcome, class: Option<FailureClass>, had_family: bool) -> CheckVerdict {
    match outcome {
        Outcome::Ok => CheckVerdict::Ok,
        Outcome::Fail => CheckVerdict::Failed { link: false },
        Outcome::LocalError => CheckVerdict::Local,
        Outcome::NotApplicable if class == Some(FailureClass::NoRoute) => {
            if had_family {
                CheckVerdict::Failed { link: true }
            } else {
                CheckVerdict::Local
            }
        }
        Outcome::NotApplicable => CheckVerdict::NotApplicable,
    }
}

/// What the gateway checks of a round say: `Some(true)` when one failed, `Some(false)` when
/// they ran and none failed, `None` when none ended ok or failed.
fn gateway_failed<'a>(results: impl Iterator<Item = &'a &'a ResultFact>) -> Option<bool> {
    results
        .filter(|r| r.gateway && matches!(r.outcome, Outcome::Ok | Outcome::Fail))
        .fold(None, |acc, r| {
            Some(acc.unwrap_or(false) || r.outcome == Outcome::Fail)
        })
}

/// A round of a series with its state.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRound {
    /// What is known about it (for `all`: the checks of every family).
    pub facts: RoundFacts,
    /// Its state.
    pub state: RoundState,
}

/// The rounds of `series` in `results` (any order), in time order, with their states.
///
/// `configured` are the families the agent's connectivity checks run over (`all` combines
/// them; a configured family without a result in a round is unknown in it), `memory` the last
/// ok round of each family before the first result (advanced as rounds go by), and
/// `maintenance` says whether a round time is in a maintenance window.
pub fn rounds(
    series: SeriesFamily,
    results: &[ResultFact],
    configured: &[Family],
    memory: &mut FamilyMemory,
    maintenance: &dyn Fn(i64) -> bool,
) -> Vec<SeriesRound> {
    let mut sorted: Vec<&ResultFact> = results.iter().collect();
    sorted.sort_by(|a, b| {
        (a.round_at_ms, a.family, &a.check).cmp(&(b.round_at_ms, b.family, &b.check))
    });
    let scope: Vec<Family> = match series.family() {
        Some(f) => vec![f],
        None => configured.to_vec(),
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let at = sorted[i].round_at_ms;
        let mut j = i;
        while j < sorted.len() && sorted[j].round_at_ms == at {
            j += 1;
        }
        let group = &sorted[i..j];
        i = j;
        if !group.iter().any(|r| series.covers(r.family)) {
            continue;
        }
        let in_maintenance = maintenance(at);
        let mut all = RoundFacts {
            round_at_ms: at,
            maintenance: in_maintenance,
            ..RoundFacts::default()
        };
        let mut states = Vec::with_capacity(scope.len());
        for f in &scope {
            let had = memory.had(*f, at);
            let checks: Vec<RoundCheck> = group
                .iter()
                .filter(|r| r.family == *f && !r.gateway)
                .map(|r| RoundCheck {
                    check: r.check.clone(),
                    provider: r.provider.clone(),
                    verdict: verdict(r.outcome, r.class, had),
                    failure_class: r.class.map(|c| c.as_str().to_owned()),
                })
                .collect();
            let gateway = gateway_failed(group.iter().filter(|r| r.family == *f));
            let after_resume = group.iter().any(|r| r.family == *f && r.after_resume);
            let facts = RoundFacts {
                round_at_ms: at,
                maintenance: in_maintenance,
                checks,
                gateway_failed: gateway,
                after_resume,
            };
            states.push(RoundState::of(&facts));
            all.gateway_failed = match (all.gateway_failed, gateway) {
                (Some(a), Some(b)) => Some(a || b),
                (a, b) => a.or(b),
            };
            all.after_resume |= after_resume;
            all.checks.extend(facts.checks);
        }
        for r in group.iter().filter(|r| r.outcome == Outcome::Ok) {
            memory.saw_ok(r.family, at);
        }
        let state = match series {
            SeriesFamily::All => combine_families(&states),
            _ => states.first().copied().unwrap_or(RoundState::Unknown),
        };
        out.push(SeriesRound { facts: all, state });
    }
    out
}

/// Where a series must be replayed from when rounds from `earliest_ms` on (re)arrived: the
/// start of the first episode not closed by a round before `earliest_ms` (still open, or
/// closed by a round at or after it), else `earliest_ms`. `episodes` are `(started_at,
/// closed_by_round)` with `None` while open.
pub fn replay_from(
    earliest_ms: i64,
    episodes: impl IntoIterator<Item = (i64, Option<i64>)>,
) -> i64 {
    episodes
        .into_iter()
        .filter(|(_, closed_by)| closed_by.is_none_or(|c| c >= earliest_ms))
        .map(|(started, _)| started)
        .fold(earliest_ms, i64::min)
}

/// Whether an agent is in maintenance at `at_ms`: it has at least one connection and every one
/// of them is in one of its maintenance windows (`[start, end)` ms) then. `windows` holds each
/// connection's windows.
pub fn agent_in_maintenance(at_ms: i64, windows: &[Vec<(i64, i64)>]) -> bool {
    !windows.is_empty()
        && windows
            .iter()
            .all(|w| w.iter().any(|(start, end)| *start <= at_ms && at_ms < *end))
}

/// Whether an agent is in maintenance at `at_ms`: in one of its own maintenance windows or the
/// manual switch (`windows` of the probe: `[start, end)` ms, `None` = until switched off), or
/// in every connection's window ([`agent_in_maintenance`]).
pub fn in_maintenance(
    at_ms: i64,
    probe_windows: &[(i64, Option<i64>)],
    connection_windows: &[Vec<(i64, i64)>],
) -> bool {
    probe_windows
        .iter()
        .any(|(start, end)| *start <= at_ms && end.is_none_or(|e| at_ms < e))
        || agent_in_maintenance(at_ms, connection_windows)
}

/// The id of an episode: a UUID derived from its agent, family and start, so that a replay
/// gives an episode it finds again the id it had.
pub fn episode_id(agent: &str, family: SeriesFamily, started_at_ms: i64) -> String {
    let key = format!("{agent}/{family}/{started_at_ms}");
    let fnv = |basis: u64| {
        key.bytes().fold(basis, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let hi = fnv(0xcbf2_9ce4_8422_2325);
    let lo = fnv(0x6c62_272e_07bb_0142);
    // Version 8 (custom), RFC 4122 variant.
    let hi = (hi & !0xf000) | 0x8000;
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
#[path = "series_tests.rs"]
mod tests;
