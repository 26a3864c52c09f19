//! `GET /api/v1/audit` (admins): the audit log, newest first, a page at a time (keyset
//! paging: pass the answer's `next` as `before` for the next, older page).

use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::auth::RestAuth;
use super::problem::ApiError;
use crate::service::App;
use crate::service::audit;

#[derive(Tags)]
enum Tag {
    /// The audit log.
    Audit,
}

/// One audit-log entry.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AuditEntryDto {
    /// Its id.
    pub id: String,
    /// When it happened (RFC 3339).
    pub at: String,
    /// Who did it (absent: the command line or the system, or a service token).
    pub actor_id: Option<String>,
    /// The actor's e-mail (or a service token's name) at the time.
    pub actor_email: Option<String>,
    /// What was done, e.g. `user.role`, `token.create`, `connection.delete`.
    pub action: String,
    /// What it was done to, e.g. `user:alice@example.org`.
    pub subject: String,
    /// Details, e.g. `viewer → operator`.
    pub detail: String,
}

/// A page of the audit log.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AuditPageDto {
    /// Entries, newest first.
    pub entries: Vec<AuditEntryDto>,
    /// The cursor of the next, older page (absent on the last page).
    pub next: Option<String>,
}

/// The audit endpoint.
#[derive(Debug)]
pub struct AuditApi {
    /// The services.
    pub app: App,
}

#[OpenApi(prefix_path = "/v1")]
impl AuditApi {
    /// The audit log (admins), newest first.
    #[oai(path = "/audit", method = "get", tag = "Tag::Audit")]
    async fn list_audit(
        &self,
        _auth: RestAuth,
        /// The `next` cursor of the previous page.
        before: Query<Option<String>>,
        /// Entries per page, 1–200 (default 50).
        limit: Query<Option<u32>>,
    ) -> Result<Json<AuditPageDto>, ApiError> {
        let page = audit::list(&self.app, before.0.as_deref(), limit.0.unwrap_or(50)).await?;
        Ok(Json(AuditPageDto {
            entries: page
                .entries
                .into_iter()
                .map(|e| AuditEntryDto {
                    id: e.id,
                    at: e.at.to_rfc3339(),
                    actor_id: e.actor_id.map(|u| u.as_str().to_owned()),
                    actor_email: e.actor_email,
                    action: e.action,
                    subject: e.subject,
                    detail: e.detail,
                })
                .collect(),
            next: page.next,
        }))
    }
}
