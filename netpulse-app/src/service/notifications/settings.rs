//! The global notification settings: read them, change some of them.

use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::notify::LocalTime;
use netpulse_domain::notify_settings::{digest_weekday, log_retention_days, public_url};
use netpulse_domain::schedule::CronCalendar;
use netpulse_ports::notification_store::NotificationSettings;

use super::{engine, rule_and_value, rule_only};
use crate::error::AppError;
use crate::service::App;

/// A change of the settings; `None` keeps a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    /// The master switch.
    pub enabled: Option<bool>,
    /// Consecutive unhealthy results that raise an alert.
    pub alert_after: Option<u32>,
    /// Consecutive healthy results that end it.
    pub recover_after: Option<u32>,
    /// Probe-offline alerts.
    pub probe_offline: Option<bool>,
    /// The daily digest.
    pub digest_daily: Option<bool>,
    /// The weekly digest.
    pub digest_weekly: Option<bool>,
    /// The digests' local time, `HH:MM`.
    pub digest_time: Option<String>,
    /// The weekly digest's weekday, `mon` … `sun`.
    pub digest_weekday: Option<String>,
    /// The digests' IANA time zone.
    pub digest_timezone: Option<String>,
    /// Days the delivery log is kept.
    pub log_retention_days: Option<u32>,
    /// The dashboard's base URL: `Some(None)` (or blank) removes it.
    #[allow(clippy::option_option)] // absent / null / set
    pub public_url: Option<Option<String>>,
}

/// The settings, or the defaults before the first save: the server's alert policy, and the
/// digest in the site's time zone.
pub async fn get(app: &App) -> Result<NotificationSettings, AppError> {
    let mut settings = engine(app)?.settings().await?;
    if app.storage.notification_settings().await?.is_none() {
        settings.digest.time_zone = crate::service::settings::load(app).await?.time_zone;
    }
    Ok(settings)
}

/// Applies `change` to the settings and stores them; a changed digest schedule starts its
/// slots afresh. Returns the new settings.
pub async fn save(app: &App, change: &SettingsChange) -> Result<NotificationSettings, AppError> {
    let mut settings = get(app).await?;
    let before = settings.digest.clone();
    apply(&mut settings, change, &app.calendar)?;
    app.storage
        .set_notification_settings(&settings, app.clock.now())
        .await?;
    if settings.digest != before {
        app.storage.reset_digest_slots().await?;
    }
    crate::service::audit::record(app, "settings.notifications", "settings", "").await?;
    Ok(settings)
}

/// The rules of a settings change, in the order their errors are reported.
fn apply(
    s: &mut NotificationSettings,
    change: &SettingsChange,
    calendar: &dyn CronCalendar,
) -> Result<(), AppError> {
    if let Some(v) = change.enabled {
        s.enabled = v;
    }
    let n = change.alert_after.unwrap_or(s.alerts.unhealthy_count());
    let m = change.recover_after.unwrap_or(s.alerts.healthy_count());
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
    if let Some(v) = change.probe_offline {
        s.probe_offline = v;
    }
    if let Some(v) = change.digest_daily {
        s.digest.daily = v;
    }
    if let Some(v) = change.digest_weekly {
        s.digest.weekly = v;
    }
    if let Some(t) = &change.digest_time {
        s.digest.at = LocalTime::parse("digestTime", t)?;
    }
    if let Some(d) = &change.digest_weekday {
        s.digest.weekday = digest_weekday(d)?;
    }
    if let Some(tz) = &change.digest_timezone {
        s.digest.time_zone.clone_from(tz);
    }
    s.digest
        .validate(calendar)
        .map_err(|e| AppError::invalid("digestTimezone", e.rule))?;
    if let Some(days) = change.log_retention_days {
        s.log_retention_days = log_retention_days(days).map_err(rule_and_value)?;
    }
    if let Some(url) = &change.public_url {
        s.public_url = match url {
            Some(u) => public_url(u).map_err(rule_only)?,
            None => None,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use netpulse_adapters::cron_calendar::CronerCalendar;

    use super::*;

    fn field_and_message(change: &SettingsChange) -> (String, String) {
        let mut s = NotificationSettings::default();
        match apply(&mut s, change, &CronerCalendar) {
            Err(AppError::Invalid { field, message }) => (field, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_api_field_and_keep_their_messages() {
        assert_eq!(
            field_and_message(&SettingsChange {
                log_retention_days: Some(5000),
                ..SettingsChange::default()
            }),
            (
                "logRetentionDays".into(),
                "must be 1–3650 (got 5000)".into()
            )
        );
        assert_eq!(
            field_and_message(&SettingsChange {
                digest_weekday: Some("xyz".into()),
                ..SettingsChange::default()
            }),
            (
                "digestWeekday".into(),
                "must be mon … sun (got \"xyz\")".into()
            )
        );
        assert_eq!(
            field_and_message(&SettingsChange {
                public_url: Some(Some("example.com".into())),
                ..SettingsChange::default()
            }),
            (
                "publicUrl".into(),
                "must be an http:// or https:// URL".into()
            )
        );
        assert_eq!(
            field_and_message(&SettingsChange {
                recover_after: Some(0),
                ..SettingsChange::default()
            })
            .0,
            "recoverAfter"
        );
        assert_eq!(
            field_and_message(&SettingsChange {
                digest_timezone: Some("Mars/Base".into()),
                ..SettingsChange::default()
            })
            .0,
            "digestTimezone"
        );
    }

    #[test]
    fn a_change_keeps_what_it_omits() {
        let mut s = NotificationSettings::default();
        apply(
            &mut s,
            &SettingsChange {
                digest_weekday: Some("Sunday".into()),
                public_url: Some(Some(" https://np.example/ ".into())),
                ..SettingsChange::default()
            },
            &CronerCalendar,
        )
        .unwrap();
        assert_eq!(s.digest.weekday, 6);
        assert_eq!(s.public_url.as_deref(), Some("https://np.example"));
        assert_eq!(s.log_retention_days, 30);
        apply(
            &mut s,
            &SettingsChange {
                public_url: Some(None),
                ..SettingsChange::default()
            },
            &CronerCalendar,
        )
        .unwrap();
        assert_eq!(s.public_url, None);
    }
}
