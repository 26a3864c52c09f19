//! Reminders of outage incidents (issue 21): an open, unacknowledged outage incident whose
//! probe routes to a contact list with a reminder interval is re-sent to that list once per
//! interval (counted from its opening, then from the last reminder), each reminder claimed with
//! a conditional write first, so with several server processes it goes out once. An
//! acknowledgement (or the outage's end) stops them. The reminder carries the outage alert's
//! incident key, so incident tools see the same incident.

use netpulse_domain::Timestamp;
use netpulse_domain::contact_list::{IncidentState, receives, reminder_due};
use netpulse_domain::id::ProbeId;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity, outage_severity};
use netpulse_domain::model::Probe;
use netpulse_domain::outage::{SeriesFamily, Severity};
use netpulse_ports::alerting_store::{AlertSubject, OutageIncident};
use netpulse_ports::notify::{Notification, NotificationKind, ProbeRef};
use netpulse_ports::storage::StorageError;

use super::outage_edges::family_words;
use super::{Notifications, incident_ref, render};

/// The reminder of an outage incident that is still open at `now`.
pub fn outage_reminder(
    probe: &Probe,
    incident: &OutageIncident,
    family: SeriesFamily,
    severity: IncidentSeverity,
    now: Timestamp,
) -> Notification {
    let words = family_words(family);
    let subject = format!(
        "[NetPulse] Reminder: {} still has an internet outage ({words})",
        probe.name
    );
    let body = format!(
        "Probe \"{}\" has had an outage over {words} since {} ({}) and nobody has acknowledged \
         it yet. Acknowledge it on the Incidents page or with \
         POST /api/v1/outage-incidents/{}/ack to stop these reminders.\n",
        probe.name,
        incident.opened_at.to_rfc3339(),
        render::duration(now.seconds_since(incident.opened_at)),
        incident.id,
    );
    let mut n = incident_ref::attach(
        Notification::new(NotificationKind::Alert, subject, body, now),
        format!("outage-{}-{family}", probe.id),
        AlertSource::Outage,
        severity,
        Some(incident.opened_at),
        probe,
    );
    if let Some(r) = n.incident.as_mut() {
        r.family = Some(words.to_owned());
    }
    n.probe = Some(ProbeRef {
        id: probe.id.to_string(),
        name: probe.name.to_string(),
    });
    n
}

impl Notifications {
    /// Re-sends every open, unacknowledged outage incident whose reminder is due to its
    /// probe's list, claiming each reminder first (check and probe-offline incidents of the
    /// same table: [`remind_alert`](Self::remind_alert)).
    pub(super) async fn send_outage_reminders(&self, now: Timestamp) -> Result<(), StorageError> {
        for incident in self.storage.unacknowledged_outage_incidents().await? {
            if incident.source != AlertSource::Outage {
                self.remind_alert(&incident, now).await?;
                continue;
            }
            let route = self
                .route(
                    AlertSource::Outage,
                    Some((AlertSubject::Probe, incident.probe_id.as_str())),
                )
                .await?;
            let Some(list) = route.list.as_ref() else {
                continue;
            };
            let last = incident.reminded_at.unwrap_or(incident.opened_at);
            if !reminder_due(IncidentState::Open, true, list.reminder_minutes, last, now) {
                continue;
            }
            let (Ok(probe_id), Ok(family)) = (
                ProbeId::parse(&incident.probe_id),
                SeriesFamily::parse(&incident.family),
            ) else {
                continue;
            };
            let severity = match route.configured {
                Some(s) => s,
                None => match self.storage.outage(&incident.id).await? {
                    Some(o) => outage_severity(
                        o.family == SeriesFamily::All,
                        matches!(o.episode.severity(), Severity::Complete),
                    ),
                    None => AlertSource::Outage.default_severity(),
                },
            };
            // A list that does not take this severity gets no reminders either.
            if !receives(list.min_severity, severity) {
                continue;
            }
            let Some(probe) = self.storage.probe(&probe_id).await? else {
                continue;
            };
            if !self
                .storage
                .claim_outage_reminder(&incident.id, incident.reminded_at, now)
                .await?
            {
                continue;
            }
            let n = outage_reminder(&probe, &incident, family, severity, now);
            self.enqueue_to(n, None, route.list.as_ref()).await?;
        }
        Ok(())
    }
}
