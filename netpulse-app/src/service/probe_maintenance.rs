//! Maintenance of probes: scheduled windows and the manual switch
//! ([`netpulse_domain::probe_maintenance`]). While a probe is in maintenance `/due` hands it no
//! tests and an empty check set (the agent stops its rounds), run-now requests are refused, its
//! offline and connection alerts are held, and [`super::fleet::probe_in_maintenance`] answers
//! true for that time.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::probe_maintenance::{self, ProbeMaintenance};

use super::{App, new_uuid, probes};
use crate::error::AppError;

/// Schedules a window (`ends_at` `None`: until switched off).
pub async fn schedule(
    app: &App,
    probe: &ProbeId,
    starts_at: Timestamp,
    ends_at: Option<Timestamp>,
    reason: &str,
) -> Result<ProbeMaintenance, AppError> {
    add(app, probe, starts_at, ends_at, reason, false).await
}

async fn add(
    app: &App,
    probe: &ProbeId,
    starts_at: Timestamp,
    ends_at: Option<Timestamp>,
    reason: &str,
    manual: bool,
) -> Result<ProbeMaintenance, AppError> {
    probes::get(app, probe).await?;
    let reason = probe_maintenance::validate(starts_at, ends_at, reason)?;
    let window = ProbeMaintenance {
        id: new_uuid(),
        probe_id: probe.clone(),
        starts_at,
        ends_at,
        reason,
        manual,
        created_at: app.clock.now(),
    };
    app.storage.add_probe_maintenance(&window).await?;
    super::audit::record(
        app,
        "maintenance.create",
        format!("probe:{probe}"),
        format!("window {} ({})", window.id, window.reason),
    )
    .await?;
    Ok(window)
}

/// The manual switch. On: a window from now (until `until`, or until switched off), unless one
/// is active already (then nothing changes and the active one is returned). Off: every window
/// active now ends now (scheduled ones too). Returns the window active afterwards.
pub async fn switch(
    app: &App,
    probe: &ProbeId,
    on: bool,
    until: Option<Timestamp>,
    reason: &str,
) -> Result<Option<ProbeMaintenance>, AppError> {
    probes::get(app, probe).await?;
    let now = app.clock.now();
    let active = active(app, probe, now).await?;
    if on {
        if let Some(w) = active {
            return Ok(Some(w));
        }
        return Ok(Some(add(app, probe, now, until, reason, true).await?));
    }
    app.storage.end_probe_maintenance(probe, now).await?;
    super::audit::record(
        app,
        "maintenance.end",
        format!("probe:{probe}"),
        "switched off",
    )
    .await?;
    Ok(None)
}

async fn active(
    app: &App,
    probe: &ProbeId,
    now: Timestamp,
) -> Result<Option<ProbeMaintenance>, AppError> {
    Ok(app
        .storage
        .probe_maintenance(probe, now)
        .await?
        .into_iter()
        .find(|w| w.active_at(now)))
}

/// The probe's windows that have not ended (active and scheduled), by start.
pub async fn list(app: &App, probe: &ProbeId) -> Result<Vec<ProbeMaintenance>, AppError> {
    probes::get(app, probe).await?;
    Ok(app
        .storage
        .probe_maintenance(probe, app.clock.now())
        .await?)
}

/// Deletes one window (a scheduled one before it starts, or any to forget it).
pub async fn delete(app: &App, probe: &ProbeId, id: &str) -> Result<(), AppError> {
    app.storage.delete_probe_maintenance(probe, id).await?;
    super::audit::record(
        app,
        "maintenance.delete",
        format!("probe:{probe}"),
        format!("window {id}"),
    )
    .await
}
