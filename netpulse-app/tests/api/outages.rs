//! Outages and uptime end to end: check results pushed through the real ingest advance the
//! per-(probe, family) series; rounds in random order and batches (a replayed spool) give the
//! same episodes and round states as rounds in order and as a full rebuild; PlexSheep's
//! one-lost-check example is no outage, a 32-minute outage is one episode, an offline agent
//! makes none; a result of a family its check does not have is refused naming the field.

use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckMeasurement, FailureClass, Family, Outcome};
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_domain::outage::SeriesFamily;
use netpulse_ports::clock::Clock;
use netpulse_ports::outage_store::{OutageFilter, OutageOrder};
use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp};

/// Round 0 of every scenario: a whole minute (rounds are at the agent's offset; any fixed
/// time works for the server).
pub(crate) const T0: i64 = 1_780_000_020_000;
pub(crate) const MIN: i64 = 60_000;

/// A small deterministic generator (xorshift), so a failing seed can be replayed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A probe with the default connectivity set (ICMP and HTTP to two providers per family);
/// returns its checks as (id, family, provider).
pub(crate) async fn probe_with_defaults(
    t: &TestApp,
    name: &str,
) -> (Agent, Vec<(CheckId, Family)>) {
    // The scenarios' rounds start at T0: the server's clock (stopped, like every test
    // server's) stands there, so no round is ever older than now and the silence rule (an
    // open episode closes once its series was silent for max_gap before now, run by
    // housekeeping every 100 ms here) never closes an episode while a test pushes its rounds.
    // A test of that rule moves the clock itself.
    // The first move back from the real time waits for a housekeeping pass that may have read
    // the old time before the move, so that it cannot judge these rounds by it.
    if t.clock.now() != Timestamp::from_unix_millis(T0) {
        t.clock.set(Timestamp::from_unix_millis(T0));
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    netpulse_app::service::checks::set_defaults_for_new_probes(&t.app, false)
        .await
        .unwrap();
    let agent = t.probe(name).await;
    netpulse_app::service::checks::add_defaults(&t.app, &agent.probe.id)
        .await
        .unwrap();
    let checks = netpulse_app::service::checks::list(&t.app, Some(&agent.probe.id))
        .await
        .unwrap();
    let mut out: Vec<(CheckId, Family)> = checks
        .iter()
        .map(|c| (c.id.clone(), c.spec.family.families()[0]))
        .collect();
    out.sort_by(|a, b| (a.1, a.0.as_str()).cmp(&(b.1, b.0.as_str())));
    (agent, out)
}

/// What a family does in one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Round {
    Up,
    /// One check fails (the other provider is fine: the target's problem).
    OneLost,
    /// Every check fails.
    Down,
    /// Two checks fail, one per provider.
    Partial,
    /// No result at all (agent offline).
    Missing,
    /// No permission to measure.
    Local,
}

/// The results of one round of one family.
pub(crate) fn results(
    checks: &[(CheckId, Family)],
    family: Family,
    m: i64,
    what: Round,
) -> Vec<CheckMeasurement> {
    let at = Timestamp::from_unix_millis(T0 + m * MIN);
    let own: Vec<&CheckId> = checks
        .iter()
        .filter(|(_, f)| *f == family)
        .map(|(id, _)| id)
        .collect();
    own.iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let id = (*id).clone();
            let fail = || {
                CheckMeasurement::failed(
                    id.clone(),
                    at,
                    family,
                    Outcome::Fail,
                    FailureClass::Timeout,
                    "no answer",
                )
            };
            let ok = || CheckMeasurement::new(id.clone(), at, family, Outcome::Ok);
            Some(match what {
                // Two of four in a partial round: partial, or `target` when both are one
                // provider's.
                Round::OneLost if i == 0 => fail(),
                Round::Partial if i % 2 == 0 => fail(),
                Round::Down => fail(),
                Round::Up | Round::OneLost | Round::Partial => ok(),
                Round::Missing => return None,
                Round::Local => CheckMeasurement::failed(
                    id.clone(),
                    at,
                    family,
                    Outcome::LocalError,
                    FailureClass::Permission,
                    "no permission",
                ),
            })
        })
        .collect()
}

/// A random scenario: runs of states per family.
fn scenario(rng: &mut Rng, rounds: i64) -> Vec<(Round, Round)> {
    let states = [
        Round::Up,
        Round::Up,
        Round::OneLost,
        Round::Down,
        Round::Down,
        Round::Partial,
        Round::Missing,
        Round::Local,
    ];
    let mut out = Vec::new();
    let (mut v4, mut v6) = (Round::Up, Round::Up);
    for _ in 0..rounds {
        if rng.below(4) == 0 {
            v4 = states[rng.below(states.len() as u64) as usize];
        }
        if rng.below(4) == 0 {
            v6 = states[rng.below(states.len() as u64) as usize];
        }
        out.push((v4, v6));
    }
    out
}

/// Every outage of a probe, as comparable text (without ids and the probe).
pub(crate) async fn outages_of(
    t: &TestApp,
    probe: &ProbeId,
    checks: &[(CheckId, Family)],
) -> Vec<String> {
    let filter = OutageFilter {
        probe: Some(probe.clone()),
        ..OutageFilter::default()
    };
    let page = t
        .app
        .storage
        .outages(&filter, OutageOrder::Latest, 1000, None)
        .await
        .unwrap();
    let mut out: Vec<String> = page
        .items
        .iter()
        .map(|o| {
            let mut e = o.episode.clone();
            e.closed_by_round_ms = if e.closed { e.closed_by_round_ms } else { 0 };
            // Check ids differ between probes: name them by their place in the sorted set.
            for (id, _) in &mut e.failing_checks {
                *id = checks
                    .iter()
                    .position(|(c, _)| c.as_str() == id.as_str())
                    .map_or_else(|| format!("unknown {id}"), |i| format!("check #{i}"));
            }
            format!("{} {e:?}", o.family)
        })
        .collect();
    // Episodes starting together are ordered by id, which differs between probes.
    out.sort();
    out
}

async fn rounds_of(t: &TestApp, probe: &ProbeId) -> Vec<String> {
    let mut out = Vec::new();
    for f in SeriesFamily::ALL {
        let rounds = t
            .app
            .storage
            .outage_rounds(
                probe,
                f,
                Timestamp::from_unix_millis(0),
                Timestamp::from_unix_millis(T0 + 10_000 * MIN),
            )
            .await
            .unwrap();
        out.extend(rounds.iter().map(|r| format!("{f} {r:?}")));
    }
    out
}

async fn ingest(t: &TestApp, probe: &ProbeId, batch: Vec<CheckMeasurement>) {
    netpulse_app::service::check_results::ingest(&t.app, probe, batch)
        .await
        .unwrap();
}

pub(crate) async fn replayed_rounds_equal_rounds_in_order_and_a_rebuild(t: &TestApp) {
    for seed in 1..=2u64 {
        let mut rng = Rng::new(seed);
        let (a, checks_a) = probe_with_defaults(t, &format!("in-order-{seed}")).await;
        let (b, checks_b) = probe_with_defaults(t, &format!("replayed-{seed}")).await;
        let plan = scenario(&mut rng, 90);
        let mut shuffled = Vec::new();
        for (m, (v4, v6)) in plan.iter().enumerate() {
            let m = m as i64;
            let mut batch = results(&checks_a, Family::V4, m, *v4);
            batch.extend(results(&checks_a, Family::V6, m, *v6));
            ingest(t, &a.probe.id, batch).await;
            shuffled.extend(results(&checks_b, Family::V4, m, *v4));
            shuffled.extend(results(&checks_b, Family::V6, m, *v6));
        }
        // B: every result once, in random order, in random batches (a replayed spool).
        for i in (1..shuffled.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            shuffled.swap(i, j);
        }
        while !shuffled.is_empty() {
            let n = (1 + rng.below(40) as usize).min(shuffled.len());
            let batch: Vec<CheckMeasurement> = shuffled.drain(..n).collect();
            ingest(t, &b.probe.id, batch).await;
        }
        let (ea, eb) = (
            outages_of(t, &a.probe.id, &checks_a).await,
            outages_of(t, &b.probe.id, &checks_b).await,
        );
        assert!(
            ea.iter().any(|e| e.starts_with("all")) && ea.len() > 3,
            "seed {seed}: the scenario has outages of every kind: {ea:#?}"
        );
        assert_eq!(ea, eb, "seed {seed}: episodes in order vs replayed");
        assert_eq!(
            rounds_of(t, &a.probe.id).await,
            rounds_of(t, &b.probe.id).await,
            "seed {seed}: round states"
        );
        // A full rebuild from the raw results gives the same again.
        let n = t
            .app
            .storage
            .rebuild_outages(Some(&a.probe.id), Timestamp::from_unix_millis(0))
            .await
            .unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            outages_of(t, &a.probe.id, &checks_a).await,
            ea,
            "seed {seed}: rebuild"
        );
    }
}

/// Pushes `plan` (one state for both families per round) in order.
pub(crate) async fn push_plan(
    t: &TestApp,
    probe: &ProbeId,
    checks: &[(CheckId, Family)],
    plan: &[Round],
) {
    for (m, what) in plan.iter().enumerate() {
        let mut batch = results(checks, Family::V4, m as i64, *what);
        batch.extend(results(checks, Family::V6, m as i64, *what));
        if !batch.is_empty() {
            ingest(t, probe, batch).await;
        }
    }
}

pub(crate) async fn plexsheeps_lost_check_is_no_outage_and_32_minutes_are_one(t: &TestApp) {
    // Six hours of rounds with one lost check in one round: no outage.
    let (a, checks) = probe_with_defaults(t, "plexsheep").await;
    let mut plan = vec![Round::Up; 90];
    plan[45] = Round::OneLost;
    push_plan(t, &a.probe.id, &checks, &plan).await;
    assert_eq!(
        outages_of(t, &a.probe.id, &checks).await,
        Vec::<String>::new()
    );

    // A 32-minute complete outage: one episode per family and one for `all`.
    let (b, checks) = probe_with_defaults(t, "long-outage").await;
    let mut plan = vec![Round::Up; 60];
    for r in &mut plan[10..42] {
        *r = Round::Down;
    }
    push_plan(t, &b.probe.id, &checks, &plan).await;
    let eps = outages_of(t, &b.probe.id, &checks).await;
    assert_eq!(eps.len(), 3, "{eps:#?}");
    for e in &eps {
        assert!(e.contains("rounds_down: 32"), "{e}");
        assert!(
            e.contains(&format!("started_at_ms: {}", T0 + 10 * MIN)),
            "{e}"
        );
        assert!(
            e.contains(&format!("last_failure_end_ms: {}", T0 + 42 * MIN)),
            "{e}"
        );
    }

    // An agent that was offline for two hours (no rounds) makes no outage.
    let (c, checks) = probe_with_defaults(t, "offline").await;
    let mut plan = vec![Round::Up; 10];
    plan.extend(vec![Round::Missing; 120]);
    plan.extend(vec![Round::Up; 10]);
    push_plan(t, &c.probe.id, &checks, &plan).await;
    assert_eq!(
        outages_of(t, &c.probe.id, &checks).await,
        Vec::<String>::new()
    );
}

pub(crate) async fn a_result_of_a_family_its_check_lacks_is_refused(t: &TestApp) {
    let (a, checks) = probe_with_defaults(t, "v4-only").await;
    let (v4_check, _) = checks.iter().find(|(_, f)| *f == Family::V4).unwrap();
    let body: Value = json!({"results": [{
        "checkId": v4_check.as_str(), "roundAt": "2026-06-06T12:00:00.000Z", "family": "v6",
        "address": null, "outcome": "ok", "failureClass": null, "message": null,
        "latencyMs": 12.5, "lossPct": null, "jitterMs": null, "rttMinMs": null,
        "rttMaxMs": null, "rttStdevMs": null, "status": null, "ttfbMs": null,
        "portState": null, "dnsRating": null, "duringSpeedTest": false, "degraded": false,
    }]});
    let r = t
        .client
        .post(t.url(&format!("/api/v1/probes/{}/check-results", a.probe.id)))
        .bearer_auth(&a.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s, e) = crate::helpers::answer(r).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (400, Some("results[0].family")),
        "{e}"
    );
    let (_, page) = t
        .get(&format!("/api/v1/check-results?probe={}", a.probe.id))
        .await;
    assert_eq!(page["items"], json!([]), "nothing was stored");
}

pub(crate) async fn outages_and_uptime_over_rest(t: &TestApp) {
    let (b, checks) = probe_with_defaults(t, "rest").await;
    let mut plan = vec![Round::Up; 60];
    for r in &mut plan[10..42] {
        *r = Round::Down;
    }
    // A two-round v6-only outage later (still open: no good rounds after it).
    push_plan(t, &b.probe.id, &checks, &plan).await;
    let at = |m: i64| Timestamp::from_unix_millis(T0 + m * MIN);
    for m in 50..52 {
        ingest(
            t,
            &b.probe.id,
            results(&checks, Family::V6, m + 10, Round::Down),
        )
        .await;
    }
    let probe = b.probe.id.to_string();
    let (s, page) = t
        .get(&format!("/api/v1/outages?probe={probe}&family=v4"))
        .await;
    assert_eq!(s, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    let o = &items[0];
    assert_eq!(o["startedAt"], json!(at(10).to_rfc3339()));
    assert_eq!(o["endedAt"], json!(at(42).to_rfc3339()));
    assert_eq!(o["durationSeconds"], json!(1920.0));
    assert_eq!(o["severity"], json!("complete"));
    assert_eq!(o["severityLabel"], json!("Complete"));
    assert_eq!(o["attribution"], json!("isp"));
    assert_eq!(o["ongoing"], json!(false));
    assert_eq!(o["failingChecks"].as_array().unwrap().len(), 4);

    // Latest first; most severe first; pages of one with a cursor.
    let (_, latest) = t.get(&format!("/api/v1/outages?probe={probe}")).await;
    let latest = latest["items"].as_array().unwrap().clone();
    assert_eq!(latest.len(), 4, "{latest:#?}");
    assert_eq!(
        latest[0]["family"],
        json!("v6"),
        "the v6 episode is the latest"
    );
    assert_eq!(latest[0]["ongoing"], json!(true));
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            None => format!("/api/v1/outages?probe={probe}&order=severity&limit=1"),
            Some(c) => format!("/api/v1/outages?probe={probe}&order=severity&limit=1&cursor={c}"),
        };
        let (s, p) = t.get(&url).await;
        assert_eq!(s, 200, "{p}");
        seen.extend(p["items"].as_array().unwrap().iter().cloned());
        match p["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);
    let impacts: Vec<f64> = seen
        .iter()
        .map(|o| o["impactSeconds"].as_f64().unwrap())
        .collect();
    assert_eq!(impacts, vec![1920.0, 1920.0, 1920.0, 120.0], "{seen:#?}");

    // One outage with its timeline.
    let id = o["id"].as_str().unwrap();
    let (s, d) = t.get(&format!("/api/v1/outages/{id}")).await;
    assert_eq!(s, 200, "{d}");
    let rounds = d["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 32 + 10);
    assert_eq!(rounds.iter().filter(|r| r["state"] == "down").count(), 32);
    assert_eq!(rounds[0]["roundAt"], json!(at(5).to_rfc3339()));
    assert_eq!(rounds[5]["failed"], json!(4));

    // Uptime over the hour: 32 minutes down of 60 measured.
    let (s, u) = t
        .get(&format!(
            "/api/v1/uptime?probe={probe}&since={}&until={}",
            at(0).to_rfc3339(),
            at(60).to_rfc3339()
        ))
        .await;
    assert_eq!(s, 200, "{u}");
    let v4 = u["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["family"] == "v4")
        .unwrap();
    assert_eq!(v4["downtimeSeconds"], json!(1920.0));
    assert_eq!(v4["coverage"], json!(1.0));
    let a = v4["availability"].as_f64().unwrap();
    assert!((a - 28.0 / 60.0).abs() < 1e-12, "{v4}");
    // Two hours: half of it unknown, the coverage says so.
    let (_, u) = t
        .get(&format!(
            "/api/v1/uptime?probe={probe}&since={}&until={}",
            at(0).to_rfc3339(),
            at(120).to_rfc3339()
        ))
        .await;
    let v4 = u["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["family"] == "v4")
        .unwrap();
    assert_eq!(v4["coverage"], json!(0.5));
    assert_eq!(v4["unknownSeconds"], json!(3600.0));

    // The CLI prints the same outages with the same figures as the API.
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_netpulse"))
            .args(args)
            .env("NETPULSE_DATABASE_URL", &t.db_url)
            .env_remove("NETPULSE_JSON")
            .output()
            .expect("run netpulse");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        (out.status.code(), stdout)
    };
    let (code, stdout) = run(&[
        "--json",
        "outages",
        "--most-severe",
        "10",
        "--probe",
        &probe,
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    let cli: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(cli, Value::Array(seen.clone()));
    let (code, text) = run(&["outages", "--probe", &probe]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("32 min  Complete  v4  isp"), "{text}");
    let (code, _) = run(&["outages", "--latest", "0"]);
    assert_eq!(code, Some(2), "a bad flag is a usage error");
    let (code, stdout) = run(&[
        "--json",
        "outages",
        "rebuild",
        "--since",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    let (_, after) = t
        .get(&format!("/api/v1/outages?probe={probe}&order=severity"))
        .await;
    assert_eq!(
        after["items"],
        Value::Array(seen.clone()),
        "a rebuild changes nothing"
    );

    // Errors name the field.
    for (query, field) in [
        ("/api/v1/outages?family=v5", "family"),
        ("/api/v1/outages?order=worst", "order"),
        ("/api/v1/outages?limit=0", "limit"),
        ("/api/v1/outages?cursor=nope", "cursor"),
        ("/api/v1/outages?since=yesterday", "since"),
        ("/api/v1/outages/not-an-id", "outageId"),
        (
            "/api/v1/uptime?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            "since",
        ),
    ] {
        let (s, e) = t.get(query).await;
        assert_eq!((s, e["field"].as_str()), (400, Some(field)), "{query}: {e}");
    }
    let (s, _) = t
        .get("/api/v1/outages/00000000-0000-8000-8000-000000000000")
        .await;
    assert_eq!(s, 404);
}
