//! Connections and their state rows.

use async_trait::async_trait;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::{Connection, ConnectionState};
use netpulse_ports::storage::{ConnectionStore, StorageError};
use sqlx::AssertSqlSafe;

use super::binds::{Conn, bind_connection};
use super::{Store, begin_write};
use crate::storage::rows::{ConnectionRow, ConnectionValues, StateRow};
use crate::storage::{found, sql, unavailable};

#[async_trait]
impl ConnectionStore for Store {
    async fn create_connection(&self, connection: &Connection) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM probes WHERE id = $1")
            .bind(connection.probe_id.as_str().to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        if exists.is_none() {
            return Err(StorageError::NotFound {
                what: "probe",
                id: connection.probe_id.to_string(),
            });
        }
        bind_connection(
            sqlx::query(sql::INSERT_CONNECTION),
            ConnectionValues::of(connection),
        )
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        sqlx::query(sql::INSERT_STATE)
            .bind(connection.id.as_str().to_owned())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn update_connection(&self, connection: &Connection) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let mut values = ConnectionValues::of(connection);
        values.created_at = i64::MAX;
        let done = bind_connection(sqlx::query(sql::UPDATE_CONNECTION), values)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "connection", connection.id.as_str())?;
        if !connection.enabled {
            cancel_queued(&mut tx, &connection.id).await?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StorageError> {
        let sql = format!(
            "SELECT {} FROM connections c WHERE c.id = $1",
            sql::CONNECTION_COLUMNS
        );
        sqlx::query_as::<_, ConnectionRow>(AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(ConnectionRow::into_connection)
            .transpose()
    }

    async fn connections(&self, probe: Option<&ProbeId>) -> Result<Vec<Connection>, StorageError> {
        let sql = format!(
            "SELECT {} FROM connections c JOIN probes p ON p.id = c.probe_id \
             WHERE ($1 IS NULL OR c.probe_id = $1) ORDER BY p.name, p.id, c.name, c.id",
            sql::CONNECTION_COLUMNS
        );
        sqlx::query_as::<_, ConnectionRow>(AssertSqlSafe(sql))
            .bind(probe.map(|p| p.as_str().to_owned()))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(ConnectionRow::into_connection)
            .collect()
    }

    async fn set_connection_enabled(
        &self,
        id: &ConnectionId,
        enabled: bool,
    ) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let done = sqlx::query("UPDATE connections SET enabled = $2 WHERE id = $1")
            .bind(id.as_str().to_owned())
            .bind(enabled)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "connection", id.as_str())?;
        if !enabled {
            cancel_queued(&mut tx, id).await?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn delete_connection(&self, id: &ConnectionId) -> Result<(), StorageError> {
        let done = sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id.as_str().to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "connection", id.as_str())
    }

    async fn connection_state(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<ConnectionState>, StorageError> {
        let sql = format!(
            "SELECT {} FROM connection_state s WHERE s.connection_id = $1",
            sql::STATE_COLUMNS
        );
        sqlx::query_as::<_, StateRow>(AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(StateRow::into_state)
            .transpose()
    }
}

/// Cancels the connection's queued run-now request (it was disabled).
async fn cancel_queued(conn: &mut Conn, id: &ConnectionId) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE run_requests SET phase = 'cancelled' WHERE connection_id = $1 AND phase = 'queued'",
    )
    .bind(id.as_str().to_owned())
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}
