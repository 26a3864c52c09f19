//! First-run setup, sign-in (throttled per account and per address) and sign-out.

use netpulse_domain::id::UserId;
use netpulse_ports::storage::User;
use netpulse_ports::web_store::ThrottleRule;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Body, Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::service::new_uuid;
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::{add_cookie, redirect};
use crate::web::session;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, password, settings};

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

/// The setup and sign-in forms' data.
#[derive(Debug, Default, Serialize)]
pub struct AuthPage {
    /// The e-mail typed so far.
    pub email: String,
    /// Where to go after signing in.
    pub next: String,
    /// Errors by field (`_form` for the whole form).
    pub errors: FieldErrors,
}

/// Checks an e-mail address (lower-cased).
pub fn check_email(text: &str) -> Result<String, String> {
    let e = text.trim().to_lowercase();
    let valid = e.len() <= 254
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

/// Only a local path is a valid place to return to (no `//host`, no scheme).
pub fn safe_next(next: &str) -> String {
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.starts_with("/logout")
    {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

async fn frame(web: &Web, req: &Request, title: &str) -> Layout {
    let site = settings::load(web).await.unwrap_or_default();
    Layout::new(&ctx(req), &site, title, "")
}

/// `GET /setup`: the first administrator's form.
#[handler]
pub(crate) async fn setup_form(req: &Request, web: Data<&Web>) -> Response {
    let layout = frame(&web, req, "Set up").await;
    html(
        &web,
        StatusCode::OK,
        "setup.html",
        &layout,
        &AuthPage::default(),
    )
}

/// `POST /setup`: creates the first administrator and signs them in.
#[handler]
pub(crate) async fn setup(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::parse(&body.into_bytes().await.unwrap_or_default());
    let mut page = AuthPage {
        email: form.get("email"),
        ..AuthPage::default()
    };
    let email = check_email(&page.email)
        .map_err(|e| page.errors.add("email", e))
        .ok();
    let pw = form.raw("password");
    if let Err(e) = password::check(&pw) {
        page.errors.add("password", e);
    }
    if pw != form.raw("password_confirm") {
        page.errors
            .add("password_confirm", "the passwords do not match");
    }
    let layout = frame(&web, req, "Set up").await;
    let (Some(email), true) = (email, page.errors.is_empty()) else {
        return html(
            &web,
            StatusCode::UNPROCESSABLE_ENTITY,
            "setup.html",
            &layout,
            &page,
        );
    };
    // Checked again here, uncached: the guard's check may be a moment old.
    match web.app.storage.user_count().await {
        Ok(0) => {}
        Ok(_) => return redirect("/login"),
        Err(e) => return crate::web::pages::app_error(&web, req, &e.into()).await,
    }
    let hash = match password::hash(pw).await {
        Ok(h) => h,
        Err(e) => return crate::web::pages::app_error(&web, req, &e).await,
    };
    let user = User {
        id: match UserId::parse(&new_uuid()) {
            Ok(id) => id,
            Err(e) => {
                return crate::web::pages::error_for(
                    &web,
                    req,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &e.to_string(),
                )
                .await;
            }
        },
        email,
        password_hash: hash,
        created_at: web.app.clock.now(),
    };
    if let Err(e) = web.app.storage.create_user(&user).await {
        return crate::web::pages::app_error(&web, req, &e.into()).await;
    }
    tracing::info!(email = %user.email, "administrator created through /setup");
    signed_in(&web, req, &user.id, "/").await
}

async fn signed_in(web: &Web, req: &Request, user: &UserId, next: &str) -> Response {
    match session::start(web, user).await {
        Ok(cookie) => {
            let mut resp = redirect(next);
            add_cookie(&mut resp, &cookie);
            resp
        }
        Err(e) => crate::web::pages::app_error(web, req, &e).await,
    }
}

/// The query of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`.
#[handler]
pub(crate) async fn login_form(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let layout = frame(&web, req, "Sign in").await;
    let page = AuthPage {
        next: safe_next(q.next.as_deref().unwrap_or("/")),
        ..AuthPage::default()
    };
    html(&web, StatusCode::OK, "login.html", &layout, &page)
}

fn minutes_until(until: netpulse_domain::Timestamp, now: netpulse_domain::Timestamp) -> i64 {
    (until.seconds_since(now) + 59) / 60
}

/// `POST /login`: signs in, or counts a failure.
#[handler]
pub(crate) async fn login(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::parse(&body.into_bytes().await.unwrap_or_default());
    let c = ctx(req);
    let now = web.app.clock.now();
    let email = form.get("email").to_lowercase();
    let mut page = AuthPage {
        email: email.clone(),
        next: safe_next(&form.get("next")),
        errors: FieldErrors::default(),
    };
    let layout = frame(&web, req, "Sign in").await;
    let account_key = format!("account:{email}");
    let address_key = format!("address:{}", c.client_ip);
    let storage = &web.app.storage;
    for key in [&account_key, &address_key] {
        match storage.throttle_state(key).await {
            Ok(Some(state)) if state.locked_at(now) => {
                let minutes = state.locked_until.map_or(15, |u| minutes_until(u, now));
                page.errors.add(
                    "_form",
                    format!(
                        "Too many failed sign-ins. Try again in {minutes} minute{}.",
                        if minutes == 1 { "" } else { "s" }
                    ),
                );
                tracing::warn!(key = %key, "sign-in refused: throttled");
                return html(
                    &web,
                    StatusCode::TOO_MANY_REQUESTS,
                    "login.html",
                    &layout,
                    &page,
                );
            }
            Ok(_) => {}
            Err(e) => return crate::web::pages::app_error(&web, req, &e.into()).await,
        }
    }
    let user = match storage.user_by_email(&email).await {
        Ok(u) => u,
        Err(e) => return crate::web::pages::app_error(&web, req, &e.into()).await,
    };
    let ok = password::verify(
        form.raw("password"),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    if ok && let Some(user) = user {
        if let Err(e) = storage.clear_login_failures(&account_key).await {
            return crate::web::pages::app_error(&web, req, &e.into()).await;
        }
        tracing::info!(email = %user.email, "signed in");
        return signed_in(&web, req, &user.id, &page.next).await;
    }
    for (key, rule) in [(&account_key, ACCOUNT_RULE), (&address_key, ADDRESS_RULE)] {
        if let Err(e) = storage.record_login_failure(key, now, rule).await {
            return crate::web::pages::app_error(&web, req, &e.into()).await;
        }
    }
    tracing::warn!(email = %email, address = %c.client_ip, "sign-in failed");
    page.errors.add("_form", "Wrong e-mail or password.");
    html(&web, StatusCode::UNAUTHORIZED, "login.html", &layout, &page)
}

/// `POST /logout`: ends the session.
#[handler]
pub(crate) async fn logout(req: &Request, web: Data<&Web>) -> Response {
    if let Some(s) = ctx(req).session
        && let Err(e) = web.app.storage.delete_session(&s.digest).await
    {
        return crate::web::pages::app_error(&web, req, &e.into()).await;
    }
    let mut resp = redirect("/login");
    add_cookie(
        &mut resp,
        &session::clear_cookie(session::COOKIE, web.options.behind_https),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_next_paths() {
        assert_eq!(
            check_email(" Admin@Example.org ").unwrap(),
            "admin@example.org"
        );
        assert!(check_email("admin").is_err());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a b@c.de").is_err());
        assert_eq!(safe_next("/history?x=1"), "/history?x=1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil"), "/");
    }
}
