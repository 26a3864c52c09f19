//! The rules of the notification settings and of what users send the notification API: how
//! long the delivery log is kept, what the dashboard's public URL may be, how a digest weekday
//! is written, what a channel may be called, how large a page of the delivery log is, and which
//! time range the maintenance-window and incident lists cover by default.
//!
//! Field names are the API's (`logRetentionDays`, `publicUrl`, …). The rules that need a
//! calendar (quiet hours, the digest schedule) are in [`crate::notify`].

use std::ops::RangeInclusive;

use crate::error::InvalidValue;
use crate::notify::WEEKDAYS;
use crate::time::Timestamp;

/// Days the delivery log may be kept.
pub const LOG_RETENTION_DAYS: RangeInclusive<u32> = 1..=3650;

/// The longest channel name, in characters.
pub const CHANNEL_NAME_MAX_CHARS: usize = 100;

/// Lines of the delivery log on one page when the caller does not say.
pub const DELIVERY_PAGE_DEFAULT: u32 = 50;

/// Lines of the delivery log one page may have.
pub const DELIVERY_PAGE_LIMITS: RangeInclusive<u32> = 1..=500;

/// How far back the maintenance-window and incident lists reach by default, seconds (30 days).
pub const HISTORY_DEFAULT_BACK_SECONDS: i64 = 30 * 86_400;

/// How far ahead the maintenance-window and incident lists reach by default, seconds (366
/// days: planned windows are listed too).
pub const HISTORY_DEFAULT_AHEAD_SECONDS: i64 = 366 * 86_400;

/// Checks the delivery-log retention: 1 … 3650 days.
pub fn log_retention_days(days: u32) -> Result<u32, InvalidValue> {
    if LOG_RETENTION_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(InvalidValue::new(
            "logRetentionDays",
            days,
            "must be 1–3650",
        ))
    }
}

/// The dashboard's base URL for result links: trimmed, without trailing slashes; blank means
/// none; otherwise it must be an `http://` or `https://` URL.
pub fn public_url(text: &str) -> Result<Option<String>, InvalidValue> {
    let url = text.trim().trim_end_matches('/');
    if url.is_empty() {
        Ok(None)
    } else if url.starts_with("http://") || url.starts_with("https://") {
        Ok(Some(url.to_owned()))
    } else {
        Err(InvalidValue::new(
            "publicUrl",
            text,
            "must be an http:// or https:// URL",
        ))
    }
}

/// Reads the weekday of the weekly digest: `mon` … `sun`, in any case, or any word starting
/// with one of them (`Sunday`); 0 = Monday … 6 = Sunday.
pub fn digest_weekday(text: &str) -> Result<u8, InvalidValue> {
    let day = text.to_ascii_lowercase();
    (0u8..)
        .zip(WEEKDAYS)
        .find(|(_, w)| day.starts_with(w))
        .map(|(i, _)| i)
        .ok_or_else(|| InvalidValue::new("digestWeekday", text, "must be mon … sun"))
}

/// The name of a weekday (0 = Monday; days past Sunday read as Sunday).
pub fn weekday_name(day: u8) -> &'static str {
    WEEKDAYS[usize::from(day.min(6))]
}

/// A channel's name: trimmed, 1 … 100 characters.
pub fn channel_name(text: &str) -> Result<String, InvalidValue> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > CHANNEL_NAME_MAX_CHARS {
        return Err(InvalidValue::new("name", name, "must be 1–100 characters"));
    }
    Ok(name.to_owned())
}

/// The size of a delivery-log page: 50 unless given, 1 … 500.
pub fn delivery_page_limit(limit: Option<u32>) -> Result<u32, InvalidValue> {
    let limit = limit.unwrap_or(DELIVERY_PAGE_DEFAULT);
    if DELIVERY_PAGE_LIMITS.contains(&limit) {
        Ok(limit)
    } else {
        Err(InvalidValue::new("limit", limit, "must be 1–500"))
    }
}

/// The range `[since, until)` a maintenance-window or incident list covers: by default from
/// 30 days ago to 366 days ahead; `since` must not be after `until`.
pub fn history_range(
    now: Timestamp,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<(Timestamp, Timestamp), InvalidValue> {
    let until = until.unwrap_or_else(|| now.plus_seconds(HISTORY_DEFAULT_AHEAD_SECONDS));
    let since = since.unwrap_or_else(|| now.plus_seconds(-HISTORY_DEFAULT_BACK_SECONDS));
    if since > until {
        return Err(InvalidValue::new("since", since, "is after until"));
    }
    Ok((since, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_one_day_to_ten_years() {
        assert_eq!(log_retention_days(1), Ok(1));
        assert_eq!(log_retention_days(3650), Ok(3650));
        for bad in [0, 3651] {
            let e = log_retention_days(bad).unwrap_err();
            assert_eq!(
                (e.field, e.rule.as_str()),
                ("logRetentionDays", "must be 1–3650")
            );
            assert_eq!(e.value, bad.to_string());
        }
    }

    #[test]
    fn public_urls_are_http_and_lose_trailing_slashes() {
        assert_eq!(
            public_url(" https://np.example/ ").unwrap().as_deref(),
            Some("https://np.example")
        );
        assert_eq!(public_url("  ").unwrap(), None);
        assert_eq!(public_url("/").unwrap(), None);
        for bad in ["example.com", "ftp://x", "http://"] {
            assert_eq!(public_url(bad).unwrap_err().field, "publicUrl", "{bad}");
        }
    }

    #[test]
    fn weekdays_read_by_prefix() {
        assert_eq!(digest_weekday("mon"), Ok(0));
        assert_eq!(digest_weekday("Sunday"), Ok(6));
        assert_eq!(digest_weekday("THU"), Ok(3));
        let e = digest_weekday("xyz").unwrap_err();
        assert_eq!((e.field, e.value.as_str()), ("digestWeekday", "xyz"));
        assert_eq!(weekday_name(6), "sun");
        assert_eq!(weekday_name(9), "sun");
    }

    #[test]
    fn channel_names_are_1_to_100_characters() {
        assert_eq!(channel_name("  ops ").unwrap(), "ops");
        assert!(channel_name(&"é".repeat(100)).is_ok());
        for bad in [String::new(), "   ".to_owned(), "x".repeat(101)] {
            assert_eq!(channel_name(&bad).unwrap_err().field, "name");
        }
    }

    #[test]
    fn delivery_pages_hold_1_to_500_lines() {
        assert_eq!(delivery_page_limit(None), Ok(50));
        assert_eq!(delivery_page_limit(Some(500)), Ok(500));
        assert_eq!(delivery_page_limit(Some(0)).unwrap_err().field, "limit");
        assert_eq!(delivery_page_limit(Some(501)).unwrap_err().value, "501");
    }

    #[test]
    fn history_defaults_to_a_month_back_and_a_year_ahead() {
        let now = Timestamp::from_unix_seconds(100 * 86_400);
        let (since, until) = history_range(now, None, None).unwrap();
        assert_eq!(since, now.plus_seconds(-30 * 86_400));
        assert_eq!(until, now.plus_seconds(366 * 86_400));
        assert_eq!(
            history_range(now, Some(now), Some(now)).unwrap(),
            (now, now)
        );
        let e = history_range(now, Some(now.plus_seconds(1)), Some(now)).unwrap_err();
        assert_eq!((e.field, e.rule.as_str()), ("since", "is after until"));
    }
}
