//! Dashboard accounts: create (with a role), list, change role, disable, delete, reset and
//! change passwords. The last enabled Admin cannot be demoted, disabled or deleted (409).

use netpulse_domain::access::{Role, last_admin_guard};
use netpulse_domain::id::UserId;
use netpulse_ports::access_store::AccessChange;
use netpulse_ports::storage::User;

use super::{App, passwords};
use crate::error::AppError;
use crate::ids::new_uuid;

/// Creates an Admin account (the first administrator, `netpulse user create` without
/// `--role`); `email` must have passed [`super::auth::check_email`] and `password`
/// [`passwords::check`].
pub async fn create(app: &App, email: String, password: String) -> Result<User, AppError> {
    create_with_role(app, email, password, Role::Admin).await
}

/// Creates an account with a role; `email` must have passed [`super::auth::check_email`] and
/// `password` [`passwords::check`].
pub async fn create_with_role(
    app: &App,
    email: String,
    password: String,
    role: Role,
) -> Result<User, AppError> {
    let password_hash = passwords::hash(password).await?;
    let user = User {
        id: UserId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
        email,
        password_hash,
        created_at: app.clock.now(),
        role,
        disabled: false,
        display_name: None,
    };
    app.storage.create_user(&user).await?;
    super::audit::record(
        app,
        "user.create",
        format!("user:{}", user.email),
        format!("role {}", role.as_str()),
    )
    .await?;
    Ok(user)
}

/// The account with this (lower-cased) e-mail.
pub async fn by_email(app: &App, email: &str) -> Result<Option<User>, AppError> {
    Ok(app.storage.user_by_email(email).await?)
}

/// Replaces a user's password (an administrator's reset: sessions are kept).
pub async fn reset_password(app: &App, user: &UserId, password: String) -> Result<(), AppError> {
    let hash = passwords::hash(password).await?;
    app.storage.set_password_hash(user, &hash).await?;
    let target = get(app, user).await?;
    super::audit::record(
        app,
        "user.password_reset",
        format!("user:{}", target.email),
        "password replaced by an administrator",
    )
    .await
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

/// Every account, by e-mail.
pub async fn list(app: &App) -> Result<Vec<User>, AppError> {
    Ok(app.storage.users().await?)
}

/// One account.
pub async fn get(app: &App, id: &UserId) -> Result<User, AppError> {
    app.storage
        .user(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "user",
            id: id.as_str().to_owned(),
        })
}

/// Changes an account's role, or disables, enables or deletes it; refused with 409 when it
/// would leave no enabled Admin. Applies on the account's next request (sessions read the
/// role); a disable or delete ends its sessions at once.
pub async fn change(
    app: &App,
    id: &UserId,
    change: AccessChange,
) -> Result<Option<User>, AppError> {
    let before = get(app, id).await?;
    let after = app
        .storage
        .change_user_access(id, change, |now, stays, admins| {
            last_admin_guard(now, stays, admins)
        })
        .await?;
    let (action, detail) = match change {
        AccessChange::Role(r) => (
            "user.role",
            format!("{} → {}", before.role.as_str(), r.as_str()),
        ),
        AccessChange::Disabled(true) => ("user.disable", String::new()),
        AccessChange::Disabled(false) => ("user.enable", String::new()),
        AccessChange::Delete => ("user.delete", String::new()),
    };
    super::audit::record(app, action, format!("user:{}", before.email), detail).await?;
    Ok(after)
}
