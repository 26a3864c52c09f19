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
mod tests {
    use super::*;
    use crate::parse::test_support::{close, failure, fixture, raw};

    #[test]
    fn cli12_hannover() {
        let text = fixture("ookla", "cli1.2-json-pretty-de-hannover-anonymized.json");
        let obs = parse(&raw(Some(0), &text, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 931_564_032.0);
        close(obs.upload_bps, 49_451_800.0);
        assert_eq!(obs.download_bytes, Some(1_101_191_686));
        assert_eq!(obs.upload_bytes, Some(40_116_304));
        close(obs.ping_ms, 17.148);
        close(obs.ping_low_ms, 16.073);
        close(obs.ping_high_ms, 17.519);
        close(obs.jitter_ms, 0.629);
        close(obs.download_latency_ms, 180.912);
        close(obs.upload_latency_ms, 13.338);
        assert_eq!(obs.packet_loss_percent, Some(0.0));
        assert_eq!(obs.isp.as_deref(), Some("Some ISP"));
        assert_eq!(
            obs.server,
            ServerInfo {
                id: Some("60440".into()),
                name: Some("Jonas de Vries (Network-Test)".into()),
                location: Some("Hannover".into()),
                host: Some("speedtest.hannover.jonasdevries.de:8080".into()),
            }
        );
        assert_eq!(
            obs.result_url.as_deref(),
            Some("https://www.speedtest.net/result/c/something-something")
        );
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_701_356_137))
        );
    }

    #[test]
    fn cli12_upload_latency_spike() {
        let text = fixture(
            "ookla",
            "cli1.2-json-pretty-anonymized-upload-latency-spike.json",
        );
        let obs = parse(&raw(Some(0), &text, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 319_392_408.0);
        close(obs.upload_bps, 104_066_176.0);
        assert_eq!(obs.download_bytes, Some(306_775_755));
        assert_eq!(obs.upload_bytes, Some(134_520_546));
        close(obs.ping_ms, 12.280);
        close(obs.ping_low_ms, 12.192);
        close(obs.ping_high_ms, 12.837);
        close(obs.jitter_ms, 0.262);
        close(obs.download_latency_ms, 28.108);
        // The IQM, not the 471 ms spike.
        close(obs.upload_latency_ms, 19.651);
        assert_eq!(obs.packet_loss_percent, Some(0.0));
        assert_eq!(obs.isp.as_deref(), Some("Test ISP"));
        assert_eq!(obs.server.id.as_deref(), Some("52533"));
        assert_eq!(obs.server.name.as_deref(), Some("Virtual Machines"));
        assert_eq!(obs.server.location.as_deref(), Some("Zion"));
        assert_eq!(obs.server.host.as_deref(), Some("speedtest-lis.lan:8080"));
        assert_eq!(
            obs.result_url.as_deref(),
            Some("https://www.speedtest.net/result/c/8dfa2bdc-d6ea-4ac0-b041-5d0dc91b6b7c")
        );
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_726_930_114))
        );
    }

    #[test]
    fn cli12_docker() {
        let text = fixture(
            "ookla",
            "cli1.2-2022-docker-same-server-as-2020-sample.json",
        );
        let obs = parse(&raw(Some(0), &text, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 588_750_960.0);
        close(obs.upload_bps, 36_403_760.0);
        assert_eq!(obs.download_bytes, Some(561_306_538));
        assert_eq!(obs.upload_bytes, Some(27_235_440));
        close(obs.ping_ms, 13.814);
        close(obs.ping_low_ms, 9.838);
        close(obs.ping_high_ms, 17.448);
        close(obs.jitter_ms, 4.077);
        close(obs.download_latency_ms, 49.645);
        close(obs.upload_latency_ms, 13.94);
        assert_eq!(obs.packet_loss_percent, Some(0.0));
        assert_eq!(obs.isp.as_deref(), Some("Spectrum"));
        assert_eq!(
            obs.server,
            ServerInfo {
                id: Some("2408".into()),
                name: Some("Spectrum".into()),
                location: Some("Reno, NV".into()),
                host: Some("spt01renonv.reno.nv.charter.com:8080".into()),
            }
        );
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_663_820_950))
        );
    }

    #[test]
    fn cli10_without_low_high_and_loaded_latency() {
        let text = fixture(
            "ookla",
            "cli1.0-json-pretty-2020-no-low-high-no-persisted.json",
        );
        let obs = parse(&raw(Some(0), &text, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 261_718_464.0);
        close(obs.upload_bps, 37_628_320.0);
        assert_eq!(obs.download_bytes, Some(494_409_712));
        assert_eq!(obs.upload_bytes, Some(23_492_352));
        close(obs.ping_ms, 7.059);
        close(obs.jitter_ms, 4.293);
        assert_eq!(obs.ping_low_ms, None);
        assert_eq!(obs.ping_high_ms, None);
        assert_eq!(obs.download_latency_ms, None);
        assert_eq!(obs.upload_latency_ms, None);
        assert_eq!(obs.packet_loss_percent, Some(0.0));
        assert_eq!(obs.server.id.as_deref(), Some("2408"));
        assert_eq!(
            obs.server.host.as_deref(),
            Some("spt01renonv.reno.nv.charter.com:8080")
        );
        assert_eq!(
            obs.result_url.as_deref(),
            Some("https://www.speedtest.net/result/c/af93ff75-52a4-4d45-9097-e2ad712b3682")
        );
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_601_527_386))
        );
    }

    #[test]
    fn configuration_error_record() {
        let text = fixture(
            "ookla",
            "cli-error-json-pretty-configuration-hostnotfound.json",
        );
        let obs = parse(&raw(Some(2), &text, ""));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::Configuration,
                "Configuration - Could not retrieve or read configuration (ConfigurationError)"
            )
        );
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_666_377_778))
        );
        assert_eq!(obs.download_bps, None);
    }

    #[test]
    fn configuration_error_with_its_dns_cause_on_stderr_is_network() {
        // The stderr lines the same run printed (from the fixture's source notes).
        let stderr = "[2022-10-21 18:42:53.411] [error] Trying to get interface information on non-initialized socket.\n\
            [2022-10-21 18:42:58.419] [error] Configuration - Couldn't resolve host name (HostNotFoundException)\n\
            [2022-10-21 18:42:58.419] [error] Configuration - Cannot retrieve configuration document (0)\n\
            [2022-10-21 18:42:58.425] [error] ConfigurationError - Could not retrieve or read configuration (Configuration)\n\
            [2022-10-21 18:42:58.425] [error] ConfigurationError - Could not retrieve or read configuration (Configuration)\n";
        let text = fixture(
            "ookla",
            "cli-error-json-pretty-configuration-hostnotfound.json",
        );
        let obs = parse(&raw(Some(2), &text, stderr));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::Network,
                "Configuration - Couldn't resolve host name (HostNotFoundException)"
            )
        );
    }

    #[test]
    fn bare_error_object() {
        let text = fixture("ookla", "cli1.2-error-bare-object-cannot-open-socket.json");
        let obs = parse(&raw(Some(2), &text, ""));
        assert_eq!(failure(&obs), (FailureClass::Network, "Cannot open socket"));
        assert_eq!(obs.server, ServerInfo::default());
    }

    #[test]
    fn windows_socket_log_record() {
        let text = fixture("ookla", "cli1.0-windows-error-cannot-open-socket.json");
        let obs = parse(&raw(Some(1), &text, ""));
        assert_eq!(
            failure(&obs),
            (FailureClass::Network, "Error: [0] Cannot open socket:")
        );
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_646_318_202))
        );
    }

    #[test]
    fn licence_banner() {
        let text = fixture("ookla", "cli-licence-not-accepted-noninteractive.txt");
        let obs = parse(&raw(Some(1), &text, ""));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::Licence,
                "To accept the message please run speedtest interactively or use the following: speedtest --accept-license"
            )
        );
        // The same banner on stderr, exit status unknown.
        let obs = parse(&raw(None, "", &text));
        assert_eq!(failure(&obs).0, FailureClass::Licence);
    }

    #[test]
    fn licence_banner_without_the_prompt() {
        let text = fixture("ookla", "cli-licence-not-accepted-noninteractive.txt");
        let banner: String = text
            .lines()
            .take_while(|l| !l.contains("To accept"))
            .collect::<Vec<_>>()
            .join("\n");
        let obs = parse(&raw(Some(1), &banner, ""));
        assert_eq!(failure(&obs).0, FailureClass::Licence);
    }

    #[test]
    fn result_after_the_banner_and_acceptance() {
        let banner = fixture("ookla", "cli-licence-not-accepted-noninteractive.txt");
        let result = fixture("ookla", "cli1.2-json-pretty-de-hannover-anonymized.json");
        let stdout = format!("{banner}\nLicense acceptance recorded. Continuing.\n\n{result}");
        let obs = parse(&raw(Some(0), &stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 931_564_032.0);
        // Without the acceptance line (and without the prompt) it is still a result.
        let banner_only: String = banner
            .lines()
            .take_while(|l| !l.contains("To accept"))
            .collect::<Vec<_>>()
            .join("\n");
        let obs = parse(&raw(Some(0), &format!("{banner_only}\n{result}"), ""));
        assert!(obs.completed(), "{:?}", obs.failure);
    }

    #[test]
    fn the_result_wins_over_errors_and_markers() {
        let result = fixture(
            "ookla",
            "cli1.2-json-pretty-anonymized-upload-latency-spike.json",
        );
        let compact: Value = serde_json::from_str(&result).unwrap();
        let stdout = format!(
            "{{\"type\":\"log\",\"timestamp\":\"2024-09-21T14:48:00Z\",\"message\":\"Cannot open socket\",\"level\":\"error\"}}\n{compact}\n"
        );
        let stderr = "[2024-09-21 14:48:00.000] [error] Cannot open socket\n{\"error\":\"boom\"}\nnetpulse-agent: timeout: too slow\n";
        let obs = parse(&raw(Some(2), &stdout, stderr));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 104_066_176.0);
        assert_eq!(obs.server.id.as_deref(), Some("52533"));
    }

    #[test]
    fn progress_records_are_skipped() {
        let stdout = concat!(
            "{\"type\":\"testStart\",\"isp\":\"X\"}\n",
            "{\"type\":\"ping\",\"ping\":{\"latency\":3.5}}\n",
            "{\"type\":\"result\",\"ping\":{\"latency\":4.25,\"jitter\":0.5},",
            "\"download\":{\"bandwidth\":1000},\"upload\":{\"bandwidth\":250.5},",
            "\"isp\":\"\",\"server\":{\"id\":\"7\",\"host\":\"h.example\"},",
            "\"timestamp\":\"not a time\"}\n",
        );
        let obs = parse(&raw(Some(0), stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 8000.0);
        close(obs.upload_bps, 2004.0);
        close(obs.ping_ms, 4.25);
        assert_eq!(
            obs.packet_loss_percent, None,
            "absent packetLoss is unknown"
        );
        assert_eq!(obs.download_bytes, None);
        assert_eq!(obs.isp, None, "empty text is unknown");
        assert_eq!(obs.server.id.as_deref(), Some("7"));
        assert_eq!(obs.server.host.as_deref(), Some("h.example"));
        assert_eq!(obs.tool_timestamp, None);
        assert_eq!(obs.result_url, None);
    }

    #[test]
    fn packet_loss_is_kept_as_a_percentage() {
        let stdout = r#"{"type":"result","ping":{"latency":1},"download":{"bandwidth":1},"upload":{"bandwidth":1},"packetLoss":2.5}"#;
        close(parse(&raw(Some(0), stdout, "")).packet_loss_percent, 2.5);
    }

    #[test]
    fn an_incomplete_result_is_invalid_output() {
        let stdout = r#"{"type":"result","ping":{"latency":"n/a"},"download":{"bandwidth":1},"isp":"DT","server":{"id":5}}"#;
        let obs = parse(&raw(Some(0), stdout, ""));
        let (class, message) = failure(&obs);
        assert_eq!(class, FailureClass::InvalidOutput);
        assert!(message.contains("upload.bandwidth"), "{message}");
        assert!(message.contains("ping.latency"), "{message}");
        assert!(!message.contains("download.bandwidth"), "{message}");
        assert_eq!(obs.isp.as_deref(), Some("DT"));
        assert_eq!(obs.server.id.as_deref(), Some("5"));
        assert_eq!(obs.download_bps, None);
        // A marker explains an incomplete result better.
        let obs = parse(&raw(None, stdout, "netpulse-agent: timeout: stopped"));
        assert_eq!(failure(&obs), (FailureClass::Timeout, "stopped"));
        // So does an error record.
        let obs = parse(&raw(Some(2), stdout, "{\"error\":\"Cannot open socket\"}"));
        assert_eq!(failure(&obs), (FailureClass::Network, "Cannot open socket"));
    }

    #[test]
    fn error_records_keep_their_server() {
        let stdout = r#"{"type":"error","error":"boom","server":{"id":99,"host":"edge.example","port":5060},"isp":"DT"}"#;
        let obs = parse(&raw(Some(2), stdout, ""));
        assert_eq!(failure(&obs), (FailureClass::Other, "boom"));
        assert_eq!(obs.server.id.as_deref(), Some("99"));
        assert_eq!(obs.server.host.as_deref(), Some("edge.example:5060"));
        assert_eq!(obs.isp.as_deref(), Some("DT"));
    }

    #[test]
    fn bracketed_lines_on_either_stream() {
        let line = "[2023-01-01 00:00:00.000] [error] Server Selection - Failed to find a working test server. (NoServers)";
        for (stdout, stderr) in [(line, ""), ("", line)] {
            let obs = parse(&raw(Some(2), stdout, stderr));
            assert_eq!(
                failure(&obs),
                (
                    FailureClass::NoServers,
                    "Server Selection - Failed to find a working test server. (NoServers)"
                )
            );
        }
        let info = "[2023-01-01 00:00:00.000] [info] Server Selection - all good";
        let obs = parse(&raw(Some(0), "", info));
        assert_eq!(failure(&obs).0, FailureClass::InvalidOutput);
    }

    #[test]
    fn the_noise_line_alone_is_not_the_failure() {
        let noise = "[2022-10-21 18:42:53.411] [error] Trying to get interface information on non-initialized socket.";
        let obs = parse(&raw(Some(2), "", noise));
        let (class, message) = failure(&obs);
        assert_eq!(class, FailureClass::Other);
        assert!(message.contains("status 2"), "{message}");
    }

    #[test]
    fn the_most_specific_error_wins() {
        let stderr = "[2023-01-01 00:00:00.000] [error] Cannot open socket\n\
                      [2023-01-01 00:00:01.000] [error] Server Selection - Failed to find a working test server. (NoServers)\n\
                      [2023-01-01 00:00:02.000] [error] Something else\n";
        let obs = parse(&raw(Some(2), "", stderr));
        assert_eq!(failure(&obs).0, FailureClass::NoServers);
    }

    #[test]
    fn classification_table() {
        let cases = [
            (
                "Configuration - Could not retrieve or read configuration (ConfigurationError)",
                FailureClass::Configuration,
            ),
            (
                "ConfigurationError - Could not retrieve or read configuration (Configuration)",
                FailureClass::Configuration,
            ),
            (
                "Configuration - Cannot retrieve configuration document (0)",
                FailureClass::Configuration,
            ),
            (
                "Configuration - No servers defined (NoServersException)",
                FailureClass::NoServers,
            ),
            (
                "Server Selection - Failed to find a working test server. (NoServers)",
                FailureClass::NoServers,
            ),
            ("Server Selection - something new", FailureClass::NoServers),
            (
                "Configuration - Couldn't resolve host name (HostNotFoundException)",
                FailureClass::Network,
            ),
            ("Cannot open socket", FailureClass::Network),
            ("Error: [0] Cannot open socket: ", FailureClass::Network),
            (
                "Error: [110] Timeout occurred in connect.",
                FailureClass::Network,
            ),
            ("Network is unreachable", FailureClass::Network),
            (
                "To accept the message please run speedtest interactively or use the following: speedtest --accept-gdpr",
                FailureClass::Licence,
            ),
            ("Limit reached", FailureClass::Other),
            ("", FailureClass::Other),
        ];
        for (message, class) in cases {
            assert_eq!(classify_message(message), class, "{message:?}");
        }
    }

    #[test]
    fn exit_statuses_without_output() {
        let obs = parse(&raw(Some(0), "", ""));
        assert_eq!(failure(&obs).0, FailureClass::InvalidOutput);
        let obs = parse(&raw(Some(2), "", "something broke\n"));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::Other,
                "speedtest exited with status 2: something broke"
            )
        );
    }
}
