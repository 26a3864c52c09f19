//! What the scheduler reads per probe, and run-now requests (queued, taken, done).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::due_work::RunNowRequest;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::RunPhase;
use netpulse_domain::pool::PoolEntry;
use netpulse_ports::storage::{
    RunScope, RunState, SchedulingEntry, SchedulingStore, StorageError, TakenRunRequest,
};
use sqlx::AssertSqlSafe;

use super::{Store, begin_write};
use crate::storage::rows::{SchedulingRow, invalid};
use crate::storage::{sql, unavailable};

#[async_trait]
impl SchedulingStore for Store {
    async fn scheduling_entries(
        &self,
        probe: &ProbeId,
    ) -> Result<Vec<SchedulingEntry>, StorageError> {
        let sql = format!(
            "SELECT {}, {}, COALESCE(r.phase = 'queued', FALSE) AS run_queued FROM connections c \
             JOIN connection_state s ON s.connection_id = c.id \
             LEFT JOIN run_requests r ON r.connection_id = c.id \
             WHERE c.probe_id = $1 ORDER BY c.name, c.id",
            sql::CONNECTION_COLUMNS,
            sql::STATE_COLUMNS
        );
        sqlx::query_as::<_, SchedulingRow>(AssertSqlSafe(sql))
            .bind(probe.as_str().to_owned())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|row| {
                Ok(SchedulingEntry {
                    connection: row.connection.into_connection()?,
                    state: row.state.into_state()?,
                    run_queued: row.run_queued,
                })
            })
            .collect()
    }

    async fn request_run(
        &self,
        scope: RunScope<'_>,
        pinned: Option<&PoolEntry>,
        at: Timestamp,
    ) -> Result<Vec<ConnectionId>, StorageError> {
        match scope {
            RunScope::Connection(id) => {
                let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
                let row: Option<(bool,)> =
                    sqlx::query_as("SELECT enabled FROM connections WHERE id = $1")
                        .bind(id.as_str().to_owned())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                match row {
                    None => {
                        return Err(StorageError::NotFound {
                            what: "connection",
                            id: id.to_string(),
                        });
                    }
                    Some((false,)) => {
                        return Err(StorageError::Conflict(format!(
                            "connection {id} is disabled; enable it to run a test"
                        )));
                    }
                    Some((true,)) => {}
                }
                sqlx::query(sql::UPSERT_RUN_REQUEST)
                    .bind(id.as_str().to_owned())
                    .bind(pinned.map(|p| p.as_str().to_owned()))
                    .bind(at.unix_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                tx.commit().await.map_err(unavailable)?;
                Ok(vec![id.clone()])
            }
            RunScope::All => {
                if pinned.is_some() {
                    return Err(StorageError::Conflict(
                        "a specific server cannot be pinned for all connections".to_owned(),
                    ));
                }
                let rows: Vec<(String,)> = sqlx::query_as(sql::UPSERT_RUN_REQUEST_ALL)
                    .bind(at.unix_millis())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unavailable)?;
                rows.into_iter()
                    .map(|(id,)| {
                        ConnectionId::parse(&id).map_err(|e| invalid(e.field, e.value, e.reason))
                    })
                    .collect()
            }
        }
    }

    async fn take_run_requests(
        &self,
        probe: &ProbeId,
        at: Timestamp,
    ) -> Result<Vec<TakenRunRequest>, StorageError> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(sql::TAKE_RUN_REQUESTS)
            .bind(probe.as_str().to_owned())
            .bind(at.unix_millis())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.into_iter()
            .map(|(id, pinned)| {
                Ok(TakenRunRequest {
                    connection_id: ConnectionId::parse(&id)
                        .map_err(|e| invalid(e.field, e.value, e.reason))?,
                    request: RunNowRequest {
                        pinned: pinned.as_deref().map(PoolEntry::parse).transpose()?,
                    },
                })
            })
            .collect()
    }

    async fn run_state(&self, id: &ConnectionId) -> Result<Option<RunState>, StorageError> {
        let row: Option<(String, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT phase, pinned, requested_at, updated_at FROM run_requests WHERE connection_id \
             = $1",
        )
        .bind(id.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|(phase, pinned, requested, updated)| {
            Ok(RunState {
                phase: RunPhase::parse(&phase)
                    .ok_or_else(|| invalid("phase", &phase, "is not a run phase"))?,
                pinned: pinned.as_deref().map(PoolEntry::parse).transpose()?,
                requested_at: Timestamp::from_unix_millis(requested),
                updated_at: Timestamp::from_unix_millis(updated),
            })
        })
        .transpose()
    }
}
