//! REST API tokens: create (the secret is shown once and only its digest stored), list, revoke.

use netpulse_domain::id::ApiTokenId;
use netpulse_ports::storage::ApiToken;

use super::{App, new_uuid};
use crate::error::AppError;
use crate::tokens;

/// Longest token name, characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A token and its secret, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token.
    pub token: ApiToken,
    /// Its bearer secret.
    pub secret: String,
}

/// Creates a token named `name` (trimmed; 1–100 characters, `Invalid` on `name` otherwise).
pub async fn create(app: &App, name: &str) -> Result<IssuedToken, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid("name", "must be 1–100 characters"));
    }
    let secret = tokens::generate();
    let token = ApiToken {
        id: ApiTokenId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
        name: name.to_owned(),
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

/// Revokes a token.
pub async fn revoke(app: &App, id: &ApiTokenId) -> Result<(), AppError> {
    Ok(app.storage.revoke_api_token(id).await?)
}
