//! Fresh databases for each test, and builders of domain values.

use std::sync::Arc;

use netpulse_adapters::storage::postgres::PostgresStorage;
use netpulse_adapters::storage::sqlite::SqliteStorage;
use netpulse_adapters::testing::TestDatabase;
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
    _db: TestDatabase,
}

pub(crate) async fn sqlite() -> SqliteDb {
    let db = TestDatabase::sqlite();
    let storage = Arc::new(SqliteStorage::open(&db.url).await.expect("open sqlite"));
    SqliteDb { storage, _db: db }
}

/// A fresh PostgreSQL database (`NETPULSE_TEST_PG_URL`), dropped at the end of the test.
pub(crate) struct PgDb {
    pub(crate) storage: Arc<PostgresStorage>,
    pub(crate) url: String,
    _db: TestDatabase,
}

pub(crate) async fn pg() -> Option<PgDb> {
    let db = TestDatabase::postgres().await?;
    let storage = Arc::new(PostgresStorage::open(&db.url).await.expect("open postgres"));
    Some(PgDb {
        storage,
        url: db.url.clone(),
        _db: db,
    })
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
