//! Baselines: the samples of a connection's window and the stored rows, one per (connection,
//! metric, local day) (see `netpulse_domain::baseline`). Storage decides nothing here: which
//! results count and what the baseline is are the domain's and the baseline service's; the
//! sample query only applies the exclusions the service names (scheduled, completed, outside
//! maintenance) over a bounded window.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::baseline::{Baseline, Metric};
use netpulse_domain::check::Family;
use netpulse_domain::id::{CheckId, ConnectionId};
use netpulse_domain::measurement::Observation;

use crate::storage::StorageError;

/// One stored baseline row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBaseline {
    /// The connection.
    pub connection: ConnectionId,
    /// The metric.
    pub metric: Metric,
    /// The local day it is in force on, `YYYY-MM-DD` (site time zone).
    pub day: String,
    /// When that day starts.
    pub day_start: Timestamp,
    /// The statistics of the 14 days before it.
    pub baseline: Baseline,
    /// When it was computed.
    pub computed_at: Timestamp,
}

/// One stored latency baseline row of a check and family.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckBaseline {
    /// The check.
    pub check: CheckId,
    /// The family.
    pub family: Family,
    /// The local day it is in force on, `YYYY-MM-DD`.
    pub day: String,
    /// When that day starts.
    pub day_start: Timestamp,
    /// The latency statistics (ms) of the 14 days before it.
    pub baseline: Baseline,
    /// When it was computed.
    pub computed_at: Timestamp,
}

/// Baseline storage.
#[async_trait]
pub trait BaselineStore: Send + Sync {
    /// The figures of the connection's scheduled, completed results with `from <= completed_at
    /// < until`, excluding those inside a maintenance window of the connection or of its
    /// probe (failure fields left empty).
    async fn baseline_samples(
        &self,
        connection: &ConnectionId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Observation>, StorageError>;

    /// Replaces the connection's rows of `day` with `rows` (which all have that day), in one
    /// transaction.
    async fn write_baselines(
        &self,
        connection: &ConnectionId,
        day: &str,
        rows: &[StoredBaseline],
    ) -> Result<(), StorageError>;

    /// Replaces the check's latency rows of `day` with `rows`, in one transaction.
    async fn write_check_baselines(
        &self,
        check: &CheckId,
        day: &str,
        rows: &[StoredCheckBaseline],
    ) -> Result<(), StorageError>;

    /// The check's latency rows in force at `at`: per family, the newest row with `since <=
    /// day_start <= at`.
    async fn check_baselines_in_force(
        &self,
        check: &CheckId,
        since: Timestamp,
        at: Timestamp,
    ) -> Result<Vec<StoredCheckBaseline>, StorageError>;

    /// The rows in force at `at`: per metric, the newest row with `since <= day_start <= at`.
    async fn baselines_in_force(
        &self,
        connection: &ConnectionId,
        since: Timestamp,
        at: Timestamp,
    ) -> Result<Vec<StoredBaseline>, StorageError>;
}
