//! Probes: create (with a token shown once and, unless switched off, the default connectivity
//! checks), enable, disable, rotate, delete.

use netpulse_domain::id::ProbeId;
use netpulse_domain::model::Probe;
use netpulse_domain::values::{Labels, Name};
use netpulse_ports::storage::ProbeCredentials;

use super::{App, new_uuid};
use crate::error::AppError;
use crate::tokens;

/// A probe and its token, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedProbe {
    /// The probe.
    pub probe: Probe,
    /// Its bearer token.
    pub token: String,
}

/// Reads `key=value` pairs.
pub fn labels_from_pairs<S: AsRef<str>>(pairs: &[S]) -> Result<Labels, AppError> {
    let mut labels = Labels::new();
    for pair in pairs {
        labels.insert_pair(pair.as_ref())?;
    }
    Ok(labels)
}

/// Creates a probe.
pub async fn create(app: &App, name: &str, labels: Labels) -> Result<IssuedProbe, AppError> {
    let probe = Probe {
        id: ProbeId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
        name: Name::parse("name", name)?,
        labels,
        enabled: true,
        created_at: app.clock.now(),
        last_poll_at: None,
        agent_version: None,
        agent_engines: vec![],
    };
    let token = tokens::generate();
    app.storage
        .create_probe(&probe, &tokens::digest(&token))
        .await?;
    if super::checks::defaults_for_new_probes(app).await? {
        super::checks::add_defaults(app, &probe.id).await?;
    }
    super::mqtt::changed(app);
    Ok(IssuedProbe { probe, token })
}

/// One probe.
pub async fn get(app: &App, id: &ProbeId) -> Result<Probe, AppError> {
    app.storage
        .probe(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "probe",
            id: id.to_string(),
        })
}

/// Every probe, by name.
pub async fn list(app: &App) -> Result<Vec<Probe>, AppError> {
    Ok(app.storage.probes().await?)
}

/// Lets the probe poll and push again (`true`) or refuses it (`false`).
pub async fn set_enabled(app: &App, id: &ProbeId, enabled: bool) -> Result<(), AppError> {
    Ok(app.storage.set_probe_enabled(id, enabled).await?)
}

/// Deletes a probe; refused (conflict) while it has connections.
pub async fn delete(app: &App, id: &ProbeId) -> Result<(), AppError> {
    app.storage.delete_probe(id).await?;
    super::mqtt::changed(app);
    Ok(())
}

/// Replaces the token; the old one stops working at once.
pub async fn rotate_token(app: &App, id: &ProbeId) -> Result<String, AppError> {
    let token = tokens::generate();
    app.storage
        .set_probe_token(id, &tokens::digest(&token))
        .await?;
    Ok(token)
}

/// Authenticates a probe's bearer token and returns its credentials row (with its last poll).
/// Unknown probe and wrong token give the same error.
pub async fn authenticate(
    app: &App,
    id: &ProbeId,
    token: &str,
) -> Result<ProbeCredentials, AppError> {
    let creds = app.storage.probe_credentials(id).await?;
    // Compare against a fixed digest when the probe is unknown, so both paths cost the same.
    let unknown = netpulse_ports::storage::TokenDigest([0; 32]);
    let ok = tokens::matches(token, creds.as_ref().map_or(&unknown, |c| &c.token_digest))
        && creds.is_some();
    match creds {
        Some(c) if ok && !c.enabled => Err(AppError::Forbidden(format!("probe {id} is disabled"))),
        Some(c) if ok => Ok(c),
        _ => Err(AppError::Unauthorized),
    }
}
