//! REST API tokens: created with a name (the secret is shown once and stored as a digest),
//! listed, revoked.

use netpulse_domain::id::ApiTokenId;
use netpulse_ports::storage::ApiToken;

use super::App;
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

/// Creates a token named `name`.
pub async fn create(app: &App, name: &str) -> Result<IssuedToken, AppError> {
    let name = check_name(name)?;
    let secret = tokens::generate();
    let token = ApiToken {
        id: ApiTokenId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
        name,
        created_at: app.clock.now(),
        last_used_at: None,
    };
    app.storage
        .create_api_token(&token, &tokens::digest(&secret))
        .await?;
    Ok(IssuedToken { token, secret })
}

/// Every token (never their secrets).
pub async fn list(app: &App) -> Result<Vec<ApiToken>, AppError> {
    Ok(app.storage.api_tokens().await?)
}

/// How often a token's `last_used_at` is written at most: a use within this many seconds of
/// the recorded one is not written again.
pub const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// The token whose secret is `secret`, if any; its use is recorded as `last_used_at` (at most
/// once per [`LAST_USED_RESOLUTION_SECONDS`]; a failure to record it is logged, not fatal).
pub async fn authenticate(app: &App, secret: &str) -> Result<Option<ApiToken>, AppError> {
    let Some(mut token) = app
        .storage
        .api_token_by_digest(&tokens::digest(secret))
        .await?
    else {
        return Ok(None);
    };
    let now = app.clock.now();
    let due = token
        .last_used_at
        .is_none_or(|at| now.seconds_since(at) >= LAST_USED_RESOLUTION_SECONDS);
    if due {
        match app.storage.set_api_token_last_used(&token.id, now).await {
            Ok(()) => token.last_used_at = Some(now),
            Err(e) => {
                tracing::warn!(token = %token.id, error = %e, "could not record the API token's use");
            }
        }
    }
    Ok(Some(token))
}

/// Revokes a token: it stops working at once.
pub async fn revoke(app: &App, id: &ApiTokenId) -> Result<(), AppError> {
    Ok(app.storage.revoke_api_token(id).await?)
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
