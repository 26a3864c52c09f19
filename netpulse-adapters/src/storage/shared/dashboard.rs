//! The dashboard's read models and public share links. Every read is bounded by an index:
//! lists are keyset-paginated, aggregates run over `(connection_id, completed_at)` or
//! `(completed_at)` ranges, and per-connection "latest" data comes from the `connection_state`
//! row.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::degradation::HealthSample;
use netpulse_domain::id::{ConnectionId, ResultId};
use netpulse_domain::model::{Measurement, RunPhase};
use netpulse_domain::pool::PoolEntry;
use netpulse_ports::storage::{MeasurementFilter, RunState, StorageError};
use netpulse_ports::web_store::{
    ChangeCursor, ConnectionOverview, DashboardStore, ExportPosition, ExportRow, SeenServer,
    SeriesSample, ServerSummary, ShareLink, ShareLinkStore, WindowCounts,
};
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::{Db, Store};
use crate::storage::list::push_filter;
use crate::storage::rows::{ConnectionRow, MeasurementRow, StateRow, invalid};
use crate::storage::web_rows::{
    EXPORT_COLUMNS, ExportSqlRow, SeriesRow, ServerRow, ShareRow, count_of, sample_of,
};
use crate::storage::{sql, unavailable};

#[derive(Debug, sqlx::FromRow)]
struct OverviewRow {
    #[sqlx(flatten)]
    connection: ConnectionRow,
    #[sqlx(flatten)]
    state: StateRow,
    measurement_count: i64,
    probe_name: String,
    probe_last_poll_at: Option<i64>,
}

#[async_trait]
impl ShareLinkStore for Store {
    async fn create_share_link(&self, link: &ShareLink) -> Result<(), StorageError> {
        let done = sqlx::query(
            "INSERT INTO share_links (token, measurement_id, created_at) \
             SELECT $1, id, $3 FROM measurements WHERE id = $2",
        )
        .bind(link.token.clone())
        .bind(link.measurement_id.as_str().to_owned())
        .bind(link.created_at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound {
                what: "measurement",
                id: link.measurement_id.to_string(),
            });
        }
        Ok(())
    }

    async fn share_links_of(&self, measurement: &ResultId) -> Result<Vec<ShareLink>, StorageError> {
        sqlx::query_as::<_, ShareRow>(
            "SELECT token, measurement_id, created_at FROM share_links WHERE measurement_id = $1 \
             ORDER BY created_at, token",
        )
        .bind(measurement.as_str().to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(ShareRow::into_link)
        .collect()
    }

    async fn shared_measurement(&self, token: &str) -> Result<Option<Measurement>, StorageError> {
        let sql = format!(
            "SELECT {} FROM measurements WHERE id = (SELECT measurement_id FROM share_links WHERE \
             token = $1)",
            sql::MEASUREMENT_COLUMNS
        );
        sqlx::query_as::<_, MeasurementRow>(AssertSqlSafe(sql))
            .bind(token.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(MeasurementRow::into_measurement)
            .transpose()
    }

    async fn revoke_share_link(&self, token: &str) -> Result<(), StorageError> {
        let done = sqlx::query("DELETE FROM share_links WHERE token = $1")
            .bind(token.to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound {
                what: "share link",
                id: String::from("(token)"),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl DashboardStore for Store {
    async fn connection_overviews(&self) -> Result<Vec<ConnectionOverview>, StorageError> {
        let sql = format!(
            "SELECT {}, {}, s.measurement_count, p.name AS probe_name, p.last_poll_at AS \
             probe_last_poll_at FROM connections c JOIN probes p ON p.id = c.probe_id JOIN \
             connection_state s ON s.connection_id = c.id ORDER BY p.name, p.id, c.name, c.id",
            sql::CONNECTION_COLUMNS,
            sql::STATE_COLUMNS
        );
        sqlx::query_as::<_, OverviewRow>(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|row| {
                Ok(ConnectionOverview {
                    connection: row.connection.into_connection()?,
                    probe_name: row.probe_name,
                    probe_last_poll_at: row.probe_last_poll_at.map(Timestamp::from_unix_millis),
                    state: row.state.into_state()?,
                    measurement_count: count_of(row.measurement_count),
                })
            })
            .collect()
    }

    async fn series_samples(
        &self,
        connection: &ConnectionId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<SeriesSample>, StorageError> {
        Ok(sqlx::query_as::<_, SeriesRow>(
            "SELECT completed_at, download_bps, upload_bps, ping_ms, jitter_ms, \
             packet_loss_percent, status, healthy FROM measurements WHERE connection_id = $1 AND \
             completed_at >= $2 AND completed_at < $3 ORDER BY completed_at",
        )
        .bind(connection.as_str().to_owned())
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(SeriesRow::into_sample)
        .collect())
    }

    async fn latest_completed(
        &self,
        connection: &ConnectionId,
    ) -> Result<Option<Measurement>, StorageError> {
        let sql = format!(
            "SELECT {} FROM measurements WHERE connection_id = $1 AND status = 'completed' AND \
             completed_at = (SELECT last_completed_at FROM connection_state WHERE connection_id = \
             $1) ORDER BY id DESC LIMIT 1",
            sql::MEASUREMENT_COLUMNS
        );
        sqlx::query_as::<_, MeasurementRow>(AssertSqlSafe(sql))
            .bind(connection.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(MeasurementRow::into_measurement)
            .transpose()
    }

    async fn recent_samples(
        &self,
        connection: &ConnectionId,
        limit: u32,
    ) -> Result<Vec<(Timestamp, HealthSample)>, StorageError> {
        let rows: Vec<(i64, String, bool)> = sqlx::query_as(
            "SELECT completed_at, status, healthy FROM measurements WHERE connection_id = $1 \
             ORDER BY completed_at DESC, id DESC LIMIT $2",
        )
        .bind(connection.as_str().to_owned())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|(at, status, healthy)| {
                (Timestamp::from_unix_millis(at), sample_of(&status, healthy))
            })
            .collect())
    }

    async fn window_counts(
        &self,
        connection: &ConnectionId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<WindowCounts, StorageError> {
        let (tests, healthy, failed): (i64, i64, i64) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN healthy THEN 1 ELSE 0 \
             END), 0) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 \
             END), 0) AS BIGINT) FROM measurements WHERE connection_id = $1 AND completed_at >= $2 \
             AND completed_at < $3",
        )
        .bind(connection.as_str().to_owned())
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(WindowCounts {
            tests: count_of(tests),
            healthy: count_of(healthy),
            failed: count_of(failed),
        })
    }

    async fn change_cursor(&self) -> Result<ChangeCursor, StorageError> {
        let (count, latest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(measurement_count), 0) AS BIGINT), MAX(last_at) FROM \
             connection_state",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        let (runs,): (Option<i64>,) = sqlx::query_as("SELECT MAX(updated_at) FROM run_requests")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(ChangeCursor {
            measurements: count_of(count),
            latest_at: latest.map(Timestamp::from_unix_millis),
            runs_updated_at: runs.map(Timestamp::from_unix_millis),
        })
    }

    async fn recent_runs(
        &self,
        done_since: Timestamp,
    ) -> Result<Vec<(ConnectionId, RunState)>, StorageError> {
        let rows: Vec<(String, String, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT connection_id, phase, pinned, requested_at, updated_at FROM run_requests \
             WHERE phase IN ('queued', 'running') OR updated_at >= $1 ORDER BY requested_at DESC",
        )
        .bind(done_since.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter()
            .map(|(id, phase, pinned, requested_at, updated_at)| {
                Ok((
                    ConnectionId::parse(&id).map_err(|e| invalid(e.field, &e.value, e.reason))?,
                    RunState {
                        phase: RunPhase::parse(&phase)
                            .ok_or_else(|| invalid("phase", &phase, "is not a run phase"))?,
                        pinned: pinned.as_deref().map(PoolEntry::parse).transpose()?,
                        requested_at: Timestamp::from_unix_millis(requested_at),
                        updated_at: Timestamp::from_unix_millis(updated_at),
                    },
                ))
            })
            .collect()
    }

    async fn count_measurements(&self, filter: &MeasurementFilter) -> Result<u64, StorageError> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM measurements WHERE 1 = 1",
        );
        push_filter(&mut q, filter);
        let (n,): (i64,) = q
            .build_query_as()
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(count_of(n))
    }

    async fn servers_seen(&self, since: Timestamp) -> Result<Vec<SeenServer>, StorageError> {
        let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT server_id, MAX(server_name), MAX(server_location) FROM measurements WHERE \
             completed_at >= $1 AND server_id IS NOT NULL AND server_id <> '' GROUP BY server_id",
        )
        .bind(since.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut servers: Vec<SeenServer> = rows
            .into_iter()
            .map(|(id, name, location)| SeenServer { id, name, location })
            .collect();
        servers.sort_by(|a, b| {
            let key = |s: &SeenServer| s.name.clone().unwrap_or_default().to_lowercase();
            key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
        });
        Ok(servers)
    }

    async fn server_summaries(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<ServerSummary>, StorageError> {
        let rows = sqlx::query_as::<_, ServerRow>(
            "SELECT server_id, MAX(server_name) AS server_name, MAX(server_location) AS \
             server_location, AVG(download_bps) AS download_bps, AVG(upload_bps) AS upload_bps, \
             AVG(ping_ms) AS ping_ms, AVG(packet_loss_percent) AS packet_loss_percent, \
             CAST(COUNT(*) AS BIGINT) AS tests, CAST(SUM(CASE WHEN healthy THEN 1 ELSE 0 END) AS \
             BIGINT) AS healthy, MAX(completed_at) AS last_seen FROM measurements WHERE \
             completed_at >= $1 AND completed_at < $2 AND server_id IS NOT NULL AND server_id <> \
             '' GROUP BY server_id",
        )
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut out: Vec<ServerSummary> = rows.into_iter().map(ServerRow::into_summary).collect();
        out.sort_by(|a, b| {
            let key = |s: &ServerSummary| s.server.name.clone().unwrap_or_default().to_lowercase();
            key(a)
                .cmp(&key(b))
                .then_with(|| a.server.id.cmp(&b.server.id))
        });
        Ok(out)
    }

    async fn export_rows(
        &self,
        filter: &MeasurementFilter,
        after: Option<&ExportPosition>,
        limit: u32,
    ) -> Result<Vec<ExportRow>, StorageError> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {EXPORT_COLUMNS} FROM measurements WHERE 1 = 1"
        ));
        push_filter(&mut q, filter);
        if let Some(p) = after {
            let at = p.completed_at.unix_millis();
            // A row-value comparison: both databases walk the (completed_at, id)
            // index from the position instead of filtering an OR.
            q.push(" AND (completed_at, id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(p.id.as_str().to_owned())
                .push(")");
        }
        q.push(" ORDER BY completed_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit.clamp(1, 10_000)));
        q.build_query_as::<ExportSqlRow>()
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(ExportSqlRow::into_row)
            .collect()
    }
}
