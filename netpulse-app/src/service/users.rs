//! Dashboard accounts: create, reset and change passwords.

use netpulse_domain::id::UserId;
use netpulse_ports::storage::User;

use super::{App, passwords};
use crate::error::AppError;
use crate::ids::new_uuid;

/// Creates an account; `email` must have passed [`super::auth::check_email`] and `password`
/// [`passwords::check`].
pub async fn create(app: &App, email: String, password: String) -> Result<User, AppError> {
    let password_hash = passwords::hash(password).await?;
    let user = User {
        id: UserId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
        email,
        password_hash,
        created_at: app.clock.now(),
    };
    app.storage.create_user(&user).await?;
    Ok(user)
}

/// The account with this (lower-cased) e-mail.
pub async fn by_email(app: &App, email: &str) -> Result<Option<User>, AppError> {
    Ok(app.storage.user_by_email(email).await?)
}

/// Replaces a user's password (an administrator's reset: sessions are kept).
pub async fn reset_password(app: &App, user: &UserId, password: String) -> Result<(), AppError> {
    let hash = passwords::hash(password).await?;
    Ok(app.storage.set_password_hash(user, &hash).await?)
}

/// Replaces the signed-in user's password, ends every session of the user and starts a new
/// one, whose secret is returned.
pub async fn change_password(
    app: &App,
    user: &UserId,
    password: String,
) -> Result<String, AppError> {
    let hash = passwords::hash(password).await?;
    app.storage.set_password_hash(user, &hash).await?;
    app.storage.delete_user_sessions(user).await?;
    super::sessions::start(app, user).await
}
