//! The `CheckStore` contract, on both databases: checks round-trip, results are stored exactly
//! once with every figure, late rounds move no state, service checks cross each alert edge once,
//! and result pages merge checks without gaps or repeats.

use netpulse_domain::alert::{AlertEdge, AlertPolicy};
use netpulse_domain::check::dns::ResolverFigure;
use netpulse_domain::check::{
    CheckKind, CheckMeasurement, CheckParams, CheckRole, CheckSpec, DnsRating, FailureClass,
    Family, FamilyMode, Outcome, PortState, RecordType, UdpPayload,
};
use netpulse_domain::id::CheckId;
use netpulse_domain::values::Labels;
use netpulse_ports::check_store::{Check, CheckResultFilter};
use netpulse_ports::storage::{Storage, StorageError};

use crate::storage::helpers::{at, digest, new_id, probe};

fn spec(kind: CheckKind, target: &str, port: Option<u16>, role: CheckRole) -> CheckSpec {
    CheckSpec {
        kind,
        target: target.into(),
        port,
        family: FamilyMode::Dual,
        role,
        interval_s: 60,
        params: CheckParams::default_for(kind),
    }
    .validate()
    .unwrap()
}

fn check(probe: &netpulse_domain::id::ProbeId, spec: CheckSpec, created: i64) -> Check {
    Check {
        id: CheckId::parse(&new_id()).unwrap(),
        probe_id: probe.clone(),
        spec,
        alerts: None,
        enabled: true,
        labels: Labels::new(),
        created_at: at(created),
        updated_at: at(created),
    }
}

fn ok(c: &Check, round_s: i64, family: Family, latency: f64) -> CheckMeasurement {
    let mut m = CheckMeasurement::new(c.id.clone(), at(round_s), family, Outcome::Ok);
    m.latency_ms = Some(latency);
    m
}

fn fail(c: &Check, round_s: i64, family: Family, why: &str) -> CheckMeasurement {
    CheckMeasurement::failed(
        c.id.clone(),
        at(round_s),
        family,
        Outcome::Fail,
        FailureClass::Timeout,
        why,
    )
}

pub(crate) async fn checks_round_trip_and_belong_to_their_probe(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let mut icmp = check(
        &p.id,
        spec(CheckKind::Icmp, "1.1.1.1", None, CheckRole::Connectivity),
        0,
    );
    icmp.spec.family = FamilyMode::V4;
    icmp.spec.params = CheckParams::Icmp {
        count: 7,
        loss_warn_pct: 12.5,
        rtt_warn_ms: Some(80.0),
    };
    let mut http = check(
        &p.id,
        spec(
            CheckKind::Http,
            "https://example.org/health",
            None,
            CheckRole::Service,
        ),
        1,
    );
    http.spec.params = CheckParams::Http {
        method_head: true,
        accepted: vec![(200, 204), (301, 302)],
        max_response_ms: Some(1500),
        body_contains: Some("ok \"quoted\"".into()),
        timeout_ms: 5000,
    };
    http.alerts = Some(AlertPolicy::new(4, 3).unwrap());
    http.labels.insert("team", "web").unwrap();
    let mut dns = check(
        &p.id,
        spec(CheckKind::Dns, "example.org", None, CheckRole::Service),
        2,
    );
    dns.spec.params = CheckParams::Dns {
        resolvers: vec!["9.9.9.9".into(), "2620:fe::fe".into()],
        record_types: vec![RecordType::Aaaa],
        expect_any: true,
        queries: 2,
    };
    let tcp = check(
        &p.id,
        spec(CheckKind::Tcp, "example.org", Some(443), CheckRole::Service),
        3,
    );
    let mut udp = check(
        &p.id,
        spec(CheckKind::Udp, "192.0.2.1", Some(123), CheckRole::Service),
        4,
    );
    udp.spec.family = FamilyMode::V4;
    udp.spec.params = CheckParams::Udp {
        payload: UdpPayload::Hex(vec![0xde, 0xad]),
        timeout_ms: 900,
    };
    udp.enabled = false;
    let all = vec![icmp, http, dns, tcp, udp];
    s.create_checks(&all).await.unwrap();
    assert_eq!(s.checks(Some(&p.id)).await.unwrap(), all);
    assert_eq!(s.check(&all[1].id).await.unwrap().as_ref(), Some(&all[1]));

    // Another probe's checks are not this one's.
    let other = probe("attic");
    s.create_probe(&other, &digest(2)).await.unwrap();
    let theirs = check(
        &other.id,
        spec(CheckKind::Icmp, "9.9.9.9", None, CheckRole::Connectivity),
        0,
    );
    let mut theirs = theirs;
    theirs.spec.family = FamilyMode::V4;
    s.create_checks(std::slice::from_ref(&theirs))
        .await
        .unwrap();
    assert_eq!(s.checks(Some(&p.id)).await.unwrap().len(), 5);
    assert_eq!(s.checks(None).await.unwrap().len(), 6);

    // Update replaces the settings, keeps probe and creation time.
    let mut changed = all[3].clone();
    changed.spec.target = "example.net".into();
    changed.spec.port = Some(8443);
    changed.enabled = false;
    changed.updated_at = at(99);
    s.update_check(&changed).await.unwrap();
    assert_eq!(s.check(&changed.id).await.unwrap(), Some(changed.clone()));

    // An unknown probe or check is not found.
    let ghost = check(
        &netpulse_domain::id::ProbeId::parse(&new_id()).unwrap(),
        spec(CheckKind::Tcp, "example.org", Some(22), CheckRole::Service),
        0,
    );
    assert!(matches!(
        s.create_checks(std::slice::from_ref(&ghost)).await,
        Err(StorageError::NotFound { what: "probe", .. })
    ));
    assert!(matches!(
        s.update_check(&ghost).await,
        Err(StorageError::NotFound { what: "check", .. })
    ));
    assert!(matches!(
        s.delete_check(&ghost.id).await,
        Err(StorageError::NotFound { what: "check", .. })
    ));

    // Deleting deletes; deleting the probe deletes its checks with their results.
    s.delete_check(&all[0].id).await.unwrap();
    assert_eq!(s.check(&all[0].id).await.unwrap(), None);
    s.record_check_results(
        &other.id,
        &[ok(&theirs, 0, Family::V4, 3.0)],
        &AlertPolicy::default(),
    )
    .await
    .unwrap();
    s.delete_probe(&other.id).await.unwrap();
    assert_eq!(s.checks(Some(&other.id)).await.unwrap(), vec![]);
    assert!(s.check_states(Some(&other.id)).await.unwrap().is_empty());
}

pub(crate) async fn check_results_are_stored_once_with_every_figure(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let c = check(
        &p.id,
        spec(
            CheckKind::Icmp,
            "one.one.one.one",
            None,
            CheckRole::Connectivity,
        ),
        0,
    );
    s.create_checks(std::slice::from_ref(&c)).await.unwrap();
    let mut full = ok(&c, 60, Family::V6, 12.345);
    full.address = Some("2606:4700:4700::1111".into());
    full.loss_pct = Some(20.0);
    full.jitter_ms = Some(0.75);
    full.rtt_min_ms = Some(11.0);
    full.rtt_max_ms = Some(14.5);
    full.rtt_stdev_ms = Some(1.25);
    full.status = Some(301);
    full.ttfb_ms = Some(9.5);
    full.port_state = Some(PortState::OpenFiltered);
    full.dns_rating = Some(DnsRating::Good);
    full.dns_resolvers = vec![
        ResolverFigure {
            resolver: "2606:4700:4700::1111".into(),
            record_type: RecordType::Aaaa,
            sent: 3,
            succeeded: 2,
            median_ms: Some(7.125),
        },
        ResolverFigure {
            resolver: "9.9.9.9".into(),
            record_type: RecordType::A,
            sent: 3,
            succeeded: 0,
            median_ms: None,
        },
    ];
    full.during_speed_test = true;
    full.degraded = true;
    let mut failed = fail(&c, 60, Family::V4, "no reply to 5 echoes");
    failed.address = Some("1.1.1.1".into());
    failed.after_resume = true;
    let mut na = CheckMeasurement::failed(
        c.id.clone(),
        at(120),
        Family::V6,
        Outcome::NotApplicable,
        FailureClass::NoRoute,
        "no IPv6 default route",
    );
    na.latency_ms = None;
    let stranger = ok(
        &check(
            &p.id,
            spec(CheckKind::Icmp, "9.9.9.9", None, CheckRole::Connectivity),
            0,
        ),
        60,
        Family::V4,
        1.0,
    );
    let batch = vec![full.clone(), failed.clone(), na.clone(), stranger.clone()];
    let first = s
        .record_check_results(&p.id, &batch, &AlertPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        (first.recorded, first.duplicates, first.unknown_checks),
        (3, 0, 1)
    );
    // A replayed spool (with a twice-listed result) changes nothing.
    let mut replay = batch.clone();
    replay.push(full.clone());
    let again = s
        .record_check_results(&p.id, &replay, &AlertPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        (again.recorded, again.duplicates, again.unknown_checks),
        (0, 4, 1)
    );
    let page = s
        .check_results(&CheckResultFilter::default(), 100, None)
        .await
        .unwrap();
    assert_eq!(page.next_cursor, None);
    // Newest round first, then family v6 before v4 within a round.
    assert_eq!(page.items, vec![na, full.clone(), failed]);
    // The samples behind the Connectivity page carry the per-resolver figures.
    let samples = s.check_samples(&c.id, at(0), at(180)).await.unwrap();
    let v6 = samples
        .iter()
        .find(|x| x.family == Family::V6 && x.round_at == at(60))
        .unwrap();
    assert_eq!(v6.dns_resolvers, full.dns_resolvers);
    assert!(
        samples
            .iter()
            .filter(|x| x.family == Family::V4)
            .all(|x| x.dns_resolvers.is_empty())
    );
    // Results of another probe's check are unknown to this probe.
    let other = probe("attic");
    s.create_probe(&other, &digest(2)).await.unwrap();
    let wrong = s
        .record_check_results(&other.id, &batch, &AlertPolicy::default())
        .await
        .unwrap();
    assert_eq!((wrong.recorded, wrong.unknown_checks), (0, 4));
    // The state rows count each stored result once.
    let states = s.check_states(Some(&p.id)).await.unwrap();
    assert_eq!(states.len(), 2);
    let v4 = states.iter().find(|s| s.family == Family::V4).unwrap();
    assert_eq!((v4.runs.ok, v4.runs.fail), (0, 1));
    let v6 = states.iter().find(|s| s.family == Family::V6).unwrap();
    assert_eq!((v6.runs.ok, v6.runs.not_applicable), (1, 1));
    assert_eq!(v6.round_at, at(120));
    assert_eq!(v6.outcome, Outcome::NotApplicable);
}

pub(crate) async fn late_rounds_move_no_check_state(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let c = check(
        &p.id,
        spec(
            CheckKind::Http,
            "http://1.1.1.1/",
            None,
            CheckRole::Connectivity,
        ),
        0,
    );
    s.create_checks(std::slice::from_ref(&c)).await.unwrap();
    let policy = &AlertPolicy::default();
    let pid = &p.id;
    let record = |m: Vec<CheckMeasurement>| async move {
        s.record_check_results(pid, &m, policy).await.unwrap()
    };
    record(vec![ok(&c, 300, Family::V4, 20.0)]).await;
    record(vec![fail(&c, 240, Family::V4, "late timeout")]).await;
    record(vec![ok(&c, 180, Family::V4, 99.0)]).await;
    let st = &s.check_states(Some(&p.id)).await.unwrap()[0];
    assert_eq!(st.round_at, at(300));
    assert_eq!(st.outcome, Outcome::Ok);
    assert_eq!(st.latency_ms, Some(20.0));
    assert_eq!((st.runs.ok, st.runs.fail), (2, 1));
    // The newest failure is kept even when it arrived late; an older one does not replace it.
    let lf = st.last_failure.as_ref().unwrap();
    assert_eq!(lf.round_at, at(240));
    assert_eq!(lf.message.as_deref(), Some("late timeout"));
    record(vec![fail(&c, 120, Family::V4, "older")]).await;
    let st = &s.check_states(Some(&p.id)).await.unwrap()[0];
    assert_eq!(st.last_failure.as_ref().unwrap().round_at, at(240));
    assert_eq!(st.runs.fail, 2);
}

pub(crate) async fn service_checks_cross_each_alert_edge_once(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let service = check(
        &p.id,
        spec(CheckKind::Tcp, "example.org", Some(443), CheckRole::Service),
        0,
    );
    let connectivity = check(
        &p.id,
        spec(
            CheckKind::Icmp,
            "example.org",
            None,
            CheckRole::Connectivity,
        ),
        1,
    );
    s.create_checks(&[service.clone(), connectivity.clone()])
        .await
        .unwrap();
    let policy = AlertPolicy::new(3, 2).unwrap();
    let mut edges = Vec::new();
    // Two failures, then a batch with the third (and a late older ok that changes nothing).
    for batch in [
        vec![
            fail(&service, 60, Family::V4, "t"),
            fail(&connectivity, 60, Family::V4, "t"),
        ],
        vec![fail(&service, 120, Family::V4, "t")],
        vec![
            fail(&service, 180, Family::V4, "t"),
            fail(&service, 240, Family::V4, "t"),
            fail(&connectivity, 180, Family::V4, "t"),
            fail(&connectivity, 240, Family::V4, "t"),
        ],
        vec![ok(&service, 30, Family::V4, 1.0)],
        vec![ok(&service, 300, Family::V4, 1.0)],
        vec![fail(&service, 360, Family::V4, "t")],
        vec![
            ok(&service, 420, Family::V4, 1.0),
            ok(&service, 480, Family::V4, 1.0),
        ],
        // Replays cross nothing again.
        vec![
            ok(&service, 420, Family::V4, 1.0),
            ok(&service, 480, Family::V4, 1.0),
        ],
    ] {
        edges.extend(
            s.record_check_results(&p.id, &batch, &policy)
                .await
                .unwrap()
                .edges,
        );
    }
    let got: Vec<(i64, AlertEdge)> = edges
        .iter()
        .map(|e| (e.result.round_at.unix_millis(), e.edge))
        .collect();
    assert_eq!(
        got,
        vec![
            (at(180).unix_millis(), AlertEdge::Alert { consecutive: 3 }),
            (
                at(480).unix_millis(),
                AlertEdge::Recovery { consecutive: 2 }
            ),
        ]
    );
    assert!(
        edges
            .iter()
            .all(|e| e.check_id == service.id && e.probe_id == p.id)
    );
    // The check's own policy wins over the default.
    let mut strict = service.clone();
    strict.alerts = Some(AlertPolicy::new(1, 1).unwrap());
    s.update_check(&strict).await.unwrap();
    let out = s
        .record_check_results(&p.id, &[fail(&service, 540, Family::V6, "t")], &policy)
        .await
        .unwrap();
    assert_eq!(out.edges.len(), 1);
    assert_eq!(out.edges[0].family, Family::V6);
}

pub(crate) async fn check_result_pages_merge_checks_without_gaps(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let checks: Vec<Check> = (0..3)
        .map(|i| {
            check(
                &p.id,
                spec(
                    CheckKind::Icmp,
                    "example.org",
                    None,
                    CheckRole::Connectivity,
                ),
                i,
            )
        })
        .collect();
    s.create_checks(&checks).await.unwrap();
    let mut all = Vec::new();
    for round in 0..9_i64 {
        for (i, c) in checks.iter().enumerate() {
            // Not every check runs every round.
            if (round + i as i64) % 4 == 3 {
                continue;
            }
            for family in [Family::V4, Family::V6] {
                all.push(ok(c, round * 60, family, (round * 10 + i as i64) as f64));
            }
        }
    }
    s.record_check_results(&p.id, &all, &AlertPolicy::default())
        .await
        .unwrap();
    let read_all = |filter: CheckResultFilter, limit: u32| async move {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = s
                .check_results(&filter, limit, cursor.as_deref())
                .await
                .unwrap();
            assert!(page.items.len() <= limit as usize);
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        out
    };
    for limit in [1, 4, 7, 1000] {
        let got = read_all(CheckResultFilter::default(), limit).await;
        assert_eq!(got.len(), all.len(), "limit {limit}");
        for w in got.windows(2) {
            assert!(w[0].round_at >= w[1].round_at, "newest first");
        }
        let mut keys: Vec<_> = got
            .iter()
            .map(|m| (m.check_id.clone(), m.round_at, m.family))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), all.len(), "no repeats at limit {limit}");
    }
    let one = read_all(
        CheckResultFilter {
            check: Some(checks[1].id.clone()),
            family: Some(Family::V6),
            since: Some(at(120)),
            until: Some(at(420)),
            ..CheckResultFilter::default()
        },
        2,
    )
    .await;
    let want: Vec<i64> = vec![300, 240, 180];
    assert_eq!(
        one.iter()
            .map(|m| (m.round_at.unix_millis() - at(0).unix_millis()) / 1000)
            .collect::<Vec<_>>(),
        want
    );
    assert!(one.iter().all(|m| m.family == Family::V6));
    assert!(matches!(
        s.check_results(&CheckResultFilter::default(), 5, Some("nope"))
            .await,
        Err(StorageError::Invalid(_))
    ));
    // Samples of a window, oldest first.
    let samples = s
        .check_samples(&checks[0].id, at(0), at(180))
        .await
        .unwrap();
    let rounds: Vec<i64> = samples
        .iter()
        .map(|x| (x.round_at.unix_millis() - at(0).unix_millis()) / 1000)
        .collect();
    assert_eq!(rounds, vec![0, 0, 60, 60, 120, 120]);
    assert_eq!(samples[2].latency_ms, Some(10.0));
}

pub(crate) async fn addresses_round_trip_when_they_are_the_checks_own_host(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let icmp = check(
        &p.id,
        spec(CheckKind::Icmp, "1.1.1.1", None, CheckRole::Connectivity),
        0,
    );
    let http = check(
        &p.id,
        spec(
            CheckKind::Http,
            "http://[2606:4700:4700::1111]/",
            None,
            CheckRole::Connectivity,
        ),
        1,
    );
    s.create_checks(&[icmp.clone(), http.clone()])
        .await
        .unwrap();
    let with = |c: &Check, round: i64, family: Family, address: Option<&str>| {
        let mut m = ok(c, round, family, 5.0);
        m.address = address.map(str::to_owned);
        m
    };
    let results = vec![
        with(&icmp, 0, Family::V4, Some("1.1.1.1")),
        with(&icmp, 0, Family::V6, None),
        with(&icmp, 60, Family::V4, Some("1.0.0.1")),
        with(&http, 0, Family::V6, Some("2606:4700:4700::1111")),
        with(&http, 60, Family::V6, Some("2606:4700:4700::1001")),
    ];
    s.record_check_results(&p.id, &results, &AlertPolicy::default())
        .await
        .unwrap();
    let mut got = s
        .check_results(&CheckResultFilter::default(), 100, None)
        .await
        .unwrap()
        .items;
    let key = |m: &CheckMeasurement| (m.check_id.to_string(), m.round_at, m.family);
    got.sort_by_key(key);
    let mut want = results;
    want.sort_by_key(key);
    assert_eq!(got, want);
}
