//! The HTTP edge: the agent and REST APIs, their OpenAPI document, the JSON error shape and
//! `/metrics`. The composition root (`startup`) mounts them beside the dashboard and runs them.

pub mod agent;
pub mod auth;
pub mod metrics;
pub mod notifications;
pub mod payload;
pub mod problem;
pub mod request_log;
pub mod rest;

use poem::middleware::SetHeader;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
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

/// Adds the API's routes to `route`: the agent and REST APIs under `/api` (with the JSON error
/// shape for poem's own errors), `/api/openapi.json` and `/api/docs`. The composition root
/// (`startup`) mounts them beside the dashboard.
pub fn api_routes(route: Route, app: &App) -> Route {
    let api = openapi(app);
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
    route
        .nest("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest("/api", api)
}

/// Headers every answer carries, and request tracing, around the whole route tree.
pub fn common_middleware(endpoint: impl Endpoint) -> impl Endpoint {
    endpoint
        .with(
            SetHeader::new()
                .overriding("X-Content-Type-Options", "nosniff")
                .overriding("Referrer-Policy", "no-referrer"),
        )
        .with(request_log::RequestLog)
        .into_endpoint()
}
