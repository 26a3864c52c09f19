//! Registration tokens and self-registering agents ([`netpulse_domain::registration`]).
//!
//! An admin creates a token; its secret is shown once and stored as a SHA-256 digest (looked up
//! by digest, then compared in constant time). An agent started with `AGENT_TOKEN`,
//! `AGENT_NAME`, `AGENT_LOCATION` registers with `POST /api/v1/agents/register` and receives a
//! probe id and a probe token, which it keeps in its state directory. The same name on the same
//! machine again is the same agent: the same probe, a fresh probe token (the old one stops
//! working), and no use of the token spent.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::model::Probe;
use netpulse_domain::registration::{self, MAX_NAME_CHARS, RegistrationToken};
use netpulse_domain::values::{Labels, Name};
use netpulse_ports::fleet_store::NewAgent;
use netpulse_ports::storage::StorageError;

use super::{App, new_uuid};
use crate::error::AppError;
use crate::tokens;

/// The label a registered probe's location is kept in.
pub const LOCATION_LABEL: &str = "location";

/// What an admin asks for.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// What to call it.
    pub name: String,
    /// When it stops registering.
    pub expires_at: Option<Timestamp>,
    /// How many new agents it may register.
    pub max_uses: Option<u32>,
    /// Labels for every probe it registers.
    pub labels: Labels,
}

/// A new token and its secret, shown once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token.
    pub token: RegistrationToken,
    /// The secret agents present as `AGENT_TOKEN`.
    pub secret: String,
}

/// Creates a registration token.
pub async fn create_token(app: &App, req: TokenRequest) -> Result<IssuedToken, AppError> {
    let name = Name::parse("name", &req.name)?.to_string();
    let now = app.clock.now();
    if let Some(t) = req.expires_at
        && t <= now
    {
        return Err(AppError::invalid("expiresAt", "must be in the future"));
    }
    if req.max_uses == Some(0) {
        return Err(AppError::invalid(
            "maxUses",
            "must be at least 1 (or null: unlimited)",
        ));
    }
    let token = RegistrationToken {
        id: new_uuid(),
        name,
        labels: req.labels,
        expires_at: req.expires_at,
        max_uses: req.max_uses,
        uses: 0,
        revoked: false,
        created_at: now,
    };
    let secret = tokens::generate();
    app.storage
        .create_registration_token(&token, &tokens::digest(&secret))
        .await?;
    Ok(IssuedToken { token, secret })
}

/// Every registration token, newest first.
pub async fn list_tokens(app: &App) -> Result<Vec<RegistrationToken>, AppError> {
    Ok(app.storage.registration_tokens().await?)
}

/// Revokes a token: it registers nothing more (agents it registered keep their probes).
pub async fn revoke_token(app: &App, id: &str) -> Result<(), AppError> {
    Ok(app.storage.revoke_registration_token(id).await?)
}

/// What an agent presents.
#[derive(Debug, Clone)]
pub struct AgentRequest {
    /// The token's secret.
    pub secret: String,
    /// Its name (the probe's name).
    pub name: String,
    /// Where it is (the probe's `location` label; empty: none).
    pub location: String,
    /// Its machine (`/etc/machine-id` or what `AGENT_MACHINE_ID` says).
    pub machine_id: String,
}

/// A registered agent.
#[derive(Debug, Clone)]
pub struct Registered {
    /// Its probe.
    pub probe: Probe,
    /// Its probe token (shown once).
    pub token: String,
    /// Whether the probe was created now (false: it registered before).
    pub created: bool,
}

/// The token with this secret: looked up by digest, then compared in constant time.
async fn find_token(app: &App, secret: &str) -> Result<RegistrationToken, AppError> {
    let found = app
        .storage
        .registration_token_by_secret(&tokens::digest(secret))
        .await?;
    match found {
        Some((token, stored)) if tokens::matches(secret, &stored) => Ok(token),
        _ => Err(AppError::Unauthorized),
    }
}

fn field_len(field: &'static str, text: &str) -> Result<(), AppError> {
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid(field, "must be at most 100 characters"));
    }
    Ok(())
}

/// Registers an agent (or the same agent again). A wrong secret is 401; a revoked, expired or
/// spent token 403.
pub async fn register(app: &App, req: &AgentRequest) -> Result<Registered, AppError> {
    let name = Name::parse("name", &req.name)?;
    field_len("name", &req.name)?;
    field_len("location", &req.location)?;
    if !registration::valid_machine_id(&req.machine_id) {
        return Err(AppError::invalid(
            "machineId",
            "must be 1 to 128 printable ASCII characters",
        ));
    }
    let now = app.clock.now();
    for _ in 0..2 {
        let token = find_token(app, &req.secret).await?;
        let known = app
            .storage
            .agent_registration(name.as_str(), &req.machine_id)
            .await?;
        let new_agent = known.is_none();
        if let Some(refusal) = token.refusal(now, new_agent) {
            return Err(AppError::Forbidden(refusal.as_str().to_owned()));
        }
        let probe_token = tokens::generate();
        if let Some(known) = known {
            app.storage
                .set_probe_token(&known.probe_id, &tokens::digest(&probe_token))
                .await?;
            let probe = super::probes::get(app, &known.probe_id).await?;
            return Ok(Registered {
                probe,
                token: probe_token,
                created: false,
            });
        }
        let mut labels = token.labels.clone();
        let location = req.location.trim();
        if !location.is_empty() {
            labels
                .insert(LOCATION_LABEL, location)
                .map_err(|e| AppError::invalid("location", e.rule))?;
        }
        let probe = Probe {
            id: ProbeId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
            name: name.clone(),
            labels,
            enabled: true,
            created_at: now,
            last_poll_at: None,
            agent_version: None,
            agent_engines: vec![],
        };
        let agent = NewAgent {
            token_id: &token.id,
            name: name.as_str(),
            machine_id: &req.machine_id,
            probe: &probe,
            probe_token: &tokens::digest(&probe_token),
        };
        match app.storage.register_agent(&agent, now).await {
            Ok(()) => {
                if super::checks::defaults_for_new_probes(app).await? {
                    super::checks::add_defaults(app, &probe.id).await?;
                }
                return Ok(Registered {
                    probe,
                    token: probe_token,
                    created: true,
                });
            }
            // Another registration of the same agent won the race, or the last use went to
            // another agent: look again (the second pass answers from what is stored now).
            Err(StorageError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(
        "the registration raced with another; try again".into(),
    ))
}
