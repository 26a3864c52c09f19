//! The connection form's values as text: the defaults of a new connection, a stored
//! connection's values, reading the posted form and turning it into the service input (with the
//! errors of fields that are not even numbers), and where service errors are shown.

use netpulse_domain::model::Connection;
use netpulse_domain::schedule::Schedule;
use serde::Serialize;

use crate::service::connections::ConnectionInput;
use crate::web::forms::{FieldErrors, FormData};

/// Every field of the form, as text.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectionForm {
    /// Probe id.
    pub probe_id: String,
    /// Name.
    pub name: String,
    /// ISP.
    pub isp: String,
    /// Colour.
    pub colour: String,
    /// Plan.
    pub download_mbps: String,
    /// Plan.
    pub upload_mbps: String,
    /// One `key=value` a line.
    pub labels: String,
    /// One entry a line.
    pub server_pool: String,
    /// `even` or `cron`.
    pub schedule: String,
    /// Even schedule.
    pub tests_per_day: String,
    /// Even schedule.
    pub jitter_seconds: String,
    /// One expression a line.
    pub cron: String,
    /// Cron time zone.
    pub timezone: String,
    /// Thresholds.
    pub min_download_ratio: String,
    /// Thresholds.
    pub min_upload_ratio: String,
    /// Caps (empty = off).
    pub max_ping_ms: String,
    /// Caps.
    pub max_jitter_ms: String,
    /// Caps.
    pub max_packet_loss_percent: String,
    /// Deviation from the baseline, percent.
    pub baseline_deviation_pct: String,
    /// Adaptive policy.
    pub adaptive_interval_seconds: String,
    /// Adaptive policy.
    pub recovery_healthy_count: String,
    /// Adaptive policy.
    pub max_consecutive_failures: String,
    /// Alert edges (empty = global).
    pub alert_after: String,
    /// Alert edges.
    pub recover_after: String,
    /// Multi-WAN.
    pub source_interface: String,
    /// Multi-WAN.
    pub source_address: String,
    /// Tested at all.
    pub enabled: bool,
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl ConnectionForm {
    /// The defaults of a new connection.
    pub fn new_default(probe: Option<&str>) -> Self {
        Self {
            probe_id: probe.unwrap_or_default().to_owned(),
            colour: "primary".into(),
            download_mbps: "0".into(),
            upload_mbps: "0".into(),
            schedule: "even".into(),
            tests_per_day: "24".into(),
            jitter_seconds: "120".into(),
            timezone: "UTC".into(),
            min_download_ratio: "0.7".into(),
            min_upload_ratio: "0.7".into(),
            max_ping_ms: "100".into(),
            max_jitter_ms: "50".into(),
            max_packet_loss_percent: "5".into(),
            baseline_deviation_pct: "30".into(),
            adaptive_interval_seconds: "300".into(),
            recovery_healthy_count: "3".into(),
            max_consecutive_failures: "5".into(),
            enabled: true,
            ..Self::default()
        }
    }

    /// A stored connection's values.
    pub fn of(c: &Connection) -> Self {
        let t = &c.thresholds;
        let (schedule, per_day, jitter, cron, tz) = match &c.schedule {
            Schedule::Even(e) => (
                "even",
                e.tests_per_day().to_string(),
                e.jitter_seconds().to_string(),
                String::new(),
                "UTC".to_owned(),
            ),
            Schedule::Cron(s) => (
                "cron",
                "24".into(),
                "120".into(),
                s.expressions().join("\n"),
                s.time_zone().to_owned(),
            ),
        };
        Self {
            probe_id: c.probe_id.as_str().into(),
            name: c.name.as_str().into(),
            isp: c.isp.clone(),
            colour: c.colour.as_str().into(),
            download_mbps: (c.expected.download_bps / 1_000_000).to_string(),
            upload_mbps: (c.expected.upload_bps / 1_000_000).to_string(),
            labels: c
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            server_pool: c
                .pool
                .entries()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect::<Vec<_>>()
                .join("\n"),
            schedule: schedule.into(),
            tests_per_day: per_day,
            jitter_seconds: jitter,
            cron,
            timezone: tz,
            min_download_ratio: t.min_download_ratio().to_string(),
            min_upload_ratio: t.min_upload_ratio().to_string(),
            max_ping_ms: num(t.max_ping_ms()),
            max_jitter_ms: num(t.max_jitter_ms()),
            max_packet_loss_percent: num(t.max_packet_loss_percent()),
            baseline_deviation_pct: num(Some(t.baseline_deviation_pct())),
            adaptive_interval_seconds: c.adaptive.adaptive_interval_seconds().to_string(),
            recovery_healthy_count: c.adaptive.recovery_healthy_count().to_string(),
            max_consecutive_failures: c.adaptive.max_consecutive_failures().to_string(),
            alert_after: num(c.alerts.map(|a| a.unhealthy_count())),
            recover_after: num(c.alerts.map(|a| a.healthy_count())),
            source_interface: c.source_interface.clone().unwrap_or_default(),
            source_address: c.source_address.clone().unwrap_or_default(),
            enabled: c.enabled,
        }
    }

    /// The posted form's values.
    pub(super) fn read(form: &FormData) -> Self {
        Self {
            probe_id: form.get("probe_id"),
            name: form.get("name"),
            isp: form.get("isp"),
            colour: form.get("colour"),
            download_mbps: form.get("download_mbps"),
            upload_mbps: form.get("upload_mbps"),
            labels: form.raw("labels"),
            server_pool: form.raw("server_pool"),
            schedule: form.get("schedule"),
            tests_per_day: form.get("tests_per_day"),
            jitter_seconds: form.get("jitter_seconds"),
            cron: form.raw("cron"),
            timezone: form.get("timezone"),
            min_download_ratio: form.get("min_download_ratio"),
            min_upload_ratio: form.get("min_upload_ratio"),
            max_ping_ms: form.get("max_ping_ms"),
            max_jitter_ms: form.get("max_jitter_ms"),
            max_packet_loss_percent: form.get("max_packet_loss_percent"),
            baseline_deviation_pct: form.get("baseline_deviation_pct"),
            adaptive_interval_seconds: form.get("adaptive_interval_seconds"),
            recovery_healthy_count: form.get("recovery_healthy_count"),
            max_consecutive_failures: form.get("max_consecutive_failures"),
            alert_after: form.get("alert_after"),
            recover_after: form.get("recover_after"),
            source_interface: form.get("source_interface"),
            source_address: form.get("source_address"),
            enabled: form.checked("enabled"),
        }
    }

    /// The service input, or the errors of fields that are not even numbers.
    pub(super) fn input(&self, errors: &mut FieldErrors) -> ConnectionInput {
        fn parse<T: std::str::FromStr>(
            errors: &mut FieldErrors,
            field: &str,
            text: &str,
            what: &str,
        ) -> Option<T> {
            let t = text.trim();
            if t.is_empty() {
                errors.add(field, format!("enter {what}"));
                return None;
            }
            t.parse()
                .map_err(|_| errors.add(field, format!("must be {what} (got {t:?})")))
                .ok()
        }
        fn optional<T: std::str::FromStr>(
            errors: &mut FieldErrors,
            field: &str,
            text: &str,
            what: &str,
        ) -> Option<T> {
            let t = text.trim();
            if t.is_empty() {
                return None;
            }
            t.parse()
                .map_err(|_| errors.add(field, format!("must be {what} or empty (got {t:?})")))
                .ok()
        }
        let lines = |t: &str| -> Vec<String> {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let cron = self.schedule == "cron";
        let text = |t: &str| Some(Some(t.trim().to_owned()).filter(|s| !s.is_empty()));
        ConnectionInput {
            name: Some(self.name.clone()),
            isp: Some(self.isp.clone()),
            download_mbps: parse(
                errors,
                "download_mbps",
                &self.download_mbps,
                "a whole number of Mbps",
            ),
            upload_mbps: parse(
                errors,
                "upload_mbps",
                &self.upload_mbps,
                "a whole number of Mbps",
            ),
            colour: Some(self.colour.clone()),
            labels: Some(lines(&self.labels)),
            server_pool: Some(lines(&self.server_pool)),
            schedule: Some(self.schedule.clone()),
            tests_per_day: if cron {
                None
            } else {
                parse(
                    errors,
                    "tests_per_day",
                    &self.tests_per_day,
                    "a whole number",
                )
            },
            jitter_seconds: if cron {
                None
            } else {
                parse(
                    errors,
                    "jitter_seconds",
                    &self.jitter_seconds,
                    "a whole number of seconds",
                )
            },
            cron: cron.then(|| lines(&self.cron)),
            timezone: cron.then(|| self.timezone.trim().to_owned()),
            min_download_ratio: parse(
                errors,
                "min_download_ratio",
                &self.min_download_ratio,
                "a ratio such as 0.7",
            ),
            min_upload_ratio: parse(
                errors,
                "min_upload_ratio",
                &self.min_upload_ratio,
                "a ratio such as 0.7",
            ),
            max_ping_ms: Some(optional(
                errors,
                "max_ping_ms",
                &self.max_ping_ms,
                "a number of ms",
            )),
            max_jitter_ms: Some(optional(
                errors,
                "max_jitter_ms",
                &self.max_jitter_ms,
                "a number of ms",
            )),
            max_packet_loss_percent: Some(optional(
                errors,
                "max_packet_loss_percent",
                &self.max_packet_loss_percent,
                "a percentage",
            )),
            // Empty keeps the stored deviation (30 % on a new connection).
            baseline_deviation_pct: optional(
                errors,
                "baseline_deviation_pct",
                &self.baseline_deviation_pct,
                "a percentage",
            ),
            adaptive_interval_seconds: parse(
                errors,
                "adaptive_interval_seconds",
                &self.adaptive_interval_seconds,
                "a whole number of seconds",
            ),
            recovery_healthy_count: parse(
                errors,
                "recovery_healthy_count",
                &self.recovery_healthy_count,
                "a whole number",
            ),
            max_consecutive_failures: parse(
                errors,
                "max_consecutive_failures",
                &self.max_consecutive_failures,
                "a whole number",
            ),
            alert_after: Some(optional(
                errors,
                "alert_after",
                &self.alert_after,
                "a whole number",
            )),
            recover_after: Some(optional(
                errors,
                "recover_after",
                &self.recover_after,
                "a whole number",
            )),
            source_interface: text(&self.source_interface),
            source_address: text(&self.source_address),
            enabled: Some(self.enabled),
        }
    }
}

/// The fields errors can belong to (others go to the top of the form).
const FIELDS: [&str; 26] = [
    "probe_id",
    "name",
    "isp",
    "colour",
    "download_mbps",
    "upload_mbps",
    "labels",
    "server_pool",
    "schedule",
    "tests_per_day",
    "jitter_seconds",
    "cron",
    "timezone",
    "min_download_ratio",
    "min_upload_ratio",
    "max_ping_ms",
    "max_jitter_ms",
    "max_packet_loss_percent",
    "baseline_deviation_pct",
    "adaptive_interval_seconds",
    "recovery_healthy_count",
    "max_consecutive_failures",
    "alert_after",
    "recover_after",
    "source_interface",
    "source_address",
];

/// Puts a service error next to its field (or at the top of the form).
pub(super) fn place(errors: &mut FieldErrors, field: &str, message: String) {
    if FIELDS.contains(&field) {
        errors.add(field, message);
    } else {
        errors.add("_form", format!("{field}: {message}"));
    }
}
