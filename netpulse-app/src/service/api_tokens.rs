//! REST API tokens: created with a name, an owner, scopes and an optional expiry (the secret
//! is shown once and stored as a digest), listed, revoked. What a token may do is its scopes ∩
//! its owner's *current* role ([`Principal::token`]); a disabled owner's or an expired token
//! does not authenticate.

use netpulse_domain::Timestamp;
use netpulse_domain::access::Permission;
use netpulse_domain::id::{ApiTokenId, UserId};
use netpulse_ports::storage::ApiToken;

use super::App;
use super::access::Principal;
use crate::error::AppError;
use crate::ids::new_uuid;
use crate::tokens;

/// The longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A token and its secret, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token.
    pub token: ApiToken,
    /// Its bearer secret.
    pub secret: String,
}

/// Checks a token name: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
pub fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid("name", "must be 1–100 characters"));
    }
    Ok(name.to_owned())
}

/// What a new token is.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// What it is for.
    pub name: String,
    /// Who owns it (`None`: a service token, limited by its scopes only; the command line's).
    pub owner: Option<UserId>,
    /// What it may do at most.
    pub scopes: Vec<Permission>,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
}

/// Creates a token.
pub async fn create(app: &App, new: &NewToken) -> Result<IssuedToken, AppError> {
    let name = check_name(&new.name)?;
    if new.scopes.is_empty() {
        return Err(AppError::invalid("scopes", "give at least one scope"));
    }
    let now = app.clock.now();
    if new.expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::invalid("expiresAt", "must be in the future"));
    }
    let secret = tokens::generate();
    let token = ApiToken {
        id: ApiTokenId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
        name,
        created_at: now,
        last_used_at: None,
        user_id: new.owner.clone(),
        scopes: new.scopes.clone(),
        expires_at: new.expires_at,
        last_used_ip: None,
    };
    app.storage
        .create_api_token(&token, &tokens::digest(&secret))
        .await?;
    let scopes: Vec<&str> = token.scopes.iter().map(|p| p.as_str()).collect();
    super::audit::record(
        app,
        "token.create",
        format!("token:{}", token.name),
        format!("scopes {}", scopes.join(" ")),
    )
    .await?;
    Ok(IssuedToken { token, secret })
}

/// Every token (never their secrets).
pub async fn list(app: &App) -> Result<Vec<ApiToken>, AppError> {
    Ok(app.storage.api_tokens().await?)
}

/// The tokens a user owns.
pub async fn list_of(app: &App, user: &UserId) -> Result<Vec<ApiToken>, AppError> {
    Ok(app.storage.api_tokens_of(user).await?)
}

/// How often a token's `last_used_at` is written at most: a use within this many seconds of
/// the recorded one is not written again.
pub const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// The token whose secret is `secret` and what it may do now, if it is valid (not expired, its
/// owner exists and is enabled); its use is recorded as `last_used_at` and the client address
/// (at most once per [`LAST_USED_RESOLUTION_SECONDS`]; a failure to record it is logged, not
/// fatal).
pub async fn authenticate(
    app: &App,
    secret: &str,
    client_ip: Option<&str>,
) -> Result<Option<(ApiToken, Principal)>, AppError> {
    let Some(mut token) = app
        .storage
        .api_token_by_digest(&tokens::digest(secret))
        .await?
    else {
        return Ok(None);
    };
    let now = app.clock.now();
    if token.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let owner = match &token.user_id {
        Some(id) => match app.storage.user(id).await? {
            Some(u) if !u.disabled => Some((u.id, u.email, u.role)),
            _ => return Ok(None),
        },
        None => None,
    };
    let principal = Principal::token(token.id.clone(), token.name.clone(), owner, &token.scopes);
    let due = token
        .last_used_at
        .is_none_or(|at| now.seconds_since(at) >= LAST_USED_RESOLUTION_SECONDS)
        || (client_ip.is_some() && token.last_used_ip.as_deref() != client_ip);
    if due {
        match app
            .storage
            .set_api_token_last_used(&token.id, now, client_ip)
            .await
        {
            Ok(()) => {
                token.last_used_at = Some(now);
                token.last_used_ip = client_ip.map(str::to_owned);
            }
            Err(e) => {
                tracing::warn!(token = %token.id, error = %e, "could not record the API token's use");
            }
        }
    }
    Ok(Some((token, principal)))
}

/// Revokes a token: it stops working at once.
pub async fn revoke(app: &App, id: &ApiTokenId) -> Result<(), AppError> {
    app.storage.revoke_api_token(id).await?;
    super::audit::record(app, "token.revoke", format!("token:{id}"), "revoked").await
}

/// Revokes a token on behalf of `by`: their own, or anyone's with `users:write`; someone
/// else's token answers 404 to a caller without it (it does not reveal that it exists).
pub async fn revoke_as(app: &App, by: &Principal, id: &ApiTokenId) -> Result<(), AppError> {
    if !by.can(Permission::UsersWrite) {
        let mine = match &by.user_id {
            Some(u) => app.storage.api_tokens_of(u).await?,
            None => Vec::new(),
        };
        if !mine.iter().any(|t| &t.id == id) {
            return Err(AppError::NotFound {
                what: "API token",
                id: id.as_str().to_owned(),
            });
        }
    }
    revoke(app, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  scripts ").unwrap(), "scripts");
        assert!(check_name("   ").is_err());
        assert!(check_name(&"x".repeat(100)).is_ok());
        assert!(check_name(&"é".repeat(101)).is_err());
    }
}
