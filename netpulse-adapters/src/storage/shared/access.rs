//! Users and access: the accounts list, guarded role and disable changes, session flashes,
//! the audit log.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::access::Role;
use netpulse_domain::id::UserId;
use netpulse_ports::access_store::{AccessChange, AccessStore, AdminGuard, AuditEntry, Flash};
use netpulse_ports::storage::{ApiToken, StorageError, TokenDigest, User};

use sqlx::AssertSqlSafe;

use super::{LOCK, Store, begin_write};
use crate::storage::access_rows::{
    ApiTokenRow, AuditRow, FlashRow, TOKEN_COLUMNS, USER_COLUMNS, UserRow,
};
use crate::storage::{found, unavailable};

#[async_trait]
impl AccessStore for Store {
    async fn users(&self) -> Result<Vec<User>, StorageError> {
        sqlx::query_as::<_, UserRow>(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY email"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(UserRow::into_user)
        .collect()
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StorageError> {
        sqlx::query_as::<_, UserRow>(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .map(UserRow::into_user)
        .transpose()
    }

    async fn change_user_access(
        &self,
        id: &UserId,
        change: AccessChange,
        guard: AdminGuard,
    ) -> Result<Option<User>, StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        // Lock every enabled admin first (PostgreSQL), so two concurrent changes cannot both
        // see "another admin is left".
        let admins: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id FROM users WHERE role = 'admin' AND disabled = FALSE ORDER BY id{LOCK}"
        )))
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
        let user = sqlx::query_as::<_, UserRow>(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1{LOCK}"
        )))
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?
        .map(UserRow::into_user)
        .transpose()?
        .ok_or_else(|| StorageError::NotFound {
            what: "user",
            id: id.as_str().to_owned(),
        })?;
        let admin_now = user.role == Role::Admin && !user.disabled;
        let stays = match change {
            AccessChange::Role(r) => r == Role::Admin && !user.disabled,
            AccessChange::Disabled(d) => user.role == Role::Admin && !d,
            AccessChange::Delete => false,
        };
        let count = u64::try_from(admins.len()).unwrap_or(u64::MAX);
        if guard(admin_now, stays, count).is_err() {
            return Err(StorageError::Conflict(format!(
                "{} is the last enabled admin: make another account an admin first",
                user.email
            )));
        }
        let uid = id.as_str().to_owned();
        match change {
            AccessChange::Role(r) => {
                sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
                    .bind(uid.clone())
                    .bind(r.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
            }
            AccessChange::Disabled(d) => {
                sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                    .bind(uid.clone())
                    .bind(d)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                if d {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(uid.clone())
                        .execute(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                }
            }
            AccessChange::Delete => {
                sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(uid.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
            }
        }
        let after = sqlx::query_as::<_, UserRow>(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(uid)
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?
        .map(UserRow::into_user)
        .transpose()?;
        tx.commit().await.map_err(unavailable)?;
        Ok(after)
    }

    async fn set_display_name(&self, id: &UserId, name: Option<&str>) -> Result<(), StorageError> {
        let done = sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
            .bind(id.as_str().to_owned())
            .bind(name.map(str::to_owned))
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "user", id.as_str())
    }

    async fn api_tokens_of(&self, user: &UserId) -> Result<Vec<ApiToken>, StorageError> {
        sqlx::query_as::<_, ApiTokenRow>(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id"
        )))
        .bind(user.as_str().to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(ApiTokenRow::into_token)
        .collect()
    }

    async fn put_flash(
        &self,
        session: &TokenDigest,
        id: &str,
        kind: &str,
        payload: &str,
        at: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO session_flash (id, session_digest, kind, payload, created_at) VALUES \
             ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_owned())
        .bind(session.0.to_vec())
        .bind(kind.to_owned())
        .bind(payload.to_owned())
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn take_flashes(&self, session: &TokenDigest) -> Result<Vec<Flash>, StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let rows = sqlx::query_as::<_, FlashRow>(AssertSqlSafe(format!(
            "SELECT kind, payload, created_at FROM session_flash WHERE session_digest = $1 \
             ORDER BY created_at, id{LOCK}"
        )))
        .bind(session.0.to_vec())
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
        if !rows.is_empty() {
            sqlx::query("DELETE FROM session_flash WHERE session_digest = $1")
                .bind(session.0.to_vec())
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(rows.into_iter().map(FlashRow::into_flash).collect())
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor_id, actor_email, action, subject, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.id.clone())
        .bind(entry.at.unix_millis())
        .bind(entry.actor_id.as_ref().map(|u| u.as_str().to_owned()))
        .bind(entry.actor_email.clone())
        .bind(entry.action.clone())
        .bind(entry.subject.clone())
        .bind(entry.detail.clone())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn audit_entries(
        &self,
        before: Option<(Timestamp, String)>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StorageError> {
        let cols = "id, at, actor_id, actor_email, action, subject, detail";
        let limit = i64::from(limit.clamp(1, 1000));
        let rows = match before {
            Some((at, id)) => {
                sqlx::query_as::<_, AuditRow>(AssertSqlSafe(format!(
                    "SELECT {cols} FROM audit_log WHERE at < $1 OR (at = $1 AND id < $2) ORDER \
                     BY at DESC, id DESC LIMIT $3"
                )))
                .bind(at.unix_millis())
                .bind(id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query_as::<_, AuditRow>(AssertSqlSafe(format!(
                    "SELECT {cols} FROM audit_log ORDER BY at DESC, id DESC LIMIT $1"
                )))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(unavailable)?;
        rows.into_iter().map(AuditRow::into_entry).collect()
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(before.unix_millis())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}
