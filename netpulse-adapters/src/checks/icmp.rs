//! ICMP echo on sockets of its own: an unprivileged datagram ("ping") socket where
//! `net.ipv4.ping_group_range` allows it, else a raw socket (`CAP_NET_RAW`), else a
//! `local_error/permission` result naming both fixes. `count` echoes spaced 250 ms, 2 s each,
//! 56-byte payload; a reply after its timeout is lost; the statistics and the verdict are
//! [`EchoStats`]'.
//!
//! One socket per family ([`IcmpClients`]) serves every ICMP check of the engine, kept between
//! rounds, with one receiving task: replies are told apart by their sequence number, which is
//! unique per socket (a counter), and their source address; on a raw socket also by the
//! socket's identifier, and a socket filter (BPF) keeps everything but echo replies with that
//! identifier out of it (a raw socket otherwise gets a copy of every ICMP packet of the host:
//! other programs' pings, on loopback our own echo requests, IPv6 neighbour discovery). On a
//! ping socket the kernel does this itself. An ICMP error (unreachable, time exceeded) is not
//! a reply: the echo it answers counts as lost. A socket that failed to send is dropped and the
//! next check opens a new one; a family whose socket cannot be opened is tried again at its
//! next check. A check waits on one timer (the next send or the earliest deadline), not one
//! per echo.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use netpulse_domain::check::icmp::EchoStats;
use netpulse_domain::check::{CheckMeasurement, FailureClass, Outcome};
use socket2::{Domain, Protocol, SockFilter, Socket, Type};
use tokio::sync::mpsc;

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

/// Opens an ICMP socket for the family of `ip`: a datagram one first, then a raw one; the
/// first error when neither opens.
fn open_socket(ip: IpAddr) -> Result<(Socket, IcmpSocket), std::io::Error> {
    let (domain, protocol) = if ip.is_ipv4() {
        (Domain::IPV4, Protocol::ICMPV4)
    } else {
        (Domain::IPV6, Protocol::ICMPV6)
    };
    match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(socket) => Ok((socket, IcmpSocket::Datagram)),
        Err(first) => Socket::new(domain, Type::RAW, Some(protocol))
            .map(|socket| (socket, IcmpSocket::Raw))
            .map_err(|_| first),
    }
}

/// What the agent can do for ICMP in each family (for `--test` and the registration).
pub fn capability(ip: IpAddr) -> Result<IcmpSocket, String> {
    open_socket(ip)
        .map(|(_, s)| s)
        .map_err(|e| permission_message(&e))
}

fn permission_message(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        PERMISSION_FIX.to_owned()
    } else {
        format!("cannot open an ICMP socket: {e}")
    }
}

fn random_u16() -> u16 {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).map_or(0x4e50, |()| u16::from_le_bytes(b))
}

const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V6: u8 = 129;
const ECHO_REQUEST_V6: u8 = 128;

/// The classic BPF program a raw socket gets: echo replies carrying `ident` pass, the rest is
/// dropped in the kernel. A raw IPv4 socket sees the IP header first (its length in the low
/// nibble of the first byte), a raw IPv6 socket the ICMPv6 header.
fn reply_filter(v6: bool, ident: u16) -> Vec<SockFilter> {
    // Opcodes (linux/filter.h).
    const LD_B_ABS: u16 = 0x30;
    const LD_H_ABS: u16 = 0x28;
    const LDX_B_MSH: u16 = 0xb1;
    const LD_B_IND: u16 = 0x50;
    const LD_H_IND: u16 = 0x48;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    let ident = u32::from(ident);
    if v6 {
        vec![
            SockFilter::new(LD_B_ABS, 0, 0, 0),
            SockFilter::new(JEQ_K, 0, 3, u32::from(ECHO_REPLY_V6)),
            SockFilter::new(LD_H_ABS, 0, 0, 4),
            SockFilter::new(JEQ_K, 0, 1, ident),
            SockFilter::new(RET_K, 0, 0, 0xffff),
            SockFilter::new(RET_K, 0, 0, 0),
        ]
    } else {
        vec![
            SockFilter::new(LDX_B_MSH, 0, 0, 0),
            SockFilter::new(LD_B_IND, 0, 0, 0),
            SockFilter::new(JEQ_K, 0, 3, u32::from(ECHO_REPLY_V4)),
            SockFilter::new(LD_H_IND, 0, 0, 4),
            SockFilter::new(JEQ_K, 0, 1, ident),
            SockFilter::new(RET_K, 0, 0, 0xffff),
            SockFilter::new(RET_K, 0, 0, 0),
        ]
    }
}

/// The Internet checksum (RFC 1071) of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request: type, code 0, checksum, identifier, sequence, a zero payload. On a ping
/// socket the kernel sets the identifier and the checksum; ICMPv6's checksum is always the
/// kernel's.
fn echo_request(v6: bool, ident: u16, seq: u16) -> [u8; 8 + PAYLOAD_BYTES] {
    let mut packet = [0u8; 8 + PAYLOAD_BYTES];
    packet[0] = if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 };
    packet[4..6].copy_from_slice(&ident.to_be_bytes());
    packet[6..8].copy_from_slice(&seq.to_be_bytes());
    if !v6 {
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// The sequence number of an echo reply received on the socket (`raw`: with the IPv4 header
/// first, and only with our `ident`), or `None` for anything else.
fn reply_sequence(packet: &[u8], v6: bool, raw: bool, ident: u16) -> Option<u16> {
    let icmp = if raw && !v6 {
        packet.get(usize::from(packet.first()? & 0x0f) * 4..)?
    } else {
        packet
    };
    let header = icmp.get(..8)?;
    let reply = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    if header[0] != reply || header[1] != 0 {
        return None;
    }
    if raw && u16::from_be_bytes([header[4], header[5]]) != ident {
        return None;
    }
    Some(u16::from_be_bytes([header[6], header[7]]))
}

/// An echo waiting for its reply: the check it belongs to and its index there.
struct Waiter {
    ip: IpAddr,
    index: usize,
    replies: mpsc::UnboundedSender<(usize, Instant)>,
}

/// A family's socket: its identifier, the next free sequence number, the echoes waiting.
struct FamilySocket {
    udp: tokio::net::UdpSocket,
    v6: bool,
    raw: bool,
    ident: u16,
    next_seq: AtomicU16,
    waiting: Mutex<HashMap<u16, Waiter>>,
}

impl FamilySocket {
    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u16, Waiter>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Ends the receiving task of a socket when the last user of the socket is gone.
struct Receiver(tokio::task::JoinHandle<()>);

impl Drop for Receiver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Hands the replies arriving on `socket` to the echoes waiting for them.
async fn receive(socket: Arc<FamilySocket>) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, from)) = socket.udp.recv_from(&mut buf).await else {
            // Not expected on an ICMP socket; do not spin on a lasting error.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let at = Instant::now();
        let Some(seq) = reply_sequence(&buf[..n], socket.v6, socket.raw, socket.ident) else {
            continue;
        };
        let mut waiting = socket.waiting();
        if waiting.get(&seq).is_some_and(|w| w.ip == from.ip())
            && let Some(w) = waiting.remove(&seq)
        {
            let _ = w.replies.send((w.index, at));
        }
    }
}

/// A family's socket as the checks share it.
#[derive(Clone)]
struct Shared {
    socket: Arc<FamilySocket>,
    _receiver: Arc<Receiver>,
}

impl Shared {
    fn open(ip: IpAddr) -> Result<Self, std::io::Error> {
        let (socket, kind) = open_socket(ip)?;
        let raw = kind == IcmpSocket::Raw;
        let ident = random_u16();
        if raw {
            socket.attach_filter(&reply_filter(ip.is_ipv6(), ident))?;
        }
        socket.set_nonblocking(true)?;
        let udp = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket))?;
        let socket = Arc::new(FamilySocket {
            udp,
            v6: ip.is_ipv6(),
            raw,
            ident,
            next_seq: AtomicU16::new(random_u16()),
            waiting: Mutex::new(HashMap::new()),
        });
        let receiver = Receiver(tokio::spawn(receive(Arc::clone(&socket))));
        Ok(Self {
            socket,
            _receiver: Arc::new(receiver),
        })
    }
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
    fn get(&self, ip: IpAddr, count: u16) -> Result<(Shared, u16), std::io::Error> {
        let mut slot = self.slot(ip);
        let shared = if let Some(shared) = &*slot {
            shared.clone()
        } else {
            let shared = Shared::open(ip)?;
            *slot = Some(shared.clone());
            shared
        };
        let first = shared.socket.next_seq.fetch_add(count, Ordering::Relaxed);
        Ok((shared, first))
    }

    /// Drops the family's socket if it is still `shared` (the next check opens a new one).
    fn discard(&self, ip: IpAddr, shared: &Shared) {
        let mut slot = self.slot(ip);
        if slot
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(&s.socket, &shared.socket))
        {
            *slot = None;
        }
    }
}

/// Removes the echoes of a check from the socket's table when the check ends (or is dropped).
struct Registered<'a> {
    socket: &'a FamilySocket,
    seqs: Vec<u16>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        let mut waiting = self.socket.waiting();
        for seq in &self.seqs {
            waiting.remove(seq);
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
    let (shared, first_seq) = match clients.get(ip, u16::from(count)) {
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
    let socket = &*shared.socket;
    let count = usize::from(count);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut registered = Registered {
        socket,
        seqs: Vec::with_capacity(count),
    };
    {
        let mut waiting = socket.waiting();
        for index in 0..count {
            let seq = first_seq.wrapping_add(index as u16);
            waiting.insert(
                seq,
                Waiter {
                    ip,
                    index,
                    replies: tx.clone(),
                },
            );
            registered.seqs.push(seq);
        }
    }
    drop(tx);
    // Per echo: when it was sent (once the send returned) and its RTT once replied.
    let mut sent: Vec<Option<Instant>> = vec![None; count];
    let mut rtt: Vec<Option<Duration>> = vec![None; count];
    let mut error: Option<(FailureClass, String)> = None;
    let start = tokio::time::Instant::now();
    let target = SocketAddr::new(ip, 0);
    let mut next = 0;
    let timer = tokio::time::sleep_until(start);
    tokio::pin!(timer);
    loop {
        // Due now: the next send; the echoes whose time is up are lost.
        let now = tokio::time::Instant::now();
        while next < count && start + SPACING * next as u32 <= now {
            let seq = first_seq.wrapping_add(next as u16);
            let packet = echo_request(socket.v6, socket.ident, seq);
            match socket.udp.send_to(&packet, target).await {
                Ok(_) => sent[next] = Some(Instant::now()),
                Err(e) => {
                    clients.discard(ip, &shared);
                    error.get_or_insert((
                        io_class(&e).unwrap_or(FailureClass::Unreachable),
                        format!("sending the echo failed: {e}"),
                    ));
                }
            }
            next += 1;
        }
        let open =
            |i: usize| rtt[i].is_none() && sent[i].is_some_and(|t| t.elapsed() < ECHO_TIMEOUT);
        let waiting = (0..next).any(open);
        if next == count && !waiting {
            break;
        }
        // One timer: the next send, else the earliest deadline of an echo still waiting.
        let wake = if next < count {
            start + SPACING * next as u32
        } else {
            (0..next)
                .filter(|&i| open(i))
                .filter_map(|i| sent[i])
                .min()
                .map_or(now, |t| tokio::time::Instant::from_std(t + ECHO_TIMEOUT))
        };
        timer.as_mut().reset(wake);
        tokio::select! {
            () = timer.as_mut() => {}
            got = rx.recv() => {
                let Some((index, at)) = got else {
                    timer.as_mut().await;
                    continue;
                };
                if let Some(t) = sent[index] {
                    let took = at.saturating_duration_since(t);
                    if took <= ECHO_TIMEOUT {
                        rtt[index] = Some(took);
                    }
                }
            }
        }
    }
    drop(registered);
    let rtts: Vec<f64> = rtt
        .iter()
        .flatten()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let count = count as u8;
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

    #[test]
    fn an_ipv4_request_checksums_to_zero_and_carries_identifier_and_sequence() {
        let p = echo_request(false, 0x1234, 0xabcd);
        assert_eq!(p.len(), 64);
        assert_eq!((p[0], p[1]), (8, 0));
        assert_eq!(&p[4..8], &[0x12, 0x34, 0xab, 0xcd]);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        let p6 = echo_request(true, 1, 2);
        assert_eq!(
            (p6[0], &p6[2..4]),
            (128, &[0u8, 0][..]),
            "the kernel checksums ICMPv6"
        );
    }

    #[test]
    fn only_echo_replies_give_a_sequence_and_on_raw_sockets_only_ours() {
        let mut reply = echo_request(false, 7, 42);
        reply[0] = 0;
        assert_eq!(
            reply_sequence(&reply, false, false, 0),
            Some(42),
            "ping socket"
        );
        let mut ip = vec![0x45u8];
        ip.extend_from_slice(&[0; 19]);
        ip.extend_from_slice(&reply);
        assert_eq!(
            reply_sequence(&ip, false, true, 7),
            Some(42),
            "raw: after the IP header"
        );
        assert_eq!(
            reply_sequence(&ip, false, true, 8),
            None,
            "another program's echo"
        );
        let request = echo_request(false, 7, 42);
        assert_eq!(reply_sequence(&request, false, false, 7), None, "a request");
        let mut unreachable = reply;
        unreachable[0] = 3;
        assert_eq!(
            reply_sequence(&unreachable, false, false, 7),
            None,
            "an error"
        );
        let mut reply6 = echo_request(true, 9, 5);
        reply6[0] = 129;
        assert_eq!(reply_sequence(&reply6, true, true, 9), Some(5));
        assert_eq!(reply_sequence(&reply6[..7], true, false, 9), None, "short");
    }

    /// The filter against the kernel (needs CAP_NET_RAW; this box's tests run as root): of an
    /// echo with another identifier, its reply, our own echo request and its reply, only the
    /// last reaches the filtered socket.
    #[test]
    fn a_raw_socket_gets_only_the_echo_replies_with_its_identifier() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        for ip in [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ] {
            let v6 = ip.is_ipv6();
            let (domain, protocol) = if v6 {
                (Domain::IPV6, Protocol::ICMPV6)
            } else {
                (Domain::IPV4, Protocol::ICMPV4)
            };
            let Ok(filtered) = Socket::new(domain, Type::RAW, Some(protocol)) else {
                eprintln!("skipped: no CAP_NET_RAW for raw ICMP sockets");
                return;
            };
            filtered.attach_filter(&reply_filter(v6, 0x1111)).unwrap();
            let filtered = std::net::UdpSocket::from(filtered);
            filtered
                .set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            let sender = Socket::new(domain, Type::RAW, Some(protocol)).unwrap();
            let to = SocketAddr::new(ip, 0).into();
            sender.send_to(&echo_request(v6, 0x2222, 1), &to).unwrap();
            sender.send_to(&echo_request(v6, 0x1111, 2), &to).unwrap();
            let mut buf = [0u8; 1500];
            let (n, from) = filtered.recv_from(&mut buf).unwrap();
            assert_eq!(from.ip(), ip);
            assert_eq!(
                reply_sequence(&buf[..n], v6, true, 0x1111),
                Some(2),
                "{ip}: the first packet in is our reply"
            );
            let more = filtered.recv_from(&mut buf);
            assert!(
                more.is_err(),
                "{ip}: nothing else gets through: {:?}",
                more.map(|(n, _)| buf[..n].to_vec())
            );
        }
    }
}
