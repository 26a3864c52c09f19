//! How REST calls authenticate: a REST API token (`Authorization: Bearer`) or the dashboard's
//! session cookie plus its CSRF token for changes.

use netpulse_ports::storage::ApiToken;
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::service::sessions::{self, Session};
use crate::service::{App, api_tokens};

/// A REST API token (create one with `netpulse token create`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_api_token")]
pub struct ApiTokenAuth(pub ApiToken);

impl std::fmt::Debug for ApiTokenAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ApiTokenAuth").field(&self.0.name).finish()
    }
}

/// A signed-in dashboard session (the `np_session` cookie). Requests that change something must
/// also send the session's CSRF token in `X-CSRF-Token`.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "np_session",
    key_in = "cookie",
    checker = "check_session"
)]
pub struct SessionAuth(pub Session);

impl std::fmt::Debug for SessionAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SessionAuth")
            .field(&self.0.record.email)
            .finish()
    }
}

/// The header a session's requests carry their CSRF token in (the dashboard's scripts send it).
const CSRF_HEADER: &str = "X-CSRF-Token";

async fn check_session(req: &Request, cookie: poem_openapi::auth::ApiKey) -> Option<Session> {
    let app = req.data::<App>()?;
    let session = sessions::check(app, &cookie.key).await.ok().flatten()?;
    let safe = matches!(
        *req.method(),
        poem::http::Method::GET | poem::http::Method::HEAD | poem::http::Method::OPTIONS
    );
    let token_ok = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| sessions::csrf_matches(&session, t));
    (safe || token_ok).then_some(session)
}

/// How REST calls authenticate: an API token, or a dashboard session.
#[derive(Debug, SecurityScheme)]
pub enum RestAuth {
    /// `Authorization: Bearer <API token>`.
    ApiToken(ApiTokenAuth),
    /// The dashboard's session cookie (plus `X-CSRF-Token` for changes).
    Session(SessionAuth),
    /// `X-API-Token: <API token>`.
    ApiKey(ApiKeyAuth),
    /// `Authorization: Bearer <JWT>` from `POST /api/v1/auth/login`.
    Jwt(JwtAuth),
}

/// A short-lived access token (JWT) from `POST /api/v1/auth/login`, bound to a live session.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_jwt")]
pub struct JwtAuth(pub crate::service::access::Principal);

impl std::fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("JwtAuth").field(&self.0.name).finish()
    }
}

async fn check_jwt(req: &Request, bearer: Bearer) -> Option<crate::service::access::Principal> {
    let app = req.data::<App>()?;
    crate::service::jwt::check(app, &bearer.token)
        .await
        .ok()
        .flatten()
        .map(|(p, _)| p)
}

async fn check_api_token(req: &Request, bearer: Bearer) -> Option<ApiToken> {
    let app = req.data::<App>()?;
    let ip = super::access::token_client_ip(req);
    api_tokens::authenticate(app, &bearer.token, ip.as_deref())
        .await
        .ok()
        .flatten()
        .map(|(t, _)| t)
}

async fn check_api_key(req: &Request, key: poem_openapi::auth::ApiKey) -> Option<ApiToken> {
    let app = req.data::<App>()?;
    let ip = super::access::token_client_ip(req);
    api_tokens::authenticate(app, &key.key, ip.as_deref())
        .await
        .ok()
        .flatten()
        .map(|(t, _)| t)
}

/// A REST API token in the `X-API-Token` header (the same tokens as `Authorization: Bearer`).
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "X-API-Token",
    key_in = "header",
    checker = "check_api_key"
)]
pub struct ApiKeyAuth(pub ApiToken);

impl std::fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ApiKeyAuth").field(&self.0.name).finish()
    }
}

/// The credentials a request carries (unchecked), for answers that show more to
/// authenticated callers.
pub fn credentials(req: &Request) -> crate::service::health::Credentials {
    let bearer = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    crate::service::health::Credentials {
        bearer: bearer.map(str::to_owned),
        session: req
            .cookie()
            .get("np_session")
            .map(|c| c.value_str().to_owned()),
    }
}
