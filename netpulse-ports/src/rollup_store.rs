//! Rollups of speed results: the dirty-hour queue ingest fills, the raw rows a bucket is
//! recomputed from, and the stored buckets (see `netpulse_domain::rollup`). Storage decides
//! nothing here: which buckets to recompute and what they hold is the rollup service's.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::rollup::{Level, SpeedBucket, SpeedSample};

use crate::storage::StorageError;

/// A (connection, UTC hour) whose raw results changed since its rollups were computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyHour {
    /// The connection.
    pub connection: ConnectionId,
    /// The hour's start (UTC).
    pub hour_at: Timestamp,
    /// Bumped by every change; the row is cleared only at the version that was recomputed.
    pub version: i64,
}

/// One raw speed result as the rollups read it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSpeedRow {
    /// Its values.
    pub sample: SpeedSample,
    /// The tool's server id, or the host for engines without ids; `None` without either.
    pub server_key: Option<String>,
    /// Whether `server_key` is a host.
    pub by_host: bool,
    /// The server's name.
    pub server_name: Option<String>,
    /// The server's location.
    pub server_location: Option<String>,
}

/// One stored bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRollup {
    /// The connection.
    pub connection: ConnectionId,
    /// The level.
    pub level: Level,
    /// `""` for every server, else the server's key (days only).
    pub server_key: String,
    /// The bucket's start.
    pub bucket_at: Timestamp,
    /// The bucket's end (exclusive).
    pub bucket_end: Timestamp,
    /// The server's name (per-server rows).
    pub server_name: Option<String>,
    /// The server's location (per-server rows).
    pub server_location: Option<String>,
    /// Whether the server key is a host.
    pub by_host: bool,
    /// Results the schedule planned in the bucket (coverage = results / expected).
    pub expected: f64,
    /// The aggregate.
    pub bucket: SpeedBucket,
}

/// One recompute, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct RollupWrite {
    /// Buckets to clear first: every bucket (any server key) of that connection and level
    /// overlapping `[from, until)` (so days keyed in a previous time zone go too).
    pub clear: Vec<(ConnectionId, Level, Timestamp, Timestamp)>,
    /// The recomputed buckets.
    pub rows: Vec<StoredRollup>,
    /// Dirty hours now done (deleted only if their version is unchanged).
    pub done: Vec<DirtyHour>,
    /// When it was computed.
    pub computed_at: Option<Timestamp>,
    /// The raw-speed retention floor the recompute read before reading raw rows: the write
    /// is applied only if the stored floor is still this one (a prune that moved it since
    /// may have removed raw rows the recompute read part of).
    pub raw_floor: Option<Timestamp>,
}

/// The rollup tables.
#[async_trait]
pub trait RollupStore: Send + Sync {
    /// Up to `limit` dirty hours, by connection and oldest first within one (so a batch
    /// covers long runs of one connection's hours); of one connection, or of all.
    async fn dirty_speed_hours(
        &self,
        connection: Option<&ConnectionId>,
        limit: u32,
    ) -> Result<Vec<DirtyHour>, StorageError>;

    /// Marks every hour from `from` on that has raw results dirty (a full rebuild from the
    /// raw-speed retention floor); returns the hours marked.
    async fn mark_all_speed_dirty(&self, from: Timestamp) -> Result<u64, StorageError>;

    /// The raw results of a connection in `[from, until)`, in any order.
    async fn raw_speed_rows(
        &self,
        connection: &ConnectionId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<RawSpeedRow>, StorageError>;

    /// Stored buckets of `level` starting in `[from, until)`: of one connection or of all,
    /// the all-server rows (`per_server = false`) or the per-server ones.
    async fn speed_rollups(
        &self,
        connection: Option<&ConnectionId>,
        level: Level,
        per_server: bool,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<StoredRollup>, StorageError>;

    /// Writes a recompute (see [`RollupWrite`]) in one transaction; `false` (and nothing
    /// written) when the raw-speed floor is no longer `write.raw_floor`.
    async fn write_speed_rollups(&self, write: &RollupWrite) -> Result<bool, StorageError>;
}
