//! What users and access store: the accounts list, role and disable changes guarded by the
//! last-admin rule, the one-time flash of a session, and the audit log.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::access::{LastAdmin, Role};
use netpulse_domain::id::UserId;

use crate::storage::{ApiToken, StorageError, TokenDigest, User};

/// A change to an account's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    /// Give it this role.
    Role(Role),
    /// Disable (`true`) or enable it.
    Disabled(bool),
    /// Delete it (with its sessions and tokens).
    Delete,
}

/// The last-admin rule the store applies inside its transaction:
/// `(is_enabled_admin_now, stays_enabled_admin, enabled_admins)`
/// ([`netpulse_domain::access::last_admin_guard`]).
pub type AdminGuard = fn(bool, bool, u64) -> Result<(), LastAdmin>;

/// A message kept for the next page of one session (post/redirect/get).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// What it is (`token`, `probe-token`, …): the page decides how to show it.
    pub kind: String,
    /// Its content (e.g. a JSON object with a one-time secret).
    pub payload: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id (UUID text).
    pub id: String,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it (`None` for the command line or the system).
    pub actor_id: Option<UserId>,
    /// The actor's e-mail at the time.
    pub actor_email: Option<String>,
    /// What was done, e.g. `user.role`, `token.create`.
    pub action: String,
    /// What it was done to, e.g. `user:alice@example.org`.
    pub subject: String,
    /// Details (e.g. `viewer → operator`).
    pub detail: String,
}

/// Users and access.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Every account, by e-mail.
    async fn users(&self) -> Result<Vec<User>, StorageError>;
    /// One account.
    async fn user(&self, id: &UserId) -> Result<Option<User>, StorageError>;
    /// Applies `change` in one transaction that counts the enabled admins and holds them
    /// locked, refusing with [`StorageError::Conflict`] what `guard` refuses; returns the
    /// account as it is afterwards (`None` after a delete). A disable or delete also ends the
    /// account's sessions.
    async fn change_user_access(
        &self,
        id: &UserId,
        change: AccessChange,
        guard: AdminGuard,
    ) -> Result<Option<User>, StorageError>;
    /// Sets (or clears) the name shown for an account.
    async fn set_display_name(&self, id: &UserId, name: Option<&str>) -> Result<(), StorageError>;
    /// The tokens one user owns.
    async fn api_tokens_of(&self, user: &UserId) -> Result<Vec<ApiToken>, StorageError>;
    /// Keeps a flash for the session.
    async fn put_flash(
        &self,
        session: &TokenDigest,
        id: &str,
        kind: &str,
        payload: &str,
        at: Timestamp,
    ) -> Result<(), StorageError>;
    /// The session's flashes, oldest first, deleted in the same transaction (so each is shown
    /// once).
    async fn take_flashes(&self, session: &TokenDigest) -> Result<Vec<Flash>, StorageError>;
    /// Appends an audit entry.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StorageError>;
    /// Entries newest first, before `(at, id)` when given, at most `limit`.
    async fn audit_entries(
        &self,
        before: Option<(Timestamp, String)>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StorageError>;
    /// Deletes entries older than `before`; returns how many.
    async fn prune_audit(&self, before: Timestamp) -> Result<u64, StorageError>;
}
