//! Severities, contact lists and incident acknowledgement (issue 21): the severity per alert
//! source, a connection's or check's own severity and contact list, the contact lists, and
//! incidents by state with their acknowledgement (recorded with who and when, and in the audit
//! log).

use netpulse_domain::Timestamp;
use netpulse_domain::contact_list::{AckDecision, ContactListRules, IncidentState, ack_decision};
use netpulse_domain::id::{CheckId, ConnectionId, ProbeId};
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity, severity_of};
use netpulse_domain::notify_settings::history_range;
use netpulse_ports::access_store::AuditEntry;
use netpulse_ports::alerting_store::{
    AlertRoute, AlertSubject, ContactList, IncidentStatus, OutageIncident,
};

use super::{rule_and_value, rule_only};
use crate::error::AppError;
use crate::service::access::Principal;
use crate::service::{App, new_uuid};

/// The severity of one alert source: the configured one (if any) and the one in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSeverity {
    /// The source.
    pub source: AlertSource,
    /// What the user configured.
    pub configured: Option<IncidentSeverity>,
    /// What incidents of this source carry (unless their connection or check says otherwise).
    pub effective: IncidentSeverity,
}

/// Every source's severity.
pub async fn severities(app: &App) -> Result<Vec<SourceSeverity>, AppError> {
    let configured = app.storage.source_severities().await?;
    Ok(AlertSource::ALL
        .into_iter()
        .map(|source| {
            let c = configured
                .iter()
                .find(|(s, _)| *s == source)
                .map(|(_, v)| *v);
            SourceSeverity {
                source,
                configured: c,
                effective: severity_of(source, None, c),
            }
        })
        .collect())
}

/// Sets (or, with `None`, resets to the default) the severity of some sources.
pub async fn set_severities(
    app: &App,
    changes: &[(AlertSource, Option<IncidentSeverity>)],
) -> Result<Vec<SourceSeverity>, AppError> {
    for (source, severity) in changes {
        app.storage.set_source_severity(*source, *severity).await?;
    }
    severities(app).await
}

/// A contact list as the caller sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactListInput {
    /// Its name.
    pub name: String,
    /// Reminder interval in minutes (`None`: no reminders).
    pub reminder_minutes: Option<u32>,
    /// The least urgent severity it receives.
    pub min_severity: Option<IncidentSeverity>,
    /// Its channels.
    pub channel_ids: Vec<String>,
}

/// Every contact list, by name.
pub async fn contact_lists(app: &App) -> Result<Vec<ContactList>, AppError> {
    Ok(app.storage.contact_lists().await?)
}

/// One contact list.
pub async fn contact_list(app: &App, id: &str) -> Result<ContactList, AppError> {
    app.storage
        .contact_list(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "contact list",
            id: id.to_owned(),
        })
}

async fn validated(app: &App, input: &ContactListInput) -> Result<ContactListRules, AppError> {
    let rules = ContactListRules::new(&input.name, input.reminder_minutes, input.min_severity)
        .map_err(rule_and_value)?;
    let channels = app.storage.channels().await?;
    for (i, id) in input.channel_ids.iter().enumerate() {
        if !channels.iter().any(|c| c.id == *id) {
            return Err(AppError::invalid(
                format!("channelIds[{i}]"),
                format!("no channel {id}"),
            ));
        }
    }
    Ok(rules)
}

fn channel_set(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v.dedup();
    v
}

async fn name_free(app: &App, name: &str, except: Option<&str>) -> Result<(), AppError> {
    let taken = app
        .storage
        .contact_lists()
        .await?
        .into_iter()
        .any(|l| l.name == name && Some(l.id.as_str()) != except);
    if taken {
        return Err(AppError::invalid(
            "name",
            format!("a contact list named {name:?} exists"),
        ));
    }
    Ok(())
}

/// Creates a contact list.
pub async fn create_contact_list(
    app: &App,
    input: &ContactListInput,
) -> Result<ContactList, AppError> {
    let rules = validated(app, input).await?;
    name_free(app, &rules.name, None).await?;
    let now = app.clock.now();
    let list = ContactList {
        id: new_uuid(),
        name: rules.name,
        reminder_minutes: rules.reminder_minutes,
        min_severity: rules.min_severity,
        channel_ids: channel_set(&input.channel_ids),
        created_at: now,
        updated_at: now,
    };
    app.storage.create_contact_list(&list).await?;
    Ok(list)
}

/// Replaces a contact list's settings and channels.
pub async fn update_contact_list(
    app: &App,
    id: &str,
    input: &ContactListInput,
) -> Result<ContactList, AppError> {
    let old = contact_list(app, id).await?;
    let rules = validated(app, input).await?;
    name_free(app, &rules.name, Some(id)).await?;
    let list = ContactList {
        name: rules.name,
        reminder_minutes: rules.reminder_minutes,
        min_severity: rules.min_severity,
        channel_ids: channel_set(&input.channel_ids),
        updated_at: app.clock.now(),
        ..old
    };
    app.storage.update_contact_list(&list).await?;
    Ok(list)
}

/// Deletes a contact list (409 while a connection, check or probe routes to it).
pub async fn delete_contact_list(app: &App, id: &str) -> Result<(), AppError> {
    Ok(app.storage.delete_contact_list(id).await?)
}

/// What a connection's or check's alerting is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A connection.
    Connection(ConnectionId),
    /// A service check.
    Check(CheckId),
    /// A probe (its outage and probe-offline alerts).
    Probe(ProbeId),
}

impl Subject {
    fn key(&self) -> (AlertSubject, &str) {
        match self {
            Self::Connection(id) => (AlertSubject::Connection, id.as_str()),
            Self::Check(id) => (AlertSubject::Check, id.as_str()),
            Self::Probe(id) => (AlertSubject::Probe, id.as_str()),
        }
    }

    async fn must_exist(&self, app: &App) -> Result<(), AppError> {
        let (what, exists) = match self {
            Self::Connection(id) => ("connection", app.storage.connection(id).await?.is_some()),
            Self::Check(id) => ("check", app.storage.check(id).await?.is_some()),
            Self::Probe(id) => ("probe", app.storage.probe(id).await?.is_some()),
        };
        if exists {
            Ok(())
        } else {
            Err(AppError::NotFound {
                what,
                id: self.key().1.to_owned(),
            })
        }
    }
}

/// A connection's or check's own severity and contact list.
pub async fn route(app: &App, subject: &Subject) -> Result<AlertRoute, AppError> {
    subject.must_exist(app).await?;
    let (kind, id) = subject.key();
    Ok(app.storage.alert_route(kind, id).await?)
}

/// Sets a connection's or check's own severity and contact list (`None`: the source's
/// severity, every channel).
pub async fn set_route(
    app: &App,
    subject: &Subject,
    route: AlertRoute,
) -> Result<AlertRoute, AppError> {
    subject.must_exist(app).await?;
    if let Some(list) = &route.contact_list_id
        && app.storage.contact_list(list).await?.is_none()
    {
        return Err(AppError::invalid(
            "contactListId",
            format!("no contact list {list}"),
        ));
    }
    let (kind, id) = subject.key();
    app.storage.set_alert_route(kind, id, &route).await?;
    Ok(route)
}

/// The state of an incident.
pub fn state_of(i: &IncidentStatus) -> IncidentState {
    IncidentState::of(i.incident.closed_at.is_some(), i.acknowledged_at.is_some())
}

/// Incidents overlapping `[since, until)` (default: the last 30 days onwards), of one
/// connection or all, in one state or all.
pub async fn incidents(
    app: &App,
    connection: Option<&ConnectionId>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    state: Option<IncidentState>,
) -> Result<Vec<IncidentStatus>, AppError> {
    let (since, until) = history_range(app.clock.now(), since, until).map_err(rule_only)?;
    Ok(app
        .storage
        .incident_statuses(connection.map(ConnectionId::as_str), since, until)
        .await?
        .into_iter()
        .filter(|i| state.is_none_or(|s| state_of(i) == s))
        .collect())
}

/// The state of an outage incident.
pub fn outage_state_of(i: &OutageIncident) -> IncidentState {
    IncidentState::of(i.closed_at.is_some(), i.acknowledged_at.is_some())
}

/// Outage incidents overlapping `[since, until)` (default: the last 30 days onwards), in one
/// state or all.
pub async fn outage_incidents(
    app: &App,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    state: Option<IncidentState>,
) -> Result<Vec<OutageIncident>, AppError> {
    let (since, until) = history_range(app.clock.now(), since, until).map_err(rule_only)?;
    Ok(app
        .storage
        .outage_incidents(None, since, until)
        .await?
        .into_iter()
        .filter(|i| state.is_none_or(|s| outage_state_of(i) == s))
        .collect())
}

/// Acknowledges an open incident for `who`: records who and when (the first acknowledgement
/// stays), writes the audit log and so stops its reminders. A resolved incident answers 409.
pub async fn acknowledge(app: &App, id: &str, who: &Principal) -> Result<IncidentStatus, AppError> {
    let not_found = || AppError::NotFound {
        what: "incident",
        id: id.to_owned(),
    };
    let current = app
        .storage
        .incident_status(id)
        .await?
        .ok_or_else(not_found)?;
    match ack_decision(state_of(&current)) {
        AckDecision::Refuse => {
            return Err(AppError::Conflict(
                "the incident is resolved: nothing to acknowledge".into(),
            ));
        }
        AckDecision::Keep => return Ok(current),
        AckDecision::Record => {}
    }
    let now = app.clock.now();
    if app.storage.acknowledge_incident(id, &who.name, now).await? {
        app.storage
            .append_audit(&AuditEntry {
                id: new_uuid(),
                at: now,
                actor_id: who.user_id.clone(),
                actor_email: Some(who.name.clone()),
                action: "incident.ack".into(),
                subject: format!("incident:{id}"),
                detail: format!("connection {}", current.incident.connection_id),
            })
            .await?;
    }
    // Recovered or acknowledged by someone else meanwhile: answer what is stored.
    let after = app
        .storage
        .incident_status(id)
        .await?
        .ok_or_else(not_found)?;
    if state_of(&after) == IncidentState::Resolved && after.acknowledged_at.is_none() {
        return Err(AppError::Conflict(
            "the incident is resolved: nothing to acknowledge".into(),
        ));
    }
    Ok(after)
}

/// Acknowledges an open outage incident for `who`, like [`acknowledge`]: the first
/// acknowledgement stays, the audit log gets `incident.ack`, a resolved incident answers 409.
pub async fn acknowledge_outage(
    app: &App,
    id: &str,
    who: &Principal,
) -> Result<OutageIncident, AppError> {
    let not_found = || AppError::NotFound {
        what: "outage incident",
        id: id.to_owned(),
    };
    let resolved = || AppError::Conflict("the incident is resolved: nothing to acknowledge".into());
    let current = app
        .storage
        .outage_incident(id)
        .await?
        .ok_or_else(not_found)?;
    match ack_decision(outage_state_of(&current)) {
        AckDecision::Refuse => return Err(resolved()),
        AckDecision::Keep => return Ok(current),
        AckDecision::Record => {}
    }
    let now = app.clock.now();
    if app
        .storage
        .acknowledge_outage_incident(id, &who.name, now)
        .await?
    {
        app.storage
            .append_audit(&AuditEntry {
                id: new_uuid(),
                at: now,
                actor_id: who.user_id.clone(),
                actor_email: Some(who.name.clone()),
                action: "incident.ack".into(),
                subject: format!("outage-incident:{id}"),
                detail: if current.source == AlertSource::Outage {
                    format!("probe {} {}", current.probe_id, current.family)
                } else {
                    format!(
                        "{} {} on probe {} {}",
                        current.source.as_str(),
                        current.subject_id,
                        current.probe_id,
                        current.family
                    )
                },
            })
            .await?;
    }
    let after = app
        .storage
        .outage_incident(id)
        .await?
        .ok_or_else(not_found)?;
    if outage_state_of(&after) == IncidentState::Resolved && after.acknowledged_at.is_none() {
        return Err(resolved());
    }
    Ok(after)
}
