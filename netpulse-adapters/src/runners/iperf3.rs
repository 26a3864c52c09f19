//! The iperf3 runner.
//!
//! Pool entry syntax:
//!
//! ```text
//! iperf3://host[:port][/]?protocol=tcp|udp&streams=N&seconds=S&direction=download|upload|bidir&bitrate=R
//! ```
//!
//! - `host`: a host name, an IPv4 address or a bracketed IPv6 address (`[2001:db8::1]`);
//!   `port` defaults to 5201.
//! - `protocol`: `tcp` (default) or `udp`.
//! - `streams`: parallel streams, 1–128 (default [`Iperf3Config::default_streams`]).
//! - `seconds`: test length, 1–3600 (default [`Iperf3Config::default_seconds`]).
//! - `direction`: `download` (default; the server sends, `-R`), `upload` (the client sends) or
//!   `bidir` (`--bidir`).
//! - `bitrate`: target bitrate in iperf3's notation (`100M`, `1.5G`, `0` = unlimited); for UDP
//!   it defaults to [`Iperf3Config::udp_default_bitrate`] (iperf3's own default is 1 Mbit/s).
//!
//! Command line (argv, no shell):
//!
//! ```text
//! iperf3 -c <host> -p <port> -J -P <streams> -t <seconds> [-u] [-b <bitrate>] [-R | --bidir]
//!        [-B <source address>] [--bind-dev <source interface>]
//! ```
//!
//! Unknown or repeated query keys and malformed values are `configuration` failures and no
//! process is started; so is a source interface when the installed iperf3 does not list
//! `--bind-dev` in its `--help`. The run is stopped after the request's timeout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::clock::Clock;
use netpulse_ports::runner::{RunOutput, SpeedtestRunner, TestRequest};
use tokio::sync::OnceCell;

use super::process::{ProcessSpec, resolve_executable, run_process};
use super::{MarkerClass, not_started};

/// The port iperf3 servers listen on by default.
pub const DEFAULT_PORT: u16 = 5201;

/// Configuration of the iperf3 runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iperf3Config {
    /// The iperf3 binary: a path, or a name looked up on `PATH` (default `iperf3`).
    pub binary: PathBuf,
    /// Streams when the entry does not say (default 1, as iperf3).
    pub default_streams: u16,
    /// Seconds when the entry does not say (default 10, as iperf3).
    pub default_seconds: u32,
    /// The UDP bitrate when the entry does not say (default `100M`).
    pub udp_default_bitrate: String,
}

impl Default for Iperf3Config {
    fn default() -> Self {
        Self {
            binary: PathBuf::from("iperf3"),
            default_streams: 1,
            default_seconds: 10,
            udp_default_bitrate: "100M".to_owned(),
        }
    }
}

/// The transport protocol of an iperf3 test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP (`-u`).
    Udp,
}

/// Which way the data flows, seen from the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The server sends, the agent receives (`-R`).
    Download,
    /// The agent sends.
    Upload,
    /// Both at once (`--bidir`).
    Bidir,
}

/// A parsed `iperf3://` pool entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iperf3Target {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Transport protocol.
    pub protocol: Protocol,
    /// Parallel streams, if given.
    pub streams: Option<u16>,
    /// Test length in seconds, if given.
    pub seconds: Option<u32>,
    /// Direction.
    pub direction: Direction,
    /// Target bitrate in iperf3 notation, if given.
    pub bitrate: Option<String>,
}

impl Iperf3Target {
    /// Parses an `iperf3://` entry; the error message says what is wrong.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let rest = entry
            .strip_prefix("iperf3://")
            .ok_or_else(|| format!("{entry} is not an iperf3:// entry"))?;
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = location.strip_suffix('/').unwrap_or(location);
        if authority.contains('/') {
            return Err(format!("{entry}: iperf3 entries have no path"));
        }
        let (host, port) = split_host_port(authority).map_err(|e| format!("{entry}: {e}"))?;
        let mut target = Self {
            host,
            port,
            protocol: Protocol::Tcp,
            streams: None,
            seconds: None,
            direction: Direction::Download,
            bitrate: None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("{entry}: query item {pair:?} has no value"))?;
            if seen.contains(&key) {
                return Err(format!("{entry}: {key} is given twice"));
            }
            seen.push(key);
            let bad = |what: &str| format!("{entry}: {key}={value:?} {what}");
            match key {
                "protocol" => {
                    target.protocol = match value.to_ascii_lowercase().as_str() {
                        "tcp" => Protocol::Tcp,
                        "udp" => Protocol::Udp,
                        _ => return Err(bad("must be tcp or udp")),
                    };
                }
                "streams" => {
                    target.streams =
                        Some(parse_number(value, 1, 128).ok_or_else(|| bad("must be 1 to 128"))?);
                }
                "seconds" => {
                    target.seconds =
                        Some(parse_number(value, 1, 3600).ok_or_else(|| bad("must be 1 to 3600"))?);
                }
                "direction" => {
                    target.direction = match value.to_ascii_lowercase().as_str() {
                        "download" => Direction::Download,
                        "upload" => Direction::Upload,
                        "bidir" => Direction::Bidir,
                        _ => return Err(bad("must be download, upload or bidir")),
                    };
                }
                "bitrate" => {
                    if !valid_bitrate(value) {
                        return Err(bad("must be a number with an optional K, M, G or T"));
                    }
                    target.bitrate = Some(value.to_owned());
                }
                _ => {
                    return Err(format!(
                        "{entry}: unknown query key {key:?} (known: protocol, streams, seconds, direction, bitrate)"
                    ));
                }
            }
        }
        Ok(target)
    }
}

fn split_host_port(authority: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (v6, after) = bracketed
            .split_once(']')
            .ok_or("an IPv6 address needs a closing ]")?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("{v6:?} is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("unexpected text after ]")?),
        };
        (v6, port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let valid = !host.is_empty()
            && !host.starts_with(['-', '.'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !valid {
            return Err(format!(
                "{host:?} is not a host name or address (IPv6 addresses go in brackets)"
            ));
        }
        (host, port)
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => parse_number(p, 1, u16::MAX).ok_or_else(|| format!("bad port {p:?}"))?,
    };
    Ok((host.to_owned(), port))
}

fn parse_number<T: std::str::FromStr + PartialOrd + Copy>(text: &str, min: T, max: T) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<T>().ok().filter(|n| *n >= min && *n <= max)
}

fn valid_bitrate(text: &str) -> bool {
    let number = text
        .strip_suffix(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't'])
        .unwrap_or(text);
    let (int, frac) = number.split_once('.').unwrap_or((number, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && digits(frac)
}

/// The iperf3 arguments (without the binary) for a target and request. `bind_dev` tells
/// whether `--bind-dev` may be used; the error message describes a configuration problem.
pub fn iperf3_args(
    config: &Iperf3Config,
    target: &Iperf3Target,
    request: &TestRequest,
    bind_dev: bool,
) -> Result<Vec<String>, String> {
    let mut args = vec![
        "-c".to_owned(),
        target.host.clone(),
        "-p".to_owned(),
        target.port.to_string(),
        "-J".to_owned(),
        "-P".to_owned(),
        target.streams.unwrap_or(config.default_streams).to_string(),
        "-t".to_owned(),
        target.seconds.unwrap_or(config.default_seconds).to_string(),
    ];
    let bitrate = match target.protocol {
        Protocol::Tcp => target.bitrate.clone(),
        Protocol::Udp => {
            args.push("-u".to_owned());
            Some(
                target
                    .bitrate
                    .clone()
                    .unwrap_or_else(|| config.udp_default_bitrate.clone()),
            )
        }
    };
    if let Some(bitrate) = bitrate {
        args.extend(["-b".to_owned(), bitrate]);
    }
    match target.direction {
        Direction::Download => args.push("-R".to_owned()),
        Direction::Upload => {}
        Direction::Bidir => args.push("--bidir".to_owned()),
    }
    if let Some(address) = non_empty(request.source_address.as_deref()) {
        if address.starts_with('-') {
            return Err(format!("source address {address:?} is not an address"));
        }
        args.extend(["-B".to_owned(), address.to_owned()]);
    }
    if let Some(interface) = non_empty(request.source_interface.as_deref()) {
        if !bind_dev {
            return Err(format!(
                "the installed iperf3 does not support --bind-dev, so it cannot leave through interface {interface}"
            ));
        }
        if interface.starts_with('-') {
            return Err(format!(
                "source interface {interface:?} is not an interface"
            ));
        }
        args.extend(["--bind-dev".to_owned(), interface.to_owned()]);
    }
    Ok(args)
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Runs iperf3 as a client.
#[derive(Debug)]
pub struct Iperf3Runner {
    config: Iperf3Config,
    clock: Arc<dyn Clock>,
    bind_dev: OnceCell<bool>,
}

impl Iperf3Runner {
    /// A runner with the given configuration, stamping runs with `clock`.
    pub fn new(config: Iperf3Config, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            bind_dev: OnceCell::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Iperf3Config {
        &self.config
    }

    /// Whether the installed iperf3 lists `--bind-dev` in its `--help` (asked once, then
    /// remembered; not remembered when iperf3 could not be run at all).
    pub async fn supports_bind_dev(&self) -> Option<bool> {
        if let Some(known) = self.bind_dev.get() {
            return Some(*known);
        }
        let spec = ProcessSpec::new(&self.config.binary, ["--help"], Duration::from_secs(10));
        let help = run_process(self.clock.as_ref(), &spec).await;
        help.raw.exit_code?;
        let supported =
            help.raw.stdout.contains("--bind-dev") || help.raw.stderr.contains("--bind-dev");
        Some(*self.bind_dev.get_or_init(|| async { supported }).await)
    }
}

#[async_trait]
impl SpeedtestRunner for Iperf3Runner {
    fn engine(&self) -> Engine {
        Engine::Iperf3
    }

    async fn available(&self) -> bool {
        resolve_executable(&self.config.binary).is_some()
    }

    async fn run(&self, request: &TestRequest) -> RunOutput {
        let target = match request.pool_entry.as_ref().map(PoolEntry::as_str) {
            None => Err("iperf3 needs a server: the pool entry is missing".to_owned()),
            Some(entry) => Iperf3Target::parse(entry),
        };
        let target = match target {
            Ok(t) => t,
            Err(message) => {
                return not_started(self.clock.now(), MarkerClass::Configuration, &message);
            }
        };
        let wants_interface = non_empty(request.source_interface.as_deref()).is_some();
        // When iperf3 cannot even be asked, let the real run report that it is missing.
        let bind_dev = !wants_interface || self.supports_bind_dev().await.unwrap_or(true);
        match iperf3_args(&self.config, &target, request, bind_dev) {
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

    fn request() -> TestRequest {
        TestRequest {
            pool_entry: None,
            source_interface: None,
            source_address: None,
            timeout: Duration::from_mins(1),
        }
    }

    fn args(entry: &str, request: &TestRequest, bind_dev: bool) -> Result<Vec<String>, String> {
        let target = Iperf3Target::parse(entry)?;
        iperf3_args(&Iperf3Config::default(), &target, request, bind_dev)
    }

    #[test]
    fn defaults_are_a_tcp_download_on_port_5201() {
        assert_eq!(
            args("iperf3://iperf.example.net", &request(), true).unwrap(),
            [
                "-c",
                "iperf.example.net",
                "-p",
                "5201",
                "-J",
                "-P",
                "1",
                "-t",
                "10",
                "-R"
            ]
        );
    }

    #[test]
    fn query_options_map_to_flags() {
        assert_eq!(
            args(
                "iperf3://10.0.0.1:5202/?protocol=udp&streams=4&seconds=5&direction=upload",
                &request(),
                true
            )
            .unwrap(),
            [
                "-c", "10.0.0.1", "-p", "5202", "-J", "-P", "4", "-t", "5", "-u", "-b", "100M"
            ]
        );
        assert_eq!(
            args(
                "iperf3://[2001:db8::1]:5300?direction=bidir&bitrate=1.5G&protocol=TCP",
                &request(),
                true
            )
            .unwrap(),
            [
                "-c",
                "2001:db8::1",
                "-p",
                "5300",
                "-J",
                "-P",
                "1",
                "-t",
                "10",
                "-b",
                "1.5G",
                "--bidir"
            ]
        );
        assert_eq!(
            args("iperf3://h?protocol=udp&bitrate=20m", &request(), true).unwrap()[9..],
            ["-u", "-b", "20m", "-R"]
        );
    }

    #[test]
    fn source_address_and_interface_bind() {
        let mut r = request();
        r.source_address = Some("192.0.2.9".into());
        r.source_interface = Some("wan2".into());
        let a = args("iperf3://h", &r, true).unwrap();
        assert_eq!(a[10..], ["-B", "192.0.2.9", "--bind-dev", "wan2"]);
        let err = args("iperf3://h", &r, false).unwrap_err();
        assert!(err.contains("--bind-dev"), "{err}");
    }

    #[test]
    fn bad_entries_are_rejected() {
        for entry in [
            "iperf3://h?protocol=sctp",
            "iperf3://h?streams=0",
            "iperf3://h?streams=129",
            "iperf3://h?streams=+4",
            "iperf3://h?seconds=ten",
            "iperf3://h?seconds=0",
            "iperf3://h?direction=sideways",
            "iperf3://h?bitrate=fast",
            "iperf3://h?bitrate=1.M",
            "iperf3://h?color=blue",
            "iperf3://h?streams=2&streams=3",
            "iperf3://h?streams",
            "iperf3://h:0",
            "iperf3://h:65536",
            "iperf3://h:port",
            "iperf3://h/path",
            "iperf3://-h",
            "iperf3://h%eth0",
            "iperf3://2001:db8::1",
            "iperf3://[nonsense]:5201",
            "iperf3://[::1]x",
            "https://h",
        ] {
            assert!(Iperf3Target::parse(entry).is_err(), "{entry}");
        }
    }
}
