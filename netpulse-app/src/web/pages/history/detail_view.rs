//! The history detail view `/history/{id}`: every figure, how the test ran, the raw output and
//! the result's share links.

use netpulse_domain::id::ResultId;
use netpulse_domain::model::{Connection, Measurement};
use netpulse_ports::web_store::ShareLink;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::measurements;
use crate::web::format::{self, UNKNOWN};
use crate::web::pages::dashboard::server_label;
use crate::web::settings::SiteSettings;
use crate::web::{Web, pages};

/// One labelled figure of the detail view.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
}

/// A share link as the detail view lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ShareRow {
    /// Its public URL path.
    pub path: String,
    /// Its token (for revoking).
    pub token: String,
    /// When created.
    pub created: String,
}

/// The detail view's data.
#[derive(Debug, Clone, Serialize)]
pub struct DetailPage {
    /// The id.
    pub id: String,
    /// Title line.
    pub heading: String,
    /// `healthy`, `unhealthy`, `failed`.
    pub status: String,
    /// The verdict for people.
    pub verdict: String,
    /// Every figure.
    pub facts: Vec<Fact>,
    /// When it happened and how it was run.
    pub meta: Vec<Fact>,
    /// The tool's output.
    pub stdout: String,
    /// The tool's errors.
    pub stderr: String,
    /// The result page of the tool (e.g. speedtest.net), if any.
    pub result_url: Option<String>,
    /// Live share links.
    pub shares: Vec<ShareRow>,
}

fn detail_of(
    m: &Measurement,
    c: Option<&Connection>,
    shares: Vec<ShareLink>,
    site: &SiteSettings,
) -> DetailPage {
    let o = &m.observation;
    let tz = &site.tz;
    let f = |label: &str, value: String| Fact {
        label: label.into(),
        value,
    };
    let bytes = format::volume;
    let (status, verdict) = if let Some(reason) = netpulse_domain::wording::failure_reason(o) {
        ("failed", format!("Failed · {reason}"))
    } else if m.verdict.healthy() {
        ("healthy", "Healthy".to_owned())
    } else {
        let words: Vec<String> = m
            .verdict
            .breaches
            .iter()
            .map(|b| match c {
                Some(c) => netpulse_domain::wording::breach(*b, o, &c.thresholds, &c.expected),
                None => netpulse_domain::wording::breach_metric(*b).to_owned(),
            })
            .collect();
        ("unhealthy", format!("Unhealthy · {}", words.join("; ")))
    };
    DetailPage {
        id: m.id.as_str().to_owned(),
        heading: format!(
            "{} · {}",
            c.map_or_else(
                || "Deleted connection".to_owned(),
                |c| c.name.as_str().to_owned()
            ),
            format::date_time_long(m.completed_at, tz)
        ),
        status: status.into(),
        verdict,
        facts: vec![
            f("Download", format::speed(o.download_bps)),
            f("Upload", format::speed(o.upload_bps)),
            f("Ping", format::millis(o.ping_ms)),
            f(
                "Ping low / high",
                format!(
                    "{} / {}",
                    format::millis(o.ping_low_ms),
                    format::millis(o.ping_high_ms)
                ),
            ),
            f("Jitter", format::millis(o.jitter_ms)),
            f(
                "Latency under download",
                format::millis(o.download_latency_ms),
            ),
            f("Latency under upload", format::millis(o.upload_latency_ms)),
            f("Packet loss", format::percent(o.packet_loss_percent)),
            f("Data down", bytes(o.download_bytes)),
            f("Data up", bytes(o.upload_bytes)),
        ],
        meta: vec![
            f(
                "Connection",
                c.map_or_else(|| UNKNOWN.to_owned(), |c| c.name.as_str().to_owned()),
            ),
            f(
                "Server",
                server_label(o.server.name.as_deref(), o.server.location.as_deref(), None),
            ),
            f(
                "Server id",
                o.server.id.clone().unwrap_or_else(|| UNKNOWN.into()),
            ),
            f(
                "Server host",
                o.server.host.clone().unwrap_or_else(|| UNKNOWN.into()),
            ),
            f(
                "ISP (reported)",
                o.isp.clone().unwrap_or_else(|| UNKNOWN.into()),
            ),
            f("Engine", m.engine.as_str().to_owned()),
            f(
                "Pool entry",
                m.pool_entry
                    .as_ref()
                    .map_or_else(|| "automatic".to_owned(), |p| p.as_str().to_owned()),
            ),
            f(
                "Kind",
                if m.scheduled { "Scheduled" } else { "Run-now" }.to_owned(),
            ),
            f("Started", format::date_time_long(m.started_at, tz)),
            f("Completed", format::date_time_long(m.completed_at, tz)),
            f("Received", format::date_time_long(m.received_at, tz)),
            f(
                "Exit code",
                m.raw.exit_code.map_or_else(
                    || "none (killed or not started)".to_owned(),
                    |c| c.to_string(),
                ),
            ),
            f("Result id", m.id.as_str().to_owned()),
        ],
        stdout: m.raw.stdout.clone(),
        stderr: m.raw.stderr.clone(),
        result_url: o
            .result_url
            .clone()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        shares: shares
            .into_iter()
            .map(|s| ShareRow {
                path: format!("/r/{}", s.token),
                token: s.token,
                created: format::date_time(s.created_at, tz),
            })
            .collect(),
    }
}

async fn load_detail(web: &Web, id: &str, site: &SiteSettings) -> Result<DetailPage, AppError> {
    let id = ResultId::parse(id).map_err(|_| AppError::NotFound {
        what: "result",
        id: id.to_owned(),
    })?;
    let d = measurements::detail(&web.app, &id).await?;
    Ok(detail_of(
        &d.measurement,
        d.connection.as_ref(),
        d.shares,
        site,
    ))
}

/// `GET /history/{id}`: every field and the raw output.
#[handler]
pub(crate) async fn detail(req: &Request, web: Data<&Web>, Path(id): Path<String>) -> Response {
    pages::show(
        req,
        &web,
        "history_detail.html",
        "Result",
        "history",
        async |site| load_detail(&web, &id, site).await,
    )
    .await
}
