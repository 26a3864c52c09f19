//! Contact lists (named groups of channels a connection or check routes its alerts to, with an
//! optional reminder interval and minimum severity) and the acknowledgement state of incidents.
//! Flux Notify's model: a severity-appropriate incident goes to a named contact list and is
//! re-sent until someone acknowledges it.

use crate::InvalidValue;
use crate::Timestamp;
use crate::incident_severity::IncidentSeverity;

/// The longest reminder interval, in minutes (one week).
pub const MAX_REMINDER_MINUTES: u32 = 7 * 24 * 60;
/// The longest list name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The validated settings of a contact list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactListRules {
    /// Its name (trimmed, 1–100 characters).
    pub name: String,
    /// Re-send an open, unacknowledged incident every so many minutes (`None`: never).
    pub reminder_minutes: Option<u32>,
    /// The least urgent severity the list receives (`None`: every severity).
    pub min_severity: Option<IncidentSeverity>,
}

impl ContactListRules {
    /// Validates a list's settings; errors name the field (`name`, `reminderMinutes`).
    pub fn new(
        name: &str,
        reminder_minutes: Option<u32>,
        min_severity: Option<IncidentSeverity>,
    ) -> Result<Self, InvalidValue> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(InvalidValue::new(
                "name",
                name,
                format!("must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        if let Some(m) = reminder_minutes
            && !(1..=MAX_REMINDER_MINUTES).contains(&m)
        {
            return Err(InvalidValue::new(
                "reminderMinutes",
                m,
                format!("must be 1 to {MAX_REMINDER_MINUTES} minutes (or null: no reminders)"),
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            reminder_minutes,
            min_severity,
        })
    }
}

/// Whether a list with minimum severity `min` receives an incident of `severity`: it gets
/// that severity and every more urgent one.
pub fn receives(min: Option<IncidentSeverity>, severity: IncidentSeverity) -> bool {
    // `IncidentSeverity` orders the most urgent first.
    min.is_none_or(|m| severity <= m)
}

/// Where an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentState {
    /// Alerted, not recovered, nobody acknowledged it: reminders go out.
    Open,
    /// Acknowledged, not recovered: no more reminders.
    Acked,
    /// Recovered.
    Resolved,
}

impl IncidentState {
    /// Every state.
    pub const ALL: [Self; 3] = [Self::Open, Self::Acked, Self::Resolved];

    /// The name (JSON, the `state` query parameter).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acked => "acked",
            Self::Resolved => "resolved",
        }
    }

    /// Reads a name; the error names `field`.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text.trim())
            .ok_or_else(|| InvalidValue::new(field, text, "must be one of open, acked, resolved"))
    }

    /// The state of an incident: recovered wins over acknowledged.
    pub const fn of(closed: bool, acknowledged: bool) -> Self {
        match (closed, acknowledged) {
            (true, _) => Self::Resolved,
            (false, true) => Self::Acked,
            (false, false) => Self::Open,
        }
    }
}

/// What acknowledging an incident does, given its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckDecision {
    /// Record the acknowledgement.
    Record,
    /// Already acknowledged: keep the first acknowledgement (acknowledging twice is harmless).
    Keep,
    /// Recovered already: nothing to acknowledge.
    Refuse,
}

/// Acknowledging an open incident records who and when; an acknowledged one keeps its first
/// acknowledgement; a resolved one cannot be acknowledged.
pub const fn ack_decision(state: IncidentState) -> AckDecision {
    match state {
        IncidentState::Open => AckDecision::Record,
        IncidentState::Acked => AckDecision::Keep,
        IncidentState::Resolved => AckDecision::Refuse,
    }
}

/// Whether an incident's reminder is due at `now`: it is open and announced, its list has an
/// interval, and an interval has passed since the last reminder (or since it opened). A server
/// that was down for several intervals sends one reminder, not one per missed interval.
pub fn reminder_due(
    state: IncidentState,
    announced: bool,
    reminder_minutes: Option<u32>,
    last: Timestamp,
    now: Timestamp,
) -> bool {
    match (state, announced, reminder_minutes) {
        (IncidentState::Open, true, Some(m)) => {
            now.unix_millis() >= last.unix_millis() + i64::from(m) * 60_000
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentSeverity::*;

    #[test]
    fn list_settings_are_validated_naming_the_field() {
        let ok = ContactListRules::new("  on-call ", Some(30), Some(High)).unwrap();
        assert_eq!(ok.name, "on-call");
        assert_eq!(
            ContactListRules::new(" ", None, None).unwrap_err().field,
            "name"
        );
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            ContactListRules::new(&long, None, None).unwrap_err().field,
            "name"
        );
        for bad in [0, MAX_REMINDER_MINUTES + 1] {
            let e = ContactListRules::new("a", Some(bad), None).unwrap_err();
            assert_eq!(e.field, "reminderMinutes");
        }
        assert!(ContactListRules::new("a", Some(MAX_REMINDER_MINUTES), None).is_ok());
    }

    #[test]
    fn a_minimum_severity_lets_through_that_severity_and_more_urgent_ones() {
        assert!(receives(None, Low));
        assert!(receives(Some(High), Critical));
        assert!(receives(Some(High), High));
        assert!(!receives(Some(High), Medium));
        assert!(!receives(Some(Critical), Low));
    }

    #[test]
    fn states_and_acknowledgement() {
        assert_eq!(IncidentState::of(false, false), IncidentState::Open);
        assert_eq!(IncidentState::of(false, true), IncidentState::Acked);
        assert_eq!(IncidentState::of(true, true), IncidentState::Resolved);
        assert_eq!(IncidentState::of(true, false), IncidentState::Resolved);
        for s in IncidentState::ALL {
            assert_eq!(IncidentState::parse("state", s.as_str()).unwrap(), s);
        }
        assert_eq!(
            IncidentState::parse("state", "closed").unwrap_err().field,
            "state"
        );
        assert_eq!(ack_decision(IncidentState::Open), AckDecision::Record);
        assert_eq!(ack_decision(IncidentState::Acked), AckDecision::Keep);
        assert_eq!(ack_decision(IncidentState::Resolved), AckDecision::Refuse);
    }

    #[test]
    fn reminders_come_once_an_interval_has_passed_and_only_while_open() {
        let t0 = Timestamp::from_unix_millis(1_000_000);
        let at = |min: i64| Timestamp::from_unix_millis(1_000_000 + min * 60_000);
        let open = IncidentState::Open;
        assert!(!reminder_due(open, true, Some(30), t0, at(29)));
        assert!(reminder_due(open, true, Some(30), t0, at(30)));
        assert!(reminder_due(open, true, Some(30), t0, at(95)));
        assert!(!reminder_due(open, true, None, t0, at(95)));
        assert!(!reminder_due(open, false, Some(30), t0, at(95)));
        assert!(!reminder_due(
            IncidentState::Acked,
            true,
            Some(30),
            t0,
            at(95)
        ));
        assert!(!reminder_due(
            IncidentState::Resolved,
            true,
            Some(30),
            t0,
            at(95)
        ));
    }
}
