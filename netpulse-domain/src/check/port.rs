//! TCP and UDP port states and what they mean for a check's outcome.
//!
//! TCP: `open` is ok; `closed` (RST) fails as `refused`, `filtered` (silence) as `timeout`,
//! `unreachable` (an ICMP error) as `unreachable`; `no_route` (no local route for the family)
//! is `not_applicable`.
//!
//! UDP (nmap's states): `open` (a reply) is ok; `closed` (ICMP port unreachable) fails as
//! `refused`; `unreachable` as `unreachable`; `open_filtered` (silence) fails as `timeout` when
//! the payload should have drawn a reply (the `dns` and `ntp` presets) and is ok but degraded
//! ("unverified") for a raw payload.

use super::{FailureClass, Outcome, PortState};

/// What a port state means: `(outcome, failure class, degraded)`.
pub fn judge(state: PortState, expects_reply: bool) -> (Outcome, Option<FailureClass>, bool) {
    match state {
        PortState::Open => (Outcome::Ok, None, false),
        PortState::Closed => (Outcome::Fail, Some(FailureClass::Refused), false),
        PortState::Filtered => (Outcome::Fail, Some(FailureClass::Timeout), false),
        PortState::Unreachable => (Outcome::Fail, Some(FailureClass::Unreachable), false),
        PortState::NoRoute => (Outcome::NotApplicable, Some(FailureClass::NoRoute), false),
        PortState::OpenFiltered if expects_reply => {
            (Outcome::Fail, Some(FailureClass::Timeout), false)
        }
        PortState::OpenFiltered => (Outcome::Ok, None, true),
    }
}

/// A one-line description of a state for a result's message.
pub fn describe(state: PortState, timeout_ms: u32) -> String {
    match state {
        PortState::Open => "open".to_owned(),
        PortState::Closed => "closed (connection refused / port unreachable)".to_owned(),
        PortState::Filtered => format!("filtered (no answer within {timeout_ms} ms)"),
        PortState::OpenFiltered => {
            format!("open|filtered (no reply within {timeout_ms} ms; unverified)")
        }
        PortState::Unreachable => "unreachable (ICMP destination unreachable)".to_owned(),
        PortState::NoRoute => "no route to the target for this family".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_states_map_to_outcomes() {
        assert_eq!(judge(PortState::Open, true), (Outcome::Ok, None, false));
        assert_eq!(
            judge(PortState::Closed, true),
            (Outcome::Fail, Some(FailureClass::Refused), false)
        );
        assert_eq!(
            judge(PortState::Filtered, true),
            (Outcome::Fail, Some(FailureClass::Timeout), false)
        );
        assert_eq!(
            judge(PortState::Unreachable, true),
            (Outcome::Fail, Some(FailureClass::Unreachable), false)
        );
        assert_eq!(
            judge(PortState::NoRoute, true),
            (Outcome::NotApplicable, Some(FailureClass::NoRoute), false)
        );
    }

    #[test]
    fn udp_silence_fails_only_when_a_reply_was_expected() {
        assert_eq!(
            judge(PortState::OpenFiltered, true),
            (Outcome::Fail, Some(FailureClass::Timeout), false)
        );
        assert_eq!(
            judge(PortState::OpenFiltered, false),
            (Outcome::Ok, None, true)
        );
        assert_eq!(
            judge(PortState::Closed, false),
            (Outcome::Fail, Some(FailureClass::Refused), false),
            "closed fails even for a raw payload"
        );
        assert!(describe(PortState::OpenFiltered, 2000).contains("unverified"));
    }
}
