//! The cron preview: the next runs of cron expressions in their time zone, on the saved form
//! and live while typing.

use netpulse_domain::schedule::CronSchedule;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Response, handler};
use serde::Deserialize;

use crate::web::view::json;
use crate::web::{Web, format};

/// Runs shown in the cron preview.
const PREVIEW_RUNS: usize = 5;

/// The next runs, formatted in the time zone, or the first error.
pub(super) fn preview_lines(web: &Web, cron: &str, timezone: &str) -> Result<Vec<String>, String> {
    let lines: Vec<String> = cron
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let tz_name = if timezone.trim().is_empty() {
        "UTC"
    } else {
        timezone.trim()
    };
    let schedule = CronSchedule::new(lines, tz_name, &web.app.calendar)
        .map_err(|e| format!("{}: {} (got {:?})", e.field, e.rule, e.value))?;
    let tz = format::zone(tz_name);
    Ok(schedule
        .upcoming(web.app.clock.now(), PREVIEW_RUNS, &web.app.calendar)
        .into_iter()
        .map(|t| format::date_time_long(t, &tz))
        .collect())
}

/// The cron-preview query.
#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    cron: Option<String>,
    timezone: Option<String>,
}

/// `GET /settings/connections/cron-preview?cron=…&timezone=…`: the next five runs, in the
/// given time zone, or the first error.
#[handler]
#[allow(clippy::unused_async)] // poem handlers are async
pub(crate) async fn cron_preview(web: Data<&Web>, Query(q): Query<PreviewQuery>) -> Response {
    match preview_lines(
        &web,
        q.cron.as_deref().unwrap_or(""),
        q.timezone.as_deref().unwrap_or("UTC"),
    ) {
        Ok(next) => json(
            StatusCode::OK,
            &serde_json::json!({ "next": next, "error": null }),
        ),
        Err(e) => json(
            StatusCode::OK,
            &serde_json::json!({ "next": [], "error": e }),
        ),
    }
}
