//! ICMP echo with surge-ping: an unprivileged datagram ("ping") socket where
//! `net.ipv4.ping_group_range` allows it, else a raw socket (`CAP_NET_RAW`), else a
//! `local_error/permission` result naming both fixes. `count` echoes spaced 250 ms, 2 s each,
//! 56-byte payload; a reply after its timeout is lost; the statistics and the verdict are
//! [`EchoStats`]'.
//!
//! One socket per family ([`IcmpClients`]) serves every ICMP check of the engine, kept between
//! rounds: replies are told apart by their sequence number, which is unique per socket (a
//! counter; the identifier too on a raw socket). A socket that failed to send is dropped and
//! the next check opens a new one; a family whose socket cannot be opened is tried again at
//! its next check.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
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

/// A family's socket and the next free sequence number on it.
#[derive(Clone)]
struct Shared {
    client: Client,
    next_seq: Arc<AtomicU16>,
}

/// The ICMP sockets of an engine, one per family, opened at the first check of the family.
#[derive(Default)]
pub struct IcmpClients {
    v4: Mutex<Option<Shared>>,
    v6: Mutex<Option<Shared>>,
}

impl std::fmt::Debug for IcmpClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IcmpClients").finish_non_exhaustive()
    }
}

impl IcmpClients {
    fn slot(&self, ip: IpAddr) -> std::sync::MutexGuard<'_, Option<Shared>> {
        let slot = if ip.is_ipv4() { &self.v4 } else { &self.v6 };
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The family's socket (opened now if there is none) and `count` sequence numbers
    /// reserved on it, the first one returned.
    fn get(&self, ip: IpAddr, count: u16) -> Result<(Client, u16), std::io::Error> {
        let mut slot = self.slot(ip);
        let shared = if let Some(shared) = &*slot {
            shared.clone()
        } else {
            let (client, _) = open(ip)?;
            let shared = Shared {
                client,
                next_seq: Arc::new(AtomicU16::new(random_ident())),
            };
            *slot = Some(shared.clone());
            shared
        };
        let first = shared.next_seq.fetch_add(count, Ordering::Relaxed);
        Ok((shared.client, first))
    }

    /// Drops the family's socket if it is still `client` (the next check opens a new one).
    fn discard(&self, ip: IpAddr, client: &Client) {
        let mut slot = self.slot(ip);
        if slot.as_ref().is_some_and(|s| {
            s.client.get_socket().get_native_sock() == client.get_socket().get_native_sock()
        }) {
            *slot = None;
        }
    }
}

/// Sends `count` echoes to `ip` on the family's shared socket and judges them.
pub async fn run(
    clients: &IcmpClients,
    ip: IpAddr,
    count: u8,
    loss_warn_pct: f64,
    rtt_warn_ms: Option<f64>,
) -> CheckMeasurement {
    let (client, first_seq) = match clients.get(ip, u16::from(count)) {
        Ok(got) => got,
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
        let client = &client;
        async move {
            tokio::time::sleep(SPACING * u32::from(seq)).await;
            let mut pinger = client.pinger(ip, ident).await;
            pinger.timeout(ECHO_TIMEOUT);
            pinger
                .ping(PingSequence(first_seq.wrapping_add(seq)), &payload)
                .await
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
                clients.discard(ip, &client);
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
