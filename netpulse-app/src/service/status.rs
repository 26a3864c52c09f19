//! The status summary (`netpulse status`, `GET /api/v1/status`, the Outages page's head): the
//! PlexSheep-style tallies of the check results over a window (in all, per check kind, per
//! family), uptime with coverage, and the 10 latest and 10 most severe outages of the window.
//!
//! Cost: the tallies are one grouped query over the window's result rows (bounded by the
//! window, at most 400 days; the check state rows' counters have no window), the uptime one
//! grouped query per series over its stored rounds, the lists two index reads of 10 rows.

use std::collections::BTreeMap;

use netpulse_domain::Timestamp;
use netpulse_domain::check::Outcome;
use netpulse_domain::id::ProbeId;
use netpulse_ports::outage_store::{OutageFilter, OutageOrder};
use netpulse_ports::status_store::{ResultTally, Summary, Tally};

use super::App;
use super::outages;
use crate::error::AppError;

/// Outages per list of the summary.
pub const LIST_LEN: u32 = 10;

fn add(tally: &mut Tally, t: &ResultTally) {
    tally.checks += t.count;
    match t.outcome {
        Outcome::Ok => tally.ok += t.count,
        Outcome::Fail => tally.bad += t.count,
        Outcome::NotApplicable | Outcome::LocalError => tally.other += t.count,
    }
    tally.first = Some(tally.first.map_or(t.first, |f| f.min(t.first)));
    tally.last = Some(tally.last.map_or(t.last, |l| l.max(t.last)));
}

/// Reads a window's start: a duration back from `now` (`30d`, `12h`, `90m`) or an RFC 3339
/// time; `field` names the flag or parameter in the error.
pub fn parse_since(field: &str, text: &str, now: Timestamp) -> Result<Timestamp, AppError> {
    let t = text.trim();
    let unit = t.chars().last().unwrap_or(' ');
    let scale = match unit {
        'd' => Some(86_400),
        'h' => Some(3_600),
        'm' => Some(60),
        _ => None,
    };
    if let Some(scale) = scale
        && let Ok(n) = t[..t.len() - 1].parse::<i64>()
    {
        if !(1..=outages::MAX_UPTIME_SECONDS / scale).contains(&n) {
            return Err(AppError::invalid(
                field,
                format!("must be 1m–400d back (got {t:?})"),
            ));
        }
        return Ok(now.plus_seconds(-n * scale));
    }
    Timestamp::parse_rfc3339(t).map_err(|_| {
        AppError::invalid(
            field,
            format!("must be a duration such as 30d, 12h or 90m, or an RFC 3339 time (got {t:?})"),
        )
    })
}

/// The summary of `probe` (or every probe) over `[since, until)` (default: the last 30
/// days).
pub async fn summary(
    app: &App,
    probe: Option<&ProbeId>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Summary, AppError> {
    let uptime = outages::uptime(app, probe, since, until).await?;
    let tallies = app
        .storage
        .result_tallies(probe, uptime.since, uptime.until)
        .await?;
    let mut all = Tally::default();
    let mut kinds: BTreeMap<String, Tally> = BTreeMap::new();
    let mut families: BTreeMap<String, Tally> = BTreeMap::new();
    for t in &tallies {
        add(&mut all, t);
        add(kinds.entry(t.kind.clone()).or_default(), t);
        add(families.entry(t.family.as_str().to_owned()).or_default(), t);
    }
    let filter = OutageFilter {
        probe: probe.cloned(),
        family: None,
        since: Some(uptime.since),
        until: Some(uptime.until),
    };
    let latest = outages::list(app, &filter, OutageOrder::Latest, LIST_LEN, None).await?;
    let severe = outages::list(app, &filter, OutageOrder::Severity, LIST_LEN, None).await?;
    Ok(Summary {
        probe: probe.cloned(),
        all,
        kinds: kinds.into_iter().collect(),
        families: families.into_iter().collect(),
        uptime,
        latest: latest.items,
        most_severe: severe.items,
    })
}
