//! The public result page `/r/{token}`: no sign-in; only non-identifying fields (figures,
//! server name and location, the ISP the test reported, time and verdict), never the
//! connection's name, ids, hosts or raw output. Revoked or unknown tokens answer 404.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::measurements;
use crate::web::format::{self, UNKNOWN};
use crate::web::pages::history::Fact;
use crate::web::settings;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, pages};

/// The public page's data.
#[derive(Debug, Clone, Serialize)]
pub struct SharePage {
    /// When, in the site's time zone.
    pub when: String,
    /// `healthy`, `unhealthy`, `failed`.
    pub status: String,
    /// For people.
    pub status_label: String,
    /// The figures.
    pub facts: Vec<Fact>,
}

/// `GET /r/{token}`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>, Path(token): Path<String>) -> Response {
    let result = async {
        let site = settings::load(&web).await?;
        let m = measurements::shared(&web.app, &token).await?;
        let m = m.ok_or(AppError::NotFound {
            what: "shared result",
            id: String::new(),
        })?;
        Ok::<_, AppError>((site, m))
    }
    .await;
    let (site, m) = match result {
        Ok(v) => v,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    let o = &m.observation;
    let (status, label) = if !o.completed() {
        ("failed", "Test failed")
    } else if m.verdict.healthy() {
        ("healthy", "Within the plan's thresholds")
    } else {
        ("unhealthy", "Below the plan's thresholds")
    };
    let f = |label: &str, value: String| Fact {
        label: label.into(),
        value,
    };
    let page = SharePage {
        when: format::date_time_long(m.completed_at, &site.tz),
        status: status.into(),
        status_label: label.into(),
        facts: vec![
            f("Download", format::speed(o.download_bps)),
            f("Upload", format::speed(o.upload_bps)),
            f("Ping", format::millis(o.ping_ms)),
            f("Jitter", format::millis(o.jitter_ms)),
            f("Packet loss", format::percent(o.packet_loss_percent)),
            f(
                "Server",
                o.server.name.clone().unwrap_or_else(|| UNKNOWN.into()),
            ),
            f(
                "Server location",
                o.server.location.clone().unwrap_or_else(|| UNKNOWN.into()),
            ),
            f("ISP", o.isp.clone().unwrap_or_else(|| UNKNOWN.into())),
        ],
    };
    let mut layout = Layout::new(&ctx(req), &site, "Shared result", "");
    // A public page never shows who is signed in on this browser.
    layout.user = None;
    let mut resp = html(&web, StatusCode::OK, "share.html", &layout, &page);
    resp.headers_mut().insert(
        "X-Robots-Tag",
        poem::http::HeaderValue::from_static("noindex"),
    );
    resp
}
