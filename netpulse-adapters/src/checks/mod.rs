//! The connectivity-check engines (feature `checks`, used by the agent): ICMP echo
//! ([`icmp`]), HTTP ([`http`]), DNS ([`dns`]), TCP connect ([`tcp`]) and UDP probes ([`udp`]).
//!
//! [`CheckEngine::run`] runs one check for each of its families and returns one
//! [`CheckMeasurement`] per family. Before measuring, the target's address for the family is
//! chosen ([`address`]): an IP literal of the other family and a host name without an address
//! of the family give `not_applicable/no_address`; a family without a local route to the
//! address gives `not_applicable/no_route` (a connected UDP socket asks the kernel's routing
//! table without sending anything). Host names are resolved by the system (getaddrinfo).
//! The judgement of what each engine observed is the domain's (`netpulse_domain::check`).

use std::time::{Duration, Instant};

use netpulse_domain::Timestamp;
use netpulse_domain::check::{
    CheckKind, CheckMeasurement, CheckParams, CheckSpec, FailureClass, Family, Outcome,
};
use netpulse_domain::id::CheckId;

pub mod address;
pub mod dns;
pub mod http;
pub mod icmp;
pub mod tcp;
pub mod udp;

use address::Target;

/// Runs checks. Cheap to share (`Arc`); holds the HTTP clients and the ICMP sockets (one
/// per family) between rounds, so it belongs to the runtime of its first round.
#[derive(Debug, Default)]
pub struct CheckEngine {
    http: http::HttpClients,
    icmp: icmp::IcmpClients,
}

impl CheckEngine {
    /// A new engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `spec` once for each of its families, in round `round_at`.
    pub async fn run(
        &self,
        id: &CheckId,
        spec: &CheckSpec,
        round_at: Timestamp,
    ) -> Vec<CheckMeasurement> {
        let families = spec.family.families();
        if spec.kind == CheckKind::Dns {
            let futures = families
                .iter()
                .map(|&family| dns::run(id, spec, round_at, family));
            return futures_util::future::join_all(futures).await;
        }
        let targets = address::resolve(spec.host(), families).await;
        let futures = families.iter().map(|&family| {
            let target = targets.for_family(family);
            self.run_family(id, spec, round_at, family, target)
        });
        futures_util::future::join_all(futures).await
    }

    async fn run_family(
        &self,
        id: &CheckId,
        spec: &CheckSpec,
        round_at: Timestamp,
        family: Family,
        target: Target,
    ) -> CheckMeasurement {
        let failed = |outcome, class, message: &str| {
            CheckMeasurement::failed(id.clone(), round_at, family, outcome, class, message)
        };
        let ip = match target {
            Target::Address(ip) => ip,
            Target::NoAddress(why) => {
                return failed(Outcome::NotApplicable, FailureClass::NoAddress, &why);
            }
            Target::Unresolved(why) => return failed(Outcome::Fail, FailureClass::Dns, &why),
        };
        let port = spec.port.unwrap_or(match spec.kind {
            CheckKind::Http => 80,
            _ => 7,
        });
        if let Err(why) = address::route_to(ip, port) {
            let mut m = failed(Outcome::NotApplicable, FailureClass::NoRoute, &why);
            m.address = Some(ip.to_string());
            return m;
        }
        let mut m = match &spec.params {
            CheckParams::Icmp {
                count,
                loss_warn_pct,
                rtt_warn_ms,
            } => icmp::run(&self.icmp, ip, *count, *loss_warn_pct, *rtt_warn_ms).await,
            CheckParams::Http { .. } => self.http.run(spec, ip).await,
            CheckParams::Tcp { timeout_ms } => tcp::run(ip, port, *timeout_ms).await,
            CheckParams::Udp {
                payload,
                timeout_ms,
            } => udp::run(ip, port, payload, *timeout_ms).await,
            CheckParams::Dns { .. } => unreachable!("DNS checks are run above"),
        };
        m.check_id = id.clone();
        m.round_at = round_at;
        m.family = family;
        m.address = Some(ip.to_string());
        m
    }
}

/// A blank measurement an engine fills (the identity is set by [`CheckEngine`]).
pub(crate) fn blank(outcome: Outcome) -> CheckMeasurement {
    CheckMeasurement::new(
        CheckId::parse("00000000-0000-4000-8000-000000000000").expect("a valid id"),
        Timestamp::EPOCH,
        Family::V4,
        outcome,
    )
}

/// A blank failed measurement with its class and message.
pub(crate) fn blank_failed(
    outcome: Outcome,
    class: FailureClass,
    message: &str,
) -> CheckMeasurement {
    let mut m = blank(outcome);
    m.failure_class = Some(class);
    m.message = Some(netpulse_domain::check::cut_message(message));
    m
}

/// Milliseconds since `start`, with microsecond resolution.
pub(crate) fn elapsed_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// A duration of `ms` milliseconds.
pub(crate) fn millis(ms: u32) -> Duration {
    Duration::from_millis(u64::from(ms))
}

/// The class of a socket error: refused, unreachable (host or network), no route, permission,
/// timeout; anything else is `None`.
pub(crate) fn io_class(e: &std::io::Error) -> Option<FailureClass> {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => Some(FailureClass::Refused),
        K::HostUnreachable | K::NetworkUnreachable => Some(FailureClass::Unreachable),
        K::PermissionDenied => Some(FailureClass::Permission),
        K::TimedOut => Some(FailureClass::Timeout),
        _ => None,
    }
}
