//! Short-lived API access tokens: `POST /api/v1/auth/login {email, password, totp?}` gives an
//! HS256 JWT (`kid` in the header; claims `iss`, `sub`, `sid`, `role`, `scp`, `iat`, `exp`,
//! `jti`) bound to a session row: logout deletes the row, a disable refuses it and a role
//! change makes the token's `role` stale, so each revokes at once. The signing keys are 256
//! random bits each, sealed in the settings with the secrets adapter and rotated by `kid`
//! (`netpulse_domain::access_token::key_plan`). Expiry is checked against the app's clock.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use netpulse_domain::access::Role;
use netpulse_domain::access_token::{self as rules, LIFETIME_SECONDS};
use netpulse_ports::storage::TokenDigest;
use serde::{Deserialize, Serialize};

use super::access::{Principal, Via};
use super::auth::{self, PasswordCheck, SignIn};
use super::{App, sessions, two_factor};
use crate::error::AppError;

/// The settings key of the sealed signing keys (JSON, newest first).
pub const KEYS_SETTING: &str = "auth.jwt_keys";
/// The `iss` claim.
pub const ISSUER: &str = "netpulse";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer (`netpulse`).
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// The session (base64url of its digest).
    pub sid: String,
    /// The user's role when the token was issued.
    pub role: String,
    /// The permissions of that role.
    pub scp: Vec<String>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Token id.
    pub jti: String,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The JWT.
    pub token: String,
    /// Seconds it lives.
    pub expires_in: i64,
}

/// How an API sign-in ended.
#[derive(Debug, Clone)]
pub enum Login {
    /// Signed in.
    Issued(AccessToken),
    /// The account has 2FA and no `totp` was given.
    MfaRequired,
    /// Wrong e-mail, password or code (counted by the sign-in throttle).
    Refused,
    /// Locked by the sign-in throttle for this many minutes.
    Throttled(i64),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    key: String,
    created_at: i64,
}

fn secrets(app: &App) -> Result<&netpulse_adapters::secrets::SecretBox, AppError> {
    app.secrets
        .as_deref()
        .ok_or_else(|| AppError::unavailable("access tokens need the secret key (not loaded here)"))
}

fn aad(kid: &str) -> String {
    format!("jwt-key:{kid}")
}

async fn stored_keys(app: &App) -> Result<Vec<StoredKey>, AppError> {
    Ok(match app.storage.setting(KEYS_SETTING).await? {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| AppError::unavailable(format!("{KEYS_SETTING} is not valid: {e}")))?,
        None => Vec::new(),
    })
}

/// The key that signs now (rotating, and dropping keys no token can need, as planned).
async fn signing_key(app: &App) -> Result<(String, Vec<u8>), AppError> {
    let now = app.clock.now().unix_seconds();
    let mut keys = stored_keys(app).await?;
    let created: Vec<i64> = keys.iter().map(|k| k.created_at).collect();
    let plan = rules::key_plan(&created, now);
    if plan.rotate || plan.keep < keys.len() {
        keys.truncate(plan.keep);
        if plan.rotate {
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            let kid = crate::ids::new_uuid();
            let key = secrets(app)?.seal(&bytes, &aad(&kid));
            keys.insert(
                0,
                StoredKey {
                    kid,
                    key,
                    created_at: now,
                },
            );
        }
        let text = serde_json::to_string(&keys).map_err(AppError::unavailable_from)?;
        app.storage
            .set_setting(KEYS_SETTING, &text, app.clock.now())
            .await?;
    }
    let newest = keys
        .first()
        .ok_or_else(|| AppError::unavailable("no signing key"))?;
    let bytes = secrets(app)?
        .open(&newest.key, &aad(&newest.kid))
        .map_err(AppError::unavailable_from)?;
    Ok((newest.kid.clone(), bytes))
}

async fn verifying_key(app: &App, kid: &str) -> Result<Option<Vec<u8>>, AppError> {
    let keys = stored_keys(app).await?;
    let Some(k) = keys.iter().find(|k| k.kid == kid) else {
        return Ok(None);
    };
    Ok(Some(
        secrets(app)?
            .open(&k.key, &aad(kid))
            .map_err(AppError::unavailable_from)?,
    ))
}

async fn issue(
    app: &App,
    user: &netpulse_domain::id::UserId,
    role: Role,
    sid: &TokenDigest,
) -> Result<AccessToken, AppError> {
    let (kid, key) = signing_key(app).await?;
    let now = app.clock.now().unix_seconds();
    let claims = Claims {
        iss: ISSUER.into(),
        sub: user.as_str().to_owned(),
        sid: URL_SAFE_NO_PAD.encode(sid.0),
        role: role.as_str().to_owned(),
        scp: role
            .permissions()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        iat: now,
        exp: now + LIFETIME_SECONDS,
        jti: crate::ids::new_uuid(),
    };
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid);
    let key = EncodingKey::from_secret(&key)
        .map_err(|e| AppError::unavailable(format!("unusable signing key: {e}")))?;
    let token = jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| AppError::unavailable(format!("cannot sign the token: {e}")))?;
    Ok(AccessToken {
        token,
        expires_in: LIFETIME_SECONDS,
    })
}

/// Signs in for the API: the password (and, when the account has 2FA, `totp`: a code or a
/// recovery code) under the sign-in throttle; starts a session the token is bound to.
pub async fn login(
    app: &App,
    email: &str,
    password: String,
    totp: Option<&str>,
    client_ip: &str,
) -> Result<Login, AppError> {
    let user = match auth::check_password(app, email, password, client_ip).await? {
        PasswordCheck::Ok(user) => user,
        PasswordCheck::Refused(SignIn::Throttled { minutes, .. }) => {
            return Ok(Login::Throttled(minutes));
        }
        PasswordCheck::Refused(_) => return Ok(Login::Refused),
    };
    if two_factor::enabled(app, &user.id).await? {
        let Some(code) = totp.filter(|c| !c.trim().is_empty()) else {
            return Ok(Login::MfaRequired);
        };
        let keys = auth::throttle_keys(&user.email, client_ip);
        if let Some(SignIn::Throttled { minutes, .. }) =
            auth::locked(app, &[&keys.0, &keys.1]).await?
        {
            return Ok(Login::Throttled(minutes));
        }
        if two_factor::verify(app, &user.id, code).await? == two_factor::Verified::Refused {
            auth::count_failure(app, &user.email, client_ip).await?;
            return Ok(Login::Refused);
        }
        app.storage.clear_login_failures(&keys.0).await?;
    }
    let secret = sessions::start(app, &user.id).await?;
    let token = issue(app, &user.id, user.role, &crate::tokens::digest(&secret)).await?;
    Ok(Login::Issued(token))
}

/// The caller behind an access token with its session, or `None` when the token is not valid
/// now: bad signature or unknown `kid`, expired, its session gone or idle, the account
/// disabled, or its role changed since the token was issued.
pub async fn check(app: &App, token: &str) -> Result<Option<(Principal, Claims)>, AppError> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Ok(None);
    };
    let Some(key) = (match &header.kid {
        Some(kid) if header.alg == Algorithm::HS256 => verifying_key(app, kid).await?,
        _ => None,
    }) else {
        return Ok(None);
    };
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked against the app's clock below.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[ISSUER]);
    let Ok(key) = DecodingKey::from_secret(&key) else {
        return Ok(None);
    };
    let Ok(data) = jsonwebtoken::decode::<Claims>(token, &key, &validation) else {
        return Ok(None);
    };
    let claims = data.claims;
    let now = app.clock.now();
    if !rules::is_current(claims.iat, claims.exp, now.unix_seconds()) {
        return Ok(None);
    }
    let Ok(digest) = sid_digest(&claims) else {
        return Ok(None);
    };
    let Some(record) = app.storage.session(&digest).await? else {
        return Ok(None);
    };
    if record.disabled
        || !sessions::is_live(&record, now)
        || record.user_id.as_str() != claims.sub
        || record.role.as_str() != claims.role
    {
        return Ok(None);
    }
    let principal = Principal::user(record.user_id, record.email, record.role, Via::Session);
    Ok(Some((principal, claims)))
}

fn sid_digest(claims: &Claims) -> Result<TokenDigest, AppError> {
    URL_SAFE_NO_PAD
        .decode(&claims.sid)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(TokenDigest)
        .ok_or(AppError::Unauthorized)
}

/// A new access token for the same session (which is touched, so it lives on).
pub async fn refresh(app: &App, token: &str) -> Result<AccessToken, AppError> {
    let (who, claims) = check(app, token).await?.ok_or(AppError::Unauthorized)?;
    let digest = sid_digest(&claims)?;
    app.storage.touch_session(&digest, app.clock.now()).await?;
    let (Some(user), Some(role)) = (who.user_id, who.role) else {
        return Err(AppError::Unauthorized);
    };
    issue(app, &user, role, &digest).await
}

/// Ends the token's session: this token and every other one of the session stop working.
pub async fn logout(app: &App, token: &str) -> Result<(), AppError> {
    let (_, claims) = check(app, token).await?.ok_or(AppError::Unauthorized)?;
    sessions::end(app, &sid_digest(&claims)?).await
}

/// Whether a bearer credential is a JWT (three dot-separated parts) rather than an API token.
pub fn looks_like_jwt(bearer: &str) -> bool {
    bearer.split('.').count() == 3
}
