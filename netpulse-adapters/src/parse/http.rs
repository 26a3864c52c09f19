//! The agent's built-in HTTP engine: the report it prints, and its parser.
//!
//! # The report
//!
//! The HTTP engine prints exactly one JSON object, [`HttpEngineReport`], on stdout:
//!
//! ```json
//! {
//!   "engine": "netpulse-http",
//!   "version": 1,
//!   "target": "https://speed.example/",
//!   "flavour": "netpulse",
//!   "streams": 4,
//!   "latency": {
//!     "samples_ms": [12.0, 11.5, 13.1],
//!     "ping_ms": 12.0,
//!     "jitter_ms": 1.05,
//!     "low_ms": 11.5,
//!     "high_ms": 13.1
//!   },
//!   "download": {
//!     "bytes": 250000000,
//!     "seconds": 10.0,
//!     "bits_per_second": 200000000.0,
//!     "warmup_seconds": 2.0,
//!     "latency_ms": 48.2
//!   },
//!   "upload": null,
//!   "error": null
//! }
//! ```
//!
//! | field | meaning |
//! |---|---|
//! | `engine` | always `netpulse-http` ([`HttpEngineReport::ENGINE`]) |
//! | `version` | the report format, `1` ([`HttpEngineReport::VERSION`]) |
//! | `target` | the base URL tested (the pool entry) |
//! | `flavour` | the server's API: `netpulse`, `librespeed` or `cloudflare` |
//! | `streams` | parallel connections per direction |
//! | `latency` | idle latency ([`HttpLatency`]): the samples in measurement order, their median (`ping_ms`), the mean absolute difference of consecutive samples (`jitter_ms`, `null` with fewer than two samples — the parser ignores it then), minimum and maximum; `null` when not measured |
//! | `download`, `upload` | one direction ([`HttpTransfer`]): bytes moved and seconds measured after the warm-up, `bits_per_second` = bytes × 8 / seconds, the warm-up excluded from both, and the median latency measured while loaded (`latency_ms`, `null` when not measured); `null` when the direction was not measured |
//! | `error` | `null`, or `{"class", "message"}` with a class name as in [`FailureClass::as_str`] (`configuration`, `no_servers`, `network`, `licence`, `timeout`, `tool_missing`, `invalid_output`, `other`) |
//!
//! [`HttpLatency::from_samples`] and [`HttpTransfer::new`] compute the derived figures the way
//! this format defines them.
//!
//! # Parsing
//!
//! stdout is read as one report (or the first object in it that is one). An `error` makes the
//! observation failed with that class (an unknown class name becomes `other`, the message is
//! kept); otherwise the figures are taken as they are. Packet loss is always unknown (HTTP
//! cannot see it); `server.host` is the `host[:port]` of `target`. A report whose `engine` or
//! `version` differs, or that has neither figures nor an error, and non-empty stdout that is
//! not a report at all (whatever the exit status), are `InvalidOutput`.

use netpulse_domain::measurement::{FailureClass, Observation, ServerInfo};
use netpulse_domain::model::RawOutput;
use serde::{Deserialize, Serialize};

use super::{agent_marker, json_objects, marker_observation, unrecognised};

/// What the built-in HTTP engine prints after one run (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct HttpEngineReport {
    /// Always [`HttpEngineReport::ENGINE`].
    pub engine: String,
    /// The report format version, [`HttpEngineReport::VERSION`].
    pub version: u32,
    /// The base URL tested.
    pub target: String,
    /// The API the target speaks.
    pub flavour: HttpFlavour,
    /// Parallel connections per direction.
    pub streams: u32,
    /// Idle latency, when measured.
    pub latency: Option<HttpLatency>,
    /// The download direction, when measured.
    pub download: Option<HttpTransfer>,
    /// The upload direction, when measured.
    pub upload: Option<HttpTransfer>,
    /// Why the run failed, if it did.
    pub error: Option<HttpEngineError>,
}

impl HttpEngineReport {
    /// The `engine` value of every report.
    pub const ENGINE: &'static str = "netpulse-http";
    /// The report format this parser reads.
    pub const VERSION: u32 = 1;

    /// An empty report (nothing measured, no error) for a target.
    pub fn new(target: impl Into<String>, flavour: HttpFlavour, streams: u32) -> Self {
        Self {
            engine: Self::ENGINE.to_owned(),
            version: Self::VERSION,
            target: target.into(),
            flavour,
            streams,
            latency: None,
            download: None,
            upload: None,
            error: None,
        }
    }
}

/// The API an HTTP target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpFlavour {
    /// A NetPulse server's own `/speedtest/` endpoints.
    Netpulse,
    /// A LibreSpeed backend.
    Librespeed,
    /// Cloudflare's speed test endpoints.
    Cloudflare,
}

/// Idle latency figures, milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct HttpLatency {
    /// Every sample, in measurement order.
    pub samples_ms: Vec<f64>,
    /// The median sample.
    pub ping_ms: f64,
    /// The mean absolute difference of consecutive samples; `None` with fewer than two.
    pub jitter_ms: Option<f64>,
    /// The lowest sample.
    pub low_ms: f64,
    /// The highest sample.
    pub high_ms: f64,
}

impl HttpLatency {
    /// The figures of a series of samples (in measurement order); samples that are not finite
    /// and non-negative are dropped. `None` when no sample is left.
    pub fn from_samples(samples_ms: Vec<f64>) -> Option<Self> {
        let samples: Vec<f64> = samples_ms
            .into_iter()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .collect();
        let ping_ms = median(&samples)?;
        let jitter_ms = (samples.len() >= 2).then(|| {
            let sum: f64 = samples.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
            sum / (samples.len() - 1) as f64
        });
        let low_ms = samples.iter().copied().fold(f64::INFINITY, f64::min);
        let high_ms = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Self {
            samples_ms: samples,
            ping_ms,
            jitter_ms,
            low_ms,
            high_ms,
        })
    }
}

/// The median of finite samples (the mean of the middle two for an even count); `None` when
/// there are none.
pub fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| s.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        f64::midpoint(sorted[mid - 1], sorted[mid])
    } else {
        sorted[mid]
    })
}

/// One measured direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct HttpTransfer {
    /// Bytes moved after the warm-up.
    pub bytes: u64,
    /// Seconds measured after the warm-up.
    pub seconds: f64,
    /// `bytes × 8 / seconds`.
    pub bits_per_second: f64,
    /// Seconds of warm-up excluded from `bytes` and `seconds`.
    pub warmup_seconds: f64,
    /// The median latency measured while this direction was loaded, milliseconds.
    pub latency_ms: Option<f64>,
}

impl HttpTransfer {
    /// A direction's figures; `bits_per_second` is `bytes × 8 / seconds` (0 when `seconds` is
    /// not positive, which the parser reads as an unknown throughput).
    pub fn new(bytes: u64, seconds: f64, warmup_seconds: f64, latency_ms: Option<f64>) -> Self {
        let bits_per_second = if seconds > 0.0 && seconds.is_finite() {
            bytes as f64 * 8.0 / seconds
        } else {
            0.0
        };
        Self {
            bytes,
            seconds,
            bits_per_second,
            warmup_seconds,
            latency_ms,
        }
    }
}

/// Why an HTTP engine run failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct HttpEngineError {
    /// The failure class, by its [`FailureClass::as_str`] name (unknown names read as `other`).
    #[serde(with = "failure_class_name")]
    pub class: FailureClass,
    /// What went wrong.
    pub message: String,
}

/// Serde for a [`FailureClass`] as its name.
mod failure_class_name {
    use netpulse_domain::measurement::FailureClass;
    use serde::{Deserialize, Deserializer, Serializer};

    // Serde's `with` protocol passes the field by reference.
    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub(super) fn serialize<S: Serializer>(
        class: &FailureClass,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(class.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<FailureClass, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(FailureClass::parse(&name).unwrap_or(FailureClass::Other))
    }
}

/// Parses one run of the built-in HTTP engine.
pub fn parse(raw: &RawOutput) -> Observation {
    if let Some(failure) = agent_marker(&raw.stderr) {
        return marker_observation(failure);
    }
    let Some(report) = find_report(&raw.stdout) else {
        if !raw.stdout.trim().is_empty() {
            return Observation::failed(
                FailureClass::InvalidOutput,
                "the HTTP engine's output is not a netpulse-http report",
            );
        }
        return unrecognised("the HTTP engine", "netpulse-http report", raw);
    };
    observation(&report)
}

/// The report on stdout: the whole text, or the first object in it that is a report.
fn find_report(stdout: &str) -> Option<HttpEngineReport> {
    if let Ok(report) = serde_json::from_str::<HttpEngineReport>(stdout.trim()) {
        return Some(report);
    }
    json_objects(stdout)
        .into_iter()
        .filter(|o| o.get("engine").is_some())
        .find_map(|o| serde_json::from_value::<HttpEngineReport>(o).ok())
}

fn known(value: f64) -> Option<f64> {
    (value.is_finite() && value >= 0.0).then_some(value)
}

/// The `host[:port]` of a URL.
fn url_host(target: &str) -> Option<String> {
    let (_, rest) = target.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (!host.is_empty()).then(|| host.to_owned())
}

/// The observation a report describes.
pub fn observation(report: &HttpEngineReport) -> Observation {
    if report.engine != HttpEngineReport::ENGINE || report.version != HttpEngineReport::VERSION {
        return Observation::failed(
            FailureClass::InvalidOutput,
            format!(
                "unsupported HTTP engine report {:?} version {} (expected {} version {})",
                report.engine,
                report.version,
                HttpEngineReport::ENGINE,
                HttpEngineReport::VERSION
            ),
        );
    }
    let server = ServerInfo {
        host: url_host(&report.target),
        ..ServerInfo::default()
    };
    if let Some(error) = &report.error {
        let message = error.message.trim();
        let message = if message.is_empty() {
            format!("the HTTP engine reported a {} failure", error.class)
        } else {
            message.to_owned()
        };
        let mut observation = Observation::failed(error.class, message);
        observation.server = server;
        return observation;
    }
    let throughput = |t: &HttpTransfer| {
        if t.seconds > 0.0 {
            known(t.bits_per_second)
        } else {
            None
        }
    };
    let mut observation = Observation {
        server,
        ..Observation::default()
    };
    if let Some(latency) = &report.latency {
        observation.ping_ms = known(latency.ping_ms);
        // Jitter needs two samples; a 0 printed for a single sample is not a measurement.
        observation.jitter_ms = latency
            .jitter_ms
            .filter(|_| latency.samples_ms.len() >= 2)
            .and_then(known);
        observation.ping_low_ms = known(latency.low_ms);
        observation.ping_high_ms = known(latency.high_ms);
    }
    if let Some(download) = &report.download {
        observation.download_bps = throughput(download);
        observation.download_bytes = Some(download.bytes);
        observation.download_latency_ms = download.latency_ms.and_then(known);
    }
    if let Some(upload) = &report.upload {
        observation.upload_bps = throughput(upload);
        observation.upload_bytes = Some(upload.bytes);
        observation.upload_latency_ms = upload.latency_ms.and_then(known);
    }
    if observation.download_bps.is_none()
        && observation.upload_bps.is_none()
        && observation.ping_ms.is_none()
    {
        return Observation::failed(
            FailureClass::InvalidOutput,
            "the HTTP engine report has neither figures nor an error",
        );
    }
    observation
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::{close, raw};

    fn full_report() -> HttpEngineReport {
        let mut report = HttpEngineReport::new(
            "https://user@speed.example:8443/base/?x=1",
            HttpFlavour::Librespeed,
            4,
        );
        report.latency = HttpLatency::from_samples(vec![12.0, 11.5, 13.5, 12.5, 12.0]);
        report.download = Some(HttpTransfer::new(250_000_000, 10.0, 2.0, Some(48.5)));
        report.upload = Some(HttpTransfer::new(25_000_000, 8.0, 1.5, None));
        report
    }

    #[test]
    fn the_documented_shape() {
        let json = serde_json::to_value(full_report()).unwrap();
        let expected = serde_json::json!({
            "engine": "netpulse-http",
            "version": 1,
            "target": "https://user@speed.example:8443/base/?x=1",
            "flavour": "librespeed",
            "streams": 4,
            "latency": {
                "samples_ms": [12.0, 11.5, 13.5, 12.5, 12.0],
                "ping_ms": 12.0,
                "jitter_ms": 1.0,
                "low_ms": 11.5,
                "high_ms": 13.5
            },
            "download": {
                "bytes": 250_000_000,
                "seconds": 10.0,
                "bits_per_second": 200_000_000.0,
                "warmup_seconds": 2.0,
                "latency_ms": 48.5
            },
            "upload": {
                "bytes": 25_000_000,
                "seconds": 8.0,
                "bits_per_second": 25_000_000.0,
                "warmup_seconds": 1.5,
                "latency_ms": null
            },
            "error": null
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn round_trip() {
        let mut failed = HttpEngineReport::new("http://127.0.0.1:8080", HttpFlavour::Cloudflare, 1);
        failed.error = Some(HttpEngineError {
            class: FailureClass::NoServers,
            message: "no usable endpoint".into(),
        });
        for report in [
            full_report(),
            failed,
            HttpEngineReport::new("http://x", HttpFlavour::Netpulse, 8),
        ] {
            let text = serde_json::to_string(&report).unwrap();
            let back: HttpEngineReport = serde_json::from_str(&text).unwrap();
            assert_eq!(back, report, "{text}");
        }
        for class in FailureClass::ALL {
            let error = HttpEngineError {
                class,
                message: "m".into(),
            };
            let text = serde_json::to_string(&error).unwrap();
            assert_eq!(
                text,
                format!("{{\"class\":\"{}\",\"message\":\"m\"}}", class.as_str())
            );
            assert_eq!(
                serde_json::from_str::<HttpEngineError>(&text).unwrap(),
                error
            );
        }
    }

    #[test]
    fn figures_of_a_report() {
        let stdout = serde_json::to_string_pretty(&full_report()).unwrap();
        let obs = parse(&raw(Some(0), &stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 200_000_000.0);
        close(obs.upload_bps, 25_000_000.0);
        assert_eq!(obs.download_bytes, Some(250_000_000));
        assert_eq!(obs.upload_bytes, Some(25_000_000));
        close(obs.ping_ms, 12.0);
        close(obs.jitter_ms, 1.0);
        close(obs.ping_low_ms, 11.5);
        close(obs.ping_high_ms, 13.5);
        close(obs.download_latency_ms, 48.5);
        assert_eq!(obs.upload_latency_ms, None);
        assert_eq!(obs.packet_loss_percent, None);
        assert_eq!(obs.server.host.as_deref(), Some("speed.example:8443"));
        assert_eq!(obs.server.id, None);
    }

    #[test]
    fn a_hand_written_report_with_nulls() {
        let stdout = r#"log line before
{"engine":"netpulse-http","version":1,"target":"https://speed.example/","flavour":"netpulse","streams":4,
 "latency":null,"download":{"bytes":1000,"seconds":0.5,"bits_per_second":16000,"warmup_seconds":0,"latency_ms":null},
 "upload":null,"error":null,"extra":"ignored"}"#;
        let obs = parse(&raw(Some(0), stdout, ""));
        assert!(obs.completed(), "{:?}", obs.failure);
        close(obs.download_bps, 16_000.0);
        assert_eq!(obs.upload_bps, None);
        assert_eq!(obs.ping_ms, None);
        assert_eq!(obs.server.host.as_deref(), Some("speed.example"));
    }

    #[test]
    fn an_error_fails_with_its_class() {
        let stdout = r#"{"engine":"netpulse-http","version":1,"target":"https://[::1]:9000/x","flavour":"cloudflare","streams":2,
            "latency":{"samples_ms":[5],"ping_ms":5,"jitter_ms":null,"low_ms":5,"high_ms":5},
            "download":null,"upload":null,"error":{"class":"network","message":"  connect: connection refused  "}}"#;
        let obs = parse(&raw(Some(1), stdout, ""));
        let failure = obs.failure.clone().unwrap();
        assert_eq!(failure.class, FailureClass::Network);
        assert_eq!(failure.message, "connect: connection refused");
        assert_eq!(obs.ping_ms, None);
        assert_eq!(obs.server.host.as_deref(), Some("[::1]:9000"));

        let unknown = stdout.replace("\"network\"", "\"solar_flare\"");
        let failure = parse(&raw(Some(1), &unknown, "")).failure.unwrap();
        assert_eq!(failure.class, FailureClass::Other);
        assert_eq!(failure.message, "connect: connection refused");
    }

    #[test]
    fn shapes_that_are_not_reports() {
        let cases = [
            r#"{"engine":"netpulse-http","version":2,"target":"http://x","flavour":"netpulse","streams":1}"#,
            r#"{"engine":"other","version":1,"target":"http://x","flavour":"netpulse","streams":1}"#,
            r#"{"engine":"netpulse-http","version":1,"target":"http://x","flavour":"fast.com","streams":1}"#,
            r#"{"engine":"netpulse-http","version":1,"target":"http://x","flavour":"netpulse","streams":1}"#,
            r#"{"engine":"netpulse-http","version":1,"target":"http://x","flavour":"netpulse","streams":1,"download":{"bytes":-5}}"#,
            "[1,2,3]",
            "not json",
        ];
        for stdout in cases {
            let obs = parse(&raw(Some(0), stdout, ""));
            assert_eq!(
                obs.failure.map(|f| f.class),
                Some(FailureClass::InvalidOutput),
                "{stdout}"
            );
        }
    }

    #[test]
    fn zero_seconds_is_an_unknown_throughput() {
        let mut report = HttpEngineReport::new("http://x", HttpFlavour::Netpulse, 1);
        report.download = Some(HttpTransfer::new(1000, 0.0, 0.0, None));
        report.latency = HttpLatency::from_samples(vec![3.0]);
        let obs = observation(&report);
        assert!(obs.completed());
        assert_eq!(obs.download_bps, None);
        assert_eq!(obs.download_bytes, Some(1000));
        close(obs.ping_ms, 3.0);
        assert_eq!(obs.jitter_ms, None);
        // An engine that writes 0 for the jitter of one sample does not make it known.
        report.latency = Some(HttpLatency {
            samples_ms: vec![3.0],
            ping_ms: 3.0,
            jitter_ms: Some(0.0),
            low_ms: 3.0,
            high_ms: 3.0,
        });
        assert_eq!(observation(&report).jitter_ms, None);
    }

    #[test]
    fn latency_statistics() {
        let l = HttpLatency::from_samples(vec![10.0, f64::NAN, 14.0, -1.0, 11.0]).unwrap();
        assert_eq!(l.samples_ms, vec![10.0, 14.0, 11.0]);
        close(Some(l.ping_ms), 11.0);
        assert_eq!(l.jitter_ms, Some(3.5));
        assert_eq!((l.low_ms, l.high_ms), (10.0, 14.0));
        assert_eq!(HttpLatency::from_samples(vec![]), None);
        assert_eq!(median(&[4.0, 1.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://speed.example/").as_deref(),
            Some("speed.example")
        );
        assert_eq!(url_host("http://a:1?q").as_deref(), Some("a:1"));
        assert_eq!(url_host("no scheme"), None);
        assert_eq!(url_host("https:///path"), None);
    }
}
