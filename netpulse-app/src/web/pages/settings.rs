//! Settings `/settings`: site name and time zone (used everywhere times are shown or bucketed),
//! REST API tokens (shown once), and the signed-in user's password.

use netpulse_domain::access::{Permission, Role, effective};
use netpulse_domain::id::ApiTokenId;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::access::{Principal, Via};
use crate::service::settings::{self as site_settings, General};
use crate::service::{api_tokens, flash, passwords as password, users};
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
    /// Last used (time and address).
    pub last_used: String,
    /// The owner's e-mail (`service token` without one).
    pub owner: String,
    /// Its scopes, comma-separated.
    pub scopes: String,
    /// When it expires, or `never`.
    pub expires: String,
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
    /// API tokens (an admin sees everyone's, others their own).
    pub tokens: Vec<TokenRow>,
    /// The scope presets the user may give a new token: `(value, label)`.
    pub scope_presets: Vec<(String, String)>,
    /// A token just created (shown once) and its name.
    pub issued: Option<(String, String)>,
    /// A success message.
    pub notice: String,
    /// Errors by field.
    pub errors: FieldErrors,
    /// The MQTT / Home Assistant section (shown to those who may change settings).
    pub mqtt: super::mqtt::MqttForm,
}

async fn base(web: &Web, req: &Request) -> Result<SettingsPage, AppError> {
    let site = settings::load(web).await?;
    let stored_name = site_settings::stored_site_name(&web.app).await?;
    let session = ctx(req).session;
    let role = session.as_ref().map_or(Role::Viewer, |s| s.record.role);
    let tokens = match &session {
        Some(s) if role.allows(Permission::UsersWrite) => api_tokens::list(&web.app).await?,
        Some(s) => api_tokens::list_of(&web.app, &s.record.user_id).await?,
        None => Vec::new(),
    };
    let owners: std::collections::HashMap<String, String> = if role.allows(Permission::UsersWrite) {
        users::list(&web.app)
            .await?
            .into_iter()
            .map(|u| (u.id.as_str().to_owned(), u.email))
            .collect()
    } else {
        session
            .iter()
            .map(|s| (s.record.user_id.as_str().to_owned(), s.record.email.clone()))
            .collect()
    };
    let issued = match &session {
        Some(s) => flash::take(&web.app, &s.digest)
            .await?
            .into_iter()
            .rev()
            .find(|f| f.kind == TOKEN_FLASH)
            .and_then(|f| serde_json::from_str::<(String, String)>(&f.payload).ok()),
        None => None,
    };
    let zones = crate::web::settings::zone_names();
    let mqtt = if role.allows(Permission::SettingsWrite) {
        super::mqtt::form(web).await?
    } else {
        super::mqtt::MqttForm::default()
    };
    Ok(SettingsPage {
        mqtt,
        site_name: stored_name,
        time_zone: site.time_zone.clone(),
        zones,
        tokens: tokens
            .iter()
            .map(|t| TokenRow {
                id: t.id.as_str().into(),
                name: t.name.clone(),
                created: format::date_time(t.created_at, &site.tz),
                last_used: t.last_used_at.map_or_else(
                    || "never".into(),
                    |u| match &t.last_used_ip {
                        Some(ip) => format!("{} from {ip}", format::date_time(u, &site.tz)),
                        None => format::date_time(u, &site.tz),
                    },
                ),
                owner: t.user_id.as_ref().map_or_else(
                    || "service token".into(),
                    |u| owners.get(u.as_str()).cloned().unwrap_or_default(),
                ),
                scopes: scope_label(&t.scopes),
                expires: t
                    .expires_at
                    .map_or_else(|| "never".into(), |e| format::date_time(e, &site.tz)),
            })
            .collect(),
        scope_presets: Role::ALL
            .into_iter()
            .filter(|r| *r <= role)
            .map(|r| (r.as_str().to_owned(), preset_label(r).to_owned()))
            .collect(),
        issued,
        ..SettingsPage::default()
    })
}

async fn render(web: &Web, req: &Request, status: StatusCode, page: SettingsPage) -> Response {
    let site = settings::load(web).await.unwrap_or_default();
    let layout = Layout::new(&ctx(req), &site, "Settings", "settings").tab("general");
    html(web, status, "settings.html", &layout, &page)
}

pub(crate) async fn respond(
    web: &Web,
    req: &Request,
    status: StatusCode,
    edit: impl FnOnce(&mut SettingsPage),
) -> Response {
    match base(web, req).await {
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
    let saved = query.contains("saved=");
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

/// The flash kind of a new token's name and secret.
const TOKEN_FLASH: &str = "api-token";

fn preset_label(r: Role) -> &'static str {
    match r {
        Role::Viewer => "Read-only (view results and reports)",
        Role::Operator => "Operator (also run tests, edit schedules)",
        Role::Admin => "Admin (everything)",
    }
}

fn scope_label(scopes: &[Permission]) -> String {
    for r in Role::ALL.into_iter().rev() {
        if scopes == r.permissions().as_slice() {
            return match r {
                Role::Viewer => "read-only".into(),
                Role::Operator => "operator".into(),
                Role::Admin => "admin".into(),
            };
        }
    }
    scopes
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `POST /settings/tokens`: creates an API token owned by the signed-in user (scopes a preset
/// of at most their role, expiry in days or `never`), keeps its secret as a one-time flash and
/// redirects to the page that shows it once (a reload creates nothing and shows nothing).
#[handler]
pub(crate) async fn create_token(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let Some(s) = ctx(req).session else {
        return redirect("/login");
    };
    let role = s.record.role;
    let scopes = Role::parse(&form.get("scopes"))
        .unwrap_or(role)
        .permissions();
    let now = web.app.clock.now();
    let expires_at = match form.get("expires").trim() {
        "never" => None,
        days => Some(now.plus_seconds(86_400 * days.parse::<i64>().unwrap_or(90).clamp(1, 3650))),
    };
    let new = api_tokens::NewToken {
        name: form.get("name"),
        owner: Some(s.record.user_id.clone()),
        scopes: effective(&scopes, role),
        expires_at,
    };
    match api_tokens::create(&web.app, &new).await {
        Ok(issued) => {
            let payload =
                serde_json::to_string(&(issued.token.name, issued.secret)).unwrap_or_default();
            if let Err(e) = flash::put(&web.app, &s.digest, TOKEN_FLASH, &payload).await {
                return pages::app_error(&web, req, &e).await;
            }
            redirect("/settings?created=token#tokens")
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
        let s = ctx(req).session.ok_or(AppError::Unauthorized)?;
        let me = Principal::user(
            s.record.user_id,
            s.record.email,
            s.record.role,
            Via::Session,
        );
        api_tokens::revoke_as(&web.app, &me, &id).await
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
