//! Retention (issue 17, wave2-specs §6.2): how long each kind of stored data is kept, the
//! minimum each kind may be set to, and where a prune cuts.
//!
//! - Each [`DataKind`] keeps its data for a number of days or [`Keep::Forever`]. The defaults
//!   are raw check results 35 days, raw speed results 400 days, hourly rollups 400 days, daily
//!   rollups 1,830 days (5 years), weekly rollups forever.
//! - Each kind has a minimum (what the dashboard, the monthly report and the 14-day baseline
//!   still read at full fidelity), and the coarser level must already cover what a finer one
//!   drops: daily rollups outlive raw speed results and hourly rollups, and weekly rollups
//!   outlive daily ones, each by at least a week (a week is re-merged from its seven stored
//!   days whenever one of them is recomputed from raw). [`Retention::check`] refuses the rest
//!   with an error naming the setting.
//! - A prune of raw data cuts at the start of a local day ([`DataKind::cut`]), so a daily
//!   bucket is either wholly in raw or wholly out of it; a prune of a rollup level removes
//!   the buckets that end at or before the cut.
//! - The cut applied last is recorded as the kind's **floor**, which only moves forward
//!   ([`floor_after`]). Nothing is recomputed from raw data below the raw floor
//!   ([`recomputable`]): the buckets there are final.
//! - Outage episodes and their rounds, incidents, the audit log, alert state and the
//!   notification log are not data kinds here: a prune never removes them.

use std::fmt;

use crate::Timestamp;

/// The longest retention that can be set, in days (100 years).
pub const MAX_DAYS: u32 = 36_500;
/// How much longer a coarser level is kept than the finer level it is built from, in days.
pub const COVER_DAYS: u32 = 7;

const DAY_SECONDS: i64 = 86_400;

/// A kind of stored data with its own retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataKind {
    /// Raw connectivity-check results (the packed hour blocks).
    RawChecks,
    /// Raw speed-test results.
    RawSpeed,
    /// Hourly speed rollups.
    Hourly,
    /// Daily speed rollups (local days).
    Daily,
    /// Weekly speed rollups (local ISO weeks).
    Weekly,
}

impl DataKind {
    /// Every kind, finest first.
    pub const ALL: [Self; 5] = [
        Self::RawChecks,
        Self::RawSpeed,
        Self::Hourly,
        Self::Daily,
        Self::Weekly,
    ];

    /// The kind's name (CLI argument, JSON, the floor's key).
    pub const fn name(self) -> &'static str {
        match self {
            Self::RawChecks => "raw-checks",
            Self::RawSpeed => "raw-speed",
            Self::Hourly => "hourly",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }

    /// The kind of a name (as [`DataKind::name`] writes it; `_` is taken for `-`).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL.into_iter().find(|k| k.name() == t)
    }

    /// The key of the kind's setting in the settings table.
    pub const fn setting_key(self) -> &'static str {
        match self {
            Self::RawChecks => "retention.raw_checks",
            Self::RawSpeed => "retention.raw_speed",
            Self::Hourly => "retention.hourly",
            Self::Daily => "retention.daily",
            Self::Weekly => "retention.weekly",
        }
    }

    /// How long the kind is kept when nothing is set.
    pub const fn default_keep(self) -> Keep {
        match self {
            Self::RawChecks => Keep::Days(35),
            Self::RawSpeed | Self::Hourly => Keep::Days(400),
            Self::Daily => Keep::Days(1_830),
            Self::Weekly => Keep::Forever,
        }
    }

    /// The fewest days the kind may be kept, and why.
    pub const fn minimum(self) -> (u32, &'static str) {
        match self {
            Self::RawChecks => (15, "the 14-day baseline and the outage replay read them"),
            Self::RawSpeed => (
                35,
                "a monthly report and the raw dashboard ranges read them",
            ),
            Self::Hourly => (35, "the 7-day and 14-day ranges read hourly buckets"),
            Self::Daily => (
                400,
                "the 30-day, 90-day and 12-month ranges read daily buckets",
            ),
            Self::Weekly => (407, "weeks outlive the daily rollups' 400-day minimum"),
        }
    }

    /// Whether the kind is raw data (cut at a local day's start) rather than a rollup level.
    pub const fn is_raw(self) -> bool {
        matches!(self, Self::RawChecks | Self::RawSpeed)
    }

    /// Where a prune of this kind kept for `keep` cuts at `now`: data older than the cut
    /// goes. Raw kinds cut at the start of the local day `day_start` gives for `now − keep`,
    /// so no local day is left half in raw; rollup levels cut at `now − keep` exactly (their
    /// buckets ending at or before it go). `None` when the kind is kept forever.
    pub fn cut(
        self,
        keep: Keep,
        now: Timestamp,
        day_start: impl Fn(Timestamp) -> Timestamp,
    ) -> Option<Timestamp> {
        let Keep::Days(days) = keep else {
            return None;
        };
        let at = now.plus_seconds(-i64::from(days) * DAY_SECONDS);
        Some(if self.is_raw() { day_start(at) } else { at })
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How long a kind is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// This many days.
    Days(u32),
    /// Never pruned.
    Forever,
}

impl Keep {
    /// Reads `forever` or a whole number of days (1 to [`MAX_DAYS`]).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("forever") {
            return Ok(Self::Forever);
        }
        match t.parse::<u32>() {
            Ok(d) if (1..=MAX_DAYS).contains(&d) => Ok(Self::Days(d)),
            _ => Err(format!(
                "{t:?} is not a number of days from 1 to {MAX_DAYS} or \"forever\""
            )),
        }
    }

    /// "400 days" or "forever".
    pub fn described(self) -> String {
        match self {
            Self::Days(d) => format!("{d} days"),
            Self::Forever => "forever".into(),
        }
    }

    /// Days, with forever as `u64::MAX` (for comparisons).
    const fn span(self) -> u64 {
        match self {
            Self::Days(d) => d as u64,
            Self::Forever => u64::MAX,
        }
    }
}

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Days(d) => write!(f, "{d}"),
            Self::Forever => f.write_str("forever"),
        }
    }
}

/// A retention refused: the setting it is about and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionError {
    /// The kind whose setting is refused.
    pub kind: DataKind,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RetentionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.setting_key(), self.message)
    }
}

impl std::error::Error for RetentionError {}

/// The retention of every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    keep: [Keep; 5],
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep: DataKind::ALL.map(DataKind::default_keep),
        }
    }
}

impl Retention {
    /// How long `kind` is kept.
    pub fn keep(&self, kind: DataKind) -> Keep {
        self.keep[kind as usize]
    }

    /// This retention with `kind` kept for `keep`, if the whole set passes [`Self::check`].
    pub fn with(mut self, kind: DataKind, keep: Keep) -> Result<Self, RetentionError> {
        self.keep[kind as usize] = keep;
        self.check(kind)?;
        Ok(self)
    }

    /// The defaults with each of `set` applied, if the whole set passes [`Self::check`] (the
    /// error then names the first kind of `set` involved, else the coarser kind).
    pub fn of(set: &[(DataKind, Keep)]) -> Result<Self, RetentionError> {
        let mut r = Self::default();
        for (kind, keep) in set {
            r.keep[*kind as usize] = *keep;
        }
        let changed = set.first().map_or(DataKind::Weekly, |(k, _)| *k);
        r.check(changed)?;
        Ok(r)
    }

    /// Checks every kind's minimum and that each coarser level covers what the finer one it
    /// is built from drops. `changed` is the kind being set: when a rule between two kinds is
    /// broken, the error names that kind's setting.
    pub fn check(&self, changed: DataKind) -> Result<(), RetentionError> {
        for kind in DataKind::ALL {
            let (min, why) = kind.minimum();
            if let Keep::Days(d) = self.keep(kind)
                && d < min
            {
                return Err(RetentionError {
                    kind,
                    message: format!("must be at least {min} days ({why}), not {d}"),
                });
            }
        }
        // (finer, coarser): the coarser is kept at least COVER_DAYS longer.
        let rules = [
            (DataKind::RawSpeed, DataKind::Daily),
            (DataKind::Hourly, DataKind::Daily),
            (DataKind::Daily, DataKind::Weekly),
        ];
        for (finer, coarser) in rules {
            let f = self.keep(finer);
            let c = self.keep(coarser);
            let need = f.span().saturating_add(u64::from(COVER_DAYS));
            if c != Keep::Forever && (f == Keep::Forever || c.span() < need) {
                let kind = if changed == finer { finer } else { coarser };
                return Err(RetentionError {
                    kind,
                    message: format!(
                        "{} ({}) must be kept at least {COVER_DAYS} days longer than {} ({}), \
                         so that what {} drops is still covered",
                        coarser.name(),
                        c.described(),
                        finer.name(),
                        f.described(),
                        finer.name()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The floor after a prune cutting at `cut`: the cut, unless an earlier prune already cut
/// later (a floor never moves back: the data below it is gone).
pub fn floor_after(old: Option<Timestamp>, cut: Timestamp) -> Timestamp {
    old.map_or(cut, |o| o.max(cut))
}

/// Whether a bucket starting at `start` may be recomputed from raw data with the raw `floor`:
/// only when it starts at or after the floor (below it raw data may be gone and the stored
/// bucket is final).
pub fn recomputable(start: Timestamp, floor: Option<Timestamp>) -> bool {
    floor.is_none_or(|f| start >= f)
}

#[cfg(test)]
#[path = "retention_tests.rs"]
mod tests;
