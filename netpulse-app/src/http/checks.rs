//! Connectivity checks over HTTP: the REST endpoints (`/api/v1/checks`, `/api/v1/check-results`,
//! API token or session) and the agent's batch push (`/api/v1/probes/{id}/check-results`, probe
//! token checked before the body is read, 4 MiB and 5,000 results at most).

use netpulse_adapters::wire::InvalidField;
use netpulse_adapters::wire_checks::{
    CheckResultBody, DnsResolverBody, DueChecksBody, MAX_CHECK_RESULTS_BODY_BYTES,
};
use netpulse_domain::check::{CheckMeasurement, Family, MAX_DNS_RESOLVER_FIGURES};
use netpulse_domain::id::CheckId;
use netpulse_ports::check_store::CheckResultFilter;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde_json::Value;

use super::agent::{ProbeToken, parse_probe_id};
use super::auth::RestAuth;
use super::payload::{BodyError, DeferredJsonBody, Fields, JsonBody};
use super::problem::{ApiError, Problem};
use super::rest::{Created, NoContent};
use crate::check_dto::{
    CheckDto, CheckListDto, CheckParamsDto, CheckResultDto, CheckResultPageDto, CheckSummaryDto,
    DueChecksDto,
};
use crate::error::AppError;
use crate::service::check_params::ParamsInput;
use crate::service::check_results::{self, MAX_BATCH};
use crate::service::checks::{self, CheckInput};
use crate::service::{App, probes};

#[derive(Tags)]
enum Tag {
    /// Connectivity checks (ICMP, HTTP, DNS, TCP, UDP) and their results.
    Checks,
    /// Endpoints agents call with their probe token.
    Agent,
}

/// Check settings (create: `probeId`, `kind` and `target` required; update: omitted keys keep
/// their value, `probeId` and `kind` cannot change).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct CheckInputDto {
    /// The probe that runs it (create only).
    pub probe_id: Option<String>,
    /// `icmp`, `http`, `dns`, `tcp` or `udp` (create only).
    pub kind: Option<String>,
    /// Host or IP literal; an `http(s)://` URL for http; the name for dns.
    pub target: Option<String>,
    /// The port (tcp and udp; required there).
    pub port: Option<u16>,
    /// `dual` (default), `v4` or `v6`.
    pub family: Option<String>,
    /// `service` (default) or `connectivity`.
    pub role: Option<String>,
    /// Seconds between runs (10–3600, default 60).
    pub interval_seconds: Option<u32>,
    /// The kind's parameters (merged onto the current or default ones).
    pub params: Option<CheckParamsDto>,
    /// Service checks: failing rounds that alert (null: the default 3).
    pub alert_after: Option<u32>,
    /// Service checks: good rounds that recover (null: the default 2).
    pub recover_after: Option<u32>,
    /// Whether the probe runs it (default true).
    pub enabled: Option<bool>,
    /// Labels (replace all when given).
    pub labels: Option<std::collections::BTreeMap<String, String>>,
}

/// A batch of check results.
#[derive(Debug, Object)]
pub struct CheckResultsPushDto {
    /// At most 5,000 results.
    pub results: Vec<CheckResultDto>,
}

/// How the server took a batch.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct CheckResultsAnswerDto {
    /// Stored now.
    pub recorded: u32,
    /// Stored before (same check, family and round): nothing changed.
    pub duplicates: u32,
    /// Dropped: their check no longer exists (the set changed while they were spooled).
    pub unknown_checks: u32,
}

/// Answers of the batch push.
#[derive(Debug, ApiResponse)]
pub enum CheckResultsResponse {
    /// Taken (each result stored once).
    #[oai(status = 200)]
    Taken(Json<CheckResultsAnswerDto>),
    /// The body is larger than 4 MiB (`payload_too_large`).
    #[oai(status = 413)]
    TooLarge(Json<Problem>),
}

/// The check endpoints.
#[derive(Debug)]
pub struct ChecksApi {
    /// The services.
    pub app: App,
}

fn check_id(text: &str) -> Result<CheckId, ApiError> {
    CheckId::parse(text).map_err(|e| AppError::invalid("checkId", e.to_string()).into())
}

/// Renames the field of an input error to `<prefix><field>`.
fn within(prefix: &str, e: AppError) -> AppError {
    match e {
        AppError::Invalid { field, message } => {
            AppError::invalid(format!("{prefix}{field}"), message)
        }
        other => other,
    }
}

fn params_input(value: Option<&Value>) -> Result<ParamsInput, AppError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(ParamsInput::default());
    };
    let f = Fields::of(value).map_err(|e| within("params.", e))?;
    let read = || -> Result<ParamsInput, AppError> {
        f.only(&[
            "count",
            "lossWarnPct",
            "rttWarnMs",
            "method",
            "accepted",
            "maxResponseMs",
            "bodyContains",
            "timeoutMs",
            "resolvers",
            "recordTypes",
            "expectAny",
            "queries",
            "payload",
        ])?;
        Ok(ParamsInput {
            count: f.opt_u32("count")?,
            loss_warn_pct: f.opt_f64("lossWarnPct")?,
            rtt_warn_ms: f.cap("rttWarnMs")?,
            method: f.opt_string("method")?.map(str::to_owned),
            accepted: f.opt_strings("accepted")?,
            max_response_ms: f.nullable_u32("maxResponseMs")?,
            body_contains: f.nullable_string("bodyContains")?,
            timeout_ms: f.opt_u32("timeoutMs")?,
            resolvers: f.opt_strings("resolvers")?,
            record_types: f.opt_strings("recordTypes")?,
            expect_any: f.opt_bool("expectAny")?,
            queries: f.opt_u32("queries")?,
            payload: f.opt_string("payload")?.map(str::to_owned),
        })
    };
    read().map_err(|e| within("params.", e))
}

/// Reads check settings from JSON with field-named errors.
fn check_input(f: &Fields<'_>) -> Result<CheckInput, AppError> {
    f.only(&[
        "probeId",
        "kind",
        "target",
        "port",
        "family",
        "role",
        "intervalSeconds",
        "params",
        "alertAfter",
        "recoverAfter",
        "enabled",
        "labels",
    ])?;
    Ok(CheckInput {
        kind: f.opt_string("kind")?.map(str::to_owned),
        target: f.opt_string("target")?.map(str::to_owned),
        port: f.nullable_u32("port")?,
        family: f.opt_string("family")?.map(str::to_owned),
        role: f.opt_string("role")?.map(str::to_owned),
        interval_seconds: f.opt_u32("intervalSeconds")?,
        params: params_input(f.raw("params"))?,
        alert_after: f.nullable_u32("alertAfter")?,
        recover_after: f.nullable_u32("recoverAfter")?,
        enabled: f.opt_bool("enabled")?,
        labels: f.opt_labels("labels")?,
    })
}

fn opt_f64(f: &Fields<'_>, key: &str) -> Result<Option<f64>, AppError> {
    f.opt_f64(key)
}

/// One pushed result: types first (each error names its field), then the values by the wire
/// contract. Unknown keys are ignored (a newer agent may send more).
fn check_result(f: &Fields<'_>) -> Result<CheckMeasurement, AppError> {
    let body = CheckResultBody {
        check_id: f.string("checkId")?.to_owned(),
        round_at: f.string("roundAt")?.to_owned(),
        family: f.string("family")?.to_owned(),
        address: f.opt_string("address")?.map(str::to_owned),
        outcome: f.string("outcome")?.to_owned(),
        failure_class: f.opt_string("failureClass")?.map(str::to_owned),
        message: f.opt_string("message")?.map(str::to_owned),
        latency_ms: opt_f64(f, "latencyMs")?,
        loss_pct: opt_f64(f, "lossPct")?,
        jitter_ms: opt_f64(f, "jitterMs")?,
        rtt_min_ms: opt_f64(f, "rttMinMs")?,
        rtt_max_ms: opt_f64(f, "rttMaxMs")?,
        rtt_stdev_ms: opt_f64(f, "rttStdevMs")?,
        status: f
            .opt_u64("status")?
            .map(|s| {
                u16::try_from(s)
                    .map_err(|_| AppError::invalid("status", format!("is out of range (got {s})")))
            })
            .transpose()?,
        ttfb_ms: opt_f64(f, "ttfbMs")?,
        port_state: f.opt_string("portState")?.map(str::to_owned),
        dns_rating: f.opt_string("dnsRating")?.map(str::to_owned),
        dns_resolvers: dns_resolvers(f)?,
        during_speed_test: f.opt_bool("duringSpeedTest")?.unwrap_or(false),
        after_resume: f.opt_bool("afterResume")?.unwrap_or(false),
        degraded: f.opt_bool("degraded")?.unwrap_or(false),
    };
    CheckMeasurement::try_from(body)
        .map_err(|InvalidField { field, reason, .. }| AppError::invalid(field, reason))
}

/// The per-resolver figures of a DNS result (absent from older agents).
fn dns_resolvers(f: &Fields<'_>) -> Result<Vec<DnsResolverBody>, AppError> {
    const FIELD: &str = "dnsResolvers";
    match f.raw(FIELD) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() > MAX_DNS_RESOLVER_FIGURES => {
            Err(AppError::invalid(
                FIELD,
                format!("must have at most {MAX_DNS_RESOLVER_FIGURES} entries"),
            ))
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::from_value(item.clone())
                    .map_err(|e| AppError::invalid(FIELD, format!("entry {i}: {e}")))
            })
            .collect(),
        Some(_) => Err(AppError::invalid(FIELD, "must be an array")),
    }
}

/// Reads a batch; errors name `results[i].<field>`.
fn check_results_of(value: &Value) -> Result<Vec<CheckMeasurement>, AppError> {
    let f = Fields::of(value)?;
    f.only(&["results"])?;
    let items = match f.raw("results") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Err(AppError::invalid("results", "is required")),
        Some(_) => return Err(AppError::invalid("results", "must be an array")),
    };
    if items.len() > MAX_BATCH {
        return Err(AppError::invalid(
            "results",
            format!(
                "must hold at most {MAX_BATCH} results (got {})",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let prefix = format!("results[{i}].");
            Fields::of(item)
                .and_then(|f| check_result(&f))
                .map_err(|e| within(&prefix, e))
        })
        .collect()
}

fn time_param(
    field: &str,
    text: Option<&str>,
) -> Result<Option<netpulse_domain::Timestamp>, AppError> {
    text.map(|t| {
        netpulse_domain::Timestamp::parse_rfc3339(t)
            .map_err(|e| AppError::invalid(field, e.to_string()))
    })
    .transpose()
}

/// The `checks` field of `/due` for `probe` (`known`: the agent's `checksVersion`).
pub(crate) async fn due_checks(
    app: &App,
    probe: &netpulse_domain::id::ProbeId,
    known: Option<&str>,
) -> Result<DueChecksDto, AppError> {
    let set = checks::check_set(app, probe, known).await?;
    Ok(DueChecksBody::new(&set).into())
}

#[OpenApi(prefix_path = "/v1")]
impl ChecksApi {
    /// Every check, or one probe's.
    #[oai(path = "/checks", method = "get", tag = "Tag::Checks")]
    async fn list_checks(
        &self,
        _auth: RestAuth,
        /// Only this probe's.
        probe: Query<Option<String>>,
    ) -> Result<Json<CheckListDto>, ApiError> {
        let probe = probe.0.as_deref().map(parse_probe_id).transpose()?;
        let list = checks::list(&self.app, probe.as_ref()).await?;
        Ok(Json(CheckListDto {
            items: list.iter().map(Into::into).collect(),
        }))
    }

    /// Creates a check (`probeId`, `kind` and `target` required).
    #[oai(path = "/checks", method = "post", tag = "Tag::Checks")]
    async fn create_check(
        &self,
        _auth: RestAuth,
        body: JsonBody<CheckInputDto>,
    ) -> Result<Created<CheckDto>, ApiError> {
        let f = Fields::of(&body.value)?;
        let probe = parse_probe_id(f.string("probeId")?)?;
        let input = check_input(&f)?;
        probes::get(&self.app, &probe)
            .await
            .map_err(|_| AppError::invalid("probeId", format!("probe {probe} does not exist")))?;
        let c = checks::create(&self.app, &probe, input).await?;
        Ok(Created::Created(Json((&c).into())))
    }

    /// One check.
    #[oai(path = "/checks/:check_id", method = "get", tag = "Tag::Checks")]
    async fn get_check(
        &self,
        _auth: RestAuth,
        check_id: Path<String>,
    ) -> Result<Json<CheckDto>, ApiError> {
        let id = self::check_id(&check_id)?;
        Ok(Json((&checks::get(&self.app, &id).await?).into()))
    }

    /// Changes some settings of a check (omitted keys keep their value).
    #[oai(path = "/checks/:check_id", method = "patch", tag = "Tag::Checks")]
    async fn patch_check(
        &self,
        _auth: RestAuth,
        check_id: Path<String>,
        body: JsonBody<CheckInputDto>,
    ) -> Result<Json<CheckDto>, ApiError> {
        let id = self::check_id(&check_id)?;
        let f = Fields::of(&body.value)?;
        if f.has("probeId") {
            return Err(AppError::invalid(
                "probeId",
                "cannot be changed (a check belongs to one probe)",
            )
            .into());
        }
        let input = check_input(&f)?;
        Ok(Json((&checks::update(&self.app, &id, input).await?).into()))
    }

    /// Deletes a check with its results.
    #[oai(path = "/checks/:check_id", method = "delete", tag = "Tag::Checks")]
    async fn delete_check(
        &self,
        _auth: RestAuth,
        check_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = self::check_id(&check_id)?;
        checks::delete(&self.app, &id).await?;
        Ok(NoContent::Done)
    }

    /// A check's figures over `[since, until)` (default: the last 24 hours; at most 35 days):
    /// counts per outcome, success ratio, latency p50/p95, mean loss; overall and per family.
    #[oai(
        path = "/checks/:check_id/summary",
        method = "get",
        tag = "Tag::Checks"
    )]
    async fn check_summary(
        &self,
        _auth: RestAuth,
        check_id: Path<String>,
        /// Rounds at or after (RFC 3339).
        since: Query<Option<String>>,
        /// Rounds before (RFC 3339).
        until: Query<Option<String>>,
    ) -> Result<Json<CheckSummaryDto>, ApiError> {
        let id = self::check_id(&check_id)?;
        let since = time_param("since", since.0.as_deref())?;
        let until = time_param("until", until.0.as_deref())?;
        let s = check_results::summary(&self.app, &id, since, until).await?;
        Ok(Json((&s).into()))
    }

    /// Check results, newest round first, with filters and cursor pagination.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/check-results", method = "get", tag = "Tag::Checks")]
    async fn list_check_results(
        &self,
        _auth: RestAuth,
        /// Only this check's.
        check: Query<Option<String>>,
        /// Only this probe's.
        probe: Query<Option<String>>,
        /// `v4` or `v6`.
        family: Query<Option<String>>,
        /// Rounds at or after (RFC 3339).
        since: Query<Option<String>>,
        /// Rounds before (RFC 3339).
        until: Query<Option<String>>,
        /// 1–1000, default 100.
        limit: Query<Option<u32>>,
        /// The `nextCursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<Json<CheckResultPageDto>, ApiError> {
        let filter = CheckResultFilter {
            check: check
                .0
                .as_deref()
                .map(|c| CheckId::parse(c).map_err(|e| AppError::invalid("check", e.to_string())))
                .transpose()?,
            probe: probe.0.as_deref().map(parse_probe_id).transpose()?,
            family: family
                .0
                .as_deref()
                .map(|f| Family::parse(f).map_err(|e| AppError::invalid("family", e.rule)))
                .transpose()?,
            since: time_param("since", since.0.as_deref())?,
            until: time_param("until", until.0.as_deref())?,
        };
        let page = check_results::list(
            &self.app,
            &filter,
            limit.0.unwrap_or(100),
            cursor.0.as_deref(),
        )
        .await?;
        Ok(Json(CheckResultPageDto {
            items: page.items.iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// Pushes a batch of check results (at most 5,000; body at most 4 MiB, else 413). Each
    /// result is stored once per check, family and round (a replayed spool is answered as
    /// duplicates); results of checks the probe no longer has are counted and dropped. The
    /// token is checked before the body is read.
    #[oai(
        path = "/probes/:probe_id/check-results",
        method = "post",
        tag = "Tag::Agent"
    )]
    async fn push_check_results(
        &self,
        request: &Request,
        probe_id: Path<String>,
        auth: ProbeToken,
        body: DeferredJsonBody<CheckResultsPushDto>,
    ) -> Result<CheckResultsResponse, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        probes::authenticate(&self.app, &id, &auth.0.token).await?;
        let value = match body.read(request, MAX_CHECK_RESULTS_BODY_BYTES).await {
            Ok(value) => value,
            Err(e @ BodyError::TooLarge { .. }) => {
                return Ok(CheckResultsResponse::TooLarge(e.problem()));
            }
            Err(e) => return Err(e.into()),
        };
        let results = check_results_of(&value)?;
        let out = check_results::ingest(&self.app, &id, results).await?;
        let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(CheckResultsResponse::Taken(Json(CheckResultsAnswerDto {
            recorded: n(out.recorded),
            duplicates: n(out.duplicates),
            unknown_checks: n(out.unknown_checks),
        })))
    }
}
