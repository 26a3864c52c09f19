//! `netpulse bench checks`: stores a simulated month of connectivity-check results for probes
//! with the default set (8 checks, one result each per 60 s round) through the real ingest use
//! case in agent-sized batches, then prints the ingest rate and the bytes the results take per
//! stored result (table and index, as the database reports them).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckKind, CheckMeasurement, FailureClass, Outcome};
use netpulse_domain::values::Labels;

use crate::error::AppError;
use crate::service::{check_results, checks, probes};

/// What to simulate.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckBenchArgs {
    /// Probes, each with the default set.
    #[arg(long, default_value_t = 1)]
    pub probes: u32,
    /// Days of 60 s rounds.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Rounds per pushed batch (the agent pushes what it spooled; 60 = an hour of rounds).
    #[arg(long, default_value_t = 60)]
    pub rounds_per_batch: u32,
}

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    /// Bytes of `check_result_blocks` (its table and primary key) as the database counts them.
    async fn result_bytes(&self) -> Result<(i64, &'static str), AppError> {
        let e = AppError::unavailable_from;
        match self {
            Self::Sqlite(p) => {
                sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(p)
                    .await
                    .map_err(e)?;
                // The table's B-tree and its primary-key index.
                let dbstat: Result<(i64,), _> = sqlx::query_as(
                    "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN \
                     (SELECT name FROM sqlite_master WHERE tbl_name = 'check_result_blocks')",
                )
                .fetch_one(p)
                .await;
                if let Ok((n,)) = dbstat {
                    return Ok((
                        n,
                        "SQLite dbstat: pages of check_result_blocks and its primary key",
                    ));
                }
                let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
                    .fetch_one(p)
                    .await
                    .map_err(e)?;
                let (size,): (i64,) = sqlx::query_as("PRAGMA page_size")
                    .fetch_one(p)
                    .await
                    .map_err(e)?;
                Ok((pages * size, "SQLite file size (no dbstat)"))
            }
            Self::Postgres(p) => {
                sqlx::raw_sql("VACUUM ANALYZE check_result_blocks")
                    .execute(p)
                    .await
                    .map_err(e)?;
                let (n,): (i64,) =
                    sqlx::query_as("SELECT pg_total_relation_size('check_result_blocks')::BIGINT")
                        .fetch_one(p)
                        .await
                        .map_err(e)?;
                Ok((
                    n,
                    "PostgreSQL pg_total_relation_size (heap, primary key, TOAST)",
                ))
            }
        }
    }
}

/// A small deterministic pseudo-random sequence (SplitMix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A realistic result: mostly ok with plausible figures, 0.5 % timeouts with a message.
fn result(
    check: &netpulse_ports::check_store::Check,
    round_at: Timestamp,
    seed: u64,
) -> CheckMeasurement {
    let family = check.spec.family.families()[0];
    let r = mix(seed);
    let jitter = (r % 1000) as f64 / 100.0;
    if r.is_multiple_of(200) {
        return CheckMeasurement::failed(
            check.id.clone(),
            round_at,
            family,
            Outcome::Fail,
            FailureClass::Timeout,
            "no reply within 2 s",
        );
    }
    let mut m = CheckMeasurement::new(check.id.clone(), round_at, family, Outcome::Ok);
    let host = check.spec.host();
    m.address = host.parse::<std::net::IpAddr>().ok().map(|a| a.to_string());
    if check.spec.kind == CheckKind::Icmp {
        {
            let lost = (r >> 20).is_multiple_of(50);
            m.latency_ms = Some(9.0 + jitter);
            m.loss_pct = Some(if lost { 20.0 } else { 0.0 });
            m.rtt_min_ms = Some(8.5 + jitter / 2.0);
            m.rtt_max_ms = Some(11.0 + jitter);
            m.rtt_stdev_ms = Some(0.4 + jitter / 20.0);
            m.jitter_ms = Some(0.3 + jitter / 10.0);
        }
    } else {
        m.latency_ms = Some(25.0 + jitter * 3.0);
        m.ttfb_ms = Some(20.0 + jitter * 2.0);
        m.status = Some(301);
    }
    m
}

/// Runs the benchmark on the (empty) database at `url` and returns the report.
pub async fn run(url: &str, args: &CheckBenchArgs) -> Result<String, AppError> {
    use netpulse_adapters::storage::{postgres::PostgresStorage, sqlite::SqliteStorage};
    let (storage, pool): (Arc<dyn netpulse_ports::storage::Storage>, Pool) =
        if url.starts_with("sqlite:") {
            let s = SqliteStorage::open(url).await?;
            let pool = Pool::Sqlite(s.pool().clone());
            (Arc::new(s), pool)
        } else {
            let s = PostgresStorage::open(url).await?;
            let pool = Pool::Postgres(s.pool().clone());
            (Arc::new(s), pool)
        };
    if !storage.probes().await?.is_empty() {
        return Err(AppError::Conflict(
            "bench checks needs an empty database (it fills it)".into(),
        ));
    }
    let app = crate::startup::app_over(storage, Arc::new(netpulse_ports::clock::SystemClock));
    checks::set_defaults_for_new_probes(&app, true).await?;
    let (before, _) = pool.result_bytes().await?;
    let now = app.clock.now();
    let rounds = i64::from(args.days) * 1440;
    let start = now.unix_millis() - rounds * 60_000;
    let mut stored = 0u64;
    let mut batches = 0u64;
    let started = Instant::now();
    for p in 0..args.probes {
        let issued = probes::create(&app, &format!("bench{p:03}"), Labels::new()).await?;
        let set = checks::list(&app, Some(&issued.probe.id)).await?;
        let mut round = 0i64;
        while round < rounds {
            let end = (round + i64::from(args.rounds_per_batch.max(1))).min(rounds);
            let mut batch = Vec::new();
            for r in round..end {
                let at = Timestamp::from_unix_millis(start + r * 60_000);
                for (i, c) in set.iter().enumerate() {
                    batch.push(result(
                        c,
                        at,
                        (u64::from(p) << 40) ^ ((r as u64) << 4) ^ i as u64,
                    ));
                }
            }
            let out = check_results::ingest(&app, &issued.probe.id, batch).await?;
            stored += out.recorded;
            batches += 1;
            round = end;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let (after, how) = pool.result_bytes().await?;
    let bytes = (after - before).max(0) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "check results: {stored} stored ({} probes × 8 checks × {} days of 60 s rounds) in {batches} batches",
        args.probes, args.days
    );
    let _ = writeln!(
        out,
        "ingest: {:.1} s, {:.0} results/s, {:.1} ms per batch of {} results",
        secs,
        stored as f64 / secs.max(1e-9),
        secs * 1000.0 / batches.max(1) as f64,
        args.rounds_per_batch * 8
    );
    let _ = writeln!(
        out,
        "storage: {:.1} MiB, {:.1} bytes per check result ({how})",
        bytes / 1_048_576.0,
        bytes / stored.max(1) as f64
    );
    Ok(out)
}
