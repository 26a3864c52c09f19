//! The notification API (`/api/v1/notifications/…`, maintenance windows, incidents), with an
//! API token or the dashboard's session (plus `X-CSRF-Token` for changes): what the
//! `/settings/notifications` page calls. Channel secrets are write-only: answers
//! name the secrets that are set (`secretsSet`), never their values.

use std::collections::BTreeMap;
use std::sync::Arc;

use netpulse_adapters::notify::{FieldSpec, HttpClient, build, fields};
use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::notify::{LocalTime, MaintenanceWindow, QuietHours, WEEKDAYS};
use netpulse_ports::notification_store::{
    DeliveryLogEntry, Incident, NotificationSettings, StoredChannel, StoredMaintenance,
};
use netpulse_ports::notify::{ChannelConfig, ChannelKind, NotificationKind};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde_json::Value;

use super::payload::{Fields, JsonBody};
use super::problem::ApiError;
use super::rest::{Created, NoContent, RestAuth};
use crate::error::AppError;
use crate::notify::{Notifications, default_events};
use crate::service::{App, new_uuid};

#[derive(Tags)]
enum Tag {
    /// Notification settings, channels and the delivery log.
    Notifications,
    /// Maintenance windows and incidents (shown in history).
    Maintenance,
}

/// The global notification settings.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct NotificationSettingsDto {
    /// Master switch: nothing but test messages is sent while off.
    pub enabled: bool,
    /// Consecutive unhealthy results that raise an alert (connections may override).
    pub alert_after: u32,
    /// Consecutive healthy results that end it.
    pub recover_after: u32,
    /// Alert when a probe has not polled for max(3 × poll interval, 5 min).
    pub probe_offline: bool,
    /// Send a daily digest.
    pub digest_daily: bool,
    /// Send a weekly digest.
    pub digest_weekly: bool,
    /// Local time of the digests, HH:MM.
    pub digest_time: String,
    /// Weekday of the weekly digest: mon … sun.
    pub digest_weekday: String,
    /// IANA time zone of the digest time.
    pub digest_timezone: String,
    /// Delivery-log entries are deleted after this many days.
    pub log_retention_days: u32,
    /// Base URL of the dashboard, for result links in messages.
    pub public_url: Option<String>,
}

fn settings_dto(s: &NotificationSettings) -> NotificationSettingsDto {
    NotificationSettingsDto {
        enabled: s.enabled,
        alert_after: s.alerts.unhealthy_count(),
        recover_after: s.alerts.healthy_count(),
        probe_offline: s.probe_offline,
        digest_daily: s.digest.daily,
        digest_weekly: s.digest.weekly,
        digest_time: s.digest.at.to_string(),
        digest_weekday: WEEKDAYS[usize::from(s.digest.weekday.min(6))].to_owned(),
        digest_timezone: s.digest.time_zone.clone(),
        log_retention_days: s.log_retention_days,
        public_url: s.public_url.clone(),
    }
}

/// One setting of a channel type.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct FieldSpecDto {
    /// The key in `settings`.
    pub name: String,
    /// Write-only: stored encrypted, never shown again.
    pub secret: bool,
    /// Must be set.
    pub required: bool,
    /// An array of strings.
    pub list: bool,
    /// What it is.
    pub help: String,
}

/// A channel type and its settings.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ChannelTypeDto {
    /// `email`, `webhook`, `ntfy`, `gotify`, `discord`, `slack` or `telegram`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Its settings.
    pub fields: Vec<FieldSpecDto>,
}

/// The channel types.
#[derive(Debug, Object)]
pub struct ChannelTypesDto {
    /// Every type.
    pub items: Vec<ChannelTypeDto>,
}

/// Quiet hours: informational messages are held from `start` to `end` (local time).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct QuietHoursDto {
    /// HH:MM.
    pub start: String,
    /// HH:MM (may be before the start: the window crosses midnight).
    pub end: String,
    /// IANA time zone.
    pub timezone: String,
}

/// A channel. Secret settings are never shown; `secretsSet` names those that are set.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ChannelDto {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its type.
    #[oai(rename = "type")]
    pub kind: String,
    /// Whether it is used.
    pub enabled: bool,
    /// Plain settings (lists as arrays).
    pub settings: BTreeMap<String, Value>,
    /// Secret settings that are set.
    pub secrets_set: Vec<String>,
    /// Kinds it receives: alert, recovery, probe_offline, probe_back, digest.
    pub events: Vec<String>,
    /// Quiet hours, or null.
    pub quiet_hours: Option<QuietHoursDto>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// Channel creation or change. `settings` holds plain and secret settings alike (see
/// `/notifications/channel-types`); on change, an omitted setting keeps its value and null
/// removes it.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ChannelInputDto {
    /// Name (required on creation).
    pub name: Option<String>,
    /// Type (required on creation; cannot change).
    #[oai(rename = "type")]
    pub kind: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Settings.
    pub settings: Option<BTreeMap<String, Value>>,
    /// Default: every kind.
    pub events: Option<Vec<String>>,
    /// Quiet hours (null: none).
    pub quiet_hours: Option<QuietHoursDto>,
}

/// Channels.
#[derive(Debug, Object)]
pub struct ChannelListDto {
    /// Every channel, by name.
    pub items: Vec<ChannelDto>,
}

/// The outcome of a test message.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct TestResultDto {
    /// Whether the channel accepted it.
    pub sent: bool,
    /// Why not (secrets redacted).
    pub error: Option<String>,
}

/// One line of the delivery log.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct DeliveryDto {
    /// The delivery.
    pub id: String,
    /// The notification (shared by its deliveries to several channels).
    pub notification_id: String,
    /// alert, recovery, probe_offline, probe_back or digest.
    pub kind: String,
    /// Its subject.
    pub subject: String,
    /// The channel.
    pub channel_id: String,
    /// The channel's name (empty once deleted).
    pub channel_name: String,
    /// The channel's type (null once deleted).
    pub channel_type: Option<String>,
    /// pending, held (quiet hours), sending, sent or failed.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt (pending or held), RFC 3339.
    pub next_attempt_at: Option<String>,
    /// The last error.
    pub last_error: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// A page of the delivery log, newest first.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct DeliveryPageDto {
    /// The lines.
    pub items: Vec<DeliveryDto>,
    /// Pass as `before` for the next page.
    pub next_cursor: Option<String>,
}

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
}

/// Incidents.
#[derive(Debug, Object)]
pub struct IncidentListDto {
    /// By opening time.
    pub items: Vec<IncidentDto>,
}

/// The notification endpoints.
#[derive(Debug)]
pub struct NotificationsApi {
    /// The services.
    pub app: App,
}

fn service(app: &App) -> Result<&Arc<Notifications>, AppError> {
    app.notifications
        .as_ref()
        .ok_or_else(|| AppError::unavailable("notifications are not running in this process"))
}

fn parse_kind(field: &str, text: &str) -> Result<ChannelKind, AppError> {
    ChannelKind::parse(text).ok_or_else(|| {
        let names: Vec<&str> = ChannelKind::ALL.iter().map(|k| k.as_str()).collect();
        AppError::invalid(
            field,
            format!("must be one of {} (got {text:?})", names.join(", ")),
        )
    })
}

fn events_of(f: &Fields<'_>) -> Result<Option<Vec<NotificationKind>>, AppError> {
    f.opt_strings("events")?
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, e)| {
                    NotificationKind::parse(e)
                        .filter(|k| *k != NotificationKind::Test)
                        .ok_or_else(|| {
                            AppError::invalid(
                                format!("events[{i}]"),
                                format!("must be alert, recovery, probe_offline, probe_back or digest (got {e:?})"),
                            )
                        })
                })
                .collect()
        })
        .transpose()
}

#[allow(clippy::option_option)] // absent / null / set
fn quiet_hours_of(app: &App, f: &Fields<'_>) -> Result<Option<Option<QuietHours>>, AppError> {
    match f.raw("quietHours") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => {
            let q = Fields::of(v)
                .map_err(|_| AppError::invalid("quietHours", "must be an object or null"))?;
            q.only(&["start", "end", "timezone"])
                .map_err(|e| prefix("quietHours", e))?;
            let start = LocalTime::parse(
                "quietHours.start",
                q.string("start").map_err(|e| prefix("quietHours", e))?,
            )?;
            let end = LocalTime::parse(
                "quietHours.end",
                q.string("end").map_err(|e| prefix("quietHours", e))?,
            )?;
            let tz = q
                .opt_string("timezone")
                .map_err(|e| prefix("quietHours", e))?
                .unwrap_or("UTC");
            Ok(Some(Some(QuietHours::new(start, end, tz, &app.calendar)?)))
        }
    }
}

fn prefix(parent: &str, e: AppError) -> AppError {
    match e {
        AppError::Invalid { field, message } => {
            AppError::invalid(format!("{parent}.{field}"), message)
        }
        other => other,
    }
}

/// Applies a `settings` object to a channel's plain options and secrets.
fn apply_settings(
    kind: ChannelKind,
    settings: &Value,
    options: &mut BTreeMap<String, String>,
    secrets: &mut BTreeMap<String, String>,
) -> Result<(), AppError> {
    let map = settings
        .as_object()
        .ok_or_else(|| AppError::invalid("settings", "must be an object"))?;
    let specs: &[FieldSpec] = fields(kind);
    for (key, value) in map {
        let field = format!("settings.{key}");
        let spec = specs.iter().find(|s| s.name == key).ok_or_else(|| {
            let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
            AppError::invalid(
                &field,
                format!(
                    "is not a setting of {} channels (known: {})",
                    kind.as_str(),
                    known.join(", ")
                ),
            )
        })?;
        let target = if spec.secret {
            &mut *secrets
        } else {
            &mut *options
        };
        let text = match value {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) if !spec.list => Some(n.to_string()),
            Value::Bool(b) if !spec.list => Some(b.to_string()),
            Value::Array(items) if spec.list => {
                let mut lines = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) if !s.trim().is_empty() => lines.push(s.trim().to_owned()),
                        _ => {
                            return Err(AppError::invalid(
                                format!("{field}[{i}]"),
                                "must be a non-empty string",
                            ));
                        }
                    }
                }
                (!lines.is_empty()).then(|| lines.join("\n"))
            }
            _ if spec.list => return Err(AppError::invalid(&field, "must be an array of strings")),
            _ => return Err(AppError::invalid(&field, "must be a string")),
        };
        match text {
            Some(t) => target.insert(key.clone(), t),
            None => target.remove(key),
        };
    }
    Ok(())
}

fn validate(config: &ChannelConfig) -> Result<(), AppError> {
    build(config, &HttpClient::new())
        .map(|_| ())
        .map_err(|e| AppError::invalid(format!("settings.{}", e.field), e.rule.clone()))
}

fn name_of(text: &str) -> Result<String, AppError> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "must be 1–100 characters"));
    }
    Ok(name.to_owned())
}

fn channel_dto(c: &StoredChannel) -> ChannelDto {
    let specs = fields(c.kind);
    ChannelDto {
        id: c.id.clone(),
        name: c.name.clone(),
        kind: c.kind.as_str().to_owned(),
        enabled: c.enabled,
        settings: c
            .options
            .iter()
            .map(|(k, v)| {
                let list = specs.iter().any(|s| s.name == k && s.list);
                let value = if list {
                    Value::Array(v.lines().map(|l| Value::String(l.to_owned())).collect())
                } else {
                    Value::String(v.clone())
                };
                (k.clone(), value)
            })
            .collect(),
        secrets_set: c.secret_names.clone(),
        events: c.events.iter().map(|e| e.as_str().to_owned()).collect(),
        quiet_hours: c.quiet_hours.as_ref().map(|q| QuietHoursDto {
            start: q.start().to_string(),
            end: q.end().to_string(),
            timezone: q.time_zone().to_owned(),
        }),
        created_at: c.created_at.to_rfc3339(),
        updated_at: c.updated_at.to_rfc3339(),
    }
}

fn delivery_dto(d: DeliveryLogEntry) -> DeliveryDto {
    DeliveryDto {
        id: d.id,
        notification_id: d.notification_id,
        kind: d.kind.as_str().to_owned(),
        subject: d.subject,
        channel_id: d.channel_id,
        channel_name: d.channel_name,
        channel_type: d.channel_kind.map(|k| k.as_str().to_owned()),
        status: d.status.as_str().to_owned(),
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at.map(Timestamp::to_rfc3339),
        last_error: d.last_error,
        created_at: d.created_at.to_rfc3339(),
        updated_at: d.updated_at.to_rfc3339(),
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

fn incident_dto(i: Incident) -> IncidentDto {
    IncidentDto {
        id: i.id,
        connection_id: i.connection_id.to_string(),
        opened_at: i.opened_at.to_rfc3339(),
        closed_at: i.closed_at.map(Timestamp::to_rfc3339),
        announced: i.announced,
        result_id: i.result_id,
    }
}

fn time_param(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    text.map(|t| Timestamp::parse_rfc3339(t).map_err(|e| AppError::invalid(field, e.to_string())))
        .transpose()
}

fn connection_param(text: Option<&str>) -> Result<Option<ConnectionId>, AppError> {
    text.map(|t| ConnectionId::parse(t).map_err(|e| AppError::invalid("connection", e.to_string())))
        .transpose()
}

/// `[since, until)`, defaulting to the last 30 days.
fn range(
    app: &App,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Timestamp, Timestamp), AppError> {
    let until =
        time_param("until", until)?.unwrap_or_else(|| app.clock.now().plus_seconds(366 * 86_400));
    let since =
        time_param("since", since)?.unwrap_or_else(|| app.clock.now().plus_seconds(-30 * 86_400));
    if since > until {
        return Err(AppError::invalid("since", "is after until"));
    }
    Ok((since, until))
}

async fn channel_or_404(app: &App, id: &str) -> Result<StoredChannel, AppError> {
    app.storage
        .channel(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "channel",
            id: id.to_owned(),
        })
}

const CHANNEL_KEYS: [&str; 6] = [
    "name",
    "type",
    "enabled",
    "settings",
    "events",
    "quietHours",
];

#[OpenApi(prefix_path = "/v1")]
impl NotificationsApi {
    /// The notification settings.
    #[oai(
        path = "/notifications/settings",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn get_settings(
        &self,
        _auth: RestAuth,
    ) -> Result<Json<NotificationSettingsDto>, ApiError> {
        Ok(Json(settings_dto(
            &service(&self.app)?
                .settings()
                .await
                .map_err(AppError::from)?,
        )))
    }

    /// Changes some notification settings (omitted keys keep their value).
    #[oai(
        path = "/notifications/settings",
        method = "patch",
        tag = "Tag::Notifications"
    )]
    async fn patch_settings(
        &self,
        _auth: RestAuth,
        body: JsonBody<NotificationSettingsDto>,
    ) -> Result<Json<NotificationSettingsDto>, ApiError> {
        let svc = service(&self.app)?;
        let f = Fields::of(&body.value)?;
        f.only(&[
            "enabled",
            "alertAfter",
            "recoverAfter",
            "probeOffline",
            "digestDaily",
            "digestWeekly",
            "digestTime",
            "digestWeekday",
            "digestTimezone",
            "logRetentionDays",
            "publicUrl",
        ])?;
        let mut s = svc.settings().await.map_err(AppError::from)?;
        let before = s.digest.clone();
        if let Some(v) = f.opt_bool("enabled")? {
            s.enabled = v;
        }
        let n = f
            .opt_u32("alertAfter")?
            .unwrap_or(s.alerts.unhealthy_count());
        let m = f
            .opt_u32("recoverAfter")?
            .unwrap_or(s.alerts.healthy_count());
        s.alerts = AlertPolicy::new(n, m).map_err(|e| {
            AppError::invalid(
                if e.field == "alert_after" {
                    "alertAfter"
                } else {
                    "recoverAfter"
                },
                e.rule,
            )
        })?;
        if let Some(v) = f.opt_bool("probeOffline")? {
            s.probe_offline = v;
        }
        if let Some(v) = f.opt_bool("digestDaily")? {
            s.digest.daily = v;
        }
        if let Some(v) = f.opt_bool("digestWeekly")? {
            s.digest.weekly = v;
        }
        if let Some(t) = f.opt_string("digestTime")? {
            s.digest.at = LocalTime::parse("digestTime", t).map_err(AppError::from)?;
        }
        if let Some(d) = f.opt_string("digestWeekday")? {
            let day = d.to_ascii_lowercase();
            s.digest.weekday = WEEKDAYS
                .iter()
                .position(|w| day.starts_with(w))
                .ok_or_else(|| {
                    AppError::invalid("digestWeekday", format!("must be mon … sun (got {d:?})"))
                })? as u8;
        }
        if let Some(tz) = f.opt_string("digestTimezone")? {
            s.digest.time_zone = tz.to_owned();
        }
        s.digest
            .validate(&self.app.calendar)
            .map_err(|e| AppError::invalid("digestTimezone", e.rule))?;
        if let Some(days) = f.opt_u32("logRetentionDays")? {
            if !(1..=3650).contains(&days) {
                return Err(AppError::invalid(
                    "logRetentionDays",
                    format!("must be 1–3650 (got {days})"),
                )
                .into());
            }
            s.log_retention_days = days;
        }
        if let Some(url) = f.nullable_string("publicUrl")? {
            s.public_url = match url.map(|u| u.trim().trim_end_matches('/').to_owned()) {
                Some(u) if u.is_empty() => None,
                Some(u) if u.starts_with("http://") || u.starts_with("https://") => Some(u),
                Some(_) => {
                    return Err(AppError::invalid(
                        "publicUrl",
                        "must be an http:// or https:// URL",
                    )
                    .into());
                }
                None => None,
            };
        }
        self.app
            .storage
            .set_notification_settings(&s, self.app.clock.now())
            .await
            .map_err(AppError::from)?;
        if s.digest != before {
            self.app
                .storage
                .reset_digest_slots()
                .await
                .map_err(AppError::from)?;
        }
        Ok(Json(settings_dto(&s)))
    }

    /// The channel types and their settings.
    #[oai(
        path = "/notifications/channel-types",
        method = "get",
        tag = "Tag::Notifications"
    )]
    #[allow(clippy::unused_async)] // poem-openapi handlers are async
    async fn channel_types(&self, _auth: RestAuth) -> Json<ChannelTypesDto> {
        Json(ChannelTypesDto {
            items: ChannelKind::ALL
                .iter()
                .map(|k| ChannelTypeDto {
                    kind: k.as_str().to_owned(),
                    fields: fields(*k)
                        .iter()
                        .map(|f| FieldSpecDto {
                            name: f.name.to_owned(),
                            secret: f.secret,
                            required: f.required,
                            list: f.list,
                            help: f.help.to_owned(),
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    /// Every channel.
    #[oai(
        path = "/notifications/channels",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn list_channels(&self, _auth: RestAuth) -> Result<Json<ChannelListDto>, ApiError> {
        let list = self.app.storage.channels().await.map_err(AppError::from)?;
        Ok(Json(ChannelListDto {
            items: list.iter().map(channel_dto).collect(),
        }))
    }

    /// Creates a channel (`name`, `type` and the type's required settings).
    #[oai(
        path = "/notifications/channels",
        method = "post",
        tag = "Tag::Notifications"
    )]
    async fn create_channel(
        &self,
        _auth: RestAuth,
        body: JsonBody<ChannelInputDto>,
    ) -> Result<Created<ChannelDto>, ApiError> {
        let svc = service(&self.app)?;
        let f = Fields::of(&body.value)?;
        f.only(&CHANNEL_KEYS)?;
        let name = name_of(f.string("name")?)?;
        let kind = parse_kind("type", f.string("type")?)?;
        let mut options = BTreeMap::new();
        let mut secrets = BTreeMap::new();
        if let Some(settings) = f.raw("settings") {
            apply_settings(kind, settings, &mut options, &mut secrets)?;
        }
        let config = ChannelConfig {
            kind,
            options,
            secrets,
        };
        validate(&config)?;
        let id = new_uuid();
        let now = self.app.clock.now();
        let channel = StoredChannel {
            sealed_secrets: svc.seal(&id, &config.secrets),
            secret_names: config.secrets.keys().cloned().collect(),
            id,
            name,
            kind,
            enabled: f.opt_bool("enabled")?.unwrap_or(true),
            options: config.options,
            events: events_of(&f)?.unwrap_or_else(default_events),
            quiet_hours: quiet_hours_of(&self.app, &f)?.flatten(),
            created_at: now,
            updated_at: now,
        };
        self.app
            .storage
            .create_channel(&channel)
            .await
            .map_err(AppError::from)?;
        Ok(Created::Created(Json(channel_dto(&channel))))
    }

    /// One channel.
    #[oai(
        path = "/notifications/channels/:channel_id",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn get_channel(
        &self,
        _auth: RestAuth,
        channel_id: Path<String>,
    ) -> Result<Json<ChannelDto>, ApiError> {
        Ok(Json(channel_dto(
            &channel_or_404(&self.app, &channel_id).await?,
        )))
    }

    /// Changes a channel (omitted keys and settings keep their value; a setting set to null is
    /// removed).
    #[oai(
        path = "/notifications/channels/:channel_id",
        method = "patch",
        tag = "Tag::Notifications"
    )]
    async fn patch_channel(
        &self,
        _auth: RestAuth,
        channel_id: Path<String>,
        body: JsonBody<ChannelInputDto>,
    ) -> Result<Json<ChannelDto>, ApiError> {
        let svc = service(&self.app)?;
        let mut channel = channel_or_404(&self.app, &channel_id).await?;
        let f = Fields::of(&body.value)?;
        f.only(&CHANNEL_KEYS)?;
        if let Some(kind) = f.opt_string("type")?
            && parse_kind("type", kind)? != channel.kind
        {
            return Err(
                AppError::invalid("type", "cannot be changed (create another channel)").into(),
            );
        }
        let mut config = svc
            .config_of(&channel)
            .map_err(|e| AppError::Conflict(format!("{e}; set every secret of the channel again")))
            .or_else(|e| {
                // Unreadable secrets (the key changed) can be replaced by sending them again.
                if f.raw("settings").is_some() {
                    Ok(ChannelConfig {
                        kind: channel.kind,
                        options: channel.options.clone(),
                        secrets: BTreeMap::new(),
                    })
                } else {
                    Err(e)
                }
            })?;
        if let Some(name) = f.opt_string("name")? {
            channel.name = name_of(name)?;
        }
        if let Some(enabled) = f.opt_bool("enabled")? {
            channel.enabled = enabled;
        }
        if let Some(settings) = f.raw("settings") {
            apply_settings(
                channel.kind,
                settings,
                &mut config.options,
                &mut config.secrets,
            )?;
        }
        validate(&config)?;
        if let Some(events) = events_of(&f)? {
            channel.events = events;
        }
        if let Some(q) = quiet_hours_of(&self.app, &f)? {
            channel.quiet_hours = q;
        }
        channel.sealed_secrets = svc.seal(&channel.id, &config.secrets);
        channel.secret_names = config.secrets.keys().cloned().collect();
        channel.options = config.options;
        channel.updated_at = self.app.clock.now();
        self.app
            .storage
            .update_channel(&channel)
            .await
            .map_err(AppError::from)?;
        Ok(Json(channel_dto(&channel)))
    }

    /// Deletes a channel; its pending deliveries fail, its log lines stay.
    #[oai(
        path = "/notifications/channels/:channel_id",
        method = "delete",
        tag = "Tag::Notifications"
    )]
    async fn delete_channel(
        &self,
        _auth: RestAuth,
        channel_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        self.app
            .storage
            .delete_channel(&channel_id)
            .await
            .map_err(AppError::from)?;
        Ok(NoContent::Done)
    }

    /// Sends a test message through the channel now (whether notifications are on or not).
    #[oai(
        path = "/notifications/channels/:channel_id/test",
        method = "post",
        tag = "Tag::Notifications"
    )]
    async fn test_channel(
        &self,
        _auth: RestAuth,
        channel_id: Path<String>,
    ) -> Result<Json<TestResultDto>, ApiError> {
        let svc = service(&self.app)?;
        let channel = channel_or_404(&self.app, &channel_id).await?;
        let outcome = svc.send_test(&channel).await;
        Ok(Json(TestResultDto {
            sent: outcome.sent,
            error: outcome.error,
        }))
    }

    /// The delivery log, newest first.
    #[oai(
        path = "/notifications/deliveries",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn deliveries(
        &self,
        _auth: RestAuth,
        /// 1–500, default 50.
        limit: Query<Option<u32>>,
        /// The `nextCursor` of the previous page.
        before: Query<Option<String>>,
    ) -> Result<Json<DeliveryPageDto>, ApiError> {
        let limit = limit.0.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(AppError::invalid("limit", format!("must be 1–500 (got {limit})")).into());
        }
        let mut items = self
            .app
            .storage
            .delivery_log(limit + 1, before.0.as_deref())
            .await
            .map_err(|e| match e {
                netpulse_ports::storage::StorageError::Invalid(_) => {
                    AppError::invalid("before", "is not a cursor of this log")
                }
                other => AppError::from(other),
            })?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(|d| d.id.clone())
        } else {
            None
        };
        Ok(Json(DeliveryPageDto {
            items: items.into_iter().map(delivery_dto).collect(),
            next_cursor,
        }))
    }

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
        let connection = connection_param(connection.0.as_deref())?;
        let (since, until) = range(&self.app, since.0.as_deref(), until.0.as_deref())?;
        let list = self
            .app
            .storage
            .maintenance_windows(connection.as_ref(), since, until)
            .await
            .map_err(AppError::from)?;
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
        let window = MaintenanceWindow::new(starts, ends).map_err(AppError::from)?;
        let stored = StoredMaintenance {
            id: new_uuid(),
            connection_id: id,
            starts_at: window.starts_at,
            ends_at: window.ends_at,
            note: f.opt_string("note")?.unwrap_or_default().to_owned(),
            created_at: self.app.clock.now(),
        };
        self.app
            .storage
            .create_maintenance(&stored)
            .await
            .map_err(AppError::from)?;
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
        self.app
            .storage
            .delete_maintenance(&window_id)
            .await
            .map_err(AppError::from)?;
        Ok(NoContent::Done)
    }

    /// Incidents overlapping `[since, until)` (default: the last 30 days onwards), of one
    /// connection or all.
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
    ) -> Result<Json<IncidentListDto>, ApiError> {
        let connection = connection_param(connection.0.as_deref())?;
        let (since, until) = range(&self.app, since.0.as_deref(), until.0.as_deref())?;
        let list = self
            .app
            .storage
            .incidents(connection.as_ref(), since, until)
            .await
            .map_err(AppError::from)?;
        Ok(Json(IncidentListDto {
            items: list.into_iter().map(incident_dto).collect(),
        }))
    }
}
