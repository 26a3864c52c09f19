//! `netpulse rollups …`: the speed rollups (see README, "Ranges and rollups").

use clap::Subcommand;
use serde_json::json;

use super::output::print;
use super::{CliError, Output};
use crate::service::rollups;
use crate::startup::open_app;

/// `rollups …`
#[derive(Debug, Subcommand)]
pub enum RollupsCommand {
    /// Recompute every bucket from the raw results (after changing the site time zone, or
    /// for data loaded behind ingest's back).
    Rebuild,
    /// Recompute the hours queued by ingest now, instead of waiting for the server's job.
    CatchUp,
}

/// Runs a rollups command.
pub async fn rollups(url: &str, out: &Output, cmd: RollupsCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    let hours = match cmd {
        RollupsCommand::Rebuild => rollups::rebuild(&app).await?,
        RollupsCommand::CatchUp => rollups::catch_up(&app).await?,
    };
    print(out, &json!({ "hoursRecomputed": hours }), || {
        format!("{hours} connection-hours recomputed")
    });
    Ok(())
}
