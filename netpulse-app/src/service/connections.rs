//! Connections: every field validated, defaults applied, partial updates merged.

use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::degradation::AdaptivePolicy;
use netpulse_domain::health::Thresholds;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::Connection;
use netpulse_domain::pool::ServerPool;
use netpulse_domain::schedule::{CronSchedule, EvenSchedule, Schedule, check_time_zone};
use netpulse_domain::values::{
    Colour, ExpectedSpeed, MAX_ISP_CHARS, MAX_SOURCE_CHARS, Name, check_length,
};

use super::probes::labels_from_pairs;
use super::{App, new_uuid};
use crate::error::AppError;

/// A cap that can be disabled: `Some(None)` disables it, `None` leaves it as it was (or the
/// default on create).
pub type Cap = Option<Option<f64>>;

/// Connection settings as typed by a user; every field optional (create fills defaults, update
/// keeps what is stored). Field names are the domain's; the edges map them to flags and keys.
#[derive(Debug, Clone, Default)]
pub struct ConnectionInput {
    /// Display name.
    pub name: Option<String>,
    /// The ISP as the user names it.
    pub isp: Option<String>,
    /// Expected download, whole Mbps.
    pub download_mbps: Option<u64>,
    /// Expected upload, whole Mbps.
    pub upload_mbps: Option<u64>,
    /// Accent colour name.
    pub colour: Option<String>,
    /// `key=value` labels (replace all when given).
    pub labels: Option<Vec<String>>,
    /// Pool entries (replace all when given).
    pub server_pool: Option<Vec<String>>,
    /// `even` or `cron`.
    pub schedule: Option<String>,
    /// Even schedule: tests per day.
    pub tests_per_day: Option<u32>,
    /// Even schedule: jitter seconds.
    pub jitter_seconds: Option<u32>,
    /// Cron schedule: expressions (a list, never split on commas).
    pub cron: Option<Vec<String>>,
    /// Cron schedule: IANA time zone.
    pub timezone: Option<String>,
    /// Minimum download ratio of the plan.
    pub min_download_ratio: Option<f64>,
    /// Minimum upload ratio of the plan.
    pub min_upload_ratio: Option<f64>,
    /// Ping cap, ms.
    pub max_ping_ms: Cap,
    /// Jitter cap, ms.
    pub max_jitter_ms: Cap,
    /// Packet-loss cap, percent.
    pub max_packet_loss_percent: Cap,
    /// Deviation from the baseline, percent.
    pub baseline_deviation_pct: Option<f64>,
    /// Adaptive interval, seconds.
    pub adaptive_interval_seconds: Option<u32>,
    /// Healthy results that end degradation.
    pub recovery_healthy_count: Option<u32>,
    /// Failed results after which adaptive retesting backs off.
    pub max_consecutive_failures: Option<u32>,
    /// Own alert threshold N (`Some(None)` returns to the global one).
    pub alert_after: Option<Option<u32>>,
    /// Own recovery threshold M.
    pub recover_after: Option<Option<u32>>,
    /// Source interface (`Some(None)` clears it).
    pub source_interface: Option<Option<String>>,
    /// Source address (`Some(None)` clears it).
    pub source_address: Option<Option<String>>,
    /// Whether it is tested.
    pub enabled: Option<bool>,
}

fn non_empty(field: &'static str, v: Option<String>) -> Result<Option<String>, AppError> {
    match v {
        Some(s) if s.trim().is_empty() => Err(AppError::invalid(
            field,
            "must not be empty (omit it to clear)",
        )),
        Some(s) => {
            check_length(field, &s, MAX_SOURCE_CHARS)?;
            if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(AppError::invalid(
                    field,
                    format!("must not contain spaces (got {s:?})"),
                ));
            }
            Ok(Some(s))
        }
        None => Ok(None),
    }
}

/// The ISP text: trimmed, at most [`MAX_ISP_CHARS`], no control characters.
fn isp(text: &str) -> Result<String, AppError> {
    let t = text.trim();
    check_length("isp", t, MAX_ISP_CHARS)?;
    if t.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "isp",
            "must not contain control characters",
        ));
    }
    Ok(t.to_owned())
}

impl ConnectionInput {
    /// Builds the connection: `base` is the stored one on update, `None` on create.
    pub fn apply(
        self,
        app: &App,
        id: ConnectionId,
        probe_id: ProbeId,
        base: Option<&Connection>,
    ) -> Result<Connection, AppError> {
        let now = app.clock.now();
        let name = match (self.name, base) {
            (Some(n), _) => Name::parse("name", &n)?,
            (None, Some(b)) => b.name.clone(),
            (None, None) => return Err(AppError::invalid("name", "is required")),
        };
        let expected = ExpectedSpeed::from_mbps(
            self.download_mbps
                .unwrap_or_else(|| base.map_or(0, |b| b.expected.download_bps / 1_000_000)),
            self.upload_mbps
                .unwrap_or_else(|| base.map_or(0, |b| b.expected.upload_bps / 1_000_000)),
        );
        if let Some(d) = self.download_mbps.filter(|d| *d > 1_000_000) {
            return Err(AppError::invalid(
                "download_mbps",
                format!("must be <= 1000000 (got {d})"),
            ));
        }
        if let Some(u) = self.upload_mbps.filter(|u| *u > 1_000_000) {
            return Err(AppError::invalid(
                "upload_mbps",
                format!("must be <= 1000000 (got {u})"),
            ));
        }
        let colour = match self.colour {
            Some(c) => Colour::parse(&c)?,
            None => base.map_or(Colour::default(), |b| b.colour),
        };
        let labels = match self.labels {
            Some(pairs) => labels_from_pairs(&pairs)?,
            None => base.map(|b| b.labels.clone()).unwrap_or_default(),
        };
        let pool = match self.server_pool {
            Some(entries) => ServerPool::parse_all(&entries)?,
            None => base.map(|b| b.pool.clone()).unwrap_or_default(),
        };
        let schedule = build_schedule(
            app,
            base.map(|b| &b.schedule),
            self.schedule.as_deref(),
            self.tests_per_day,
            self.jitter_seconds,
            self.cron,
            self.timezone,
        )?;
        let t = base.map_or_else(Thresholds::default, |b| b.thresholds);
        let thresholds = Thresholds::new(
            self.min_download_ratio.unwrap_or(t.min_download_ratio()),
            self.min_upload_ratio.unwrap_or(t.min_upload_ratio()),
            self.max_ping_ms.unwrap_or(t.max_ping_ms()),
            self.max_jitter_ms.unwrap_or(t.max_jitter_ms()),
            self.max_packet_loss_percent
                .unwrap_or(t.max_packet_loss_percent()),
        )?
        .with_baseline_deviation_pct(
            self.baseline_deviation_pct
                .unwrap_or(t.baseline_deviation_pct()),
        )?;
        let a = base.map_or_else(AdaptivePolicy::default, |b| b.adaptive);
        let adaptive = AdaptivePolicy::new(
            self.adaptive_interval_seconds
                .unwrap_or(a.adaptive_interval_seconds()),
            self.recovery_healthy_count
                .unwrap_or(a.recovery_healthy_count()),
            self.max_consecutive_failures
                .unwrap_or(a.max_consecutive_failures()),
        )?;
        let stored_alerts = base.and_then(|b| b.alerts);
        let alert_after = self
            .alert_after
            .unwrap_or(stored_alerts.map(|p| p.unhealthy_count()));
        let recover_after = self
            .recover_after
            .unwrap_or(stored_alerts.map(|p| p.healthy_count()));
        let alerts = match (alert_after, recover_after) {
            (None, None) => None,
            (n, m) => Some(AlertPolicy::new(
                n.unwrap_or(app.default_alerts.unhealthy_count()),
                m.unwrap_or(app.default_alerts.healthy_count()),
            )?),
        };
        Ok(Connection {
            id,
            probe_id,
            name,
            isp: match self.isp {
                Some(s) => isp(&s)?,
                None => base.map(|b| b.isp.clone()).unwrap_or_default(),
            },
            expected,
            colour,
            labels,
            pool,
            schedule,
            thresholds,
            adaptive,
            alerts,
            source_interface: match self.source_interface {
                Some(v) => non_empty("source_interface", v)?,
                None => base.and_then(|b| b.source_interface.clone()),
            },
            source_address: match self.source_address {
                Some(v) => non_empty("source_address", v)?,
                None => base.and_then(|b| b.source_address.clone()),
            },
            enabled: self.enabled.unwrap_or(base.is_none_or(|b| b.enabled)),
            created_at: base.map_or(now, |b| b.created_at),
        })
    }
}

fn build_schedule(
    app: &App,
    base: Option<&Schedule>,
    mode: Option<&str>,
    tests_per_day: Option<u32>,
    jitter_seconds: Option<u32>,
    cron: Option<Vec<String>>,
    timezone: Option<String>,
) -> Result<Schedule, AppError> {
    let mode = match mode {
        Some("even") => "even",
        Some("cron") => "cron",
        Some(other) => {
            return Err(AppError::invalid(
                "schedule",
                format!("must be even or cron (got {other:?})"),
            ));
        }
        None if cron.is_some() => "cron",
        None if tests_per_day.is_some() || jitter_seconds.is_some() => "even",
        None => base.map_or("even", Schedule::mode),
    };
    if mode == "even" {
        // An even schedule has no time zone, but one given is still checked: a mistyped zone
        // is refused, never dropped silently.
        if let Some(tz) = &timezone {
            check_time_zone(tz, &app.calendar)?;
        }
        if cron.is_some() {
            return Err(AppError::invalid(
                "cron",
                "only applies to a cron schedule (use --schedule cron)",
            ));
        }
        let (d_per_day, d_jitter) = match base {
            Some(Schedule::Even(e)) => (e.tests_per_day(), e.jitter_seconds()),
            _ => (24, 120),
        };
        Ok(Schedule::Even(EvenSchedule::new(
            tests_per_day.unwrap_or(d_per_day),
            jitter_seconds.unwrap_or(d_jitter),
        )?))
    } else {
        if tests_per_day.is_some() || jitter_seconds.is_some() {
            return Err(AppError::invalid(
                "tests_per_day",
                "only applies to an even schedule",
            ));
        }
        let (d_exprs, d_tz) = match base {
            Some(Schedule::Cron(c)) => (Some(c.expressions().to_vec()), c.time_zone().to_owned()),
            _ => (None, "UTC".to_owned()),
        };
        let expressions = cron.or(d_exprs).unwrap_or_default();
        let tz = timezone.unwrap_or(d_tz);
        Ok(Schedule::Cron(CronSchedule::new(
            expressions,
            &tz,
            &app.calendar,
        )?))
    }
}

/// Creates a connection for a probe.
pub async fn create(
    app: &App,
    probe_id: &ProbeId,
    input: ConnectionInput,
) -> Result<Connection, AppError> {
    let id =
        ConnectionId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?;
    let connection = input.apply(app, id, probe_id.clone(), None)?;
    app.storage.create_connection(&connection).await?;
    super::mqtt::changed(app);
    super::audit::record(
        app,
        "connection.create",
        format!("connection:{}", connection.id),
        format!("{} on probe {probe_id}", connection.name),
    )
    .await?;
    Ok(connection)
}

/// One connection.
pub async fn get(app: &App, id: &ConnectionId) -> Result<Connection, AppError> {
    app.storage
        .connection(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "connection",
            id: id.to_string(),
        })
}

/// Merges `input` into the stored connection.
pub async fn update(
    app: &App,
    id: &ConnectionId,
    input: ConnectionInput,
) -> Result<Connection, AppError> {
    let stored = get(app, id).await?;
    let updated = input.apply(
        app,
        stored.id.clone(),
        stored.probe_id.clone(),
        Some(&stored),
    )?;
    app.storage.update_connection(&updated).await?;
    super::mqtt::changed(app);
    super::audit::record(
        app,
        "connection.update",
        format!("connection:{}", updated.id),
        updated.name.to_string(),
    )
    .await?;
    Ok(updated)
}

/// The connections of one probe, or of every probe.
pub async fn list(app: &App, probe: Option<&ProbeId>) -> Result<Vec<Connection>, AppError> {
    Ok(app.storage.connections(probe).await?)
}

/// Starts (`true`) or stops (`false`) testing a connection.
pub async fn set_enabled(app: &App, id: &ConnectionId, enabled: bool) -> Result<(), AppError> {
    app.storage.set_connection_enabled(id, enabled).await?;
    let action = if enabled {
        "connection.enable"
    } else {
        "connection.disable"
    };
    super::audit::record(app, action, format!("connection:{id}"), "").await
}

/// Deletes a connection and its measurements.
pub async fn delete(app: &App, id: &ConnectionId) -> Result<(), AppError> {
    app.storage.delete_connection(id).await?;
    super::mqtt::changed(app);
    super::audit::record(app, "connection.delete", format!("connection:{id}"), "").await
}
