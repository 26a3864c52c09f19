//! `GET /metrics`: 403 (empty body) outside the allowlist without the token, else the text
//! exposition.

use std::net::IpAddr;
use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Request, Response, handler};

use crate::metrics::{CONTENT_TYPE, Metrics};

/// Whether the last `X-Forwarded-For` entry is the client's address (`--trust-forwarded-for`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustForwardedFor(pub bool);

/// The client's address: the last `X-Forwarded-For` entry when trusted, else the TCP peer's.
pub fn client_ip(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(last) = req
            .headers()
            .get("X-Forwarded-For")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
    {
        return last.trim().parse().ok();
    }
    req.remote_addr()
        .as_socket_addr()
        .map(std::net::SocketAddr::ip)
}

/// The handler; mounted by the composition root (`startup`) when metrics are enabled.
#[handler]
pub(crate) async fn metrics(
    req: &Request,
    Data(metrics): Data<&Arc<Metrics>>,
    Data(trust): Data<&TrustForwardedFor>,
) -> Response {
    let peer = client_ip(req, trust.0);
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !metrics.settings().access.admits(peer, authorization) {
        tracing::debug!(peer = ?peer, "metrics: scrape refused by the allowlist");
        return Response::builder().status(StatusCode::FORBIDDEN).finish();
    }
    Response::builder()
        .status(StatusCode::OK)
        .content_type(CONTENT_TYPE)
        .body(metrics.render().await)
}
