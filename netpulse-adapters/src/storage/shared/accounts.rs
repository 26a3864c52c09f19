//! Users, settings, API tokens, and the health check.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::{ApiTokenId, UserId};
use netpulse_ports::storage::{
    ApiToken, ApiTokenStore, SettingsStore, StorageError, StorageHealth, TokenDigest, User,
    UserStore,
};

use sqlx::AssertSqlSafe;

use super::{Store, begin_write};
use crate::storage::access_rows::{ApiTokenRow, TOKEN_COLUMNS, USER_COLUMNS, UserRow, scopes_text};
use crate::storage::{found, unavailable};

#[async_trait]
impl UserStore for Store {
    async fn create_user(&self, user: &User) -> Result<(), StorageError> {
        let email = user.email.trim().to_lowercase();
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(email.clone())
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        if taken.is_some() {
            return Err(StorageError::Conflict(format!(
                "a user with e-mail {email} already exists"
            )));
        }
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at, role, disabled, \
             display_name) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id.as_str().to_owned())
        .bind(email)
        .bind(user.password_hash.clone())
        .bind(user.created_at.unix_millis())
        .bind(user.role.as_str())
        .bind(user.disabled)
        .bind(user.display_name.clone())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        sqlx::query_as::<_, UserRow>(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        )))
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .map(UserRow::into_user)
        .transpose()
    }

    async fn set_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StorageError> {
        let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id.as_str().to_owned())
            .bind(hash.to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "user", id.as_str())
    }

    async fn user_count(&self) -> Result<u64, StorageError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[async_trait]
impl SettingsStore for Store {
    async fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(key.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(row.map(|(v,)| v))
    }

    async fn set_setting(&self, key: &str, value: &str, at: Timestamp) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) \
             DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key.to_owned())
        .bind(value.to_owned())
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl ApiTokenStore for Store {
    async fn create_api_token(
        &self,
        token: &ApiToken,
        digest: &TokenDigest,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_digest, created_at, last_used_at, user_id, \
             scopes, expires_at, last_used_ip) VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, NULL)",
        )
        .bind(token.id.as_str().to_owned())
        .bind(token.name.clone())
        .bind(digest.0.to_vec())
        .bind(token.created_at.unix_millis())
        .bind(token.user_id.as_ref().map(|u| u.as_str().to_owned()))
        .bind(scopes_text(&token.scopes))
        .bind(token.expires_at.map(Timestamp::unix_millis))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>, StorageError> {
        sqlx::query_as::<_, ApiTokenRow>(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(ApiTokenRow::into_token)
        .collect()
    }

    async fn api_token_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<ApiToken>, StorageError> {
        sqlx::query_as::<_, ApiTokenRow>(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_digest = $1"
        )))
        .bind(digest.0.to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .map(ApiTokenRow::into_token)
        .transpose()
    }

    async fn revoke_api_token(&self, id: &ApiTokenId) -> Result<(), StorageError> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id.as_str().to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "API token", id.as_str())
    }

    async fn set_api_token_last_used(
        &self,
        id: &ApiTokenId,
        at: Timestamp,
        ip: Option<&str>,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1, last_used_ip = $3 WHERE id = $2")
            .bind(at.unix_millis())
            .bind(id.as_str().to_owned())
            .bind(ip.map(str::to_owned))
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl StorageHealth for Store {
    async fn ping(&self) -> Result<(), StorageError> {
        // The write path, cheaply: take the write lock (SQLite's BEGIN IMMEDIATE waits for a
        // writer holding it), run an update that matches no row (PostgreSQL refuses it when
        // read-only), and roll back. Nothing is written.
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        sqlx::query("UPDATE settings SET updated_at = updated_at WHERE 1 = 0")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.rollback().await.map_err(unavailable)?;
        Ok(())
    }
}
