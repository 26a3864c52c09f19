//! Settings → Connections: everything `netpulse connection …` does, in a form whose errors sit
//! next to their fields. Cron expressions are entered one per line (never split on commas)
//! with a preview of the next five runs in the connection's time zone.

use std::collections::HashMap;

use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::Connection;
use netpulse_domain::schedule::{CronSchedule, Schedule};
use netpulse_domain::values::Colour;
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Body, Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::service::connections::{self, ConnectionInput};
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::redirect;
use crate::web::pages::history::Opt;
use crate::web::view::{Layout, ctx, html, json};
use crate::web::{Web, format, pages, settings};

/// Runs shown in the cron preview.
const PREVIEW_RUNS: usize = 5;

/// A connection as listed.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Colour.
    pub colour: String,
    /// Probe name.
    pub probe: String,
    /// ISP.
    pub isp: String,
    /// `1000 / 500 Mbps` or `unknown plan`.
    pub plan: String,
    /// `24/day · jitter 120 s` or the cron lines.
    pub schedule: String,
    /// Pool entries.
    pub pool: String,
    /// Enabled.
    pub enabled: bool,
}

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

    fn read(form: &FormData) -> Self {
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
    fn input(&self, errors: &mut FieldErrors) -> ConnectionInput {
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
const FIELDS: [&str; 25] = [
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
    "adaptive_interval_seconds",
    "recovery_healthy_count",
    "max_consecutive_failures",
    "alert_after",
    "recover_after",
    "source_interface",
    "source_address",
];

fn place(errors: &mut FieldErrors, field: &str, message: String) {
    if FIELDS.contains(&field) {
        errors.add(field, message);
    } else {
        errors.add("_form", format!("{field}: {message}"));
    }
}

/// The list page's data.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionsPage {
    /// Connections.
    pub connections: Vec<ConnectionRow>,
    /// Whether a probe exists (a connection needs one).
    pub has_probes: bool,
    /// Errors (deleting).
    pub errors: FieldErrors,
}

/// The form page's data.
#[derive(Debug, Clone, Serialize)]
pub struct FormPage {
    /// `null` for a new connection.
    pub id: Option<String>,
    /// Probes to choose from (new connections only).
    pub probes: Vec<Opt>,
    /// Colours.
    pub colours: Vec<Opt>,
    /// Values.
    pub form: ConnectionForm,
    /// Errors by field.
    pub errors: FieldErrors,
    /// The next cron runs (saved connection), in its time zone.
    pub preview: Vec<String>,
}

fn row_of(c: &Connection, probes: &HashMap<String, String>) -> ConnectionRow {
    ConnectionRow {
        id: c.id.as_str().into(),
        name: c.name.as_str().into(),
        colour: c.colour.as_str().into(),
        probe: probes.get(c.probe_id.as_str()).cloned().unwrap_or_default(),
        isp: c.isp.clone(),
        plan: if c.expected.download_bps == 0 && c.expected.upload_bps == 0 {
            "unknown plan".into()
        } else {
            format!(
                "{} / {}",
                format::speed(Some(c.expected.download_bps as f64)),
                format::speed(Some(c.expected.upload_bps as f64))
            )
        },
        schedule: match &c.schedule {
            Schedule::Even(e) => format!(
                "{}/day · jitter {} s",
                e.tests_per_day(),
                e.jitter_seconds()
            ),
            Schedule::Cron(s) => format!("{} ({})", s.expressions().join(" | "), s.time_zone()),
        },
        pool: if c.pool.entries().is_empty() {
            "automatic".into()
        } else {
            c.pool
                .entries()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        },
        enabled: c.enabled,
    }
}

async fn list(web: &Web, req: &Request, status: StatusCode, errors: FieldErrors) -> Response {
    let result = async {
        let probes: HashMap<String, String> = web
            .app
            .storage
            .probes()
            .await?
            .into_iter()
            .map(|p| (p.id.as_str().to_owned(), p.name.as_str().to_owned()))
            .collect();
        let connections = web.app.storage.connections(None).await?;
        Ok::<_, AppError>(ConnectionsPage {
            connections: connections.iter().map(|c| row_of(c, &probes)).collect(),
            has_probes: !probes.is_empty(),
            errors,
        })
    }
    .await;
    let site = settings::load(web).await.unwrap_or_default();
    match result {
        Ok(page) => html(
            web,
            status,
            "settings_connections.html",
            &Layout::new(&ctx(req), &site, "Connections", "settings").tab("connections"),
            &page,
        ),
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

async fn form_page(
    web: &Web,
    req: &Request,
    status: StatusCode,
    id: Option<String>,
    form: ConnectionForm,
    errors: FieldErrors,
) -> Response {
    let result = async {
        let probes = web.app.storage.probes().await?;
        let preview = if form.schedule == "cron" {
            preview_lines(web, &form.cron, &form.timezone).unwrap_or_default()
        } else {
            vec![]
        };
        Ok::<_, AppError>(FormPage {
            probes: probes
                .iter()
                .map(|p| Opt {
                    value: p.id.as_str().into(),
                    label: p.name.as_str().into(),
                    selected: p.id.as_str() == form.probe_id,
                })
                .collect(),
            colours: Colour::ALL
                .iter()
                .map(|c| Opt {
                    value: c.as_str().into(),
                    label: c.as_str().into(),
                    selected: c.as_str() == form.colour,
                })
                .collect(),
            id,
            form,
            errors,
            preview,
        })
    }
    .await;
    let site = settings::load(web).await.unwrap_or_default();
    match result {
        Ok(page) => {
            let title = if page.id.is_some() {
                "Edit connection"
            } else {
                "New connection"
            };
            html(
                web,
                status,
                "connection_form.html",
                &Layout::new(&ctx(req), &site, title, "settings").tab("connections"),
                &page,
            )
        }
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

/// `GET /settings/connections`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>) -> Response {
    list(&web, req, StatusCode::OK, FieldErrors::default()).await
}

/// The new-connection query.
#[derive(Debug, Deserialize)]
pub struct NewQuery {
    probe: Option<String>,
}

/// `GET /settings/connections/new`.
#[handler]
pub(crate) async fn new_form(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<NewQuery>,
) -> Response {
    let probe = match q.probe {
        Some(p) => Some(p),
        None => web
            .app
            .storage
            .probes()
            .await
            .ok()
            .and_then(|p| p.first().map(|p| p.id.as_str().to_owned())),
    };
    form_page(
        &web,
        req,
        StatusCode::OK,
        None,
        ConnectionForm::new_default(probe.as_deref()),
        FieldErrors::default(),
    )
    .await
}

/// `POST /settings/connections`: creates a connection.
#[handler]
pub(crate) async fn create(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = ConnectionForm::read(&FormData::parse(
        &body.into_bytes().await.unwrap_or_default(),
    ));
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    let probe = ProbeId::parse(&form.probe_id).ok();
    let probe_exists = match &probe {
        Some(p) => web.app.storage.probe(p).await.ok().flatten().is_some(),
        None => false,
    };
    if !probe_exists {
        errors.add("probe_id", "choose a probe (create one under Probes first)");
    }
    if errors.is_empty()
        && let Some(probe) = probe
    {
        match connections::create(&web.app, &probe, input).await {
            Ok(_) => return redirect("/settings/connections"),
            Err(AppError::Invalid { field, message }) => place(&mut errors, &field, message),
            Err(e) => return pages::app_error(&web, req, &e).await,
        }
    }
    form_page(
        &web,
        req,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        form,
        errors,
    )
    .await
}

/// `GET /settings/connections/{id}`.
#[handler]
pub(crate) async fn edit_form(req: &Request, web: Data<&Web>, Path(id): Path<String>) -> Response {
    let result = async {
        let cid = ConnectionId::parse(&id).map_err(|_| AppError::NotFound {
            what: "connection",
            id: id.clone(),
        })?;
        connections::get(&web.app, &cid).await
    }
    .await;
    match result {
        Ok(c) => {
            form_page(
                &web,
                req,
                StatusCode::OK,
                Some(id),
                ConnectionForm::of(&c),
                FieldErrors::default(),
            )
            .await
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// `POST /settings/connections/{id}`: saves every field.
#[handler]
pub(crate) async fn update(
    req: &Request,
    web: Data<&Web>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let mut form = ConnectionForm::read(&FormData::parse(
        &body.into_bytes().await.unwrap_or_default(),
    ));
    let Ok(cid) = ConnectionId::parse(&id) else {
        return pages::error_for(
            &web,
            req,
            StatusCode::NOT_FOUND,
            "That connection does not exist.",
        )
        .await;
    };
    let stored = match connections::get(&web.app, &cid).await {
        Ok(c) => c,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    // The owner never changes.
    form.probe_id = stored.probe_id.as_str().into();
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    if errors.is_empty() {
        match connections::update(&web.app, &cid, input).await {
            Ok(_) => return redirect("/settings/connections"),
            Err(AppError::Invalid { field, message }) => place(&mut errors, &field, message),
            Err(e) => return pages::app_error(&web, req, &e).await,
        }
    }
    form_page(
        &web,
        req,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(id),
        form,
        errors,
    )
    .await
}

/// `POST /settings/connections/{id}/{action}`: `enable`, `disable` or `delete`.
#[handler]
pub(crate) async fn act(
    req: &Request,
    web: Data<&Web>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let Ok(cid) = ConnectionId::parse(&id) else {
        return pages::error_for(
            &web,
            req,
            StatusCode::NOT_FOUND,
            "That connection does not exist.",
        )
        .await;
    };
    let result = match action.as_str() {
        "enable" | "disable" => connections::set_enabled(&web.app, &cid, action == "enable").await,
        "delete" => connections::delete(&web.app, &cid).await,
        _ => return pages::error_for(&web, req, StatusCode::NOT_FOUND, "Unknown action.").await,
    };
    match result {
        Ok(()) => redirect("/settings/connections"),
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

fn preview_lines(web: &Web, cron: &str, timezone: &str) -> Result<Vec<String>, String> {
    let lines: Vec<String> = cron
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let tz_name = if timezone.trim().is_empty() {
        "UTC"
    } else {
        timezone.trim()
    };
    let schedule = CronSchedule::new(lines, tz_name, &web.app.calendar)
        .map_err(|e| format!("{}: {} (got {:?})", e.field, e.rule, e.value))?;
    let tz = format::zone(tz_name);
    Ok(schedule
        .upcoming(web.app.clock.now(), PREVIEW_RUNS, &web.app.calendar)
        .into_iter()
        .map(|t| format::date_time_long(t, &tz))
        .collect())
}

/// The cron-preview query.
#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    cron: Option<String>,
    timezone: Option<String>,
}

/// `GET /settings/connections/cron-preview?cron=…&timezone=…`: the next five runs, in the
/// given time zone, or the first error.
#[handler]
#[allow(clippy::unused_async)] // poem handlers are async
pub(crate) async fn cron_preview(web: Data<&Web>, Query(q): Query<PreviewQuery>) -> Response {
    match preview_lines(
        &web,
        q.cron.as_deref().unwrap_or(""),
        q.timezone.as_deref().unwrap_or("UTC"),
    ) {
        Ok(next) => json(
            StatusCode::OK,
            &serde_json::json!({ "next": next, "error": null }),
        ),
        Err(e) => json(
            StatusCode::OK,
            &serde_json::json!({ "next": [], "error": e }),
        ),
    }
}
