//! `/notifications/settings`: the global notification settings.

use netpulse_domain::notify_settings::weekday_name;
use netpulse_ports::notification_store::NotificationSettings;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use crate::http::auth::RestAuth;
use crate::http::payload::{Fields, JsonBody};
use crate::http::problem::ApiError;
use crate::service::App;
use crate::service::notifications::settings::{self, SettingsChange};

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
    /// Alert when a probe has not polled for max(2 × poll interval + 30 s, 120 s).
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
    #[oai(nullable)]
    pub public_url: Option<String>,
}

/// A change of the notification settings: any subset of them (omitted keys keep their value).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct NotificationSettingsPatchDto {
    /// Master switch.
    pub enabled: Option<bool>,
    /// Consecutive unhealthy results that raise an alert, ≥ 1.
    pub alert_after: Option<u32>,
    /// Consecutive healthy results that end it, ≥ 1.
    pub recover_after: Option<u32>,
    /// Alert when a probe stops polling.
    pub probe_offline: Option<bool>,
    /// Send a daily digest.
    pub digest_daily: Option<bool>,
    /// Send a weekly digest.
    pub digest_weekly: Option<bool>,
    /// Local time of the digests, HH:MM.
    pub digest_time: Option<String>,
    /// Weekday of the weekly digest: mon … sun.
    pub digest_weekday: Option<String>,
    /// IANA time zone of the digest time.
    pub digest_timezone: Option<String>,
    /// Delivery-log retention, days.
    pub log_retention_days: Option<u32>,
    /// Base URL of the dashboard; null clears it.
    #[oai(nullable)]
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
        digest_weekday: weekday_name(s.digest.weekday).to_owned(),
        digest_timezone: s.digest.time_zone.clone(),
        log_retention_days: s.log_retention_days,
        public_url: s.public_url.clone(),
    }
}

const SETTINGS_KEYS: [&str; 11] = [
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
];

/// Reads a settings change (omitted keys keep their value).
fn change_of(f: &Fields<'_>) -> Result<SettingsChange, ApiError> {
    f.only(&SETTINGS_KEYS)?;
    Ok(SettingsChange {
        enabled: f.opt_bool("enabled")?,
        alert_after: f.opt_u32("alertAfter")?,
        recover_after: f.opt_u32("recoverAfter")?,
        probe_offline: f.opt_bool("probeOffline")?,
        digest_daily: f.opt_bool("digestDaily")?,
        digest_weekly: f.opt_bool("digestWeekly")?,
        digest_time: f.opt_string("digestTime")?.map(str::to_owned),
        digest_weekday: f.opt_string("digestWeekday")?.map(str::to_owned),
        digest_timezone: f.opt_string("digestTimezone")?.map(str::to_owned),
        log_retention_days: f.opt_u32("logRetentionDays")?,
        public_url: f.nullable_string("publicUrl")?,
    })
}

/// The settings endpoints.
#[derive(Debug)]
pub struct SettingsApi {
    /// The services.
    pub app: App,
}

#[OpenApi(prefix_path = "/v1")]
impl SettingsApi {
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
        Ok(Json(settings_dto(&settings::get(&self.app).await?)))
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
        body: JsonBody<NotificationSettingsPatchDto>,
    ) -> Result<Json<NotificationSettingsDto>, ApiError> {
        let change = change_of(&Fields::of(&body.value)?)?;
        Ok(Json(settings_dto(
            &settings::save(&self.app, &change).await?,
        )))
    }
}
