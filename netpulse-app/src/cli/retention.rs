//! `netpulse retention show|set KIND DAYS` and `netpulse prune [--dry-run]` (see README,
//! "Retention").

use clap::{Args, Subcommand};
use netpulse_domain::Timestamp;
use netpulse_domain::retention::Keep;
use serde_json::{Value, json};

use super::output::print;
use super::{CliError, Output};
use crate::error::AppError;
use crate::service::retention::{self, KindPrune, KindRetention};
use crate::startup::open_app;

/// `retention …`
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// How long each kind of data is kept, its minimum and the floor of the last prune.
    Show,
    /// Keep KIND (raw-checks, raw-speed, hourly, daily, weekly) for DAYS days or `forever`.
    Set {
        /// raw-checks, raw-speed, hourly, daily or weekly.
        kind: String,
        /// A number of days, or `forever`.
        days: String,
    },
}

/// `prune …`
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Only count what would go; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn time(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

fn text_time(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "-".to_owned(), Timestamp::to_rfc3339)
}

fn keep_text(keep: Keep) -> String {
    match keep {
        Keep::Days(d) => format!("{d} d"),
        Keep::Forever => "forever".into(),
    }
}

fn shown(k: &KindRetention) -> Value {
    let (min, why) = k.kind.minimum();
    json!({
        "kind": k.kind.name(),
        "setting": k.kind.setting_key(),
        "keep": k.keep.to_string(),
        "default": k.default,
        "minimumDays": min,
        "minimumBecause": why,
        "floor": time(k.floor),
    })
}

/// Runs a retention command.
pub async fn retention_command(
    url: &str,
    out: &Output,
    cmd: RetentionCommand,
) -> Result<(), CliError> {
    let app = open_app(url).await?;
    if let RetentionCommand::Set { kind, days } = cmd {
        // KIND and DAYS are arguments, not flags; a rule names its setting.
        retention::set(&app, &kind, &days)
            .await
            .map_err(|e| match e {
                AppError::Invalid { field, message } => {
                    let name = match field.as_str() {
                        "kind" => "KIND".to_owned(),
                        "days" => "DAYS".to_owned(),
                        setting => setting.to_owned(),
                    };
                    CliError::usage(&name, message)
                }
                other => CliError::from(other),
            })?;
    }
    let kinds = retention::show(&app).await?;
    let value = json!({ "kinds": kinds.iter().map(shown).collect::<Vec<_>>() });
    print(out, &value, || {
        let mut s = format!(
            "{:<11} {:>8}  {:<8} {:>8}  floor",
            "kind", "keep", "", "minimum"
        );
        for k in &kinds {
            let keep = keep_text(k.keep);
            s.push_str(&format!(
                "\n{:<11} {:>8}  {:<8} {:>6} d  {}",
                k.kind.name(),
                keep,
                if k.default { "default" } else { "set" },
                k.kind.minimum().0,
                text_time(k.floor)
            ));
        }
        s
    });
    Ok(())
}

fn pruned(k: &KindPrune) -> Value {
    json!({
        "kind": k.kind.name(),
        "keep": k.keep.to_string(),
        "cut": time(k.cut),
        "rows": k.rows,
        "oldestKept": time(k.oldest_kept),
    })
}

/// Runs `prune`.
pub async fn prune(url: &str, out: &Output, args: &PruneArgs) -> Result<(), CliError> {
    let app = open_app(url).await?;
    let kinds = retention::prune(&app, args.dry_run)
        .await
        .map_err(|e| match e {
            AppError::Invalid { field, message } => CliError::usage(&field, message),
            other => CliError::from(other),
        })?;
    let value = json!({
        "dryRun": args.dry_run,
        "kinds": kinds.iter().map(pruned).collect::<Vec<_>>(),
    });
    let verb = if args.dry_run { "would go" } else { "went" };
    print(out, &value, || {
        let mut s = format!(
            "{:<11} {:>8}  {:<25} {:>10}  oldest kept",
            "kind", "keep", "cut", verb
        );
        for k in &kinds {
            s.push_str(&format!(
                "\n{:<11} {:>8}  {:<25} {:>10}  {}",
                k.kind.name(),
                keep_text(k.keep),
                text_time(k.cut),
                k.rows,
                text_time(k.oldest_kept)
            ));
        }
        s.push_str("\n(raw-checks rows are hour blocks of one check and family)");
        s
    });
    Ok(())
}
