//! Browser sessions stored in the database. The cookie `np_session` holds a random 256-bit
//! secret (HttpOnly, SameSite=Lax, Path=/, Secure behind HTTPS); the database keeps its
//! SHA-256 only, so a database leak does not leak live sessions. A session ends after
//! [`IDLE_SECONDS`] without use or [`ABSOLUTE_SECONDS`] after sign-in, on sign-out, and when the
//! user's password changes.

use netpulse_domain::Timestamp;
use netpulse_domain::id::UserId;
use netpulse_ports::storage::TokenDigest;
use netpulse_ports::web_store::{NewSession, SessionRecord};
use poem::Request;

use super::Web;
use crate::error::AppError;
use crate::service::App;
use crate::tokens;

/// The session cookie.
pub const COOKIE: &str = "np_session";
/// A session unused this long ends (7 days).
pub const IDLE_SECONDS: i64 = 7 * 86_400;
/// A session ends this long after sign-in at the latest (30 days).
pub const ABSOLUTE_SECONDS: i64 = 30 * 86_400;
/// `last_seen_at` is written at most this often.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The signed-in session of a request.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie secret's digest.
    pub digest: TokenDigest,
    /// The stored session.
    pub record: SessionRecord,
}

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
        Some(secret) => check(&web.app, secret).await,
        None => Ok(None),
    }
}

/// The live session of a cookie secret, if any (touching it at most once a minute; an expired
/// or idle one is deleted).
pub async fn check(app: &App, secret: &str) -> Result<Option<Session>, AppError> {
    if secret.len() != 43 {
        return Ok(None);
    }
    let digest = tokens::digest(secret);
    let Some(record) = app.storage.session(&digest).await? else {
        return Ok(None);
    };
    let now = app.clock.now();
    if now >= record.expires_at || now.seconds_since(record.last_seen_at) >= IDLE_SECONDS {
        app.storage.delete_session(&digest).await?;
        return Ok(None);
    }
    if now.seconds_since(record.last_seen_at) >= TOUCH_EVERY_SECONDS {
        app.storage.touch_session(&digest, now).await?;
    }
    Ok(Some(Session { digest, record }))
}

/// Starts a session for a user; returns the `Set-Cookie` value. Stale sessions of everyone are
/// swept at the same time.
pub async fn start(web: &Web, user: &UserId) -> Result<String, AppError> {
    let now: Timestamp = web.app.clock.now();
    web.app
        .storage
        .delete_stale_sessions(now, now.plus_seconds(-IDLE_SECONDS))
        .await?;
    let secret = tokens::generate();
    web.app
        .storage
        .create_session(&NewSession {
            digest: tokens::digest(&secret),
            user_id: user.clone(),
            csrf_token: tokens::generate(),
            created_at: now,
            expires_at: now.plus_seconds(ABSOLUTE_SECONDS),
        })
        .await?;
    Ok(set_cookie(
        COOKIE,
        &secret,
        Some(ABSOLUTE_SECONDS),
        web.options.behind_https,
    ))
}
