//! First-run setup, sign-in (throttled per account and per address) and sign-out.

use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Body, Request, Response, handler};
use serde::{Deserialize, Serialize};

use crate::service::auth::{self, SignIn, check_email};
use crate::service::{passwords as password, sessions};
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::{add_cookie, redirect};
use crate::web::session;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, settings};

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
    let form = FormData::read(body).await;
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
    match auth::create_first_admin(&web.app, email, pw).await {
        Ok(Some(admin)) => {
            tracing::info!(email = %admin.user.email, "administrator created through /setup");
            signed_in(&web, &admin.secret, "/")
        }
        Ok(None) => redirect("/login"),
        Err(e) => crate::web::pages::app_error(&web, req, &e).await,
    }
}

fn signed_in(web: &Web, secret: &str, next: &str) -> Response {
    let mut resp = redirect(next);
    add_cookie(&mut resp, &session::session_cookie(web, secret));
    resp
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

/// `POST /login`: signs in, or counts a failure.
#[handler]
pub(crate) async fn login(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let c = ctx(req);
    let email = form.get("email").to_lowercase();
    let mut page = AuthPage {
        email: email.clone(),
        next: safe_next(&form.get("next")),
        errors: FieldErrors::default(),
    };
    let layout = frame(&web, req, "Sign in").await;
    match auth::sign_in(
        &web.app,
        &email,
        form.raw("password"),
        &c.client_ip,
        &page.next,
    )
    .await
    {
        Ok(SignIn::SecondFactor { challenge }) => {
            let mut resp = redirect("/login/two-factor");
            add_cookie(
                &mut resp,
                &super::two_factor::challenge_cookie(&web, &challenge),
            );
            resp
        }
        Ok(SignIn::SignedIn { email, secret, .. }) => {
            tracing::info!(email = %email, "signed in");
            signed_in(&web, &secret, &page.next)
        }
        Ok(SignIn::Throttled { minutes, key }) => {
            page.errors.add(
                "_form",
                format!(
                    "Too many failed sign-ins. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
            );
            tracing::warn!(key = %key, "sign-in refused: throttled");
            html(
                &web,
                StatusCode::TOO_MANY_REQUESTS,
                "login.html",
                &layout,
                &page,
            )
        }
        Ok(SignIn::WrongCredentials) => {
            tracing::warn!(email = %email, address = %c.client_ip, "sign-in failed");
            page.errors.add("_form", "Wrong e-mail or password.");
            html(&web, StatusCode::UNAUTHORIZED, "login.html", &layout, &page)
        }
        Ok(_) => redirect("/login"),
        Err(e) => crate::web::pages::app_error(&web, req, &e).await,
    }
}

/// `POST /logout`: ends the session.
#[handler]
pub(crate) async fn logout(req: &Request, web: Data<&Web>) -> Response {
    if let Some(s) = ctx(req).session
        && let Err(e) = sessions::end(&web.app, &s.digest).await
    {
        return crate::web::pages::app_error(&web, req, &e).await;
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
    // The e-mail assertions of this test moved with `check_email` to `service::auth`.
    fn emails_and_next_paths() {
        assert_eq!(safe_next("/history?x=1"), "/history?x=1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil"), "/");
    }
}
