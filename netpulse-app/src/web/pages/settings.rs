//! Settings `/settings`: site name and time zone (used everywhere times are shown or bucketed),
//! REST API tokens (shown once), and the signed-in user's password.

use netpulse_domain::id::ApiTokenId;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::settings::{self as site_settings, General};
use crate::service::{api_tokens, passwords as password, users};
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::{add_cookie, redirect};
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, format, pages, session, settings};

/// A token as listed.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Created.
    pub created: String,
    /// Last used.
    pub last_used: String,
}

/// The page's data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SettingsPage {
    /// The site name as stored.
    pub site_name: String,
    /// The time zone.
    pub time_zone: String,
    /// Every IANA zone name (for the input's suggestions).
    pub zones: Vec<String>,
    /// API tokens.
    pub tokens: Vec<TokenRow>,
    /// A token just created (shown once) and its name.
    pub issued: Option<(String, String)>,
    /// A success message.
    pub notice: String,
    /// Errors by field.
    pub errors: FieldErrors,
}

async fn base(web: &Web) -> Result<SettingsPage, AppError> {
    let site = settings::load(web).await?;
    let stored_name = site_settings::stored_site_name(&web.app).await?;
    let tokens = api_tokens::list(&web.app).await?;
    let zones = crate::web::settings::zone_names();
    Ok(SettingsPage {
        site_name: stored_name,
        time_zone: site.time_zone.clone(),
        zones,
        tokens: tokens
            .iter()
            .map(|t| TokenRow {
                id: t.id.as_str().into(),
                name: t.name.clone(),
                created: format::date_time(t.created_at, &site.tz),
                last_used: t
                    .last_used_at
                    .map_or_else(|| "never".into(), |u| format::date_time(u, &site.tz)),
            })
            .collect(),
        ..SettingsPage::default()
    })
}

async fn render(web: &Web, req: &Request, status: StatusCode, page: SettingsPage) -> Response {
    let site = settings::load(web).await.unwrap_or_default();
    let layout = Layout::new(&ctx(req), &site, "Settings", "settings").tab("general");
    html(web, status, "settings.html", &layout, &page)
}

async fn respond(
    web: &Web,
    req: &Request,
    status: StatusCode,
    edit: impl FnOnce(&mut SettingsPage),
) -> Response {
    match base(web).await {
        Ok(mut page) => {
            edit(&mut page);
            render(web, req, status, page).await
        }
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

/// `GET /settings`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let changed = query.contains("password=changed");
    let saved = query.contains("saved=general");
    respond(&web, req, StatusCode::OK, |p| {
        if changed {
            p.notice = "Password changed. Your other sessions were signed out.".into();
        } else if saved {
            p.notice = "Saved.".into();
        }
    })
    .await
}

/// `POST /settings/general`: site name and time zone.
#[handler]
pub(crate) async fn save_general(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let general = match General::check(&form.get("site_name"), &form.get("time_zone")) {
        Ok(g) => g,
        Err(field_errors) => {
            let mut errors = FieldErrors::default();
            for (field, message) in field_errors {
                errors.add(field, message);
            }
            let (n, z) = (form.get("site_name"), form.get("time_zone"));
            return respond(&web, req, StatusCode::UNPROCESSABLE_ENTITY, move |p| {
                p.site_name = n;
                p.time_zone = z;
                p.errors = errors;
            })
            .await;
        }
    };
    if let Err(e) = site_settings::save_general(&web.app, &general).await {
        return pages::app_error(&web, req, &e).await;
    }
    // Redirect after POST: a reload does not send the form again.
    redirect("/settings?saved=general")
}

/// `POST /settings/tokens`: creates an API token and shows it once.
#[handler]
pub(crate) async fn create_token(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    match api_tokens::create(&web.app, &form.get("name")).await {
        Ok(issued) => {
            respond(&web, req, StatusCode::CREATED, |p| {
                p.issued = Some((issued.token.name, issued.secret));
            })
            .await
        }
        Err(AppError::Invalid { field, .. }) if field == "name" => {
            respond(&web, req, StatusCode::UNPROCESSABLE_ENTITY, |p| {
                p.errors.add(
                    "token_name",
                    "give the token a name (at most 100 characters)",
                );
            })
            .await
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// `POST /settings/tokens/{id}/revoke`.
#[handler]
pub(crate) async fn revoke_token(
    req: &Request,
    web: Data<&Web>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id = ApiTokenId::parse(&id).map_err(|_| AppError::NotFound {
            what: "API token",
            id: id.clone(),
        })?;
        api_tokens::revoke(&web.app, &id).await
    }
    .await;
    match result {
        Ok(()) => redirect("/settings#tokens"),
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// `POST /settings/password`: changes the signed-in user's password; every other session of
/// the user ends.
#[handler]
pub(crate) async fn change_password(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let Some(s) = ctx(req).session else {
        return redirect("/login");
    };
    let user = match users::by_email(&web.app, &s.record.email).await {
        Ok(Some(u)) => u,
        Ok(None) => return redirect("/login"),
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    let mut errors = FieldErrors::default();
    if !password::verify(
        form.raw("current_password"),
        Some(user.password_hash.clone()),
    )
    .await
    {
        errors.add("current_password", "this is not your current password");
    }
    let new = form.raw("new_password");
    if let Err(e) = password::check(&new) {
        errors.add("new_password", e);
    }
    if new != form.raw("new_password_confirm") {
        errors.add("new_password_confirm", "the passwords do not match");
    }
    if !errors.is_empty() {
        return respond(&web, req, StatusCode::UNPROCESSABLE_ENTITY, |p| {
            p.errors = errors;
        })
        .await;
    }
    match users::change_password(&web.app, &user.id, new).await {
        Ok(secret) => {
            let mut resp = redirect("/settings?password=changed");
            add_cookie(&mut resp, &session::session_cookie(&web, &secret));
            resp
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}
