//! The public result page `/r/{token}`: no sign-in; only non-identifying fields (figures,
//! server name and location, the ISP the test reported, time and verdict), never the
//! connection's name, ids, hosts or raw output. Revoked or unknown tokens answer 404.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::{connections, measurements};
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
    /// The plan the result was judged against (empty when unknown).
    pub plan: String,
    /// Each breach in words.
    pub breaches: Vec<String>,
}

/// `1.0 Gbps down / 500 Mbps up; healthy from 70 % / 70 % of it`, empty for an unknown plan.
fn plan_text(c: &netpulse_domain::model::Connection) -> String {
    let e = &c.expected;
    if e.download_bps == 0 && e.upload_bps == 0 {
        return String::new();
    }
    format!(
        "{} down / {} up; healthy from {} % / {} % of it",
        format::speed(Some(e.download_bps as f64)),
        format::speed(Some(e.upload_bps as f64)),
        format::one_decimal(c.thresholds.min_download_ratio() * 100.0),
        format::one_decimal(c.thresholds.min_upload_ratio() * 100.0)
    )
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
        let c = connections::get(&web.app, &m.connection_id).await.ok();
        Ok::<_, AppError>((site, m, c))
    }
    .await;
    let (site, m, c) = match result {
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
        plan: c.as_ref().map_or_else(String::new, plan_text),
        breaches: c.as_ref().map_or_else(Vec::new, |c| {
            m.verdict
                .breaches
                .iter()
                .filter(|b| **b != netpulse_domain::health::Breach::TestFailed)
                .map(|b| netpulse_domain::wording::breach(*b, o, &c.thresholds, &c.expected))
                .collect()
        }),
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
