//! # netpulse-agent
//!
//! The NetPulse agent: it polls the server for due speed tests, runs them with the engine each
//! names, and pushes the results, losing none of them.
//!
//! Unlike the PHP agent it replaces, it buffers: every finished result is written durably to a
//! [spool](spool) directory *before* it is pushed and leaves it only when the server confirms
//! it (`201`, or `200` already recorded), so a server outage, a crash or `kill -9` loses
//! nothing that finished; spooled results are replayed oldest first. Failed cycles are retried
//! with [exponential back-off and jitter](backoff) instead of a fixed interval.
//!
//! Entry points: [`run`] (like `mini-redis`'s `run(listener, shutdown)`: loops until the
//! `shutdown` future completes, so a server can run an agent in-process and tests can drive
//! it), and [`Agent`] for finer control ([`Agent::cycle`], [`Agent::run_once`]). The server is
//! reached through the [`AgentApi`](netpulse_ports::agent_api::AgentApi) port (over HTTP:
//! `netpulse_adapters::agent_client::HttpAgentApi`), the engines through
//! [`SpeedtestRunner`](netpulse_ports::runner::SpeedtestRunner)s gathered in [`Engines`].
#![deny(missing_docs)]

pub mod agent;
pub mod backoff;
pub mod checks;
pub mod config;
pub mod cycle;
pub mod engines;
pub mod logging;
pub mod registration;
pub mod shutdown;
pub mod spool;

pub use agent::{Agent, AgentError, run};
pub use config::{AgentConfig, Args, ConfigError, LogFormat, Settings};
pub use cycle::CycleReport;
pub use engines::Engines;

/// The exit status for success.
pub const EXIT_OK: u8 = 0;
/// The exit status when a `--once` cycle failed (or was interrupted).
pub const EXIT_CYCLE_FAILED: u8 = 1;
/// The exit status for a missing or malformed setting.
pub const EXIT_CONFIG: u8 = 2;
/// The exit status of `--test` when a check did not pass.
pub const EXIT_CHECKS_FAILED: u8 = 3;
