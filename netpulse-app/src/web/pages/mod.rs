//! The dashboard's pages, one module per page.

pub mod auth;
pub mod connections;
pub mod dashboard;
pub mod heatmap;
pub mod history;
pub mod notifications;
pub mod probes;
pub mod servers;
pub mod settings;
pub mod share;

use poem::http::StatusCode;
use poem::{Request, Response};
use serde::Serialize;

use super::Web;
use super::settings::SiteSettings;
use super::view::{Layout, ctx, html};
use crate::error::AppError;

/// The error page's data.
#[derive(Debug, Serialize)]
pub struct ErrorPage {
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for people.
    pub message: String,
}

/// An error page outside a handler (the guard's refusals).
pub fn error_page(web: &Web, nonce: &str, status: StatusCode, message: &str) -> Response {
    let mut layout = Layout::new(
        &super::guard::RequestCtx {
            nonce: nonce.to_owned(),
            session: None,
            anonymous_csrf: String::new(),
            client_ip: String::new(),
        },
        &SiteSettings::default(),
        status.canonical_reason().unwrap_or("Error"),
        "",
    );
    layout.user = None;
    html(
        web,
        status,
        "error.html",
        &layout,
        &ErrorPage {
            status: status.as_u16(),
            message: message.to_owned(),
        },
    )
}

/// An error page inside a handler (with the request's frame).
pub async fn error_for(web: &Web, req: &Request, status: StatusCode, message: &str) -> Response {
    let c = ctx(req);
    let site = super::settings::load(web).await.unwrap_or_default();
    let layout = Layout::new(&c, &site, status.canonical_reason().unwrap_or("Error"), "");
    html(
        web,
        status,
        "error.html",
        &layout,
        &ErrorPage {
            status: status.as_u16(),
            message: message.to_owned(),
        },
    )
}

/// A read-only page: loads the site settings, builds the page's data with them and renders
/// `template` in the layout (`title`, navigation entry `nav`); an error renders the error page.
pub async fn show<P: Serialize>(
    req: &Request,
    web: &Web,
    template: &str,
    title: &str,
    nav: &str,
    build: impl AsyncFnOnce(&SiteSettings) -> Result<P, AppError>,
) -> Response {
    let result = async {
        let site = super::settings::load(web).await?;
        let page = build(&site).await?;
        Ok::<_, AppError>((site, page))
    }
    .await;
    match result {
        Ok((site, page)) => html(
            web,
            StatusCode::OK,
            template,
            &Layout::new(&ctx(req), &site, title, nav),
            &page,
        ),
        Err(e) => app_error(web, req, &e).await,
    }
}

/// An application error as a page (404 for not found, 409 for conflicts, 503 for the database).
pub async fn app_error(web: &Web, req: &Request, e: &AppError) -> Response {
    let (status, message) = match e {
        AppError::NotFound { what, .. } => (
            StatusCode::NOT_FOUND,
            format!("That {what} does not exist (any more)."),
        ),
        AppError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
        AppError::Invalid { field, message } => {
            (StatusCode::BAD_REQUEST, format!("{field}: {message}"))
        }
        AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "Sign in first.".into()),
        AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
        AppError::Unavailable { message: m, .. } => {
            tracing::error!(error = %m, "dashboard page failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is unavailable. Try again in a moment.".into(),
            )
        }
    };
    error_for(web, req, status, &message).await
}

/// A JSON error answer for an application error.
pub fn app_error_json(e: &AppError) -> Response {
    use super::guard::json_error;
    match e {
        AppError::NotFound { what, id } => json_error(StatusCode::NOT_FOUND, "not_found", &format!("{what} {id} not found")),
        AppError::Conflict(m) => json_error(StatusCode::CONFLICT, "conflict", m),
        AppError::Invalid { field, message } => Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .content_type("application/json; charset=utf-8")
            .body(
                serde_json::json!({"code": "invalid", "message": format!("{field}: {message}"), "field": field})
                    .to_string(),
            ),
        AppError::Unauthorized => json_error(StatusCode::UNAUTHORIZED, "unauthorized", "sign in first"),
        AppError::Forbidden(m) => json_error(StatusCode::FORBIDDEN, "forbidden", m),
        AppError::Unavailable { message: m, .. } => {
            tracing::error!(error = %m, "dashboard request failed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database is unavailable")
        }
    }
}
