//! The results part of the snapshot: the newest completed result per connection and per
//! (connection, engine) and the event counters, loaded once at startup and then updated by each
//! recorded measurement.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ResultId};
use netpulse_domain::model::Measurement;
use netpulse_domain::pool::Engine;
use netpulse_ports::metrics_store::MeasurementTally;

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

    /// A later completion time, or the same one and a greater id. A late result
    /// (`netpulse_domain::ingest`, "Late results") is counted, but its figures replace the
    /// latest ones only when it is the newest completed result, whatever the arrival order.
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
    pub(super) latest: HashMap<ConnectionId, LatestResult>,
    pub(super) latest_by_engine: HashMap<(ConnectionId, Engine), LatestResult>,
    pub(super) tallies: HashMap<(ConnectionId, Engine), Tally>,
    pub(super) notifications: BTreeMap<(String, String, String), u64>,
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
