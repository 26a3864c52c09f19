//! Two-factor sign-in pages: the code step of sign-in (`/login/two-factor`, after the
//! password), and Settings → Two-factor (enrol with a QR code, confirm, new recovery codes,
//! turn off); admins reset another user's 2FA and require it for everyone from the Users page.

use netpulse_domain::id::UserId;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::auth::{self, SignIn};
use crate::service::{flash, two_factor};
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::{add_cookie, redirect};
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, pages, session, settings};

/// The pending sign-in's cookie (the challenge secret), only for `/login`.
pub const CHALLENGE_COOKIE: &str = "np_mfa";
/// The flash kind of new recovery codes.
const CODES_FLASH: &str = "recovery-codes";

/// The `Set-Cookie` value of a pending sign-in.
pub fn challenge_cookie(web: &Web, secret: &str) -> String {
    session::set_cookie(
        CHALLENGE_COOKIE,
        secret,
        Some(auth::CHALLENGE_SECONDS),
        web.options.behind_https,
    )
}

/// The code step's data.
#[derive(Debug, Default, Serialize)]
pub struct CodePage {
    /// Errors (`code`, `_form`).
    pub errors: FieldErrors,
}

async fn code_page(web: &Web, req: &Request, status: StatusCode, errors: FieldErrors) -> Response {
    let site = settings::load(web).await.unwrap_or_default();
    let layout = Layout::new(&ctx(req), &site, "Two-factor sign-in", "");
    html(
        web,
        status,
        "login_two_factor.html",
        &layout,
        &CodePage { errors },
    )
}

/// `GET /login/two-factor`: asks for the code (back to `/login` without a pending sign-in).
#[handler]
pub(crate) async fn code_form(req: &Request, web: Data<&Web>) -> Response {
    if session::cookie(req, CHALLENGE_COOKIE).is_none() {
        return redirect("/login");
    }
    code_page(&web, req, StatusCode::OK, FieldErrors::default()).await
}

/// `POST /login/two-factor`: a TOTP code or a recovery code finishes the sign-in.
#[handler]
pub(crate) async fn code(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let Some(challenge) = session::cookie(req, CHALLENGE_COOKIE).map(str::to_owned) else {
        return redirect("/login");
    };
    let c = ctx(req);
    let mut errors = FieldErrors::default();
    match auth::second_factor(&web.app, &challenge, &form.get("code"), &c.client_ip).await {
        Ok((SignIn::SignedIn { email, secret, .. }, next)) => {
            tracing::info!(email = %email, "signed in with a second factor");
            let mut resp = redirect(&super::auth::safe_next(&next));
            add_cookie(&mut resp, &session::session_cookie(&web, &secret));
            add_cookie(
                &mut resp,
                &session::clear_cookie(CHALLENGE_COOKIE, web.options.behind_https),
            );
            resp
        }
        Ok((SignIn::Throttled { minutes, key }, _)) => {
            tracing::warn!(key = %key, "second factor refused: throttled");
            errors.add(
                "_form",
                format!("Too many failed sign-ins. Try again in {minutes} minute(s)."),
            );
            code_page(&web, req, StatusCode::TOO_MANY_REQUESTS, errors).await
        }
        Ok((SignIn::WrongCode, _)) => {
            tracing::warn!(address = %c.client_ip, "second factor failed");
            errors.add(
                "code",
                "That code is wrong or was used already. Enter the current code from your app, or a recovery code.",
            );
            code_page(&web, req, StatusCode::UNAUTHORIZED, errors).await
        }
        Ok(_) => {
            let mut resp = redirect("/login");
            add_cookie(
                &mut resp,
                &session::clear_cookie(CHALLENGE_COOKIE, web.options.behind_https),
            );
            resp
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// Settings → Two-factor's data.
#[derive(Debug, Default, Serialize)]
pub struct TwoFactorPage {
    /// 2FA is on.
    pub enabled: bool,
    /// An enrolment under way: the QR code (PNG, base 64), the URI and the secret.
    pub qr_png_base64: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The secret in base 32.
    pub secret: String,
    /// Unused recovery codes left.
    pub recovery_left: usize,
    /// New recovery codes (shown once, right after they were made).
    pub new_codes: Vec<String>,
    /// Every account must use 2FA (this one is sent here until it does).
    pub required: bool,
    /// A success message.
    pub notice: String,
    /// Errors (`code`, `_form`).
    pub errors: FieldErrors,
}

async fn settings_page(
    web: &Web,
    req: &Request,
    status: StatusCode,
    errors: FieldErrors,
) -> Response {
    let c = ctx(req);
    let Some(s) = c.session.clone() else {
        return redirect("/login");
    };
    let result = async {
        let site = settings::load(web).await?;
        let state = two_factor::status(&web.app, &s.record.user_id, &s.record.email).await?;
        let new_codes = flash::take(&web.app, &s.digest)
            .await?
            .into_iter()
            .rev()
            .find(|f| f.kind == CODES_FLASH)
            .and_then(|f| serde_json::from_str::<Vec<String>>(&f.payload).ok())
            .unwrap_or_default();
        let query = req.uri().query().unwrap_or_default();
        let notice = if query.contains("done=enabled") {
            "Two-factor sign-in is on. Keep the recovery codes somewhere safe."
        } else if query.contains("done=disabled") {
            "Two-factor sign-in is off."
        } else {
            ""
        };
        let pending = state.pending.unwrap_or_else(|| two_factor::Enrolment {
            secret_base32: String::new(),
            uri: String::new(),
            qr_png_base64: String::new(),
        });
        let page = TwoFactorPage {
            enabled: state.enabled,
            qr_png_base64: pending.qr_png_base64,
            uri: pending.uri,
            secret: pending.secret_base32,
            recovery_left: state.recovery_left,
            new_codes,
            required: two_factor::required(&web.app).await?,
            notice: notice.to_owned(),
            errors,
        };
        let layout = Layout::new(&c, &site, "Two-factor sign-in", "settings").tab("two-factor");
        Ok::<_, AppError>(html(
            web,
            status,
            "settings_two_factor.html",
            &layout,
            &page,
        ))
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

/// `GET /settings/two-factor`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>) -> Response {
    settings_page(&web, req, StatusCode::OK, FieldErrors::default()).await
}

/// `POST /settings/two-factor/{action}`: `start` (a new secret to scan), `confirm` (with
/// `code`: turns 2FA on), `recovery` (new recovery codes), `disable` (with `code`).
#[handler]
pub(crate) async fn act(
    req: &Request,
    web: Data<&Web>,
    Path(action): Path<String>,
    body: Body,
) -> Response {
    let form = FormData::read(body).await;
    let Some(s) = ctx(req).session else {
        return redirect("/login");
    };
    let (user, email) = (s.record.user_id.clone(), s.record.email.clone());
    let app = &web.app;
    let codes = match action.as_str() {
        "start" => match two_factor::begin(app, &user, &email).await {
            Ok(_) => return redirect("/settings/two-factor"),
            Err(e) => Err(e),
        },
        "confirm" => two_factor::confirm(app, &user, &form.get("code")).await,
        "recovery" => two_factor::regenerate(app, &user).await,
        "disable" => match two_factor::verify(app, &user, &form.get("code")).await {
            Ok(two_factor::Verified::Refused) => Err(AppError::invalid(
                "code",
                "that code is wrong or was used already",
            )),
            Ok(_) => match two_factor::turn_off(app, &user).await {
                Ok(()) => return redirect("/settings/two-factor?done=disabled"),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        other => Err(AppError::NotFound {
            what: "action",
            id: other.to_owned(),
        }),
    };
    match codes {
        Ok(codes) => {
            let payload = serde_json::to_string(&codes).unwrap_or_default();
            if let Err(e) = flash::put(app, &s.digest, CODES_FLASH, &payload).await {
                return pages::app_error(&web, req, &e).await;
            }
            let done = if action == "confirm" {
                "?done=enabled"
            } else {
                ""
            };
            redirect(&format!("/settings/two-factor{done}"))
        }
        Err(AppError::Invalid { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(&field, message);
            settings_page(&web, req, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
        Err(AppError::Conflict(m)) => {
            let mut errors = FieldErrors::default();
            errors.add("_form", m);
            settings_page(&web, req, StatusCode::CONFLICT, errors).await
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// `POST /settings/two-factor-required` (admins): `required` = `on` or absent.
#[handler]
pub(crate) async fn set_required(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let on = form.get("required") == "on";
    match two_factor::set_required(&web.app, on).await {
        Ok(()) => redirect("/settings/users?done=changed"),
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// An admin's reset of another user's 2FA (from the Users page).
pub(crate) async fn reset(web: &Web, req: &Request, user: &UserId) -> Response {
    match two_factor::reset(&web.app, user).await {
        Ok(()) => redirect("/settings/users?done=changed"),
        Err(e) => pages::app_error(web, req, &e).await,
    }
}
