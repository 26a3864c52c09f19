//! Servers `/servers`: per-server averages over 30 or 90 days, one row per connection and
//! server (every engine: iperf3 and HTTP targets by host), with the download as a share of
//! the connection's plan, sortable by any column within each connection.

use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use std::collections::HashMap;

use netpulse_domain::model::Connection;

use crate::service::connections;
use crate::service::server_averages::{self, ConnectionServer};
use crate::web::format;
use crate::web::pages::history::{Column, Opt};
use crate::web::settings::SiteSettings;
use crate::web::{Web, pages};

/// The query.
#[derive(Debug, Default, Deserialize)]
pub struct ServersQuery {
    window: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
}

/// A row.
#[derive(Debug, Clone, Serialize)]
pub struct ServerRow {
    /// The connection the averages are of.
    pub connection: String,
    /// Its colour.
    pub colour: String,
    /// The mean download as a share of the connection's plan (empty without a plan).
    pub share: String,
    /// Name.
    pub name: String,
    /// Location.
    pub location: String,
    /// Tool id.
    pub id: String,
    /// Figures.
    pub download: String,
    /// Figures.
    pub upload: String,
    /// Figures.
    pub ping: String,
    /// Figures.
    pub loss: String,
    /// Results.
    pub tests: u64,
    /// Healthy share.
    pub health: String,
    /// Last seen.
    pub last_seen: String,
    /// History of this server.
    pub history_href: String,
}

/// The page's data.
#[derive(Debug, Clone, Serialize)]
pub struct ServersPage {
    /// Windows.
    pub windows: Vec<Opt>,
    /// Headers.
    pub columns: Vec<Column>,
    /// Rows.
    pub rows: Vec<ServerRow>,
}

const COLUMNS: [(&str, &str, bool); 8] = [
    ("name", "Server", false),
    ("download", "Download", true),
    ("upload", "Upload", true),
    ("ping", "Ping", true),
    ("loss", "Loss", true),
    ("tests", "Tests", true),
    ("health", "Healthy", true),
    ("seen", "Last seen", false),
];

async fn build(web: &Web, q: &ServersQuery, site: &SiteSettings) -> Result<ServersPage, AppError> {
    let now = web.app.clock.now();
    let (window, days) = match q.window.as_deref() {
        Some("90d") => ("90d", 90),
        _ => ("30d", 30),
    };
    let sort = q
        .sort
        .as_deref()
        .filter(|s| COLUMNS.iter().any(|(k, _, _)| k == s))
        .unwrap_or("download");
    let descending = q
        .dir
        .as_deref()
        .map_or(sort != "name" && sort != "ping" && sort != "loss", |d| {
            d != "asc"
        });
    let connections: HashMap<String, Connection> = connections::list(&web.app, None)
        .await?
        .into_iter()
        .map(|c| (c.id.as_str().to_owned(), c))
        .collect();
    let mut all =
        server_averages::per_connection(&web.app, now.plus_seconds(-days * 86_400), now).await?;
    // By connection name, then by the chosen column.
    all.sort_by_key(|r| {
        connections
            .get(r.connection.as_str())
            .map(|c| c.name.as_str().to_lowercase())
            .unwrap_or_default()
    });
    let health =
        |s: &netpulse_ports::web_store::ServerSummary| s.healthy as f64 / s.tests.max(1) as f64;
    let key = |s: &netpulse_ports::web_store::ServerSummary| -> f64 {
        match sort {
            "upload" => s.upload_bps.unwrap_or(f64::NAN),
            "ping" => s.ping_ms.unwrap_or(f64::NAN),
            "loss" => s.packet_loss_percent.unwrap_or(f64::NAN),
            "tests" => s.tests as f64,
            "health" => health(s),
            "seen" => s.last_seen.unix_millis() as f64,
            _ => s.download_bps.unwrap_or(f64::NAN),
        }
    };
    let name_of = |r: &ConnectionServer| {
        connections
            .get(r.connection.as_str())
            .map(|c| c.name.as_str().to_lowercase())
            .unwrap_or_default()
    };
    if sort == "name" {
        all.sort_by_key(|r| {
            (
                name_of(r),
                r.summary
                    .server
                    .name
                    .clone()
                    .unwrap_or_default()
                    .to_lowercase(),
            )
        });
        if descending {
            all.reverse();
        }
    } else {
        // Unknown values last in both directions; rows stay grouped by connection.
        all.sort_by(|a, b| {
            let by_name = name_of(a).cmp(&name_of(b));
            if by_name != std::cmp::Ordering::Equal {
                return by_name;
            }
            let (x, y) = (key(&a.summary), key(&b.summary));
            match (x.is_nan(), y.is_nan()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ if descending => y.total_cmp(&x),
                _ => x.total_cmp(&y),
            }
        });
    }
    let columns = COLUMNS
        .iter()
        .map(|(k, label, numeric)| {
            let current = *k == sort;
            let next_dir = if current && descending { "asc" } else { "desc" };
            Column {
                label: (*label).into(),
                href: format!("/servers?window={window}&sort={k}&dir={next_dir}"),
                sorted: if !current {
                    "none"
                } else if descending {
                    "descending"
                } else {
                    "ascending"
                }
                .into(),
                numeric: *numeric,
            }
        })
        .collect();
    Ok(ServersPage {
        windows: [("30d", "Last 30 days"), ("90d", "Last 90 days")]
            .iter()
            .map(|(v, l)| Opt {
                value: (*v).into(),
                label: (*l).into(),
                selected: *v == window,
            })
            .collect(),
        columns,
        rows: all
            .iter()
            .map(|r| {
                let s = &r.summary;
                let c = connections.get(r.connection.as_str());
                let plan = c.map_or(0, |c| c.expected.download_bps);
                let share = s
                    .download_bps
                    .filter(|_| plan > 0)
                    .map(|d| format!("{} % of plan", (d / plan as f64 * 100.0).round()));
                let window = if days == 90 { "90d" } else { "30d" };
                ServerRow {
                    connection: c.map_or_else(|| "—".to_owned(), |c| c.name.as_str().to_owned()),
                    colour: c.map_or("slate", |c| c.colour.as_str()).to_owned(),
                    name: s.server.name.clone().unwrap_or_else(|| {
                        if r.by_host {
                            s.server.id.clone()
                        } else {
                            format!("#{}", s.server.id)
                        }
                    }),
                    location: s.server.location.clone().unwrap_or_default(),
                    id: if r.by_host {
                        String::new()
                    } else {
                        format!("#{}", s.server.id)
                    },
                    download: format::speed(s.download_bps),
                    share: share.unwrap_or_default(),
                    upload: format::speed(s.upload_bps),
                    ping: format::millis(s.ping_ms),
                    loss: format::percent(s.packet_loss_percent),
                    tests: s.tests,
                    health: format::percent(Some(health(s) * 100.0)),
                    last_seen: format!(
                        "{} ({})",
                        format::relative(s.last_seen, now),
                        format::date_time(s.last_seen, &site.tz)
                    ),
                    history_href: if r.by_host {
                        format!("/history?window={window}&connection={}", r.connection)
                    } else {
                        format!(
                            "/history?window={window}&connection={}&{}",
                            r.connection,
                            serde_urlencoded::to_string([("server", s.server.id.as_str())])
                                .unwrap_or_default()
                        )
                    },
                }
            })
            .collect(),
    })
}

/// `GET /servers`.
#[handler]
pub(crate) async fn show(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<ServersQuery>,
) -> Response {
    pages::show(
        req,
        &web,
        "servers.html",
        "Servers",
        "servers",
        async |site| build(&web, &q, site).await,
    )
    .await
}
