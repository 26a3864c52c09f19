//! One-time messages between a POST and the page it redirects to (post/redirect/get): a new
//! token's secret is kept server-side for the session, shown once by the next GET and deleted
//! as it is read, so a reload neither repeats the POST nor shows the secret again.

use netpulse_ports::access_store::Flash;
use netpulse_ports::storage::TokenDigest;

use super::App;
use crate::error::AppError;
use crate::ids::new_uuid;

/// A flash older than this is dropped unread (seconds).
pub const MAX_AGE_SECONDS: i64 = 600;

/// Keeps a flash for the session.
pub async fn put(
    app: &App,
    session: &TokenDigest,
    kind: &str,
    payload: &str,
) -> Result<(), AppError> {
    Ok(app
        .storage
        .put_flash(session, &new_uuid(), kind, payload, app.clock.now())
        .await?)
}

/// The session's fresh flashes (each returned once).
pub async fn take(app: &App, session: &TokenDigest) -> Result<Vec<Flash>, AppError> {
    let now = app.clock.now();
    Ok(app
        .storage
        .take_flashes(session)
        .await?
        .into_iter()
        .filter(|f| now.seconds_since(f.created_at) <= MAX_AGE_SECONDS)
        .collect())
}
