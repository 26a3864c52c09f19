//! Share links of a result: `POST /history/{id}/share` creates one, `…/share/revoke` revokes
//! one; both return to the detail view.

use netpulse_domain::id::ResultId;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use crate::error::AppError;
use crate::service::measurements;
use crate::web::guard::redirect;
use crate::web::{Web, pages};

/// `POST /history/{id}/share`: creates a public link.
#[handler]
pub(crate) async fn share(req: &Request, web: Data<&Web>, Path(id): Path<String>) -> Response {
    let result = async {
        let rid = ResultId::parse(&id).map_err(|_| AppError::NotFound {
            what: "result",
            id: id.clone(),
        })?;
        measurements::share(&web.app, &rid).await?;
        Ok::<_, AppError>(())
    }
    .await;
    match result {
        Ok(()) => redirect(&format!("/history/{id}#share")),
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// `POST /history/{id}/share/revoke` (`token` in the form): revokes a link.
#[handler]
pub(crate) async fn revoke(
    req: &Request,
    web: Data<&Web>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let form = crate::web::forms::FormData::read(body).await;
    match measurements::revoke_share(&web.app, &form.get("token")).await {
        Ok(()) => redirect(&format!("/history/{id}#share")),
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}
