//! The Run test dialog: queueing a run-now request and reading its status, and the requests in
//! progress the page lists.

use std::collections::HashMap;

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::pool::PoolEntry;
use netpulse_ports::web_store::ConnectionOverview;
use poem::http::StatusCode;
use poem::web::{Data, Json, Query};
use poem::{Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::service::run_feedback;
use crate::service::runs::{self, RunTarget};
use crate::web::format;
use crate::web::view::json;
use crate::web::{Web, pages};

/// A run-now request in progress.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    /// The connection's name.
    pub connection: String,
    /// `queued`, `running`, `done`, `cancelled`.
    pub phase: String,
    /// When requested.
    pub ago: String,
}

/// A run-now request from the dialog.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunBody {
    scope: String,
    connection_id: Option<String>,
    pool_entry: Option<String>,
}

/// `POST /dashboard/run` (JSON, `X-CSRF-Token`): queues a test of one connection (optionally
/// on a pinned pool entry) or of every enabled one.
#[handler]
pub(crate) async fn run(web: Data<&Web>, body: Json<RunBody>) -> Response {
    let result = async {
        let pin = body
            .pool_entry
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| PoolEntry::parse(p).map_err(|e| AppError::invalid("poolEntry", e.rule)))
            .transpose()?;
        let target = match body.scope.as_str() {
            "connection" => {
                let id = body.connection_id.as_deref().ok_or_else(|| {
                    AppError::invalid("connectionId", "is required for scope connection")
                })?;
                RunTarget::Connection(
                    ConnectionId::parse(id)
                        .map_err(|e| AppError::invalid("connectionId", e.to_string()))?,
                )
            }
            "all" => RunTarget::All,
            other => {
                return Err(AppError::invalid(
                    "scope",
                    format!("must be connection or all (got {other:?})"),
                ));
            }
        };
        runs::request(&web.app, &target, pin.as_ref()).await
    }
    .await;
    match result {
        Ok(ids) => json(
            StatusCode::ACCEPTED,
            &serde_json::json!({ "queued": ids.iter().map(ConnectionId::as_str).collect::<Vec<_>>() }),
        ),
        Err(e) => pages::app_error_json(&e),
    }
}

/// The run-status query.
#[derive(Debug, Deserialize)]
pub struct RunStatusQuery {
    connection: String,
}

/// `GET /dashboard/run-status?connection=…`.
#[handler]
pub(crate) async fn run_status(web: Data<&Web>, Query(q): Query<RunStatusQuery>) -> Response {
    let result = async {
        let id = ConnectionId::parse(&q.connection)
            .map_err(|e| AppError::invalid("connection", e.to_string()))?;
        run_feedback::feedback(&web.app, &id).await
    }
    .await;
    match result {
        Ok(f) => json(
            StatusCode::OK,
            &serde_json::json!({
                "state": f.state.as_ref().map_or("idle", |s| s.phase.as_str()),
                "updatedAt": f.state.as_ref().map(|s| s.updated_at.to_rfc3339()),
                "nextPollSeconds": f.next_poll_seconds,
                "result": f.result.as_ref().map(|m| serde_json::json!({
                    "href": format!("/history/{}", m.id),
                    "download": format::speed(m.observation.download_bps),
                    "upload": format::speed(m.observation.upload_bps),
                    "ping": format::millis(m.observation.ping_ms),
                    "verdict": netpulse_domain::wording::failure_reason(&m.observation)
                        .map_or_else(
                            || if m.verdict.healthy() { "healthy".to_owned() } else { "unhealthy".to_owned() },
                            |r| format!("failed: {r}"),
                        ),
                })),
            }),
        ),
        Err(e) => pages::app_error_json(&e),
    }
}

/// Run-now requests queued or running (moved in the last five minutes).
pub(super) async fn in_progress(
    web: &Web,
    overviews: &[ConnectionOverview],
    now: Timestamp,
) -> Result<Vec<RunRow>, AppError> {
    let names: HashMap<String, String> = overviews
        .iter()
        .map(|o| {
            (
                o.connection.id.as_str().to_owned(),
                o.connection.name.as_str().to_owned(),
            )
        })
        .collect();
    Ok(runs::in_progress(&web.app, now.plus_seconds(-300))
        .await?
        .into_iter()
        .map(|(id, r)| RunRow {
            connection: names
                .get(id.as_str())
                .cloned()
                .unwrap_or_else(|| id.to_string()),
            phase: r.phase.as_str().to_owned(),
            ago: format::relative(r.requested_at, now),
        })
        .collect())
}
