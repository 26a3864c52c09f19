//! The built-in HTTP engine against [`speedtest_target::routes`] served by poem on 127.0.0.1.
//!
//! Needs the features `http-engine` and `speedtest-target`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use netpulse_adapters::parse::{HttpEngineReport, HttpFlavour, HttpTransfer, parse};
use netpulse_adapters::runners::http::{HttpEngineConfig, HttpRunner};
use netpulse_adapters::speedtest_target;
use netpulse_domain::measurement::FailureClass;
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::clock::SystemClock;
use netpulse_ports::runner::{RunOutput, SpeedtestRunner, TestRequest};
use poem::Server;
use poem::listener::TcpAcceptor;

/// Serves the speed-test routes at the root of a fresh port; the server lives as long as the
/// test's runtime.
async fn start_target() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
    tokio::spawn(Server::new_with_acceptor(acceptor).run(speedtest_target::routes()));
    addr
}

fn short() -> HttpEngineConfig {
    HttpEngineConfig {
        streams: 4,
        duration: Duration::from_secs(1),
        warmup: Duration::from_millis(500),
        ping_samples: 5,
        loaded_ping_interval: Duration::from_millis(100),
        ..HttpEngineConfig::default()
    }
}

fn engine(config: HttpEngineConfig) -> HttpRunner {
    HttpRunner::new(config, Arc::new(SystemClock))
}

fn request(entry: Option<&str>, timeout: Duration) -> TestRequest {
    TestRequest {
        pool_entry: entry.map(|e| PoolEntry::parse(e).unwrap()),
        source_interface: None,
        source_address: None,
        timeout,
    }
}

fn report(out: &RunOutput) -> HttpEngineReport {
    assert!(out.raw.stdout.ends_with('\n'));
    assert_eq!(out.raw.stdout.lines().count(), 1);
    serde_json::from_str(&out.raw.stdout).expect("the engine prints its report")
}

fn assert_measured(name: &str, t: &HttpTransfer) {
    assert!(t.bytes > 0, "{name}: {t:?}");
    assert!(t.bits_per_second > 0.0, "{name}: {t:?}");
    let computed = t.bytes as f64 * 8.0 / t.seconds;
    assert!(
        (computed - t.bits_per_second).abs() / computed < 1e-3,
        "{name}: {t:?}"
    );
    // Counted after a 0.5 s warm-up, until the end of the 1 s phase (generous upper bounds:
    // timers may fire late on a busy machine).
    assert!(
        t.warmup_seconds >= 0.5 && t.warmup_seconds < 0.9,
        "{name}: {t:?}"
    );
    assert!(t.seconds > 0.2 && t.seconds < 0.9, "{name}: {t:?}");
    let loaded = t.latency_ms.expect("loaded pings complete on loopback");
    assert!(loaded > 0.0, "{name}: {t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measures_latency_download_and_upload_against_the_target() {
    let addr = start_target().await;
    let runner = engine(short());
    assert_eq!(runner.engine(), Engine::Http);
    assert!(runner.available().await);
    let base = format!("http://{addr}");
    let out = runner
        .run(&request(Some(&base), Duration::from_secs(30)))
        .await;
    assert_eq!(out.raw.exit_code, Some(0), "{}", out.raw.stderr);
    let r = report(&out);
    assert_eq!(r.engine, "netpulse-http");
    assert_eq!(r.version, 1);
    assert_eq!(r.target, format!("{base}/"));
    assert_eq!(r.flavour, HttpFlavour::Netpulse);
    assert_eq!(r.streams, 4);
    assert_eq!(r.error, None);
    let latency = r.latency.expect("idle latency");
    assert_eq!(latency.samples_ms.len(), 5);
    assert!(latency.samples_ms.iter().all(|s| *s > 0.0));
    assert!(latency.low_ms <= latency.ping_ms && latency.ping_ms <= latency.high_ms);
    assert!(latency.jitter_ms.unwrap() >= 0.0);
    let download = r.download.expect("download");
    let upload = r.upload.expect("upload");
    assert_measured("download", &download);
    assert_measured("upload", &upload);
    assert!(out.raw.stderr.contains("download"), "{}", out.raw.stderr);
    // What the server makes of it.
    let observation = parse(Engine::Http, &out.raw);
    assert_eq!(observation.failure, None);
    assert_eq!(observation.download_bps, Some(download.bits_per_second));
    assert_eq!(observation.upload_bytes, Some(upload.bytes));
    assert_eq!(observation.ping_ms, Some(latency.ping_ms));
    assert_eq!(observation.server.host, Some(addr.to_string()));
    assert!(out.started_at <= out.finished_at);
    eprintln!(
        "loopback: ping {:.3} ms, download {:.1} Mbit/s, upload {:.1} Mbit/s",
        latency.ping_ms,
        download.bits_per_second / 1e6,
        upload.bits_per_second / 1e6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_a_network_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = engine(short())
        .run(&request(
            Some(&format!("http://127.0.0.1:{port}")),
            Duration::from_secs(10),
        ))
        .await;
    assert_eq!(out.raw.exit_code, Some(1));
    let r = report(&out);
    let error = r.error.expect("an error");
    assert_eq!(error.class, FailureClass::Network);
    assert!(
        error.message.to_lowercase().contains("refused"),
        "{}",
        error.message
    );
    assert!(r.latency.is_none() && r.download.is_none() && r.upload.is_none());
    assert!(
        out.raw.stderr.contains("failed (network)"),
        "{}",
        out.raw.stderr
    );
    let failure = parse(Engine::Http, &out.raw)
        .failure
        .expect("a failed observation");
    assert_eq!(failure.class, FailureClass::Network);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_error_status_is_reported() {
    let addr = start_target().await;
    let out = engine(short())
        .run(&request(
            Some(&format!("http://{addr}/not-here")),
            Duration::from_secs(10),
        ))
        .await;
    assert_eq!(out.raw.exit_code, Some(1));
    let error = report(&out).error.expect("an error");
    assert_eq!(error.class, FailureClass::Other);
    assert!(error.message.contains("404"), "{}", error.message);
    assert!(
        error.message.contains("/not-here/speedtest/ping"),
        "{}",
        error.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_time_keeps_what_was_measured() {
    let addr = start_target().await;
    // A 2 s budget against a 5 s download: ample room for the idle latency even on a loaded
    // machine (this binary runs the storage suite beside it), none for the download.
    let out = engine(HttpEngineConfig {
        duration: Duration::from_secs(5),
        ..short()
    })
    .run(&request(
        Some(&format!("http://{addr}")),
        Duration::from_secs(2),
    ))
    .await;
    assert_eq!(out.raw.exit_code, Some(1));
    let r = report(&out);
    assert!(r.latency.is_some(), "idle latency finished in time");
    assert!(r.download.is_none() && r.upload.is_none());
    let error = r.error.expect("an error");
    assert_eq!(error.class, FailureClass::Timeout);
    assert!(error.message.contains("download"), "{}", error.message);
}

#[tokio::test]
async fn unusable_urls_and_settings_are_configuration_errors() {
    let cases = [
        (Some("http://speed.example/?token=1"), short()),
        (None, short()),
        (
            Some("http://127.0.0.1:9"),
            HttpEngineConfig {
                warmup: Duration::from_secs(2),
                ..short()
            },
        ),
    ];
    for (entry, config) in cases {
        let out = engine(config)
            .run(&request(entry, Duration::from_secs(5)))
            .await;
        assert_eq!(out.raw.exit_code, Some(1), "{entry:?}");
        let r = report(&out);
        assert_eq!(
            r.error.map(|e| e.class),
            Some(FailureClass::Configuration),
            "{entry:?}"
        );
        assert!(r.latency.is_none());
    }
    let mut bad_source = request(Some("http://127.0.0.1:9"), Duration::from_secs(5));
    bad_source.source_address = Some("not-an-ip".to_owned());
    let r = report(&engine(short()).run(&bad_source).await);
    assert_eq!(r.error.map(|e| e.class), Some(FailureClass::Configuration));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_serves_exact_lengths_and_counts_uploads_over_http() {
    let addr = start_target().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let down = client
        .get(format!("http://{addr}/speedtest/down?bytes=12345"))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 200);
    assert_eq!(down.headers()["cache-control"], "no-store");
    assert_eq!(down.headers()["content-length"], "12345");
    assert_eq!(down.bytes().await.unwrap().len(), 12_345);

    let up = client
        .post(format!("http://{addr}/speedtest/up"))
        .body(vec![1u8; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(up.headers()["cache-control"], "no-store");
    assert_eq!(up.text().await.unwrap(), r#"{"bytes":100000}"#);

    // A chunked body (no Content-Length) is counted too.
    let chunks = (0..10).map(|_| Ok::<_, std::convert::Infallible>(vec![2u8; 1000]));
    let up = client
        .post(format!("http://{addr}/speedtest/up"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(up.text().await.unwrap(), r#"{"bytes":10000}"#);

    let ping = client
        .get(format!("http://{addr}/speedtest/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    assert_eq!(ping.headers()["cache-control"], "no-store");
}
