//! The engine: idle latency, then the download and upload phases, within the test's time.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use netpulse_domain::measurement::FailureClass;
use netpulse_domain::model::RawOutput;
use netpulse_domain::pool::Engine;
use netpulse_ports::clock::Clock;
use netpulse_ports::runner::{RunOutput, SpeedtestRunner, TestRequest};
use reqwest::Client;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::config::HttpEngineConfig;
use super::report::{engine_error, millis, round, summary};
use super::requests::{download_stream, loaded_pings, ping_once, upload_stream, wait_or_fail};
use super::target::HttpTarget;
use crate::parse::http::{
    HttpEngineError, HttpEngineReport, HttpFlavour, HttpLatency, HttpTransfer, median,
};

/// How long a loaded-latency ping in flight may finish after its phase ended.
const PINGER_GRACE: Duration = Duration::from_secs(1);

/// The built-in HTTP engine.
#[derive(Debug, Clone)]
pub struct HttpRunner {
    config: HttpEngineConfig,
    clock: Arc<dyn Clock>,
}

impl HttpRunner {
    /// An engine with the given settings, stamping runs with `clock`.
    pub fn new(config: HttpEngineConfig, clock: Arc<dyn Clock>) -> Self {
        Self { config, clock }
    }

    /// The settings.
    pub fn config(&self) -> &HttpEngineConfig {
        &self.config
    }

    /// Runs the measurement and returns the report (never fails: errors are in the report).
    pub async fn measure(&self, request: &TestRequest) -> HttpEngineReport {
        let deadline = Instant::now() + request.timeout;
        let mut report = HttpEngineReport::new(
            request
                .pool_entry
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            HttpFlavour::Netpulse,
            u32::try_from(self.config.streams).unwrap_or(u32::MAX),
        );
        let configuration =
            |message: String| Some(engine_error(FailureClass::Configuration, message));
        let target = match &request.pool_entry {
            None => Err(
                "the HTTP engine needs a base URL (http://… or https://…) as its pool entry"
                    .to_owned(),
            ),
            Some(entry) => HttpTarget::parse(entry.as_str()),
        };
        let target = match target {
            Ok(t) => t,
            Err(message) => {
                report.error = configuration(message);
                return report;
            }
        };
        report.target = target.display();
        report.flavour = target.flavour();
        if let Err(message) = self.config.validate() {
            report.error = configuration(message);
            return report;
        }
        let (ping_client, load_client) = match (self.client(request), self.client(request)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(message), _) | (_, Err(message)) => {
                report.error = configuration(message);
                return report;
            }
        };
        let timed_out = |phase: &str| {
            Some(engine_error(
                FailureClass::Timeout,
                format!(
                    "the test did not finish within {:?}; stopped during {phase}",
                    request.timeout
                ),
            ))
        };

        match tokio::time::timeout_at(deadline, self.idle_latency(&ping_client, &target)).await {
            Ok(Ok(latency)) => report.latency = Some(latency),
            Ok(Err(e)) => report.error = Some(e),
            Err(_) => report.error = timed_out("the latency test"),
        }
        for direction in [LoadDirection::Download, LoadDirection::Upload] {
            if report.error.is_some() {
                break;
            }
            let phase = self.load_phase(direction, &target, &load_client, &ping_client);
            match tokio::time::timeout_at(deadline, phase).await {
                Ok(Ok(transfer)) => match direction {
                    LoadDirection::Download => report.download = Some(transfer),
                    LoadDirection::Upload => report.upload = Some(transfer),
                },
                Ok(Err(e)) => report.error = Some(e),
                Err(_) => report.error = timed_out(direction.as_str()),
            }
        }
        report
    }

    fn client(&self, request: &TestRequest) -> Result<Client, String> {
        let mut builder = Client::builder()
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .connect_timeout(self.config.request_timeout)
            .user_agent(concat!("netpulse-agent/", env!("CARGO_PKG_VERSION")));
        if let Some(address) = non_empty(request.source_address.as_deref()) {
            let ip: IpAddr = address
                .parse()
                .map_err(|_| format!("source address {address:?} is not an IP address"))?;
            builder = builder.local_address(ip);
        }
        if let Some(interface) = non_empty(request.source_interface.as_deref()) {
            builder = bind_interface(builder, interface)?;
        }
        builder
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))
    }

    async fn idle_latency(
        &self,
        client: &Client,
        target: &HttpTarget,
    ) -> Result<HttpLatency, HttpEngineError> {
        let url = target.ping_url();
        // Opens and warms the connection; not counted.
        ping_once(client, &url, self.config.request_timeout).await?;
        let mut samples = Vec::with_capacity(self.config.ping_samples);
        for _ in 0..self.config.ping_samples {
            let took = ping_once(client, &url, self.config.request_timeout).await?;
            samples.push(millis(took));
        }
        HttpLatency::from_samples(samples)
            .ok_or_else(|| engine_error(FailureClass::Other, "no latency samples"))
    }

    async fn load_phase(
        &self,
        direction: LoadDirection,
        target: &HttpTarget,
        load_client: &Client,
        ping_client: &Client,
    ) -> Result<HttpTransfer, HttpEngineError> {
        let counter = Arc::new(AtomicU64::new(0));
        let mut streams = JoinSet::new();
        for _ in 0..self.config.streams {
            let client = load_client.clone();
            let counter = Arc::clone(&counter);
            match direction {
                LoadDirection::Download => {
                    let url = target.download_url(self.config.download_request_bytes);
                    streams.spawn(download_stream(client, url, counter));
                }
                LoadDirection::Upload => {
                    let url = target.upload_url();
                    let size = self.config.upload_request_bytes;
                    streams.spawn(upload_stream(client, url, size, counter));
                }
            }
        }
        let start = Instant::now();
        let warm = start + self.config.warmup;
        let end = start + self.config.duration;

        let stop = Arc::new(AtomicBool::new(false));
        let loaded = Arc::new(Mutex::new(Vec::new()));
        // In a JoinSet, so that the pinger is aborted if this phase is dropped (timeout).
        let mut pinger = JoinSet::new();
        pinger.spawn(loaded_pings(
            ping_client.clone(),
            target.ping_url(),
            self.config.request_timeout,
            self.config.loaded_ping_interval,
            warm,
            Arc::clone(&stop),
            Arc::clone(&loaded),
        ));

        let outcome = async {
            wait_or_fail(&mut streams, warm).await?;
            let counted_from = (counter.load(Ordering::Relaxed), Instant::now());
            wait_or_fail(&mut streams, end).await?;
            let counted_to = (counter.load(Ordering::Relaxed), Instant::now());
            Ok((counted_from, counted_to))
        }
        .await;
        stop.store(true, Ordering::SeqCst);
        streams.abort_all();
        // Let a ping in flight finish (it is not recorded), so that its connection stays
        // usable; then give up on it.
        let _ = tokio::time::timeout(PINGER_GRACE, pinger.join_next()).await;
        drop(pinger);
        let ((bytes_from, time_from), (bytes_to, time_to)) = outcome?;

        let bytes = bytes_to - bytes_from;
        let seconds = (time_to - time_from).as_secs_f64();
        if bytes == 0 {
            return Err(engine_error(
                FailureClass::Network,
                format!("no data was {} after the warm-up", direction.verb()),
            ));
        }
        let loaded = loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Ok(HttpTransfer::new(
            bytes,
            round(seconds, 6),
            round((time_from - start).as_secs_f64(), 6),
            median(&loaded).map(|m| round(m, 3)),
        ))
    }

    async fn run_report(&self, request: &TestRequest) -> RunOutput {
        let started_at = self.clock.now();
        let report = self.measure(request).await;
        let finished_at = self.clock.now();
        let mut stdout = serde_json::to_string(&report).unwrap_or_else(|e| {
            // Serialising plain structs of strings and finite numbers cannot fail; keep the
            // output well-formed anyway.
            format!(
                r#"{{"engine":"{}","version":{},"error":{{"class":"other","message":"cannot serialise the report: {}"}}}}"#,
                HttpEngineReport::ENGINE,
                HttpEngineReport::VERSION,
                e.to_string().replace(['"', '\\'], "'")
            )
        });
        stdout.push('\n');
        RunOutput {
            started_at,
            finished_at,
            raw: RawOutput {
                exit_code: Some(i32::from(report.error.is_some())),
                stdout,
                stderr: summary(&report),
            },
        }
    }
}

#[async_trait]
impl SpeedtestRunner for HttpRunner {
    fn engine(&self) -> Engine {
        Engine::Http
    }

    /// Always: the engine is built in.
    async fn available(&self) -> bool {
        true
    }

    async fn run(&self, request: &TestRequest) -> RunOutput {
        self.run_report(request).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadDirection {
    Download,
    Upload,
}

impl LoadDirection {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Download => "download",
            Self::Upload => "upload",
        }
    }

    const fn verb(self) -> &'static str {
        match self {
            Self::Download => "received",
            Self::Upload => "sent",
        }
    }
}

#[cfg(any(
    target_os = "android",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "ios",
    target_os = "linux",
    target_os = "macos",
    target_os = "solaris",
    target_os = "tvos",
    target_os = "visionos",
    target_os = "watchos",
))]
#[allow(clippy::unnecessary_wraps)]
fn bind_interface(
    builder: reqwest::ClientBuilder,
    interface: &str,
) -> Result<reqwest::ClientBuilder, String> {
    Ok(builder.interface(interface))
}

#[cfg(not(any(
    target_os = "android",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "ios",
    target_os = "linux",
    target_os = "macos",
    target_os = "solaris",
    target_os = "tvos",
    target_os = "visionos",
    target_os = "watchos",
)))]
fn bind_interface(
    _: reqwest::ClientBuilder,
    interface: &str,
) -> Result<reqwest::ClientBuilder, String> {
    Err(format!(
        "binding to interface {interface} is not supported on this system"
    ))
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}
