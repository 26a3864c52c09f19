//! The Ookla Speedtest CLI, `speedtest --format=json` (or `json-pretty`).
//!
//! # Finding the result
//!
//! stdout is read as one JSON document first; otherwise every balanced top-level `{...}`
//! object in it is taken (one record per line, or pretty-printed records after text such as
//! the licence banner and `License acceptance recorded. Continuing.`). The record whose `type`
//! is `result` is the result; when it has `download.bandwidth`, `upload.bandwidth` and
//! `ping.latency` it is *complete* and wins over everything else, including error records on
//! stderr and agent markers. A result without one of those three is a failure of class
//! `InvalidOutput` (unless an error record explains the run better).
//!
//! | Observation | Ookla field |
//! |---|---|
//! | `download_bps`, `upload_bps` | `download.bandwidth`, `upload.bandwidth` (bytes/s) × 8 |
//! | `download_bytes`, `upload_bytes` | `download.bytes`, `upload.bytes` |
//! | `ping_ms`, `ping_low_ms`, `ping_high_ms`, `jitter_ms` | `ping.latency`, `ping.low`, `ping.high`, `ping.jitter` |
//! | `download_latency_ms`, `upload_latency_ms` | `download.latency.iqm`, `upload.latency.iqm` (CLI ≥ 1.2) |
//! | `packet_loss_percent` | `packetLoss` (a percentage; absent when the server cannot measure it) |
//! | `isp` | `isp` |
//! | `server` | `server.id` (number → text), `server.name`, `server.location`, `server.host` + `:` + `server.port` |
//! | `result_url` | `result.url` |
//! | `tool_timestamp` | `timestamp` (RFC 3339) |
//!
//! Empty text fields (`""`) are unknown. Fields missing before CLI 1.2 (`ping.low/high`,
//! per-direction `latency`) stay `None`.
//!
//! # Failures
//!
//! Without a complete result, and after agent markers (see [`super`]), the parser looks for:
//!
//! 1. the licence/GDPR banner: a line containing `please run speedtest interactively`
//!    (message: that line plus the suggested `speedtest --accept-…` command), or the banner
//!    text (EULA links, `--accept-license`, `--accept-gdpr`) with no JSON and no
//!    `License acceptance recorded`;
//! 2. error records, on stdout and stderr: `{"type":"log","level":"error","message":…}` (any
//!    record at level `error` or `critical`), any object with an `error` key (the bare `{"error":"…"}` of CLI 1.2, or
//!    `{"type":"error","error":…}`), and bracketed text lines
//!    `[2023-01-01 00:00:00.000] [error] …` (level `error` or `critical`).
//!
//! Each error message is classified with [`classify_message`] (first matching row wins,
//! case-insensitive substring tests):
//!
//! | message contains | class | examples |
//! |---|---|---|
//! | `run speedtest interactively`, `--accept-license`, `--accept-gdpr`, `license agreement` | `Licence` | the banner |
//! | `NoServers`, `no servers`, `failed to find a working test server`, `no server found`, `no matching server` | `NoServers` | `Server Selection - Failed to find a working test server. (NoServers)`, `Configuration - No servers defined (NoServersException)` |
//! | socket, DNS and connection words (`cannot open socket`, `resolve host`, `HostNotFound`, `connection refused`/`reset`/`timed out`, `no route to host`, `network is unreachable`, `unable to connect`, `timed out`, `timeout` + `connect`, …) | `Network` | `Cannot open socket`, `Error: [0] Cannot open socket:`, `Configuration - Couldn't resolve host name (HostNotFoundException)`, `Timeout occurred in connect.` |
//! | starts with `Configuration` / contains `Configuration -` or `ConfigurationError` | `Configuration` | `Configuration - Could not retrieve or read configuration (ConfigurationError)` |
//! | starts with `Server Selection` | `NoServers` | other server-selection errors |
//! | anything else | `Other` | |
//!
//! The CLI prefixes every failure of its configuration phase with `Configuration - `, also
//! when the cause is the line (DNS down, sockets failing): network words therefore win over the
//! prefix. The JSON record alone of a DNS outage (`Configuration - Could not retrieve or read
//! configuration (ConfigurationError)`) is `Configuration` — the configuration could not be
//! fetched — but when the bracketed lines of the same run show the cause (`Couldn't resolve
//! host name (HostNotFoundException)`), the run is `Network`.
//!
//! When several error messages are present, the most specific class wins (`Licence` >
//! `NoServers` > `Network` > `Configuration` > `Other`), then a JSON record over a text line,
//! then the later message. The message kept is the tool's own, trimmed. The harmless
//! `Trying to get interface information on non-initialized socket.` line, which the CLI also
//! prints before successful runs, is ignored. A failed observation keeps the `server`, `isp`
//! and `timestamp` its error record carries.

use netpulse_domain::Timestamp;
use netpulse_domain::measurement::{Failure, FailureClass, Observation, ServerInfo};
use netpulse_domain::model::RawOutput;
use serde_json::Value;

use super::{
    agent_marker, count_at, host_port, json_objects, looks_like_network, marker_observation,
    number_at, tail, text_at, unrecognised,
};

/// Parses one run of the Ookla CLI.
pub fn parse(raw: &RawOutput) -> Observation {
    let stdout_objects = json_objects(&raw.stdout);
    let mut incomplete = None;
    for record in stdout_objects.iter().rev().filter(|o| is_type(o, "result")) {
        let observation = read_result(record);
        if observation.completed() {
            return observation;
        }
        incomplete.get_or_insert(observation);
    }
    if let Some(failure) = agent_marker(&raw.stderr) {
        return marker_observation(failure);
    }
    if let Some(message) = licence_message(raw, stdout_objects.is_empty()) {
        return Observation::failed(FailureClass::Licence, message);
    }
    let stderr_objects = json_objects(&raw.stderr);
    if let Some(observation) = error_observation(&stdout_objects, &stderr_objects, raw) {
        return observation;
    }
    if let Some(observation) = incomplete {
        return observation;
    }
    unrecognised("speedtest", "result record", raw)
}

/// The failure class of one Ookla error message (see the table in the module documentation).
pub fn classify_message(message: &str) -> FailureClass {
    let m = message.trim().to_lowercase();
    const LICENCE: [&str; 4] = [
        "run speedtest interactively",
        "--accept-license",
        "--accept-gdpr",
        "license agreement",
    ];
    const NO_SERVERS: [&str; 5] = [
        "noservers",
        "no servers",
        "failed to find a working test server",
        "no server found",
        "no matching server",
    ];
    if LICENCE.iter().any(|w| m.contains(w)) {
        FailureClass::Licence
    } else if NO_SERVERS.iter().any(|w| m.contains(w)) {
        FailureClass::NoServers
    } else if looks_like_network(&m) {
        FailureClass::Network
    } else if m.starts_with("configuration")
        || m.contains("configuration -")
        || m.contains("configurationerror")
    {
        FailureClass::Configuration
    } else if m.starts_with("server selection") {
        FailureClass::NoServers
    } else {
        FailureClass::Other
    }
}

fn is_type(record: &Value, kind: &str) -> bool {
    record.get("type").and_then(Value::as_str) == Some(kind)
}

/// The server an Ookla record names.
fn server_info(record: &Value) -> ServerInfo {
    ServerInfo {
        id: text_at(record, &["server", "id"]),
        name: text_at(record, &["server", "name"]),
        location: text_at(record, &["server", "location"]),
        host: host_port(
            text_at(record, &["server", "host"]),
            text_at(record, &["server", "port"]),
        ),
    }
}

fn timestamp(record: &Value) -> Option<Timestamp> {
    record
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse_rfc3339(t).ok())
}

/// A result record: the observation when complete, an `InvalidOutput` one (with the metadata)
/// when not.
fn read_result(record: &Value) -> Observation {
    let mut observation = Observation {
        server: server_info(record),
        isp: text_at(record, &["isp"]),
        result_url: text_at(record, &["result", "url"]),
        tool_timestamp: timestamp(record),
        ..Observation::default()
    };
    let download = number_at(record, &["download", "bandwidth"]);
    let upload = number_at(record, &["upload", "bandwidth"]);
    let ping = number_at(record, &["ping", "latency"]);
    let missing: Vec<&str> = [
        ("download.bandwidth", download.is_none()),
        ("upload.bandwidth", upload.is_none()),
        ("ping.latency", ping.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, missing)| missing.then_some(name))
    .collect();
    if !missing.is_empty() {
        observation.failure = Some(Failure {
            class: FailureClass::InvalidOutput,
            message: format!(
                "the speedtest result record lacks {} (a number)",
                missing.join(", ")
            ),
        });
        return observation;
    }
    observation.download_bps = download.map(|b| b * 8.0);
    observation.upload_bps = upload.map(|b| b * 8.0);
    observation.download_bytes = count_at(record, &["download", "bytes"]);
    observation.upload_bytes = count_at(record, &["upload", "bytes"]);
    observation.ping_ms = ping;
    observation.ping_low_ms = number_at(record, &["ping", "low"]);
    observation.ping_high_ms = number_at(record, &["ping", "high"]);
    observation.jitter_ms = number_at(record, &["ping", "jitter"]);
    observation.download_latency_ms = number_at(record, &["download", "latency", "iqm"]);
    observation.upload_latency_ms = number_at(record, &["upload", "latency", "iqm"]);
    observation.packet_loss_percent = number_at(record, &["packetLoss"]).filter(|p| *p <= 100.0);
    observation
}

/// The licence/GDPR banner's message, when the run stopped at it.
fn licence_message(raw: &RawOutput, no_json: bool) -> Option<String> {
    for text in [&raw.stdout, &raw.stderr] {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let Some(i) = lines
            .iter()
            .position(|l| l.to_lowercase().contains("run speedtest interactively"))
        else {
            continue;
        };
        let mut message = lines[i].to_owned();
        if let Some(next) = lines.iter().skip(i + 1).find(|l| !l.is_empty())
            && next.starts_with("speedtest ")
        {
            message.push(' ');
            message.push_str(next);
        }
        return Some(message);
    }
    let all = format!("{}\n{}", raw.stdout, raw.stderr).to_lowercase();
    let banner = [
        "end user license agreement",
        "speedtest.net/about/eula",
        "--accept-license",
        "--accept-gdpr",
    ]
    .iter()
    .any(|w| all.contains(w));
    (no_json && banner && !all.contains("acceptance recorded")).then(|| {
        format!(
            "speedtest printed its licence/GDPR banner and no result: {}",
            tail(&raw.stdout, 200)
        )
    })
}

/// One error message found in the output.
struct Candidate<'a> {
    class: FailureClass,
    message: String,
    /// The JSON record it came from (for server, isp and timestamp).
    record: Option<&'a Value>,
}

fn rank(class: FailureClass) -> u8 {
    match class {
        FailureClass::Licence => 5,
        FailureClass::NoServers => 4,
        FailureClass::Network => 3,
        FailureClass::Configuration => 2,
        _ => 1,
    }
}

/// Lines the CLI prints at error level before successful runs too.
fn is_noise(message: &str) -> bool {
    message
        .to_lowercase()
        .contains("interface information on non-initialized socket")
}

/// The error message of a JSON record, if it is an error record.
fn record_error(record: &Value) -> Option<String> {
    if let Some(error) = record.get("error").filter(|e| !e.is_null()) {
        return Some(match error {
            Value::String(s) => s.trim().to_owned(),
            Value::Object(_) => text_at(error, &["message"]).unwrap_or_else(|| error.to_string()),
            other => other.to_string(),
        });
    }
    let level = record.get("level").and_then(Value::as_str).unwrap_or("");
    let error_level = level.eq_ignore_ascii_case("error") || level.eq_ignore_ascii_case("critical");
    if (error_level && !is_type(record, "result")) || is_type(record, "error") {
        return Some(text_at(record, &["message"]).unwrap_or_default());
    }
    None
}

/// The message of a bracketed error line: `[2023-01-01 00:00:00.000] [error] message`.
fn bracketed_error(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix('[')?;
    let (_, rest) = rest.split_once(']')?;
    let rest = rest.trim_start().strip_prefix('[')?;
    let (level, message) = rest.split_once(']')?;
    let level = level.trim();
    (level.eq_ignore_ascii_case("error") || level.eq_ignore_ascii_case("critical"))
        .then(|| message.trim())
}

/// The failure the error records and lines describe, if there are any.
fn error_observation(
    stdout_objects: &[Value],
    stderr_objects: &[Value],
    raw: &RawOutput,
) -> Option<Observation> {
    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    for record in stdout_objects.iter().chain(stderr_objects) {
        if let Some(message) = record_error(record) {
            candidates.push(Candidate {
                class: classify_message(&message),
                message,
                record: Some(record),
            });
        }
    }
    for line in raw.stdout.lines().chain(raw.stderr.lines()) {
        if let Some(message) = bracketed_error(line) {
            candidates.push(Candidate {
                class: classify_message(message),
                message: message.to_owned(),
                record: None,
            });
        }
    }
    let best = candidates
        .into_iter()
        .filter(|c| !is_noise(&c.message))
        .enumerate()
        .max_by_key(|(i, c)| (rank(c.class), c.record.is_some(), *i))
        .map(|(_, c)| c)?;
    let message = if best.message.is_empty() {
        "speedtest reported an error without a message".to_owned()
    } else {
        best.message
    };
    let mut observation = Observation::failed(best.class, message);
    if let Some(record) = best.record {
        observation.server = server_info(record);
        observation.isp = text_at(record, &["isp"]);
        observation.tool_timestamp = timestamp(record);
        observation.result_url = text_at(record, &["result", "url"]);
    }
    Some(observation)
}

#[cfg(test)]
#[path = "ookla_tests.rs"]
mod tests;
