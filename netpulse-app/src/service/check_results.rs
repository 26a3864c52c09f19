//! Check results: ingest of an agent's batch (validated, exactly once, service-check alerts
//! handed to the notification outbox), the result list, and a check's summary over a window.

use std::net::IpAddr;

use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckMeasurement, Family, Outcome};
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_domain::stats;
use netpulse_ports::check_store::{
    CheckIngest, CheckResultFilter, CheckResultPage, CheckSample, CheckSummary, Figures,
};

use super::App;
use super::checks::{default_service_alerts, get};
use crate::error::AppError;

/// The most results one batch may carry.
pub const MAX_BATCH: usize = 5000;
/// The largest batch body, bytes.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Checks one result before it is stored; errors name `results[i].<field>`.
fn validate(i: usize, m: &CheckMeasurement) -> Result<(), AppError> {
    m.validate()
        .map_err(|e| AppError::invalid(format!("results[{i}].{}", e.field), e.rule))?;
    if let Some(a) = &m.address {
        let ip: IpAddr = a.parse().map_err(|_| {
            AppError::invalid(
                format!("results[{i}].address"),
                format!("must be an IP address (got {a:?})"),
            )
        })?;
        if Family::of(&ip) != m.family {
            return Err(AppError::invalid(
                format!("results[{i}].address"),
                format!("{a} is not an address of family {}", m.family),
            ));
        }
    }
    Ok(())
}

/// Records a batch of `probe`'s results: at most [`MAX_BATCH`], each valid; stored once
/// (replays count as duplicates), results of checks the probe no longer has are counted and
/// dropped. Service-check alert edges and outage openings and closings claimed by the
/// transaction go to the notification outbox.
pub async fn ingest(
    app: &App,
    probe: &ProbeId,
    results: Vec<CheckMeasurement>,
) -> Result<CheckIngest, AppError> {
    if results.len() > MAX_BATCH {
        return Err(AppError::invalid(
            "results",
            format!(
                "must hold at most {MAX_BATCH} results (got {})",
                results.len()
            ),
        ));
    }
    for (i, m) in results.iter().enumerate() {
        validate(i, m)?;
    }
    if !results.is_empty() {
        let checks = app.storage.checks(Some(probe)).await?;
        for (i, m) in results.iter().enumerate() {
            if let Some(c) = checks.iter().find(|c| c.id == m.check_id)
                && !c.spec.family.families().contains(&m.family)
            {
                return Err(AppError::invalid(
                    format!("results[{i}].family"),
                    format!(
                        "check {} runs over {} only (got a {} result)",
                        c.id, c.spec.family, m.family
                    ),
                ));
            }
        }
    }
    let outcome = app
        .storage
        .record_check_results(probe, &results, &default_service_alerts())
        .await?;
    if !outcome.edges.is_empty()
        && let Some(n) = &app.notifications
    {
        for edge in &outcome.edges {
            if let Err(e) = n.check_edge(edge).await {
                tracing::error!(error = %e, check = %edge.check_id, "cannot queue a check alert");
            }
        }
    }
    if let Some(n) = &app.notifications {
        for edge in &outcome.outage_edges {
            if let Err(e) = n.outage_edge(edge).await {
                tracing::error!(error = %e, outage = %edge.outage.id, "cannot queue an outage announcement");
            }
        }
    }
    Ok(outcome)
}

/// A page of results.
pub async fn list(
    app: &App,
    filter: &CheckResultFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<CheckResultPage, AppError> {
    if let (Some(s), Some(u)) = (filter.since, filter.until)
        && s > u
    {
        return Err(AppError::invalid("since", "is after until"));
    }
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be 1–1000 (got {limit})"),
        ));
    }
    Ok(app.storage.check_results(filter, limit, cursor).await?)
}

/// Sums up samples: counts per outcome, the success ratio over judged results (not applicable
/// and local errors say nothing about the target), nearest-rank latency percentiles and the
/// mean loss.
pub fn figures<'a>(samples: impl Iterator<Item = &'a CheckSample>) -> Figures {
    let mut f = Figures::default();
    let mut latencies = Vec::new();
    let mut losses = Vec::new();
    for s in samples {
        f.count += 1;
        match s.outcome {
            Outcome::Ok => f.ok += 1,
            Outcome::Fail => f.failed += 1,
            Outcome::NotApplicable => f.not_applicable += 1,
            Outcome::LocalError => f.local_error += 1,
        }
        if s.outcome == Outcome::Ok {
            latencies.extend(s.latency_ms);
        }
        if matches!(s.outcome, Outcome::Ok | Outcome::Fail) {
            losses.extend(s.loss_pct);
        }
    }
    let judged = f.ok + f.failed;
    f.success_ratio = (judged > 0).then(|| f.ok as f64 / judged as f64);
    f.latency_p50_ms = stats::percentile(&latencies, 50.0);
    f.latency_p95_ms = stats::percentile(&latencies, 95.0);
    f.loss_mean_pct = stats::mean(&losses);
    f
}

/// The default summary window: the last 24 hours.
pub const DEFAULT_WINDOW_SECONDS: i64 = 86_400;
/// The longest summary window: 35 days.
pub const MAX_WINDOW_SECONDS: i64 = 35 * 86_400;

/// Summarises a check over `[since, until)` (default: the last 24 hours; at most 35 days).
pub async fn summary(
    app: &App,
    id: &CheckId,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<CheckSummary, AppError> {
    get(app, id).await?;
    let until = until.unwrap_or_else(|| app.clock.now());
    let since = since.unwrap_or_else(|| until.plus_seconds(-DEFAULT_WINDOW_SECONDS));
    if since > until {
        return Err(AppError::invalid("since", "is after until"));
    }
    if until.seconds_since(since) > MAX_WINDOW_SECONDS {
        return Err(AppError::invalid(
            "since",
            "is more than 35 days before until (ask for a shorter window)",
        ));
    }
    let samples = app.storage.check_samples(id, since, until).await?;
    let families = [Family::V4, Family::V6]
        .into_iter()
        .filter(|f| samples.iter().any(|s| s.family == *f))
        .map(|f| (f, figures(samples.iter().filter(|s| s.family == f))))
        .collect();
    Ok(CheckSummary {
        check_id: id.clone(),
        since,
        until,
        all: figures(samples.iter()),
        families,
    })
}
