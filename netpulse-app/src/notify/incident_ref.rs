//! The incident a notification is about, as incident tools (Alertmanager, PagerDuty, Opsgenie)
//! see it: a key stable from trigger to resolve, the severity, the site.

use netpulse_domain::Timestamp;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity, severity_of};
use netpulse_domain::model::Probe;
use netpulse_ports::notify::{IncidentRef, Notification};

/// Attaches the incident `key` raised by `source` to `n`.
pub(super) fn attach(
    mut n: Notification,
    key: String,
    source: AlertSource,
    own: Option<IncidentSeverity>,
    started_at: Option<Timestamp>,
    probe: &Probe,
) -> Notification {
    n.incident = Some(IncidentRef {
        key,
        severity: severity_of(source, own, None),
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
