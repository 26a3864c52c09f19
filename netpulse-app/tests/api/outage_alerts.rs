//! Outage notifications, probe maintenance and gateway attribution end to end: check results
//! pushed through the real ingest (by two service contexts over one database, as two server
//! processes are) announce an outage's opening and closing once each to a webhook receiver on a
//! loopback port; the same rounds pushed again, a late round that replays the series and a
//! rebuild announce nothing more. Rounds in the probe's own maintenance window are
//! `maintenance`, and a gateway check failing in half of the failing rounds makes an outage
//! `lan`.

use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckMeasurement, FailureClass, Family, Outcome};
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_domain::outage::SeriesFamily;
use netpulse_ports::check_store::OutageEdge;
use netpulse_ports::outage_store::{OutageFilter, OutageOrder, StoredOutage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::notifications::{Receiver, eventually};
use crate::outages::{MIN, Round, T0, probe_with_defaults, results};

async fn ingest(app: &netpulse_app::service::App, probe: &ProbeId, batch: Vec<CheckMeasurement>) {
    netpulse_app::service::check_results::ingest(app, probe, batch)
        .await
        .unwrap();
}

async fn hook(t: &TestApp) -> Receiver {
    let receiver = Receiver::start(&[200]).await;
    let (s, ch) = t
        .send(
            Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "hook", "type": "webhook", "settings": {"url": receiver.url}}),
        )
        .await;
    assert_eq!(s, 201, "{ch}");
    receiver
}

async fn stored(t: &TestApp, probe: &ProbeId) -> Vec<StoredOutage> {
    let filter = OutageFilter {
        probe: Some(probe.clone()),
        ..OutageFilter::default()
    };
    let mut items = t
        .app
        .storage
        .outages(&filter, OutageOrder::Latest, 100, None)
        .await
        .unwrap()
        .items;
    items.sort_by_key(|o| (o.family, o.episode.started_at_ms));
    items
}

/// The round `m` of both families: `v4` as given, `v6` up.
fn round(checks: &[(CheckId, Family)], m: i64, v4: Round) -> Vec<CheckMeasurement> {
    let mut batch = results(checks, Family::V4, m, v4);
    batch.extend(results(checks, Family::V6, m, Round::Up));
    batch
}

pub(crate) async fn an_outage_is_announced_once_across_pushes_and_processes(t: &TestApp) {
    let receiver = hook(t).await;
    let storage = netpulse_adapters::storage::open(&t.db_url).await.unwrap();
    let (second, _notify, _tasks) = crate::helpers::app_over(storage, t.clock.clone());
    let (a, checks) = probe_with_defaults(t, "home").await;
    let probe = a.probe.id.clone();
    // v4: up, down for three rounds, then up; round 5 lacks one result (pushed late below).
    for m in 0..6 {
        let v4 = if (1..4).contains(&m) {
            Round::Down
        } else {
            Round::Up
        };
        let mut batch = round(&checks, m, v4);
        let late = (m == 5).then(|| batch.remove(0));
        // Both processes record the round at the same moment, then one of them again.
        let (x, y) = tokio::join!(
            ingest(&t.app, &probe, batch.clone()),
            ingest(&second, &probe, batch.clone())
        );
        let ((), ()) = (x, y);
        ingest(&second, &probe, batch).await;
        if m == 1 {
            eventually("the opening", || receiver.kinds() == ["alert"]).await;
        }
        if let Some(late) = late {
            // A late result of round 5 replays the v4 series from the episode's start.
            ingest(&t.app, &probe, vec![late]).await;
        }
    }
    let mut kinds = Vec::new();
    for _ in 0..200 {
        kinds = receiver.kinds();
        if kinds.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(kinds, ["alert", "recovery"], "{:#?}", receiver.got());
    // A rebuild from raw results finds the same episode: nothing more is announced.
    let rebuilt = t
        .app
        .storage
        .rebuild_outages(Some(&probe), Timestamp::from_unix_millis(0))
        .await
        .unwrap();
    assert_eq!(rebuilt, 3);
    // More rounds without failures announce nothing either.
    for m in 6..9 {
        ingest(&second, &probe, round(&checks, m, Round::Up)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(receiver.kinds(), ["alert", "recovery"]);

    let got = receiver.got();
    let (open, close) = (got[0].json(), got[1].json());
    let subject = open["subject"].as_str().unwrap();
    assert!(
        subject.contains("home") && subject.contains("IPv4"),
        "{open}"
    );
    assert!(subject.contains("Complete"), "{open}");
    let body = open["body"].as_str().unwrap();
    for part in [
        "since 2026-05-28T20:28:00",
        "duration: 1 min so far",
        "severity: Complete",
        "family: v4",
        "attribution: isp",
    ] {
        assert!(body.contains(part), "{part:?} not in {body}");
    }
    let body = close["body"].as_str().unwrap();
    for part in [
        "from 2026-05-28T20:28:00Z to 2026-05-28T20:31:00Z",
        "duration: 3 min\n",
        "severity: Complete",
        "rounds: 3 down, 0 partial, 0 without data",
        "attribution: isp",
    ] {
        assert!(body.contains(part), "{part:?} not in {body}");
    }
    assert!(
        close["subject"].as_str().unwrap().contains("after 3 min"),
        "{close}"
    );

    // The stored episode; what incident tools get for it: one key from trigger to resolve.
    let eps = stored(t, &probe).await;
    assert_eq!(eps.len(), 1, "{eps:#?}");
    assert_eq!(eps[0].family, SeriesFamily::V4);
    let probe_row = t.app.storage.probe(&probe).await.unwrap().unwrap();
    let now = t.clock_now();
    let edge = |opened| OutageEdge {
        opened,
        outage: eps[0].clone(),
    };
    let n_open =
        netpulse_app::notify::outage_edges::outage_notification(&probe_row, &edge(true), None, now);
    let n_close = netpulse_app::notify::outage_edges::outage_notification(
        &probe_row,
        &edge(false),
        None,
        now,
    );
    let (i, j) = (n_open.incident.unwrap(), n_close.incident.unwrap());
    assert_eq!(i.key, j.key);
    assert_eq!(i.source, AlertSource::Outage);
    assert_eq!(i.severity, IncidentSeverity::High);
    // The `all` family completely down is critical.
    let mut all = eps[0].clone();
    all.family = SeriesFamily::All;
    let n = netpulse_app::notify::outage_edges::outage_notification(
        &probe_row,
        &OutageEdge {
            opened: true,
            outage: all,
        },
        None,
        now,
    );
    assert_eq!(n.incident.unwrap().severity, IncidentSeverity::Critical);
}

pub(crate) async fn rounds_in_the_probes_own_maintenance_are_maintenance(t: &TestApp) {
    let (a, checks) = probe_with_defaults(t, "maint").await;
    let probe = a.probe.id.clone();
    // The probe's own window over rounds 1–3 (it has no connection in maintenance), and the
    // manual switch from round 10 on (until switched off).
    let at = |m: i64| Timestamp::from_unix_millis(T0 + m * MIN);
    netpulse_app::service::probe_maintenance::schedule(&t.app, &probe, at(1), Some(at(4)), "work")
        .await
        .unwrap();
    netpulse_app::service::probe_maintenance::schedule(&t.app, &probe, at(10), None, "switch")
        .await
        .unwrap();
    for m in 0..14 {
        let v4 = if (1..4).contains(&m) || m >= 10 {
            Round::Down
        } else {
            Round::Up
        };
        ingest(&t.app, &probe, round(&checks, m, v4)).await;
    }
    assert_eq!(
        stored(t, &probe).await,
        Vec::new(),
        "no outage in maintenance"
    );
    let rounds = t
        .app
        .storage
        .outage_rounds(&probe, SeriesFamily::V4, at(0), at(14))
        .await
        .unwrap();
    let states: Vec<&str> = rounds.iter().map(|r| r.state).collect();
    let mut want = vec!["up"; 14];
    for m in [1, 2, 3, 10, 11, 12, 13] {
        want[m] = "maintenance";
    }
    assert_eq!(states, want);
    // Uptime leaves maintenance out of the base and of the coverage.
    let (s, up) = t
        .get(&format!(
            "/api/v1/uptime?probe={probe}&since={}&until={}",
            at(0).to_rfc3339(),
            at(14).to_rfc3339()
        ))
        .await;
    assert_eq!(s, 200, "{up}");
    let v4 = up["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["family"] == "v4")
        .unwrap();
    assert_eq!(v4["availability"], json!(1.0), "{v4}");
    assert_eq!(v4["coverage"], json!(1.0), "{v4}");
}

pub(crate) async fn a_failing_gateway_check_makes_the_outage_lan(t: &TestApp) {
    let (a, checks) = probe_with_defaults(t, "lan").await;
    let probe = a.probe.id.clone();
    let (s, gw) = t
        .send(
            Method::POST,
            "/api/v1/checks",
            &json!({"probeId": probe.to_string(), "kind": "icmp", "target": "192.168.1.1",
                    "family": "v4", "role": "connectivity", "labels": {"gateway": "true"}}),
        )
        .await;
    assert_eq!(s, 201, "{gw}");
    let gw = CheckId::parse(gw["id"].as_str().unwrap()).unwrap();
    let gateway = |m: i64, ok: bool| {
        let at = Timestamp::from_unix_millis(T0 + m * MIN);
        if ok {
            CheckMeasurement::new(gw.clone(), at, Family::V4, Outcome::Ok)
        } else {
            CheckMeasurement::failed(
                gw.clone(),
                at,
                Family::V4,
                Outcome::Fail,
                FailureClass::Timeout,
                "no answer",
            )
        }
    };
    // Two outages of four down rounds each: in the first the gateway fails in 2 of 4 (lan),
    // in the second in 1 of 4 (isp). The gateway is not one of the counted checks: its
    // failures alone (round 20) are no outage.
    for m in 0..30 {
        let down = (2..6).contains(&m) || (12..16).contains(&m);
        let gw_fails = [2, 3, 12, 20].contains(&m);
        let mut batch = round(&checks, m, if down { Round::Down } else { Round::Up });
        batch.push(gateway(m, !gw_fails));
        ingest(&t.app, &probe, batch).await;
    }
    let (s, page) = t
        .get(&format!(
            "/api/v1/outages?probe={probe}&family=v4&order=latest"
        ))
        .await;
    assert_eq!(s, 200, "{page}");
    let items: Vec<&Value> = page["items"].as_array().unwrap().iter().collect();
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!(items[0]["attribution"], "isp", "{page}");
    assert_eq!(items[1]["attribution"], "lan", "{page}");
    // Four counted checks per round: complete, not partial.
    assert_eq!(items[1]["severityLabel"], "Complete", "{page}");
}

/// `/metrics` (the real exporter) per probe and family after rounds: a closed complete outage
/// of three rounds and an open partial one of one round (three of four checks failed) on v4, nothing on v6 and `all`.
#[allow(clippy::float_cmp)] // the counters are whole seconds
pub(crate) async fn outage_series_are_metrics(t: &TestApp) {
    let (a, checks) = probe_with_defaults(t, "edge").await;
    let mut withheld = None;
    for m in 0..9 {
        let v4 = match m {
            1..=3 | 8 => Round::Down,
            _ => Round::Up,
        };
        let mut batch = round(&checks, m, v4);
        if m == 8 {
            // Partial: three of four fail (so both providers have a failure: not `target`).
            let at = batch[0].round_at;
            batch[0] =
                CheckMeasurement::new(batch[0].check_id.clone(), at, Family::V4, Outcome::Ok);
        }
        if m == 3 {
            withheld = Some(batch.remove(0));
        }
        ingest(&t.app, &a.probe.id, batch).await;
    }
    let e = crate::metrics::exposition(t).await;
    let at = |name: &str, family: &str| e.value(name, &[("probe", "edge"), ("family", family)]);
    let secs = |family: &str, severity: &str| {
        e.value(
            "netpulse_outage_seconds_total",
            &[
                ("probe", "edge"),
                ("family", family),
                ("severity", severity),
            ],
        )
    };
    assert_eq!(at("netpulse_outage_active", "v4"), 1.0);
    assert_eq!(at("netpulse_outage_active", "v6"), 0.0);
    assert_eq!(at("netpulse_outage_active", "all"), 0.0);
    assert_eq!(at("netpulse_outages_total", "v4"), 2.0);
    assert_eq!(at("netpulse_outages_total", "v6"), 0.0);
    assert_eq!(secs("v4", "complete"), 180.0);
    assert_eq!(secs("v4", "partial"), 60.0);
    assert_eq!(secs("v6", "complete"), 0.0);
    assert_eq!(e.types["netpulse_outages_total"], "counter");
    assert_eq!(e.types["netpulse_outage_active"], "gauge");
    // A replay of the series (a late result of round 3) keeps the counters.
    ingest(&t.app, &a.probe.id, withheld.into_iter().collect()).await;
    let e = crate::metrics::exposition(t).await;
    assert_eq!(
        e.value(
            "netpulse_outages_total",
            &[("probe", "edge"), ("family", "v4")]
        ),
        2.0
    );
}

/// A probe that goes silent with an episode open: once nothing was heard for longer than
/// max_gap (5 min) before now, housekeeping closes the episode with `endUncertain` at its last
/// failing round and announces the closing once; a rebuild (which cannot know of the silence)
/// opens it again and the next housekeeping closes it again the same way, announcing nothing.
pub(crate) async fn a_silent_probe_closes_its_outage_uncertain(t: &TestApp) {
    let receiver = hook(t).await;
    let (a, checks) = probe_with_defaults(t, "silent").await;
    let probe = a.probe.id.clone();
    for m in 0..3 {
        let v4 = if m == 0 { Round::Up } else { Round::Down };
        ingest(&t.app, &probe, round(&checks, m, v4)).await;
    }
    eventually("the opening", || receiver.kinds() == ["alert"]).await;
    // Last heard: the end of round 2 (T0 + 3 min). Exactly 5 minutes later it stays open.
    t.clock.set(Timestamp::from_unix_millis(T0 + 8 * MIN));
    t.notify.housekeeping().await.unwrap();
    let open = stored(t, &probe).await;
    assert!(open.iter().all(|o| !o.episode.closed), "{open:#?}");
    t.clock
        .set(Timestamp::from_unix_millis(T0 + 8 * MIN + 1000));
    t.notify.housekeeping().await.unwrap();
    let closed = stored(t, &probe).await;
    assert_eq!(closed.len(), 1, "{closed:#?}");
    let e = &closed[0].episode;
    assert!(e.closed && e.end_uncertain, "{e:#?}");
    assert_eq!(e.ended_at_ms(), Some(T0 + 3 * MIN));
    assert_eq!((e.rounds_down, e.rounds_unknown), (2, 0));
    eventually("the closing", || receiver.kinds() == ["alert", "recovery"]).await;
    let body = receiver.got()[1].json()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("end uncertain"), "{body}");
    let (s, page) = t.get(&format!("/api/v1/outages?probe={probe}")).await;
    assert_eq!(s, 200);
    assert_eq!(page["items"][0]["endUncertain"], json!(true), "{page}");
    // A rebuild, then housekeeping: the same episode, nothing announced again.
    t.app
        .storage
        .rebuild_outages(Some(&probe), Timestamp::from_unix_millis(0))
        .await
        .unwrap();
    t.notify.housekeeping().await.unwrap();
    let again = stored(t, &probe).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (
            again[0].episode.ended_at_ms(),
            again[0].episode.end_uncertain
        ),
        (e.ended_at_ms(), true)
    );
    // The probe comes back: a new round, later than the gap, starts afresh.
    ingest(&t.app, &probe, round(&checks, 20, Round::Up)).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.kinds(), ["alert", "recovery"]);
    assert_eq!(stored(t, &probe).await.len(), 1);
}

/// A digest lists the window's outages per probe and family (count, time down), the worst ones,
/// and availability always with its coverage.
pub(crate) async fn digests_list_the_periods_outages_and_availability(t: &TestApp) {
    let receiver = Receiver::start(&[200]).await;
    let (s, ch) = t
        .send(
            Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "digests", "type": "webhook", "events": ["digest"],
                    "settings": {"url": receiver.url}}),
        )
        .await;
    assert_eq!(s, 201, "{ch}");
    let (a, checks) = probe_with_defaults(t, "digest").await;
    // 60 rounds; v4 down in rounds 10–12; nothing at all in rounds 40–49 (the agent off).
    for m in (0..60).filter(|m| !(40..50).contains(m)) {
        let v4 = if (10..13).contains(&m) {
            Round::Down
        } else {
            Round::Up
        };
        ingest(&t.app, &a.probe.id, round(&checks, m, v4)).await;
    }
    let until = Timestamp::from_unix_millis(T0 + 60 * MIN);
    let sent = t
        .notify
        .send_digest(netpulse_domain::notify::DigestPeriod::Daily, until, until)
        .await
        .unwrap();
    assert!(sent, "outages alone make a digest");
    eventually("the digest", || receiver.got().len() == 1).await;
    let d = receiver.got()[0].json();
    assert_eq!(d["kind"], "digest");
    assert_eq!(d["subject"], "[NetPulse] daily digest — outages and uptime");
    let body = d["body"].as_str().unwrap();
    // 50 of the day's 1,440 minutes measured: 3.47 % coverage; 3 of 50 minutes down.
    for line in [
        "Outages and uptime, 2026-05-27T21:27:00Z to 2026-05-28T21:27:00Z:",
        "- digest v4: 1 outage, down 3 min, partly down 0 s, availability 94.00 % (strict 94.00 %), coverage 3.47 %",
        "- digest v6: 0 outages, down 0 s, partly down 0 s, availability 100.00 % (strict 100.00 %), coverage 3.47 %",
        "- digest all: 0 outages,",
        "Worst outages:\n- digest v4 from 2026-05-28T20:37:00Z to 2026-05-28T20:40:00Z: 3 min, Complete, isp",
    ] {
        assert!(body.contains(line), "{line:?} not in\n{body}");
    }
}

/// An opening announced and then lost by a replay (the rest of the round's results arrive late
/// and turn it into a `target` round, the other provider's problem) is announced closed, once.
pub(crate) async fn an_announced_outage_a_replay_withdraws_is_closed(t: &TestApp) {
    let receiver = hook(t).await;
    let (a, _) = probe_with_defaults(t, "withdrawn").await;
    let probe = a.probe.id.clone();
    let checks = netpulse_app::service::checks::list(&t.app, Some(&probe))
        .await
        .unwrap();
    let v4: Vec<_> = checks
        .iter()
        .filter(|c| c.spec.family.families()[0] == Family::V4)
        .collect();
    let (cloudflare, quad9): (Vec<&netpulse_ports::check_store::Check>, Vec<_>) =
        v4.iter().partition(|c| c.spec.target.contains("1.1.1.1"));
    assert_eq!((cloudflare.len(), quad9.len()), (2, 2));
    let at = Timestamp::from_unix_millis(T0);
    let fail = |id: &CheckId| {
        CheckMeasurement::failed(
            id.clone(),
            at,
            Family::V4,
            Outcome::Fail,
            FailureClass::Timeout,
            "no answer",
        )
    };
    // Round 0: only Cloudflare's two checks have reported, both failed: down.
    ingest(
        &t.app,
        &probe,
        cloudflare.iter().map(|c| fail(&c.id)).collect(),
    )
    .await;
    eventually("the opening", || receiver.kinds() == ["alert"]).await;
    // Quad9's arrive late and ok: the round is `target` (counts as up), the episode is gone.
    ingest(
        &t.app,
        &probe,
        quad9
            .iter()
            .map(|c| CheckMeasurement::new(c.id.clone(), at, Family::V4, Outcome::Ok))
            .collect(),
    )
    .await;
    eventually("the closing", || receiver.kinds() == ["alert", "recovery"]).await;
    assert!(stored(t, &probe).await.is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(receiver.kinds(), ["alert", "recovery"]);
}
