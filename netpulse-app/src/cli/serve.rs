//! `netpulse serve`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::CliError;
use crate::startup::local_agent::LocalAgent;
use crate::startup::serve::ServeConfig;
use crate::startup::timeouts::Timeouts;

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
    /// The local agent's connection tests against this pool entry (e.g. an HTTP engine URL);
    /// applied at every start. Without it the connection is created with the Ookla CLI when
    /// installed, else with the HTTP engine against https://speed.cloudflare.com.
    #[arg(long, env = "NETPULSE_LOCAL_AGENT_TARGET")]
    pub local_agent_target: Option<String>,
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
    /// Seconds a client may take from the first byte of a request to the end of its headers;
    /// slower (or stalled) clients are disconnected.
    #[arg(long, env = "NETPULSE_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout: u64,
    /// Seconds a connection may stay silent (keep-alive between requests, a stalled body)
    /// before it is closed.
    #[arg(long, env = "NETPULSE_IDLE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub idle_timeout: u64,
    /// Who may use the speed-test target (`/speedtest/*`, what the HTTP engine measures
    /// against): `off` (404), `private` (loopback and private addresses; others get 403) or
    /// `anyone`.
    #[arg(long, env = "NETPULSE_SPEEDTEST_TARGET", value_name = "off|private|anyone",
          default_value = "private", value_parser = parse_target_access)]
    pub speedtest_target: netpulse_adapters::speedtest_target::TargetAccess,
    /// Speed-test transfers one client address may have under way at once (more get 429).
    #[arg(long, env = "NETPULSE_SPEEDTEST_TARGET_CONCURRENCY", value_name = "COUNT", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub speedtest_target_concurrency: u32,
    /// MiB one client address may download and upload through the speed-test target per
    /// minute (more get 429 with `Retry-After`); loopback clients are not limited.
    #[arg(long, env = "NETPULSE_SPEEDTEST_TARGET_MIB_PER_MINUTE", value_name = "MIB", default_value_t = 20_480,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub speedtest_target_mib_per_minute: u32,
}

fn parse_target_access(
    s: &str,
) -> Result<netpulse_adapters::speedtest_target::TargetAccess, String> {
    s.parse()
}

/// Starts logging (RUST_LOG filters, default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,poem=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.fmt_fields(text_fields()).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The fields of the text format, with control characters escaped (`\n`, `\u{1b}`): values
/// that carry user input (an e-mail typed at sign-in, a connection name) can neither start a
/// forged log line nor send terminal escapes. The JSON format escapes them already.
pub fn text_fields()
-> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let text = escape_control(&format!("{value:?}"));
        if field.name() == "message" {
            write!(w, "{text}")
        } else {
            write!(w, "{field}={text}")
        }
    })
    .delimited(" ")
}

/// `text` with every control character written as its Rust escape.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
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

/// Checks the flags, starts logging, then hands over to the composition root
/// ([`crate::startup::serve::serve`]) until SIGTERM or SIGINT.
pub async fn serve(database_url: &str, args: ServeArgs) -> Result<(), CliError> {
    init_logging(args.log_format);
    let metrics = args.metrics.config(args.poll_interval)?;
    let local_agent = args.local_agent.then(|| LocalAgent {
        spool_dir: args.local_agent_spool_dir.clone(),
        ookla_binary: args.ookla_binary.clone(),
        iperf3_binary: args.iperf3_binary.clone(),
        http_target: args.local_agent_target.clone(),
    });
    let config = ServeConfig {
        database_url: database_url.to_owned(),
        listen: args.listen,
        poll_interval: args.poll_interval,
        secret_key: std::env::var("NETPULSE_SECRET_KEY").ok(),
        secret_key_file: args.secret_key_file,
        metrics,
        behind_https: args.behind_https,
        trust_forwarded_for: args.trust_forwarded_for,
        local_agent,
        timeouts: Timeouts {
            header_read: Duration::from_secs(args.header_read_timeout),
            idle: Duration::from_secs(args.idle_timeout),
        },
        speedtest_target: netpulse_adapters::speedtest_target::TargetPolicy {
            access: args.speedtest_target,
            limits: Some(netpulse_adapters::speedtest_target::Limits {
                concurrent: args.speedtest_target_concurrency,
                bytes_per_minute: u64::from(args.speedtest_target_mib_per_minute) << 20,
            }),
            trust_forwarded_for: args.trust_forwarded_for,
        },
    };
    Ok(crate::startup::serve::serve(config, shutdown_signal()).await?)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn text_logs_escape_newlines_and_terminal_escapes() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .fmt_fields(super::text_fields())
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let email = "a@b.c\nINFO forged line \u{1b}[31mred";
            tracing::warn!(email = %email, "sign-in failed");
        });
        let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.matches('\n').count(), 1, "one line: {out:?}");
        assert!(!out.contains('\u{1b}'), "{out:?}");
        assert!(
            out.contains(r"email=a@b.c\nINFO forged line \u{1b}[31mred"),
            "{out:?}"
        );
        assert!(out.contains("sign-in failed"), "{out:?}");
    }
}
