//! Speed-test runners: one [`SpeedtestRunner`](netpulse_ports::runner::SpeedtestRunner) per
//! engine, used by the agent.
//!
//! | feature | runner | engine |
//! |---|---|---|
//! | `ookla` | `ookla::OoklaRunner` | the Ookla Speedtest CLI (`speedtest --format=json`) |
//! | `iperf3` | `iperf3::Iperf3Runner` | `iperf3 -c … -J` against an iperf3 server |
//! | `http-engine` | `http::HttpRunner` | the built-in HTTP engine (no external tool) |
//!
//! Runners never interpret results: the external tools' stdout, stderr and exit status are
//! returned verbatim (the server parses them). When the agent itself detects a failure (the
//! binary is missing, the run timed out, the pool entry is unusable) it appends a marker line
//! `netpulse-agent: <class>: <message>` to stderr, see [`marker_line`]. The HTTP engine is its
//! own tool: it prints a JSON report whose `error` member carries its failures.

use netpulse_domain::Timestamp;
use netpulse_domain::model::RawOutput;
use netpulse_ports::runner::{AGENT_MARKER, RunOutput};

#[cfg(feature = "http-engine")]
pub mod http;
#[cfg(feature = "iperf3")]
pub mod iperf3;
#[cfg(feature = "ookla")]
pub mod ookla;
#[cfg(feature = "process")]
pub mod process;

/// The class of an agent marker line (one of
/// [`AGENT_MARKER_CLASSES`](netpulse_ports::runner::AGENT_MARKER_CLASSES)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkerClass {
    /// The run did not finish in time and was stopped.
    Timeout,
    /// The engine's binary could not be found or executed.
    ToolMissing,
    /// The request cannot be run as given (bad pool entry, unsupported option).
    Configuration,
    /// A network problem the agent saw itself.
    Network,
    /// Anything else.
    Error,
}

impl MarkerClass {
    /// The class as written in the marker line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::ToolMissing => "tool-missing",
            Self::Configuration => "configuration",
            Self::Network => "network",
            Self::Error => "error",
        }
    }
}

/// The stderr line (with its trailing newline) that reports a failure the agent detected:
/// `netpulse-agent: <class>: <message>`. Line breaks in `message` become spaces so that the
/// marker stays one line.
pub fn marker_line(class: MarkerClass, message: &str) -> String {
    let message: String = message
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    format!("{AGENT_MARKER}{}: {}\n", class.as_str(), message.trim())
}

/// Appends a marker line to captured stderr, starting it on a new line.
pub fn append_marker(stderr: &mut String, class: MarkerClass, message: &str) {
    if !stderr.is_empty() && !stderr.ends_with('\n') {
        stderr.push('\n');
    }
    stderr.push_str(&marker_line(class, message));
}

/// The output of a run that never started a process: no exit status, no stdout, and a marker
/// line on stderr.
pub fn not_started(at: Timestamp, class: MarkerClass, message: &str) -> RunOutput {
    RunOutput {
        started_at: at,
        finished_at: at,
        raw: RawOutput {
            exit_code: None,
            stdout: String::new(),
            stderr: marker_line(class, message),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpulse_ports::runner::AGENT_MARKER_CLASSES;

    #[test]
    fn marker_classes_are_the_ports_classes() {
        let ours = [
            MarkerClass::Timeout,
            MarkerClass::ToolMissing,
            MarkerClass::Configuration,
            MarkerClass::Network,
            MarkerClass::Error,
        ]
        .map(MarkerClass::as_str);
        assert_eq!(ours, AGENT_MARKER_CLASSES);
    }

    #[test]
    fn marker_lines_are_single_lines_appended_on_their_own_line() {
        assert_eq!(
            marker_line(MarkerClass::Timeout, "took\ntoo long "),
            "netpulse-agent: timeout: took too long\n"
        );
        let mut stderr = String::from("partial");
        append_marker(&mut stderr, MarkerClass::Error, "boom");
        assert_eq!(stderr, "partial\nnetpulse-agent: error: boom\n");
        let mut empty = String::new();
        append_marker(&mut empty, MarkerClass::Network, "down");
        assert_eq!(empty, "netpulse-agent: network: down\n");
    }
}
