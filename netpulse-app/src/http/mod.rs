//! The HTTP edge: routes, the OpenAPI document, and `run(listener, app, shutdown)`.

pub mod agent;
pub mod dto;
pub mod notifications;
pub mod payload;
pub mod problem;
pub mod rest;

use std::future::Future;

use poem::listener::TcpAcceptor;
use poem::middleware::{SetHeader, Tracing};
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, Server};
use poem_openapi::OpenApiService;

use crate::service::App;

/// Largest accepted request body (an agent's result with its raw output).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The OpenAPI service (both APIs, served under `/api`).
pub fn openapi(
    app: &App,
) -> OpenApiService<
    (
        agent::AgentApi,
        rest::RestApi,
        notifications::NotificationsApi,
    ),
    (),
> {
    OpenApiService::new(
        (
            agent::AgentApi { app: app.clone() },
            rest::RestApi { app: app.clone() },
            notifications::NotificationsApi { app: app.clone() },
        ),
        "NetPulse",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Agent API (probe bearer token) and REST API (API token) of NetPulse, a self-hosted, \
         metrics-first internet speed and connectivity tracker. Errors are JSON: \
         `{\"code\", \"message\", \"field\"}`.",
    )
    .server("/api")
}

/// The OpenAPI document as pretty JSON (what `openapi/openapi.json` holds).
pub fn openapi_json(app: &App) -> String {
    openapi(app).spec()
}

/// Every route of the server, with the dashboard's default options.
pub fn routes(app: App) -> impl Endpoint {
    routes_with(app, crate::web::WebOptions::default())
}

/// Every route of the server.
pub fn routes_with(app: App, web: crate::web::WebOptions) -> impl Endpoint {
    let api = openapi(&app);
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    // The cookie jar lets the REST API read the dashboard's session cookie.
    let api = api
        .into_endpoint()
        .with(poem::middleware::CookieJarManager::new())
        .catch_all_error(|err| async move {
            if err.is_from_response() {
                err.into_response()
            } else {
                problem::from_poem_error(&err)
            }
        });
    let metrics = app
        .metrics
        .clone()
        .filter(|m| m.settings().enabled)
        .map(|m| poem::get(crate::metrics::endpoint::metrics).data(m));
    let mut route = Route::new();
    if let Some(endpoint) = metrics {
        route = route.at("/metrics", endpoint);
    }
    route
        .nest("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest("/api", api)
        .nest(
            "/",
            crate::web::routes(
                netpulse_adapters::speedtest_target::routes(),
                app.clone(),
                web,
            ),
        )
        .data(app)
        .with(
            SetHeader::new()
                .overriding("X-Content-Type-Options", "nosniff")
                .overriding("Referrer-Policy", "no-referrer"),
        )
        .with(Tracing)
        .into_endpoint()
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    listener: TcpAcceptor,
    app: App,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    run_with(listener, app, crate::web::WebOptions::default(), shutdown).await
}

/// [`run`] with the dashboard's options.
pub async fn run_with(
    listener: TcpAcceptor,
    app: App,
    web: crate::web::WebOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    Server::new_with_acceptor(listener)
        .run_with_graceful_shutdown(routes_with(app, web), shutdown, None)
        .await
}
