//! Connection actions: enable, disable, delete.

use netpulse_domain::id::ConnectionId;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};

use crate::service::connections;
use crate::web::guard::redirect;
use crate::web::{Web, pages};

/// `POST /settings/connections/{id}/{action}`: `enable`, `disable` or `delete`.
#[handler]
pub(crate) async fn act(
    req: &Request,
    web: Data<&Web>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let Ok(cid) = ConnectionId::parse(&id) else {
        return pages::error_for(
            &web,
            req,
            StatusCode::NOT_FOUND,
            "That connection does not exist.",
        )
        .await;
    };
    let result = match action.as_str() {
        "enable" | "disable" => connections::set_enabled(&web.app, &cid, action == "enable").await,
        "delete" => connections::delete(&web.app, &cid).await,
        _ => return pages::error_for(&web, req, StatusCode::NOT_FOUND, "Unknown action.").await,
    };
    match result {
        Ok(()) => redirect("/settings/connections"),
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}
