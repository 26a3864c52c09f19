//! Request tracing: one `response` (or `error`) event per request in a `request` span, at INFO
//! — except the speed-test target (`/speedtest/*`), whose thousands of requests per HTTP-engine
//! test are traced at DEBUG (`RUST_LOG=info,netpulse_app::http::request_log=debug` shows them).

use std::time::Instant;

use poem::web::RealIp;
use poem::{Endpoint, FromRequest, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument;

/// The path prefix traced at DEBUG.
pub const QUIET_PREFIX: &str = "/speedtest/";

/// The middleware.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestLog;

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RequestLogEndpoint { inner: ep }
    }
}

/// The endpoint [`RequestLog`] wraps.
#[derive(Debug)]
pub struct RequestLogEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let remote = RealIp::from_request_without_body(&req)
            .await
            .ok()
            .and_then(|ip| ip.0)
            .map_or_else(|| req.remote_addr().to_string(), |ip| ip.to_string());
        let (method, uri) = (req.method().clone(), req.original_uri().clone());
        if uri.path().starts_with(QUIET_PREFIX) {
            let span = tracing::debug_span!("request", remote_addr = %remote, method = %method, uri = %uri);
            let started = Instant::now();
            let res = self.inner.call(req).instrument(span.clone()).await;
            let _entered = span.enter();
            match res {
                Ok(resp) => {
                    let resp = resp.into_response();
                    tracing::debug!(status = %resp.status(), duration = ?started.elapsed(), "response");
                    Ok(resp)
                }
                Err(err) => {
                    tracing::debug!(status = %err.status(), error = %err, duration = ?started.elapsed(), "error");
                    Err(err)
                }
            }
        } else {
            let span =
                tracing::info_span!("request", remote_addr = %remote, method = %method, uri = %uri);
            let started = Instant::now();
            let res = self.inner.call(req).instrument(span.clone()).await;
            let _entered = span.enter();
            match res {
                Ok(resp) => {
                    let resp = resp.into_response();
                    tracing::info!(status = %resp.status(), duration = ?started.elapsed(), "response");
                    Ok(resp)
                }
                Err(err) => {
                    tracing::info!(status = %err.status(), error = %err, duration = ?started.elapsed(), "error");
                    Err(err)
                }
            }
        }
    }
}
