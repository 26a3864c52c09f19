//! Reminders of service-check and probe-offline incidents (issue 21), like outage reminders:
//! an open, unacknowledged incident whose check or probe routes to a contact list with a
//! reminder interval is re-sent to that list once per interval (counted from its opening, then
//! from the last reminder), each reminder claimed with a conditional write first, so with
//! several server processes it goes out once. Acknowledgement or recovery stops them. The
//! severity is the one stored when the incident opened (else the route's). A reminder carries
//! the alert's incident key, so incident tools see the same incident.

use netpulse_domain::Timestamp;
use netpulse_domain::contact_list::{IncidentState, receives, reminder_due};
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_domain::model::Probe;
use netpulse_domain::outage::SeriesFamily;
use netpulse_ports::alerting_store::{AlertSubject, OutageIncident};
use netpulse_ports::check_store::Check;
use netpulse_ports::notify::{IncidentRef, Notification, NotificationKind, ProbeRef};
use netpulse_ports::storage::StorageError;

use super::check_edges::describe;
use super::{Notifications, incident_ref, render};

/// The stored family in words (`outage_edges::family_words`), as stored if it does not read.
fn family_words(f: &str) -> &str {
    match SeriesFamily::parse(f) {
        Ok(family) => super::outage_edges::family_words(family),
        Err(_) => f,
    }
}

fn ack_line(incident: &OutageIncident) -> String {
    format!(
        "Acknowledge it on the Incidents page or with POST /api/v1/outage-incidents/{}/ack to \
         stop these reminders.",
        incident.id
    )
}

/// The reminder of a service check's incident that is still open at `now`.
pub fn check_reminder(
    probe: &Probe,
    check: &Check,
    incident: &OutageIncident,
    severity: IncidentSeverity,
    now: Timestamp,
) -> Notification {
    let what = describe(check);
    let family = family_words(&incident.family);
    let subject = format!(
        "[NetPulse] Reminder: {}: {what} ({family}) is still failing",
        probe.name
    );
    let body = format!(
        "Service check \"{what}\" on probe \"{}\" has been failing over {family} since {} ({}) \
         and nobody has acknowledged it yet. {}\n",
        probe.name,
        incident.opened_at.to_rfc3339(),
        render::duration(now.seconds_since(incident.opened_at)),
        ack_line(incident),
    );
    let mut n = Notification::new(
        NotificationKind::Alert,
        subject,
        incident_ref::with_severity(&body, severity),
        now,
    );
    n.probe = Some(ProbeRef {
        id: probe.id.to_string(),
        name: probe.name.to_string(),
    });
    n.incident = Some(IncidentRef {
        key: format!("check-{}-{}", check.id, incident.family),
        severity,
        source: AlertSource::Check,
        started_at: Some(incident.opened_at),
        site: probe.labels.get("site").map(str::to_owned),
        check: Some(what),
        family: Some(family.to_owned()),
    });
    n
}

/// The reminder of a probe-offline incident that is still open at `now`.
pub fn offline_reminder(
    probe: &Probe,
    incident: &OutageIncident,
    severity: IncidentSeverity,
    now: Timestamp,
) -> Notification {
    let subject = format!("[NetPulse] Reminder: probe {} is still offline", probe.name);
    let body = format!(
        "Probe \"{}\" has not polled since {} ({}) and nobody has acknowledged it yet. {}\n",
        probe.name,
        incident.opened_at.to_rfc3339(),
        render::duration(now.seconds_since(incident.opened_at)),
        ack_line(incident),
    );
    let mut n = incident_ref::attach(
        Notification::new(NotificationKind::ProbeOffline, subject, body, now),
        incident_ref::probe_key(probe),
        AlertSource::ProbeOffline,
        severity,
        Some(incident.opened_at),
        probe,
    );
    n.probe = Some(ProbeRef {
        id: probe.id.to_string(),
        name: probe.name.to_string(),
    });
    n
}

impl Notifications {
    /// Re-sends a check or probe-offline incident to its check's or probe's list when its
    /// reminder is due, claiming the reminder first.
    pub(super) async fn remind_alert(
        &self,
        incident: &OutageIncident,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let subject = match incident.source {
            AlertSource::Check => AlertSubject::Check,
            AlertSource::ProbeOffline => AlertSubject::Probe,
            AlertSource::Connection | AlertSource::Outage => return Ok(()),
        };
        let route = self
            .route(
                incident.source,
                Some((subject, incident.subject_id.as_str())),
            )
            .await?;
        let Some(list) = route.list.as_ref() else {
            return Ok(());
        };
        let last = incident.reminded_at.unwrap_or(incident.opened_at);
        if !reminder_due(IncidentState::Open, true, list.reminder_minutes, last, now) {
            return Ok(());
        }
        let severity = incident.severity.unwrap_or(route.severity);
        // A list that does not take this severity gets no reminders either.
        if !receives(list.min_severity, severity) {
            return Ok(());
        }
        let Ok(probe_id) = ProbeId::parse(&incident.probe_id) else {
            return Ok(());
        };
        let Some(probe) = self.storage.probe(&probe_id).await? else {
            return Ok(());
        };
        let n = if incident.source == AlertSource::Check {
            let Ok(check_id) = CheckId::parse(&incident.subject_id) else {
                return Ok(());
            };
            let Some(check) = self.storage.check(&check_id).await? else {
                return Ok(());
            };
            if !check.enabled {
                return Ok(());
            }
            check_reminder(&probe, &check, incident, severity, now)
        } else {
            offline_reminder(&probe, incident, severity, now)
        };
        if !self
            .storage
            .claim_outage_reminder(&incident.id, incident.reminded_at, now)
            .await?
        {
            return Ok(());
        }
        self.enqueue_to(n, None, route.list.as_ref()).await?;
        Ok(())
    }
}
