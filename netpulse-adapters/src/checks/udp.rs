//! UDP checks, classified like nmap: a connected socket sends the payload and waits; a reply
//! is `open`, ECONNREFUSED (ICMP port unreachable) is `closed`, another ICMP unreachable is
//! `unreachable`, silence is `open|filtered`. Presets: `dns` (a root NS query), `ntp` (a mode-3
//! client request), or raw bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use netpulse_domain::check::{CheckMeasurement, FailureClass, PortState, UdpPayload, port};

use super::{blank, blank_failed, elapsed_ms, io_class, millis};

/// An NTP v3 client request (LI 0, VN 3, mode 3), 48 bytes.
pub fn ntp_request() -> Vec<u8> {
    let mut packet = vec![0u8; 48];
    packet[0] = 0x1b;
    packet
}

/// The bytes a payload sends.
pub fn payload_bytes(payload: &UdpPayload) -> Vec<u8> {
    match payload {
        UdpPayload::Dns => super::dns::root_ns_query(),
        UdpPayload::Ntp => ntp_request(),
        UdpPayload::Hex(bytes) => bytes.clone(),
    }
}

/// The state of a UDP port and the reply's RTT, or a local error.
pub async fn probe(
    ip: IpAddr,
    port: u16,
    payload: &[u8],
    timeout_ms: u32,
) -> Result<(PortState, Option<f64>, Option<String>), std::io::Error> {
    let local: SocketAddr = match ip {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = tokio::net::UdpSocket::bind(local).await?;
    socket.connect((ip, port)).await?;
    let start = Instant::now();
    if let Err(e) = socket.send(payload).await {
        return Ok(state_of_error(&e));
    }
    let mut buf = [0u8; 1500];
    match tokio::time::timeout(millis(timeout_ms), socket.recv(&mut buf)).await {
        Ok(Ok(_)) => Ok((PortState::Open, Some(elapsed_ms(start)), None)),
        Ok(Err(e)) => Ok(state_of_error(&e)),
        Err(_) => Ok((PortState::OpenFiltered, None, None)),
    }
}

fn state_of_error(e: &std::io::Error) -> (PortState, Option<f64>, Option<String>) {
    let state = match io_class(e) {
        Some(FailureClass::Refused) => PortState::Closed,
        _ => PortState::Unreachable,
    };
    (state, None, Some(e.to_string()))
}

/// Runs a UDP check.
pub async fn run(
    ip: IpAddr,
    port_number: u16,
    payload: &UdpPayload,
    timeout_ms: u32,
) -> CheckMeasurement {
    let bytes = payload_bytes(payload);
    let (state, ms, error) = match probe(ip, port_number, &bytes, timeout_ms).await {
        Ok(r) => r,
        Err(e) => {
            return blank_failed(
                netpulse_domain::check::Outcome::LocalError,
                io_class(&e).unwrap_or(FailureClass::Protocol),
                &format!("cannot open a UDP socket: {e}"),
            );
        }
    };
    let (outcome, class, degraded) = port::judge(state, payload.expects_reply());
    let mut m = blank(outcome);
    m.failure_class = class;
    m.degraded = degraded;
    m.port_state = Some(state);
    m.latency_ms = ms;
    if class.is_some() {
        let text = port::describe(state, timeout_ms);
        m.message = Some(netpulse_domain::check::cut_message(&match error {
            Some(e) if state == PortState::Unreachable => format!("{text}: {e}"),
            _ => text,
        }));
    }
    m
}
