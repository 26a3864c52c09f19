//! Rows of the rollup tables (`migrations/*/0006_rollups.sql`) and their conversions, shared
//! by both databases.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::rollup::{Bucket, Level, Sketch, SpeedBucket, SpeedSample};
use netpulse_ports::rollup_store::{RawSpeedRow, StoredRollup};
use netpulse_ports::storage::StorageError;

use crate::storage::rows::invalid;

/// The columns of `speed_rollups` a read selects (and a write binds, `computed_at` after
/// `last_at`).
pub(crate) const ROLLUP_COLUMNS: &str = "connection_id, level, server_key, bucket_at, bucket_end, server_name, server_location, by_host, results, ok, fail, healthy, expected, last_at, dl_n, dl_sum, dl_sq, dl_min, dl_max, dl_sketch, ul_n, ul_sum, ul_sq, ul_min, ul_max, ul_sketch, ping_n, ping_sum, ping_sq, ping_min, ping_max, ping_sketch, jit_n, jit_sum, jit_sq, jit_min, jit_max, jit_sketch, loss_n, loss_sum, loss_sq, loss_min, loss_max, loss_sketch";

/// The insert of one `speed_rollups` row.
pub(crate) const INSERT_ROLLUP: &str = "INSERT INTO speed_rollups (connection_id, level, server_key, bucket_at, bucket_end, server_name, server_location, by_host, results, ok, fail, healthy, expected, last_at, computed_at, dl_n, dl_sum, dl_sq, dl_min, dl_max, dl_sketch, ul_n, ul_sum, ul_sq, ul_min, ul_max, ul_sketch, ping_n, ping_sum, ping_sq, ping_min, ping_max, ping_sketch, jit_n, jit_sum, jit_sq, jit_min, jit_max, jit_sketch, loss_n, loss_sum, loss_sq, loss_min, loss_max, loss_sketch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45)";

/// The raw columns a bucket is computed from.
pub(crate) const RAW_COLUMNS: &str = "completed_at, status, healthy, download_bps, upload_bps, ping_ms, jitter_ms, packet_loss_percent, server_id, server_host, server_name, server_location";

/// Marks a result's hour dirty (`$1` connection, `$2` hour start).
pub(crate) const MARK_DIRTY: &str = "INSERT INTO speed_rollup_dirty (connection_id, hour_at, version) VALUES ($1, $2, 1) ON CONFLICT (connection_id, hour_at) DO UPDATE SET version = speed_rollup_dirty.version + 1";

/// The start of the UTC hour of `at`, ms.
pub(crate) fn hour_of(at: Timestamp) -> i64 {
    at.unix_millis().div_euclid(3_600_000) * 3_600_000
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RawRow {
    pub completed_at: i64,
    pub status: String,
    pub healthy: bool,
    pub download_bps: Option<f64>,
    pub upload_bps: Option<f64>,
    pub ping_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub packet_loss_percent: Option<f64>,
    pub server_id: Option<String>,
    pub server_host: Option<String>,
    pub server_name: Option<String>,
    pub server_location: Option<String>,
}

impl RawRow {
    pub(crate) fn into_raw(self) -> RawSpeedRow {
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let (server_key, by_host) = match (nonempty(self.server_id), nonempty(self.server_host)) {
            (Some(id), _) => (Some(id), false),
            (None, Some(host)) => (Some(host), true),
            (None, None) => (None, false),
        };
        RawSpeedRow {
            sample: SpeedSample {
                at: Timestamp::from_unix_millis(self.completed_at),
                ok: self.status != "failed",
                healthy: self.healthy,
                values: [
                    self.download_bps,
                    self.upload_bps,
                    self.ping_ms,
                    self.jitter_ms,
                    self.packet_loss_percent,
                ],
            },
            server_key,
            by_host,
            server_name: self.server_name,
            server_location: self.server_location,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RollupRow {
    pub connection_id: String,
    pub level: i16,
    pub server_key: String,
    pub bucket_at: i64,
    pub bucket_end: i64,
    pub server_name: Option<String>,
    pub server_location: Option<String>,
    pub by_host: bool,
    pub results: i64,
    pub ok: i64,
    pub fail: i64,
    pub healthy: i64,
    pub expected: f64,
    pub last_at: i64,
    pub dl_n: i64,
    pub dl_sum: f64,
    pub dl_sq: f64,
    pub dl_min: Option<f64>,
    pub dl_max: Option<f64>,
    pub dl_sketch: Vec<u8>,
    pub ul_n: i64,
    pub ul_sum: f64,
    pub ul_sq: f64,
    pub ul_min: Option<f64>,
    pub ul_max: Option<f64>,
    pub ul_sketch: Vec<u8>,
    pub ping_n: i64,
    pub ping_sum: f64,
    pub ping_sq: f64,
    pub ping_min: Option<f64>,
    pub ping_max: Option<f64>,
    pub ping_sketch: Vec<u8>,
    pub jit_n: i64,
    pub jit_sum: f64,
    pub jit_sq: f64,
    pub jit_min: Option<f64>,
    pub jit_max: Option<f64>,
    pub jit_sketch: Vec<u8>,
    pub loss_n: i64,
    pub loss_sum: f64,
    pub loss_sq: f64,
    pub loss_min: Option<f64>,
    pub loss_max: Option<f64>,
    pub loss_sketch: Vec<u8>,
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[allow(clippy::too_many_arguments)]
fn metric(
    n: i64,
    sum: f64,
    sum_sq: f64,
    min: Option<f64>,
    max: Option<f64>,
    sketch: &[u8],
    counts: &(u64, u64, u64),
) -> Result<Bucket, StorageError> {
    Ok(Bucket {
        count: counts.0,
        ok: counts.1,
        fail: counts.2,
        values: count(n),
        sum,
        sum_sq,
        min,
        max,
        sketch: Sketch::decode(sketch).map_err(|e| invalid("sketch", "(bytes)", e.0))?,
    })
}

impl RollupRow {
    pub(crate) fn into_stored(self) -> Result<StoredRollup, StorageError> {
        let counts = (count(self.results), count(self.ok), count(self.fail));
        let metrics = [
            metric(
                self.dl_n,
                self.dl_sum,
                self.dl_sq,
                self.dl_min,
                self.dl_max,
                &self.dl_sketch,
                &counts,
            )?,
            metric(
                self.ul_n,
                self.ul_sum,
                self.ul_sq,
                self.ul_min,
                self.ul_max,
                &self.ul_sketch,
                &counts,
            )?,
            metric(
                self.ping_n,
                self.ping_sum,
                self.ping_sq,
                self.ping_min,
                self.ping_max,
                &self.ping_sketch,
                &counts,
            )?,
            metric(
                self.jit_n,
                self.jit_sum,
                self.jit_sq,
                self.jit_min,
                self.jit_max,
                &self.jit_sketch,
                &counts,
            )?,
            metric(
                self.loss_n,
                self.loss_sum,
                self.loss_sq,
                self.loss_min,
                self.loss_max,
                &self.loss_sketch,
                &counts,
            )?,
        ];
        Ok(StoredRollup {
            connection: ConnectionId::parse(&self.connection_id)
                .map_err(|e| invalid(e.field, &e.value, e.reason))?,
            level: Level::from_code(self.level)
                .ok_or_else(|| invalid("level", self.level.to_string(), "is not a rollup level"))?,
            server_key: self.server_key,
            bucket_at: Timestamp::from_unix_millis(self.bucket_at),
            bucket_end: Timestamp::from_unix_millis(self.bucket_end),
            server_name: self.server_name,
            server_location: self.server_location,
            by_host: self.by_host,
            expected: self.expected,
            bucket: SpeedBucket {
                results: counts.0,
                ok: counts.1,
                fail: counts.2,
                healthy: count(self.healthy),
                last_at: Some(Timestamp::from_unix_millis(self.last_at)),
                metrics,
            },
        })
    }
}

/// `u64` as a stored `BIGINT`.
pub(crate) fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
