//! The check engines against real targets in a test network (`netns.rs`): ICMP to hosts of
//! both families (as root through a raw socket, unprivileged through a ping socket, and the
//! `permission` result), a real HTTP server, a real dnsmasq, TCP and UDP ports open, closed
//! and filtered (nft drop rules), unreachable networks, a family without a route.

use netpulse_adapters::checks::CheckEngine;
use netpulse_adapters::checks::icmp::PERMISSION_FIX;
use netpulse_domain::Timestamp;
use netpulse_domain::check::{
    CheckKind, CheckMeasurement, CheckParams, CheckRole, CheckSpec, DnsRating, FailureClass,
    Family, FamilyMode, Outcome, PortState, RecordType, UdpPayload,
};
use netpulse_domain::id::CheckId;

use crate::netns::{B4, B6, C4, Net, in_netns};

const ID: &str = "44444444-4444-4444-8444-444444444444";
const ROUND: i64 = 1_780_747_534_905;

fn spec(kind: CheckKind, target: &str, port: Option<u16>, family: FamilyMode) -> CheckSpec {
    CheckSpec {
        kind,
        target: target.to_owned(),
        port,
        family,
        role: CheckRole::Connectivity,
        interval_s: 60,
        params: CheckParams::default_for(kind),
    }
    .validate()
    .unwrap()
}

fn with(mut s: CheckSpec, params: CheckParams) -> CheckSpec {
    s.params = params;
    s.validate().unwrap()
}

/// Runs the checks from the agent's namespace; one result list per check.
fn run_in(net: &Net, specs: Vec<CheckSpec>) -> Vec<Vec<CheckMeasurement>> {
    in_netns(&net.a, move || async move {
        let engine = CheckEngine::new();
        let id = CheckId::parse(ID).unwrap();
        let runs = specs
            .iter()
            .map(|s| engine.run(&id, s, Timestamp::from_unix_millis(ROUND)));
        futures_util::future::join_all(runs).await
    })
}

fn one(results: &[Vec<CheckMeasurement>], i: usize) -> &CheckMeasurement {
    assert_eq!(results[i].len(), 1, "{:?}", results[i]);
    &results[i][0]
}

#[test]
fn icmp_reaches_both_families_and_reports_loss_no_address_and_no_route() {
    let net = Net::new();
    let quick = |target: &str, family| {
        with(
            spec(CheckKind::Icmp, target, None, family),
            CheckParams::Icmp {
                count: 3,
                loss_warn_pct: 20.0,
                rtt_warn_ms: None,
            },
        )
    };
    let r = run_in(
        &net,
        vec![
            quick(B4, FamilyMode::Dual),
            quick(B6, FamilyMode::V6),
            quick(C4, FamilyMode::V4),
            quick("10.99.2.99", FamilyMode::V4),
            quick("2001:db8::1", FamilyMode::V6),
        ],
    );
    let (v4, v6) = (&r[0][0], &r[0][1]);
    assert_eq!((v4.family, v4.outcome), (Family::V4, Outcome::Ok), "{v4:?}");
    assert_eq!(v4.loss_pct, Some(0.0));
    assert!(
        v4.latency_ms.unwrap() > 0.0 && v4.rtt_stdev_ms.is_some(),
        "{v4:?}"
    );
    assert_eq!(v4.address.as_deref(), Some(B4));
    assert_eq!(v4.round_at.unix_millis(), ROUND);
    assert_eq!(
        (v6.outcome, v6.failure_class),
        (Outcome::NotApplicable, Some(FailureClass::NoAddress)),
        "a v4 literal has no v6 address: {v6:?}"
    );
    let b6 = one(&r, 1);
    assert_eq!(
        (b6.outcome, b6.loss_pct),
        (Outcome::Ok, Some(0.0)),
        "{b6:?}"
    );
    assert_eq!(one(&r, 2).outcome, Outcome::Ok);
    let lost = one(&r, 3);
    assert_eq!(
        (lost.outcome, lost.failure_class, lost.loss_pct),
        (Outcome::Fail, Some(FailureClass::Timeout), Some(100.0)),
        "{lost:?}"
    );
    let no_route = one(&r, 4);
    assert_eq!(
        (no_route.outcome, no_route.failure_class),
        (Outcome::NotApplicable, Some(FailureClass::NoRoute)),
        "{no_route:?}"
    );
}

/// The ICMP checks of an engine share one socket per family, kept between rounds: two checks
/// of the same address in the same round each get their own echoes back (none lost, none
/// counted twice), and so does the next round on the same socket.
#[test]
fn icmp_checks_of_the_same_host_share_a_socket_and_keep_their_own_replies() {
    let net = Net::new();
    let quick = |target: &str, family| {
        with(
            spec(CheckKind::Icmp, target, None, family),
            CheckParams::Icmp {
                count: 3,
                loss_warn_pct: 20.0,
                rtt_warn_ms: None,
            },
        )
    };
    let specs = [
        quick(B4, FamilyMode::V4),
        quick(B4, FamilyMode::V4),
        quick(B6, FamilyMode::V6),
        quick(B6, FamilyMode::V6),
    ];
    let rounds = in_netns(&net.a, move || async move {
        let engine = CheckEngine::new();
        let id = CheckId::parse(ID).unwrap();
        let mut rounds = Vec::new();
        for k in 0..2 {
            let at = Timestamp::from_unix_millis(ROUND + 60_000 * k);
            let runs = specs.iter().map(|s| engine.run(&id, s, at));
            rounds.push(futures_util::future::join_all(runs).await);
        }
        rounds
    });
    for (k, r) in rounds.iter().enumerate() {
        for i in 0..4 {
            let m = one(r, i);
            assert_eq!(
                (m.outcome, m.loss_pct, m.round_at.unix_millis()),
                (Outcome::Ok, Some(0.0), ROUND + 60_000 * k as i64),
                "round {k}, check {i}: {m:?}"
            );
        }
    }
}

#[test]
fn http_checks_time_a_real_server_and_classify_failures() {
    let mut net = Net::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("health"), "all good\n").unwrap();
    net.http_server(dir.path());
    net.nft_input(&net.b.clone(), &["tcp dport 81 drop"]);
    let http = |url: &str, accepted: Vec<(u16, u16)>, body: Option<&str>, timeout_ms| {
        with(
            spec(CheckKind::Http, url, None, FamilyMode::Dual),
            CheckParams::Http {
                method_head: false,
                accepted,
                max_response_ms: None,
                body_contains: body.map(str::to_owned),
                timeout_ms,
            },
        )
    };
    let r = run_in(
        &net,
        vec![
            http(
                "http://10.99.2.2/health",
                vec![(200, 299)],
                Some("good"),
                2000,
            ),
            http("http://[fd99:2::2]/missing", vec![(200, 399)], None, 2000),
            http(
                "http://10.99.2.2/health",
                vec![(200, 299)],
                Some("bad"),
                2000,
            ),
            http("http://10.99.2.2:81/", vec![(200, 299)], None, 500),
            http("http://10.99.2.2:82/", vec![(200, 299)], None, 2000),
        ],
    );
    let ok = &r[0][0];
    assert_eq!((ok.outcome, ok.status), (Outcome::Ok, Some(200)), "{ok:?}");
    assert!(ok.ttfb_ms.unwrap() <= ok.latency_ms.unwrap(), "{ok:?}");
    assert_eq!(r[0][1].failure_class, Some(FailureClass::NoAddress));
    let missing = &r[1][1];
    assert_eq!(
        (missing.outcome, missing.failure_class, missing.status),
        (Outcome::Fail, Some(FailureClass::HttpStatus), Some(404)),
        "{missing:?}"
    );
    assert_eq!(missing.address.as_deref(), Some(B6));
    assert_eq!(
        r[2][0].failure_class,
        Some(FailureClass::Condition),
        "{:?}",
        r[2]
    );
    assert_eq!(
        r[3][0].failure_class,
        Some(FailureClass::Timeout),
        "{:?}",
        r[3]
    );
    assert_eq!(
        r[4][0].failure_class,
        Some(FailureClass::Refused),
        "{:?}",
        r[4]
    );
}

#[test]
fn dns_checks_query_a_real_dnsmasq_over_both_families() {
    let mut net = Net::new();
    net.dns_server();
    let dns = |name: &str, types: Vec<RecordType>, expect_any| {
        with(
            spec(CheckKind::Dns, name, None, FamilyMode::Dual),
            CheckParams::Dns {
                resolvers: vec![B4.to_owned(), B6.to_owned()],
                record_types: types,
                expect_any,
                queries: 3,
            },
        )
    };
    let r = run_in(
        &net,
        vec![
            dns("ok.test", vec![RecordType::A, RecordType::Aaaa], false),
            dns("gone.test", vec![RecordType::A], false),
            dns("gone.test", vec![RecordType::Aaaa], true),
            dns("unknown.test", vec![RecordType::A], false),
            with(
                spec(CheckKind::Dns, "ok.test", None, FamilyMode::V4),
                CheckParams::Dns {
                    resolvers: vec![B4.to_owned(), C4.to_owned()],
                    record_types: vec![RecordType::A, RecordType::Aaaa],
                    expect_any: false,
                    queries: 3,
                },
            ),
        ],
    );
    for m in &r[0] {
        assert_eq!(m.outcome, Outcome::Ok, "{m:?}");
        assert_eq!(m.dns_rating, Some(DnsRating::Excellent), "{m:?}");
        assert!(m.latency_ms.unwrap() < 5.0);
    }
    assert_eq!(
        r[0][1].address.as_deref(),
        Some(B6),
        "the v6 result used the v6 resolver"
    );
    for nx in &r[1] {
        assert_eq!(
            (nx.outcome, nx.failure_class),
            (Outcome::Fail, Some(FailureClass::Dns))
        );
        assert!(
            nx.message.as_deref().unwrap().contains("NXDOMAIN"),
            "{nx:?}"
        );
        assert_eq!(nx.dns_rating, Some(DnsRating::Failed));
    }
    for nx in &r[2] {
        assert_eq!(
            nx.outcome,
            Outcome::Ok,
            "NXDOMAIN is ok when any answer is expected"
        );
    }
    let unknown = &r[3][0];
    assert_eq!(
        unknown.failure_class,
        Some(FailureClass::Dns),
        "{unknown:?}"
    );
    assert!(
        unknown.message.as_deref().unwrap().contains("REFUSED"),
        "{unknown:?}"
    );
    // Each resolver and record type is rated on its own: dnsmasq answers, the host without a
    // DNS server does not.
    let two = &r[4][0];
    let figures: Vec<(&str, RecordType, u8, u8, DnsRating)> = two
        .dns_resolvers
        .iter()
        .map(|f| {
            (
                f.resolver.as_str(),
                f.record_type,
                f.sent,
                f.succeeded,
                f.rating(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        vec![
            (B4, RecordType::A, 3, 3, DnsRating::Excellent),
            (B4, RecordType::Aaaa, 3, 3, DnsRating::Excellent),
            (C4, RecordType::A, 3, 0, DnsRating::Failed),
            (C4, RecordType::Aaaa, 3, 0, DnsRating::Failed),
        ],
        "{two:?}"
    );
    assert_eq!(two.outcome, Outcome::Fail, "every resolver must answer");
    assert!(two.message.as_deref().unwrap().contains(C4), "{two:?}");
    assert_eq!(
        r[0][0].dns_resolvers.len(),
        2,
        "one resolver of the family, two types"
    );
}

#[test]
fn tcp_ports_are_open_closed_filtered_unreachable_or_without_route() {
    let mut net = Net::new();
    let dir = tempfile::tempdir().unwrap();
    net.http_server(dir.path());
    net.nft_input(&net.b.clone(), &["tcp dport 81 drop"]);
    let tcp = |target: &str, port, family| {
        with(
            spec(CheckKind::Tcp, target, Some(port), family),
            CheckParams::Tcp { timeout_ms: 500 },
        )
    };
    let r = run_in(
        &net,
        vec![
            tcp(B4, 80, FamilyMode::V4),
            tcp(B6, 80, FamilyMode::V6),
            tcp(B4, 82, FamilyMode::V4),
            tcp(B6, 81, FamilyMode::V6),
            tcp("10.99.4.1", 80, FamilyMode::V4),
            tcp("2001:db8::1", 80, FamilyMode::V6),
        ],
    );
    let state = |i| (one(&r, i).outcome, one(&r, i).port_state);
    assert_eq!(state(0), (Outcome::Ok, Some(PortState::Open)));
    assert!(one(&r, 0).latency_ms.is_some());
    assert_eq!(state(1), (Outcome::Ok, Some(PortState::Open)));
    assert_eq!(state(2), (Outcome::Fail, Some(PortState::Closed)));
    assert_eq!(one(&r, 2).failure_class, Some(FailureClass::Refused));
    assert_eq!(state(3), (Outcome::Fail, Some(PortState::Filtered)));
    assert_eq!(
        state(4),
        (Outcome::Fail, Some(PortState::Unreachable)),
        "{:?}",
        r[4]
    );
    assert_eq!(
        (one(&r, 5).outcome, one(&r, 5).failure_class),
        (Outcome::NotApplicable, Some(FailureClass::NoRoute))
    );
}

#[test]
fn udp_ports_are_classified_like_nmap() {
    let mut net = Net::new();
    net.dns_server();
    net.nft_input(&net.b.clone(), &["udp dport 54 drop"]);
    let udp = |target: &str, port, payload: UdpPayload| {
        with(
            spec(CheckKind::Udp, target, Some(port), FamilyMode::Dual),
            CheckParams::Udp {
                payload,
                timeout_ms: 500,
            },
        )
    };
    let r = run_in(
        &net,
        vec![
            udp(B4, 53, UdpPayload::Dns),
            udp(B6, 53, UdpPayload::Dns),
            udp(B4, 55, UdpPayload::Ntp),
            udp(B6, 54, UdpPayload::Dns),
            udp(B4, 54, UdpPayload::Hex(vec![0xde, 0xad])),
        ],
    );
    let m = |i: usize| {
        r[i].iter()
            .find(|m| m.outcome != Outcome::NotApplicable)
            .unwrap()
    };
    assert_eq!(
        (m(0).outcome, m(0).port_state),
        (Outcome::Ok, Some(PortState::Open))
    );
    assert_eq!(
        (m(1).outcome, m(1).port_state),
        (Outcome::Ok, Some(PortState::Open))
    );
    assert_eq!(
        (m(2).outcome, m(2).port_state, m(2).failure_class),
        (
            Outcome::Fail,
            Some(PortState::Closed),
            Some(FailureClass::Refused)
        )
    );
    assert_eq!(
        (m(3).outcome, m(3).port_state, m(3).failure_class),
        (
            Outcome::Fail,
            Some(PortState::OpenFiltered),
            Some(FailureClass::Timeout)
        )
    );
    assert_eq!(
        (m(4).outcome, m(4).port_state, m(4).degraded),
        (Outcome::Ok, Some(PortState::OpenFiltered), true),
        "a raw payload's silence is unverified, not a failure"
    );
}

const CHILD_ENV: &str = "NETPULSE_ICMP_CHILD_TARGET";

/// Not a test on its own: the unprivileged ICMP test runs this test binary again, as uid
/// 65534 inside the agent's namespace, with [`CHILD_ENV`] set; it prints one result line.
#[test]
#[ignore = "run by icmp_runs_unprivileged_through_ping_sockets_or_names_the_fix"]
fn icmp_child() {
    let target = std::env::var(CHILD_ENV).expect("run by the unprivileged ICMP test");
    let spec = with(
        spec(CheckKind::Icmp, &target, None, FamilyMode::Dual),
        CheckParams::Icmp {
            count: 2,
            loss_warn_pct: 20.0,
            rtt_warn_ms: None,
        },
    );
    let results = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let engine = CheckEngine::new();
            engine
                .run(&CheckId::parse(ID).unwrap(), &spec, Timestamp::EPOCH)
                .await
        });
    for m in results
        .iter()
        .filter(|m| m.outcome != Outcome::NotApplicable)
    {
        println!(
            "RESULT outcome={} class={} message={}",
            m.outcome,
            m.failure_class.map_or("-", |c| c.as_str()),
            m.message.as_deref().unwrap_or("-")
        );
    }
}

fn unprivileged_child(net: &Net, target: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &net.a,
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
        ])
        .args(["--clear-groups", "--"])
        .arg(exe)
        .args([
            "checks_netns::icmp_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .args(["--test-threads=1"])
        .env(CHILD_ENV, target)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.find("RESULT ").map(|at| l[at..].to_owned()))
        .unwrap_or_else(|| panic!("no result line in {stdout}"))
}

#[test]
fn icmp_runs_unprivileged_through_ping_sockets_or_names_the_fix() {
    let net = Net::new();
    // The kernel default "1 0": no group may open ping sockets, and uid 65534 has no
    // CAP_NET_RAW either.
    net.sysctl(&net.a, "net.ipv4.ping_group_range", "1 0");
    for target in [B4, B6] {
        let line = unprivileged_child(&net, target);
        assert!(
            line.contains("outcome=local_error class=permission"),
            "{line}"
        );
        assert!(line.contains(PERMISSION_FIX), "{line}");
    }
    // The IPv4 sysctl opens ping sockets for both families.
    net.sysctl(&net.a, "net.ipv4.ping_group_range", "0 2147483647");
    for target in [B4, B6] {
        let line = unprivileged_child(&net, target);
        assert!(line.contains("outcome=ok"), "{target}: {line}");
    }
}
