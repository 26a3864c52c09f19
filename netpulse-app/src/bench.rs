//! `netpulse bench web`: fills an empty database with a realistic history (by default 10
//! connections and 1,000,000 results over a year), then measures the dashboard's endpoints
//! through the real route tree (middleware, session, templates; no socket) and prints p50/p95
//! latencies, and the CSV export's rows/s with the process's resident memory before and at the
//! peak of the export.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ProbeId, UserId};
use netpulse_domain::model::Probe;
use netpulse_domain::values::{Labels, Name};
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort, Storage, User};
use netpulse_ports::web_store::NewSession;
use poem::{Endpoint, Request};

use crate::error::AppError;
use crate::service::{App, connections, new_uuid};
use crate::tokens;

/// What to generate and how often to ask.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Connections to create.
    #[arg(long, default_value_t = 10)]
    pub connections: u32,
    /// Results to generate, spread evenly over `--days`.
    #[arg(long, default_value_t = 1_000_000)]
    pub measurements: u64,
    /// How far back the history reaches, days.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Timed requests per endpoint (after 3 warm-up requests).
    #[arg(long, default_value_t = 30)]
    pub requests: u32,
}

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    async fn exec(&self, sql: String) -> Result<(), AppError> {
        let q = sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
        match self {
            Self::Sqlite(p) => q.execute(p).await.map(|_| ()),
            Self::Postgres(p) => q.execute(p).await.map(|_| ()),
        }
        .map_err(AppError::unavailable_from)
    }
}

async fn open(url: &str) -> Result<(Arc<dyn Storage>, Pool), AppError> {
    use netpulse_adapters::storage::{postgres::PostgresStorage, sqlite::SqliteStorage};
    if url.starts_with("sqlite:") {
        let s = SqliteStorage::open(url).await?;
        let pool = Pool::Sqlite(s.pool().clone());
        Ok((Arc::new(s), pool))
    } else {
        let s = PostgresStorage::open(url).await?;
        let pool = Pool::Postgres(s.pool().clone());
        Ok((Arc::new(s), pool))
    }
}

/// A small deterministic pseudo-random sequence (SplitMix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

const SERVERS: [(&str, &str, &str); 5] = [
    ("12746", "Orange", "Warsaw"),
    ("30907", "Deutsche Telekom", "Frankfurt"),
    ("60440", "Jonas de Vries", "Hannover"),
    ("21541", "Init7", "Zurich"),
    ("4087", "Vodafone", "Berlin"),
];

async fn seed(
    app: &App,
    pool: &Pool,
    args: &BenchArgs,
    now: Timestamp,
) -> Result<Vec<ConnectionId>, AppError> {
    let storage = &app.storage;
    let probe = Probe {
        id: ProbeId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
        name: Name::parse("name", "bench")?,
        labels: Labels::new(),
        enabled: true,
        created_at: now,
        last_poll_at: Some(now),
        agent_version: None,
        agent_engines: vec![],
    };
    storage
        .create_probe(&probe, &tokens::digest("bench"))
        .await?;
    let mut ids = Vec::new();
    for i in 0..args.connections {
        let c = connections::create(
            app,
            &probe.id,
            connections::ConnectionInput {
                name: Some(format!("wan{i:02}")),
                download_mbps: Some(1000),
                upload_mbps: Some(100),
                server_pool: Some(SERVERS.iter().map(|s| s.0.to_owned()).collect()),
                ..Default::default()
            },
        )
        .await?;
        ids.push(c.id);
    }
    let span_ms = i64::from(args.days) * 86_400_000;
    let start = now.unix_millis() - span_ms;
    let step = span_ms as f64 / args.measurements.max(1) as f64;
    let batch = 1000u64;
    let mut done = 0u64;
    let started = Instant::now();
    while done < args.measurements {
        let mut sql = String::from("BEGIN;");
        for _ in 0..50 {
            if done >= args.measurements {
                break;
            }
            sql.push_str(
                "INSERT INTO measurements (id, probe_id, connection_id, engine, pool_entry, status, failure_class, \
                 failure_message, download_bps, upload_bps, download_bytes, upload_bytes, ping_ms, ping_low_ms, \
                 ping_high_ms, jitter_ms, download_latency_ms, upload_latency_ms, packet_loss_percent, server_id, \
                 server_name, server_location, server_host, isp, result_url, tool_timestamp, started_at, completed_at, \
                 received_at, scheduled, healthy, breaches, exit_code, raw_stdout, raw_stderr) VALUES ",
            );
            let end = (done + batch).min(args.measurements);
            for n in done..end {
                let r = mix(n);
                let connection = &ids[(n % u64::from(args.connections)) as usize];
                let at = start + (n as f64 * step) as i64;
                let (sid, sname, sloc) = SERVERS[(r % 5) as usize];
                let failed = r.is_multiple_of(50);
                // Evenings are slower: a daily dip around 20:00 UTC.
                let hour = (at / 3_600_000) % 24;
                let dip = if (18..23).contains(&hour) { 0.55 } else { 0.9 };
                let dl = 1e9 * (dip + (r >> 8 & 0xff) as f64 / 255.0 * 0.1);
                let ul = 1e8 * (0.8 + (r >> 16 & 0xff) as f64 / 255.0 * 0.2);
                let ping = 8.0 + (r >> 24 & 0xff) as f64 / 25.5;
                let healthy = !failed && dl >= 7e8;
                if n > done {
                    sql.push(',');
                }
                if failed {
                    let _ = write!(
                        sql,
                        "('{}','{}','{}','ookla','{sid}','failed','network','timeout',NULL,NULL,NULL,NULL,NULL,NULL,NULL,\
                         NULL,NULL,NULL,NULL,'{sid}','{sname}','{sloc}',NULL,NULL,NULL,NULL,{},{at},{},TRUE,FALSE,\
                         'test_failed',1,'','timeout')",
                        uuid::Uuid::from_u64_pair(r, n).hyphenated(),
                        probe.id,
                        connection,
                        at - 30_000,
                        at + 500
                    );
                } else {
                    let _ = write!(
                        sql,
                        "('{}','{}','{}','ookla','{sid}','completed',NULL,NULL,{dl:.0},{ul:.0},{},{},{ping:.2},{:.2},{:.2},\
                         {:.2},{:.2},{:.2},{},'{sid}','{sname}','{sloc}','speedtest.example:8080','Acme',NULL,NULL,{},{at},{},\
                         TRUE,{},'{}',0,'{{\"type\":\"result\"}}','')",
                        uuid::Uuid::from_u64_pair(r, n).hyphenated(),
                        probe.id,
                        connection,
                        (dl * 1.2) as i64,
                        (ul * 1.2) as i64,
                        ping - 1.0,
                        ping + 3.0,
                        (r >> 32 & 0xf) as f64 / 4.0,
                        ping + 20.0,
                        ping + 30.0,
                        if r.is_multiple_of(7) { "0.5" } else { "0" },
                        at - 30_000,
                        at + 500,
                        if healthy { "TRUE" } else { "FALSE" },
                        if healthy { "" } else { "download_below" },
                    );
                }
            }
            sql.push(';');
            done = end;
        }
        sql.push_str("COMMIT;");
        pool.exec(sql).await?;
        eprint!(
            "\rseeded {done} / {} results ({:.0} s)",
            args.measurements,
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    // The per-connection state ingest keeps current.
    let per = args.measurements / u64::from(args.connections);
    for (i, id) in ids.iter().enumerate() {
        let last_n = args.measurements
            - 1
            - ((args.measurements - 1 - i as u64) % u64::from(args.connections));
        let last_at = start + (last_n as f64 * step) as i64;
        pool.exec(format!(
            "UPDATE connection_state SET last_at = {last_at}, last_pool_entry = '12746', last_completed_at = {last_at}, \
             recent_verdicts = 'HHHHHH', measurement_count = {per} WHERE connection_id = '{id}'"
        ))
        .await?;
    }
    // The rollups of the history, as the rollup job keeps them: every hour recomputed.
    let t = Instant::now();
    let hours = crate::service::rollups::rebuild(app).await?;
    eprintln!(
        "rollups built: {hours} connection-hours in {:.1} s ({:.0} results/s)",
        t.elapsed().as_secs_f64(),
        args.measurements as f64 / t.elapsed().as_secs_f64()
    );
    pool.exec("ANALYZE".into()).await?;
    Ok(ids)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn time<E: Endpoint>(
    ep: &E,
    cookie: &str,
    path: &str,
    n: u32,
) -> Result<(Duration, Duration, usize), AppError> {
    let mut samples = Vec::with_capacity(n as usize);
    let mut size = 0;
    for i in 0..n + 3 {
        let req = Request::builder()
            .uri_str(path)
            .header("Cookie", cookie)
            .finish();
        let t = Instant::now();
        let resp = ep.get_response(req).await;
        let status = resp.status();
        let body = resp
            .into_body()
            .into_bytes()
            .await
            .map_err(AppError::unavailable_from)?;
        let elapsed = t.elapsed();
        if !status.is_success() {
            return Err(AppError::unavailable(format!("{path} answered {status}")));
        }
        size = body.len();
        if i >= 3 {
            samples.push(elapsed);
        }
    }
    samples.sort();
    Ok((percentile(&samples, 50.0), percentile(&samples, 95.0), size))
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Runs the benchmark against an empty database; returns the report.
pub async fn run(url: &str, args: &BenchArgs) -> Result<String, AppError> {
    let (storage, pool) = open(url).await?;
    if !storage.probes().await?.is_empty() || storage.user_count().await? > 0 {
        return Err(AppError::Conflict(
            "bench web needs an empty database (it fills it)".into(),
        ));
    }
    let clock = Arc::new(netpulse_ports::clock::SystemClock);
    let app = crate::startup::app_over(storage.clone(), clock);
    let now = app.clock.now();
    let seeding = Instant::now();
    let ids = seed(&app, &pool, args, now).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();
    let user = User {
        id: UserId::parse(&new_uuid()).map_err(|e| AppError::invalid("id", e.to_string()))?,
        email: "bench@example.org".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA".into(),
        created_at: now,
        role: netpulse_domain::access::Role::Admin,
        disabled: false,
        display_name: None,
    };
    storage.create_user(&user).await?;
    let secret = tokens::generate();
    storage
        .create_session(&NewSession {
            digest: tokens::digest(&secret),
            user_id: user.id.clone(),
            csrf_token: tokens::generate(),
            created_at: now,
            expires_at: now.plus_seconds(86_400),
        })
        .await?;
    let cookie = format!("np_session={secret}");
    let ep = crate::startup::routes(crate::startup::Server::new(app.clone()));

    // A cursor 50,000 rows deep (page 2001 of 25 rows), newest first over all time.
    let all = MeasurementFilter::default();
    let mut cursor = None;
    for _ in 0..50 {
        cursor = storage
            .measurements(
                &all,
                MeasurementSort::CompletedDesc,
                1000,
                cursor.as_deref(),
            )
            .await?
            .next_cursor;
    }
    let deep = format!(
        "/history?window=all&cursor={}&page=2001",
        cursor.unwrap_or_default()
    );
    let first = &ids[0];
    let endpoints = [
        ("dashboard (6h)", format!("/?connection={first}&range=6h")),
        ("dashboard (24h)", format!("/?connection={first}&range=24h")),
        ("dashboard (7d)", "/".to_owned()),
        ("dashboard (30d)", format!("/?connection={first}&range=30d")),
        ("dashboard (90d)", format!("/?connection={first}&range=90d")),
        ("dashboard (12m)", format!("/?connection={first}&range=12m")),
        ("history page 1 (7d)", "/history".to_owned()),
        (
            "history page 1 (all, newest)",
            "/history?window=all".to_owned(),
        ),
        (
            "history page 1 (all, by download)",
            "/history?window=all&sort=download_desc".to_owned(),
        ),
        ("history page 2001 (all)", deep),
        (
            "heatmap (30d)",
            format!("/heatmap?connection={first}&window=30d"),
        ),
        (
            "heatmap (90d)",
            format!("/heatmap?connection={first}&window=90d"),
        ),
        ("servers (30d)", "/servers?window=30d".to_owned()),
        ("servers (90d)", "/servers?window=90d".to_owned()),
    ];
    let db = if url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let mut out = format!(
        "netpulse bench web on {db}: {} connections, {} results over {} days (seeded in {seed_secs:.0} s), {} requests each\n\n\
         {:<36} {:>9} {:>9} {:>9}\n",
        args.connections,
        args.measurements,
        args.days,
        args.requests,
        "endpoint",
        "p50 ms",
        "p95 ms",
        "KiB"
    );
    for (name, path) in &endpoints {
        let (p50, p95, size) = time(&ep, &cookie, path, args.requests).await?;
        let _ = writeln!(
            out,
            "{name:<36} {:>9.1} {:>9.1} {:>9}",
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            size / 1024
        );
    }

    // The CSV export of everything, streamed; memory sampled while it runs.
    let before = rss_kib();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let req = Request::builder()
        .uri_str("/history/export.csv?window=all")
        .header("Cookie", &cookie)
        .finish();
    let t = Instant::now();
    let resp = ep.get_response(req).await;
    let mut reader = resp.into_body().into_async_read();
    let mut bytes = 0u64;
    let mut lines = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tokio::io::AsyncReadExt::read(&mut reader, &mut buf)
            .await
            .map_err(AppError::unavailable_from)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        #[allow(clippy::naive_bytecount)] // not worth a dependency
        let newlines = buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        lines += newlines;
    }
    let secs = t.elapsed().as_secs_f64();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.await;
    let rows = lines.saturating_sub(1);
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    let _ = writeln!(
        out,
        "\nCSV export (all rows): {rows} rows, {:.1} MiB in {secs:.1} s = {:.0} rows/s; \
         resident memory {:.1} MiB before, {:.1} MiB at the peak of the export (+{:.1} MiB)",
        bytes as f64 / 1_048_576.0,
        rows as f64 / secs,
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / 1024.0
    );
    if rows != args.measurements {
        return Err(AppError::unavailable(format!(
            "the export returned {rows} rows, expected {}",
            args.measurements
        )));
    }
    Ok(out)
}
