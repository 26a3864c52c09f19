//! Speed-test engines as the agent drives them.
//!
//! A runner never interprets results: it runs the tool and returns exactly what it printed.
//! The server parses. Problems the agent itself detects (a missing binary, a timeout) are
//! reported as a line on stderr that starts with [`AGENT_MARKER`], followed by a class and a
//! message, e.g. `netpulse-agent: timeout: speedtest did not finish within 120 s`.

use std::time::Duration;

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::model::RawOutput;
use netpulse_domain::pool::{Engine, PoolEntry};

/// Prefix of the stderr line an agent writes when it, not the tool, saw the failure.
pub const AGENT_MARKER: &str = "netpulse-agent: ";

/// The classes an agent marker line can carry (`netpulse-agent: <class>: <message>`).
pub const AGENT_MARKER_CLASSES: [&str; 5] = [
    "timeout",
    "tool-missing",
    "configuration",
    "network",
    "error",
];

/// One test to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRequest {
    /// The pool entry (server) to test against; `None` lets the tool choose.
    pub pool_entry: Option<PoolEntry>,
    /// The network interface to leave through, if the connection names one.
    pub source_interface: Option<String>,
    /// The source address to bind, if the connection names one.
    pub source_address: Option<String>,
    /// How long the test may take before it is stopped.
    pub timeout: Duration,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// When the tool was started.
    pub started_at: Timestamp,
    /// When it finished (or was stopped).
    pub finished_at: Timestamp,
    /// Its exit status and output, with any agent marker line appended to stderr.
    pub raw: RawOutput,
}

/// Runs one engine.
#[async_trait]
pub trait SpeedtestRunner: Send + Sync + std::fmt::Debug {
    /// The engine this runner drives.
    fn engine(&self) -> Engine;

    /// Whether the engine can run here (e.g. its binary is on the path).
    async fn available(&self) -> bool;

    /// Runs one test. Failures of any kind are part of the output, never an error: a failed
    /// test is still a result to push.
    async fn run(&self, request: &TestRequest) -> RunOutput;
}
