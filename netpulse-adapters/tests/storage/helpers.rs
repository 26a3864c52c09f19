//! Fresh databases for each test, and builders of domain values.

use std::sync::Arc;

use netpulse_adapters::storage::postgres::PostgresStorage;
use netpulse_adapters::storage::sqlite::SqliteStorage;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::degradation::AdaptivePolicy;
use netpulse_domain::health::{Thresholds, Verdict};
use netpulse_domain::id::{ConnectionId, ProbeId, ResultId};
use netpulse_domain::measurement::{FailureClass, Observation, ServerInfo};
use netpulse_domain::model::{Connection, Measurement, Probe, RawOutput};
use netpulse_domain::pool::{Engine, PoolEntry, ServerPool};
use netpulse_domain::schedule::Schedule;
use netpulse_domain::values::{Colour, ExpectedSpeed, Labels, Name};
use netpulse_ports::storage::{IncomingResult, RecordOutcome, Storage, TokenDigest};
use sqlx::Connection as _;

pub(crate) const T0: i64 = 1_780_747_500_000; // 2026-06-06T12:05:00Z in ms

pub(crate) fn at(seconds_after_t0: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + seconds_after_t0 * 1000)
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A SQLite database in a fresh temporary file.
pub(crate) struct SqliteDb {
    pub(crate) storage: Arc<SqliteStorage>,
    _dir: TempDir,
}

pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) async fn sqlite() -> SqliteDb {
    let dir = std::env::temp_dir().join(format!("netpulse-test-{}", new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("test.db").display());
    let storage = Arc::new(SqliteStorage::open(&url).await.expect("open sqlite"));
    SqliteDb {
        storage,
        _dir: TempDir(dir),
    }
}

/// The PostgreSQL server URL from `NETPULSE_TEST_PG_URL`. The PostgreSQL half of the suite never
/// skips silently: without the variable it fails, unless the variable is set to `off` (then
/// the test passes after saying so on stderr). An unreachable server always fails.
pub(crate) fn pg_url() -> Option<String> {
    match std::env::var("NETPULSE_TEST_PG_URL") {
        Ok(u) if u == "off" => {
            eprintln!("NETPULSE_TEST_PG_URL=off: PostgreSQL half of this test not run");
            None
        }
        Ok(u) if !u.is_empty() => Some(u),
        _ => panic!(
            "NETPULSE_TEST_PG_URL is not set: point it at a PostgreSQL server \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres), or set it to `off` to leave PostgreSQL out"
        ),
    }
}

/// A fresh PostgreSQL database on the server named by `NETPULSE_TEST_PG_URL`, dropped at the
/// end of the test.
pub(crate) struct PgDb {
    pub(crate) storage: Arc<PostgresStorage>,
    pub(crate) url: String,
    admin_url: String,
    name: String,
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

pub(crate) async fn pg() -> Option<PgDb> {
    let admin_url = pg_url()?;
    let name = format!("netpulse_test_{}", new_id().replace('-', ""));
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("NETPULSE_TEST_PG_URL is set but PostgreSQL is unreachable: {e}")
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let url = with_database(&admin_url, &name);
    let storage = Arc::new(PostgresStorage::open(&url).await.expect("open postgres"));
    Some(PgDb {
        storage,
        url,
        admin_url,
        name,
    })
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Best effort, on a separate thread with its own runtime (Drop cannot await).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
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

pub(crate) fn digest(byte: u8) -> TokenDigest {
    TokenDigest([byte; 32])
}

pub(crate) fn probe(name: &str) -> Probe {
    Probe {
        id: ProbeId::parse(&new_id()).unwrap(),
        name: Name::parse("name", name).unwrap(),
        labels: {
            let mut l = Labels::new();
            l.insert("site", "berlin").unwrap();
            l
        },
        enabled: true,
        created_at: at(0),
        last_poll_at: None,
        agent_version: None,
        agent_engines: vec![],
    }
}

pub(crate) fn connection(probe: &ProbeId, name: &str) -> Connection {
    Connection {
        id: ConnectionId::parse(&new_id()).unwrap(),
        probe_id: probe.clone(),
        name: Name::parse("name", name).unwrap(),
        isp: "Acme".into(),
        expected: ExpectedSpeed::from_mbps(1000, 500),
        colour: Colour::Primary,
        labels: Labels::new(),
        pool: ServerPool::parse_all(&["a", "b", "c"]).unwrap(),
        schedule: Schedule::default(),
        thresholds: Thresholds::default(),
        adaptive: AdaptivePolicy::default(),
        alerts: None,
        source_interface: None,
        source_address: None,
        enabled: true,
        created_at: at(0),
    }
}

pub(crate) fn observation(download_mbps: f64, ping_ms: f64) -> Observation {
    Observation {
        failure: None,
        download_bps: Some(download_mbps * 1e6),
        upload_bps: Some(400e6),
        download_bytes: Some(123_456_789),
        upload_bytes: Some(98_765_432),
        ping_ms: Some(ping_ms),
        ping_low_ms: Some(ping_ms - 1.0),
        ping_high_ms: Some(ping_ms + 1.0),
        jitter_ms: Some(2.5),
        download_latency_ms: Some(30.0),
        upload_latency_ms: Some(40.0),
        packet_loss_percent: None,
        server: ServerInfo {
            id: Some("12746".into()),
            name: Some("Orange".into()),
            location: Some("Warsaw".into()),
            host: Some("speedtest.orange.pl:8080".into()),
        },
        isp: Some("Acme ISP".into()),
        result_url: Some("https://www.speedtest.net/result/c/x".into()),
        tool_timestamp: Some(at(-30)),
    }
}

pub(crate) fn failed() -> Observation {
    Observation::failed(FailureClass::Network, "Cannot open socket")
}

pub(crate) fn measurement(
    c: &Connection,
    completed: Timestamp,
    pool_entry: Option<&str>,
    obs: Observation,
) -> Measurement {
    Measurement {
        id: ResultId::parse(&new_id()).unwrap(),
        probe_id: c.probe_id.clone(),
        connection_id: c.id.clone(),
        engine: Engine::Ookla,
        pool_entry: pool_entry.map(|p| PoolEntry::parse(p).unwrap()),
        observation: obs,
        started_at: completed.plus_seconds(-30),
        completed_at: completed,
        received_at: completed.plus_seconds(1),
        scheduled: true,
        verdict: Verdict { breaches: vec![] },
        raw: RawOutput {
            exit_code: Some(0),
            stdout: "{\"type\":\"result\"}".into(),
            stderr: String::new(),
        },
    }
}

pub(crate) async fn record(s: &dyn Storage, m: Measurement) -> RecordOutcome {
    s.record(IncomingResult { measurement: m }, &AlertPolicy::default())
        .await
        .expect("record")
}

/// A probe with one connection, stored.
pub(crate) async fn seeded(s: &dyn Storage) -> (Probe, Connection) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let c = connection(&p.id, "wan1");
    s.create_connection(&c).await.unwrap();
    (p, c)
}
