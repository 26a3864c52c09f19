//! The dashboard's pages over HTTP: history filters, pages and CSV, share links, the heatmap in
//! the site's time zone, settings, probe and connection forms.

use netpulse_ports::clock::Clock;

use crate::helpers::{TestApp, ookla_stdout, push_body};
use crate::web_auth::{WebClient, csrf_of};

fn failed_stdout() -> String {
    r#"{"type":"log","level":"error","message":"Cannot open socket","timestamp":"2026-06-06T12:00:00Z"}"#.into()
}

pub(crate) async fn history_csv_and_share_links(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &["12746"]).await;
    let now = t.clock.now();
    for i in 1..=30 {
        let stdout = if i == 5 {
            failed_stdout()
        } else {
            ookla_stdout()
        };
        let code = i32::from(i == 5);
        let (s, body) = t
            .push(
                &agent,
                &push_body(
                    now.plus_seconds(-600 * i),
                    &c,
                    Some("12746"),
                    &stdout,
                    code,
                    i != 7,
                ),
            )
            .await;
        assert_eq!(s, 201, "{body}");
    }
    let a = w.get("/history").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body.matches("<tr>").count(), 26, "25 rows and the header");
    assert!(a.body.contains("Showing 1–25 of 30"));
    let next = a
        .body
        .split("href=\"")
        .find(|s| s.contains("rel=\"next\"") || s.contains("cursor="))
        .unwrap();
    let next = next.split('"').next().unwrap().replace("&amp;", "&");
    let b = w.get(&next).await;
    assert_eq!(b.status, 200, "{next}");
    assert!(b.body.contains("Showing 26–30 of 30"), "{}", b.body);
    assert_eq!(b.body.matches("<tr>").count(), 6);

    let failed = w.get("/history?status=failed").await;
    assert_eq!(failed.body.matches("badge-failed").count(), 1);
    let manual = w.get("/history?kind=manual&sort=download_asc").await;
    assert!(manual.body.contains("Showing 1–1 of 1"));
    assert!(manual.body.contains("aria-sort=\"ascending\""));
    let bad = w.get("/history?status=sideways").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id=\"status-error\""));

    // The CSV: every row, the failed one with its reason.
    let csv = w.get("/history/export.csv?window=all").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"netpulse-history-")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 31);
    let failed_line = lines.iter().find(|l| l.contains(",failed,")).unwrap();
    assert!(
        failed_line.ends_with(",0,test_failed,Cannot open socket"),
        "{failed_line}"
    );
    let only_failed = w.get("/history/export.csv?window=all&status=failed").await;
    assert_eq!(only_failed.body.lines().count(), 2);
    let mut anon = WebClient::new(t);
    assert_eq!(
        anon.get("/history/export.csv").await.location.as_deref(),
        Some("/login?next=%2Fhistory%2Fexport.csv")
    );

    // A public link: CSRF-protected to create, readable by anyone, revocable.
    let id = lines[1].split(',').next().unwrap().to_owned();
    assert_eq!(
        w.post_form(&format!("/history/{id}/share"), &[])
            .await
            .status,
        403
    );
    let token = w.csrf("/").await;
    let a = w
        .post_form(&format!("/history/{id}/share"), &[("_csrf", &token)])
        .await;
    assert_eq!(a.status, 303);
    let detail = w.get(&format!("/history/{id}")).await;
    assert!(
        detail.body.contains("&quot;type&quot;") || detail.body.contains("\"type\""),
        "raw output shown"
    );
    let share = detail.body.split("/r/").nth(1).unwrap()[..43].to_owned();
    let public = anon.get(&format!("/r/{share}")).await;
    assert_eq!(public.status, 200);
    assert!(public.body.contains("Download") && public.body.contains("Hannover"));
    assert!(
        !public.body.contains("wan1")
            && !public.body.contains(c.id.as_str())
            && !public.body.contains("speedtest"),
        "no identifying fields"
    );
    assert_eq!(public.headers["x-robots-tag"], "noindex");
    let a = w
        .post_form(
            &format!("/history/{id}/share/revoke"),
            &[("_csrf", &token), ("token", &share)],
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(anon.get(&format!("/r/{share}")).await.status, 404);
    assert_eq!(
        w.get("/history/00000000-0000-4000-8000-000000000000")
            .await
            .status,
        404
    );
}

pub(crate) async fn heatmap_uses_the_site_time_zone(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let token = w.csrf("/settings").await;
    let bad = w
        .post_form(
            "/settings/general",
            &[
                ("_csrf", &token),
                ("site_name", "Home"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"time_zone-error\""));
    let ok = w
        .post_form(
            "/settings/general",
            &[
                ("_csrf", &token),
                ("site_name", "Home lab"),
                ("time_zone", "Asia/Kolkata"),
            ],
        )
        .await;
    // Redirect after POST.
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/settings?saved=general"));
    let shown = w.get("/settings?saved=general").await;
    assert!(shown.body.contains("<title>Settings · Home lab</title>"));
    assert!(shown.body.contains("Saved."));

    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    // Monday 2026-11-16 00:10 UTC = Monday 05:40 in Kolkata (+05:30); three weeks in a row.
    let monday = netpulse_domain::Timestamp::parse_rfc3339("2026-11-16T00:10:00Z").unwrap();
    t.clock.set(monday.plus_seconds(3 * 86_400));
    for week in 0..3 {
        let at = monday.plus_seconds(-week * 7 * 86_400);
        let (s, _) = t
            .push(&agent, &push_body(at, &c, None, &ookla_stdout(), 0, true))
            .await;
        assert_eq!(s, 201);
    }
    let a = w
        .get(&format!("/heatmap?connection={}&window=30d", c.id))
        .await;
    assert_eq!(a.status, 200);
    assert!(
        a.body.contains("Monday 05:00 — 931.6 Mbps, 3 results"),
        "{}",
        a.body
    );
    assert!(a.body.contains("Monday 00:00 — no data, 0 results"));
    let h = w
        .get(&format!(
            "/heatmap?connection={}&window=30d&metric=health",
            c.id
        ))
        .await;
    assert!(h.body.contains("Monday 05:00 — "), "{}", h.body);
    // Times on pages are in the zone too.
    let list = w.get("/history?window=all").await;
    assert!(list.body.contains("2026-11-16 05:40"), "{}", list.body);
}

pub(crate) async fn settings_probe_and_connection_forms(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let token = w.csrf("/settings/probes").await;
    let bad = w
        .post_form(
            "/settings/probes",
            &[("_csrf", &token), ("name", "home"), ("labels", "1bad=x")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"labels-error\""));
    let ok = w
        .post_form(
            "/settings/probes",
            &[
                ("_csrf", &token),
                ("name", "home"),
                ("labels", "site=berlin, rack=4"),
            ],
        )
        .await;
    // Post/redirect/get: the POST answers a redirect, the GET shows the token once.
    assert_eq!(ok.status, 303, "{}", ok.body);
    let location = ok.location.clone().unwrap();
    let shown = w.get(&location).await;
    assert_eq!(shown.status, 200);
    let probe_token = shown
        .body
        .split("id=\"issued-token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(probe_token.len(), 43);
    let probe = t.app.storage.probes().await.unwrap().remove(0);
    assert!(netpulse_app::tokens::matches(
        &probe_token,
        &t.app
            .storage
            .probe_credentials(&probe.id)
            .await
            .unwrap()
            .unwrap()
            .token_digest
    ));
    // Reloading the page shows the token no more and creates no second probe.
    let reload = w.get(&location).await;
    assert!(!reload.body.contains(&probe_token));
    assert!(!reload.body.contains("id=\"issued-token\""));
    assert_eq!(t.app.storage.probes().await.unwrap().len(), 1);
    // Rotating works the same way.
    let rotated = w
        .post_form(
            &format!("/settings/probes/{}/rotate", probe.id),
            &[("_csrf", &token)],
        )
        .await;
    assert_eq!(rotated.status, 303);
    let shown = w.get(rotated.location.as_deref().unwrap()).await;
    assert!(shown.body.contains("id=\"issued-token\""));
    assert!(!shown.body.contains(&probe_token), "a new token");
    assert!(!w.get(&location).await.body.contains("id=\"issued-token\""));

    let form = |name: &'static str, schedule: &'static str| {
        vec![
            ("_csrf", token.clone()),
            ("probe_id", probe.id.as_str().to_owned()),
            ("name", name.to_owned()),
            ("isp", "Acme".to_owned()),
            ("colour", "violet".to_owned()),
            ("download_mbps", "250".to_owned()),
            ("upload_mbps", "40".to_owned()),
            ("labels", "rack=4".to_owned()),
            (
                "server_pool",
                "ookla:12345\niperf3://10.0.0.1?protocol=udp".to_owned(),
            ),
            ("schedule", schedule.to_owned()),
            ("tests_per_day", "48".to_owned()),
            ("jitter_seconds", "60".to_owned()),
            ("cron", "0 8,20 * * *\n*/30 * * * 1-5".to_owned()),
            ("timezone", "Europe/Berlin".to_owned()),
            ("min_download_ratio", "0.8".to_owned()),
            ("min_upload_ratio", "0.8".to_owned()),
            ("max_ping_ms", String::new()),
            ("max_jitter_ms", "30".to_owned()),
            ("max_packet_loss_percent", "1.5".to_owned()),
            ("adaptive_interval_seconds", "300".to_owned()),
            ("recovery_healthy_count", "3".to_owned()),
            ("max_consecutive_failures", "5".to_owned()),
            ("alert_after", String::new()),
            ("recover_after", String::new()),
            ("source_interface", "eth1".to_owned()),
            ("source_address", String::new()),
            ("enabled", "1".to_owned()),
        ]
    };
    let as_refs =
        |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    // Field errors next to their fields.
    let mut bad = as_refs(&form("wan1", "even"));
    bad.iter_mut()
        .find(|(k, _)| *k == "min_download_ratio")
        .unwrap()
        .1 = "1.5".into();
    let a = post(&mut w, "/settings/connections", bad).await;
    assert_eq!(a.status, 422);
    assert!(
        a.body.contains("id=\"min_download_ratio-error\""),
        "{}",
        a.body
    );
    // Every broken rule at once, each next to its field and in the summary; the typed values
    // stay (before: one error per submit).
    let mut bad = as_refs(&form("wan1", "even"));
    for (field, value) in [
        ("min_download_ratio", "1.5"),
        ("max_packet_loss_percent", "150"),
        ("tests_per_day", "0"),
        ("download_mbps", "2000000"),
        ("colour", "plaid"),
    ] {
        bad.iter_mut().find(|(k, _)| *k == field).unwrap().1 = value.into();
    }
    let a = post(&mut w, "/settings/connections", bad).await;
    assert_eq!(a.status, 422);
    for field in [
        "min_download_ratio",
        "max_packet_loss_percent",
        "tests_per_day",
        "download_mbps",
        "colour",
    ] {
        assert!(
            a.body.contains(&format!("id=\"{field}-error\""))
                && a.body.contains(&format!("href=\"#{field}\"")),
            "{field}: {}",
            a.body
        );
    }
    assert!(a.body.contains("5 fields need attention"), "{}", a.body);
    assert!(a.body.contains("value=\"2000000\""));
    assert!(
        !a.body.contains("id=\"cron-error\""),
        "no hidden cron error"
    );
    let mut bad = as_refs(&form("wan1", "cron"));
    bad.iter_mut().find(|(k, _)| *k == "cron").unwrap().1 = "0 8 * *".into();
    let a = post(&mut w, "/settings/connections", bad).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("id=\"cron-error\""));
    // A cron schedule with a comma inside one expression.
    let a = post(
        &mut w,
        "/settings/connections",
        as_refs(&form("wan1", "cron")),
    )
    .await;
    assert_eq!(
        (a.status, a.location.as_deref()),
        (303, Some("/settings/connections?saved=wan1")),
        "{}",
        a.body
    );
    assert!(
        w.get("/settings/connections?saved=wan1")
            .await
            .body
            .contains("Saved “wan1”.")
    );
    let c = t.app.storage.connections(None).await.unwrap().remove(0);
    match &c.schedule {
        netpulse_domain::schedule::Schedule::Cron(s) => {
            assert_eq!(s.expressions(), ["0 8,20 * * *", "*/30 * * * 1-5"]);
            assert_eq!(s.time_zone(), "Europe/Berlin");
        }
        other @ netpulse_domain::schedule::Schedule::Even(_) => panic!("{other:?}"),
    }
    assert_eq!(c.thresholds.max_ping_ms(), None, "an empty cap is off");
    assert_eq!(c.source_interface.as_deref(), Some("eth1"));
    // The edit form shows the preview of the next five runs in Berlin time.
    let edit = w.get(&format!("/settings/connections/{}", c.id)).await;
    assert!(edit.body.matches(" CE").count() >= 5, "{}", edit.body);
    let (s, preview) = w
        .get_json("/settings/connections/cron-preview?cron=0%208%2C20%20*%20*%20*&timezone=Europe%2FBerlin")
        .await;
    assert_eq!(s, 200);
    assert_eq!(preview["next"].as_array().unwrap().len(), 5);
    assert!(preview["next"][0].as_str().unwrap().contains(":00:00 CE"));
    let (_, bad) = w
        .get_json("/settings/connections/cron-preview?cron=nope&timezone=UTC")
        .await;
    assert!(bad["error"].is_string());
    // Update to an even schedule, disable, delete.
    let a = post(
        &mut w,
        &format!("/settings/connections/{}", c.id),
        as_refs(&form("wan one", "even")),
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let c2 = t.app.storage.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(c2.name.as_str(), "wan one");
    assert_eq!(c2.schedule.mode(), "even");
    let token = csrf_of(&w.get("/settings/connections").await.body);
    assert_eq!(
        w.post_form(
            &format!("/settings/connections/{}/disable", c.id),
            &[("_csrf", &token)]
        )
        .await
        .status,
        303
    );
    assert!(
        !t.app
            .storage
            .connection(&c.id)
            .await
            .unwrap()
            .unwrap()
            .enabled
    );
    // A probe with connections cannot be deleted; the page says why.
    let a = w
        .post_form(
            &format!("/settings/probes/{}/delete", probe.id),
            &[("_csrf", &token)],
        )
        .await;
    assert_eq!(a.status, 409);
    assert!(a.body.contains("still has connections"));
    assert_eq!(
        w.post_form(
            &format!("/settings/connections/{}/delete", c.id),
            &[("_csrf", &token)]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        w.post_form(
            &format!("/settings/probes/{}/delete", probe.id),
            &[("_csrf", &token)]
        )
        .await
        .status,
        303
    );
    assert!(t.app.storage.probes().await.unwrap().is_empty());

    // API tokens: shown once (after a redirect), usable, revocable.
    let a = w
        .post_form(
            "/settings/tokens",
            &[("_csrf", &token), ("name", "scripts")],
        )
        .await;
    assert_eq!(a.status, 303);
    let shown = w.get(a.location.as_deref().unwrap()).await;
    let api = shown
        .body
        .split("id=\"issued-token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let r = t
        .client
        .get(t.url("/api/v1/probes"))
        .bearer_auth(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = t
        .app
        .storage
        .api_tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.name == "scripts")
        .unwrap()
        .id;
    assert_eq!(
        w.post_form(
            &format!("/settings/tokens/{id}/revoke"),
            &[("_csrf", &token)]
        )
        .await
        .status,
        303
    );
    let r = t
        .client
        .get(t.url("/api/v1/probes"))
        .bearer_auth(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Password change: the old one stops working, other sessions end.
    let mut other = WebClient::new(t);
    assert_eq!(
        other
            .login(crate::web_auth::EMAIL, crate::web_auth::PASSWORD)
            .await
            .status,
        303
    );
    let a = w
        .post_form(
            "/settings/password",
            &[
                ("_csrf", &token),
                ("current_password", "wrong"),
                ("new_password", "a new long password"),
                ("new_password_confirm", "a new long password"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    let a = w
        .post_form(
            "/settings/password",
            &[
                ("_csrf", &token),
                ("current_password", crate::web_auth::PASSWORD),
                ("new_password", "a new long password"),
                ("new_password_confirm", "a new long password"),
            ],
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(w.get("/").await.status, 200, "this browser stays signed in");
    assert_eq!(
        other.get("/").await.location.as_deref(),
        Some("/login"),
        "the other session ended"
    );
    assert_eq!(
        other
            .login(crate::web_auth::EMAIL, crate::web_auth::PASSWORD)
            .await
            .status,
        401
    );
    assert_eq!(
        other
            .login(crate::web_auth::EMAIL, "a new long password")
            .await
            .status,
        303
    );
}

async fn post(
    w: &mut WebClient,
    path: &str,
    fields: Vec<(&'static str, String)>,
) -> crate::web_auth::Answer {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    w.post_form(path, &refs).await
}

/// `/settings/notifications`: closed when signed out, a page shell for a signed-in user, and the
/// notification API it calls takes the session cookie (and the CSRF header for changes).
pub(crate) async fn notifications_page_and_its_api_with_a_session(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let mut anon = WebClient::new(t);
    let closed = anon.get("/settings/notifications").await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    assert!(
        closed
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        closed.location
    );
    assert_eq!(anon.get_json("/api/v1/notifications/settings").await.0, 401);

    let page = w.get("/settings/notifications").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("x-data=\"notifications\""));
    assert!(
        page.body
            .contains("<script defer src=\"/static/notifications.js\" nonce=\"")
    );
    assert!(
        page.body.contains(
            "<a href=\"/settings/notifications\" aria-current=\"page\">Notifications</a>"
        ),
        "the settings sub-navigation marks the tab"
    );
    assert!(!page.body.contains("not running in this server process"));
    let other = w.get("/settings").await;
    assert!(
        other
            .body
            .contains("<a href=\"/settings/notifications\" >Notifications</a>")
    );
    let js = w.get("/static/notifications.js").await;
    assert_eq!(js.status, 200);
    assert!(js.body.contains("Alpine.data(\"notifications\""));

    let token = csrf_of(&page.body);
    let (s, body) = w.get_json("/api/v1/notifications/settings").await;
    assert_eq!(
        (s, &body["enabled"]),
        (200, &serde_json::json!(true)),
        "{body}"
    );
    let (s, body) = w.get_json("/api/v1/notifications/channel-types").await;
    assert_eq!(s, 200);
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "webhook"),
        "{body}"
    );
    let base = w.base.clone();
    let patch = |csrf: Option<&str>, body: serde_json::Value| {
        let mut r = w
            .http
            .patch(format!("{base}/api/v1/notifications/settings"))
            .header(
                "Cookie",
                w.cookies
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .json(&body);
        if let Some(c) = csrf {
            r = r.header("X-CSRF-Token", c);
        }
        r.send()
    };
    let refused = patch(None, serde_json::json!({"enabled": false}))
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        401,
        "a cookie alone cannot change anything"
    );
    let bad = patch(Some(&token), serde_json::json!({"alertAfter": 0}))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let problem: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(problem["field"], "alertAfter", "{problem}");
    let ok = patch(Some(&token), serde_json::json!({"enabled": false}))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let (_, body) = w.get_json("/api/v1/notifications/settings").await;
    assert_eq!(body["enabled"], false);
}

/// A connection whose every test fails (the quick start without internet): the card and
/// Latest test give the reason, a banner says every test of the last day failed, the chart
/// data carries the failures as markers; breaches are said in words with the threshold; the
/// dashboard's "incidents" are alert-to-recovery episodes, the unhealthy results are counted as
/// "Unhealthy tests".
pub(crate) async fn failures_are_shown_with_their_reason(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let now = t.clock.now();
    for i in 1..=3 {
        let (s, _) = t
            .push(
                &agent,
                &push_body(
                    now.plus_seconds(-3600 * i),
                    &c,
                    None,
                    &failed_stdout(),
                    1,
                    true,
                ),
            )
            .await;
        assert_eq!(s, 201);
    }
    let page = w.get("/").await.body;
    assert!(
        page.contains("Every test of wan1 failed in the last 24 hours"),
        "{page}"
    );
    assert!(page.contains("Last test failed"), "{page}");
    assert!(
        page.contains("Network unreachable: Cannot open socket"),
        "{page}"
    );
    assert!(page.contains("&quot;failed&quot;:[") || page.contains("\"failed\":["));
    assert!(
        !page.contains("No completed test yet."),
        "the failure is shown instead"
    );
    // A completed result below the plan: the breach in words, the banner gone.
    let mut slow: serde_json::Value = serde_json::from_str(&ookla_stdout()).unwrap();
    slow["upload"]["bandwidth"] = serde_json::json!(98_000_000 / 8);
    let (s, _) = t
        .push(
            &agent,
            &push_body(now.plus_seconds(-60), &c, None, &slow.to_string(), 0, true),
        )
        .await;
    assert_eq!(s, 201);
    let page = w.get("/").await.body;
    assert!(!page.contains("Every test of wan1 failed"), "{page}");
    assert!(
        page.contains("Upload 98 Mbps &lt; 350 Mbps (70 % of plan)"),
        "{page}"
    );
    assert!(page.contains("Unhealthy tests"));
    let history = w.get("/history").await.body;
    assert!(history.contains("is-breach"), "{history}");
    assert!(history.contains("Upload 98 Mbps &lt; 350 Mbps (70 % of plan)"));
    assert!(history.contains("Network unreachable: Cannot open socket"));
}
