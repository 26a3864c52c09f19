//! Browser sessions and sign-in throttling (the rule is
//! [`ThrottleState::after_failure`]; this counts a failure atomically and stores its result).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::UserId;
use netpulse_ports::storage::{StorageError, TokenDigest};
use netpulse_ports::web_store::{
    LoginThrottleStore, NewSession, SessionRecord, SessionStore, ThrottleRule, ThrottleState,
};
use sqlx::AssertSqlSafe;

use super::{LOCK, Store, begin_write};
use crate::storage::unavailable;
use crate::storage::web_rows::{SessionRow, ThrottleRow};

#[async_trait]
impl SessionStore for Store {
    async fn create_session(&self, session: &NewSession) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO sessions (id_digest, user_id, csrf_token, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
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
            "SELECT s.user_id, u.email, u.role, u.disabled, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at \
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
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $2 WHERE id_digest = $1 AND last_seen_at < $2",
        )
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
impl LoginThrottleStore for Store {
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
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
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
        let lock: &str = LOCK;
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
            "UPDATE login_throttle SET failures = $2, window_start = $3, locked_until = $4 WHERE \
             key = $1",
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
