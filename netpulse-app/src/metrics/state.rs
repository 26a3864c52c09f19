//! What `/metrics` reports, kept in memory so that a scrape never reads the measurement history:
//!
//! - [`Results`]: the newest completed result per connection and per (connection, engine), and
//!   event counters (runs by engine, status and verdict). Loaded once at startup, then kept
//!   current by ingest (the metrics [`RecordListener`](netpulse_ports::listener::RecordListener)).
//! - [`Catalog`]: probes and connections with their state rows (names, `site`, plan, enabled,
//!   degraded, last poll), re-read at every scrape: one row per probe and per connection.
//! - [`Frame`]: every series of one scrape, built from both by [`build_frame`] (a pure
//!   function), and observed by the OpenTelemetry instruments.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ProbeId, ResultId};
use netpulse_domain::model::{Measurement, Probe};
use netpulse_domain::pool::Engine;
use netpulse_ports::metrics_store::{MeasurementTally, MetricsConnection};
use opentelemetry::{Key, KeyValue, StringValue, Value};

/// The figures of one completed result that metrics report.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestResult {
    /// Its id (ties on the completion time break on it).
    pub id: ResultId,
    /// When it completed.
    pub completed_at: Timestamp,
    /// The engine that ran it.
    pub engine: Engine,
    /// Download, bits per second.
    pub download_bps: Option<f64>,
    /// Upload, bits per second.
    pub upload_bps: Option<f64>,
    /// Idle latency, ms.
    pub ping_ms: Option<f64>,
    /// Idle jitter, ms.
    pub jitter_ms: Option<f64>,
    /// Packet loss, percent.
    pub packet_loss_percent: Option<f64>,
    /// Loaded download latency, ms.
    pub download_latency_ms: Option<f64>,
    /// Loaded upload latency, ms.
    pub upload_latency_ms: Option<f64>,
    /// Bytes moved (download + upload), when the tool reported either.
    pub data_used_bytes: Option<u64>,
    /// The tool's server name (empty when unknown).
    pub server_name: Arc<str>,
    /// The tool's server id (empty when unknown).
    pub server_id: Arc<str>,
    /// The ISP the tool detected (empty when unknown).
    pub isp: Arc<str>,
    /// The verdict at ingest.
    pub healthy: bool,
}

impl LatestResult {
    /// The figures of a completed measurement; `None` for a failed one.
    pub fn of(m: &Measurement) -> Option<Self> {
        let o = &m.observation;
        if !o.completed() {
            return None;
        }
        let text = |v: &Option<String>| Arc::<str>::from(v.as_deref().unwrap_or(""));
        Some(Self {
            id: m.id.clone(),
            completed_at: m.completed_at,
            engine: m.engine,
            download_bps: o.download_bps,
            upload_bps: o.upload_bps,
            ping_ms: o.ping_ms,
            jitter_ms: o.jitter_ms,
            packet_loss_percent: o.packet_loss_percent,
            download_latency_ms: o.download_latency_ms,
            upload_latency_ms: o.upload_latency_ms,
            data_used_bytes: match (o.download_bytes, o.upload_bytes) {
                (None, None) => None,
                (d, u) => Some(d.unwrap_or(0).saturating_add(u.unwrap_or(0))),
            },
            server_name: text(&o.server.name),
            server_id: text(&o.server.id),
            isp: text(&o.isp),
            healthy: m.verdict.healthy(),
        })
    }

    fn newer_than(&self, other: &Self) -> bool {
        (self.completed_at, self.id.as_str()) > (other.completed_at, other.id.as_str())
    }
}

/// Event counts of one connection and engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Completed runs.
    pub completed: u64,
    /// Failed runs.
    pub failed: u64,
    /// Completed runs that breached a threshold.
    pub unhealthy: u64,
}

/// Results and counters, kept current by ingest.
#[derive(Debug, Default)]
pub struct Results {
    latest: HashMap<ConnectionId, LatestResult>,
    latest_by_engine: HashMap<(ConnectionId, Engine), LatestResult>,
    tallies: HashMap<(ConnectionId, Engine), Tally>,
    notifications: BTreeMap<(String, String, String), u64>,
}

fn keep_newest<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, LatestResult>,
    key: K,
    r: LatestResult,
) {
    match map.get(&key) {
        Some(old) if !r.newer_than(old) => {}
        _ => {
            map.insert(key, r);
        }
    }
}

impl Results {
    /// The startup snapshot: newest completed results per engine and the run tallies.
    pub fn load(latest: &[Measurement], tallies: &[MeasurementTally]) -> Self {
        let mut r = Self::default();
        for m in latest {
            if let Some(l) = LatestResult::of(m) {
                keep_newest(&mut r.latest, m.connection_id.clone(), l.clone());
                keep_newest(
                    &mut r.latest_by_engine,
                    (m.connection_id.clone(), m.engine),
                    l,
                );
            }
        }
        for t in tallies {
            let e = r
                .tallies
                .entry((t.connection_id.clone(), t.engine))
                .or_default();
            if t.completed {
                e.completed += t.count;
                if !t.healthy {
                    e.unhealthy += t.count;
                }
            } else {
                e.failed += t.count;
            }
        }
        r
    }

    /// Counts a newly recorded measurement and keeps it if it is the newest completed one.
    pub fn record(&mut self, m: &Measurement) {
        let t = self
            .tallies
            .entry((m.connection_id.clone(), m.engine))
            .or_default();
        match LatestResult::of(m) {
            Some(l) => {
                t.completed += 1;
                if !l.healthy {
                    t.unhealthy += 1;
                }
                keep_newest(&mut self.latest, m.connection_id.clone(), l.clone());
                keep_newest(
                    &mut self.latest_by_engine,
                    (m.connection_id.clone(), m.engine),
                    l,
                );
            }
            None => t.failed += 1,
        }
    }

    /// Counts one notification send.
    pub fn notification(&mut self, kind: &str, channel: &str, status: &str) {
        *self
            .notifications
            .entry((kind.to_owned(), channel.to_owned(), status.to_owned()))
            .or_default() += 1;
    }

    /// Forgets connections that no longer exist (deleted ones: their series end).
    pub fn retain_connections(&mut self, exists: impl Fn(&ConnectionId) -> bool) {
        self.latest.retain(|k, _| exists(k));
        self.latest_by_engine.retain(|(k, _), _| exists(k));
        self.tallies.retain(|(k, _), _| exists(k));
    }

    /// The newest completed result of a connection.
    pub fn latest(&self, c: &ConnectionId) -> Option<&LatestResult> {
        self.latest.get(c)
    }
}

/// The labels every series of a connection carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLabels {
    /// The probe's name (made unique, see [`Catalog::build`]).
    pub probe: Arc<str>,
    /// The connection's name (made unique within its probe).
    pub connection: Arc<str>,
    /// The probe's `site` label, or empty.
    pub site: Arc<str>,
}

/// A connection as the catalog holds it.
#[derive(Debug, Clone)]
pub struct CatalogConnection {
    /// Settings and state read at the last refresh.
    pub row: MetricsConnection,
    /// Its labels.
    pub labels: ConnectionLabels,
}

/// A probe as the catalog holds it.
#[derive(Debug, Clone)]
pub struct CatalogProbe {
    /// The probe.
    pub probe: Probe,
    /// Its name label (made unique).
    pub name: Arc<str>,
    /// Its `site` label, or empty.
    pub site: Arc<str>,
}

/// Probes and the connections `/metrics` exports: enabled connections of enabled probes.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Enabled probes, by name.
    pub probes: Vec<CatalogProbe>,
    /// Their enabled connections, by probe then name.
    pub connections: Vec<CatalogConnection>,
    /// Every connection id that exists (enabled or not).
    pub all_connections: Vec<ConnectionId>,
}

/// The id's last 12 hex digits (random in both v4 and v7 UUIDs, whose first digits are a
/// timestamp).
fn short_id(id: &str) -> &str {
    id.get(id.len().saturating_sub(12)..).unwrap_or(id)
}

/// Label values must tell series apart: names that collide get ` [last 12 hex digits of the
/// id]` appended (all of the colliding ones, so the result does not depend on order).
fn unique_names<'a>(items: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Vec<Arc<str>> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (name, _) in items.clone() {
        *count.entry(name).or_default() += 1;
    }
    items
        .map(|(name, id)| {
            if count[name] > 1 {
                Arc::from(format!("{name} [{}]", short_id(id)))
            } else {
                Arc::from(name)
            }
        })
        .collect()
}

impl Catalog {
    /// From every probe and every connection row.
    pub fn build(probes: Vec<Probe>, connections: Vec<MetricsConnection>) -> Self {
        let all_connections = connections.iter().map(|c| c.id.clone()).collect();
        let mut probes: Vec<Probe> = probes.into_iter().filter(|p| p.enabled).collect();
        probes.sort_by(|a, b| {
            (a.name.as_str(), a.id.as_str()).cmp(&(b.name.as_str(), b.id.as_str()))
        });
        let names = unique_names(probes.iter().map(|p| (p.name.as_str(), p.id.as_str())));
        let probes: Vec<CatalogProbe> = probes
            .into_iter()
            .zip(names)
            .map(|(probe, name)| CatalogProbe {
                site: Arc::from(probe.labels.get("site").unwrap_or("")),
                name,
                probe,
            })
            .collect();
        let by_id: HashMap<&ProbeId, &CatalogProbe> =
            probes.iter().map(|p| (&p.probe.id, p)).collect();
        let mut exported: Vec<(MetricsConnection, &CatalogProbe)> = connections
            .into_iter()
            .filter(|c| c.enabled)
            .filter_map(|c| by_id.get(&c.probe_id).map(|p| (c, *p)))
            .collect();
        exported.sort_by(|(a, pa), (b, pb)| {
            (&pa.name, a.name.as_str(), a.id.as_str()).cmp(&(
                &pb.name,
                b.name.as_str(),
                b.id.as_str(),
            ))
        });
        // Connection names need only be unique within their probe label.
        let keyed: Vec<(String, &str)> = exported
            .iter()
            .map(|(c, p)| (format!("{}\u{0}{}", p.name, c.name), c.id.as_str()))
            .collect();
        let unique = unique_names(keyed.iter().map(|(k, id)| (k.as_str(), *id)));
        let connections = exported
            .iter()
            .zip(unique)
            .map(|((c, p), key)| CatalogConnection {
                labels: ConnectionLabels {
                    probe: p.name.clone(),
                    connection: Arc::from(key.split_once('\u{0}').map_or(&*key, |(_, n)| n)),
                    site: p.site.clone(),
                },
                row: c.clone(),
            })
            .collect();
        Self {
            probes,
            connections,
            all_connections,
        }
    }
}

/// Settings that shape the frame.
#[derive(Debug, Clone, Copy)]
pub struct FrameSettings {
    /// `netpulse_up` is 1 when the newest completed result is at most this old, seconds.
    pub freshness_window_seconds: i64,
    /// A probe is up when it polled at most this long ago, seconds.
    pub probe_stale_after_seconds: i64,
}

/// Counters of the remote-write queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteWriteCounts {
    /// Whether remote write is configured.
    pub enabled: bool,
    /// Failed delivery attempts.
    pub failures: u64,
    /// Requests delivered.
    pub sent: u64,
    /// Requests given up because the queue was full.
    pub dropped_queue_full: u64,
    /// Requests given up after the last retry, or refused for good by the receiver.
    pub dropped_undeliverable: u64,
    /// Requests waiting.
    pub queued: u64,
}

/// One series. Labels common to many series (those of a connection, or of a connection and its
/// server or engine) are shared, so building a frame allocates little per series.
#[derive(Debug, Clone)]
pub struct Series {
    /// Leading labels, shared with other series.
    pub shared: Arc<[KeyValue]>,
    /// This series' own further labels.
    pub own: Vec<KeyValue>,
    /// The value.
    pub value: f64,
}

impl Series {
    /// Every label, in order.
    pub fn labels(&self) -> impl Iterator<Item = &KeyValue> {
        self.shared.iter().chain(&self.own)
    }
}

/// Every family of the exporter, in a fixed order (the index into [`Frame::series`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `netpulse_build_info`
    BuildInfo,
    /// `netpulse_connection_info`
    ConnectionInfo,
    /// `netpulse_up`
    Up,
    /// `netpulse_last_result_timestamp_seconds`
    LastResultTimestamp,
    /// `netpulse_download_bits_per_second`
    Download,
    /// `netpulse_upload_bits_per_second`
    Upload,
    /// `netpulse_ping_seconds`
    Ping,
    /// `netpulse_jitter_seconds`
    Jitter,
    /// `netpulse_packet_loss_ratio`
    PacketLoss,
    /// `netpulse_download_latency_iqm_seconds`
    DownloadLatency,
    /// `netpulse_upload_latency_iqm_seconds`
    UploadLatency,
    /// `netpulse_data_used_bytes`
    DataUsed,
    /// `netpulse_connection_healthy`
    Healthy,
    /// `netpulse_connection_degraded`
    Degraded,
    /// `netpulse_connection_expected_download_bits_per_second`
    ExpectedDownload,
    /// `netpulse_connection_expected_upload_bits_per_second`
    ExpectedUpload,
    /// `netpulse_speedtest_runs_total`
    Runs,
    /// `netpulse_speedtest_failures_total`
    Failures,
    /// `netpulse_speedtest_unhealthy_total`
    Unhealthy,
    /// `netpulse_remote_write_failures_total`
    RemoteWriteFailures,
    /// `netpulse_remote_write_sent_total`
    RemoteWriteSent,
    /// `netpulse_remote_write_dropped_total`
    RemoteWriteDropped,
    /// `netpulse_remote_write_queue_length`
    RemoteWriteQueue,
    /// `netpulse_notifications_sent_total`
    Notifications,
    /// `netpulse_probe_up`
    ProbeUp,
    /// `netpulse_probe_last_poll_timestamp_seconds`
    ProbeLastPoll,
    /// `netpulse_agent_info`
    AgentInfo,
    /// `netpulse_engine_runs_total`
    EngineRuns,
    /// `netpulse_engine_last_result_timestamp_seconds`
    EngineLastResult,
    /// `netpulse_engine_download_bits_per_second`
    EngineDownload,
    /// `netpulse_engine_upload_bits_per_second`
    EngineUpload,
    /// `netpulse_engine_ping_seconds`
    EnginePing,
    /// `netpulse_engine_jitter_seconds`
    EngineJitter,
    /// `netpulse_engine_packet_loss_ratio`
    EnginePacketLoss,
}

/// Gauge or counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A count of events since the process started (or since the stored history began).
    Counter,
}

impl Family {
    /// Every family.
    pub const ALL: [Self; 34] = [
        Self::BuildInfo,
        Self::ConnectionInfo,
        Self::Up,
        Self::LastResultTimestamp,
        Self::Download,
        Self::Upload,
        Self::Ping,
        Self::Jitter,
        Self::PacketLoss,
        Self::DownloadLatency,
        Self::UploadLatency,
        Self::DataUsed,
        Self::Healthy,
        Self::Degraded,
        Self::ExpectedDownload,
        Self::ExpectedUpload,
        Self::Runs,
        Self::Failures,
        Self::Unhealthy,
        Self::RemoteWriteFailures,
        Self::RemoteWriteSent,
        Self::RemoteWriteDropped,
        Self::RemoteWriteQueue,
        Self::Notifications,
        Self::ProbeUp,
        Self::ProbeLastPoll,
        Self::AgentInfo,
        Self::EngineRuns,
        Self::EngineLastResult,
        Self::EngineDownload,
        Self::EngineUpload,
        Self::EnginePing,
        Self::EngineJitter,
        Self::EnginePacketLoss,
    ];

    /// The exposed name (counters end in `_total`), its kind and help text.
    pub const fn describe(self) -> (&'static str, Kind, &'static str) {
        use Kind::{Counter, Gauge};
        match self {
            Self::BuildInfo => (
                "netpulse_build_info",
                Gauge,
                "Build information of the NetPulse exporter.",
            ),
            Self::ConnectionInfo => (
                "netpulse_connection_info",
                Gauge,
                "Static information about a monitored connection.",
            ),
            Self::Up => (
                "netpulse_up",
                Gauge,
                "Whether the connection has a fresh successful measurement within the freshness window.",
            ),
            Self::LastResultTimestamp => (
                "netpulse_last_result_timestamp_seconds",
                Gauge,
                "Unix timestamp of the last successful measurement.",
            ),
            Self::Download => (
                "netpulse_download_bits_per_second",
                Gauge,
                "Last measured download throughput in bits per second.",
            ),
            Self::Upload => (
                "netpulse_upload_bits_per_second",
                Gauge,
                "Last measured upload throughput in bits per second.",
            ),
            Self::Ping => (
                "netpulse_ping_seconds",
                Gauge,
                "Last measured idle latency in seconds.",
            ),
            Self::Jitter => (
                "netpulse_jitter_seconds",
                Gauge,
                "Last measured idle jitter in seconds.",
            ),
            Self::PacketLoss => (
                "netpulse_packet_loss_ratio",
                Gauge,
                "Last measured packet loss as a ratio between 0 and 1.",
            ),
            Self::DownloadLatency => (
                "netpulse_download_latency_iqm_seconds",
                Gauge,
                "Last measured loaded download latency (IQM) in seconds.",
            ),
            Self::UploadLatency => (
                "netpulse_upload_latency_iqm_seconds",
                Gauge,
                "Last measured loaded upload latency (IQM) in seconds.",
            ),
            Self::DataUsed => (
                "netpulse_data_used_bytes",
                Gauge,
                "Bytes transferred during the last measurement.",
            ),
            Self::Healthy => (
                "netpulse_connection_healthy",
                Gauge,
                "Whether the latest measurement passed the connection's health thresholds (1 healthy, 0 unhealthy).",
            ),
            Self::Degraded => (
                "netpulse_connection_degraded",
                Gauge,
                "Whether the connection is currently degraded per the adaptive scheduling predicate (1 degraded, 0 healthy).",
            ),
            Self::ExpectedDownload => (
                "netpulse_connection_expected_download_bits_per_second",
                Gauge,
                "Configured expected download speed in bits per second.",
            ),
            Self::ExpectedUpload => (
                "netpulse_connection_expected_upload_bits_per_second",
                Gauge,
                "Configured expected upload speed in bits per second.",
            ),
            Self::Runs => (
                "netpulse_speedtest_runs_total",
                Counter,
                "Total number of speedtest runs by status.",
            ),
            Self::Failures => (
                "netpulse_speedtest_failures_total",
                Counter,
                "Total number of failed speedtest runs.",
            ),
            Self::Unhealthy => (
                "netpulse_speedtest_unhealthy_total",
                Counter,
                "Total number of completed speedtest runs that breached the connection's health thresholds.",
            ),
            Self::RemoteWriteFailures => (
                "netpulse_remote_write_failures_total",
                Counter,
                "Total number of failed remote-write push attempts.",
            ),
            Self::RemoteWriteSent => (
                "netpulse_remote_write_sent_total",
                Counter,
                "Total number of remote-write requests the receiver accepted.",
            ),
            Self::RemoteWriteDropped => (
                "netpulse_remote_write_dropped_total",
                Counter,
                "Total number of remote-write requests given up, by reason.",
            ),
            Self::RemoteWriteQueue => (
                "netpulse_remote_write_queue_length",
                Gauge,
                "Remote-write requests waiting to be delivered.",
            ),
            Self::Notifications => (
                "netpulse_notifications_sent_total",
                Counter,
                "Total number of notification sends by kind, channel, and outcome status.",
            ),
            Self::ProbeUp => (
                "netpulse_probe_up",
                Gauge,
                "Whether the probe's agent polled for work recently (1 polling, 0 silent).",
            ),
            Self::ProbeLastPoll => (
                "netpulse_probe_last_poll_timestamp_seconds",
                Gauge,
                "Unix timestamp of the probe agent's last recorded poll.",
            ),
            Self::AgentInfo => (
                "netpulse_agent_info",
                Gauge,
                "Version and engines the probe's agent reported with its last poll.",
            ),
            Self::EngineRuns => (
                "netpulse_engine_runs_total",
                Counter,
                "Total number of speedtest runs by engine and status.",
            ),
            Self::EngineLastResult => (
                "netpulse_engine_last_result_timestamp_seconds",
                Gauge,
                "Unix timestamp of the last successful measurement by engine.",
            ),
            Self::EngineDownload => (
                "netpulse_engine_download_bits_per_second",
                Gauge,
                "Last measured download throughput by engine in bits per second.",
            ),
            Self::EngineUpload => (
                "netpulse_engine_upload_bits_per_second",
                Gauge,
                "Last measured upload throughput by engine in bits per second.",
            ),
            Self::EnginePing => (
                "netpulse_engine_ping_seconds",
                Gauge,
                "Last measured idle latency by engine in seconds.",
            ),
            Self::EngineJitter => (
                "netpulse_engine_jitter_seconds",
                Gauge,
                "Last measured idle jitter by engine in seconds.",
            ),
            Self::EnginePacketLoss => (
                "netpulse_engine_packet_loss_ratio",
                Gauge,
                "Last measured packet loss by engine as a ratio between 0 and 1.",
            ),
        }
    }

    /// The exposed name.
    pub const fn name(self) -> &'static str {
        self.describe().0
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Every series of one scrape.
#[derive(Debug, Default)]
pub struct Frame {
    series: Vec<Vec<Series>>,
}

impl Frame {
    /// The series of a family.
    pub fn series(&self, family: Family) -> &[Series] {
        self.series.get(family.index()).map_or(&[], Vec::as_slice)
    }

    fn push(&mut self, family: Family, shared: &Arc<[KeyValue]>, own: Vec<KeyValue>, value: f64) {
        if value.is_finite() {
            self.series[family.index()].push(Series {
                shared: Arc::clone(shared),
                own,
                value,
            });
        }
    }
}

fn kv(key: &'static str, value: &Arc<str>) -> KeyValue {
    KeyValue::new(
        Key::from_static_str(key),
        Value::String(StringValue::from(value.clone())),
    )
}

fn kv_static(key: &'static str, value: &'static str) -> KeyValue {
    KeyValue::new(
        Key::from_static_str(key),
        Value::String(StringValue::from(value)),
    )
}

fn base(l: &ConnectionLabels) -> Vec<KeyValue> {
    vec![
        kv("probe", &l.probe),
        kv("connection", &l.connection),
        kv("site", &l.site),
    ]
}

fn shared(mut labels: Vec<KeyValue>, extra: impl IntoIterator<Item = KeyValue>) -> Arc<[KeyValue]> {
    labels.extend(extra);
    Arc::from(labels)
}

fn seconds(t: Timestamp) -> f64 {
    t.unix_millis() as f64 / 1000.0
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Builds every series from the catalog, the results and the time now.
pub fn build_frame(
    catalog: &Catalog,
    results: &Results,
    remote_write: RemoteWriteCounts,
    now: Timestamp,
    settings: FrameSettings,
) -> Frame {
    use Family as F;
    let mut f = Frame {
        series: vec![Vec::new(); Family::ALL.len()],
    };
    let none: Arc<[KeyValue]> = Arc::from(Vec::new());
    f.push(
        F::BuildInfo,
        &none,
        vec![kv_static("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    let empty: Arc<str> = Arc::from("");
    for c in &catalog.connections {
        let l = &c.labels;
        let row = &c.row;
        let b = shared(base(l), []);
        let latest = results.latest(&row.id);
        let isp = latest.map_or(&empty, |r| &r.isp);
        f.push(F::ConnectionInfo, &b, vec![kv("isp", isp)], 1.0);
        // The state row is authoritative for the completion time (it is written by every
        // server process); the in-memory result may only be newer if the row was not re-read.
        let last_completed = match (row.last_completed_at, latest.map(|r| r.completed_at)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let fresh = last_completed
            .is_some_and(|t| now.seconds_since(t) <= settings.freshness_window_seconds);
        f.push(F::Up, &b, vec![], flag(fresh));
        if let Some(t) = last_completed {
            f.push(F::LastResultTimestamp, &b, vec![], seconds(t));
        }
        if let Some(r) = latest {
            let server = shared(
                base(l),
                [
                    kv("server_name", &r.server_name),
                    kv("server_id", &r.server_id),
                    kv("isp", &r.isp),
                ],
            );
            let figures = [
                (F::Download, r.download_bps),
                (F::Upload, r.upload_bps),
                (F::Ping, r.ping_ms.map(|v| v / 1000.0)),
                (F::Jitter, r.jitter_ms.map(|v| v / 1000.0)),
                (F::PacketLoss, r.packet_loss_percent.map(|v| v / 100.0)),
                (
                    F::DownloadLatency,
                    r.download_latency_ms.map(|v| v / 1000.0),
                ),
                (F::UploadLatency, r.upload_latency_ms.map(|v| v / 1000.0)),
                (F::DataUsed, r.data_used_bytes.map(|v| v as f64)),
                (F::Healthy, Some(flag(r.healthy))),
            ];
            for (family, value) in figures {
                if let Some(v) = value {
                    f.push(family, &server, vec![], v);
                }
            }
        }
        f.push(
            F::Degraded,
            &b,
            vec![],
            flag(row.adaptive.is_degraded(&row.history)),
        );
        f.push(
            F::ExpectedDownload,
            &b,
            vec![],
            row.expected.download_bps as f64,
        );
        f.push(
            F::ExpectedUpload,
            &b,
            vec![],
            row.expected.upload_bps as f64,
        );

        let mut total = Tally::default();
        for engine in Engine::ALL {
            let key = (row.id.clone(), engine);
            let Some(t) = results.tallies.get(&key) else {
                continue;
            };
            total.completed += t.completed;
            total.failed += t.failed;
            total.unhealthy += t.unhealthy;
            let eb = shared(base(l), [kv_static("engine", engine.as_str())]);
            for (status, n) in [("completed", t.completed), ("failed", t.failed)] {
                f.push(
                    F::EngineRuns,
                    &eb,
                    vec![kv_static("status", status)],
                    n as f64,
                );
            }
            if let Some(r) = results.latest_by_engine.get(&key) {
                f.push(F::EngineLastResult, &eb, vec![], seconds(r.completed_at));
                let figures = [
                    (F::EngineDownload, r.download_bps),
                    (F::EngineUpload, r.upload_bps),
                    (F::EnginePing, r.ping_ms.map(|v| v / 1000.0)),
                    (F::EngineJitter, r.jitter_ms.map(|v| v / 1000.0)),
                    (
                        F::EnginePacketLoss,
                        r.packet_loss_percent.map(|v| v / 100.0),
                    ),
                ];
                for (family, value) in figures {
                    if let Some(v) = value {
                        f.push(family, &eb, vec![], v);
                    }
                }
            }
        }
        for (status, n) in [("completed", total.completed), ("failed", total.failed)] {
            f.push(F::Runs, &b, vec![kv_static("status", status)], n as f64);
        }
        f.push(F::Failures, &b, vec![], total.failed as f64);
        f.push(F::Unhealthy, &b, vec![], total.unhealthy as f64);
    }
    for p in &catalog.probes {
        let pb = shared(vec![kv("probe", &p.name), kv("site", &p.site)], []);
        let last = p.probe.last_poll_at;
        f.push(
            F::ProbeUp,
            &pb,
            vec![],
            flag(last.is_some_and(|t| now.seconds_since(t) <= settings.probe_stale_after_seconds)),
        );
        if let Some(t) = last {
            f.push(F::ProbeLastPoll, &pb, vec![], seconds(t));
        }
        if let Some(v) = &p.probe.agent_version {
            let engines: Vec<&str> = p.probe.agent_engines.iter().map(|e| e.as_str()).collect();
            f.push(
                F::AgentInfo,
                &pb,
                vec![
                    kv("version", &Arc::from(v.as_str())),
                    kv("engines", &Arc::from(engines.join(","))),
                ],
                1.0,
            );
        }
    }
    f.push(
        F::RemoteWriteFailures,
        &none,
        vec![],
        remote_write.failures as f64,
    );
    if remote_write.enabled {
        f.push(F::RemoteWriteSent, &none, vec![], remote_write.sent as f64);
        f.push(
            F::RemoteWriteDropped,
            &none,
            vec![kv_static("reason", "queue_full")],
            remote_write.dropped_queue_full as f64,
        );
        f.push(
            F::RemoteWriteDropped,
            &none,
            vec![kv_static("reason", "undeliverable")],
            remote_write.dropped_undeliverable as f64,
        );
        f.push(
            F::RemoteWriteQueue,
            &none,
            vec![],
            remote_write.queued as f64,
        );
    }
    for ((kind, channel, status), n) in &results.notifications {
        f.push(
            F::Notifications,
            &none,
            vec![
                kv("kind", &Arc::from(kind.as_str())),
                kv("channel", &Arc::from(channel.as_str())),
                kv("status", &Arc::from(status.as_str())),
            ],
            *n as f64,
        );
    }
    f
}
