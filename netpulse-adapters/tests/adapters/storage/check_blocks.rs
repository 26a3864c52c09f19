//! Check results in packed blocks (migration 0013), on both databases: random results pushed
//! in random order and batches (with replays) read back exactly as stored through every
//! reader, and rows of the table before 0013 read back equal after the migration converts them.

use netpulse_adapters::testing::TestDatabase;
use netpulse_domain::check::dns::ResolverFigure;
use netpulse_domain::check::{
    CheckKind, CheckMeasurement, CheckParams, CheckRole, CheckSpec, DnsRating, FailureClass,
    Family, FamilyMode, Outcome, PortState, RecordType,
};
use netpulse_domain::id::CheckId;
use netpulse_domain::values::Labels;
use netpulse_domain::{Timestamp, alert::AlertPolicy};
use netpulse_ports::check_store::{Check, CheckResultFilter};
use netpulse_ports::storage::Storage;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::storage::helpers::{T0, at, digest, new_id, probe};

fn check(probe: &netpulse_domain::id::ProbeId, kind: CheckKind, target: &str) -> Check {
    let spec = CheckSpec {
        kind,
        target: target.into(),
        port: (kind == CheckKind::Tcp).then_some(443),
        family: FamilyMode::Dual,
        role: CheckRole::Connectivity,
        interval_s: 60,
        params: CheckParams::default_for(kind),
    }
    .validate()
    .unwrap();
    Check {
        id: CheckId::parse(&new_id()).unwrap(),
        probe_id: probe.clone(),
        spec,
        alerts: None,
        enabled: true,
        labels: Labels::new(),
        created_at: at(0),
        updated_at: at(0),
    }
}

/// Whole microseconds as milliseconds (what storage keeps exactly).
fn ms(us: u32) -> f64 {
    f64::from(us) / 1000.0
}

const CLASSES: [FailureClass; 4] = [
    FailureClass::Timeout,
    FailureClass::Refused,
    FailureClass::NoRoute,
    FailureClass::HttpStatus,
];
const PORTS: [PortState; 3] = [
    PortState::Open,
    PortState::Filtered,
    PortState::OpenFiltered,
];
const RATINGS: [DnsRating; 3] = [DnsRating::Excellent, DnsRating::Slow, DnsRating::Failed];
const ADDRESSES: [&str; 3] = ["192.0.2.1", "198.51.100.7", "2001:db8::53"];

/// The figures of one random result (everything but its key).
#[derive(Debug, Clone)]
struct Figures {
    outcome: u8,
    ints: Vec<Option<u32>>,
    loss_bp: Option<u16>,
    status: Option<u16>,
    codes: (Option<usize>, Option<usize>, Option<usize>, Option<usize>),
    message: String,
    dns: Option<(u8, Option<u32>)>,
    flags: (bool, bool, bool),
}

fn figures() -> impl Strategy<Value = Figures> {
    (
        0u8..4,
        proptest::collection::vec(proptest::option::of(0u32..3_000_000), 6),
        proptest::option::of(0u16..=10_000),
        proptest::option::of(100u16..600),
        (
            proptest::option::of(0usize..4),
            proptest::option::of(0usize..3),
            proptest::option::of(0usize..3),
            proptest::option::of(0usize..3),
        ),
        "[a-z ]{0,24}",
        proptest::option::of((0u8..4, proptest::option::of(0u32..200_000))),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(outcome, ints, loss_bp, status, codes, message, dns, flags)| Figures {
                outcome,
                ints,
                loss_bp,
                status,
                codes,
                message,
                dns,
                flags,
            },
        )
}

/// A case: results keyed (check index, family, round minute, ms within it), pushed in
/// `order` cut into batches of `cuts` sizes, then `replays` of them pushed again.
#[derive(Debug, Clone)]
struct Case {
    results: Vec<((usize, bool, i64, i64), Figures)>,
    order: Vec<usize>,
    cuts: Vec<usize>,
    replays: Vec<usize>,
    page: u32,
}

fn case() -> impl Strategy<Value = Case> {
    proptest::collection::btree_map(
        (0usize..3, any::<bool>(), 0i64..400, 0i64..3),
        figures(),
        1..120,
    )
    .prop_flat_map(|map| {
        let results: Vec<_> = map.into_iter().collect();
        let n = results.len();
        (
            Just(results),
            Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            proptest::collection::vec(1usize..40, 1..12),
            proptest::collection::vec(0..n, 0..20),
            1u32..30,
        )
    })
    .prop_map(|(results, order, cuts, replays, page)| Case {
        results,
        order,
        cuts,
        replays,
        page,
    })
}

fn measurement(checks: &[Check], key: (usize, bool, i64, i64), f: &Figures) -> CheckMeasurement {
    let (c, v6, minute, ms_in) = key;
    let family = if v6 { Family::V6 } else { Family::V4 };
    // Rounds a minute apart at a per-agent offset, a few with a late millisecond.
    let round = Timestamp::from_unix_millis(T0 + 17_000 + minute * 60_000 + ms_in);
    let outcome = [
        Outcome::Ok,
        Outcome::Fail,
        Outcome::NotApplicable,
        Outcome::LocalError,
    ][usize::from(f.outcome)];
    let mut m = CheckMeasurement::new(checks[c].id.clone(), round, family, outcome);
    let i = |k: usize| f.ints[k].map(ms);
    m.latency_ms = i(0);
    m.jitter_ms = i(1);
    m.rtt_min_ms = i(2);
    m.rtt_max_ms = i(3);
    m.rtt_stdev_ms = i(4);
    m.ttfb_ms = i(5);
    m.loss_pct = f.loss_bp.map(|b| f64::from(b) / 100.0);
    m.status = f.status;
    m.failure_class = f.codes.0.map(|k| CLASSES[k]);
    m.port_state = f.codes.1.map(|k| PORTS[k]);
    m.dns_rating = f.codes.2.map(|k| RATINGS[k]);
    m.address = f.codes.3.map(|k| ADDRESSES[k].to_owned());
    // Storage keeps a message only where something went wrong.
    m.message = (outcome != Outcome::Ok).then(|| f.message.clone());
    if let Some((succeeded, median)) = f.dns {
        m.dns_resolvers = vec![ResolverFigure {
            resolver: "192.0.2.53".into(),
            record_type: if v6 { RecordType::Aaaa } else { RecordType::A },
            sent: 3,
            succeeded,
            median_ms: median.map(ms),
        }];
    }
    (m.during_speed_test, m.degraded, m.after_resume) = f.flags;
    m
}

fn sorted(mut v: Vec<CheckMeasurement>) -> Vec<CheckMeasurement> {
    v.sort_by(|a, b| {
        (a.round_at, a.check_id.as_str(), a.family).cmp(&(
            b.round_at,
            b.check_id.as_str(),
            b.family,
        ))
    });
    v
}

async fn all_pages(
    s: &dyn Storage,
    filter: &CheckResultFilter,
    limit: u32,
) -> Vec<CheckMeasurement> {
    let (mut out, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = s
            .check_results(filter, limit, cursor.as_deref())
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

pub(crate) async fn random_results_in_random_batches_read_back_as_stored(s: &dyn Storage) {
    let mut runner = TestRunner::default();
    let policy = AlertPolicy::new(3, 2).unwrap();
    for round in 0..12 {
        let case = case().new_tree(&mut runner).unwrap().current();
        let p = probe(&format!("prop{round}"));
        s.create_probe(&p, &digest(round as u8)).await.unwrap();
        let checks = vec![
            check(&p.id, CheckKind::Icmp, "192.0.2.1"),
            check(&p.id, CheckKind::Http, "https://example.net/health"),
            check(&p.id, CheckKind::Tcp, "example.org"),
        ];
        s.create_checks(&checks).await.unwrap();
        let all: Vec<CheckMeasurement> = case
            .results
            .iter()
            .map(|(k, f)| measurement(&checks, *k, f))
            .collect();
        let pushed: Vec<CheckMeasurement> = case.order.iter().map(|i| all[*i].clone()).collect();
        let (mut recorded, mut duplicates, mut rest) = (0, 0, pushed.as_slice());
        for cut in case.cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (batch, tail) = rest.split_at((*cut).min(rest.len()));
            let out = s.record_check_results(&p.id, batch, &policy).await.unwrap();
            (recorded, duplicates, rest) =
                (recorded + out.recorded, duplicates + out.duplicates, tail);
        }
        assert_eq!((recorded, duplicates), (all.len() as u64, 0), "{case:?}");
        // A replayed spool (and a round twice in one batch) changes nothing.
        let replay: Vec<CheckMeasurement> = case.replays.iter().map(|i| all[*i].clone()).collect();
        let out = s
            .record_check_results(&p.id, &replay, &policy)
            .await
            .unwrap();
        assert_eq!((out.recorded, out.duplicates), (0, replay.len() as u64));

        let filter = CheckResultFilter {
            probe: Some(p.id.clone()),
            ..CheckResultFilter::default()
        };
        let back = all_pages(s, &filter, case.page).await;
        assert!(
            back.windows(2).all(|w| w[0].round_at >= w[1].round_at),
            "newest first"
        );
        assert_eq!(sorted(back), sorted(all.clone()), "{case:?}");

        // One check, one family and a window cut inside an hour.
        let (since, until) = (at(17 + 90 * 60 + 30), at(17 + 250 * 60));
        let filter = CheckResultFilter {
            check: Some(checks[0].id.clone()),
            probe: Some(p.id.clone()),
            family: Some(Family::V6),
            since: Some(since),
            until: Some(until),
        };
        let want: Vec<CheckMeasurement> = all
            .iter()
            .filter(|m| m.check_id == checks[0].id && m.family == Family::V6)
            .filter(|m| m.round_at >= since && m.round_at < until)
            .cloned()
            .collect();
        assert_eq!(sorted(all_pages(s, &filter, case.page).await), sorted(want));

        let samples = s.check_samples(&checks[1].id, since, until).await.unwrap();
        let want: Vec<(Timestamp, Family, Option<f64>, usize)> = sorted(
            all.iter()
                .filter(|m| m.check_id == checks[1].id)
                .filter(|m| m.round_at >= since && m.round_at < until)
                .cloned()
                .collect(),
        )
        .into_iter()
        .map(|m| (m.round_at, m.family, m.latency_ms, m.dns_resolvers.len()))
        .collect();
        let got: Vec<_> = samples
            .iter()
            .map(|m| (m.round_at, m.family, m.latency_ms, m.dns_resolvers.len()))
            .collect();
        assert_eq!(got, want);
    }
}

/// The table before migration 0013 (0004 and 0011), in each dialect.
fn legacy_table(blob: &str) -> String {
    format!(
        "CREATE TABLE check_results (check_num INTEGER NOT NULL REFERENCES checks (num) \
         ON DELETE CASCADE, round_at BIGINT NOT NULL, family SMALLINT NOT NULL, \
         outcome SMALLINT NOT NULL, failure_class SMALLINT, latency_us INTEGER, loss_bp SMALLINT, \
         jitter_us INTEGER, rtt_min_us INTEGER, rtt_max_us INTEGER, rtt_stdev_us INTEGER, \
         status SMALLINT, ttfb_us INTEGER, port_state SMALLINT, dns_rating SMALLINT, \
         flags SMALLINT NOT NULL, address {blob}, message TEXT, dns_detail TEXT, \
         PRIMARY KEY (check_num, round_at, family))"
    )
}

/// Legacy rows: (check index, round s after T0, family code, outcome, class, latency µs,
/// loss bp, status, ttfb µs, flags, address octets, message, dns detail).
type Legacy = (
    usize,
    i64,
    i16,
    i16,
    Option<i16>,
    Option<i32>,
    Option<i16>,
    Option<i16>,
    Option<i32>,
    i16,
    Option<Vec<u8>>,
    Option<&'static str>,
    Option<&'static str>,
);

fn legacy_rows() -> Vec<Legacy> {
    vec![
        (
            0,
            77,
            4,
            0,
            None,
            Some(9_120),
            Some(0),
            None,
            None,
            0,
            Some(vec![]),
            None,
            None,
        ),
        (
            0,
            137,
            4,
            1,
            Some(1),
            None,
            Some(10_000),
            None,
            None,
            2,
            Some(vec![]),
            Some("no reply within 2 s"),
            None,
        ),
        (
            0,
            3_617,
            6,
            0,
            None,
            Some(11_003),
            Some(2_000),
            None,
            None,
            1,
            Some(vec![
                0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
            ]),
            None,
            None,
        ),
        (
            1,
            77,
            4,
            0,
            None,
            Some(25_400),
            None,
            Some(301),
            Some(20_100),
            0,
            Some(vec![192, 0, 2, 9]),
            None,
            None,
        ),
        (
            1,
            7_277,
            6,
            2,
            Some(4),
            None,
            None,
            None,
            None,
            0,
            None,
            Some("no IPv6 route"),
            None,
        ),
        (
            2,
            77,
            4,
            0,
            None,
            Some(4_211),
            None,
            None,
            None,
            0,
            None,
            None,
            Some("192.0.2.53|A|3|3|4211"),
        ),
    ]
}

fn legacy_expected(checks: &[Check], r: &Legacy) -> CheckMeasurement {
    let outcome = [
        Outcome::Ok,
        Outcome::Fail,
        Outcome::NotApplicable,
        Outcome::LocalError,
    ][r.3 as usize];
    let family = if r.2 == 6 { Family::V6 } else { Family::V4 };
    let mut m = CheckMeasurement::new(checks[r.0].id.clone(), at(r.1), family, outcome);
    m.failure_class = r.4.map(|c| {
        [
            FailureClass::Timeout,
            FailureClass::Refused,
            FailureClass::Unreachable,
            FailureClass::NoRoute,
        ][c as usize - 1]
    });
    m.latency_ms = r.5.map(|us| f64::from(us) / 1000.0);
    m.loss_pct = r.6.map(|bp| f64::from(bp) / 100.0);
    m.status = r.7.map(|s| s as u16);
    m.ttfb_ms = r.8.map(|us| f64::from(us) / 1000.0);
    m.during_speed_test = r.9 & 1 != 0;
    m.degraded = r.9 & 2 != 0;
    m.address = r.10.as_ref().map(|o| match o.len() {
        0 => "192.0.2.1".to_owned(),
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(o.as_slice()).unwrap()).to_string(),
        _ => std::net::IpAddr::from(<[u8; 16]>::try_from(o.as_slice()).unwrap()).to_string(),
    });
    m.message = r.11.map(str::to_owned);
    if r.12.is_some() {
        m.dns_resolvers = vec![ResolverFigure {
            resolver: "192.0.2.53".into(),
            record_type: RecordType::A,
            sent: 3,
            succeeded: 3,
            median_ms: Some(4.211),
        }];
    }
    m
}

/// Writes legacy rows into a database at schema 0012 (0013 undone), reopens it through `open`
/// and checks that every row reads back as it was written, exactly once.
macro_rules! legacy_conversion {
    ($db:expr, $open:expr, $blob:expr) => {{
        let db: TestDatabase = $db;
        let first = $open(&db.url).await.unwrap();
        let p = probe("legacy");
        let dyn_first: &dyn Storage = first.as_ref();
        dyn_first.create_probe(&p, &digest(9)).await.unwrap();
        let checks = vec![
            check(&p.id, CheckKind::Icmp, "192.0.2.1"),
            check(&p.id, CheckKind::Http, "https://example.net/"),
            check(&p.id, CheckKind::Dns, "example.net"),
        ];
        dyn_first.create_checks(&checks).await.unwrap();
        let nums: Vec<(i32,)> = sqlx::query_as("SELECT num FROM checks ORDER BY created_at, id")
            .fetch_all(first.pool())
            .await
            .unwrap();
        let num_of = |c: &Check| {
            let mut ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
            ids.sort_unstable();
            nums[ids.iter().position(|i| *i == c.id.as_str()).unwrap()].0
        };
        for sql in [
            "DROP TABLE check_result_blocks".to_owned(),
            "DELETE FROM _sqlx_migrations WHERE version = 13".to_owned(),
            legacy_table($blob),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(first.pool())
                .await
                .unwrap();
        }
        for r in legacy_rows() {
            sqlx::query(
                "INSERT INTO check_results (check_num, round_at, family, outcome, failure_class, \
                 latency_us, loss_bp, status, ttfb_us, flags, address, message, dns_detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(num_of(&checks[r.0]))
            .bind(at(r.1).unix_millis())
            .bind(r.2)
            .bind(r.3)
            .bind(r.4)
            .bind(r.5)
            .bind(r.6)
            .bind(r.7)
            .bind(r.8)
            .bind(r.9)
            .bind(r.10.clone())
            .bind(r.11)
            .bind(r.12)
            .execute(first.pool())
            .await
            .unwrap();
        }
        first.pool().close().await;
        let s = $open(&db.url).await.unwrap();
        let want: Vec<CheckMeasurement> = legacy_rows()
            .iter()
            .map(|r| legacy_expected(&checks, r))
            .collect();
        let filter = CheckResultFilter {
            probe: Some(p.id.clone()),
            ..CheckResultFilter::default()
        };
        assert_eq!(
            sorted(all_pages(s.as_ref(), &filter, 4).await),
            sorted(want.clone())
        );
        // The old table is gone, and a converted round is still taken exactly once.
        let left: Result<(i64,), _> = sqlx::query_as("SELECT COUNT(*) FROM check_results")
            .fetch_one(s.pool())
            .await;
        assert!(left.is_err(), "check_results was dropped");
        let policy = AlertPolicy::new(3, 2).unwrap();
        let dyn_s: &dyn Storage = s.as_ref();
        let out = dyn_s
            .record_check_results(&p.id, &want[..2], &policy)
            .await
            .unwrap();
        assert_eq!((out.recorded, out.duplicates), (0, 2));
        drop(s);
        let again = $open(&db.url).await.unwrap();
        assert_eq!(
            all_pages(again.as_ref(), &filter, 100).await.len(),
            want.len()
        );
    }};
}

#[tokio::test]
async fn sqlite_rows_before_0013_read_back_equal_after_it() {
    use netpulse_adapters::storage::sqlite::SqliteStorage;
    let open = |url: &str| {
        let url = url.to_owned();
        async move { SqliteStorage::open(&url).await.map(std::sync::Arc::new) }
    };
    legacy_conversion!(TestDatabase::sqlite(), open, "BLOB");
}

#[tokio::test]
async fn postgres_rows_before_0013_read_back_equal_after_it() {
    use netpulse_adapters::storage::postgres::PostgresStorage;
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let open = |url: &str| {
        let url = url.to_owned();
        async move { PostgresStorage::open(&url).await.map(std::sync::Arc::new) }
    };
    legacy_conversion!(db, open, "BYTEA");
}
