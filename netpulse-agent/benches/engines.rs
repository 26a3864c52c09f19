//! The built-in HTTP engine's loopback throughput next to iperf3's (same machine, same stream
//! count), and the agent's resident memory while idle and during a test.
//!
//! Run: `cargo bench -p netpulse-agent --bench engines` (needs `iperf3` on PATH).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use netpulse_adapters::runners::http::{HttpEngineConfig, HttpRunner};
use netpulse_domain::pool::PoolEntry;
use netpulse_ports::clock::SystemClock;
use netpulse_ports::runner::TestRequest;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Json, Path};
use poem::{EndpointExt, Route, get, handler, post};
use serde_json::{Value, json};

const STREAMS: usize = 4;
const SECONDS: u64 = 6;

async fn serve(route: impl poem::Endpoint + 'static) -> std::net::SocketAddr {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(route));
    addr
}

fn gbps(bits: f64) -> String {
    format!("{:.2} Gbit/s", bits / 1e9)
}

async fn http_engine(addr: std::net::SocketAddr) -> (f64, f64) {
    let runner = HttpRunner::new(
        HttpEngineConfig {
            streams: STREAMS,
            duration: Duration::from_secs(SECONDS),
            warmup: Duration::from_secs(1),
            ..HttpEngineConfig::default()
        },
        Arc::new(SystemClock),
    );
    let request = TestRequest {
        pool_entry: PoolEntry::parse(&format!("http://{addr}")).ok(),
        source_interface: None,
        source_address: None,
        timeout: Duration::from_secs(60),
    };
    let report = serde_json::to_value(runner.measure(&request).await).unwrap();
    let bps = |dir: &str| report[dir]["bits_per_second"].as_f64().unwrap_or(0.0);
    (bps("download"), bps("upload"))
}

fn iperf3(reverse: bool) -> f64 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("iperf3")
        .args(["-s", "-1", "-B", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("iperf3 must be on PATH");
    std::thread::sleep(Duration::from_millis(300));
    let mut args = vec!["-c", "127.0.0.1", "-J"];
    let (p, t, port) = (
        STREAMS.to_string(),
        (SECONDS - 1).to_string(),
        port.to_string(),
    );
    args.extend(["-P", &p, "-t", &t, "-p", &port]);
    if reverse {
        args.push("-R");
    }
    let out = Command::new("iperf3").args(&args).output().unwrap();
    let _ = server.wait();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .unwrap()
}

fn rss_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[handler]
#[allow(clippy::needless_pass_by_value)] // poem extractors are taken by value
fn due(
    Path(_probe): Path<String>,
    state: poem::web::Data<&Arc<AtomicBool>>,
    target: poem::web::Data<&String>,
) -> Json<Value> {
    let tasks = if state.swap(false, Ordering::SeqCst) {
        json!([{ "taskId": uuid::Uuid::new_v4().to_string(), "connectionId": "11111111-1111-4111-8111-111111111111",
                 "poolEntry": target.as_str(), "engine": "http", "reason": "run_now", "scheduled": false,
                 "timeoutSeconds": 60 }])
    } else {
        json!([])
    };
    Json(json!({ "tasks": tasks, "pollAfterSeconds": 1 }))
}

#[handler]
fn results() -> (poem::http::StatusCode, Json<Value>) {
    (
        poem::http::StatusCode::CREATED,
        Json(
            json!({ "id": "x", "status": "completed", "healthy": true, "breaches": [], "alreadyRecorded": false }),
        ),
    )
}

async fn agent_memory(target: std::net::SocketAddr) -> (u64, u64, u64) {
    let give_task = Arc::new(AtomicBool::new(false));
    let api = Route::new()
        .at("/api/v1/probes/:probe/due", get(due))
        .at("/api/v1/probes/:probe/results", post(results))
        .data(Arc::clone(&give_task))
        .data(format!("http://{target}"));
    let server = serve(api).await;
    let spool = tempfile::tempdir().unwrap();
    let mut agent = Command::new(env!("CARGO_BIN_EXE_netpulse-agent"))
        .args([
            "--server-url",
            &format!("http://{server}"),
            "--probe-id",
            "22222222-2222-4222-8222-222222222222",
        ])
        .args(["--probe-token", "bench", "--poll-interval", "1"])
        .arg("--spool-dir")
        .arg(spool.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = agent.id();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let idle = rss_kib(pid, "VmRSS:");
    give_task.store(true, Ordering::SeqCst);
    let mut during = 0;
    for _ in 0..(SECONDS * 10 + 40) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        during = during.max(rss_kib(pid, "VmRSS:"));
    }
    let peak = rss_kib(pid, "VmHWM:");
    let _ = agent.kill();
    let _ = agent.wait();
    (idle, during, peak)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let target = serve(netpulse_adapters::speedtest_target::routes()).await;
        let (http_down, http_up) = http_engine(target).await;
        let (iperf_down, iperf_up) = (iperf3(true), iperf3(false));
        println!("\n## Loopback throughput, {STREAMS} streams ({SECONDS} s HTTP phases with 1 s warm-up; iperf3 {} s)", SECONDS - 1);
        println!("| engine | download | upload |");
        println!("|---|---|---|");
        println!("| built-in HTTP engine | {} | {} |", gbps(http_down), gbps(http_up));
        println!("| iperf3 | {} | {} |", gbps(iperf_down), gbps(iperf_up));
        println!("HTTP ÷ iperf3: download {:.2}, upload {:.2} (aim ≥ 0.5)", http_down / iperf_down, http_up / iperf_up);

        let (idle, during, peak) = agent_memory(target).await;
        println!("\n## netpulse-agent resident memory (this build's binary)");
        println!("| state | RSS |");
        println!("|---|---|");
        println!("| idle (polling every second) | {:.1} MiB |", idle as f64 / 1024.0);
        println!("| during an HTTP-engine test ({STREAMS} streams) | {:.1} MiB (peak {:.1} MiB) |", during as f64 / 1024.0, peak as f64 / 1024.0);
    });
}
