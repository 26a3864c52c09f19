//! Rows of accounts, API tokens, flashes and the audit log, shared by both databases.

use netpulse_domain::Timestamp;
use netpulse_domain::access::{Permission, Role};
use netpulse_domain::id::{ApiTokenId, UserId};
use netpulse_ports::access_store::{AuditEntry, Flash};
use netpulse_ports::storage::{ApiToken, StorageError, User};

use crate::storage::rows::{id_error, invalid};

/// The columns of a user row, in [`UserRow`]'s order.
pub(crate) const USER_COLUMNS: &str =
    "id, email, password_hash, created_at, role, disabled, display_name";

/// The columns of an API token row, in [`ApiTokenRow`]'s order.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, name, created_at, last_used_at, user_id, scopes, expires_at, last_used_ip";

pub(crate) fn role_of(text: &str) -> Result<Role, StorageError> {
    Role::parse(text).ok_or_else(|| invalid("role", text, "must be viewer, operator or admin"))
}

/// Scopes as stored: permission names separated by spaces.
pub(crate) fn scopes_text(scopes: &[Permission]) -> String {
    scopes
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn scopes_of(text: &str) -> Result<Vec<Permission>, StorageError> {
    text.split_whitespace()
        .map(|s| Permission::parse(s).ok_or_else(|| invalid("scopes", s, "unknown permission")))
        .collect()
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
    pub role: String,
    pub disabled: bool,
    pub display_name: Option<String>,
}

impl UserRow {
    pub(crate) fn into_user(self) -> Result<User, StorageError> {
        Ok(User {
            id: UserId::parse(&self.id).map_err(|e| id_error(&e))?,
            email: self.email,
            password_hash: self.password_hash,
            created_at: Timestamp::from_unix_millis(self.created_at),
            role: role_of(&self.role)?,
            disabled: self.disabled,
            display_name: self.display_name,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub user_id: Option<String>,
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub last_used_ip: Option<String>,
}

impl ApiTokenRow {
    pub(crate) fn into_token(self) -> Result<ApiToken, StorageError> {
        Ok(ApiToken {
            id: ApiTokenId::parse(&self.id).map_err(|e| id_error(&e))?,
            name: self.name,
            created_at: Timestamp::from_unix_millis(self.created_at),
            last_used_at: self.last_used_at.map(Timestamp::from_unix_millis),
            user_id: self
                .user_id
                .map(|u| UserId::parse(&u).map_err(|e| id_error(&e)))
                .transpose()?,
            scopes: scopes_of(&self.scopes)?,
            expires_at: self.expires_at.map(Timestamp::from_unix_millis),
            last_used_ip: self.last_used_ip,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FlashRow {
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
}

impl FlashRow {
    pub(crate) fn into_flash(self) -> Flash {
        Flash {
            kind: self.kind,
            payload: self.payload,
            created_at: Timestamp::from_unix_millis(self.created_at),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> Result<AuditEntry, StorageError> {
        Ok(AuditEntry {
            id: self.id,
            at: Timestamp::from_unix_millis(self.at),
            actor_id: self
                .actor_id
                .map(|u| UserId::parse(&u).map_err(|e| id_error(&e)))
                .transpose()?,
            actor_email: self.actor_email,
            action: self.action,
            subject: self.subject,
            detail: self.detail,
        })
    }
}
