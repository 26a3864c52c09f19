//! The probe of the in-process agent (`serve --local-agent`): named after the host, labelled
//! `local_agent=true`, created on first start together with one connection, "internet".
//!
//! `--local-agent-target` is applied at every start, not only the first: when given, the local
//! probe's connection tests against it (its pool becomes that one entry). When the probe has
//! several connections the server cannot tell which one is meant, and says so instead
//! ([`TargetOutcome::NotApplied`]).

use netpulse_domain::model::{Connection, Probe};
use netpulse_domain::values::Labels;

use super::connections::{self, ConnectionInput};
use super::{App, probes};
use crate::error::AppError;

/// The label that marks the local agent's probe.
pub const LOCAL_LABEL: &str = "local_agent";

/// The HTTP engine's target when the Ookla CLI is missing and no target was given:
/// Cloudflare's public speed-test endpoints.
pub const DEFAULT_HTTP_TARGET: &str = "https://speed.cloudflare.com";

/// What became of an explicit `--local-agent-target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetOutcome {
    /// No target was given (the pool is left as it is).
    NotGiven,
    /// The connection already tests against it.
    Unchanged,
    /// The connection's pool was set to the target (or the connection created with it).
    Applied {
        /// The connection.
        connection: String,
        /// Its pool before.
        previous_pool: Vec<String>,
    },
    /// The target was not applied, and why.
    NotApplied(String),
}

/// The local probe and what became of the target. On first start the probe is created with one
/// connection whose pool is `target` when given, else empty (the Ookla CLI picks a server) when
/// `ookla_available`, else [`DEFAULT_HTTP_TARGET`] (the built-in HTTP engine). On later starts
/// an explicit `target` replaces the pool of the probe's one connection (see the module docs).
/// The probe's token is not returned: rotate it to hand one out.
pub async fn ensure_probe(
    app: &App,
    host_name: &str,
    ookla_available: bool,
    target: Option<&str>,
) -> Result<(Probe, TargetOutcome), AppError> {
    if let Some(t) = target {
        // Checked first, so a bad target is refused whatever the probe looks like.
        netpulse_domain::pool::ServerPool::parse_all(&[t])?;
    }
    let existing = app.storage.probes().await?;
    if let Some(p) = existing
        .into_iter()
        .find(|p| p.labels.get(LOCAL_LABEL) == Some("true"))
    {
        let outcome = match target {
            None => TargetOutcome::NotGiven,
            Some(target) => apply_target(app, &p, target).await?,
        };
        return Ok((p, outcome));
    }
    let mut labels = Labels::new();
    labels.insert(LOCAL_LABEL, "true")?;
    let pool = match target {
        Some(t) => vec![t.to_owned()],
        None if ookla_available => vec![],
        None => vec![DEFAULT_HTTP_TARGET.to_owned()],
    };
    let issued = probes::create(app, host_name, labels).await?;
    let connection = create_connection(app, &issued.probe, pool).await?;
    tracing::info!(
        probe = %issued.probe.id,
        pool = ?connection.pool.entries().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "created the local agent's probe and connection"
    );
    let outcome = match target {
        None => TargetOutcome::NotGiven,
        Some(_) => TargetOutcome::Applied {
            connection: connection.name.to_string(),
            previous_pool: vec![],
        },
    };
    Ok((issued.probe, outcome))
}

async fn create_connection(
    app: &App,
    probe: &Probe,
    pool: Vec<String>,
) -> Result<Connection, AppError> {
    connections::create(
        app,
        &probe.id,
        ConnectionInput {
            name: Some("internet".into()),
            server_pool: Some(pool),
            ..ConnectionInput::default()
        },
    )
    .await
}

async fn apply_target(app: &App, probe: &Probe, target: &str) -> Result<TargetOutcome, AppError> {
    let mut own = connections::list(app, Some(&probe.id)).await?;
    let connection = match own.len() {
        0 => {
            let c = create_connection(app, probe, vec![target.to_owned()]).await?;
            return Ok(TargetOutcome::Applied {
                connection: c.name.to_string(),
                previous_pool: vec![],
            });
        }
        1 => own.remove(0),
        n => {
            let names: Vec<String> = own.iter().map(|c| c.name.to_string()).collect();
            return Ok(TargetOutcome::NotApplied(format!(
                "the local probe has {n} connections ({}); set the server pool of the one you \
                 mean (`netpulse connection update <id> --server-pool {target}`, or on its page)",
                names.join(", ")
            )));
        }
    };
    let previous_pool: Vec<String> = connection
        .pool
        .entries()
        .iter()
        .map(ToString::to_string)
        .collect();
    if previous_pool == [target] {
        return Ok(TargetOutcome::Unchanged);
    }
    connections::update(
        app,
        &connection.id,
        ConnectionInput {
            server_pool: Some(vec![target.to_owned()]),
            ..ConnectionInput::default()
        },
    )
    .await?;
    Ok(TargetOutcome::Applied {
        connection: connection.name.to_string(),
        previous_pool,
    })
}
