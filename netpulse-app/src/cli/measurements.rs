//! `netpulse measurements …`: maintenance of stored results.

use clap::Subcommand;
use serde_json::json;

use super::output::print;
use super::{CliError, Output};
use crate::service::reparse;
use crate::startup::open_app;

/// `measurements …`
#[derive(Debug, Subcommand)]
pub enum MeasurementsCommand {
    /// Re-derive the typed columns of every stored result from its raw output with the current
    /// parsers (a parser fix then repairs history). Verdicts recorded at ingest are kept.
    Reparse,
}

/// Runs a measurements command.
pub async fn measurements(
    url: &str,
    out: &Output,
    cmd: MeasurementsCommand,
) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        MeasurementsCommand::Reparse => {
            let r = reparse::reparse_all(&app).await?;
            print(
                out,
                &json!({ "examined": r.examined, "changed": r.changed }),
                || {
                    format!(
                        "{} measurements examined, {} re-derived",
                        r.examined, r.changed
                    )
                },
            );
        }
    }
    Ok(())
}
