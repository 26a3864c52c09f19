//! Outages `/outages`: the episodes (filter by probe, family, period; latest or most severe
//! first; keyset pages), single-round blips folded away under the list; `/outages/{id}`: one
//! episode with a timeline of its rounds (a cell per round, coloured by state), its failing
//! checks and their failure classes, its impact and its series' 30-day availability.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use netpulse_domain::Timestamp;
use netpulse_domain::outage::{OutageRules, SeriesFamily, Severity};
use netpulse_ports::outage_store::{OutageFilter, StoredOutage};
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::notify::render::duration;
use crate::service::{outage_board, outages, probes};
use crate::web::format;
use crate::web::pages::dashboard::board::{UptimeTile, tile};
use crate::web::pages::history::Opt;
use crate::web::settings::SiteSettings;
use crate::web::{Web, pages};

/// Outages per page.
pub const PAGE_LEN: u32 = 50;
/// The periods offered, with their length in seconds (`all`: no start).
pub const PERIODS: [(&str, Option<i64>); 5] = [
    ("24h", Some(86_400)),
    ("7d", Some(7 * 86_400)),
    ("30d", Some(30 * 86_400)),
    ("90d", Some(90 * 86_400)),
    ("all", None),
];

/// The list's query.
#[derive(Debug, Default, Deserialize)]
pub struct OutagesQuery {
    probe: Option<String>,
    family: Option<String>,
    period: Option<String>,
    order: Option<String>,
    cursor: Option<String>,
}

/// A row of the list.
#[derive(Debug, Clone, Serialize)]
pub struct OutageRow {
    /// Its page.
    pub href: String,
    /// The probe's name.
    pub probe: String,
    /// Start, in the site zone.
    pub started: String,
    /// End, in the site zone, or `ongoing`.
    pub ended: String,
    /// Whether still open.
    pub ongoing: bool,
    /// Whether the end is uncertain (data stopped).
    pub end_uncertain: bool,
    /// `32 min`.
    pub duration: String,
    /// `Complete` or `Partial (37.50 %)`.
    pub severity: String,
    /// `complete` or `partial`.
    pub tone: String,
    /// `v4`, `v6`, `all`.
    pub family: String,
    /// `isp`, `link`, `lan`.
    pub attribution: String,
}

/// The list page.
#[derive(Debug, Clone, Serialize)]
pub struct OutagesPage {
    /// Probe choices (first: every probe).
    pub probes: Vec<Opt>,
    /// Family choices.
    pub families: Vec<Opt>,
    /// Period choices.
    pub periods: Vec<Opt>,
    /// Order choices.
    pub orders: Vec<Opt>,
    /// Outages of more than one failing round.
    pub rows: Vec<OutageRow>,
    /// Single-round blips (shown on demand).
    pub blips: Vec<OutageRow>,
    /// The next page's link.
    pub next: Option<String>,
    /// The first page's link, on later pages.
    pub first: Option<String>,
}

fn opts(pairs: &[(&str, &str)], current: &str) -> Vec<Opt> {
    pairs
        .iter()
        .map(|(v, l)| Opt {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            selected: *v == current,
        })
        .collect()
}

fn tone(s: Severity) -> String {
    match s {
        Severity::Complete => "complete",
        Severity::Partial(_) => "partial",
    }
    .to_owned()
}

/// A list row.
pub fn row(o: &StoredOutage, probe: &str, tz: &TimeZone) -> OutageRow {
    let e = &o.episode;
    OutageRow {
        href: format!("/outages/{}", o.id),
        probe: probe.to_owned(),
        started: format::date_time(Timestamp::from_unix_millis(e.started_at_ms), tz),
        ended: e.ended_at_ms().map_or_else(
            || "ongoing".to_owned(),
            |t| format::date_time(Timestamp::from_unix_millis(t), tz),
        ),
        ongoing: !e.closed,
        end_uncertain: e.end_uncertain,
        duration: duration(e.duration_ms() / 1000),
        severity: e.severity().label(),
        tone: tone(e.severity()),
        family: o.family.as_str().to_owned(),
        attribution: e.attribution().as_str().to_owned(),
    }
}

/// Whether an episode is a single failing round.
pub fn is_blip(o: &StoredOutage) -> bool {
    o.episode.closed && o.episode.rounds_down + o.episode.rounds_partial <= 1
}

async fn build(web: &Web, q: &OutagesQuery, site: &SiteSettings) -> Result<OutagesPage, AppError> {
    let all = probes::list(&web.app).await?;
    let probe = q.probe.as_deref().filter(|p| !p.is_empty());
    let probe_id = probe
        .map(|p| {
            all.iter()
                .find(|x| x.id.as_str() == p)
                .map(|x| x.id.clone())
                .ok_or_else(|| AppError::invalid("probe", format!("no probe {p:?}")))
        })
        .transpose()?;
    let family = q.family.as_deref().filter(|f| !f.is_empty());
    let family_value = family
        .map(|f| SeriesFamily::parse(f).map_err(|e| AppError::invalid("family", e.to_string())))
        .transpose()?;
    let period = q.period.as_deref().unwrap_or("30d");
    let seconds = PERIODS
        .iter()
        .find(|(p, _)| *p == period)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            AppError::invalid("period", "must be 24h, 7d, 30d, 90d or all".to_owned())
        })?;
    let order_text = q.order.as_deref().unwrap_or("latest");
    let order = outages::parse_order(order_text)?;
    let now = web.app.clock.now();
    let filter = OutageFilter {
        probe: probe_id,
        family: family_value,
        since: seconds.map(|s| now.plus_seconds(-s)),
        until: None,
    };
    let page = outages::list(
        &web.app,
        &filter,
        order,
        PAGE_LEN,
        q.cursor.as_deref().filter(|c| !c.is_empty()),
    )
    .await?;
    let names: HashMap<&str, &str> = all
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    let (mut rows, mut blips) = (Vec::new(), Vec::new());
    for o in &page.items {
        let r = row(
            o,
            names.get(o.probe_id.as_str()).copied().unwrap_or("?"),
            &site.tz,
        );
        if is_blip(o) {
            blips.push(r);
        } else {
            rows.push(r);
        }
    }
    let base = format!(
        "/outages?probe={}&family={}&period={period}&order={order_text}",
        probe.unwrap_or(""),
        family.unwrap_or("")
    );
    let mut probe_opts = vec![Opt {
        value: String::new(),
        label: "every probe".into(),
        selected: probe.is_none(),
    }];
    probe_opts.extend(all.iter().map(|p| Opt {
        value: p.id.to_string(),
        label: p.name.to_string(),
        selected: probe == Some(p.id.as_str()),
    }));
    Ok(OutagesPage {
        probes: probe_opts,
        families: opts(
            &[
                ("", "every family"),
                ("v4", "IPv4"),
                ("v6", "IPv6"),
                ("all", "all families at once"),
            ],
            family.unwrap_or(""),
        ),
        periods: opts(
            &[
                ("24h", "24 hours"),
                ("7d", "7 days"),
                ("30d", "30 days"),
                ("90d", "90 days"),
                ("all", "all time"),
            ],
            period,
        ),
        orders: opts(
            &[
                ("latest", "latest first"),
                ("severity", "most severe first"),
            ],
            order_text,
        ),
        rows,
        blips,
        next: page.next_cursor.map(|c| format!("{base}&cursor={c}")),
        first: q
            .cursor
            .as_ref()
            .filter(|c| !c.is_empty())
            .map(|_| base.clone()),
    })
}

/// `GET /outages`.
#[handler]
pub(crate) async fn show(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<OutagesQuery>,
) -> Response {
    pages::show(
        req,
        &web,
        "outages.html",
        "Outages",
        "outages",
        async |site| build(&web, &q, site).await,
    )
    .await
}

/// A round of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct RoundCell {
    /// `up`, `target`, `partial`, `down`, `local`, `maintenance`, `unknown`.
    pub state: String,
    /// `14:05 down (4 of 4 failed)`.
    pub label: String,
    /// Whether the round lies inside the episode.
    pub inside: bool,
}

/// One state of the legend.
#[derive(Debug, Clone, Serialize)]
pub struct LegendEntry {
    /// The state.
    pub state: String,
    /// What it means.
    pub label: String,
}

/// A failing check.
#[derive(Debug, Clone, Serialize)]
pub struct FailingCheck {
    /// `icmp 1.1.1.1`.
    pub name: String,
    /// Its first failure class.
    pub class: String,
}

/// One outage's page.
#[derive(Debug, Clone, Serialize)]
pub struct OutageDetailPage {
    /// The row figures.
    pub outage: OutageRow,
    /// The probe's outages.
    pub probe_href: String,
    /// Rounds: down, partial, unknown.
    pub rounds_down: u32,
    /// Rounds: partial.
    pub rounds_partial: u32,
    /// Rounds: unknown (gaps kept open).
    pub rounds_unknown: u32,
    /// Σ share of failed checks · period.
    pub impact: String,
    /// Time fully down.
    pub complete: String,
    /// Time partly down.
    pub partial: String,
    /// The timeline.
    pub cells: Vec<RoundCell>,
    /// Its first and last round times.
    pub timeline_from: String,
    /// Its last round time.
    pub timeline_to: String,
    /// The legend.
    pub legend: Vec<LegendEntry>,
    /// Failing checks.
    pub failing_checks: Vec<FailingCheck>,
    /// The series' availability over the 30 days up to the end.
    pub context: Option<UptimeTile>,
}

/// The legend of round states.
pub const LEGEND: [(&str, &str); 7] = [
    ("up", "up"),
    ("target", "one target failing (counts as up)"),
    ("partial", "partial"),
    ("down", "down"),
    ("unknown", "no data"),
    ("local", "could not measure"),
    ("maintenance", "maintenance"),
];

fn round_word(state: &str, failed: u32, counted: u32) -> String {
    match state {
        "down" | "partial" | "target" => format!("{state} ({failed} of {counted} checks failed)"),
        "unknown" => "no data".to_owned(),
        "local" => "could not measure (local error)".to_owned(),
        other => other.to_owned(),
    }
}

/// The timeline: every period from the first stored round to the last, missing rounds as
/// unknown.
pub fn timeline(
    view: &outage_board::OutageView,
    tz: &TimeZone,
) -> (Vec<RoundCell>, String, String) {
    let period = OutageRules::default().period_ms;
    let rounds = &view.detail.rounds;
    let e = &view.detail.outage.episode;
    let (Some(first), Some(last)) = (rounds.first(), rounds.last()) else {
        return (Vec::new(), String::new(), String::new());
    };
    let by_time: HashMap<i64, _> = rounds
        .iter()
        .map(|r| (r.round_at.unix_millis(), r))
        .collect();
    let end = e.ended_at_ms().unwrap_or(i64::MAX);
    let mut cells = Vec::new();
    let mut t = first.round_at.unix_millis();
    while t <= last.round_at.unix_millis() {
        let (state, failed, counted) = by_time
            .get(&t)
            .map_or(("unknown", 0, 0), |r| (r.state, r.failed, r.counted));
        cells.push(RoundCell {
            state: state.to_owned(),
            label: format!(
                "{} {}",
                format::time_of_day(Timestamp::from_unix_millis(t), tz),
                round_word(state, failed, counted)
            ),
            inside: t >= e.started_at_ms && t < end,
        });
        t += period;
    }
    (
        cells,
        format::date_time(first.round_at, tz),
        format::date_time(last.round_at, tz),
    )
}

async fn build_detail(
    web: &Web,
    id: &str,
    site: &SiteSettings,
) -> Result<OutageDetailPage, AppError> {
    let view = outage_board::outage_view(&web.app, id).await?;
    let o = &view.detail.outage;
    let e = &o.episode;
    let rules = OutageRules::default();
    let (cells, timeline_from, timeline_to) = timeline(&view, &site.tz);
    Ok(OutageDetailPage {
        outage: row(o, &view.probe_name, &site.tz),
        probe_href: format!("/outages?probe={}", o.probe_id),
        rounds_down: e.rounds_down,
        rounds_partial: e.rounds_partial,
        rounds_unknown: e.rounds_unknown,
        impact: duration((e.impact_ms / 1000.0).round() as i64),
        complete: duration(e.complete_ms(&rules) / 1000),
        partial: duration(e.partial_ms(&rules) / 1000),
        cells,
        timeline_from,
        timeline_to,
        legend: LEGEND
            .iter()
            .map(|(s, l)| LegendEntry {
                state: (*s).to_owned(),
                label: (*l).to_owned(),
            })
            .collect(),
        failing_checks: view
            .failing_checks
            .iter()
            .map(|(name, class)| FailingCheck {
                name: name.clone(),
                class: class.clone().unwrap_or_else(|| "—".to_owned()),
            })
            .collect(),
        context: view.context.as_ref().map(tile),
    })
}

/// `GET /outages/{id}`.
#[handler]
pub(crate) async fn detail(req: &Request, web: Data<&Web>, Path(id): Path<String>) -> Response {
    pages::show(
        req,
        &web,
        "outage_detail.html",
        "Outage",
        "outages",
        async |site| build_detail(&web, &id, site).await,
    )
    .await
}
