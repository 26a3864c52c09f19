//! Fleet `/fleet`: every probe with its agent state (ONLINE, DEGRADED, OFFLINE, MAINTENANCE and
//! the liveness underneath), name, location, labels, agent version, engines, last poll, checks
//! failing and tests today; filtered by state and by text (name, location, labels), sorted by
//! any column. Built from four reads whatever the number of probes (probes, active maintenance
//! windows, check tallies, today's test counts): no per-row query.

use std::collections::HashMap;

use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::service::{fleet, registration};
use crate::web::format;
use crate::web::pages::history::{Column, Opt};
use crate::web::settings::SiteSettings;
use crate::web::{Web, pages};

/// The query.
#[derive(Debug, Default, Deserialize)]
pub struct FleetQuery {
    state: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
}

/// A row.
#[derive(Debug, Clone, Serialize)]
pub struct FleetRow {
    /// `online`, `degraded`, `offline`, `maintenance` (for the badge's class).
    pub state: String,
    /// The state as shown, e.g. `Maintenance (offline)`.
    pub state_label: String,
    /// Why degraded, or the maintenance reason.
    pub detail: String,
    /// Name.
    pub name: String,
    /// The `location` label.
    pub location: String,
    /// The other labels, `key=value`.
    pub labels: Vec<String>,
    /// Agent version (empty: never reported).
    pub version: String,
    /// Older than the server's.
    pub outdated: bool,
    /// Engines.
    pub engines: String,
    /// `3 minutes ago` (empty: never).
    pub last_poll: String,
    /// The exact time, as a tooltip.
    pub last_poll_at: String,
    /// `2 / 10` (empty without checks).
    pub checks: String,
    /// Some check failed.
    pub checks_failing: bool,
    /// Tests since local midnight.
    pub tests_today: u64,
}

/// The page's data.
#[derive(Debug, Clone, Serialize)]
pub struct FleetPage {
    /// State filters with their counts.
    pub states: Vec<Opt>,
    /// The text filter.
    pub q: String,
    /// The state filter.
    pub state: String,
    /// Headers.
    pub columns: Vec<Column>,
    /// Rows.
    pub rows: Vec<FleetRow>,
    /// Probes in all.
    pub total: usize,
}

const COLUMNS: [(&str, &str, bool); 8] = [
    ("state", "State", false),
    ("name", "Name", false),
    ("location", "Location", false),
    ("version", "Version", false),
    ("engines", "Engines", false),
    ("poll", "Last poll", false),
    ("checks", "Checks failing", true),
    ("tests", "Tests today", true),
];

const STATES: [(&str, &str); 5] = [
    ("", "All"),
    ("online", "Online"),
    ("degraded", "Degraded"),
    ("offline", "Offline"),
    ("maintenance", "Maintenance"),
];

fn rank(state: &str) -> u8 {
    match state {
        "offline" => 0,
        "degraded" => 1,
        "maintenance" => 2,
        _ => 3,
    }
}

fn url(state: &str, q: &str, sort: &str, dir: &str) -> String {
    let pairs = [("state", state), ("q", q), ("sort", sort), ("dir", dir)];
    let query: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    format!(
        "/fleet?{}",
        serde_urlencoded::to_string(query).unwrap_or_default()
    )
}

async fn build(web: &Web, q: &FleetQuery, site: &SiteSettings) -> Result<FleetPage, AppError> {
    let now = web.app.clock.now();
    let midnight = format::start_of_day(&format::date(now, &site.tz), &site.tz).unwrap_or(now);
    let fleet::Overview {
        probes: list,
        states,
        tests_today: tests,
    } = fleet::overview(&web.app, now, midnight).await?;
    let mut rows: Vec<(FleetRow, i64)> = list
        .iter()
        .map(|p| {
            let s = &states[&p.id];
            let state = s.verdict.state.as_str().to_lowercase();
            let mut label = format!("{}{}", &state[..1].to_uppercase(), &state[1..]);
            if state == "maintenance" {
                label.push_str(if s.verdict.alive {
                    " (online)"
                } else {
                    " (offline)"
                });
            }
            let detail = if let Some(w) = &s.maintenance {
                let until = w.ends_at.map_or_else(
                    || "until switched off".to_owned(),
                    |t| format!("until {}", format::date_time(t, &site.tz)),
                );
                if w.reason.is_empty() {
                    until
                } else {
                    format!("{} · {until}", w.reason)
                }
            } else {
                s.verdict
                    .reasons
                    .iter()
                    .map(|r| r.as_str().replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let location = p
                .labels
                .get(registration::LOCATION_LABEL)
                .unwrap_or("")
                .to_owned();
            let row = FleetRow {
                state,
                state_label: label,
                detail,
                name: p.name.to_string(),
                location,
                labels: p
                    .labels
                    .iter()
                    .filter(|(k, _)| *k != registration::LOCATION_LABEL)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                version: p.agent_version.clone().unwrap_or_default(),
                outdated: s.outdated,
                engines: p
                    .agent_engines
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                last_poll: p
                    .last_poll_at
                    .map(|t| format::relative(t, now))
                    .unwrap_or_default(),
                last_poll_at: p
                    .last_poll_at
                    .map(|t| format::date_time(t, &site.tz))
                    .unwrap_or_default(),
                checks: if s.checks.total == 0 {
                    String::new()
                } else {
                    format!("{} / {}", s.checks.failed, s.checks.total)
                },
                checks_failing: s.checks.failed > 0,
                tests_today: tests.get(&p.id).copied().unwrap_or(0),
            };
            (
                row,
                p.last_poll_at
                    .map_or(i64::MIN, netpulse_domain::Timestamp::unix_millis),
            )
        })
        .collect();
    let total = rows.len();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (r, _) in &rows {
        *counts.entry(r.state.clone()).or_default() += 1;
    }
    let text = q.q.clone().unwrap_or_default().trim().to_lowercase();
    let state = q
        .state
        .clone()
        .filter(|s| STATES.iter().any(|(k, _)| k == s))
        .unwrap_or_default();
    rows.retain(|(r, _)| {
        (state.is_empty() || r.state == state)
            && (text.is_empty()
                || r.name.to_lowercase().contains(&text)
                || r.location.to_lowercase().contains(&text)
                || r.labels.iter().any(|l| l.to_lowercase().contains(&text)))
    });
    let sort = q
        .sort
        .as_deref()
        .filter(|s| COLUMNS.iter().any(|(k, _, _)| k == s))
        .unwrap_or("state");
    let descending = q.dir.as_deref() == Some("desc");
    rows.sort_by(|(a, pa), (b, pb)| {
        let by = match sort {
            "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "location" => a.location.to_lowercase().cmp(&b.location.to_lowercase()),
            "version" => a.version.cmp(&b.version),
            "engines" => a.engines.cmp(&b.engines),
            "poll" => pb.cmp(pa),
            "checks" => (a.checks_failing, &a.checks).cmp(&(b.checks_failing, &b.checks)),
            "tests" => a.tests_today.cmp(&b.tests_today),
            _ => rank(&a.state).cmp(&rank(&b.state)),
        };
        let by = if descending { by.reverse() } else { by };
        by.then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    let q_text = q.q.clone().unwrap_or_default();
    let columns = COLUMNS
        .iter()
        .map(|(k, label, numeric)| {
            let current = *k == sort;
            let next = if current && !descending {
                "desc"
            } else {
                "asc"
            };
            Column {
                label: (*label).into(),
                href: url(&state, &q_text, k, next),
                sorted: match (current, descending) {
                    (false, _) => "none",
                    (true, true) => "descending",
                    (true, false) => "ascending",
                }
                .into(),
                numeric: *numeric,
            }
        })
        .collect();
    Ok(FleetPage {
        states: STATES
            .iter()
            .map(|(k, l)| Opt {
                value: url(k, &q_text, if sort == "state" { "" } else { sort }, ""),
                label: if k.is_empty() {
                    format!("{l} {total}")
                } else {
                    format!("{l} {}", counts.get(*k).copied().unwrap_or(0))
                },
                selected: *k == state,
            })
            .collect(),
        q: q_text,
        state,
        columns,
        rows: rows.into_iter().map(|(r, _)| r).collect(),
        total,
    })
}

/// `GET /fleet`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>, Query(q): Query<FleetQuery>) -> Response {
    pages::show(req, &web, "fleet.html", "Fleet", "fleet", async |site| {
        build(&web, &q, site).await
    })
    .await
}
