//! What the server exposes by default on a public host (issue 12, "Exposure defaults"):
//! `/metrics` only for loopback and private addresses or the metrics token, the speed-test
//! target only for loopback and private addresses and rate-limited per address, and Swagger UI
//! and the static assets with security headers, gzip and ETags.
//!
//! The server runs on 127.0.0.1 with `--trust-forwarded-for`, so a test plays a client at any
//! address by sending `X-Forwarded-For`.

use std::io::Read as _;
use std::sync::Arc;

use netpulse_adapters::speedtest_target::{Limits, TargetAccess, TargetPolicy};
use netpulse_adapters::testing::TestDatabase;
use netpulse_app::startup::Server;
use netpulse_app::web::WebOptions;
use poem::listener::{Acceptor, Listener, TcpListener};

const TOKEN: &str = "metrics-token-0123456789";
const OUTSIDER: &str = "203.0.113.9";

struct Running {
    base: String,
    http: reqwest::Client,
    _db: TestDatabase,
    _metrics: netpulse_app::metrics::Installed,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The server with the metrics flags `metrics_flags`, the speed-test `target` policy (`None`:
/// the default) and `--trust-forwarded-for`.
async fn start(metrics_flags: &[&str], target: Option<TargetPolicy>) -> Running {
    let db = TestDatabase::sqlite();
    let mut app = netpulse_app::startup::open_app(&db.url).await.unwrap();
    let metrics =
        netpulse_app::startup::install_metrics(&mut app, crate::metrics::config(metrics_flags))
            .await
            .unwrap();
    let mut server = Server::new(app)
        .metrics(Some(Arc::clone(&metrics.metrics)))
        .web(WebOptions {
            behind_https: false,
            trust_forwarded_for: true,
        });
    if let Some(policy) = target {
        server = server.speedtest_target(policy);
    }
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(netpulse_app::startup::run(acceptor, server, async move {
        let _ = rx.await;
    }));
    Running {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        _db: db,
        _metrics: metrics,
        stop: Some(tx),
    }
}

impl Running {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_default_to_private_addresses_and_the_token_admits_anyone() {
    let s = start(&["--metrics-token", TOKEN], None).await;
    let status = |r: reqwest::Response| r.status().as_u16();
    // Loopback (the TCP peer) and private addresses may scrape by default.
    assert_eq!(status(s.get("/metrics", &[]).await), 200);
    for private in ["10.1.2.3", "192.168.0.20", "172.20.0.5", "fd00::5"] {
        assert_eq!(
            status(s.get("/metrics", &[("X-Forwarded-For", private)]).await),
            200,
            "{private}"
        );
    }
    // A public address may not, unless it sends the token.
    let outsider = [("X-Forwarded-For", OUTSIDER)];
    assert_eq!(status(s.get("/metrics", &outsider).await), 403);
    let wrong = [
        ("X-Forwarded-For", OUTSIDER),
        ("Authorization", "Bearer metrics-token-0123456788"),
    ];
    assert_eq!(status(s.get("/metrics", &wrong).await), 403);
    let bearer = format!("Bearer {TOKEN}");
    let right = [
        ("X-Forwarded-For", OUTSIDER),
        ("Authorization", bearer.as_str()),
    ];
    let r = s.get("/metrics", &right).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("netpulse_"));
    drop(s);

    // An explicit list replaces the default; 0.0.0.0/0 lets everyone in.
    let s = start(&["--metrics-allow", "0.0.0.0/0,::/0"], None).await;
    assert_eq!(status(s.get("/metrics", &outsider).await), 200);
}

#[test]
fn a_short_metrics_token_is_refused_naming_the_flag() {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        metrics: netpulse_app::metrics::config::MetricsArgs,
    }
    let flags = Flags::try_parse_from(["netpulse", "--metrics-token", "short"]).unwrap();
    let e = flags.metrics.config(60).unwrap_err();
    assert_eq!(e.flag, "--metrics-token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speedtest_target_serves_private_addresses_by_default() {
    let s = start(&[], None).await;
    // The local agent (loopback) and a probe on the LAN may use it.
    for headers in [vec![], vec![("X-Forwarded-For", "192.168.1.20")]] {
        assert_eq!(s.get("/speedtest/ping", &headers).await.status(), 200);
        let r = s.get("/speedtest/down?bytes=5000", &headers).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().len(), 5000);
    }
    // An outsider gets 403 on every endpoint, with no data.
    let outsider = [("X-Forwarded-For", OUTSIDER)];
    for path in ["/speedtest/ping", "/speedtest/down?bytes=1073741824"] {
        let r = s.get(path, &outsider).await;
        assert_eq!(r.status(), 403, "{path}");
        assert!(r.text().await.unwrap().contains("--speedtest-target"));
    }
    let r = s
        .http
        .post(format!("{}/speedtest/up", s.base))
        .header("X-Forwarded-For", OUTSIDER)
        .body(vec![0u8; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speedtest_target_can_be_switched_off_or_opened() {
    let off = start(
        &[],
        Some(TargetPolicy {
            access: TargetAccess::Off,
            ..TargetPolicy::default()
        }),
    )
    .await;
    for path in ["/speedtest/ping", "/speedtest/down?bytes=10"] {
        assert_eq!(off.get(path, &[]).await.status(), 404, "{path}");
    }
    let anyone = start(
        &[],
        Some(TargetPolicy {
            access: TargetAccess::Anyone,
            ..TargetPolicy::default()
        }),
    )
    .await;
    let r = anyone
        .get("/speedtest/down?bytes=10", &[("X-Forwarded-For", OUTSIDER)])
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speedtest_target_is_rate_limited_per_address() {
    let s = start(
        &[],
        Some(TargetPolicy {
            access: TargetAccess::Private,
            limits: Some(Limits {
                concurrent: 1,
                bytes_per_minute: 1 << 20,
            }),
            trust_forwarded_for: false,
        }),
    )
    .await;
    let lan = [("X-Forwarded-For", "10.0.0.7")];
    // Bytes per minute: 800 KiB pass, the next 800 KiB wait (429 with Retry-After).
    let r = s.get("/speedtest/down?bytes=819200", &lan).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), 819_200);
    let r = s.get("/speedtest/down?bytes=819200", &lan).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another address has its own budget; concurrency: one transfer at a time (a 1 GiB
    // download not read stays under way; the refusal says to retry in a second).
    let other = [("X-Forwarded-For", "10.0.0.8")];
    let open = s.get("/speedtest/down?bytes=1073741824", &other).await;
    assert_eq!(open.status(), 200);
    let r = s.get("/speedtest/down?bytes=10", &other).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    drop(open);
    // Pings are not transfers; loopback (the local agent) is not limited.
    assert_eq!(s.get("/speedtest/ping", &lan).await.status(), 200);
    for _ in 0..3 {
        let r = s.get("/speedtest/down?bytes=819200", &[]).await;
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_and_static_assets_are_gzipped_cached_and_protected() {
    let s = start(&[], None).await;
    let gzip = [("Accept-Encoding", "gzip, deflate, br")];
    let r = s.get("/api/docs", &gzip).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-encoding"], "gzip");
    assert_eq!(h["vary"], "Accept-Encoding");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("permissions-policy"));
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(csp.contains("style-src 'sha256-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    let zipped = r.bytes().await.unwrap();
    let html = String::from_utf8(gunzip(&zipped)).unwrap();
    assert!(html.contains("SwaggerUIBundle"));
    assert!(
        zipped.len() * 3 < html.len(),
        "{} of {}",
        zipped.len(),
        html.len()
    );
    assert_eq!(csp, netpulse_app::http::inline_page_csp(&html));
    let etag = h["etag"].to_str().unwrap().to_owned();
    let r = s
        .get("/api/docs", &[gzip[0], ("If-None-Match", etag.as_str())])
        .await;
    assert_eq!(r.status(), 304);
    // Without Accept-Encoding: the same page, uncompressed.
    let r = s.get("/api/docs", &[]).await;
    assert!(!r.headers().contains_key("content-encoding"));
    assert_eq!(r.text().await.unwrap(), html);

    for path in ["/static/app.css", "/static/vendor/uPlot-1.6.32.iife.min.js"] {
        let plain = s.get(path, &[]).await.bytes().await.unwrap();
        let r = s.get(path, &gzip).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "gzip", "{path}");
        assert!(r.headers().contains_key("etag"));
        assert_eq!(gunzip(&r.bytes().await.unwrap()), plain.to_vec(), "{path}");
    }
}
