//! The dashboard `/`: a card per connection, and for the selected one a chart over a range,
//! tiles with window-over-window trends, a health card, the latest test, probe liveness and the
//! Run test dialog. It refreshes itself: a script polls `/dashboard/cursor` (cheap) while the
//! tab is visible and fetches the `live` block of the page again when the cursor moves.
//!
//! Cost per request: one query for the connections with their state, per connection its newest
//! completed result and its last 24 h, and for the selected connection its samples over two
//! windows of the range, its last 60 results and its window counts; all index ranges. The
//! status board (`service::outage_board::board`) reads 90 days of stored round states per
//! probe and family, never check results.

pub mod board;
pub mod cards;
pub mod change_cursor;
pub mod chart;
pub mod first_run;
pub mod run_now;
pub mod selected;

use netpulse_domain::stats::SeriesRange;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

pub use self::cards::{Card, ProbeLiveness};
pub(crate) use self::change_cursor::cursor;
pub use self::change_cursor::cursor_text;
pub use self::chart::script_json;
pub use self::run_now::{RunBody, RunRow, RunStatusQuery};
pub(crate) use self::run_now::{run, run_status};
pub use self::selected::{FailureNote, Health, Latest, Selected, StripCell, Tile};
use crate::error::AppError;
use crate::web::format::{self, UNKNOWN};
use crate::web::settings::{self, SiteSettings};
use crate::web::view::{Layout, ctx, fragment, html};
use crate::web::{Web, pages};

/// The dashboard's query.
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    connection: Option<String>,
    range: Option<String>,
}

/// A range choice.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// The value.
    pub value: String,
    /// The link.
    pub href: String,
    /// Whether chosen.
    pub selected: bool,
}

/// The dashboard's data.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardPage {
    /// The cards.
    pub cards: Vec<Card>,
    /// The selected connection.
    pub selected: Option<Selected>,
    /// The range.
    pub range: String,
    /// The ranges.
    pub ranges: Vec<Choice>,
    /// Probes and their liveness.
    pub probes: Vec<ProbeLiveness>,
    /// Run-now requests in progress.
    pub runs: Vec<RunRow>,
    /// The change cursor the page was rendered at.
    pub cursor: String,
    /// When rendered, in the site's time zone.
    pub rendered_at: String,
    /// The query string of this view (for the refresh).
    pub query: String,
    /// The first-run checklist, until the first result lands.
    pub checklist: Option<first_run::Checklist>,
    /// Connections whose every test of the last day failed.
    pub all_failed: Vec<AllFailed>,
    /// How often agents poll, seconds (for "next poll in ~N s").
    pub poll_seconds: u32,
    /// The status board: a 90-day bar and uptime tiles per probe.
    pub board: Vec<board::BoardView>,
    /// Probes left off the board (see the Outages page).
    pub board_hidden: usize,
    /// The open outages ("Currently down since …").
    pub down: Vec<board::DownBanner>,
}

/// A connection whose every test of the last day failed (the banner).
#[derive(Debug, Clone, Serialize)]
pub struct AllFailed {
    /// Its name.
    pub name: String,
    /// How many tests failed.
    pub tests: u64,
    /// The newest failure's reason.
    pub reason: String,
    /// The newest failure's detail page.
    pub href: String,
}

fn range_href(connection: &str, range: SeriesRange) -> String {
    format!("/?connection={connection}&range={range}")
}

/// Everything the page shows.
pub async fn build(
    web: &Web,
    q: &DashboardQuery,
    site: &SiteSettings,
    server_url: &str,
) -> Result<DashboardPage, AppError> {
    let now = web.app.clock.now();
    let range = q
        .range
        .as_deref()
        .and_then(|r| SeriesRange::parse(r).ok())
        .unwrap_or(SeriesRange::Week);
    let overviews = web.app.storage.connection_overviews().await?;
    let selected_id = q
        .connection
        .as_deref()
        .filter(|id| overviews.iter().any(|o| o.connection.id.as_str() == *id))
        .map(str::to_owned)
        .or_else(|| {
            overviews
                .iter()
                .find(|o| o.connection.enabled)
                .or(overviews.first())
                .map(|o| o.connection.id.as_str().to_owned())
        });
    let mut cards = Vec::with_capacity(overviews.len());
    let mut selected = None;
    let mut all_failed = Vec::new();
    for o in &overviews {
        let id = o.connection.id.as_str();
        let is_selected = selected_id.as_deref() == Some(id);
        let (card, latest, failure) =
            cards::card(web, o, now, range_href(id, range), is_selected, site).await?;
        if let (Some(tests), Some(f)) = (card.all_failed, card.failure.as_ref()) {
            all_failed.push(AllFailed {
                name: card.name.clone(),
                tests,
                reason: f.reason.clone(),
                href: f.href.clone(),
            });
        }
        cards.push(card);
        if is_selected {
            selected = Some(
                selected::selected_part(web, o, range, now, site, latest, failure.as_ref()).await?,
            );
        }
    }
    let probes = cards::probe_liveness(web, now).await?;
    let checklist = first_run::checklist(web, &overviews, now, server_url).await?;
    let runs = run_now::in_progress(web, &overviews, now).await?;
    let connection = selected_id.unwrap_or_default();
    let (status, board_hidden) = crate::service::outage_board::board(&web.app, &site.tz).await?;
    let (board, down) = board::views(&status, &site.tz, now);
    Ok(DashboardPage {
        cards,
        selected,
        range: range.as_str().to_owned(),
        ranges: SeriesRange::ALL
            .into_iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                href: range_href(&connection, r),
                selected: r == range,
            })
            .collect(),
        probes,
        runs,
        cursor: cursor_text(web).await?,
        rendered_at: format::time_of_day(now, &site.tz),
        query: format!("connection={connection}&range={range}"),
        checklist,
        all_failed,
        poll_seconds: web.app.poll_interval_seconds,
        board,
        board_hidden,
        down,
    })
}

/// A result's server: `name · location`, else its host (iperf3, HTTP targets), else `#id`,
/// else an em dash.
pub fn server_text(s: &netpulse_domain::measurement::ServerInfo) -> String {
    match (
        s.name.as_deref().filter(|n| !n.is_empty()),
        s.host.as_deref(),
    ) {
        (None, Some(host)) if !host.is_empty() => host.to_owned(),
        _ => server_label(s.name.as_deref(), s.location.as_deref(), s.id.as_deref()),
    }
}

/// `name · location`, falling back to the id, then to an em dash.
pub fn server_label(name: Option<&str>, location: Option<&str>, id: Option<&str>) -> String {
    match (
        name.filter(|n| !n.is_empty()),
        location.filter(|l| !l.is_empty()),
        id.filter(|i| !i.is_empty()),
    ) {
        (Some(n), Some(l), _) => format!("{n} · {l}"),
        (Some(n), None, _) => n.to_owned(),
        (None, _, Some(i)) => format!("#{i}"),
        (None, _, None) => UNKNOWN.to_owned(),
    }
}

/// The URL agents reach this server at, from the request's host.
fn server_url(web: &Web, req: &Request) -> String {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let scheme = if web.options.behind_https {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// `GET /`: the page, or (with `X-NetPulse-Fragment: live`) its live block.
#[handler]
pub(crate) async fn show(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let result = async {
        let site = settings::load(&web).await?;
        let page = build(&web, &q, &site, &server_url(&web, req)).await?;
        Ok::<_, AppError>((site, page))
    }
    .await;
    let (site, page) = match result {
        Ok(v) => v,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    let layout = Layout::new(&ctx(req), &site, "Dashboard", "dashboard");
    if req.headers().get("X-NetPulse-Fragment").is_some() {
        return fragment(&web, "dashboard.html", "live", &layout, &page);
    }
    html(&web, StatusCode::OK, "dashboard.html", &layout, &page)
}
