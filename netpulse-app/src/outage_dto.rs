//! The JSON shapes of outages, their timelines and uptime (REST API and `netpulse outages
//! --json`), and conversions from the domain.

use netpulse_domain::outage::{OutageRules, Severity};
use netpulse_ports::outage_store::{
    OutageDetail, OutagePage, SeriesUptime, StoredOutage, StoredRound, Uptime,
};
use poem_openapi::Object;

/// A failing check of an outage.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct FailingCheckDto {
    /// The check.
    pub check_id: String,
    /// Its first failure class in the outage.
    pub failure_class: Option<String>,
}

/// An outage: a run of failing rounds of one probe and family.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct OutageDto {
    /// Its id (stable across rebuilds).
    pub id: String,
    /// The probe.
    pub probe_id: String,
    /// `v4`, `v6` or `all` (every configured family at once).
    pub family: String,
    /// The first failing round (RFC 3339).
    pub started_at: String,
    /// The end of the last failing round; null while it goes on.
    pub ended_at: Option<String>,
    /// Still going on.
    pub ongoing: bool,
    /// Closed by a gap without data longer than 5 minutes: the real end is not known.
    pub end_uncertain: bool,
    /// From the start to the end of the last failing round (so far), seconds.
    pub duration_seconds: f64,
    /// `complete` (every round down) or `partial`.
    pub severity: String,
    /// `Complete` or `Partial (37.50 %)`.
    pub severity_label: String,
    /// Failed checks over counted checks in its failing rounds (1 when complete).
    pub failed_share: f64,
    /// Σ failed share × round period, seconds.
    pub impact_seconds: f64,
    /// Time in down rounds, seconds.
    pub complete_seconds: f64,
    /// Time in partial rounds, seconds.
    pub partial_seconds: f64,
    /// Rounds down.
    pub rounds_down: u32,
    /// Rounds partial.
    pub rounds_partial: u32,
    /// Rounds without data inside it (not counted as downtime).
    pub rounds_unknown: u32,
    /// `link` (the host lost its route), `lan` (the gateway failed) or `isp`.
    pub attribution: String,
    /// The failing checks (the first 32).
    pub failing_checks: Vec<FailingCheckDto>,
}

impl From<&StoredOutage> for OutageDto {
    fn from(o: &StoredOutage) -> Self {
        let e = &o.episode;
        let rules = OutageRules::default();
        let secs = |ms: i64| ms as f64 / 1000.0;
        let severity = e.severity();
        Self {
            id: o.id.clone(),
            probe_id: o.probe_id.to_string(),
            family: o.family.as_str().to_owned(),
            started_at: netpulse_domain::Timestamp::from_unix_millis(e.started_at_ms).to_rfc3339(),
            ended_at: e
                .ended_at_ms()
                .map(|t| netpulse_domain::Timestamp::from_unix_millis(t).to_rfc3339()),
            ongoing: !e.closed,
            end_uncertain: e.end_uncertain,
            duration_seconds: secs(e.duration_ms()),
            severity: match severity {
                Severity::Complete => "complete",
                Severity::Partial(_) => "partial",
            }
            .to_owned(),
            severity_label: severity.label(),
            failed_share: match severity {
                Severity::Complete => 1.0,
                Severity::Partial(r) => r,
            },
            impact_seconds: e.impact_ms / 1000.0,
            complete_seconds: secs(e.complete_ms(&rules)),
            partial_seconds: secs(e.partial_ms(&rules)),
            rounds_down: e.rounds_down,
            rounds_partial: e.rounds_partial,
            rounds_unknown: e.rounds_unknown,
            attribution: e.attribution().as_str().to_owned(),
            failing_checks: e
                .failing_checks
                .iter()
                .map(|(id, class)| FailingCheckDto {
                    check_id: id.clone(),
                    failure_class: class.clone(),
                })
                .collect(),
        }
    }
}

/// A page of outages.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct OutagePageDto {
    /// In the order asked for.
    pub items: Vec<OutageDto>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl From<&OutagePage> for OutagePageDto {
    fn from(p: &OutagePage) -> Self {
        Self {
            items: p.items.iter().map(OutageDto::from).collect(),
            next_cursor: p.next_cursor.clone(),
        }
    }
}

/// One round of an outage's timeline.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct OutageRoundDto {
    /// The scheduled round time (RFC 3339).
    pub round_at: String,
    /// `up`, `target`, `partial`, `down`, `local`, `maintenance` or `unknown`.
    pub state: String,
    /// Failed checks.
    pub failed: u32,
    /// Checks that ended ok or failed.
    pub counted: u32,
}

impl From<&StoredRound> for OutageRoundDto {
    fn from(r: &StoredRound) -> Self {
        Self {
            round_at: r.round_at.to_rfc3339(),
            state: r.state.to_owned(),
            failed: r.failed,
            counted: r.counted,
        }
    }
}

/// An outage with its timeline.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct OutageDetailDto {
    /// The outage.
    pub outage: OutageDto,
    /// Its stored rounds and five on each side, oldest first (rounds without data are
    /// missing: unknown).
    pub rounds: Vec<OutageRoundDto>,
}

impl From<&OutageDetail> for OutageDetailDto {
    fn from(d: &OutageDetail) -> Self {
        Self {
            outage: OutageDto::from(&d.outage),
            rounds: d.rounds.iter().map(OutageRoundDto::from).collect(),
        }
    }
}

/// Uptime of one probe and family over the window.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct SeriesUptimeDto {
    /// The probe.
    pub probe_id: String,
    /// `v4`, `v6` or `all`.
    pub family: String,
    /// 1 − complete / measured (maintenance and local time left out); null when nothing was
    /// measured.
    pub availability: Option<f64>,
    /// 1 − (complete + partial) / measured.
    pub availability_strict: Option<f64>,
    /// Measured time over the window outside maintenance; null when all of it was maintenance.
    pub coverage: Option<f64>,
    /// Time in down rounds, seconds.
    pub downtime_seconds: f64,
    /// Time in partial rounds, seconds.
    pub partial_seconds: f64,
    /// Time with data, seconds.
    pub known_seconds: f64,
    /// Time without data, seconds.
    pub unknown_seconds: f64,
    /// Time in maintenance, seconds.
    pub maintenance_seconds: f64,
    /// Time the agent could not measure, seconds.
    pub local_seconds: f64,
}

impl From<&SeriesUptime> for SeriesUptimeDto {
    fn from(s: &SeriesUptime) -> Self {
        let secs = |ms: i64| ms as f64 / 1000.0;
        Self {
            probe_id: s.probe_id.to_string(),
            family: s.family.as_str().to_owned(),
            availability: s.availability.availability,
            availability_strict: s.availability.strict,
            coverage: s.availability.coverage,
            downtime_seconds: secs(s.time.complete_ms),
            partial_seconds: secs(s.time.partial_ms),
            known_seconds: secs(s.time.known_ms),
            unknown_seconds: secs(s.unknown_ms),
            maintenance_seconds: secs(s.time.maintenance_ms),
            local_seconds: secs(s.time.local_ms),
        }
    }
}

/// Uptime over a window.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct UptimeDto {
    /// The window's start (RFC 3339).
    pub since: String,
    /// The window's end.
    pub until: String,
    /// Per probe and family.
    pub series: Vec<SeriesUptimeDto>,
}

impl From<&Uptime> for UptimeDto {
    fn from(u: &Uptime) -> Self {
        Self {
            since: u.since.to_rfc3339(),
            until: u.until.to_rfc3339(),
            series: u.series.iter().map(SeriesUptimeDto::from).collect(),
        }
    }
}
