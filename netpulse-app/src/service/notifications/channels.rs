//! Notification channels: the channel types, list, create, change, delete, and test messages.
//! Secrets are sealed before they are stored and never handed out again.

use std::collections::BTreeMap;

use netpulse_adapters::notify::{FieldSpec, HttpClient, build, fields};
use netpulse_domain::notify::{LocalTime, QuietHours};
use netpulse_domain::notify_settings::channel_name;
use netpulse_ports::notification_store::StoredChannel;
use netpulse_ports::notify::{ChannelConfig, ChannelKind, NotificationKind};

use super::{engine, rule_only};
use crate::error::AppError;
use crate::notify::{TestOutcome, default_events_for};
use crate::service::{App, new_uuid};

/// One value of a channel's `settings` as the caller sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingValue {
    /// Null or a blank string: removes the setting.
    Unset,
    /// A string (trimmed, not blank).
    Text(String),
    /// A number or a boolean, as text.
    Scalar(String),
    /// A list of strings (trimmed, none blank).
    List(Vec<String>),
    /// A list whose item at this index is not a non-blank string.
    BadItem(usize),
    /// Anything else (an object).
    Other,
}

/// Quiet hours as the caller sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHoursInput {
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// IANA time zone (default UTC).
    pub timezone: Option<String>,
}

/// A channel creation or change; `None` keeps a value (on creation: the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelInput {
    /// The name (required on creation).
    pub name: Option<String>,
    /// The type (required on creation; cannot change).
    pub kind: Option<String>,
    /// Whether it is used (default true).
    pub enabled: Option<bool>,
    /// Plain and secret settings alike, in the caller's order; on change an omitted setting
    /// keeps its value and [`SettingValue::Unset`] removes it.
    pub settings: Option<Vec<(String, SettingValue)>>,
    /// The kinds it receives (default: every kind but tests).
    pub events: Option<Vec<String>>,
    /// Quiet hours: `Some(None)` removes them.
    #[allow(clippy::option_option)] // absent / null / set
    pub quiet_hours: Option<Option<QuietHoursInput>>,
}

/// Every channel type with its settings.
pub fn types() -> Vec<(ChannelKind, &'static [FieldSpec])> {
    ChannelKind::ALL.iter().map(|k| (*k, fields(*k))).collect()
}

/// Every channel, by name.
pub async fn list(app: &App) -> Result<Vec<StoredChannel>, AppError> {
    Ok(app.storage.channels().await?)
}

/// One channel.
pub async fn get(app: &App, id: &str) -> Result<StoredChannel, AppError> {
    app.storage
        .channel(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "channel",
            id: id.to_owned(),
        })
}

/// Creates a channel (`name`, `type` and the type's required settings).
pub async fn create(app: &App, input: &ChannelInput) -> Result<StoredChannel, AppError> {
    let svc = engine(app)?;
    let name = channel_name(required("name", input.name.as_deref())?).map_err(rule_only)?;
    let kind = parse_kind("type", required("type", input.kind.as_deref())?)?;
    let mut options = BTreeMap::new();
    let mut secrets = BTreeMap::new();
    if let Some(settings) = &input.settings {
        apply_settings(kind, settings, &mut options, &mut secrets)?;
    }
    let config = ChannelConfig {
        kind,
        options,
        secrets,
    };
    validate(&config)?;
    let id = new_uuid();
    let now = app.clock.now();
    let channel = StoredChannel {
        sealed_secrets: svc.seal(&id, &config.secrets),
        secret_names: config.secrets.keys().cloned().collect(),
        id,
        name,
        kind,
        enabled: input.enabled.unwrap_or(true),
        options: config.options,
        events: incident_tool_events(
            kind,
            events_of(input.events.as_deref())?.unwrap_or_else(|| default_events_for(kind)),
        )?,
        quiet_hours: quiet_hours_of(app, input.quiet_hours.as_ref())?.flatten(),
        created_at: now,
        updated_at: now,
    };
    app.storage.create_channel(&channel).await?;
    crate::service::audit::record(
        app,
        "channel.create",
        format!("channel:{}", channel.id),
        format!("{} ({})", channel.name, channel.kind.as_str()),
    )
    .await?;
    Ok(channel)
}

/// Changes a channel (omitted values and settings keep their value; an unset setting is
/// removed). Secrets that cannot be opened any more (the key changed) are a conflict unless
/// the change sends settings: then they are replaced by those it sends.
pub async fn update(app: &App, id: &str, input: &ChannelInput) -> Result<StoredChannel, AppError> {
    let svc = engine(app)?;
    let mut channel = get(app, id).await?;
    if let Some(kind) = &input.kind
        && parse_kind("type", kind)? != channel.kind
    {
        return Err(AppError::invalid(
            "type",
            "cannot be changed (create another channel)",
        ));
    }
    let mut config = svc
        .config_of(&channel)
        .map_err(|e| AppError::Conflict(format!("{e}; set every secret of the channel again")))
        .or_else(|e| {
            // Unreadable secrets (the key changed) can be replaced by sending them again.
            if input.settings.is_some() {
                Ok(ChannelConfig {
                    kind: channel.kind,
                    options: channel.options.clone(),
                    secrets: BTreeMap::new(),
                })
            } else {
                Err(e)
            }
        })?;
    if let Some(name) = &input.name {
        channel.name = channel_name(name).map_err(rule_only)?;
    }
    if let Some(enabled) = input.enabled {
        channel.enabled = enabled;
    }
    if let Some(settings) = &input.settings {
        apply_settings(
            channel.kind,
            settings,
            &mut config.options,
            &mut config.secrets,
        )?;
    }
    validate(&config)?;
    if let Some(events) = events_of(input.events.as_deref())? {
        channel.events = incident_tool_events(channel.kind, events)?;
    }
    if let Some(q) = quiet_hours_of(app, input.quiet_hours.as_ref())? {
        channel.quiet_hours = q;
    }
    channel.sealed_secrets = svc.seal(&channel.id, &config.secrets);
    channel.secret_names = config.secrets.keys().cloned().collect();
    channel.options = config.options;
    channel.updated_at = app.clock.now();
    app.storage.update_channel(&channel).await?;
    crate::service::audit::record(
        app,
        "channel.update",
        format!("channel:{}", channel.id),
        channel.name.clone(),
    )
    .await?;
    Ok(channel)
}

/// Deletes a channel; its pending deliveries fail, its log lines stay.
pub async fn delete(app: &App, id: &str) -> Result<(), AppError> {
    app.storage.delete_channel(id).await?;
    crate::service::audit::record(app, "channel.delete", format!("channel:{id}"), "").await
}

/// Sends a test message through the channel now (whether notifications are on or not).
pub async fn test(app: &App, id: &str) -> Result<TestOutcome, AppError> {
    let svc = engine(app)?;
    let channel = get(app, id).await?;
    Ok(svc.send_test(&channel).await)
}

/// Incident tools trigger and resolve incidents; a digest is none.
fn incident_tool_events(
    kind: ChannelKind,
    events: Vec<NotificationKind>,
) -> Result<Vec<NotificationKind>, AppError> {
    if kind.is_incident_tool() && events.contains(&NotificationKind::Digest) {
        return Err(AppError::invalid(
            "events",
            format!(
                "{} channels take alerts, recoveries and probe events, not digest",
                kind.as_str()
            ),
        ));
    }
    Ok(events)
}

fn required<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, AppError> {
    value.ok_or_else(|| AppError::invalid(field, "is required"))
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

fn events_of(events: Option<&[String]>) -> Result<Option<Vec<NotificationKind>>, AppError> {
    events
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
fn quiet_hours_of(
    app: &App,
    input: Option<&Option<QuietHoursInput>>,
) -> Result<Option<Option<QuietHours>>, AppError> {
    match input {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(q)) => {
            let start = LocalTime::parse("quietHours.start", &q.start)?;
            let end = LocalTime::parse("quietHours.end", &q.end)?;
            let tz = q.timezone.as_deref().unwrap_or("UTC");
            Ok(Some(Some(QuietHours::new(start, end, tz, &app.calendar)?)))
        }
    }
}

/// Applies settings to a channel's plain options and secrets: each must be a setting of the
/// channel's type, lists take lists (stored one item a line), the others a string, number or
/// boolean.
fn apply_settings(
    kind: ChannelKind,
    settings: &[(String, SettingValue)],
    options: &mut BTreeMap<String, String>,
    secrets: &mut BTreeMap<String, String>,
) -> Result<(), AppError> {
    let specs: &[FieldSpec] = fields(kind);
    for (key, value) in settings {
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
            SettingValue::Unset => None,
            SettingValue::Text(s) => Some(s.clone()),
            SettingValue::Scalar(s) if !spec.list => Some(s.clone()),
            SettingValue::List(items) if spec.list => (!items.is_empty()).then(|| items.join("\n")),
            SettingValue::BadItem(i) if spec.list => {
                return Err(AppError::invalid(
                    format!("{field}[{i}]"),
                    "must be a non-empty string",
                ));
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

/// The channel type's own rules (e.g. a webhook needs an http(s) URL).
fn validate(config: &ChannelConfig) -> Result<(), AppError> {
    build(config, &HttpClient::new())
        .map(|_| ())
        .map_err(|e| AppError::invalid(format!("settings.{}", e.field), e.rule.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_error(kind: ChannelKind, key: &str, value: SettingValue) -> (String, String) {
        let (mut options, mut secrets) = (BTreeMap::new(), BTreeMap::new());
        match apply_settings(kind, &[(key.to_owned(), value)], &mut options, &mut secrets) {
            Err(AppError::Invalid { field, message }) => (field, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn settings_follow_the_type_of_their_field() {
        assert_eq!(
            settings_error(ChannelKind::Email, "to", SettingValue::Scalar("5".into())),
            ("settings.to".into(), "must be an array of strings".into())
        );
        assert_eq!(
            settings_error(ChannelKind::Email, "to", SettingValue::BadItem(1)),
            ("settings.to[1]".into(), "must be a non-empty string".into())
        );
        assert_eq!(
            settings_error(ChannelKind::Webhook, "url", SettingValue::List(vec![])),
            ("settings.url".into(), "must be a string".into())
        );
        assert_eq!(
            settings_error(ChannelKind::Webhook, "colour", SettingValue::Unset).0,
            "settings.colour"
        );
    }

    #[test]
    fn lists_are_stored_a_line_each_and_unset_removes() {
        let (mut options, mut secrets) = (BTreeMap::new(), BTreeMap::new());
        apply_settings(
            ChannelKind::Email,
            &[
                (
                    "to".to_owned(),
                    SettingValue::List(vec!["a@b.c".into(), "d@e.f".into()]),
                ),
                ("host".to_owned(), SettingValue::Text("h".into())),
            ],
            &mut options,
            &mut secrets,
        )
        .unwrap();
        assert_eq!(options["to"], "a@b.c\nd@e.f");
        apply_settings(
            ChannelKind::Email,
            &[("host".to_owned(), SettingValue::Unset)],
            &mut options,
            &mut secrets,
        )
        .unwrap();
        assert!(!options.contains_key("host"));
    }
}
