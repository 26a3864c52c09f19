//! `netpulse baselines …`: the connections' baselines (see README, "Baselines").

use clap::Subcommand;
use serde_json::json;

use super::output::{parse_connection, print};
use super::{CliError, Output};
use crate::service::baselines;
use crate::startup::open_app;

/// `baselines …`
#[derive(Debug, Subcommand)]
pub enum BaselinesCommand {
    /// Recompute today's baselines (site time zone) now, of one connection or of every
    /// connection and check, instead of waiting for the nightly recompute.
    Rebuild {
        /// Only this connection.
        #[arg(long, value_name = "ID")]
        connection: Option<String>,
    },
}

/// Runs a baselines command.
pub async fn baselines(url: &str, out: &Output, cmd: BaselinesCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    let BaselinesCommand::Rebuild { connection } = cmd;
    let id = connection.as_deref().map(parse_connection).transpose()?;
    let n = baselines::rebuild(&app, id.as_ref()).await?;
    print(
        out,
        &json!({ "connectionsRecomputed": n.connections, "checksRecomputed": n.checks }),
        || {
            format!(
                "baselines of {} connection(s) and {} check(s) recomputed",
                n.connections, n.checks
            )
        },
    );
    Ok(())
}
