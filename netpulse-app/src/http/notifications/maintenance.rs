//! `/maintenance-windows`, `/connections/{id}/maintenance-windows` and `/incidents`:
//! maintenance windows and incidents, as shown in history.

use netpulse_domain::Timestamp;
use netpulse_domain::contact_list::IncidentState;
use netpulse_domain::id::ConnectionId;
use netpulse_ports::alerting_store::{IncidentStatus, OutageIncident};
use netpulse_ports::notification_store::StoredMaintenance;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use crate::error::AppError;
use crate::http::auth::RestAuth;
use crate::http::payload::{Fields, JsonBody};
use crate::http::problem::ApiError;
use crate::http::rest::{Created, NoContent};
use crate::service::App;
use crate::service::notifications::incident_list::{self, IncidentEntry};
use crate::service::notifications::{alerting, maintenance};

/// A maintenance window: alerts of the connection are held back during it.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct MaintenanceDto {
    /// Its id.
    pub id: String,
    /// The connection.
    pub connection_id: String,
    /// Start (RFC 3339).
    pub starts_at: String,
    /// End (RFC 3339).
    pub ends_at: String,
    /// Why.
    pub note: String,
    /// Created (RFC 3339).
    pub created_at: String,
}

/// A new maintenance window.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct MaintenanceInputDto {
    /// Start (RFC 3339).
    pub starts_at: String,
    /// End (RFC 3339), after the start.
    pub ends_at: String,
    /// Why.
    #[oai(nullable)]
    pub note: Option<String>,
}

/// Maintenance windows.
#[derive(Debug, Object)]
pub struct MaintenanceListDto {
    /// By start.
    pub items: Vec<MaintenanceDto>,
}

/// An incident: an alert and, once it came, its recovery.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct IncidentDto {
    /// Its id.
    pub id: String,
    /// The connection.
    pub connection_id: String,
    /// When the alerting result completed (RFC 3339).
    pub opened_at: String,
    /// When the recovering result completed (RFC 3339), null while open.
    pub closed_at: Option<String>,
    /// Whether people were told.
    pub announced: bool,
    /// The result that raised it.
    pub result_id: Option<String>,
    /// `open` (not recovered, not acknowledged), `acked` or `resolved`.
    pub state: String,
    /// Who acknowledged it (an e-mail, or a service token's name).
    pub acknowledged_by: Option<String>,
    /// When (RFC 3339).
    pub acknowledged_at: Option<String>,
}

/// An alert incident of a probe: an outage episode of its address family, a service check's
/// alert over one family, or a probe-offline alert (acknowledged at
/// `/outage-incidents/{id}/ack`).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct OutageIncidentDto {
    /// Its id (the episode id for an outage).
    pub id: String,
    /// What raised it: `outage`, `check` or `probe_offline`.
    pub source: String,
    /// The check's id for a check, else the probe's.
    pub subject_id: String,
    /// The probe.
    pub probe_id: String,
    /// The address family (`v4`, `v6`; `all` for every family and for probe-offline alerts).
    pub family: String,
    /// The severity its alert carried when it opened, null when not recorded.
    pub severity: Option<String>,
    /// When the outage started (RFC 3339).
    pub opened_at: String,
    /// When it ended (RFC 3339), null while open.
    pub closed_at: Option<String>,
    /// `open` (not ended, not acknowledged), `acked` or `resolved`.
    pub state: String,
    /// Who acknowledged it (an e-mail, or a service token's name).
    pub acknowledged_by: Option<String>,
    /// When (RFC 3339).
    pub acknowledged_at: Option<String>,
}

/// One incident of any kind, as the `/incidents` page lists it.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct IncidentEntryDto {
    /// `connection` (acknowledged at `/incidents/{id}/ack`), `outage`, `check` or
    /// `probe_offline` (at `/outage-incidents/{id}/ack`).
    pub kind: String,
    /// Its id.
    pub id: String,
    /// The connection's, check's or probe's id.
    pub subject_id: String,
    /// Its subject's name: `connection (probe)`, `probe: outage over IPv4`,
    /// `probe: check http example.org (IPv4)` or `probe: offline`.
    pub subject: String,
    /// The severity its messages carry: `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// `open`, `acked` or `resolved`.
    pub state: String,
    /// Opened (RFC 3339).
    pub opened_at: String,
    /// Closed (RFC 3339), null while open.
    pub closed_at: Option<String>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When (RFC 3339).
    pub acknowledged_at: Option<String>,
}

/// Incidents.
#[derive(Debug, Object)]
pub struct IncidentListDto {
    /// Connection incidents, by opening time.
    pub items: Vec<IncidentDto>,
    /// Outage, service-check and probe-offline incidents, by opening time (none when a
    /// connection is asked for).
    pub outages: Vec<OutageIncidentDto>,
    /// Every incident of any kind (the two lists above in one), newest first, with its
    /// subject's name and severity.
    pub entries: Vec<IncidentEntryDto>,
}

fn entry_dto(e: IncidentEntry) -> IncidentEntryDto {
    IncidentEntryDto {
        kind: e.kind.as_str().to_owned(),
        id: e.id,
        subject_id: e.subject_id,
        subject: e.subject,
        severity: e.severity.as_str().to_owned(),
        state: e.state.as_str().to_owned(),
        opened_at: e.opened_at.to_rfc3339(),
        closed_at: e.closed_at.map(Timestamp::to_rfc3339),
        acknowledged_by: e.acknowledged_by,
        acknowledged_at: e.acknowledged_at.map(Timestamp::to_rfc3339),
    }
}

fn maintenance_dto(w: StoredMaintenance) -> MaintenanceDto {
    MaintenanceDto {
        id: w.id,
        connection_id: w.connection_id.to_string(),
        starts_at: w.starts_at.to_rfc3339(),
        ends_at: w.ends_at.to_rfc3339(),
        note: w.note,
        created_at: w.created_at.to_rfc3339(),
    }
}

pub(super) fn incident_dto(s: IncidentStatus) -> IncidentDto {
    let state = alerting::state_of(&s).as_str().to_owned();
    let i = s.incident;
    IncidentDto {
        state,
        acknowledged_by: s.acknowledged_by,
        acknowledged_at: s.acknowledged_at.map(Timestamp::to_rfc3339),
        id: i.id,
        connection_id: i.connection_id.to_string(),
        opened_at: i.opened_at.to_rfc3339(),
        closed_at: i.closed_at.map(Timestamp::to_rfc3339),
        announced: i.announced,
        result_id: i.result_id,
    }
}

pub(super) fn outage_incident_dto(i: OutageIncident) -> OutageIncidentDto {
    OutageIncidentDto {
        state: alerting::outage_state_of(&i).as_str().to_owned(),
        id: i.id,
        source: i.source.as_str().to_owned(),
        subject_id: i.subject_id,
        probe_id: i.probe_id,
        family: i.family,
        severity: i.severity.map(|s| s.as_str().to_owned()),
        opened_at: i.opened_at.to_rfc3339(),
        closed_at: i.closed_at.map(Timestamp::to_rfc3339),
        acknowledged_by: i.acknowledged_by,
        acknowledged_at: i.acknowledged_at.map(Timestamp::to_rfc3339),
    }
}

/// An optional RFC 3339 query or body value.
fn time_param(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    text.map(|t| Timestamp::parse_rfc3339(t).map_err(|e| AppError::invalid(field, e.to_string())))
        .transpose()
}

/// The optional `connection` query parameter.
fn connection_param(text: Option<&str>) -> Result<Option<ConnectionId>, AppError> {
    text.map(|t| ConnectionId::parse(t).map_err(|e| AppError::invalid("connection", e.to_string())))
        .transpose()
}

/// The `connection`, `since` and `until` query parameters of the history lists.
struct HistoryQuery {
    connection: Option<ConnectionId>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
}

impl HistoryQuery {
    /// Reads them in the order `connection`, `until`, `since` (the first bad one is reported).
    fn parse(
        connection: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<Self, AppError> {
        let connection = connection_param(connection)?;
        let until = time_param("until", until)?;
        let since = time_param("since", since)?;
        Ok(Self {
            connection,
            since,
            until,
        })
    }
}

/// The maintenance-window and incident endpoints.
#[derive(Debug)]
pub struct MaintenanceApi {
    /// The services.
    pub app: App,
}

#[OpenApi(prefix_path = "/v1")]
impl MaintenanceApi {
    /// Maintenance windows overlapping `[since, until)` (default: the last 30 days onwards),
    /// of one connection or all.
    #[oai(
        path = "/maintenance-windows",
        method = "get",
        tag = "Tag::Maintenance"
    )]
    async fn list_maintenance(
        &self,
        _auth: RestAuth,
        /// Only this connection's.
        connection: Query<Option<String>>,
        /// RFC 3339.
        since: Query<Option<String>>,
        /// RFC 3339.
        until: Query<Option<String>>,
    ) -> Result<Json<MaintenanceListDto>, ApiError> {
        let q = HistoryQuery::parse(
            connection.0.as_deref(),
            since.0.as_deref(),
            until.0.as_deref(),
        )?;
        let list = maintenance::list(&self.app, q.connection.as_ref(), q.since, q.until).await?;
        Ok(Json(MaintenanceListDto {
            items: list.into_iter().map(maintenance_dto).collect(),
        }))
    }

    /// Plans a maintenance window of a connection: its alerts are held back during it and sent
    /// afterwards if the link is still unhealthy.
    #[oai(
        path = "/connections/:connection_id/maintenance-windows",
        method = "post",
        tag = "Tag::Maintenance"
    )]
    async fn create_maintenance(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
        body: JsonBody<MaintenanceInputDto>,
    ) -> Result<Created<MaintenanceDto>, ApiError> {
        let id = ConnectionId::parse(&connection_id)
            .map_err(|e| AppError::invalid("connectionId", e.to_string()))?;
        let f = Fields::of(&body.value)?;
        f.only(&["startsAt", "endsAt", "note"])?;
        let starts =
            time_param("startsAt", Some(f.string("startsAt")?))?.unwrap_or(Timestamp::EPOCH);
        let ends = time_param("endsAt", Some(f.string("endsAt")?))?.unwrap_or(Timestamp::EPOCH);
        let note = f.opt_string("note")?;
        let stored = maintenance::create(&self.app, id, starts, ends, note).await?;
        Ok(Created::Created(Json(maintenance_dto(stored))))
    }

    /// Deletes a maintenance window.
    #[oai(
        path = "/maintenance-windows/:window_id",
        method = "delete",
        tag = "Tag::Maintenance"
    )]
    async fn delete_maintenance(
        &self,
        _auth: RestAuth,
        window_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        maintenance::delete(&self.app, &window_id).await?;
        Ok(NoContent::Done)
    }

    /// Incidents overlapping `[since, until)` (default: the last 30 days onwards), of one
    /// connection or all, in one state (`open`, `acked`, `resolved`) or all.
    #[oai(path = "/incidents", method = "get", tag = "Tag::Maintenance")]
    async fn list_incidents(
        &self,
        _auth: RestAuth,
        /// Only this connection's.
        connection: Query<Option<String>>,
        /// RFC 3339.
        since: Query<Option<String>>,
        /// RFC 3339.
        until: Query<Option<String>>,
        /// `open`, `acked` or `resolved`.
        state: Query<Option<String>>,
    ) -> Result<Json<IncidentListDto>, ApiError> {
        let q = HistoryQuery::parse(
            connection.0.as_deref(),
            since.0.as_deref(),
            until.0.as_deref(),
        )?;
        let state = state
            .0
            .as_deref()
            .map(|s| IncidentState::parse("state", s))
            .transpose()
            .map_err(|e| AppError::invalid(e.field, format!("{} (got {:?})", e.rule, e.value)))?;
        let list =
            alerting::incidents(&self.app, q.connection.as_ref(), q.since, q.until, state).await?;
        let outages = if q.connection.is_some() {
            Vec::new()
        } else {
            alerting::outage_incidents(&self.app, q.since, q.until, state).await?
        };
        let entries = incident_list::incident_entries(&self.app, &list, &outages).await?;
        Ok(Json(IncidentListDto {
            items: list.into_iter().map(incident_dto).collect(),
            outages: outages.into_iter().map(outage_incident_dto).collect(),
            entries: entries.into_iter().map(entry_dto).collect(),
        }))
    }
}
