//! The status summary's reads (issue 15): result tallies per check kind, family and outcome
//! over a window (one grouped query, bounded by the window).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::check::{Family, Outcome};
use netpulse_domain::id::ProbeId;

use crate::outage_store::{StoredOutage, Uptime};
use crate::storage::StorageError;

/// Results of one check kind, family and outcome over a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultTally {
    /// The check kind (`icmp`, `http`, `dns`, `tcp`, `udp`).
    pub kind: String,
    /// The family.
    pub family: Family,
    /// The outcome.
    pub outcome: Outcome,
    /// Results.
    pub count: u64,
    /// The oldest round among them.
    pub first: Timestamp,
    /// The newest round among them.
    pub last: Timestamp,
}

/// Tallies of a set of check results.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Results.
    pub checks: u64,
    /// `ok`.
    pub ok: u64,
    /// `fail`.
    pub bad: u64,
    /// `not_applicable` and `local_error` (neither ok nor bad).
    pub other: u64,
    /// The oldest round.
    pub first: Option<Timestamp>,
    /// The newest round.
    pub last: Option<Timestamp>,
}

impl Tally {
    /// ok / (ok + bad); `None` without either.
    pub fn success_ratio(&self) -> Option<f64> {
        let n = self.ok + self.bad;
        (n > 0).then(|| self.ok as f64 / n as f64)
    }
}

/// The status summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The probe asked for.
    pub probe: Option<ProbeId>,
    /// Every result of the window.
    pub all: Tally,
    /// Per check kind, by name.
    pub kinds: Vec<(String, Tally)>,
    /// Per family, v4 first.
    pub families: Vec<(String, Tally)>,
    /// Uptime per probe and family over the same window.
    pub uptime: Uptime,
    /// The 10 latest outages going on in the window.
    pub latest: Vec<StoredOutage>,
    /// The 10 most severe of them.
    pub most_severe: Vec<StoredOutage>,
}

/// The status summary's reads.
#[async_trait]
pub trait StatusStore: Send + Sync {
    /// Results with rounds in `[since, until)` of every probe's checks (or one probe's),
    /// grouped by check kind, family and outcome. Reads the window's result rows once, in
    /// the database (the work grows with the window, not with the history).
    async fn result_tallies(
        &self,
        probe: Option<&ProbeId>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<ResultTally>, StorageError>;
}
