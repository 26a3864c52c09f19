//! `netpulse serve`.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};
use poem::listener::{Listener, TcpListener};

use super::CliError;
use super::admin::open_app;

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
    let mut app = open_app(database_url).await?;
    app.poll_interval_seconds = args.poll_interval;
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
    let web = crate::web::WebOptions {
        behind_https: args.behind_https,
        trust_forwarded_for: args.trust_forwarded_for,
    };
    crate::http::run_with(acceptor, app, web, shutdown_signal())
        .await
        .map_err(|e| CliError {
            status: 1,
            message: format!("server failed: {e}"),
        })
}
