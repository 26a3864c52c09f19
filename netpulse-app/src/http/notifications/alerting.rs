//! Severities, contact lists, a connection's or check's alerting, and acknowledging incidents
//! (issue 21): `/notifications/severities`, `/notifications/contact-lists`,
//! `/connections/{id}/alerting`, `/checks/{id}/alerting`, `/incidents/{id}/ack`.

use netpulse_domain::id::{CheckId, ConnectionId, ProbeId};
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_ports::alerting_store::{AlertRoute, ContactList};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::maintenance::{IncidentDto, OutageIncidentDto, incident_dto, outage_incident_dto};
use crate::error::AppError;
use crate::http::auth::RestAuth;
use crate::http::payload::{Fields, JsonBody};
use crate::http::problem::ApiError;
use crate::http::rest::{Created, NoContent};
use crate::service::App;
use crate::service::access::Principal;
use crate::service::notifications::alerting::{self, ContactListInput, SourceSeverity, Subject};

/// The severity of each alert source.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct SeveritiesDto {
    /// One per source: `connection`, `probe_offline`, `check`.
    pub items: Vec<SourceSeverityDto>,
}

/// The severity of one alert source.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct SourceSeverityDto {
    /// `connection`, `probe_offline` or `check`.
    pub source: String,
    /// The configured severity (`critical`, `high`, `medium`, `low`), null for the default.
    pub configured: Option<String>,
    /// The severity its incidents carry unless their connection or check has its own.
    pub effective: String,
    /// The default.
    pub default: String,
}

/// A change of source severities: a severity per source, null to go back to the default.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct SeveritiesInputDto {
    /// Connections turning unhealthy (default `high`).
    #[oai(nullable)]
    pub connection: Option<String>,
    /// Probes going silent (default `critical`).
    #[oai(nullable)]
    pub probe_offline: Option<String>,
    /// Service checks failing (default `medium`).
    #[oai(nullable)]
    pub check: Option<String>,
    /// Outages opening (default: `critical` when every family is completely down, else
    /// `high`).
    #[oai(nullable)]
    pub outage: Option<String>,
}

/// A contact list: a named group of channels.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ContactListDto {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Open, unacknowledged incidents are re-sent every so many minutes; null: never.
    pub reminder_minutes: Option<u32>,
    /// The least urgent severity the list receives; null: every severity.
    pub min_severity: Option<String>,
    /// Its channels.
    pub channel_ids: Vec<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// A contact list to create or replace.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ContactListInputDto {
    /// Its name (1–100 characters, unique).
    pub name: String,
    /// Reminder interval, 1–10080 minutes; null or omitted: no reminders.
    #[oai(nullable)]
    pub reminder_minutes: Option<u32>,
    /// `critical`, `high`, `medium` or `low`; null or omitted: every severity.
    #[oai(nullable)]
    pub min_severity: Option<String>,
    /// Its channels' ids.
    pub channel_ids: Vec<String>,
}

/// Contact lists.
#[derive(Debug, Object)]
pub struct ContactListsDto {
    /// By name.
    pub items: Vec<ContactListDto>,
}

/// A connection's or check's own alerting.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AlertingDto {
    /// Its own severity; null: the alert source's.
    #[oai(nullable)]
    pub severity: Option<String>,
    /// The contact list its alerts go to; null: every channel.
    #[oai(nullable)]
    pub contact_list_id: Option<String>,
}

fn severity_dto(s: SourceSeverity) -> SourceSeverityDto {
    SourceSeverityDto {
        source: s.source.as_str().to_owned(),
        configured: s.configured.map(|c| c.as_str().to_owned()),
        effective: s.effective.as_str().to_owned(),
        default: s.source.default_severity().as_str().to_owned(),
    }
}

fn severities_dto(v: Vec<SourceSeverity>) -> SeveritiesDto {
    SeveritiesDto {
        items: v.into_iter().map(severity_dto).collect(),
    }
}

fn list_dto(l: ContactList) -> ContactListDto {
    ContactListDto {
        id: l.id,
        name: l.name,
        reminder_minutes: l.reminder_minutes,
        min_severity: l.min_severity.map(|s| s.as_str().to_owned()),
        channel_ids: l.channel_ids,
        created_at: l.created_at.to_rfc3339(),
        updated_at: l.updated_at.to_rfc3339(),
    }
}

fn alerting_dto(r: AlertRoute) -> AlertingDto {
    AlertingDto {
        severity: r.severity.map(|s| s.as_str().to_owned()),
        contact_list_id: r.contact_list_id,
    }
}

/// An optional severity field (`null` or omitted: none).
fn severity_field(f: &Fields<'_>, key: &'static str) -> Result<Option<IncidentSeverity>, AppError> {
    f.nullable_string(key)?
        .flatten()
        .map(|s| {
            IncidentSeverity::parse(key, &s)
                .map_err(|e| AppError::invalid(key, format!("{} (got {s:?})", e.rule)))
        })
        .transpose()
}

fn list_input(f: &Fields<'_>) -> Result<ContactListInput, AppError> {
    f.only(&["name", "reminderMinutes", "minSeverity", "channelIds"])?;
    Ok(ContactListInput {
        name: f.string("name")?.to_owned(),
        reminder_minutes: f.nullable_u32("reminderMinutes")?.flatten(),
        min_severity: severity_field(f, "minSeverity")?,
        channel_ids: f.opt_strings("channelIds")?.unwrap_or_default(),
    })
}

fn route_input(f: &Fields<'_>) -> Result<AlertRoute, AppError> {
    f.only(&["severity", "contactListId"])?;
    Ok(AlertRoute {
        severity: severity_field(f, "severity")?,
        contact_list_id: f.nullable_string("contactListId")?.flatten(),
    })
}

fn connection_subject(id: &str) -> Result<Subject, AppError> {
    ConnectionId::parse(id)
        .map(Subject::Connection)
        .map_err(|e| AppError::invalid("connectionId", e.to_string()))
}

fn check_subject(id: &str) -> Result<Subject, AppError> {
    CheckId::parse(id)
        .map(Subject::Check)
        .map_err(|e| AppError::invalid("checkId", e.to_string()))
}

fn probe_subject(id: &str) -> Result<Subject, AppError> {
    ProbeId::parse(id)
        .map(Subject::Probe)
        .map_err(|e| AppError::invalid("probeId", e.to_string()))
}

/// The severity, contact-list and acknowledgement endpoints.
#[derive(Debug)]
pub struct AlertingApi {
    /// The services.
    pub app: App,
}

#[OpenApi(prefix_path = "/v1")]
impl AlertingApi {
    /// The severity of each alert source (configured, in effect, default).
    #[oai(
        path = "/notifications/severities",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn get_severities(&self, _auth: RestAuth) -> Result<Json<SeveritiesDto>, ApiError> {
        Ok(Json(severities_dto(alerting::severities(&self.app).await?)))
    }

    /// Sets the severity of the sources named in the body (null: back to the default).
    #[oai(
        path = "/notifications/severities",
        method = "put",
        tag = "Tag::Notifications"
    )]
    async fn put_severities(
        &self,
        _auth: RestAuth,
        body: JsonBody<SeveritiesInputDto>,
    ) -> Result<Json<SeveritiesDto>, ApiError> {
        let f = Fields::of(&body.value)?;
        f.only(&["connection", "probeOffline", "check", "outage"])?;
        let mut changes = Vec::new();
        for (key, source) in [
            ("connection", AlertSource::Connection),
            ("probeOffline", AlertSource::ProbeOffline),
            ("check", AlertSource::Check),
            ("outage", AlertSource::Outage),
        ] {
            if f.has(key) {
                changes.push((source, severity_field(&f, key)?));
            }
        }
        Ok(Json(severities_dto(
            alerting::set_severities(&self.app, &changes).await?,
        )))
    }

    /// Every contact list, by name.
    #[oai(
        path = "/notifications/contact-lists",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn list_contact_lists(&self, _auth: RestAuth) -> Result<Json<ContactListsDto>, ApiError> {
        let items = alerting::contact_lists(&self.app).await?;
        Ok(Json(ContactListsDto {
            items: items.into_iter().map(list_dto).collect(),
        }))
    }

    /// Creates a contact list.
    #[oai(
        path = "/notifications/contact-lists",
        method = "post",
        tag = "Tag::Notifications"
    )]
    async fn create_contact_list(
        &self,
        _auth: RestAuth,
        body: JsonBody<ContactListInputDto>,
    ) -> Result<Created<ContactListDto>, ApiError> {
        let input = list_input(&Fields::of(&body.value)?)?;
        let list = alerting::create_contact_list(&self.app, &input).await?;
        Ok(Created::Created(Json(list_dto(list))))
    }

    /// One contact list.
    #[oai(
        path = "/notifications/contact-lists/:list_id",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn get_contact_list(
        &self,
        _auth: RestAuth,
        list_id: Path<String>,
    ) -> Result<Json<ContactListDto>, ApiError> {
        Ok(Json(list_dto(
            alerting::contact_list(&self.app, &list_id).await?,
        )))
    }

    /// Replaces a contact list's name, reminder interval, minimum severity and channels.
    #[oai(
        path = "/notifications/contact-lists/:list_id",
        method = "put",
        tag = "Tag::Notifications"
    )]
    async fn put_contact_list(
        &self,
        _auth: RestAuth,
        list_id: Path<String>,
        body: JsonBody<ContactListInputDto>,
    ) -> Result<Json<ContactListDto>, ApiError> {
        let input = list_input(&Fields::of(&body.value)?)?;
        let list = alerting::update_contact_list(&self.app, &list_id, &input).await?;
        Ok(Json(list_dto(list)))
    }

    /// Deletes a contact list (409 while a connection or check routes to it).
    #[oai(
        path = "/notifications/contact-lists/:list_id",
        method = "delete",
        tag = "Tag::Notifications"
    )]
    async fn delete_contact_list(
        &self,
        _auth: RestAuth,
        list_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        alerting::delete_contact_list(&self.app, &list_id).await?;
        Ok(NoContent::Done)
    }

    /// A connection's own severity and contact list.
    #[oai(
        path = "/connections/:connection_id/alerting",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn get_connection_alerting(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
    ) -> Result<Json<AlertingDto>, ApiError> {
        let s = connection_subject(&connection_id)?;
        Ok(Json(alerting_dto(alerting::route(&self.app, &s).await?)))
    }

    /// Sets a connection's own severity and contact list (null: the source's severity, every
    /// channel).
    #[oai(
        path = "/connections/:connection_id/alerting",
        method = "put",
        tag = "Tag::Notifications"
    )]
    async fn put_connection_alerting(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
        body: JsonBody<AlertingDto>,
    ) -> Result<Json<AlertingDto>, ApiError> {
        let s = connection_subject(&connection_id)?;
        let route = route_input(&Fields::of(&body.value)?)?;
        Ok(Json(alerting_dto(
            alerting::set_route(&self.app, &s, route).await?,
        )))
    }

    /// A service check's own severity and contact list.
    #[oai(
        path = "/checks/:check_id/alerting",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn get_check_alerting(
        &self,
        _auth: RestAuth,
        check_id: Path<String>,
    ) -> Result<Json<AlertingDto>, ApiError> {
        let s = check_subject(&check_id)?;
        Ok(Json(alerting_dto(alerting::route(&self.app, &s).await?)))
    }

    /// Sets a service check's own severity and contact list.
    #[oai(
        path = "/checks/:check_id/alerting",
        method = "put",
        tag = "Tag::Notifications"
    )]
    async fn put_check_alerting(
        &self,
        _auth: RestAuth,
        check_id: Path<String>,
        body: JsonBody<AlertingDto>,
    ) -> Result<Json<AlertingDto>, ApiError> {
        let s = check_subject(&check_id)?;
        let route = route_input(&Fields::of(&body.value)?)?;
        Ok(Json(alerting_dto(
            alerting::set_route(&self.app, &s, route).await?,
        )))
    }

    /// A probe's own severity and contact list, for its outage and probe-offline alerts.
    #[oai(
        path = "/probes/:probe_id/alerting",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn get_probe_alerting(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
    ) -> Result<Json<AlertingDto>, ApiError> {
        let s = probe_subject(&probe_id)?;
        Ok(Json(alerting_dto(alerting::route(&self.app, &s).await?)))
    }

    /// Sets a probe's own severity and contact list for its outage and probe-offline alerts
    /// (null: the source's severity, every channel).
    #[oai(
        path = "/probes/:probe_id/alerting",
        method = "put",
        tag = "Tag::Notifications"
    )]
    async fn put_probe_alerting(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
        body: JsonBody<AlertingDto>,
    ) -> Result<Json<AlertingDto>, ApiError> {
        let s = probe_subject(&probe_id)?;
        let route = route_input(&Fields::of(&body.value)?)?;
        Ok(Json(alerting_dto(
            alerting::set_route(&self.app, &s, route).await?,
        )))
    }

    /// Acknowledges an open incident (operators and admins): records who and when and stops
    /// its reminders. Acknowledging again keeps the first acknowledgement; a resolved incident
    /// answers 409.
    #[oai(
        path = "/incidents/:incident_id/ack",
        method = "post",
        tag = "Tag::Maintenance"
    )]
    async fn ack_incident(
        &self,
        _auth: RestAuth,
        req: &Request,
        incident_id: Path<String>,
    ) -> Result<Json<IncidentDto>, ApiError> {
        let who = req
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or(AppError::Unauthorized)?;
        let status = alerting::acknowledge(&self.app, &incident_id, &who).await?;
        Ok(Json(incident_dto(status)))
    }

    /// Acknowledges an open outage incident (operators and admins), like a connection's.
    #[oai(
        path = "/outage-incidents/:incident_id/ack",
        method = "post",
        tag = "Tag::Maintenance"
    )]
    async fn ack_outage_incident(
        &self,
        _auth: RestAuth,
        req: &Request,
        incident_id: Path<String>,
    ) -> Result<Json<OutageIncidentDto>, ApiError> {
        let who = req
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or(AppError::Unauthorized)?;
        let i = alerting::acknowledge_outage(&self.app, &incident_id, &who).await?;
        Ok(Json(outage_incident_dto(i)))
    }
}
