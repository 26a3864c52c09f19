//! The kind parameters of a check on the wire (`params` of a `CheckBody`): one typed body per
//! kind; a missing parameter reads as the domain default.

use netpulse_domain::check::{CheckKind, CheckParams, RecordType, UdpPayload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{field_error, invalid_field};
use crate::wire::InvalidField;

/// `params` of an `icmp` check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IcmpParamsBody {
    /// Echoes per round (1–20, default 5).
    pub count: u8,
    /// Loss percentage that flags a result degraded (default 20).
    pub loss_warn_pct: f64,
    /// Median RTT that flags a result degraded, ms.
    pub rtt_warn_ms: Option<f64>,
}

/// An inclusive range of HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRangeBody {
    /// Lowest accepted status.
    pub min: u16,
    /// Highest accepted status.
    pub max: u16,
}

/// `params` of an `http` check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpParamsBody {
    /// `GET` (default) or `HEAD`.
    pub method: String,
    /// Accepted statuses (default `[{"min":200,"max":399}]`).
    pub accepted: Vec<StatusRangeBody>,
    /// A slower response fails with `condition`, ms.
    pub max_response_ms: Option<u32>,
    /// The body must contain this text.
    pub body_contains: Option<String>,
    /// Timeout of the request, ms (default 10000).
    pub timeout_ms: u32,
}

/// `params` of a `dns` check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DnsParamsBody {
    /// Resolver IPs; empty: those of the agent's `/etc/resolv.conf`.
    pub resolvers: Vec<String>,
    /// `A`, `AAAA` (default both).
    pub record_types: Vec<String>,
    /// NXDOMAIN and NODATA count as ok.
    pub expect_any: bool,
    /// Queries per resolver and type (default 3).
    pub queries: u8,
}

/// `params` of a `tcp` check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TcpParamsBody {
    /// Connect timeout, ms (default 2000).
    pub timeout_ms: u32,
}

/// `params` of a `udp` check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UdpParamsBody {
    /// `dns` (default), `ntp` or `hex:<bytes>`.
    pub payload: String,
    /// Reply timeout, ms (default 2000).
    pub timeout_ms: u32,
}

impl Default for IcmpParamsBody {
    fn default() -> Self {
        Self::from_domain(&CheckParams::default_for(CheckKind::Icmp))
    }
}

impl IcmpParamsBody {
    fn from_domain(params: &CheckParams) -> Self {
        match params {
            CheckParams::Icmp {
                count,
                loss_warn_pct,
                rtt_warn_ms,
            } => Self {
                count: *count,
                loss_warn_pct: *loss_warn_pct,
                rtt_warn_ms: *rtt_warn_ms,
            },
            _ => Self::default(),
        }
    }
}

impl Default for HttpParamsBody {
    fn default() -> Self {
        Self::from_domain(&CheckParams::default_for(CheckKind::Http))
    }
}

impl HttpParamsBody {
    fn from_domain(params: &CheckParams) -> Self {
        match params {
            CheckParams::Http {
                method_head,
                accepted,
                max_response_ms,
                body_contains,
                timeout_ms,
            } => Self {
                method: if *method_head { "HEAD" } else { "GET" }.to_owned(),
                accepted: accepted
                    .iter()
                    .map(|&(min, max)| StatusRangeBody { min, max })
                    .collect(),
                max_response_ms: *max_response_ms,
                body_contains: body_contains.clone(),
                timeout_ms: *timeout_ms,
            },
            _ => Self::default(),
        }
    }
}

impl Default for DnsParamsBody {
    fn default() -> Self {
        Self::from_domain(&CheckParams::default_for(CheckKind::Dns))
    }
}

impl DnsParamsBody {
    fn from_domain(params: &CheckParams) -> Self {
        match params {
            CheckParams::Dns {
                resolvers,
                record_types,
                expect_any,
                queries,
            } => Self {
                resolvers: resolvers.clone(),
                record_types: record_types.iter().map(|t| t.as_str().to_owned()).collect(),
                expect_any: *expect_any,
                queries: *queries,
            },
            _ => Self::default(),
        }
    }
}

impl Default for TcpParamsBody {
    fn default() -> Self {
        Self { timeout_ms: 2000 }
    }
}

impl Default for UdpParamsBody {
    fn default() -> Self {
        Self {
            payload: "dns".to_owned(),
            timeout_ms: 2000,
        }
    }
}

/// The `params` object of a check's parameters.
pub fn params_json(params: &CheckParams) -> Value {
    let value = match params {
        CheckParams::Icmp { .. } => serde_json::to_value(IcmpParamsBody::from_domain(params)),
        CheckParams::Http { .. } => serde_json::to_value(HttpParamsBody::from_domain(params)),
        CheckParams::Dns { .. } => serde_json::to_value(DnsParamsBody::from_domain(params)),
        CheckParams::Tcp { timeout_ms } => serde_json::to_value(TcpParamsBody {
            timeout_ms: *timeout_ms,
        }),
        CheckParams::Udp {
            payload,
            timeout_ms,
        } => serde_json::to_value(UdpParamsBody {
            payload: payload.to_string(),
            timeout_ms: *timeout_ms,
        }),
    };
    value.unwrap_or(Value::Null)
}

pub(crate) fn params_from_json(
    kind: CheckKind,
    params: Value,
) -> Result<CheckParams, InvalidField> {
    let params = if params.is_null() {
        Value::Object(serde_json::Map::new())
    } else {
        params
    };
    let shown = params.to_string().chars().take(100).collect::<String>();
    let shape = |e: serde_json::Error| {
        field_error(
            "params",
            format!("is not the parameters of a {kind} check ({e})"),
            &shown,
        )
    };
    Ok(match kind {
        CheckKind::Icmp => {
            let b: IcmpParamsBody = serde_json::from_value(params).map_err(shape)?;
            CheckParams::Icmp {
                count: b.count,
                loss_warn_pct: b.loss_warn_pct,
                rtt_warn_ms: b.rtt_warn_ms,
            }
        }
        CheckKind::Http => {
            let b: HttpParamsBody = serde_json::from_value(params).map_err(shape)?;
            let method_head = match b.method.to_ascii_uppercase().as_str() {
                "GET" => false,
                "HEAD" => true,
                _ => {
                    return Err(field_error(
                        "params.method",
                        "must be GET or HEAD",
                        &b.method,
                    ));
                }
            };
            CheckParams::Http {
                method_head,
                accepted: b.accepted.iter().map(|r| (r.min, r.max)).collect(),
                max_response_ms: b.max_response_ms,
                body_contains: b.body_contains,
                timeout_ms: b.timeout_ms,
            }
        }
        CheckKind::Dns => {
            let b: DnsParamsBody = serde_json::from_value(params).map_err(shape)?;
            CheckParams::Dns {
                resolvers: b.resolvers.iter().map(|r| r.trim().to_owned()).collect(),
                record_types: b
                    .record_types
                    .iter()
                    .map(|t| RecordType::parse(t))
                    .collect::<Result<_, _>>()
                    .map_err(|e| invalid_field(&e))?,
                expect_any: b.expect_any,
                queries: b.queries,
            }
        }
        CheckKind::Tcp => {
            let b: TcpParamsBody = serde_json::from_value(params).map_err(shape)?;
            CheckParams::Tcp {
                timeout_ms: b.timeout_ms,
            }
        }
        CheckKind::Udp => {
            let b: UdpParamsBody = serde_json::from_value(params).map_err(shape)?;
            CheckParams::Udp {
                payload: UdpPayload::parse(&b.payload).map_err(|e| invalid_field(&e))?,
                timeout_ms: b.timeout_ms,
            }
        }
    })
}
