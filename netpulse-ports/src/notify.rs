//! Sending notifications through the channels people already use.
//!
//! A [`Notification`] is rendered once (subject, plain-text body) and carries the structured
//! context a machine-readable channel (the generic webhook) sends along. Each channel is a
//! [`Notifier`]; retries, quiet hours and the delivery log are the caller's business.

use std::collections::BTreeMap;

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl NotificationKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::Alert,
        Self::Recovery,
        Self::ProbeOffline,
        Self::ProbeBack,
        Self::Digest,
        Self::Test,
    ];

    /// The kind's name on the wire and in metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Alert => "alert",
            Self::Recovery => "recovery",
            Self::ProbeOffline => "probe_offline",
            Self::ProbeBack => "probe_back",
            Self::Digest => "digest",
            Self::Test => "test",
        }
    }

    /// Reads a kind name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// How urgent notifications of this kind are: alerts and probe-offline alerts are critical
    /// (they go through quiet hours), the rest is informational.
    pub const fn severity(self) -> Severity {
        match self {
            Self::Alert | Self::ProbeOffline => Severity::Critical,
            _ => Severity::Info,
        }
    }
}

/// How urgent a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Needs attention.
    Critical,
    /// Good to know.
    Info,
}

impl Severity {
    /// The name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Info => "info",
        }
    }

    /// Reads a severity name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "critical" => Some(Self::Critical),
            "info" => Some(Self::Info),
            _ => None,
        }
    }
}

/// A probe a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRef {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A connection a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRef {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The ISP as the user names it.
    pub isp: String,
}

/// The result that crossed an edge.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSummary {
    /// The measurement id.
    pub id: String,
    /// `completed` or `failed`.
    pub status: String,
    /// The verdict.
    pub healthy: bool,
    /// Thresholds breached (`download_below`, `test_failed`, …).
    pub breaches: Vec<String>,
    /// Download, bits/s.
    pub download_bps: Option<f64>,
    /// Upload, bits/s.
    pub upload_bps: Option<f64>,
    /// Ping, ms.
    pub ping_ms: Option<f64>,
    /// Jitter, ms.
    pub jitter_ms: Option<f64>,
    /// Packet loss, percent.
    pub packet_loss_percent: Option<f64>,
    /// Why the test failed.
    pub failure: Option<String>,
    /// When it completed.
    pub completed_at: Timestamp,
}

/// The incident an alert opens or a recovery closes, as incident tools see it: the same `key`
/// on the trigger and the resolve (the PagerDuty `dedup_key`, the Opsgenie `alias`, the
/// Alertmanager `incident` label), its severity and what raised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRef {
    /// Stable per incident: the incident id for connections, the check and family for service
    /// checks, the probe for probe-offline incidents.
    pub key: String,
    /// How urgent it is.
    pub severity: IncidentSeverity,
    /// What raised it.
    pub source: AlertSource,
    /// When it started (on a recovery: when the incident opened), if known.
    pub started_at: Option<Timestamp>,
    /// The probe's `site` label, if set.
    pub site: Option<String>,
    /// The service check it is about (`kind target[:port]`), for check incidents.
    pub check: Option<String>,
    /// The address family of a check incident (`IPv4`, `IPv6`).
    pub family: Option<String>,
}

/// One message, rendered once and sent to every channel.
#[derive(Debug, Clone, PartialEq)]
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
    /// The probe concerned.
    pub probe: Option<ProbeRef>,
    /// The connection concerned.
    pub connection: Option<ConnectionRef>,
    /// The result that crossed the edge.
    pub result: Option<ResultSummary>,
    /// A link to the result in NetPulse (needs the public URL to be configured).
    pub result_link: Option<String>,
    /// The tool's own share link of the result (e.g. speedtest.net).
    pub share_link: Option<String>,
    /// The incident an alert opens or a recovery closes (alerts, recoveries, probe events).
    pub incident: Option<IncidentRef>,
}

impl Notification {
    /// A notification of `kind` with the kind's severity and no context.
    pub fn new(
        kind: NotificationKind,
        subject: impl Into<String>,
        body: impl Into<String>,
        at: Timestamp,
    ) -> Self {
        Self {
            kind,
            severity: kind.severity(),
            subject: subject.into(),
            body: body.into(),
            at,
            probe: None,
            connection: None,
            result: None,
            result_link: None,
            share_link: None,
            incident: None,
        }
    }
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

impl NotifyError {
    /// Whether trying again later may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Rejected { retryable, .. } => *retryable,
            Self::Misconfigured { .. } => false,
        }
    }
}

/// Delivers notifications to one channel.
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// The channel's type (`email`, `webhook`, `ntfy`, …).
    fn channel(&self) -> &str;

    /// Sends one notification once (retries are the caller's business).
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// The types of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelKind {
    /// E-mail over SMTP.
    Email,
    /// A generic JSON webhook, optionally signed.
    Webhook,
    /// ntfy (ntfy.sh or self-hosted).
    Ntfy,
    /// Gotify.
    Gotify,
    /// A Discord webhook.
    Discord,
    /// A Slack incoming webhook.
    Slack,
    /// The Telegram bot API.
    Telegram,
    /// Prometheus Alertmanager (API v2).
    Alertmanager,
    /// PagerDuty Events API v2.
    Pagerduty,
    /// Opsgenie Alert API.
    Opsgenie,
}

impl ChannelKind {
    /// Every type.
    pub const ALL: [Self; 10] = [
        Self::Email,
        Self::Webhook,
        Self::Ntfy,
        Self::Gotify,
        Self::Discord,
        Self::Slack,
        Self::Telegram,
        Self::Alertmanager,
        Self::Pagerduty,
        Self::Opsgenie,
    ];

    /// The type's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
            Self::Ntfy => "ntfy",
            Self::Gotify => "gotify",
            Self::Discord => "discord",
            Self::Slack => "slack",
            Self::Telegram => "telegram",
            Self::Alertmanager => "alertmanager",
            Self::Pagerduty => "pagerduty",
            Self::Opsgenie => "opsgenie",
        }
    }

    /// Reads a type name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether the channel is an incident tool (it triggers and resolves incidents, so it takes
    /// alerts, recoveries and probe events but no digests).
    pub const fn is_incident_tool(self) -> bool {
        matches!(self, Self::Alertmanager | Self::Pagerduty | Self::Opsgenie)
    }
}

/// What a channel adapter is built from: its type, its plain options and its secrets (in clear,
/// only in memory). List options (e-mail recipients) hold one item per line.
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    /// The type.
    pub kind: ChannelKind,
    /// Plain settings (shown in the UI).
    pub options: BTreeMap<String, String>,
    /// Secret settings (never shown again once saved).
    pub secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("kind", &self.kind)
            .field("options", &self.options)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}
