//! What two-factor sign-in stores: a user's sealed TOTP secret (pending while being enrolled,
//! then confirmed), the newest step accepted, recovery-code digests and pending sign-ins.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::UserId;

use crate::storage::{StorageError, TokenDigest};

/// A user's TOTP state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TotpRecord {
    /// The confirmed secret, sealed (2FA is on when set).
    pub secret_enc: Option<String>,
    /// A secret being enrolled, sealed (not used for sign-in until confirmed).
    pub pending_enc: Option<String>,
    /// The newest step accepted.
    pub last_step: Option<u64>,
}

/// One stored recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCode {
    /// Its id.
    pub id: String,
    /// Its argon2id digest (PHC string).
    pub digest: String,
    /// When it was used, if it was.
    pub used_at: Option<Timestamp>,
}

/// A sign-in waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginChallenge {
    /// Who gave the right password.
    pub user_id: UserId,
    /// Where to go after signing in.
    pub next_path: String,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// Two-factor sign-in.
#[async_trait]
pub trait TwoFactorStore: Send + Sync {
    /// A user's TOTP state (`None`: no such user).
    async fn totp(&self, user: &UserId) -> Result<Option<TotpRecord>, StorageError>;
    /// Keeps a secret being enrolled (replacing an earlier pending one).
    async fn set_totp_pending(&self, user: &UserId, sealed: &str) -> Result<(), StorageError>;
    /// Turns 2FA on: the pending secret `sealed` becomes the secret (only if it is still the
    /// pending one; `false` otherwise), `step` the newest accepted, and `codes` replace the
    /// recovery codes; one transaction.
    async fn confirm_totp(
        &self,
        user: &UserId,
        sealed: &str,
        step: u64,
        codes: &[RecoveryCode],
        at: Timestamp,
    ) -> Result<bool, StorageError>;
    /// Records `step` as accepted if it is newer than the stored one (compare and set in one
    /// statement); `false` when it is not (a replay).
    async fn advance_totp_step(&self, user: &UserId, step: u64) -> Result<bool, StorageError>;
    /// Turns 2FA off: clears the secrets and the step, deletes the recovery codes.
    async fn clear_totp(&self, user: &UserId) -> Result<(), StorageError>;
    /// A user's recovery codes.
    async fn recovery_codes(&self, user: &UserId) -> Result<Vec<RecoveryCode>, StorageError>;
    /// Replaces all of a user's recovery codes.
    async fn replace_recovery_codes(
        &self,
        user: &UserId,
        codes: &[RecoveryCode],
        at: Timestamp,
    ) -> Result<(), StorageError>;
    /// Marks a code used if it is still unused (`UPDATE … WHERE used_at IS NULL`); `false`
    /// when it was used already.
    async fn consume_recovery_code(&self, id: &str, at: Timestamp) -> Result<bool, StorageError>;
    /// Stores a pending sign-in (sweeping expired ones).
    async fn create_login_challenge(
        &self,
        digest: &TokenDigest,
        challenge: &LoginChallenge,
        at: Timestamp,
    ) -> Result<(), StorageError>;
    /// A pending sign-in.
    async fn login_challenge(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<LoginChallenge>, StorageError>;
    /// Deletes a pending sign-in; `false` when it was gone already.
    async fn delete_login_challenge(&self, digest: &TokenDigest) -> Result<bool, StorageError>;
}
