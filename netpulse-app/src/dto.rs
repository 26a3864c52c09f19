//! The JSON shapes of the API (unit-explicit camelCase names), and conversions from the domain.

use std::collections::BTreeMap;

use netpulse_domain::model::{Connection, Measurement, Probe};
use netpulse_domain::schedule::Schedule;
use poem_openapi::Object;

/// A probe.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ProbeDto {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its labels (`site` is exported with metrics).
    pub labels: BTreeMap<String, String>,
    /// Whether it may poll and push.
    pub enabled: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last recorded poll (RFC 3339), if any.
    pub last_poll_at: Option<String>,
    /// The agent version reported with the last recorded poll.
    pub agent_version: Option<String>,
    /// Engines the agent reported it can run.
    pub agent_engines: Vec<String>,
    /// Its agent state now (in `GET /probes` and `GET /probes/{id}`).
    #[oai(skip_serializing_if_is_none)]
    pub state: Option<ProbeStateDto>,
}

/// A probe's agent state (wave2-specs §4), computed from state rows at the time of the request.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ProbeStateDto {
    /// `ONLINE`, `DEGRADED`, `OFFLINE` or `MAINTENANCE`.
    pub state: String,
    /// Whether its agent is alive underneath (shown with `MAINTENANCE`).
    pub alive: bool,
    /// Why it is degraded (`checks_failing`, `late_poll`, …).
    pub reasons: Vec<String>,
    /// It is offline once silent for longer than this: max(120, 2 × poll interval + 30).
    pub offline_after_seconds: i64,
    /// The maintenance window active now: its end (RFC 3339; null: until switched off).
    pub maintenance_until: Option<String>,
    /// The active window's reason.
    pub maintenance_reason: Option<String>,
    /// Its checks' newest rounds in the last 10 minutes: how many ran, how many failed.
    pub checks_total: u32,
    /// Of those, failed.
    pub checks_failed: u32,
    /// Its agent reported a version older than the server's.
    pub agent_outdated: bool,
}

impl From<&Probe> for ProbeDto {
    fn from(p: &Probe) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.to_string(),
            labels: p
                .labels
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            enabled: p.enabled,
            created_at: p.created_at.to_rfc3339(),
            last_poll_at: p.last_poll_at.map(netpulse_domain::Timestamp::to_rfc3339),
            agent_version: p.agent_version.clone(),
            agent_engines: p
                .agent_engines
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect(),
            state: None,
        }
    }
}

/// A probe with its token, shown once.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct IssuedProbeDto {
    /// The probe.
    pub probe: ProbeDto,
    /// Its bearer token (43 characters). It is not stored and cannot be shown again.
    pub token: String,
}

/// A new token, shown once.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct TokenDto {
    /// The token.
    pub token: String,
}

/// A connection: every setting.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ConnectionDto {
    /// Its id.
    pub id: String,
    /// The probe that tests it.
    pub probe_id: String,
    /// Its name.
    pub name: String,
    /// The ISP as the user names it.
    pub isp: String,
    /// Expected download, Mbps (0 = unknown plan).
    pub download_mbps: u64,
    /// Expected upload, Mbps (0 = unknown plan).
    pub upload_mbps: u64,
    /// Accent colour.
    pub colour: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Server pool entries, in rotation order.
    pub server_pool: Vec<String>,
    /// `even` or `cron`.
    pub schedule: String,
    /// Even schedule: tests per day.
    pub tests_per_day: Option<u32>,
    /// Even schedule: largest jitter, seconds.
    pub jitter_seconds: Option<u32>,
    /// Cron schedule: expressions.
    pub cron: Vec<String>,
    /// Cron schedule: IANA time zone.
    pub timezone: Option<String>,
    /// Minimum download as a fraction of the plan.
    pub min_download_ratio: f64,
    /// Minimum upload as a fraction of the plan.
    pub min_upload_ratio: f64,
    /// Ping cap, ms (null = disabled).
    pub max_ping_ms: Option<f64>,
    /// Jitter cap, ms (null = disabled).
    pub max_jitter_ms: Option<f64>,
    /// Packet-loss cap, percent (null = disabled).
    pub max_packet_loss_percent: Option<f64>,
    /// How much worse than its reliable baseline a result may be before it breaches
    /// `baseline_deviation`, percent.
    pub baseline_deviation_pct: f64,
    /// Retest interval while degraded, seconds.
    pub adaptive_interval_seconds: u32,
    /// Healthy results after the newest unhealthy one that end degradation.
    pub recovery_healthy_count: u32,
    /// Consecutive failures after which adaptive retesting backs off.
    pub max_consecutive_failures: u32,
    /// Own alert threshold (null = the global one).
    pub alert_after: Option<u32>,
    /// Own recovery threshold (null = the global one).
    pub recover_after: Option<u32>,
    /// Interface tests leave through.
    pub source_interface: Option<String>,
    /// Source address tests bind to.
    pub source_address: Option<String>,
    /// Whether it is tested.
    pub enabled: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl From<&Connection> for ConnectionDto {
    fn from(c: &Connection) -> Self {
        let (tests_per_day, jitter_seconds, cron, timezone) = match &c.schedule {
            Schedule::Even(e) => (
                Some(e.tests_per_day()),
                Some(e.jitter_seconds()),
                vec![],
                None,
            ),
            Schedule::Cron(s) => (
                None,
                None,
                s.expressions().to_vec(),
                Some(s.time_zone().to_owned()),
            ),
        };
        Self {
            id: c.id.to_string(),
            probe_id: c.probe_id.to_string(),
            name: c.name.to_string(),
            isp: c.isp.clone(),
            download_mbps: c.expected.download_bps / 1_000_000,
            upload_mbps: c.expected.upload_bps / 1_000_000,
            colour: c.colour.as_str().to_owned(),
            labels: c
                .labels
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            server_pool: c
                .pool
                .entries()
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect(),
            schedule: c.schedule.mode().to_owned(),
            tests_per_day,
            jitter_seconds,
            cron,
            timezone,
            min_download_ratio: c.thresholds.min_download_ratio(),
            min_upload_ratio: c.thresholds.min_upload_ratio(),
            max_ping_ms: c.thresholds.max_ping_ms(),
            max_jitter_ms: c.thresholds.max_jitter_ms(),
            max_packet_loss_percent: c.thresholds.max_packet_loss_percent(),
            baseline_deviation_pct: c.thresholds.baseline_deviation_pct(),
            adaptive_interval_seconds: c.adaptive.adaptive_interval_seconds(),
            recovery_healthy_count: c.adaptive.recovery_healthy_count(),
            max_consecutive_failures: c.adaptive.max_consecutive_failures(),
            alert_after: c.alerts.map(|a| a.unhealthy_count()),
            recover_after: c.alerts.map(|a| a.healthy_count()),
            source_interface: c.source_interface.clone(),
            source_address: c.source_address.clone(),
            enabled: c.enabled,
            created_at: c.created_at.to_rfc3339(),
        }
    }
}

/// The settings accepted by connection update (any subset) and, with `probeId`, by create
/// (`name` required there). Omitted keys keep their value (or default); `null` is accepted only where a key is
/// nullable (it disables a cap or clears an optional setting), elsewhere it is refused (400).
/// Unknown keys are rejected.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ConnectionInputDto {
    /// Name.
    pub name: Option<String>,
    /// ISP.
    pub isp: Option<String>,
    /// Expected download, whole Mbps.
    pub download_mbps: Option<u64>,
    /// Expected upload, whole Mbps.
    pub upload_mbps: Option<u64>,
    /// `primary`, `violet`, `amber`, `teal`, `rose` or `slate`.
    pub colour: Option<String>,
    /// Labels (replace all).
    pub labels: Option<BTreeMap<String, String>>,
    /// Pool entries (replace all): `12345`, `ookla:12345`, `ookla:host:port`, `iperf3://host…`, `https://…`.
    pub server_pool: Option<Vec<String>>,
    /// `even` (default) or `cron`.
    pub schedule: Option<String>,
    /// Even: tests per day, 1–1440 (default 24).
    pub tests_per_day: Option<u32>,
    /// Even: largest jitter, seconds (default 120).
    pub jitter_seconds: Option<u32>,
    /// Cron: 5-field expressions, one per item.
    pub cron: Option<Vec<String>>,
    /// Cron: IANA time zone (default UTC).
    pub timezone: Option<String>,
    /// (0, 1], default 0.7.
    pub min_download_ratio: Option<f64>,
    /// (0, 1], default 0.7.
    pub min_upload_ratio: Option<f64>,
    /// ms, default 100; null disables.
    #[oai(nullable)]
    pub max_ping_ms: Option<f64>,
    /// ms, default 50; null disables.
    #[oai(nullable)]
    pub max_jitter_ms: Option<f64>,
    /// percent, default 5; null disables.
    #[oai(nullable)]
    pub max_packet_loss_percent: Option<f64>,
    /// percent in (0, 1000], default 30: a result this much worse than its reliable baseline
    /// breaches `baseline_deviation`.
    pub baseline_deviation_pct: Option<f64>,
    /// Seconds, default 300.
    pub adaptive_interval_seconds: Option<u32>,
    /// Default 3.
    pub recovery_healthy_count: Option<u32>,
    /// Default 5.
    pub max_consecutive_failures: Option<u32>,
    /// Own alert threshold N; null returns to the global one.
    #[oai(nullable)]
    pub alert_after: Option<u32>,
    /// Own recovery threshold M; null returns to the global one.
    #[oai(nullable)]
    pub recover_after: Option<u32>,
    /// Interface to leave through; null clears.
    #[oai(nullable)]
    pub source_interface: Option<String>,
    /// Source address to bind; null clears.
    #[oai(nullable)]
    pub source_address: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// A new connection: its probe and its settings (`name` required).
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct NewConnectionDto {
    /// The owning probe.
    pub probe_id: String,
    /// The settings.
    #[oai(flatten)]
    pub settings: ConnectionInputDto,
}

/// One measurement.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct MeasurementDto {
    /// The result id.
    pub id: String,
    /// The probe that ran it.
    pub probe_id: String,
    /// The connection measured.
    pub connection_id: String,
    /// `ookla`, `iperf3` or `http`.
    pub engine: String,
    /// The pool entry that was requested.
    pub pool_entry: Option<String>,
    /// `completed` or `failed`.
    pub status: String,
    /// Why it failed: configuration, no_servers, network, licence, timeout, tool_missing, invalid_output, other.
    pub failure_class: Option<String>,
    /// The tool's message.
    pub failure_message: Option<String>,
    /// Download, bits per second.
    pub download_bits_per_second: Option<f64>,
    /// Upload, bits per second.
    pub upload_bits_per_second: Option<f64>,
    /// Bytes received.
    pub download_bytes: Option<u64>,
    /// Bytes sent.
    pub upload_bytes: Option<u64>,
    /// Idle latency, ms.
    pub ping_ms: Option<f64>,
    /// Lowest idle latency, ms.
    pub ping_low_ms: Option<f64>,
    /// Highest idle latency, ms.
    pub ping_high_ms: Option<f64>,
    /// Jitter, ms.
    pub jitter_ms: Option<f64>,
    /// Latency under download load, ms.
    pub download_latency_ms: Option<f64>,
    /// Latency under upload load, ms.
    pub upload_latency_ms: Option<f64>,
    /// Packet loss, percent; null when the tool could not measure it.
    pub packet_loss_percent: Option<f64>,
    /// Tool-reported server id.
    pub server_id: Option<String>,
    /// Server name.
    pub server_name: Option<String>,
    /// Server location.
    pub server_location: Option<String>,
    /// Server host:port.
    pub server_host: Option<String>,
    /// Tool-reported ISP.
    pub isp: Option<String>,
    /// The tool's result page.
    pub result_url: Option<String>,
    /// Start (RFC 3339).
    pub started_at: String,
    /// Completion (RFC 3339; clamped to the receive time).
    pub completed_at: String,
    /// When the server received it (RFC 3339).
    pub received_at: String,
    /// Scheduled (`true`) or run-now (`false`).
    pub scheduled: bool,
    /// The verdict at ingest.
    pub healthy: bool,
    /// Thresholds breached: test_failed, download_below, upload_below, ping_high, jitter_high, packet_loss_high, baseline_deviation.
    pub breaches: Vec<String>,
}

impl From<&Measurement> for MeasurementDto {
    fn from(m: &Measurement) -> Self {
        let o = &m.observation;
        Self {
            id: m.id.to_string(),
            probe_id: m.probe_id.to_string(),
            connection_id: m.connection_id.to_string(),
            engine: m.engine.as_str().to_owned(),
            pool_entry: m.pool_entry.as_ref().map(|p| p.as_str().to_owned()),
            status: if o.completed() { "completed" } else { "failed" }.to_owned(),
            failure_class: o.failure.as_ref().map(|f| f.class.as_str().to_owned()),
            failure_message: o.failure.as_ref().map(|f| f.message.clone()),
            download_bits_per_second: o.download_bps,
            upload_bits_per_second: o.upload_bps,
            download_bytes: o.download_bytes,
            upload_bytes: o.upload_bytes,
            ping_ms: o.ping_ms,
            ping_low_ms: o.ping_low_ms,
            ping_high_ms: o.ping_high_ms,
            jitter_ms: o.jitter_ms,
            download_latency_ms: o.download_latency_ms,
            upload_latency_ms: o.upload_latency_ms,
            packet_loss_percent: o.packet_loss_percent,
            server_id: o.server.id.clone(),
            server_name: o.server.name.clone(),
            server_location: o.server.location.clone(),
            server_host: o.server.host.clone(),
            isp: o.isp.clone(),
            result_url: o.result_url.clone(),
            started_at: m.started_at.to_rfc3339(),
            completed_at: m.completed_at.to_rfc3339(),
            received_at: m.received_at.to_rfc3339(),
            scheduled: m.scheduled,
            healthy: m.verdict.healthy(),
            breaches: m
                .verdict
                .breaches
                .iter()
                .map(|b| b.as_str().to_owned())
                .collect(),
        }
    }
}

/// One measurement with the tool's raw output.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct MeasurementDetailDto {
    /// The measurement.
    #[oai(flatten)]
    pub measurement: MeasurementDto,
    /// The tool's exit status.
    pub exit_code: Option<i32>,
    /// What the tool printed on stdout.
    pub stdout: String,
    /// What the tool printed on stderr.
    pub stderr: String,
}

/// A page of a list.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct MeasurementPageDto {
    /// The items.
    pub items: Vec<MeasurementDto>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A list of probes.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ProbeListDto {
    /// The probes, by name.
    pub items: Vec<ProbeDto>,
    /// Always null (the list is not paginated).
    pub next_cursor: Option<String>,
}

/// A list of connections.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ConnectionListDto {
    /// The connections, by probe then name.
    pub items: Vec<ConnectionDto>,
    /// Always null (the list is not paginated).
    pub next_cursor: Option<String>,
}
