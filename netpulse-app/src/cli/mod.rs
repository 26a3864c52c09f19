//! The `netpulse` command line: `serve`, `migrate`, and the admin commands. Every flag can also
//! be set through the environment variable shown by `--help`. With `--json` every command prints
//! exactly one JSON object. Exit status: 0 on success, 2 on invalid input (the message names the
//! flag), 1 on other errors.

pub mod baselines;
pub mod check;
pub mod connection;
pub mod fleet;
pub mod measurements;
pub mod or_none;
pub mod outages;
pub mod output;
pub mod probe;
pub mod retention;
pub mod rollups;
pub mod serve;
pub mod status;
pub mod token;
pub mod user;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::error::AppError;
use crate::metrics::config::FlagError;
use crate::startup::StartupError;

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
    Probe(probe::ProbeCommand),
    /// Manage connections (monitored links).
    #[command(subcommand)]
    Connection(connection::ConnectionCommand),
    /// Manage connectivity checks (ICMP, HTTP, DNS, TCP, UDP) and the default set.
    #[command(subcommand)]
    Check(check::CheckCommand),
    /// Manage user accounts of the web dashboard.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage REST API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Maintain stored measurements.
    #[command(subcommand)]
    Measurements(measurements::MeasurementsCommand),
    /// Print the OpenAPI document of the API.
    Openapi,
    /// List the latest or most severe outages; `outages rebuild --since T` replays them.
    Outages(outages::OutagesArgs),
    /// The summary: check results, uptime with coverage, the latest and most severe outages.
    Status(status::StatusArgs),
    /// Benchmarks (they fill the database they are given: use an empty one).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Maintain the speed rollups (hourly, daily, weekly buckets).
    #[command(subcommand)]
    Rollups(rollups::RollupsCommand),
    /// How long each kind of data is kept (`retention show`, `retention set KIND DAYS`).
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Remove what is older than each kind's retention (`--dry-run`: only count it).
    Prune(retention::PruneArgs),
    /// The connections' baselines (14-day medians the deviation alerts compare against).
    #[command(subcommand)]
    Baselines(baselines::BaselinesCommand),
    /// The fleet: agent states, probe maintenance, registration tokens.
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
}

/// `bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The dashboard's endpoints on a generated history: p50/p95 latencies, CSV rows/s, memory.
    Web(crate::bench::BenchArgs),
    /// Connectivity-check results: a simulated month through the real ingest, the ingest rate
    /// and the bytes per stored result.
    Checks(crate::bench_checks::CheckBenchArgs),
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
    /// The exit status comes from the error table ([`AppError::exit_status`]); invalid input
    /// names the flag.
    fn from(e: AppError) -> Self {
        e.log("command failed");
        let message = match &e {
            AppError::Invalid { field, message } => {
                format!("invalid {}: {message}", flag_for(field))
            }
            other => other.to_string(),
        };
        Self {
            status: e.exit_status(),
            message,
        }
    }
}

impl From<StartupError> for CliError {
    /// A bad setting exits with 2 and names its flag; a service error keeps its table's exit
    /// status; anything else exits with 1.
    fn from(e: StartupError) -> Self {
        match e {
            StartupError::App(e) => Self::from(e),
            e @ (StartupError::Setting { .. } | StartupError::Listen { .. }) => Self {
                status: 2,
                message: e.to_string(),
            },
            e => Self {
                status: 1,
                message: e.to_string(),
            },
        }
    }
}

impl From<FlagError> for CliError {
    fn from(e: FlagError) -> Self {
        Self {
            status: 2,
            message: e.to_string(),
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
            crate::startup::open_app(&cli.database_url).await?;
            output::print(&out, &serde_json::json!({ "migrated": true }), || {
                "database is up to date".into()
            });
            Ok(())
        }
        Command::Probe(cmd) => probe::probe(&cli.database_url, &out, cmd).await,
        Command::Connection(cmd) => connection::connection(&cli.database_url, &out, cmd).await,
        Command::Check(cmd) => check::check(&cli.database_url, &out, cmd).await,
        Command::User(cmd) => user::user(&cli.database_url, &out, cmd).await,
        Command::Token(cmd) => token::token(&cli.database_url, &out, cmd).await,
        Command::Fleet(cmd) => fleet::fleet_command(&cli.database_url, &out, cmd).await,
        Command::Measurements(cmd) => {
            measurements::measurements(&cli.database_url, &out, cmd).await
        }
        Command::Outages(args) => outages::outages(&cli.database_url, &out, args).await,
        Command::Status(args) => status::status(&cli.database_url, &out, args).await,
        Command::Bench(BenchCommand::Checks(args)) => {
            let report = crate::bench_checks::run(&cli.database_url, &args).await?;
            print!("{report}");
            Ok(())
        }
        Command::Bench(BenchCommand::Web(args)) => {
            let report = crate::bench::run(&cli.database_url, &args).await?;
            print!("{report}");
            Ok(())
        }
        Command::Rollups(cmd) => rollups::rollups(&cli.database_url, &out, cmd).await,
        Command::Retention(cmd) => retention::retention_command(&cli.database_url, &out, cmd).await,
        Command::Prune(args) => retention::prune(&cli.database_url, &out, &args).await,
        Command::Baselines(cmd) => baselines::baselines(&cli.database_url, &out, cmd).await,
        Command::Openapi => {
            let app = crate::startup::offline_app().await?;
            println!("{}", crate::startup::openapi_json(&app));
            Ok(())
        }
    }
}
