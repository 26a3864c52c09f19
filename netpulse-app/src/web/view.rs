//! What every page shows around its content, and turning a page into an answer.

use poem::http::StatusCode;
use poem::{Request, Response};
use serde::Serialize;

use super::Web;
use super::guard::RequestCtx;
use super::settings::SiteSettings;

/// The frame of every page: site name, navigation, the signed-in user, the CSP nonce and the
/// CSRF token.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    /// The site's name (settings; default `NetPulse`).
    pub site_name: String,
    /// The page title.
    pub title: String,
    /// The active navigation entry (`dashboard`, `history`, …, `settings`), or empty.
    pub active: String,
    /// The active settings tab (`general`, `probes`, `connections`,
    /// `notifications`), or empty.
    pub settings_tab: String,
    /// The signed-in user's e-mail, or `null` on public pages.
    pub user: Option<String>,
    /// The CSP nonce for inline scripts.
    pub nonce: String,
    /// The CSRF token forms carry.
    pub csrf: String,
    /// The configured time zone.
    pub time_zone: String,
    /// The server's version.
    pub version: String,
    /// What the signed-in user may do (buttons they cannot use are not shown).
    pub can: Can,
}

/// The signed-in user's role and permissions, for templates (`layout.can.tests_run`, …).
#[derive(Debug, Clone, Default, Serialize)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "one flag per permission, for templates"
)]
pub struct Can {
    /// `viewer`, `operator`, `admin`, or empty when signed out.
    pub role: String,
    /// `results:read`.
    pub results_read: bool,
    /// `reports:read`.
    pub reports_read: bool,
    /// `tests:run`.
    pub tests_run: bool,
    /// `schedules:write`.
    pub schedules_write: bool,
    /// `alerts:ack`.
    pub alerts_ack: bool,
    /// `schedules:delete`.
    pub schedules_delete: bool,
    /// `agents:write`.
    pub agents_write: bool,
    /// `alerts:write`.
    pub alerts_write: bool,
    /// `users:write`.
    pub users_write: bool,
    /// `settings:write`.
    pub settings_write: bool,
}

impl Can {
    /// The flags of a role (all off without one).
    pub fn of(role: Option<netpulse_domain::access::Role>) -> Self {
        use netpulse_domain::access::Permission as P;
        let Some(r) = role else {
            return Self::default();
        };
        Self {
            role: r.as_str().to_owned(),
            results_read: r.allows(P::ResultsRead),
            reports_read: r.allows(P::ReportsRead),
            tests_run: r.allows(P::TestsRun),
            schedules_write: r.allows(P::SchedulesWrite),
            alerts_ack: r.allows(P::AlertsAck),
            schedules_delete: r.allows(P::SchedulesDelete),
            agents_write: r.allows(P::AgentsWrite),
            alerts_write: r.allows(P::AlertsWrite),
            users_write: r.allows(P::UsersWrite),
            settings_write: r.allows(P::SettingsWrite),
        }
    }
}

impl Layout {
    /// The frame for a request.
    pub fn new(ctx: &RequestCtx, site: &SiteSettings, title: &str, active: &str) -> Self {
        Self {
            site_name: site.site_name.clone(),
            title: title.to_owned(),
            active: active.to_owned(),
            settings_tab: String::new(),
            user: ctx.session.as_ref().map(|s| s.record.email.clone()),
            nonce: ctx.nonce.clone(),
            csrf: ctx.csrf().to_owned(),
            time_zone: site.time_zone.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            can: Can::of(ctx.session.as_ref().map(|s| s.record.role)),
        }
    }

    /// The same frame on a settings tab.
    #[must_use]
    pub fn tab(mut self, tab: &str) -> Self {
        tab.clone_into(&mut self.settings_tab);
        self
    }
}

/// A page's full context: the frame and the page's own data.
#[derive(Debug, Serialize)]
pub struct PageContext<'a, T: Serialize> {
    /// The frame.
    pub layout: &'a Layout,
    /// The page's data.
    pub page: &'a T,
}

/// The request's context (set by the guard).
pub fn ctx(req: &Request) -> RequestCtx {
    req.extensions()
        .get::<RequestCtx>()
        .cloned()
        .unwrap_or_else(|| RequestCtx {
            nonce: super::security::nonce(),
            session: None,
            anonymous_csrf: String::new(),
            client_ip: "unknown".into(),
        })
}

/// Renders a page; a template error becomes a logged 500.
pub fn html<T: Serialize>(
    web: &Web,
    status: StatusCode,
    template: &str,
    layout: &Layout,
    page: &T,
) -> Response {
    match web
        .templates
        .render(template, &PageContext { layout, page })
    {
        Ok(body) => Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(template, error = %e, "template failed");
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("text/plain; charset=utf-8")
                .body("The page could not be rendered.")
        }
    }
}

/// Renders one block of a page (the part that refreshes in place).
pub fn fragment<T: Serialize>(
    web: &Web,
    template: &str,
    block: &str,
    layout: &Layout,
    page: &T,
) -> Response {
    match web
        .templates
        .render_block(template, block, &PageContext { layout, page })
    {
        Ok(body) => Response::builder()
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(template, block, error = %e, "template block failed");
            StatusCode::INTERNAL_SERVER_ERROR.into()
        }
    }
}

/// JSON with `Cache-Control: no-store`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(serde_json::to_string(value).unwrap_or_else(|_| "null".into()))
}
