//! The fleet's REST endpoints: probe maintenance (windows and the manual switch), registration
//! tokens (API token or session) and agent self-registration (`POST /api/v1/agents/register`,
//! authenticated by the registration token's secret in the body).

use netpulse_domain::Timestamp;
use netpulse_domain::probe_maintenance::ProbeMaintenance;
use netpulse_domain::registration::RegistrationToken;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::agent::parse_probe_id;
use super::auth::RestAuth;
use super::payload::{Fields, JsonBody};
use super::problem::ApiError;
use super::rest::{Created, NoContent};
use crate::dto::{ProbeDto, ProbeStateDto};
use crate::error::AppError;
use crate::service::fleet::{self, ProbeStatus};
use crate::service::registration::{AgentRequest, TokenRequest};
use crate::service::{App, probe_maintenance, probes, registration};

#[derive(Tags)]
enum Tag {
    /// The fleet: maintenance, registration tokens, self-registration.
    Fleet,
}

/// A maintenance window of a probe.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ProbeMaintenanceDto {
    /// Its id.
    pub id: String,
    /// The probe.
    pub probe_id: String,
    /// Start (RFC 3339).
    pub starts_at: String,
    /// End, exclusive (RFC 3339); null until switched off.
    pub ends_at: Option<String>,
    /// Why.
    pub reason: String,
    /// Opened by the manual switch.
    pub manual: bool,
}

impl From<&ProbeMaintenance> for ProbeMaintenanceDto {
    fn from(w: &ProbeMaintenance) -> Self {
        Self {
            id: w.id.clone(),
            probe_id: w.probe_id.to_string(),
            starts_at: w.starts_at.to_rfc3339(),
            ends_at: w.ends_at.map(Timestamp::to_rfc3339),
            reason: w.reason.clone(),
            manual: w.manual,
        }
    }
}

/// Windows that have not ended.
#[derive(Debug, Object)]
pub struct ProbeMaintenanceListDto {
    /// By start.
    pub items: Vec<ProbeMaintenanceDto>,
}

/// A window to schedule.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ProbeMaintenanceInputDto {
    /// Start (RFC 3339).
    pub starts_at: String,
    /// End (RFC 3339); omitted or null: until switched off.
    #[oai(nullable)]
    pub ends_at: Option<String>,
    /// Why (at most 200 characters).
    #[oai(nullable)]
    pub reason: Option<String>,
}

/// The manual switch.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ProbeMaintenanceSwitchDto {
    /// On (opens a window now) or off (ends every active window now).
    pub on: bool,
    /// With `on`: until when (RFC 3339); omitted or null: until switched off.
    #[oai(nullable)]
    pub until: Option<String>,
    /// Why.
    #[oai(nullable)]
    pub reason: Option<String>,
}

/// The switch's result.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ProbeMaintenanceStateDto {
    /// Whether the probe is in maintenance now.
    pub in_maintenance: bool,
    /// The window active now.
    pub window: Option<ProbeMaintenanceDto>,
}

/// A registration token (never its secret).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct RegistrationTokenDto {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Labels given to every probe it registers.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Expiry (RFC 3339); null: never.
    pub expires_at: Option<String>,
    /// New agents it may register; null: any number.
    pub max_uses: Option<u32>,
    /// New agents it registered.
    pub uses: u32,
    /// `active`, `revoked`, `expired` or `used_up`.
    pub status: String,
    /// Creation (RFC 3339).
    pub created_at: String,
}

fn token_dto(t: &RegistrationToken, now: Timestamp) -> RegistrationTokenDto {
    RegistrationTokenDto {
        id: t.id.clone(),
        name: t.name.clone(),
        labels: t
            .labels
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        expires_at: t.expires_at.map(Timestamp::to_rfc3339),
        max_uses: t.max_uses,
        uses: t.uses,
        status: t.status(now).to_owned(),
        created_at: t.created_at.to_rfc3339(),
    }
}

/// Registration tokens, newest first.
#[derive(Debug, Object)]
pub struct RegistrationTokenListDto {
    /// The tokens.
    pub items: Vec<RegistrationTokenDto>,
}

/// A registration token to create.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct RegistrationTokenInputDto {
    /// Its name.
    pub name: String,
    /// Expiry (RFC 3339); omitted or null: never.
    #[oai(nullable)]
    pub expires_at: Option<String>,
    /// New agents it may register; omitted or null: any number.
    #[oai(nullable)]
    pub max_uses: Option<u32>,
    /// Labels for every probe it registers.
    pub labels: Option<std::collections::BTreeMap<String, String>>,
}

/// A new registration token and its secret, shown once.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct IssuedRegistrationTokenDto {
    /// The token.
    pub token: RegistrationTokenDto,
    /// The secret agents take as `AGENT_TOKEN` (43 characters; not stored, not shown again).
    pub secret: String,
}

/// An agent registering itself.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AgentRegisterDto {
    /// The registration token's secret.
    pub token: String,
    /// The agent's name (the probe's name).
    pub name: String,
    /// Where it runs (the probe's `location` label).
    #[oai(nullable)]
    pub location: Option<String>,
    /// Its machine id (`/etc/machine-id`, or `AGENT_MACHINE_ID`).
    pub machine_id: String,
}

/// A registered agent's identity.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AgentRegisteredDto {
    /// Its probe.
    pub probe: ProbeDto,
    /// Its probe token (`PROBE_TOKEN`), shown once.
    pub token: String,
    /// False when this name and machine had registered before (same probe, new token).
    pub created: bool,
}

/// The fleet endpoints.
#[derive(Debug)]
pub struct FleetApi {
    /// The services.
    pub app: App,
}

fn time(f: &Fields<'_>, key: &'static str) -> Result<Option<Timestamp>, AppError> {
    f.opt_string(key)?
        .map(|s| {
            Timestamp::parse_rfc3339(s)
                .map_err(|_| AppError::invalid(key, "must be an RFC 3339 time"))
        })
        .transpose()
}

#[OpenApi(prefix_path = "/v1")]
impl FleetApi {
    /// A probe's maintenance windows that have not ended (active and scheduled).
    #[oai(
        path = "/probes/:probe_id/maintenance",
        method = "get",
        tag = "Tag::Fleet"
    )]
    async fn list_maintenance(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
    ) -> Result<Json<ProbeMaintenanceListDto>, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        let items = probe_maintenance::list(&self.app, &id).await?;
        Ok(Json(ProbeMaintenanceListDto {
            items: items.iter().map(Into::into).collect(),
        }))
    }

    /// Schedules a maintenance window: no tests or checks, alerts held.
    #[oai(
        path = "/probes/:probe_id/maintenance",
        method = "post",
        tag = "Tag::Fleet"
    )]
    async fn schedule_maintenance(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
        body: JsonBody<ProbeMaintenanceInputDto>,
    ) -> Result<Created<ProbeMaintenanceDto>, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        let f = Fields::of(&body.value)?;
        let starts =
            time(&f, "startsAt")?.ok_or_else(|| AppError::invalid("startsAt", "is required"))?;
        let ends = time(&f, "endsAt")?;
        let reason = f.opt_string("reason")?.unwrap_or("");
        let w = probe_maintenance::schedule(&self.app, &id, starts, ends, reason).await?;
        Ok(Created::Created(Json((&w).into())))
    }

    /// The manual switch: on opens a window now, off ends every window active now.
    #[oai(
        path = "/probes/:probe_id/maintenance/switch",
        method = "post",
        tag = "Tag::Fleet"
    )]
    async fn switch_maintenance(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
        body: JsonBody<ProbeMaintenanceSwitchDto>,
    ) -> Result<Json<ProbeMaintenanceStateDto>, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        let f = Fields::of(&body.value)?;
        let on = f
            .opt_bool("on")?
            .ok_or_else(|| AppError::invalid("on", "is required"))?;
        let until = time(&f, "until")?;
        let reason = f.opt_string("reason")?.unwrap_or("");
        let w = probe_maintenance::switch(&self.app, &id, on, until, reason).await?;
        Ok(Json(ProbeMaintenanceStateDto {
            in_maintenance: w.is_some(),
            window: w.as_ref().map(Into::into),
        }))
    }

    /// Deletes a maintenance window.
    #[oai(
        path = "/probes/:probe_id/maintenance/:window_id",
        method = "delete",
        tag = "Tag::Fleet"
    )]
    async fn delete_maintenance(
        &self,
        _auth: RestAuth,
        probe_id: Path<String>,
        window_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = parse_probe_id(&probe_id)?;
        probe_maintenance::delete(&self.app, &id, &window_id).await?;
        Ok(NoContent::Done)
    }

    /// Every registration token, newest first (never their secrets).
    #[oai(path = "/registration-tokens", method = "get", tag = "Tag::Fleet")]
    async fn list_registration_tokens(
        &self,
        _auth: RestAuth,
    ) -> Result<Json<RegistrationTokenListDto>, ApiError> {
        let now = self.app.clock.now();
        let items = registration::list_tokens(&self.app).await?;
        Ok(Json(RegistrationTokenListDto {
            items: items.iter().map(|t| token_dto(t, now)).collect(),
        }))
    }

    /// Creates a registration token; its secret is in the answer and never shown again.
    #[oai(path = "/registration-tokens", method = "post", tag = "Tag::Fleet")]
    async fn create_registration_token(
        &self,
        _auth: RestAuth,
        body: JsonBody<RegistrationTokenInputDto>,
    ) -> Result<Created<IssuedRegistrationTokenDto>, ApiError> {
        let f = Fields::of(&body.value)?;
        let req = TokenRequest {
            name: f.string("name")?.to_owned(),
            expires_at: time(&f, "expiresAt")?,
            max_uses: f.opt_u32("maxUses")?,
            labels: probes::labels_from_pairs(&f.opt_labels("labels")?.unwrap_or_default())?,
        };
        let issued = registration::create_token(&self.app, req).await?;
        Ok(Created::Created(Json(IssuedRegistrationTokenDto {
            token: token_dto(&issued.token, self.app.clock.now()),
            secret: issued.secret,
        })))
    }

    /// Revokes a registration token (probes it registered keep working).
    #[oai(
        path = "/registration-tokens/:token_id/revoke",
        method = "post",
        tag = "Tag::Fleet"
    )]
    async fn revoke_registration_token(
        &self,
        _auth: RestAuth,
        token_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        registration::revoke_token(&self.app, &token_id).await?;
        Ok(NoContent::Done)
    }

    /// An agent registers itself with a registration token: 201 with a new probe, 200 when this
    /// name and machine had registered before (same probe, fresh token). 401 for an unknown
    /// token, 403 for a revoked, expired or spent one.
    #[oai(path = "/agents/register", method = "post", tag = "Tag::Fleet")]
    async fn register_agent(
        &self,
        body: JsonBody<AgentRegisterDto>,
    ) -> Result<RegisteredResponse, ApiError> {
        let f = Fields::of(&body.value)?;
        let req = AgentRequest {
            secret: f.string("token")?.to_owned(),
            name: f.string("name")?.to_owned(),
            location: f.opt_string("location")?.unwrap_or("").to_owned(),
            machine_id: f.string("machineId")?.to_owned(),
        };
        let r = registration::register(&self.app, &req).await?;
        let dto = Json(AgentRegisteredDto {
            probe: (&r.probe).into(),
            token: r.token,
            created: r.created,
        });
        Ok(if r.created {
            RegisteredResponse::Created(dto)
        } else {
            RegisteredResponse::Again(dto)
        })
    }
}

/// Answers of the registration endpoint.
#[derive(Debug, poem_openapi::ApiResponse)]
pub enum RegisteredResponse {
    /// A new probe.
    #[oai(status = 201)]
    Created(Json<AgentRegisteredDto>),
    /// Registered before: the same probe, a new token.
    #[oai(status = 200)]
    Again(Json<AgentRegisteredDto>),
}

/// A probe's state as the REST API shows it.
pub(crate) fn state_dto(s: &ProbeStatus) -> ProbeStateDto {
    ProbeStateDto {
        state: s.verdict.state.as_str().to_owned(),
        alive: s.verdict.alive,
        reasons: s
            .verdict
            .reasons
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        offline_after_seconds: s.offline_after_seconds,
        maintenance_until: s
            .maintenance
            .as_ref()
            .and_then(|w| w.ends_at)
            .map(Timestamp::to_rfc3339),
        maintenance_reason: s.maintenance.as_ref().map(|w| w.reason.clone()),
        checks_total: s.checks.total,
        checks_failed: s.checks.failed,
        agent_outdated: s.outdated,
    }
}

/// Probes with their states (three reads in all).
pub(crate) async fn probes_with_state(
    app: &App,
    list: &[netpulse_domain::model::Probe],
) -> Result<Vec<ProbeDto>, AppError> {
    let states = fleet::statuses(app, list, app.clock.now()).await?;
    Ok(list
        .iter()
        .map(|p| ProbeDto {
            state: states.get(&p.id).map(state_dto),
            ..p.into()
        })
        .collect())
}

/// The check set `/due` hands a probe in maintenance: empty, under its own version, so the agent
/// stops its rounds and takes the real set again (a different version) when maintenance ends.
pub(crate) fn maintenance_checks(known: Option<&str>) -> crate::check_dto::DueChecksDto {
    let version = netpulse_domain::check::CheckSetVersion::parse(MAINTENANCE_CHECKS_VERSION)
        .expect("a valid version");
    let set = netpulse_ports::agent_api::CheckSet {
        unchanged: known == Some(version.as_str()),
        version,
        period_s: netpulse_domain::check::round::DEFAULT_PERIOD_S,
        items: Vec::new(),
    };
    netpulse_adapters::wire_checks::DueChecksBody::new(&set).into()
}

/// The version of the empty check set of a probe in maintenance.
pub const MAINTENANCE_CHECKS_VERSION: &str = "maintenance";
