//! The incident a notification is about, as incident tools (Alertmanager, PagerDuty, Opsgenie)
//! see it: a key stable from trigger to resolve, the severity, the site.

use netpulse_domain::Timestamp;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_domain::model::Probe;
use netpulse_ports::notify::{IncidentRef, Notification};

/// Attaches the incident `key` raised by `source`, of the effective `severity`, to `n`, and
/// names the severity in the message text.
pub(super) fn attach(
    mut n: Notification,
    key: String,
    source: AlertSource,
    severity: IncidentSeverity,
    started_at: Option<Timestamp>,
    probe: &Probe,
) -> Notification {
    n.body = with_severity(&n.body, severity);
    n.incident = Some(IncidentRef {
        key,
        severity,
        source,
        started_at,
        site: probe.labels.get("site").map(str::to_owned),
        check: None,
        family: None,
    });
    n
}

/// The key of a probe's offline incident.
pub(super) fn probe_key(probe: &Probe) -> String {
    format!("probe-{}-offline", probe.id)
}

/// The body with a last line naming the severity (Flux Notify's upper-case name).
pub(super) fn with_severity(body: &str, severity: IncidentSeverity) -> String {
    format!("{}\n\nSeverity: {}\n", body.trim_end(), severity.label())
}
