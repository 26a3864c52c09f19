//! The built-in HTTP engine: measures latency, download and upload against an HTTP(S) server,
//! with no external tool.
//!
//! # Pool entries and flavours
//!
//! The pool entry is the base URL, `http://…` or `https://…`. Three server flavours are
//! supported; `{base}` is the entry without its query, without a trailing `/`:
//!
//! | flavour | chosen when | idle/loaded ping | download | upload |
//! |---|---|---|---|---|
//! | `netpulse` | otherwise (the default) | `GET {base}/speedtest/ping` | `GET {base}/speedtest/down?bytes=N` | `POST {base}/speedtest/up` |
//! | `librespeed` | the path ends with `/backend` | `GET {base}/empty.php` | `GET {base}/garbage.php?ckSize=M` | `POST {base}/empty.php` |
//! | `cloudflare` | the host is `speed.cloudflare.com` | `GET {base}/__down?bytes=0` | `GET {base}/__down?bytes=N` | `POST {base}/__up` |
//!
//! A query `?flavour=netpulse|librespeed|cloudflare` overrides the choice (and is removed
//! from `{base}`). Any other query parameter, a fragment, or a URL without a host is a
//! `configuration` error. `N` is [`HttpEngineConfig::download_request_bytes`]; for
//! LibreSpeed, `M` is that size in MiB, rounded up, between 1 and 1024. The `netpulse` flavour
//! is what `crate::speedtest_target::routes` serves (feature `speedtest-target`).
//!
//! # Measurement
//!
//! Two HTTP/1.1 clients are used (no proxy, so the path measured is the direct one): one for
//! latency and one for the load. Both bind the request's source address/interface if given.
//!
//! 1. **Idle latency.** One untimed ping opens (and warms) a connection, then
//!    [`HttpEngineConfig::ping_samples`] sequential pings on it are timed from sending the
//!    request to receiving the response headers. `ping_ms` is their median, `jitter_ms` the
//!    mean absolute difference of consecutive samples (`null` with a single sample),
//!    `low_ms`/`high_ms` min and max (see [`HttpLatency::from_samples`]).
//! 2. **Download.** [`HttpEngineConfig::streams`] parallel streams (each its own connection)
//!    issue download requests back to back for [`HttpEngineConfig::duration`], counting body
//!    bytes as they arrive. Bytes received during the first [`HttpEngineConfig::warmup`] are
//!    not counted: `bytes` is what arrived after the warm-up, `seconds` the time from the end
//!    of the warm-up to the end of the phase, `bits_per_second = bytes × 8 / seconds`.
//!    Meanwhile (after the warm-up) the latency client pings every
//!    [`HttpEngineConfig::loaded_ping_interval`]; `latency_ms` is the median of those pings
//!    (`null` when none completed in the phase).
//! 3. **Upload.** The same with `POST` requests of
//!    [`HttpEngineConfig::upload_request_bytes`] each, streamed from one reusable random
//!    buffer in 64 KiB chunks; a chunk counts as sent when the HTTP client takes it.
//!
//! Requests in flight when a phase ends are dropped. The whole test must finish within the
//! request's timeout, otherwise it stops with error class `timeout`, keeping the phases that
//! completed.
//!
//! # Output
//!
//! stdout is one JSON line, an [`HttpEngineReport`] (the type the server's parser,
//! [`crate::parse::http`], reads: the engine reuses it so that the two cannot drift apart):
//!
//! ```json
//! {"engine":"netpulse-http","version":1,"target":"https://speed.example/","flavour":"netpulse","streams":4,
//!  "latency":{"samples_ms":[…],"ping_ms":3.1,"jitter_ms":0.4,"low_ms":2.8,"high_ms":4.0},
//!  "download":{"bytes":…,"seconds":8.0,"bits_per_second":…,"warmup_seconds":2.0,"latency_ms":12.5},
//!  "upload":{…},"error":null}
//! ```
//!
//! `latency`, `download` and `upload` are `null` when not measured; `error` is `null` or
//! `{"class":…,"message":…}` with class `configuration` (bad URL or settings), `network`
//! (connecting, sending or receiving failed, or a request timed out), `timeout` (the test's
//! time ran out) or `other` (e.g. the server answered with an error status). A password in the
//! URL is shown as `***` in `target`. stderr is a one-line human summary (no agent marker
//! lines: the report's `error` is the engine's own account of the failure). The exit code is
//! `Some(0)` on success and `Some(1)` when `error` is set.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use netpulse_domain::measurement::FailureClass;
use netpulse_domain::model::RawOutput;
use netpulse_domain::pool::Engine;
use netpulse_ports::clock::Clock;
use netpulse_ports::runner::{RunOutput, SpeedtestRunner, TestRequest};
use reqwest::{Client, Url};

use crate::parse::http::{
    HttpEngineError, HttpEngineReport, HttpFlavour, HttpLatency, HttpTransfer, median,
};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The largest request size: 1 GiB (what the netpulse target serves at most per request).
pub const MAX_REQUEST_BYTES: u64 = 1 << 30;

/// The size of the random upload buffer: 1 MiB.
const UPLOAD_BLOCK_BYTES: usize = 1 << 20;

/// The chunk size of upload bodies.
const UPLOAD_CHUNK_BYTES: usize = 64 * 1024;

/// How long a loaded-latency ping in flight may finish after its phase ended.
const PINGER_GRACE: Duration = Duration::from_secs(1);

/// Settings of the HTTP engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpEngineConfig {
    /// Parallel streams (connections) for download and upload (default 4).
    pub streams: usize,
    /// Length of each of the download and upload phases, warm-up included (default 10 s).
    pub duration: Duration,
    /// The start of each phase that is not counted (default 2 s); must be shorter than
    /// [`duration`](Self::duration).
    pub warmup: Duration,
    /// Timed idle pings (default 10).
    pub ping_samples: usize,
    /// Pause between loaded-latency pings (default 250 ms).
    pub loaded_ping_interval: Duration,
    /// Bytes asked for per download request (default 25 MiB, at most 1 GiB).
    pub download_request_bytes: u64,
    /// Bytes sent per upload request (default 8 MiB, at most 1 GiB).
    pub upload_request_bytes: u64,
    /// Connect timeout, and the timeout of each ping (default 10 s).
    pub request_timeout: Duration,
}

impl Default for HttpEngineConfig {
    fn default() -> Self {
        Self {
            streams: 4,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            ping_samples: 10,
            loaded_ping_interval: Duration::from_millis(250),
            download_request_bytes: 25 << 20,
            upload_request_bytes: 8 << 20,
            request_timeout: Duration::from_secs(10),
        }
    }
}

impl HttpEngineConfig {
    /// Checks the settings; the error message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.streams == 0 || self.streams > 64 {
            return Err(format!("streams must be 1 to 64, not {}", self.streams));
        }
        if self.warmup >= self.duration {
            return Err(format!(
                "the warm-up ({:?}) must be shorter than the phase ({:?})",
                self.warmup, self.duration
            ));
        }
        if self.ping_samples == 0 {
            return Err("ping_samples must be at least 1".to_owned());
        }
        for (name, bytes) in [
            ("download_request_bytes", self.download_request_bytes),
            ("upload_request_bytes", self.upload_request_bytes),
        ] {
            if bytes == 0 || bytes > MAX_REQUEST_BYTES {
                return Err(format!(
                    "{name} must be 1 to {MAX_REQUEST_BYTES}, not {bytes}"
                ));
            }
        }
        if self.request_timeout.is_zero() || self.loaded_ping_interval.is_zero() {
            return Err("request_timeout and loaded_ping_interval must not be zero".to_owned());
        }
        Ok(())
    }
}

/// A report error of `class`.
fn engine_error(class: FailureClass, message: impl Into<String>) -> HttpEngineError {
    HttpEngineError {
        class,
        message: message.into(),
    }
}

/// The report error of a failed request: `configuration` for requests that cannot be built,
/// `network` for connecting, sending, receiving and request timeouts, `other` otherwise.
fn reqwest_error(what: &str, e: &reqwest::Error) -> HttpEngineError {
    let class = if e.is_builder() {
        FailureClass::Configuration
    } else if e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() {
        FailureClass::Network
    } else {
        FailureClass::Other
    };
    let mut message = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    engine_error(class, message)
}

/// A parsed base URL with its flavour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    base: Url,
    flavour: HttpFlavour,
}

impl HttpTarget {
    /// Parses a pool entry (see the [module documentation](self) for the rules).
    pub fn parse(entry: &str) -> Result<Self, String> {
        let mut url = Url::parse(entry).map_err(|e| format!("{entry} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{entry}: only http:// and https:// are supported"));
        }
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return Err(format!("{entry}: the URL has no host"));
        };
        if url.fragment().is_some() {
            return Err(format!("{entry}: the URL must not have a fragment"));
        }
        let mut chosen = None;
        for (key, value) in url.query_pairs() {
            if key != "flavour" {
                return Err(format!(
                    "{entry}: unknown query parameter {key:?} (only flavour is allowed)"
                ));
            }
            if chosen.is_some() {
                return Err(format!("{entry}: flavour is given twice"));
            }
            chosen = Some(match value.as_ref() {
                "netpulse" => HttpFlavour::Netpulse,
                "librespeed" => HttpFlavour::Librespeed,
                "cloudflare" => HttpFlavour::Cloudflare,
                other => {
                    return Err(format!(
                        "{entry}: unknown flavour {other:?} (netpulse, librespeed or cloudflare)"
                    ));
                }
            });
        }
        url.set_query(None);
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        let flavour = chosen.unwrap_or(if host == "speed.cloudflare.com" {
            HttpFlavour::Cloudflare
        } else if path.ends_with("/backend") {
            HttpFlavour::Librespeed
        } else {
            HttpFlavour::Netpulse
        });
        Ok(Self { base: url, flavour })
    }

    /// The flavour.
    pub fn flavour(&self) -> HttpFlavour {
        self.flavour
    }

    /// The base URL for reports, with any password replaced by `***`.
    pub fn display(&self) -> String {
        let mut shown = self.base.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        shown.to_string()
    }

    fn endpoint(&self, path: &str, query: Option<&str>) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{path}", self.base.path().trim_end_matches('/'));
        url.set_path(&joined);
        url.set_query(query);
        url
    }

    /// The URL pings go to.
    pub fn ping_url(&self) -> Url {
        match self.flavour {
            HttpFlavour::Netpulse => self.endpoint("speedtest/ping", None),
            HttpFlavour::Librespeed => self.endpoint("empty.php", None),
            HttpFlavour::Cloudflare => self.endpoint("__down", Some("bytes=0")),
        }
    }

    /// The URL of one download request of (about) `bytes` bytes.
    pub fn download_url(&self, bytes: u64) -> Url {
        match self.flavour {
            HttpFlavour::Netpulse => {
                self.endpoint("speedtest/down", Some(&format!("bytes={bytes}")))
            }
            HttpFlavour::Librespeed => {
                let mib = bytes.div_ceil(1 << 20).clamp(1, 1024);
                self.endpoint("garbage.php", Some(&format!("ckSize={mib}")))
            }
            HttpFlavour::Cloudflare => self.endpoint("__down", Some(&format!("bytes={bytes}"))),
        }
    }

    /// The URL upload requests are posted to.
    pub fn upload_url(&self) -> Url {
        match self.flavour {
            HttpFlavour::Netpulse => self.endpoint("speedtest/up", None),
            HttpFlavour::Librespeed => self.endpoint("empty.php", None),
            HttpFlavour::Cloudflare => self.endpoint("__up", None),
        }
    }
}

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

/// Waits until `until`, failing early with the first stream that stops (streams only stop
/// with an error).
async fn wait_or_fail(
    streams: &mut JoinSet<HttpEngineError>,
    until: Instant,
) -> Result<(), HttpEngineError> {
    tokio::select! {
        () = tokio::time::sleep_until(until) => Ok(()),
        Some(stopped) = streams.join_next() => Err(stopped.unwrap_or_else(|e| {
            engine_error(FailureClass::Other, format!("a transfer stream stopped: {e}"))
        })),
    }
}

fn check_status(what: &str, response: &reqwest::Response) -> Result<(), HttpEngineError> {
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(engine_error(
            FailureClass::Other,
            format!("{what} answered HTTP {status}"),
        ))
    }
}

/// One ping: the time from sending the request to receiving the response headers.
async fn ping_once(
    client: &Client,
    url: &Url,
    timeout: Duration,
) -> Result<Duration, HttpEngineError> {
    let what = format!("GET {url}");
    let started = Instant::now();
    let response = client
        .get(url.clone())
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| reqwest_error(&what, &e))?;
    let took = started.elapsed();
    check_status(&what, &response)?;
    // Drain the (tiny) body so that the connection goes back to the pool.
    response
        .bytes()
        .await
        .map_err(|e| reqwest_error(&what, &e))?;
    Ok(took)
}

/// Pings every `interval` from `from` on, until `stop`; keeps the samples that completed
/// before `stop` was set.
async fn loaded_pings(
    client: Client,
    url: Url,
    timeout: Duration,
    interval: Duration,
    from: Instant,
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<f64>>>,
) {
    tokio::time::sleep_until(from).await;
    while !stop.load(Ordering::SeqCst) {
        if let Ok(took) = ping_once(&client, &url, timeout).await {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            samples
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(millis(took));
        }
        tokio::time::sleep(interval).await;
    }
}

/// Downloads from `url` over and over, adding received body bytes to `counter` as they
/// arrive. Returns only on failure.
async fn download_stream(client: Client, url: Url, counter: Arc<AtomicU64>) -> HttpEngineError {
    let what = format!("GET {url}");
    loop {
        let mut response = match client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => return reqwest_error(&what, &e),
        };
        if let Err(e) = check_status(&what, &response) {
            return e;
        }
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                Ok(None) => break,
                Err(e) => return reqwest_error(&what, &e),
            }
        }
    }
}

/// Uploads `size` bytes to `url` over and over, adding body bytes to `counter` as the HTTP
/// client takes them. Returns only on failure.
async fn upload_stream(
    client: Client,
    url: Url,
    size: u64,
    counter: Arc<AtomicU64>,
) -> HttpEngineError {
    let what = format!("POST {url}");
    let block = upload_block();
    loop {
        let chunk_counter = Arc::clone(&counter);
        let chunks = (0..size.div_ceil(UPLOAD_CHUNK_BYTES as u64)).map(move |i| {
            let offset = (i * UPLOAD_CHUNK_BYTES as u64) as usize % UPLOAD_BLOCK_BYTES;
            let len = (size - i * UPLOAD_CHUNK_BYTES as u64).min(UPLOAD_CHUNK_BYTES as u64);
            chunk_counter.fetch_add(len, Ordering::Relaxed);
            Ok::<_, std::convert::Infallible>(&block[offset..offset + len as usize])
        });
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let sent = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return reqwest_error(&what, &e),
        };
        if let Err(e) = check_status(&what, &response) {
            return e;
        }
        if let Err(e) = response.bytes().await {
            return reqwest_error(&what, &e);
        }
    }
}

/// The random upload buffer (SplitMix64 seeded from the clock: incompressible, not secret).
fn upload_block() -> &'static [u8] {
    static BLOCK: OnceLock<Box<[u8]>> = OnceLock::new();
    BLOCK.get_or_init(|| {
        let mut state = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x2545_F491_4F6C_DD1D, |d| d.as_nanos() as u64);
        let mut data = Vec::with_capacity(UPLOAD_BLOCK_BYTES);
        while data.len() < UPLOAD_BLOCK_BYTES {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            data.extend_from_slice(&z.to_le_bytes());
        }
        data.into_boxed_slice()
    })
}

fn millis(d: Duration) -> f64 {
    round(d.as_secs_f64() * 1000.0, 3)
}

fn round(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

/// A flavour's name, as in URLs and reports.
pub const fn flavour_name(flavour: HttpFlavour) -> &'static str {
    match flavour {
        HttpFlavour::Netpulse => "netpulse",
        HttpFlavour::Librespeed => "librespeed",
        HttpFlavour::Cloudflare => "cloudflare",
    }
}

/// The one-line human summary for stderr.
fn summary(report: &HttpEngineReport) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &report.latency {
        let mut part = format!("idle latency {:.2} ms", l.ping_ms);
        if let Some(jitter) = l.jitter_ms {
            let _ = write!(part, " (jitter {jitter:.2} ms)");
        }
        parts.push(part);
    }
    for (name, transfer) in [("download", &report.download), ("upload", &report.upload)] {
        if let Some(t) = transfer {
            let mut part = format!("{name} {:.2} Mbit/s", t.bits_per_second / 1e6);
            if let Some(loaded) = t.latency_ms {
                let _ = write!(part, " (loaded latency {loaded:.2} ms)");
            }
            parts.push(part);
        }
    }
    let mut line = format!(
        "{} ({} flavour, {} streams) against {}",
        HttpEngineReport::ENGINE,
        flavour_name(report.flavour),
        report.streams,
        report.target
    );
    if !parts.is_empty() {
        line.push_str(": ");
        line.push_str(&parts.join(", "));
    }
    if let Some(e) = &report.error {
        let _ = write!(line, "; failed ({}): {}", e.class.as_str(), e.message);
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavours_and_endpoints_follow_the_documented_rules() {
        let t = HttpTarget::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Netpulse);
        assert_eq!(
            t.ping_url().as_str(),
            "http://127.0.0.1:8080/speedtest/ping"
        );
        assert_eq!(
            t.download_url(1000).as_str(),
            "http://127.0.0.1:8080/speedtest/down?bytes=1000"
        );
        assert_eq!(
            t.upload_url().as_str(),
            "http://127.0.0.1:8080/speedtest/up"
        );

        let t = HttpTarget::parse("https://np.example/sub/").unwrap();
        assert_eq!(
            t.ping_url().as_str(),
            "https://np.example/sub/speedtest/ping"
        );
        assert_eq!(t.display(), "https://np.example/sub");

        let t = HttpTarget::parse("https://ls.example/speed/backend").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Librespeed);
        assert_eq!(
            t.ping_url().as_str(),
            "https://ls.example/speed/backend/empty.php"
        );
        assert_eq!(
            t.download_url(25 << 20).as_str(),
            "https://ls.example/speed/backend/garbage.php?ckSize=25"
        );
        assert_eq!(
            t.download_url(1).as_str(),
            "https://ls.example/speed/backend/garbage.php?ckSize=1"
        );
        assert_eq!(
            t.upload_url().as_str(),
            "https://ls.example/speed/backend/empty.php"
        );

        let t = HttpTarget::parse("https://ls.example/?flavour=librespeed").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Librespeed);
        assert_eq!(t.ping_url().as_str(), "https://ls.example/empty.php");

        let t = HttpTarget::parse("https://speed.cloudflare.com").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Cloudflare);
        assert_eq!(
            t.ping_url().as_str(),
            "https://speed.cloudflare.com/__down?bytes=0"
        );
        assert_eq!(
            t.download_url(5).as_str(),
            "https://speed.cloudflare.com/__down?bytes=5"
        );
        assert_eq!(t.upload_url().as_str(), "https://speed.cloudflare.com/__up");

        let t = HttpTarget::parse("http://cf-mirror.example/x?flavour=cloudflare").unwrap();
        assert_eq!(t.upload_url().as_str(), "http://cf-mirror.example/x/__up");

        let t = HttpTarget::parse("https://speed.cloudflare.com/backend?flavour=netpulse").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Netpulse);
    }

    #[test]
    fn bad_urls_are_rejected() {
        for bad in [
            "ftp://x.example",
            "http://",
            "not a url",
            "http://x.example/?token=1",
            "http://x.example/?flavour=ookla",
            "http://x.example/?flavour=netpulse&flavour=cloudflare",
            "http://x.example/#frag",
        ] {
            assert!(HttpTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_not_shown() {
        let t = HttpTarget::parse("https://user:secret@np.example/").unwrap();
        assert_eq!(t.display(), "https://user:***@np.example/");
    }

    #[test]
    fn settings_are_validated() {
        assert!(HttpEngineConfig::default().validate().is_ok());
        let bad = [
            HttpEngineConfig {
                streams: 0,
                ..HttpEngineConfig::default()
            },
            HttpEngineConfig {
                warmup: Duration::from_secs(10),
                ..HttpEngineConfig::default()
            },
            HttpEngineConfig {
                ping_samples: 0,
                ..HttpEngineConfig::default()
            },
            HttpEngineConfig {
                upload_request_bytes: 0,
                ..HttpEngineConfig::default()
            },
            HttpEngineConfig {
                download_request_bytes: MAX_REQUEST_BYTES + 1,
                ..HttpEngineConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }

    #[test]
    fn the_summary_names_figures_and_failures() {
        let mut report = HttpEngineReport::new("http://x/", HttpFlavour::Librespeed, 4);
        report.latency = HttpLatency::from_samples(vec![1.0, 2.0, 4.0]);
        report.download = Some(HttpTransfer::new(1_000_000, 1.0, 0.5, Some(7.25)));
        report.error = Some(engine_error(FailureClass::Timeout, "ran out of time"));
        assert_eq!(
            summary(&report),
            "netpulse-http (librespeed flavour, 4 streams) against http://x/: idle latency 2.00 ms \
             (jitter 1.50 ms), download 8.00 Mbit/s (loaded latency 7.25 ms); failed (timeout): \
             ran out of time\n"
        );
    }
}
