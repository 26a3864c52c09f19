//! Persistence of connectivity checks (issue 14): the checks of each probe, their results (one
//! row per check, family and round, exactly once), the latest state per check and family that
//! `/metrics` and the Connectivity page read instead of the history, and the service-check
//! alert debouncer, advanced in the ingest transaction.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::{AlertEdge, AlertPolicy};
use netpulse_domain::check::dns::ResolverFigure;
use netpulse_domain::check::{CheckMeasurement, CheckSpec, FailureClass, Family, Outcome};
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_domain::values::Labels;

use crate::storage::StorageError;

/// A check as the server keeps it: what it is ([`CheckSpec`], what the agent receives) and
/// what only the server uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Its id.
    pub id: CheckId,
    /// The probe that runs it.
    pub probe_id: ProbeId,
    /// What it is.
    pub spec: CheckSpec,
    /// Service checks: rounds in a row that alert / recover; `None` uses the default (3, 2).
    pub alerts: Option<AlertPolicy>,
    /// Whether the probe runs it.
    pub enabled: bool,
    /// Free labels.
    pub labels: Labels,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A service-check alert edge claimed by one ingest transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckEdge {
    /// The check.
    pub check_id: CheckId,
    /// Its probe.
    pub probe_id: ProbeId,
    /// The family whose rounds crossed the edge.
    pub family: Family,
    /// Alert or recovery.
    pub edge: AlertEdge,
    /// The result that crossed it.
    pub result: CheckMeasurement,
}

/// What recording a batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckIngest {
    /// Results stored now.
    pub recorded: u64,
    /// Results stored before (same check, family and round): nothing changed.
    pub duplicates: u64,
    /// Results of checks the probe does not have (deleted meanwhile): dropped.
    pub unknown_checks: u64,
    /// The alert edges crossed, in round order.
    pub edges: Vec<CheckEdge>,
    /// The outage openings and closings claimed by this batch (each announced once).
    pub outage_edges: Vec<OutageEdge>,
}

/// An outage opening or closing claimed by one ingest transaction: no other transaction, replay
/// or rebuild claims the same one again.
#[derive(Debug, Clone, PartialEq)]
pub struct OutageEdge {
    /// `true`: the episode opened; `false`: it closed.
    pub opened: bool,
    /// The episode as stored by this batch.
    pub outage: crate::outage_store::StoredOutage,
}

/// Filters of the result list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckResultFilter {
    /// Only this check's.
    pub check: Option<CheckId>,
    /// Only this probe's.
    pub probe: Option<ProbeId>,
    /// Only this family's.
    pub family: Option<Family>,
    /// Rounds at or after.
    pub since: Option<Timestamp>,
    /// Rounds before.
    pub until: Option<Timestamp>,
}

/// A page of results, newest round first (then check, then family), and the cursor of the next.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResultPage {
    /// The results.
    pub items: Vec<CheckMeasurement>,
    /// Pass this back for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The figures of one result a summary needs.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSample {
    /// The round.
    pub round_at: Timestamp,
    /// The family.
    pub family: Family,
    /// How it came out.
    pub outcome: Outcome,
    /// Its latency.
    pub latency_ms: Option<f64>,
    /// Its loss, percent.
    pub loss_pct: Option<f64>,
    /// Its spread: smallest and largest RTT (ICMP).
    pub rtt_min_ms: Option<f64>,
    /// See `rtt_min_ms`.
    pub rtt_max_ms: Option<f64>,
    /// DNS: what each resolver answered (empty for other kinds).
    pub dns_resolvers: Vec<ResolverFigure>,
}

/// Results stored per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// `ok`.
    pub ok: u64,
    /// `fail`.
    pub fail: u64,
    /// `not_applicable`.
    pub not_applicable: u64,
    /// `local_error`.
    pub local_error: u64,
}

/// The newest failure of a check and family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastFailure {
    /// Its round.
    pub round_at: Timestamp,
    /// Its class.
    pub class: Option<FailureClass>,
    /// Its message.
    pub message: Option<String>,
}

/// The latest state of one check and family (one row, written at ingest).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckState {
    /// The check.
    pub check_id: CheckId,
    /// Its probe.
    pub probe_id: ProbeId,
    /// The family.
    pub family: Family,
    /// The newest round stored.
    pub round_at: Timestamp,
    /// Its outcome.
    pub outcome: Outcome,
    /// Its failure class.
    pub failure_class: Option<FailureClass>,
    /// Its latency.
    pub latency_ms: Option<f64>,
    /// Its loss, percent.
    pub loss_pct: Option<f64>,
    /// Whether it was flagged degraded.
    pub degraded: bool,
    /// Its message.
    pub message: Option<String>,
    /// The newest failure (`fail` outcome), if any.
    pub last_failure: Option<LastFailure>,
    /// Results stored, per outcome (late ones included).
    pub runs: RunCounts,
    /// Whether a service alert is open.
    pub alerting: bool,
}

/// Figures of a set of results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Results.
    pub count: u64,
    /// `ok` results.
    pub ok: u64,
    /// `fail` results.
    pub failed: u64,
    /// `not_applicable` results.
    pub not_applicable: u64,
    /// `local_error` results.
    pub local_error: u64,
    /// ok / (ok + failed); `None` without either.
    pub success_ratio: Option<f64>,
    /// Median latency of the results that have one, ms.
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile latency, ms.
    pub latency_p95_ms: Option<f64>,
    /// Mean loss of the results that report loss, percent.
    pub loss_mean_pct: Option<f64>,
}

/// A check's summary over `[since, until)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSummary {
    /// The check.
    pub check_id: CheckId,
    /// The window's start.
    pub since: Timestamp,
    /// The window's end.
    pub until: Timestamp,
    /// Both families together.
    pub all: Figures,
    /// Per family that has results, v4 first.
    pub families: Vec<(Family, Figures)>,
}

/// Checks and their results.
#[async_trait]
pub trait CheckStore: Send + Sync {
    /// Stores new checks in one transaction ([`StorageError::NotFound`] for an unknown probe).
    async fn create_checks(&self, checks: &[Check]) -> Result<(), StorageError>;
    /// Replaces a check's settings (probe, id and creation time are kept).
    async fn update_check(&self, check: &Check) -> Result<(), StorageError>;
    /// One check.
    async fn check(&self, id: &CheckId) -> Result<Option<Check>, StorageError>;
    /// Every check, or one probe's, by probe, creation time and id.
    async fn checks(&self, probe: Option<&ProbeId>) -> Result<Vec<Check>, StorageError>;
    /// Deletes a check with its results and state.
    async fn delete_check(&self, id: &CheckId) -> Result<(), StorageError>;
    /// Records a batch of the probe's results in one transaction: each stored once (a result
    /// already stored counts as a duplicate), results of checks the probe does not have are
    /// counted and dropped; the state rows take the newest round (older rounds move nothing
    /// but the counters); service checks step their alert debouncer (their own policy, else
    /// `default_alerts`) with the rounds newer than their state, and the edges are returned.
    async fn record_check_results(
        &self,
        probe: &ProbeId,
        results: &[CheckMeasurement],
        default_alerts: &AlertPolicy,
    ) -> Result<CheckIngest, StorageError>;
    /// A page of results (`limit` 1–1000), newest round first, continuing after `cursor`.
    async fn check_results(
        &self,
        filter: &CheckResultFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<CheckResultPage, StorageError>;
    /// The figures of a check's results with rounds in `[since, until)`, oldest first.
    async fn check_samples(
        &self,
        check: &CheckId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<CheckSample>, StorageError>;
    /// The state rows of every check, or one probe's (one row per check and family that has a
    /// result).
    async fn check_states(&self, probe: Option<&ProbeId>) -> Result<Vec<CheckState>, StorageError>;
}
