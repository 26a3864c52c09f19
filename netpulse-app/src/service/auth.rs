//! Signing in: the first administrator's setup, and sign-in throttled per account and per
//! client address (the throttle rule itself is the domain's `ThrottleState`).

use netpulse_domain::Timestamp;
use netpulse_domain::id::UserId;
use netpulse_ports::storage::User;
use netpulse_ports::web_store::ThrottleRule;

use super::{App, passwords, sessions};
use crate::error::AppError;

/// Failed sign-ins of one account: 5 in 15 minutes lock it for 15 minutes.
pub const ACCOUNT_RULE: ThrottleRule = ThrottleRule {
    limit: 5,
    window_seconds: 900,
    lock_seconds: 900,
};
/// Failed sign-ins from one address: 20 in 15 minutes lock it for 15 minutes.
pub const ADDRESS_RULE: ThrottleRule = ThrottleRule {
    limit: 20,
    window_seconds: 900,
    lock_seconds: 900,
};

/// How a sign-in attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in: a session was started; `secret` is its client secret.
    SignedIn {
        /// The user.
        user: UserId,
        /// The user's e-mail.
        email: String,
        /// The new session's secret.
        secret: String,
    },
    /// The account or the address is locked for this many more minutes (rounded up).
    Throttled {
        /// Minutes until the lock ends.
        minutes: i64,
        /// The throttle key that is locked (`account:…` or `address:…`), for logs.
        key: String,
    },
    /// Unknown account or wrong password (the same answer for both); the failure was counted.
    WrongCredentials,
}

fn minutes_until(until: Timestamp, now: Timestamp) -> i64 {
    (until.seconds_since(now) + 59) / 60
}

/// The longest e-mail address accepted (RFC 5321's 254), for accounts and sign-in attempts.
pub const MAX_EMAIL_CHARS: usize = 254;

/// Signs in with an e-mail (lower-cased here) and a password from `client_ip`: refused while
/// the account or the address is locked; a failure counts against both; a success forgets the
/// account's failures and starts a session. Unknown accounts cost the same time as known ones.
pub async fn sign_in(
    app: &App,
    email: &str,
    password: String,
    client_ip: &str,
) -> Result<SignIn, AppError> {
    let now = app.clock.now();
    let address_key = format!("address:{client_ip}");
    // No account has a longer e-mail (`check_email`): such an attempt is a wrong sign-in that
    // counts against the address only, so the throttle table keeps bounded keys.
    if email.chars().count() > MAX_EMAIL_CHARS {
        if let Some(state) = app.storage.throttle_state(&address_key).await?
            && state.locked_at(now)
        {
            let minutes = state.locked_until.map_or(15, |u| minutes_until(u, now));
            return Ok(SignIn::Throttled {
                minutes,
                key: address_key,
            });
        }
        app.storage
            .record_login_failure(&address_key, now, ADDRESS_RULE)
            .await?;
        return Ok(SignIn::WrongCredentials);
    }
    let email = email.to_lowercase();
    let account_key = format!("account:{email}");
    for key in [&account_key, &address_key] {
        if let Some(state) = app.storage.throttle_state(key).await?
            && state.locked_at(now)
        {
            let minutes = state.locked_until.map_or(15, |u| minutes_until(u, now));
            return Ok(SignIn::Throttled {
                minutes,
                key: key.clone(),
            });
        }
    }
    let user = app.storage.user_by_email(&email).await?;
    let ok = passwords::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    if ok && let Some(user) = user.filter(|u| !u.disabled) {
        app.storage.clear_login_failures(&account_key).await?;
        let secret = sessions::start(app, &user.id).await?;
        return Ok(SignIn::SignedIn {
            user: user.id,
            email: user.email,
            secret,
        });
    }
    for (key, rule) in [(&account_key, ACCOUNT_RULE), (&address_key, ADDRESS_RULE)] {
        app.storage.record_login_failure(key, now, rule).await?;
    }
    Ok(SignIn::WrongCredentials)
}

/// Checks an e-mail address and returns it trimmed and lower-cased.
pub fn check_email(text: &str) -> Result<String, String> {
    let e = text.trim().to_lowercase();
    let valid = e.len() <= MAX_EMAIL_CHARS
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(e)
    } else {
        Err("enter a valid e-mail address".into())
    }
}

/// A user signed in by [`create_first_admin`].
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    /// The account.
    pub user: User,
    /// The new session's secret.
    pub secret: String,
}

/// Whether no account exists yet, so the first administrator is still to be created at
/// `/setup`.
pub async fn setup_pending(app: &App) -> Result<bool, AppError> {
    Ok(app.storage.user_count().await? == 0)
}

/// Creates the first administrator and signs them in; `None` when an account exists already
/// (checked here, uncached). `email` must have passed [`check_email`], `password`
/// [`passwords::check`].
pub async fn create_first_admin(
    app: &App,
    email: String,
    password: String,
) -> Result<Option<FirstAdmin>, AppError> {
    if app.storage.user_count().await? > 0 {
        return Ok(None);
    }
    let user = super::users::create(app, email, password).await?;
    let secret = sessions::start(app, &user.id).await?;
    Ok(Some(FirstAdmin { user, secret }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            check_email(" Admin@Example.org ").unwrap(),
            "admin@example.org"
        );
        assert!(check_email("admin").is_err());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a b@c.de").is_err());
        assert!(check_email("a@b@c.de").is_err());
    }

    #[test]
    fn lock_minutes_round_up() {
        let now = Timestamp::from_unix_seconds(1_000);
        assert_eq!(minutes_until(now.plus_seconds(1), now), 1);
        assert_eq!(minutes_until(now.plus_seconds(60), now), 1);
        assert_eq!(minutes_until(now.plus_seconds(61), now), 2);
    }
}
