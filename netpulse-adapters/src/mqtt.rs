//! Publishing to an MQTT broker (feature `mqtt`, with `rumqttc`): QoS 1, retained or not, over
//! TCP or TLS, with user/password, and a last will that marks the server `offline` on the
//! availability topic when its connection drops (the server publishes `online` there, retained,
//! after every connect).
//!
//! **Never blocking.** [`MqttPublisher::publish`] puts the message on a bounded queue (the
//! client's request channel) and returns at once; when the queue is full (the broker is down or
//! slow) the message is dropped and counted. A background task runs the client's event loop and
//! reconnects with a backoff (1 s doubling to 30 s), so a failing broker costs the caller
//! nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, LastWill, MqttOptions, Packet, QoS, Transport,
};
use tokio::sync::watch;

/// The payload on the availability topic while the server is connected.
pub const ONLINE: &str = "online";
/// The payload on the availability topic after the server left (its last will, or a clean
/// shutdown).
pub const OFFLINE: &str = "offline";

/// How to secure the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MqttTls {
    /// TLS, the broker's certificate checked against the system's roots.
    SystemRoots,
    /// TLS, the broker's certificate checked against this CA (PEM).
    Ca(Vec<u8>),
}

/// Where and how to connect.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttSettings {
    /// The broker's host name or address.
    pub host: String,
    /// Its port (1883 for TCP, 8883 for TLS by convention).
    pub port: u16,
    /// TLS, when wanted.
    pub tls: Option<MqttTls>,
    /// User name and password.
    pub credentials: Option<(String, String)>,
    /// The client id (unique per server process: a broker disconnects the older of two
    /// clients with the same id).
    pub client_id: String,
    /// Where `online` / `offline` is published (retained; `offline` also as the last will).
    pub availability_topic: String,
    /// The keep-alive interval (the broker publishes the last will after 1.5 × it of silence).
    pub keep_alive: Duration,
    /// Messages that may wait for the broker before new ones are dropped.
    pub queue: usize,
}

impl std::fmt::Debug for MqttSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("client_id", &self.client_id)
            .field("availability_topic", &self.availability_topic)
            .finish_non_exhaustive()
    }
}

/// Counters of one publisher.
#[derive(Debug, Default)]
pub struct MqttStats {
    queued: AtomicU64,
    dropped: AtomicU64,
    acked: AtomicU64,
    connects: AtomicU64,
    failures: AtomicU64,
    up: std::sync::atomic::AtomicBool,
    last_error: std::sync::Mutex<Option<String>>,
}

impl MqttStats {
    /// Messages accepted into the queue.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }
    /// Messages dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    /// QoS 1 publishes the broker acknowledged (PUBACK).
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }
    /// Successful connects (the first one and every reconnect).
    pub fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }
    /// Failed connection attempts and lost connections (a refused certificate, a wrong host
    /// name, a broker that is down or that refused the credentials).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
    /// Connected now (since the last successful connect, until the connection fails).
    pub fn is_connected(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }
    /// The error of the newest failure, cleared by a successful connect.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
    fn set_error(&self, error: Option<String>) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = error;
    }
}

/// Checks a CA bundle (PEM) the way the publisher loads it: at least one `CERTIFICATE` block,
/// each one a parsable X.509 trust anchor, nothing else in the text. Returns how many.
pub fn check_ca(pem: &str) -> Result<usize, String> {
    let mut reader = std::io::BufReader::new(pem.as_bytes());
    let mut certs = Vec::new();
    loop {
        match rustls_pemfile::read_one(&mut reader) {
            Ok(Some(rustls_pemfile::Item::X509Certificate(c))) => certs.push(c),
            Ok(Some(_)) => {
                return Err("must hold only certificates (no private keys or other blocks)".into());
            }
            Ok(None) => break,
            Err(e) => return Err(format!("is not valid PEM: {e}")),
        }
    }
    if certs.is_empty() {
        return Err("must hold at least one PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    let n = certs.len();
    let mut store = rustls::RootCertStore::empty();
    let (_, ignored) = store.add_parsable_certificates(certs);
    if ignored > 0 {
        return Err(format!(
            "holds {ignored} of {n} certificate(s) that are not valid X.509 certificates"
        ));
    }
    Ok(n)
}

/// A connection to a broker, kept up by a background task.
#[derive(Debug)]
pub struct MqttPublisher {
    client: AsyncClient,
    stats: Arc<MqttStats>,
    connected: watch::Receiver<u64>,
    availability_topic: String,
    task: tokio::task::JoinHandle<()>,
}

impl MqttPublisher {
    /// Starts connecting (in the background: a broker that is down is retried, never waited
    /// for). Must be called inside a Tokio runtime.
    pub fn start(settings: &MqttSettings) -> Self {
        let mut options = MqttOptions::new(
            settings.client_id.clone(),
            settings.host.clone(),
            settings.port,
        );
        options.set_keep_alive(settings.keep_alive.max(Duration::from_secs(5)));
        options.set_last_will(LastWill::new(
            settings.availability_topic.clone(),
            OFFLINE,
            QoS::AtLeastOnce,
            true,
        ));
        options.set_max_packet_size(1 << 20, 1 << 20);
        if let Some((user, password)) = &settings.credentials {
            options.set_credentials(user.clone(), password.clone());
        }
        match &settings.tls {
            None => {}
            Some(MqttTls::SystemRoots) => {
                options.set_transport(Transport::tls_with_default_config());
            }
            Some(MqttTls::Ca(ca)) => {
                options.set_transport(Transport::tls(ca.clone(), None, None));
            }
        }
        let (client, eventloop) = AsyncClient::new(options, settings.queue.max(1));
        let stats = Arc::new(MqttStats::default());
        let (tx, connected) = watch::channel(0);
        let task = tokio::spawn(run(
            eventloop,
            client.clone(),
            settings.availability_topic.clone(),
            Arc::clone(&stats),
            tx,
            format!("{}:{}", settings.host, settings.port),
        ));
        Self {
            client,
            stats,
            connected,
            availability_topic: settings.availability_topic.clone(),
            task,
        }
    }

    /// Queues one QoS 1 message; `false` when the queue was full and it was dropped.
    pub fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) -> bool {
        let ok = self
            .client
            .try_publish(topic, QoS::AtLeastOnce, retain, payload.into())
            .is_ok();
        let counter = if ok {
            &self.stats.queued
        } else {
            &self.stats.dropped
        };
        counter.fetch_add(1, Ordering::Relaxed);
        ok
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<MqttStats> {
        &self.stats
    }

    /// Changes at every successful connect (its value counts them): whoever keeps retained
    /// topics current republishes them then.
    pub fn connected(&self) -> watch::Receiver<u64> {
        self.connected.clone()
    }

    /// Publishes `offline` on the availability topic, disconnects cleanly (the broker then
    /// drops the last will) and stops, waiting at most `timeout` for queued messages.
    pub async fn shutdown(mut self, timeout: Duration) {
        let _ = self.client.try_publish(
            self.availability_topic.as_str(),
            QoS::AtLeastOnce,
            true,
            OFFLINE,
        );
        let _ = self.client.try_disconnect();
        let _ = tokio::time::timeout(timeout, &mut self.task).await;
    }
}

impl Drop for MqttPublisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    mut eventloop: EventLoop,
    client: AsyncClient,
    availability_topic: String,
    stats: Arc<MqttStats>,
    connected: watch::Sender<u64>,
    broker: String,
) {
    let mut backoff = Duration::from_secs(1);
    let mut failing = false;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) if ack.code == ConnectReturnCode::Success => {
                if failing {
                    tracing::info!(broker = %broker, "MQTT: connected again");
                } else {
                    tracing::info!(broker = %broker, "MQTT: connected");
                }
                failing = false;
                backoff = Duration::from_secs(1);
                stats.set_error(None);
                stats.up.store(true, Ordering::Relaxed);
                stats.connects.fetch_add(1, Ordering::Relaxed);
                // Not awaited here: the event loop is what drains the queue.
                let online = client.clone();
                let topic = availability_topic.clone();
                tokio::spawn(async move {
                    let _ = online.publish(topic, QoS::AtLeastOnce, true, ONLINE).await;
                });
                connected.send_modify(|n| *n += 1);
            }
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                stats.acked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => {
                // Let the disconnect go out, then stop.
                let _ = tokio::time::timeout(Duration::from_secs(2), eventloop.poll()).await;
                return;
            }
            Ok(_) => {}
            Err(e) => {
                stats.up.store(false, Ordering::Relaxed);
                stats.failures.fetch_add(1, Ordering::Relaxed);
                stats.set_error(Some(describe(&e)));
                if failing {
                    tracing::debug!(broker = %broker, error = %e, "MQTT: still cannot connect");
                } else {
                    tracing::warn!(broker = %broker, error = %e, "MQTT: connection failed; retrying in the background");
                }
                failing = true;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// The error with its causes (rumqttc's TLS errors name the refused certificate only there).
fn describe(e: &rumqttc::ConnectionError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
