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
//!
//! **Who may use it** ([`TargetPolicy`], built by [`routes_with`]; [`routes`] serves anyone
//! without limits): [`TargetAccess::Off`] answers 404, [`TargetAccess::Private`] (the server's
//! default) answers 403 to clients outside loopback and private ranges ([`is_private`]), and
//! [`TargetAccess::Anyone`] serves everyone. Downloads and uploads are also limited per client
//! address ([`Limits`]): at most `concurrent` transfers at once and `bytes_per_minute` bytes per
//! minute (a download is charged the bytes it asks for, an upload its `Content-Length` or what
//! it sent); past either the answer is `429` with `Retry-After`. Loopback clients (the
//! in-process agent) are not limited: their transfers never leave the host.
//!
//! The client address is the TCP peer's, or with `trust_forwarded_for` the last
//! `X-Forwarded-For` entry (behind a reverse proxy on the same host every client is otherwise
//! loopback).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use poem::http::{StatusCode, header};
use poem::web::{Data, Json};
use poem::{Body, EndpointExt, IntoResponse, Request, Response, Route, get, handler, post};
use serde::{Deserialize, Serialize};

/// The largest download one request can ask for: 1 GiB.
pub const MAX_DOWNLOAD_BYTES: u64 = 1 << 30;

/// The size of the random buffer downloads are cut from: 1 MiB.
pub const BLOCK_BYTES: usize = 1 << 20;

/// The size of the chunks a download is streamed in.
const CHUNK_BYTES: usize = 64 * 1024;

/// Who may use the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetAccess {
    /// Nobody: every endpoint answers 404.
    Off,
    /// Loopback and private addresses ([`is_private`]).
    #[default]
    Private,
    /// Everyone.
    Anyone,
}

impl std::str::FromStr for TargetAccess {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "off" => Ok(Self::Off),
            "private" => Ok(Self::Private),
            "anyone" => Ok(Self::Anyone),
            other => Err(format!("{other:?} is not off, private or anyone")),
        }
    }
}

/// Per-address limits of downloads and uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Transfers one address may have under way at once.
    pub concurrent: u32,
    /// Bytes one address may transfer per minute.
    pub bytes_per_minute: u64,
}

impl Default for Limits {
    /// 16 transfers at once (the HTTP engine uses 4 streams by default, at most 64) and 20 GiB
    /// per minute (a 10 s test each way at 2.5 Gbit/s, or 8 tests a minute at 250 Mbit/s).
    fn default() -> Self {
        Self {
            concurrent: 16,
            bytes_per_minute: 20 << 30,
        }
    }
}

/// Who may use the target, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetPolicy {
    /// Who may use it.
    pub access: TargetAccess,
    /// Per-address limits (`None`: none).
    pub limits: Option<Limits>,
    /// Take the client address from the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
}

impl TargetPolicy {
    /// Everyone, without limits (what [`routes`] serves).
    pub const UNRESTRICTED: Self = Self {
        access: TargetAccess::Anyone,
        limits: None,
        trust_forwarded_for: false,
    };

    /// Whether a client at `ip` may use the target (`None`: address unknown).
    pub fn admits(&self, ip: Option<IpAddr>) -> bool {
        match self.access {
            TargetAccess::Off => false,
            TargetAccess::Anyone => true,
            TargetAccess::Private => ip.is_some_and(is_private),
        }
    }
}

/// Loopback, RFC 1918 private, link-local (IPv4 and IPv6) and IPv6 unique local addresses;
/// IPv4-mapped IPv6 addresses are judged as IPv4.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
        },
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
    }
}

/// What one address used in the current minute.
#[derive(Debug, Clone, Copy)]
struct Usage {
    window_start: Instant,
    bytes: u64,
    active: u32,
}

/// The per-address accounting (in memory; forgotten addresses are swept when the map grows).
#[derive(Debug)]
pub struct Limiter {
    limits: Limits,
    usage: Mutex<HashMap<IpAddr, Usage>>,
}

/// Why a transfer was refused: retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the address may try again.
    pub retry_after_seconds: u64,
}

/// A transfer under way; dropping it ends it.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut usage = self
            .limiter
            .usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(u) = usage.get_mut(&self.ip) {
            u.active = u.active.saturating_sub(1);
        }
    }
}

impl Permit {
    /// Charges more bytes to the transfer's address.
    pub fn charge(&self, bytes: u64) {
        let mut usage = self
            .limiter
            .usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(u) = usage.get_mut(&self.ip) {
            u.bytes = u.bytes.saturating_add(bytes);
        }
    }
}

const WINDOW: Duration = Duration::from_mins(1);

impl Limiter {
    /// A limiter with these limits.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            usage: Mutex::new(HashMap::new()),
        })
    }

    /// Starts a transfer of `bytes` (charged now) for `ip`, or says when to retry.
    pub fn start(self: &Arc<Self>, ip: IpAddr, bytes: u64) -> Result<Permit, Throttled> {
        self.start_at(ip, bytes, Instant::now())
    }

    fn start_at(
        self: &Arc<Self>,
        ip: IpAddr,
        bytes: u64,
        now: Instant,
    ) -> Result<Permit, Throttled> {
        let mut usage = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        if usage.len() >= 4096 {
            usage.retain(|_, u| u.active > 0 || now.duration_since(u.window_start) < WINDOW);
        }
        let u = usage.entry(ip).or_insert(Usage {
            window_start: now,
            bytes: 0,
            active: 0,
        });
        if now.duration_since(u.window_start) >= WINDOW {
            u.window_start = now;
            u.bytes = 0;
        }
        let retry_after_seconds = WINDOW
            .saturating_sub(now.duration_since(u.window_start))
            .as_secs()
            .max(1);
        if u.active >= self.limits.concurrent {
            return Err(Throttled {
                retry_after_seconds: 1,
            });
        }
        if u.bytes >= self.limits.bytes_per_minute
            || (u.bytes > 0 && u.bytes.saturating_add(bytes) > self.limits.bytes_per_minute)
        {
            return Err(Throttled {
                retry_after_seconds,
            });
        }
        u.active += 1;
        u.bytes = u.bytes.saturating_add(bytes);
        Ok(Permit {
            limiter: Arc::clone(self),
            ip,
        })
    }
}

/// The policy and its limiter, shared by the handlers.
#[derive(Debug)]
struct Gate {
    policy: TargetPolicy,
    limiter: Option<Arc<Limiter>>,
}

/// Why the gate refused a request.
enum Refusal {
    Off,
    Forbidden,
    Throttled(Throttled),
}

impl Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Off => no_store(StatusCode::NOT_FOUND),
            Self::Forbidden => no_store(
                "the speed-test target serves only loopback and private addresses here \
                 (--speedtest-target)"
                    .with_status(StatusCode::FORBIDDEN),
            ),
            Self::Throttled(t) => no_store(
                "too many speed-test transfers from this address; retry later"
                    .with_status(StatusCode::TOO_MANY_REQUESTS)
                    .with_header(header::RETRY_AFTER, t.retry_after_seconds),
            ),
        }
    }
}

impl Gate {
    fn client_ip(&self, req: &Request) -> Option<IpAddr> {
        if self.policy.trust_forwarded_for
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

    /// Admits the request; for a transfer of `bytes` (`Some`), also starts it.
    fn admit(&self, req: &Request, bytes: Option<u64>) -> Result<Option<Permit>, Refusal> {
        if self.policy.access == TargetAccess::Off {
            return Err(Refusal::Off);
        }
        let ip = self.client_ip(req);
        if !self.policy.admits(ip) {
            return Err(Refusal::Forbidden);
        }
        match (&self.limiter, ip, bytes) {
            (Some(limiter), Some(ip), Some(bytes)) if !is_loopback(ip) => limiter
                .start(ip, bytes)
                .map(Some)
                .map_err(Refusal::Throttled),
            (Some(_), None, Some(_)) => Err(Refusal::Forbidden),
            _ => Ok(None),
        }
    }
}

/// The routes `/speedtest/ping`, `/speedtest/down` and `/speedtest/up`, for anyone and
/// without limits.
pub fn routes() -> Route {
    routes_with(TargetPolicy::UNRESTRICTED)
}

/// The routes, restricted by `policy`.
pub fn routes_with(policy: TargetPolicy) -> Route {
    let gate = Arc::new(Gate {
        policy,
        limiter: policy.limits.map(Limiter::new),
    });
    Route::new()
        .at("/speedtest/ping", get(ping).data(Arc::clone(&gate)))
        .at("/speedtest/down", get(down).data(Arc::clone(&gate)))
        .at("/speedtest/up", post(up).data(gate))
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
fn ping(request: &Request, Data(gate): Data<&Arc<Gate>>) -> Response {
    match gate.admit(request, None) {
        Ok(_) => no_store(StatusCode::OK),
        Err(refusal) => refusal.into_response(),
    }
}

/// The query of `/speedtest/down`.
#[derive(Debug, Deserialize)]
struct DownQuery {
    bytes: u64,
}

#[handler]
fn down(request: &Request, Data(gate): Data<&Arc<Gate>>) -> Response {
    if let Err(refusal) = gate.admit(request, None) {
        return refusal.into_response();
    }
    let Ok(DownQuery { bytes }) = request.params::<DownQuery>() else {
        return no_store(
            "the query must be ?bytes=N with N a whole number".with_status(StatusCode::BAD_REQUEST),
        );
    };
    let total = bytes.min(MAX_DOWNLOAD_BYTES);
    let permit = match gate.admit(request, Some(total)) {
        Ok(permit) => permit,
        Err(refusal) => return refusal.into_response(),
    };
    let block = block();
    let chunks = (0..total.div_ceil(CHUNK_BYTES as u64)).map(move |i| {
        // The permit lives as long as the body stream: the transfer ends when it is dropped.
        let _transfer = &permit;
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
async fn up(request: &Request, Data(gate): Data<&Arc<Gate>>, body: Body) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let permit = match gate.admit(request, Some(declared.unwrap_or(0))) {
        Ok(permit) => permit,
        Err(refusal) => return refusal.into_response(),
    };
    let mut stream = std::pin::pin!(body.into_bytes_stream());
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                bytes += chunk.len() as u64;
                if declared.is_none()
                    && let Some(p) = &permit
                {
                    p.charge(chunk.len() as u64);
                }
            }
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

    #[test]
    fn private_means_loopback_private_and_link_local() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for inside in [
            "127.0.0.1",
            "10.2.3.4",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.9.9",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(ip(inside)), "{inside}");
        }
        for outside in ["203.0.113.1", "172.32.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            assert!(!is_private(ip(outside)), "{outside}");
        }
        let private = TargetPolicy::default();
        assert!(private.admits(Some(ip("10.0.0.1"))));
        assert!(!private.admits(Some(ip("203.0.113.1"))));
        assert!(!private.admits(None));
        let off = TargetPolicy {
            access: TargetAccess::Off,
            ..TargetPolicy::default()
        };
        assert!(!off.admits(Some(ip("127.0.0.1"))));
        assert!(TargetPolicy::UNRESTRICTED.admits(None));
        assert_eq!("anyone".parse(), Ok(TargetAccess::Anyone));
        assert!(
            "probes"
                .parse::<TargetAccess>()
                .unwrap_err()
                .contains("probes")
        );
    }

    #[test]
    fn the_limiter_caps_concurrency_and_bytes_per_minute() {
        let limiter = Limiter::new(Limits {
            concurrent: 2,
            bytes_per_minute: 1000,
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        let first = limiter.start_at(a, 100, t0).unwrap();
        let second = limiter.start_at(a, 100, t0).unwrap();
        assert_eq!(
            limiter
                .start_at(a, 100, t0)
                .unwrap_err()
                .retry_after_seconds,
            1
        );
        assert!(limiter.start_at(b, 100, t0).is_ok(), "per address");
        drop(first);
        let third = limiter.start_at(a, 700, t0).unwrap();
        drop((second, third));
        // 900 of 1000 used: a 200-byte transfer waits for the next minute.
        let refused = limiter
            .start_at(a, 200, t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(refused.retry_after_seconds, 40);
        assert!(limiter.start_at(a, 200, t0 + WINDOW).is_ok());
        // A first transfer larger than the budget is allowed alone.
        assert!(limiter.start_at(b, 5000, t0 + WINDOW).is_ok());
        assert!(limiter.start_at(b, 1, t0 + WINDOW).is_err());
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
