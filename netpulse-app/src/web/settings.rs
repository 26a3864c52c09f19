//! Site-wide settings: the site name and the time zone used everywhere times are shown or
//! bucketed (history, dashboard, heatmap, CSV). Stored in the `settings` table.

use super::Web;
use crate::error::AppError;

pub use crate::service::settings::{
    DEFAULT_SITE_NAME, SITE_NAME, SiteSettings, TIME_ZONE, check_site_name, check_time_zone,
};

/// Reads the settings (defaults for missing or unusable values).
pub async fn load(web: &Web) -> Result<SiteSettings, AppError> {
    crate::service::settings::load(&web.app).await
}

/// Every IANA zone name the time-zone database knows, sorted (for the zone fields' lists).
pub fn zone_names() -> Vec<String> {
    let mut zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|z| z.as_str().to_owned())
        .collect();
    zones.sort();
    zones
}
