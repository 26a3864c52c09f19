//! The middleware in front of every dashboard route: first-run redirect, sessions, access,
//! CSRF, and security headers.
//!
//! 1. A fresh CSP nonce per request.
//! 2. Until an administrator exists, everything but `/setup` and `/r/{token}` redirects to
//!    `/setup` (JSON requests get 401 JSON); once one exists `/setup` redirects to `/login`.
//! 3. Private routes need a session: pages redirect to `/login?next=…`, JSON requests (the
//!    `/dashboard/*` data endpoints, or `Accept: application/json`) get 401 JSON.
//! 4. A signed-in user needs the permission of the route's rule
//!    (`service::route_rules::PAGES`) in their current role (403 naming it otherwise).
//! 5. Mutating requests need the CSRF token (403 otherwise).
//! 6. The answer gets the security headers (`security.rs`).

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use super::forms::MAX_FORM_BYTES;
use super::session::{self, Session};
use super::{Web, csrf, security};
use crate::service::access;
use crate::service::route_rules::{Rule, page_rule};

/// What the guard learned about a request, for the handlers.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// The CSP nonce of this answer.
    pub nonce: String,
    /// The signed-in session.
    pub session: Option<Session>,
    /// The pre-session CSRF token (for the setup and sign-in forms).
    pub anonymous_csrf: String,
    /// The client's address (for throttling).
    pub client_ip: String,
}

impl RequestCtx {
    /// The CSRF token forms of this request must carry.
    pub fn csrf(&self) -> &str {
        self.session
            .as_ref()
            .map_or(self.anonymous_csrf.as_str(), |s| {
                s.record.csrf_token.as_str()
            })
    }
}

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Only before the first administrator exists.
    Setup,
    /// Anyone (the sign-in form).
    Anonymous,
    /// Anyone, even before setup (share links).
    Public,
    /// Signed-in users.
    Private,
}

fn access_of(path: &str) -> Access {
    match path {
        "/setup" => Access::Setup,
        "/login" | "/login/two-factor" => Access::Anonymous,
        p if p.starts_with("/r/") => Access::Public,
        _ => Access::Private,
    }
}

/// Whether the caller wants JSON rather than a page.
pub fn wants_json(req: &Request) -> bool {
    req.uri().path().starts_with("/dashboard/")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// A JSON error answer in the API's shape.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(serde_json::json!({ "code": code, "message": message, "field": null }).to_string())
}

/// A redirect (303, so a POST becomes a GET).
pub fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .finish()
}

fn client_ip(req: &Request, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(last) = req
            .headers()
            .get("X-Forwarded-For")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return last.to_owned();
    }
    req.remote_addr()
        .as_socket_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

/// The guard middleware.
#[derive(Debug, Clone, Copy)]
pub struct Guard;

impl<E: Endpoint> Middleware<E> for Guard {
    type Output = Guarded<E>;

    fn transform(&self, ep: E) -> Self::Output {
        Guarded { inner: ep }
    }
}

/// An endpoint behind the guard.
#[derive(Debug)]
pub struct Guarded<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for Guarded<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let Some(web) = req.data::<Web>().cloned() else {
            return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        let nonce = security::nonce();
        let mut pending = None;
        let mut resp = match self.decide(&web, &mut req, &nonce).await {
            Ok(Some(early)) => early,
            Ok(None) => {
                pending = req.extensions().get::<PendingCookie>().cloned();
                let actor = req
                    .extensions()
                    .get::<RequestCtx>()
                    .and_then(|c| c.session.as_ref())
                    .map(|s| crate::service::audit::Actor {
                        user_id: Some(s.record.user_id.clone()),
                        name: s.record.email.clone(),
                    });
                match crate::service::audit::as_actor(actor, self.inner.call(req)).await {
                    Ok(r) => r.into_response(),
                    Err(e) => e.into_response(),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "dashboard request failed");
                json_or_page_error(&web, &nonce, true, StatusCode::SERVICE_UNAVAILABLE)
            }
        };
        if let Some(PendingCookie(c)) = pending {
            add_cookie(&mut resp, &c);
        }
        security::add_headers(&mut resp, &nonce, web.options.behind_https);
        Ok(resp)
    }
}

fn json_or_page_error(web: &Web, nonce: &str, json: bool, status: StatusCode) -> Response {
    let message = match status {
        StatusCode::FORBIDDEN => {
            "The form expired or did not come from this site. Reload the page and try again."
        }
        StatusCode::SERVICE_UNAVAILABLE => "The database is unavailable. Try again in a moment.",
        StatusCode::PAYLOAD_TOO_LARGE => "The form is too large (at most 64 KiB).",
        StatusCode::BAD_REQUEST => "The request body could not be read.",
        _ => "Something went wrong.",
    };
    if json {
        let code = match status {
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::BAD_REQUEST => "invalid",
            _ => "unavailable",
        };
        return json_error(status, code, message);
    }
    super::pages::error_page(web, nonce, status, message)
}

impl<E> Guarded<E> {
    /// Runs the checks; `Some` is an answer that ends the request here.
    async fn decide(
        &self,
        web: &Web,
        req: &mut Request,
        nonce: &str,
    ) -> Result<Option<Response>, crate::error::AppError> {
        let path = req.uri().path().to_owned();
        let access = access_of(&path);
        let json = wants_json(req);
        let admin = web.admin_exists().await?;
        if !admin && access != Access::Setup && access != Access::Public {
            return Ok(Some(if json {
                json_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "no administrator exists yet: open /setup",
                )
            } else {
                redirect("/setup")
            }));
        }
        if admin && access == Access::Setup {
            return Ok(Some(redirect("/login")));
        }
        let session = session::load(web, req).await?;
        if access == Access::Private && session.is_none() {
            if json {
                return Ok(Some(json_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "sign in first",
                )));
            }
            let next = req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let target = if next == "/" {
                "/login".to_owned()
            } else {
                format!(
                    "/login?next={}",
                    serde_urlencoded::to_string([("n", next.as_str())])
                        .unwrap_or_default()
                        .trim_start_matches("n=")
                )
            };
            return Ok(Some(redirect(&target)));
        }
        if let Some(s) = &session
            && let Rule::Needs(p) = page_rule(req.method().as_str(), &path)
            && !s.record.role.allows(p)
        {
            let e = access::forbidden(p, Some(s.record.role));
            tracing::info!(path = %path, user = %s.record.email, "request refused: {e}");
            return Ok(Some(if json {
                json_error(StatusCode::FORBIDDEN, "forbidden", &e.to_string())
            } else {
                super::pages::error_page(web, nonce, StatusCode::FORBIDDEN, &e.to_string())
            }));
        }
        if let Some(s) = &session
            && access == Access::Private
            && !path.starts_with("/settings/two-factor")
            && path != "/logout"
            && crate::service::two_factor::must_enrol(&web.app, &s.record.user_id).await?
        {
            // 2FA is required and this account has none yet: enrol first.
            return Ok(Some(if json {
                json_error(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "two-factor sign-in is required: enrol at /settings/two-factor",
                )
            } else {
                redirect("/settings/two-factor")
            }));
        }
        if access == Access::Anonymous && session.is_some() && req.method() == Method::GET {
            return Ok(Some(redirect("/")));
        }
        let existing = session::cookie(req, csrf::COOKIE)
            .filter(|c| c.len() == 43)
            .map(str::to_owned);
        let anonymous_csrf = existing.clone().unwrap_or_else(crate::tokens::generate);
        if csrf::is_unsafe(req.method()) {
            let expected = match &session {
                Some(s) => s.record.csrf_token.clone(),
                None => existing.clone().unwrap_or_default(),
            };
            // Every body of a dashboard route is read here, capped while streaming, so no
            // handler can be made to buffer more.
            let body = match read_capped(req).await {
                Ok(body) => body,
                Err(status) => return Ok(Some(json_or_page_error(web, nonce, json, status))),
            };
            let given = match csrf::from_header(req) {
                Some(h) => Some(h),
                None if is_form(req) => csrf::from_form(&body),
                None => None,
            };
            req.set_body(body);
            if !given.is_some_and(|g| csrf::matches(&g, &expected)) {
                tracing::warn!(path = %path, "request refused: missing or invalid CSRF token");
                return Ok(Some(json_or_page_error(
                    web,
                    nonce,
                    json,
                    StatusCode::FORBIDDEN,
                )));
            }
        }
        let ctx = RequestCtx {
            nonce: nonce.to_owned(),
            client_ip: client_ip(req, web.options.trust_forwarded_for),
            session,
            anonymous_csrf: anonymous_csrf.clone(),
        };
        let set_pre_cookie = ctx.session.is_none() && existing.is_none();
        req.extensions_mut().insert(ctx);
        if set_pre_cookie {
            // Handlers of anonymous pages read the token from the context; `call` sets the
            // cookie on the answer.
            req.extensions_mut()
                .insert(PendingCookie(session::set_cookie(
                    csrf::COOKIE,
                    &anonymous_csrf,
                    None,
                    web.options.behind_https,
                )));
        }
        Ok(None)
    }
}

/// The request's body, at most [`MAX_FORM_BYTES`]: a larger declared or streamed body is
/// 413 (read and discarded first, so the browser shows the answer), an unreadable one 400.
async fn read_capped(req: &mut Request) -> Result<bytes::Bytes, StatusCode> {
    let body = req.take_body();
    crate::body::read_limited(req.headers(), body, MAX_FORM_BYTES)
        .await
        .map_err(|e| match e {
            crate::body::BodyReadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            crate::body::BodyReadError::Unreadable(_) => StatusCode::BAD_REQUEST,
        })
}

/// A pre-session CSRF cookie the answer must set.
#[derive(Debug, Clone)]
pub struct PendingCookie(pub String);

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
}

/// Adds a `Set-Cookie` header.
pub fn add_cookie(resp: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}
