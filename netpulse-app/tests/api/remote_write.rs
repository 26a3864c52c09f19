//! Remote write, end to end: against a real Prometheus started on a loopback port with
//! `--web.enable-remote-write-receiver` (values and timestamps read back through its HTTP API),
//! and against a scripted receiver for headers, authentication, retries and the bounded queue.
#![allow(clippy::float_cmp)] // the values compared are exact (integers, or parsed from the same text)

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use netpulse_app::metrics::state::RemoteWriteCounts;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Request, Response, Route, handler};
use serde_json::Value;

use crate::helpers::{Db, TestApp, ookla_stdout, push_body, spawn_with_metrics};
use crate::metrics::{config, exposition, seed};

/// A free loopback port (bound and released; the short race is acceptable in tests).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Prometheus server this test started; killed (by its pid) when dropped.
struct Prometheus {
    child: Child,
    base: String,
    _dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "netpulse-{tag}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_prometheus() -> Prometheus {
    let dir = TempDir::new("prometheus");
    let config = dir.0.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1h\n").unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.0.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is installed (Debian package `prometheus`; .ci/run installs it)");
    let p = Prometheus {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        if let Ok(r) = client.get(format!("{}/-/ready", p.base)).send().await
            && r.status().is_success()
        {
            return p;
        }
        assert!(Instant::now() < deadline, "prometheus did not become ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_for(t: &TestApp, done: impl Fn(&RemoteWriteCounts) -> bool) -> RemoteWriteCounts {
    let writer = t.metrics.as_ref().unwrap().remote_write.as_ref().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = writer.counts();
        if done(&c) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "remote write did not finish: {c:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `(timestamp ms, value)` of every raw sample of `query` (a range selector) at `at`.
async fn raw_samples(p: &Prometheus, query: &str, at: f64) -> Vec<(Value, Vec<(i64, f64)>)> {
    let r: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/query?query={}&time={at:.3}",
            p.base,
            percent_encode(query)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "success", "{r}");
    r["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|series| {
            let values = series["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    let ts = (v[0].as_f64().unwrap() * 1000.0).round() as i64;
                    (ts, v[1].as_str().unwrap().parse::<f64>().unwrap())
                })
                .collect();
            (series["metric"].clone(), values)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measurements_reach_a_real_prometheus_with_their_timestamps() {
    let prom = start_prometheus().await;
    let url = format!("{}/api/v1/write", prom.base);
    let t = spawn_with_metrics(
        Db::Sqlite,
        Some(config(&[
            "--remote-write-url",
            &url,
            "--remote-write-label",
            "env=test",
            "--remote-write-auth",
            "bearer:not-checked-by-prometheus",
        ])),
    )
    .await
    .unwrap();
    let s = seed(&t).await;
    // seed() pushed 6 results (4 for wan1, 2 for wan2), all within the last 7 minutes.
    let counts = wait_for(&t, |c| c.sent == 6).await;
    assert_eq!(counts.failures, 0, "{counts:?}");
    let now = t.clock_now();
    let at = now.unix_millis() as f64 / 1000.0;
    let ms = |secs: i64| now.plus_seconds(secs).unix_millis();

    let up = raw_samples(
        &prom,
        r#"netpulse_up{connection="wan1",engine="ookla",server_id!=""}[1h]"#,
        at,
    )
    .await;
    assert_eq!(up.len(), 1, "{up:?}");
    let (labels, samples) = &up[0];
    // Ookla results of wan1: completed at -400 s, failed at -300 s, completed at -100 s. The
    // failed one carries no server labels, so it is its own series; query them together.
    assert_eq!(labels["probe"], "home");
    assert_eq!(labels["site"], "berlin");
    assert_eq!(labels["env"], "test");
    assert_eq!(labels["server_id"], "60440");
    assert_eq!(labels["isp"], "Some ISP");
    assert_eq!(samples, &vec![(ms(-400), 1.0), (ms(-100), 1.0)]);
    let all_up = raw_samples(&prom, r#"netpulse_up{connection="wan1"}[1h]"#, at).await;
    let mut every: Vec<(i64, f64)> = all_up.iter().flat_map(|(_, s)| s.clone()).collect();
    every.sort_by_key(|(ts, _)| *ts);
    assert_eq!(
        every,
        vec![
            (ms(-400), 1.0),
            (ms(-300), 0.0),
            (ms(-200), 1.0),
            (ms(-100), 1.0)
        ]
    );

    let download = raw_samples(
        &prom,
        r#"netpulse_download_bits_per_second{connection="wan1"}[1h]"#,
        at,
    )
    .await;
    assert_eq!(
        download.len(),
        1,
        "iperf3 reported no download: {download:?}"
    );
    assert_eq!(
        download[0].1,
        vec![
            (ms(-400), 116_445_504.0 * 8.0),
            (ms(-100), 116_445_504.0 * 8.0)
        ]
    );
    let ping = raw_samples(
        &prom,
        r#"netpulse_ping_seconds{connection="wan1",engine="ookla"}[1h]"#,
        at,
    )
    .await;
    assert_eq!(
        ping[0].1,
        vec![(ms(-400), 0.017_148), (ms(-100), 0.017_148)]
    );
    let healthy = raw_samples(
        &prom,
        r#"netpulse_connection_healthy{connection="wan1",engine="ookla"}[1h]"#,
        at,
    )
    .await;
    assert_eq!(healthy[0].1, vec![(ms(-400), 0.0), (ms(-100), 1.0)]);
    let upload = raw_samples(
        &prom,
        r#"netpulse_upload_bits_per_second{connection="wan1",engine="iperf3"}[1h]"#,
        at,
    )
    .await;
    assert_eq!(upload[0].1.len(), 1);
    assert_eq!(upload[0].1[0].0, ms(-200));
    assert!(upload[0].1[0].1 > 1e9);
    let failed = raw_samples(&prom, r#"netpulse_up{connection="wan2"}[1h]"#, at).await;
    assert_eq!(failed[0].1, vec![(ms(-150), 0.0), (ms(-140), 0.0)]);
    assert!(
        failed[0].0.get("server_id").is_none(),
        "empty labels are left out"
    );

    // A later result arrives too, and the exporter reports the deliveries.
    let (status, _) = t
        .push(
            &s.home,
            &push_body(now, &s.wan1, Some("12746"), &ookla_stdout(), 0, true),
        )
        .await;
    assert_eq!(status, 201);
    wait_for(&t, |c| c.sent == 7).await;
    let e = exposition(&t).await;
    assert_eq!(e.value("netpulse_remote_write_sent_total", &[]), 7.0);
    assert_eq!(e.value("netpulse_remote_write_failures_total", &[]), 0.0);
    assert_eq!(e.value("netpulse_remote_write_queue_length", &[]), 0.0);
}

/// One request as the scripted receiver saw it.
#[derive(Debug, Clone)]
struct Captured {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct Script {
    seen: Arc<Mutex<Vec<Captured>>>,
    answers: Arc<Mutex<Vec<(u16, Duration)>>>,
}

#[handler]
async fn receive(req: &Request, body: Vec<u8>, Data(s): Data<&Script>) -> Response {
    s.seen.lock().unwrap().push(Captured {
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body,
    });
    let (status, delay) = {
        let mut a = s.answers.lock().unwrap();
        if a.is_empty() {
            (204, Duration::ZERO)
        } else {
            a.remove(0)
        }
    };
    tokio::time::sleep(delay).await;
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .body("scripted")
}

/// A receiver answering with `answers` in turn (then 204).
async fn receiver(answers: Vec<(u16, Duration)>) -> (String, Script) {
    let script = Script {
        seen: Arc::default(),
        answers: Arc::new(Mutex::new(answers)),
    };
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr: SocketAddr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = Route::new()
        .at("/write", poem::post(receive))
        .data(script.clone());
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    (format!("http://{addr}/write"), script)
}

fn varint(b: &[u8], i: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*i];
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Length-delimited and fixed64 fields of a protobuf message: `(field, bytes)`.
fn fields(b: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let key = varint(b, &mut i);
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            2 => {
                let len = varint(b, &mut i) as usize;
                out.push((field, b[i..i + len].to_vec()));
                i += len;
            }
            1 => {
                out.push((field, b[i..i + 8].to_vec()));
                i += 8;
            }
            0 => {
                let v = varint(b, &mut i);
                out.push((field, v.to_le_bytes().to_vec()));
            }
            w => panic!("unexpected wire type {w}"),
        }
    }
    out
}

/// The series of a snappy-compressed WriteRequest: sorted labels and samples.
type Decoded = Vec<(Vec<(String, String)>, Vec<(f64, i64)>)>;

fn decode(body: &[u8]) -> Decoded {
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .expect("snappy block");
    fields(&raw)
        .into_iter()
        .map(|(f, ts)| {
            assert_eq!(f, 1);
            let mut labels = Vec::new();
            let mut samples = Vec::new();
            for (f, v) in fields(&ts) {
                let inner = fields(&v);
                let get = |n| {
                    inner
                        .iter()
                        .find(|(k, _)| *k == n)
                        .map(|(_, v)| v.clone())
                        .unwrap()
                };
                if f == 1 {
                    labels.push((
                        String::from_utf8(get(1)).unwrap(),
                        String::from_utf8(get(2)).unwrap(),
                    ));
                } else {
                    let value = f64::from_le_bytes(get(1).try_into().unwrap());
                    let ts = i64::from_le_bytes(get(2).try_into().unwrap());
                    samples.push((value, ts));
                }
            }
            (labels, samples)
        })
        .collect()
}

async fn spawn_writer(url: &str, extra: &[&str]) -> TestApp {
    let mut flags = vec!["--remote-write-url", url];
    flags.extend_from_slice(extra);
    let mut cfg = config(&flags);
    let rw = cfg.remote_write.as_mut().unwrap();
    rw.initial_backoff = Duration::from_millis(20);
    rw.max_backoff = Duration::from_millis(100);
    rw.timeout = Duration::from_secs(5);
    spawn_with_metrics(Db::Sqlite, Some(cfg)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_basic_auth_sorted_labels_and_retries() {
    let (url, script) = receiver(vec![(503, Duration::ZERO), (500, Duration::ZERO)]).await;
    let t = spawn_writer(
        &url,
        &[
            "--remote-write-auth",
            "basic:scraper:s3cr:et",
            "--remote-write-label",
            "env=lab,region=eu",
        ],
    )
    .await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &["12746"]).await;
    let at = t.clock_now().plus_seconds(-5);
    let (status, _) = t
        .push(
            &agent,
            &push_body(at, &c, Some("12746"), &ookla_stdout(), 0, true),
        )
        .await;
    assert_eq!(status, 201);
    let counts = wait_for(&t, |c| c.sent == 1).await;
    assert_eq!(
        (counts.failures, counts.dropped_undeliverable),
        (2, 0),
        "{counts:?}"
    );

    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "two failures, then delivered");
    assert!(
        seen.iter().all(|r| r.body == seen[0].body),
        "the same request is retried"
    );
    let r = &seen[2];
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(r.header("content-encoding"), Some("snappy"));
    assert_eq!(r.header("x-prometheus-remote-write-version"), Some("0.1.0"));
    assert_eq!(
        r.header("authorization"),
        Some("Basic c2NyYXBlcjpzM2NyOmV0")
    );
    let series = decode(&r.body);
    let names: Vec<&str> = series
        .iter()
        .map(|(l, _)| l.iter().find(|(k, _)| k == "__name__").unwrap().1.as_str())
        .collect();
    for want in [
        "netpulse_up",
        "netpulse_last_result_timestamp_seconds",
        "netpulse_download_bits_per_second",
        "netpulse_upload_bits_per_second",
        "netpulse_data_used_bytes",
        "netpulse_ping_seconds",
        "netpulse_jitter_seconds",
        "netpulse_download_latency_iqm_seconds",
        "netpulse_upload_latency_iqm_seconds",
        "netpulse_packet_loss_ratio",
        "netpulse_connection_healthy",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    for (labels, samples) in &series {
        let mut sorted = labels.clone();
        sorted.sort();
        assert_eq!(labels, &sorted, "labels are sorted by name");
        let keys: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "__name__",
                "connection",
                "engine",
                "env",
                "isp",
                "probe",
                "region",
                "server_id",
                "server_name"
            ]
        );
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].1, at.unix_millis(), "the measurement's own time");
    }
    let e = exposition(&t).await;
    assert_eq!(e.value("netpulse_remote_write_failures_total", &[]), 2.0);
    assert_eq!(e.value("netpulse_remote_write_sent_total", &[]), 1.0);

    // Bearer tokens too.
    let (url, script) = receiver(vec![]).await;
    let t = spawn_writer(&url, &["--remote-write-auth", "bearer:tok3n"]).await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    t.push(&agent, &push_body(t.clock_now(), &c, None, "", 1, true))
        .await;
    wait_for(&t, |c| c.sent == 1).await;
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen[0].header("authorization"), Some("Bearer tok3n"));
    let series = decode(&seen[0].body);
    assert_eq!(series.len(), 1, "a failed test pushes netpulse_up 0 only");
    assert_eq!(series[0].1[0].0, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_are_dropped_and_a_stuck_receiver_never_slows_ingest() {
    // 400: refused for good, counted, not retried.
    let (url, script) = receiver(vec![(400, Duration::ZERO)]).await;
    let t = spawn_writer(&url, &[]).await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    t.push(&agent, &push_body(t.clock_now(), &c, None, "", 1, true))
        .await;
    let counts = wait_for(&t, |c| c.dropped_undeliverable == 1).await;
    assert_eq!((counts.failures, counts.sent), (1, 0));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(script.seen.lock().unwrap().len(), 1);

    // A receiver that takes 20 s per request, a queue of 2: pushes stay fast, the oldest
    // waiting measurements are dropped and counted.
    let slow = Duration::from_secs(20);
    let (url, _script) = receiver(vec![(204, slow); 10]).await;
    let t = spawn_writer(&url, &["--remote-write-queue-capacity", "2"]).await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let started = Instant::now();
    for i in 0..5 {
        let (status, _) = t
            .push(
                &agent,
                &push_body(t.clock_now().plus_seconds(i - 10), &c, None, "", 1, true),
            )
            .await;
        assert_eq!(status, 201);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let counts = t
        .metrics
        .as_ref()
        .unwrap()
        .remote_write
        .as_ref()
        .unwrap()
        .counts();
    assert_eq!(
        (counts.dropped_queue_full, counts.queued, counts.sent),
        (3, 2, 0),
        "{counts:?}"
    );
    let e = exposition(&t).await;
    assert_eq!(
        e.value(
            "netpulse_remote_write_dropped_total",
            &[("reason", "queue_full")]
        ),
        3.0
    );
    assert_eq!(e.value("netpulse_remote_write_queue_length", &[]), 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_remote_write_flags_are_usage_errors() {
    use clap::Parser;
    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        m: netpulse_app::metrics::config::MetricsArgs,
    }
    for (flags, flag) in [
        (vec!["--remote-write-enabled", "true"], "--remote-write-url"),
        (
            vec!["--remote-write-url", "prometheus:9090"],
            "--remote-write-url",
        ),
        (
            vec![
                "--remote-write-url",
                "http://p/w",
                "--remote-write-auth",
                "token",
            ],
            "--remote-write-auth",
        ),
        (
            vec![
                "--remote-write-url",
                "http://p/w",
                "--remote-write-label",
                "probe=x",
            ],
            "--remote-write-label",
        ),
    ] {
        let mut argv = vec!["netpulse"];
        argv.extend(flags.iter().copied());
        let err = Flags::try_parse_from(argv)
            .unwrap()
            .m
            .config(60)
            .map_err(netpulse_app::cli::CliError::from)
            .unwrap_err();
        assert_eq!(err.status, 2);
        assert!(err.message.contains(flag), "{}: {flags:?}", err.message);
    }
    let off = Flags::try_parse_from([
        "netpulse",
        "--remote-write-url",
        "http://p/w",
        "--remote-write-enabled",
        "false",
    ])
    .unwrap()
    .m
    .config(60)
    .unwrap();
    assert!(off.remote_write.is_none());
}

/// The same instruments over OTLP/HTTP (JSON here, to read them back without a protobuf
/// decoder): names without the Prometheus `_total`, cumulative monotonic sums for counters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_export_carries_the_same_metrics() {
    let (url, script) = receiver(vec![]).await;
    let t = spawn_with_metrics(
        Db::Sqlite,
        Some(config(&[
            "--otlp-endpoint",
            &url,
            "--otlp-protocol",
            "http/json",
            "--otlp-interval",
            "1",
        ])),
    )
    .await
    .unwrap();
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &["12746"]).await;
    let (status, _) = t
        .push(
            &agent,
            &push_body(t.clock_now(), &c, Some("12746"), &ookla_stdout(), 0, true),
        )
        .await;
    assert_eq!(status, 201);

    // Wait for an export that already knows the new connection and its result.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (headers, doc) = loop {
        let last = script.seen.lock().unwrap().last().cloned();
        if let Some(r) = last {
            let doc: Value = serde_json::from_slice(&r.body).expect("OTLP JSON");
            if doc.to_string().contains("\"wan1\"")
                && doc.to_string().contains("netpulse_speedtest_runs")
            {
                break (r, doc);
            }
        }
        assert!(Instant::now() < deadline, "no OTLP export with wan1");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(headers.header("content-type"), Some("application/json"));
    let metrics: Vec<&Value> = doc["resourceMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["scopeMetrics"].as_array().unwrap())
        .flat_map(|s| s["metrics"].as_array().unwrap())
        .collect();
    let find = |name: &str| {
        *metrics
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} not exported"))
    };
    let point_of =
        |data: &Value, connection: &str| -> f64 {
            data["dataPoints"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| {
                    p["attributes"].as_array().unwrap().iter().any(|a| {
                        a["key"] == "connection" && a["value"]["stringValue"] == connection
                    })
                })
                .and_then(|p| p["asDouble"].as_f64())
                .unwrap_or_else(|| panic!("no point for {connection} in {data}"))
        };
    assert_eq!(point_of(&find("netpulse_up")["gauge"], "wan1"), 1.0);
    let download = point_of(&find("netpulse_download_bits_per_second")["gauge"], "wan1");
    assert_eq!(download, 116_445_504.0 * 8.0);
    let runs = &find("netpulse_speedtest_runs")["sum"];
    assert_eq!(runs["isMonotonic"], true);
    let temporality = runs["aggregationTemporality"].to_string();
    assert!(
        temporality == "2" || temporality.contains("CUMULATIVE"),
        "{temporality}"
    );
    assert!(
        metrics
            .iter()
            .all(|m| !m["name"].as_str().unwrap().ends_with("_total"))
    );
}
