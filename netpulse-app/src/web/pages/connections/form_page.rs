//! The connection form pages: new, create, edit, update (errors next to their fields).

use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::values::Colour;
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Body, Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::cron::preview_lines;
use super::form::{ConnectionForm, place};
use crate::error::AppError;
use crate::service::{connection_checks, connections, probes};
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::redirect;
use crate::web::pages::history::Opt;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, pages, settings};

/// The form page's data.
#[derive(Debug, Clone, Serialize)]
pub struct FormPage {
    /// `null` for a new connection.
    pub id: Option<String>,
    /// Probes to choose from (new connections only).
    pub probes: Vec<Opt>,
    /// Colours.
    pub colours: Vec<Opt>,
    /// Values.
    pub form: ConnectionForm,
    /// Errors by field.
    pub errors: FieldErrors,
    /// The next cron runs (saved connection), in its time zone.
    pub preview: Vec<String>,
    /// Every IANA zone (the time-zone field's list).
    pub zones: Vec<String>,
}

async fn form_page(
    web: &Web,
    req: &Request,
    status: StatusCode,
    id: Option<String>,
    form: ConnectionForm,
    errors: FieldErrors,
) -> Response {
    let result = async {
        let probes = probes::list(&web.app).await?;
        let preview = if form.schedule == "cron" {
            preview_lines(web, &form.cron, &form.timezone).unwrap_or_default()
        } else {
            vec![]
        };
        Ok::<_, AppError>(FormPage {
            probes: probes
                .iter()
                .map(|p| Opt {
                    value: p.id.as_str().into(),
                    label: p.name.as_str().into(),
                    selected: p.id.as_str() == form.probe_id,
                })
                .collect(),
            colours: Colour::ALL
                .iter()
                .map(|c| Opt {
                    value: c.as_str().into(),
                    label: c.as_str().into(),
                    selected: c.as_str() == form.colour,
                })
                .collect(),
            id,
            form,
            errors,
            preview,
            zones: settings::zone_names(),
        })
    }
    .await;
    let site = settings::load(web).await.unwrap_or_default();
    match result {
        Ok(page) => {
            let title = if page.id.is_some() {
                "Edit connection"
            } else {
                "New connection"
            };
            html(
                web,
                status,
                "connection_form.html",
                &Layout::new(&ctx(req), &site, title, "settings").tab("connections"),
                &page,
            )
        }
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

/// The new-connection query.
#[derive(Debug, Deserialize)]
pub struct NewQuery {
    probe: Option<String>,
}

/// `GET /settings/connections/new`.
#[handler]
pub(crate) async fn new_form(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<NewQuery>,
) -> Response {
    let probe = match q.probe {
        Some(p) => Some(p),
        None => probes::list(&web.app)
            .await
            .ok()
            .and_then(|p| p.first().map(|p| p.id.as_str().to_owned())),
    };
    form_page(
        &web,
        req,
        StatusCode::OK,
        None,
        ConnectionForm::new_default(probe.as_deref()),
        FieldErrors::default(),
    )
    .await
}

/// Where a saved connection leads: the list, saying so.
fn saved_href(name: &str) -> String {
    let query = serde_urlencoded::to_string([("saved", name)]).unwrap_or_default();
    format!("/settings/connections?{query}")
}

/// `POST /settings/connections`: creates a connection.
#[handler]
pub(crate) async fn create(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = ConnectionForm::read(&FormData::read(body).await);
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    let probe = ProbeId::parse(&form.probe_id).ok();
    let probe_exists = match &probe {
        Some(p) => probes::get(&web.app, p).await.is_ok(),
        None => false,
    };
    if !probe_exists {
        errors.add("probe_id", "choose a probe (create one under Probes first)");
    }
    for (field, message) in connection_checks::every_error(&web.app, &input, None) {
        place(&mut errors, &field, message);
    }
    if errors.is_empty()
        && let Some(probe) = probe
    {
        match connections::create(&web.app, &probe, input).await {
            Ok(c) => return redirect(&saved_href(c.name.as_str())),
            Err(AppError::Invalid { field, message }) => place(&mut errors, &field, message),
            Err(e) => return pages::app_error(&web, req, &e).await,
        }
    }
    form_page(
        &web,
        req,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        form,
        errors,
    )
    .await
}

/// `GET /settings/connections/{id}`.
#[handler]
pub(crate) async fn edit_form(req: &Request, web: Data<&Web>, Path(id): Path<String>) -> Response {
    let result = async {
        let cid = ConnectionId::parse(&id).map_err(|_| AppError::NotFound {
            what: "connection",
            id: id.clone(),
        })?;
        connections::get(&web.app, &cid).await
    }
    .await;
    match result {
        Ok(c) => {
            form_page(
                &web,
                req,
                StatusCode::OK,
                Some(id),
                ConnectionForm::of(&c),
                FieldErrors::default(),
            )
            .await
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// `POST /settings/connections/{id}`: saves every field.
#[handler]
pub(crate) async fn update(
    req: &Request,
    web: Data<&Web>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let mut form = ConnectionForm::read(&FormData::read(body).await);
    let Ok(cid) = ConnectionId::parse(&id) else {
        return pages::error_for(
            &web,
            req,
            StatusCode::NOT_FOUND,
            "That connection does not exist.",
        )
        .await;
    };
    let stored = match connections::get(&web.app, &cid).await {
        Ok(c) => c,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    // The owner never changes.
    form.probe_id = stored.probe_id.as_str().into();
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    for (field, message) in connection_checks::every_error(&web.app, &input, Some(&stored)) {
        place(&mut errors, &field, message);
    }
    if errors.is_empty() {
        match connections::update(&web.app, &cid, input).await {
            Ok(c) => return redirect(&saved_href(c.name.as_str())),
            Err(AppError::Invalid { field, message }) => place(&mut errors, &field, message),
            Err(e) => return pages::app_error(&web, req, &e).await,
        }
    }
    form_page(
        &web,
        req,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(id),
        form,
        errors,
    )
    .await
}
