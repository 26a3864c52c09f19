//! The JSON shapes of checks, check results and summaries (REST API and `netpulse check
//! --json`), and conversions from the domain.

use std::collections::BTreeMap;

use netpulse_adapters::wire_checks::DueChecksBody;
use netpulse_domain::check::{CheckMeasurement, CheckParams};
use netpulse_ports::check_store::{Check, CheckSummary, Figures};
use poem_openapi::Object;

/// The parameters of a check; only those of its kind are present (`null` in a request is the
/// same as leaving the key out: the default).
#[derive(Debug, Clone, Default, Object)]
#[oai(rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct CheckParamsDto {
    /// icmp: echoes per round (1–20, default 5).
    #[oai(nullable)]
    pub count: Option<u32>,
    /// icmp: loss (percent) at or above which an ok result is flagged degraded (default 20).
    #[oai(nullable)]
    pub loss_warn_pct: Option<f64>,
    /// icmp: median RTT (ms) above which an ok result is flagged degraded.
    #[oai(nullable)]
    pub rtt_warn_ms: Option<f64>,
    /// http: `GET` (default) or `HEAD`.
    #[oai(nullable)]
    pub method: Option<String>,
    /// http: accepted statuses as ranges, e.g. `["200-399"]` (the default).
    #[oai(nullable)]
    pub accepted: Option<Vec<String>>,
    /// http: a slower response fails with `condition`, ms.
    #[oai(nullable)]
    pub max_response_ms: Option<u32>,
    /// http: the first 64 KiB of the body must contain this text (≤ 256 characters).
    #[oai(nullable)]
    pub body_contains: Option<String>,
    /// http, tcp, udp: timeout, ms (http 10000, tcp and udp 2000 by default).
    #[oai(nullable)]
    pub timeout_ms: Option<u32>,
    /// dns: resolver IP addresses (empty: the agent's /etc/resolv.conf).
    #[oai(nullable)]
    pub resolvers: Option<Vec<String>>,
    /// dns: record types, `A` and/or `AAAA` (default both).
    #[oai(nullable)]
    pub record_types: Option<Vec<String>>,
    /// dns: NXDOMAIN and NODATA count as ok.
    #[oai(nullable)]
    pub expect_any: Option<bool>,
    /// dns: queries per resolver and record type (1–10, default 3).
    #[oai(nullable)]
    pub queries: Option<u32>,
    /// udp: `dns` (default), `ntp` or `hex:<bytes>`.
    #[oai(nullable)]
    pub payload: Option<String>,
}

impl From<&CheckParams> for CheckParamsDto {
    fn from(p: &CheckParams) -> Self {
        let none = Self::default();
        match p {
            CheckParams::Icmp {
                count,
                loss_warn_pct,
                rtt_warn_ms,
            } => Self {
                count: Some(u32::from(*count)),
                loss_warn_pct: Some(*loss_warn_pct),
                rtt_warn_ms: *rtt_warn_ms,
                ..none
            },
            CheckParams::Http {
                method_head,
                accepted,
                max_response_ms,
                body_contains,
                timeout_ms,
            } => Self {
                method: Some(if *method_head { "HEAD" } else { "GET" }.into()),
                accepted: Some(
                    accepted
                        .iter()
                        .map(|(a, b)| {
                            if a == b {
                                a.to_string()
                            } else {
                                format!("{a}-{b}")
                            }
                        })
                        .collect(),
                ),
                max_response_ms: *max_response_ms,
                body_contains: body_contains.clone(),
                timeout_ms: Some(*timeout_ms),
                ..none
            },
            CheckParams::Dns {
                resolvers,
                record_types,
                expect_any,
                queries,
            } => Self {
                resolvers: Some(resolvers.clone()),
                record_types: Some(record_types.iter().map(|r| r.as_str().into()).collect()),
                expect_any: Some(*expect_any),
                queries: Some(u32::from(*queries)),
                ..none
            },
            CheckParams::Tcp { timeout_ms } => Self {
                timeout_ms: Some(*timeout_ms),
                ..none
            },
            CheckParams::Udp {
                payload,
                timeout_ms,
            } => Self {
                payload: Some(payload.to_string()),
                timeout_ms: Some(*timeout_ms),
                ..none
            },
        }
    }
}

/// A connectivity check.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct CheckDto {
    /// Its id.
    pub id: String,
    /// The probe that runs it.
    pub probe_id: String,
    /// `icmp`, `http`, `dns`, `tcp` or `udp`.
    pub kind: String,
    /// Host or IP literal; an `http(s)://` URL for http; the name for dns.
    pub target: String,
    /// The port (tcp and udp).
    pub port: Option<u16>,
    /// `dual` (a v4 and a v6 result per round), `v4` or `v6`.
    pub family: String,
    /// `connectivity` (feeds outages) or `service` (its own alerts).
    pub role: String,
    /// Seconds between runs (10–3600).
    pub interval_seconds: u32,
    /// The kind's parameters and thresholds.
    pub params: CheckParamsDto,
    /// Service checks: failing rounds in a row that alert (null: the default 3).
    pub alert_after: Option<u32>,
    /// Service checks: good rounds in a row that recover (null: the default 2).
    pub recover_after: Option<u32>,
    /// Whether the probe runs it.
    pub enabled: bool,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<&Check> for CheckDto {
    fn from(c: &Check) -> Self {
        Self {
            id: c.id.to_string(),
            probe_id: c.probe_id.to_string(),
            kind: c.spec.kind.as_str().into(),
            target: c.spec.target.clone(),
            port: c.spec.port,
            family: c.spec.family.as_str().into(),
            role: c.spec.role.as_str().into(),
            interval_seconds: c.spec.interval_s,
            params: (&c.spec.params).into(),
            alert_after: c.alerts.map(|a| a.unhealthy_count()),
            recover_after: c.alerts.map(|a| a.healthy_count()),
            enabled: c.enabled,
            labels: c
                .labels
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
        }
    }
}

/// Checks.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct CheckListDto {
    /// The checks, by probe and creation time.
    pub items: Vec<CheckDto>,
}

/// One result of one check for one family in one round (the agent pushes this shape).
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct CheckResultDto {
    /// The check.
    pub check_id: String,
    /// The round's scheduled time (RFC 3339, milliseconds).
    pub round_at: String,
    /// `v4` or `v6`.
    pub family: String,
    /// The address used (IP literal).
    #[oai(nullable)]
    pub address: Option<String>,
    /// `ok`, `fail`, `not_applicable` or `local_error`.
    pub outcome: String,
    /// `timeout`, `refused`, `unreachable`, `no_route`, `no_address`, `permission`, `dns`, `tls`, `http_status`, `condition` or `protocol`.
    #[oai(nullable)]
    pub failure_class: Option<String>,
    /// Why it is not ok (≤ 200 characters); null when ok.
    #[oai(nullable)]
    pub message: Option<String>,
    /// ICMP median RTT, HTTP total, DNS median, TCP connect, UDP RTT; ms.
    #[oai(nullable)]
    pub latency_ms: Option<f64>,
    /// ICMP loss, percent.
    #[oai(nullable)]
    pub loss_pct: Option<f64>,
    /// ICMP jitter (mean |Δ| of consecutive RTTs), ms.
    #[oai(nullable)]
    pub jitter_ms: Option<f64>,
    /// ICMP smallest RTT, ms.
    #[oai(nullable)]
    pub rtt_min_ms: Option<f64>,
    /// ICMP largest RTT, ms.
    #[oai(nullable)]
    pub rtt_max_ms: Option<f64>,
    /// ICMP sample standard deviation of the RTTs, ms.
    #[oai(nullable)]
    pub rtt_stdev_ms: Option<f64>,
    /// HTTP status.
    #[oai(nullable)]
    pub status: Option<u16>,
    /// HTTP time to the response headers, ms.
    #[oai(nullable)]
    pub ttfb_ms: Option<f64>,
    /// `open`, `closed`, `filtered`, `open_filtered`, `unreachable` or `no_route` (tcp, udp).
    #[oai(nullable)]
    pub port_state: Option<String>,
    /// `excellent`, `good`, `slow`, `critical` or `failed` (dns).
    #[oai(nullable)]
    pub dns_rating: Option<String>,
    /// DNS: what each resolver answered for each record type (at most 16 entries; may be left
    /// out, as older agents do).
    #[oai(default, skip_serializing_if_is_empty, nullable)]
    pub dns_resolvers: Vec<DnsResolverDto>,
    /// Taken while the agent ran a speed test.
    pub during_speed_test: bool,
    /// Taken within the agent's 30 s grace after its host resumed from a suspend (failures in
    /// such a round count as unknown for outages). May be left out (or null) when false.
    #[oai(default, nullable)]
    pub after_resume: bool,
    /// Ok but past a warning threshold, or unverified.
    pub degraded: bool,
}

/// What one resolver answered for one record type in a round.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct DnsResolverDto {
    /// The resolver's address (IP literal).
    pub resolver: String,
    /// `A` or `AAAA`.
    pub record_type: String,
    /// Queries sent (1–10).
    pub sent: u8,
    /// Queries that succeeded.
    pub succeeded: u8,
    /// The median of the successful queries, ms; null when none succeeded.
    #[oai(nullable)]
    pub median_ms: Option<f64>,
}

impl From<&CheckMeasurement> for CheckResultDto {
    fn from(m: &CheckMeasurement) -> Self {
        Self {
            check_id: m.check_id.to_string(),
            round_at: m.round_at.to_rfc3339(),
            family: m.family.as_str().into(),
            address: m.address.clone(),
            outcome: m.outcome.as_str().into(),
            failure_class: m.failure_class.map(|c| c.as_str().into()),
            message: m.message.clone(),
            latency_ms: m.latency_ms,
            loss_pct: m.loss_pct,
            jitter_ms: m.jitter_ms,
            rtt_min_ms: m.rtt_min_ms,
            rtt_max_ms: m.rtt_max_ms,
            rtt_stdev_ms: m.rtt_stdev_ms,
            status: m.status,
            ttfb_ms: m.ttfb_ms,
            port_state: m.port_state.map(|p| p.as_str().into()),
            dns_rating: m.dns_rating.map(|r| r.as_str().into()),
            dns_resolvers: m
                .dns_resolvers
                .iter()
                .map(|f| DnsResolverDto {
                    resolver: f.resolver.clone(),
                    record_type: f.record_type.as_str().into(),
                    sent: f.sent,
                    succeeded: f.succeeded,
                    median_ms: f.median_ms,
                })
                .collect(),
            during_speed_test: m.during_speed_test,
            after_resume: m.after_resume,
            degraded: m.degraded,
        }
    }
}

/// A page of check results.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct CheckResultPageDto {
    /// Newest round first, then check, then family.
    pub items: Vec<CheckResultDto>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Figures of a set of results.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct FiguresDto {
    /// Results.
    pub count: u64,
    /// `ok` results.
    pub ok: u64,
    /// `fail` results.
    pub failed: u64,
    /// `not_applicable` results (no address or route for the family: not failures).
    pub not_applicable: u64,
    /// `local_error` results (the agent could not measure).
    pub local_error: u64,
    /// ok / (ok + failed); null without either.
    pub success_ratio: Option<f64>,
    /// Median latency of the ok results, ms (nearest rank).
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile latency of the ok results, ms (nearest rank).
    pub latency_p95_ms: Option<f64>,
    /// Mean loss of the results that report loss, percent.
    pub loss_mean_pct: Option<f64>,
}

impl From<&Figures> for FiguresDto {
    fn from(f: &Figures) -> Self {
        Self {
            count: f.count,
            ok: f.ok,
            failed: f.failed,
            not_applicable: f.not_applicable,
            local_error: f.local_error,
            success_ratio: f.success_ratio,
            latency_p50_ms: f.latency_p50_ms,
            latency_p95_ms: f.latency_p95_ms,
            loss_mean_pct: f.loss_mean_pct,
        }
    }
}

/// The figures of one family.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct FamilyFiguresDto {
    /// `v4` or `v6`.
    pub family: String,
    /// Its figures.
    pub figures: FiguresDto,
}

/// A check's summary over a window.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct CheckSummaryDto {
    /// The check.
    pub check_id: String,
    /// The window's start (RFC 3339).
    pub since: String,
    /// The window's end, exclusive (RFC 3339).
    pub until: String,
    /// Both families together.
    pub all: FiguresDto,
    /// Per family that has results.
    pub families: Vec<FamilyFiguresDto>,
}

impl From<&CheckSummary> for CheckSummaryDto {
    fn from(s: &CheckSummary) -> Self {
        Self {
            check_id: s.check_id.to_string(),
            since: s.since.to_rfc3339(),
            until: s.until.to_rfc3339(),
            all: (&s.all).into(),
            families: s
                .families
                .iter()
                .map(|(f, fig)| FamilyFiguresDto {
                    family: f.as_str().into(),
                    figures: fig.into(),
                })
                .collect(),
        }
    }
}

/// One check of a probe's set, as the agent receives it in `/due`.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct DueCheckDto {
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
    /// The kind's parameters (the wire shape of `netpulse_adapters::wire_checks`).
    pub params: serde_json::Value,
}

/// The `checks` field of `/due`: the probe's enabled checks and the set's version.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct DueChecksDto {
    /// The set's version (ETag); send it back as `checksVersion`.
    pub version: String,
    /// Seconds between two rounds.
    pub period_seconds: u32,
    /// The agent's `checksVersion` is current: `items` is empty, keep the set.
    pub unchanged: bool,
    /// The checks.
    pub items: Vec<DueCheckDto>,
}

impl From<DueChecksBody> for DueChecksDto {
    fn from(b: DueChecksBody) -> Self {
        Self {
            version: b.version,
            period_seconds: b.period_seconds,
            unchanged: b.unchanged,
            items: b
                .items
                .into_iter()
                .map(|c| DueCheckDto {
                    id: c.id,
                    kind: c.kind,
                    target: c.target,
                    port: c.port,
                    family: c.family,
                    role: c.role,
                    interval_seconds: c.interval_seconds,
                    params: c.params,
                })
                .collect(),
        }
    }
}
