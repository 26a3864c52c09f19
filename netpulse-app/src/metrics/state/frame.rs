//! The frame: every series of one scrape, built by [`build_frame`] (a pure function) from the
//! catalog, the results, the remote-write counters and the time now.

use netpulse_domain::liveness;
use std::sync::Arc;

use netpulse_domain::Timestamp;
use netpulse_domain::pool::Engine;
use opentelemetry::{Key, KeyValue, StringValue, Value};

use super::catalog::{Catalog, ConnectionLabels};
use super::family::Family;
use super::results::{Results, Tally};

/// Settings that shape the frame.
#[derive(Debug, Clone, Copy)]
pub struct FrameSettings {
    /// `netpulse_up` is 1 when the newest completed result is at most this old, seconds.
    pub freshness_window_seconds: i64,
    /// A probe is up when it polled at most this long ago, seconds.
    pub probe_stale_after_seconds: i64,
    /// The agents' poll interval, seconds (for the agent state).
    pub probe_poll_interval_seconds: u32,
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

/// Counters of the MQTT publisher (in this process, since it started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MqttCounts {
    /// The current publisher has connected.
    pub connected: bool,
    /// Messages dropped because the queue was full.
    pub dropped: u64,
    /// Failed connection attempts and lost connections.
    pub failures: u64,
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

    pub(super) fn push(
        &mut self,
        family: Family,
        shared: &Arc<[KeyValue]>,
        own: Vec<KeyValue>,
        value: f64,
    ) {
        if value.is_finite() {
            self.series[family.index()].push(Series {
                shared: Arc::clone(shared),
                own,
                value,
            });
        }
    }
}

pub(super) fn kv(key: &'static str, value: &Arc<str>) -> KeyValue {
    KeyValue::new(
        Key::from_static_str(key),
        Value::String(StringValue::from(value.clone())),
    )
}

pub(super) fn kv_static(key: &'static str, value: &'static str) -> KeyValue {
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

pub(super) fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Builds every series from the catalog, the results and the time now.
pub fn build_frame(
    catalog: &Catalog,
    results: &Results,
    remote_write: RemoteWriteCounts,
    mqtt: Option<MqttCounts>,
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
            flag(liveness::is_alive(
                last,
                now,
                settings.probe_stale_after_seconds,
            )),
        );
        if let Some(t) = last {
            f.push(F::ProbeLastPoll, &pb, vec![], seconds(t));
        }
        let facts = netpulse_domain::agent_state::Facts {
            last_seen: last,
            poll_interval_seconds: settings.probe_poll_interval_seconds,
            in_maintenance: catalog.maintenance.contains(p.probe.id.as_str()),
            checks_last_10_min: catalog
                .check_tallies
                .get(p.probe.id.as_str())
                .copied()
                .unwrap_or_default(),
            ..Default::default()
        };
        let state = netpulse_domain::agent_state::state_of(now, &facts).state;
        for s in netpulse_domain::agent_state::State::ALL {
            f.push(
                F::ProbeState,
                &pb,
                vec![kv_static("state", s.as_str())],
                flag(s == state),
            );
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
    if let Some(m) = mqtt {
        f.push(
            F::MqttConnected,
            &none,
            vec![],
            f64::from(u8::from(m.connected)),
        );
        f.push(F::MqttDropped, &none, vec![], m.dropped as f64);
        f.push(F::MqttConnectionFailures, &none, vec![], m.failures as f64);
    }
    super::checks::push_checks(&mut f, &catalog.checks, now);
    super::outages::push_outages(&mut f, &catalog.outages);
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
