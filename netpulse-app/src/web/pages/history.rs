//! History `/history`: filters (window, connection, server, status, verdict, scheduled or
//! run-now), the 12 sort orders, keyset pages, the detail view with the raw output, share links,
//! and the CSV export (streamed in chunks with no row cap: memory stays constant).

use std::collections::HashMap;

use futures_util::StreamExt as _;
use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ResultId};
use netpulse_domain::model::{Connection, Measurement};
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort};
use netpulse_ports::web_store::{ExportPosition, ExportRow, ShareLink};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Body, Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::web::format::{self, UNKNOWN};
use crate::web::guard::redirect;
use crate::web::pages::dashboard::server_label;
use crate::web::settings::{self, SiteSettings};
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, pages};

/// Page sizes offered.
pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];
/// Rows fetched per chunk of the CSV export.
pub const EXPORT_CHUNK: u32 = 1000;

/// The filters, as they appear in the query string.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HistoryQuery {
    /// `24h`, `7d` (default), `30d`, `90d`, `365d`, `all`, or `custom` (with since/until).
    #[serde(default)]
    pub window: Option<String>,
    /// First day (custom window), `YYYY-MM-DD` in the site's time zone.
    #[serde(default)]
    pub since: Option<String>,
    /// Last day, inclusive.
    #[serde(default)]
    pub until: Option<String>,
    /// A connection id.
    #[serde(default)]
    pub connection: Option<String>,
    /// A tool-reported server id.
    #[serde(default)]
    pub server: Option<String>,
    /// `completed` or `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// `healthy` or `unhealthy`.
    #[serde(default)]
    pub verdict: Option<String>,
    /// `scheduled` or `manual`.
    #[serde(default)]
    pub kind: Option<String>,
    /// One of the 12 orders.
    #[serde(default)]
    pub sort: Option<String>,
    /// Rows per page.
    #[serde(default)]
    pub limit: Option<u32>,
    /// The page's keyset cursor.
    #[serde(default)]
    pub cursor: Option<String>,
    /// The page number (for display).
    #[serde(default)]
    pub page: Option<u32>,
}

const WINDOWS: [(&str, &str, i64); 6] = [
    ("24h", "Last 24 hours", 86_400),
    ("7d", "Last 7 days", 7 * 86_400),
    ("30d", "Last 30 days", 30 * 86_400),
    ("90d", "Last 90 days", 90 * 86_400),
    ("365d", "Last 365 days", 365 * 86_400),
    ("all", "All time", 0),
];

fn nonempty(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The storage filter of a query; errors name the field.
pub fn filter_of(
    q: &HistoryQuery,
    now: Timestamp,
    site: &SiteSettings,
) -> Result<MeasurementFilter, AppError> {
    let mut f = MeasurementFilter::default();
    match nonempty(q.window.as_ref()).unwrap_or("7d") {
        "custom" => {
            f.since = nonempty(q.since.as_ref())
                .map(|d| {
                    format::start_of_day(d, &site.tz)
                        .ok_or_else(|| AppError::invalid("since", "must be a date (YYYY-MM-DD)"))
                })
                .transpose()?;
            f.until = nonempty(q.until.as_ref())
                .map(|d| {
                    format::start_of_day(d, &site.tz)
                        .map(|t| t.plus_seconds(86_400))
                        .ok_or_else(|| AppError::invalid("until", "must be a date (YYYY-MM-DD)"))
                })
                .transpose()?;
            if let (Some(s), Some(u)) = (f.since, f.until)
                && s >= u
            {
                return Err(AppError::invalid(
                    "until",
                    "must not be before the first day",
                ));
            }
        }
        "all" => {}
        w => {
            let (_, _, secs) = WINDOWS
                .iter()
                .find(|(name, _, _)| *name == w)
                .ok_or_else(|| {
                    AppError::invalid("window", format!("is not a known window (got {w:?})"))
                })?;
            f.since = Some(now.plus_seconds(-secs));
        }
    }
    f.connection = nonempty(q.connection.as_ref())
        .map(|c| ConnectionId::parse(c).map_err(|e| AppError::invalid("connection", e.to_string())))
        .transpose()?;
    f.server_id = nonempty(q.server.as_ref()).map(str::to_owned);
    f.completed = match nonempty(q.status.as_ref()) {
        None => None,
        Some("completed") => Some(true),
        Some("failed") => Some(false),
        Some(o) => {
            return Err(AppError::invalid(
                "status",
                format!("must be completed or failed (got {o:?})"),
            ));
        }
    };
    f.healthy = match nonempty(q.verdict.as_ref()) {
        None => None,
        Some("healthy") => Some(true),
        Some("unhealthy") => Some(false),
        Some(o) => {
            return Err(AppError::invalid(
                "verdict",
                format!("must be healthy or unhealthy (got {o:?})"),
            ));
        }
    };
    f.scheduled = match nonempty(q.kind.as_ref()) {
        None => None,
        Some("scheduled") => Some(true),
        Some("manual") => Some(false),
        Some(o) => {
            return Err(AppError::invalid(
                "kind",
                format!("must be scheduled or manual (got {o:?})"),
            ));
        }
    };
    Ok(f)
}

fn sort_of(q: &HistoryQuery) -> Result<MeasurementSort, AppError> {
    match nonempty(q.sort.as_ref()) {
        None => Ok(MeasurementSort::CompletedDesc),
        Some(s) => MeasurementSort::parse(s)
            .ok_or_else(|| AppError::invalid("sort", format!("is not a known order (got {s:?})"))),
    }
}

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

fn query_string(q: &HistoryQuery) -> String {
    serde_urlencoded::to_string(q)
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.ends_with('='))
        .collect::<Vec<_>>()
        .join("&")
}

fn href(q: &HistoryQuery) -> String {
    let s = query_string(q);
    if s.is_empty() {
        "/history".into()
    } else {
        format!("/history?{s}")
    }
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
        server: server_label(
            o.server.name.as_deref(),
            o.server.location.as_deref(),
            o.server.id.as_deref(),
        ),
        download: format::speed(o.download_bps),
        upload: format::speed(o.upload_bps),
        ping: format::millis(o.ping_ms),
        jitter: format::millis(o.jitter_ms),
        loss: format::percent(o.packet_loss_percent),
        status: status.into(),
        status_label: label.into(),
        manual: !m.scheduled,
    }
}

async fn build(web: &Web, q: &HistoryQuery, site: &SiteSettings) -> Result<HistoryPage, AppError> {
    let now = web.app.clock.now();
    let storage = &web.app.storage;
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
    let connections = storage.connections(None).await?;
    let by_id: HashMap<String, &Connection> = connections
        .iter()
        .map(|c| (c.id.as_str().to_owned(), c))
        .collect();
    let mut rows = Vec::new();
    let mut total = 0;
    let mut next_cursor = None;
    if let Some(filter) = &filter {
        let page = match storage
            .measurements(filter, sort, limit, nonempty(q.cursor.as_ref()))
            .await
        {
            Ok(p) => Some(p),
            Err(netpulse_ports::storage::StorageError::Invalid(v)) if v.field == "cursor" => {
                errors.add(
                    "_form",
                    "That page link is no longer valid; showing the first page.",
                );
                None
            }
            Err(e) => return Err(e.into()),
        };
        let page = match page {
            Some(p) => p,
            None => storage.measurements(filter, sort, limit, None).await?,
        };
        total = storage.count_measurements(filter).await?;
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
    let servers = storage.servers_seen(seen_since).await?;
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

/// A sort order for people.
pub fn sort_label(s: MeasurementSort) -> &'static str {
    use MeasurementSort as S;
    match s {
        S::CompletedDesc => "Newest first",
        S::CompletedAsc => "Oldest first",
        S::DownloadDesc => "Fastest download",
        S::DownloadAsc => "Slowest download",
        S::UploadDesc => "Fastest upload",
        S::UploadAsc => "Slowest upload",
        S::PingDesc => "Highest ping",
        S::PingAsc => "Lowest ping",
        S::JitterDesc => "Highest jitter",
        S::JitterAsc => "Lowest jitter",
        S::LossDesc => "Most packet loss",
        S::LossAsc => "Least packet loss",
    }
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
    let bytes = |b: Option<u64>| {
        b.map_or_else(
            || UNKNOWN.to_owned(),
            |b| format!("{} MB", format::one_decimal(b as f64 / 1e6)),
        )
    };
    let (status, verdict) = if let Some(failure) = &o.failure {
        (
            "failed",
            format!("Failed ({}): {}", failure.class.as_str(), failure.message),
        )
    } else if m.verdict.healthy() {
        ("healthy", "Healthy".to_owned())
    } else {
        (
            "unhealthy",
            format!(
                "Unhealthy: {}",
                m.verdict
                    .breaches
                    .iter()
                    .map(|b| b.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
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
    let m = web
        .app
        .storage
        .measurement(&id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "result",
            id: id.to_string(),
        })?;
    let c = web.app.storage.connection(&m.connection_id).await?;
    let shares = web.app.storage.share_links_of(&m.id).await?;
    Ok(detail_of(&m, c.as_ref(), shares, site))
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

/// `POST /history/{id}/share`: creates a public link.
#[handler]
pub(crate) async fn share(req: &Request, web: Data<&Web>, Path(id): Path<String>) -> Response {
    let result = async {
        let rid = ResultId::parse(&id).map_err(|_| AppError::NotFound {
            what: "result",
            id: id.clone(),
        })?;
        web.app
            .storage
            .create_share_link(&ShareLink {
                token: crate::tokens::generate(),
                measurement_id: rid,
                created_at: web.app.clock.now(),
            })
            .await?;
        Ok::<_, AppError>(())
    }
    .await;
    match result {
        Ok(()) => redirect(&format!("/history/{id}#share")),
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// `POST /history/{id}/share/revoke` (`token` in the form): revokes a link.
#[handler]
pub(crate) async fn revoke(
    req: &Request,
    web: Data<&Web>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let form = crate::web::forms::FormData::parse(&body.into_bytes().await.unwrap_or_default());
    match web.app.storage.revoke_share_link(&form.get("token")).await {
        Ok(()) => redirect(&format!("/history/{id}#share")),
        Err(e) => pages::app_error(&web, req, &e.into()).await,
    }
}

/// A CSV field: quoted when needed, and with a leading `'` when a spreadsheet would read it as
/// a formula (CSV injection).
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err()
    {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn number(v: Option<f64>, scale: f64) -> String {
    v.filter(|v| v.is_finite()).map_or_else(String::new, |v| {
        let r = (v * scale * 100.0).round() / 100.0;
        let s = format!("{r:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    })
}

/// The CSV header.
pub const CSV_HEADER: &str = "id,completed_at,connection_name,connection_isp,server_id,server_name,server_location,\
engine,scheduled,download_mbps,upload_mbps,ping_ms,jitter_ms,packet_loss_pct,status,healthy,breaches,fail_reason\n";

/// One CSV line.
pub fn csv_line(r: &ExportRow, c: Option<&Connection>, tz: &jiff::tz::TimeZone) -> String {
    let at = jiff::Timestamp::from_millisecond(r.completed_at.unix_millis())
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default();
    let fields = [
        r.id.as_str().to_owned(),
        at,
        c.map_or_else(String::new, |c| c.name.as_str().to_owned()),
        c.map_or_else(String::new, |c| c.isp.clone()),
        r.server.id.clone(),
        r.server.name.clone().unwrap_or_default(),
        r.server.location.clone().unwrap_or_default(),
        r.engine.clone(),
        if r.scheduled { "1" } else { "0" }.to_owned(),
        number(r.download_bps, 1e-6),
        number(r.upload_bps, 1e-6),
        number(r.ping_ms, 1.0),
        number(r.jitter_ms, 1.0),
        number(r.packet_loss_percent, 1.0),
        if r.completed { "completed" } else { "failed" }.to_owned(),
        if r.healthy { "1" } else { "0" }.to_owned(),
        r.breaches.clone(),
        r.failure.clone().unwrap_or_default(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// `GET /history/export.csv`: every matching row, newest first, streamed in chunks of
/// [`EXPORT_CHUNK`] (keyset: each chunk continues after the previous one's last row).
#[handler]
pub(crate) async fn export(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let prepared = async {
        let site = settings::load(&web).await?;
        let filter = filter_of(&q, web.app.clock.now(), &site)?;
        let connections: HashMap<String, Connection> = web
            .app
            .storage
            .connections(None)
            .await?
            .into_iter()
            .map(|c| (c.id.as_str().to_owned(), c))
            .collect();
        Ok::<_, AppError>((site, filter, connections))
    }
    .await;
    let (site, filter, connections) = match prepared {
        Ok(v) => v,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    let storage = web.app.storage.clone();
    let now = web.app.clock.now().unix_seconds();
    struct State {
        after: Option<ExportPosition>,
        header: bool,
        done: bool,
    }
    let stream = futures_util::stream::unfold(
        State {
            after: None,
            header: true,
            done: false,
        },
        move |mut st| {
            let storage = storage.clone();
            let filter = filter.clone();
            let connections = connections.clone();
            let tz = site.tz.clone();
            async move {
                if st.done {
                    return None;
                }
                if st.header {
                    st.header = false;
                    return Some((Ok::<_, std::io::Error>(bytes::Bytes::from(CSV_HEADER)), st));
                }
                match storage
                    .export_rows(&filter, st.after.as_ref(), EXPORT_CHUNK)
                    .await
                {
                    Ok(rows) if rows.is_empty() => None,
                    Ok(rows) => {
                        let mut chunk = String::with_capacity(rows.len() * 160);
                        for r in &rows {
                            chunk.push_str(&csv_line(
                                r,
                                connections.get(r.connection_id.as_str()),
                                &tz,
                            ));
                        }
                        st.done = rows.len() < EXPORT_CHUNK as usize;
                        st.after = rows.last().map(|r| ExportPosition {
                            completed_at: r.completed_at,
                            id: r.id.clone(),
                        });
                        Some((Ok(bytes::Bytes::from(chunk)), st))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "CSV export failed midway");
                        st.done = true;
                        Some((Err(std::io::Error::other(e.to_string())), st))
                    }
                }
            }
        },
    )
    .boxed();
    Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header(
            "Content-Disposition",
            format!("attachment; filename=\"netpulse-history-{now}.csv\""),
        )
        .header("Cache-Control", "no-store")
        .body(Body::from_bytes_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-3.5"), "-3.5");
        assert_eq!(number(Some(935e6), 1e-6), "935");
        assert_eq!(number(Some(9.5e6), 1e-6), "9.5");
        assert_eq!(number(Some(12.345), 1.0), "12.35");
        assert_eq!(number(Some(0.0), 1.0), "0");
        assert_eq!(number(None, 1.0), "");
    }
}
