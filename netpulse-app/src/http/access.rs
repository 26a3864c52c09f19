//! Access control in front of the REST API: each request's route rule
//! ([`crate::service::route_rules::REST`]) is checked against the caller's permissions, computed
//! from the current role of the user behind the session or the token, before the handler runs.
//! A caller without the permission gets 403 naming it; a request without valid credentials goes
//! on to the handler, whose security scheme answers 401 as the document says.

use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, Response};

use super::metrics::{TrustForwardedFor, client_ip};
use super::problem::ApiError;
use crate::service::access::{Principal, Via};
use crate::service::route_rules::{Rule, rest_rule};
use crate::service::{App, api_tokens, audit, sessions};

/// The header an API token may also travel in (besides `Authorization: Bearer`).
pub const API_TOKEN_HEADER: &str = "X-API-Token";

/// The REST endpoint behind the access check.
#[derive(Debug)]
pub struct RestAccess<E> {
    /// The API.
    pub inner: E,
}

/// The API token a request carries: `X-API-Token`, else `Authorization: Bearer`.
pub fn token_of(req: &Request) -> Option<String> {
    let header_token = req
        .headers()
        .get(API_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    header_token
        .or(bearer)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The client address recorded with a token's use.
pub fn token_client_ip(req: &Request) -> Option<String> {
    let trust = req.data::<TrustForwardedFor>().is_some_and(|t| t.0);
    client_ip(req, trust).map(|ip| ip.to_string())
}

/// The `np_session` cookie's value (read from the header: this runs before the cookie jar).
fn session_cookie(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == "np_session")
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// Who is calling, if their credentials are valid (an API token first, then the session).
pub async fn principal(
    app: &App,
    req: &Request,
) -> Result<Option<Principal>, crate::error::AppError> {
    if let Some(secret) = token_of(req) {
        if crate::service::jwt::looks_like_jwt(&secret) {
            return Ok(crate::service::jwt::check(app, &secret)
                .await?
                .map(|(p, _)| p));
        }
        let ip = token_client_ip(req);
        return Ok(api_tokens::authenticate(app, &secret, ip.as_deref())
            .await?
            .map(|(_, p)| p));
    }
    let Some(cookie) = session_cookie(req) else {
        return Ok(None);
    };
    Ok(sessions::check(app, &cookie).await?.map(|s| {
        Principal::user(
            s.record.user_id,
            s.record.email,
            s.record.role,
            Via::Session,
        )
    }))
}

impl<E: Endpoint> Endpoint for RestAccess<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let rule = rest_rule(req.method().as_str(), req.uri().path());
        // `SignedIn` routes check their caller in the handler; the caller is looked up here
        // too, as the audit log's actor.
        let (looked_up, needed) = match rule {
            Rule::Public | Rule::Probe => (false, None),
            Rule::SignedIn => (true, None),
            Rule::Needs(p) => (true, Some(p)),
        };
        let mut actor = None;
        if let (true, Some(app)) = (looked_up, req.data::<App>().cloned()) {
            match principal(&app, &req).await {
                Ok(Some(who)) => {
                    if let Some(p) = needed
                        && let Err(e) = who.require(p)
                    {
                        return Ok(ApiError::from(e).into_response());
                    }
                    actor = Some(audit::Actor {
                        user_id: who.user_id.clone(),
                        name: who.name.clone(),
                    });
                    req.extensions_mut().insert(who);
                }
                Ok(None) => {}
                Err(e) => return Ok(ApiError::from(e).into_response()),
            }
        }
        // The caller is the audit log's actor of whatever the handler changes.
        Ok(audit::as_actor(actor, self.inner.call(req))
            .await?
            .into_response())
    }
}
