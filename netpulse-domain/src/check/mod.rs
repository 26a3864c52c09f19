//! Connectivity checks (issue 14): what a check is ([`spec`]), what one result of it says
//! ([`CheckMeasurement`]), when rounds run ([`round`]) and how each kind's raw observation is
//! judged ([`icmp`], [`dns`], [`port`], [`http`]).
//!
//! A check runs once per **round** and per **family** (`dual` gives a v4 and a v6 result).
//! "No address for the family" (a host without AAAA) and "no route for the family" are
//! `not_applicable` with the class `no_address` / `no_route`: they are facts about the network,
//! not failures of the target.

use std::fmt;

use crate::Timestamp;
use crate::error::InvalidValue;
use crate::id::CheckId;

pub mod alert;
pub mod dns;
pub mod http;
pub mod icmp;
pub mod port;
pub mod round;
pub mod spec;

pub use spec::{CheckParams, CheckSpec, RecordType, UdpPayload};

/// The longest stored message of a result, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The text form (wire, storage, CLI).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Reads the text form.
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        InvalidValue::new($field, text, format!("must be one of {}", names.join(", ")))
                    })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a check does.
    CheckKind, "kind", {
        /// ICMP echo (5 echoes by default).
        Icmp => "icmp",
        /// HTTP GET (or HEAD), redirects not followed.
        Http => "http",
        /// DNS queries to resolvers, rated.
        Dns => "dns",
        /// TCP connect.
        Tcp => "tcp",
        /// UDP probe, classified like nmap.
        Udp => "udp",
    }
);

text_enum!(
    /// Which address families a check runs over.
    FamilyMode, "family", {
        /// IPv4 and IPv6: two results per round (the default).
        Dual => "dual",
        /// IPv4 only.
        V4 => "v4",
        /// IPv6 only.
        V6 => "v6",
    }
);

#[allow(clippy::derivable_impls)] // the enum comes from `text_enum!`
impl Default for FamilyMode {
    fn default() -> Self {
        Self::Dual
    }
}

impl FamilyMode {
    /// The families a round measures, v4 first.
    pub fn families(self) -> &'static [Family] {
        match self {
            Self::Dual => &[Family::V4, Family::V6],
            Self::V4 => &[Family::V4],
            Self::V6 => &[Family::V6],
        }
    }
}

text_enum!(
    /// One address family.
    Family, "family", {
        /// IPv4.
        V4 => "v4",
        /// IPv6.
        V6 => "v6",
    }
);

impl Family {
    /// The family of an address.
    pub fn of(address: &std::net::IpAddr) -> Self {
        if address.is_ipv4() {
            Self::V4
        } else {
            Self::V6
        }
    }
}

text_enum!(
    /// What a check's failures mean.
    CheckRole, "role", {
        /// Feeds the outage record of the probe and family.
        Connectivity => "connectivity",
        /// A service of its own: its failures open its own incidents.
        Service => "service",
    }
);

text_enum!(
    /// How one result of a check came out.
    Outcome, "outcome", {
        /// The target answered as required.
        Ok => "ok",
        /// The target did not answer as required (the failure class says how).
        Fail => "fail",
        /// The family does not apply (no address for it, no route for it).
        NotApplicable => "not_applicable",
        /// The agent could not measure (a local error: sockets, permissions of the host).
        LocalError => "local_error",
    }
);

text_enum!(
    /// Why a result is not ok.
    FailureClass, "failure_class", {
        /// No answer in time.
        Timeout => "timeout",
        /// The target refused (TCP RST, ICMP port unreachable).
        Refused => "refused",
        /// An ICMP unreachable error on the way.
        Unreachable => "unreachable",
        /// No local route for the family.
        NoRoute => "no_route",
        /// The name has no address for the family.
        NoAddress => "no_address",
        /// The agent lacks the privilege to send (ICMP sockets).
        Permission => "permission",
        /// Name resolution failed, or a DNS check got an error rcode.
        Dns => "dns",
        /// The TLS handshake or certificate failed.
        Tls => "tls",
        /// An HTTP status outside the accepted set.
        HttpStatus => "http_status",
        /// A condition (response time, body) was not met.
        Condition => "condition",
        /// The answer broke the protocol.
        Protocol => "protocol",
    }
);

text_enum!(
    /// The state of a TCP or UDP port (UDP as nmap names them).
    PortState, "port_state", {
        /// It answered (TCP connected, UDP replied).
        Open => "open",
        /// It refused (TCP RST / ECONNREFUSED, UDP ICMP port unreachable).
        Closed => "closed",
        /// TCP: no answer before the timeout.
        Filtered => "filtered",
        /// UDP: no answer (open, or a filter dropped it).
        OpenFiltered => "open_filtered",
        /// An ICMP unreachable error other than port unreachable.
        Unreachable => "unreachable",
        /// No local route.
        NoRoute => "no_route",
    }
);

text_enum!(
    /// The rating of a DNS check's median response time (Flux Speed's bands, edges exact).
    DnsRating, "dns_rating", {
        /// t < 5 ms.
        Excellent => "excellent",
        /// 5 ≤ t < 20 ms.
        Good => "good",
        /// 20 ≤ t ≤ 100 ms.
        Slow => "slow",
        /// t > 100 ms.
        Critical => "critical",
        /// No query succeeded.
        Failed => "failed",
    }
);

/// The version (ETag) of a probe's check set, computed by the server; opaque to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckSetVersion(String);

impl CheckSetVersion {
    /// The longest version text, in bytes.
    pub const MAX_BYTES: usize = 128;

    /// Reads a version: 1 to 128 printable ASCII characters without spaces.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        if text.is_empty() || text.len() > Self::MAX_BYTES {
            return Err(InvalidValue::new(
                "version",
                text,
                "must be 1 to 128 characters",
            ));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidValue::new(
                "version",
                text,
                "must be printable ASCII without spaces",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckSetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One result of one check for one family in one round: a flat record of typed optional
/// figures (stored packed per hour by the storage adapter). `(check_id, family, round_at)`
/// identifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckMeasurement {
    /// The check.
    pub check_id: CheckId,
    /// The round's scheduled time (not when the check actually ran).
    pub round_at: Timestamp,
    /// The family measured.
    pub family: Family,
    /// The address used (IP literal), when one was chosen.
    pub address: Option<String>,
    /// How it came out.
    pub outcome: Outcome,
    /// Why it is not ok (also kept on `not_applicable`: `no_address`, `no_route`).
    pub failure_class: Option<FailureClass>,
    /// A short explanation (at most [`MAX_MESSAGE_CHARS`]); `None` when ok.
    pub message: Option<String>,
    /// ICMP median RTT, HTTP total time, DNS median, TCP connect time, UDP RTT.
    pub latency_ms: Option<f64>,
    /// ICMP loss, percent.
    pub loss_pct: Option<f64>,
    /// ICMP jitter: mean |Δ| of consecutive RTTs.
    pub jitter_ms: Option<f64>,
    /// ICMP smallest RTT.
    pub rtt_min_ms: Option<f64>,
    /// ICMP largest RTT.
    pub rtt_max_ms: Option<f64>,
    /// ICMP sample standard deviation of the RTTs.
    pub rtt_stdev_ms: Option<f64>,
    /// HTTP status.
    pub status: Option<u16>,
    /// HTTP time to the response headers.
    pub ttfb_ms: Option<f64>,
    /// TCP/UDP port state.
    pub port_state: Option<PortState>,
    /// DNS rating.
    pub dns_rating: Option<DnsRating>,
    /// DNS: one figure per resolver and record type asked (empty for other kinds, and from
    /// agents older than these figures).
    pub dns_resolvers: Vec<dns::ResolverFigure>,
    /// Taken while the agent ran a speed test (the figures may be distorted).
    pub during_speed_test: bool,
    /// Taken within the agent's grace after its host resumed from a suspend (the network may
    /// not be back yet): a failure says nothing about the connection (wave2-specs §2.3).
    pub after_resume: bool,
    /// Ok but past a warning threshold (loss, latency), or unverified (UDP open|filtered).
    pub degraded: bool,
}

impl CheckMeasurement {
    /// A result with only its identity and outcome set; the figures are `None`.
    pub fn new(check_id: CheckId, round_at: Timestamp, family: Family, outcome: Outcome) -> Self {
        Self {
            check_id,
            round_at,
            family,
            address: None,
            outcome,
            failure_class: None,
            message: None,
            latency_ms: None,
            loss_pct: None,
            jitter_ms: None,
            rtt_min_ms: None,
            rtt_max_ms: None,
            rtt_stdev_ms: None,
            status: None,
            ttfb_ms: None,
            port_state: None,
            dns_rating: None,
            dns_resolvers: Vec::new(),
            during_speed_test: false,
            after_resume: false,
            degraded: false,
        }
    }

    /// A result that is not ok: its outcome, class and message (cut to [`MAX_MESSAGE_CHARS`]).
    pub fn failed(
        check_id: CheckId,
        round_at: Timestamp,
        family: Family,
        outcome: Outcome,
        class: FailureClass,
        message: &str,
    ) -> Self {
        let mut m = Self::new(check_id, round_at, family, outcome);
        m.failure_class = Some(class);
        m.message = Some(cut_message(message));
        m
    }

    /// Checks the invariants a stored result keeps: the message length, the figures finite and
    /// not negative, loss within 0–100, a failure class on every outcome but ok.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if let Some(m) = &self.message
            && m.chars().count() > MAX_MESSAGE_CHARS
        {
            return Err(InvalidValue::new(
                "message",
                m,
                format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        for (field, value) in [
            ("latency_ms", self.latency_ms),
            ("jitter_ms", self.jitter_ms),
            ("rtt_min_ms", self.rtt_min_ms),
            ("rtt_max_ms", self.rtt_max_ms),
            ("rtt_stdev_ms", self.rtt_stdev_ms),
            ("ttfb_ms", self.ttfb_ms),
            ("loss_pct", self.loss_pct),
        ] {
            if let Some(v) = value
                && (!v.is_finite() || v < 0.0)
            {
                return Err(InvalidValue::new(field, v, "must be a finite number >= 0"));
            }
        }
        if let Some(loss) = self.loss_pct
            && loss > 100.0
        {
            return Err(InvalidValue::new("loss_pct", loss, "must be at most 100"));
        }
        self.validate_dns_resolvers()?;
        if self.outcome != Outcome::Ok && self.failure_class.is_none() {
            return Err(InvalidValue::new(
                "failure_class",
                "null",
                format!("is required when the outcome is {}", self.outcome),
            ));
        }
        Ok(())
    }
}

impl CheckMeasurement {
    /// The per-resolver figures: at most [`MAX_DNS_RESOLVER_FIGURES`], resolvers as IP
    /// literals, at most 10 queries each, no more successes than queries, a median exactly when
    /// something succeeded.
    fn validate_dns_resolvers(&self) -> Result<(), InvalidValue> {
        const FIELD: &str = "dns_resolvers";
        if self.dns_resolvers.len() > MAX_DNS_RESOLVER_FIGURES {
            return Err(InvalidValue::new(
                FIELD,
                self.dns_resolvers.len(),
                format!("must have at most {MAX_DNS_RESOLVER_FIGURES} entries"),
            ));
        }
        for f in &self.dns_resolvers {
            if f.resolver.parse::<std::net::IpAddr>().is_err() {
                return Err(InvalidValue::new(
                    FIELD,
                    &f.resolver,
                    "resolver must be an IP address",
                ));
            }
            if f.sent == 0 || f.sent > 10 || f.succeeded > f.sent {
                return Err(InvalidValue::new(
                    FIELD,
                    format!("{}/{}", f.succeeded, f.sent),
                    "needs 1 to 10 queries sent and at most that many succeeded",
                ));
            }
            match f.median_ms {
                Some(m) if !m.is_finite() || m < 0.0 => {
                    return Err(InvalidValue::new(
                        FIELD,
                        m,
                        "medianMs must be a finite number >= 0",
                    ));
                }
                Some(_) if f.succeeded == 0 => {
                    return Err(InvalidValue::new(
                        FIELD,
                        "medianMs",
                        "must be null when no query succeeded",
                    ));
                }
                None if f.succeeded > 0 => {
                    return Err(InvalidValue::new(
                        FIELD,
                        "null",
                        "medianMs is required when a query succeeded",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The most per-resolver figures one DNS result carries: every resolver a check may name, for
/// both record types.
pub const MAX_DNS_RESOLVER_FIGURES: usize = 2 * spec::MAX_RESOLVERS;

/// A message cut to [`MAX_MESSAGE_CHARS`] characters (an ellipsis marks the cut).
pub fn cut_message(message: &str) -> String {
    let message = message.trim();
    match message.char_indices().nth(MAX_MESSAGE_CHARS - 1) {
        Some((cut, _)) if message.chars().count() > MAX_MESSAGE_CHARS => {
            format!("{}…", &message[..cut])
        }
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_errors_name_the_field() {
        for k in CheckKind::ALL {
            assert_eq!(CheckKind::parse(k.as_str()), Ok(*k));
        }
        for c in FailureClass::ALL {
            assert_eq!(FailureClass::parse(c.as_str()), Ok(*c));
        }
        assert_eq!(PortState::OpenFiltered.as_str(), "open_filtered");
        assert_eq!(Outcome::NotApplicable.as_str(), "not_applicable");
        let e = CheckKind::parse("ping").unwrap_err();
        assert_eq!(e.field, "kind");
        assert_eq!(e.rule, "must be one of icmp, http, dns, tcp, udp");
        assert_eq!(FamilyMode::default(), FamilyMode::Dual);
        assert_eq!(FamilyMode::Dual.families(), &[Family::V4, Family::V6]);
    }

    #[test]
    fn messages_are_cut_to_200_characters() {
        let long = "é".repeat(300);
        let cut = cut_message(&long);
        assert_eq!(cut.chars().count(), MAX_MESSAGE_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(cut_message(" short "), "short");
        let exact = "x".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(cut_message(&exact), exact);
    }

    #[test]
    fn measurements_keep_their_invariants() {
        let id = CheckId::parse("44444444-4444-4444-8444-444444444444").unwrap();
        let at = Timestamp::from_unix_millis(1_780_747_500_250);
        let mut m = CheckMeasurement::new(id.clone(), at, Family::V4, Outcome::Ok);
        assert_eq!(m.validate(), Ok(()));
        m.loss_pct = Some(120.0);
        assert_eq!(m.validate().unwrap_err().field, "loss_pct");
        m.loss_pct = Some(f64::NAN);
        assert_eq!(m.validate().unwrap_err().field, "loss_pct");
        let m = CheckMeasurement::new(id.clone(), at, Family::V6, Outcome::Fail);
        assert_eq!(m.validate().unwrap_err().field, "failure_class");
        let m = CheckMeasurement::failed(
            id,
            at,
            Family::V6,
            Outcome::NotApplicable,
            FailureClass::NoAddress,
            "no AAAA",
        );
        assert_eq!(m.validate(), Ok(()));
    }

    #[test]
    fn versions_are_short_printable_tokens() {
        assert!(CheckSetVersion::parse("\"abc\"").is_ok());
        assert!(CheckSetVersion::parse("").is_err());
        assert!(CheckSetVersion::parse("a b").is_err());
        assert!(CheckSetVersion::parse(&"v".repeat(129)).is_err());
    }
}
