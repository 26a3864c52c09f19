//! The web dashboard's part of the storage port (`netpulse_ports::web_store`), written once and
//! expanded for each database next to `storage_impl!`. Every read is bounded by an index: lists
//! are keyset-paginated, aggregates run over `(connection_id, completed_at)` or `(completed_at)`
//! ranges, and per-connection "latest" data comes from the `connection_state` row.

use netpulse_domain::Timestamp;
use netpulse_domain::degradation::HealthSample;
use netpulse_domain::id::{ConnectionId, ResultId, UserId};
use netpulse_ports::storage::{MeasurementFilter, StorageError};
use netpulse_ports::web_store::{
    ExportRow, SeenServer, SeriesSample, ServerSummary, SessionRecord, ShareLink, ThrottleState,
};
use sqlx::QueryBuilder;

use crate::storage::rows::invalid;

/// Appends the filter's conditions (after a `WHERE …`).
pub(crate) fn push_filter<DB>(q: &mut QueryBuilder<DB>, filter: &MeasurementFilter)
where
    DB: sqlx::Database,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'static str: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(p) = &filter.probe {
        q.push(" AND probe_id = ").push_bind(p.as_str().to_owned());
    }
    if let Some(c) = &filter.connection {
        q.push(" AND connection_id = ")
            .push_bind(c.as_str().to_owned());
    }
    if let Some(s) = &filter.server_id {
        q.push(" AND server_id = ").push_bind(s.clone());
    }
    if let Some(done) = filter.completed {
        q.push(" AND status = ")
            .push_bind(if done { "completed" } else { "failed" });
    }
    if let Some(h) = filter.healthy {
        q.push(" AND healthy = ").push_bind(h);
    }
    if let Some(s) = filter.scheduled {
        q.push(" AND scheduled = ").push_bind(s);
    }
    if let Some(since) = filter.since {
        q.push(" AND completed_at >= ")
            .push_bind(since.unix_millis());
    }
    if let Some(until) = filter.until {
        q.push(" AND completed_at < ")
            .push_bind(until.unix_millis());
    }
}

fn id_error(e: &netpulse_domain::id::IdError) -> StorageError {
    invalid(e.field, &e.value, e.reason)
}

pub(crate) fn sample_of(status: &str, healthy: bool) -> HealthSample {
    HealthSample::from_verdict(status == "failed", Some(healthy))
}

pub(crate) fn count_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub user_id: String,
    pub email: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl SessionRow {
    pub(crate) fn into_record(self) -> Result<SessionRecord, StorageError> {
        Ok(SessionRecord {
            user_id: UserId::parse(&self.user_id).map_err(|e| id_error(&e))?,
            email: self.email,
            csrf_token: self.csrf_token,
            created_at: Timestamp::from_unix_millis(self.created_at),
            last_seen_at: Timestamp::from_unix_millis(self.last_seen_at),
            expires_at: Timestamp::from_unix_millis(self.expires_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ThrottleRow {
    pub failures: i32,
    pub window_start: i64,
    pub locked_until: Option<i64>,
}

impl ThrottleRow {
    pub(crate) fn into_state(self) -> ThrottleState {
        ThrottleState {
            failures: u32::try_from(self.failures).unwrap_or(0),
            window_start: Timestamp::from_unix_millis(self.window_start),
            locked_until: self.locked_until.map(Timestamp::from_unix_millis),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ShareRow {
    pub token: String,
    pub measurement_id: String,
    pub created_at: i64,
}

impl ShareRow {
    pub(crate) fn into_link(self) -> Result<ShareLink, StorageError> {
        Ok(ShareLink {
            token: self.token,
            measurement_id: ResultId::parse(&self.measurement_id).map_err(|e| id_error(&e))?,
            created_at: Timestamp::from_unix_millis(self.created_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SeriesRow {
    pub completed_at: i64,
    pub download_bps: Option<f64>,
    pub upload_bps: Option<f64>,
    pub ping_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub packet_loss_percent: Option<f64>,
    pub status: String,
    pub healthy: bool,
}

impl SeriesRow {
    pub(crate) fn into_sample(self) -> SeriesSample {
        SeriesSample {
            at: Timestamp::from_unix_millis(self.completed_at),
            download_bps: self.download_bps,
            upload_bps: self.upload_bps,
            ping_ms: self.ping_ms,
            jitter_ms: self.jitter_ms,
            packet_loss_percent: self.packet_loss_percent,
            sample: sample_of(&self.status, self.healthy),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ServerRow {
    pub server_id: String,
    pub server_name: Option<String>,
    pub server_location: Option<String>,
    pub download_bps: Option<f64>,
    pub upload_bps: Option<f64>,
    pub ping_ms: Option<f64>,
    pub packet_loss_percent: Option<f64>,
    pub tests: i64,
    pub healthy: i64,
    pub last_seen: i64,
}

impl ServerRow {
    pub(crate) fn into_summary(self) -> ServerSummary {
        ServerSummary {
            server: SeenServer {
                id: self.server_id,
                name: self.server_name,
                location: self.server_location,
            },
            download_bps: self.download_bps,
            upload_bps: self.upload_bps,
            ping_ms: self.ping_ms,
            packet_loss_percent: self.packet_loss_percent,
            tests: count_of(self.tests),
            healthy: count_of(self.healthy),
            last_seen: Timestamp::from_unix_millis(self.last_seen),
        }
    }
}

pub(crate) const EXPORT_COLUMNS: &str = "id, connection_id, completed_at, engine, server_id, \
     server_name, server_location, scheduled, download_bps, upload_bps, ping_ms, jitter_ms, \
     packet_loss_percent, status, healthy, breaches, failure_message";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExportSqlRow {
    pub id: String,
    pub connection_id: String,
    pub completed_at: i64,
    pub engine: String,
    pub server_id: Option<String>,
    pub server_name: Option<String>,
    pub server_location: Option<String>,
    pub scheduled: bool,
    pub download_bps: Option<f64>,
    pub upload_bps: Option<f64>,
    pub ping_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub packet_loss_percent: Option<f64>,
    pub status: String,
    pub healthy: bool,
    pub breaches: String,
    pub failure_message: Option<String>,
}

impl ExportSqlRow {
    pub(crate) fn into_row(self) -> Result<ExportRow, StorageError> {
        Ok(ExportRow {
            id: ResultId::parse(&self.id).map_err(|e| id_error(&e))?,
            connection_id: ConnectionId::parse(&self.connection_id).map_err(|e| id_error(&e))?,
            completed_at: Timestamp::from_unix_millis(self.completed_at),
            engine: self.engine,
            server: SeenServer {
                id: self.server_id.unwrap_or_default(),
                name: self.server_name,
                location: self.server_location,
            },
            scheduled: self.scheduled,
            download_bps: self.download_bps,
            upload_bps: self.upload_bps,
            ping_ms: self.ping_ms,
            jitter_ms: self.jitter_ms,
            packet_loss_percent: self.packet_loss_percent,
            completed: self.status == "completed",
            healthy: self.healthy,
            breaches: self.breaches,
            failure: self.failure_message,
        })
    }
}

macro_rules! web_store_impl {
    ($storage:ty, $db:ty, begin_write = $begin:expr, lock = $lock:expr) => {
        mod web_store {
            use async_trait::async_trait;
            use netpulse_domain::Timestamp;
            use netpulse_domain::degradation::HealthSample;
            use netpulse_domain::id::{ConnectionId, ResultId, UserId};
            use netpulse_domain::model::{Measurement, RunPhase};
            use netpulse_domain::pool::PoolEntry;
            use netpulse_ports::storage::{MeasurementFilter, RunState, StorageError, TokenDigest};
            use netpulse_ports::web_store::{
                ChangeCursor, ConnectionOverview, DashboardStore, ExportPosition, ExportRow, LoginThrottleStore,
                SeenServer, SeriesSample, ServerSummary, SessionRecord, SessionStore, ShareLink, ShareLinkStore,
                ThrottleRule, ThrottleState, WindowCounts,
            };
            use sqlx::{AssertSqlSafe, QueryBuilder};

            use $crate::storage::rows::{ConnectionRow, MeasurementRow, StateRow, invalid};
            use $crate::storage::sql;
            use $crate::storage::unavailable;
            use $crate::storage::web::{
                EXPORT_COLUMNS, ExportSqlRow, SeriesRow, ServerRow, SessionRow, ShareRow, ThrottleRow, count_of,
                push_filter, sample_of,
            };

            type Db = $db;

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
            impl SessionStore for $storage {
                async fn create_session(
                    &self,
                    session: &netpulse_ports::web_store::NewSession,
                ) -> Result<(), StorageError> {
                    sqlx::query(
                        "INSERT INTO sessions (id_digest, user_id, csrf_token, created_at, last_seen_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $4, $5)",
                    )
                    .bind(session.digest.0.to_vec())
                    .bind(session.user_id.as_str().to_owned())
                    .bind(session.csrf_token.clone())
                    .bind(session.created_at.unix_millis())
                    .bind(session.expires_at.unix_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                    Ok(())
                }

                async fn session(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StorageError> {
                    sqlx::query_as::<_, SessionRow>(
                        "SELECT s.user_id, u.email, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at \
                         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_digest = $1",
                    )
                    .bind(digest.0.to_vec())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .map(SessionRow::into_record)
                    .transpose()
                }

                async fn touch_session(&self, digest: &TokenDigest, at: Timestamp) -> Result<(), StorageError> {
                    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_digest = $1 AND last_seen_at < $2")
                        .bind(digest.0.to_vec())
                        .bind(at.unix_millis())
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(())
                }

                async fn delete_session(&self, digest: &TokenDigest) -> Result<(), StorageError> {
                    sqlx::query("DELETE FROM sessions WHERE id_digest = $1")
                        .bind(digest.0.to_vec())
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(())
                }

                async fn delete_user_sessions(&self, user: &UserId) -> Result<(), StorageError> {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(user.as_str().to_owned())
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(())
                }

                async fn delete_stale_sessions(
                    &self,
                    now: Timestamp,
                    idle_before: Timestamp,
                ) -> Result<u64, StorageError> {
                    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
                        .bind(now.unix_millis())
                        .bind(idle_before.unix_millis())
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(done.rows_affected())
                }
            }

            #[async_trait]
            impl LoginThrottleStore for $storage {
                async fn throttle_state(&self, key: &str) -> Result<Option<ThrottleState>, StorageError> {
                    Ok(sqlx::query_as::<_, ThrottleRow>(
                        "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1",
                    )
                    .bind(key.to_owned())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .map(ThrottleRow::into_state))
                }

                async fn record_login_failure(
                    &self,
                    key: &str,
                    at: Timestamp,
                    rule: ThrottleRule,
                ) -> Result<ThrottleState, StorageError> {
                    let mut tx = ($begin)(&self.pool).await.map_err(unavailable)?;
                    // Make sure the row exists, then lock it (PostgreSQL) before reading.
                    sqlx::query(
                        "INSERT INTO login_throttle (key, failures, window_start, locked_until) \
                         VALUES ($1, 0, $2, NULL) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(key.to_owned())
                    .bind(at.unix_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                    let lock: &str = $lock;
                    let previous = sqlx::query_as::<_, ThrottleRow>(AssertSqlSafe(format!(
                        "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1{lock}"
                    )))
                    .bind(key.to_owned())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(unavailable)?
                    .into_state();
                    let previous = (previous.failures > 0).then_some(previous);
                    let next = ThrottleState::after_failure(previous, at, rule);
                    sqlx::query(
                        "UPDATE login_throttle SET failures = $2, window_start = $3, locked_until = $4 WHERE key = $1",
                    )
                    .bind(key.to_owned())
                    .bind(i32::try_from(next.failures).unwrap_or(i32::MAX))
                    .bind(next.window_start.unix_millis())
                    .bind(next.locked_until.map(Timestamp::unix_millis))
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                    tx.commit().await.map_err(unavailable)?;
                    Ok(next)
                }

                async fn clear_login_failures(&self, key: &str) -> Result<(), StorageError> {
                    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                        .bind(key.to_owned())
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(())
                }
            }

            #[async_trait]
            impl ShareLinkStore for $storage {
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
                        "SELECT {} FROM measurements WHERE id = (SELECT measurement_id FROM share_links WHERE token = $1)",
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
            impl DashboardStore for $storage {
                async fn connection_overviews(&self) -> Result<Vec<ConnectionOverview>, StorageError> {
                    let sql = format!(
                        "SELECT {}, {}, s.measurement_count, p.name AS probe_name, p.last_poll_at AS probe_last_poll_at \
                         FROM connections c JOIN probes p ON p.id = c.probe_id \
                         JOIN connection_state s ON s.connection_id = c.id \
                         ORDER BY p.name, p.id, c.name, c.id",
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
                        "SELECT completed_at, download_bps, upload_bps, ping_ms, jitter_ms, packet_loss_percent, \
                         status, healthy FROM measurements WHERE connection_id = $1 AND completed_at >= $2 \
                         AND completed_at < $3 ORDER BY completed_at",
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

                async fn latest_completed(&self, connection: &ConnectionId) -> Result<Option<Measurement>, StorageError> {
                    let sql = format!(
                        "SELECT {} FROM measurements WHERE connection_id = $1 AND status = 'completed' \
                         AND completed_at = (SELECT last_completed_at FROM connection_state WHERE connection_id = $1) \
                         ORDER BY id DESC LIMIT 1",
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
                        .map(|(at, status, healthy)| (Timestamp::from_unix_millis(at), sample_of(&status, healthy)))
                        .collect())
                }

                async fn window_counts(
                    &self,
                    connection: &ConnectionId,
                    since: Timestamp,
                    until: Timestamp,
                ) -> Result<WindowCounts, StorageError> {
                    let (tests, healthy, failed): (i64, i64, i64) = sqlx::query_as(
                        "SELECT CAST(COUNT(*) AS BIGINT), \
                         CAST(COALESCE(SUM(CASE WHEN healthy THEN 1 ELSE 0 END), 0) AS BIGINT), \
                         CAST(COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) \
                         FROM measurements WHERE connection_id = $1 AND completed_at >= $2 AND completed_at < $3",
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
                        "SELECT CAST(COALESCE(SUM(measurement_count), 0) AS BIGINT), MAX(last_at) FROM connection_state",
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

                async fn recent_runs(&self, done_since: Timestamp) -> Result<Vec<(ConnectionId, RunState)>, StorageError> {
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
                    let mut q = QueryBuilder::<Db>::new("SELECT CAST(COUNT(*) AS BIGINT) FROM measurements WHERE 1 = 1");
                    push_filter(&mut q, filter);
                    let (n,): (i64,) = q.build_query_as().fetch_one(&self.pool).await.map_err(unavailable)?;
                    Ok(count_of(n))
                }

                async fn servers_seen(&self, since: Timestamp) -> Result<Vec<SeenServer>, StorageError> {
                    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
                        "SELECT server_id, MAX(server_name), MAX(server_location) FROM measurements \
                         WHERE completed_at >= $1 AND server_id IS NOT NULL AND server_id <> '' GROUP BY server_id",
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

                async fn server_summaries(&self, since: Timestamp, until: Timestamp) -> Result<Vec<ServerSummary>, StorageError> {
                    let rows = sqlx::query_as::<_, ServerRow>(
                        "SELECT server_id, MAX(server_name) AS server_name, MAX(server_location) AS server_location, \
                         AVG(download_bps) AS download_bps, AVG(upload_bps) AS upload_bps, AVG(ping_ms) AS ping_ms, \
                         AVG(packet_loss_percent) AS packet_loss_percent, CAST(COUNT(*) AS BIGINT) AS tests, \
                         CAST(SUM(CASE WHEN healthy THEN 1 ELSE 0 END) AS BIGINT) AS healthy, \
                         MAX(completed_at) AS last_seen FROM measurements \
                         WHERE completed_at >= $1 AND completed_at < $2 AND server_id IS NOT NULL AND server_id <> '' \
                         GROUP BY server_id",
                    )
                    .bind(since.unix_millis())
                    .bind(until.unix_millis())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unavailable)?;
                    let mut out: Vec<ServerSummary> = rows.into_iter().map(ServerRow::into_summary).collect();
                    out.sort_by(|a, b| {
                        let key = |s: &ServerSummary| s.server.name.clone().unwrap_or_default().to_lowercase();
                        key(a).cmp(&key(b)).then_with(|| a.server.id.cmp(&b.server.id))
                    });
                    Ok(out)
                }

                async fn export_rows(
                    &self,
                    filter: &MeasurementFilter,
                    after: Option<&ExportPosition>,
                    limit: u32,
                ) -> Result<Vec<ExportRow>, StorageError> {
                    let mut q = QueryBuilder::<Db>::new(format!("SELECT {EXPORT_COLUMNS} FROM measurements WHERE 1 = 1"));
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
        }
    };
}

pub(crate) use web_store_impl;
