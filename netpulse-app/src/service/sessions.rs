//! Dashboard sessions stored in the database. The client holds a random 256-bit secret; the
//! database keeps its SHA-256 only, so a database leak does not leak live sessions. A session
//! ends after [`IDLE_SECONDS`] without use or [`ABSOLUTE_SECONDS`] after sign-in, on sign-out,
//! and when the user's password changes. (How the secret travels — the `np_session` cookie — is
//! the web edge's business.)

use netpulse_domain::id::UserId;
use netpulse_ports::storage::TokenDigest;
use netpulse_ports::web_store::{NewSession, SessionRecord};

use super::App;
use crate::error::AppError;
use crate::tokens;

/// A session unused this long ends (7 days).
pub const IDLE_SECONDS: i64 = 7 * 86_400;
/// A session ends this long after sign-in at the latest (30 days).
pub const ABSOLUTE_SECONDS: i64 = 30 * 86_400;
/// `last_seen_at` is written at most this often.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The secret's digest.
    pub digest: TokenDigest,
    /// The stored session.
    pub record: SessionRecord,
}

/// The live session of a secret, if any (touching it at most once a minute; an expired or idle
/// one is deleted).
pub async fn check(app: &App, secret: &str) -> Result<Option<Session>, AppError> {
    if secret.len() != 43 {
        return Ok(None);
    }
    let digest = tokens::digest(secret);
    let Some(record) = app.storage.session(&digest).await? else {
        return Ok(None);
    };
    let now = app.clock.now();
    if record.disabled {
        return Ok(None);
    }
    if !is_live(&record, now) {
        app.storage.delete_session(&digest).await?;
        return Ok(None);
    }
    if now.seconds_since(record.last_seen_at) >= TOUCH_EVERY_SECONDS {
        app.storage.touch_session(&digest, now).await?;
    }
    Ok(Some(Session { digest, record }))
}

/// Whether a stored session is still valid at `now` (not past its absolute end, used within
/// [`IDLE_SECONDS`]).
pub fn is_live(
    record: &netpulse_ports::web_store::SessionRecord,
    now: netpulse_domain::Timestamp,
) -> bool {
    now < record.expires_at && now.seconds_since(record.last_seen_at) < IDLE_SECONDS
}

/// Whether a request that carries `given` as the session's CSRF token may change something
/// (constant time; an empty token never matches).
pub fn csrf_matches(session: &Session, given: &str) -> bool {
    tokens::matches_text(given, &session.record.csrf_token)
}

/// Starts a session for a user and returns its secret. Stale sessions of everyone are swept at
/// the same time.
pub async fn start(app: &App, user: &UserId) -> Result<String, AppError> {
    let now = app.clock.now();
    app.storage
        .delete_stale_sessions(now, now.plus_seconds(-IDLE_SECONDS))
        .await?;
    let secret = tokens::generate();
    app.storage
        .create_session(&NewSession {
            digest: tokens::digest(&secret),
            user_id: user.clone(),
            csrf_token: tokens::generate(),
            created_at: now,
            expires_at: now.plus_seconds(ABSOLUTE_SECONDS),
        })
        .await?;
    Ok(secret)
}

/// Ends a session (sign-out).
pub async fn end(app: &App, session: &TokenDigest) -> Result<(), AppError> {
    Ok(app.storage.delete_session(session).await?)
}
