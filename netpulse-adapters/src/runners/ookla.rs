//! The Ookla Speedtest CLI runner.
//!
//! Command line (argv, no shell):
//!
//! ```text
//! <binary> --format=json --accept-license --accept-gdpr [server] [--interface=<if>] [--ip=<addr>]
//! ```
//!
//! where `[server]` comes from the pool entry:
//!
//! | pool entry | argument |
//! |---|---|
//! | none | none (the CLI picks a server) |
//! | `12345` or `ookla:12345` | `--server-id=12345` |
//! | `host:port` or `ookla:host:port` | `--host=host:port` |
//!
//! `--interface` / `--ip` are added when the request names a source interface / address. Any
//! other entry (another engine's, a host without a numeric port) is a `configuration` failure
//! and no process is started. The binary defaults to `speedtest` on `PATH`.
//!
//! The runner is available when the binary is found and is really the Ookla CLI: its
//! `--version` prints `Speedtest by Ookla …`. Another program called `speedtest` (the Python
//! `speedtest-cli` installs one) does not count. The answer is remembered per binary file
//! (path, size, modification time), so it is asked again only when the file changes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::clock::Clock;
use netpulse_ports::runner::{RunOutput, SpeedtestRunner, TestRequest};

use super::process::{ProcessSpec, resolve_executable, run_process};
use super::{MarkerClass, not_started};

/// Configuration of the Ookla runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OoklaConfig {
    /// The Speedtest CLI binary: a path, or a name looked up on `PATH` (default `speedtest`).
    pub binary: PathBuf,
}

impl Default for OoklaConfig {
    fn default() -> Self {
        Self {
            binary: PathBuf::from("speedtest"),
        }
    }
}

/// What identifies the Ookla CLI in its `--version` output.
pub const OOKLA_VERSION_BANNER: &str = "Speedtest by Ookla";

/// A binary file as last seen: path, size, modification time.
type FileStamp = (PathBuf, u64, Option<SystemTime>);

/// Runs the Ookla Speedtest CLI.
#[derive(Debug, Clone)]
pub struct OoklaRunner {
    config: OoklaConfig,
    clock: Arc<dyn Clock>,
    /// The binary last checked, and whether it is the Ookla CLI.
    identified: Arc<Mutex<Option<(FileStamp, bool)>>>,
}

impl OoklaRunner {
    /// A runner with the given configuration, stamping runs with `clock`.
    pub fn new(config: OoklaConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            identified: Arc::default(),
        }
    }

    /// Whether the configured binary is found and is the Ookla CLI (see the module docs).
    pub async fn is_ookla_cli(&self) -> bool {
        let Some(path) = resolve_executable(&self.config.binary) else {
            return false;
        };
        let stamp = file_stamp(&path);
        if let Some((seen, answer)) = self.identified.lock().expect("not poisoned").as_ref()
            && *seen == stamp
        {
            return *answer;
        }
        let answer = prints_ookla_banner(self.clock.as_ref(), &path).await;
        *self.identified.lock().expect("not poisoned") = Some((stamp, answer));
        answer
    }

    /// The configuration.
    pub fn config(&self) -> &OoklaConfig {
        &self.config
    }
}

fn file_stamp(path: &Path) -> FileStamp {
    let meta = std::fs::metadata(path).ok();
    (
        path.to_owned(),
        meta.as_ref().map_or(0, std::fs::Metadata::len),
        meta.and_then(|m| m.modified().ok()),
    )
}

/// Whether `<path> --version` prints the Ookla CLI's banner (on stdout, within 5 s: inside the
/// agent's 10 s availability bound).
async fn prints_ookla_banner(clock: &dyn Clock, path: &Path) -> bool {
    let spec = ProcessSpec::new(path, ["--version"], Duration::from_secs(5));
    let out = run_process(clock, &spec).await;
    out.raw.stdout.contains(OOKLA_VERSION_BANNER)
}

/// The CLI arguments (without the binary) for a request; the error message describes an
/// unusable pool entry.
pub fn ookla_args(request: &TestRequest) -> Result<Vec<String>, String> {
    let mut args = vec![
        "--format=json".to_owned(),
        "--accept-license".to_owned(),
        "--accept-gdpr".to_owned(),
    ];
    if let Some(entry) = &request.pool_entry {
        args.push(server_arg(entry)?);
    }
    if let Some(interface) = non_empty(request.source_interface.as_deref()) {
        args.push(format!("--interface={interface}"));
    }
    if let Some(address) = non_empty(request.source_address.as_deref()) {
        args.push(format!("--ip={address}"));
    }
    Ok(args)
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn server_arg(entry: &PoolEntry) -> Result<String, String> {
    if entry.engine() != Engine::Ookla {
        return Err(format!(
            "pool entry {entry} is for the {} engine, not ookla",
            entry.engine()
        ));
    }
    let text = entry.as_str();
    let value = text.strip_prefix("ookla:").unwrap_or(text);
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(format!("--server-id={value}"));
    }
    let valid_host = |host: &str| {
        !host.is_empty()
            && !host.starts_with(['-', '.'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    match value.rsplit_once(':') {
        Some((host, port)) if valid_host(host) && port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Ok(format!("--host={value}"))
        }
        _ => Err(format!(
            "pool entry {entry} is neither an Ookla server id nor host:port"
        )),
    }
}

#[async_trait]
impl SpeedtestRunner for OoklaRunner {
    fn engine(&self) -> Engine {
        Engine::Ookla
    }

    async fn available(&self) -> bool {
        self.is_ookla_cli().await
    }

    async fn run(&self, request: &TestRequest) -> RunOutput {
        match ookla_args(request) {
            Ok(args) => {
                let spec = ProcessSpec::new(&self.config.binary, args, request.timeout);
                run_process(self.clock.as_ref(), &spec).await
            }
            Err(message) => not_started(self.clock.now(), MarkerClass::Configuration, &message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn request(entry: Option<&str>) -> TestRequest {
        TestRequest {
            pool_entry: entry.map(|e| PoolEntry::parse(e).unwrap()),
            source_interface: None,
            source_address: None,
            timeout: Duration::from_mins(2),
        }
    }

    const BASE: [&str; 3] = ["--format=json", "--accept-license", "--accept-gdpr"];

    #[test]
    fn no_entry_lets_the_cli_choose() {
        assert_eq!(ookla_args(&request(None)).unwrap(), BASE);
    }

    #[test]
    fn entries_map_to_server_arguments() {
        let cases = [
            ("12345", "--server-id=12345"),
            ("ookla:12345", "--server-id=12345"),
            (
                "ookla:speed.example.net:8080",
                "--host=speed.example.net:8080",
            ),
            (
                "frankfurt.example.net:8080",
                "--host=frankfurt.example.net:8080",
            ),
        ];
        for (entry, arg) in cases {
            let args = ookla_args(&request(Some(entry))).unwrap();
            assert_eq!(args[..3], BASE, "{entry}");
            assert_eq!(args[3..], [arg], "{entry}");
        }
    }

    #[test]
    fn source_interface_and_address_are_passed() {
        let mut r = request(Some("4711"));
        r.source_interface = Some("eth1".into());
        r.source_address = Some("192.0.2.7".into());
        let args = ookla_args(&r).unwrap();
        assert_eq!(
            args[3..],
            ["--server-id=4711", "--interface=eth1", "--ip=192.0.2.7"]
        );
    }

    #[test]
    fn unusable_entries_are_configuration_errors() {
        for entry in [
            "iperf3://10.0.0.1",
            "https://speed.example",
            "speed.example",
            "ookla:speed.example:http",
            "ookla:speed.example:0",
            "ookla:-x:80",
            "ookla::80",
        ] {
            assert!(ookla_args(&request(Some(entry))).is_err(), "{entry}");
        }
    }
}
