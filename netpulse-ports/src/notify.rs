//! Sending notifications through the channels people already use.

use async_trait::async_trait;
use netpulse_domain::Timestamp;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// A link went bad.
    Alert,
    /// A link is back.
    Recovery,
    /// A probe stopped polling.
    ProbeOffline,
    /// A probe polls again.
    ProbeBack,
    /// A periodic summary.
    Digest,
    /// A test message from the settings page.
    Test,
}

/// How urgent a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Needs attention.
    Critical,
    /// Good to know.
    Info,
}

/// One message, rendered once and sent to every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// What it is about.
    pub kind: NotificationKind,
    /// How urgent it is.
    pub severity: Severity,
    /// A one-line subject.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// When the event happened.
    pub at: Timestamp,
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The receiver could not be reached; worth retrying.
    #[error("could not reach {channel}: {message}")]
    Unreachable {
        /// The channel.
        channel: String,
        /// What happened.
        message: String,
    },
    /// The receiver answered with an error; retrying may help (5xx) or not (4xx).
    #[error("{channel} answered {status}: {message}")]
    Rejected {
        /// The channel.
        channel: String,
        /// The status code (HTTP or SMTP).
        status: u16,
        /// The receiver's message.
        message: String,
        /// Whether a retry may succeed.
        retryable: bool,
    },
    /// The channel's settings are unusable.
    #[error("{channel} is misconfigured: {message}")]
    Misconfigured {
        /// The channel.
        channel: String,
        /// What is wrong.
        message: String,
    },
}

/// Delivers notifications to one channel.
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// The channel's name (`email`, `webhook`, `ntfy`, …).
    fn channel(&self) -> &str;

    /// Sends one notification once (retries are the caller's business).
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError>;
}
