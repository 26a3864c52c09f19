//! The fleet's view of probes: each probe's agent state (ONLINE / DEGRADED / OFFLINE /
//! MAINTENANCE, [`netpulse_domain::agent_state`]) with its reasons, its active maintenance
//! window and its check tally. Computed from state rows only — the probe rows, the active
//! maintenance windows and the newest round per check and family — in three reads whatever the
//! number of probes or the size of the history.

use std::collections::HashMap;

use netpulse_domain::Timestamp;
use netpulse_domain::agent_state::{Facts, Verdict, state_of};
use netpulse_domain::id::ProbeId;
use netpulse_domain::model::Probe;
use netpulse_domain::probe_maintenance::ProbeMaintenance;
use netpulse_ports::fleet_store::CheckTally;

use super::App;
use crate::error::AppError;

/// The window over which check failures make an agent DEGRADED, seconds (wave2-specs §4).
pub const CHECK_WINDOW_SECONDS: i64 = 600;

/// A probe's state now.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeStatus {
    /// The state, whether it is alive underneath, and the reasons.
    pub verdict: Verdict,
    /// The maintenance window covering now, if any.
    pub maintenance: Option<ProbeMaintenance>,
    /// Its checks' newest rounds in the last 10 minutes.
    pub checks: CheckTally,
    /// The silence after which it is offline, seconds.
    pub offline_after_seconds: i64,
    /// Its agent reported a version older than the server's.
    pub outdated: bool,
}

fn status(
    app: &App,
    probe: &Probe,
    maintenance: Option<ProbeMaintenance>,
    checks: CheckTally,
    now: Timestamp,
) -> ProbeStatus {
    let poll = app.poll_interval_seconds;
    let facts = Facts {
        last_seen: probe.last_poll_at,
        poll_interval_seconds: poll,
        in_maintenance: maintenance.is_some(),
        checks_last_10_min: (checks.total, checks.failed),
        ..Facts::default()
    };
    ProbeStatus {
        verdict: state_of(now, &facts),
        maintenance,
        checks,
        offline_after_seconds: netpulse_domain::agent_state::offline_after_seconds(poll),
        outdated: probe.agent_version.as_deref().is_some_and(|v| {
            netpulse_domain::agent_state::is_outdated(v, env!("CARGO_PKG_VERSION"))
        }),
    }
}

/// The state of each of `probes` at `now` (two reads besides the probes themselves).
pub async fn statuses(
    app: &App,
    probes: &[Probe],
    now: Timestamp,
) -> Result<HashMap<ProbeId, ProbeStatus>, AppError> {
    let mut windows: HashMap<ProbeId, ProbeMaintenance> = HashMap::new();
    for w in app.storage.active_probe_maintenance(now).await? {
        windows.entry(w.probe_id.clone()).or_insert(w);
    }
    let tallies: HashMap<ProbeId, CheckTally> = app
        .storage
        .check_tallies(now.plus_seconds(-CHECK_WINDOW_SECONDS))
        .await?
        .into_iter()
        .collect();
    Ok(probes
        .iter()
        .map(|p| {
            let s = status(
                app,
                p,
                windows.remove(&p.id),
                tallies.get(&p.id).copied().unwrap_or_default(),
                now,
            );
            (p.id.clone(), s)
        })
        .collect())
}

/// One probe's state at `now`.
pub async fn status_of(app: &App, probe: &Probe, now: Timestamp) -> Result<ProbeStatus, AppError> {
    let mut all = statuses(app, std::slice::from_ref(probe), now).await?;
    Ok(all
        .remove(&probe.id)
        .unwrap_or_else(|| status(app, probe, None, CheckTally::default(), now)))
}

/// Whether the probe is in maintenance at `at` (a scheduled window or the manual switch; past
/// times too). One indexed read. Outages, baselines and SLA figures use this to leave the time
/// out; `/due` to hand out no work; notifications to hold alerts.
pub async fn probe_in_maintenance(
    app: &App,
    probe: &ProbeId,
    at: Timestamp,
) -> Result<bool, AppError> {
    Ok(app.storage.probe_in_maintenance(probe, at).await?)
}

/// What the Fleet page shows: every probe, its state, and its tests since `today_since`.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Every probe, by name.
    pub probes: Vec<Probe>,
    /// Their states.
    pub states: HashMap<ProbeId, ProbeStatus>,
    /// Their tests since the start of the day.
    pub tests_today: HashMap<ProbeId, u64>,
}

/// The Fleet page's data in four reads (probes, active windows, check tallies, today's test
/// counts), whatever the number of probes.
pub async fn overview(
    app: &App,
    now: Timestamp,
    today_since: Timestamp,
) -> Result<Overview, AppError> {
    let probes = app.storage.probes().await?;
    let states = statuses(app, &probes, now).await?;
    let tests_today = app
        .storage
        .tests_since(today_since)
        .await?
        .into_iter()
        .collect();
    Ok(Overview {
        probes,
        states,
        tests_today,
    })
}
