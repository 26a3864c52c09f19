//! Prometheus remote write (protocol 1.0): every recorded measurement becomes one
//! `WriteRequest` (protobuf, snappy block format) with its true completion time, pushed to the
//! configured receiver by a background task.
//!
//! Ingest only appends to a bounded in-memory queue (it never waits and never fails because of
//! remote write). The task delivers the queue in order; a transport error, a 5xx or a 429 is
//! retried with exponential back-off up to `max_attempts`, another 4xx is given up at once (the
//! receiver refused the data, e.g. an out-of-order sample). Every failed attempt counts in
//! `netpulse_remote_write_failures_total`; requests given up count in
//! `netpulse_remote_write_dropped_total{reason}` (`queue_full`: the oldest waiting request is
//! dropped to make room; `undeliverable`: retries exhausted or refused).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use netpulse_domain::alert::AlertEdge;
use netpulse_domain::model::Measurement;
use tokio::sync::Notify;

use super::state::{ConnectionLabels, RemoteWriteCounts};
use netpulse_ports::listener::RecordListener;

/// Counters shared with `/metrics`.
#[derive(Debug, Default)]
pub struct RemoteWriteStats {
    enabled: AtomicBool,
    failures: AtomicU64,
    sent: AtomicU64,
    dropped_queue_full: AtomicU64,
    dropped_undeliverable: AtomicU64,
    queued: AtomicU64,
}

impl RemoteWriteStats {
    /// A snapshot of the counters.
    pub fn counts(&self) -> RemoteWriteCounts {
        RemoteWriteCounts {
            enabled: self.enabled.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            dropped_queue_full: self.dropped_queue_full.load(Ordering::Relaxed),
            dropped_undeliverable: self.dropped_undeliverable.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
        }
    }
}

/// How the receiver authenticates us.
#[derive(Clone, PartialEq, Eq)]
pub enum RemoteWriteAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for RemoteWriteAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bearer(_) => f.write_str("Bearer(***)"),
            Self::Basic { user, .. } => write!(f, "Basic({user}:***)"),
        }
    }
}

impl RemoteWriteAuth {
    /// Reads `bearer:TOKEN` or `basic:USER:PASSWORD` (the PHP NetPulse's syntax). Anything else
    /// is an error (the PHP version silently sent no credentials).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            Some((kind, token)) if kind.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
                Ok(Self::Bearer(token.to_owned()))
            }
            Some((kind, rest)) if kind.eq_ignore_ascii_case("basic") => {
                match rest.split_once(':') {
                    Some((user, password)) if !user.is_empty() => Ok(Self::Basic {
                        user: user.to_owned(),
                        password: password.to_owned(),
                    }),
                    _ => Err("basic auth must be basic:USER:PASSWORD".into()),
                }
            }
            _ => Err("must be bearer:TOKEN or basic:USER:PASSWORD".into()),
        }
    }

    fn header(&self) -> String {
        match self {
            Self::Bearer(t) => format!("Bearer {t}"),
            Self::Basic { user, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
        }
    }
}

/// Labels a measurement's series carry besides the built-in ones.
const RESERVED_LABELS: [&str; 8] = [
    "__name__",
    "probe",
    "connection",
    "site",
    "server_name",
    "server_id",
    "isp",
    "engine",
];

/// Reads `key=value` extra labels; names must be valid Prometheus label names that are not
/// reserved (`__…`) or used by NetPulse itself.
pub fn parse_extra_labels<S: AsRef<str>>(items: &[S]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in items {
        for pair in item.as_ref().split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} is not key=value"))?;
            let k = k.trim();
            let valid = k
                .chars()
                .enumerate()
                .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
            if k.is_empty() || !valid || k.starts_with("__") {
                return Err(format!("{k:?} is not a valid label name"));
            }
            if RESERVED_LABELS.contains(&k) {
                return Err(format!("{k:?} is set by NetPulse itself"));
            }
            if out.iter().any(|(x, _)| x == k) {
                return Err(format!("{k:?} is given twice"));
            }
            out.push((k.to_owned(), v.trim().to_owned()));
        }
    }
    Ok(out)
}

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct RemoteWriteConfig {
    /// The receiver, e.g. `http://prometheus:9090/api/v1/write`.
    pub url: String,
    /// Credentials.
    pub auth: Option<RemoteWriteAuth>,
    /// Added to every series.
    pub extra_labels: Vec<(String, String)>,
    /// How many requests may wait; beyond that the oldest is dropped.
    pub capacity: usize,
    /// Attempts per request before it is given up.
    pub max_attempts: u32,
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// Back-off after the first failed attempt (doubled after each further one).
    pub initial_backoff: Duration,
    /// Longest back-off.
    pub max_backoff: Duration,
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// One series of a write request.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    /// Label pairs, sorted by name (the remote-write spec requires it).
    pub labels: Vec<(String, String)>,
    /// `(value, timestamp in ms)`, oldest first.
    pub samples: Vec<(f64, i64)>,
}

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn len_field(buf: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    buf.push((field << 3) | 2);
    varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// The protobuf `WriteRequest` (uncompressed): `timeseries = 1`; TimeSeries `labels = 1`,
/// `samples = 2`; Label `name = 1`, `value = 2`; Sample `value = 1` (double),
/// `timestamp = 2` (int64).
pub fn encode_write_request(series: &[TimeSeries]) -> Vec<u8> {
    let mut out = Vec::new();
    for ts in series {
        let mut body = Vec::new();
        for (name, value) in &ts.labels {
            let mut label = Vec::new();
            len_field(&mut label, 1, name.as_bytes());
            len_field(&mut label, 2, value.as_bytes());
            len_field(&mut body, 1, &label);
        }
        for (value, timestamp) in &ts.samples {
            let mut sample = vec![0x09];
            sample.extend_from_slice(&value.to_le_bytes());
            sample.push(0x10);
            varint(&mut sample, *timestamp as u64);
            len_field(&mut body, 2, &sample);
        }
        len_field(&mut out, 1, &body);
    }
    out
}

/// The series of one measurement: `netpulse_up` (1 completed, 0 failed) and, for a completed
/// one, its figures, `netpulse_connection_healthy` and `netpulse_last_result_timestamp_seconds`,
/// all stamped with the completion time. Empty label values are left out (Prometheus treats
/// them as absent); labels are sorted.
pub fn measurement_series(
    m: &Measurement,
    labels: &ConnectionLabels,
    extra: &[(String, String)],
) -> Vec<TimeSeries> {
    let o = &m.observation;
    let ts = m.completed_at.unix_millis();
    let mut common: Vec<(String, String)> = vec![
        ("probe".into(), labels.probe.to_string()),
        ("connection".into(), labels.connection.to_string()),
        ("site".into(), labels.site.to_string()),
        ("engine".into(), m.engine.as_str().into()),
    ];
    if o.completed() {
        common.push((
            "server_name".into(),
            o.server.name.clone().unwrap_or_default(),
        ));
        common.push(("server_id".into(), o.server.id.clone().unwrap_or_default()));
        common.push(("isp".into(), o.isp.clone().unwrap_or_default()));
    }
    common.extend(extra.iter().cloned());
    common.retain(|(_, v)| !v.is_empty());
    let mut figures: Vec<(&str, Option<f64>)> =
        vec![("netpulse_up", Some(if o.completed() { 1.0 } else { 0.0 }))];
    if o.completed() {
        let data = match (o.download_bytes, o.upload_bytes) {
            (None, None) => None,
            (d, u) => Some(d.unwrap_or(0).saturating_add(u.unwrap_or(0)) as f64),
        };
        figures.extend([
            (
                "netpulse_last_result_timestamp_seconds",
                Some(ts as f64 / 1000.0),
            ),
            ("netpulse_download_bits_per_second", o.download_bps),
            ("netpulse_upload_bits_per_second", o.upload_bps),
            ("netpulse_data_used_bytes", data),
            ("netpulse_ping_seconds", o.ping_ms.map(|v| v / 1000.0)),
            ("netpulse_jitter_seconds", o.jitter_ms.map(|v| v / 1000.0)),
            (
                "netpulse_download_latency_iqm_seconds",
                o.download_latency_ms.map(|v| v / 1000.0),
            ),
            (
                "netpulse_upload_latency_iqm_seconds",
                o.upload_latency_ms.map(|v| v / 1000.0),
            ),
            (
                "netpulse_packet_loss_ratio",
                o.packet_loss_percent.map(|v| v / 100.0),
            ),
            (
                "netpulse_connection_healthy",
                Some(if m.verdict.healthy() { 1.0 } else { 0.0 }),
            ),
        ]);
    }
    figures
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value.filter(|v| v.is_finite())?;
            let mut labels = common.clone();
            labels.push(("__name__".into(), name.into()));
            labels.sort();
            Some(TimeSeries {
                labels,
                samples: vec![(value, ts)],
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Delivery

/// Resolves a measurement's connection to its labels.
#[async_trait::async_trait]
pub trait LabelSource: Send + Sync {
    /// The labels of the connection, `None` when it no longer exists.
    async fn labels(&self, m: &Measurement) -> Option<ConnectionLabels>;
}

struct Pending {
    measurement: Box<Measurement>,
    attempts: u32,
}

/// The queue and its delivery task. Register it as a [`RecordListener`].
pub struct RemoteWriter {
    config: RemoteWriteConfig,
    queue: Mutex<VecDeque<Pending>>,
    wake: Notify,
    idle: Notify,
    stats: Arc<RemoteWriteStats>,
}

impl std::fmt::Debug for RemoteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWriter")
            .field("url", &self.config.url)
            .field("stats", &self.stats.counts())
            .finish_non_exhaustive()
    }
}

enum Outcome {
    Delivered,
    Retry(String),
    Refused(String),
}

impl RemoteWriter {
    /// Starts the delivery task on the current runtime.
    pub fn start(
        config: RemoteWriteConfig,
        labels: Arc<dyn LabelSource>,
        stats: Arc<RemoteWriteStats>,
    ) -> Result<Arc<Self>, String> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("netpulse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        stats.enabled.store(true, Ordering::Relaxed);
        let writer = Arc::new(Self {
            config,
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            idle: Notify::new(),
            stats,
        });
        tokio::spawn(Arc::clone(&writer).deliver(client, labels));
        Ok(writer)
    }

    /// Queues a measurement (never blocks; drops the oldest waiting one when full).
    pub fn enqueue(&self, m: &Measurement) {
        let mut m = Box::new(m.clone());
        m.raw = netpulse_domain::model::RawOutput::default();
        {
            let mut q = self
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if q.len() >= self.config.capacity.max(1) {
                q.pop_front();
                self.stats
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!("remote write queue full: dropped the oldest waiting measurement");
            }
            q.push_back(Pending {
                measurement: m,
                attempts: 0,
            });
            self.stats.queued.store(q.len() as u64, Ordering::Relaxed);
        }
        self.wake.notify_one();
    }

    /// The delivery counters.
    pub fn counts(&self) -> RemoteWriteCounts {
        self.stats.counts()
    }

    /// Waits until the queue is empty or `timeout` passes; returns whether it emptied.
    pub async fn drain(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.queue_len() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    fn queue_len(&self) -> usize {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    fn front(&self) -> Option<(Measurement, u32)> {
        let q = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        q.front().map(|p| ((*p.measurement).clone(), p.attempts))
    }

    /// Removes the front request if it is still `id` (it may have been dropped meanwhile).
    fn finish_front(&self, id: &netpulse_domain::id::ResultId, retry: bool) {
        let mut q = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if q.front().is_some_and(|p| &p.measurement.id == id) {
            if retry {
                if let Some(p) = q.front_mut() {
                    p.attempts += 1;
                }
            } else {
                q.pop_front();
            }
        }
        self.stats.queued.store(q.len() as u64, Ordering::Relaxed);
        if q.is_empty() {
            self.idle.notify_waiters();
        }
    }

    async fn send(&self, client: &reqwest::Client, body: Vec<u8>) -> Outcome {
        let mut req = client
            .post(&self.config.url)
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body);
        if let Some(auth) = &self.config.auth {
            req = req.header("Authorization", auth.header());
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => Outcome::Delivered,
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                let text: String = text.trim().chars().take(300).collect();
                let message = format!("HTTP {status}: {text}");
                if status.is_server_error() || status.as_u16() == 429 {
                    Outcome::Retry(message)
                } else {
                    Outcome::Refused(message)
                }
            }
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
        self.config
            .initial_backoff
            .saturating_mul(factor)
            .min(self.config.max_backoff)
    }

    async fn deliver(self: Arc<Self>, client: reqwest::Client, labels: Arc<dyn LabelSource>) {
        loop {
            let Some((m, attempts)) = self.front() else {
                let notified = self.wake.notified();
                if self.queue_len() == 0 {
                    self.idle.notify_waiters();
                    notified.await;
                }
                continue;
            };
            let Some(l) = labels.labels(&m).await else {
                tracing::warn!(connection = %m.connection_id, "remote write: the connection is gone; measurement dropped");
                self.stats
                    .dropped_undeliverable
                    .fetch_add(1, Ordering::Relaxed);
                self.finish_front(&m.id, false);
                continue;
            };
            let series = measurement_series(&m, &l, &self.config.extra_labels);
            let body = match snap::raw::Encoder::new().compress_vec(&encode_write_request(&series))
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "remote write: snappy compression failed");
                    self.stats
                        .dropped_undeliverable
                        .fetch_add(1, Ordering::Relaxed);
                    self.finish_front(&m.id, false);
                    continue;
                }
            };
            match self.send(&client, body).await {
                Outcome::Delivered => {
                    self.stats.sent.fetch_add(1, Ordering::Relaxed);
                    self.finish_front(&m.id, false);
                }
                Outcome::Refused(message) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    self.stats
                        .dropped_undeliverable
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::error!(measurement = %m.id, error = %message, "remote write refused; measurement dropped");
                    self.finish_front(&m.id, false);
                }
                Outcome::Retry(message) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    let attempts = attempts + 1;
                    if attempts >= self.config.max_attempts.max(1) {
                        self.stats
                            .dropped_undeliverable
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::error!(measurement = %m.id, attempts, error = %message, "remote write failed; giving up on this measurement");
                        self.finish_front(&m.id, false);
                    } else {
                        let wait = self.backoff(attempts);
                        tracing::warn!(measurement = %m.id, attempts, error = %message, retry_in_ms = wait.as_millis() as u64, "remote write failed; retrying");
                        self.finish_front(&m.id, true);
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
    }
}

impl RecordListener for RemoteWriter {
    fn recorded(&self, measurement: &Measurement, _edge: Option<AlertEdge>) {
        self.enqueue(measurement);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write;
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    #[test]
    fn encoding_matches_the_reference_example() {
        // netpulse-php-behaviour.md §4.4: {__name__=up, probe=p1}, sample (1.0, ts 1). The
        // reference's hex has a typo: nine bytes (`00000000000000f03f`) for the double, which
        // contradicts its own length prefixes (TimeSeries 0x2a = 42 bytes, Sample 0x0b = 11
        // bytes: tag 09 + 8 bytes + tag 10 + varint 01). With the 8-byte little-endian 1.0
        // (`000000000000f03f`) every length matches, and a real Prometheus accepts it (see the
        // remote-write integration test).
        let reference = "0a2a0a0e0a085f5f6e616d655f5f120275700a0b0a0570726f626512027031120b0900000000000000f03f1001";
        let declared = 2 + 0x2a;
        assert_eq!(
            reference.len() / 2,
            declared + 1,
            "the reference is one byte long"
        );
        let series = [TimeSeries {
            labels: vec![
                ("__name__".into(), "up".into()),
                ("probe".into(), "p1".into()),
            ],
            samples: vec![(1.0, 1)],
        }];
        let bytes = encode_write_request(&series);
        assert_eq!(bytes.len(), declared);
        assert_eq!(
            hex(&bytes),
            "0a2a0a0e0a085f5f6e616d655f5f120275700a0b0a0570726f626512027031120b09000000000000f03f1001"
        );
        assert_eq!(hex(&1.0f64.to_le_bytes()), "000000000000f03f");
    }

    #[test]
    fn long_fields_and_large_timestamps_use_multi_byte_varints() {
        let long = "x".repeat(200);
        let series = [TimeSeries {
            labels: vec![("a".into(), long.clone())],
            samples: vec![(0.5, 1_780_747_500_123)],
        }];
        let bytes = encode_write_request(&series);
        // Label value length 200 = 0xc8 0x01.
        let needle = [0x12, 0xc8, 0x01];
        assert!(bytes.windows(3).any(|w| w == needle));
        // 1_780_747_500_123 as a varint, then nothing after it.
        let mut ts = Vec::new();
        varint(&mut ts, 1_780_747_500_123);
        assert_eq!(ts.len(), 6);
        assert!(bytes.ends_with(&[&[0x10][..], &ts].concat()));
        let round = snap::raw::Decoder::new()
            .decompress_vec(&snap::raw::Encoder::new().compress_vec(&bytes).unwrap())
            .unwrap();
        assert_eq!(round, bytes);
    }

    #[test]
    fn auth_and_extra_labels_are_validated() {
        assert_eq!(
            RemoteWriteAuth::parse("bearer:abc").unwrap().header(),
            "Bearer abc"
        );
        assert_eq!(
            RemoteWriteAuth::parse("basic:user:pa:ss").unwrap().header(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("user:pa:ss")
            )
        );
        assert!(RemoteWriteAuth::parse("token abc").is_err());
        assert!(RemoteWriteAuth::parse("bearer:").is_err());
        assert!(RemoteWriteAuth::parse("basic:nopassword").is_err());
        assert_eq!(
            parse_extra_labels(&["env=prod, region = eu", "team=net"]).unwrap(),
            vec![
                ("env".into(), "prod".into()),
                ("region".into(), "eu".into()),
                ("team".into(), "net".into())
            ]
        );
        assert!(parse_extra_labels(&["probe=x"]).is_err());
        assert!(parse_extra_labels(&["__x=1"]).is_err());
        assert!(parse_extra_labels(&["1a=1"]).is_err());
        assert!(parse_extra_labels(&["a-b=1"]).is_err());
        assert!(parse_extra_labels(&["novalue"]).is_err());
        assert!(parse_extra_labels(&["a=1,a=2"]).is_err());
        assert!(parse_extra_labels::<&str>(&[]).unwrap().is_empty());
    }
}
