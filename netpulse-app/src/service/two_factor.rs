//! Two-factor sign-in (TOTP, RFC 6238 SHA-1, 6 digits, 30 s, ±1 step) with single-use recovery
//! codes: enrolment (a pending secret, shown as an otpauth URI and a QR code, enabled only
//! after a code is confirmed), verification with the replay guard
//! (`netpulse_domain::two_factor::step_is_fresh`, then a compare-and-set of the step in
//! storage), recovery codes (argon2id digests, consumed atomically), an admin's reset and the
//! site-wide "require 2FA" switch. Secrets are sealed with the secrets adapter, the user id as
//! associated data.

use base64::Engine;
use netpulse_domain::id::UserId;
use netpulse_domain::two_factor::{
    self as rules, RECOVERY_CHARS, RECOVERY_CODES, SECRET_BYTES, SKEW, STEP_SECONDS,
};
use netpulse_ports::two_factor_store::{RecoveryCode, TotpRecord};
use totp_rs::{Algorithm, Secret, Totp};

use super::App;
use crate::error::AppError;

/// The setting that makes 2FA compulsory (`true`/`false`).
pub const REQUIRE_SETTING: &str = "security.require_2fa";
/// The issuer shown by authenticator apps.
const ISSUER: &str = "NetPulse";

/// A secret being enrolled, as the user's authenticator app takes it.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base 32 (to type in by hand).
    pub secret_base32: String,
    /// The `otpauth://totp/…` URI.
    pub uri: String,
    /// The URI as a QR code, PNG in base 64.
    pub qr_png_base64: String,
}

/// A user's 2FA state as pages show it.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// 2FA is on.
    pub enabled: bool,
    /// An enrolment is under way (shown until confirmed).
    pub pending: Option<Enrolment>,
    /// Unused recovery codes left.
    pub recovery_left: usize,
}

/// What a second-factor answer was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// A fresh TOTP code.
    Code,
    /// An unused recovery code (now used).
    RecoveryCode,
    /// Wrong, replayed or used already.
    Refused,
}

fn totp(secret: Vec<u8>, account: &str) -> Result<Totp, AppError> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(rules::DIGITS as u8)
        .with_skew(u16::from(SKEW))
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| AppError::unavailable(format!("cannot build the TOTP: {e}")))
}

fn secrets(app: &App) -> Result<&netpulse_adapters::secrets::SecretBox, AppError> {
    app.secrets.as_deref().ok_or_else(|| {
        AppError::unavailable("two-factor sign-in needs the secret key (not loaded here)")
    })
}

fn open(app: &App, user: &UserId, sealed: &str) -> Result<Vec<u8>, AppError> {
    secrets(app)?
        .open(sealed, user.as_str())
        .map_err(AppError::unavailable_from)
}

fn enrolment(secret: Vec<u8>, account: &str) -> Result<Enrolment, AppError> {
    let secret_base32 = Secret::from(secret.clone()).to_base32();
    let t = totp(secret, account)?;
    let uri = t
        .to_url()
        .map_err(|e| AppError::unavailable(format!("cannot write the otpauth URI: {e}")))?;
    let png = t
        .to_qr_png()
        .map_err(|e| AppError::unavailable(format!("cannot draw the QR code: {e}")))?;
    Ok(Enrolment {
        secret_base32,
        uri,
        qr_png_base64: base64::engine::general_purpose::STANDARD.encode(png),
    })
}

async fn record(app: &App, user: &UserId) -> Result<TotpRecord, AppError> {
    app.storage
        .totp(user)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "user",
            id: user.as_str().to_owned(),
        })
}

/// Whether the user has 2FA on.
pub async fn enabled(app: &App, user: &UserId) -> Result<bool, AppError> {
    Ok(record(app, user).await?.secret_enc.is_some())
}

/// The user's 2FA state (`account` is their e-mail, shown by the app).
pub async fn status(app: &App, user: &UserId, account: &str) -> Result<Status, AppError> {
    let r = record(app, user).await?;
    let pending = match &r.pending_enc {
        Some(sealed) => Some(enrolment(open(app, user, sealed)?, account)?),
        None => None,
    };
    let recovery_left = if r.secret_enc.is_some() {
        app.storage
            .recovery_codes(user)
            .await?
            .iter()
            .filter(|c| c.used_at.is_none())
            .count()
    } else {
        0
    };
    Ok(Status {
        enabled: r.secret_enc.is_some(),
        pending,
        recovery_left,
    })
}

/// Starts (or restarts) an enrolment: a new 160-bit secret, kept sealed as pending.
pub async fn begin(app: &App, user: &UserId, account: &str) -> Result<Enrolment, AppError> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    let sealed = secrets(app)?.seal(&secret, user.as_str());
    app.storage.set_totp_pending(user, &sealed).await?;
    enrolment(secret, account)
}

fn matched_step(secret: Vec<u8>, code: &str, now_seconds: i64) -> Result<Option<u64>, AppError> {
    let Some(code) = rules::totp_code(code) else {
        return Ok(None);
    };
    let t = totp(secret, "")?;
    Ok(t.check(&code, u64::try_from(now_seconds).unwrap_or(0)))
}

/// Confirms the pending enrolment with a code from the app: turns 2FA on and returns the 10
/// new recovery codes (`xxxxx-xxxxx`, shown once). A wrong code is refused naming `code`.
pub async fn confirm(app: &App, user: &UserId, code: &str) -> Result<Vec<String>, AppError> {
    let r = record(app, user).await?;
    let Some(sealed) = r.pending_enc else {
        return Err(AppError::Conflict(
            "no enrolment is under way: start one first".into(),
        ));
    };
    let now = app.clock.now();
    let step = matched_step(open(app, user, &sealed)?, code, now.unix_seconds())?
        .ok_or_else(|| AppError::invalid("code", "the code does not match: try the next one"))?;
    let (shown, stored) = new_codes().await?;
    if !app
        .storage
        .confirm_totp(user, &sealed, step, &stored, now)
        .await?
    {
        return Err(AppError::Conflict(
            "the enrolment changed meanwhile: start again".into(),
        ));
    }
    let email = super::users::get(app, user).await?.email;
    super::audit::record(app, "user.2fa_on", format!("user:{email}"), "").await?;
    Ok(shown)
}

async fn new_codes() -> Result<(Vec<String>, Vec<RecoveryCode>), AppError> {
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut canonical = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut random = [0u8; RECOVERY_CHARS];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
        let code = rules::recovery_code(random);
        shown.push(rules::show_recovery_code(&code));
        canonical.push(code);
    }
    let stored = tokio::task::spawn_blocking(move || {
        canonical
            .iter()
            .map(|c| {
                Ok(RecoveryCode {
                    id: crate::ids::new_uuid(),
                    digest: super::passwords::hash_blocking(c)?,
                    used_at: None,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()
    })
    .await
    .map_err(AppError::unavailable_from)??;
    Ok((shown, stored))
}

/// Replaces the recovery codes (2FA must be on) and returns the new ones, shown once.
pub async fn regenerate(app: &App, user: &UserId) -> Result<Vec<String>, AppError> {
    if !enabled(app, user).await? {
        return Err(AppError::Conflict("two-factor sign-in is not on".into()));
    }
    let (shown, stored) = new_codes().await?;
    app.storage
        .replace_recovery_codes(user, &stored, app.clock.now())
        .await?;
    Ok(shown)
}

/// Turns 2FA off for a user (their own choice after a code, or an admin's reset).
pub async fn clear(app: &App, user: &UserId) -> Result<(), AppError> {
    Ok(app.storage.clear_totp(user).await?)
}

/// The user's own choice to turn 2FA off (after a current code), written to the audit log.
pub async fn turn_off(app: &App, user: &UserId) -> Result<(), AppError> {
    let email = super::users::get(app, user).await?.email;
    clear(app, user).await?;
    super::audit::record(app, "user.2fa_off", format!("user:{email}"), "").await
}

/// An admin's reset of another user's 2FA, written to the audit log.
pub async fn reset(app: &App, user: &UserId) -> Result<(), AppError> {
    let target = super::users::get(app, user).await?;
    clear(app, user).await?;
    super::audit::record(
        app,
        "user.2fa_reset",
        format!("user:{}", target.email),
        "two-factor sign-in turned off",
    )
    .await
}

/// Checks a second factor: a TOTP code (a step newer than the last accepted, recorded with a
/// compare-and-set so two requests cannot both use it) or an unused recovery code (consumed
/// atomically). Throttling is the caller's (the sign-in throttle).
pub async fn verify(app: &App, user: &UserId, answer: &str) -> Result<Verified, AppError> {
    let r = record(app, user).await?;
    let Some(sealed) = r.secret_enc else {
        return Ok(Verified::Refused);
    };
    let now = app.clock.now();
    if rules::totp_code(answer).is_some() {
        let step = matched_step(open(app, user, &sealed)?, answer, now.unix_seconds())?;
        return Ok(match step {
            Some(step)
                if rules::step_is_fresh(step, r.last_step)
                    && app.storage.advance_totp_step(user, step).await? =>
            {
                Verified::Code
            }
            _ => Verified::Refused,
        });
    }
    let Some(canonical) = rules::normalize_recovery_code(answer) else {
        return Ok(Verified::Refused);
    };
    let unused: Vec<RecoveryCode> = app
        .storage
        .recovery_codes(user)
        .await?
        .into_iter()
        .filter(|c| c.used_at.is_none())
        .collect();
    for code in unused {
        if super::passwords::verify(canonical.clone(), Some(code.digest.clone())).await {
            return Ok(if app.storage.consume_recovery_code(&code.id, now).await? {
                Verified::RecoveryCode
            } else {
                Verified::Refused
            });
        }
    }
    Ok(Verified::Refused)
}

/// Whether every account must have 2FA.
pub async fn required(app: &App) -> Result<bool, AppError> {
    Ok(app.storage.setting(REQUIRE_SETTING).await?.as_deref() == Some("true"))
}

/// Switches the site-wide requirement.
pub async fn set_required(app: &App, on: bool) -> Result<(), AppError> {
    let value = if on { "true" } else { "false" };
    app.storage
        .set_setting(REQUIRE_SETTING, value, app.clock.now())
        .await?;
    super::audit::record(app, "settings.require_2fa", "settings", value).await
}

/// Whether this user must enrol before anything else (2FA required and not on).
pub async fn must_enrol(app: &App, user: &UserId) -> Result<bool, AppError> {
    Ok(required(app).await? && !enabled(app, user).await?)
}

/// The code a secret gives at a time (for tests and the CLI's self-check).
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Result<String, AppError> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|e| AppError::invalid("secret", format!("not base 32: {e}")))?;
    Ok(totp(secret.to_vec(), "")?
        .generate(unix_seconds)
        .to_string())
}
