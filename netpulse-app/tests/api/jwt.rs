//! API access tokens (JWT) over HTTP: sign-in with and without 2FA, the claims, a session
//! that logout, a disable and a role change revoke at once, refresh, expiry, bad input.

use base64::Engine;
use netpulse_app::service::{two_factor, users};
use netpulse_domain::access::Role;
use netpulse_ports::access_store::AccessChange;
use netpulse_ports::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{TestApp, answer};

const PASSWORD: &str = "correct horse battery";

async fn login(t: &TestApp, body: &Value) -> (u16, Value) {
    let r = t
        .client
        .post(t.url("/api/v1/auth/login"))
        .json(body)
        .send()
        .await
        .unwrap();
    answer(r).await
}

async fn with_bearer(t: &TestApp, method: reqwest::Method, path: &str, jwt: &str) -> (u16, Value) {
    let r = t
        .client
        .request(method, t.url(path))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    answer(r).await
}

fn part(jwt: &str, i: usize) -> Value {
    let p = jwt.split('.').nth(i).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn now_seconds(t: &TestApp) -> u64 {
    u64::try_from(t.clock.now().unix_seconds()).unwrap()
}

pub(crate) async fn jwt_login_sessions_and_revocation(t: &TestApp) {
    users::create(&t.app, "admin@example.org".into(), PASSWORD.into())
        .await
        .unwrap();
    let op = users::create_with_role(
        &t.app,
        "op@example.org".into(),
        PASSWORD.into(),
        Role::Operator,
    )
    .await
    .unwrap();

    // Bad input names the field; wrong credentials are 401.
    let (s, body) = login(t, &json!({"email": "op@example.org"})).await;
    assert_eq!(
        (s, body["field"].as_str()),
        (400, Some("password")),
        "{body}"
    );
    let (s, body) = login(
        t,
        &json!({"email": "op@example.org", "password": "nope", "x": 1}),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = login(
        t,
        &json!({"email": "op@example.org", "password": "wrong password!"}),
    )
    .await;
    assert_eq!(
        (s, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );

    // A token with the claims of the spec.
    let (s, body) = login(t, &json!({"email": "OP@example.org", "password": PASSWORD})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let jwt = body["access_token"].as_str().unwrap().to_owned();
    let header = part(&jwt, 0);
    assert_eq!(header["alg"], "HS256");
    assert!(header["kid"].as_str().is_some_and(|k| !k.is_empty()));
    let claims = part(&jwt, 1);
    assert_eq!(claims["iss"], "netpulse");
    assert_eq!(claims["sub"], op.id.as_str());
    assert_eq!(claims["role"], "operator");
    assert!(
        claims["scp"]
            .as_array()
            .unwrap()
            .contains(&json!("tests:run"))
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    for k in ["sid", "jti"] {
        assert!(claims[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }

    // It works as a bearer with the role's permissions, on the rule and the handler.
    let (s, _) = with_bearer(t, reqwest::Method::GET, "/api/v1/probes", &jwt).await;
    assert_eq!(s, 200);
    let (s, body) = with_bearer(t, reqwest::Method::GET, "/api/v1/audit", &jwt).await;
    assert_eq!(s, 403, "an operator may not read the audit log: {body}");
    assert!(
        body["message"].as_str().unwrap().contains("users:write"),
        "{body}"
    );
    // A tampered token is refused.
    let mut bad = jwt.clone();
    bad.push('x');
    assert_eq!(
        with_bearer(t, reqwest::Method::GET, "/api/v1/probes", &bad)
            .await
            .0,
        401
    );

    // Refresh: a new token of the same session; both work.
    let (s, body) = with_bearer(t, reqwest::Method::POST, "/api/v1/auth/refresh", &jwt).await;
    assert_eq!(s, 200, "{body}");
    let fresh = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(part(&fresh, 1)["sid"], claims["sid"]);
    assert_eq!(
        with_bearer(t, reqwest::Method::GET, "/api/v1/probes", &fresh)
            .await
            .0,
        200
    );

    // Expiry follows the server's clock.
    t.clock.advance_seconds(901);
    assert_eq!(
        with_bearer(t, reqwest::Method::GET, "/api/v1/probes", &jwt)
            .await
            .0,
        401
    );
    assert_eq!(
        with_bearer(t, reqwest::Method::POST, "/api/v1/auth/refresh", &jwt)
            .await
            .0,
        401
    );

    // Logout ends the session: every token of it stops at once.
    let (_, body) = login(t, &json!({"email": "op@example.org", "password": PASSWORD})).await;
    let a = body["access_token"].as_str().unwrap().to_owned();
    let (s, body) = with_bearer(t, reqwest::Method::POST, "/api/v1/auth/refresh", &a).await;
    assert_eq!(s, 200);
    let a2 = body["access_token"].as_str().unwrap().to_owned();
    let (s, body) = with_bearer(t, reqwest::Method::POST, "/api/v1/auth/logout", &a).await;
    assert_eq!((s, &body["signedOut"]), (200, &json!(true)));
    assert_eq!(
        with_bearer(t, reqwest::Method::GET, "/api/v1/probes", &a2)
            .await
            .0,
        401
    );

    // A role change revokes at once (the token's role is stale), so does a disable.
    let (_, body) = login(t, &json!({"email": "op@example.org", "password": PASSWORD})).await;
    let b = body["access_token"].as_str().unwrap().to_owned();
    users::change(&t.app, &op.id, AccessChange::Role(Role::Viewer))
        .await
        .unwrap();
    assert_eq!(
        with_bearer(t, reqwest::Method::GET, "/api/v1/probes", &b)
            .await
            .0,
        401
    );
    let (_, body) = login(t, &json!({"email": "op@example.org", "password": PASSWORD})).await;
    let c = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(part(&c, 1)["role"], "viewer");
    assert_eq!(
        with_bearer(t, reqwest::Method::GET, "/api/v1/probes", &c)
            .await
            .0,
        200
    );
    users::change(&t.app, &op.id, AccessChange::Disabled(true))
        .await
        .unwrap();
    assert_eq!(
        with_bearer(t, reqwest::Method::GET, "/api/v1/probes", &c)
            .await
            .0,
        401
    );

    // With 2FA: no totp is 401 mfa_required; a code works once.
    let admin = users::by_email(&t.app, "admin@example.org")
        .await
        .unwrap()
        .unwrap();
    let e = two_factor::begin(&t.app, &admin.id, "admin@example.org")
        .await
        .unwrap();
    let code = two_factor::code_at(&e.secret_base32, now_seconds(t)).unwrap();
    let recovery = two_factor::confirm(&t.app, &admin.id, &code).await.unwrap();
    let creds = json!({"email": "admin@example.org", "password": PASSWORD});
    let (s, body) = login(t, &creds).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (401, Some("mfa_required")),
        "{body}"
    );
    t.clock.advance_seconds(30);
    let code = two_factor::code_at(&e.secret_base32, now_seconds(t)).unwrap();
    let with_code = json!({"email": "admin@example.org", "password": PASSWORD, "totp": code});
    assert_eq!(login(t, &with_code).await.0, 200);
    let (s, body) = login(t, &with_code).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (401, Some("invalid_credentials")),
        "replayed"
    );
    let with_recovery =
        json!({"email": "admin@example.org", "password": PASSWORD, "totp": recovery[0]});
    assert_eq!(login(t, &with_recovery).await.0, 200);

    // Failures share the sign-in throttle: the account locks (429).
    for _ in 0..5 {
        login(
            t,
            &json!({"email": "admin@example.org", "password": "wrong password!"}),
        )
        .await;
    }
    let (s, body) = login(t, &with_code).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (429, Some("throttled")),
        "{body}"
    );
}
