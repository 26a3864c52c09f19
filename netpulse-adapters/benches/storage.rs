//! Storage figures on SQLite and PostgreSQL: ingest rate (one result per transaction through
//! `record`), due-work read latency for one probe with 10 connections at 10,000 and 1,000,000
//! stored measurements, and database bytes per measurement.
//!
//! Run: `cargo bench -p netpulse-adapters --features test-support --bench storage`
//! (PostgreSQL from `NETPULSE_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`;
//! `NETPULSE_BENCH_MEASUREMENTS` overrides the large history size).

use std::sync::Arc;
use std::time::{Duration, Instant};

use netpulse_adapters::testing::{
    SAMPLE_OOKLA_STDOUT, TestDatabase, bulk_measurements, seed_topology, seeded_connection_id,
    seeded_probe_id,
};
use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::health::Verdict;
use netpulse_domain::id::{ConnectionId, ProbeId, ResultId};
use netpulse_domain::measurement::{Observation, ServerInfo};
use netpulse_domain::model::{Measurement, RawOutput};
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::storage::{IncomingResult, Storage, TokenDigest};
use sqlx::Connection as _;

const PROBES: u64 = 100;
const PER_PROBE: u64 = 10;
const CONNECTIONS: u64 = PROBES * PER_PROBE;
const INGEST_SAMPLES: u64 = 2_000;
const READS: usize = 5_000;

fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Timestamp::from_unix_millis(i64::try_from(ms).unwrap())
}

fn result(k: u64, i: u64) -> Measurement {
    let c = k % CONNECTIONS;
    let at = now();
    Measurement {
        id: ResultId::parse(&format!("00000000-0000-4000-b000-{i:012x}")).unwrap(),
        probe_id: ProbeId::parse(&seeded_probe_id(c / PER_PROBE)).unwrap(),
        connection_id: ConnectionId::parse(&seeded_connection_id(c)).unwrap(),
        engine: Engine::Ookla,
        pool_entry: PoolEntry::parse("12746").ok(),
        observation: Observation {
            download_bps: Some(931_564_032.0),
            upload_bps: Some(449_451_800.0),
            download_bytes: Some(1_403_904_000),
            upload_bytes: Some(74_250_000),
            ping_ms: Some(9.8),
            jitter_ms: Some(0.4),
            packet_loss_percent: Some(0.0),
            server: ServerInfo {
                id: Some("60440".into()),
                ..ServerInfo::default()
            },
            ..Observation::default()
        },
        started_at: at.plus_seconds(-30),
        completed_at: at,
        received_at: at,
        scheduled: true,
        verdict: Verdict { breaches: vec![] },
        raw: RawOutput {
            exit_code: Some(0),
            stdout: SAMPLE_OOKLA_STDOUT.into(),
            stderr: String::new(),
        },
    }
}

async fn ingest_rate(s: &dyn Storage, first: u64) -> f64 {
    let policy = AlertPolicy::default();
    let started = Instant::now();
    for i in 0..INGEST_SAMPLES {
        let m = result(i * 7 + first, first + i);
        s.record(IncomingResult { measurement: m }, &policy)
            .await
            .unwrap();
    }
    INGEST_SAMPLES as f64 / started.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One read of what `/due` reads for one probe with 10 connections: the scheduling entries and
/// the run-now requests.
async fn due_read_once(s: &dyn Storage, probe: &ProbeId) -> Duration {
    let t = Instant::now();
    let entries = s.scheduling_entries(probe).await.unwrap();
    s.take_run_requests(probe, now()).await.unwrap();
    let elapsed = t.elapsed();
    assert_eq!(entries.len(), PER_PROBE as usize);
    elapsed
}

/// Reads alternately from both databases, so that background load affects both alike.
async fn due_reads(small: &dyn Storage, large: &dyn Storage) -> [(Duration, Duration); 2] {
    let probe = ProbeId::parse(&seeded_probe_id(42)).unwrap();
    let (mut a, mut b) = (Vec::with_capacity(READS), Vec::with_capacity(READS));
    for _ in 0..READS {
        a.push(due_read_once(small, &probe).await);
        b.push(due_read_once(large, &probe).await);
    }
    [&mut a, &mut b].map(|times| {
        times.sort();
        (percentile(times, 50.0), percentile(times, 99.0))
    })
}

async fn bytes_per_measurement(url: &str, count: u64) -> f64 {
    let bytes: i64 = if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("VACUUM ANALYZE measurements")
            .execute(&mut c)
            .await
            .unwrap();
        let (b,): (i64,) = sqlx::query_as("SELECT pg_total_relation_size('measurements')")
            .fetch_one(&mut c)
            .await
            .unwrap();
        b
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
        let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
            .fetch_one(&mut c)
            .await
            .unwrap();
        let (size,): (i64,) = sqlx::query_as("PRAGMA page_size")
            .fetch_one(&mut c)
            .await
            .unwrap();
        pages * size
    };
    bytes as f64 / count as f64
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

async fn checkpoint(url: &str) {
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("VACUUM ANALYZE").execute(&mut c).await.unwrap();
        // Flush the bulk load's dirty pages now, not during the timed ingest.
        sqlx::query("CHECKPOINT").execute(&mut c).await.unwrap();
    }
}

/// A database with the topology, `INGEST_SAMPLES` results recorded through `record` (timed),
/// and bulk-loaded history up to `total` measurements.
async fn prepare(name: &str, db: &TestDatabase, total: u64) -> (Arc<dyn Storage>, f64) {
    let storage: Arc<dyn Storage> = netpulse_adapters::storage::open(&db.url).await.unwrap();
    seed_topology(storage.as_ref(), PROBES, PER_PROBE, &TokenDigest([7; 32])).await;
    let t = Instant::now();
    bulk_measurements(
        &db.url,
        0,
        total - INGEST_SAMPLES,
        CONNECTIONS,
        PER_PROBE,
        now().unix_millis(),
    )
    .await
    .unwrap();
    eprintln!(
        "{name}: bulk-loaded {} measurements in {:.1?}",
        total - INGEST_SAMPLES,
        t.elapsed()
    );
    checkpoint(&db.url).await;
    let rate = ingest_rate(storage.as_ref(), total).await;
    (storage, rate)
}

async fn run(name: &str, small_db: TestDatabase, large_db: TestDatabase, large: u64) {
    let small = 10_000;
    let (small_store, rate_small) = prepare(name, &small_db, small).await;
    let (large_store, rate_large) = prepare(name, &large_db, large).await;
    let [(p50_small, p99_small), (p50_large, p99_large)] =
        due_reads(small_store.as_ref(), large_store.as_ref()).await;
    let bytes_small = bytes_per_measurement(&small_db.url, small).await;
    let bytes_large = bytes_per_measurement(&large_db.url, large).await;

    println!("\n## {name} ({PROBES} probes × {PER_PROBE} connections)");
    println!(
        "| history | ingest (results/s, 1 per transaction) | due read p50 | due read p99 | bytes/measurement |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {small} | {rate_small:.0} | {} | {} | {bytes_small:.0} |",
        ms(p50_small),
        ms(p99_small)
    );
    println!(
        "| {large} | {rate_large:.0} | {} | {} | {bytes_large:.0} |",
        ms(p50_large),
        ms(p99_large)
    );
    let ratio = p99_large.as_secs_f64() / p99_small.as_secs_f64();
    println!("due read p99 ratio (large/small): {ratio:.2} (target ≤ 1.5)");
}

fn main() {
    if std::env::var_os("NETPULSE_TEST_PG_URL").is_none() {
        // SAFETY-free: set before any thread starts.
        unsafe_free_set_pg_default();
    }
    let large: u64 = std::env::var("NETPULSE_BENCH_MEASUREMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        run(
            "SQLite",
            TestDatabase::sqlite(),
            TestDatabase::sqlite(),
            large,
        )
        .await;
        match (
            TestDatabase::postgres().await,
            TestDatabase::postgres().await,
        ) {
            (Some(small), Some(large_db)) => run("PostgreSQL", small, large_db, large).await,
            _ => println!("\nPostgreSQL: not measured (NETPULSE_TEST_PG_URL=off)"),
        }
    });
}

fn unsafe_free_set_pg_default() {
    // Environment mutation is `unsafe` in edition 2024 and the workspace forbids unsafe code;
    // re-exec ourselves with the variable set instead.
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(
            "NETPULSE_TEST_PG_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        )
        .status()
        .unwrap();
    std::process::exit(status.code().unwrap_or(1));
}
