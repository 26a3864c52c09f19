//! Metrics: the Prometheus `/metrics` endpoint, Prometheus remote write, and optional OTLP
//! export of the same instruments.
//!
//! **How a scrape works.** The series come from OpenTelemetry observable instruments (one per
//! family, [`state::Family`]) exported by `opentelemetry-prometheus` into a `prometheus`
//! registry that the handler encodes as text format 0.0.4. The instruments' callbacks read a
//! [`state::Frame`] built from two in-memory parts:
//!
//! - the [`state::Results`] (newest completed result per connection and engine, run counters),
//!   loaded once at startup and kept current by ingest through [`Metrics`]'s
//!   [`RecordListener`] implementation;
//! - the [`state::Catalog`] of probes and connections (names, `site`, plan, degraded, last
//!   poll), re-read at every scrape from the probe and connection rows.
//!
//! A scrape therefore costs the same with 100 or 10,000,000 stored results: it reads one row per
//! probe and per connection, never the measurement history.
//!
//! **Exporter settings.** Scope labels (`otel_scope_*`) and `target_info` are off; units are not
//! set on the instruments and unit suffixes are off, so the exported names are exactly the
//! instrument names; counters are registered without `_total`, which the exporter appends (so
//! that OTLP consumers get the OpenTelemetry-style name and Prometheus the conventional one).
//!
//! **Counters** count events since the stored history began: at startup they are loaded from
//! the stored rows, then ingest increments them. They never go down while the server runs
//! (a deleted connection's series disappear instead).

pub mod access;
pub mod config;
pub mod remote_write;
pub mod state;
pub mod text;

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use netpulse_domain::alert::AlertEdge;
use netpulse_domain::model::Measurement;
use netpulse_ports::clock::Clock;
use netpulse_ports::storage::{Storage, StorageError};
use opentelemetry::InstrumentationScope;
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry_sdk::metrics::{Instrument, SdkMeterProvider, Stream};

use self::access::{AllowList, ScrapeAccess};
use self::remote_write::RemoteWriteStats;
use self::state::{
    Catalog, ConnectionLabels, Family, Frame, FrameSettings, Kind, MqttCounts, Results, build_frame,
};
use netpulse_ports::listener::RecordListener;

/// Series per instrument before the SDK folds the rest into an overflow series. Sized for
/// 100,000 connections × 2 statuses; the SDK pre-sizes its map, so this costs address space
/// only until the first collection.
pub const CARDINALITY_LIMIT: usize = 200_000;

/// How long a built frame is reused by the instruments' callbacks (one collection calls every
/// instrument's callback; they share one frame).
const FRAME_REUSE: Duration = Duration::from_millis(500);

/// The Content-Type of `/metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Which code writes `/metrics`. Both write the same families from the same frame (a test
/// compares them); they differ in cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PrometheusRenderer {
    /// The frame written as text directly (default: about 20 times cheaper per series).
    #[default]
    Text,
    /// The OpenTelemetry instruments collected by `opentelemetry-prometheus` into a
    /// `prometheus` registry and encoded by its text encoder.
    Opentelemetry,
}

/// Settings of the exporter.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    /// Whether `/metrics` is served (off: 404).
    pub enabled: bool,
    /// Which code writes `/metrics`.
    pub renderer: PrometheusRenderer,
    /// Who may scrape (the allowlist, or anyone with the token).
    pub access: ScrapeAccess,
    /// `netpulse_up` is 1 when the newest completed result is at most this old, seconds.
    pub freshness_window_seconds: i64,
    /// A probe is up when its agent polled at most this long ago, seconds.
    pub probe_stale_after_seconds: i64,
    /// The agents' poll interval, seconds (for `netpulse_probe_state`).
    pub probe_poll_interval_seconds: u32,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            renderer: PrometheusRenderer::default(),
            access: ScrapeAccess {
                allow: AllowList::private_networks(),
                token: None,
            },
            freshness_window_seconds: 3600,
            probe_stale_after_seconds: netpulse_domain::agent_state::offline_after_seconds(60),
            probe_poll_interval_seconds: 60,
        }
    }
}

struct Shared {
    catalog: RwLock<Arc<Catalog>>,
    results: RwLock<Results>,
    frame: Mutex<Option<(Instant, Arc<Frame>)>>,
    remote_write: Arc<RemoteWriteStats>,
    mqtt: RwLock<Option<MqttSource>>,
    clock: Arc<dyn Clock>,
    settings: FrameSettings,
}

/// Reads the MQTT publisher's counters from memory (`None` while it does not publish).
pub type MqttSource = Arc<dyn Fn() -> Option<MqttCounts> + Send + Sync>;

impl Shared {
    fn frame(&self) -> Arc<Frame> {
        let mut cached = self.frame.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, frame)) = cached.as_ref()
            && at.elapsed() < FRAME_REUSE
        {
            return Arc::clone(frame);
        }
        let catalog = Arc::clone(&self.catalog.read().unwrap_or_else(PoisonError::into_inner));
        let frame = {
            let results = self.results.read().unwrap_or_else(PoisonError::into_inner);
            Arc::new(build_frame(
                &catalog,
                &results,
                self.remote_write.counts(),
                self.mqtt
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_ref()
                    .and_then(|source| source()),
                self.clock.now(),
                self.settings,
            ))
        };
        *cached = Some((Instant::now(), Arc::clone(&frame)));
        frame
    }

    fn invalidate(&self) {
        *self.frame.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// The exporter: register it as a [`RecordListener`], serve [`Metrics::render`] at `/metrics`.
pub struct Metrics {
    shared: Arc<Shared>,
    storage: Arc<dyn Storage>,
    registry: prometheus::Registry,
    provider: SdkMeterProvider,
    settings: MetricsSettings,
    scrape: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The startup snapshot could not be read.
    #[error("cannot load the metrics snapshot: {0}")]
    Storage(#[from] StorageError),
    /// The OpenTelemetry exporter refused its configuration.
    #[error("cannot build the Prometheus exporter: {0}")]
    Exporter(String),
}

fn observe(shared: &Shared, family: Family, o: &dyn opentelemetry::metrics::AsyncInstrument<f64>) {
    let frame = shared.frame();
    let mut labels = Vec::with_capacity(8);
    for s in frame.series(family) {
        labels.clear();
        labels.extend(s.labels().cloned());
        o.observe(s.value, &labels);
    }
}

fn register(meter: &Meter, shared: &Arc<Shared>, family: Family) {
    let (name, kind, help) = family.describe();
    let frame_source = Arc::clone(shared);
    match kind {
        Kind::Gauge => {
            meter
                .f64_observable_gauge(name)
                .with_description(help)
                .with_callback(move |o| observe(&frame_source, family, o))
                .build();
        }
        Kind::Counter => {
            // The exporter appends `_total` to monotonic sums.
            let base = name.strip_suffix("_total").unwrap_or(name);
            meter
                .f64_observable_counter(base)
                .with_description(help)
                .with_callback(move |o| observe(&frame_source, family, o))
                .build();
        }
    }
}

impl Metrics {
    /// Loads the startup snapshot (newest completed result per connection and engine, run
    /// counts: one indexed read per connection and engine plus one aggregate over the history)
    /// and builds the exporter. `otlp` adds a periodic OTLP reader of the same instruments.
    pub async fn start(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        settings: MetricsSettings,
        remote_write: Arc<RemoteWriteStats>,
        otlp: Option<config::OtlpSettings>,
    ) -> Result<Arc<Self>, MetricsError> {
        let latest = storage.latest_completed_per_engine().await?;
        let tallies = storage.measurement_tallies().await?;
        let shared = Arc::new(Shared {
            catalog: RwLock::new(Arc::new(Catalog::default())),
            results: RwLock::new(Results::load(&latest, &tallies)),
            frame: Mutex::new(None),
            remote_write,
            mqtt: RwLock::new(None),
            clock,
            settings: FrameSettings {
                freshness_window_seconds: settings.freshness_window_seconds,
                probe_stale_after_seconds: settings.probe_stale_after_seconds,
                probe_poll_interval_seconds: settings.probe_poll_interval_seconds,
            },
        });
        let registry = prometheus::Registry::new();
        let exporter = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .without_units()
            .without_target_info()
            .scope_info_enabled(false)
            .build()
            .map_err(|e| MetricsError::Exporter(e.to_string()))?;
        let mut builder =
            SdkMeterProvider::builder()
                .with_reader(exporter)
                .with_view(|_: &Instrument| {
                    Stream::builder()
                        .with_cardinality_limit(CARDINALITY_LIMIT)
                        .build()
                        .ok()
                });
        if let Some(otlp) = otlp {
            builder =
                builder.with_reader(config::otlp_reader(&otlp).map_err(MetricsError::Exporter)?);
        }
        let provider = builder.build();
        let meter = provider.meter_with_scope(
            InstrumentationScope::builder("netpulse")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        for family in Family::ALL {
            register(&meter, &shared, family);
        }
        let metrics = Arc::new(Self {
            shared,
            storage,
            registry,
            provider,
            settings,
            scrape: tokio::sync::Mutex::new(()),
        });
        metrics.refresh_catalog().await;
        Ok(metrics)
    }

    /// Adds the MQTT publisher's series (`netpulse_mqtt_*`), read from `source` at each scrape.
    pub fn set_mqtt_source(&self, source: MqttSource) {
        *self
            .shared
            .mqtt
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(source);
        self.shared.invalidate();
    }

    /// The settings.
    pub fn settings(&self) -> &MetricsSettings {
        &self.settings
    }

    /// Re-reads probes and connections (one row each). On a database error the previous
    /// catalog stays in use and the error is logged.
    pub async fn refresh_catalog(&self) {
        let read = async {
            let probes = self.storage.probes().await?;
            let connections = self.storage.metrics_connections().await?;
            let checks = self.storage.checks(None).await?;
            let states = self.storage.check_states(None).await?;
            let now = self.shared.clock.now();
            let paused = self.storage.active_probe_maintenance(now).await?;
            let tallies = self.storage.check_tallies(now.plus_seconds(-600)).await?;
            let outages = self.storage.outage_series(None).await?;
            Ok::<_, StorageError>((
                probes,
                connections,
                checks,
                states,
                paused,
                tallies,
                outages,
            ))
        };
        match read.await {
            Ok((probes, connections, checks, states, paused, tallies, outages)) => {
                let mut catalog = Catalog::build(probes, connections);
                catalog.checks = state::checks::build(&catalog.probes, checks, states);
                catalog.outages = state::outages::build(&catalog.probes, outages);
                catalog.maintenance = paused.into_iter().map(|w| w.probe_id.to_string()).collect();
                catalog.check_tallies = tallies
                    .into_iter()
                    .map(|(p, t)| (p.to_string(), (t.total, t.failed)))
                    .collect();
                let catalog = Arc::new(catalog);
                {
                    let exists: std::collections::HashSet<_> =
                        catalog.all_connections.iter().collect();
                    self.shared
                        .results
                        .write()
                        .unwrap_or_else(PoisonError::into_inner)
                        .retain_connections(|c| exists.contains(c));
                }
                *self
                    .shared
                    .catalog
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = catalog;
                self.shared.invalidate();
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot refresh probes and connections; serving the previous ones");
            }
        }
    }

    /// The text exposition of every family (what `/metrics` answers), written by the
    /// configured renderer after re-reading the catalog.
    pub async fn render(&self) -> String {
        match self.settings.renderer {
            PrometheusRenderer::Text => self.render_text().await,
            PrometheusRenderer::Opentelemetry => self.render_opentelemetry().await,
        }
    }

    /// The exposition written directly from the frame.
    pub async fn render_text(&self) -> String {
        let _one_at_a_time = self.scrape.lock().await;
        self.refresh_catalog().await;
        let shared = Arc::clone(&self.shared);
        match tokio::task::spawn_blocking(move || text::render(&shared.frame())).await {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "metrics: the render task failed");
                String::new()
            }
        }
    }

    /// The exposition collected from the OpenTelemetry instruments by `opentelemetry-prometheus`.
    pub async fn render_opentelemetry(&self) -> String {
        let _one_at_a_time = self.scrape.lock().await;
        self.refresh_catalog().await;
        let registry = self.registry.clone();
        let encode = move || {
            prometheus::TextEncoder::new()
                .encode_to_string(&registry.gather())
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "metrics: cannot encode");
                    String::new()
                })
        };
        match tokio::task::spawn_blocking(encode).await {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "metrics: the render task failed");
                String::new()
            }
        }
    }

    /// Counts one notification send (`kind`: alert, recovery, digest; `status`: sent, skipped,
    /// failed) in `netpulse_notifications_sent_total`.
    pub fn notification_sent(&self, kind: &str, channel: &str, status: &str) {
        self.shared
            .results
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .notification(kind, channel, status);
        self.shared.invalidate();
    }

    /// The labels of a connection as `/metrics` exports them (refreshing the catalog once when
    /// the connection is not in it yet).
    pub async fn connection_labels(&self, m: &Measurement) -> Option<ConnectionLabels> {
        let find = || {
            self.shared
                .catalog
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .connections
                .iter()
                .find(|c| c.row.id == m.connection_id)
                .map(|c| c.labels.clone())
        };
        if let Some(l) = find() {
            return Some(l);
        }
        self.refresh_catalog().await;
        if let Some(l) = find() {
            return Some(l);
        }
        // Not exported (e.g. disabled since): label it from its rows.
        let connection = self.storage.connection(&m.connection_id).await.ok()??;
        let probe = self.storage.probe(&connection.probe_id).await.ok()??;
        Some(ConnectionLabels {
            probe: Arc::from(probe.name.as_str()),
            connection: Arc::from(connection.name.as_str()),
            site: Arc::from(probe.labels.get("site").unwrap_or("")),
        })
    }

    /// Exports a last time to the OTLP reader, if any (at shutdown).
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::debug!(error = %e, "metrics provider shutdown");
        }
    }
}

impl RecordListener for Metrics {
    fn recorded(&self, measurement: &Measurement, _edge: Option<AlertEdge>) {
        self.shared
            .results
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .record(measurement);
        self.shared.invalidate();
    }
}

#[async_trait::async_trait]
impl remote_write::LabelSource for Metrics {
    async fn labels(&self, m: &Measurement) -> Option<ConnectionLabels> {
        self.connection_labels(m).await
    }
}

/// What [`install`] started.
#[derive(Debug)]
pub struct Installed {
    /// The exporter (a listener of ingest; serves `/metrics` when enabled).
    pub metrics: Arc<Metrics>,
    /// The remote-write queue, when configured (a listener of ingest).
    pub remote_write: Option<Arc<remote_write::RemoteWriter>>,
}

impl Installed {
    /// The listeners ingest must tell about recorded measurements: the exporter, and the
    /// remote-write queue when there is one.
    pub fn listeners(&self) -> Vec<Arc<dyn RecordListener>> {
        let mut listeners: Vec<Arc<dyn RecordListener>> = vec![self.metrics.clone()];
        if let Some(w) = &self.remote_write {
            listeners.push(w.clone());
        }
        listeners
    }

    /// At shutdown: gives queued remote writes up to `grace` to leave, then a last OTLP export.
    pub async fn shutdown(self, grace: Duration) {
        if let Some(w) = &self.remote_write
            && !w.drain(grace).await
        {
            tracing::warn!("remote write: measurements still queued at shutdown are lost");
        }
        let metrics = self.metrics;
        let _ = tokio::task::spawn_blocking(move || metrics.shutdown()).await;
    }
}

/// Starts the exporter (and remote write, and the OTLP catalog refresher) over `storage`; the
/// composition root registers [`Installed::listeners`] with ingest.
pub async fn install(
    storage: Arc<dyn netpulse_ports::storage::Storage>,
    clock: Arc<dyn netpulse_ports::clock::Clock>,
    config: config::MetricsConfig,
) -> Result<Installed, MetricsError> {
    let stats = Arc::new(RemoteWriteStats::default());
    let otlp_interval = config.otlp.as_ref().map(|o| o.interval);
    tracing::info!(
        metrics_endpoint = config.metrics.enabled,
        renderer = ?config.metrics.renderer,
        allowlist = config.metrics.access.allow.ranges().len(),
        token = config.metrics.access.token.is_some(),
        remote_write = %config
            .remote_write
            .as_ref()
            .map_or_else(|| "off".to_owned(), |r| netpulse_adapters::storage::redact(&r.url)),
        otlp = %config
            .otlp
            .as_ref()
            .map_or_else(|| "off".to_owned(), |o| netpulse_adapters::storage::redact(&o.endpoint)),
        "metrics"
    );
    let metrics = Metrics::start(
        storage,
        clock,
        config.metrics,
        Arc::clone(&stats),
        config.otlp,
    )
    .await?;
    if let Some(interval) = otlp_interval {
        // OTLP exports run on their own schedule, not after a scrape: keep the catalog (new,
        // renamed, disabled connections; probe polls) as fresh as half the export interval.
        let weak = Arc::downgrade(&metrics);
        let period = (interval / 2).max(Duration::from_secs(1));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(metrics) = weak.upgrade() else { break };
                metrics.refresh_catalog().await;
            }
        });
    }
    let remote_write = match config.remote_write {
        Some(rw) => {
            let writer = remote_write::RemoteWriter::start(rw, metrics.clone(), stats)
                .map_err(MetricsError::Exporter)?;
            Some(writer)
        }
        None => None,
    };
    Ok(Installed {
        metrics,
        remote_write,
    })
}
