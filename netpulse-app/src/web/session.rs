//! The session cookie. `np_session` holds the random 256-bit secret of a session
//! ([`crate::service::sessions`]: lifetime, storage, checks) as HttpOnly, SameSite=Lax, Path=/,
//! and Secure behind HTTPS.

use netpulse_domain::id::UserId;
use poem::Request;

use super::Web;
use crate::error::AppError;
use crate::service::sessions;
pub use crate::service::sessions::Session;

/// The session cookie.
pub const COOKIE: &str = "np_session";

/// The value of a cookie in the request.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(name, "", Some(0), secure)
}

/// The live session of the request, if any (touching it at most once a minute).
pub async fn load(web: &Web, req: &Request) -> Result<Option<Session>, AppError> {
    match cookie(req, COOKIE) {
        Some(secret) => sessions::check(&web.app, secret).await,
        None => Ok(None),
    }
}

/// Starts a session for a user; returns the `Set-Cookie` value.
pub async fn start(web: &Web, user: &UserId) -> Result<String, AppError> {
    let secret = sessions::start(&web.app, user).await?;
    Ok(session_cookie(web, &secret))
}

/// The `Set-Cookie` value that hands a session's secret to the browser.
pub fn session_cookie(web: &Web, secret: &str) -> String {
    set_cookie(
        COOKIE,
        secret,
        Some(sessions::ABSOLUTE_SECONDS),
        web.options.behind_https,
    )
}
