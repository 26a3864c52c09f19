//! The parameters of a check as typed by a user: one flat set of optional fields, merged onto
//! the stored (or default) parameters of the check's kind. A field of another kind is refused
//! with its name, so a typo never passes silently.

use netpulse_domain::InvalidValue;
use netpulse_domain::check::{CheckKind, CheckParams, RecordType, UdpPayload};

use crate::error::AppError;

/// Every parameter a user can set; each belongs to one or more kinds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamsInput {
    /// icmp: echoes per round.
    pub count: Option<u32>,
    /// icmp: loss (percent) that flags a result degraded.
    pub loss_warn_pct: Option<f64>,
    /// icmp: median RTT (ms) that flags a result degraded; `Some(None)` clears it.
    pub rtt_warn_ms: Option<Option<f64>>,
    /// http: `GET` or `HEAD`.
    pub method: Option<String>,
    /// http: accepted statuses, `200-399` or `204` each.
    pub accepted: Option<Vec<String>>,
    /// http: slowest accepted response, ms; `Some(None)` clears it.
    pub max_response_ms: Option<Option<u32>>,
    /// http: text the body must contain; `Some(None)` clears it.
    pub body_contains: Option<Option<String>>,
    /// http, tcp, udp: timeout, ms.
    pub timeout_ms: Option<u32>,
    /// dns: resolver IPs (empty: the agent's /etc/resolv.conf).
    pub resolvers: Option<Vec<String>>,
    /// dns: `A`, `AAAA`.
    pub record_types: Option<Vec<String>>,
    /// dns: NXDOMAIN and NODATA count as ok.
    pub expect_any: Option<bool>,
    /// dns: queries per resolver and record type.
    pub queries: Option<u32>,
    /// udp: `dns`, `ntp` or `hex:<bytes>`.
    pub payload: Option<String>,
}

/// The domain's names of the parameter fields (errors about them are reported as
/// `params.<name>`).
const PARAM_FIELDS: [&str; 13] = [
    "count",
    "loss_warn_pct",
    "rtt_warn_ms",
    "method",
    "accepted",
    "max_response_ms",
    "body_contains",
    "timeout_ms",
    "resolvers",
    "record_types",
    "expect_any",
    "queries",
    "payload",
];

/// A domain error about a parameter, named as the edges name it (`params.<field>`).
pub fn params_field(mut e: InvalidValue) -> InvalidValue {
    if PARAM_FIELDS.contains(&e.field) || e.field == "payload" {
        e.field = match e.field {
            "count" => "params.count",
            "loss_warn_pct" => "params.loss_warn_pct",
            "rtt_warn_ms" => "params.rtt_warn_ms",
            "method" => "params.method",
            "accepted" => "params.accepted",
            "max_response_ms" => "params.max_response_ms",
            "body_contains" => "params.body_contains",
            "timeout_ms" => "params.timeout_ms",
            "resolvers" => "params.resolvers",
            "record_types" => "params.record_types",
            "expect_any" => "params.expect_any",
            "queries" => "params.queries",
            _ => "params.payload",
        };
    }
    e
}

fn small(field: &'static str, v: u32) -> Result<u8, AppError> {
    u8::try_from(v).map_err(|_| AppError::invalid(field, format!("is too large (got {v})")))
}

/// Reads `200-399` or `204`.
fn status_range(i: usize, text: &str) -> Result<(u16, u16), AppError> {
    let field = format!("params.accepted[{i}]");
    let bad = || {
        AppError::invalid(
            field.clone(),
            format!("must be a status or a range like 200-399 (got {text:?})"),
        )
    };
    let (lo, hi) = text
        .trim()
        .split_once('-')
        .unwrap_or((text.trim(), text.trim()));
    let lo: u16 = lo.trim().parse().map_err(|_| bad())?;
    let hi: u16 = hi.trim().parse().map_err(|_| bad())?;
    Ok((lo, hi))
}

/// Rejects the first given field that the kind has no use for.
fn only(kind: CheckKind, input: &ParamsInput) -> Result<(), AppError> {
    let given = [
        ("count", input.count.is_some(), &[CheckKind::Icmp][..]),
        (
            "loss_warn_pct",
            input.loss_warn_pct.is_some(),
            &[CheckKind::Icmp],
        ),
        (
            "rtt_warn_ms",
            input.rtt_warn_ms.is_some(),
            &[CheckKind::Icmp],
        ),
        ("method", input.method.is_some(), &[CheckKind::Http]),
        ("accepted", input.accepted.is_some(), &[CheckKind::Http]),
        (
            "max_response_ms",
            input.max_response_ms.is_some(),
            &[CheckKind::Http],
        ),
        (
            "body_contains",
            input.body_contains.is_some(),
            &[CheckKind::Http],
        ),
        (
            "timeout_ms",
            input.timeout_ms.is_some(),
            &[CheckKind::Http, CheckKind::Tcp, CheckKind::Udp],
        ),
        ("resolvers", input.resolvers.is_some(), &[CheckKind::Dns]),
        (
            "record_types",
            input.record_types.is_some(),
            &[CheckKind::Dns],
        ),
        ("expect_any", input.expect_any.is_some(), &[CheckKind::Dns]),
        ("queries", input.queries.is_some(), &[CheckKind::Dns]),
        ("payload", input.payload.is_some(), &[CheckKind::Udp]),
    ];
    for (field, set, kinds) in given {
        if set && !kinds.contains(&kind) {
            return Err(AppError::invalid(
                format!("params.{field}"),
                format!("is not a parameter of a {kind} check"),
            ));
        }
    }
    Ok(())
}

/// Merges `input` onto `base` (the stored parameters, or the kind's defaults).
pub fn apply_params(
    kind: CheckKind,
    base: CheckParams,
    input: ParamsInput,
) -> Result<CheckParams, AppError> {
    only(kind, &input)?;
    let base = if base.kind() == kind {
        base
    } else {
        CheckParams::default_for(kind)
    };
    Ok(match base {
        CheckParams::Icmp {
            count,
            loss_warn_pct,
            rtt_warn_ms,
        } => CheckParams::Icmp {
            count: input
                .count
                .map(|c| small("params.count", c))
                .transpose()?
                .unwrap_or(count),
            loss_warn_pct: input.loss_warn_pct.unwrap_or(loss_warn_pct),
            rtt_warn_ms: input.rtt_warn_ms.unwrap_or(rtt_warn_ms),
        },
        CheckParams::Http {
            method_head,
            accepted,
            max_response_ms,
            body_contains,
            timeout_ms,
        } => CheckParams::Http {
            method_head: match input
                .method
                .as_deref()
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                None => method_head,
                Some("GET") => false,
                Some("HEAD") => true,
                Some(other) => {
                    return Err(AppError::invalid(
                        "params.method",
                        format!("must be GET or HEAD (got {other:?})"),
                    ));
                }
            },
            accepted: match input.accepted {
                None => accepted,
                Some(list) => list
                    .iter()
                    .enumerate()
                    .map(|(i, t)| status_range(i, t))
                    .collect::<Result<_, _>>()?,
            },
            max_response_ms: input.max_response_ms.unwrap_or(max_response_ms),
            body_contains: input.body_contains.unwrap_or(body_contains),
            timeout_ms: input.timeout_ms.unwrap_or(timeout_ms),
        },
        CheckParams::Dns {
            resolvers,
            record_types,
            expect_any,
            queries,
        } => CheckParams::Dns {
            resolvers: input.resolvers.unwrap_or(resolvers),
            record_types: match input.record_types {
                None => record_types,
                Some(list) => list
                    .iter()
                    .map(|t| RecordType::parse(t).map_err(params_field))
                    .collect::<Result<_, _>>()?,
            },
            expect_any: input.expect_any.unwrap_or(expect_any),
            queries: input
                .queries
                .map(|q| small("params.queries", q))
                .transpose()?
                .unwrap_or(queries),
        },
        CheckParams::Tcp { timeout_ms } => CheckParams::Tcp {
            timeout_ms: input.timeout_ms.unwrap_or(timeout_ms),
        },
        CheckParams::Udp {
            payload,
            timeout_ms,
        } => CheckParams::Udp {
            payload: match input.payload {
                None => payload,
                Some(p) => UdpPayload::parse(&p).map_err(params_field)?,
            },
            timeout_ms: input.timeout_ms.unwrap_or(timeout_ms),
        },
    })
}
