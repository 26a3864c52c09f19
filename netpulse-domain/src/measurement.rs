//! What one speed test observed, independent of the engine that produced it.

use std::fmt;

use crate::error::InvalidValue;
use crate::time::Timestamp;

/// Why a test failed, so that dashboards and alerts can tell a broken configuration from a
/// broken line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// The tool could not read or fetch its configuration, or was given bad options.
    Configuration,
    /// No usable test server was found.
    NoServers,
    /// Sockets, DNS, refused or unreachable connections: the line itself.
    Network,
    /// The tool refused to run because its licence or GDPR terms were not accepted.
    Licence,
    /// The test did not finish in time and was stopped.
    Timeout,
    /// The tool's binary is not installed or cannot be executed.
    ToolMissing,
    /// The tool printed something that is not the output it documents.
    InvalidOutput,
    /// Anything else.
    Other,
}

impl FailureClass {
    /// Every class.
    pub const ALL: [Self; 8] = [
        Self::Configuration,
        Self::NoServers,
        Self::Network,
        Self::Licence,
        Self::Timeout,
        Self::ToolMissing,
        Self::InvalidOutput,
        Self::Other,
    ];

    /// The class's name on the wire and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Configuration => "configuration",
            Self::NoServers => "no_servers",
            Self::Network => "network",
            Self::Licence => "licence",
            Self::Timeout => "timeout",
            Self::ToolMissing => "tool_missing",
            Self::InvalidOutput => "invalid_output",
            Self::Other => "other",
        }
    }

    /// Reads a class name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| InvalidValue::new("failure_class", text, "is not a known failure class"))
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed test: its class and the tool's own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The class of the failure.
    pub class: FailureClass,
    /// The message, as the tool printed it (trimmed).
    pub message: String,
}

/// The test server as the tool reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// The tool's server id (Ookla's numeric id as text).
    pub id: Option<String>,
    /// The server's name or sponsor.
    pub name: Option<String>,
    /// The server's location.
    pub location: Option<String>,
    /// `host:port` (or host) of the server.
    pub host: Option<String>,
}

/// Everything a parser can read from one engine run. Every figure is optional: unknown stays
/// unknown (never 0), and an unknown figure never breaches a threshold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// `None` when the test completed; the failure otherwise.
    pub failure: Option<Failure>,
    /// Download throughput, bits per second.
    pub download_bps: Option<f64>,
    /// Upload throughput, bits per second.
    pub upload_bps: Option<f64>,
    /// Bytes received during the download phase.
    pub download_bytes: Option<u64>,
    /// Bytes sent during the upload phase.
    pub upload_bytes: Option<u64>,
    /// Idle latency, milliseconds.
    pub ping_ms: Option<f64>,
    /// Lowest idle latency sample, milliseconds.
    pub ping_low_ms: Option<f64>,
    /// Highest idle latency sample, milliseconds.
    pub ping_high_ms: Option<f64>,
    /// Idle jitter, milliseconds.
    pub jitter_ms: Option<f64>,
    /// Latency under download load (IQM where the tool gives it), milliseconds.
    pub download_latency_ms: Option<f64>,
    /// Latency under upload load (IQM where the tool gives it), milliseconds.
    pub upload_latency_ms: Option<f64>,
    /// Packet loss, percent (0–100); `None` when the tool could not measure it.
    pub packet_loss_percent: Option<f64>,
    /// The server the tool used.
    pub server: ServerInfo,
    /// The ISP the tool detected.
    pub isp: Option<String>,
    /// A link to the tool's own result page.
    pub result_url: Option<String>,
    /// When the tool says the test ran (it may be wrong; callers clamp it).
    pub tool_timestamp: Option<Timestamp>,
}

impl Observation {
    /// A failed observation with nothing else known.
    pub fn failed(class: FailureClass, message: impl Into<String>) -> Self {
        Self {
            failure: Some(Failure {
                class,
                message: message.into(),
            }),
            ..Self::default()
        }
    }

    /// Whether the test completed.
    pub fn completed(&self) -> bool {
        self.failure.is_none()
    }
}
