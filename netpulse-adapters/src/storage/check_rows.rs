//! How checks and their results are stored (both databases): enums as SMALLINT codes with
//! explicit tables (reordering a domain enum changes nothing stored), durations as whole
//! microseconds, loss as hundredths of a percent, addresses as their octets, the kind's
//! parameters as a small JSON object.

use std::net::IpAddr;

use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::check::{
    CheckKind, CheckMeasurement, CheckParams, CheckRole, CheckSpec, DnsRating, FailureClass,
    Family, FamilyMode, Outcome, PortState, RecordType, UdpPayload,
};
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_ports::check_store::{Check, CheckSample, CheckState, LastFailure, RunCounts};
use netpulse_ports::storage::StorageError;
use serde_json::{Value, json};

use crate::storage::check_dns_detail as dns_detail;
use crate::storage::rows::{invalid, labels_from_json};

/// Flag bits of `flags`.
const DURING_SPEED_TEST: i16 = 1;
const DEGRADED: i16 = 2;
/// Taken within the agent's grace after a resume from suspend.
pub(crate) const AFTER_RESUME: i16 = 4;

pub(crate) fn family_code(f: Family) -> i16 {
    match f {
        Family::V4 => 4,
        Family::V6 => 6,
    }
}

pub(crate) fn family_of(code: i16) -> Result<Family, StorageError> {
    match code {
        4 => Ok(Family::V4),
        6 => Ok(Family::V6),
        _ => Err(invalid("family", code, "is not a stored family code")),
    }
}

pub(crate) fn outcome_code(o: Outcome) -> i16 {
    match o {
        Outcome::Ok => 0,
        Outcome::Fail => 1,
        Outcome::NotApplicable => 2,
        Outcome::LocalError => 3,
    }
}

pub(crate) fn outcome_of(code: i16) -> Result<Outcome, StorageError> {
    Ok(match code {
        0 => Outcome::Ok,
        1 => Outcome::Fail,
        2 => Outcome::NotApplicable,
        3 => Outcome::LocalError,
        _ => return Err(invalid("outcome", code, "is not a stored outcome code")),
    })
}

const CLASSES: [(FailureClass, i16); 11] = [
    (FailureClass::Timeout, 1),
    (FailureClass::Refused, 2),
    (FailureClass::Unreachable, 3),
    (FailureClass::NoRoute, 4),
    (FailureClass::NoAddress, 5),
    (FailureClass::Permission, 6),
    (FailureClass::Dns, 7),
    (FailureClass::Tls, 8),
    (FailureClass::HttpStatus, 9),
    (FailureClass::Condition, 10),
    (FailureClass::Protocol, 11),
];

const PORT_STATES: [(PortState, i16); 6] = [
    (PortState::Open, 1),
    (PortState::Closed, 2),
    (PortState::Filtered, 3),
    (PortState::OpenFiltered, 4),
    (PortState::Unreachable, 5),
    (PortState::NoRoute, 6),
];

const RATINGS: [(DnsRating, i16); 5] = [
    (DnsRating::Excellent, 1),
    (DnsRating::Good, 2),
    (DnsRating::Slow, 3),
    (DnsRating::Critical, 4),
    (DnsRating::Failed, 5),
];

fn encode<T: PartialEq + Copy>(table: &[(T, i16)], v: Option<T>) -> Option<i16> {
    v.and_then(|v| table.iter().find(|(t, _)| *t == v).map(|(_, c)| *c))
}

fn decode<T: Copy>(
    table: &[(T, i16)],
    field: &'static str,
    code: Option<i16>,
) -> Result<Option<T>, StorageError> {
    code.map(|c| {
        table
            .iter()
            .find(|(_, k)| *k == c)
            .map(|(t, _)| *t)
            .ok_or_else(|| invalid(field, c, "is not a stored code"))
    })
    .transpose()
}

pub(crate) fn class_code(c: Option<FailureClass>) -> Option<i16> {
    encode(&CLASSES, c)
}

pub(crate) fn class_of(code: Option<i16>) -> Result<Option<FailureClass>, StorageError> {
    decode(&CLASSES, "failure_class", code)
}

/// Milliseconds as whole microseconds (saturating; the domain keeps them finite and >= 0).
pub(crate) fn micros(ms: Option<f64>) -> Option<i32> {
    ms.map(|v| (v * 1000.0).round().clamp(0.0, f64::from(i32::MAX)) as i32)
}

pub(crate) fn millis(us: Option<i32>) -> Option<f64> {
    us.map(|v| f64::from(v) / 1000.0)
}

/// Percent as hundredths of a percent.
pub(crate) fn basis_points(pct: Option<f64>) -> Option<i16> {
    pct.map(|v| (v * 100.0).round().clamp(0.0, 10_000.0) as i16)
}

pub(crate) fn percent(bp: Option<i16>) -> Option<f64> {
    bp.map(|v| f64::from(v) / 100.0)
}

/// The IP literal a check reaches, if its host is one (the URL's host for HTTP).
pub(crate) fn literal_host(kind: &str, target: &str) -> Option<IpAddr> {
    let host = if kind == CheckKind::Http.as_str() {
        netpulse_domain::check::spec::url_host(target).ok()?
    } else {
        target
    };
    host.parse().ok()
}

/// The stored address: its 4 or 16 octets, or no octets at all when it is the check's own
/// literal host (the common case, e.g. every check of the default set); anything but an IP is
/// refused before it gets here.
pub(crate) fn octets(
    address: Option<&str>,
    host: Option<IpAddr>,
) -> Result<Option<Vec<u8>>, StorageError> {
    address
        .map(|a| match a.parse::<IpAddr>() {
            Ok(ip) if Some(ip) == host => Ok(Vec::new()),
            Ok(IpAddr::V4(v4)) => Ok(v4.octets().to_vec()),
            Ok(IpAddr::V6(v6)) => Ok(v6.octets().to_vec()),
            Err(_) => Err(invalid("address", a, "must be an IP address")),
        })
        .transpose()
}

fn address_of(
    bytes: Option<Vec<u8>>,
    host: Option<IpAddr>,
) -> Result<Option<String>, StorageError> {
    bytes
        .map(|b| {
            if b.is_empty() {
                return host.map(|h| h.to_string()).ok_or_else(|| {
                    invalid("address", "(the check's host)", "is not an IP literal")
                });
            }
            match <[u8; 4]>::try_from(b.as_slice()) {
                Ok(v4) => Ok(IpAddr::from(v4).to_string()),
                Err(_) => <[u8; 16]>::try_from(b.as_slice())
                    .map(|v6| IpAddr::from(v6).to_string())
                    .map_err(|_| invalid("address", b.len(), "is not 4 or 16 octets")),
            }
        })
        .transpose()
}

/// The figures of one result as integers and codes: what a packed block holds per result
/// (`check_blocks`), and the columns of the table before migration 0013 (`CHECK_RESULT_COLUMNS`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct ResultValues {
    pub round_at: i64,
    pub family: i16,
    pub outcome: i16,
    pub failure_class: Option<i16>,
    pub latency_us: Option<i32>,
    pub loss_bp: Option<i16>,
    pub jitter_us: Option<i32>,
    pub rtt_min_us: Option<i32>,
    pub rtt_max_us: Option<i32>,
    pub rtt_stdev_us: Option<i32>,
    pub status: Option<i16>,
    pub ttfb_us: Option<i32>,
    pub port_state: Option<i16>,
    pub dns_rating: Option<i16>,
    pub flags: i16,
    pub address: Option<Vec<u8>>,
    pub message: Option<String>,
    pub dns_detail: Option<String>,
}

/// The columns of `check_results` before migration 0013 after `check_num`, as `ResultValues`
/// orders them (what the migration converts).
pub(crate) const CHECK_RESULT_COLUMNS: &str = "round_at, family, outcome, failure_class, \
     latency_us, loss_bp, jitter_us, rtt_min_us, rtt_max_us, rtt_stdev_us, status, ttfb_us, \
     port_state, dns_rating, flags, address, message, dns_detail";

impl ResultValues {
    /// The values of `m`, a result of a check whose literal host is `host`.
    pub(crate) fn of(m: &CheckMeasurement, host: Option<IpAddr>) -> Result<Self, StorageError> {
        let flags = if m.during_speed_test {
            DURING_SPEED_TEST
        } else {
            0
        } | if m.degraded { DEGRADED } else { 0 }
            | if m.after_resume { AFTER_RESUME } else { 0 };
        Ok(Self {
            round_at: m.round_at.unix_millis(),
            family: family_code(m.family),
            outcome: outcome_code(m.outcome),
            failure_class: class_code(m.failure_class),
            latency_us: micros(m.latency_ms),
            loss_bp: basis_points(m.loss_pct),
            jitter_us: micros(m.jitter_ms),
            rtt_min_us: micros(m.rtt_min_ms),
            rtt_max_us: micros(m.rtt_max_ms),
            rtt_stdev_us: micros(m.rtt_stdev_ms),
            status: m.status.map(|s| i16::try_from(s).unwrap_or(i16::MAX)),
            ttfb_us: micros(m.ttfb_ms),
            port_state: encode(&PORT_STATES, m.port_state),
            dns_rating: encode(&RATINGS, m.dns_rating),
            flags,
            address: octets(m.address.as_deref(), host)?,
            // Text only where something went wrong.
            message: if m.outcome == Outcome::Ok {
                None
            } else {
                m.message.clone()
            },
            dns_detail: dns_detail::encode(&m.dns_resolvers),
        })
    }
}

fn check_id(text: &str) -> Result<CheckId, StorageError> {
    CheckId::parse(text).map_err(|e| invalid(e.field, &e.value, e.reason))
}

fn probe_id(text: &str) -> Result<ProbeId, StorageError> {
    ProbeId::parse(text).map_err(|e| invalid(e.field, &e.value, e.reason))
}

/// The check a stored result belongs to, as its readers need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ResultCheck {
    pub num: i32,
    pub id: String,
    pub kind: String,
    pub target: String,
}

impl ResultValues {
    /// The result of `check` these values hold.
    pub(crate) fn into_measurement(
        self,
        check: &ResultCheck,
    ) -> Result<CheckMeasurement, StorageError> {
        Ok(CheckMeasurement {
            check_id: check_id(&check.id)?,
            round_at: Timestamp::from_unix_millis(self.round_at),
            family: family_of(self.family)?,
            address: address_of(self.address, literal_host(&check.kind, &check.target))?,
            outcome: outcome_of(self.outcome)?,
            failure_class: class_of(self.failure_class)?,
            message: self.message,
            latency_ms: millis(self.latency_us),
            loss_pct: percent(self.loss_bp),
            jitter_ms: millis(self.jitter_us),
            rtt_min_ms: millis(self.rtt_min_us),
            rtt_max_ms: millis(self.rtt_max_us),
            rtt_stdev_ms: millis(self.rtt_stdev_us),
            status: self.status.and_then(|s| u16::try_from(s).ok()),
            ttfb_ms: millis(self.ttfb_us),
            port_state: decode(&PORT_STATES, "port_state", self.port_state)?,
            dns_rating: decode(&RATINGS, "dns_rating", self.dns_rating)?,
            dns_resolvers: dns_detail::decode(self.dns_detail.as_deref())?,
            during_speed_test: self.flags & DURING_SPEED_TEST != 0,
            after_resume: self.flags & AFTER_RESUME != 0,
            degraded: self.flags & DEGRADED != 0,
        })
    }

    /// What a summary reads of these values.
    pub(crate) fn into_sample(self) -> Result<CheckSample, StorageError> {
        Ok(CheckSample {
            round_at: Timestamp::from_unix_millis(self.round_at),
            family: family_of(self.family)?,
            outcome: outcome_of(self.outcome)?,
            latency_ms: millis(self.latency_us),
            loss_pct: percent(self.loss_bp),
            rtt_min_ms: millis(self.rtt_min_us),
            rtt_max_ms: millis(self.rtt_max_us),
            dns_resolvers: dns_detail::decode(self.dns_detail.as_deref())?,
        })
    }
}

/// The columns of `checks`, in `CheckRow` order.
pub(crate) const CHECK_COLUMNS: &str = "id, probe_id, kind, target, port, family, role, \
     interval_s, params, alert_after, recover_after, enabled, labels, created_at, updated_at";

/// A stored check.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CheckRow {
    pub id: String,
    pub probe_id: String,
    pub kind: String,
    pub target: String,
    pub port: Option<i32>,
    pub family: String,
    pub role: String,
    pub interval_s: i32,
    pub params: String,
    pub alert_after: Option<i32>,
    pub recover_after: Option<i32>,
    pub enabled: bool,
    pub labels: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn count(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

impl CheckRow {
    pub(crate) fn into_check(self) -> Result<Check, StorageError> {
        let kind = CheckKind::parse(&self.kind)?;
        let spec = CheckSpec {
            kind,
            target: self.target,
            port: self
                .port
                .map(|p| u16::try_from(p).map_err(|_| invalid("port", p, "is out of range")))
                .transpose()?,
            family: FamilyMode::parse(&self.family)?,
            role: CheckRole::parse(&self.role)?,
            interval_s: count(self.interval_s),
            params: params_from_json(kind, &self.params)?,
        }
        .validate()?;
        let alerts = match (self.alert_after, self.recover_after) {
            (Some(n), Some(m)) => Some(AlertPolicy::new(count(n), count(m))?),
            _ => None,
        };
        Ok(Check {
            id: check_id(&self.id)?,
            probe_id: probe_id(&self.probe_id)?,
            spec,
            alerts,
            enabled: self.enabled,
            labels: labels_from_json(&self.labels)?,
            created_at: Timestamp::from_unix_millis(self.created_at),
            updated_at: Timestamp::from_unix_millis(self.updated_at),
        })
    }
}

/// The stored JSON of a kind's parameters.
pub(crate) fn params_to_json(p: &CheckParams) -> String {
    match p {
        CheckParams::Icmp {
            count,
            loss_warn_pct,
            rtt_warn_ms,
        } => json!({"count": count, "lossWarnPct": loss_warn_pct, "rttWarnMs": rtt_warn_ms}),
        CheckParams::Http {
            method_head,
            accepted,
            max_response_ms,
            body_contains,
            timeout_ms,
        } => json!({
            "methodHead": method_head,
            "accepted": accepted.iter().map(|(a, b)| [a, b]).collect::<Vec<_>>(),
            "maxResponseMs": max_response_ms,
            "bodyContains": body_contains,
            "timeoutMs": timeout_ms,
        }),
        CheckParams::Dns {
            resolvers,
            record_types,
            expect_any,
            queries,
        } => json!({
            "resolvers": resolvers,
            "recordTypes": record_types.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "expectAny": expect_any,
            "queries": queries,
        }),
        CheckParams::Tcp { timeout_ms } => json!({ "timeoutMs": timeout_ms }),
        CheckParams::Udp {
            payload,
            timeout_ms,
        } => json!({"payload": payload.to_string(), "timeoutMs": timeout_ms}),
    }
    .to_string()
}

fn params_from_json(kind: CheckKind, text: &str) -> Result<CheckParams, StorageError> {
    let bad = |why: &str| invalid("params", text, why);
    let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let uint = |key: &str| -> Result<u64, StorageError> {
        v.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(&format!("{key} is missing")))
    };
    let small = |key: &str| -> Result<u8, StorageError> {
        u8::try_from(uint(key)?).map_err(|_| bad(&format!("{key} is out of range")))
    };
    let ms = |key: &str| -> Result<u32, StorageError> {
        u32::try_from(uint(key)?).map_err(|_| bad(&format!("{key} is out of range")))
    };
    let flag = |key: &str| v.get(key).and_then(Value::as_bool).unwrap_or(false);
    Ok(match kind {
        CheckKind::Icmp => CheckParams::Icmp {
            count: small("count")?,
            loss_warn_pct: v
                .get("lossWarnPct")
                .and_then(Value::as_f64)
                .ok_or_else(|| bad("lossWarnPct is missing"))?,
            rtt_warn_ms: v.get("rttWarnMs").and_then(Value::as_f64),
        },
        CheckKind::Http => CheckParams::Http {
            method_head: flag("methodHead"),
            accepted: v
                .get("accepted")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("accepted is missing"))?
                .iter()
                .map(|r| {
                    let pair = |i: usize| {
                        r.get(i)
                            .and_then(Value::as_u64)
                            .and_then(|n| u16::try_from(n).ok())
                    };
                    pair(0)
                        .zip(pair(1))
                        .ok_or_else(|| bad("accepted is not ranges"))
                })
                .collect::<Result<_, _>>()?,
            max_response_ms: v
                .get("maxResponseMs")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
            body_contains: v
                .get("bodyContains")
                .and_then(Value::as_str)
                .map(str::to_owned),
            timeout_ms: ms("timeoutMs")?,
        },
        CheckKind::Dns => CheckParams::Dns {
            resolvers: v
                .get("resolvers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            record_types: v
                .get("recordTypes")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("recordTypes is missing"))?
                .iter()
                .map(|t| RecordType::parse(t.as_str().unwrap_or("")))
                .collect::<Result<_, _>>()?,
            expect_any: flag("expectAny"),
            queries: small("queries")?,
        },
        CheckKind::Tcp => CheckParams::Tcp {
            timeout_ms: ms("timeoutMs")?,
        },
        CheckKind::Udp => CheckParams::Udp {
            payload: UdpPayload::parse(v.get("payload").and_then(Value::as_str).unwrap_or(""))?,
            timeout_ms: ms("timeoutMs")?,
        },
    })
}

/// A state row with its check's ids.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StateRow {
    pub check_id: String,
    pub probe_id: String,
    pub family: i16,
    pub round_at: i64,
    pub outcome: i16,
    pub failure_class: Option<i16>,
    pub latency_us: Option<i32>,
    pub loss_bp: Option<i16>,
    pub flags: i16,
    pub message: Option<String>,
    pub last_failure_at: Option<i64>,
    pub last_failure_class: Option<i16>,
    pub last_failure_message: Option<String>,
    pub runs_ok: i64,
    pub runs_fail: i64,
    pub runs_not_applicable: i64,
    pub runs_local_error: i64,
    pub alerting: bool,
}

/// The columns of `StateRow` (state `s` joined to check `c`).
pub(crate) const STATE_COLUMNS: &str = "c.id AS check_id, c.probe_id, s.family, s.round_at, \
     s.outcome, s.failure_class, s.latency_us, s.loss_bp, s.flags, s.message, \
     s.last_failure_at, s.last_failure_class, s.last_failure_message, s.runs_ok, s.runs_fail, \
     s.runs_not_applicable, s.runs_local_error, s.alerting";

fn runs(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl StateRow {
    pub(crate) fn into_state(self) -> Result<CheckState, StorageError> {
        Ok(CheckState {
            check_id: check_id(&self.check_id)?,
            probe_id: probe_id(&self.probe_id)?,
            family: family_of(self.family)?,
            round_at: Timestamp::from_unix_millis(self.round_at),
            outcome: outcome_of(self.outcome)?,
            failure_class: class_of(self.failure_class)?,
            latency_ms: millis(self.latency_us),
            loss_pct: percent(self.loss_bp),
            degraded: self.flags & DEGRADED != 0,
            message: self.message,
            last_failure: match self.last_failure_at {
                None => None,
                Some(at) => Some(LastFailure {
                    round_at: Timestamp::from_unix_millis(at),
                    class: class_of(self.last_failure_class)?,
                    message: self.last_failure_message,
                }),
            },
            runs: RunCounts {
                ok: runs(self.runs_ok),
                fail: runs(self.runs_fail),
                not_applicable: runs(self.runs_not_applicable),
                local_error: runs(self.runs_local_error),
            },
            alerting: self.alerting,
        })
    }
}
