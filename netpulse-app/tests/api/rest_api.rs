//! The REST API.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, ookla_stdout, push_body};

pub(crate) async fn probes_crud(t: &TestApp) {
    let (s, created) = t
        .send(
            Method::POST,
            "/api/v1/probes",
            &json!({"name": "home", "labels": {"site": "berlin"}}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["probe"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["token"].as_str().unwrap().len(), 43);
    assert_eq!(created["probe"]["labels"]["site"], "berlin");
    let (s, bad) = t
        .send(Method::POST, "/api/v1/probes", &json!({"name": "  "}))
        .await;
    assert_eq!((s, &bad["field"]), (400, &json!("name")));
    let (s, bad) = t
        .send(
            Method::POST,
            "/api/v1/probes",
            &json!({"name": "x", "labels": {"1bad": "v"}}),
        )
        .await;
    assert_eq!((s, &bad["field"]), (400, &json!("labels")), "{bad}");

    let (s, list) = t.get("/api/v1/probes").await;
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["nextCursor"], json!(null));

    let (s, p) = t
        .send(
            Method::PATCH,
            &format!("/api/v1/probes/{id}"),
            &json!({"enabled": false}),
        )
        .await;
    assert_eq!((s, &p["enabled"]), (200, &json!(false)));
    assert_eq!(
        t.get(&format!("/api/v1/probes/{id}")).await.1["enabled"],
        false
    );

    let pid = netpulse_domain::id::ProbeId::parse(&id).unwrap();
    t.connection(&pid, "wan1", &[]).await;
    let (s, body) = t
        .send(Method::DELETE, &format!("/api/v1/probes/{id}"), &json!({}))
        .await;
    assert_eq!(s, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("still has connections")
    );
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_eq!(t.get(&format!("/api/v1/probes/{unknown}")).await.0, 404);
    assert_eq!(t.get("/api/v1/probes/x").await.1["field"], "probeId");
}

pub(crate) async fn connections_crud_and_validation(t: &TestApp) {
    let agent = t.probe("home").await;
    let pid = agent.probe.id.as_str();
    let (s, c) = t
        .send(
            Method::POST,
            "/api/v1/connections",
            &json!({
                "probeId": pid, "name": "fibre", "downloadMbps": 250, "uploadMbps": 40,
                "serverPool": ["ookla:12345", "iperf3://10.0.0.1?protocol=udp"],
                "schedule": "cron", "cron": ["0 8,20 * * *"], "timezone": "Europe/Berlin",
                "maxPingMs": null, "maxPacketLossPercent": 1.5, "labels": {"rack": "4"},
                "alertAfter": 5, "sourceInterface": "eth1"
            }),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(
        c["cron"],
        json!(["0 8,20 * * *"]),
        "a comma inside an expression is not a separator"
    );
    assert_eq!(c["timezone"], "Europe/Berlin");
    assert_eq!(c["maxPingMs"], json!(null), "null disables the cap");
    assert_eq!(c["maxJitterMs"], json!(50.0), "omitted keeps the default");
    assert_eq!(c["alertAfter"], 5);
    assert_eq!(c["recoverAfter"], 1);
    assert_eq!(c["testsPerDay"], json!(null));
    let id = c["id"].as_str().unwrap().to_owned();

    let (s, u) = t
        .send(
            Method::PATCH,
            &format!("/api/v1/connections/{id}"),
            &json!({"schedule": "even", "testsPerDay": 96, "name": "fibre2"}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(
        (&u["schedule"], &u["testsPerDay"], &u["jitterSeconds"]),
        (&json!("even"), &json!(96), &json!(120))
    );
    assert_eq!(u["downloadMbps"], 250, "untouched fields keep their value");
    assert_eq!(
        t.get(&format!("/api/v1/connections/{id}")).await.1["name"],
        "fibre2"
    );

    let bad = |body: serde_json::Value, field: &'static str| async move {
        let (s, answer) = t.send(Method::POST, "/api/v1/connections", &body).await;
        assert_eq!(
            (s, answer["field"].as_str()),
            (400, Some(field)),
            "{body} → {answer}"
        );
        answer
    };
    bad(
        json!({"probeId": pid, "name": "x", "testsPerDay": 0}),
        "testsPerDay",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "testsPerDay": 2000}),
        "testsPerDay",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "cron": ["61 * * * *"]}),
        "cron",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "cron": ["0 0 * * *"], "timezone": "Mars/Base"}),
        "timezone",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "minDownloadRatio": 1.5}),
        "minDownloadRatio",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "maxPingMs": -1}),
        "maxPingMs",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "serverPool": ["a b"]}),
        "serverPool",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "colour": "pink"}),
        "colour",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "recoveryHealthyCount": 0}),
        "recoveryHealthyCount",
    )
    .await;
    bad(
        json!({"probeId": pid, "name": "x", "downloadMbps": -5}),
        "downloadMbps",
    )
    .await;
    bad(json!({"probeId": pid, "name": "x", "nmae": "typo"}), "nmae").await;
    bad(json!({"probeId": pid}), "name").await;
    bad(json!({"name": "x"}), "probeId").await;
    bad(
        json!({"probeId": "00000000-0000-4000-8000-000000000000", "name": "x"}),
        "probeId",
    )
    .await;
    let (s, answer) = t
        .send(
            Method::PATCH,
            &format!("/api/v1/connections/{id}"),
            &json!({"probeId": pid}),
        )
        .await;
    assert_eq!((s, &answer["field"]), (400, &json!("probeId")));

    let (_, list) = t.get(&format!("/api/v1/connections?probe={pid}")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (s, _) = t
        .send(
            Method::DELETE,
            &format!("/api/v1/connections/{id}"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(t.get(&format!("/api/v1/connections/{id}")).await.0, 404);
}

pub(crate) async fn measurements_list_filter_and_detail(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        t.clock.advance_seconds(60);
        let (stdout, code) = if i == 2 {
            (
                "[2024-01-01 00:00:00.000] [error] Cannot open socket".to_owned(),
                2,
            )
        } else {
            (ookla_stdout(), 0)
        };
        let (s, r) = t
            .push(
                &agent,
                &push_body(t.clock_now(), &c, None, &stdout, code, true),
            )
            .await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    let (s, page) = t.get("/api/v1/measurements?limit=2").await;
    assert_eq!(s, 200);
    assert_eq!(page["items"][0]["id"], ids[4].as_str(), "newest first");
    let mut seen: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = page["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let (_, next) = t
            .get(&format!("/api/v1/measurements?limit=2&cursor={c}"))
            .await;
        seen.extend(
            next["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned()),
        );
        cursor = next["nextCursor"].as_str().map(str::to_owned);
    }
    let mut want = ids.clone();
    want.reverse();
    assert_eq!(seen, want);

    let (_, failed) = t.get("/api/v1/measurements?status=failed").await;
    let item = &failed["items"][0];
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (&item["failureClass"], &item["healthy"]),
        (&json!("network"), &json!(false))
    );
    assert_eq!(item["packetLossPercent"], json!(null));
    let (_, m) = t.get(&format!("/api/v1/measurements/{}", ids[0])).await;
    assert_eq!(m["packetLossPercent"], json!(0.0));
    assert_eq!(m["serverId"], "60440");
    assert_eq!(m["pingMs"], json!(17.148));
    assert_eq!(m["exitCode"], 0);
    assert!(
        m["stdout"]
            .as_str()
            .unwrap()
            .contains("\"type\": \"result\"")
    );
    let (_, sorted) = t
        .get("/api/v1/measurements?sort=ping_asc&verdict=unhealthy&scheduled=true")
        .await;
    assert_eq!(sorted["items"].as_array().unwrap().len(), 5);
    for (query, field) in [
        ("sort=fastest", "sort"),
        ("limit=0", "limit"),
        ("status=ok", "status"),
        ("since=yesterday", "since"),
        ("connection=x", "connectionId"),
        ("cursor=garbage", "cursor"),
        (
            "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            "since",
        ),
    ] {
        let (s, body) = t.get(&format!("/api/v1/measurements?{query}")).await;
        assert_eq!(
            (s, body["field"].as_str()),
            (400, Some(field)),
            "{query} → {body}"
        );
    }
    assert_eq!(
        t.get("/api/v1/measurements/00000000-0000-4000-8000-000000000000")
            .await
            .0,
        404
    );
}

pub(crate) async fn rest_requires_an_api_token(t: &TestApp) {
    let agent = t.probe("home").await;
    for path in [
        "/api/v1/probes",
        "/api/v1/connections",
        "/api/v1/measurements",
    ] {
        let r = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let r = t
            .client
            .get(t.url(path))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
        // A probe token is not an API token.
        let r = t
            .client
            .get(t.url(path))
            .bearer_auth(&agent.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
}

pub(crate) async fn api_token_use_is_recorded_at_most_once_a_minute(t: &TestApp) {
    let last_used = || async {
        let tokens = netpulse_app::service::api_tokens::list(&t.app)
            .await
            .unwrap();
        assert_eq!(tokens.len(), 1);
        tokens[0].last_used_at
    };
    assert_eq!(last_used().await, None);
    let first = netpulse_ports::clock::Clock::now(&*t.clock);
    assert_eq!(t.get("/api/v1/probes").await.0, 200);
    assert_eq!(last_used().await, Some(first));
    // Within the minute: not written again.
    t.clock.advance_seconds(30);
    assert_eq!(t.get("/api/v1/probes").await.0, 200);
    assert_eq!(last_used().await, Some(first));
    t.clock.advance_seconds(30);
    let later = netpulse_ports::clock::Clock::now(&*t.clock);
    assert_eq!(t.get("/api/v1/probes").await.0, 200);
    assert_eq!(last_used().await, Some(later));
}
