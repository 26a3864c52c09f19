//! The JSON shape of the status summary (`GET /api/v1/status` and `netpulse status --json`).

use netpulse_domain::Timestamp;
use netpulse_ports::status_store::{Summary, Tally};
use poem_openapi::Object;

use crate::outage_dto::{OutageDto, SeriesUptimeDto};

/// Check results of a group (every result, one check kind or one family) in the window.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct TallyDto {
    /// `all`, a check kind (`icmp`, `http`, `dns`, `tcp`, `udp`) or a family (`v4`, `v6`).
    pub name: String,
    /// Results.
    pub checks: u64,
    /// Results that ended ok.
    pub ok: u64,
    /// Results that failed.
    pub bad: u64,
    /// Results neither ok nor failed (not applicable, or the agent could not measure).
    pub other: u64,
    /// ok / (ok + bad); null without either.
    pub success_ratio: Option<f64>,
    /// The oldest round (RFC 3339).
    pub first_check: Option<String>,
    /// The newest round (RFC 3339).
    pub last_check: Option<String>,
}

impl TallyDto {
    fn of(name: &str, t: &Tally) -> Self {
        Self {
            name: name.to_owned(),
            checks: t.checks,
            ok: t.ok,
            bad: t.bad,
            other: t.other,
            success_ratio: t.success_ratio(),
            first_check: t.first.map(Timestamp::to_rfc3339),
            last_check: t.last.map(Timestamp::to_rfc3339),
        }
    }
}

/// The status summary over a window: check results, uptime with coverage, outages.
#[derive(Debug, Clone, Object)]
#[oai(rename = "StatusSummaryDto", rename_all = "camelCase")]
pub struct StatusDto {
    /// The probe asked for; null for every probe.
    pub probe_id: Option<String>,
    /// The window's start (RFC 3339).
    pub since: String,
    /// The window's end.
    pub until: String,
    /// Every check result of the window.
    pub checks: TallyDto,
    /// Per check kind.
    pub kinds: Vec<TallyDto>,
    /// Per family.
    pub families: Vec<TallyDto>,
    /// Availability, strict availability and coverage per probe and family.
    pub uptime: Vec<SeriesUptimeDto>,
    /// The 10 latest outages going on in the window.
    pub latest: Vec<OutageDto>,
    /// The 10 most severe (complete before partial, then impact, then duration).
    pub most_severe: Vec<OutageDto>,
}

impl From<&Summary> for StatusDto {
    fn from(s: &Summary) -> Self {
        Self {
            probe_id: s.probe.as_ref().map(ToString::to_string),
            since: s.uptime.since.to_rfc3339(),
            until: s.uptime.until.to_rfc3339(),
            checks: TallyDto::of("all", &s.all),
            kinds: s.kinds.iter().map(|(k, t)| TallyDto::of(k, t)).collect(),
            families: s.families.iter().map(|(f, t)| TallyDto::of(f, t)).collect(),
            uptime: s.uptime.series.iter().map(SeriesUptimeDto::from).collect(),
            latest: s.latest.iter().map(OutageDto::from).collect(),
            most_severe: s.most_severe.iter().map(OutageDto::from).collect(),
        }
    }
}
