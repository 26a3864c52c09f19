//! Diagnostics on demand: a trace (hop-by-hop path with mtr's per-hop statistics), a port probe
//! (TCP or UDP) or DNS timing against several resolvers, asked of one probe's agent, handed out
//! by `/due`, and answered by the agent's push. Flux Speed's parameters (`count`, `interval_ms`,
//! max hops, protocol; port, protocol, `timeout_ms`; hostname, resolvers), with bounds.
//!
//! A diagnostic is `queued` until an agent takes it (`running`), then `done` or `failed` when
//! the agent reports. One nobody takes within [`PICKUP_TIMEOUT_SECONDS`] reads as `expired`
//! (and is never handed out); one taken whose result does not come within its run time plus
//! [`REPORT_GRACE_SECONDS`] reads as `failed`.

use std::net::IpAddr;

use crate::InvalidValue;
use crate::Timestamp;
use crate::check::spec::is_host_name;
use crate::check::{Family, RecordType};

/// Seconds a queued diagnostic waits for an agent before it expires.
pub const PICKUP_TIMEOUT_SECONDS: i64 = 120;
/// Seconds past a diagnostic's longest run time before a missing result counts as failed.
pub const REPORT_GRACE_SECONDS: i64 = 60;
/// The most probes one trace may send (`count` × `maxHops`).
pub const MAX_TRACE_PROBES: u32 = 1200;
/// The most resolvers of one DNS diagnostic.
pub const MAX_RESOLVERS: usize = 8;

macro_rules! words {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The text form (wire, storage, CLI).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Reads the text form.
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    InvalidValue::new($field, text, format!("must be one of {}", names.join(", ")))
                })
            }
        }
    };
}

words!(
    /// What a diagnostic measures.
    DiagnosticKind, "kind", {
        /// The path, hop by hop.
        Trace => "trace",
        /// One TCP or UDP port.
        Port => "port",
        /// DNS resolution time per resolver.
        Dns => "dns",
    }
);

words!(
    /// The probes of a trace.
    TraceProtocol, "protocol", {
        /// UDP datagrams (unprivileged, `IP_RECVERR`).
        Udp => "udp",
        /// ICMP echo (ping sockets or raw sockets).
        Icmp => "icmp",
        /// TCP SYN (needs raw sockets).
        Tcp => "tcp",
    }
);

words!(
    /// The transport of a port probe.
    PortProtocol, "protocol", {
        /// A TCP connect.
        Tcp => "tcp",
        /// A UDP datagram, classified like nmap.
        Udp => "udp",
    }
);

words!(
    /// The stored progress of a diagnostic.
    DiagnosticPhase, "phase", {
        /// Waiting for an agent.
        Queued => "queued",
        /// Taken by the agent.
        Running => "running",
        /// The agent reported a result.
        Done => "done",
        /// The agent reported that it could not run it.
        Failed => "failed",
    }
);

words!(
    /// What a diagnostic's status reads as now.
    DiagnosticStatus, "status", {
        /// Waiting for an agent.
        Queued => "queued",
        /// Taken by the agent.
        Running => "running",
        /// Finished with a result.
        Done => "done",
        /// The agent could not run it, or never reported.
        Failed => "failed",
        /// No agent took it in time.
        Expired => "expired",
    }
);

/// A trace's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParams {
    /// Host name or IP address.
    pub target: String,
    /// Rounds (probes per hop), 1–100; default 10.
    pub count: u32,
    /// Between rounds, 100–10000 ms; default 1000.
    pub interval_ms: u32,
    /// The largest TTL, 1–64; default 30.
    pub max_hops: u32,
    /// The probes; default UDP.
    pub protocol: TraceProtocol,
    /// How long a probe may stay unanswered, 100–10000 ms; default 1000.
    pub timeout_ms: u32,
    /// Which family to trace over (`None`: the first address the name resolves to).
    pub family: Option<Family>,
    /// Whether hops' names are looked up (reverse DNS).
    pub reverse_dns: bool,
}

/// A port probe's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortParams {
    /// Host name or IP address.
    pub target: String,
    /// 1–65535.
    pub port: u16,
    /// TCP (default) or UDP.
    pub protocol: PortProtocol,
    /// 100–30000 ms; default 2000.
    pub timeout_ms: u32,
    /// Which family (`None`: every family the name has).
    pub family: Option<Family>,
}

/// DNS timing's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsParams {
    /// The name to resolve.
    pub hostname: String,
    /// Resolver addresses (empty: the agent's system resolvers), at most [`MAX_RESOLVERS`].
    pub resolvers: Vec<String>,
    /// Record types to ask for; default A and AAAA.
    pub record_types: Vec<RecordType>,
    /// Queries per resolver and record type, 1–10; default 3 (rated on the median).
    pub queries: u32,
}

/// A diagnostic's parameters, one variant per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagnosticParams {
    /// A trace.
    Trace(TraceParams),
    /// A port probe.
    Port(PortParams),
    /// DNS timing.
    Dns(DnsParams),
}

/// Parameters as asked for, before defaults and bounds: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiagnosticInput {
    /// Trace and port probe: the host or address.
    pub target: Option<String>,
    /// DNS: the name.
    pub hostname: Option<String>,
    /// Trace: rounds.
    pub count: Option<u32>,
    /// Trace: between rounds, ms.
    pub interval_ms: Option<u32>,
    /// Trace: the largest TTL.
    pub max_hops: Option<u32>,
    /// Trace (`udp`, `icmp`, `tcp`) or port probe (`tcp`, `udp`).
    pub protocol: Option<String>,
    /// Trace, port probe: ms.
    pub timeout_ms: Option<u32>,
    /// Trace, port probe: `v4` or `v6`.
    pub family: Option<String>,
    /// Trace: look up hop names.
    pub reverse_dns: Option<bool>,
    /// Port probe: the port.
    pub port: Option<u32>,
    /// DNS: resolver addresses.
    pub resolvers: Option<Vec<String>>,
    /// DNS: `A`, `AAAA`.
    pub record_types: Option<Vec<String>>,
    /// DNS: queries per resolver and record type.
    pub queries: Option<u32>,
}

fn bounded(
    field: &'static str,
    value: Option<u32>,
    default: u32,
    lo: u32,
    hi: u32,
) -> Result<u32, InvalidValue> {
    let v = value.unwrap_or(default);
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(InvalidValue::new(field, v, format!("must be {lo} to {hi}")))
    }
}

fn host(field: &'static str, value: Option<&str>) -> Result<String, InvalidValue> {
    let text = value.map_or("", str::trim);
    if text.is_empty() {
        return Err(InvalidValue::new(field, text, "is required"));
    }
    if text.parse::<IpAddr>().is_ok() || is_host_name(text) {
        Ok(text.to_owned())
    } else {
        Err(InvalidValue::new(
            field,
            text,
            "must be a host name or an IP address",
        ))
    }
}

/// The fields of each kind; a field set on a diagnostic of another kind is refused.
const TRACE_FIELDS: &[&str] = &[
    "target",
    "count",
    "intervalMs",
    "maxHops",
    "protocol",
    "timeoutMs",
    "family",
    "reverseDns",
];
const PORT_FIELDS: &[&str] = &["target", "port", "protocol", "timeoutMs", "family"];
const DNS_FIELDS: &[&str] = &["hostname", "resolvers", "recordTypes", "queries"];

impl DiagnosticInput {
    /// Every optional field by its wire name, and whether it is set.
    fn fields_set(&self) -> [(&'static str, bool); 13] {
        [
            ("target", self.target.is_some()),
            ("hostname", self.hostname.is_some()),
            ("count", self.count.is_some()),
            ("intervalMs", self.interval_ms.is_some()),
            ("maxHops", self.max_hops.is_some()),
            ("protocol", self.protocol.is_some()),
            ("timeoutMs", self.timeout_ms.is_some()),
            ("family", self.family.is_some()),
            ("reverseDns", self.reverse_dns.is_some()),
            ("port", self.port.is_some()),
            ("resolvers", self.resolvers.is_some()),
            ("recordTypes", self.record_types.is_some()),
            ("queries", self.queries.is_some()),
        ]
    }

    /// Refuses the first set field that does not apply to `kind`.
    fn only_fields_of(&self, kind: DiagnosticKind) -> Result<(), InvalidValue> {
        let applicable = match kind {
            DiagnosticKind::Trace => TRACE_FIELDS,
            DiagnosticKind::Port => PORT_FIELDS,
            DiagnosticKind::Dns => DNS_FIELDS,
        };
        match self
            .fields_set()
            .into_iter()
            .find(|(field, set)| *set && !applicable.contains(field))
        {
            Some((field, _)) => Err(InvalidValue::new(
                field,
                "(set)",
                format!("does not apply to a {} diagnostic", kind.as_str()),
            )),
            None => Ok(()),
        }
    }
}

impl DiagnosticInput {
    /// The parameters of a `kind` diagnostic: defaults filled in, bounds checked, every error
    /// naming its field; a field of another kind is refused.
    pub fn into_params(self, kind: DiagnosticKind) -> Result<DiagnosticParams, InvalidValue> {
        self.only_fields_of(kind)?;
        let family = self.family.as_deref().map(Family::parse).transpose()?;
        match kind {
            DiagnosticKind::Trace => {
                let count = bounded("count", self.count, 10, 1, 100)?;
                let max_hops = bounded("maxHops", self.max_hops, 30, 1, 64)?;
                if count * max_hops > MAX_TRACE_PROBES {
                    return Err(InvalidValue::new(
                        "count",
                        count,
                        format!("× maxHops ({max_hops}) must be at most {MAX_TRACE_PROBES} probes"),
                    ));
                }
                Ok(DiagnosticParams::Trace(TraceParams {
                    target: host("target", self.target.as_deref())?,
                    count,
                    interval_ms: bounded("intervalMs", self.interval_ms, 1000, 100, 10_000)?,
                    max_hops,
                    protocol: self
                        .protocol
                        .as_deref()
                        .map_or(Ok(TraceProtocol::Udp), TraceProtocol::parse)?,
                    timeout_ms: bounded("timeoutMs", self.timeout_ms, 1000, 100, 10_000)?,
                    family,
                    reverse_dns: self.reverse_dns.unwrap_or(false),
                }))
            }
            DiagnosticKind::Port => {
                let port = match self.port {
                    None => return Err(InvalidValue::new("port", "", "is required")),
                    Some(p) => u16::try_from(p)
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| InvalidValue::new("port", p, "must be 1 to 65535"))?,
                };
                Ok(DiagnosticParams::Port(PortParams {
                    target: host("target", self.target.as_deref())?,
                    port,
                    protocol: self
                        .protocol
                        .as_deref()
                        .map_or(Ok(PortProtocol::Tcp), PortProtocol::parse)?,
                    timeout_ms: bounded("timeoutMs", self.timeout_ms, 2000, 100, 30_000)?,
                    family,
                }))
            }
            DiagnosticKind::Dns => {
                let resolvers = self.resolvers.unwrap_or_default();
                if resolvers.len() > MAX_RESOLVERS {
                    return Err(InvalidValue::new(
                        "resolvers",
                        resolvers.len(),
                        format!("must be at most {MAX_RESOLVERS} addresses"),
                    ));
                }
                let resolvers = resolvers
                    .iter()
                    .map(|r| {
                        r.trim()
                            .parse::<IpAddr>()
                            .map(|ip| ip.to_string())
                            .map_err(|_| InvalidValue::new("resolvers", r, "must be IP addresses"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let mut record_types = Vec::new();
                for t in self
                    .record_types
                    .unwrap_or_else(|| vec!["A".into(), "AAAA".into()])
                {
                    let t = RecordType::parse(&t)
                        .map_err(|e| InvalidValue::new("recordTypes", e.value, e.rule))?;
                    if !record_types.contains(&t) {
                        record_types.push(t);
                    }
                }
                if record_types.is_empty() {
                    return Err(InvalidValue::new(
                        "recordTypes",
                        "[]",
                        "must name at least one type",
                    ));
                }
                let hostname = host("hostname", self.hostname.as_deref())?;
                if hostname.parse::<IpAddr>().is_ok() {
                    return Err(InvalidValue::new(
                        "hostname",
                        hostname,
                        "must be a name, not an address",
                    ));
                }
                Ok(DiagnosticParams::Dns(DnsParams {
                    hostname,
                    resolvers,
                    record_types,
                    queries: bounded("queries", self.queries, 3, 1, 10)?,
                }))
            }
        }
    }
}

impl DiagnosticParams {
    /// The kind.
    pub fn kind(&self) -> DiagnosticKind {
        match self {
            Self::Trace(_) => DiagnosticKind::Trace,
            Self::Port(_) => DiagnosticKind::Port,
            Self::Dns(_) => DiagnosticKind::Dns,
        }
    }

    /// What is diagnosed: the target host, or the DNS name.
    pub fn target(&self) -> &str {
        match self {
            Self::Trace(t) => &t.target,
            Self::Port(p) => &p.target,
            Self::Dns(d) => &d.hostname,
        }
    }

    /// The longest the agent may take, seconds (rounded up).
    pub fn max_run_seconds(&self) -> i64 {
        let ms = match self {
            Self::Trace(t) => {
                u64::from(t.count) * u64::from(t.interval_ms) + u64::from(t.timeout_ms)
            }
            Self::Port(p) => u64::from(p.timeout_ms) * 2,
            Self::Dns(d) => {
                // Each query waits up to 2 s; resolvers run one after the other.
                let resolvers = d.resolvers.len().max(2) as u64;
                resolvers * d.record_types.len() as u64 * u64::from(d.queries) * 2_000
            }
        };
        i64::try_from(ms.div_ceil(1000)).unwrap_or(i64::MAX)
    }
}

/// The status of a diagnostic stored in `phase` at `now`.
pub fn status(
    phase: DiagnosticPhase,
    expires_at: Timestamp,
    taken_at: Option<Timestamp>,
    max_run_seconds: i64,
    now: Timestamp,
) -> DiagnosticStatus {
    match phase {
        DiagnosticPhase::Queued if now >= expires_at => DiagnosticStatus::Expired,
        DiagnosticPhase::Queued => DiagnosticStatus::Queued,
        DiagnosticPhase::Running => match taken_at {
            Some(at) if now.seconds_since(at) > max_run_seconds + REPORT_GRACE_SECONDS => {
                DiagnosticStatus::Failed
            }
            _ => DiagnosticStatus::Running,
        },
        DiagnosticPhase::Done => DiagnosticStatus::Done,
        DiagnosticPhase::Failed => DiagnosticStatus::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(input: DiagnosticInput) -> Result<DiagnosticParams, InvalidValue> {
        input.into_params(DiagnosticKind::Trace)
    }

    #[test]
    fn trace_defaults_and_bounds_name_the_field() {
        let DiagnosticParams::Trace(t) = trace(DiagnosticInput {
            target: Some("10.99.3.2".into()),
            ..Default::default()
        })
        .unwrap() else {
            panic!("a trace")
        };
        assert_eq!(
            (t.count, t.interval_ms, t.max_hops, t.timeout_ms),
            (10, 1000, 30, 1000)
        );
        assert_eq!(t.protocol, TraceProtocol::Udp);
        let field = |input: DiagnosticInput| trace(input).unwrap_err().field;
        let target = || Some("example.net".to_owned());
        assert_eq!(field(DiagnosticInput::default()), "target");
        assert_eq!(
            field(DiagnosticInput {
                target: Some("a b".into()),
                ..Default::default()
            }),
            "target"
        );
        assert_eq!(
            field(DiagnosticInput {
                target: target(),
                count: Some(0),
                ..Default::default()
            }),
            "count"
        );
        assert_eq!(
            field(DiagnosticInput {
                target: target(),
                interval_ms: Some(99),
                ..Default::default()
            }),
            "intervalMs"
        );
        assert_eq!(
            field(DiagnosticInput {
                target: target(),
                max_hops: Some(65),
                ..Default::default()
            }),
            "maxHops"
        );
        assert_eq!(
            field(DiagnosticInput {
                target: target(),
                count: Some(100),
                max_hops: Some(30),
                ..Default::default()
            }),
            "count"
        );
        assert_eq!(
            field(DiagnosticInput {
                target: target(),
                protocol: Some("sctp".into()),
                ..Default::default()
            }),
            "protocol"
        );
        assert_eq!(
            field(DiagnosticInput {
                target: target(),
                port: Some(80),
                ..Default::default()
            }),
            "port"
        );
        assert_eq!(
            field(DiagnosticInput {
                target: target(),
                family: Some("v5".into()),
                ..Default::default()
            }),
            "family"
        );
    }

    #[test]
    fn port_and_dns_parameters() {
        let p = DiagnosticInput {
            target: Some("::1".into()),
            port: Some(443),
            ..Default::default()
        }
        .into_params(DiagnosticKind::Port)
        .unwrap();
        assert_eq!(p.kind(), DiagnosticKind::Port);
        assert_eq!(p.target(), "::1");
        let err = |input: DiagnosticInput, kind| input.into_params(kind).unwrap_err().field;
        assert_eq!(
            err(
                DiagnosticInput {
                    target: Some("x".into()),
                    ..Default::default()
                },
                DiagnosticKind::Port
            ),
            "port"
        );
        assert_eq!(
            err(
                DiagnosticInput {
                    target: Some("x".into()),
                    port: Some(70_000),
                    ..Default::default()
                },
                DiagnosticKind::Port
            ),
            "port"
        );
        assert_eq!(
            err(
                DiagnosticInput {
                    target: Some("x".into()),
                    port: Some(1),
                    protocol: Some("icmp".into()),
                    ..Default::default()
                },
                DiagnosticKind::Port
            ),
            "protocol"
        );
        let DiagnosticParams::Dns(d) = DiagnosticInput {
            hostname: Some("example.net".into()),
            resolvers: Some(vec!["10.99.3.2".into(), " fd99:3::2 ".into()]),
            record_types: Some(vec!["a".into(), "A".into()]),
            ..Default::default()
        }
        .into_params(DiagnosticKind::Dns)
        .unwrap() else {
            panic!("dns")
        };
        assert_eq!(d.resolvers, vec!["10.99.3.2", "fd99:3::2"]);
        assert_eq!(d.record_types, vec![RecordType::A]);
        assert_eq!(d.queries, 3);
        assert_eq!(
            err(
                DiagnosticInput {
                    hostname: Some("example.net".into()),
                    resolvers: Some(vec!["dns.google".into()]),
                    ..Default::default()
                },
                DiagnosticKind::Dns
            ),
            "resolvers"
        );
        assert_eq!(
            err(
                DiagnosticInput {
                    hostname: Some("example.net".into()),
                    record_types: Some(vec!["MX".into()]),
                    ..Default::default()
                },
                DiagnosticKind::Dns
            ),
            "recordTypes"
        );
        assert_eq!(
            err(
                DiagnosticInput {
                    hostname: Some("10.0.0.1".into()),
                    ..Default::default()
                },
                DiagnosticKind::Dns
            ),
            "hostname"
        );
        assert_eq!(
            err(
                DiagnosticInput {
                    hostname: Some("a.b".into()),
                    target: Some("x".into()),
                    ..Default::default()
                },
                DiagnosticKind::Dns
            ),
            "target"
        );
    }

    #[test]
    fn queued_expires_and_running_fails_without_a_report() {
        let t0 = Timestamp::from_unix_seconds(1_000_000);
        let expires = t0.plus_seconds(PICKUP_TIMEOUT_SECONDS);
        let at = |s: i64| t0.plus_seconds(s);
        assert_eq!(
            status(DiagnosticPhase::Queued, expires, None, 15, at(119)),
            DiagnosticStatus::Queued
        );
        assert_eq!(
            status(DiagnosticPhase::Queued, expires, None, 15, at(120)),
            DiagnosticStatus::Expired
        );
        let taken = Some(at(10));
        assert_eq!(
            status(DiagnosticPhase::Running, expires, taken, 15, at(10 + 75)),
            DiagnosticStatus::Running
        );
        assert_eq!(
            status(DiagnosticPhase::Running, expires, taken, 15, at(10 + 76)),
            DiagnosticStatus::Failed
        );
        // A result that came, even late, stands.
        assert_eq!(
            status(DiagnosticPhase::Done, expires, taken, 15, at(10_000)),
            DiagnosticStatus::Done
        );
    }
}
