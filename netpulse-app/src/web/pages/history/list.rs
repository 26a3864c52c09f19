//! The history list `/history`: the filter form, the sortable table and its keyset pages.

use std::collections::HashMap;

use netpulse_domain::health::Breach;
use netpulse_domain::model::{Connection, Measurement};
use netpulse_domain::wording;
use netpulse_ports::storage::MeasurementSort;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Serialize;

use super::filters::{
    HistoryQuery, PAGE_SIZES, WINDOWS, filter_of, href, nonempty, query_string, sort_label, sort_of,
};
use crate::error::AppError;
use crate::service::{connections, measurements};
use crate::web::format::{self, UNKNOWN};
use crate::web::pages::dashboard::{server_label, server_text};
use crate::web::settings::{self, SiteSettings};
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, pages};

/// A choice of a select.
#[derive(Debug, Clone, Serialize)]
pub struct Opt {
    /// The value.
    pub value: String,
    /// The label.
    pub label: String,
    /// Chosen.
    pub selected: bool,
}

fn opts(pairs: &[(&str, &str)], current: Option<&str>) -> Vec<Opt> {
    pairs
        .iter()
        .map(|(v, l)| Opt {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            selected: current.unwrap_or("") == *v,
        })
        .collect()
}

/// A row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Detail link.
    pub href: String,
    /// Time in the site's zone.
    pub when: String,
    /// Connection name.
    pub connection: String,
    /// Connection colour.
    pub colour: String,
    /// Server.
    pub server: String,
    /// Figures.
    pub download: String,
    /// Figures.
    pub upload: String,
    /// Figures.
    pub ping: String,
    /// Figures.
    pub jitter: String,
    /// Figures.
    pub loss: String,
    /// `healthy`, `unhealthy`, `failed`.
    pub status: String,
    /// Label.
    pub status_label: String,
    /// Run-now (not scheduled).
    pub manual: bool,
    /// The figures that broke a rule: `download`, `upload`, `ping`, `jitter`, `loss`.
    pub breached: Vec<String>,
    /// Why: the failure's reason, or each breach in words.
    pub reason: String,
}

/// A sortable column header.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// Header text.
    pub label: String,
    /// The link that sorts by it (toggling direction when it is the current order).
    pub href: String,
    /// `ascending`, `descending` or `none` (for `aria-sort`).
    pub sorted: String,
    /// Right-aligned figure.
    pub numeric: bool,
}

/// The history page's data.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPage {
    /// The filter form's choices.
    pub windows: Vec<Opt>,
    /// Chosen custom first day.
    pub since: String,
    /// Chosen custom last day.
    pub until: String,
    /// Connections.
    pub connections: Vec<Opt>,
    /// Servers seen.
    pub servers: Vec<Opt>,
    /// Status choices.
    pub statuses: Vec<Opt>,
    /// Verdict choices.
    pub verdicts: Vec<Opt>,
    /// Kind choices.
    pub kinds: Vec<Opt>,
    /// The 12 orders.
    pub sorts: Vec<Opt>,
    /// Page sizes.
    pub limits: Vec<Opt>,
    /// Sortable headers.
    pub columns: Vec<Column>,
    /// The rows.
    pub rows: Vec<Row>,
    /// Matching results.
    pub total: u64,
    /// `Showing 26–50 of 1,234`.
    pub showing: String,
    /// First page link (when not on it).
    pub first_href: Option<String>,
    /// Next page link.
    pub next_href: Option<String>,
    /// The CSV export of the same filters.
    pub csv_href: String,
    /// A filter error, next to its field.
    pub errors: crate::web::forms::FieldErrors,
}

fn row_of(m: &Measurement, names: &HashMap<String, &Connection>, tz: &jiff::tz::TimeZone) -> Row {
    let c = names.get(m.connection_id.as_str());
    let o = &m.observation;
    let (status, label) = if !o.completed() {
        ("failed", "Failed")
    } else if m.verdict.healthy() {
        ("healthy", "Healthy")
    } else {
        ("unhealthy", "Unhealthy")
    };
    Row {
        href: format!("/history/{}", m.id),
        when: format::date_time(m.completed_at, tz),
        connection: c.map_or_else(|| UNKNOWN.to_owned(), |c| c.name.as_str().to_owned()),
        colour: c.map_or("slate", |c| c.colour.as_str()).to_owned(),
        server: server_text(&o.server),
        download: format::speed(o.download_bps),
        upload: format::speed(o.upload_bps),
        ping: format::millis(o.ping_ms),
        jitter: format::millis(o.jitter_ms),
        loss: format::percent(o.packet_loss_percent),
        status: status.into(),
        status_label: label.into(),
        manual: !m.scheduled,
        breached: m
            .verdict
            .breaches
            .iter()
            .filter_map(|b| match b {
                Breach::DownloadBelow => Some("download"),
                Breach::UploadBelow => Some("upload"),
                Breach::PingHigh => Some("ping"),
                Breach::JitterHigh => Some("jitter"),
                Breach::PacketLossHigh => Some("loss"),
                Breach::TestFailed | Breach::BaselineDeviation => None,
            })
            .map(str::to_owned)
            .collect(),
        reason: wording::failure_reason(o).unwrap_or_else(|| {
            c.map(|c| {
                m.verdict
                    .breaches
                    .iter()
                    .map(|b| wording::breach(*b, o, &c.thresholds, &c.expected))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
        }),
    }
}

async fn build(web: &Web, q: &HistoryQuery, site: &SiteSettings) -> Result<HistoryPage, AppError> {
    let now = web.app.clock.now();
    let mut errors = crate::web::forms::FieldErrors::default();
    let filter = match filter_of(q, now, site) {
        Ok(f) => Some(f),
        Err(AppError::Invalid { field, message }) => {
            errors.add(&field, message);
            None
        }
        Err(e) => return Err(e),
    };
    let sort = match sort_of(q) {
        Ok(s) => s,
        Err(AppError::Invalid { field, message }) => {
            errors.add(&field, message);
            MeasurementSort::default()
        }
        Err(e) => return Err(e),
    };
    let filter = if errors.is_empty() { filter } else { None };
    let limit = q.limit.filter(|l| PAGE_SIZES.contains(l)).unwrap_or(25);
    let connections = connections::list(&web.app, None).await?;
    let by_id: HashMap<String, &Connection> = connections
        .iter()
        .map(|c| (c.id.as_str().to_owned(), c))
        .collect();
    let mut rows = Vec::new();
    let mut total = 0;
    let mut next_cursor = None;
    if let Some(filter) = &filter {
        let page =
            match measurements::list(&web.app, filter, sort, limit, nonempty(q.cursor.as_ref()))
                .await
            {
                Ok(p) => Some(p),
                Err(AppError::Invalid { field, .. }) if field == "cursor" => {
                    errors.add(
                        "_form",
                        "That page link is no longer valid; showing the first page.",
                    );
                    None
                }
                Err(e) => return Err(e),
            };
        let page = match page {
            Some(p) => p,
            None => measurements::list(&web.app, filter, sort, limit, None).await?,
        };
        total = measurements::count(&web.app, filter).await?;
        rows = page
            .items
            .iter()
            .map(|m| row_of(m, &by_id, &site.tz))
            .collect();
        next_cursor = page.next_cursor;
    }
    let page_no = if q.cursor.is_some() {
        q.page.unwrap_or(2).max(2)
    } else {
        1
    };
    let first = u64::from(page_no - 1) * u64::from(limit);
    let showing = if rows.is_empty() {
        "No results match these filters.".to_owned()
    } else {
        format!(
            "Showing {}–{} of {}",
            first + 1,
            first + rows.len() as u64,
            total
        )
    };
    let base = HistoryQuery {
        cursor: None,
        page: None,
        ..q.clone()
    };
    let seen_since = filter
        .as_ref()
        .and_then(|f| f.since)
        .unwrap_or(now.plus_seconds(-90 * 86_400))
        .min(now.plus_seconds(-86_400));
    let servers = measurements::servers_seen(&web.app, seen_since).await?;
    let mut server_opts = vec![Opt {
        value: String::new(),
        label: "All servers".into(),
        selected: nonempty(q.server.as_ref()).is_none(),
    }];
    server_opts.extend(servers.iter().map(|s| Opt {
        value: s.id.clone(),
        label: format!(
            "{} (#{})",
            server_label(s.name.as_deref(), s.location.as_deref(), None),
            s.id
        ),
        selected: nonempty(q.server.as_ref()) == Some(s.id.as_str()),
    }));
    let mut connection_opts = vec![Opt {
        value: String::new(),
        label: "All connections".into(),
        selected: nonempty(q.connection.as_ref()).is_none(),
    }];
    connection_opts.extend(connections.iter().map(|c| Opt {
        value: c.id.as_str().to_owned(),
        label: c.name.as_str().to_owned(),
        selected: nonempty(q.connection.as_ref()) == Some(c.id.as_str()),
    }));
    let column = |label: &str, desc: MeasurementSort, asc: MeasurementSort, numeric: bool| {
        let (sorted, next) = if sort == desc {
            ("descending", asc)
        } else if sort == asc {
            ("ascending", desc)
        } else {
            ("none", desc)
        };
        Column {
            label: label.into(),
            href: href(&HistoryQuery {
                sort: Some(next.as_str().into()),
                ..base.clone()
            }),
            sorted: sorted.into(),
            numeric,
        }
    };
    use MeasurementSort as S;
    let columns = vec![
        column("Time", S::CompletedDesc, S::CompletedAsc, false),
        column("Download", S::DownloadDesc, S::DownloadAsc, true),
        column("Upload", S::UploadDesc, S::UploadAsc, true),
        column("Ping", S::PingDesc, S::PingAsc, true),
        column("Jitter", S::JitterDesc, S::JitterAsc, true),
        column("Loss", S::LossDesc, S::LossAsc, true),
    ];
    let window = nonempty(q.window.as_ref()).unwrap_or("7d");
    let mut windows: Vec<(&str, &str)> = WINDOWS.iter().map(|(v, l, _)| (*v, *l)).collect();
    windows.push(("custom", "Custom dates"));
    Ok(HistoryPage {
        windows: opts(&windows, Some(window)),
        since: q.since.clone().unwrap_or_default(),
        until: q.until.clone().unwrap_or_default(),
        connections: connection_opts,
        servers: server_opts,
        statuses: opts(
            &[
                ("", "Any status"),
                ("completed", "Completed"),
                ("failed", "Failed"),
            ],
            q.status.as_deref(),
        ),
        verdicts: opts(
            &[
                ("", "Any verdict"),
                ("healthy", "Healthy"),
                ("unhealthy", "Unhealthy"),
            ],
            q.verdict.as_deref(),
        ),
        kinds: opts(
            &[
                ("", "Scheduled and run-now"),
                ("scheduled", "Scheduled"),
                ("manual", "Run-now"),
            ],
            q.kind.as_deref(),
        ),
        sorts: MeasurementSort::ALL
            .iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: sort_label(*s).into(),
                selected: *s == sort,
            })
            .collect(),
        limits: PAGE_SIZES
            .iter()
            .map(|l| Opt {
                value: l.to_string(),
                label: format!("{l} per page"),
                selected: *l == limit,
            })
            .collect(),
        columns,
        rows,
        total,
        showing,
        first_href: q.cursor.as_ref().map(|_| href(&base)),
        next_href: next_cursor.map(|c| {
            href(&HistoryQuery {
                cursor: Some(c),
                page: Some(page_no + 1),
                ..base.clone()
            })
        }),
        csv_href: {
            let s = query_string(&HistoryQuery {
                sort: None,
                limit: None,
                ..base.clone()
            });
            if s.is_empty() {
                "/history/export.csv".into()
            } else {
                format!("/history/export.csv?{s}")
            }
        },
        errors,
    })
}

/// `GET /history`.
#[handler]
pub(crate) async fn show(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let site = match settings::load(&web).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    match build(&web, &q, &site).await {
        Ok(page) => {
            let status = if page.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            html(
                &web,
                status,
                "history.html",
                &Layout::new(&ctx(req), &site, "History", "history"),
                &page,
            )
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}
