//! `/metrics` render time and size against the number of connections and of stored
//! measurements (SQLite). Run with
//!
//! ```sh
//! cargo bench -p netpulse-app --bench metrics            # the full matrix
//! NETPULSE_BENCH_QUICK=1 cargo bench -p netpulse-app --bench metrics   # 10k rows only
//! ```
//!
//! Each case: a fresh database with `connections` connections (10 per probe) and `measurements`
//! results spread over them (bulk-inserted with SQL; 1 in 10 failed), then the exporter's
//! startup snapshot is loaded and `Metrics::render` (what `GET /metrics` answers: the catalog
//! read, the OpenTelemetry collection and the text encoding) is timed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use netpulse_adapters::storage::sqlite::SqliteStorage;
use netpulse_adapters::testing::TestDatabase;
use netpulse_app::metrics::remote_write::RemoteWriteStats;
use netpulse_app::metrics::{Metrics, MetricsSettings};
use netpulse_domain::Timestamp;
use netpulse_domain::degradation::AdaptivePolicy;
use netpulse_domain::health::Thresholds;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::{Connection, Probe};
use netpulse_domain::pool::ServerPool;
use netpulse_domain::schedule::Schedule;
use netpulse_domain::values::{Colour, ExpectedSpeed, Labels, Name};
use netpulse_ports::clock::{Clock, SystemClock};
use netpulse_ports::storage::{ConnectionStore, ProbeStore, Storage, TokenDigest};

const T0: i64 = 1_780_000_000_000;

fn uuid(kind: u32, i: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{i:012x}")
}

async fn populate(storage: &SqliteStorage, connections: usize, measurements: usize) {
    let probes = connections.div_ceil(10);
    for p in 0..probes {
        let mut labels = Labels::new();
        labels.insert("site", &format!("site-{}", p % 7)).unwrap();
        let probe = Probe {
            id: ProbeId::parse(&uuid(1, p)).unwrap(),
            name: Name::parse("name", &format!("probe-{p}")).unwrap(),
            labels,
            enabled: true,
            created_at: Timestamp::from_unix_millis(T0),
            last_poll_at: None,
            agent_version: None,
            agent_engines: vec![],
        };
        storage
            .create_probe(&probe, &TokenDigest([p as u8; 32]))
            .await
            .unwrap();
    }
    for c in 0..connections {
        let connection = Connection {
            id: ConnectionId::parse(&uuid(2, c)).unwrap(),
            probe_id: ProbeId::parse(&uuid(1, c / 10)).unwrap(),
            name: Name::parse("name", &format!("wan{}", c % 10)).unwrap(),
            isp: "Acme".into(),
            expected: ExpectedSpeed::from_mbps(1000, 500),
            colour: Colour::Primary,
            labels: Labels::new(),
            pool: ServerPool::default(),
            schedule: Schedule::default(),
            thresholds: Thresholds::default(),
            adaptive: AdaptivePolicy::default(),
            alerts: None,
            source_interface: None,
            source_address: None,
            enabled: true,
            created_at: Timestamp::from_unix_millis(T0),
        };
        storage.create_connection(&connection).await.unwrap();
    }
    let pool = storage.pool();
    sqlx::query(
        "CREATE TABLE conn_idx (idx INTEGER PRIMARY KEY, id TEXT NOT NULL, probe_id TEXT NOT NULL)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO conn_idx (id, probe_id) SELECT id, probe_id FROM connections ORDER BY id",
    )
    .execute(pool)
    .await
    .unwrap();
    // In chunks, so that each transaction stays reasonable.
    let chunk = 100_000;
    let mut start = 0;
    while start < measurements {
        let end = (start + chunk).min(measurements);
        sqlx::query(
            "WITH RECURSIVE seq(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $2) \
             INSERT INTO measurements (id, probe_id, connection_id, engine, pool_entry, status, failure_class, \
             failure_message, download_bps, upload_bps, download_bytes, upload_bytes, ping_ms, ping_low_ms, \
             ping_high_ms, jitter_ms, download_latency_ms, upload_latency_ms, packet_loss_percent, server_id, \
             server_name, server_location, server_host, isp, result_url, tool_timestamp, started_at, completed_at, \
             received_at, scheduled, healthy, breaches, exit_code, raw_stdout, raw_stderr) \
             SELECT printf('00000003-0000-4000-8000-%012x', i), c.probe_id, c.id, \
             CASE WHEN i % 7 = 0 THEN 'iperf3' ELSE 'ookla' END, NULL, \
             CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'completed' END, \
             CASE WHEN i % 10 = 0 THEN 'network' ELSE NULL END, CASE WHEN i % 10 = 0 THEN 'Cannot open socket' ELSE NULL END, \
             CASE WHEN i % 10 = 0 THEN NULL ELSE 500e6 + (i % 500) * 1e6 END, \
             CASE WHEN i % 10 = 0 THEN NULL ELSE 300e6 END, 1000000000, 400000000, 9.5 + (i % 10), 9.0, 12.0, 0.8, \
             30.0, 25.0, 0.0, '12746', 'Orange', 'Warsaw', 'speedtest.example:8080', 'Acme ISP', NULL, NULL, \
             $3 + i * 1000 - 30000, $3 + i * 1000, $3 + i * 1000 + 500, TRUE, \
             CASE WHEN i % 10 = 0 OR i % 13 = 0 THEN FALSE ELSE TRUE END, \
             CASE WHEN i % 10 = 0 THEN 'test_failed' WHEN i % 13 = 0 THEN 'ping_high' ELSE '' END, 0, '', '' \
             FROM seq JOIN conn_idx c ON c.idx = (i % $4) + 1",
        )
        .bind(start as i64)
        .bind(end as i64)
        .bind(T0)
        .bind(connections as i64)
        .execute(pool)
        .await
        .unwrap();
        start = end;
    }
    sqlx::query(
        "UPDATE connection_state SET recent_verdicts = 'HHUFH', last_completed_at = \
         (SELECT MAX(completed_at) FROM measurements m WHERE m.connection_id = connection_state.connection_id \
          AND m.status = 'completed')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("DROP TABLE conn_idx")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

/// CPU time of this process so far (user + system), from `/proc/self/stat` (clock ticks of
/// 10 ms). The machine may be shared: wall times include waiting for a core, CPU times do not.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn case(connections: usize, measurements: usize) {
    let db = TestDatabase::sqlite();
    let storage = SqliteStorage::open(&db.url).await.unwrap();
    let filled = Instant::now();
    populate(&storage, connections, measurements).await;
    let fill = filled.elapsed();
    let storage: Arc<dyn Storage> = Arc::new(storage);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let started = Instant::now();
    let metrics = Metrics::start(
        storage,
        clock,
        MetricsSettings::default(),
        Arc::new(RemoteWriteStats::default()),
        None,
    )
    .await
    .unwrap();
    let startup = started.elapsed();
    let runs = if connections >= 10_000 { 10 } else { 30 };
    let mut line = format!(
        "{connections:>11} | {measurements:>12} | {:>8.0} | {:>8.0}",
        ms(fill),
        ms(startup)
    );
    let mut catalog = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        metrics.refresh_catalog().await;
        catalog.push(t.elapsed());
    }
    catalog.sort();
    line.push_str(&format!(" | {:>7.2}", ms(catalog[runs / 2])));
    for renderer in ["text", "opentelemetry"] {
        let render = || async {
            if renderer == "text" {
                metrics.render_text().await
            } else {
                metrics.render_opentelemetry().await
            }
        };
        let mut body = render().await;
        let mut times = Vec::with_capacity(runs);
        let cpu_before = cpu();
        for _ in 0..runs {
            let t = Instant::now();
            body = render().await;
            times.push(t.elapsed());
        }
        let cpu_per_render = cpu().saturating_sub(cpu_before) / runs as u32;
        times.sort();
        let series = body.lines().filter(|l| !l.starts_with('#')).count();
        line.push_str(&format!(
            " | {:>8.2} {:>8.2} {:>8.2} | {:>9} {:>7}",
            ms(times[runs / 2]),
            ms(times[runs * 9 / 10]),
            ms(cpu_per_render),
            body.len(),
            series,
        ));
    }
    println!("{line}");
}

fn main() {
    let quick = std::env::var_os("NETPULSE_BENCH_QUICK").is_some();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "/metrics on SQLite, milliseconds. fill: bulk load; startup: the exporter's snapshot \
         load; catalog: the per-scrape read of probes and connections (median); text and \
         opentelemetry: a whole render (catalog read included), wall-clock median and p90, and \
         CPU time per render (the machine may be shared)"
    );
    println!(
        "{:>11} | {:>12} | {:>8} | {:>8} | {:>7} | {:>26} | {:>17} | {:>26} | {:>17}",
        "connections",
        "measurements",
        "fill",
        "startup",
        "catalog",
        "text: median  p90  cpu",
        "bytes  series",
        "opentelemetry: median p90 cpu",
        "bytes  series"
    );
    let mut cases = vec![(10, 10_000), (1_000, 10_000), (10_000, 10_000)];
    if !quick {
        cases.extend([(10, 1_000_000), (1_000, 1_000_000), (10_000, 1_000_000)]);
    }
    for (c, m) in cases {
        runtime.block_on(case(c, m));
    }
}
