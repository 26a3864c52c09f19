//! The metrics flags of `netpulse serve` (each also an environment variable; the names of the
//! PHP NetPulse's variables are kept so that an existing `.env` keeps working).

use netpulse_domain::liveness;
use std::time::Duration;

use clap::{ArgAction, Args, ValueEnum};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, Temporality};

use super::MetricsSettings;
use super::access::{AllowList, ScrapeAccess};
use super::remote_write::{RemoteWriteAuth, RemoteWriteConfig, parse_extra_labels};

/// A metrics flag with a bad value (the command line reports it naming the flag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {flag}: {message}")]
pub struct FlagError {
    /// The flag, e.g. `--remote-write-url`.
    pub flag: &'static str,
    /// What is wrong.
    pub message: String,
}

impl FlagError {
    fn new(flag: &'static str, message: impl std::fmt::Display) -> Self {
        Self {
            flag,
            message: message.to_string(),
        }
    }
}

/// OTLP encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OtlpProtocol {
    /// OTLP/HTTP with protobuf bodies.
    #[value(name = "http/protobuf")]
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    #[value(name = "http/json")]
    HttpJson,
}

/// Where to export OTLP metrics.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    /// The full metrics URL, e.g. `http://collector:4318/v1/metrics`.
    pub endpoint: String,
    /// The encoding.
    pub protocol: OtlpProtocol,
    /// Export interval.
    pub interval: Duration,
}

/// A periodic OTLP reader of the same instruments (cumulative temporality, as Prometheus).
pub fn otlp_reader(
    otlp: &OtlpSettings,
) -> Result<PeriodicReader<opentelemetry_otlp::MetricExporter>, String> {
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_endpoint(otlp.endpoint.clone())
        .with_protocol(match otlp.protocol {
            OtlpProtocol::HttpProtobuf => Protocol::HttpBinary,
            OtlpProtocol::HttpJson => Protocol::HttpJson,
        })
        .with_timeout(Duration::from_secs(10))
        .with_temporality(Temporality::Cumulative)
        .build()
        .map_err(|e| format!("OTLP exporter: {e}"))?;
    Ok(PeriodicReader::builder(exporter)
        .with_interval(otlp.interval)
        .build())
}

/// Metrics, remote-write and OTLP options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics at /metrics (`false`: 404).
    #[arg(long, env = "PROMETHEUS_METRICS_ENABLED", value_name = "BOOL", default_value_t = true, action = ArgAction::Set)]
    pub metrics_enabled: bool,

    /// What writes /metrics: `text` (the snapshot written directly) or `opentelemetry` (the
    /// same instruments through opentelemetry-prometheus; same output, ~20× the cost per series).
    #[arg(
        long,
        env = "NETPULSE_METRICS_RENDERER",
        value_enum,
        default_value = "text"
    )]
    pub metrics_renderer: super::PrometheusRenderer,

    /// Who may scrape /metrics: IP addresses or CIDR ranges, comma-separated or repeated
    /// (default: loopback and private ranges; `0.0.0.0/0,::/0`: everyone). Others get 403
    /// unless they send the token. The TCP peer's address is checked (with
    /// `--trust-forwarded-for`, the last `X-Forwarded-For` entry).
    #[arg(
        long = "metrics-allow",
        env = "PROMETHEUS_ALLOWED_IPS",
        value_name = "IP[/PREFIX],…"
    )]
    pub metrics_allow: Vec<String>,

    /// A bearer token that admits a scrape from any address (`Authorization: Bearer TOKEN`;
    /// Prometheus: `authorization: {credentials_file: …}`).
    #[arg(
        long = "metrics-token",
        env = "NETPULSE_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,

    /// `netpulse_up` is 1 while the newest successful test is at most this old, seconds.
    #[arg(long, env = "MEASUREMENT_FRESHNESS_WINDOW", value_name = "SECONDS", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub freshness_window: u32,

    /// Push every recorded measurement to this Prometheus remote-write URL
    /// (e.g. http://prometheus:9090/api/v1/write).
    #[arg(long, env = "REMOTE_WRITE_URL", value_name = "URL")]
    pub remote_write_url: Option<String>,

    /// Switch remote write on or off (default: on when a URL is given).
    #[arg(long, env = "REMOTE_WRITE_ENABLED", value_name = "BOOL", action = ArgAction::Set)]
    pub remote_write_enabled: Option<bool>,

    /// Remote-write credentials: `bearer:TOKEN` or `basic:USER:PASSWORD`.
    #[arg(
        long,
        env = "REMOTE_WRITE_AUTH",
        value_name = "KIND:SECRET",
        hide_env_values = true
    )]
    pub remote_write_auth: Option<String>,

    /// Extra labels on every pushed series: `key=value`, comma-separated or repeated.
    #[arg(
        long = "remote-write-label",
        env = "REMOTE_WRITE_EXTRA_LABELS",
        value_name = "KEY=VALUE,…"
    )]
    pub remote_write_labels: Vec<String>,

    /// How many measurements may wait for delivery; beyond that the oldest is dropped.
    #[arg(long, env = "REMOTE_WRITE_QUEUE_CAPACITY", value_name = "COUNT", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub remote_write_queue_capacity: u32,

    /// Delivery attempts per measurement (transport errors, 5xx and 429 are retried with
    /// exponential back-off from 1 s up to 60 s).
    #[arg(long, env = "REMOTE_WRITE_MAX_ATTEMPTS", value_name = "COUNT", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub remote_write_max_attempts: u32,

    /// Export the same metrics over OTLP/HTTP to this URL (the full metrics path, e.g.
    /// http://collector:4318/v1/metrics).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,

    /// OTLP encoding.
    #[arg(
        long,
        env = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        value_enum,
        default_value = "http/protobuf"
    )]
    pub otlp_protocol: OtlpProtocol,

    /// Seconds between OTLP exports.
    #[arg(long, env = "NETPULSE_OTLP_INTERVAL", value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub otlp_interval: u32,
}

/// Everything the flags configure.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// The exporter.
    pub metrics: MetricsSettings,
    /// Remote write, when on.
    pub remote_write: Option<RemoteWriteConfig>,
    /// OTLP export, when on.
    pub otlp: Option<OtlpSettings>,
}

fn url(flag: &'static str, text: &str) -> Result<String, FlagError> {
    let t = text.trim();
    if (t.starts_with("http://") || t.starts_with("https://")) && t.len() > "https://".len() {
        Ok(t.to_owned())
    } else {
        Err(FlagError::new(flag, format!("{t:?} is not an http(s) URL")))
    }
}

impl MetricsArgs {
    /// Checks the flags; `poll_interval` sets how soon a silent probe is reported down
    /// (`max(120 s, 2 × poll interval + 30 s)`, the agent-state rule).
    pub fn config(&self, poll_interval: u32) -> Result<MetricsConfig, FlagError> {
        let given = AllowList::parse(&self.metrics_allow)
            .map_err(|e| FlagError::new("--metrics-allow", e))?;
        let allow = if given.ranges().is_empty() {
            AllowList::private_networks()
        } else {
            given
        };
        let token = match self.metrics_token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.len() < 16 || t.chars().any(char::is_whitespace) => {
                return Err(FlagError::new(
                    "--metrics-token",
                    "must be at least 16 characters, without spaces",
                ));
            }
            Some(t) => Some(t.to_owned()),
        };
        let metrics = MetricsSettings {
            enabled: self.metrics_enabled,
            renderer: self.metrics_renderer,
            access: ScrapeAccess { allow, token },
            freshness_window_seconds: i64::from(self.freshness_window),
            probe_stale_after_seconds: liveness::stale_after_seconds(poll_interval),
            probe_poll_interval_seconds: poll_interval,
        };
        let url_given = self
            .remote_write_url
            .as_deref()
            .filter(|u| !u.trim().is_empty());
        let remote_write = match (self.remote_write_enabled, url_given) {
            (Some(false), _) | (None, None) => None,
            (Some(true), None) => {
                return Err(FlagError::new(
                    "--remote-write-url",
                    "remote write is enabled but no URL is set",
                ));
            }
            (_, Some(u)) => Some(RemoteWriteConfig {
                url: url("--remote-write-url", u)?,
                auth: self
                    .remote_write_auth
                    .as_deref()
                    .filter(|a| !a.trim().is_empty())
                    .map(RemoteWriteAuth::parse)
                    .transpose()
                    .map_err(|e| FlagError::new("--remote-write-auth", e))?,
                extra_labels: parse_extra_labels(&self.remote_write_labels)
                    .map_err(|e| FlagError::new("--remote-write-label", e))?,
                capacity: self.remote_write_queue_capacity as usize,
                max_attempts: self.remote_write_max_attempts,
                timeout: Duration::from_secs(10),
                initial_backoff: Duration::from_secs(1),
                max_backoff: Duration::from_mins(1),
            }),
        };
        let otlp = match self
            .otlp_endpoint
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            None => None,
            Some(u) => Some(OtlpSettings {
                endpoint: url("--otlp-endpoint", u)?,
                protocol: self.otlp_protocol,
                interval: Duration::from_secs(u64::from(self.otlp_interval)),
            }),
        };
        Ok(MetricsConfig {
            metrics,
            remote_write,
            otlp,
        })
    }
}
