//! The wire contract of connectivity checks (feature `wire`; issue 14).
//!
//! - `GET /api/v1/probes/{probeId}/due?checksVersion=<etag>` answers, beside the tasks, an
//!   optional `checks` field: a [`DueChecksBody`] with one [`CheckBody`] per check. An old
//!   server leaves it out (the agent keeps its set); when `checksVersion` equals the set's
//!   version, the server may answer `{"version": same, "unchanged": true, "items": []}`.
//! - `POST /api/v1/probes/{probeId}/check-results` takes a [`CheckResultsBody`] (at most
//!   [`MAX_CHECK_RESULTS_PER_BATCH`] results) and answers a [`CheckResultsAnswerBody`];
//!   idempotent on `(probe, checkId, family, roundAt)`.
//!
//! Field names are camelCase; an absent optional value is written as `null`. Kind parameters
//! (`params`) are a JSON object whose shape depends on `kind` ([`IcmpParamsBody`],
//! [`HttpParamsBody`], [`DnsParamsBody`], [`TcpParamsBody`], [`UdpParamsBody`]); a missing
//! parameter reads as its default.

use netpulse_domain::Timestamp;
use netpulse_domain::check::dns::ResolverFigure;
use netpulse_domain::check::{
    CheckKind, CheckMeasurement, CheckRole, CheckSetVersion, CheckSpec, DnsRating, FailureClass,
    Family, FamilyMode, Outcome, PortState, RecordType,
};
use netpulse_domain::error::InvalidValue;
use netpulse_domain::id::CheckId;
use netpulse_ports::agent_api::{CheckPushOutcome, CheckSet};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::InvalidField;

#[path = "wire_check_params.rs"]
mod params;
use params::params_from_json;
pub use params::{
    DnsParamsBody, HttpParamsBody, IcmpParamsBody, StatusRangeBody, TcpParamsBody, UdpParamsBody,
    params_json,
};

/// The most results one `check-results` batch may carry.
pub const MAX_CHECK_RESULTS_PER_BATCH: usize = 5000;
/// The largest `check-results` body, bytes (4 MiB).
pub const MAX_CHECK_RESULTS_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The query parameter of `/due` carrying the version the agent holds.
pub const CHECKS_VERSION_PARAM: &str = "checksVersion";

/// The `checks` field of the `/due` answer. `T` is the item type: [`CheckBody`], or
/// [`serde_json::Value`] for a reader that checks each item on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DueChecksBody<T = CheckBody> {
    /// The set's version (ETag).
    pub version: String,
    /// Seconds between two rounds.
    pub period_seconds: u32,
    /// The set is the one named by `checksVersion` (then `items` is empty).
    #[serde(default)]
    pub unchanged: bool,
    /// The checks.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

/// One check of the set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckBody {
    /// The check's id.
    pub id: String,
    /// `icmp`, `http`, `dns`, `tcp` or `udp`.
    pub kind: String,
    /// Host name or IP; URL for `http`; the name for `dns`.
    pub target: String,
    /// The port (`tcp`, `udp`).
    pub port: Option<u16>,
    /// `dual`, `v4` or `v6`.
    pub family: String,
    /// `connectivity` or `service`.
    pub role: String,
    /// Seconds between runs.
    pub interval_seconds: u32,
    /// The kind's parameters (an object; see the module documentation).
    #[serde(default)]
    pub params: Value,
}

fn parse_opt<T>(
    text: Option<&str>,
    parse: fn(&str) -> Result<T, InvalidValue>,
) -> Result<Option<T>, InvalidField> {
    text.map(parse).transpose().map_err(|e| invalid_field(&e))
}

pub(crate) fn field_error(
    field: &'static str,
    reason: impl Into<String>,
    value: &str,
) -> InvalidField {
    let reason = reason.into();
    InvalidField {
        field,
        message: format!("{field} {reason}, got {value:?}"),
        reason,
    }
}

/// The wire name of a domain field (`interval_seconds` → `intervalSeconds`, a parameter →
/// `params.<name>`).
fn wire_field(domain: &'static str) -> &'static str {
    match domain {
        "interval_seconds" => "intervalSeconds",
        "count" => "params.count",
        "loss_warn_pct" => "params.lossWarnPct",
        "rtt_warn_ms" => "params.rttWarnMs",
        "accepted" => "params.accepted",
        "max_response_ms" => "params.maxResponseMs",
        "body_contains" => "params.bodyContains",
        "timeout_ms" => "params.timeoutMs",
        "resolvers" => "params.resolvers",
        "record_types" => "params.recordTypes",
        "queries" => "params.queries",
        "payload" => "params.payload",
        "method" => "params.method",
        "failure_class" => "failureClass",
        "latency_ms" => "latencyMs",
        "loss_pct" => "lossPct",
        "jitter_ms" => "jitterMs",
        "rtt_min_ms" => "rttMinMs",
        "rtt_max_ms" => "rttMaxMs",
        "rtt_stdev_ms" => "rttStdevMs",
        "ttfb_ms" => "ttfbMs",
        "port_state" => "portState",
        "dns_rating" => "dnsRating",
        "dns_resolvers" => "dnsResolvers",
        other => other,
    }
}

/// A domain validation error as a wire field error.
pub fn invalid_field(e: &InvalidValue) -> InvalidField {
    let field = wire_field(e.field);
    InvalidField {
        field,
        reason: e.rule.clone(),
        message: format!("{field} {}, got {:?}", e.rule, e.value),
    }
}

impl CheckBody {
    /// The body of a check.
    pub fn new(id: &CheckId, spec: &CheckSpec) -> Self {
        Self {
            id: id.to_string(),
            kind: spec.kind.as_str().to_owned(),
            target: spec.target.clone(),
            port: spec.port,
            family: spec.family.as_str().to_owned(),
            role: spec.role.as_str().to_owned(),
            interval_seconds: spec.interval_s,
            params: params_json(&spec.params),
        }
    }

    /// The check, validated ([`CheckSpec::validate`]); errors name the wire field.
    pub fn into_check(self) -> Result<(CheckId, CheckSpec), InvalidField> {
        let id = CheckId::parse(&self.id).map_err(|e| InvalidField {
            field: "id",
            reason: e.reason.to_owned(),
            message: e.to_string(),
        })?;
        let kind = CheckKind::parse(&self.kind).map_err(|e| invalid_field(&e))?;
        let spec = CheckSpec {
            kind,
            target: self.target,
            port: self.port,
            family: FamilyMode::parse(&self.family).map_err(|e| invalid_field(&e))?,
            role: CheckRole::parse(&self.role).map_err(|e| invalid_field(&e))?,
            interval_s: self.interval_seconds,
            params: params_from_json(kind, self.params)?,
        }
        .validate()
        .map_err(|e| invalid_field(&e))?;
        Ok((id, spec))
    }
}

impl DueChecksBody {
    /// The `checks` field for a set.
    pub fn new(set: &CheckSet) -> Self {
        Self {
            version: set.version.to_string(),
            period_seconds: set.period_s,
            unchanged: set.unchanged,
            items: set
                .items
                .iter()
                .map(|(id, spec)| CheckBody::new(id, spec))
                .collect(),
        }
    }
}

impl<T> DueChecksBody<T> {
    /// The set's version and period, checked (period 10–3600 s).
    pub fn header(&self) -> Result<(CheckSetVersion, u32), InvalidField> {
        let version = CheckSetVersion::parse(&self.version).map_err(|e| invalid_field(&e))?;
        if !(10..=3600).contains(&self.period_seconds) {
            return Err(field_error(
                "periodSeconds",
                "must be 10 to 3600",
                &self.period_seconds.to_string(),
            ));
        }
        Ok((version, self.period_seconds))
    }
}

impl TryFrom<DueChecksBody> for CheckSet {
    type Error = InvalidField;

    /// The set, every item checked (the first invalid one fails it).
    fn try_from(body: DueChecksBody) -> Result<Self, InvalidField> {
        let (version, period_s) = body.header()?;
        Ok(Self {
            version,
            period_s,
            unchanged: body.unchanged,
            items: body
                .items
                .into_iter()
                .map(CheckBody::into_check)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// One check result on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResultBody {
    /// The check.
    pub check_id: String,
    /// The round's scheduled time, RFC 3339 UTC (ms).
    pub round_at: String,
    /// `v4` or `v6`.
    pub family: String,
    /// The address used.
    pub address: Option<String>,
    /// `ok`, `fail`, `not_applicable` or `local_error`.
    pub outcome: String,
    /// Why not ok (snake_case class).
    pub failure_class: Option<String>,
    /// A short explanation (≤ 200 characters).
    pub message: Option<String>,
    /// The kind's main latency, ms.
    pub latency_ms: Option<f64>,
    /// ICMP loss, percent.
    pub loss_pct: Option<f64>,
    /// ICMP jitter, ms.
    pub jitter_ms: Option<f64>,
    /// ICMP smallest RTT, ms.
    pub rtt_min_ms: Option<f64>,
    /// ICMP largest RTT, ms.
    pub rtt_max_ms: Option<f64>,
    /// ICMP RTT sample standard deviation, ms.
    pub rtt_stdev_ms: Option<f64>,
    /// HTTP status.
    pub status: Option<u16>,
    /// HTTP time to headers, ms.
    pub ttfb_ms: Option<f64>,
    /// TCP/UDP port state.
    pub port_state: Option<String>,
    /// DNS rating.
    pub dns_rating: Option<String>,
    /// DNS: one entry per resolver and record type asked. Left out when empty; an older agent
    /// never sends it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_resolvers: Vec<DnsResolverBody>,
    /// Taken while a speed test ran.
    pub during_speed_test: bool,
    /// Taken within the agent's 30 s grace after its host resumed from a suspend: the server
    /// counts failures in such a round as unknown. Left out when false; an older agent never
    /// sends it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_resume: bool,
    /// Ok but past a warning threshold.
    pub degraded: bool,
}

/// What one resolver answered for one record type in a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsResolverBody {
    /// The resolver's address.
    pub resolver: String,
    /// `A` or `AAAA`.
    pub record_type: String,
    /// Queries sent (1–10).
    pub sent: u8,
    /// Queries that succeeded.
    pub succeeded: u8,
    /// The median of the successful queries, ms; `null` when none succeeded.
    pub median_ms: Option<f64>,
}

impl From<&ResolverFigure> for DnsResolverBody {
    fn from(f: &ResolverFigure) -> Self {
        Self {
            resolver: f.resolver.clone(),
            record_type: f.record_type.as_str().to_owned(),
            sent: f.sent,
            succeeded: f.succeeded,
            median_ms: f.median_ms,
        }
    }
}

impl TryFrom<DnsResolverBody> for ResolverFigure {
    type Error = InvalidField;

    fn try_from(b: DnsResolverBody) -> Result<Self, InvalidField> {
        let record_type = RecordType::parse(&b.record_type).map_err(|e| {
            field_error(
                "dnsResolvers",
                format!("recordType {}", e.rule),
                &b.record_type,
            )
        })?;
        Ok(Self {
            resolver: b.resolver,
            record_type,
            sent: b.sent,
            succeeded: b.succeeded,
            median_ms: b.median_ms,
        })
    }
}

/// The body of `POST /check-results`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResultsBody {
    /// The results (at most [`MAX_CHECK_RESULTS_PER_BATCH`]).
    pub results: Vec<CheckResultBody>,
}

/// The answer of `POST /check-results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResultsAnswerBody {
    /// Stored now.
    pub recorded: u32,
    /// Stored before.
    pub duplicates: u32,
    /// Dropped because their check no longer exists.
    #[serde(default)]
    pub unknown_checks: u32,
}

impl From<CheckResultsAnswerBody> for CheckPushOutcome {
    fn from(a: CheckResultsAnswerBody) -> Self {
        Self {
            recorded: a.recorded,
            duplicates: a.duplicates,
            unknown_checks: a.unknown_checks,
        }
    }
}

impl From<CheckPushOutcome> for CheckResultsAnswerBody {
    fn from(a: CheckPushOutcome) -> Self {
        Self {
            recorded: a.recorded,
            duplicates: a.duplicates,
            unknown_checks: a.unknown_checks,
        }
    }
}

impl From<&CheckMeasurement> for CheckResultBody {
    fn from(m: &CheckMeasurement) -> Self {
        Self {
            check_id: m.check_id.to_string(),
            round_at: m.round_at.to_rfc3339(),
            family: m.family.as_str().to_owned(),
            address: m.address.clone(),
            outcome: m.outcome.as_str().to_owned(),
            failure_class: m.failure_class.map(|c| c.as_str().to_owned()),
            message: m.message.clone(),
            latency_ms: m.latency_ms,
            loss_pct: m.loss_pct,
            jitter_ms: m.jitter_ms,
            rtt_min_ms: m.rtt_min_ms,
            rtt_max_ms: m.rtt_max_ms,
            rtt_stdev_ms: m.rtt_stdev_ms,
            status: m.status,
            ttfb_ms: m.ttfb_ms,
            port_state: m.port_state.map(|s| s.as_str().to_owned()),
            dns_rating: m.dns_rating.map(|r| r.as_str().to_owned()),
            dns_resolvers: m.dns_resolvers.iter().map(DnsResolverBody::from).collect(),
            during_speed_test: m.during_speed_test,
            after_resume: m.after_resume,
            degraded: m.degraded,
        }
    }
}

impl TryFrom<CheckResultBody> for CheckMeasurement {
    type Error = InvalidField;

    /// The result, every field checked ([`CheckMeasurement::validate`]); errors name the wire
    /// field.
    fn try_from(b: CheckResultBody) -> Result<Self, InvalidField> {
        let m = Self {
            check_id: CheckId::parse(&b.check_id).map_err(|e| InvalidField {
                field: "checkId",
                reason: e.reason.to_owned(),
                message: e.to_string(),
            })?,
            round_at: Timestamp::parse_rfc3339(&b.round_at).map_err(|e| InvalidField {
                field: "roundAt",
                reason: e.to_string(),
                message: format!("roundAt: {e}"),
            })?,
            family: Family::parse(&b.family).map_err(|e| invalid_field(&e))?,
            address: b.address.filter(|a| !a.trim().is_empty()),
            outcome: Outcome::parse(&b.outcome).map_err(|e| invalid_field(&e))?,
            failure_class: parse_opt(b.failure_class.as_deref(), FailureClass::parse)?,
            message: b.message,
            latency_ms: b.latency_ms,
            loss_pct: b.loss_pct,
            jitter_ms: b.jitter_ms,
            rtt_min_ms: b.rtt_min_ms,
            rtt_max_ms: b.rtt_max_ms,
            rtt_stdev_ms: b.rtt_stdev_ms,
            status: b.status,
            ttfb_ms: b.ttfb_ms,
            port_state: parse_opt(b.port_state.as_deref(), PortState::parse)?,
            dns_rating: parse_opt(b.dns_rating.as_deref(), DnsRating::parse)?,
            dns_resolvers: b
                .dns_resolvers
                .into_iter()
                .map(ResolverFigure::try_from)
                .collect::<Result<_, _>>()?,
            during_speed_test: b.during_speed_test,
            after_resume: b.after_resume,
            degraded: b.degraded,
        };
        if let Some(a) = &m.address
            && a.len() > 64
        {
            return Err(field_error("address", "must be at most 64 bytes", a));
        }
        m.validate().map_err(|e| invalid_field(&e))?;
        Ok(m)
    }
}

#[cfg(test)]
#[path = "wire_checks_tests.rs"]
mod tests;
