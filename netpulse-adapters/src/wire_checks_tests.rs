use super::*;
use netpulse_domain::check::{CheckParams, UdpPayload};

const CHECK: &str = "44444444-4444-4444-8444-444444444444";

fn spec(kind: CheckKind, target: &str, port: Option<u16>) -> CheckSpec {
    CheckSpec {
        kind,
        target: target.to_owned(),
        port,
        family: FamilyMode::Dual,
        role: CheckRole::Connectivity,
        interval_s: 60,
        params: CheckParams::default_for(kind),
    }
}

fn measurement() -> CheckMeasurement {
    let mut m = CheckMeasurement::new(
        CheckId::parse(CHECK).unwrap(),
        Timestamp::from_unix_millis(1_780_747_534_905),
        Family::V6,
        Outcome::Ok,
    );
    m.address = Some("fd99:3::2".to_owned());
    m.latency_ms = Some(0.25);
    m.loss_pct = Some(20.0);
    m.jitter_ms = Some(0.5);
    m.rtt_min_ms = Some(0.1);
    m.rtt_max_ms = Some(1.5);
    m.rtt_stdev_ms = Some(0.3);
    m.degraded = true;
    m
}

#[test]
fn every_kind_round_trips_through_its_body() {
    let id = CheckId::parse(CHECK).unwrap();
    let mut http = spec(CheckKind::Http, "http://[2606:4700:4700::1111]/", None);
    http.params = CheckParams::Http {
        method_head: true,
        accepted: vec![(200, 299), (301, 301)],
        max_response_ms: Some(500),
        body_contains: Some("ok".to_owned()),
        timeout_ms: 5000,
    };
    let mut udp = spec(CheckKind::Udp, "10.99.3.2", Some(9));
    udp.params = CheckParams::Udp {
        payload: UdpPayload::Hex(vec![1, 2]),
        timeout_ms: 500,
    };
    for s in [
        spec(CheckKind::Icmp, "1.1.1.1", None),
        http,
        spec(CheckKind::Dns, "example.com", None),
        spec(CheckKind::Tcp, "example.com", Some(443)),
        udp,
    ] {
        let json = serde_json::to_value(CheckBody::new(&id, &s)).unwrap();
        let back: CheckBody = serde_json::from_value(json).unwrap();
        assert_eq!(back.into_check().unwrap(), (id.clone(), s));
    }
}

#[test]
fn missing_parameters_read_as_the_defaults() {
    for kind in CheckKind::ALL {
        let body: CheckBody = serde_json::from_value(serde_json::json!({
            "id": CHECK, "kind": kind.as_str(), "target": "example.com",
            "port": if matches!(kind, CheckKind::Tcp | CheckKind::Udp) { Some(53) } else { None },
            "family": "dual", "role": "service", "intervalSeconds": 60,
            "params": {},
        }))
        .unwrap();
        let body = if *kind == CheckKind::Http {
            CheckBody {
                target: "http://example.com/".to_owned(),
                ..body
            }
        } else {
            body
        };
        let (_, s) = body.into_check().unwrap();
        assert_eq!(s.params, CheckParams::default_for(*kind), "{kind}");
    }
    let json = serde_json::to_value(CheckBody::new(
        &CheckId::parse(CHECK).unwrap(),
        &spec(CheckKind::Http, "http://x/", None),
    ))
    .unwrap();
    assert_eq!(
        json["params"],
        serde_json::json!({"method": "GET", "accepted": [{"min": 200, "max": 399}],
            "maxResponseMs": null, "bodyContains": null, "timeoutMs": 10000})
    );
    assert_eq!(json["port"], Value::Null);
}

#[test]
fn invalid_checks_name_the_wire_field() {
    let id = CheckId::parse(CHECK).unwrap();
    let base = CheckBody::new(&id, &spec(CheckKind::Icmp, "1.1.1.1", None));
    let err = |b: CheckBody| b.into_check().unwrap_err().field;
    assert_eq!(
        err(CheckBody {
            id: "x".into(),
            ..base.clone()
        }),
        "id"
    );
    assert_eq!(
        err(CheckBody {
            kind: "ping".into(),
            ..base.clone()
        }),
        "kind"
    );
    assert_eq!(
        err(CheckBody {
            interval_seconds: 5,
            ..base.clone()
        }),
        "intervalSeconds"
    );
    assert_eq!(
        err(CheckBody {
            params: serde_json::json!({"count": 50}),
            ..base.clone()
        }),
        "params.count"
    );
    assert_eq!(
        err(CheckBody {
            params: serde_json::json!({"count": "five"}),
            ..base.clone()
        }),
        "params"
    );
    assert_eq!(
        err(CheckBody {
            family: "v6".into(),
            ..base
        }),
        "family"
    );
}

#[test]
fn a_due_checks_field_reads_into_a_set() {
    let body: DueChecksBody = serde_json::from_value(serde_json::json!({
        "version": "\"v1\"", "periodSeconds": 60, "items": [{
            "id": CHECK, "kind": "tcp", "target": "10.99.3.2", "port": 80, "family": "v4",
            "role": "connectivity", "intervalSeconds": 60, "params": {"timeoutMs": 500}}]
    }))
    .unwrap();
    let set = CheckSet::try_from(body).unwrap();
    assert_eq!(set.version.as_str(), "\"v1\"");
    assert!(!set.unchanged);
    assert_eq!(set.items[0].1.params, CheckParams::Tcp { timeout_ms: 500 });
    let back = DueChecksBody::new(&set);
    assert_eq!(CheckSet::try_from(back).unwrap(), set);
    let unchanged: DueChecksBody = serde_json::from_value(
        serde_json::json!({"version": "v1", "periodSeconds": 60, "unchanged": true}),
    )
    .unwrap();
    assert!(CheckSet::try_from(unchanged).unwrap().unchanged);
    let bad: DueChecksBody =
        serde_json::from_value(serde_json::json!({"version": "v1", "periodSeconds": 1})).unwrap();
    assert_eq!(CheckSet::try_from(bad).unwrap_err().field, "periodSeconds");
}

#[test]
fn a_result_round_trips_with_nulls_written() {
    let m = measurement();
    let json = serde_json::to_value(CheckResultBody::from(&m)).unwrap();
    assert_eq!(json["roundAt"], "2026-06-06T12:05:34.905Z");
    assert_eq!(json["failureClass"], Value::Null);
    assert_eq!(json["status"], Value::Null);
    assert_eq!(json["duringSpeedTest"], false);
    assert_eq!(json.as_object().unwrap().len(), 19);
    let back: CheckResultBody = serde_json::from_value(json).unwrap();
    assert_eq!(CheckMeasurement::try_from(back).unwrap(), m);
}

#[test]
fn the_after_resume_flag_is_optional_on_the_wire() {
    let mut m = measurement();
    // An older agent never sends it: false.
    let json = serde_json::to_value(CheckResultBody::from(&m)).unwrap();
    assert!(json.get("afterResume").is_none());
    let back: CheckResultBody = serde_json::from_value(json).unwrap();
    assert!(!back.after_resume);
    m.after_resume = true;
    let json = serde_json::to_value(CheckResultBody::from(&m)).unwrap();
    assert_eq!(json["afterResume"], true);
    let back: CheckResultBody = serde_json::from_value(json).unwrap();
    assert_eq!(CheckMeasurement::try_from(back).unwrap(), m);
}

#[test]
fn invalid_results_name_the_wire_field() {
    let err = |f: fn(&mut CheckResultBody)| {
        let mut b = CheckResultBody::from(&measurement());
        f(&mut b);
        CheckMeasurement::try_from(b).unwrap_err().field
    };
    assert_eq!(err(|b| b.check_id = "x".into()), "checkId");
    assert_eq!(err(|b| b.round_at = "yesterday".into()), "roundAt");
    assert_eq!(err(|b| b.family = "v5".into()), "family");
    assert_eq!(err(|b| b.outcome = "up".into()), "outcome");
    assert_eq!(err(|b| b.outcome = "fail".into()), "failureClass");
    assert_eq!(
        err(|b| b.failure_class = Some("boom".into())),
        "failureClass"
    );
    assert_eq!(err(|b| b.loss_pct = Some(101.0)), "lossPct");
    assert_eq!(err(|b| b.port_state = Some("ajar".into())), "portState");
    assert_eq!(err(|b| b.message = Some("m".repeat(201))), "message");
}

#[test]
fn answers_default_unknown_checks_to_zero() {
    let a: CheckResultsAnswerBody =
        serde_json::from_str(r#"{"recorded":3,"duplicates":1}"#).unwrap();
    assert_eq!(
        CheckPushOutcome::from(a),
        CheckPushOutcome {
            recorded: 3,
            duplicates: 1,
            unknown_checks: 0
        }
    );
}
