//! Outages: the episodes of each (probe, family) series, their rounds, and the replay of a
//! series from raw check results. The series are advanced by check-result ingest
//! (`CheckStore::record_check_results`, in its transaction); this port reads them and rebuilds
//! them.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::availability::{Availability, StateTime};
use netpulse_domain::outage::{Episode, SeriesFamily};

use crate::storage::StorageError;

/// A stored episode.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOutage {
    /// Its id (a UUID derived from probe, family and start).
    pub id: String,
    /// The probe.
    pub probe_id: ProbeId,
    /// Its family.
    pub family: SeriesFamily,
    /// The episode.
    pub episode: Episode,
}

/// Which outages a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutageFilter {
    /// One probe's.
    pub probe: Option<ProbeId>,
    /// One family's.
    pub family: Option<SeriesFamily>,
    /// Those still going on at or after this time (ended at or after it, or open).
    pub since: Option<Timestamp>,
    /// Those started before this time.
    pub until: Option<Timestamp>,
}

/// The order of an outage list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutageOrder {
    /// Newest start first.
    #[default]
    Latest,
    /// Complete before partial, then impact, then duration (most severe first), then the
    /// earlier start.
    Severity,
}

/// A page of outages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutagePage {
    /// The outages.
    pub items: Vec<StoredOutage>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// One stored round of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredRound {
    /// The scheduled round time.
    pub round_at: Timestamp,
    /// `up`, `target`, `partial`, `down`, `local`, `maintenance` or `unknown`.
    pub state: &'static str,
    /// Failed checks.
    pub failed: u32,
    /// Checks that ended ok or failed.
    pub counted: u32,
}

/// The live state of one series (what the banner and `/metrics` read).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesState {
    /// The probe.
    pub probe_id: ProbeId,
    /// Its family.
    pub family: SeriesFamily,
    /// The newest round fed.
    pub last_round_at: Option<Timestamp>,
    /// The open episode.
    pub open: Option<StoredOutage>,
    /// Episodes claimed opened so far (a counter: a replay never lowers it).
    pub outages_total: u64,
    /// Down time of the episodes claimed closed, ms.
    pub complete_ms_total: i64,
    /// Partial time of the episodes claimed closed, ms.
    pub partial_ms_total: i64,
}

/// One episode with the timeline of its rounds.
#[derive(Debug, Clone, PartialEq)]
pub struct OutageDetail {
    /// The episode.
    pub outage: StoredOutage,
    /// Its rounds and a few on each side (at most 3 days of them), oldest first.
    pub rounds: Vec<StoredRound>,
}

/// Uptime of one series over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesUptime {
    /// The probe.
    pub probe_id: ProbeId,
    /// The family.
    pub family: SeriesFamily,
    /// Time per state.
    pub time: StateTime,
    /// Availability, strict availability and coverage.
    pub availability: Availability,
    /// The time without data, ms.
    pub unknown_ms: i64,
}

/// Uptime over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Uptime {
    /// The window's start.
    pub since: Timestamp,
    /// The window's end.
    pub until: Timestamp,
    /// Per probe and family (v4, v6, all), probes in id order.
    pub series: Vec<SeriesUptime>,
}

/// Outages.
#[async_trait]
pub trait OutageStore: Send + Sync {
    /// A page of outages (`limit` 1–1000) in `order`, continuing after `cursor`.
    async fn outages(
        &self,
        filter: &OutageFilter,
        order: OutageOrder,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<OutagePage, StorageError>;
    /// One outage by id.
    async fn outage(&self, id: &str) -> Result<Option<StoredOutage>, StorageError>;
    /// The stored rounds of a series in `[since, until)`, oldest first.
    async fn outage_rounds(
        &self,
        probe: &ProbeId,
        family: SeriesFamily,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<StoredRound>, StorageError>;
    /// Time per round state of a series over `[since, until)` (each stored round counts
    /// `period_ms`).
    async fn outage_state_time(
        &self,
        probe: &ProbeId,
        family: SeriesFamily,
        since: Timestamp,
        until: Timestamp,
        period_ms: i64,
    ) -> Result<StateTime, StorageError>;
    /// Time per round state of a series in buckets of `bucket_ms` counted from the Unix
    /// epoch, over `[since, until)`: (bucket start, time), buckets with stored rounds only,
    /// oldest first (each stored round counts `period_ms`). Reads the stored round states
    /// (one grouped query), never raw check results.
    async fn outage_state_buckets(
        &self,
        probe: &ProbeId,
        family: SeriesFamily,
        since: Timestamp,
        until: Timestamp,
        bucket_ms: i64,
        period_ms: i64,
    ) -> Result<Vec<(Timestamp, StateTime)>, StorageError>;
    /// The state of every series (of one probe, or all).
    async fn outage_series(
        &self,
        probe: Option<&ProbeId>,
    ) -> Result<Vec<SeriesState>, StorageError>;
    /// Closes every open episode whose series has been silent for longer than `max_gap` before
    /// `now` (with `endUncertain`), each in its own transaction that also claims its closing;
    /// returns the closings claimed.
    async fn close_silent_outages(
        &self,
        now: Timestamp,
    ) -> Result<Vec<crate::check_store::OutageEdge>, StorageError>;
    /// Replays the series of `probe` (or of every probe) from their raw check results from
    /// `since` on; returns how many series were replayed.
    async fn rebuild_outages(
        &self,
        probe: Option<&ProbeId>,
        since: Timestamp,
    ) -> Result<u64, StorageError>;
}
