//! Settings → Notifications: a page shell whose Alpine component (`static/notifications.js`)
//! reads and changes the notification settings, channels and delivery log through the REST API
//! (`/api/v1/notifications/…`) with the session cookie and the `X-CSRF-Token` header.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Serialize;

use crate::service::notifications;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, pages, settings};

/// The page's data (the rest comes from the API in the browser).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NotificationsPage {
    /// The site's time zone: the default of new quiet hours.
    pub time_zone: String,
    /// Every IANA zone name (for the time-zone inputs' suggestions).
    pub zones: Vec<String>,
    /// Whether this process sends notifications (the API answers 503 otherwise).
    pub running: bool,
}

/// `GET /settings/notifications`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>) -> Response {
    let site = match settings::load(&web).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    let mut zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|z| z.as_str().to_owned())
        .collect();
    zones.sort();
    let page = NotificationsPage {
        time_zone: site.time_zone.clone(),
        zones,
        running: notifications::is_running(&web.app),
    };
    let layout = Layout::new(&ctx(req), &site, "Notifications", "settings").tab("notifications");
    html(
        &web,
        StatusCode::OK,
        "settings_notifications.html",
        &layout,
        &page,
    )
}
