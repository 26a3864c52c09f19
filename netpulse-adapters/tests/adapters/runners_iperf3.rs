//! The iperf3 runner against a real `iperf3 -s` on 127.0.0.1 (the `iperf3` binary must be
//! installed: these tests fail without it), plus a fake old iperf3 for `--bind-dev` detection.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use netpulse_adapters::runners::iperf3::{Iperf3Config, Iperf3Runner};
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::clock::SystemClock;
use netpulse_ports::runner::{RunOutput, SpeedtestRunner, TestRequest};
use serde_json::Value;

/// An `iperf3 -s` on 127.0.0.1, killed (by its pid) on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Self {
        let port = free_port();
        let mut child = Command::new("iperf3")
            .args([
                "-s",
                "-B",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "--forceflush",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("iperf3 must be installed (Debian package iperf3)");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            let n = stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "iperf3 -s exited before listening");
            if line.contains("Server listening") {
                break;
            }
        }
        // Keep draining so that the server never blocks on (or dies of) a closed pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        Self { child, port }
    }

    fn entry(&self, query: &str) -> String {
        format!("iperf3://127.0.0.1:{}?{query}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn runner() -> Iperf3Runner {
    Iperf3Runner::new(Iperf3Config::default(), Arc::new(SystemClock))
}

fn request(entry: &str, timeout: Duration) -> TestRequest {
    TestRequest {
        pool_entry: Some(PoolEntry::parse(entry).unwrap()),
        source_interface: None,
        source_address: None,
        timeout,
    }
}

/// The run's JSON, after checking that iperf3 finished cleanly without an agent marker.
fn completed(out: &RunOutput) -> Value {
    assert_eq!(out.raw.exit_code, Some(0), "stderr: {}", out.raw.stderr);
    assert!(
        !out.raw.stderr.contains("netpulse-agent:"),
        "{}",
        out.raw.stderr
    );
    let json: Value = serde_json::from_str(&out.raw.stdout).expect("iperf3 -J prints JSON");
    assert!(
        json.get("error").is_none(),
        "iperf3 error: {}",
        json["error"]
    );
    json
}

fn bits_per_second(summary: &Value) -> f64 {
    summary["bits_per_second"].as_f64().unwrap()
}

#[tokio::test]
async fn iperf3_is_installed_and_available() {
    assert!(runner().available().await, "iperf3 is not on PATH");
    let explicit = Iperf3Runner::new(
        Iperf3Config {
            binary: PathBuf::from("/usr/bin/iperf3"),
            ..Iperf3Config::default()
        },
        Arc::new(SystemClock),
    );
    assert!(explicit.available().await);
    assert_eq!(explicit.engine(), Engine::Iperf3);
    assert_eq!(runner().supports_bind_dev().await, Some(true));
}

#[tokio::test]
async fn tcp_download_receives_from_the_server() {
    let server = Server::start();
    let out = runner()
        .run(&request(
            &server.entry("seconds=1&streams=2"),
            Duration::from_secs(20),
        ))
        .await;
    let json = completed(&out);
    let test_start = &json["start"]["test_start"];
    assert_eq!(test_start["protocol"], "TCP");
    assert_eq!(test_start["num_streams"], 2);
    assert_eq!(test_start["reverse"], 1);
    assert_eq!(json["start"]["connected"].as_array().unwrap().len(), 2);
    assert!(bits_per_second(&json["end"]["sum_received"]) > 0.0);
    assert!(bits_per_second(&json["end"]["sum_sent"]) > 0.0);
}

#[tokio::test]
async fn tcp_upload_sends_to_the_server() {
    let server = Server::start();
    let out = runner()
        .run(&request(
            &server.entry("direction=upload&seconds=1"),
            Duration::from_secs(20),
        ))
        .await;
    let json = completed(&out);
    assert_eq!(json["start"]["test_start"]["reverse"], 0);
    assert_eq!(json["start"]["test_start"]["num_streams"], 1);
    assert!(bits_per_second(&json["end"]["sum_received"]) > 0.0);
}

#[tokio::test]
async fn bidirectional_tests_measure_both_ways() {
    let server = Server::start();
    let out = runner()
        .run(&request(
            &server.entry("direction=bidir&seconds=1"),
            Duration::from_secs(20),
        ))
        .await;
    let json = completed(&out);
    // iperf3 3.12 does not flag bidir in start.test_start; the reverse sums show it.
    assert_eq!(json["start"]["test_start"]["reverse"], 0);
    assert!(bits_per_second(&json["end"]["sum_received"]) > 0.0);
    assert!(bits_per_second(&json["end"]["sum_received_bidir_reverse"]) > 0.0);
}

#[tokio::test]
async fn udp_reports_jitter_and_loss_at_the_requested_bitrate() {
    let server = Server::start();
    let out = runner()
        .run(&request(
            &server.entry("protocol=udp&bitrate=10M&seconds=1&direction=upload"),
            Duration::from_secs(20),
        ))
        .await;
    let json = completed(&out);
    assert_eq!(json["start"]["test_start"]["protocol"], "UDP");
    assert_eq!(
        json["start"]["test_start"]["target_bitrate"].as_u64(),
        Some(10_000_000)
    );
    let sum = &json["end"]["sum"];
    assert!(sum["jitter_ms"].is_number(), "{sum}");
    assert!(sum["lost_percent"].is_number(), "{sum}");
    assert!(sum["packets"].as_u64().unwrap() > 0, "{sum}");
}

#[tokio::test]
async fn source_address_and_interface_are_bound() {
    let server = Server::start();
    let mut r = request(
        &server.entry("direction=upload&seconds=1"),
        Duration::from_secs(20),
    );
    r.source_address = Some("127.0.0.1".to_owned());
    r.source_interface = Some("lo".to_owned());
    let out = runner().run(&r).await;
    let json = completed(&out);
    assert_eq!(json["start"]["connected"][0]["local_host"], "127.0.0.1");
}

#[tokio::test]
async fn a_refused_connection_is_iperf3s_own_error_document() {
    let port = free_port();
    let out = runner()
        .run(&request(
            &format!("iperf3://127.0.0.1:{port}?seconds=1"),
            Duration::from_secs(20),
        ))
        .await;
    // iperf3 ran to the end (3.12 even exits 0 here with -J): no agent marker.
    assert!(out.raw.exit_code.is_some());
    assert!(!out.raw.stderr.contains("netpulse-agent:"));
    let json: Value = serde_json::from_str(&out.raw.stdout).unwrap();
    let error = json["error"].as_str().unwrap();
    assert!(error.contains("Connection refused"), "{error}");
}

#[tokio::test]
async fn a_test_longer_than_the_timeout_is_stopped() {
    let server = Server::start();
    let started = Instant::now();
    let out = runner()
        .run(&request(
            &server.entry("seconds=30"),
            Duration::from_secs(1),
        ))
        .await;
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(out.raw.exit_code, None);
    assert!(
        out.raw.stderr.ends_with(
            "netpulse-agent: timeout: iperf3 did not finish within 1 s; it was stopped\n"
        ),
        "{}",
        out.raw.stderr
    );
}

/// The fake old iperf3 linked into a private directory (removed on drop).
struct FakeIperf3 {
    dir: PathBuf,
    link: PathBuf,
}

impl FakeIperf3 {
    fn install() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "netpulse-iperf3-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-tools/iperf3-without-bind-dev");
        let link = dir.join("iperf3");
        std::os::unix::fs::symlink(script, &link).unwrap();
        Self { dir, link }
    }

    fn runner(&self) -> Iperf3Runner {
        Iperf3Runner::new(
            Iperf3Config {
                binary: self.link.clone(),
                ..Iperf3Config::default()
            },
            Arc::new(SystemClock),
        )
    }

    fn invocations(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("iperf3.args"))
            .map(|s| s.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

impl Drop for FakeIperf3 {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn an_interface_needs_bind_dev_support() {
    let fake = FakeIperf3::install();
    let runner = fake.runner();
    assert_eq!(runner.supports_bind_dev().await, Some(false));
    let mut r = request("iperf3://127.0.0.1", Duration::from_secs(5));
    r.source_interface = Some("wan2".to_owned());
    let out = runner.run(&r).await;
    assert_eq!(out.raw.exit_code, None);
    assert!(
        out.raw.stderr.starts_with(
            "netpulse-agent: configuration: the installed iperf3 does not support --bind-dev"
        ),
        "{}",
        out.raw.stderr
    );
    // Only asked for its help (once), never run as a client.
    assert_eq!(fake.invocations(), ["--help"]);
}

#[tokio::test]
async fn bad_queries_fail_without_running_iperf3() {
    let fake = FakeIperf3::install();
    for entry in [
        "iperf3://127.0.0.1?streams=zero",
        "iperf3://127.0.0.1?protocol=sctp",
        "iperf3://127.0.0.1?colour=blue",
        "iperf3://127.0.0.1:99999",
    ] {
        let out = fake
            .runner()
            .run(&request(entry, Duration::from_secs(5)))
            .await;
        assert_eq!(out.raw.exit_code, None, "{entry}");
        assert!(
            out.raw
                .stderr
                .starts_with("netpulse-agent: configuration: "),
            "{entry}: {}",
            out.raw.stderr
        );
    }
    let mut no_entry = request("iperf3://127.0.0.1", Duration::from_secs(5));
    no_entry.pool_entry = None;
    let out = fake.runner().run(&no_entry).await;
    assert!(
        out.raw
            .stderr
            .starts_with("netpulse-agent: configuration: ")
    );
    assert!(fake.invocations().is_empty());
}

/// The server's parser reads the runner's output as intended.
#[cfg(feature = "parsers")]
#[tokio::test]
async fn the_parser_understands_what_the_runner_captured() {
    use netpulse_adapters::parse::parse;
    use netpulse_domain::measurement::FailureClass;

    let server = Server::start();
    let out = runner()
        .run(&request(
            &server.entry("seconds=1"),
            Duration::from_secs(20),
        ))
        .await;
    let observation = parse(Engine::Iperf3, &out.raw);
    assert_eq!(observation.failure, None);
    assert!(observation.download_bps.unwrap() > 0.0);

    let refused = runner()
        .run(&request(
            &format!("iperf3://127.0.0.1:{}?seconds=1", free_port()),
            Duration::from_secs(20),
        ))
        .await;
    let failure = parse(Engine::Iperf3, &refused.raw).failure.unwrap();
    assert_eq!(failure.class, FailureClass::Network, "{}", failure.message);

    let bad = request("iperf3://127.0.0.1?streams=0", Duration::from_secs(5));
    let failure = parse(Engine::Iperf3, &runner().run(&bad).await.raw)
        .failure
        .unwrap();
    assert_eq!(failure.class, FailureClass::Configuration);
}
