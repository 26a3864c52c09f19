//! Probes: registration, credentials, poll bookkeeping.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::model::Probe;
use netpulse_ports::storage::{
    PollDetails, ProbeCredentials, ProbeStore, StorageError, TokenDigest,
};
use sqlx::AssertSqlSafe;

use super::{Store, begin_write};
use crate::storage::rows::{
    ProbeRow, digest_of, engines_from_text, engines_to_text, labels_to_json,
};
use crate::storage::{found, sql, unavailable};

#[async_trait]
impl ProbeStore for Store {
    async fn create_probe(&self, probe: &Probe, token: &TokenDigest) -> Result<(), StorageError> {
        sqlx::query(sql::INSERT_PROBE)
            .bind(probe.id.as_str().to_owned())
            .bind(probe.name.as_str().to_owned())
            .bind(labels_to_json(&probe.labels))
            .bind(token.0.to_vec())
            .bind(probe.enabled)
            .bind(probe.created_at.unix_millis())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn probe(&self, id: &ProbeId) -> Result<Option<Probe>, StorageError> {
        let sql = format!("SELECT {} FROM probes WHERE id = $1", sql::PROBE_COLUMNS);
        sqlx::query_as::<_, ProbeRow>(AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(ProbeRow::into_probe)
            .transpose()
    }

    async fn probes(&self) -> Result<Vec<Probe>, StorageError> {
        let sql = format!(
            "SELECT {} FROM probes ORDER BY name, id",
            sql::PROBE_COLUMNS
        );
        sqlx::query_as::<_, ProbeRow>(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(ProbeRow::into_probe)
            .collect()
    }

    async fn probe_credentials(
        &self,
        id: &ProbeId,
    ) -> Result<Option<ProbeCredentials>, StorageError> {
        #[allow(clippy::type_complexity)]
        let row: Option<(bool, Vec<u8>, Option<i64>, Option<String>, String)> = sqlx::query_as(
            "SELECT enabled, token_digest, last_poll_at, agent_version, agent_engines FROM probes \
             WHERE id = $1",
        )
        .bind(id.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|(enabled, digest, last_poll_at, agent_version, engines)| {
            Ok(ProbeCredentials {
                enabled,
                token_digest: digest_of(digest)?,
                last_poll_at: last_poll_at.map(Timestamp::from_unix_millis),
                poll_details: PollDetails {
                    agent_version,
                    engines: engines_from_text(&engines),
                },
            })
        })
        .transpose()
    }

    async fn set_probe_enabled(&self, id: &ProbeId, enabled: bool) -> Result<(), StorageError> {
        let done = sqlx::query("UPDATE probes SET enabled = $2 WHERE id = $1")
            .bind(id.as_str().to_owned())
            .bind(enabled)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "probe", id.as_str())
    }

    async fn set_probe_token(&self, id: &ProbeId, token: &TokenDigest) -> Result<(), StorageError> {
        let done = sqlx::query("UPDATE probes SET token_digest = $2 WHERE id = $1")
            .bind(id.as_str().to_owned())
            .bind(token.0.to_vec())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "probe", id.as_str())
    }

    async fn delete_probe(&self, id: &ProbeId) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM connections WHERE probe_id = $1")
                .bind(id.as_str().to_owned())
                .fetch_one(&mut *tx)
                .await
                .map_err(unavailable)?;
        if count > 0 {
            return Err(StorageError::Conflict(format!(
                "Probe {id} still has connections and cannot be deleted."
            )));
        }
        let done = sqlx::query("DELETE FROM probes WHERE id = $1")
            .bind(id.as_str().to_owned())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "probe", id.as_str())?;
        tx.commit().await.map_err(unavailable)
    }

    async fn record_poll(
        &self,
        id: &ProbeId,
        at: Timestamp,
        details: &PollDetails,
        debounce_seconds: i64,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(sql::RECORD_POLL)
            .bind(id.as_str().to_owned())
            .bind(at.unix_millis())
            .bind(details.agent_version.clone())
            .bind(engines_to_text(&details.engines))
            .bind(at.plus_seconds(-debounce_seconds).unix_millis())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }
}
