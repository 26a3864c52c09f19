//! The `netpulse` command line: `serve`, `migrate`, and the admin commands. Every flag can also
//! be set through the environment variable shown by `--help`. With `--json` every command prints
//! exactly one JSON object. Exit status: 0 on success, 2 on invalid input (the message names the
//! flag), 1 on other errors.

pub mod admin;
pub mod local_agent;
pub mod serve;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::error::AppError;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://netpulse.db";

/// NetPulse: a self-hosted, metrics-first internet speed and connectivity tracker.
#[derive(Debug, Parser)]
#[command(name = "netpulse", version, about, long_about = None)]
pub struct Cli {
    /// Database URL: `sqlite://PATH` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, env = "NETPULSE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Print one JSON object instead of text.
    #[arg(long, global = true, env = "NETPULSE_JSON")]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Migrate the database, then serve the API until SIGTERM or SIGINT.
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage probes (agent installations).
    #[command(subcommand)]
    Probe(admin::ProbeCommand),
    /// Manage connections (monitored links).
    #[command(subcommand)]
    Connection(admin::ConnectionCommand),
    /// Manage user accounts of the web dashboard.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Manage REST API tokens.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Maintain stored measurements.
    #[command(subcommand)]
    Measurements(admin::MeasurementsCommand),
    /// Print the OpenAPI document of the API.
    Openapi,
    /// Benchmarks (they fill the database they are given: use an empty one).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The dashboard's endpoints on a generated history: p50/p95 latencies, CSV rows/s, memory.
    Web(crate::web::bench::BenchArgs),
}

/// Shared by commands that talk to the database.
#[derive(Debug, Clone, Args)]
pub struct Output {
    /// Print JSON.
    pub json: bool,
}

/// An error as the command line reports it.
#[derive(Debug)]
pub struct CliError {
    /// 1 or 2.
    pub status: u8,
    /// The message.
    pub message: String,
}

/// The flag a domain field is set with.
pub fn flag_for(field: &str) -> String {
    let name = match field {
        "jitter_seconds" => "jitter",
        "labels" => "label",
        "probeId" | "probe_id" => "probe",
        "min_download_ratio"
        | "min_upload_ratio"
        | "max_ping_ms"
        | "max_jitter_ms"
        | "max_packet_loss_percent" => field,
        other => other,
    };
    format!("--{}", name.replace('_', "-"))
}

impl From<AppError> for CliError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { field, message } => Self {
                status: 2,
                message: format!("invalid {}: {message}", flag_for(&field)),
            },
            other => Self {
                status: 1,
                message: other.to_string(),
            },
        }
    }
}

impl CliError {
    /// Invalid input for a flag.
    pub fn usage(flag: &str, message: impl std::fmt::Display) -> Self {
        Self {
            status: 2,
            message: format!("invalid {flag}: {message}"),
        }
    }
}

impl From<crate::metrics::config::FlagError> for CliError {
    fn from(e: crate::metrics::config::FlagError) -> Self {
        Self::usage(e.flag, e.message)
    }
}

/// Runs the command line and returns the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("netpulse: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "error": e.message, "status": e.status })
                );
            } else {
                eprintln!("netpulse: {}", e.message);
            }
            ExitCode::from(e.status)
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let out = Output { json: cli.json };
    match cli.command {
        Command::Serve(args) => serve::serve(&cli.database_url, args).await,
        Command::Migrate => {
            admin::open_app(&cli.database_url).await?;
            admin::print(&out, &serde_json::json!({ "migrated": true }), || {
                "database is up to date".into()
            });
            Ok(())
        }
        Command::Probe(cmd) => admin::probe(&cli.database_url, &out, cmd).await,
        Command::Connection(cmd) => admin::connection(&cli.database_url, &out, cmd).await,
        Command::User(cmd) => admin::user(&cli.database_url, &out, cmd).await,
        Command::Token(cmd) => admin::token(&cli.database_url, &out, cmd).await,
        Command::Measurements(cmd) => admin::measurements(&cli.database_url, &out, cmd).await,
        Command::Bench(BenchCommand::Web(args)) => {
            let report = crate::web::bench::run(&cli.database_url, &args).await?;
            print!("{report}");
            Ok(())
        }
        Command::Openapi => {
            let app = admin::offline_app().await?;
            println!("{}", crate::http::openapi_json(&app));
            Ok(())
        }
    }
}
