//! The baselines table and the window of samples a baseline is computed from (see
//! `netpulse_ports::baseline_store`). A row's series is a connection (metrics `download`,
//! `upload`, `ping`) or a check (metrics `latency_v4`, `latency_v6`).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::baseline::{Baseline, Metric};
use netpulse_domain::check::Family;
use netpulse_domain::id::{CheckId, ConnectionId};
use netpulse_domain::measurement::Observation;
use netpulse_ports::baseline_store::{BaselineStore, StoredBaseline, StoredCheckBaseline};
use netpulse_ports::storage::StorageError;

use super::binds::Conn;
use super::{Store, begin_write};
use crate::storage::rows::invalid;
use crate::storage::unavailable;

/// The series kind of a connection's rows.
const CONNECTION: &str = "connection";
/// The series kind of a check's rows.
const CHECK: &str = "check";

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

/// One row of a series as written.
struct RowOut<'a> {
    metric: String,
    day_start: Timestamp,
    baseline: &'a Baseline,
    computed_at: Timestamp,
}

/// A row read: metric, day, day start, statistics, computed at.
struct RowIn {
    series_id: String,
    metric: String,
    day: String,
    day_start: Timestamp,
    baseline: Baseline,
    computed_at: Timestamp,
}

fn row_in(row: Row) -> Result<RowIn, StorageError> {
    let (series_id, metric, day, day_start, n, median, p10, p90, mad, computed_at) = row;
    Ok(RowIn {
        series_id,
        metric,
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

fn check_metric(family: Family) -> String {
    format!("latency_{}", family.as_str())
}

impl Store {
    async fn replace_rows(
        &self,
        kind: &str,
        series_id: &str,
        day: &str,
        rows: Vec<RowOut<'_>>,
    ) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        sqlx::query("DELETE FROM baselines WHERE series_kind = $1 AND series_id = $2 AND day = $3")
            .bind(kind.to_owned())
            .bind(series_id.to_owned())
            .bind(day.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        for r in rows {
            let b = r.baseline;
            sqlx::query(
                "INSERT INTO baselines (series_kind, series_id, metric, day, day_start, n, \
                 median, p10, p90, mad, reliable, computed_at) VALUES ($1, $2, $3, $4, $5, $6, \
                 $7, $8, $9, $10, $11, $12)",
            )
            .bind(kind.to_owned())
            .bind(series_id.to_owned())
            .bind(r.metric)
            .bind(day.to_owned())
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
}

/// The rows of a series in force at `at`: per metric the newest with `since <= day_start <=
/// at`, on `conn` (ingest reads them in its transaction).
async fn rows_in_force(
    conn: &mut Conn,
    kind: &str,
    series_id: &str,
    since: Timestamp,
    at: Timestamp,
) -> Result<Vec<RowIn>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM baselines WHERE series_kind = $1 AND series_id = $2 \
         AND day_start >= $3 AND day_start <= $4 ORDER BY day_start DESC, metric"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(kind.to_owned())
        .bind(series_id.to_owned())
        .bind(since.unix_millis())
        .bind(at.unix_millis())
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
    let mut out: Vec<RowIn> = vec![];
    for row in rows {
        let r = row_in(row)?;
        // Newest first: the first row of each metric is the one in force.
        if !out.iter().any(|o| o.metric == r.metric) {
            out.push(r);
        }
    }
    Ok(out)
}

/// A connection's rows in force at `at` (see [`BaselineStore::baselines_in_force`]).
pub(super) async fn in_force(
    conn: &mut Conn,
    connection: &ConnectionId,
    since: Timestamp,
    at: Timestamp,
) -> Result<Vec<StoredBaseline>, StorageError> {
    rows_in_force(conn, CONNECTION, connection.as_str(), since, at)
        .await?
        .into_iter()
        .map(|r| {
            Ok(StoredBaseline {
                connection: ConnectionId::parse(&r.series_id)
                    .map_err(|e| invalid(e.field, &e.value, e.reason))?,
                metric: Metric::parse(&r.metric)?,
                day: r.day,
                day_start: r.day_start,
                baseline: r.baseline,
                computed_at: r.computed_at,
            })
        })
        .collect()
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
        let out = rows
            .iter()
            .map(|r| RowOut {
                metric: r.metric.as_str().to_owned(),
                day_start: r.day_start,
                baseline: &r.baseline,
                computed_at: r.computed_at,
            })
            .collect();
        self.replace_rows(CONNECTION, connection.as_str(), day, out)
            .await
    }

    async fn write_check_baselines(
        &self,
        check: &CheckId,
        day: &str,
        rows: &[StoredCheckBaseline],
    ) -> Result<(), StorageError> {
        let out = rows
            .iter()
            .map(|r| RowOut {
                metric: check_metric(r.family),
                day_start: r.day_start,
                baseline: &r.baseline,
                computed_at: r.computed_at,
            })
            .collect();
        self.replace_rows(CHECK, check.as_str(), day, out).await
    }

    async fn check_baselines_in_force(
        &self,
        check: &CheckId,
        since: Timestamp,
        at: Timestamp,
    ) -> Result<Vec<StoredCheckBaseline>, StorageError> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        rows_in_force(&mut conn, CHECK, check.as_str(), since, at)
            .await?
            .into_iter()
            .map(|r| {
                let family = [Family::V4, Family::V6]
                    .into_iter()
                    .find(|f| check_metric(*f) == r.metric)
                    .ok_or_else(|| invalid("metric", &r.metric, "is not a check metric"))?;
                Ok(StoredCheckBaseline {
                    check: CheckId::parse(&r.series_id)
                        .map_err(|e| invalid(e.field, &e.value, e.reason))?,
                    family,
                    day: r.day,
                    day_start: r.day_start,
                    baseline: r.baseline,
                    computed_at: r.computed_at,
                })
            })
            .collect()
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
