//! Alert routing (issue 21): the severity per alert source, per connection and per check,
//! contact lists (named groups of channels) a connection or check routes to, and the
//! acknowledgement and reminders of incidents. Reminders are claimed with a conditional write,
//! so with several server processes each interval's reminder is sent once.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};

use crate::notification_store::Incident;
use crate::storage::StorageError;

/// A named group of channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactList {
    /// Its id (UUID text).
    pub id: String,
    /// Its name (unique).
    pub name: String,
    /// Re-send open, unacknowledged incidents every so many minutes (`None`: never).
    pub reminder_minutes: Option<u32>,
    /// The least urgent severity it receives (`None`: every severity).
    pub min_severity: Option<IncidentSeverity>,
    /// Its channels' ids, sorted.
    pub channel_ids: Vec<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// What a connection, check or probe has its own alerting set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertSubject {
    /// A connection (its id).
    Connection,
    /// A service check (its id).
    Check,
    /// A probe (its id): its outage and probe-offline alerts.
    Probe,
}

/// A connection's or check's own alerting: its severity and contact list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertRoute {
    /// Overrides the source's severity.
    pub severity: Option<IncidentSeverity>,
    /// Routes to this list (`None`: every channel).
    pub contact_list_id: Option<String>,
}

/// An incident with its acknowledgement and last reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentStatus {
    /// The incident.
    pub incident: Incident,
    /// Who acknowledged it (an e-mail or a token's name).
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<Timestamp>,
    /// When the last reminder went out.
    pub reminded_at: Option<Timestamp>,
}

/// An alert incident of a probe (`outage_incidents`): an outage episode of a probe's series
/// (opened when the episode's opening is claimed, resolved when its closing is, in the claim's
/// transaction), a service check's alert over one family, or a probe-offline alert (opened by
/// the process that claimed the alert's edge, resolved when its recovery edge is claimed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutageIncident {
    /// Its id (the episode id; derived from the alert's edge for checks and probes).
    pub id: String,
    /// What raised it: `Outage`, `Check` or `ProbeOffline`.
    pub source: AlertSource,
    /// The check's id for a check, else the probe's.
    pub subject_id: String,
    /// The probe.
    pub probe_id: String,
    /// The series or check family (`v4`, `v6`; `all` for outages of every family and for
    /// probe-offline alerts).
    pub family: String,
    /// The severity its alert carried when it opened (`None`: not recorded).
    pub severity: Option<IncidentSeverity>,
    /// When the episode started.
    pub opened_at: Timestamp,
    /// When it closed (its last failing round's end).
    pub closed_at: Option<Timestamp>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<Timestamp>,
    /// When the last reminder went out.
    pub reminded_at: Option<Timestamp>,
}

/// Alert routing storage.
#[async_trait]
pub trait AlertingStore: Send + Sync {
    /// The severities configured per alert source.
    async fn source_severities(&self)
    -> Result<Vec<(AlertSource, IncidentSeverity)>, StorageError>;
    /// Sets (`Some`) or clears (`None`) a source's severity.
    async fn set_source_severity(
        &self,
        source: AlertSource,
        severity: Option<IncidentSeverity>,
    ) -> Result<(), StorageError>;

    /// Every contact list, by name.
    async fn contact_lists(&self) -> Result<Vec<ContactList>, StorageError>;
    /// One contact list.
    async fn contact_list(&self, id: &str) -> Result<Option<ContactList>, StorageError>;
    /// Stores a new list with its channels (a taken name is a `Conflict`).
    async fn create_contact_list(&self, list: &ContactList) -> Result<(), StorageError>;
    /// Replaces a list's settings and channels.
    async fn update_contact_list(&self, list: &ContactList) -> Result<(), StorageError>;
    /// Deletes a list (`Conflict` while a connection or check routes to it).
    async fn delete_contact_list(&self, id: &str) -> Result<(), StorageError>;

    /// A connection's or check's own alerting (the default when none is stored).
    async fn alert_route(
        &self,
        subject: AlertSubject,
        id: &str,
    ) -> Result<AlertRoute, StorageError>;
    /// Stores a connection's or check's own alerting (it and the list must exist).
    async fn set_alert_route(
        &self,
        subject: AlertSubject,
        id: &str,
        route: &AlertRoute,
    ) -> Result<(), StorageError>;

    /// One incident with its acknowledgement.
    async fn incident_status(&self, id: &str) -> Result<Option<IncidentStatus>, StorageError>;
    /// Incidents (of one connection, or all) overlapping `[since, until)`, by opening time.
    async fn incident_statuses(
        &self,
        connection: Option<&str>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<IncidentStatus>, StorageError>;
    /// Records the acknowledgement of an open, unacknowledged incident with a conditional
    /// write; returns whether this call recorded it.
    async fn acknowledge_incident(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StorageError>;
    /// Open, announced, unacknowledged incidents (the reminder candidates).
    async fn unacknowledged_incidents(&self) -> Result<Vec<IncidentStatus>, StorageError>;
    /// Moves an incident's last reminder from `previous` to the later `at` if it is still
    /// open, unacknowledged and unchanged; returns whether this call did (exactly one process
    /// sends each reminder).
    async fn claim_reminder(
        &self,
        id: &str,
        previous: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<bool, StorageError>;

    /// Stores the incident of a check or probe-offline alert whose edge this process claimed
    /// (nothing when its id is stored already); returns whether this call stored it.
    async fn open_alert_incident(&self, incident: &OutageIncident) -> Result<bool, StorageError>;
    /// Resolves the open incidents of `source` for (`subject_id`, `family`) at `at` (not
    /// before their opening); returns how many.
    async fn close_alert_incidents(
        &self,
        source: AlertSource,
        subject_id: &str,
        family: &str,
        at: Timestamp,
    ) -> Result<u64, StorageError>;

    /// Alert incidents of every source in `outage_incidents` (of one probe, or all) overlapping `[since, until)`, by opening time.
    async fn outage_incidents(
        &self,
        probe: Option<&str>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<OutageIncident>, StorageError>;
    /// One outage incident.
    async fn outage_incident(&self, id: &str) -> Result<Option<OutageIncident>, StorageError>;
    /// Records the acknowledgement of an open, unacknowledged outage incident with a
    /// conditional write; returns whether this call recorded it.
    async fn acknowledge_outage_incident(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StorageError>;
    /// Open, unacknowledged outage incidents (the reminder candidates), by opening time.
    async fn unacknowledged_outage_incidents(&self) -> Result<Vec<OutageIncident>, StorageError>;
    /// Moves an outage incident's last reminder from `previous` to the later `at` if it is
    /// still open, unacknowledged and unchanged; returns whether this call did (exactly one
    /// process sends each reminder).
    async fn claim_outage_reminder(
        &self,
        id: &str,
        previous: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<bool, StorageError>;
}
