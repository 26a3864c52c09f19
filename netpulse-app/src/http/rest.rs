//! The REST API (`/api/v1`, bearer API token or dashboard session): probes, connections,
//! measurements, run-now.

use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ResultId};
use netpulse_domain::pool::PoolEntry;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::agent::parse_probe_id;
use super::auth::RestAuth;
use super::payload::{Fields, JsonBody};
use super::problem::ApiError;
use crate::dto::{
    ConnectionDto, ConnectionInputDto, ConnectionListDto, IssuedProbeDto, MeasurementDetailDto,
    MeasurementDto, MeasurementPageDto, NewConnectionDto, ProbeDto, ProbeListDto, TokenDto,
};
use crate::error::AppError;
use crate::service::connections::ConnectionInput;
use crate::service::runs::{self, RunTarget};
use crate::service::{App, connections, measurements, probes};

#[derive(Tags)]
enum Tag {
    /// Probes (agent installations).
    Probes,
    /// Connections (monitored links).
    Connections,
    /// Measurements (recorded tests).
    Measurements,
}

/// Probe creation.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct NewProbeDto {
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: Option<std::collections::BTreeMap<String, String>>,
}

/// Probe changes.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ProbePatchDto {
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A run-now request.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct RunRequestDto {
    /// A pool entry to pin; omitted or null follows the rotation.
    #[oai(nullable)]
    pub pool_entry: Option<String>,
}

/// The state of a connection's latest run-now request.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct RunStateDto {
    /// `idle` (never asked), `queued`, `running`, `done` or `cancelled`.
    pub state: String,
    /// The pinned pool entry.
    pub pool_entry: Option<String>,
    /// When it was requested (RFC 3339).
    pub requested_at: Option<String>,
    /// When its state last changed (RFC 3339).
    pub updated_at: Option<String>,
}

/// Answers that create something.
#[derive(Debug, ApiResponse)]
pub enum Created<T: poem_openapi::types::ToJSON + Send + Sync> {
    /// Created.
    #[oai(status = 201)]
    Created(Json<T>),
}

/// Answers without a body.
#[derive(Debug, ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

/// Answers of run-now requests.
#[derive(Debug, ApiResponse)]
pub enum Accepted {
    /// Queued for the probe's next poll.
    #[oai(status = 202)]
    Queued(Json<RunStateDto>),
}

/// The REST endpoints.
#[derive(Debug)]
pub struct RestApi {
    /// The services.
    pub app: App,
}

fn connection_id(text: &str) -> Result<ConnectionId, ApiError> {
    ConnectionId::parse(text).map_err(|e| AppError::invalid("connectionId", e.to_string()).into())
}

const CONNECTION_KEYS: [&str; 28] = [
    "probeId",
    "name",
    "isp",
    "downloadMbps",
    "uploadMbps",
    "colour",
    "labels",
    "serverPool",
    "schedule",
    "testsPerDay",
    "jitterSeconds",
    "cron",
    "timezone",
    "minDownloadRatio",
    "minUploadRatio",
    "maxPingMs",
    "maxJitterMs",
    "maxPacketLossPercent",
    "baselineDeviationPct",
    "adaptiveIntervalSeconds",
    "recoveryHealthyCount",
    "maxConsecutiveFailures",
    "alertAfter",
    "recoverAfter",
    "sourceInterface",
    "sourceAddress",
    "enabled",
    "id",
];

/// Reads connection settings from JSON with field-named errors.
pub(crate) fn connection_input(f: &Fields<'_>) -> Result<ConnectionInput, AppError> {
    f.only(&CONNECTION_KEYS[..27])?;
    Ok(ConnectionInput {
        name: f.opt_string("name")?.map(str::to_owned),
        isp: f.opt_string("isp")?.map(str::to_owned),
        download_mbps: f.opt_u64("downloadMbps")?,
        upload_mbps: f.opt_u64("uploadMbps")?,
        colour: f.opt_string("colour")?.map(str::to_owned),
        labels: f.opt_labels("labels")?,
        server_pool: f.opt_strings("serverPool")?,
        schedule: f.opt_string("schedule")?.map(str::to_owned),
        tests_per_day: f.opt_u32("testsPerDay")?,
        jitter_seconds: f.opt_u32("jitterSeconds")?,
        cron: f.opt_strings("cron")?,
        timezone: f.opt_string("timezone")?.map(str::to_owned),
        min_download_ratio: f.opt_f64("minDownloadRatio")?,
        min_upload_ratio: f.opt_f64("minUploadRatio")?,
        max_ping_ms: f.cap("maxPingMs")?,
        max_jitter_ms: f.cap("maxJitterMs")?,
        max_packet_loss_percent: f.cap("maxPacketLossPercent")?,
        baseline_deviation_pct: f.opt_f64("baselineDeviationPct")?,
        adaptive_interval_seconds: f.opt_u32("adaptiveIntervalSeconds")?,
        recovery_healthy_count: f.opt_u32("recoveryHealthyCount")?,
        max_consecutive_failures: f.opt_u32("maxConsecutiveFailures")?,
        alert_after: f.nullable_u32("alertAfter")?,
        recover_after: f.nullable_u32("recoverAfter")?,
        source_interface: f.nullable_string("sourceInterface")?,
        source_address: f.nullable_string("sourceAddress")?,
        enabled: f.opt_bool("enabled")?,
    })
}

fn time_param(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    text.map(|t| Timestamp::parse_rfc3339(t).map_err(|e| AppError::invalid(field, e.to_string())))
        .transpose()
}

fn bool_param(
    field: &str,
    text: Option<&str>,
    yes: &str,
    no: &str,
) -> Result<Option<bool>, AppError> {
    match text {
        None => Ok(None),
        Some(t) if t == yes || t == "true" => Ok(Some(true)),
        Some(t) if t == no || t == "false" => Ok(Some(false)),
        Some(t) => Err(AppError::invalid(
            field,
            format!("must be {yes} or {no} (got {t:?})"),
        )),
    }
}

async fn run_state_dto(app: &App, id: &ConnectionId) -> Result<RunStateDto, AppError> {
    Ok(match runs::state(app, id).await? {
        None => RunStateDto {
            state: "idle".into(),
            pool_entry: None,
            requested_at: None,
            updated_at: None,
        },
        Some(s) => RunStateDto {
            state: s.phase.as_str().into(),
            pool_entry: s.pinned.map(|p| p.as_str().to_owned()),
            requested_at: Some(s.requested_at.to_rfc3339()),
            updated_at: Some(s.updated_at.to_rfc3339()),
        },
    })
}

#[OpenApi(prefix_path = "/v1")]
impl RestApi {
    /// Every probe.
    #[oai(path = "/probes", method = "get", tag = "Tag::Probes")]
    async fn list_probes(&self, _auth: RestAuth) -> Result<Json<ProbeListDto>, ApiError> {
        let probes = probes::list(&self.app).await?;
        Ok(Json(ProbeListDto {
            items: super::fleet::probes_with_state(&self.app, &probes).await?,
            next_cursor: None,
        }))
    }

    /// Creates a probe; its token is in the answer and never shown again.
    #[oai(path = "/probes", method = "post", tag = "Tag::Probes")]
    async fn create_probe(
        &self,
        _auth: RestAuth,
        body: JsonBody<NewProbeDto>,
    ) -> Result<Created<IssuedProbeDto>, ApiError> {
        let f = Fields::of(&body.value)?;
        f.only(&["name", "labels"])?;
        let labels = probes::labels_from_pairs(&f.opt_labels("labels")?.unwrap_or_default())?;
        let issued = probes::create(&self.app, f.string("name")?, labels).await?;
        Ok(Created::Created(Json(IssuedProbeDto {
            probe: (&issued.probe).into(),
            token: issued.token,
        })))
    }

    /// One probe.
    #[oai(path = "/probes/:probe_id", method = "get", tag = "Tag::Probes")]
    async fn get_probe(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
    ) -> Result<Json<ProbeDto>, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        let probe = probes::get(&self.app, &id).await?;
        let mut one = super::fleet::probes_with_state(&self.app, &[probe]).await?;
        Ok(Json(one.remove(0)))
    }

    /// Enables or disables a probe.
    #[oai(path = "/probes/:probe_id", method = "patch", tag = "Tag::Probes")]
    async fn patch_probe(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
        body: JsonBody<ProbePatchDto>,
    ) -> Result<Json<ProbeDto>, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        let f = Fields::of(&body.value)?;
        f.only(&["enabled"])?;
        if let Some(enabled) = f.opt_bool("enabled")? {
            probes::set_enabled(&self.app, &id, enabled).await?;
        }
        Ok(Json((&probes::get(&self.app, &id).await?).into()))
    }

    /// Replaces a probe's token (the old one stops working at once).
    #[oai(
        path = "/probes/:probe_id/rotate-token",
        method = "post",
        tag = "Tag::Probes"
    )]
    async fn rotate_probe_token(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
    ) -> Result<Json<TokenDto>, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        Ok(Json(TokenDto {
            token: probes::rotate_token(&self.app, &id).await?,
        }))
    }

    /// Deletes a probe (409 while it has connections).
    #[oai(path = "/probes/:probe_id", method = "delete", tag = "Tag::Probes")]
    async fn delete_probe(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        probes::delete(&self.app, &id).await?;
        Ok(NoContent::Done)
    }

    /// Every connection, or one probe's.
    #[oai(path = "/connections", method = "get", tag = "Tag::Connections")]
    async fn list_connections(
        &self,
        _auth: RestAuth,
        probe: Query<Option<String>>,
    ) -> Result<Json<ConnectionListDto>, ApiError> {
        let probe = probe.0.as_deref().map(parse_probe_id).transpose()?;
        let list = connections::list(&self.app, probe.as_ref()).await?;
        Ok(Json(ConnectionListDto {
            items: list.iter().map(Into::into).collect(),
            next_cursor: None,
        }))
    }

    /// Creates a connection (`probeId` and `name` required; everything else has defaults).
    #[oai(path = "/connections", method = "post", tag = "Tag::Connections")]
    async fn create_connection(
        &self,
        _auth: RestAuth,
        body: JsonBody<NewConnectionDto>,
    ) -> Result<Created<ConnectionDto>, ApiError> {
        let f = Fields::of(&body.value)?;
        let probe = parse_probe_id(f.string("probeId")?)?;
        let input = connection_input(&f)?;
        probes::get(&self.app, &probe)
            .await
            .map_err(|_| AppError::invalid("probeId", format!("probe {probe} does not exist")))?;
        let c = connections::create(&self.app, &probe, input).await?;
        Ok(Created::Created(Json((&c).into())))
    }

    /// One connection.
    #[oai(
        path = "/connections/:connection_id",
        method = "get",
        tag = "Tag::Connections"
    )]
    async fn get_connection(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
    ) -> Result<Json<ConnectionDto>, ApiError> {
        let id = self::connection_id(&connection_id)?;
        Ok(Json((&connections::get(&self.app, &id).await?).into()))
    }

    /// Changes some settings of a connection (omitted keys keep their value).
    #[oai(
        path = "/connections/:connection_id",
        method = "patch",
        tag = "Tag::Connections"
    )]
    async fn patch_connection(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
        body: JsonBody<ConnectionInputDto>,
    ) -> Result<Json<ConnectionDto>, ApiError> {
        let id = self::connection_id(&connection_id)?;
        // `probeId` is not a key of the body (a connection belongs to one probe).
        let f = Fields::of(&body.value)?;
        let input = connection_input(&f)?;
        Ok(Json(
            (&connections::update(&self.app, &id, input).await?).into(),
        ))
    }

    /// Deletes a connection with its measurements.
    #[oai(
        path = "/connections/:connection_id",
        method = "delete",
        tag = "Tag::Connections"
    )]
    async fn delete_connection(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = self::connection_id(&connection_id)?;
        connections::delete(&self.app, &id).await?;
        Ok(NoContent::Done)
    }

    /// Asks for a test at the probe's next poll (optionally on a pinned pool entry). 409 for a
    /// disabled connection.
    #[oai(
        path = "/connections/:connection_id/run",
        method = "post",
        tag = "Tag::Connections"
    )]
    async fn run_connection(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
        body: JsonBody<RunRequestDto>,
    ) -> Result<Accepted, ApiError> {
        let id = self::connection_id(&connection_id)?;
        let f = Fields::of(&body.value)?;
        f.only(&["poolEntry"])?;
        let pin = f
            .opt_string("poolEntry")?
            .map(|p| PoolEntry::parse(p).map_err(|e| AppError::invalid("poolEntry", e.rule)))
            .transpose()?;
        runs::request(&self.app, &RunTarget::Connection(id.clone()), pin.as_ref()).await?;
        Ok(Accepted::Queued(Json(run_state_dto(&self.app, &id).await?)))
    }

    /// The state of the connection's latest run-now request.
    #[oai(
        path = "/connections/:connection_id/run",
        method = "get",
        tag = "Tag::Connections"
    )]
    async fn run_state(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
    ) -> Result<Json<RunStateDto>, ApiError> {
        let id = self::connection_id(&connection_id)?;
        connections::get(&self.app, &id).await?;
        Ok(Json(run_state_dto(&self.app, &id).await?))
    }

    /// Measurements, newest first by default, with filters and cursor pagination.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/measurements", method = "get", tag = "Tag::Measurements")]
    async fn list_measurements(
        &self,
        _auth: RestAuth,
        /// Only this connection's.
        connection: Query<Option<String>>,
        /// Only this tool-reported server id.
        server: Query<Option<String>>,
        /// `completed` or `failed`.
        status: Query<Option<String>>,
        /// `healthy` or `unhealthy`.
        verdict: Query<Option<String>>,
        /// `true` (scheduled) or `false` (run-now).
        scheduled: Query<Option<String>>,
        /// Completed at or after (RFC 3339).
        since: Query<Option<String>>,
        /// Completed before (RFC 3339).
        until: Query<Option<String>>,
        /// completed_at_desc (default), completed_at_asc, download_desc, download_asc, upload_desc, upload_asc, ping_desc, ping_asc, jitter_desc, jitter_asc, loss_desc, loss_asc.
        sort: Query<Option<String>>,
        /// 1–1000, default 50.
        limit: Query<Option<u32>>,
        /// The `nextCursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<Json<MeasurementPageDto>, ApiError> {
        let filter = MeasurementFilter {
            probe: None,
            connection: connection
                .0
                .as_deref()
                .map(self::connection_id)
                .transpose()?,
            server_id: server.0,
            completed: bool_param("status", status.0.as_deref(), "completed", "failed")?,
            healthy: bool_param("verdict", verdict.0.as_deref(), "healthy", "unhealthy")?,
            scheduled: bool_param("scheduled", scheduled.0.as_deref(), "true", "false")?,
            since: time_param("since", since.0.as_deref())?,
            until: time_param("until", until.0.as_deref())?,
        };
        if let (Some(s), Some(u)) = (filter.since, filter.until)
            && s > u
        {
            return Err(AppError::invalid("since", "is after until").into());
        }
        let sort = match sort.0.as_deref() {
            None => MeasurementSort::CompletedDesc,
            Some(s) => MeasurementSort::parse(s).ok_or_else(|| {
                AppError::invalid("sort", format!("is not a known order (got {s:?})"))
            })?,
        };
        let limit = limit.0.unwrap_or(50);
        if !(1..=1000).contains(&limit) {
            return Err(AppError::invalid("limit", format!("must be 1–1000 (got {limit})")).into());
        }
        let page = measurements::list(&self.app, &filter, sort, limit, cursor.0.as_deref()).await?;
        Ok(Json(MeasurementPageDto {
            items: page.items.iter().map(MeasurementDto::from).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One measurement with the tool's raw output.
    #[oai(
        path = "/measurements/:measurement_id",
        method = "get",
        tag = "Tag::Measurements"
    )]
    async fn get_measurement(
        &self,
        _auth: RestAuth,
        measurement_id: Path<String>,
    ) -> Result<Json<MeasurementDetailDto>, ApiError> {
        let id = ResultId::parse(&measurement_id)
            .map_err(|e| AppError::invalid("measurementId", e.to_string()))?;
        let m = measurements::get(&self.app, &id).await?;
        Ok(Json(MeasurementDetailDto {
            measurement: (&m).into(),
            exit_code: m.raw.exit_code,
            stdout: m.raw.stdout.clone(),
            stderr: m.raw.stderr.clone(),
        }))
    }
}
