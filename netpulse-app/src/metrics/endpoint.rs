//! `GET /metrics`: 403 (empty body) outside the allowlist, else the text exposition.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};

use super::Metrics;

/// The handler; the HTTP routes mount it when metrics are enabled.
#[handler]
pub(crate) async fn metrics(req: &Request, Data(metrics): Data<&Arc<Metrics>>) -> Response {
    let peer = req
        .remote_addr()
        .as_socket_addr()
        .map(std::net::SocketAddr::ip);
    if !metrics.settings().allow.allows(peer) {
        tracing::debug!(peer = ?peer, "metrics: scrape refused by the allowlist");
        return Response::builder().status(StatusCode::FORBIDDEN).finish();
    }
    Response::builder()
        .status(StatusCode::OK)
        .content_type(super::CONTENT_TYPE)
        .body(metrics.render().await)
}
