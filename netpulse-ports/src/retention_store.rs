//! Retention (see `netpulse_domain::retention`): the floor recorded per kind of data, and
//! pruning in small batches. Storage decides nothing here: the cut, the floor and when to
//! prune are the retention service's. What "older than `before`" means per kind is fixed:
//!
//! - raw speed results: `completed_at < before` (the time the rollups bucket them by);
//! - raw check results: the hour blocks whose hour ends at or before `before` (a block holds
//!   its hour's results, so a block is removed only when every result in it is older);
//! - hourly, daily and weekly rollups: the buckets (all servers and per server) that end at
//!   or before `before`.
//!
//! Outage episodes and rounds, incidents, the audit log and alert states are no kind here.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::retention::DataKind;

use crate::storage::StorageError;

/// What a prune of one kind at one cut finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneCount {
    /// Rows older than the cut (hour blocks for raw check results).
    pub rows: u64,
    /// The time of the oldest row kept (at or after the cut), if any.
    pub oldest_kept: Option<Timestamp>,
}

/// The retention floors and the prune.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// The floor recorded per kind (kinds never pruned have none).
    async fn retention_floors(&self) -> Result<Vec<(DataKind, Timestamp)>, StorageError>;

    /// Records `at` as the floor of `kind`, unless the stored floor is later already (a
    /// floor never moves back); returns the floor now stored.
    async fn raise_retention_floor(
        &self,
        kind: DataKind,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<Timestamp, StorageError>;

    /// Counts the rows of `kind` older than `before` and finds the oldest one kept.
    async fn count_prunable(
        &self,
        kind: DataKind,
        before: Timestamp,
    ) -> Result<PruneCount, StorageError>;

    /// Deletes at most `limit` rows of `kind` older than `before` in one short statement;
    /// returns how many went (fewer than `limit`: nothing older is left).
    async fn prune_batch(
        &self,
        kind: DataKind,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StorageError>;
}
