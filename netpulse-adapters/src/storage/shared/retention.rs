//! Retention floors and the prune in small batches (see `netpulse_ports::retention_store`):
//! each batch is one `DELETE` of at most `limit` rows picked oldest first through an index,
//! committed on its own, so a prune never holds the writer lock for long.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::retention::DataKind;
use netpulse_domain::rollup::Level;
use netpulse_ports::retention_store::{PruneCount, RetentionStore};
use netpulse_ports::storage::StorageError;
use sqlx::QueryBuilder;

use super::{Db, Store};
use crate::storage::check_blocks::BLOCK_MS;
use crate::storage::unavailable;

/// Per kind: the table, the rows' time column and the key a batch picks rows by.
fn table(kind: DataKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        DataKind::RawSpeed => ("measurements", "completed_at", "id"),
        DataKind::RawChecks => (
            "check_result_blocks",
            "block_at",
            "check_num, family, block_at",
        ),
        DataKind::Hourly | DataKind::Daily | DataKind::Weekly => (
            "speed_rollups",
            "bucket_at",
            "connection_id, level, server_key, bucket_at",
        ),
    }
}

/// The rollup level of a kind (`None` for raw kinds).
fn level(kind: DataKind) -> Option<i16> {
    match kind {
        DataKind::Hourly => Some(Level::Hour.code()),
        DataKind::Daily => Some(Level::Day.code()),
        DataKind::Weekly => Some(Level::Week.code()),
        DataKind::RawChecks | DataKind::RawSpeed => None,
    }
}

/// Pushes "older than `before`" (`older`) or "kept" (`!older`) for `kind`: raw speed results
/// by completion; check blocks whose hour ends at or before the cut; rollup buckets of the
/// kind's level that end at or before it.
fn push_condition(q: &mut QueryBuilder<Db>, kind: DataKind, before: Timestamp, older: bool) {
    let cut = before.unix_millis();
    match (kind, level(kind)) {
        (DataKind::RawChecks, _) => {
            let last = cut.saturating_sub(BLOCK_MS);
            q.push(if older { "block_at <= " } else { "block_at > " })
                .push_bind(last);
        }
        (_, Some(code)) => {
            q.push("level = ").push_bind(code);
            if older {
                q.push(" AND bucket_at < ")
                    .push_bind(cut)
                    .push(" AND bucket_end <= ")
                    .push_bind(cut);
            } else {
                q.push(" AND bucket_end > ").push_bind(cut);
            }
        }
        (_, None) => {
            q.push(if older {
                "completed_at < "
            } else {
                "completed_at >= "
            })
            .push_bind(cut);
        }
    }
}

#[async_trait]
impl RetentionStore for Store {
    async fn retention_floors(&self) -> Result<Vec<(DataKind, Timestamp)>, StorageError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT kind, floor_at FROM retention_floors ORDER BY kind")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, at)| DataKind::parse(&k).map(|k| (k, Timestamp::from_unix_millis(at))))
            .collect())
    }

    async fn raise_retention_floor(
        &self,
        kind: DataKind,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<Timestamp, StorageError> {
        let (floor,): (i64,) = sqlx::query_as(
            "INSERT INTO retention_floors (kind, floor_at, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kind) DO UPDATE SET floor_at = CASE WHEN excluded.floor_at > \
             retention_floors.floor_at THEN excluded.floor_at ELSE retention_floors.floor_at \
             END, updated_at = excluded.updated_at RETURNING floor_at",
        )
        .bind(kind.name())
        .bind(at.unix_millis())
        .bind(now.unix_millis())
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(Timestamp::from_unix_millis(floor))
    }

    async fn count_prunable(
        &self,
        kind: DataKind,
        before: Timestamp,
    ) -> Result<PruneCount, StorageError> {
        let (table, time, _) = table(kind);
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE "
        ));
        push_condition(&mut q, kind, before, true);
        q.push(format!("), (SELECT MIN({time}) FROM {table} WHERE "));
        push_condition(&mut q, kind, before, false);
        q.push(")");
        let (rows, oldest): (i64, Option<i64>) = q
            .build_query_as()
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(PruneCount {
            rows: u64::try_from(rows).unwrap_or(0),
            oldest_kept: oldest.map(Timestamp::from_unix_millis),
        })
    }

    async fn prune_batch(
        &self,
        kind: DataKind,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StorageError> {
        let (table, time, key) = table(kind);
        let mut q = QueryBuilder::<Db>::new(format!(
            "DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM {table} WHERE "
        ));
        push_condition(&mut q, kind, before, true);
        q.push(format!(" ORDER BY {time} LIMIT "))
            .push_bind(i64::from(limit))
            .push(")");
        let done = q.build().execute(&self.pool).await.map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}
