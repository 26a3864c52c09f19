//! The `netpulse-agent` binary: reads its settings, builds the HTTP client and the engines, and
//! runs the agent until SIGTERM/SIGINT (or one cycle with `--once`).
//!
//! Exit status: 0 success; 1 a `--once` cycle failed; 2 a setting is missing or malformed; 3 a
//! `--test` check did not pass.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use netpulse_adapters::agent_client::HttpAgentApi;
use netpulse_agent::config::{Args, Settings};
use netpulse_agent::{Agent, EXIT_CONFIG, EXIT_CYCLE_FAILED, EXIT_OK, Engines};

fn main() -> ExitCode {
    let mut args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("netpulse-agent: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_CYCLE_FAILED);
        }
    };
    // With AGENT_TOKEN and no PROBE_ID: the kept identity, or register now.
    let xdg = std::env::var("XDG_STATE_HOME").ok();
    let home = std::env::var("HOME").ok();
    let resolved = runtime.block_on(netpulse_agent::registration::resolve(
        &mut args,
        xdg.as_deref(),
        home.as_deref(),
    ));
    if let Err(e) = resolved {
        eprintln!("netpulse-agent: registration failed: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let settings = match Settings::from_args(args) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("netpulse-agent: configuration error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    netpulse_agent::logging::init(settings.log_format);
    ExitCode::from(runtime.block_on(serve(settings)))
}

async fn serve(settings: Settings) -> u8 {
    let shutdown = match netpulse_agent::shutdown::terminate_signal() {
        Ok(shutdown) => shutdown,
        Err(e) => {
            eprintln!("netpulse-agent: cannot install the SIGTERM/SIGINT handlers: {e}");
            return EXIT_CYCLE_FAILED;
        }
    };
    let api = match HttpAgentApi::new(
        &settings.server_url,
        &settings.probe_id,
        &settings.probe_token,
    ) {
        Ok(api) => api.on_warning(|message| tracing::warn!("{message}")),
        Err(e) => {
            eprintln!("netpulse-agent: configuration error: {e}");
            return EXIT_CONFIG;
        }
    };
    tracing::info!(server = %settings.server_url, probe = %settings.probe_id, "netpulse-agent {}", settings.agent.version);
    let engines = Engines::builtin(
        settings.ookla_binary.clone(),
        settings.iperf3_binary.clone(),
    );
    if settings.test_checks {
        return netpulse_agent::checks::test_run::run(&settings, &api, &engines).await;
    }
    let agent = match Agent::new(settings.agent.clone(), engines, Arc::new(api)) {
        Ok(agent) => agent,
        Err(e) => {
            tracing::error!(error = %e, "cannot use the spool directory");
            eprintln!(
                "netpulse-agent: configuration error: --spool-dir (env NETPULSE_SPOOL_DIR): {e}"
            );
            return EXIT_CONFIG;
        }
    };
    if settings.once {
        match agent.run_once(shutdown).await {
            Some(report) if report.succeeded() => EXIT_OK,
            _ => EXIT_CYCLE_FAILED,
        }
    } else {
        agent.run(shutdown).await;
        EXIT_OK
    }
}
