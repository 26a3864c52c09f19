//! iperf3 client output, `iperf3 -c … -J`.
//!
//! # The document
//!
//! stdout is read as one JSON document; failing that, the first object with a `start`, `end`
//! or `error` key is taken (iperf3 may print `warning: …` before the document or
//! `iperf3: error - …` after it). The one-event-per-line output of `--json-stream` (3.17+) is
//! understood too: the `start`, `end` and `error` events are put back together into one
//! document.
//!
//! A top-level `error` key means the run failed, whatever else the document holds. Its text
//! is classified with [`classify_error`]:
//!
//! | error text contains | class |
//! |---|---|
//! | connection words (`unable to connect`, `connection refused`/`reset`, `no route to host`, `network is unreachable`, name-resolution failures, `timed out`, …) | `Network` |
//! | `parameter error`, `unrecognized option`, `invalid option` | `Configuration` |
//! | anything else (e.g. `the server is busy running a test`) | `Other` |
//!
//! Without a document, `iperf3: error - …` text lines on stdout or stderr are classified the
//! same way.
//!
//! # Figures
//!
//! Direction comes from `start.test_start`: `reverse` 1 (`-R`) means the client *received*
//! (download), 0 that it sent (upload); `bidir` 1, or the presence of the `*_bidir_reverse`
//! sums, means both (the forward sums are the upload, the `_bidir_reverse` ones the download).
//!
//! | Observation | TCP | UDP |
//! |---|---|---|
//! | throughput of the direction | `end.sum_received.bits_per_second` (receiver side) | `end.sum_received.bits_per_second` when present (iperf3 ≥ 3.10), else `end.sum.bits_per_second` |
//! | `upload_bytes` | `end.sum_sent.bytes` | `end.sum_sent.bytes`, else `end.sum.bytes` |
//! | `download_bytes` | `end.sum_received.bytes` | `end.sum_received.bytes`, else `end.sum.bytes` |
//! | `jitter_ms` | — | `end.sum.jitter_ms` (the worse direction when bidirectional) |
//! | `packet_loss_percent` | — | `end.sum.lost_percent` (the worse direction when bidirectional) |
//! | `ping_ms` | mean of `end.streams[].sender.mean_rtt` (µs → ms), when reported | — |
//! | `ping_low_ms`, `ping_high_ms` | min of `min_rtt`, max of `max_rtt` of the same streams | — |
//! | `server.host` | `start.connecting_to.host` + `:` + `port` | same |
//! | `tool_timestamp` | `start.timestamp.timesecs` | same |
//!
//! For the bidirectional variants read `sum_sent_bidir_reverse`, `sum_received_bidir_reverse`
//! and `sum_bidir_reverse` for the download. Numbers may be written in exponent notation
//! (3.0.11: `9.34268e+08`). The RTT is the kernel's smoothed RTT of the loaded TCP
//! connection, so on a busy line it is a loaded latency; macOS builds and reverse tests do not
//! report it (`None`). A document whose end lacks the throughput of a measured direction (an
//! empty `end`) is `InvalidOutput`.

use netpulse_domain::Timestamp;
use netpulse_domain::measurement::{FailureClass, Observation, ServerInfo};
use netpulse_domain::model::RawOutput;
use serde_json::{Map, Value};

use super::{
    agent_marker, at, count_at, host_port, json_objects, looks_like_network, marker_observation,
    number_at, text_at, unrecognised,
};

/// Parses one run of `iperf3 -J`.
pub fn parse(raw: &RawOutput) -> Observation {
    if let Some(failure) = agent_marker(&raw.stderr) {
        return marker_observation(failure);
    }
    let Some(doc) = document(&raw.stdout) else {
        if let Some(message) = text_error(raw) {
            return Observation::failed(classify_error(message), message);
        }
        return unrecognised("iperf3", "iperf3 JSON document", raw);
    };
    let server = ServerInfo {
        host: host_port(
            text_at(&doc, &["start", "connecting_to", "host"]),
            text_at(&doc, &["start", "connecting_to", "port"]),
        ),
        ..ServerInfo::default()
    };
    let tool_timestamp = count_at(&doc, &["start", "timestamp", "timesecs"])
        .and_then(|s| i64::try_from(s).ok())
        .map(Timestamp::from_unix_seconds);
    if let Some(error) = doc.get("error").filter(|e| !e.is_null()) {
        let message = match error {
            Value::String(s) => s.trim().to_owned(),
            other => other.to_string(),
        };
        let message = if message.is_empty() {
            "iperf3 reported an error without a message".to_owned()
        } else {
            message
        };
        let mut observation = Observation::failed(classify_error(&message), message);
        observation.server = server;
        observation.tool_timestamp = tool_timestamp;
        return observation;
    }
    let mut observation = figures(&doc);
    observation.server = server;
    observation.tool_timestamp = tool_timestamp;
    observation
}

/// The failure class of an iperf3 error text (see the table in the module documentation).
pub fn classify_error(message: &str) -> FailureClass {
    let m = message.to_lowercase();
    if looks_like_network(&m) {
        FailureClass::Network
    } else if ["parameter error", "unrecognized option", "invalid option"]
        .iter()
        .any(|w| m.contains(w))
    {
        FailureClass::Configuration
    } else {
        FailureClass::Other
    }
}

/// The iperf3 document on stdout, if there is one.
fn document(stdout: &str) -> Option<Value> {
    let objects = json_objects(stdout);
    let events: Vec<&Value> = objects
        .iter()
        .filter(|o| o.get("event").is_some_and(Value::is_string) && o.get("data").is_some())
        .collect();
    if !events.is_empty() {
        let mut doc = Map::new();
        for event in events {
            let (Some(name), Some(data)) = (
                event.get("event").and_then(Value::as_str),
                event.get("data"),
            ) else {
                continue;
            };
            if matches!(name, "start" | "end" | "error") && !doc.contains_key(name) {
                doc.insert(name.to_owned(), data.clone());
            }
        }
        return Some(Value::Object(doc));
    }
    objects
        .into_iter()
        .find(|o| ["start", "end", "error"].iter().any(|k| o.get(k).is_some()))
}

/// An `iperf3: error - …` line on stdout or stderr.
fn text_error(raw: &RawOutput) -> Option<&str> {
    raw.stdout
        .lines()
        .chain(raw.stderr.lines())
        .map(str::trim)
        .find_map(|line| {
            let rest = line.strip_prefix("iperf3:").map_or(line, str::trim_start);
            let lower = rest.to_lowercase();
            (lower.starts_with("error") || lower.starts_with("parameter error"))
                .then_some(rest)
                .filter(|r| !r.is_empty())
        })
}

/// Whether a `0`/`1` or boolean flag is set.
fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// One direction's end figures.
#[derive(Default)]
struct Direction {
    bits_per_second: Option<f64>,
    bytes_sent: Option<u64>,
    bytes_received: Option<u64>,
    jitter_ms: Option<f64>,
    lost_percent: Option<f64>,
}

/// A direction's figures from the end sums: `sent`, `received` and (UDP) `plain` sum names.
fn direction(end: &Value, udp: bool, sent: &str, received: &str, plain: &str) -> Direction {
    if udp {
        let first =
            |field: &str, keys: [&str; 2]| keys.iter().find_map(|k| number_at(end, &[k, field]));
        Direction {
            bits_per_second: first("bits_per_second", [received, plain]),
            bytes_sent: count_at(end, &[sent, "bytes"])
                .or_else(|| count_at(end, &[plain, "bytes"])),
            bytes_received: count_at(end, &[received, "bytes"])
                .or_else(|| count_at(end, &[plain, "bytes"])),
            jitter_ms: first("jitter_ms", [plain, received]),
            lost_percent: first("lost_percent", [plain, received]).filter(|p| *p <= 100.0),
        }
    } else {
        Direction {
            bits_per_second: number_at(end, &[received, "bits_per_second"]),
            bytes_sent: count_at(end, &[sent, "bytes"]),
            bytes_received: count_at(end, &[received, "bytes"]),
            jitter_ms: None,
            lost_percent: None,
        }
    }
}

fn worse(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The figures of a document without an error.
fn figures(doc: &Value) -> Observation {
    let empty = Value::Null;
    let end = doc.get("end").unwrap_or(&empty);
    let test_start = at(doc, &["start", "test_start"]);
    let protocol = test_start
        .and_then(|t| t.get("protocol"))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let udp = match protocol.as_deref() {
        Some(p) => p == "udp",
        None => at(end, &["sum", "jitter_ms"]).is_some(),
    };
    let reverse = flag(test_start.and_then(|t| t.get("reverse")));
    let bidir = flag(test_start.and_then(|t| t.get("bidir")))
        || [
            "sum_sent_bidir_reverse",
            "sum_received_bidir_reverse",
            "sum_bidir_reverse",
        ]
        .iter()
        .any(|k| end.get(k).is_some());

    let forward = direction(end, udp, "sum_sent", "sum_received", "sum");
    let mut observation = Observation::default();
    let mut missing = Vec::new();
    let (up, down) = if bidir {
        let back = direction(
            end,
            udp,
            "sum_sent_bidir_reverse",
            "sum_received_bidir_reverse",
            "sum_bidir_reverse",
        );
        (Some(forward), Some(back))
    } else if reverse {
        (None, Some(forward))
    } else {
        (Some(forward), None)
    };
    if let Some(up) = &up {
        observation.upload_bps = up.bits_per_second;
        observation.upload_bytes = up.bytes_sent;
        if up.bits_per_second.is_none() {
            missing.push("upload");
        }
    }
    if let Some(down) = &down {
        observation.download_bps = down.bits_per_second;
        observation.download_bytes = down.bytes_received;
        if down.bits_per_second.is_none() {
            missing.push("download");
        }
    }
    if !missing.is_empty() {
        let sums = if udp {
            "end.sum / end.sum_received"
        } else {
            "end.sum_received"
        };
        return Observation::failed(
            FailureClass::InvalidOutput,
            format!(
                "the iperf3 document has no {} throughput ({sums}.bits_per_second)",
                missing.join(" or ")
            ),
        );
    }
    if udp {
        let (u, d) = (up.unwrap_or_default(), down.unwrap_or_default());
        observation.jitter_ms = worse(u.jitter_ms, d.jitter_ms);
        observation.packet_loss_percent = worse(u.lost_percent, d.lost_percent);
    } else {
        let senders: Vec<&Value> = end
            .get("streams")
            .and_then(Value::as_array)
            .map(|streams| streams.iter().filter_map(|s| s.get("sender")).collect())
            .unwrap_or_default();
        let rtts = |field: &str| -> Vec<f64> {
            senders
                .iter()
                .filter_map(|s| number_at(s, &[field]))
                .filter(|rtt| *rtt > 0.0)
                .map(|us| us / 1000.0)
                .collect()
        };
        let means = rtts("mean_rtt");
        if !means.is_empty() {
            observation.ping_ms = Some(means.iter().sum::<f64>() / means.len() as f64);
            observation.ping_low_ms = rtts("min_rtt").into_iter().reduce(f64::min);
            observation.ping_high_ms = rtts("max_rtt").into_iter().reduce(f64::max);
        }
    }
    observation
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::{close, failure, fixture, raw};

    #[test]
    fn tcp_3_0_11_with_exponent_notation() {
        let obs = parse(&raw(
            Some(0),
            &fixture("iperf3", "iperf3.0.11-tcp-client-linux-13s.json"),
            "",
        ));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 934_268_000.0);
        assert_eq!(obs.upload_bytes, Some(1_520_994_808));
        assert_eq!(obs.download_bps, None);
        assert_eq!(obs.download_bytes, None);
        assert_eq!(obs.ping_ms, None, "3.0.11 reports no RTT");
        assert_eq!(obs.jitter_ms, None);
        assert_eq!(obs.packet_loss_percent, None, "TCP loss is unknown, not 0");
        assert_eq!(obs.server.host.as_deref(), Some("192.168.0.188:9987"));
        assert_eq!(obs.server.id, None);
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_498_663_888))
        );
    }

    #[test]
    fn tcp_3_9_linux_with_rtt() {
        let obs = parse(&raw(
            Some(0),
            &fixture("iperf3", "iperf3.9-tcp-localhost-linux-10s.json"),
            "",
        ));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 44_042_139_781.797_935);
        assert_eq!(obs.upload_bytes, Some(55_054_172_160));
        assert_eq!(obs.download_bps, None);
        close(obs.ping_ms, 0.025);
        close(obs.ping_low_ms, 0.021);
        close(obs.ping_high_ms, 0.035);
        assert_eq!(obs.packet_loss_percent, None);
        assert_eq!(obs.server.host.as_deref(), Some("localhost:5201"));
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_656_625_195))
        );
    }

    #[test]
    fn tcp_3_14_macos_without_rtt() {
        let obs = parse(&raw(
            Some(0),
            &fixture("iperf3", "iperf3.14-tcp-sender-macos-10s.json"),
            "",
        ));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 204_737_447.440_7);
        assert_eq!(obs.upload_bytes, Some(255_966_968));
        assert_eq!(obs.ping_ms, None);
        assert_eq!(obs.ping_low_ms, None);
        assert_eq!(obs.server.host.as_deref(), Some("192.168.1.253:5201"));
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_695_896_661))
        );
    }

    #[test]
    fn udp_3_9() {
        let obs = parse(&raw(
            Some(0),
            &fixture("iperf3", "iperf3.9-udp-1mbit-localhost-10s.json"),
            "",
        ));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 1_048_569.708_581_748_5);
        assert_eq!(obs.upload_bytes, Some(1_310_720));
        assert_eq!(obs.download_bps, None);
        close(obs.jitter_ms, 0.011_259_258_240_784_126);
        assert_eq!(obs.packet_loss_percent, Some(0.0));
        assert_eq!(obs.ping_ms, None);
        assert_eq!(obs.server.host.as_deref(), Some("localhost:5201"));
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_656_623_431))
        );
    }

    #[test]
    fn connection_refused_document() {
        let obs = parse(&raw(
            Some(1),
            &fixture("iperf3", "iperf3.7-error-connection-refused.json"),
            "",
        ));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::Network,
                "error - unable to connect to server: Connection refused"
            )
        );
        assert_eq!(obs.upload_bps, None);
    }

    #[test]
    fn no_route_document_of_3_0_11() {
        let obs = parse(&raw(
            Some(1),
            &fixture("iperf3", "iperf3.0.11-error-no-route-to-host.json"),
            "",
        ));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::Network,
                "error - unable to connect to server: No route to host"
            )
        );
    }

    #[test]
    fn an_error_key_fails_even_a_complete_document() {
        let text = fixture("iperf3", "iperf3.9-tcp-localhost-linux-10s.json");
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        doc["error"] = Value::from("the server is busy running a test. try again later");
        let obs = parse(&raw(Some(0), &doc.to_string(), ""));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::Other,
                "the server is busy running a test. try again later"
            )
        );
        assert_eq!(obs.server.host.as_deref(), Some("localhost:5201"));
        assert_eq!(obs.upload_bps, None);
    }

    #[test]
    fn text_around_the_document() {
        let text = fixture("iperf3", "iperf3.0.11-tcp-client-linux-13s.json");
        let stdout = format!(
            "warning: JSON data length overflow\n{text}\niperf3: error - unable to send control message: Broken pipe\n"
        );
        let obs = parse(&raw(Some(1), &stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 934_268_000.0);
    }

    #[test]
    fn text_errors_without_a_document() {
        let cases = [
            (
                "iperf3: error - unable to connect to server: Connection refused",
                FailureClass::Network,
                "error - unable to connect to server: Connection refused",
            ),
            (
                "iperf3: parameter error - must either be a client (-c) or server (-s)",
                FailureClass::Configuration,
                "parameter error - must either be a client (-c) or server (-s)",
            ),
            (
                "iperf3: error - the server is busy running a test. try again later",
                FailureClass::Other,
                "error - the server is busy running a test. try again later",
            ),
        ];
        for (stderr, class, message) in cases {
            let obs = parse(&raw(Some(1), "", stderr));
            assert_eq!(failure(&obs), (class, message), "{stderr}");
        }
    }

    #[test]
    fn reverse_tcp_is_a_download() {
        let text = fixture("iperf3", "iperf3.9-tcp-localhost-linux-10s.json");
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        doc["start"]["test_start"]["reverse"] = Value::from(1);
        let obs = parse(&raw(Some(0), &doc.to_string(), ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 44_042_139_781.797_935);
        assert_eq!(obs.download_bytes, Some(55_054_172_160));
        assert_eq!(obs.upload_bps, None);
        assert_eq!(obs.upload_bytes, None);
    }

    #[test]
    fn bidirectional_tcp_fills_both_directions() {
        let stdout = r#"{
            "start": {"connecting_to": {"host": "10.0.0.1", "port": 5201},
                      "timestamp": {"timesecs": 1704110400},
                      "test_start": {"protocol": "TCP", "num_streams": 2, "reverse": 0, "bidir": 1}},
            "end": {
                "streams": [
                    {"sender": {"socket": 5, "mean_rtt": 2000, "min_rtt": 1500, "max_rtt": 4000, "sender": true}},
                    {"sender": {"socket": 6, "mean_rtt": 3000, "min_rtt": 1000, "max_rtt": 9000, "sender": true}},
                    {"sender": {"socket": 7, "sender": false}}
                ],
                "sum_sent": {"bytes": 500000000, "bits_per_second": 4.0e8},
                "sum_received": {"bytes": 495000000, "bits_per_second": 3.96e8},
                "sum_sent_bidir_reverse": {"bytes": 600000000, "bits_per_second": 4.8e8},
                "sum_received_bidir_reverse": {"bytes": 590000000, "bits_per_second": 4.72e8}
            }
        }"#;
        let obs = parse(&raw(Some(0), stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 396_000_000.0);
        assert_eq!(obs.upload_bytes, Some(500_000_000));
        close(obs.download_bps, 472_000_000.0);
        assert_eq!(obs.download_bytes, Some(590_000_000));
        close(obs.ping_ms, 2.5);
        close(obs.ping_low_ms, 1.0);
        close(obs.ping_high_ms, 9.0);
        assert_eq!(obs.server.host.as_deref(), Some("10.0.0.1:5201"));
        assert_eq!(
            obs.tool_timestamp,
            Some(Timestamp::from_unix_seconds(1_704_110_400))
        );
    }

    #[test]
    fn udp_prefers_the_receiver_side_when_reported() {
        // iperf 3.16 shape at 92 % loss: end.sum carries the sender's rate.
        let stdout = r#"{"start": {"test_start": {"protocol": "UDP", "reverse": 0}},
            "end": {
                "sum": {"bytes": 4168780080, "bits_per_second": 1667402400.2921805,
                        "jitter_ms": 0.05129019881009296, "lost_percent": 92.0263853304538, "sender": true},
                "sum_sent": {"bytes": 4168780080, "bits_per_second": 1667402400.2921805,
                             "jitter_ms": 0, "lost_percent": 0, "sender": true},
                "sum_received": {"bytes": 332398266, "bits_per_second": 131580149.06754848,
                                 "jitter_ms": 0.05129019881009296, "lost_percent": 92.0263853304538, "sender": false}
            }}"#;
        let obs = parse(&raw(Some(0), stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 131_580_149.067_548_48);
        assert_eq!(obs.upload_bytes, Some(4_168_780_080));
        close(obs.packet_loss_percent, 92.026_385_330_453_8);
        close(obs.jitter_ms, 0.051_290_198_810_092_96);
    }

    #[test]
    fn reverse_bidirectional_udp_takes_the_worse_loss() {
        let stdout = r#"{"start": {"test_start": {"protocol": "UDP", "reverse": 0, "bidir": 1}},
            "end": {
                "sum": {"bytes": 1000, "bits_per_second": 800, "jitter_ms": 0.5, "lost_percent": 1.5},
                "sum_bidir_reverse": {"bytes": 2000, "bits_per_second": 1600, "jitter_ms": 2.0, "lost_percent": 0.25}
            }}"#;
        let obs = parse(&raw(Some(0), stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.upload_bps, 800.0);
        close(obs.download_bps, 1600.0);
        assert_eq!(obs.upload_bytes, Some(1000));
        assert_eq!(obs.download_bytes, Some(2000));
        close(obs.packet_loss_percent, 1.5);
        close(obs.jitter_ms, 2.0);
    }

    #[test]
    fn json_stream_events() {
        let stdout = concat!(
            "{\"event\":\"start\",\"data\":{\"connecting_to\":{\"host\":\"srv\",\"port\":5201},\"test_start\":{\"protocol\":\"TCP\",\"reverse\":1}}}\n",
            "{\"event\":\"interval\",\"data\":{\"sum\":{\"bits_per_second\":1}}}\n",
            "{\"event\":\"end\",\"data\":{\"sum_sent\":{\"bytes\":10,\"bits_per_second\":80},\"sum_received\":{\"bytes\":9,\"bits_per_second\":72}}}\n",
        );
        let obs = parse(&raw(Some(0), stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 72.0);
        assert_eq!(obs.download_bytes, Some(9));
        assert_eq!(obs.server.host.as_deref(), Some("srv:5201"));

        let busy = "{\"event\":\"error\",\"data\":\"the server is busy running a test. try again later\"}\n{\"event\":\"end\",\"data\":{}}\n";
        let obs = parse(&raw(Some(1), busy, ""));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::Other,
                "the server is busy running a test. try again later"
            )
        );
    }

    #[test]
    fn an_empty_end_is_invalid_output() {
        let stdout = r#"{"start": {"test_start": {"protocol": "TCP", "reverse": 0}}, "intervals": [], "end": {}}"#;
        let obs = parse(&raw(Some(0), stdout, ""));
        let (class, message) = failure(&obs);
        assert_eq!(class, FailureClass::InvalidOutput);
        assert!(message.contains("upload"), "{message}");
    }

    #[test]
    fn a_marker_wins_over_a_document() {
        let text = fixture("iperf3", "iperf3.9-udp-1mbit-localhost-10s.json");
        let obs = parse(&raw(
            None,
            &text,
            "netpulse-agent: timeout: iperf3 ran past 30 s\n",
        ));
        assert_eq!(
            failure(&obs),
            (FailureClass::Timeout, "iperf3 ran past 30 s")
        );
    }

    #[test]
    fn classification_table() {
        let cases = [
            (
                "error - unable to connect to server: Connection refused",
                FailureClass::Network,
            ),
            (
                "error - unable to connect to server: No route to host",
                FailureClass::Network,
            ),
            (
                "error - unable to connect to server - server may have stopped running or use a different port, firewall issue, etc.: Network is unreachable",
                FailureClass::Network,
            ),
            (
                "error - unable to resolve host: Name or service not known",
                FailureClass::Network,
            ),
            (
                "parameter error - must either be a client (-c) or server (-s)",
                FailureClass::Configuration,
            ),
            (
                "the server is busy running a test. try again later",
                FailureClass::Other,
            ),
            (
                "error - control socket has closed unexpectedly",
                FailureClass::Other,
            ),
        ];
        for (message, class) in cases {
            assert_eq!(classify_error(message), class, "{message}");
        }
    }
}
