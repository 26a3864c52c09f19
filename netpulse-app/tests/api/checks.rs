//! Connectivity checks over HTTP: the REST CRUD with field-named errors, the default set of a
//! new probe, the `checks` field of `/due` with its version, the agent's batch push (exactly
//! once, unknown checks counted, limits), result pages, summaries and service-check alerts.

#![allow(clippy::float_cmp)] // the values compared are exact (parsed from the same text)

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp};
use crate::notifications::{Receiver, eventually};

pub(crate) async fn push_checks(t: &TestApp, agent: &Agent, body: &Value) -> (u16, Value) {
    let r = t
        .client
        .post(t.url(&format!("/api/v1/probes/{}/check-results", agent.probe.id)))
        .bearer_auth(&agent.token)
        .json(body)
        .send()
        .await
        .unwrap();
    crate::helpers::answer(r).await
}

async fn due_with(t: &TestApp, agent: &Agent, version: Option<&str>) -> Value {
    let mut url = t.url(&format!("/api/v1/probes/{}/due", agent.probe.id));
    if let Some(v) = version {
        url.push_str(&format!("?checksVersion={v}"));
    }
    let r = t
        .client
        .get(url)
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    let (s, v) = crate::helpers::answer(r).await;
    assert_eq!(s, 200, "{v}");
    v
}

pub(crate) fn result(check: &str, round: &str, family: &str, outcome: &str) -> Value {
    let failed = outcome != "ok";
    json!({
        "checkId": check, "roundAt": round, "family": family,
        "address": if family == "v4" { json!("192.0.2.7") } else { json!("2001:db8::7") },
        "outcome": outcome,
        "failureClass": if failed { json!("timeout") } else { json!(null) },
        "message": if failed { json!("no answer in 2 s") } else { json!(null) },
        "latencyMs": if failed { json!(null) } else { json!(12.5) },
        "lossPct": null, "jitterMs": null, "rttMinMs": null, "rttMaxMs": null,
        "rttStdevMs": null, "status": null, "ttfbMs": null, "portState": null,
        "dnsRating": null, "duringSpeedTest": false, "degraded": false,
    })
}

pub(crate) async fn create(t: &TestApp, body: Value) -> Value {
    let (s, c) = t.send(Method::POST, "/api/v1/checks", &body).await;
    assert_eq!(s, 201, "{c}");
    c
}

async fn field_of(t: &TestApp, method: Method, path: &str, body: Value) -> String {
    let (s, e) = t.send(method, path, &body).await;
    assert_eq!(s, 400, "{e}");
    e["field"].as_str().unwrap_or_default().to_owned()
}

pub(crate) async fn checks_crud_defaults_and_field_errors(t: &TestApp) {
    // The test servers switch the default set off (no test contacts public hosts); this test
    // checks it is created, and no agent runs it.
    netpulse_app::service::checks::set_defaults_for_new_probes(&t.app, true)
        .await
        .unwrap();
    let (s, created) = t
        .send(Method::POST, "/api/v1/probes", &json!({"name": "home"}))
        .await;
    assert_eq!(s, 201);
    let probe = created["probe"]["id"].as_str().unwrap().to_owned();
    // The default set: ICMP and HTTP to Cloudflare and Quad9 over each family's literal.
    let (s, list) = t.get(&format!("/api/v1/checks?probe={probe}")).await;
    assert_eq!(s, 200);
    let targets: Vec<(&str, &str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap(),
                c["target"].as_str().unwrap(),
                c["family"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("icmp", "1.1.1.1", "v4"),
            ("icmp", "2606:4700:4700::1111", "v6"),
            ("icmp", "9.9.9.9", "v4"),
            ("icmp", "2620:fe::fe", "v6"),
            ("http", "http://1.1.1.1/", "v4"),
            ("http", "http://[2606:4700:4700::1111]/", "v6"),
            ("http", "http://9.9.9.9/", "v4"),
            ("http", "http://[2620:fe::fe]/", "v6"),
        ]
    );
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["role"] == "connectivity" && c["intervalSeconds"] == 60)
    );
    assert_eq!(
        list["items"][0]["params"],
        json!({"count": 5, "lossWarnPct": 20.0})
    );
    assert_eq!(list["items"][4]["params"]["accepted"], json!(["200-399"]));

    // Create with every kind's parameters, then the errors, each naming its field.
    let tcp = create(
        t,
        json!({"probeId": probe, "kind": "tcp", "target": "example.org", "port": 443,
               "params": {"timeoutMs": 1500}, "labels": {"team": "web"}}),
    )
    .await;
    assert_eq!(tcp["role"], "service");
    assert_eq!(tcp["family"], "dual");
    assert_eq!(tcp["params"], json!({"timeoutMs": 1500}));
    assert_eq!(tcp["alertAfter"], json!(null));
    let http = create(
        t,
        json!({"probeId": probe, "kind": "http", "target": "https://example.org/health",
               "params": {"method": "HEAD", "accepted": ["200-204", "301"], "bodyContains": "ok",
                          "maxResponseMs": 800}, "alertAfter": 4}),
    )
    .await;
    assert_eq!(http["params"]["accepted"], json!(["200-204", "301"]));
    assert_eq!(http["params"]["method"], "HEAD");
    assert_eq!(
        (&http["alertAfter"], &http["recoverAfter"]),
        (&json!(4), &json!(2))
    );
    let base = json!({"probeId": probe, "kind": "tcp", "target": "example.org", "port": 22});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (json!({"probeId": probe, "target": "x.org"}), "kind"),
        (with("kind", json!("smtp")), "kind"),
        (with("port", json!(null)), "port"),
        (with("port", json!(70000)), "port"),
        (with("target", json!("bad host!")), "target"),
        (with("intervalSeconds", json!(5)), "intervalSeconds"),
        (with("family", json!("v5")), "family"),
        (with("params", json!({"count": 3})), "params.count"),
        (with("params", json!({"timeoutMs": 5})), "params.timeoutMs"),
        (
            with("params", json!({"timeoutMS": 500})),
            "params.timeoutMS",
        ),
        (
            with("params", json!({"timeoutMs": "x"})),
            "params.timeoutMs",
        ),
        (with("colour", json!("red")), "colour"),
        (with("probeId", json!("nope")), "probeId"),
    ] {
        assert_eq!(
            field_of(t, Method::POST, "/api/v1/checks", body.clone()).await,
            field,
            "{body}"
        );
    }
    let icmp_bad = json!({"probeId": probe, "kind": "icmp", "target": "1.1.1.1", "family": "v6"});
    assert_eq!(
        field_of(t, Method::POST, "/api/v1/checks", icmp_bad).await,
        "family"
    );
    let loss_bad = json!({"probeId": probe, "kind": "icmp", "target": "1.1.1.1",
                          "params": {"lossWarnPct": 120}});
    assert_eq!(
        field_of(t, Method::POST, "/api/v1/checks", loss_bad).await,
        "params.lossWarnPct"
    );

    // Read, update (merging), refuse what cannot change, delete.
    let id = tcp["id"].as_str().unwrap();
    let path = format!("/api/v1/checks/{id}");
    let (s, got) = t.get(&path).await;
    assert_eq!((s, &got["target"]), (200, &json!("example.org")));
    let (s, patched) = t
        .send(
            Method::PATCH,
            &path,
            &json!({"port": 8443, "enabled": false, "params": {"timeoutMs": 900}}),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(
        (&patched["port"], &patched["enabled"], &patched["target"]),
        (&json!(8443), &json!(false), &json!("example.org"))
    );
    assert_eq!(patched["params"]["timeoutMs"], 900);
    assert_eq!(patched["labels"], json!({"team": "web"}));
    assert_eq!(
        field_of(t, Method::PATCH, &path, json!({"kind": "udp"})).await,
        "kind"
    );
    assert_eq!(
        field_of(t, Method::PATCH, &path, json!({"probeId": probe})).await,
        "probeId"
    );
    assert_eq!(
        field_of(t, Method::PATCH, "/api/v1/checks/nope", json!({})).await,
        "checkId"
    );
    let (s, _) = t.send(Method::DELETE, &path, &json!({})).await;
    assert_eq!(s, 204);
    let (s, gone) = t.get(&path).await;
    assert_eq!((s, &gone["code"]), (404, &json!("not_found")));

    // Switched off, new probes get no default set.
    netpulse_app::service::checks::set_defaults_for_new_probes(&t.app, false)
        .await
        .unwrap();
    let bare = t.probe("bare").await;
    let (_, list) = t
        .get(&format!("/api/v1/checks?probe={}", bare.probe.id))
        .await;
    assert_eq!(list["items"], json!([]));
}

pub(crate) async fn due_carries_the_check_set_and_its_version(t: &TestApp) {
    let agent = t.probe("home").await;
    // The default set (test servers create none for new probes; no agent runs it here).
    netpulse_app::service::checks::add_defaults(&t.app, &agent.probe.id)
        .await
        .unwrap();
    let due = due_with(t, &agent, None).await;
    let checks = &due["checks"];
    assert_eq!(checks["periodSeconds"], 60);
    assert_eq!(checks["unchanged"], false);
    assert_eq!(checks["items"].as_array().unwrap().len(), 8);
    let version = checks["version"].as_str().unwrap().to_owned();
    // The agent client reads the set the server meant.
    let set: netpulse_adapters::wire_checks::DueChecksBody =
        serde_json::from_value(checks.clone()).unwrap();
    let set = netpulse_ports::agent_api::CheckSet::try_from(set).unwrap();
    assert_eq!(set.items.len(), 8);
    assert_eq!(set.items[4].1.target, "http://1.1.1.1/");
    // The same version: unchanged, no items.
    let again = due_with(t, &agent, Some(&version)).await;
    assert_eq!(
        again["checks"],
        json!({"version": version, "periodSeconds": 60, "unchanged": true, "items": []})
    );
    // Any change makes a new version; disabled checks are not handed out.
    let first = set.items[0].0.to_string();
    let (s, _) = t
        .send(
            Method::PATCH,
            &format!("/api/v1/checks/{first}"),
            &json!({"enabled": false}),
        )
        .await;
    assert_eq!(s, 200);
    let changed = due_with(t, &agent, Some(&version)).await;
    assert_ne!(changed["checks"]["version"], json!(version));
    assert_eq!(changed["checks"]["unchanged"], false);
    assert_eq!(changed["checks"]["items"].as_array().unwrap().len(), 7);
}

pub(crate) async fn check_results_are_taken_exactly_once(t: &TestApp) {
    netpulse_app::service::checks::set_defaults_for_new_probes(&t.app, false)
        .await
        .unwrap();
    let agent = t.probe("home").await;
    let probe = agent.probe.id.to_string();
    let c = create(
        t,
        json!({"probeId": probe, "kind": "tcp", "target": "example.org", "port": 443}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let ghost = netpulse_app::service::new_uuid();
    let batch = json!({"results": [
        result(&id, "2026-06-06T12:00:00.000Z", "v4", "ok"),
        result(&id, "2026-06-06T12:00:00.000Z", "v6", "fail"),
        result(&id, "2026-06-06T12:01:00.000Z", "v4", "ok"),
        result(&ghost, "2026-06-06T12:01:00.000Z", "v4", "ok"),
    ]});
    let (s, a) = push_checks(t, &agent, &batch).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        a,
        json!({"recorded": 3, "duplicates": 0, "unknownChecks": 1})
    );
    let (s, a) = push_checks(t, &agent, &batch).await;
    assert_eq!(
        (s, a),
        (
            200,
            json!({"recorded": 0, "duplicates": 3, "unknownChecks": 1})
        )
    );

    // The list, newest first, and filters.
    let (s, page) = t.get(&format!("/api/v1/check-results?check={id}")).await;
    assert_eq!(s, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["roundAt"], "2026-06-06T12:01:00Z");
    // Pushed without `afterResume` (as an older agent does), read back with it false.
    let mut pushed = result(&id, "2026-06-06T12:00:00Z", "v6", "fail");
    pushed["afterResume"] = json!(false);
    assert_eq!(items[1], pushed);
    let (_, page) = t
        .get(&format!(
            "/api/v1/check-results?probe={probe}&family=v4&limit=1"
        ))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["nextCursor"].as_str().unwrap();
    let (_, next) = t
        .get(&format!(
            "/api/v1/check-results?probe={probe}&family=v4&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(next["items"][0]["roundAt"], "2026-06-06T12:00:00Z");
    assert_eq!(next["nextCursor"], json!(null));
    for (query, field) in [
        ("family=v5", "family"),
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("cursor=zzz", "cursor"),
        ("check=nope", "check"),
    ] {
        let (s, e) = t.get(&format!("/api/v1/check-results?{query}")).await;
        assert_eq!((s, e["field"].as_str()), (400, Some(field)), "{query}: {e}");
    }

    // The summary of a window.
    let (s, sum) = t
        .get(&format!(
            "/api/v1/checks/{id}/summary?since=2026-06-06T11:00:00Z&until=2026-06-06T13:00:00Z"
        ))
        .await;
    assert_eq!(s, 200, "{sum}");
    assert_eq!(
        (
            &sum["all"]["count"],
            &sum["all"]["ok"],
            &sum["all"]["failed"]
        ),
        (&json!(3), &json!(2), &json!(1))
    );
    assert!((sum["all"]["successRatio"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(sum["all"]["latencyP50Ms"], 12.5);
    assert_eq!(sum["families"][1]["family"], "v6");
    assert_eq!(sum["families"][1]["figures"]["successRatio"], 0.0);

    // Bad input names the result and the field; nothing of a refused batch is stored.
    let mut bad = batch.clone();
    bad["results"][1]["outcome"] = json!("maybe");
    bad["results"][0]["roundAt"] = json!("2026-06-06T12:05:00.000Z");
    let (s, e) = push_checks(t, &agent, &bad).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (400, Some("results[1].outcome")),
        "{e}"
    );
    let mut bad = batch.clone();
    bad["results"][2]["latencyMs"] = json!(-1);
    let (s, e) = push_checks(t, &agent, &bad).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (400, Some("results[2].latencyMs")),
        "{e}"
    );
    let mut bad = batch.clone();
    bad["results"][0]["address"] = json!("2001:db8::1");
    let (s, e) = push_checks(t, &agent, &bad).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (400, Some("results[0].address")),
        "{e}"
    );
    let (_, page) = t.get(&format!("/api/v1/check-results?check={id}")).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);

    // Limits: 5,000 results, 4 MiB, the token before the body.
    let many: Vec<Value> = (0..5001)
        .map(|_| result(&id, "2026-06-06T12:00:00.000Z", "v4", "ok"))
        .collect();
    let (s, e) = push_checks(t, &agent, &json!({ "results": many })).await;
    assert_eq!((s, e["field"].as_str()), (400, Some("results")), "{e}");
    let huge = json!({"results": [], "pad": "x".repeat(5 * 1024 * 1024)});
    let (s, e) = push_checks(t, &agent, &huge).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (413, Some("payload_too_large")),
        "{e}"
    );
    let wrong = Agent {
        probe: agent.probe.clone(),
        token: "wrong".into(),
    };
    let (s, _) = push_checks(t, &wrong, &huge).await;
    assert_eq!(s, 401);
}

pub(crate) async fn a_failing_service_check_alerts_once_and_recovers(t: &TestApp) {
    netpulse_app::service::checks::set_defaults_for_new_probes(&t.app, false)
        .await
        .unwrap();
    let receiver = Receiver::start(&[200]).await;
    let (s, ch) = t
        .send(
            Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "hook", "type": "webhook",
                    "settings": {"url": receiver.url, "secret": "hmac-key-123"}}),
        )
        .await;
    assert_eq!(s, 201, "{ch}");
    let agent = t.probe("home").await;
    let c = create(
        t,
        json!({"probeId": agent.probe.id.to_string(), "kind": "http",
               "target": "https://shop.example/", "family": "v4"}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let round = |m: u32| format!("2026-06-06T12:{m:02}:00.000Z");
    // Two failures, a late good round from before (moves nothing), then the third failure.
    for batch in [
        vec![
            result(&id, &round(1), "v4", "fail"),
            result(&id, &round(2), "v4", "fail"),
        ],
        vec![result(&id, &round(0), "v4", "ok")],
        vec![
            result(&id, &round(3), "v4", "fail"),
            result(&id, &round(4), "v4", "fail"),
        ],
    ] {
        let (s, a) = push_checks(t, &agent, &json!({ "results": batch })).await;
        assert_eq!(s, 200, "{a}");
    }
    eventually("the alert", || receiver.kinds() == ["alert"]).await;
    let alert = receiver.got()[0].json();
    assert!(
        alert["subject"]
            .as_str()
            .unwrap()
            .contains("https://shop.example/"),
        "{alert}"
    );
    // One good round does not recover; the second does, once.
    for m in [5, 6, 7] {
        let (s, _) = push_checks(
            t,
            &agent,
            &json!({"results": [result(&id, &round(m), "v4", "ok")]}),
        )
        .await;
        assert_eq!(s, 200);
    }
    eventually("the recovery", || receiver.kinds() == ["alert", "recovery"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(receiver.kinds(), ["alert", "recovery"]);
}

/// Stores a few rounds of the probe's default ICMP check to 1.1.1.1 (for the metrics tests):
/// round −120 s ok, round −60 s ok with 20 % loss, and a late round −180 s that failed.
pub(crate) async fn seed_check_results(t: &TestApp, agent: &Agent) -> String {
    use netpulse_domain::check::{CheckMeasurement, FailureClass, Family, Outcome};
    // The test servers create no default set: add it to this probe (no agent runs it).
    netpulse_app::service::checks::add_defaults(&t.app, &agent.probe.id)
        .await
        .unwrap();
    let checks = netpulse_app::service::checks::list(&t.app, Some(&agent.probe.id))
        .await
        .unwrap();
    let icmp = checks.iter().find(|c| c.spec.target == "1.1.1.1").unwrap();
    let now = t.clock_now();
    let round = |s: i64| now.plus_seconds(s);
    let mut first = CheckMeasurement::new(icmp.id.clone(), round(-120), Family::V4, Outcome::Ok);
    first.latency_ms = Some(11.0);
    first.loss_pct = Some(0.0);
    let mut second = CheckMeasurement::new(icmp.id.clone(), round(-60), Family::V4, Outcome::Ok);
    second.latency_ms = Some(14.0);
    second.loss_pct = Some(20.0);
    let late = CheckMeasurement::failed(
        icmp.id.clone(),
        round(-180),
        Family::V4,
        Outcome::Fail,
        FailureClass::Timeout,
        "no reply to 5 echoes",
    );
    netpulse_app::service::check_results::ingest(&t.app, &agent.probe.id, vec![first, second])
        .await
        .unwrap();
    netpulse_app::service::check_results::ingest(&t.app, &agent.probe.id, vec![late])
        .await
        .unwrap();
    icmp.id.to_string()
}

/// `/metrics` per check and family: the latest round's figures (a late round moves nothing),
/// the stored results by outcome, up going to 0 when the latest round fails or goes stale.
pub(crate) async fn check_series_follow_the_latest_round(t: &TestApp) {
    let agent = t.probe("home").await;
    let id = seed_check_results(t, &agent).await;
    let labels = [("check_id", id.as_str()), ("family", "v4")];
    let e = crate::metrics::exposition(t).await;
    let one = |name: &str| e.value(name, &labels);
    assert_eq!(one("netpulse_check_up"), 1.0);
    assert_eq!(one("netpulse_check_latency_seconds"), 0.014);
    assert_eq!(one("netpulse_check_packet_loss_ratio"), 0.2);
    let runs = |o: &str| {
        e.value(
            "netpulse_check_runs_total",
            &[("check_id", id.as_str()), ("outcome", o)],
        )
    };
    assert_eq!(
        (runs("ok"), runs("fail"), runs("not_applicable")),
        (2.0, 1.0, 0.0)
    );
    let s = &e.find("netpulse_check_up", &labels)[0];
    assert_eq!(s.labels["probe"], "home");
    assert_eq!(s.labels["kind"], "icmp");
    assert_eq!(s.labels["target"], "1.1.1.1");
    // Checks without results export nothing yet.
    assert_eq!(e.find("netpulse_check_up", &[]).len(), 1);
    // Stale after the check's 3 intervals (180 s): up drops to 0, the figures stay.
    t.clock.advance_seconds(300);
    let e = crate::metrics::exposition(t).await;
    assert_eq!(e.value("netpulse_check_up", &labels), 0.0);
    assert_eq!(e.value("netpulse_check_latency_seconds", &labels), 0.014);
}

/// The Connectivity page over the real server with a session: the default set's rows with
/// their state, last failure and band, the window switch, and a probe without checks.
pub(crate) async fn the_connectivity_page_shows_each_check_and_family(t: &TestApp) {
    let mut w = crate::web_auth::WebClient::new(t);
    w.setup().await;
    let agent = t.probe("home").await;
    seed_check_results(t, &agent).await;
    let page = w
        .get(&format!("/connectivity?probe={}&window=6h", agent.probe.id))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("<title>Connectivity"), "{body}");
    assert!(body.contains("aria-current=\"page\">Connectivity</a>"));
    for text in [
        "icmp 1.1.1.1",
        "http http://[2620:fe::fe]/",
        "badge-healthy\">up",
        "no results",
        "Timed out — no reply to 5 echoes",
        "<polygon",
        "66.7 %",
    ] {
        assert!(body.contains(text), "{text} missing");
    }
    assert!(
        !body.contains("cx-dns"),
        "no DNS ratings without DNS checks"
    );
    let other = t.probe("bare").await;
    let (s, list) = t
        .get(&format!("/api/v1/checks?probe={}", other.probe.id))
        .await;
    assert_eq!(s, 200);
    for c in list["items"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        t.send(Method::DELETE, &format!("/api/v1/checks/{id}"), &json!({}))
            .await;
    }
    let empty = w
        .get(&format!("/connectivity?probe={}&window=7d", other.probe.id))
        .await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("No checks yet"), "{}", empty.body);
}

/// A DNS check asking two resolvers: each resolver and record type keeps its own figures
/// through the API and gets its own rating on the Connectivity page.
pub(crate) async fn dns_results_are_rated_per_resolver(t: &TestApp) {
    let mut w = crate::web_auth::WebClient::new(t);
    w.setup().await;
    let agent = t.probe("home").await;
    let probe = agent.probe.id.to_string();
    let c = create(
        t,
        json!({"probeId": probe, "kind": "dns", "target": "example.org", "family": "v4",
               "params": {"resolvers": ["192.0.2.53", "198.51.100.53"], "recordTypes": ["A"]}}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let now = t.clock_now();
    let rounds: Vec<Value> = (1..=3)
        .map(|k| {
            let at = now.plus_seconds(-60 * k).to_rfc3339();
            let mut r = result(&id, &at, "v4", "fail");
            r["address"] = json!("192.0.2.53");
            r["latencyMs"] = json!(7.0);
            r["dnsRating"] = json!("good");
            // The second resolver answers only in the newest round, slowly.
            let second = if k == 1 {
                json!({"resolver": "198.51.100.53", "recordType": "A", "sent": 3,
                       "succeeded": 1, "medianMs": 140.0})
            } else {
                json!({"resolver": "198.51.100.53", "recordType": "A", "sent": 3,
                       "succeeded": 0, "medianMs": null})
            };
            r["dnsResolvers"] = json!([
                {"resolver": "192.0.2.53", "recordType": "A", "sent": 3, "succeeded": 3,
                 "medianMs": 6.0 + k as f64},
                second,
            ]);
            r
        })
        .collect();
    let (s, a) = push_checks(t, &agent, &json!({ "results": rounds })).await;
    assert_eq!((s, &a["recorded"]), (200, &json!(3)), "{a}");

    let (s, page) = t.get(&format!("/api/v1/check-results?check={id}")).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        page["items"][0]["dnsResolvers"],
        json!([
            {"resolver": "192.0.2.53", "recordType": "A", "sent": 3, "succeeded": 3, "medianMs": 7.0},
            {"resolver": "198.51.100.53", "recordType": "A", "sent": 3, "succeeded": 1, "medianMs": 140.0},
        ])
    );
    let html = w
        .get(&format!("/connectivity?probe={probe}&window=6h"))
        .await
        .body;
    for text in [
        "DNS rating per resolver",
        "badge-healthy\">GOOD</span> <span class=\"cx-resolver\">192.0.2.53 A</span> <span class=\"muted small\">8 ms</span>",
        "badge-failed\">CRITICAL</span> <span class=\"cx-resolver\">198.51.100.53 A</span> <span class=\"muted small\">140 ms · 2 of 3 rounds failed</span>",
    ] {
        assert!(html.contains(text), "{text} missing in {html}");
    }

    // Figures that cannot be true are refused, naming the result and the field.
    for (entry, why) in [
        (
            json!({"resolver": "192.0.2.53", "recordType": "A", "sent": 3, "succeeded": 4, "medianMs": 1.0}),
            "more successes than queries",
        ),
        (
            json!({"resolver": "resolver.example", "recordType": "A", "sent": 3, "succeeded": 3, "medianMs": 1.0}),
            "not an address",
        ),
        (
            json!({"resolver": "192.0.2.53", "recordType": "MX", "sent": 3, "succeeded": 3, "medianMs": 1.0}),
            "no such type",
        ),
        (
            json!({"resolver": "192.0.2.53", "recordType": "A", "sent": 3, "succeeded": 0, "medianMs": 1.0}),
            "a median without an answer",
        ),
        (
            json!({"resolver": "192.0.2.53", "recordType": "A", "sent": 3}),
            "fields missing",
        ),
    ] {
        let mut r = result(&id, &now.plus_seconds(-600).to_rfc3339(), "v4", "ok");
        r["dnsResolvers"] = json!([entry]);
        let (s, e) = push_checks(t, &agent, &json!({"results": [r]})).await;
        assert_eq!(
            (s, e["field"].as_str()),
            (400, Some("results[0].dnsResolvers")),
            "{why}: {e}"
        );
    }
}
