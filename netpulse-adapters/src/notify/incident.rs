//! What the incident-tool channels (Alertmanager, PagerDuty, Opsgenie) share: which action a
//! notification is for them, and its incident.

use netpulse_ports::notify::{IncidentRef, Notification, NotificationKind, NotifyError};

/// What an incident tool does with a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Open (or refresh) the incident.
    Trigger,
    /// Close it.
    Resolve,
    /// A test from the settings page: open and close a throw-away incident.
    Test,
}

/// The action for `n`, or an error for kinds an incident tool does not take (digests).
pub(crate) fn action(channel: &str, n: &Notification) -> Result<Action, NotifyError> {
    match n.kind {
        NotificationKind::Alert | NotificationKind::ProbeOffline => Ok(Action::Trigger),
        NotificationKind::Recovery | NotificationKind::ProbeBack => Ok(Action::Resolve),
        NotificationKind::Test => Ok(Action::Test),
        NotificationKind::Digest => Err(NotifyError::Misconfigured {
            channel: channel.to_owned(),
            message: "an incident tool takes alerts, recoveries and probe events, not digests \
                      (unsubscribe the channel from digest)"
                .into(),
        }),
    }
}

/// The incident of an alert or recovery.
pub(crate) fn of<'n>(channel: &str, n: &'n Notification) -> Result<&'n IncidentRef, NotifyError> {
    n.incident
        .as_ref()
        .ok_or_else(|| NotifyError::Misconfigured {
            channel: channel.to_owned(),
            message: "the notification carries no incident (it was queued by an older version)"
                .into(),
        })
}

/// The key of a test incident (unique per test message).
pub(crate) fn test_key(n: &Notification) -> String {
    format!("netpulse-test-{}", n.at.unix_millis())
}

/// Percent-encodes a path segment (everything but unreserved characters).
pub(crate) fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(super::path_segment("a-b_c.d~1"), "a-b_c.d~1");
        assert_eq!(super::path_segment("a/b c?"), "a%2Fb%20c%3F");
    }
}
