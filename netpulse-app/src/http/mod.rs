//! The HTTP edge: the agent and REST APIs, their OpenAPI document, the JSON error shape and
//! `/metrics`. The composition root (`startup`) mounts them beside the dashboard and runs them.

pub mod access;
pub mod agent;
pub mod allow;
pub mod audit;
pub mod auth;
pub mod baselines;
pub mod checks;
pub mod declared;
pub mod document;
pub mod fleet;
mod legacy_push;
pub mod metrics;
pub mod mqtt;
pub mod notifications;
pub mod outages;
pub mod payload;
pub mod problem;
pub mod request_log;
pub mod rest;
pub mod token_login;

use base64::Engine as _;
use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::middleware::SetHeader;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Response, Route};
use poem_openapi::OpenApiService;
use sha2::{Digest, Sha256};

use crate::respond::{Precompressed, set_security_headers};
use crate::service::App;

/// Largest accepted request body (an agent's result with its raw output).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Every endpoint group of the document, in its order.
type Apis = (
    agent::AgentApi,
    rest::RestApi,
    notifications::NotificationsApi,
    checks::ChecksApi,
    fleet::FleetApi,
    outages::OutagesApi,
    mqtt::MqttApi,
    baselines::BaselinesApi,
    token_login::AuthApi,
    audit::AuditApi,
);

/// The OpenAPI service (both APIs, served under `/api`).
pub fn openapi(app: &App) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            agent::AgentApi { app: app.clone() },
            rest::RestApi { app: app.clone() },
            notifications::NotificationsApi { app: app.clone() },
            checks::ChecksApi { app: app.clone() },
            fleet::FleetApi { app: app.clone() },
            outages::OutagesApi { app: app.clone() },
            mqtt::MqttApi { app: app.clone() },
            baselines::BaselinesApi { app: app.clone() },
            token_login::AuthApi { app: app.clone() },
            audit::AuditApi { app: app.clone() },
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

/// The OpenAPI document as pretty JSON (what `openapi/openapi.json` holds): poem-openapi's,
/// completed by [`document::truthful`].
pub fn openapi_json(app: &App) -> String {
    document::truthful(&openapi(app).spec())
}

/// Adds the API's routes to `route`: the agent and REST APIs under `/api` (with the JSON error
/// shape for poem's own errors), `/api/openapi.json` and `/api/docs`. The composition root
/// (`startup`) mounts them beside the dashboard.
pub fn api_routes(route: Route, app: &App) -> Route {
    let api = openapi(app);
    let raw = api.spec();
    let served = document::truthful(&raw);
    // Swagger UI embeds the document: give it the served one.
    let page = api.swagger_ui_html().replacen(&raw, &served, 1);
    let docs = SwaggerUi {
        page: Precompressed::new(page.into_bytes(), true),
        rest: api.swagger_ui().map_to_response().boxed(),
    };
    let table = allow::AllowTable::of_document(&served);
    let spec = allow::get_only(poem::endpoint::make_sync(move |_| {
        Response::builder()
            .content_type("application/json")
            .body(served.clone())
    }));
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
    let api = access::RestAccess { inner: api };
    let api = allow::WithAllow { inner: api, table };
    route
        .nest("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest("/api", api)
}

/// The Content-Security-Policy of a static HTML page whose only scripts and styles are its
/// inline `<script>` and `<style>` elements: each allowed by its SHA-256 (no `unsafe-inline`,
/// no `unsafe-eval`); images from this origin or `data:` (Swagger UI's icons), requests
/// ("Try it out") to this origin only.
pub fn inline_page_csp(html: &str) -> String {
    let hashes = |tag: &str| {
        let open = format!("<{tag}");
        let close = format!("</{tag}>");
        let mut out = String::new();
        let mut rest = html;
        while let Some(start) = rest.find(&open) {
            let after = &rest[start..];
            let Some(gt) = after.find('>') else { break };
            let body = &after[gt + 1..];
            let Some(end) = body.find(&close) else { break };
            let digest = Sha256::digest(&body.as_bytes()[..end]);
            out.push_str(" 'sha256-");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(digest));
            out.push('\'');
            rest = &body[end + close.len()..];
        }
        if out.is_empty() {
            " 'none'".to_owned()
        } else {
            out
        }
    };
    format!(
        "default-src 'none'; script-src{}; style-src{}; img-src 'self' data:; font-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; \
         object-src 'none'",
        hashes("script"),
        hashes("style")
    )
}

/// `/api/docs`: Swagger UI (about 1.7 MB of HTML with its script and styles inline), gzipped
/// once, revalidated by ETag, with the security headers and a hash-based CSP; the other files
/// under it (the OAuth receiver) come from poem-openapi with the same headers.
struct SwaggerUi {
    page: Precompressed,
    rest: BoxEndpoint<'static>,
}

impl Endpoint for SwaggerUi {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        if matches!(req.uri().path(), "" | "/") {
            let mut resp = self
                .page
                .respond(&req, "text/html; charset=utf-8", "no-cache");
            let csp = CSP.get_or_init(|| inline_page_csp(&self.page.text()));
            set_security_headers(resp.headers_mut(), csp, false);
            return Ok(resp);
        }
        let resp = self.rest.call(req).await?.into_response();
        let (parts, body) = resp.into_parts();
        let html = body.into_string().await.unwrap_or_default();
        let csp = inline_page_csp(&html);
        let mut resp = Response::from_parts(parts, html.into());
        if resp.status() == StatusCode::OK {
            set_security_headers(resp.headers_mut(), &csp, false);
        }
        Ok(resp)
    }
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
