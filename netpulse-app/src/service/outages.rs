//! Outages and uptime: episode lists (latest or most severe, keyset pages), one episode with
//! the timeline of its rounds, availability with coverage per probe and family over a window,
//! and the replay of the series from raw check results.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::OutageRules;
use netpulse_domain::outage::availability::Availability;
use netpulse_ports::outage_store::{
    OutageDetail, OutageFilter, OutageOrder, OutagePage, SeriesUptime, Uptime,
};

use super::App;
use crate::error::AppError;

/// The default uptime window: 30 days.
pub const DEFAULT_UPTIME_SECONDS: i64 = 30 * 86_400;
/// The longest uptime window: 400 days.
pub const MAX_UPTIME_SECONDS: i64 = 400 * 86_400;
/// Rounds shown before and after an episode in its timeline.
pub const CONTEXT_ROUNDS: i64 = 5;
/// The longest timeline of one episode: 3 days of rounds from its start.
pub const MAX_TIMELINE_MS: i64 = 3 * 86_400_000;

fn check_window(since: Option<Timestamp>, until: Option<Timestamp>) -> Result<(), AppError> {
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err(AppError::invalid("since", "is after until"));
    }
    Ok(())
}

/// A page of outages.
pub async fn list(
    app: &App,
    filter: &OutageFilter,
    order: OutageOrder,
    limit: u32,
    cursor: Option<&str>,
) -> Result<OutagePage, AppError> {
    check_window(filter.since, filter.until)?;
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be 1–1000 (got {limit})"),
        ));
    }
    Ok(app.storage.outages(filter, order, limit, cursor).await?)
}

/// Reads `latest` or `severity`.
pub fn parse_order(text: &str) -> Result<OutageOrder, AppError> {
    match text {
        "latest" => Ok(OutageOrder::Latest),
        "severity" => Ok(OutageOrder::Severity),
        _ => Err(AppError::invalid(
            "order",
            format!("must be latest or severity (got {text:?})"),
        )),
    }
}

/// One episode by id.
pub async fn get(app: &App, id: &str) -> Result<OutageDetail, AppError> {
    let outage = app
        .storage
        .outage(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "outage",
            id: id.to_owned(),
        })?;
    let period = OutageRules::default().period_ms;
    let e = &outage.episode;
    let since = e.started_at_ms - CONTEXT_ROUNDS * period;
    let end = if e.closed {
        e.last_failure_end_ms
    } else {
        app.clock.now().unix_millis()
    };
    let until = (end + CONTEXT_ROUNDS * period).min(e.started_at_ms + MAX_TIMELINE_MS);
    let rounds = app
        .storage
        .outage_rounds(
            &outage.probe_id,
            outage.family,
            Timestamp::from_unix_millis(since),
            Timestamp::from_unix_millis(until),
        )
        .await?;
    Ok(OutageDetail { outage, rounds })
}

/// Uptime of `probe` (or of every probe with outage series) over `[since, until)` (default:
/// the last 30 days; at most 400 days).
pub async fn uptime(
    app: &App,
    probe: Option<&ProbeId>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Uptime, AppError> {
    check_window(since, until)?;
    let until = until.unwrap_or_else(|| app.clock.now());
    let since = since.unwrap_or_else(|| until.plus_seconds(-DEFAULT_UPTIME_SECONDS));
    check_window(Some(since), Some(until))?;
    if until.seconds_since(since) > MAX_UPTIME_SECONDS {
        return Err(AppError::invalid(
            "since",
            "is more than 400 days before until (ask for a shorter window)",
        ));
    }
    if let Some(p) = probe {
        super::probes::get(app, p).await?;
    }
    let period = OutageRules::default().period_ms;
    let window_ms = until.unix_millis() - since.unix_millis();
    let mut series = Vec::new();
    for s in app.storage.outage_series(probe).await? {
        let time = app
            .storage
            .outage_state_time(&s.probe_id, s.family, since, until, period)
            .await?;
        series.push(SeriesUptime {
            probe_id: s.probe_id,
            family: s.family,
            availability: Availability::of(window_ms, &time),
            unknown_ms: (window_ms - time.known_ms).max(0),
            time,
        });
    }
    Ok(Uptime {
        since,
        until,
        series,
    })
}

/// Replays the outage series of `probe` (or every probe) from raw check results from
/// `since` on, but never from before the raw-checks retention floor (the episodes and rounds
/// there are kept as they are: their results are gone); returns how many series were replayed.
pub async fn rebuild(
    app: &App,
    probe: Option<&ProbeId>,
    since: Timestamp,
) -> Result<u64, AppError> {
    if let Some(p) = probe {
        super::probes::get(app, p).await?;
    }
    let floor = super::retention::floors(app)
        .await?
        .get(&netpulse_domain::retention::DataKind::RawChecks)
        .copied();
    let since = floor.map_or(since, |f| since.max(f));
    Ok(app.storage.rebuild_outages(probe, since).await?)
}
