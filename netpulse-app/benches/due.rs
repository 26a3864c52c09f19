//! `GET /due` over real HTTP from concurrent clients, next to `GET /api/v1/ping` (the cost of
//! HTTP alone), on SQLite and PostgreSQL, with 1,000 probes × 10 connections and 1,000,000
//! stored measurements.
//!
//! Run: `cargo bench -p netpulse-app --bench due` (PostgreSQL from `NETPULSE_TEST_PG_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`; `NETPULSE_BENCH_MEASUREMENTS`,
//! `NETPULSE_BENCH_CLIENTS` and `NETPULSE_BENCH_SECONDS` override the defaults).

use std::sync::Arc;
use std::time::{Duration, Instant};

use netpulse_adapters::testing::{TestDatabase, bulk_measurements, seed_topology, seeded_probe_id};
use netpulse_ports::clock::{Clock, SystemClock};
use poem::listener::{Acceptor, Listener, TcpListener};

const PROBES: u64 = 1_000;
const PER_PROBE: u64 = 10;
const TOKEN: &str = "bench-probe-token-0000000000000000000000000";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `clients` tasks request `path_of(i)` back to back for `seconds`.
async fn drive(
    base: &str,
    clients: u64,
    seconds: u64,
    authorised: bool,
    path_of: fn(u64) -> String,
) -> Figures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut i = c;
            while Instant::now() < deadline {
                let mut req = client.get(format!("{base}{}", path_of(i)));
                if authorised {
                    req = req.bearer_auth(TOKEN);
                }
                let t = Instant::now();
                let r = req.send().await.expect("request");
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.expect("body");
                times.push(t.elapsed());
                i += clients;
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    Figures {
        rate: all.len() as f64 / elapsed,
        p50: percentile(&all, 50.0),
        p99: percentile(&all, 99.0),
    }
}

fn due_path(i: u64) -> String {
    format!("/api/v1/probes/{}/due", seeded_probe_id(i % PROBES))
}

fn ping_path(_: u64) -> String {
    "/api/v1/ping".to_owned()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn run(name: &str, db: TestDatabase) {
    let measurements = env_u64("NETPULSE_BENCH_MEASUREMENTS", 1_000_000);
    let clients = env_u64("NETPULSE_BENCH_CLIENTS", 16);
    let seconds = env_u64("NETPULSE_BENCH_SECONDS", 10);
    let storage = netpulse_adapters::storage::open(&db.url).await.unwrap();
    let t = Instant::now();
    seed_topology(
        storage.as_ref(),
        PROBES,
        PER_PROBE,
        &netpulse_app::tokens::digest(TOKEN),
    )
    .await;
    bulk_measurements(
        &db.url,
        0,
        measurements,
        PROBES * PER_PROBE,
        PER_PROBE,
        SystemClock.now().unix_millis(),
    )
    .await
    .unwrap();
    eprintln!(
        "{name}: seeded {PROBES} probes × {PER_PROBE} connections and {measurements} measurements in {:.1?}",
        t.elapsed()
    );
    let app = netpulse_app::startup::app_over(storage, Arc::new(SystemClock));
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(netpulse_app::startup::run(
        acceptor,
        netpulse_app::startup::Server::new(app),
        async move {
            let _ = rx.await;
        },
    ));
    let base = format!("http://{addr}");
    // Warm up: every probe polls once (records its poll; the first run of each connection is due).
    drive(&base, clients, 2, true, due_path).await;
    let ping = drive(&base, clients, seconds, false, ping_path).await;
    let due = drive(&base, clients, seconds, true, due_path).await;
    let _ = tx.send(());
    let _ = server.await;
    println!(
        "\n## {name} ({measurements} measurements, {clients} concurrent clients, {seconds} s each)"
    );
    println!("| endpoint | requests/s | p50 | p99 |");
    println!("|---|---|---|---|");
    println!(
        "| GET /api/v1/ping | {:.0} | {} | {} |",
        ping.rate,
        ms(ping.p50),
        ms(ping.p99)
    );
    println!(
        "| GET /api/v1/probes/{{id}}/due | {:.0} | {} | {} |",
        due.rate,
        ms(due.p50),
        ms(due.p99)
    );
    println!(
        "/due rate ÷ ping rate: {:.2} (aim ≥ 0.33 on SQLite)",
        due.rate / ping.rate
    );
}

fn main() {
    if std::env::var_os("NETPULSE_TEST_PG_URL").is_none() {
        // Environment mutation needs `unsafe` in edition 2024; re-run with the variable set.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(std::env::args_os().skip(1))
            .env(
                "NETPULSE_TEST_PG_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            )
            .status()
            .unwrap();
        std::process::exit(status.code().unwrap_or(1));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        run("SQLite", TestDatabase::sqlite()).await;
        match TestDatabase::postgres().await {
            Some(db) => run("PostgreSQL", db).await,
            None => println!("\nPostgreSQL: not measured (NETPULSE_TEST_PG_URL=off)"),
        }
    });
}
