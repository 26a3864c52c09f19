//! The Users page and what each role sees: an admin creates accounts with roles, changes a
//! role, disables and deletes (the last admin stays, 409 shown); buttons a role cannot use are
//! not shown; a new API token is shown once after a redirect (a reload shows nothing and
//! creates nothing).

use crate::helpers::TestApp;
use crate::web_auth::{EMAIL, PASSWORD, WebClient};

fn csrf_of(body: &str) -> String {
    crate::web_auth::csrf_of(body)
}

pub(crate) async fn admins_manage_users_and_roles_hide_buttons(t: &TestApp) {
    let mut admin = WebClient::new(t);
    admin.setup().await;
    let page = admin.get("/settings/users").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(EMAIL), "{}", page.body);
    let csrf = csrf_of(&page.body);
    // A bad e-mail and a short password are named.
    let bad = admin
        .post_form(
            "/settings/users",
            &[
                ("_csrf", &csrf),
                ("email", "nope"),
                ("password", "short"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("email-error") && bad.body.contains("password-error"));
    for (email, role) in [
        ("viewer@example.org", "viewer"),
        ("op@example.org", "operator"),
    ] {
        let a = admin
            .post_form(
                "/settings/users",
                &[
                    ("_csrf", &csrf),
                    ("email", email),
                    ("password", PASSWORD),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(
            (a.status, a.location.as_deref()),
            (303, Some("/settings/users?done=created")),
            "{}",
            a.body
        );
    }
    let list = netpulse_app::service::users::list(&t.app).await.unwrap();
    let id_of = |email: &str| {
        list.iter()
            .find(|u| u.email == email)
            .unwrap()
            .id
            .as_str()
            .to_owned()
    };
    // The last admin cannot demote themself: 409 with the reason on the page.
    let me = id_of(EMAIL);
    let refused = admin
        .post_form(
            &format!("/settings/users/{me}"),
            &[("_csrf", &csrf), ("action", "role"), ("role", "viewer")],
        )
        .await;
    assert_eq!(refused.status, 409);
    assert!(
        refused.body.contains("last enabled admin"),
        "{}",
        refused.body
    );

    // A viewer sees no buttons they cannot use, and the server refuses them anyway.
    let mut viewer = WebClient::new(t);
    let a = viewer.login("viewer@example.org", PASSWORD).await;
    assert_eq!(a.status, 303);
    let probes = viewer.get("/settings/probes").await;
    assert_eq!(probes.status, 200);
    assert!(
        !probes.body.contains("Create probe"),
        "viewer sees Create probe"
    );
    let settings = viewer.get("/settings").await;
    assert!(!settings.body.contains("general-title"));
    assert!(!settings.body.contains("href=\"/settings/users\""));
    assert!(!settings.body.contains("href=\"/settings/notifications\""));
    let vcsrf = csrf_of(&settings.body);
    let denied = viewer
        .post_form("/settings/probes", &[("_csrf", &vcsrf), ("name", "x")])
        .await;
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("agents:write"), "{}", denied.body);
    assert_eq!(viewer.get("/settings/users").await.status, 403);
    // The admin sees them.
    let probes = admin.get("/settings/probes").await;
    assert!(probes.body.contains("Create probe"));
    assert!(
        admin
            .get("/settings")
            .await
            .body
            .contains("href=\"/settings/users\"")
    );

    // Promote the viewer to operator: their next page shows the operator's buttons.
    let vid = id_of("viewer@example.org");
    let a = admin
        .post_form(
            &format!("/settings/users/{vid}"),
            &[("_csrf", &csrf), ("action", "role"), ("role", "operator")],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let conns = viewer.get("/settings/connections").await;
    assert_eq!(conns.status, 200);
    assert_eq!(viewer.get("/settings/connections/new").await.status, 200);
    // Disable: the session ends at once; sign-in is refused.
    let a = admin
        .post_form(
            &format!("/settings/users/{vid}"),
            &[("_csrf", &csrf), ("action", "disable")],
        )
        .await;
    assert_eq!(a.status, 303);
    let gone = viewer.get("/history").await;
    assert_eq!(gone.status, 303);
    let mut again = WebClient::new(t);
    let a = again.login("viewer@example.org", PASSWORD).await;
    assert_ne!(
        a.location.as_deref(),
        Some("/"),
        "a disabled user signed in"
    );
    // Delete.
    let a = admin
        .post_form(
            &format!("/settings/users/{vid}"),
            &[("_csrf", &csrf), ("action", "delete")],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/settings/users?done=deleted"));
    assert!(
        !admin
            .get("/settings/users")
            .await
            .body
            .contains("viewer@example.org")
    );
}

pub(crate) async fn a_new_token_is_shown_once_after_a_redirect(t: &TestApp) {
    let mut admin = WebClient::new(t);
    admin.setup().await;
    let page = admin.get("/settings").await;
    let csrf = csrf_of(&page.body);
    let before = netpulse_app::service::api_tokens::list(&t.app)
        .await
        .unwrap()
        .len();
    let a = admin
        .post_form(
            "/settings/tokens",
            &[
                ("_csrf", &csrf),
                ("name", "grafana"),
                ("scopes", "viewer"),
                ("expires", "30"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "the POST redirects: {}", a.body);
    assert!(!a.body.contains("issued-token"));
    let location = a.location.clone().unwrap();
    let shown = admin.get(&location).await;
    assert_eq!(shown.status, 200);
    let secret = shown
        .body
        .split("id=\"issued-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the token is shown")
        .to_owned();
    assert_eq!(secret.len(), 43);
    // Reloading the GET shows nothing and creates nothing.
    let reload = admin.get(&location).await;
    assert!(!reload.body.contains(&secret));
    assert!(!reload.body.contains("issued-token"));
    let tokens = netpulse_app::service::api_tokens::list(&t.app)
        .await
        .unwrap();
    assert_eq!(tokens.len(), before + 1);
    let made = tokens.iter().find(|t| t.name == "grafana").unwrap();
    assert_eq!(
        made.scopes,
        netpulse_domain::access::Role::Viewer.permissions()
    );
    assert!(made.expires_at.is_some());
    // The token works read-only, as the admin who owns it chose.
    let r = t
        .client
        .get(t.url("/api/v1/probes"))
        .header("X-API-Token", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = t
        .client
        .post(t.url("/api/v1/probes"))
        .bearer_auth(&secret)
        .json(&serde_json::json!({"name": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Its use is recorded with the address.
    let after = netpulse_app::service::api_tokens::list(&t.app)
        .await
        .unwrap();
    let made = after.iter().find(|t| t.name == "grafana").unwrap();
    assert_eq!(made.last_used_ip.as_deref(), Some("127.0.0.1"));
    assert!(admin.get("/settings").await.body.contains("from 127.0.0.1"));
}
