//! The requests the engine makes: timed pings, and download and upload streams that count
//! bytes as they go.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use netpulse_domain::measurement::FailureClass;
use reqwest::{Client, Url};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::report::{engine_error, millis, reqwest_error};
use crate::parse::http::HttpEngineError;

/// The size of the random upload buffer: 1 MiB.
const UPLOAD_BLOCK_BYTES: usize = 1 << 20;

/// The chunk size of upload bodies.
const UPLOAD_CHUNK_BYTES: usize = 64 * 1024;

/// Waits until `until`, failing early with the first stream that stops (streams only stop
/// with an error).
pub(super) async fn wait_or_fail(
    streams: &mut JoinSet<HttpEngineError>,
    until: Instant,
) -> Result<(), HttpEngineError> {
    tokio::select! {
        () = tokio::time::sleep_until(until) => Ok(()),
        Some(stopped) = streams.join_next() => Err(stopped.unwrap_or_else(|e| {
            engine_error(FailureClass::Other, format!("a transfer stream stopped: {e}"))
        })),
    }
}

fn check_status(what: &str, response: &reqwest::Response) -> Result<(), HttpEngineError> {
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(engine_error(
            FailureClass::Other,
            format!("{what} answered HTTP {status}"),
        ))
    }
}

/// One ping: the time from sending the request to receiving the response headers.
pub(super) async fn ping_once(
    client: &Client,
    url: &Url,
    timeout: Duration,
) -> Result<Duration, HttpEngineError> {
    let what = format!("GET {url}");
    let started = Instant::now();
    let response = client
        .get(url.clone())
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| reqwest_error(&what, &e))?;
    let took = started.elapsed();
    check_status(&what, &response)?;
    // Drain the (tiny) body so that the connection goes back to the pool.
    response
        .bytes()
        .await
        .map_err(|e| reqwest_error(&what, &e))?;
    Ok(took)
}

/// Pings every `interval` from `from` on, until `stop`; keeps the samples that completed
/// before `stop` was set.
pub(super) async fn loaded_pings(
    client: Client,
    url: Url,
    timeout: Duration,
    interval: Duration,
    from: Instant,
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<f64>>>,
) {
    tokio::time::sleep_until(from).await;
    while !stop.load(Ordering::SeqCst) {
        if let Ok(took) = ping_once(&client, &url, timeout).await {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            samples
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(millis(took));
        }
        tokio::time::sleep(interval).await;
    }
}

/// Downloads from `url` over and over, adding received body bytes to `counter` as they
/// arrive. Returns only on failure.
pub(super) async fn download_stream(
    client: Client,
    url: Url,
    counter: Arc<AtomicU64>,
) -> HttpEngineError {
    let what = format!("GET {url}");
    loop {
        let mut response = match client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => return reqwest_error(&what, &e),
        };
        if let Err(e) = check_status(&what, &response) {
            return e;
        }
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                Ok(None) => break,
                Err(e) => return reqwest_error(&what, &e),
            }
        }
    }
}

/// Uploads `size` bytes to `url` over and over, adding body bytes to `counter` as the HTTP
/// client takes them. Returns only on failure.
pub(super) async fn upload_stream(
    client: Client,
    url: Url,
    size: u64,
    counter: Arc<AtomicU64>,
) -> HttpEngineError {
    let what = format!("POST {url}");
    let block = upload_block();
    loop {
        let chunk_counter = Arc::clone(&counter);
        let chunks = (0..size.div_ceil(UPLOAD_CHUNK_BYTES as u64)).map(move |i| {
            let offset = (i * UPLOAD_CHUNK_BYTES as u64) as usize % UPLOAD_BLOCK_BYTES;
            let len = (size - i * UPLOAD_CHUNK_BYTES as u64).min(UPLOAD_CHUNK_BYTES as u64);
            chunk_counter.fetch_add(len, Ordering::Relaxed);
            Ok::<_, std::convert::Infallible>(&block[offset..offset + len as usize])
        });
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let sent = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return reqwest_error(&what, &e),
        };
        if let Err(e) = check_status(&what, &response) {
            return e;
        }
        if let Err(e) = response.bytes().await {
            return reqwest_error(&what, &e);
        }
    }
}

/// The random upload buffer (SplitMix64 seeded from the clock: incompressible, not secret).
fn upload_block() -> &'static [u8] {
    static BLOCK: OnceLock<Box<[u8]>> = OnceLock::new();
    BLOCK.get_or_init(|| {
        let mut state = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x2545_F491_4F6C_DD1D, |d| d.as_nanos() as u64);
        let mut data = Vec::with_capacity(UPLOAD_BLOCK_BYTES);
        while data.len() < UPLOAD_BLOCK_BYTES {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            data.extend_from_slice(&z.to_le_bytes());
        }
        data.into_boxed_slice()
    })
}
