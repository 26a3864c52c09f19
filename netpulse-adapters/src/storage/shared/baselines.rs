//! The baselines table and the window of samples a baseline is computed from (see
//! `netpulse_ports::baseline_store`).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::baseline::{Baseline, Metric};
use netpulse_domain::id::ConnectionId;
use netpulse_domain::measurement::Observation;
use netpulse_ports::baseline_store::{BaselineStore, StoredBaseline};
use netpulse_ports::storage::StorageError;

use super::binds::Conn;
use super::{Store, begin_write};
use crate::storage::rows::invalid;
use crate::storage::unavailable;

/// The series kind of a connection's rows.
const CONNECTION: &str = "connection";

/// A bounded range scan on `measurements (connection_id, completed_at, id)`; the maintenance
/// windows of the connection and of its probe are excluded.
const SAMPLES: &str = "SELECT m.download_bps, m.upload_bps, m.ping_ms FROM measurements m \
     WHERE m.connection_id = $1 AND m.completed_at >= $2 AND m.completed_at < $3 \
     AND m.scheduled = TRUE AND m.status = 'completed' \
     AND NOT EXISTS (SELECT 1 FROM maintenance_windows w WHERE w.connection_id = m.connection_id \
     AND w.starts_at <= m.completed_at AND w.ends_at > m.completed_at) \
     AND NOT EXISTS (SELECT 1 FROM probe_maintenance p WHERE p.probe_id = m.probe_id \
     AND p.starts_at <= m.completed_at AND (p.ends_at IS NULL OR p.ends_at > m.completed_at))";

const COLUMNS: &str = "series_id, metric, day, day_start, n, median, p10, p90, mad, computed_at";

type Row = (String, String, String, i64, i64, f64, f64, f64, f64, i64);

fn stored(row: Row) -> Result<StoredBaseline, StorageError> {
    let (id, metric, day, day_start, n, median, p10, p90, mad, computed_at) = row;
    Ok(StoredBaseline {
        connection: ConnectionId::parse(&id).map_err(|e| invalid(e.field, &e.value, e.reason))?,
        metric: Metric::parse(&metric)?,
        day,
        day_start: Timestamp::from_unix_millis(day_start),
        baseline: Baseline {
            n: usize::try_from(n).map_err(|_| invalid("n", n, "is negative"))?,
            median,
            p10,
            p90,
            mad,
        },
        computed_at: Timestamp::from_unix_millis(computed_at),
    })
}

#[async_trait]
impl BaselineStore for Store {
    async fn baseline_samples(
        &self,
        connection: &ConnectionId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Observation>, StorageError> {
        let rows: Vec<(Option<f64>, Option<f64>, Option<f64>)> = sqlx::query_as(SAMPLES)
            .bind(connection.as_str().to_owned())
            .bind(from.unix_millis())
            .bind(until.unix_millis())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|(download_bps, upload_bps, ping_ms)| Observation {
                download_bps,
                upload_bps,
                ping_ms,
                ..Observation::default()
            })
            .collect())
    }

    async fn write_baselines(
        &self,
        connection: &ConnectionId,
        day: &str,
        rows: &[StoredBaseline],
    ) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        sqlx::query("DELETE FROM baselines WHERE series_kind = $1 AND series_id = $2 AND day = $3")
            .bind(CONNECTION)
            .bind(connection.as_str().to_owned())
            .bind(day.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        for r in rows {
            let b = &r.baseline;
            sqlx::query(
                "INSERT INTO baselines (series_kind, series_id, metric, day, day_start, n, \
                 median, p10, p90, mad, reliable, computed_at) VALUES ($1, $2, $3, $4, $5, $6, \
                 $7, $8, $9, $10, $11, $12)",
            )
            .bind(CONNECTION)
            .bind(r.connection.as_str().to_owned())
            .bind(r.metric.as_str())
            .bind(r.day.clone())
            .bind(r.day_start.unix_millis())
            .bind(i64::try_from(b.n).unwrap_or(i64::MAX))
            .bind(b.median)
            .bind(b.p10)
            .bind(b.p90)
            .bind(b.mad)
            .bind(b.reliable())
            .bind(r.computed_at.unix_millis())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn baselines_in_force(
        &self,
        connection: &ConnectionId,
        since: Timestamp,
        at: Timestamp,
    ) -> Result<Vec<StoredBaseline>, StorageError> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        in_force(&mut conn, connection, since, at).await
    }
}

/// The rows in force at `at` (see [`BaselineStore::baselines_in_force`]), on `conn` (ingest
/// reads them in its transaction).
pub(super) async fn in_force(
    conn: &mut Conn,
    connection: &ConnectionId,
    since: Timestamp,
    at: Timestamp,
) -> Result<Vec<StoredBaseline>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM baselines WHERE series_kind = $1 AND series_id = $2 \
         AND day_start >= $3 AND day_start <= $4 ORDER BY day_start DESC, metric"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(CONNECTION)
        .bind(connection.as_str().to_owned())
        .bind(since.unix_millis())
        .bind(at.unix_millis())
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
    let mut out: Vec<StoredBaseline> = vec![];
    for row in rows {
        let r = stored(row)?;
        // Newest first: the first row of each metric is the one in force.
        if !out.iter().any(|o| o.metric == r.metric) {
            out.push(r);
        }
    }
    Ok(out)
}
