//! Fresh databases for tests (feature `test-support`): a SQLite file in a temporary directory,
//! or a new database on the PostgreSQL server named by `NETPULSE_TEST_PG_URL`, dropped again
//! when the value is dropped.
//!
//! The PostgreSQL half never skips silently: without `NETPULSE_TEST_PG_URL` it panics, unless
//! the variable is `off` (then [`TestDatabase::postgres`] returns `None` and says so on stderr).
//! An unreachable server always fails.

use std::path::PathBuf;

use sqlx::Connection as _;

/// A database that exists for the lifetime of the value.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to open it with.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Directory(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A name no other call in this or another process returns (pid, time, counter).
pub fn unique_name() -> String {
    unique()
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}_{nanos}_{n}", std::process::id())
}

/// The PostgreSQL server URL from `NETPULSE_TEST_PG_URL` (see the module docs).
pub fn postgres_server_url() -> Option<String> {
    match std::env::var("NETPULSE_TEST_PG_URL") {
        Ok(u) if u == "off" => {
            eprintln!("NETPULSE_TEST_PG_URL=off: the PostgreSQL half of this test is not run");
            None
        }
        Ok(u) if !u.is_empty() => Some(u),
        _ => panic!(
            "NETPULSE_TEST_PG_URL is not set: point it at a PostgreSQL server \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres), or set it to `off` to leave PostgreSQL out"
        ),
    }
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

impl TestDatabase {
    /// A SQLite database in a new temporary directory.
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("netpulse-test-{}", unique()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        Self {
            url: format!("sqlite://{}", dir.join("netpulse.db").display()),
            cleanup: Cleanup::Directory(dir),
        }
    }

    /// A new, empty PostgreSQL database (see the module docs for when this is `None`).
    pub async fn postgres() -> Option<Self> {
        let admin_url = postgres_server_url()?;
        let name = format!("netpulse_test_{}", unique());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("NETPULSE_TEST_PG_URL is set but PostgreSQL is unreachable: {e}")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        Some(Self {
            url: with_database(&admin_url, &name),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop cannot await: use a short-lived runtime on its own thread.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut admin)
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A realistic Ookla CLI 1.2 result (about 1.6 KB), used as the raw output of seeded rows so
/// that storage figures match real use.
pub const SAMPLE_OOKLA_STDOUT: &str = r#"{"type":"result","timestamp":"2026-06-06T12:04:30Z","ping":{"jitter":0.412,"latency":9.813,"low":9.402,"high":10.772},"download":{"bandwidth":116445504,"bytes":1403904000,"elapsed":12004,"latency":{"iqm":24.516,"low":10.061,"high":226.318,"jitter":4.672}},"upload":{"bandwidth":6181475,"bytes":74250000,"elapsed":12002,"latency":{"iqm":53.209,"low":9.908,"high":471.134,"jitter":11.384}},"packetLoss":0,"isp":"Acme Fibre","interface":{"internalIp":"192.168.1.23","name":"eth0","macAddr":"00:11:22:33:44:55","isVpn":false,"externalIp":"203.0.113.7"},"server":{"id":60440,"host":"speedtest.example.net","port":8080,"name":"Example Networks","location":"Hannover","country":"Germany","ip":"198.51.100.20"},"result":{"id":"0b3f1c7e-8a0b-4f6e-9d2a-3c4b5d6e7f80","url":"https://www.speedtest.net/result/c/0b3f1c7e-8a0b-4f6e-9d2a-3c4b5d6e7f80","persisted":true}}"#;

/// The id of seeded probe `k` (deterministic, so SQL can compute it).
pub fn seeded_probe_id(k: u64) -> String {
    format!("00000000-0000-4000-8000-{k:012x}")
}

/// The id of seeded connection `k`.
pub fn seeded_connection_id(k: u64) -> String {
    format!("00000000-0000-4000-9000-{k:012x}")
}

/// Inserts `count` completed measurements, spread round-robin over connections
/// `0..connections` (which must exist, with probe `k / per_probe`), one a minute going back
/// from `newest_ms`, in batches, bypassing ingest (this is for benchmarks that need large
/// histories quickly; ingest itself is measured separately). Ids start at `first`.
pub async fn bulk_measurements(
    url: &str,
    first: u64,
    count: u64,
    connections: u64,
    per_probe: u64,
    newest_ms: i64,
) -> Result<(), sqlx::Error> {
    const BATCH: u64 = 50_000;
    let columns = "id, probe_id, connection_id, engine, pool_entry, status, failure_class, failure_message, \
        download_bps, upload_bps, download_bytes, upload_bytes, ping_ms, ping_low_ms, ping_high_ms, jitter_ms, \
        download_latency_ms, upload_latency_ms, packet_loss_percent, server_id, server_name, server_location, \
        server_host, isp, result_url, tool_timestamp, started_at, completed_at, received_at, scheduled, healthy, \
        breaches, exit_code, raw_stdout, raw_stderr";
    let postgres = url.starts_with("postgres");
    let (hex12, series) = if postgres {
        (
            "lpad(to_hex({e}), 12, '0')",
            "generate_series($1::bigint, $2::bigint - 1) AS s(n)",
        )
    } else {
        ("printf('%012x', {e})", "seq")
    };
    let hex = |e: &str| hex12.replace("{e}", e);
    let select = format!(
        "SELECT '00000000-0000-4000-a000-' || {id}, '00000000-0000-4000-8000-' || {probe}, \
         '00000000-0000-4000-9000-' || {conn}, 'ookla', NULL, 'completed', NULL, NULL, \
         900000000.0 + (n % 97) * 1000000.0, 400000000.0 + (n % 89) * 1000000.0, 1403904000, 74250000, \
         9.0 + (n % 13), 8.5, 12.0, 0.4 + (n % 7) * 0.1, 24.5, 53.2, 0.0, '60440', 'Example Networks', \
         'Hannover', 'speedtest.example.net:8080', 'Acme Fibre', 'https://www.speedtest.net/result/c/x', \
         $3 - n * 60000, $3 - n * 60000 - 30000, $3 - n * 60000, $3 - n * 60000 + 500, TRUE, TRUE, '', 0, $4, '' \
         FROM {series}",
        id = hex("n"),
        probe = hex(&format!("(n % {connections}) / {per_probe}")),
        conn = hex(&format!("n % {connections}")),
    );
    let mut start = first;
    while start < first + count {
        let end = (start + BATCH).min(first + count);
        let sql = if postgres {
            format!("INSERT INTO measurements ({columns}) {select}")
        } else {
            format!(
                "WITH RECURSIVE seq(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < $2) \
                 INSERT INTO measurements ({columns}) {select}"
            )
        };
        let (s, e) = (
            i64::try_from(start).unwrap_or(i64::MAX),
            i64::try_from(end).unwrap_or(i64::MAX),
        );
        if postgres {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(s)
                .bind(e)
                .bind(newest_ms)
                .bind(SAMPLE_OOKLA_STDOUT)
                .execute(&mut conn)
                .await?;
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await?;
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(s)
                .bind(e)
                .bind(newest_ms)
                .bind(SAMPLE_OOKLA_STDOUT)
                .execute(&mut conn)
                .await?;
        }
        start = end;
    }
    Ok(())
}

/// Creates probes `0..probes` (ids [`seeded_probe_id`], all with the given token digest), each
/// with `per_probe` enabled connections (ids [`seeded_connection_id`] `probe * per_probe + c`),
/// 24 tests a day, a three-entry Ookla pool, plan 1000/500 Mbps.
pub async fn seed_topology(
    s: &dyn netpulse_ports::storage::Storage,
    probes: u64,
    per_probe: u64,
    token: &netpulse_ports::storage::TokenDigest,
) {
    use netpulse_domain::id::{ConnectionId, ProbeId};
    use netpulse_domain::model::{Connection, Probe};
    use netpulse_domain::values::{Colour, ExpectedSpeed, Labels, Name};
    let created = netpulse_domain::Timestamp::from_unix_seconds(1_780_000_000);
    for p in 0..probes {
        let probe = Probe {
            id: ProbeId::parse(&seeded_probe_id(p)).expect("valid id"),
            name: Name::parse("name", &format!("probe-{p:04}")).expect("valid name"),
            labels: Labels::new(),
            enabled: true,
            created_at: created,
            last_poll_at: None,
            agent_version: None,
            agent_engines: vec![],
        };
        s.create_probe(&probe, token).await.expect("create probe");
        for c in 0..per_probe {
            let k = p * per_probe + c;
            s.create_connection(&Connection {
                id: ConnectionId::parse(&seeded_connection_id(k)).expect("valid id"),
                probe_id: probe.id.clone(),
                name: Name::parse("name", &format!("wan-{c}")).expect("valid name"),
                isp: "Acme".into(),
                expected: ExpectedSpeed::from_mbps(1000, 500),
                colour: Colour::Primary,
                labels: Labels::new(),
                pool: netpulse_domain::pool::ServerPool::parse_all(&[
                    "12746",
                    "30907",
                    "fra.example:8080",
                ])
                .expect("valid pool"),
                schedule: netpulse_domain::schedule::Schedule::default(),
                thresholds: netpulse_domain::health::Thresholds::default(),
                adaptive: netpulse_domain::degradation::AdaptivePolicy::default(),
                alerts: None,
                source_interface: None,
                source_address: None,
                enabled: true,
                created_at: created,
            })
            .await
            .expect("create connection");
        }
    }
}
