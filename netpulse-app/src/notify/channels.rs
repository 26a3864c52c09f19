//! Channels as the engine sees them: opening and sealing their secrets, redacting secrets from
//! errors, the kinds a channel receives by default, and test messages.

use std::collections::BTreeMap;

use netpulse_adapters::notify::build;
use netpulse_ports::notification_store::StoredChannel;
use netpulse_ports::notify::{ChannelConfig, ChannelKind, NotificationKind};

use super::{Notifications, SEND_TIMEOUT, render};

/// The result of a channel's test message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// Whether it was delivered.
    pub sent: bool,
    /// The (redacted) error.
    pub error: Option<String>,
}

/// Replaces every secret value in `text` with `[redacted]`.
pub fn redact(text: &str, secrets: &BTreeMap<String, String>) -> String {
    let mut out = text.to_owned();
    for value in secrets.values().filter(|v| v.len() >= 4) {
        out = out.replace(value.as_str(), "[redacted]");
    }
    out
}

/// Kinds a channel receives unless told otherwise: everything but tests.
pub fn default_events() -> Vec<NotificationKind> {
    NotificationKind::ALL
        .into_iter()
        .filter(|k| *k != NotificationKind::Test)
        .collect()
}

/// Kinds a channel of `kind` receives unless told otherwise: incident tools take no digests.
pub fn default_events_for(kind: ChannelKind) -> Vec<NotificationKind> {
    default_events()
        .into_iter()
        .filter(|k| !(kind.is_incident_tool() && *k == NotificationKind::Digest))
        .collect()
}

impl Notifications {
    /// Opens a channel's secrets.
    pub fn config_of(&self, channel: &StoredChannel) -> Result<ChannelConfig, String> {
        let secrets = match &channel.sealed_secrets {
            None => BTreeMap::new(),
            Some(sealed) => {
                let plain = self
                    .secrets
                    .open(sealed, &channel.id)
                    .map_err(|e| e.to_string())?;
                serde_json::from_slice(&plain)
                    .map_err(|_| "the stored secrets are unreadable".to_owned())?
            }
        };
        Ok(ChannelConfig {
            kind: channel.kind,
            options: channel.options.clone(),
            secrets,
        })
    }

    /// Seals secrets for a channel.
    pub fn seal(&self, channel_id: &str, secrets: &BTreeMap<String, String>) -> Option<String> {
        (!secrets.is_empty()).then(|| {
            let json = serde_json::to_vec(secrets).unwrap_or_default();
            self.secrets.seal(&json, channel_id)
        })
    }

    /// Sends a channel's test message now (ignores the master switch, quiet hours and event
    /// filter; not logged or counted).
    pub async fn send_test(&self, channel: &StoredChannel) -> TestOutcome {
        let n = render::test(&channel.name, self.clock.now());
        let config = match self.config_of(channel) {
            Ok(c) => c,
            Err(e) => {
                return TestOutcome {
                    sent: false,
                    error: Some(e),
                };
            }
        };
        let result = match build(&config, &self.http) {
            Err(e) => Err(e.to_string()),
            Ok(notifier) => match tokio::time::timeout(SEND_TIMEOUT, notifier.send(&n)).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err("timed out".to_owned()),
            },
        };
        match result {
            Ok(()) => TestOutcome {
                sent: true,
                error: None,
            },
            Err(e) => TestOutcome {
                sent: false,
                error: Some(redact(&e, &config.secrets)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_errors() {
        let secrets = BTreeMap::from([
            ("token".to_owned(), "abc123".to_owned()),
            ("x".to_owned(), "ab".to_owned()),
        ]);
        assert_eq!(
            redact("bad token abc123 at ab", &secrets),
            "bad token [redacted] at ab"
        );
    }
}
