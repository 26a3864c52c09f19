//! ICMP echo with surge-ping: an unprivileged datagram ("ping") socket where
//! `net.ipv4.ping_group_range` allows it, else a raw socket (`CAP_NET_RAW`), else a
//! `local_error/permission` result naming both fixes. `count` echoes spaced 250 ms, 2 s each,
//! 56-byte payload; a reply after its timeout is lost; the statistics and the verdict are
//! [`EchoStats`]'.

use std::net::IpAddr;
use std::time::Duration;

use netpulse_domain::check::icmp::EchoStats;
use netpulse_domain::check::{CheckMeasurement, FailureClass, Outcome};
use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence, SurgeError};

use super::{blank, blank_failed, io_class};

/// Spacing between two echoes.
pub const SPACING: Duration = Duration::from_millis(250);
/// How long one echo waits for its reply.
pub const ECHO_TIMEOUT: Duration = Duration::from_secs(2);
/// The echo payload size, bytes (as ping's default).
pub const PAYLOAD_BYTES: usize = 56;

/// The remediation text of a permission failure (the sysctl is the IPv4 one for both
/// families: there is no `net.ipv6.ping_group_range`).
pub const PERMISSION_FIX: &str = "ICMP not permitted: allow ping sockets with `sysctl -w \
net.ipv4.ping_group_range=\"0 2147483647\"` (IPv4 and IPv6) or grant the agent CAP_NET_RAW";

/// Which socket an ICMP client got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpSocket {
    /// An unprivileged datagram socket (ping_group_range).
    Datagram,
    /// A raw socket (CAP_NET_RAW).
    Raw,
}

/// Opens an ICMP client for the family of `ip` (datagram first, then raw).
pub fn open(ip: IpAddr) -> Result<(Client, IcmpSocket), std::io::Error> {
    let kind = if ip.is_ipv4() { ICMP::V4 } else { ICMP::V6 };
    let config = Config::builder().kind(kind).build();
    let client = Client::new(&config)?;
    let socket = if client.get_socket().get_type() == socket2::Type::RAW {
        IcmpSocket::Raw
    } else {
        IcmpSocket::Datagram
    };
    Ok((client, socket))
}

/// What the agent can do for ICMP in each family (for `--test` and the registration).
pub fn capability(ip: IpAddr) -> Result<IcmpSocket, String> {
    open(ip).map(|(_, s)| s).map_err(|e| permission_message(&e))
}

fn permission_message(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        PERMISSION_FIX.to_owned()
    } else {
        format!("cannot open an ICMP socket: {e}")
    }
}

fn random_ident() -> u16 {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).map_or(0x4e50, |()| u16::from_le_bytes(b))
}

/// Sends `count` echoes to `ip` and judges them.
pub async fn run(
    ip: IpAddr,
    count: u8,
    loss_warn_pct: f64,
    rtt_warn_ms: Option<f64>,
) -> CheckMeasurement {
    let client = match open(ip) {
        Ok((client, _)) => client,
        Err(e) => {
            let class = if e.kind() == std::io::ErrorKind::PermissionDenied {
                FailureClass::Permission
            } else {
                FailureClass::Protocol
            };
            return blank_failed(Outcome::LocalError, class, &permission_message(&e));
        }
    };
    let ident = PingIdentifier(random_ident());
    let payload = [0u8; PAYLOAD_BYTES];
    let echoes = (0..u16::from(count)).map(|seq| {
        let client = client.clone();
        async move {
            tokio::time::sleep(SPACING * u32::from(seq)).await;
            let mut pinger = client.pinger(ip, ident).await;
            pinger.timeout(ECHO_TIMEOUT);
            pinger.ping(PingSequence(seq), &payload).await
        }
    });
    let replies = futures_util::future::join_all(echoes).await;
    let mut rtts = Vec::with_capacity(replies.len());
    let mut error: Option<(FailureClass, String)> = None;
    for reply in replies {
        match reply {
            Ok((_, rtt)) => rtts.push(rtt.as_secs_f64() * 1000.0),
            Err(SurgeError::Timeout { .. }) => {}
            Err(SurgeError::IOError(e)) => {
                error.get_or_insert((
                    io_class(&e).unwrap_or(FailureClass::Unreachable),
                    format!("sending the echo failed: {e}"),
                ));
            }
            Err(e) => {
                error.get_or_insert((FailureClass::Protocol, format!("echo failed: {e}")));
            }
        }
    }
    let stats = EchoStats::from_rtts(u32::from(count), &rtts);
    let (outcome, class, degraded) = stats.judge(loss_warn_pct, rtt_warn_ms);
    let mut m = blank(outcome);
    m.failure_class = class;
    m.degraded = degraded;
    m.latency_ms = stats.median_ms;
    m.loss_pct = Some(stats.loss_pct);
    m.jitter_ms = stats.jitter_ms;
    m.rtt_min_ms = stats.min_ms;
    m.rtt_max_ms = stats.max_ms;
    m.rtt_stdev_ms = stats.stdev_ms;
    if outcome != Outcome::Ok {
        let (class, message) = error.unwrap_or((
            FailureClass::Timeout,
            format!(
                "no reply to {count} echoes within {} s each",
                ECHO_TIMEOUT.as_secs()
            ),
        ));
        m.failure_class = Some(class);
        m.message = Some(netpulse_domain::check::cut_message(&message));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fix_names_the_ipv4_sysctl_and_the_capability_and_fits_a_message() {
        assert!(PERMISSION_FIX.contains("net.ipv4.ping_group_range"));
        assert!(!PERMISSION_FIX.contains("ipv6.ping_group_range"));
        assert!(PERMISSION_FIX.contains("CAP_NET_RAW"));
        assert!(PERMISSION_FIX.chars().count() <= netpulse_domain::check::MAX_MESSAGE_CHARS);
    }
}
