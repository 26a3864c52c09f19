//! The MQTT / Home Assistant integration's engine: one broker connection (the adapter's
//! [`MqttPublisher`]), replaced whenever the settings change (no restart), a [`RecordListener`]
//! that publishes each recorded result and the connection's state at once, and [`Mqtt::apply`]
//! that brings every retained topic (probe, connection, check and outage states, Home
//! Assistant discovery configs) in line with a [`Snapshot`] of the state rows: it publishes
//! only payloads that changed, and an empty retained payload for topics whose subject is gone
//! (a deleted connection or probe disappears from Home Assistant).
//!
//! The retained topics it stands behind ([`Mqtt::retained_topics`]) are kept in the database
//! by the sweep, and given back at startup ([`Mqtt::clear_unless_wanted`]): what was deleted
//! while the server was stopped is emptied on the first sweep too.
//!
//! Nothing here waits for the broker: publishing puts messages on the publisher's bounded
//! queue and drops (and counts) them when it is full.

pub mod payload;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use netpulse_adapters::mqtt::{MqttPublisher, MqttSettings, MqttTls};
use netpulse_adapters::secrets::SecretBox;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertEdge;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::Measurement;
use netpulse_domain::mqtt::BrokerUrl;
use netpulse_domain::outage::SeriesFamily;
use netpulse_ports::check_store::CheckState;
use netpulse_ports::listener::RecordListener;

/// Messages that may wait for the broker before new ones are dropped.
pub const QUEUE: usize = 1000;

/// The integration's settings, decrypted.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttConfig {
    /// The broker.
    pub broker: BrokerUrl,
    /// The client id.
    pub client_id: String,
    /// User and password.
    pub credentials: Option<(String, String)>,
    /// The topic prefix.
    pub prefix: String,
    /// Publish Home Assistant discovery configs.
    pub discovery: bool,
    /// Their prefix.
    pub discovery_prefix: String,
    /// Retain the state topics.
    pub retain: bool,
    /// A custom CA (PEM) for TLS (none: the system's roots).
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttConfig")
            .field("broker", &self.broker)
            .field("client_id", &self.client_id)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A probe as published.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeView {
    /// Its id.
    pub id: ProbeId,
    /// Its name.
    pub name: String,
    /// `online`, `degraded`, `offline` or `maintenance`.
    pub state: &'static str,
    /// Its last poll.
    pub last_seen: Option<Timestamp>,
    /// Its connections' newest result.
    pub last_test: Option<Timestamp>,
}

/// A connection as published.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionView {
    /// Its id.
    pub id: ConnectionId,
    /// Its probe.
    pub probe_id: ProbeId,
    /// Its name.
    pub name: String,
    /// Its newest result.
    pub latest: Option<Measurement>,
}

/// A check's state in one family.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckView {
    /// The state row.
    pub state: CheckState,
    /// The check's name.
    pub name: String,
    /// Its kind.
    pub kind: &'static str,
}

/// The outage state of one probe and family.
#[derive(Debug, Clone, PartialEq)]
pub struct OutageView {
    /// The probe.
    pub probe_id: ProbeId,
    /// The family.
    pub family: SeriesFamily,
    /// The open outage's start.
    pub open_since: Option<Timestamp>,
    /// The end of the last closed outage (when none is open).
    pub closed_since: Option<Timestamp>,
    /// The newest round fed.
    pub last_round_at: Option<Timestamp>,
}

/// Everything the retained topics show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The probes.
    pub probes: Vec<ProbeView>,
    /// The connections.
    pub connections: Vec<ConnectionView>,
    /// The checks' states.
    pub checks: Vec<CheckView>,
    /// The outage states.
    pub outages: Vec<OutageView>,
}

/// The counters of the integration (over every connection it had).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttStatus {
    /// Settings are enabled and a publisher runs.
    pub running: bool,
    /// The current publisher is connected now.
    pub connected: bool,
    /// Messages queued.
    pub queued: u64,
    /// Messages dropped because the queue was full (the broker down or slow).
    pub dropped: u64,
    /// QoS 1 publishes acknowledged by the broker.
    pub acked: u64,
    /// Failed connection attempts and lost connections.
    pub failures: u64,
    /// The current publisher's newest failure (cleared by a successful connect).
    pub last_error: Option<String>,
}

/// Checks a custom CA (PEM): the rule broken, when it is not one or more certificates.
pub fn check_ca(pem: &str) -> Result<usize, String> {
    netpulse_adapters::mqtt::check_ca(pem)
}

struct Live {
    config: MqttConfig,
    publisher: MqttPublisher,
    /// Retained topics as last published (cleared at every connect: republish all).
    published: HashMap<String, String>,
    /// The connects seen by `published`.
    connects: u64,
    /// The newest result's completion time per connection (later results only move state).
    latest: HashMap<ConnectionId, Timestamp>,
    /// Topics the previous settings (or this server before a restart) published: emptied
    /// (retained) unless these settings publish them retained too (a changed prefix,
    /// discovery or retain turned off, a subject deleted meanwhile).
    to_clear: HashSet<String>,
    /// The retained topics the last sweep wanted (`None` before the first sweep).
    retained: Option<BTreeSet<String>>,
}

/// The engine.
pub struct Mqtt {
    secrets: Arc<SecretBox>,
    live: Mutex<Option<Live>>,
    /// Counters of publishers already replaced.
    past: [AtomicU64; 4],
    wake: tokio::sync::Notify,
}

impl std::fmt::Debug for Mqtt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mqtt").finish_non_exhaustive()
    }
}

impl Mqtt {
    /// An engine with no broker yet, sealing its password with `secrets`.
    pub fn new(secrets: Arc<SecretBox>) -> Arc<Self> {
        Arc::new(Self {
            secrets,
            live: Mutex::new(None),
            past: Default::default(),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// The secret box of the stored password.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Live>> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Connects with `config` (`None`: disconnects), replacing the current connection when the
    /// settings differ; the old one says `offline` and leaves cleanly. Must run in Tokio.
    pub fn configure(&self, config: Option<MqttConfig>) {
        let mut live = self.lock();
        if live.as_ref().map(|l| &l.config) == config.as_ref() {
            return;
        }
        let mut to_clear = HashSet::new();
        if let Some(old) = live.take() {
            let stats = old.publisher.stats();
            for (i, n) in [
                stats.queued(),
                stats.dropped(),
                stats.acked(),
                stats.failures(),
            ]
            .into_iter()
            .enumerate()
            {
                self.past[i].fetch_add(n, Ordering::Relaxed);
            }
            to_clear = old.published.into_keys().chain(old.to_clear).collect();
            tokio::spawn(old.publisher.shutdown(Duration::from_secs(2)));
        }
        *live = config.map(|config| {
            let settings = MqttSettings {
                host: config.broker.host.clone(),
                port: config.broker.port,
                tls: config.broker.tls.then(|| match &config.ca_pem {
                    Some(pem) => MqttTls::Ca(pem.as_bytes().to_vec()),
                    None => MqttTls::SystemRoots,
                }),
                credentials: config.credentials.clone(),
                client_id: config.client_id.clone(),
                availability_topic: payload::status_topic(&config.prefix),
                keep_alive: Duration::from_secs(30),
                queue: QUEUE,
            };
            tracing::info!(broker = %format!("{}:{}", settings.host, settings.port), prefix = %config.prefix, "MQTT: publishing");
            Live {
                publisher: MqttPublisher::start(&settings),
                config,
                published: HashMap::new(),
                connects: 0,
                latest: HashMap::new(),
                to_clear,
                retained: None,
            }
        });
        drop(live);
        self.wake.notify_one();
    }

    /// Topics published retained before (by this server before a restart, as stored): each is
    /// emptied on the next sweep unless the sweep publishes it again. A no-op while no
    /// publisher runs.
    pub fn clear_unless_wanted(&self, topics: impl IntoIterator<Item = String>) {
        if let Some(live) = self.lock().as_mut() {
            live.to_clear.extend(topics);
        }
    }

    /// The retained topics a restarted server must empty unless it publishes them again: the
    /// ones the last sweep published retained and those still to be emptied (`None` before
    /// the first sweep, or while no publisher runs).
    pub fn retained_topics(&self) -> Option<BTreeSet<String>> {
        let live = self.lock();
        let live = live.as_ref()?;
        let retained = live.retained.as_ref()?;
        Some(retained.iter().chain(&live.to_clear).cloned().collect())
    }

    /// Asks the sweep to publish the retained topics now (a connection or probe changed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`wake`](Self::wake) (or a settings change).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Whether a snapshot is wanted now: a publisher runs and has connected since the last
    /// [`apply`](Self::apply) (everything is republished then).
    pub fn reconnected(&self) -> bool {
        self.lock()
            .as_ref()
            .is_some_and(|l| l.publisher.stats().connects() != l.connects)
    }

    /// Whether a publisher runs.
    pub fn running(&self) -> bool {
        self.lock().is_some()
    }

    /// The counters.
    pub fn status(&self) -> MqttStatus {
        let live = self.lock();
        let past = |i: usize| self.past[i].load(Ordering::Relaxed);
        let (queued, dropped, acked, failures, connected, last_error) =
            live.as_ref().map_or((0, 0, 0, 0, false, None), |l| {
                let s = l.publisher.stats();
                (
                    s.queued(),
                    s.dropped(),
                    s.acked(),
                    s.failures(),
                    s.is_connected(),
                    s.last_error(),
                )
            });
        MqttStatus {
            running: live.is_some(),
            connected,
            queued: past(0) + queued,
            dropped: past(1) + dropped,
            acked: past(2) + acked,
            failures: past(3) + failures,
            last_error,
        }
    }

    /// Brings the retained topics in line with `snapshot`.
    pub fn apply(&self, snapshot: &Snapshot) {
        let mut guard = self.lock();
        let Some(live) = guard.as_mut() else {
            return;
        };
        let connects = live.publisher.stats().connects();
        if connects != live.connects {
            live.published.clear();
            live.connects = connects;
        }
        let prefix = &live.config.prefix;
        let mut wanted: Vec<(String, String, bool)> = payload::states(prefix, snapshot)
            .into_iter()
            .map(|(t, p)| (t, p, live.config.retain))
            .collect();
        if live.config.discovery {
            wanted.extend(
                payload::discovery(prefix, &live.config.discovery_prefix, snapshot)
                    .into_iter()
                    .map(|(t, p)| (t, p, true)),
            );
        }
        // A result recorded while the snapshot was read is newer than the snapshot's: its
        // state (published by the listener) stays.
        let mut stale = HashSet::new();
        for c in &snapshot.connections {
            let seen = live.latest.get(&c.id).copied();
            let read = c.latest.as_ref().map(|m| m.completed_at);
            match (seen, read) {
                (Some(s), Some(r)) if s > r => {
                    stale.insert(payload::connection_topic(prefix, &c.probe_id, &c.id));
                }
                (Some(_), None) => {
                    stale.insert(payload::connection_topic(prefix, &c.probe_id, &c.id));
                }
                (_, Some(r)) => {
                    live.latest.insert(c.id.clone(), r);
                }
                (None, None) => {}
            }
        }
        // What the previous settings left: emptied unless published retained again here.
        let retained: HashSet<&String> = wanted
            .iter()
            .filter(|(_, _, retain)| *retain)
            .map(|(t, _, _)| t)
            .collect();
        let leftovers: Vec<String> = live
            .to_clear
            .iter()
            .filter(|t| !retained.contains(t))
            .cloned()
            .collect();
        for topic in leftovers {
            if live.publisher.publish(&topic, Vec::new(), true) {
                live.to_clear.remove(&topic);
            }
        }
        live.to_clear.retain(|t| !retained.contains(t));
        live.retained = Some(retained.iter().map(|t| (*t).clone()).collect());
        let keep: HashSet<&String> = wanted.iter().map(|(t, _, _)| t).collect();
        let gone: Vec<String> = live
            .published
            .keys()
            .filter(|t| !keep.contains(t))
            .cloned()
            .collect();
        for topic in gone {
            // An empty retained payload deletes the retained message (and the HA entity).
            if live.publisher.publish(&topic, Vec::new(), true) {
                live.published.remove(&topic);
            }
        }
        for (topic, body, retain) in wanted {
            if stale.contains(&topic) || live.published.get(&topic) == Some(&body) {
                continue;
            }
            if live.publisher.publish(&topic, body.clone(), retain) {
                live.published.insert(topic, body);
            }
        }
    }

    /// The listener that publishes each recorded result.
    pub fn listener(self: &Arc<Self>) -> Arc<dyn RecordListener> {
        Arc::new(Listener(Arc::clone(self)))
    }

    fn recorded(&self, m: &Measurement) {
        let mut guard = self.lock();
        let Some(live) = guard.as_mut() else {
            return;
        };
        let prefix = live.config.prefix.clone();
        live.publisher.publish(
            &payload::result_topic(&prefix, &m.probe_id, &m.connection_id),
            payload::result(m).to_string(),
            false,
        );
        // A late result (older than the newest seen) moves no state.
        let newest = live.latest.get(&m.connection_id).copied();
        if newest.is_some_and(|t| m.completed_at < t) {
            return;
        }
        live.latest.insert(m.connection_id.clone(), m.completed_at);
        let topic = payload::connection_topic(&prefix, &m.probe_id, &m.connection_id);
        let body = payload::connection_state(&m.probe_id, &m.connection_id, Some(m)).to_string();
        if live
            .publisher
            .publish(&topic, body.clone(), live.config.retain)
        {
            live.published.insert(topic, body);
        }
    }
}

struct Listener(Arc<Mqtt>);

impl RecordListener for Listener {
    fn recorded(&self, measurement: &Measurement, _edge: Option<AlertEdge>) {
        self.0.recorded(measurement);
    }
}
