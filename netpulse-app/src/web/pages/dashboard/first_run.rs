//! The first-run checklist: shown on the dashboard until the first result lands, with the
//! exact command that starts the agent of a probe that never polled.

use netpulse_domain::Timestamp;
use netpulse_domain::liveness;
use netpulse_ports::web_store::ConnectionOverview;
use serde::Serialize;

use crate::error::AppError;
use crate::service::probes;
use crate::web::Web;
use crate::web::pages::probes::AgentSetup;

/// One step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// What.
    pub label: String,
    /// Done.
    pub done: bool,
    /// Details or what to do next.
    pub hint: String,
    /// Where to do it.
    pub href: String,
}

/// The checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Checklist {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The command that starts the agent of the first probe that is not polling.
    pub command: Option<String>,
}

fn step(label: &str, done: bool, hint: String, href: &str) -> Step {
    Step {
        label: label.to_owned(),
        done,
        hint,
        href: href.to_owned(),
    }
}

/// The checklist, or `None` once any connection has a result.
pub(super) async fn checklist(
    web: &Web,
    overviews: &[ConnectionOverview],
    now: Timestamp,
    server_url: &str,
) -> Result<Option<Checklist>, AppError> {
    if overviews.iter().any(|o| o.measurement_count > 0) {
        return Ok(None);
    }
    let probes = probes::list(&web.app).await?;
    let stale_after = liveness::stale_after_seconds(web.app.poll_interval_seconds);
    let polling = probes
        .iter()
        .find(|p| p.enabled && liveness::is_alive(p.last_poll_at, now, stale_after));
    let silent = probes
        .iter()
        .find(|p| p.enabled && p.last_poll_at.is_none());
    let command = match (polling, silent) {
        (None, Some(p)) => {
            Some(AgentSetup::new(server_url, p.id.as_str(), "PASTE-THE-PROBE-TOKEN").shell)
        }
        _ => None,
    };
    let steps = vec![
        step(
            "Admin account created",
            true,
            "You are signed in.".into(),
            "/settings",
        ),
        step(
            "Probe created",
            !probes.is_empty(),
            probes.first().map_or_else(
                || "Create one under Settings → Probes; it shows the token once.".into(),
                |p| format!("“{}”", p.name.as_str()),
            ),
            "/settings/probes",
        ),
        step(
            "Agent polling",
            polling.is_some(),
            polling.map_or_else(
                || "No agent has polled recently: start it with the probe's id and token.".into(),
                |p| format!("“{}” is polling.", p.name.as_str()),
            ),
            "/settings/probes",
        ),
        step(
            "Connection configured",
            !overviews.is_empty(),
            overviews.first().map_or_else(
                || "Add the link the probe should test, with its plan.".into(),
                |o| format!("“{}”", o.connection.name.as_str()),
            ),
            "/settings/connections",
        ),
        step(
            "First result",
            false,
            "Arrives at the first scheduled test, or now with Run test.".into(),
            "/history",
        ),
    ];
    Ok(Some(Checklist { steps, command }))
}
