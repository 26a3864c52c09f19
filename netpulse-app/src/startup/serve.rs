//! `netpulse serve`: migrate, start notifications and metrics, listen, run the optional local
//! agent, serve until the shutdown signal, then drain.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use netpulse_adapters::secrets::{KeySource, SecretBox};
use poem::listener::{Listener, TcpListener};

use super::local_agent::{self, LocalAgent};
use super::{Server, StartupError, install_metrics, open_app, run, start_notifications};
use crate::metrics::config::MetricsConfig;
use crate::notify::{SentCounter, Timing};
use crate::web::WebOptions;

/// Everything `serve` needs, already validated by the command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// What `/due` tells agents about when to poll again, seconds.
    pub poll_interval: u32,
    /// `NETPULSE_SECRET_KEY` (base64 of 32 bytes), which takes precedence over the file.
    pub secret_key: Option<String>,
    /// The key file for channel secrets (created with mode 0600 when missing).
    pub secret_key_file: PathBuf,
    /// Metrics, remote write and OTLP.
    pub metrics: MetricsConfig,
    /// The dashboard is reached over HTTPS (through a proxy): cookies get `Secure`, answers get
    /// `Strict-Transport-Security`.
    pub behind_https: bool,
    /// Take the client address from the last `X-Forwarded-For` entry (set by a trusted proxy).
    pub trust_forwarded_for: bool,
    /// The in-process agent, when asked for.
    pub local_agent: Option<LocalAgent>,
    /// Header-read and idle timeouts of every connection.
    pub timeouts: super::timeouts::Timeouts,
    /// Who may use the speed-test target, and how much.
    pub speedtest_target: netpulse_adapters::speedtest_target::TargetPolicy,
}

fn load_secrets(config: &ServeConfig) -> Result<SecretBox, StartupError> {
    let (secrets, source) = SecretBox::load(config.secret_key.as_deref(), &config.secret_key_file)
        .map_err(|e| StartupError::Secrets(e.to_string()))?;
    let file = &config.secret_key_file;
    match source {
        KeySource::Environment => tracing::info!("channel secrets: key from NETPULSE_SECRET_KEY"),
        KeySource::File | KeySource::CreatedFile => {
            tracing::info!(
                file = %file.display(),
                created = source == KeySource::CreatedFile,
                "channel secrets: key file (back it up: without it stored channel secrets cannot be read)"
            );
            if SecretBox::file_is_exposed(file) {
                tracing::warn!(file = %file.display(), "the secret key file is readable by others: chmod 600 it");
            }
        }
    }
    Ok(secrets)
}

/// Logs where to point a browser: `/setup` while no account exists, else the sign-in page. An
/// unspecified listen address (`0.0.0.0`, `::`) is shown as loopback.
async fn tell_where_to_go(app: &crate::service::App, listen: SocketAddr) {
    let shown = if listen.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], listen.port()))
    } else {
        listen
    };
    match crate::service::auth::setup_pending(app).await {
        Ok(true) => tracing::info!(
            "open http://{shown}/setup in a browser to create the administrator account"
        ),
        Ok(false) => tracing::info!("open http://{shown}/ in a browser and sign in"),
        Err(e) => tracing::warn!(error = %e, "could not tell whether an account exists"),
    }
}

/// Migrates, binds, serves until `shutdown` completes (which also stops the local agent), then
/// finishes in-flight requests and drains remote write.
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let mut app = open_app(&config.database_url).await?;
    app.poll_interval_seconds = config.poll_interval;
    let secrets = Arc::new(load_secrets(&config)?);
    let counter = Arc::new(SentCounter::default());
    let mqtt = super::mqtt::start(&mut app, Arc::clone(&secrets), Duration::from_secs(30));
    let (_notifications, _tasks) =
        start_notifications(&mut app, secrets, Arc::clone(&counter), Timing::default());
    let _rollups = crate::startup::rollup_job::start(&app);
    let metrics = install_metrics(&mut app, config.metrics.clone()).await?;
    // Deliveries counted by notifications show in `netpulse_notifications_sent_total`.
    let exporter = Arc::clone(&metrics.metrics);
    counter.subscribe(Box::new(move |kind, channel, status| {
        exporter.notification_sent(kind, channel, status);
    }));
    let acceptor = TcpListener::bind(config.listen)
        .into_acceptor()
        .await
        .map_err(|source| StartupError::Listen {
            addr: config.listen,
            source,
        })?;
    tracing::info!(
        listen = %config.listen,
        database = %netpulse_adapters::storage::redact(&config.database_url),
        version = env!("CARGO_PKG_VERSION"),
        "netpulse serving"
    );
    tell_where_to_go(&app, config.listen).await;
    // One signal stops both the server and the local agent.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let agent = match config.local_agent {
        Some(settings) => {
            let listen = if config.listen.ip().is_unspecified() {
                SocketAddr::from(([127, 0, 0, 1], config.listen.port()))
            } else {
                config.listen
            };
            let mut rx = stop_rx.clone();
            let stopped = async move {
                let _ = rx.wait_for(|stop| *stop).await;
            };
            let run =
                local_agent::start(&app, settings, format!("http://{listen}"), stopped).await?;
            Some(tokio::spawn(run))
        }
        None => None,
    };
    let signal = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let server = Server::new(app)
        .metrics(Some(Arc::clone(&metrics.metrics)))
        .web(WebOptions {
            behind_https: config.behind_https,
            trust_forwarded_for: config.trust_forwarded_for,
        })
        .timeouts(config.timeouts)
        .speedtest_target(config.speedtest_target);
    let served = run(acceptor, server, signal).await;
    if let Some(agent) = agent {
        let _ = agent.await;
    }
    metrics.shutdown(Duration::from_secs(5)).await;
    mqtt.shutdown().await;
    served.map_err(StartupError::Server)
}
