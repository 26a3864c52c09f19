//! Configuration: command-line flags and environment variables ([`Args`]), checked into
//! [`Settings`], of which the loop itself needs only the [`AgentConfig`] part.
//!
//! | flag | environment | default |
//! |---|---|---|
//! | `--server-url` | `NETPULSE_SERVER_URL` | required |
//! | `--probe-id` | `PROBE_ID` | required (a UUID) |
//! | `--probe-token` | `PROBE_TOKEN` | required |
//! | `--poll-interval` | `AGENT_POLL_INTERVAL` | 60 (seconds; used when the server names none, and as the back-off cap) |
//! | `--long-poll` | `AGENT_LONG_POLL` | 25 (seconds the server may hold a poll with nothing to do; 0 turns long-polling off) |
//! | `--test-timeout` | `AGENT_TEST_TIMEOUT` | 120 (seconds one test may take) |
//! | `--ookla-binary` | `OOKLA_BINARY` | `speedtest` |
//! | `--iperf3-binary` | `IPERF3_BINARY` | `iperf3` |
//! | `--spool-dir` | `NETPULSE_SPOOL_DIR` | see [`default_spool_dir`] |
//! | `--spool-max-results` | `NETPULSE_SPOOL_MAX_RESULTS` | 10000 |
//! | `--once` | – | off |
//! | `--test` | – | off (run every check once, print a table, exit 0 when all pass) |
//! | `--checks-file` | `NETPULSE_CHECKS_FILE` | none (a check set as `/due` sends it; replaces the server's) |
//! | `--log-format` | `NETPULSE_LOG_FORMAT` | `text` (`text` or `json`) |
//! | `--agent-token` | `AGENT_TOKEN` | none (a registration token: register instead of `PROBE_ID`) |
//! | `--agent-name` | `AGENT_NAME` | required with `AGENT_TOKEN` |
//! | `--agent-location` | `AGENT_LOCATION` | none |
//! | `--agent-machine-id` | `AGENT_MACHINE_ID` | `/etc/machine-id`, else generated once |
//! | `--state-dir` | `NETPULSE_STATE_DIR` | the spool directory |

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use netpulse_adapters::agent_client::normalise_server_url;
use netpulse_domain::id::ProbeId;

/// The default long-poll wait.
pub const DEFAULT_LONG_POLL: Duration = Duration::from_secs(25);

/// The default fallback poll interval.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_mins(1);

/// The default time one test may take.
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_mins(2);

/// The default number of results the spool keeps before it evicts the oldest.
pub const DEFAULT_SPOOL_MAX_RESULTS: usize = 10_000;

/// The agent's version, as reported to the server.
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The environment variables that name the server and the probe: what a probe's set-up
/// instructions (the dashboard's probe-created banner) must set.
pub mod env {
    /// The server's base URL (`--server-url`).
    pub const SERVER_URL: &str = "NETPULSE_SERVER_URL";
    /// The probe's id (`--probe-id`).
    pub const PROBE_ID: &str = "PROBE_ID";
    /// The probe's token (`--probe-token`).
    pub const PROBE_TOKEN: &str = "PROBE_TOKEN";
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The command line, as typed (every setting may also come from the environment).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "netpulse-agent",
    version,
    about = "Polls a NetPulse server for due speed tests, runs them and pushes the results; \
             results that cannot be pushed yet wait in a spool directory."
)]
pub struct Args {
    /// The server's base URL, e.g. https://netpulse.example.com.
    #[arg(long, env = env::SERVER_URL, value_name = "URL")]
    pub server_url: Option<String>,

    /// This probe's id (a UUID, shown when the probe is created).
    #[arg(long, env = env::PROBE_ID, value_name = "UUID")]
    pub probe_id: Option<String>,

    /// This probe's token.
    #[arg(
        long,
        env = env::PROBE_TOKEN,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub probe_token: Option<String>,

    /// A registration token: with no `PROBE_ID`, the agent registers itself (see
    /// `registration`) and keeps its identity in the state directory.
    #[arg(
        long,
        env = "AGENT_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub agent_token: Option<String>,

    /// The name to register under (with `AGENT_TOKEN`).
    #[arg(long, env = "AGENT_NAME", value_name = "NAME")]
    pub agent_name: Option<String>,

    /// Where the agent runs (its probe's `location` label; with `AGENT_TOKEN`).
    #[arg(long, env = "AGENT_LOCATION", value_name = "TEXT")]
    pub agent_location: Option<String>,

    /// The machine id to register with [default: /etc/machine-id, else one generated once].
    #[arg(long, env = "AGENT_MACHINE_ID", value_name = "ID")]
    pub agent_machine_id: Option<String>,

    /// Where the registered identity is kept [default: the spool directory].
    #[arg(long, env = "NETPULSE_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Seconds between polls when the server names no interval; also the back-off cap.
    #[arg(long, env = "AGENT_POLL_INTERVAL", value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub poll_interval: u64,

    /// Seconds the server may hold a poll while there is nothing to do, so run-now requests and
    /// diagnostics start at once (0: poll every interval without waiting).
    #[arg(long, env = "AGENT_LONG_POLL", value_name = "SECONDS", default_value_t = 25,
          value_parser = clap::value_parser!(u64).range(0..=50))]
    pub long_poll: u64,

    /// Seconds one speed test may take before it is stopped.
    #[arg(long, env = "AGENT_TEST_TIMEOUT", value_name = "SECONDS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub test_timeout: u64,

    /// The Ookla Speedtest CLI to run.
    #[arg(
        long,
        env = "OOKLA_BINARY",
        value_name = "PATH",
        default_value = "speedtest"
    )]
    pub ookla_binary: PathBuf,

    /// The iperf3 binary to run.
    #[arg(
        long,
        env = "IPERF3_BINARY",
        value_name = "PATH",
        default_value = "iperf3"
    )]
    pub iperf3_binary: PathBuf,

    /// Where finished results wait until the server has them
    /// [default: $XDG_STATE_HOME/netpulse-agent/spool, else
    /// $HOME/.local/state/netpulse-agent/spool, else ./netpulse-spool].
    #[arg(long, env = "NETPULSE_SPOOL_DIR", value_name = "DIR")]
    pub spool_dir: Option<PathBuf>,

    /// How many results the spool keeps; beyond that the oldest are dropped (and logged).
    #[arg(long, env = "NETPULSE_SPOOL_MAX_RESULTS", value_name = "COUNT", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub spool_max_results: u64,

    /// Run one cycle (replay, poll, run, push) and exit: 0 when the poll succeeded and every
    /// result was delivered or spooled, 1 when the cycle failed.
    #[arg(long)]
    pub once: bool,

    /// Run every connectivity check once, print a table and exit: 0 when all pass, 3 when one
    /// does not.
    #[arg(long)]
    pub test: bool,

    /// A check set in the JSON of `/due`'s `checks` field, used instead of the server's.
    #[arg(long, env = "NETPULSE_CHECKS_FILE", value_name = "PATH")]
    pub checks_file: Option<PathBuf>,

    /// Log format.
    #[arg(long, env = "NETPULSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// A setting that is missing or malformed; the message names the flag and its variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The flag, e.g. `--probe-id`.
    pub flag: &'static str,
    /// Its environment variable, e.g. `PROBE_ID`.
    pub env: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (env {}): {}", self.flag, self.env, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// What the agent loop needs (the server, credentials and engines are passed to
/// [`crate::run`] separately, already built).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// The agent's version, sent with each poll.
    pub version: String,
    /// The spool directory.
    pub spool_dir: PathBuf,
    /// How many results the spool keeps before it evicts the oldest (at least 1).
    pub spool_max_results: usize,
    /// The sleep between cycles when the server names none; also the back-off cap.
    pub poll_interval: Duration,
    /// How long one test may take.
    pub test_timeout: Duration,
    /// The first back-off delay after a failed cycle (doubled per further failure).
    pub backoff_base: Duration,
    /// The shortest sleep between cycles.
    pub min_sleep: Duration,
    /// What the check rounds' offset is derived from (the probe id).
    pub agent_key: String,
    /// How long the server may hold a poll with nothing to do (zero: no long-polling).
    pub long_poll: Duration,
}

impl AgentConfig {
    /// The defaults (60 s poll interval, 120 s test timeout, 10 000 spooled results, back-off
    /// from 1 s, sleeps of at least 1 s) with the given spool directory.
    pub fn new(spool_dir: impl Into<PathBuf>) -> Self {
        Self {
            version: AGENT_VERSION.to_owned(),
            spool_dir: spool_dir.into(),
            spool_max_results: DEFAULT_SPOOL_MAX_RESULTS,
            poll_interval: DEFAULT_POLL_INTERVAL,
            test_timeout: DEFAULT_TEST_TIMEOUT,
            backoff_base: Duration::from_secs(1),
            min_sleep: Duration::from_secs(1),
            agent_key: String::new(),
            long_poll: DEFAULT_LONG_POLL,
        }
    }
}

/// Every setting, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// The server's base URL, without trailing slashes.
    pub server_url: String,
    /// This probe's id.
    pub probe_id: ProbeId,
    /// This probe's token (never printed by `Debug`).
    pub probe_token: String,
    /// The Ookla CLI.
    pub ookla_binary: PathBuf,
    /// The iperf3 binary.
    pub iperf3_binary: PathBuf,
    /// One cycle only.
    pub once: bool,
    /// `--test`: run the checks once.
    pub test_checks: bool,
    /// `--checks-file`.
    pub checks_file: Option<PathBuf>,
    /// Log format.
    pub log_format: LogFormat,
    /// The loop's configuration.
    pub agent: AgentConfig,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("server_url", &self.server_url)
            .field("probe_id", &self.probe_id)
            .field("probe_token", &"<redacted>")
            .field("ookla_binary", &self.ookla_binary)
            .field("iperf3_binary", &self.iperf3_binary)
            .field("once", &self.once)
            .field("test_checks", &self.test_checks)
            .field("checks_file", &self.checks_file)
            .field("log_format", &self.log_format)
            .field("agent", &self.agent)
            .finish()
    }
}

/// The default spool directory: `$XDG_STATE_HOME/netpulse-agent/spool`, else
/// `$HOME/.local/state/netpulse-agent/spool`, else `./netpulse-spool` (relative variables are
/// ignored, as the XDG specification asks).
pub fn default_spool_dir(xdg_state_home: Option<&str>, home: Option<&str>) -> PathBuf {
    let absolute = |v: Option<&str>| v.filter(|v| Path::new(v).is_absolute()).map(PathBuf::from);
    if let Some(state) = absolute(xdg_state_home) {
        state.join("netpulse-agent").join("spool")
    } else if let Some(home) = absolute(home) {
        home.join(".local/state/netpulse-agent/spool")
    } else {
        PathBuf::from("netpulse-spool")
    }
}

fn required(
    value: Option<&str>,
    flag: &'static str,
    env: &'static str,
    what: &str,
) -> Result<String, ConfigError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        Some(_) => Err(ConfigError {
            flag,
            env,
            message: format!("is empty; give {what}"),
        }),
        None => Err(ConfigError {
            flag,
            env,
            message: format!("is missing; give {what}"),
        }),
    }
}

impl Settings {
    /// Checks the command line; the environment is consulted for the default spool directory.
    pub fn from_args(args: Args) -> Result<Self, ConfigError> {
        let xdg = std::env::var("XDG_STATE_HOME").ok();
        let home = std::env::var("HOME").ok();
        Self::from_args_with_dirs(args, xdg.as_deref(), home.as_deref())
    }

    /// Checks the command line with the given `XDG_STATE_HOME` and `HOME`.
    pub fn from_args_with_dirs(
        args: Args,
        xdg_state_home: Option<&str>,
        home: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let url = required(
            args.server_url.as_deref(),
            "--server-url",
            "NETPULSE_SERVER_URL",
            "the server's base URL, e.g. https://netpulse.example.com",
        )?;
        let server_url = normalise_server_url(&url).map_err(|e| ConfigError {
            flag: "--server-url",
            env: "NETPULSE_SERVER_URL",
            message: e.to_string(),
        })?;
        let id = required(
            args.probe_id.as_deref(),
            "--probe-id",
            "PROBE_ID",
            "the probe's UUID",
        )?;
        let probe_id = ProbeId::parse(&id).map_err(|e| ConfigError {
            flag: "--probe-id",
            env: "PROBE_ID",
            message: e.to_string(),
        })?;
        let probe_token = required(
            args.probe_token.as_deref(),
            "--probe-token",
            "PROBE_TOKEN",
            "the probe's token",
        )?;
        if probe_token.chars().any(|c| c.is_control() || !c.is_ascii()) {
            return Err(ConfigError {
                flag: "--probe-token",
                env: "PROBE_TOKEN",
                message: "must be printable ASCII".to_owned(),
            });
        }
        for (path, flag, env) in [
            (&args.ookla_binary, "--ookla-binary", "OOKLA_BINARY"),
            (&args.iperf3_binary, "--iperf3-binary", "IPERF3_BINARY"),
        ] {
            if path.as_os_str().is_empty() {
                return Err(ConfigError {
                    flag,
                    env,
                    message: "is empty; give a program name or path".to_owned(),
                });
            }
        }
        let spool_dir = match args.spool_dir {
            Some(dir) if dir.as_os_str().is_empty() => {
                return Err(ConfigError {
                    flag: "--spool-dir",
                    env: "NETPULSE_SPOOL_DIR",
                    message: "is empty; give a directory".to_owned(),
                });
            }
            Some(dir) => dir,
            None => default_spool_dir(xdg_state_home, home),
        };
        let mut agent = AgentConfig::new(spool_dir);
        agent.spool_max_results = usize::try_from(args.spool_max_results).unwrap_or(usize::MAX);
        agent.poll_interval = Duration::from_secs(args.poll_interval);
        agent.test_timeout = Duration::from_secs(args.test_timeout);
        agent.long_poll = Duration::from_secs(args.long_poll);
        agent.agent_key = probe_id.to_string();
        Ok(Self {
            server_url,
            probe_id,
            probe_token,
            ookla_binary: args.ookla_binary,
            iperf3_binary: args.iperf3_binary,
            once: args.once,
            test_checks: args.test,
            checks_file: args.checks_file,
            log_format: args.log_format,
            agent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "33333333-3333-4333-8333-333333333333";

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["netpulse-agent"];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).unwrap()
    }

    fn settings(extra: &[&str]) -> Result<Settings, ConfigError> {
        Settings::from_args_with_dirs(args(extra), None, Some("/home/np"))
    }

    #[test]
    fn complete_settings_are_read() {
        let s = settings(&[
            "--server-url",
            "https://np.example/",
            "--probe-id",
            &ID.to_uppercase(),
            "--probe-token",
            "tok",
            "--poll-interval",
            "30",
            "--spool-max-results",
            "5",
            "--log-format",
            "json",
            "--once",
        ])
        .unwrap();
        assert_eq!(s.server_url, "https://np.example");
        assert_eq!(s.probe_id.as_str(), ID);
        assert_eq!(s.agent.poll_interval, Duration::from_secs(30));
        assert_eq!(s.agent.spool_max_results, 5);
        assert_eq!(s.agent.test_timeout, DEFAULT_TEST_TIMEOUT);
        assert_eq!(
            s.agent.spool_dir,
            PathBuf::from("/home/np/.local/state/netpulse-agent/spool")
        );
        assert_eq!(s.ookla_binary, PathBuf::from("speedtest"));
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(s.once);
        assert!(!format!("{s:?}").contains("tok\""));
    }

    #[test]
    fn errors_name_the_flag_and_the_variable() {
        let base = [
            "--server-url",
            "http://h",
            "--probe-id",
            ID,
            "--probe-token",
            "t",
        ];
        let cases: [(&[&str], &str, &str); 5] = [
            (&base[2..], "--server-url", "is missing"),
            (
                &[
                    "--server-url",
                    "h:8080",
                    "--probe-id",
                    ID,
                    "--probe-token",
                    "t",
                ],
                "--server-url",
                "invalid server URL",
            ),
            (
                &[
                    "--server-url",
                    "http://h",
                    "--probe-id",
                    "42",
                    "--probe-token",
                    "t",
                ],
                "--probe-id",
                "not a UUID",
            ),
            (&base[..4], "--probe-token", "is missing"),
            (
                &[
                    "--server-url",
                    "http://h",
                    "--probe-id",
                    ID,
                    "--probe-token",
                    " ",
                ],
                "--probe-token",
                "is empty",
            ),
        ];
        for (argv, flag, text) in cases {
            let err = settings(argv).unwrap_err();
            assert_eq!(err.flag, flag, "{argv:?}");
            assert!(err.to_string().contains(text), "{err}");
            assert!(err.to_string().contains(err.env), "{err}");
        }
    }

    #[test]
    fn the_default_spool_directory_follows_xdg() {
        assert_eq!(
            default_spool_dir(Some("/var/state"), Some("/home/np")),
            PathBuf::from("/var/state/netpulse-agent/spool")
        );
        assert_eq!(
            default_spool_dir(Some("relative"), None),
            PathBuf::from("netpulse-spool")
        );
    }
}
