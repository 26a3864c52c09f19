//! The composition root: the one place that builds the parts and wires them together. `serve`,
//! the admin CLI, the integration tests and the benchmarks all start here, so what runs in
//! production is what is tested.
//!
//! - [`open_app`]: storage (migrated) and the service context, for admin commands and tests.
//! - [`start_notifications`], [`install_metrics`]: the engines, registered as listeners of
//!   ingest.
//! - [`routes`] / [`run`]: the whole route tree (agent and REST API, dashboard, `/metrics`,
//!   the speed-test target endpoints) and the server loop with graceful shutdown.
//! - [`serve::serve`]: all of the above from a [`serve::ServeConfig`].

pub mod local_agent;
pub mod mqtt;
pub mod rollup_job;
pub mod serve;
pub mod timeouts;

use std::future::Future;
use std::sync::Arc;

use netpulse_adapters::cron_calendar::CronerCalendar;
use netpulse_adapters::secrets::SecretBox;
use netpulse_adapters::speedtest_target::{Limits, TargetPolicy};
use netpulse_domain::alert::AlertPolicy;
use netpulse_ports::clock::SystemClock;
use netpulse_ports::storage::StorageError;
use poem::listener::TcpAcceptor;
use poem::{Endpoint, EndpointExt, Route, Server as PoemServer};

use crate::error::AppError;
use crate::metrics::config::{FlagError, MetricsConfig};
use crate::metrics::{Installed, Metrics, MetricsError};
use crate::notify::{Notifications, SentCounter, Tasks, Timing};
use crate::service::App;
use crate::web::WebOptions;

/// Why the server (or a command) could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened or migrated.
    #[error("cannot open database {url}: {source}")]
    Database {
        /// The URL, password redacted.
        url: String,
        /// Why.
        #[source]
        source: StorageError,
    },
    /// A setting has a bad value; `flag` names it.
    #[error("invalid {flag}: {message}")]
    Setting {
        /// The command-line flag.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The secret key for channel secrets could not be loaded or created.
    #[error("{0}")]
    Secrets(String),
    /// The in-process agent could not start.
    #[error("local agent: {0}")]
    LocalAgent(String),
    /// The server could not listen on its address.
    #[error("invalid --listen: cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The metrics exporter could not start.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// A service call failed while starting (e.g. creating the local agent's probe).
    #[error(transparent)]
    App(#[from] AppError),
    /// The server failed while running.
    #[error("server failed: {0}")]
    Server(#[source] std::io::Error),
}

impl From<FlagError> for StartupError {
    fn from(e: FlagError) -> Self {
        Self::Setting {
            flag: e.flag,
            message: e.message,
        }
    }
}

/// Opens (and migrates) the database at `url` and builds the service context over it, with the
/// default poll interval (60 s) and alert thresholds, and no listeners.
pub async fn open_app(url: &str) -> Result<App, StartupError> {
    let storage = netpulse_adapters::storage::open(url)
        .await
        .map_err(|source| StartupError::Database {
            url: netpulse_adapters::storage::redact(url),
            source,
        })?;
    Ok(app_over(storage, Arc::new(SystemClock)))
}

/// The service context over `storage` and `clock`, with the default poll interval (60 s) and
/// alert thresholds, and no listeners or notifications yet.
pub fn app_over(
    storage: Arc<dyn netpulse_ports::storage::Storage>,
    clock: Arc<dyn netpulse_ports::clock::Clock>,
) -> App {
    App {
        storage,
        clock,
        calendar: CronerCalendar,
        poll_interval_seconds: 60,
        default_alerts: AlertPolicy::default(),
        listeners: vec![],
        notifications: None,
        wakeups: Arc::default(),
        mqtt: None,
        secrets: None,
    }
}

/// A service context over a private in-memory database (for printing the OpenAPI document).
pub async fn offline_app() -> Result<App, StartupError> {
    open_app("sqlite::memory:").await
}

/// The OpenAPI document as pretty JSON (what `openapi/openapi.json` holds).
pub fn openapi_json(app: &App) -> String {
    crate::http::openapi_json(app)
}

/// Starts the notification engine over `app`'s storage and clock and registers it: its edge
/// listener joins `app.listeners`, and `app.notifications` serves the notification use cases.
/// Its housekeeping also runs the nightly baseline recompute.
/// Deliveries are counted into `counter`; `secrets` also becomes `app.secrets` (TOTP secrets,
/// JWT signing keys). The returned tasks stop when dropped.
pub fn start_notifications(
    app: &mut App,
    secrets: Arc<SecretBox>,
    counter: Arc<SentCounter>,
    timing: Timing,
) -> (Arc<Notifications>, Tasks) {
    app.secrets = Some(Arc::clone(&secrets));
    let notifications = Notifications::new(
        app.storage.clone(),
        app.clock.clone(),
        secrets,
        counter,
        app.poll_interval_seconds,
        app.default_alerts,
        timing,
    );
    // Housekeeping recomputes the baselines nightly, under its lease.
    notifications.add_chore(Arc::new(crate::service::baselines::NightlyChore(
        app.clone(),
    )));
    app.listeners.push(notifications.listener());
    app.notifications = Some(notifications.clone());
    let tasks = notifications.start();
    (notifications, tasks)
}

/// Starts the metrics exporter (and remote write, OTLP) over `app`'s storage and registers its
/// listeners with ingest. Mount `/metrics` by passing the exporter to [`Server::metrics`].
pub async fn install_metrics(
    app: &mut App,
    config: MetricsConfig,
) -> Result<Installed, MetricsError> {
    let installed =
        crate::metrics::install(Arc::clone(&app.storage), Arc::clone(&app.clock), config).await?;
    app.listeners.extend(installed.listeners());
    if let Some(engine) = &app.mqtt {
        // The MQTT series come from the engine's counters in memory.
        let engine = Arc::clone(engine);
        installed.metrics.set_mqtt_source(Arc::new(move || {
            let s = engine.status();
            s.running.then_some(crate::metrics::state::MqttCounts {
                connected: s.connected,
                dropped: s.dropped,
                failures: s.failures,
            })
        }));
    }
    Ok(installed)
}

/// What the route tree is built from.
#[derive(Debug, Clone)]
pub struct Server {
    /// The service context.
    pub app: App,
    /// The metrics exporter; `/metrics` is mounted when it is set and enabled.
    pub metrics: Option<Arc<Metrics>>,
    /// The dashboard's options.
    pub web: WebOptions,
    /// The connection timeouts (header read, idle).
    pub timeouts: timeouts::Timeouts,
    /// Who may use the speed-test target (`/speedtest/*`); its client address follows
    /// `web.trust_forwarded_for`.
    pub speedtest_target: TargetPolicy,
}

impl Server {
    /// A server over `app` without metrics and with the dashboard's default options.
    pub fn new(app: App) -> Self {
        Self {
            app,
            metrics: None,
            web: WebOptions::default(),
            timeouts: timeouts::Timeouts::default(),
            speedtest_target: TargetPolicy {
                limits: Some(Limits::default()),
                ..TargetPolicy::default()
            },
        }
    }

    /// With these connection timeouts.
    #[must_use]
    pub fn timeouts(mut self, timeouts: timeouts::Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// With this speed-test target policy.
    #[must_use]
    pub fn speedtest_target(mut self, policy: TargetPolicy) -> Self {
        self.speedtest_target = policy;
        self
    }

    /// With the metrics exporter (mounted at `/metrics` when enabled).
    #[must_use]
    pub fn metrics(mut self, metrics: Option<Arc<Metrics>>) -> Self {
        self.metrics = metrics;
        self
    }

    /// With the dashboard's options.
    #[must_use]
    pub fn web(mut self, web: WebOptions) -> Self {
        self.web = web;
        self
    }
}

/// Every route of the server: `/metrics` (when enabled), the API under `/api`, the dashboard and
/// the speed-test target endpoints at `/`, with the common headers and request tracing.
pub fn routes(server: Server) -> impl Endpoint {
    let mut route = Route::new();
    if let Some(metrics) = server.metrics.filter(|m| m.settings().enabled) {
        route = route.at(
            "/metrics",
            crate::http::allow::get_only(crate::http::metrics::metrics)
                .data(metrics)
                .data(crate::http::metrics::TrustForwardedFor(
                    server.web.trust_forwarded_for,
                )),
        );
    }
    let route = crate::http::api_routes(route, &server.app).nest(
        "/",
        crate::web::routes(
            netpulse_adapters::speedtest_target::routes_with(TargetPolicy {
                trust_forwarded_for: server.web.trust_forwarded_for,
                ..server.speedtest_target
            }),
            server.app.clone(),
            server.web,
        ),
    );
    crate::http::common_middleware(route.data(server.app))
}

/// Serves [`routes`] on `listener` until `shutdown` completes, then finishes in-flight requests.
/// Every connection gets the server's [`timeouts::Timeouts`].
pub async fn run(
    listener: TcpAcceptor,
    server: Server,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let acceptor = timeouts::TimeoutAcceptor::new(listener, server.timeouts);
    PoemServer::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(routes(server), shutdown, None)
        .await
}
