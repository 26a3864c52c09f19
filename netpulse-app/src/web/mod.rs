//! The web dashboard: server-rendered pages (tera 2) with small Alpine.js (CSP build) parts and
//! uPlot charts, all embedded in the binary.
//!
//! Security model (see `guard.rs`): every page but `/setup`, `/login`, `/r/{token}` and the
//! static assets needs a signed-in session (a database row; the cookie holds a 256-bit secret
//! whose SHA-256 is the key). Until an administrator exists every page redirects to `/setup`.
//! Every mutating request carries the session's CSRF token (form field `_csrf` or header
//! `X-CSRF-Token`); sign-in and setup forms use a double-submit cookie instead. Every answer
//! carries a strict Content-Security-Policy with a per-request nonce and the usual headers.

pub mod assets;
pub mod csrf;
pub mod format;
pub mod forms;
pub mod guard;
pub mod pages;
pub mod render;
pub mod security;
pub mod session;
pub mod settings;
pub mod sparkline;
pub mod view;

#[cfg(test)]
mod template_fixtures;
#[cfg(test)]
mod template_tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, get, post};

use crate::error::AppError;
use crate::service::App;

/// Options of the web dashboard.
#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// The server is reached over HTTPS (through a proxy): cookies get `Secure`, answers get
    /// `Strict-Transport-Security`.
    pub behind_https: bool,
    /// Take the client address from the last `X-Forwarded-For` entry (set by a trusted proxy)
    /// for sign-in throttling.
    pub trust_forwarded_for: bool,
}

/// What every web handler needs.
#[derive(Clone)]
pub struct Web {
    /// The services.
    pub app: App,
    /// The options.
    pub options: WebOptions,
    /// The templates.
    pub templates: Arc<render::Templates>,
    admin_exists: Arc<AtomicBool>,
}

impl std::fmt::Debug for Web {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Web")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Web {
    /// The dashboard over an app.
    pub fn new(app: App, options: WebOptions) -> Self {
        Self {
            app,
            options,
            templates: Arc::new(
                render::Templates::load().expect("the embedded templates are valid"),
            ),
            admin_exists: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether an administrator exists (remembered once true: accounts are never deleted).
    pub async fn admin_exists(&self) -> Result<bool, AppError> {
        if self.admin_exists.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exists = self.app.storage.user_count().await? > 0;
        if exists {
            self.admin_exists.store(true, Ordering::Relaxed);
        }
        Ok(exists)
    }
}

/// Adds the dashboard's routes to `route` (which already holds the public `/speedtest/*`
/// endpoints): every page behind the guard, the assets without it.
pub fn routes(route: Route, app: App, options: WebOptions) -> Route {
    let web = Web::new(app, options);
    let g =
        |ep: poem::endpoint::BoxEndpoint<'static>| ep.with(guard::Guard).data(web.clone()).boxed();
    use pages::{
        auth, connections, dashboard, heatmap, history, notifications, probes, servers, settings,
        share,
    };
    route
        .at("/static/*path", assets::StaticFiles.into_endpoint())
        .at("/setup", g(get(auth::setup_form).post(auth::setup).boxed()))
        .at("/login", g(get(auth::login_form).post(auth::login).boxed()))
        .at(
            "/login/two-factor",
            g(get(pages::two_factor::code_form)
                .post(pages::two_factor::code)
                .boxed()),
        )
        .at("/logout", g(post(auth::logout).boxed()))
        .at("/", g(get(dashboard::show).boxed()))
        .at("/dashboard/cursor", g(get(dashboard::cursor).boxed()))
        .at("/dashboard/run", g(post(dashboard::run).boxed()))
        .at(
            "/dashboard/run-status",
            g(get(dashboard::run_status).boxed()),
        )
        .at("/history", g(get(history::show).boxed()))
        .at("/history/export.csv", g(get(history::export).boxed()))
        .at("/history/:id", g(get(history::detail).boxed()))
        .at("/history/:id/share", g(post(history::share).boxed()))
        .at(
            "/history/:id/share/revoke",
            g(post(history::revoke).boxed()),
        )
        .at("/r/:token", g(get(share::show).boxed()))
        .at("/heatmap", g(get(heatmap::show).boxed()))
        .at("/servers", g(get(servers::show).boxed()))
        .at("/connectivity", g(get(pages::connectivity::show).boxed()))
        .at("/fleet", g(get(pages::fleet::show).boxed()))
        .at("/incidents", g(get(pages::incidents::show).boxed()))
        .at("/outages", g(get(pages::outages::show).boxed()))
        .at("/outages/:id", g(get(pages::outages::detail).boxed()))
        .at("/settings", g(get(settings::show).boxed()))
        .at("/settings/general", g(post(settings::save_general).boxed()))
        .at("/settings/mqtt", g(post(pages::mqtt::save).boxed()))
        .at("/settings/tokens", g(post(settings::create_token).boxed()))
        .at(
            "/settings/tokens/:id/revoke",
            g(post(settings::revoke_token).boxed()),
        )
        .at(
            "/settings/password",
            g(post(settings::change_password).boxed()),
        )
        .at(
            "/settings/probes",
            g(get(probes::show).post(probes::create).boxed()),
        )
        .at("/settings/probes/:id/:action", g(post(probes::act).boxed()))
        .at(
            "/settings/notifications",
            g(get(notifications::show).boxed()),
        )
        .at(
            "/settings/connections",
            g(get(connections::show).post(connections::create).boxed()),
        )
        .at(
            "/settings/connections/new",
            g(get(connections::new_form).boxed()),
        )
        .at(
            "/settings/connections/cron-preview",
            g(get(connections::cron_preview).boxed()),
        )
        .at(
            "/settings/connections/:id",
            g(get(connections::edit_form)
                .post(connections::update)
                .boxed()),
        )
        .at(
            "/settings/connections/:id/:action",
            g(post(connections::act).boxed()),
        )
        .at(
            "/settings/users",
            g(get(pages::users::show).post(pages::users::create).boxed()),
        )
        .at("/settings/users/:id", g(post(pages::users::change).boxed()))
        .at(
            "/settings/two-factor",
            g(get(pages::two_factor::show).boxed()),
        )
        .at(
            "/settings/two-factor/:action",
            g(post(pages::two_factor::act).boxed()),
        )
        .at("/settings/audit", g(get(pages::audit::show).boxed()))
        .at(
            "/settings/two-factor-required",
            g(post(pages::two_factor::set_required).boxed()),
        )
}

/// Builds an endpoint from the route tree (for callers that want one).
pub fn endpoint(app: App, options: WebOptions) -> impl Endpoint {
    routes(Route::new(), app, options)
}
