//! `openapi/openapi.json` must equal the document the server serves. Regenerate it with
//! `UPDATE_OPENAPI=1 cargo test -p netpulse-app --test api openapi`.

#[tokio::test]
async fn openapi_document_is_current() {
    let t = crate::helpers::spawn(crate::helpers::Db::Sqlite)
        .await
        .unwrap();
    let served = t
        .client
        .get(t.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, netpulse_app::startup::openapi_json(&t.app));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let document = format!("{served}\n");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &document).unwrap();
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored == document,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p netpulse-app --test api openapi`"
    );
    // The interactive viewer is served too.
    let docs = t.client.get(t.url("/api/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

fn schemas_reached_from(doc: &serde_json::Value, part: &str) -> std::collections::BTreeSet<String> {
    fn refs(v: &serde_json::Value, into: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => {
                            into.insert(r.trim_start_matches("#/components/schemas/").to_owned());
                        }
                        _ => refs(v, into),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, into)),
            _ => {}
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            refs(&op[part], &mut names);
        }
    }
    loop {
        let mut more = names.clone();
        for n in &names {
            refs(&doc["components"]["schemas"][n], &mut more);
        }
        if more.len() == names.len() {
            return names;
        }
        names = more;
    }
}

/// Every key an answer may send as `null` is declared nullable, path ids are UUIDs, and the
/// schemas of request bodies are closed and otherwise exactly what the DTOs declare (so the server's rules and
/// the document agree).
#[tokio::test]
async fn the_document_declares_nulls_and_uuids() {
    let t = crate::helpers::spawn(crate::helpers::Db::Sqlite)
        .await
        .unwrap();
    let served: serde_json::Value =
        serde_json::from_str(&netpulse_app::startup::openapi_json(&t.app)).unwrap();
    let schemas = &served["components"]["schemas"];
    for (schema, key) in [
        ("Problem", "field"),
        ("ConnectionDto", "alertAfter"),
        ("ConnectionDto", "maxPingMs"),
        ("ProbeDto", "lastPollAt"),
        ("ProbeListDto", "nextCursor"),
        ("ConnectionListDto", "nextCursor"),
        ("MeasurementPageDto", "nextCursor"),
        ("DeliveryPageDto", "nextCursor"),
        ("ChannelDto", "quietHours"),
        ("TaskDto", "poolEntry"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][key]["nullable"], true,
            "{schema}.{key} is sent as null"
        );
    }
    // Every optional key of every answer.
    for name in schemas_reached_from(&served, "responses") {
        let schema = &schemas[&name];
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        for (key, property) in schema["properties"].as_object().into_iter().flatten() {
            if !required.contains(&serde_json::json!(key)) {
                assert_eq!(property["nullable"], true, "{name}.{key}");
            }
        }
    }
    // Path ids.
    let mut ids = 0;
    for item in served["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    assert_eq!(p["schema"]["format"], "uuid", "{p}");
                    ids += 1;
                }
            }
        }
    }
    assert!(ids >= 20, "{ids} path ids");
    // Every operation that needs a credential documents the 401 it answers without one.
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security").is_some() {
                assert!(
                    op["responses"].get("401").is_some(),
                    "{method} {path}: no 401"
                );
            }
        }
    }
    // Request bodies: declared by the DTOs, untouched by the pass.
    let raw: serde_json::Value =
        serde_json::from_str(&netpulse_app::http::openapi(&t.app).spec()).unwrap();
    let requested = schemas_reached_from(&served, "requestBody");
    assert!(requested.contains("ProbePatchDto") && requested.contains("ConnectionInputDto"));
    for name in requested {
        let mut declared = schemas[&name].clone();
        assert_eq!(declared["additionalProperties"], false, "{name}");
        declared
            .as_object_mut()
            .unwrap()
            .remove("additionalProperties");
        // Unsigned bounds are added everywhere; nullability must be the DTO's own.
        for p in declared["properties"]
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            if let Some(m) = p.as_object_mut()
                && m.get("format")
                    .and_then(|f| f.as_str())
                    .is_some_and(|f| f.starts_with("uint"))
            {
                m.remove("minimum");
                m.remove("maximum");
            }
        }
        assert_eq!(
            declared, raw["components"]["schemas"][&name],
            "{name} is used by a request: annotate its optional keys with #[oai(nullable)] \
             (or refuse null for them)"
        );
    }
    let input = &schemas["ConnectionInputDto"]["properties"];
    assert_eq!(input["maxPingMs"]["nullable"], true);
    assert_eq!(input["alertAfter"]["nullable"], true);
    assert!(input["name"].get("nullable").is_none());
    assert!(
        schemas["ProbePatchDto"]["properties"]["enabled"]
            .get("nullable")
            .is_none()
    );
    // Create and change have their own bodies: `probeId` only on create; any subset of the
    // notification settings on change.
    assert!(input.get("probeId").is_none());
    assert_eq!(
        schemas["NewConnectionDto"]["required"],
        serde_json::json!(["probeId"])
    );
    assert_eq!(
        schemas["NewConnectionDto"]["properties"]["maxPingMs"]["nullable"],
        true
    );
    assert!(
        schemas["NotificationSettingsPatchDto"]
            .get("required")
            .is_none()
    );
    assert_eq!(input["jitterSeconds"]["minimum"], 0);
}

/// `null` is accepted where the document declares it and refused, naming the key, elsewhere;
/// a malformed path id is 400 naming it.
pub(crate) async fn null_only_where_declared_and_malformed_ids(t: &crate::helpers::TestApp) {
    use reqwest::Method;
    use serde_json::json;
    let agent = t.probe("home").await;
    let probe = agent.probe.id.to_string();
    let (s, body) = t
        .send(
            Method::PATCH,
            &format!("/api/v1/probes/{probe}"),
            &json!({"enabled": null}),
        )
        .await;
    assert_eq!((s, &body["field"]), (400, &json!("enabled")), "{body}");
    assert_eq!(body["code"], "invalid");
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let path = format!("/api/v1/connections/{}", c.id);
    for key in ["name", "downloadMbps", "serverPool", "labels", "enabled"] {
        let (s, body) = t.send(Method::PATCH, &path, &json!({ key: null })).await;
        assert_eq!((s, &body["field"]), (400, &json!(key)), "{key}: {body}");
    }
    let (s, body) = t
        .send(Method::PATCH, &path, &json!({"probeId": probe}))
        .await;
    assert_eq!((s, &body["field"]), (400, &json!("probeId")), "{body}");
    let (s, body) = t
        .send(
            Method::PATCH,
            &path,
            &json!({"maxPingMs": null, "alertAfter": null}),
        )
        .await;
    assert_eq!((s, &body["maxPingMs"]), (200, &json!(null)), "{body}");
    let (s, body) = t
        .send(
            Method::POST,
            &format!("{path}/run"),
            &json!({"poolEntry": null}),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    let (s, body) = t
        .send(
            Method::POST,
            "/api/v1/probes",
            &json!({"name": "x", "labels": null}),
        )
        .await;
    assert_eq!((s, &body["field"]), (400, &json!("labels")), "{body}");
    for (method, path, field) in [
        (Method::GET, "/api/v1/probes/not-a-uuid", "probeId"),
        (Method::PATCH, "/api/v1/connections/42", "connectionId"),
        (Method::GET, "/api/v1/measurements/x", "measurementId"),
    ] {
        let (s, body) = t.send(method, path, &json!({})).await;
        assert_eq!((s, &body["field"]), (400, &json!(field)), "{path}: {body}");
    }
}

/// A 405 names the methods the path has (RFC 9110).
pub(crate) async fn method_not_allowed_carries_allow(t: &crate::helpers::TestApp) {
    let agent = t.probe("home").await;
    for (method, path, allow) in [
        (
            reqwest::Method::PUT,
            format!("/api/v1/probes/{}", agent.probe.id),
            "DELETE, GET, HEAD, PATCH",
        ),
        (
            reqwest::Method::DELETE,
            "/api/v1/probes".to_owned(),
            "GET, HEAD, POST",
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/probes/{}/due", agent.probe.id),
            "GET, HEAD",
        ),
    ] {
        let r = t
            .client
            .request(method, t.url(&path))
            .bearer_auth(&t.api_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{path}");
        assert_eq!(
            r.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{path}"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed");
    }
}

/// The GET-only routes outside the document (`/metrics`, the document itself) refuse other
/// methods with 405 and `Allow` too.
#[tokio::test]
async fn get_only_routes_answer_405_with_allow() {
    let t = crate::helpers::spawn_with_metrics(
        crate::helpers::Db::Sqlite,
        Some(crate::metrics::config(&[])),
    )
    .await
    .unwrap();
    for path in ["/metrics", "/api/openapi.json"] {
        for method in [reqwest::Method::PUT, reqwest::Method::POST] {
            let r = t.client.request(method, t.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 405, "{path}");
            assert_eq!(
                r.headers().get("allow").and_then(|v| v.to_str().ok()),
                Some("GET, HEAD"),
                "{path}"
            );
        }
        let r = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let r = t.client.head(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
}
