//! Maintenance of a probe (wave2-specs §4, state 1): scheduled windows and a manual switch.
//!
//! A window is `[starts_at, ends_at)`; a window without an end lasts until it is switched off.
//! The manual switch is a window too: switching on opens one at `now` (with an optional end),
//! switching off ends every window active at `now` (setting its end to `now`). So "is this probe
//! in maintenance at `t`" has one answer for both ([`ProbeMaintenance::active_at`]), for past
//! times as well as for now — which is what outages and baselines need to exclude the time.

use crate::error::InvalidValue;
use crate::id::ProbeId;
use crate::time::Timestamp;

/// The longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// One maintenance window of a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeMaintenance {
    /// Its id (a UUID).
    pub id: String,
    /// The probe.
    pub probe_id: ProbeId,
    /// When it starts.
    pub starts_at: Timestamp,
    /// When it ends (exclusive); `None` until switched off.
    pub ends_at: Option<Timestamp>,
    /// Why (shown on the fleet page).
    pub reason: String,
    /// Opened by the manual switch rather than scheduled.
    pub manual: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

impl ProbeMaintenance {
    /// Whether the window covers `at`.
    pub fn active_at(&self, at: Timestamp) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|end| at < end)
    }
}

/// Checks a window's times and reason: it must end after it starts, and the reason is at most
/// [`MAX_REASON_CHARS`] characters. Returns the trimmed reason.
pub fn validate(
    starts_at: Timestamp,
    ends_at: Option<Timestamp>,
    reason: &str,
) -> Result<String, InvalidValue> {
    if let Some(end) = ends_at
        && end <= starts_at
    {
        return Err(InvalidValue::new(
            "endsAt",
            end.to_rfc3339(),
            "must be after startsAt",
        ));
    }
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(InvalidValue::new(
            "reason",
            reason,
            "must be at most 200 characters",
        ));
    }
    Ok(reason.to_owned())
}

/// Whether any of `windows` covers `at`.
pub fn in_maintenance(windows: &[ProbeMaintenance], at: Timestamp) -> bool {
    windows.iter().any(|w| w.active_at(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: i64, end: Option<i64>) -> ProbeMaintenance {
        ProbeMaintenance {
            id: "w".into(),
            probe_id: ProbeId::parse("00000000-0000-4000-8000-000000000001").unwrap(),
            starts_at: Timestamp::from_unix_seconds(start),
            ends_at: end.map(Timestamp::from_unix_seconds),
            reason: String::new(),
            manual: false,
            created_at: Timestamp::from_unix_seconds(0),
        }
    }

    #[test]
    fn a_window_covers_its_start_but_not_its_end() {
        let w = window(100, Some(200));
        let at = Timestamp::from_unix_seconds;
        assert!(!w.active_at(at(99)));
        assert!(w.active_at(at(100)));
        assert!(w.active_at(at(199)));
        assert!(!w.active_at(at(200)));
        let open = window(100, None);
        assert!(open.active_at(at(1_000_000)));
        assert!(in_maintenance(&[w.clone(), open], at(500)));
        assert!(!in_maintenance(&[w], at(500)));
    }

    #[test]
    fn a_window_must_end_after_it_starts_and_the_reason_is_short() {
        let t = Timestamp::from_unix_seconds;
        assert_eq!(validate(t(1), Some(t(2)), "  upgrade ").unwrap(), "upgrade");
        assert_eq!(validate(t(1), None, "").unwrap(), "");
        assert_eq!(validate(t(2), Some(t(2)), "").unwrap_err().field, "endsAt");
        let long = "x".repeat(201);
        assert_eq!(validate(t(1), None, &long).unwrap_err().field, "reason");
    }
}
