//! The server endpoints the built-in HTTP engine measures against (its `netpulse` flavour).
//!
//! [`routes`] serves, relative to where it is mounted (the netpulse server mounts it at its
//! root):
//!
//! | request | response |
//! |---|---|
//! | `GET /speedtest/ping` | `200`, empty body |
//! | `GET /speedtest/down?bytes=N` | `200`, exactly `min(N, 1 GiB)` bytes of incompressible data (`application/octet-stream`, with `Content-Length`); `400` when `bytes` is missing or not a number |
//! | `POST /speedtest/up` | reads and discards the body, `200` with `{"bytes":N}`, N the number of body bytes received |
//!
//! Every response carries `Cache-Control: no-store`. The download data is streamed from one
//! random buffer ([`BLOCK_BYTES`], generated once per process), so serving it costs no
//! allocation per request; nothing is compressed.

use std::sync::OnceLock;

use bytes::Bytes;
use futures_util::StreamExt;
use poem::http::{StatusCode, header};
use poem::web::Json;
use poem::{Body, IntoResponse, Request, Response, Route, get, handler, post};
use serde::{Deserialize, Serialize};

/// The largest download one request can ask for: 1 GiB.
pub const MAX_DOWNLOAD_BYTES: u64 = 1 << 30;

/// The size of the random buffer downloads are cut from: 1 MiB.
pub const BLOCK_BYTES: usize = 1 << 20;

/// The size of the chunks a download is streamed in.
const CHUNK_BYTES: usize = 64 * 1024;

/// The routes `/speedtest/ping`, `/speedtest/down` and `/speedtest/up`.
pub fn routes() -> Route {
    Route::new()
        .at("/speedtest/ping", get(ping))
        .at("/speedtest/down", get(down))
        .at("/speedtest/up", post(up))
}

/// The random buffer (generated on first use with a SplitMix64 sequence seeded from the
/// clock: not secret, just incompressible).
fn block() -> &'static Bytes {
    static BLOCK: OnceLock<Bytes> = OnceLock::new();
    BLOCK.get_or_init(|| {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64);
        let mut state = seed;
        let mut data = Vec::with_capacity(BLOCK_BYTES);
        while data.len() < BLOCK_BYTES {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            data.extend_from_slice(&z.to_le_bytes());
        }
        Bytes::from(data)
    })
}

fn no_store(response: impl IntoResponse) -> Response {
    response
        .with_header(header::CACHE_CONTROL, "no-store")
        .into_response()
}

#[handler]
fn ping() -> Response {
    no_store(StatusCode::OK)
}

/// The query of `/speedtest/down`.
#[derive(Debug, Deserialize)]
struct DownQuery {
    bytes: u64,
}

#[handler]
fn down(request: &Request) -> Response {
    let Ok(DownQuery { bytes }) = request.params::<DownQuery>() else {
        return no_store(
            "the query must be ?bytes=N with N a whole number".with_status(StatusCode::BAD_REQUEST),
        );
    };
    let total = bytes.min(MAX_DOWNLOAD_BYTES);
    let block = block();
    let chunks = (0..total.div_ceil(CHUNK_BYTES as u64)).map(move |i| {
        let offset = (i * CHUNK_BYTES as u64) as usize % BLOCK_BYTES;
        let len = (total - i * CHUNK_BYTES as u64).min(CHUNK_BYTES as u64) as usize;
        Ok::<_, std::io::Error>(block.slice(offset..offset + len))
    });
    no_store(
        Body::from_bytes_stream(futures_util::stream::iter(chunks))
            .with_content_type("application/octet-stream")
            .with_header(header::CONTENT_LENGTH, total),
    )
}

/// The answer of `/speedtest/up`.
#[derive(Debug, Serialize)]
struct UpReply {
    bytes: u64,
}

#[handler]
async fn up(body: Body) -> Response {
    let mut stream = std::pin::pin!(body.into_bytes_stream());
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => bytes += chunk.len() as u64,
            Err(e) => {
                return no_store(
                    format!("reading the upload failed after {bytes} bytes: {e}")
                        .with_status(StatusCode::BAD_REQUEST),
                );
            }
        }
    }
    no_store(Json(UpReply { bytes }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::Endpoint;

    async fn call(request: Request) -> Response {
        routes().get_response(request).await
    }

    async fn body_bytes(response: Response) -> Vec<u8> {
        response.into_body().into_vec().await.unwrap()
    }

    #[tokio::test]
    async fn down_sends_exactly_the_bytes_asked_for() {
        for n in [
            0u64,
            1,
            12_345,
            CHUNK_BYTES as u64,
            3 * BLOCK_BYTES as u64 + 7,
        ] {
            let response = call(
                Request::builder()
                    .uri_str(format!("/speedtest/down?bytes={n}"))
                    .finish(),
            )
            .await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
            assert_eq!(
                response.headers()[header::CONTENT_LENGTH],
                n.to_string().as_str()
            );
            let body = body_bytes(response).await;
            assert_eq!(body.len() as u64, n);
        }
    }

    #[tokio::test]
    async fn down_data_does_not_repeat_within_a_block() {
        let response = call(
            Request::builder()
                .uri_str("/speedtest/down?bytes=262144")
                .finish(),
        )
        .await;
        let body = body_bytes(response).await;
        let chunks: Vec<&[u8]> = body.chunks(4096).collect();
        for (i, a) in chunks.iter().enumerate() {
            for b in &chunks[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Roughly uniform bytes: every value shows up.
        let mut seen = [false; 256];
        for b in &body {
            seen[usize::from(*b)] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[tokio::test]
    async fn down_is_capped_and_validated() {
        let response = call(
            Request::builder()
                .uri_str("/speedtest/down?bytes=99999999999999")
                .finish(),
        )
        .await;
        assert_eq!(
            response.headers()[header::CONTENT_LENGTH],
            MAX_DOWNLOAD_BYTES.to_string().as_str()
        );
        for bad in [
            "/speedtest/down",
            "/speedtest/down?bytes=-1",
            "/speedtest/down?bytes=lots",
        ] {
            let response = call(Request::builder().uri_str(bad).finish()).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        }
    }

    #[tokio::test]
    async fn up_counts_the_body() {
        let payload = vec![7u8; 300_001];
        let response = call(
            Request::builder()
                .method(poem::http::Method::POST)
                .uri_str("/speedtest/up")
                .body(payload),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let body = body_bytes(response).await;
        assert_eq!(String::from_utf8(body).unwrap(), r#"{"bytes":300001}"#);
    }

    #[tokio::test]
    async fn ping_is_empty_and_not_cached() {
        let response = call(Request::builder().uri_str("/speedtest/ping").finish()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert!(body_bytes(response).await.is_empty());
        let wrong_method = call(
            Request::builder()
                .method(poem::http::Method::POST)
                .uri_str("/speedtest/ping")
                .finish(),
        )
        .await;
        assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
