//! Where an incident's messages go and how urgent they are (issue 21): the effective severity
//! (the connection's, check's or probe's own, then the alert source's, then the source's
//! default) and the contact list the connection, check or probe routes to (none: every
//! channel). Outage and probe-offline alerts route by their probe. Reminders: an
//! open, announced, unacknowledged incident of an enabled connection outside maintenance, whose
//! list has a reminder interval, is re-sent to that list once per interval, each reminder
//! claimed with a conditional write.

use netpulse_domain::Timestamp;
use netpulse_domain::contact_list::{IncidentState, receives, reminder_due};
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity, severity_of};
use netpulse_ports::alerting_store::{AlertRoute, AlertSubject, ContactList};
use netpulse_ports::storage::StorageError;

use super::{Notifications, incident_ref, render};

/// The severity and contact list of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Route {
    /// The effective severity.
    pub severity: IncidentSeverity,
    /// The subject's own severity, else the source's configured one (`None`: neither is set).
    pub configured: Option<IncidentSeverity>,
    /// The list its messages go to (`None`: every channel).
    pub list: Option<ContactList>,
}

impl Notifications {
    /// The route of an incident raised by `source` about `subject` (a connection, check or
    /// probe id; `None`: the source's severity and every channel).
    pub(super) async fn route(
        &self,
        source: AlertSource,
        subject: Option<(AlertSubject, &str)>,
    ) -> Result<Route, StorageError> {
        let per_source = self
            .storage
            .source_severities()
            .await?
            .into_iter()
            .find(|(s, _)| *s == source)
            .map(|(_, v)| v);
        let own = match subject {
            Some((kind, id)) => self.storage.alert_route(kind, id).await?,
            None => AlertRoute::default(),
        };
        let list = match &own.contact_list_id {
            Some(id) => self.storage.contact_list(id).await?,
            None => None,
        };
        Ok(Route {
            severity: severity_of(source, own.severity, per_source),
            configured: own.severity.or(per_source),
            list,
        })
    }

    /// Re-sends the alert of every open, unacknowledged incident whose reminder is due, to its
    /// list; each reminder is claimed first, so with several processes it goes out once.
    pub(super) async fn send_reminders(
        &self,
        now: Timestamp,
        public_url: Option<&str>,
    ) -> Result<(), StorageError> {
        for status in self.storage.unacknowledged_incidents().await? {
            let incident = &status.incident;
            let route = self
                .route(
                    AlertSource::Connection,
                    Some((AlertSubject::Connection, incident.connection_id.as_str())),
                )
                .await?;
            let Some(list) = route.list.as_ref() else {
                continue;
            };
            let last = status.reminded_at.unwrap_or(incident.opened_at);
            let due = reminder_due(
                IncidentState::Open,
                incident.announced,
                list.reminder_minutes,
                last,
                now,
            );
            // A list that does not take this severity gets no reminders either.
            if !due || !receives(list.min_severity, route.severity) {
                continue;
            }
            let Some(connection) = self.storage.connection(&incident.connection_id).await? else {
                continue;
            };
            // A disabled connection, or one in a maintenance window, is not reminded of.
            if !connection.enabled || self.in_maintenance(&connection.id, now).await? {
                continue;
            }
            let Some(probe) = self.storage.probe(&connection.probe_id).await? else {
                continue;
            };
            if !self
                .storage
                .claim_reminder(&incident.id, status.reminded_at, now)
                .await?
            {
                continue;
            }
            let n = incident_ref::attach(
                render::reminder(
                    &probe,
                    &connection,
                    &incident.id,
                    incident.opened_at,
                    now,
                    public_url,
                ),
                incident.id.clone(),
                AlertSource::Connection,
                route.severity,
                Some(incident.opened_at),
                &probe,
            );
            self.enqueue_to(n, None, route.list.as_ref()).await?;
        }
        Ok(())
    }
}
