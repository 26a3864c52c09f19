//! Signing in: the first administrator's setup, and sign-in throttled per account and per
//! client address (the throttle rule itself is the domain's `ThrottleState`).

use netpulse_domain::Timestamp;
use netpulse_domain::id::UserId;
use netpulse_ports::storage::User;
use netpulse_ports::two_factor_store::LoginChallenge;
use netpulse_ports::web_store::ThrottleRule;

use super::{App, passwords, sessions, two_factor};
use crate::error::AppError;
use crate::tokens;

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
    /// The password was right and the account has two-factor sign-in: a pending sign-in was
    /// stored; finish it with [`second_factor`] and this secret.
    SecondFactor {
        /// The pending sign-in's secret.
        challenge: String,
    },
    /// The second factor was wrong, replayed or used already; the failure was counted.
    WrongCode,
    /// The pending sign-in is unknown or expired (start again with the password).
    ChallengeExpired,
}

/// A pending sign-in waits this long for its second factor (5 minutes).
pub const CHALLENGE_SECONDS: i64 = 300;

/// How a password check ended.
pub(crate) enum PasswordCheck {
    /// The password is right (and the account enabled).
    Ok(User),
    /// Refused: throttled or wrong.
    Refused(SignIn),
}

/// The throttle keys of an account and an address.
pub(crate) fn throttle_keys(email: &str, client_ip: &str) -> (String, String) {
    (format!("account:{email}"), format!("address:{client_ip}"))
}

/// The lock of the first locked key, if any.
pub(crate) async fn locked(app: &App, keys: &[&String]) -> Result<Option<SignIn>, AppError> {
    let now = app.clock.now();
    for key in keys {
        if let Some(state) = app.storage.throttle_state(key).await?
            && state.locked_at(now)
        {
            let minutes = state.locked_until.map_or(15, |u| minutes_until(u, now));
            return Ok(Some(SignIn::Throttled {
                minutes,
                key: (*key).clone(),
            }));
        }
    }
    Ok(None)
}

/// Counts a failed sign-in against the account and the address.
pub(crate) async fn count_failure(app: &App, email: &str, client_ip: &str) -> Result<(), AppError> {
    let now = app.clock.now();
    let account_key = format!("account:{email}");
    let address_key = format!("address:{client_ip}");
    for (key, rule) in [(&account_key, ACCOUNT_RULE), (&address_key, ADDRESS_RULE)] {
        app.storage.record_login_failure(key, now, rule).await?;
    }
    Ok(())
}

fn minutes_until(until: Timestamp, now: Timestamp) -> i64 {
    (until.seconds_since(now) + 59) / 60
}

/// The longest e-mail address accepted (RFC 5321's 254), for accounts and sign-in attempts.
pub const MAX_EMAIL_CHARS: usize = 254;

/// Signs in with an e-mail (lower-cased here) and a password from `client_ip`: refused while
/// the account or the address is locked; a failure counts against both; a success forgets the
/// account's failures and starts a session, or, when the account has two-factor sign-in,
/// stores a pending sign-in ([`SignIn::SecondFactor`]). Unknown accounts cost the same time as
/// known ones.
pub async fn sign_in(
    app: &App,
    email: &str,
    password: String,
    client_ip: &str,
    next_path: &str,
) -> Result<SignIn, AppError> {
    let user = match check_password(app, email, password, client_ip).await? {
        PasswordCheck::Ok(user) => user,
        PasswordCheck::Refused(answer) => return Ok(answer),
    };
    if two_factor::enabled(app, &user.id).await? {
        let now = app.clock.now();
        let challenge = tokens::generate();
        app.storage
            .create_login_challenge(
                &tokens::digest(&challenge),
                &LoginChallenge {
                    user_id: user.id.clone(),
                    next_path: next_path.to_owned(),
                    expires_at: now.plus_seconds(CHALLENGE_SECONDS),
                },
                now,
            )
            .await?;
        return Ok(SignIn::SecondFactor { challenge });
    }
    let secret = sessions::start(app, &user.id).await?;
    Ok(SignIn::SignedIn {
        user: user.id,
        email: user.email,
        secret,
    })
}

/// Finishes a pending sign-in with a TOTP code or a recovery code: a wrong answer counts
/// against the account and the address like a wrong password (the same throttle), a right
/// one ends the pending sign-in and starts a session. Returns the place to go with it.
pub async fn second_factor(
    app: &App,
    challenge: &str,
    answer: &str,
    client_ip: &str,
) -> Result<(SignIn, String), AppError> {
    let digest = tokens::digest(challenge);
    let now = app.clock.now();
    let pending = match app.storage.login_challenge(&digest).await? {
        Some(c) if now < c.expires_at => c,
        _ => return Ok((SignIn::ChallengeExpired, "/".into())),
    };
    let next = pending.next_path.clone();
    let user = match app.storage.user(&pending.user_id).await? {
        Some(u) if !u.disabled => u,
        _ => {
            app.storage.delete_login_challenge(&digest).await?;
            return Ok((SignIn::ChallengeExpired, next));
        }
    };
    let account_key = format!("account:{}", user.email);
    let address_key = format!("address:{client_ip}");
    if let Some(refused) = locked(app, &[&account_key, &address_key]).await? {
        return Ok((refused, next));
    }
    if two_factor::verify(app, &user.id, answer).await? == two_factor::Verified::Refused {
        count_failure(app, &user.email, client_ip).await?;
        return Ok((SignIn::WrongCode, next));
    }
    // Only the request that deletes the pending sign-in goes on.
    if !app.storage.delete_login_challenge(&digest).await? {
        return Ok((SignIn::ChallengeExpired, next));
    }
    app.storage.clear_login_failures(&account_key).await?;
    let secret = sessions::start(app, &user.id).await?;
    Ok((
        SignIn::SignedIn {
            user: user.id,
            email: user.email,
            secret,
        },
        next,
    ))
}

/// The password step shared by the dashboard's and the API's sign-in: the throttle, the
/// argon2id check, a failure counted against the account and the address.
pub(crate) async fn check_password(
    app: &App,
    email: &str,
    password: String,
    client_ip: &str,
) -> Result<PasswordCheck, AppError> {
    let now = app.clock.now();
    let address_key = format!("address:{client_ip}");
    // No account has a longer e-mail (`check_email`): such an attempt is a wrong sign-in that
    // counts against the address only, so the throttle table keeps bounded keys.
    if email.chars().count() > MAX_EMAIL_CHARS {
        if let Some(refused) = locked(app, &[&address_key]).await? {
            return Ok(PasswordCheck::Refused(refused));
        }
        app.storage
            .record_login_failure(&address_key, now, ADDRESS_RULE)
            .await?;
        return Ok(PasswordCheck::Refused(SignIn::WrongCredentials));
    }
    let email = email.to_lowercase();
    let account_key = format!("account:{email}");
    if let Some(refused) = locked(app, &[&account_key, &address_key]).await? {
        return Ok(PasswordCheck::Refused(refused));
    }
    let user = app.storage.user_by_email(&email).await?;
    let ok = passwords::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    if ok && let Some(user) = user.filter(|u| !u.disabled) {
        // A right password forgets the password failures only when no second factor is
        // asked; otherwise the code's failures must keep counting.
        if !two_factor::enabled(app, &user.id).await? {
            app.storage.clear_login_failures(&account_key).await?;
        }
        return Ok(PasswordCheck::Ok(user));
    }
    count_failure(app, &email, client_ip).await?;
    Ok(PasswordCheck::Refused(SignIn::WrongCredentials))
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
