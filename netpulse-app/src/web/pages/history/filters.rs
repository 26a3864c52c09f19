//! The history query: the filters as they appear in the query string, what they mean as a
//! storage filter and sort order, and the links that keep them.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::web::format;
use crate::web::settings::SiteSettings;

/// Page sizes offered.
pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];

/// The filters, as they appear in the query string.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HistoryQuery {
    /// `24h`, `7d` (default), `30d`, `90d`, `365d`, `all`, or `custom` (with since/until).
    #[serde(default)]
    pub window: Option<String>,
    /// First day (custom window), `YYYY-MM-DD` in the site's time zone.
    #[serde(default)]
    pub since: Option<String>,
    /// Last day, inclusive.
    #[serde(default)]
    pub until: Option<String>,
    /// A connection id.
    #[serde(default)]
    pub connection: Option<String>,
    /// A tool-reported server id.
    #[serde(default)]
    pub server: Option<String>,
    /// `completed` or `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// `healthy` or `unhealthy`.
    #[serde(default)]
    pub verdict: Option<String>,
    /// `scheduled` or `manual`.
    #[serde(default)]
    pub kind: Option<String>,
    /// One of the 12 orders.
    #[serde(default)]
    pub sort: Option<String>,
    /// Rows per page.
    #[serde(default)]
    pub limit: Option<u32>,
    /// The page's keyset cursor.
    #[serde(default)]
    pub cursor: Option<String>,
    /// The page number (for display).
    #[serde(default)]
    pub page: Option<u32>,
}

/// The windows: name, label, length in seconds (0: all time).
pub(super) const WINDOWS: [(&str, &str, i64); 6] = [
    ("24h", "Last 24 hours", 86_400),
    ("7d", "Last 7 days", 7 * 86_400),
    ("30d", "Last 30 days", 30 * 86_400),
    ("90d", "Last 90 days", 90 * 86_400),
    ("365d", "Last 365 days", 365 * 86_400),
    ("all", "All time", 0),
];

pub(super) fn nonempty(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The storage filter of a query; errors name the field.
pub fn filter_of(
    q: &HistoryQuery,
    now: Timestamp,
    site: &SiteSettings,
) -> Result<MeasurementFilter, AppError> {
    let mut f = MeasurementFilter::default();
    match nonempty(q.window.as_ref()).unwrap_or("7d") {
        "custom" => {
            f.since = nonempty(q.since.as_ref())
                .map(|d| {
                    format::start_of_day(d, &site.tz)
                        .ok_or_else(|| AppError::invalid("since", "must be a date (YYYY-MM-DD)"))
                })
                .transpose()?;
            f.until = nonempty(q.until.as_ref())
                .map(|d| {
                    format::start_of_day(d, &site.tz)
                        .map(|t| t.plus_seconds(86_400))
                        .ok_or_else(|| AppError::invalid("until", "must be a date (YYYY-MM-DD)"))
                })
                .transpose()?;
            if let (Some(s), Some(u)) = (f.since, f.until)
                && s >= u
            {
                return Err(AppError::invalid(
                    "until",
                    "must not be before the first day",
                ));
            }
        }
        "all" => {}
        w => {
            let (_, _, secs) = WINDOWS
                .iter()
                .find(|(name, _, _)| *name == w)
                .ok_or_else(|| {
                    AppError::invalid("window", format!("is not a known window (got {w:?})"))
                })?;
            f.since = Some(now.plus_seconds(-secs));
        }
    }
    f.connection = nonempty(q.connection.as_ref())
        .map(|c| ConnectionId::parse(c).map_err(|e| AppError::invalid("connection", e.to_string())))
        .transpose()?;
    f.server_id = nonempty(q.server.as_ref()).map(str::to_owned);
    f.completed = match nonempty(q.status.as_ref()) {
        None => None,
        Some("completed") => Some(true),
        Some("failed") => Some(false),
        Some(o) => {
            return Err(AppError::invalid(
                "status",
                format!("must be completed or failed (got {o:?})"),
            ));
        }
    };
    f.healthy = match nonempty(q.verdict.as_ref()) {
        None => None,
        Some("healthy") => Some(true),
        Some("unhealthy") => Some(false),
        Some(o) => {
            return Err(AppError::invalid(
                "verdict",
                format!("must be healthy or unhealthy (got {o:?})"),
            ));
        }
    };
    f.scheduled = match nonempty(q.kind.as_ref()) {
        None => None,
        Some("scheduled") => Some(true),
        Some("manual") => Some(false),
        Some(o) => {
            return Err(AppError::invalid(
                "kind",
                format!("must be scheduled or manual (got {o:?})"),
            ));
        }
    };
    Ok(f)
}

/// The sort order of a query (newest first by default).
pub(super) fn sort_of(q: &HistoryQuery) -> Result<MeasurementSort, AppError> {
    match nonempty(q.sort.as_ref()) {
        None => Ok(MeasurementSort::CompletedDesc),
        Some(s) => MeasurementSort::parse(s)
            .ok_or_else(|| AppError::invalid("sort", format!("is not a known order (got {s:?})"))),
    }
}

/// The query as a query string, without empty fields.
pub(super) fn query_string(q: &HistoryQuery) -> String {
    serde_urlencoded::to_string(q)
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.ends_with('='))
        .collect::<Vec<_>>()
        .join("&")
}

/// The history link of a query.
pub(super) fn href(q: &HistoryQuery) -> String {
    let s = query_string(q);
    if s.is_empty() {
        "/history".into()
    } else {
        format!("/history?{s}")
    }
}

/// A sort order for people.
pub fn sort_label(s: MeasurementSort) -> &'static str {
    use MeasurementSort as S;
    match s {
        S::CompletedDesc => "Newest first",
        S::CompletedAsc => "Oldest first",
        S::DownloadDesc => "Fastest download",
        S::DownloadAsc => "Slowest download",
        S::UploadDesc => "Fastest upload",
        S::UploadAsc => "Slowest upload",
        S::PingDesc => "Highest ping",
        S::PingAsc => "Lowest ping",
        S::JitterDesc => "Highest jitter",
        S::JitterAsc => "Lowest jitter",
        S::LossDesc => "Most packet loss",
        S::LossAsc => "Least packet loss",
    }
}
