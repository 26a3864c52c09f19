//! `/notifications/channel-types` and `/notifications/channels…`: the channel types, the
//! channels and their test messages. Secret settings are never shown.

use std::collections::BTreeMap;

use netpulse_adapters::notify::fields;
use netpulse_ports::notification_store::StoredChannel;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use super::Tag;
use crate::error::AppError;
use crate::http::auth::RestAuth;
use crate::http::payload::{Fields, JsonBody};
use crate::http::problem::ApiError;
use crate::http::rest::{Created, NoContent};
use crate::service::App;
use crate::service::notifications::channels::{self, ChannelInput, QuietHoursInput, SettingValue};

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
    /// `email`, `webhook`, `ntfy`, `gotify`, `discord`, `slack`, `telegram`, `alertmanager`,
    /// `pagerduty` or `opsgenie`.
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
    #[oai(nullable)]
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

const CHANNEL_KEYS: [&str; 6] = [
    "name",
    "type",
    "enabled",
    "settings",
    "events",
    "quietHours",
];

/// Reads a channel creation or change body.
fn input_of(body: &Value) -> Result<ChannelInput, AppError> {
    let f = Fields::of(body)?;
    f.only(&CHANNEL_KEYS)?;
    Ok(ChannelInput {
        name: f.opt_string("name")?.map(str::to_owned),
        kind: f.opt_string("type")?.map(str::to_owned),
        enabled: f.opt_bool("enabled")?,
        settings: f.raw("settings").map(settings_of).transpose()?,
        events: f.opt_strings("events")?,
        quiet_hours: quiet_hours_of(&f)?,
    })
}

/// Reads the `settings` object, one value per key.
fn settings_of(settings: &Value) -> Result<Vec<(String, SettingValue)>, AppError> {
    let map = settings
        .as_object()
        .ok_or_else(|| AppError::invalid("settings", "must be an object"))?;
    Ok(map
        .iter()
        .map(|(key, value)| (key.clone(), setting_value(value)))
        .collect())
}

fn setting_value(value: &Value) -> SettingValue {
    match value {
        Value::Null => SettingValue::Unset,
        Value::String(s) if s.trim().is_empty() => SettingValue::Unset,
        Value::String(s) => SettingValue::Text(s.trim().to_owned()),
        Value::Number(n) => SettingValue::Scalar(n.to_string()),
        Value::Bool(b) => SettingValue::Scalar(b.to_string()),
        Value::Array(items) => {
            let mut lines = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() => lines.push(s.trim().to_owned()),
                    _ => return SettingValue::BadItem(i),
                }
            }
            SettingValue::List(lines)
        }
        Value::Object(_) => SettingValue::Other,
    }
}

#[allow(clippy::option_option)] // absent / null / set
fn quiet_hours_of(f: &Fields<'_>) -> Result<Option<Option<QuietHoursInput>>, AppError> {
    match f.raw("quietHours") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => {
            let q = Fields::of(v)
                .map_err(|_| AppError::invalid("quietHours", "must be an object or null"))?;
            q.only(&["start", "end", "timezone"])
                .map_err(|e| prefix("quietHours", e))?;
            Ok(Some(Some(QuietHoursInput {
                start: q
                    .string("start")
                    .map_err(|e| prefix("quietHours", e))?
                    .to_owned(),
                end: q
                    .string("end")
                    .map_err(|e| prefix("quietHours", e))?
                    .to_owned(),
                timezone: q
                    .opt_string("timezone")
                    .map_err(|e| prefix("quietHours", e))?
                    .map(str::to_owned),
            })))
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

/// The channel endpoints.
#[derive(Debug)]
pub struct ChannelsApi {
    /// The services.
    pub app: App,
}

#[OpenApi(prefix_path = "/v1")]
impl ChannelsApi {
    /// The channel types and their settings.
    #[oai(
        path = "/notifications/channel-types",
        method = "get",
        tag = "Tag::Notifications"
    )]
    #[allow(clippy::unused_async)] // poem-openapi handlers are async
    async fn channel_types(&self, _auth: RestAuth) -> Result<Json<ChannelTypesDto>, ApiError> {
        // `Result` so that the document lists the 401 a missing token gets.
        Ok(Json(ChannelTypesDto {
            items: channels::types()
                .into_iter()
                .map(|(kind, specs)| ChannelTypeDto {
                    kind: kind.as_str().to_owned(),
                    fields: specs
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
        }))
    }

    /// Every channel.
    #[oai(
        path = "/notifications/channels",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn list_channels(&self, _auth: RestAuth) -> Result<Json<ChannelListDto>, ApiError> {
        let list = channels::list(&self.app).await?;
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
        let input = input_of(&body.value)?;
        let channel = channels::create(&self.app, &input).await?;
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
            &channels::get(&self.app, &channel_id).await?,
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
        let input = input_of(&body.value)?;
        let channel = channels::update(&self.app, &channel_id, &input).await?;
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
        channels::delete(&self.app, &channel_id).await?;
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
        let outcome = channels::test(&self.app, &channel_id).await?;
        Ok(Json(TestResultDto {
            sent: outcome.sent,
            error: outcome.error,
        }))
    }
}
