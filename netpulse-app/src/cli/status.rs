//! `netpulse status [--probe P] [--since 30d] [--json]`: the PlexSheep-style summary (check
//! results in all, per kind and per family), uptime with coverage, and the 10 latest and 10
//! most severe outages of the window. The figures are `GET /api/v1/status`'s.

use clap::Args;
use netpulse_domain::id::ProbeId;

use super::output::{json_of, print};
use super::{CliError, Output};
use crate::error::AppError;
use crate::notify::render::duration;
use crate::outage_dto::OutageDto;
use crate::service::status;
use crate::startup::open_app;
use crate::status_dto::{StatusDto, TallyDto};

/// `status [--probe P] [--since 30d]`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this probe's.
    #[arg(long, value_name = "PROBE")]
    pub probe: Option<String>,
    /// The window: a duration back from now (30d, 12h, 90m) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", default_value = "30d")]
    pub since: String,
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{:.3} %", r * 100.0))
}

fn tally_line(t: &TallyDto) -> String {
    format!(
        "  {:<5} checks {:>7}  ok {:>7}  bad {:>6}  other {:>5}  success {:>9}  first {}  last {}",
        t.name,
        t.checks,
        t.ok,
        t.bad,
        t.other,
        percent(t.success_ratio),
        t.first_check.as_deref().unwrap_or("—"),
        t.last_check.as_deref().unwrap_or("—"),
    )
}

fn outage_line(o: &OutageDto) -> String {
    let end = o.ended_at.as_deref().unwrap_or("(ongoing)");
    let uncertain = if o.end_uncertain {
        " (end uncertain)"
    } else {
        ""
    };
    format!(
        "  {} → {end}{uncertain}  {}  {}  {}  {}",
        o.started_at,
        duration(o.duration_seconds.round() as i64),
        o.severity_label,
        o.family,
        o.attribution
    )
}

/// The summary as text.
pub fn text(d: &StatusDto) -> String {
    let mut out = vec![format!("Status from {} to {}", d.since, d.until)];
    out.push("Check results".to_owned());
    out.push(tally_line(&d.checks));
    if !d.kinds.is_empty() {
        out.push("Per kind".to_owned());
        out.extend(d.kinds.iter().map(tally_line));
        out.push("Per family".to_owned());
        out.extend(d.families.iter().map(tally_line));
    }
    out.push("Uptime (availability: complete outages only; strict: complete and partial)".into());
    if d.uptime.is_empty() {
        out.push("  no outage series yet (no connectivity checks)".to_owned());
    }
    for u in &d.uptime {
        out.push(format!(
            "  {} {:<3}  availability {:>9}  strict {:>9}  coverage {:>9}  downtime {}",
            u.probe_id,
            u.family,
            percent(u.availability),
            percent(u.availability_strict),
            percent(u.coverage),
            duration(u.downtime_seconds.round() as i64)
        ));
    }
    for (title, list) in [
        ("Latest outages", &d.latest),
        ("Most severe outages", &d.most_severe),
    ] {
        out.push(title.to_owned());
        if list.is_empty() {
            out.push("  none".to_owned());
        }
        out.extend(list.iter().map(outage_line));
    }
    out.join("\n")
}

/// Runs `status`.
pub async fn status(url: &str, out: &Output, args: StatusArgs) -> Result<(), CliError> {
    let app = open_app(url).await?;
    let probe = args
        .probe
        .as_deref()
        .map(|p| ProbeId::parse(p).map_err(|e| AppError::invalid("probe", e.to_string())))
        .transpose()?;
    let since = status::parse_since("since", &args.since, app.clock.now())?;
    let summary = status::summary(&app, probe.as_ref(), Some(since), None).await?;
    let dto = StatusDto::from(&summary);
    print(out, &json_of(&dto), || text(&dto));
    Ok(())
}
