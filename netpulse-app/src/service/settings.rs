//! Site-wide settings: the site name and the time zone used everywhere times are shown or
//! bucketed (history, dashboard, heatmap, CSV). Stored in the `settings` table.

use jiff::tz::TimeZone;

use super::App;
use crate::error::AppError;

/// The site name's key.
pub const SITE_NAME: &str = "general.site_name";
/// The time zone's key.
pub const TIME_ZONE: &str = "general.time_zone";
/// The site name when none is set.
pub const DEFAULT_SITE_NAME: &str = "NetPulse";

/// The settings as pages use them.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    /// The site name.
    pub site_name: String,
    /// The IANA time-zone name.
    pub time_zone: String,
    /// The time zone.
    pub tz: TimeZone,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            site_name: DEFAULT_SITE_NAME.into(),
            time_zone: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }
}

/// Reads the settings (defaults for missing or unusable values).
pub async fn load(app: &App) -> Result<SiteSettings, AppError> {
    let name = app.storage.setting(SITE_NAME).await?;
    let zone = app.storage.setting(TIME_ZONE).await?;
    let site_name = name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_SITE_NAME.into());
    let (time_zone, tz) = match zone.as_deref().map(|z| (z, TimeZone::get(z))) {
        Some((z, Ok(tz))) => (z.to_owned(), tz),
        _ => ("UTC".to_owned(), TimeZone::UTC),
    };
    Ok(SiteSettings {
        site_name,
        time_zone,
        tz,
    })
}

/// The site name as stored (empty when none is set: the default applies).
pub async fn stored_site_name(app: &App) -> Result<String, AppError> {
    Ok(app.storage.setting(SITE_NAME).await?.unwrap_or_default())
}

/// Checks a site name: at most 100 characters, no control characters (blank = default).
pub fn check_site_name(name: &str) -> Result<String, String> {
    let n = name.trim();
    if n.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if n.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(n.to_owned())
}

/// Checks an IANA time-zone name.
pub fn check_time_zone(name: &str) -> Result<String, String> {
    let n = name.trim();
    if n.is_empty() {
        return Ok("UTC".into());
    }
    TimeZone::get(n)
        .map(|_| n.to_owned())
        .map_err(|_| format!("{n:?} is not an IANA time zone (e.g. Europe/Berlin, UTC)"))
}

/// Checked general settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct General {
    /// The site name (blank: the default).
    pub site_name: String,
    /// The IANA time-zone name.
    pub time_zone: String,
}

impl General {
    /// Checks both fields; the errors name the field (`site_name`, `time_zone`), in that order.
    pub fn check(site_name: &str, time_zone: &str) -> Result<Self, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let name = check_site_name(site_name)
            .map_err(|e| errors.push(("site_name", e)))
            .ok();
        let zone = check_time_zone(time_zone)
            .map_err(|e| errors.push(("time_zone", e)))
            .ok();
        match (name, zone) {
            (Some(site_name), Some(time_zone)) => Ok(Self {
                site_name,
                time_zone,
            }),
            _ => Err(errors),
        }
    }
}

/// Stores the site name and the time zone.
pub async fn save_general(app: &App, general: &General) -> Result<(), AppError> {
    let now = app.clock.now();
    let old_zone = app.storage.setting(TIME_ZONE).await?;
    for (key, value) in [
        (SITE_NAME, &general.site_name),
        (TIME_ZONE, &general.time_zone),
    ] {
        app.storage.set_setting(key, value, now).await?;
    }
    // Daily and weekly rollups are local days and weeks: a new zone re-keys them (the rollup
    // job recomputes every hour queued here).
    if old_zone.as_deref().unwrap_or("UTC") != general.time_zone {
        super::rollups::mark_all_dirty(app).await?;
    }
    super::audit::record(
        app,
        "settings.general",
        "settings",
        format!(
            "site name {:?}, time zone {}",
            general.site_name, general.time_zone
        ),
    )
    .await
}
