//! The connections list `/settings/connections`.

use std::collections::HashMap;

use netpulse_domain::model::Connection;
use netpulse_domain::schedule::Schedule;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::{connections, probes};
use crate::web::forms::FieldErrors;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, format, pages, settings};

/// A connection as listed.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Colour.
    pub colour: String,
    /// Probe name.
    pub probe: String,
    /// ISP.
    pub isp: String,
    /// `1000 / 500 Mbps` or `unknown plan`.
    pub plan: String,
    /// `24/day · jitter 120 s` or the cron lines.
    pub schedule: String,
    /// Pool entries.
    pub pool: String,
    /// Enabled.
    pub enabled: bool,
}

/// The list page's data.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionsPage {
    /// Connections.
    pub connections: Vec<ConnectionRow>,
    /// Whether a probe exists (a connection needs one).
    pub has_probes: bool,
    /// Errors (deleting).
    pub errors: FieldErrors,
    /// The connection just saved (after the redirect), for the confirmation.
    pub saved: String,
}

fn row_of(c: &Connection, probes: &HashMap<String, String>) -> ConnectionRow {
    ConnectionRow {
        id: c.id.as_str().into(),
        name: c.name.as_str().into(),
        colour: c.colour.as_str().into(),
        probe: probes.get(c.probe_id.as_str()).cloned().unwrap_or_default(),
        isp: c.isp.clone(),
        plan: if c.expected.download_bps == 0 && c.expected.upload_bps == 0 {
            "unknown plan".into()
        } else {
            format!(
                "{} / {}",
                format::speed(Some(c.expected.download_bps as f64)),
                format::speed(Some(c.expected.upload_bps as f64))
            )
        },
        schedule: match &c.schedule {
            Schedule::Even(e) => format!(
                "{}/day · jitter {} s",
                e.tests_per_day(),
                e.jitter_seconds()
            ),
            Schedule::Cron(s) => format!("{} ({})", s.expressions().join(" | "), s.time_zone()),
        },
        pool: if c.pool.entries().is_empty() {
            "automatic".into()
        } else {
            c.pool
                .entries()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        },
        enabled: c.enabled,
    }
}

async fn list(web: &Web, req: &Request, status: StatusCode, errors: FieldErrors) -> Response {
    let result = async {
        let probes: HashMap<String, String> = probes::list(&web.app)
            .await?
            .into_iter()
            .map(|p| (p.id.as_str().to_owned(), p.name.as_str().to_owned()))
            .collect();
        let connections = connections::list(&web.app, None).await?;
        Ok::<_, AppError>(ConnectionsPage {
            connections: connections.iter().map(|c| row_of(c, &probes)).collect(),
            has_probes: !probes.is_empty(),
            errors,
            saved: req
                .uri()
                .query()
                .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "saved"))
                .map(|(_, v)| v)
                .unwrap_or_default(),
        })
    }
    .await;
    let site = settings::load(web).await.unwrap_or_default();
    match result {
        Ok(page) => html(
            web,
            status,
            "settings_connections.html",
            &Layout::new(&ctx(req), &site, "Connections", "settings").tab("connections"),
            &page,
        ),
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

/// `GET /settings/connections`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>) -> Response {
    list(&web, req, StatusCode::OK, FieldErrors::default()).await
}
