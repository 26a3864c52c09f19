//! Two-factor sign-in: sealed TOTP secrets, the accepted step, recovery codes, pending
//! sign-ins.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::UserId;
use netpulse_ports::storage::{StorageError, TokenDigest};
use netpulse_ports::two_factor_store::{LoginChallenge, RecoveryCode, TotpRecord, TwoFactorStore};

use super::{Store, begin_write};
use crate::storage::rows::id_error;
use crate::storage::{found, unavailable};

fn step_from(v: Option<i64>) -> Option<u64> {
    v.and_then(|s| u64::try_from(s).ok())
}

fn step_to(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

async fn insert_codes(
    tx: &mut sqlx::Transaction<'static, super::Db>,
    user: &UserId,
    codes: &[RecoveryCode],
    at: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.as_str().to_owned())
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    for code in codes {
        sqlx::query(
            "INSERT INTO recovery_codes (id, user_id, digest, created_at, used_at) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(code.id.clone())
        .bind(user.as_str().to_owned())
        .bind(code.digest.clone())
        .bind(at.unix_millis())
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

#[async_trait]
impl TwoFactorStore for Store {
    async fn totp(&self, user: &UserId) -> Result<Option<TotpRecord>, StorageError> {
        let row: Option<(Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT totp_secret_enc, totp_pending_enc, totp_last_step FROM users WHERE id = $1",
        )
        .bind(user.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(row.map(|(secret_enc, pending_enc, last)| TotpRecord {
            secret_enc,
            pending_enc,
            last_step: step_from(last),
        }))
    }

    async fn set_totp_pending(&self, user: &UserId, sealed: &str) -> Result<(), StorageError> {
        let done = sqlx::query("UPDATE users SET totp_pending_enc = $2 WHERE id = $1")
            .bind(user.as_str().to_owned())
            .bind(sealed.to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "user", user.as_str())
    }

    async fn confirm_totp(
        &self,
        user: &UserId,
        sealed: &str,
        step: u64,
        codes: &[RecoveryCode],
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let done = sqlx::query(
            "UPDATE users SET totp_secret_enc = totp_pending_enc, totp_pending_enc = NULL, \
             totp_last_step = $3 WHERE id = $1 AND totp_pending_enc = $2",
        )
        .bind(user.as_str().to_owned())
        .bind(sealed.to_owned())
        .bind(step_to(step))
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_codes(&mut tx, user, codes, at).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(true)
    }

    async fn advance_totp_step(&self, user: &UserId, step: u64) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $2 WHERE id = $1 \
             AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(user.as_str().to_owned())
        .bind(step_to(step))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn clear_totp(&self, user: &UserId) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let done = sqlx::query(
            "UPDATE users SET totp_secret_enc = NULL, totp_pending_enc = NULL, \
             totp_last_step = NULL WHERE id = $1",
        )
        .bind(user.as_str().to_owned())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        found(done.rows_affected(), "user", user.as_str())?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.as_str().to_owned())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn recovery_codes(&self, user: &UserId) -> Result<Vec<RecoveryCode>, StorageError> {
        let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, digest, used_at FROM recovery_codes WHERE user_id = $1 ORDER BY id",
        )
        .bind(user.as_str().to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|(id, digest, used_at)| RecoveryCode {
                id,
                digest,
                used_at: used_at.map(Timestamp::from_unix_millis),
            })
            .collect())
    }

    async fn replace_recovery_codes(
        &self,
        user: &UserId,
        codes: &[RecoveryCode],
        at: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        insert_codes(&mut tx, user, codes, at).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn consume_recovery_code(&self, id: &str, at: Timestamp) -> Result<bool, StorageError> {
        let done =
            sqlx::query("UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
                .bind(id.to_owned())
                .bind(at.unix_millis())
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_login_challenge(
        &self,
        digest: &TokenDigest,
        challenge: &LoginChallenge,
        at: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1")
            .bind(at.unix_millis())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query(
            "INSERT INTO login_challenges (id_digest, user_id, next_path, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(digest.0.to_vec())
        .bind(challenge.user_id.as_str().to_owned())
        .bind(challenge.next_path.clone())
        .bind(at.unix_millis())
        .bind(challenge.expires_at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn login_challenge(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<LoginChallenge>, StorageError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT user_id, next_path, expires_at FROM login_challenges WHERE id_digest = $1",
        )
        .bind(digest.0.to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|(user, next_path, expires_at)| {
            Ok(LoginChallenge {
                user_id: UserId::parse(&user).map_err(|e| id_error(&e))?,
                next_path,
                expires_at: Timestamp::from_unix_millis(expires_at),
            })
        })
        .transpose()
    }

    async fn delete_login_challenge(&self, digest: &TokenDigest) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM login_challenges WHERE id_digest = $1")
            .bind(digest.0.to_vec())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }
}
