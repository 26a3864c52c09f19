//! The audit log over HTTP: changes made through the REST API and the dashboard are recorded
//! with their actor; `GET /api/v1/audit` pages with a keyset cursor (admins only); the
//! Settings → Audit page lists them; housekeeping prunes entries by age.

use netpulse_app::service::{audit, users};
use netpulse_domain::access::Role;
use serde_json::json;

use crate::helpers::TestApp;
use crate::web_auth::{EMAIL, WebClient};

pub(crate) async fn audit_log_records_pages_and_prunes(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    // A change through the dashboard, with the signed-in admin as actor.
    users::create_with_role(
        &t.app,
        "op@example.org".into(),
        "correct horse battery".into(),
        Role::Operator,
    )
    .await
    .unwrap();
    let op = users::by_email(&t.app, "op@example.org")
        .await
        .unwrap()
        .unwrap();
    let token = w.csrf("/settings/users").await;
    let a = w
        .post_form(
            &format!("/settings/users/{}", op.id),
            &[("_csrf", &token), ("action", "role"), ("role", "viewer")],
        )
        .await;
    assert_eq!(a.status, 303);
    // And through the REST API with the tests' service token.
    let agent = t.probe("audit-probe").await;
    let (s, body) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/connections",
            &json!({"probeId": agent.probe.id.to_string(), "name": "fibre"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");

    let (s, page) = t.get("/api/v1/audit?limit=2").await;
    assert_eq!(s, 200, "{page}");
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "connection.create");
    assert_eq!(entries[0]["actorEmail"], "tests");
    assert_eq!(entries[1]["action"], "user.role");
    assert_eq!(entries[1]["actorEmail"], EMAIL);
    assert_eq!(entries[1]["subject"], "user:op@example.org");
    assert_eq!(entries[1]["detail"], "operator → viewer");
    let next = page["next"].as_str().unwrap().to_owned();
    let (s, older) = t.get(&format!("/api/v1/audit?limit=2&before={next}")).await;
    assert_eq!(s, 200);
    let older_actions: Vec<&str> = older["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(older_actions.contains(&"user.create"), "{older}");
    assert!(
        !older_actions.contains(&"user.role"),
        "pages do not overlap"
    );
    let (s, body) = t.get("/api/v1/audit?before=nonsense").await;
    assert_eq!((s, body["field"].as_str()), (400, Some("before")));
    let (s, body) = t.get("/api/v1/audit?limit=0").await;
    assert_eq!((s, body["field"].as_str()), (400, Some("limit")));

    // The page, for admins only.
    let html = w.get("/settings/audit").await;
    assert_eq!(html.status, 200);
    assert!(html.body.contains("user.role") && html.body.contains("operator → viewer"));
    let mut v = WebClient::new(t);
    assert_eq!(
        v.login("op@example.org", "correct horse battery")
            .await
            .status,
        303
    );
    assert_eq!(v.get("/settings/audit").await.status, 403);
    let (s, _) = v.get_json("/settings/audit").await;
    assert_eq!(s, 403);

    // Housekeeping prunes entries older than 400 days.
    t.clock.advance_seconds(401 * 86_400);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = audit::list(&t.app, None, 200).await.unwrap().entries.len();
        if left == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{left} entries left");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
