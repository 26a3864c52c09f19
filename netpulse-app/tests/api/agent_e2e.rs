//! End to end with real processes: the real `netpulse` binary serving on a loopback port, the
//! agent loop (the library `netpulse-agent` runs) driving real tools: scripted Ookla CLIs that
//! print the real fixtures, a real `iperf3 -s`, and the built-in HTTP engine against the
//! server's own `/speedtest` endpoints.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use netpulse_adapters::agent_client::HttpAgentApi;
use netpulse_adapters::runners::http::{HttpEngineConfig, HttpRunner};
use netpulse_adapters::runners::iperf3::{Iperf3Config, Iperf3Runner};
use netpulse_adapters::runners::ookla::{OoklaConfig, OoklaRunner};
use netpulse_adapters::testing::TestDatabase;
use netpulse_agent::{Agent, AgentConfig, Engines};
use netpulse_domain::id::ProbeId;
use netpulse_ports::clock::{Clock, SystemClock};
use netpulse_ports::runner::SpeedtestRunner;
use serde_json::Value;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn netpulse(db: &TestDatabase, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(args)
        .arg("--json")
        .env("NETPULSE_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The real server as a child process, killed (SIGKILL) when dropped.
struct Server(Child);

impl Server {
    async fn start(db: &TestDatabase, port: u16) -> Self {
        // Waited for in `Drop`.
        #[allow(clippy::zombie_processes)]
        let mut child = Command::new(env!("CARGO_BIN_EXE_netpulse"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--poll-interval",
                "1",
            ])
            .env("NETPULSE_DATABASE_URL", &db.url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if reqwest::get(format!("http://127.0.0.1:{port}/api/v1/ping"))
                .await
                .is_ok()
            {
                return Self(child);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not start");
    }

    fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scripted Ookla CLI (its `--version` names Ookla): sleeps, then prints the real CLI 1.2 fixture and exits 0.
fn fake_speedtest(dir: &Path, sleep_seconds: f32) -> PathBuf {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../netpulse-adapters/tests/fixtures/ookla/cli1.2-json-pretty-de-hannover-anonymized.json"
    );
    let path = dir.join("speedtest");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n[ \"$1\" = --version ] && {{ echo 'Speedtest by Ookla 1.2.0.84 (ea6b6773cf)'; exit 0; }}\nsleep {sleep_seconds}\ncat '{fixture}'\n"
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
    path
}

fn engines(ookla: PathBuf) -> Engines {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let http = HttpEngineConfig {
        streams: 2,
        duration: Duration::from_millis(1500),
        warmup: Duration::from_millis(300),
        ping_samples: 5,
        ..HttpEngineConfig::default()
    };
    Engines::new([
        Arc::new(OoklaRunner::new(
            OoklaConfig { binary: ookla },
            Arc::clone(&clock),
        )) as Arc<dyn SpeedtestRunner>,
        Arc::new(Iperf3Runner::new(
            Iperf3Config::default(),
            Arc::clone(&clock),
        )),
        Arc::new(HttpRunner::new(http, clock)),
    ])
}

struct Setup {
    db: TestDatabase,
    dir: tempdir::Dir,
    port: u16,
    probe: String,
    token: String,
}

mod tempdir {
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn setup() -> Setup {
    let db = TestDatabase::sqlite();
    let dir = std::env::temp_dir().join(format!("netpulse-e2e-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    // No test contacts public hosts: the default check set (1.1.1.1, 9.9.9.9, …) is off.
    netpulse(&db, &["check", "defaults", "--new-probes", "off"]);
    let probe = netpulse(&db, &["probe", "create", "home"]);
    Setup {
        db,
        dir: tempdir::Dir(dir),
        port: free_port(),
        probe: probe["id"].as_str().unwrap().to_owned(),
        token: probe["token"].as_str().unwrap().to_owned(),
    }
}

fn agent(s: &Setup, ookla: PathBuf) -> Agent {
    let api = HttpAgentApi::new(
        &format!("http://127.0.0.1:{}", s.port),
        &ProbeId::parse(&s.probe).unwrap(),
        &s.token,
    )
    .unwrap();
    let mut config = AgentConfig::new(s.dir.0.join("spool"));
    config.test_timeout = Duration::from_secs(30);
    Agent::new(config, engines(ookla), Arc::new(api)).unwrap()
}

fn measurements(s: &Setup) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args([
            "token",
            "create",
            "--name",
            &format!("t{}", uuid::Uuid::new_v4()),
            "--json",
        ])
        .env("NETPULSE_DATABASE_URL", &s.db.url)
        .output()
        .unwrap();
    let token: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let url = format!(
        "http://127.0.0.1:{}/api/v1/measurements?limit=100&sort=completed_at_asc",
        s.port
    );
    let body = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    })
    .join()
    .unwrap();
    body["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_engines_measure_through_the_real_server() {
    let s = setup();
    let iperf_port = free_port();
    let mut iperf = Command::new("iperf3")
        .args(["-s", "-p", &iperf_port.to_string(), "-B", "127.0.0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("iperf3 must be installed (Debian package iperf3)");
    let ookla = fake_speedtest(&s.dir.0, 0.0);
    let pools = [
        ("ookla", "12746".to_owned()),
        (
            "iperf3",
            format!("iperf3://127.0.0.1:{iperf_port}?seconds=1&direction=download"),
        ),
        ("http", format!("http://127.0.0.1:{}", s.port)),
    ];
    for (name, pool) in &pools {
        netpulse(
            &s.db,
            &[
                "connection",
                "create",
                "--probe",
                &s.probe,
                "--name",
                name,
                "--server-pool",
                pool,
            ],
        );
    }
    let server = Server::start(&s.db, s.port).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = agent(&s, ookla).cycle().await;
    assert!(report.succeeded(), "{report:?}");
    let items = measurements(&s);
    assert_eq!(items.len(), 3, "{items:#?}");
    for item in &items {
        assert_eq!(item["status"], "completed", "{item:#}");
        assert_eq!(item["scheduled"], true);
        match item["engine"].as_str().unwrap() {
            "ookla" => {
                assert_eq!(item["downloadBitsPerSecond"], Value::from(931_564_032.0));
                assert_eq!(item["uploadBitsPerSecond"], Value::from(49_451_800.0));
                assert_eq!(item["pingMs"], Value::from(17.148));
                assert_eq!(item["poolEntry"], "12746");
            }
            "iperf3" => {
                assert!(
                    item["downloadBitsPerSecond"].as_f64().unwrap() > 1e6,
                    "{item:#}"
                );
                assert_eq!(
                    item["uploadBitsPerSecond"],
                    Value::Null,
                    "download-only run"
                );
                assert_eq!(item["serverHost"], format!("127.0.0.1:{iperf_port}"));
            }
            "http" => {
                assert!(
                    item["downloadBitsPerSecond"].as_f64().unwrap() > 1e6,
                    "{item:#}"
                );
                assert!(
                    item["uploadBitsPerSecond"].as_f64().unwrap() > 1e6,
                    "{item:#}"
                );
                assert!(item["pingMs"].as_f64().unwrap() >= 0.0);
                assert_eq!(
                    item["packetLossPercent"],
                    Value::Null,
                    "the HTTP engine cannot measure loss"
                );
            }
            other => panic!("unexpected engine {other}"),
        }
    }
    let _ = iperf.kill();
    let _ = iperf.wait();
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_finished_while_the_server_is_down_is_stored_exactly_once() {
    let s = setup();
    netpulse(
        &s.db,
        &[
            "connection",
            "create",
            "--probe",
            &s.probe,
            "--name",
            "wan1",
            "--server-pool",
            "12746",
        ],
    );
    // A tick with the server unreachable fails cleanly.
    let ookla = fake_speedtest(&s.dir.0, 2.0);
    let report = agent(&s, ookla.clone()).cycle().await;
    assert!(!report.succeeded());

    let server = Server::start(&s.db, s.port).await;
    let a = agent(&s, ookla.clone());
    let cycle = tokio::spawn(async move { a.cycle().await });
    // The task is handed out and the tool runs for 2 s; kill the server meanwhile.
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.kill();
    let report = cycle.await.unwrap();
    assert_eq!(
        (report.delivered, report.spooled),
        (0, 1),
        "not delivered, kept: {report:?}"
    );
    let spooled = std::fs::read_dir(s.dir.0.join("spool"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(spooled, 1, "the finished result waits in the spool");

    // After the test finished, the server comes back: the next cycle delivers it, once.
    let _server = Server::start(&s.db, s.port).await;
    let report = agent(&s, ookla.clone()).cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.replayed, 1, "{report:?}");
    let again = agent(&s, ookla).cycle().await;
    assert!(again.succeeded());
    let items = measurements(&s);
    assert_eq!(items.len(), 1, "exactly one measurement: {items:#?}");
    assert_eq!(
        items[0]["downloadBitsPerSecond"],
        Value::from(931_564_032.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_a_local_agent_measures_from_one_command() {
    let s = setup();
    let ookla = fake_speedtest(&s.dir.0, 0.0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", s.port),
            "--local-agent",
            "--poll-interval",
            "1",
        ])
        .arg("--ookla-binary")
        .arg(&ookla)
        .arg("--local-agent-spool-dir")
        .arg(s.dir.0.join("local-spool"))
        .env("NETPULSE_DATABASE_URL", &s.db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut local = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if reqwest::get(format!("http://127.0.0.1:{}/api/v1/ping", s.port))
            .await
            .is_err()
        {
            continue;
        }
        local = measurements(&s);
        if !local.is_empty() {
            break;
        }
    }
    assert_eq!(
        local.len(),
        1,
        "the local agent's first run was recorded: {local:#?}"
    );
    assert_eq!(local[0]["engine"], "ookla");
    assert_eq!(
        local[0]["downloadBitsPerSecond"],
        Value::from(931_564_032.0)
    );
    let probes = netpulse(&s.db, &["probe", "list"]);
    let labelled = probes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["labels"]["local_agent"] == "true")
        .count();
    assert_eq!(
        labelled, 1,
        "one local probe, created on first start: {probes:#}"
    );
    // SIGTERM stops server and agent gracefully.
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "netpulse did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}
