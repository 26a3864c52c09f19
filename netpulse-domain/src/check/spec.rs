//! What a check is: its kind, target, port, family, role, interval and the kind's parameters,
//! validated ([`CheckSpec::validate`]).

use std::fmt;
use std::net::IpAddr;

use super::{CheckKind, CheckRole, FamilyMode};
use crate::error::InvalidValue;

/// The default interval between two runs of a check, seconds.
pub const DEFAULT_INTERVAL_S: u32 = 60;
/// The shortest interval, seconds.
pub const MIN_INTERVAL_S: u32 = 10;
/// The longest interval, seconds.
pub const MAX_INTERVAL_S: u32 = 3600;
/// The longest `body_contains`, in characters.
pub const MAX_BODY_CONTAINS_CHARS: usize = 256;
/// The longest target, in bytes (a URL for HTTP).
pub const MAX_TARGET_BYTES: usize = 2048;
/// The most resolvers of a DNS check.
pub const MAX_RESOLVERS: usize = 8;
/// The longest UDP hex payload, in bytes.
pub const MAX_UDP_PAYLOAD_BYTES: usize = 512;

/// A DNS record type a check asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
}

impl RecordType {
    /// `A` or `AAAA`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
        }
    }

    /// Reads `A` or `AAAA` (any case).
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        match text.to_ascii_uppercase().as_str() {
            "A" => Ok(Self::A),
            "AAAA" => Ok(Self::Aaaa),
            _ => Err(InvalidValue::new("record_types", text, "must be A or AAAA")),
        }
    }
}

/// What a UDP check sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpPayload {
    /// A DNS query for the root NS records (a DNS server answers it).
    Dns,
    /// An NTP client request (mode 3; an NTP server answers it).
    Ntp,
    /// Raw bytes (no reply expected; silence counts as open|filtered, unverified).
    Hex(Vec<u8>),
}

impl UdpPayload {
    /// Whether a listening service is expected to answer it.
    pub fn expects_reply(&self) -> bool {
        !matches!(self, Self::Hex(_))
    }

    /// Reads `dns`, `ntp` or `hex:<even number of hex digits>`.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let fail = |rule: &str| InvalidValue::new("payload", text, rule);
        match text {
            "dns" => Ok(Self::Dns),
            "ntp" => Ok(Self::Ntp),
            _ => {
                let hex = text
                    .strip_prefix("hex:")
                    .ok_or_else(|| fail("must be dns, ntp or hex:<bytes>"))?;
                if hex.is_empty() || hex.len() % 2 != 0 {
                    return Err(fail(
                        "hex payload must have an even, non-zero number of digits",
                    ));
                }
                if hex.len() / 2 > MAX_UDP_PAYLOAD_BYTES {
                    return Err(fail("hex payload must be at most 512 bytes"));
                }
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| fail("hex payload must contain only hexadecimal digits"))?;
                Ok(Self::Hex(bytes))
            }
        }
    }
}

impl fmt::Display for UdpPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns => f.write_str("dns"),
            Self::Ntp => f.write_str("ntp"),
            Self::Hex(bytes) => {
                f.write_str("hex:")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// The parameters of one kind of check.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckParams {
    /// ICMP echo.
    Icmp {
        /// Echoes per round (1–20, default 5).
        count: u8,
        /// Loss at or above this percentage flags an ok result degraded (default 20).
        loss_warn_pct: f64,
        /// A median RTT above this flags an ok result degraded.
        rtt_warn_ms: Option<f64>,
    },
    /// HTTP request.
    Http {
        /// HEAD instead of GET.
        method_head: bool,
        /// Accepted status ranges, inclusive (default 200–399).
        accepted: Vec<(u16, u16)>,
        /// A slower total time fails with `condition`.
        max_response_ms: Option<u32>,
        /// The body (first 64 KiB) must contain this text.
        body_contains: Option<String>,
        /// The whole request's timeout (default 10 s).
        timeout_ms: u32,
    },
    /// DNS queries; the check's target is the name.
    Dns {
        /// Resolver IP addresses; empty means those of `/etc/resolv.conf`.
        resolvers: Vec<String>,
        /// Record types asked for (default A and AAAA).
        record_types: Vec<RecordType>,
        /// NXDOMAIN and NODATA count as ok too.
        expect_any: bool,
        /// Queries per resolver and record type (1–10, default 3).
        queries: u8,
    },
    /// TCP connect.
    Tcp {
        /// Connect timeout (default 2 s).
        timeout_ms: u32,
    },
    /// UDP probe.
    Udp {
        /// What is sent.
        payload: UdpPayload,
        /// How long to wait for a reply (default 2 s).
        timeout_ms: u32,
    },
}

impl CheckParams {
    /// The default parameters of a kind.
    pub fn default_for(kind: CheckKind) -> Self {
        match kind {
            CheckKind::Icmp => Self::Icmp {
                count: 5,
                loss_warn_pct: 20.0,
                rtt_warn_ms: None,
            },
            CheckKind::Http => Self::Http {
                method_head: false,
                accepted: vec![(200, 399)],
                max_response_ms: None,
                body_contains: None,
                timeout_ms: 10_000,
            },
            CheckKind::Dns => Self::Dns {
                resolvers: Vec::new(),
                record_types: vec![RecordType::A, RecordType::Aaaa],
                expect_any: false,
                queries: 3,
            },
            CheckKind::Tcp => Self::Tcp { timeout_ms: 2000 },
            CheckKind::Udp => Self::Udp {
                payload: UdpPayload::Dns,
                timeout_ms: 2000,
            },
        }
    }

    /// The kind these parameters belong to.
    pub fn kind(&self) -> CheckKind {
        match self {
            Self::Icmp { .. } => CheckKind::Icmp,
            Self::Http { .. } => CheckKind::Http,
            Self::Dns { .. } => CheckKind::Dns,
            Self::Tcp { .. } => CheckKind::Tcp,
            Self::Udp { .. } => CheckKind::Udp,
        }
    }
}

/// What a check is. Build one with its fields and call [`CheckSpec::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    /// What it does.
    pub kind: CheckKind,
    /// A host name or IP literal; an `http://`/`https://` URL for HTTP; the name for DNS.
    pub target: String,
    /// The port (TCP and UDP only, required there).
    pub port: Option<u16>,
    /// The families it runs over.
    pub family: FamilyMode,
    /// What its failures mean.
    pub role: CheckRole,
    /// Seconds between runs (10–3600, default 60).
    pub interval_s: u32,
    /// The kind's parameters.
    pub params: CheckParams,
}

fn timeout(field: &'static str, ms: u32) -> Result<(), InvalidValue> {
    if (100..=60_000).contains(&ms) {
        Ok(())
    } else {
        Err(InvalidValue::new(field, ms, "must be 100 to 60000 ms"))
    }
}

/// Whether `text` is a DNS host name (labels of letters, digits, `-` and `_`, ≤ 253 bytes).
pub fn is_host_name(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The host of an `http(s)://` URL (brackets removed from an IPv6 literal), or why not.
pub fn url_host(url: &str) -> Result<&str, &'static str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("must be an http:// or https:// URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("must not contain credentials");
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']').ok_or("has an unclosed '[' in its host")?;
        let literal = &v6[..end];
        if literal.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("has an invalid IPv6 literal");
        }
        literal
    } else {
        let host = authority.split(':').next().unwrap_or("");
        if host.parse::<std::net::Ipv4Addr>().is_err() && !is_host_name(host) {
            return Err("has no valid host");
        }
        host
    };
    Ok(host)
}

impl CheckSpec {
    /// The host the check reaches: the URL's host for HTTP, the target otherwise.
    pub fn host(&self) -> &str {
        if self.kind == CheckKind::Http {
            url_host(&self.target).unwrap_or(&self.target)
        } else {
            &self.target
        }
    }

    /// The check with its target trimmed, or the first rule it breaks (naming the field).
    pub fn validate(mut self) -> Result<Self, InvalidValue> {
        self.target = self.target.trim().to_owned();
        if self.params.kind() != self.kind {
            return Err(InvalidValue::new(
                "params",
                self.params.kind(),
                format!("must be the parameters of a {} check", self.kind),
            ));
        }
        self.validate_target()?;
        match (self.kind, self.port) {
            (CheckKind::Tcp | CheckKind::Udp, None) => {
                return Err(InvalidValue::new(
                    "port",
                    "null",
                    format!("is required for a {} check", self.kind),
                ));
            }
            (CheckKind::Tcp | CheckKind::Udp, Some(0)) => {
                return Err(InvalidValue::new("port", 0, "must be 1 to 65535"));
            }
            (CheckKind::Icmp | CheckKind::Http | CheckKind::Dns, Some(p)) => {
                return Err(InvalidValue::new(
                    "port",
                    p,
                    format!(
                        "is only for tcp and udp checks (a {} check has none{})",
                        self.kind,
                        if self.kind == CheckKind::Http {
                            "; put it in the URL"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            _ => {}
        }
        if !(MIN_INTERVAL_S..=MAX_INTERVAL_S).contains(&self.interval_s) {
            return Err(InvalidValue::new(
                "interval_seconds",
                self.interval_s,
                "must be 10 to 3600",
            ));
        }
        self.validate_params()?;
        Ok(self)
    }

    fn validate_target(&self) -> Result<(), InvalidValue> {
        let fail = |rule: &str| InvalidValue::new("target", &self.target, rule);
        if self.target.is_empty() {
            return Err(fail("must not be empty"));
        }
        if self.target.len() > MAX_TARGET_BYTES {
            return Err(fail("must be at most 2048 bytes"));
        }
        let host = if self.kind == CheckKind::Http {
            url_host(&self.target).map_err(fail)?
        } else {
            if self.target.parse::<IpAddr>().is_err() && !is_host_name(&self.target) {
                return Err(fail(if self.kind == CheckKind::Dns {
                    "must be a DNS name"
                } else {
                    "must be a host name or an IP address (the port is a field of its own)"
                }));
            }
            &self.target
        };
        if self.kind == CheckKind::Dns {
            return Ok(());
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            let other = match (ip, self.family) {
                (IpAddr::V4(_), FamilyMode::V6) => Some("v6"),
                (IpAddr::V6(_), FamilyMode::V4) => Some("v4"),
                _ => None,
            };
            if let Some(other) = other {
                return Err(InvalidValue::new(
                    "family",
                    other,
                    format!("cannot reach the address {ip} of the other family"),
                ));
            }
        }
        Ok(())
    }

    fn validate_params(&self) -> Result<(), InvalidValue> {
        match &self.params {
            CheckParams::Icmp {
                count,
                loss_warn_pct,
                rtt_warn_ms,
            } => {
                if !(1..=20).contains(count) {
                    return Err(InvalidValue::new("count", count, "must be 1 to 20"));
                }
                if !loss_warn_pct.is_finite() || !(0.0..=100.0).contains(loss_warn_pct) {
                    return Err(InvalidValue::new(
                        "loss_warn_pct",
                        loss_warn_pct,
                        "must be 0 to 100",
                    ));
                }
                if let Some(r) = rtt_warn_ms
                    && (!r.is_finite() || *r <= 0.0 || *r > 60_000.0)
                {
                    return Err(InvalidValue::new(
                        "rtt_warn_ms",
                        r,
                        "must be more than 0 and at most 60000",
                    ));
                }
            }
            CheckParams::Http {
                accepted,
                max_response_ms,
                body_contains,
                timeout_ms,
                ..
            } => {
                if accepted.is_empty() || accepted.len() > 16 {
                    return Err(InvalidValue::new(
                        "accepted",
                        accepted.len(),
                        "must hold 1 to 16 status ranges",
                    ));
                }
                for (lo, hi) in accepted {
                    if !(100..=599).contains(lo) || !(100..=599).contains(hi) || lo > hi {
                        return Err(InvalidValue::new(
                            "accepted",
                            format!("{lo}-{hi}"),
                            "ranges must lie within 100-599, low end first",
                        ));
                    }
                }
                if let Some(m) = max_response_ms
                    && (*m == 0 || m > timeout_ms)
                {
                    return Err(InvalidValue::new(
                        "max_response_ms",
                        m,
                        "must be more than 0 and at most timeout_ms",
                    ));
                }
                if let Some(b) = body_contains
                    && (b.is_empty() || b.chars().count() > MAX_BODY_CONTAINS_CHARS)
                {
                    return Err(InvalidValue::new(
                        "body_contains",
                        b,
                        "must be 1 to 256 characters",
                    ));
                }
                timeout("timeout_ms", *timeout_ms)?;
            }
            CheckParams::Dns {
                resolvers,
                record_types,
                queries,
                ..
            } => {
                if resolvers.len() > MAX_RESOLVERS {
                    return Err(InvalidValue::new(
                        "resolvers",
                        resolvers.len(),
                        "must hold at most 8 addresses",
                    ));
                }
                for r in resolvers {
                    if r.parse::<IpAddr>().is_err() {
                        return Err(InvalidValue::new("resolvers", r, "must be IP addresses"));
                    }
                }
                if record_types.is_empty() {
                    return Err(InvalidValue::new(
                        "record_types",
                        "[]",
                        "must name A, AAAA or both",
                    ));
                }
                if !(1..=10).contains(queries) {
                    return Err(InvalidValue::new("queries", queries, "must be 1 to 10"));
                }
            }
            CheckParams::Tcp { timeout_ms } | CheckParams::Udp { timeout_ms, .. } => {
                timeout("timeout_ms", *timeout_ms)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: CheckKind, target: &str, port: Option<u16>) -> CheckSpec {
        CheckSpec {
            kind,
            target: target.to_owned(),
            port,
            family: FamilyMode::Dual,
            role: CheckRole::Connectivity,
            interval_s: DEFAULT_INTERVAL_S,
            params: CheckParams::default_for(kind),
        }
    }

    fn field(s: CheckSpec) -> &'static str {
        s.validate().unwrap_err().field
    }

    #[test]
    fn the_default_checks_are_valid() {
        for (kind, target, port) in [
            (CheckKind::Icmp, " 1.1.1.1 ", None),
            (CheckKind::Icmp, "2606:4700:4700::1111", None),
            (CheckKind::Http, "http://[2606:4700:4700::1111]/", None),
            (CheckKind::Http, "https://example.com:8443/health?x=1", None),
            (CheckKind::Dns, "example.com", None),
            (CheckKind::Tcp, "example.com", Some(443)),
            (CheckKind::Udp, "9.9.9.9", Some(53)),
        ] {
            let s = spec(kind, target, port).validate().unwrap();
            assert_eq!(s.target, target.trim());
        }
        assert_eq!(
            spec(CheckKind::Http, "http://[::1]:8080/x", None).host(),
            "::1"
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(field(spec(CheckKind::Icmp, "", None)), "target");
        assert_eq!(field(spec(CheckKind::Icmp, "a b", None)), "target");
        assert_eq!(field(spec(CheckKind::Tcp, "host:443", Some(1))), "target");
        assert_eq!(field(spec(CheckKind::Http, "ftp://x/", None)), "target");
        assert_eq!(field(spec(CheckKind::Http, "http://u@x/", None)), "target");
        assert_eq!(field(spec(CheckKind::Tcp, "x", None)), "port");
        assert_eq!(field(spec(CheckKind::Udp, "x", Some(0))), "port");
        assert_eq!(field(spec(CheckKind::Icmp, "x", Some(1))), "port");
        let mut s = spec(CheckKind::Icmp, "1.1.1.1", None);
        s.family = FamilyMode::V6;
        assert_eq!(field(s), "family");
        let mut s = spec(CheckKind::Icmp, "x", None);
        s.interval_s = 9;
        assert_eq!(field(s), "interval_seconds");
        let mut s = spec(CheckKind::Icmp, "x", None);
        s.interval_s = 3601;
        assert_eq!(field(s), "interval_seconds");
        let mut s = spec(CheckKind::Icmp, "x", None);
        s.params = CheckParams::default_for(CheckKind::Tcp);
        assert_eq!(field(s), "params");
        let mut s = spec(CheckKind::Icmp, "x", None);
        s.params = CheckParams::Icmp {
            count: 21,
            loss_warn_pct: 20.0,
            rtt_warn_ms: None,
        };
        assert_eq!(field(s), "count");
        let mut s = spec(CheckKind::Http, "http://x/", None);
        s.params = CheckParams::Http {
            method_head: false,
            accepted: vec![(400, 300)],
            max_response_ms: None,
            body_contains: None,
            timeout_ms: 10_000,
        };
        assert_eq!(field(s), "accepted");
        let mut s = spec(CheckKind::Http, "http://x/", None);
        s.params = CheckParams::Http {
            method_head: false,
            accepted: vec![(200, 299)],
            max_response_ms: None,
            body_contains: Some("x".repeat(257)),
            timeout_ms: 10_000,
        };
        assert_eq!(field(s), "body_contains");
        let mut s = spec(CheckKind::Dns, "example.com", None);
        s.params = CheckParams::Dns {
            resolvers: vec!["dns.google".to_owned()],
            record_types: vec![RecordType::A],
            expect_any: false,
            queries: 3,
        };
        assert_eq!(field(s), "resolvers");
        let mut s = spec(CheckKind::Tcp, "x", Some(80));
        s.params = CheckParams::Tcp { timeout_ms: 50 };
        assert_eq!(field(s), "timeout_ms");
    }

    #[test]
    fn udp_payloads_read_and_print() {
        assert_eq!(UdpPayload::parse("dns"), Ok(UdpPayload::Dns));
        let hex = UdpPayload::parse("hex:0aff").unwrap();
        assert_eq!(hex, UdpPayload::Hex(vec![0x0a, 0xff]));
        assert_eq!(hex.to_string(), "hex:0aff");
        assert!(!hex.expects_reply());
        for bad in ["hex:", "hex:abc", "hex:zz", "tcp"] {
            assert_eq!(
                UdpPayload::parse(bad).unwrap_err().field,
                "payload",
                "{bad}"
            );
        }
        assert_eq!(RecordType::parse("aaaa"), Ok(RecordType::Aaaa));
        assert!(RecordType::parse("MX").is_err());
    }
}
