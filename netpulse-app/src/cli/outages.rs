//! `netpulse outages …`: the latest or most severe outages, and the replay of the outage
//! series from raw check results.

use clap::{Args, Subcommand};
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_ports::outage_store::{OutageFilter, OutageOrder};
use serde_json::{Value, json};

use super::output::{json_of, print};
use super::{CliError, Output};
use crate::error::AppError;
use crate::outage_dto::OutageDto;
use crate::service::outages;
use crate::startup::open_app;

/// `outages [--latest N | --most-severe N] [--probe P]` or `outages rebuild --since T`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct OutagesArgs {
    /// Replay the series instead of listing.
    #[command(subcommand)]
    pub command: Option<OutagesCommand>,
    /// The N latest outages (default 10).
    #[arg(long, value_name = "N", conflicts_with = "most_severe")]
    pub latest: Option<u32>,
    /// The N most severe outages.
    #[arg(long, value_name = "N")]
    pub most_severe: Option<u32>,
    /// Only this probe's.
    #[arg(long, value_name = "PROBE")]
    pub probe: Option<String>,
}

/// `outages rebuild …`
#[derive(Debug, Subcommand)]
pub enum OutagesCommand {
    /// Replay the outage series from the raw check results from `--since` on (the result
    /// equals what ingest would have built).
    Rebuild {
        /// Replay from this time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        since: String,
        /// Only this probe's series.
        #[arg(long, value_name = "PROBE")]
        probe: Option<String>,
    },
}

fn probe_flag(text: Option<&str>) -> Result<Option<ProbeId>, AppError> {
    text.map(|p| ProbeId::parse(p).map_err(|e| AppError::invalid("probe", e.to_string())))
        .transpose()
}

/// One line of an outage, PlexSheep style.
fn line(o: &OutageDto) -> String {
    let end = o.ended_at.as_deref().unwrap_or("(ongoing)");
    let minutes = o.duration_seconds / 60.0;
    format!(
        "{}  {} → {}  {minutes:.0} min  {}  {}  {}",
        o.id, o.started_at, end, o.severity_label, o.family, o.attribution
    )
}

/// Runs an outages command.
pub async fn outages(url: &str, out: &Output, args: OutagesArgs) -> Result<(), CliError> {
    let app = open_app(url).await?;
    if let Some(OutagesCommand::Rebuild { since, probe }) = args.command {
        let since = Timestamp::parse_rfc3339(&since)
            .map_err(|e| AppError::invalid("since", e.to_string()))?;
        let probe = probe_flag(probe.as_deref())?;
        let n = outages::rebuild(&app, probe.as_ref(), since).await?;
        print(out, &json!({ "replayedSeries": n }), || {
            format!("{n} outage series replayed from {}", since.to_rfc3339())
        });
        return Ok(());
    }
    let (order, limit) = match (args.latest, args.most_severe) {
        (_, Some(n)) => (OutageOrder::Severity, n),
        (n, None) => (OutageOrder::Latest, n.unwrap_or(10)),
    };
    let flag = if order == OutageOrder::Severity {
        "most-severe"
    } else {
        "latest"
    };
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid(flag, format!("must be 1–1000 (got {limit})")).into());
    }
    let filter = OutageFilter {
        probe: probe_flag(args.probe.as_deref())?,
        ..OutageFilter::default()
    };
    let page = outages::list(&app, &filter, order, limit, None).await?;
    let items: Vec<OutageDto> = page.items.iter().map(OutageDto::from).collect();
    let values: Vec<Value> = items.iter().map(json_of).collect();
    print(out, &Value::Array(values), || {
        if items.is_empty() {
            "no outages".to_owned()
        } else {
            items.iter().map(line).collect::<Vec<_>>().join("\n")
        }
    });
    Ok(())
}
