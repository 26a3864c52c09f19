//! Baselines end to end: 14 local days of scheduled results give a connection its baseline
//! (run-now, failed and maintenance results left out); a result more than the deviation below
//! it breaches `baseline_deviation` and the third in a row alerts; a baseline still collecting
//! (< 50 samples) never does. `GET /api/v1/connections/{id}/baseline` shows it.

use netpulse_app::service::{baselines, connections};
use netpulse_domain::Timestamp;
use netpulse_domain::model::Connection;
use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp, ookla_stdout, push_body};
use crate::notifications::{Receiver, eventually};

const DAY: i64 = 86_400;
/// The fixture's download, bytes per second (931.6 Mbps).
const NORMAL: &str = "116445504";

/// A result at `at` whose download is `bytes_per_second` (the fixture's otherwise).
fn result(c: &Connection, at: Timestamp, download: &str, scheduled: bool) -> Value {
    let stdout = ookla_stdout().replacen(NORMAL, download, 1);
    push_body(at, c, None, &stdout, 0, scheduled)
}

async fn push(t: &TestApp, agent: &Agent, body: &Value) -> Value {
    let (status, r) = t.push(agent, body).await;
    assert_eq!(status, 201, "{r}");
    r
}

/// A connection without a plan (so only the baseline can call a download slow).
async fn connection(t: &TestApp, agent: &Agent, name: &str) -> Connection {
    let input = connections::ConnectionInput {
        name: Some(name.into()),
        download_mbps: Some(0),
        upload_mbps: Some(0),
        jitter_seconds: Some(0),
        ..Default::default()
    };
    connections::create(&t.app, &agent.probe.id, input)
        .await
        .unwrap()
}

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or(f64::NAN);
    assert!((got - want).abs() < 1e-6 * want, "{got} ≠ {want}");
}

async fn baseline(t: &TestApp, c: &Connection) -> Value {
    let (status, b) = t
        .get(&format!("/api/v1/connections/{}/baseline", c.id))
        .await;
    assert_eq!(status, 200, "{b}");
    b
}

pub(crate) async fn a_deviation_from_the_baseline_alerts_after_n_and_collecting_never_does(
    t: &TestApp,
) {
    let hook = Receiver::start(&[200]).await;
    let (status, channel) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "hook", "type": "webhook", "settings": {"url": hook.url, "secret": "hmac-key-123"}}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let agent = t.probe("home").await;
    let c = connection(t, &agent, "wan1").await;
    let young = connection(t, &agent, "wan2").await;
    // Today (UTC, the site's zone) starts at `today`; the window is the 14 days before it.
    let now = t.clock_now();
    let today = Timestamp::from_unix_seconds(now.unix_seconds().div_euclid(DAY) * DAY);

    // A maintenance window over day −5, with slow results in it.
    let (status, w) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/connections/{}/maintenance-windows", c.id),
            &json!({"startsAt": today.plus_seconds(-5 * DAY).to_rfc3339(), "endsAt": today.plus_seconds(-4 * DAY).to_rfc3339(), "note": "ISP works"}),
        )
        .await;
    assert_eq!(status, 201, "{w}");

    // Day −15 (outside the window) is slow; days −14 … −1 have 4 normal tests each (56), and
    // slow run-now tests, failures and maintenance results that must not count.
    for h in [1, 7, 13, 19] {
        let at = today.plus_seconds(-15 * DAY + h * 3600);
        push(t, &agent, &result(&c, at, "1000", true)).await;
    }
    for day in (1..=14).rev() {
        for h in [1, 7, 13, 19] {
            let at = today.plus_seconds(-day * DAY + h * 3600);
            push(t, &agent, &result(&c, at, NORMAL, true)).await;
            let r = push(t, &agent, &result(&c, at.plus_seconds(60), "1000", false)).await;
            assert_eq!(r["breaches"], json!([]), "no baseline yet: {r}");
            push(
                t,
                &agent,
                &push_body(
                    at.plus_seconds(120),
                    &c,
                    None,
                    r#"{"type":"log","level":"error","message":"Cannot open socket"}"#,
                    2,
                    true,
                ),
            )
            .await;
            if day == 5 {
                push(t, &agent, &result(&c, at.plus_seconds(180), "1000", true)).await;
            }
        }
    }
    // A good result now ends the run of the failures above (the debouncer counts them).
    push(t, &agent, &result(&c, now, NORMAL, true)).await;
    // wan2 has 49 scheduled results in the window: collecting.
    for i in 0..49 {
        let at = today.plus_seconds(-14 * DAY + i * 6 * 3600);
        push(t, &agent, &result(&young, at, NORMAL, true)).await;
    }

    // The figures are checked after the rebuild below: the server's housekeeping may already
    // have run the nightly recompute (due from 00:30 site time on the real clock).
    let b = baseline(t, &c).await;
    assert_eq!(b["deviationPct"], 30.0);
    assert_eq!(b["metrics"][0]["metric"], "download");

    assert_eq!(
        baselines::rebuild(&t.app, None).await.unwrap().connections,
        2
    );
    let b = baseline(t, &c).await;
    let down = &b["metrics"][0];
    let median = 116_445_504.0 * 8.0;
    // 14 × 4 scheduled results, less the 4 of day −5 (all its results are in maintenance);
    // the slow ones (run-now, maintenance, day −15) would pull P10 down.
    assert_eq!(down["n"], 52, "{b}");
    assert_eq!(down["reliable"], true);
    assert_eq!(down["median"], median);
    assert_eq!(down["p10"], median);
    close(&down["bandLow"], median * 0.7);
    close(&down["bandHigh"], median * 1.3);
    assert_eq!(down["worse"], "lower");
    assert_eq!(b["metrics"][2]["metric"], "ping");
    assert_eq!(b["metrics"][2]["worse"], "higher");
    assert_eq!(b["metrics"][2]["n"], 52);
    let day = today.to_rfc3339();
    assert_eq!(down["day"], day.split('T').next().unwrap());
    let y = baseline(t, &young).await;
    assert_eq!(
        (
            y["metrics"][0]["n"].clone(),
            y["metrics"][0]["reliable"].clone()
        ),
        (json!(49), json!(false))
    );

    // 60 % of the baseline is more than 30 % below it: a breach each, an alert on the third.
    let slow = "69867302";
    for n in 1..=3 {
        t.clock.advance_seconds(600);
        let r = push(t, &agent, &result(&c, t.clock_now(), slow, true)).await;
        assert_eq!(r["breaches"], json!(["baseline_deviation"]), "{r}");
        assert_eq!(r["healthy"], false);
        if n < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            assert!(hook.kinds().is_empty(), "no alert after {n}");
        }
    }
    eventually("the alert", || hook.kinds() == ["alert"]).await;
    // Back to normal: healthy, and the recovery.
    t.clock.advance_seconds(600);
    let r = push(t, &agent, &result(&c, t.clock_now(), NORMAL, true)).await;
    assert_eq!(r["breaches"], json!([]), "{r}");
    eventually("the recovery", || hook.kinds() == ["alert", "recovery"]).await;

    // Collecting: the same slow results on wan2 breach nothing and alert nothing.
    for _ in 0..3 {
        t.clock.advance_seconds(600);
        let r = push(t, &agent, &result(&young, t.clock_now(), slow, true)).await;
        assert_eq!(r["breaches"], json!([]), "{r}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(hook.kinds(), ["alert", "recovery"]);

    // A wider deviation on the connection (API): 60 % of the baseline passes at 50 %.
    let (status, patched) = t
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/connections/{}", c.id),
            &json!({"baselineDeviationPct": 50}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["baselineDeviationPct"], 50.0);
    t.clock.advance_seconds(600);
    let r = push(t, &agent, &result(&c, t.clock_now(), slow, true)).await;
    assert_eq!(r["breaches"], json!([]), "{r}");
    close(
        &baseline(t, &c).await["metrics"][0]["bandLow"],
        median * 0.5,
    );
}

pub(crate) async fn baseline_input_is_checked_with_field_names(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = connection(t, &agent, "wan1").await;
    for bad in [json!(0), json!(-5), json!(1001), json!("x")] {
        let (status, body) = t
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/connections/{}", c.id),
                &json!({"baselineDeviationPct": bad}),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["field"], "baselineDeviationPct", "{body}");
    }
    let (status, body) = t.get("/api/v1/connections/nope/baseline").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("connectionId"))
    );
    let (status, _) = t
        .get("/api/v1/connections/11111111-1111-4111-8111-111111111111/baseline")
        .await;
    assert_eq!(status, 404);
}

/// How the chart draws the baseline band: the fraction of the band's rows (at mid-width) that
/// are tinted with the accent colour, and the band's pixel rows.
const BAND_REPORT: &str = r"
const el = document.querySelector('.chart');
const u = el.npPlot;
const data = JSON.parse(document.querySelector('script[x-ref=data]').textContent);
const band = (data.bands || {}).download;
if (!band) return { band: null };
const top = u.valToPos(band.high, 'y', true), bottom = u.valToPos(band.low, 'y', true);
const b = u.bbox;
const x = Math.round(b.left + 3);
const share = (y0, y1) => { const img = u.ctx.getImageData(x, Math.round(y0), 1, Math.max(1, Math.round(y1 - y0))).data;
  let tinted = 0, n = 0; for (let p = 0; p < img.length; p += 4) { n++; if (img[p + 3] > 0) tinted++; } return tinted / Math.max(n, 1); };
return { band: band, top: top, bottom: bottom, tinted: share(top + 2, bottom - 2), below: share(bottom + 4, b.top + b.height - 4), key: document.querySelector('.chart-key').textContent };
";

pub(crate) async fn the_dashboard_draws_the_baseline_band(t: &TestApp) {
    let b = crate::browser::Browser::start(
        &t.base,
        &format!("{}-baseline", crate::web_browser::db_label()),
    )
    .await;
    crate::web_charts::first_admin(&b).await;
    let agent = t.probe("home").await;
    let c = connection(t, &agent, "wan1").await;
    // Noon tomorrow, so that today has a morning of results whatever the time of the run.
    let start = t.clock_now().unix_seconds();
    let today = Timestamp::from_unix_seconds(start.div_euclid(DAY) * DAY + DAY);
    t.clock
        .advance_seconds(today.unix_seconds() + 12 * 3600 - start);
    // 14 days of 4 tests around 930 Mbps (± 5 %), then this morning's, two of them slow (and
    // so unhealthy: more than 30 % below the baseline).
    for day in (1..=14).rev() {
        for (i, h) in [1, 7, 13, 19].into_iter().enumerate() {
            let at = today.plus_seconds(-day * DAY + h * 3600);
            let wobble = 1.0 + 0.05 * (((day * 4 + i as i64) % 5) as f64 - 2.0) / 2.0;
            let bytes = format!("{}", (116_445_504.0 * wobble).round());
            push(t, &agent, &result(&c, at, &bytes, true)).await;
        }
    }
    baselines::rebuild(&t.app, Some(&c.id)).await.unwrap();
    for h in 1..=11_i64 {
        let slow = if h % 5 == 0 { "50000000" } else { NORMAL };
        let r = push(
            t,
            &agent,
            &result(&c, today.plus_seconds(h * 3600), slow, true),
        )
        .await;
        assert_eq!(r["healthy"], h % 5 != 0, "{r}");
    }
    netpulse_app::service::rollups::catch_up(&t.app)
        .await
        .unwrap();
    b.goto("/?range=7d").await;
    b.watch_errors().await;
    b.wait_until("the chart", "document.querySelector('.chart').npPlot")
        .await;
    let r = b.eval(BAND_REPORT).await;
    assert!(!r["band"].is_null(), "the chart has the download band: {r}");
    assert!(
        r["tinted"].as_f64().unwrap() > 0.9,
        "the band is drawn over its rows: {r}"
    );
    assert!(
        r["below"].as_f64().unwrap() < 0.2,
        "and not below them: {r}"
    );
    assert!(
        r["key"]
            .as_str()
            .unwrap()
            .contains("baseline (14-day median ± 30 %)"),
        "{r}"
    );
    b.screenshots_both("dashboard-baseline").await;
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
}

pub(crate) async fn checks_learn_a_latency_baseline_per_family(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = crate::checks::create(
        t,
        json!({"probeId": agent.probe.id.as_str(), "kind": "tcp", "target": "example.org", "port": 443}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let now = t.clock_now();
    let today = Timestamp::from_unix_seconds(now.unix_seconds().div_euclid(DAY) * DAY);
    // The probe was in maintenance on day −3.
    let (s, w) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/probes/{}/maintenance", agent.probe.id),
            &json!({"startsAt": today.plus_seconds(-3 * DAY).to_rfc3339(), "endsAt": today.plus_seconds(-2 * DAY).to_rfc3339(), "reason": "router swap"}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    // 14 days of 5 rounds: v4 ok at 10, 20, 30 ms…, v6 failing; day −3 slow (in maintenance).
    let mut results = vec![];
    for day in 1..=14_i64 {
        for k in 0..5_i64 {
            let at = today.plus_seconds(-day * DAY + k * 3600).to_rfc3339();
            let mut ok = crate::checks::result(&id, &at, "v4", "ok");
            ok["latencyMs"] = json!(if day == 3 {
                900.0
            } else {
                10.0 * (k + 1) as f64
            });
            results.push(ok);
            results.push(crate::checks::result(&id, &at, "v6", "fail"));
        }
    }
    let (s, a) = crate::checks::push_checks(t, &agent, &json!({ "results": results })).await;
    assert_eq!(s, 200, "{a}");
    let path = format!("/api/v1/checks/{id}/baseline");
    // No "before" figure is asserted: the server's housekeeping may already have run the
    // nightly recompute (it is due from 00:30 site time on the real clock), so the rebuild
    // below is what the figures are checked against.
    let done = baselines::rebuild(&t.app, None).await.unwrap();
    assert!(done.checks >= 1, "{done:?}");
    let (_, b) = t.get(&path).await;
    let v4 = &b["families"][0];
    assert_eq!(v4["family"], "v4");
    assert_eq!(v4["n"], 65, "13 days of 5 rounds: {b}");
    assert_eq!(v4["median"], 30.0, "{b}");
    assert_eq!(v4["reliable"], true);
    assert_eq!(b["families"][1]["n"], 0, "failures are no samples: {b}");
    let (s, e) = t.get("/api/v1/checks/nope/baseline").await;
    assert_eq!((s, e["field"].as_str()), (400, Some("checkId")));
}
