//! Settings → Users (admins): every account with its role and state; create an account with a
//! role, change a role, disable, enable, delete. The last enabled Admin cannot be demoted,
//! disabled or deleted (the refusal is shown). Changes apply on the account's next request.

use netpulse_domain::access::Role;
use netpulse_domain::id::UserId;
use netpulse_ports::access_store::AccessChange;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::{auth, passwords, two_factor, users};
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::redirect;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, format, pages, settings};

/// An account as listed.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    /// Id.
    pub id: String,
    /// E-mail.
    pub email: String,
    /// `viewer`, `operator`, `admin`.
    pub role: String,
    /// Disabled.
    pub disabled: bool,
    /// Created.
    pub created: String,
    /// The signed-in user themself.
    pub me: bool,
    /// Two-factor sign-in is on.
    pub two_factor: bool,
}

/// The page's data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UsersPage {
    /// Accounts.
    pub users: Vec<UserRow>,
    /// The roles, least first.
    pub roles: Vec<String>,
    /// The e-mail typed (on errors).
    pub email: String,
    /// The role chosen (on errors).
    pub role: String,
    /// Every account must use two-factor sign-in.
    pub require_2fa: bool,
    /// A success message.
    pub notice: String,
    /// Errors by field (`email`, `password`, `role`, `_form`).
    pub errors: FieldErrors,
}

async fn respond(
    web: &Web,
    req: &Request,
    status: StatusCode,
    edit: impl FnOnce(&mut UsersPage),
) -> Response {
    let result = async {
        let site = settings::load(web).await?;
        let me = ctx(req).session.map(|s| s.record.user_id);
        let list = users::list(&web.app).await?;
        let mut rows = Vec::with_capacity(list.len());
        for u in list {
            rows.push(UserRow {
                me: me.as_ref() == Some(&u.id),
                two_factor: two_factor::enabled(&web.app, &u.id).await?,
                id: u.id.as_str().to_owned(),
                email: u.email,
                role: u.role.as_str().to_owned(),
                disabled: u.disabled,
                created: format::date_time(u.created_at, &site.tz),
            });
        }
        let mut page = UsersPage {
            users: rows,
            require_2fa: two_factor::required(&web.app).await?,
            roles: Role::ALL.map(|r| r.as_str().to_owned()).to_vec(),
            role: "viewer".into(),
            ..UsersPage::default()
        };
        edit(&mut page);
        let layout = Layout::new(&ctx(req), &site, "Users", "settings").tab("users");
        Ok::<_, AppError>(html(web, status, "settings_users.html", &layout, &page))
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

/// `GET /settings/users`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>) -> Response {
    let query = req.uri().query().unwrap_or_default().to_owned();
    respond(&web, req, StatusCode::OK, |p| {
        if query.contains("done=created") {
            "Account created. Give them the password through a safe channel."
                .clone_into(&mut p.notice);
        } else if query.contains("done=changed") {
            "Saved. It applies on their next request.".clone_into(&mut p.notice);
        } else if query.contains("done=deleted") {
            "Account deleted.".clone_into(&mut p.notice);
        }
    })
    .await
}

/// `POST /settings/users`: creates an account with a role.
#[handler]
pub(crate) async fn create(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let mut errors = FieldErrors::default();
    let email = auth::check_email(&form.get("email")).map_err(|e| errors.add("email", e));
    let password = form.raw("password");
    if let Err(e) = passwords::check(&password) {
        errors.add("password", e);
    }
    let role = Role::parse(&form.get("role"));
    if role.is_none() {
        errors.add("role", "choose viewer, operator or admin");
    }
    let (typed_email, typed_role) = (form.get("email"), form.get("role"));
    if let (Ok(email), Some(role), true) = (email, role, errors.is_empty()) {
        match users::create_with_role(&web.app, email, password, role).await {
            Ok(_) => return redirect("/settings/users?done=created"),
            Err(AppError::Conflict(m)) => errors.add("email", m),
            Err(e) => return pages::app_error(&web, req, &e).await,
        }
    }
    respond(&web, req, StatusCode::UNPROCESSABLE_ENTITY, move |p| {
        p.email = typed_email;
        p.role = typed_role;
        p.errors = errors;
    })
    .await
}

/// `POST /settings/users/{id}`: `action` = `role` (with `role`), `disable`, `enable` or
/// `delete`.
#[handler]
pub(crate) async fn change(
    req: &Request,
    web: Data<&Web>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let form = FormData::read(body).await;
    let Ok(uid) = UserId::parse(&id) else {
        let e = AppError::NotFound { what: "user", id };
        return pages::app_error(&web, req, &e).await;
    };
    let change = match form.get("action").as_str() {
        "reset-2fa" => return super::two_factor::reset(&web, req, &uid).await,
        "role" => {
            let Some(r) = Role::parse(&form.get("role")) else {
                let e = AppError::invalid("role", "choose viewer, operator or admin");
                return pages::app_error(&web, req, &e).await;
            };
            AccessChange::Role(r)
        }
        "disable" => AccessChange::Disabled(true),
        "enable" => AccessChange::Disabled(false),
        "delete" => AccessChange::Delete,
        other => {
            let e = AppError::invalid("action", format!("unknown action {other:?}"));
            return pages::app_error(&web, req, &e).await;
        }
    };
    match users::change(&web.app, &uid, change).await {
        Ok(None) => redirect("/settings/users?done=deleted"),
        Ok(Some(_)) => redirect("/settings/users?done=changed"),
        Err(AppError::Conflict(m)) => {
            respond(&web, req, StatusCode::CONFLICT, move |p| {
                p.errors.add("_form", m);
            })
            .await
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}
