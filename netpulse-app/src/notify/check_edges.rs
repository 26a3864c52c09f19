//! Service-check alerts: an edge claimed by the check-results transaction (so exactly one
//! server process sees it) becomes an `alert` or `recovery` notification through the same
//! outbox, channels, quiet hours and retries as connection alerts. Nothing is sent while
//! notifications are off; maintenance windows belong to connections and do not hold them.

use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertEdge;
use netpulse_domain::check::{CheckMeasurement, Family};
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_domain::model::Probe;
use netpulse_ports::alerting_store::{AlertSubject, OutageIncident};
use netpulse_ports::check_store::{Check, CheckEdge};
use netpulse_ports::notify::{IncidentRef, Notification, NotificationKind, ProbeRef};
use netpulse_ports::storage::StorageError;

use super::Notifications;

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

/// How a check is named in messages (`kind target[:port]`).
pub fn describe(check: &Check) -> String {
    match check.spec.port {
        Some(port) => format!("{} {}:{}", check.spec.kind, check.spec.target, port),
        None => format!("{} {}", check.spec.kind, check.spec.target),
    }
}

fn result_lines(m: &CheckMeasurement) -> String {
    let mut out = format!(
        "Latest round ({}, {}):\n- outcome: {}\n",
        m.round_at.to_rfc3339(),
        family_name(m.family),
        m.outcome
    );
    if let Some(c) = m.failure_class {
        out.push_str(&format!("- failure: {c}\n"));
    }
    if let Some(msg) = &m.message {
        out.push_str(&format!("- message: {msg}\n"));
    }
    if let Some(l) = m.latency_ms {
        out.push_str(&format!("- latency: {l:.1} ms\n"));
    }
    if let Some(a) = &m.address {
        out.push_str(&format!("- address: {a}\n"));
    }
    out
}

/// The message of a service-check edge, of the effective `severity`.
pub fn check_notification(
    probe: &Probe,
    check: &Check,
    edge: &CheckEdge,
    severity: IncidentSeverity,
    now: Timestamp,
) -> Notification {
    let what = describe(check);
    let family = family_name(edge.family);
    let (kind, subject, first) = match edge.edge {
        AlertEdge::Alert { consecutive } => (
            NotificationKind::Alert,
            format!("[NetPulse] {}: {what} ({family}) is failing", probe.name),
            format!(
                "Service check \"{what}\" on probe \"{}\" failed {consecutive} rounds in a row over {family}.",
                probe.name
            ),
        ),
        AlertEdge::Recovery { consecutive } => (
            NotificationKind::Recovery,
            format!("[NetPulse] {}: {what} ({family}) recovered", probe.name),
            format!(
                "Service check \"{what}\" on probe \"{}\" recovered over {family} after {consecutive} good round{}.",
                probe.name,
                if consecutive == 1 { "" } else { "s" }
            ),
        ),
    };
    let body = super::incident_ref::with_severity(
        &format!("{first}\n\n{}", result_lines(&edge.result)),
        severity,
    );
    let mut n = Notification::new(kind, subject, body, now);
    n.probe = Some(ProbeRef {
        id: probe.id.to_string(),
        name: probe.name.to_string(),
    });
    n.incident = Some(IncidentRef {
        key: format!("check-{}-{}", check.id, family_key(edge.family)),
        severity,
        source: AlertSource::Check,
        started_at: None,
        site: probe.labels.get("site").map(str::to_owned),
        check: Some(what),
        family: Some(family.to_owned()),
    });
    n
}

const fn family_key(f: Family) -> &'static str {
    match f {
        Family::V4 => "v4",
        Family::V6 => "v6",
    }
}

impl Notifications {
    /// Queues the notification of a claimed service-check edge (unless notifications are off,
    /// or the check or probe was deleted meanwhile). Returns whether one was queued.
    pub async fn check_edge(&self, edge: &CheckEdge) -> Result<bool, StorageError> {
        let (Some(check), Some(probe)) = (
            self.storage.check(&edge.check_id).await?,
            self.storage.probe(&edge.probe_id).await?,
        ) else {
            return Ok(false);
        };
        if !check.enabled {
            return Ok(false);
        }
        let route = self
            .route(
                AlertSource::Check,
                Some((AlertSubject::Check, check.id.as_str())),
            )
            .await?;
        self.record_check_incident(edge, route.severity).await?;
        let settings = self.settings().await?;
        if !settings.enabled {
            tracing::info!(check = %edge.check_id, "check alert not announced: notifications are off");
            return Ok(false);
        }
        let n = check_notification(&probe, &check, edge, route.severity, self.clock.now());
        self.enqueue_to(n, None, route.list.as_ref()).await
    }
}

impl Notifications {
    /// Opens the check's incident for an alert edge (id derived from the check, family and the
    /// alerting round, so the edge's one claim gives one row) or resolves it for a recovery.
    async fn record_check_incident(
        &self,
        edge: &CheckEdge,
        severity: IncidentSeverity,
    ) -> Result<(), StorageError> {
        let family = family_key(edge.family);
        let check_id = edge.check_id.to_string();
        let at = edge.result.round_at;
        match edge.edge {
            AlertEdge::Alert { .. } => {
                let incident = OutageIncident {
                    id: format!("check-{check_id}-{family}-{}", at.unix_millis()),
                    source: AlertSource::Check,
                    subject_id: check_id,
                    probe_id: edge.probe_id.to_string(),
                    family: family.to_owned(),
                    severity: Some(severity),
                    opened_at: at,
                    closed_at: None,
                    acknowledged_by: None,
                    acknowledged_at: None,
                    reminded_at: None,
                };
                self.storage.open_alert_incident(&incident).await?;
            }
            AlertEdge::Recovery { .. } => {
                self.storage
                    .close_alert_incidents(AlertSource::Check, &check_id, family, at)
                    .await?;
            }
        }
        Ok(())
    }
}
