//! The rollup tables: the dirty-hour queue, raw reads for a recompute, bucket reads, and the
//! one-transaction write of a recompute (see `netpulse_ports::rollup_store`).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::retention::DataKind;
use netpulse_domain::rollup::Level;
use netpulse_ports::rollup_store::{
    DirtyHour, RawSpeedRow, RollupStore, RollupWrite, StoredRollup,
};
use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::{Db, Store, begin_write};
use crate::storage::rollup_rows::{
    INSERT_ROLLUP, RAW_COLUMNS, ROLLUP_COLUMNS, RawRow, RollupRow, big,
};
use crate::storage::rows::invalid;
use crate::storage::unavailable;

#[async_trait]
impl RollupStore for Store {
    async fn dirty_speed_hours(
        &self,
        connection: Option<&ConnectionId>,
        limit: u32,
    ) -> Result<Vec<DirtyHour>, StorageError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT connection_id, hour_at, version FROM speed_rollup_dirty \
             WHERE ($2 IS NULL OR connection_id = $2) ORDER BY connection_id, hour_at LIMIT $1",
        )
        .bind(i64::from(limit))
        .bind(connection.map(|c| c.as_str().to_owned()))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter()
            .map(|(c, hour, version)| {
                Ok(DirtyHour {
                    connection: ConnectionId::parse(&c)
                        .map_err(|e| invalid(e.field, &e.value, e.reason))?,
                    hour_at: Timestamp::from_unix_millis(hour),
                    version,
                })
            })
            .collect()
    }

    async fn mark_all_speed_dirty(&self, from: Timestamp) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "INSERT INTO speed_rollup_dirty (connection_id, hour_at, version) SELECT \
             connection_id, (completed_at / 3600000) * 3600000, 1 FROM measurements WHERE \
             completed_at >= $1 GROUP BY connection_id, (completed_at / 3600000) * 3600000 ON CONFLICT \
             (connection_id, hour_at) DO UPDATE SET version = speed_rollup_dirty.version + 1",
        )
        .bind(from.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn raw_speed_rows(
        &self,
        connection: &ConnectionId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<RawSpeedRow>, StorageError> {
        let sql = format!(
            "SELECT {RAW_COLUMNS} FROM measurements WHERE connection_id = $1 AND completed_at >= \
             $2 AND completed_at < $3"
        );
        Ok(sqlx::query_as::<_, RawRow>(AssertSqlSafe(sql))
            .bind(connection.as_str().to_owned())
            .bind(from.unix_millis())
            .bind(until.unix_millis())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(RawRow::into_raw)
            .collect())
    }

    async fn speed_rollups(
        &self,
        connection: Option<&ConnectionId>,
        level: Level,
        per_server: bool,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<StoredRollup>, StorageError> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {ROLLUP_COLUMNS} FROM speed_rollups WHERE level = "
        ));
        q.push_bind(level.code());
        if let Some(c) = connection {
            q.push(" AND connection_id = ")
                .push_bind(c.as_str().to_owned());
        }
        q.push(if per_server {
            " AND server_key <> ''"
        } else {
            " AND server_key = ''"
        });
        q.push(" AND bucket_at >= ")
            .push_bind(from.unix_millis())
            .push(" AND bucket_at < ")
            .push_bind(until.unix_millis())
            .push(" ORDER BY bucket_at");
        q.build_query_as::<RollupRow>()
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(RollupRow::into_stored)
            .collect()
    }

    async fn write_speed_rollups(&self, write: &RollupWrite) -> Result<bool, StorageError> {
        let computed_at = write.computed_at.map_or(0, Timestamp::unix_millis);
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let floor: Option<(i64,)> =
            sqlx::query_as("SELECT floor_at FROM retention_floors WHERE kind = $1")
                .bind(DataKind::RawSpeed.name())
                .fetch_optional(&mut *tx)
                .await
                .map_err(unavailable)?;
        if floor.map(|(f,)| f) != write.raw_floor.map(Timestamp::unix_millis) {
            tx.rollback().await.map_err(unavailable)?;
            return Ok(false);
        }
        for (connection, level, from, until) in &write.clear {
            sqlx::query(
                "DELETE FROM speed_rollups WHERE connection_id = $1 AND level = $2 AND bucket_at \
                 < $4 AND bucket_at > $5 AND bucket_end > $3",
            )
            .bind(connection.as_str().to_owned())
            .bind(level.code())
            .bind(from.unix_millis())
            .bind(until.unix_millis())
            .bind(
                from.unix_millis()
                    .saturating_sub(level.max_seconds() * 1000),
            )
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        for r in &write.rows {
            let b = &r.bucket;
            let mut q = sqlx::query(INSERT_ROLLUP)
                .bind(r.connection.as_str().to_owned())
                .bind(r.level.code())
                .bind(r.server_key.clone())
                .bind(r.bucket_at.unix_millis())
                .bind(r.bucket_end.unix_millis())
                .bind(r.server_name.clone())
                .bind(r.server_location.clone())
                .bind(r.by_host)
                .bind(big(b.results))
                .bind(big(b.ok))
                .bind(big(b.fail))
                .bind(big(b.healthy))
                .bind(r.expected)
                .bind(
                    b.last_at
                        .map_or(r.bucket_at.unix_millis(), Timestamp::unix_millis),
                )
                .bind(computed_at);
            for m in &b.metrics {
                q = q
                    .bind(big(m.values))
                    .bind(m.sum)
                    .bind(m.sum_sq)
                    .bind(m.min)
                    .bind(m.max)
                    .bind(m.sketch.encode());
            }
            q.execute(&mut *tx).await.map_err(unavailable)?;
        }
        for d in &write.done {
            sqlx::query(
                "DELETE FROM speed_rollup_dirty WHERE connection_id = $1 AND hour_at = $2 AND \
                 version = $3",
            )
            .bind(d.connection.as_str().to_owned())
            .bind(d.hour_at.unix_millis())
            .bind(d.version)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(true)
    }
}
