//! The dashboard's pages, one module per page.

pub mod audit;
pub mod auth;
pub mod connections;
pub mod connectivity;
pub mod dashboard;
pub mod fleet;
pub mod heatmap;
pub mod history;
pub mod incidents;
pub mod mqtt;
pub mod notifications;
pub mod outages;
pub mod probes;
pub mod servers;
pub mod settings;
pub mod share;
pub mod two_factor;
pub mod users;

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

/// An application error as a page; the status comes from the error table
/// ([`AppError::status`]), the wording is the dashboard's.
pub async fn app_error(web: &Web, req: &Request, e: &AppError) -> Response {
    e.log("dashboard page failed");
    let message = match e {
        AppError::NotFound { what, .. } => format!("That {what} does not exist (any more)."),
        AppError::Unauthorized => "Sign in first.".into(),
        AppError::Unavailable { .. } => {
            "The database is unavailable. Try again in a moment.".into()
        }
        AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Forbidden(_) => e.to_string(),
    };
    error_for(web, req, status_of(e), &message).await
}

/// A JSON error answer for an application error, in the API's shape; the status and code come
/// from the error table.
pub fn app_error_json(e: &AppError) -> Response {
    e.log("dashboard request failed");
    let message = match e {
        AppError::Unauthorized => "sign in first".to_owned(),
        AppError::Unavailable { .. } => "the database is unavailable".to_owned(),
        _ => e.to_string(),
    };
    let body = serde_json::json!({"code": e.code(), "message": message, "field": e.field()});
    Response::builder()
        .status(status_of(e))
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
