//! The dashboard's security foundation over HTTP: first run, setup, sign-in and its throttle,
//! sessions, CSRF, security headers, static assets, and the REST API with a session.

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::json;

use crate::helpers::TestApp;

pub(crate) const EMAIL: &str = "admin@example.org";
pub(crate) const PASSWORD: &str = "correct horse battery";

/// A browser-like client that keeps cookies by hand and never follows redirects.
pub(crate) struct WebClient {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) cookies: std::collections::BTreeMap<String, String>,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl WebClient {
    pub(crate) fn new(t: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: t.base.clone(),
            cookies: std::collections::BTreeMap::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Answer {
        for c in r.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        Answer {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get(LOCATION)
                .map(|l| l.to_str().unwrap().to_owned()),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    pub(crate) async fn get_json(&mut self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let a = self.finish(r).await;
        (
            a.status,
            serde_json::from_str(&a.body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// POSTs a form (the CSRF token is added unless `_csrf` is given).
    pub(crate) async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    pub(crate) async fn post_json(
        &mut self,
        path: &str,
        csrf: Option<&str>,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut b = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("Accept", "application/json")
            .json(body);
        if let Some(c) = csrf {
            b = b.header("X-CSRF-Token", c);
        }
        let a = self.finish(b.send().await.unwrap()).await;
        (
            a.status,
            serde_json::from_str(&a.body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// The CSRF token of a page (from its meta tag).
    pub(crate) async fn csrf(&mut self, path: &str) -> String {
        let a = self.get(path).await;
        csrf_of(&a.body)
    }

    /// Creates the administrator through /setup (signed in afterwards).
    pub(crate) async fn setup(&mut self) {
        let token = self.csrf("/setup").await;
        let a = self
            .post_form(
                "/setup",
                &[
                    ("_csrf", &token),
                    ("email", EMAIL),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            (a.status, a.location.as_deref()),
            (303, Some("/")),
            "{}",
            a.body
        );
    }

    /// Signs in.
    pub(crate) async fn login(&mut self, email: &str, password: &str) -> Answer {
        let token = self.csrf("/login").await;
        self.post_form(
            "/login",
            &[
                ("_csrf", &token),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }
}

pub(crate) fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = html.find(marker).expect("a csrf meta tag") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

pub(crate) async fn first_run_setup_and_sessions(t: &TestApp) {
    let mut w = WebClient::new(t);
    // Before setup: pages go to /setup, JSON gets 401 JSON, share links stay reachable.
    let a = w.get("/").await;
    assert_eq!((a.status, a.location.as_deref()), (303, Some("/setup")));
    assert_eq!(w.get("/history").await.location.as_deref(), Some("/setup"));
    assert_eq!(w.get("/login").await.location.as_deref(), Some("/setup"));
    let (s, body) = w.get_json("/dashboard/cursor").await;
    assert_eq!((s, &body["code"]), (401, &json!("unauthorized")));
    assert_eq!(w.get(&format!("/r/{}", "x".repeat(43))).await.status, 404);

    // The setup form, with its security headers.
    let a = w.get("/setup").await;
    assert_eq!(a.status, 200);
    let csp = a.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(a.headers["x-frame-options"], "DENY");
    assert_eq!(a.headers["x-content-type-options"], "nosniff");
    assert_eq!(a.headers["cache-control"], "no-store");
    assert!(a.headers.contains_key("permissions-policy"));
    assert!(!a.headers.contains_key("strict-transport-security"));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        a.body.contains(&format!("nonce=\"{nonce}\"")),
        "scripts carry the nonce"
    );
    let again = w.get("/setup").await;
    assert_ne!(
        again.headers["content-security-policy"], a.headers["content-security-policy"],
        "a fresh nonce per request"
    );
    let pre = w
        .cookies
        .get("np_csrf")
        .cloned()
        .expect("a pre-session CSRF cookie");
    assert_eq!(csrf_of(&a.body), pre);

    // Validation errors next to their fields.
    let a = w
        .post_form(
            "/setup",
            &[
                ("_csrf", &pre),
                ("email", "nope"),
                ("password", "short"),
                ("password_confirm", "other"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("id=\"email-error\""));
    assert!(a.body.contains("at least 12 characters"));
    assert!(a.body.contains("the passwords do not match"));
    // Without the CSRF field: refused.
    let a = w
        .post_form(
            "/setup",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(t.app.storage.user_count().await.unwrap(), 0);

    w.setup().await;
    let session_cookie = w.cookies.get("np_session").cloned().expect("signed in");
    assert_eq!(session_cookie.len(), 43);
    assert_eq!(t.app.storage.user_count().await.unwrap(), 1);
    // /setup is closed now.
    assert_eq!(w.get("/setup").await.location.as_deref(), Some("/login"));
    let a = w.get("/").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("No connections yet"));

    // Cookie flags.
    let mut fresh = WebClient::new(t);
    let r = fresh.login(EMAIL, PASSWORD).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/")));
    let set = r
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("np_session="))
        .unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"));
    assert!(!set.contains("Secure"), "plain HTTP without --behind-https");
    assert_ne!(
        fresh.cookies["np_session"], session_cookie,
        "a new session per sign-in"
    );

    // Sign-out needs the CSRF token, then ends the session for good.
    let a = fresh.post_form("/logout", &[]).await;
    assert_eq!(a.status, 403);
    let token = fresh.csrf("/").await;
    let a = fresh.post_form("/logout", &[("_csrf", &token)]).await;
    assert_eq!((a.status, a.location.as_deref()), (303, Some("/login")));
    assert!(!fresh.cookies.contains_key("np_session"));
    // Replaying the old cookie does not work.
    fresh.cookies.insert(
        "np_session".into(),
        set.split(';').next().unwrap()[11..].to_owned(),
    );
    assert_eq!(fresh.get("/").await.location.as_deref(), Some("/login"));
    // The other session is unaffected; deep links come back after sign-in.
    assert_eq!(w.get("/").await.status, 200);
    let mut anon = WebClient::new(t);
    assert_eq!(
        anon.get("/history?status=failed").await.location.as_deref(),
        Some("/login?next=%2Fhistory%3Fstatus%3Dfailed")
    );
}

pub(crate) async fn sign_in_is_throttled(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let mut other = WebClient::new(t);
    for _ in 0..5 {
        let a = other.login(EMAIL, "wrong password!").await;
        assert_eq!(a.status, 401);
        assert!(a.body.contains("Wrong e-mail or password."));
    }
    // Locked: even the right password is refused, without being checked.
    let a = other.login(EMAIL, PASSWORD).await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert!(a.body.contains("Too many failed sign-ins"));
    // Unknown accounts answer exactly like known ones.
    let a = other.login("nobody@example.org", "whatever12345").await;
    assert_eq!(a.status, 401);
    // The lock ends after 15 minutes.
    t.clock.advance_seconds(901);
    let a = other.login(EMAIL, PASSWORD).await;
    assert_eq!((a.status, a.location.as_deref()), (303, Some("/")));
    // Per address: 20 failures across accounts lock the address.
    let mut attacker = WebClient::new(t);
    for i in 0..20 {
        let a = attacker
            .login(&format!("user{i}@example.org"), "wrong password!")
            .await;
        assert_eq!(a.status, 401);
    }
    let a = attacker.login(EMAIL, PASSWORD).await;
    assert_eq!(a.status, 429);
}

pub(crate) async fn csrf_and_json_auth(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let token = w.csrf("/").await;
    // JSON mutations need the header.
    let (s, body) = w
        .post_json("/dashboard/run", None, &json!({"scope": "all"}))
        .await;
    assert_eq!((s, &body["code"]), (403, &json!("forbidden")));
    let (s, _) = w
        .post_json(
            "/dashboard/run",
            Some("not-the-token"),
            &json!({"scope": "all"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, body) = w
        .post_json("/dashboard/run", Some(&token), &json!({"scope": "all"}))
        .await;
    assert_eq!((s, &body["queued"]), (202, &json!([])), "{body}");
    let (s, body) = w
        .post_json(
            "/dashboard/run",
            Some(&token),
            &json!({"scope": "sideways"}),
        )
        .await;
    assert_eq!((s, &body["field"]), (400, &json!("scope")));
    let (s, body) = w.get_json("/dashboard/cursor").await;
    assert_eq!(s, 200);
    assert!(body["cursor"].is_string());

    // The REST API accepts the session cookie (with the CSRF header for changes).
    let (s, body) = w.get_json("/api/v1/probes").await;
    assert_eq!((s, &body["items"]), (200, &json!([])), "{body}");
    let (s, _) = w
        .post_json("/api/v1/probes", None, &json!({"name": "home"}))
        .await;
    assert_eq!(s, 401, "a cookie alone cannot change anything");
    let (s, body) = w
        .post_json("/api/v1/probes", Some(&token), &json!({"name": "home"}))
        .await;
    assert_eq!(s, 201, "{body}");
    // And still the API token.
    assert_eq!(t.get("/api/v1/probes").await.0, 200);
    let mut anon = WebClient::new(t);
    assert_eq!(anon.get_json("/api/v1/probes").await.0, 401);
}

pub(crate) async fn static_assets_are_embedded(t: &TestApp) {
    let mut w = WebClient::new(t);
    for (path, mime) in [
        ("/static/vendor/alpinejs-csp-3.17.4.min.js", "javascript"),
        ("/static/vendor/uPlot-1.6.32.iife.min.js", "javascript"),
        ("/static/vendor/uPlot-1.6.32.min.css", "text/css"),
        ("/static/app.js", "javascript"),
        ("/static/app.css", "text/css"),
        ("/static/vendor/uPlot-1.6.32.LICENSE.txt", "text/plain"),
        (
            "/static/vendor/alpinejs-csp-3.17.4.LICENSE.txt",
            "text/plain",
        ),
    ] {
        let a = w.get(path).await;
        assert_eq!(a.status, 200, "{path}");
        assert!(
            a.headers["content-type"].to_str().unwrap().contains(mime),
            "{path}: {:?}",
            a.headers["content-type"]
        );
        assert!(a.body.len() > 100);
        let etag = a.headers["etag"].to_str().unwrap().to_owned();
        let r = w
            .http
            .get(format!("{}{path}", t.base))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path}");
    }
    assert_eq!(
        w.get("/static/vendor/uPlot-1.6.32.min.css").await.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(w.get("/static/nope.js").await.status, 404);
    assert_eq!(w.get("/static/../Cargo.toml").await.status, 404);
}
