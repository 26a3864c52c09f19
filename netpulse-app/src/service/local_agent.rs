//! The probe of the in-process agent (`serve --local-agent`): named after the host, labelled
//! `local_agent=true`, created on first start together with one connection, "internet".

use netpulse_domain::model::Probe;
use netpulse_domain::values::Labels;

use super::connections::{self, ConnectionInput};
use super::{App, probes};
use crate::error::AppError;

/// The label that marks the local agent's probe.
pub const LOCAL_LABEL: &str = "local_agent";

/// The local probe; on first start it is created with one connection whose pool is empty (the
/// Ookla CLI picks a server) when `ookla_available`, and otherwise holds `http_target` (the
/// built-in HTTP engine). The probe's token is not returned: rotate it to hand one out.
pub async fn ensure_probe(
    app: &App,
    host_name: &str,
    ookla_available: bool,
    http_target: &str,
) -> Result<Probe, AppError> {
    let existing = app.storage.probes().await?;
    if let Some(p) = existing
        .into_iter()
        .find(|p| p.labels.get(LOCAL_LABEL) == Some("true"))
    {
        return Ok(p);
    }
    let mut labels = Labels::new();
    labels.insert(LOCAL_LABEL, "true")?;
    let issued = probes::create(app, host_name, labels).await?;
    let pool = if ookla_available {
        vec![]
    } else {
        vec![http_target.to_owned()]
    };
    connections::create(
        app,
        &issued.probe.id,
        ConnectionInput {
            name: Some("internet".into()),
            server_pool: Some(pool),
            ..ConnectionInput::default()
        },
    )
    .await?;
    tracing::info!(
        probe = %issued.probe.id,
        engine = if ookla_available { "ookla" } else { "http" },
        "created the local agent's probe and connection"
    );
    Ok(issued.probe)
}
