//! The permission matrix over every route: each role × each route → allowed or 403 naming the
//! permission, through sessions and API tokens. The route lists are read from the server
//! itself (the OpenAPI document for REST) and from the page route list (`src/web/mod.rs`), so
//! a new route without a line in `service/route_rules.rs` fails here, named.

use netpulse_app::service::api_tokens::{self, NewToken};
use netpulse_app::service::route_rules::{self, Rule};
use netpulse_app::service::{sessions, users};
use netpulse_domain::access::{Permission, Role};
use netpulse_ports::clock::Clock;
use reqwest::redirect::Policy;
use serde_json::Value;

use crate::helpers::TestApp;

/// The dashboard's route list, as registered.
const WEB_ROUTES: &str = include_str!("../../src/web/mod.rs");

/// `(method, path)` of every page route: each `.at("…", …)` with the methods its handler chain
/// names (`get(`, `post(`, …) up to the next `.at(`.
fn page_routes() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in WEB_ROUTES.split(".at(").skip(1) {
        let Some(path) = chunk.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some(end) = path.find('"') else { continue };
        let path = &path[..end];
        for (needle, method) in [
            ("get(", "GET"),
            ("post(", "POST"),
            ("put(", "PUT"),
            ("patch(", "PATCH"),
            ("delete(", "DELETE"),
        ] {
            let found = chunk.match_indices(needle).any(|(i, _)| {
                // `get(` or `.post(`, not e.g. `target(`.
                i == 0 || !chunk.as_bytes()[i - 1].is_ascii_alphanumeric()
            });
            if found {
                out.push((method.to_owned(), path.to_owned()));
            }
        }
    }
    out
}

/// `(method, path)` of every operation in the OpenAPI document.
fn rest_routes(t: &TestApp) -> Vec<(String, String)> {
    let doc: Value = serde_json::from_str(&netpulse_app::http::openapi_json(&t.app)).unwrap();
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            out.push((method.to_uppercase(), path.clone()));
        }
    }
    out
}

/// A concrete path for a pattern: every `{x}`/`:x`/`*x` segment becomes a fresh UUID.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| {
            if s.starts_with('{') || s.starts_with(':') || s.starts_with('*') {
                netpulse_app::service::new_uuid()
            } else {
                s.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

struct Caller {
    role: Role,
    session: String,
    csrf: String,
    token: String,
}

async fn callers(t: &TestApp) -> Vec<Caller> {
    let mut out = Vec::new();
    for role in Role::ALL {
        let user = users::create_with_role(
            &t.app,
            format!("{}@example.org", role.as_str()),
            "correct horse battery".into(),
            role,
        )
        .await
        .unwrap();
        let session = sessions::start(&t.app, &user.id).await.unwrap();
        let csrf = sessions::check(&t.app, &session)
            .await
            .unwrap()
            .unwrap()
            .record
            .csrf_token;
        // Every scope: what the token may do is cut to the owner's role.
        let token = api_tokens::create(
            &t.app,
            &NewToken {
                name: format!("{} token", role.as_str()),
                owner: Some(user.id.clone()),
                scopes: Permission::ALL.to_vec(),
                expires_at: None,
            },
        )
        .await
        .unwrap()
        .secret;
        out.push(Caller {
            role,
            session,
            csrf,
            token,
        });
    }
    out
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Checks one answer against the matrix.
async fn judge(
    failures: &mut Vec<String>,
    what: &str,
    role: Role,
    needed: Permission,
    resp: reqwest::Response,
) {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    if role.allows(needed) {
        if status == 403 || status == 401 {
            failures.push(format!(
                "{what} as {}: {status} although the role has {}: {body}",
                role.as_str(),
                needed.as_str()
            ));
        }
    } else if status != 403 {
        failures.push(format!(
            "{what} as {}: {status}, expected 403 (needs {})",
            role.as_str(),
            needed.as_str()
        ));
    } else if !body.contains(needed.as_str()) {
        failures.push(format!(
            "{what} as {}: the 403 does not name {}: {body}",
            role.as_str(),
            needed.as_str()
        ));
    }
}

pub(crate) async fn every_route_has_a_rule_and_each_role_gets_what_it_may(t: &TestApp) {
    // 1. Every route has a line.
    let rest = rest_routes(t);
    let pages = page_routes();
    assert!(rest.len() > 30 && pages.len() > 30, "{rest:?} {pages:?}");
    let mut missing = Vec::new();
    for (m, p) in &rest {
        if route_rules::rule_in(route_rules::REST, m, p).is_none() {
            missing.push(format!("REST  (\"{m}\", \"{p}\", Needs(…)),"));
        }
    }
    for (m, p) in &pages {
        if route_rules::rule_in(route_rules::PAGES, m, p).is_none() {
            missing.push(format!("PAGES (\"{m}\", \"{p}\", Needs(…)),"));
        }
    }
    assert!(
        missing.is_empty(),
        "these routes have no access rule: add a line for each to \
         netpulse-app/src/service/route_rules.rs:\n{}",
        missing.join("\n")
    );

    // 2. Each role × each route.
    let callers = callers(t).await;
    let http = client();
    let mut failures = Vec::new();
    for (m, p) in &rest {
        let Some(Rule::Needs(needed)) = route_rules::rule_in(route_rules::REST, m, p) else {
            continue;
        };
        let url = t.url(&format!("/api{}", concrete(p)));
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        for c in &callers {
            let with_body = |r: reqwest::RequestBuilder| {
                if matches!(m.as_str(), "POST" | "PATCH" | "PUT") {
                    r.header("Content-Type", "application/json").body("{}")
                } else {
                    r
                }
            };
            let by_session = with_body(
                http.request(method.clone(), &url)
                    .header("Cookie", format!("np_session={}", c.session))
                    .header("X-CSRF-Token", &c.csrf),
            );
            let what = format!("{m} {p} (session)");
            judge(
                &mut failures,
                &what,
                c.role,
                needed,
                by_session.send().await.unwrap(),
            )
            .await;
            let by_bearer = with_body(http.request(method.clone(), &url).bearer_auth(&c.token));
            let what = format!("{m} {p} (Bearer token)");
            judge(
                &mut failures,
                &what,
                c.role,
                needed,
                by_bearer.send().await.unwrap(),
            )
            .await;
            let by_header = with_body(
                http.request(method.clone(), &url)
                    .header("X-API-Token", &c.token),
            );
            let what = format!("{m} {p} (X-API-Token)");
            judge(
                &mut failures,
                &what,
                c.role,
                needed,
                by_header.send().await.unwrap(),
            )
            .await;
        }
    }
    for (m, p) in &pages {
        let Some(Rule::Needs(needed)) = route_rules::rule_in(route_rules::PAGES, m, p) else {
            continue;
        };
        let url = t.url(&concrete(p));
        for c in &callers {
            let cookie = format!("np_session={}", c.session);
            let req = match m.as_str() {
                "GET" => http.get(&url).header("Cookie", cookie),
                _ => http
                    .request(reqwest::Method::from_bytes(m.as_bytes()).unwrap(), &url)
                    .header("Cookie", cookie)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(format!("_csrf={}", c.csrf)),
            };
            let what = format!("{m} {p} (page)");
            judge(
                &mut failures,
                &what,
                c.role,
                needed,
                req.send().await.unwrap(),
            )
            .await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} answers break the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

pub(crate) async fn a_role_change_or_disable_applies_on_the_next_request(t: &TestApp) {
    let admin = users::create_with_role(
        &t.app,
        "boss@example.org".into(),
        "correct horse battery".into(),
        Role::Admin,
    )
    .await
    .unwrap();
    let op = users::create_with_role(
        &t.app,
        "op@example.org".into(),
        "correct horse battery".into(),
        Role::Operator,
    )
    .await
    .unwrap();
    let session = sessions::start(&t.app, &op.id).await.unwrap();
    let token = api_tokens::create(
        &t.app,
        &NewToken {
            name: "op".into(),
            owner: Some(op.id.clone()),
            scopes: Role::Operator.permissions(),
            expires_at: None,
        },
    )
    .await
    .unwrap()
    .secret;
    let http = client();
    let run = t.url(&format!(
        "/api/v1/connections/{}/run",
        netpulse_app::service::new_uuid()
    ));
    let post = |auth: &str| {
        http.post(&run)
            .header("X-API-Token", auth)
            .header("Content-Type", "application/json")
            .body("{}")
    };
    // An operator may run tests (the connection does not exist: 404, not 403).
    assert_eq!(post(&token).send().await.unwrap().status(), 404);
    users::change(
        &t.app,
        &op.id,
        netpulse_ports::access_store::AccessChange::Role(Role::Viewer),
    )
    .await
    .unwrap();
    // Demoted: the same token now lacks tests:run.
    let r = post(&token).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("tests:run"));
    // And the page session reads the new role.
    let page = http
        .post(t.url("/dashboard/run"))
        .header("Cookie", format!("np_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    // Disabled: the token and the session stop working at once.
    users::change(
        &t.app,
        &op.id,
        netpulse_ports::access_store::AccessChange::Disabled(true),
    )
    .await
    .unwrap();
    let r = http
        .get(t.url("/api/v1/probes"))
        .header("X-API-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(t.url("/history"))
        .header("Cookie", format!("np_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "a disabled user's session is gone");
    // The last enabled admin cannot be demoted, disabled or deleted: 409.
    for change in [
        netpulse_ports::access_store::AccessChange::Role(Role::Operator),
        netpulse_ports::access_store::AccessChange::Disabled(true),
        netpulse_ports::access_store::AccessChange::Delete,
    ] {
        let e = users::change(&t.app, &admin.id, change).await.unwrap_err();
        assert_eq!(e.status(), 409, "{change:?}: {e}");
    }
    // An expired token does not authenticate.
    let short = api_tokens::create(
        &t.app,
        &NewToken {
            name: "short".into(),
            owner: Some(admin.id.clone()),
            scopes: Role::Viewer.permissions(),
            expires_at: Some(t.clock.now().plus_seconds(60)),
        },
    )
    .await
    .unwrap()
    .secret;
    let get = |tok: String| http.get(t.url("/api/v1/probes")).bearer_auth(tok).send();
    assert_eq!(get(short.clone()).await.unwrap().status(), 200);
    t.clock.advance_seconds(61);
    assert_eq!(get(short).await.unwrap().status(), 401);
}
