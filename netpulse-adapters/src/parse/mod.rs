//! Engine output parsers: the raw stdout/stderr an agent pushed → an [`Observation`].
//!
//! The agent never interprets results; the server calls [`parse`] with the engine that ran and
//! the [`RawOutput`] it captured. Parsing is total: any input, however broken, yields an
//! observation (a failed one when nothing usable was printed), and no input makes it panic.
//!
//! Rules shared by every engine:
//!
//! - **Units.** Throughput in bits per second, latency and jitter in milliseconds, packet loss
//!   in percent (0–100), volumes in bytes.
//! - **Unknown stays unknown.** A figure the tool did not print (or printed as something that
//!   is not a finite, non-negative number) is `None`, never 0.
//! - **Agent markers.** When the agent itself saw the failure it appends a stderr line
//!   `netpulse-agent: <class>: <message>` ([`netpulse_ports::runner::AGENT_MARKER`]). The
//!   classes map as follows (see [`agent_marker`]):
//!
//!   | marker class | [`FailureClass`] |
//!   |---|---|
//!   | `timeout` | `Timeout` |
//!   | `tool-missing` | `ToolMissing` |
//!   | `configuration` | `Configuration` |
//!   | `network` | `Network` |
//!   | `error` (or anything unknown) | `Other` |
//!
//!   A marker means the run failed: it takes precedence over whatever partial output the tool
//!   printed, except that a complete Ookla `result` record still wins (the tool finished and
//!   printed its result; the agent's complaint came too late to matter).
//! - **No recognisable output.** Without a result, a marker or an error the engine's parser
//!   recognises: a non-zero exit status is `Other` with a message naming the status and the
//!   last ~500 characters of stderr; no exit status at all (killed) is `Other` too; an exit
//!   status of 0 is `InvalidOutput`. (The HTTP engine's stdout is the agent's own report, so
//!   non-empty stdout that is not a report is `InvalidOutput` whatever the status.)
//!
//! Engine specifics are documented in [`ookla`], [`iperf3`] and [`http`].

use netpulse_domain::measurement::{Failure, FailureClass, Observation};
use netpulse_domain::model::RawOutput;
use netpulse_domain::pool::Engine;
use netpulse_ports::runner::AGENT_MARKER;
use serde_json::Value;

pub mod http;
pub mod iperf3;
pub mod ookla;
#[cfg(test)]
mod test_support;

pub use http::{HttpEngineError, HttpEngineReport, HttpFlavour, HttpLatency, HttpTransfer};

/// Parses what one engine run printed.
///
/// Never panics; every input yields an observation, failed or not.
pub fn parse(engine: Engine, raw: &RawOutput) -> Observation {
    match engine {
        Engine::Ookla => ookla::parse(raw),
        Engine::Iperf3 => iperf3::parse(raw),
        Engine::Http => http::parse(raw),
    }
}

/// The failure an agent marker line on stderr reports, if there is one (the first such line).
///
/// A marker line starts with `netpulse-agent: ` and continues with a class, `: ` and a
/// message. Unknown classes and lines without a class map to [`FailureClass::Other`] with the
/// whole text after the prefix as the message.
pub fn agent_marker(stderr: &str) -> Option<Failure> {
    stderr.lines().find_map(|line| {
        let rest = line.strip_prefix(AGENT_MARKER)?;
        let rest = rest.trim();
        let known = |class: &str| match class {
            "timeout" => Some(FailureClass::Timeout),
            "tool-missing" => Some(FailureClass::ToolMissing),
            "configuration" => Some(FailureClass::Configuration),
            "network" => Some(FailureClass::Network),
            "error" => Some(FailureClass::Other),
            _ => None,
        };
        let (class, message) = match rest.split_once(':') {
            Some((class, message)) => match known(class.trim()) {
                Some(c) => (c, message.trim()),
                None => (FailureClass::Other, rest),
            },
            None => match known(rest) {
                Some(c) => (c, ""),
                None => (FailureClass::Other, rest),
            },
        };
        let message = if message.is_empty() {
            format!("the agent reported a {class} failure")
        } else {
            message.to_owned()
        };
        Some(Failure { class, message })
    })
}

/// An observation failed with an agent marker's failure.
fn marker_observation(failure: Failure) -> Observation {
    Observation {
        failure: Some(failure),
        ..Observation::default()
    }
}

/// The last `max_chars` characters of a text, trimmed (char-boundary safe).
fn tail(text: &str, max_chars: usize) -> &str {
    let text = text.trim();
    let count = text.chars().count();
    if count <= max_chars {
        return text;
    }
    let skip = count - max_chars;
    let start = text.char_indices().nth(skip).map_or(text.len(), |(i, _)| i);
    text[start..].trim_start()
}

/// How many characters of stderr (or stdout) a fallback failure message keeps.
const TAIL_CHARS: usize = 500;

/// The failure for a run whose output held nothing this parser recognises.
///
/// `tool` names the tool in the message; `expected` says what was looked for (for exit 0).
fn unrecognised(tool: &str, expected: &str, raw: &RawOutput) -> Observation {
    let stderr = tail(&raw.stderr, TAIL_CHARS);
    let stdout = tail(&raw.stdout, TAIL_CHARS);
    let detail = if !stderr.is_empty() {
        format!(": {stderr}")
    } else if !stdout.is_empty() {
        format!(" (nothing on stderr; stdout ends with: {stdout})")
    } else {
        " and printed nothing".to_owned()
    };
    match raw.exit_code {
        Some(0) if raw.stdout.trim().is_empty() => Observation::failed(
            FailureClass::InvalidOutput,
            format!("{tool} exited with status 0 but printed nothing on stdout"),
        ),
        Some(0) => Observation::failed(
            FailureClass::InvalidOutput,
            format!("{tool} exited with status 0 but its output holds no {expected}{detail}"),
        ),
        Some(code) => Observation::failed(
            FailureClass::Other,
            format!("{tool} exited with status {code}{detail}"),
        ),
        None => Observation::failed(
            FailureClass::Other,
            format!("{tool} did not exit normally (no exit status){detail}"),
        ),
    }
}

/// How many bytes the object scanner may examine before it gives up (bounds the quadratic
/// worst case of text full of unbalanced braces).
const SCAN_BUDGET: usize = 64 * 1024 * 1024;

/// The top-level JSON objects in a text, in order.
///
/// The whole text is tried first (one pretty-printed document); otherwise every balanced
/// `{...}` region that parses as an object is taken (one object per line, objects between
/// text lines, pretty-printed objects after a banner). Regions that do not parse are skipped
/// brace by brace, so a broken line does not hide a later object.
fn json_objects(text: &str) -> Vec<Value> {
    let trimmed = text.trim();
    if trimmed.starts_with('{')
        && let Ok(object @ Value::Object(_)) = serde_json::from_str::<Value>(trimmed)
    {
        return vec![object];
    }
    let bytes = text.as_bytes();
    let mut budget = SCAN_BUDGET;
    let mut objects = Vec::new();
    let mut from = 0;
    while let Some(offset) = bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == b'{'))
    {
        let open = from + offset;
        if let Some(close) = matching_brace(bytes, open, &mut budget) {
            let slice = &bytes[open..=close];
            budget = budget.saturating_sub(slice.len());
            if let Ok(object @ Value::Object(_)) = serde_json::from_slice::<Value>(slice) {
                objects.push(object);
                from = close + 1;
                continue;
            }
        }
        if budget == 0 {
            break;
        }
        from = open + 1;
    }
    objects
}

/// The index of the `}` that closes the `{` at `open`, skipping braces inside JSON strings.
fn matching_brace(bytes: &[u8], open: usize, budget: &mut usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The value at a path of object keys.
fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// A finite, non-negative number (numbers written as strings are accepted too).
fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

/// A finite, non-negative number at a path.
fn number_at(value: &Value, path: &[&str]) -> Option<f64> {
    at(value, path).and_then(number)
}

/// A whole, non-negative count at a path (a float is rounded; exponent notation is fine).
fn count_at(value: &Value, path: &[&str]) -> Option<u64> {
    let v = at(value, path)?;
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let f = number(v)?;
    (f < 18_446_744_073_709_551_616.0).then(|| f.round() as u64)
}

/// Non-empty text at a path (trimmed); numbers are written out as text.
fn text_at(value: &Value, path: &[&str]) -> Option<String> {
    match at(value, path)? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `host:port`, or `host` alone when there is no port; `None` without a host.
fn host_port(host: Option<String>, port: Option<String>) -> Option<String> {
    let host = host?;
    Some(match port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// Whether a (tool) message describes a network problem: sockets, DNS, refused, reset or
/// unreachable connections, timeouts while connecting.
fn looks_like_network(message: &str) -> bool {
    const WORDS: [&str; 30] = [
        "cannot open socket",
        "could not open socket",
        "unable to open socket",
        "socket error",
        "resolve host",
        "resolve the host",
        "host not found",
        "hostnotfound",
        "name resolution",
        "name or service not known",
        "nodename nor servname",
        "unknown host",
        "dns",
        "connection refused",
        "connection reset",
        "connection timed out",
        "connection aborted",
        "no route to host",
        "network is unreachable",
        "network unreachable",
        "host is unreachable",
        "host unreachable",
        "network is down",
        "network error",
        "unable to connect",
        "could not connect",
        "couldn't connect",
        "cannot connect",
        "failed to connect",
        "timed out",
    ];
    let m = message.to_lowercase();
    WORDS.iter().any(|w| m.contains(w)) || (m.contains("timeout") && m.contains("connect"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::raw;
    use proptest::prelude::*;

    #[test]
    fn marker_classes_map_to_failure_classes() {
        let cases = [
            (
                "netpulse-agent: timeout: speedtest did not finish within 120 s",
                FailureClass::Timeout,
                "speedtest did not finish within 120 s",
            ),
            (
                "netpulse-agent: tool-missing: speedtest not found on PATH",
                FailureClass::ToolMissing,
                "speedtest not found on PATH",
            ),
            (
                "netpulse-agent: configuration: unknown interface wan9",
                FailureClass::Configuration,
                "unknown interface wan9",
            ),
            (
                "netpulse-agent: network: cannot bind 10.0.0.9",
                FailureClass::Network,
                "cannot bind 10.0.0.9",
            ),
            (
                "netpulse-agent: error: spawn failed: permission denied",
                FailureClass::Other,
                "spawn failed: permission denied",
            ),
            (
                "netpulse-agent: weird: something",
                FailureClass::Other,
                "weird: something",
            ),
            (
                "netpulse-agent: timeout",
                FailureClass::Timeout,
                "the agent reported a timeout failure",
            ),
        ];
        for (line, class, message) in cases {
            let failure = agent_marker(&format!("some tool noise\n{line}\r\n")).unwrap();
            assert_eq!(failure.class, class, "{line}");
            assert_eq!(failure.message, message, "{line}");
        }
        assert_eq!(agent_marker("no marker here\n  netpulse-agent: x: y"), None);
        assert_eq!(agent_marker(""), None);
    }

    #[test]
    fn a_marker_fails_every_engine_over_partial_output() {
        let stderr = "netpulse-agent: timeout: killed after 60 s\n";
        for engine in Engine::ALL {
            let obs = parse(engine, &raw(None, "{\"start\": {", stderr));
            let failure = obs.failure.unwrap();
            assert_eq!(failure.class, FailureClass::Timeout, "{engine}");
            assert_eq!(failure.message, "killed after 60 s");
        }
    }

    #[test]
    fn unrecognised_output_depends_on_the_exit_status() {
        for engine in Engine::ALL {
            let empty = parse(engine, &raw(Some(0), "  \n", ""));
            assert_eq!(
                empty.failure.unwrap().class,
                FailureClass::InvalidOutput,
                "{engine}"
            );
            let garbage = parse(engine, &raw(Some(0), "hello", ""));
            assert_eq!(
                garbage.failure.unwrap().class,
                FailureClass::InvalidOutput,
                "{engine}"
            );
            let long_stderr = format!("{}THE END", "x".repeat(2000));
            let failed = parse(engine, &raw(Some(3), "", &long_stderr))
                .failure
                .unwrap();
            assert_eq!(failed.class, FailureClass::Other, "{engine}");
            assert!(failed.message.contains("status 3"), "{}", failed.message);
            assert!(failed.message.ends_with("THE END"), "{}", failed.message);
            assert!(failed.message.len() < 600, "{}", failed.message.len());
            let killed = parse(engine, &raw(None, "", "")).failure.unwrap();
            assert_eq!(killed.class, FailureClass::Other, "{engine}");
            assert!(
                killed.message.contains("no exit status"),
                "{}",
                killed.message
            );
        }
    }

    #[test]
    fn tail_keeps_the_end_on_char_boundaries() {
        assert_eq!(tail("  abc  ", 10), "abc");
        assert_eq!(tail("ääääb", 2), "äb");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn objects_are_found_in_mixed_text() {
        let text = "banner { not json\n{\"a\":1}\ntext \"quoted {\" \n{\n  \"b\": \"}{\",\n  \"c\": {\"d\": 2}\n}\ntrailing }";
        let objects = json_objects(text);
        assert_eq!(objects.len(), 2, "{objects:?}");
        assert_eq!(objects[0].get("a"), Some(&Value::from(1)));
        assert_eq!(objects[1].get("b"), Some(&Value::from("}{")));
        assert!(json_objects("no braces at all").is_empty());
        assert!(json_objects("{{{{{{{{").is_empty());
    }

    #[test]
    fn the_scanner_gives_up_within_its_budget() {
        // A few thousand unbalanced braces are rescanned and the object is still found.
        let text = format!("{}{{\"type\":\"x\"}}", "{".repeat(2_000));
        assert_eq!(json_objects(&text).len(), 1);
        // 50 000 of them would take ~10^9 steps; the budget stops the scan early.
        let text = format!("{}{{\"type\":\"x\"}}", "{".repeat(50_000));
        let started = std::time::Instant::now();
        let objects = json_objects(&text);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        assert!(objects.is_empty(), "gave up before reaching the object");
    }

    /// Every fixture file has its sidecar and an expected outcome checked here (the detailed
    /// figures are checked by the engine modules' tests).
    #[test]
    fn every_fixture_is_covered() {
        use FailureClass::{Configuration, Licence, Network};
        let expected: [(&str, &str, Option<FailureClass>); 14] = [
            (
                "ookla",
                "cli-error-json-pretty-configuration-hostnotfound.json",
                Some(Configuration),
            ),
            (
                "ookla",
                "cli-licence-not-accepted-noninteractive.txt",
                Some(Licence),
            ),
            (
                "ookla",
                "cli1.0-json-pretty-2020-no-low-high-no-persisted.json",
                None,
            ),
            (
                "ookla",
                "cli1.0-windows-error-cannot-open-socket.json",
                Some(Network),
            ),
            (
                "ookla",
                "cli1.2-2022-docker-same-server-as-2020-sample.json",
                None,
            ),
            (
                "ookla",
                "cli1.2-error-bare-object-cannot-open-socket.json",
                Some(Network),
            ),
            (
                "ookla",
                "cli1.2-json-pretty-anonymized-upload-latency-spike.json",
                None,
            ),
            (
                "ookla",
                "cli1.2-json-pretty-de-hannover-anonymized.json",
                None,
            ),
            (
                "iperf3",
                "iperf3.0.11-error-no-route-to-host.json",
                Some(Network),
            ),
            ("iperf3", "iperf3.0.11-tcp-client-linux-13s.json", None),
            ("iperf3", "iperf3.14-tcp-sender-macos-10s.json", None),
            (
                "iperf3",
                "iperf3.7-error-connection-refused.json",
                Some(Network),
            ),
            ("iperf3", "iperf3.9-tcp-localhost-linux-10s.json", None),
            ("iperf3", "iperf3.9-udp-1mbit-localhost-10s.json", None),
        ];
        let mut seen = 0;
        for (dir, engine) in [("ookla", Engine::Ookla), ("iperf3", Engine::Iperf3)] {
            let path = format!("{}/tests/fixtures/{dir}", env!("CARGO_MANIFEST_DIR"));
            for entry in std::fs::read_dir(&path).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if name.ends_with(".source.txt") {
                    continue;
                }
                seen += 1;
                let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
                let sidecar = format!("{path}/{stem}.source.txt");
                assert!(std::path::Path::new(&sidecar).exists(), "{sidecar}");
                let (_, _, class) = expected
                    .iter()
                    .find(|(d, n, _)| *d == dir && *n == name)
                    .unwrap_or_else(|| panic!("{dir}/{name} has no expected outcome"));
                let text = std::fs::read_to_string(format!("{path}/{name}")).unwrap();
                let exit = if class.is_some() { 2 } else { 0 };
                let obs = parse(engine, &raw(Some(exit), &text, ""));
                assert_eq!(obs.failure.map(|f| f.class), *class, "{dir}/{name}");
            }
        }
        assert_eq!(seen, expected.len());
    }

    #[test]
    fn network_words() {
        for m in [
            "Cannot open socket",
            "Configuration - Couldn't resolve host name (HostNotFoundException)",
            "error - unable to connect to server: Connection refused",
            "error - unable to connect to server: No route to host",
            "Timeout occurred in connect.",
            "Network is unreachable",
        ] {
            assert!(looks_like_network(m), "{m}");
        }
        for m in [
            "Trying to get interface information on non-initialized socket.",
            "Configuration - Could not retrieve or read configuration (ConfigurationError)",
            "the server is busy running a test. try again later",
        ] {
            assert!(!looks_like_network(m), "{m}");
        }
    }

    fn jsonish() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            "\"",
            ":",
            ",",
            "\\",
            "\n",
            " ",
            "\"type\"",
            "\"result\"",
            "\"log\"",
            "\"error\"",
            "\"level\"",
            "\"message\"",
            "\"start\"",
            "\"end\"",
            "\"sum_received\"",
            "\"bits_per_second\"",
            "\"download\"",
            "\"bandwidth\"",
            "1e308",
            "-1",
            "0",
            "12.5",
            "null",
            "true",
            "[error]",
            "netpulse-agent: ",
            "timeout: ",
            "\"engine\"",
            "\"netpulse-http\"",
            "ä",
            "\u{0}",
        ]);
        prop::collection::vec(pieces, 0..80).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_text(
            stdout in any::<String>(),
            stderr in any::<String>(),
            exit in any::<Option<i32>>(),
        ) {
            for engine in Engine::ALL {
                let obs = parse(engine, &raw(exit, &stdout, &stderr));
                match &obs.failure {
                    Some(failure) => prop_assert!(!failure.message.trim().is_empty()),
                    None => prop_assert!(
                        obs.download_bps.is_some() || obs.upload_bps.is_some() || obs.ping_ms.is_some()
                    ),
                }
            }
        }

        #[test]
        fn parse_never_panics_on_json_like_text(
            stdout in jsonish(),
            stderr in jsonish(),
            exit in any::<Option<i32>>(),
        ) {
            for engine in Engine::ALL {
                let obs = parse(engine, &raw(exit, &stdout, &stderr));
                for figure in [obs.download_bps, obs.upload_bps, obs.ping_ms, obs.jitter_ms, obs.packet_loss_percent] {
                    prop_assert!(figure.is_none_or(|f| f.is_finite() && f >= 0.0));
                }
            }
        }
    }
}
