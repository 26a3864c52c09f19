//! `netpulse serve`.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};
use poem::listener::{Listener, TcpListener};

use netpulse_adapters::secrets::{KeySource, SecretBox};

use super::CliError;
use super::admin::open_app;
use crate::notify::{Notifications, SentCounter, Timing};

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "NETPULSE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Log format.
    #[arg(long, env = "NETPULSE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// How often agents should poll, seconds (sent as `pollAfterSeconds`).
    #[arg(long, env = "AGENT_POLL_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub poll_interval: u32,
    /// Also run an agent in this process, for a probe named after this host (created on first
    /// start with one connection): scheduled tests from one command.
    #[arg(long, env = "NETPULSE_LOCAL_AGENT")]
    pub local_agent: bool,
    /// The local agent's spool of undelivered results.
    #[arg(
        long,
        env = "NETPULSE_LOCAL_AGENT_SPOOL_DIR",
        default_value = "netpulse-local-spool"
    )]
    pub local_agent_spool_dir: std::path::PathBuf,
    /// The Ookla Speedtest CLI the local agent runs (a path or a name on PATH).
    #[arg(long, env = "OOKLA_BINARY", default_value = "speedtest")]
    pub ookla_binary: std::path::PathBuf,
    /// iperf3, for `iperf3://` pool entries.
    #[arg(long, env = "IPERF3_BINARY", default_value = "iperf3")]
    pub iperf3_binary: std::path::PathBuf,
    /// The HTTP engine's target when the local probe is created without the Ookla CLI.
    #[arg(
        long,
        env = "NETPULSE_LOCAL_AGENT_TARGET",
        default_value = "https://speed.cloudflare.com"
    )]
    pub local_agent_target: String,
    /// File holding the key that encrypts notification-channel secrets (created with mode 0600
    /// on first start). `NETPULSE_SECRET_KEY` (base64 of 32 bytes) takes precedence.
    #[arg(
        long,
        env = "NETPULSE_SECRET_KEY_FILE",
        default_value = "netpulse-secret.key"
    )]
    pub secret_key_file: std::path::PathBuf,
    /// Metrics, remote write and OTLP.
    #[command(flatten)]
    pub metrics: crate::metrics::config::MetricsArgs,
    /// The dashboard is reached over HTTPS (through a TLS-terminating proxy): session cookies
    /// get `Secure` and answers get `Strict-Transport-Security`.
    #[arg(long, env = "NETPULSE_BEHIND_HTTPS")]
    pub behind_https: bool,
    /// Trust the last `X-Forwarded-For` entry as the client address (only behind a proxy that
    /// sets it): sign-in throttling per address uses it.
    #[arg(long, env = "NETPULSE_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
}

/// Starts logging (RUST_LOG filters, default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,poem=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// Migrates, binds, serves.
pub async fn serve(database_url: &str, args: ServeArgs) -> Result<(), CliError> {
    init_logging(args.log_format);
    let metrics_config = args.metrics.config(args.poll_interval)?;
    let mut app = open_app(database_url).await?;
    app.poll_interval_seconds = args.poll_interval;
    let env_key = std::env::var("NETPULSE_SECRET_KEY").ok();
    let (secrets, source) =
        SecretBox::load(env_key.as_deref(), &args.secret_key_file).map_err(|e| CliError {
            status: 1,
            message: e.to_string(),
        })?;
    match source {
        KeySource::Environment => tracing::info!("channel secrets: key from NETPULSE_SECRET_KEY"),
        KeySource::File | KeySource::CreatedFile => {
            tracing::info!(
                file = %args.secret_key_file.display(),
                created = source == KeySource::CreatedFile,
                "channel secrets: key file (back it up: without it stored channel secrets cannot be read)"
            );
            if SecretBox::file_is_exposed(&args.secret_key_file) {
                tracing::warn!(file = %args.secret_key_file.display(), "the secret key file is readable by others: chmod 600 it");
            }
        }
    }
    let notifications = Notifications::new(
        app.storage.clone(),
        app.clock.clone(),
        std::sync::Arc::new(secrets),
        SentCounter::global(),
        app.poll_interval_seconds,
        app.default_alerts,
        Timing::default(),
    );
    app.listeners.push(notifications.listener());
    app.notifications = Some(notifications.clone());
    let _tasks = notifications.start();
    let metrics = crate::metrics::install(app.storage.clone(), app.clock.clone(), metrics_config)
        .await
        .map_err(|e| CliError {
            status: 1,
            message: e.to_string(),
        })?;
    app.listeners.extend(metrics.listeners());
    app.metrics = Some(std::sync::Arc::clone(&metrics.metrics));
    // Deliveries counted by notifications show in `netpulse_notifications_sent_total`.
    let exporter = std::sync::Arc::clone(&metrics.metrics);
    SentCounter::global().subscribe(Box::new(move |kind, channel, status| {
        exporter.notification_sent(kind, channel, status);
    }));
    let acceptor = TcpListener::bind(args.listen)
        .into_acceptor()
        .await
        .map_err(|e| {
            CliError::usage("--listen", format!("cannot listen on {}: {e}", args.listen))
        })?;
    tracing::info!(
        listen = %args.listen,
        database = %netpulse_adapters::storage::redact(database_url),
        version = env!("CARGO_PKG_VERSION"),
        "netpulse serving"
    );
    // One signal stops both the server and the local agent.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let agent = if args.local_agent {
        let listen = if args.listen.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], args.listen.port()))
        } else {
            args.listen
        };
        let settings = super::local_agent::LocalAgent {
            spool_dir: args.local_agent_spool_dir.clone(),
            ookla_binary: args.ookla_binary.clone(),
            iperf3_binary: args.iperf3_binary.clone(),
            http_target: args.local_agent_target.clone(),
        };
        let run = super::local_agent::start(&app, settings, format!("http://{listen}"), stopped())
            .await?;
        Some(tokio::spawn(run))
    } else {
        None
    };
    let signal = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    let web = crate::web::WebOptions {
        behind_https: args.behind_https,
        trust_forwarded_for: args.trust_forwarded_for,
    };
    let served = crate::http::run_with(acceptor, app, web, signal).await;
    if let Some(agent) = agent {
        let _ = agent.await;
    }
    metrics.shutdown(std::time::Duration::from_secs(5)).await;
    served.map_err(|e| CliError {
        status: 1,
        message: format!("server failed: {e}"),
    })
}
