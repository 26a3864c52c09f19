//! The change cursor: moves whenever a result is recorded or a run moves; the page polls it.

use netpulse_domain::Timestamp;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};

use crate::error::AppError;
use crate::web::view::json;
use crate::web::{Web, pages};

/// The change cursor as text.
pub async fn cursor_text(web: &Web) -> Result<String, AppError> {
    let c = web.app.storage.change_cursor().await?;
    Ok(format!(
        "{}.{}.{}",
        c.measurements,
        c.latest_at.map_or(0, Timestamp::unix_millis),
        c.runs_updated_at.map_or(0, Timestamp::unix_millis)
    ))
}

/// `GET /dashboard/cursor`: changes whenever a result is recorded or a run moves.
#[handler]
pub(crate) async fn cursor(web: Data<&Web>) -> Response {
    match cursor_text(&web).await {
        Ok(c) => json(StatusCode::OK, &serde_json::json!({ "cursor": c })),
        Err(e) => pages::app_error_json(&e),
    }
}
