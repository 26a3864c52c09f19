//! Latency baselines of connectivity checks (issue 17): per check and family, the statistics of
//! the latency of its `ok` results in the 14 local days before the day, results inside a
//! maintenance window of its probe left out (`netpulse_domain::baseline::check_latency`),
//! stored per day like a connection's (see [`super::baselines`]). Recomputed with them, nightly
//! and by `netpulse baselines rebuild`; read by `GET /api/v1/checks/{id}/baseline`.

use netpulse_domain::baseline::{self, CheckSample, IN_FORCE_SECONDS};
use netpulse_domain::check::Family;
use netpulse_domain::id::CheckId;
use netpulse_ports::baseline_store::StoredCheckBaseline;
use netpulse_ports::check_store::Check;

use super::App;
use super::baselines::Window;
use crate::error::AppError;

/// Recomputes one check's rows of `w`'s day; returns them (one per family with samples).
pub async fn recompute(
    app: &App,
    check: &Check,
    w: &Window,
) -> Result<Vec<StoredCheckBaseline>, AppError> {
    let samples: Vec<CheckSample> = app
        .storage
        .check_samples(&check.id, w.from, w.day_start)
        .await?
        .into_iter()
        .map(|s| CheckSample {
            at: s.round_at,
            family: s.family,
            outcome: s.outcome,
            latency_ms: s.latency_ms,
        })
        .collect();
    let maintenance: Vec<_> = app
        .storage
        .probe_maintenance(&check.probe_id, w.from)
        .await?
        .into_iter()
        .map(|m| (m.starts_at, m.ends_at))
        .collect();
    let computed_at = app.clock.now();
    let rows: Vec<StoredCheckBaseline> = baseline::check_latency(&samples, &maintenance)
        .into_iter()
        .map(|(family, baseline)| StoredCheckBaseline {
            check: check.id.clone(),
            family,
            day: w.day.clone(),
            day_start: w.day_start,
            baseline,
            computed_at,
        })
        .collect();
    app.storage
        .write_check_baselines(&check.id, &w.day, &rows)
        .await?;
    Ok(rows)
}

/// Recomputes every check's rows of `w`'s day; returns the checks done.
pub async fn recompute_all(app: &App, w: &Window) -> Result<usize, AppError> {
    let checks = app.storage.checks(None).await?;
    for c in &checks {
        recompute(app, c, w).await?;
    }
    Ok(checks.len())
}

/// A check's latency baselines in force now, per family (v4, v6; `None`: none yet).
pub async fn in_force(
    app: &App,
    id: &CheckId,
) -> Result<Vec<(Family, Option<StoredCheckBaseline>)>, AppError> {
    if app.storage.check(id).await?.is_none() {
        return Err(AppError::NotFound {
            what: "check",
            id: id.to_string(),
        });
    }
    let now = app.clock.now();
    let rows = app
        .storage
        .check_baselines_in_force(id, now.plus_seconds(-IN_FORCE_SECONDS), now)
        .await?;
    Ok([Family::V4, Family::V6]
        .into_iter()
        .map(|f| (f, rows.iter().find(|r| r.family == f).cloned()))
        .collect())
}
