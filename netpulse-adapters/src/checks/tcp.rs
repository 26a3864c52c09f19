//! TCP connect checks: the connect time, and the port state — `open`, `closed` (RST,
//! ECONNREFUSED), `filtered` (no answer before the timeout) or `unreachable` (an ICMP error).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use netpulse_domain::check::{CheckMeasurement, FailureClass, PortState, port};

use super::{blank, elapsed_ms, io_class, millis};

/// The state of a TCP port and the connect time when open.
pub async fn probe(
    ip: IpAddr,
    port: u16,
    timeout_ms: u32,
) -> (PortState, Option<f64>, Option<String>) {
    let start = Instant::now();
    match tokio::time::timeout(
        millis(timeout_ms),
        tokio::net::TcpStream::connect(SocketAddr::new(ip, port)),
    )
    .await
    {
        Ok(Ok(stream)) => {
            let ms = elapsed_ms(start);
            drop(stream);
            (PortState::Open, Some(ms), None)
        }
        Ok(Err(e)) => {
            let state = match io_class(&e) {
                Some(FailureClass::Refused) => PortState::Closed,
                Some(FailureClass::Timeout) => PortState::Filtered,
                // ICMP unreachable errors, and anything else the kernel says about the path.
                _ => PortState::Unreachable,
            };
            (state, None, Some(format!("connect: {e}")))
        }
        Err(_) => (PortState::Filtered, None, None),
    }
}

/// Runs a TCP check.
pub async fn run(ip: IpAddr, port_number: u16, timeout_ms: u32) -> CheckMeasurement {
    let (state, ms, error) = probe(ip, port_number, timeout_ms).await;
    let (outcome, class, degraded) = port::judge(state, true);
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
