//! Settings → Audit (admins): who changed what and when, newest first, 50 a page.

use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::service::audit;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, format, pages, settings};

/// One entry as listed.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    /// When, in the site's time zone.
    pub at: String,
    /// Who (`system` without an actor).
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To what.
    pub subject: String,
    /// Details.
    pub detail: String,
}

/// The page's data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditPage {
    /// Entries, newest first.
    pub rows: Vec<AuditRow>,
    /// The link to the next, older page, if any.
    pub older: String,
}

/// The page's query.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    before: Option<String>,
}

/// `GET /settings/audit`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>, Query(q): Query<AuditQuery>) -> Response {
    let result = async {
        let site = settings::load(&web).await?;
        let page = audit::list(&web.app, q.before.as_deref(), 50).await?;
        let view = AuditPage {
            rows: page
                .entries
                .into_iter()
                .map(|e| AuditRow {
                    at: format::date_time(e.at, &site.tz),
                    actor: e.actor_email.unwrap_or_else(|| "system".into()),
                    action: e.action,
                    subject: e.subject,
                    detail: e.detail,
                })
                .collect(),
            older: page
                .next
                .map(|n| format!("/settings/audit?before={n}"))
                .unwrap_or_default(),
        };
        let layout = Layout::new(&ctx(req), &site, "Audit log", "settings").tab("audit");
        Ok::<_, AppError>(html(
            &web,
            StatusCode::OK,
            "settings_audit.html",
            &layout,
            &view,
        ))
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}
