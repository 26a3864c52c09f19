//! The dashboard's chart and layout in a real Chromium, with a sparse week (a test every 3 h,
//! a 30-hour stretch without data, failed tests): every result is drawn, failed tests are red
//! markers, the y axis is as wide as its labels (Gbps above 1000 Mbps), the x axis speaks ISO;
//! the detail grid does not overlap, inputs in a form row are equally tall, the narrow layout
//! has a menu. Screenshots of every page at 1280 and 390 px, light and dark.

use netpulse_domain::Timestamp;
use netpulse_ports::clock::Clock;
use serde_json::{Value, json};

use crate::browser::{Browser, group_members};
use crate::helpers::{TestApp, ookla_stdout, push_body};
use crate::web_auth::{EMAIL, PASSWORD};

/// The Ookla fixture with other figures.
fn ookla_with(download_mbps: f64, upload_mbps: f64, ping_ms: f64) -> String {
    let mut v: Value = serde_json::from_str(&ookla_stdout()).unwrap();
    v["download"]["bandwidth"] = json!((download_mbps * 1e6 / 8.0).round());
    v["upload"]["bandwidth"] = json!((upload_mbps * 1e6 / 8.0).round());
    v["ping"]["latency"] = json!(ping_ms);
    v.to_string()
}

const FAILED_STDOUT: &str = r#"{"error":"Cannot open socket"}"#;

pub(crate) async fn first_admin(b: &Browser) {
    b.goto("/").await;
    assert_eq!(b.path().await, "/setup");
    b.fill("#email", EMAIL).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;
}

/// Draws every result of the window, checks the geometry; returns the report.
const CHART_REPORT: &str = r"
const el = document.querySelector('.chart');
const u = el.npPlot;
const dpr = devicePixelRatio || 1;
const hex = s => { s = s.trim(); if (s.startsWith('#')) { const n = parseInt(s.slice(1), 16); return [n >> 16 & 255, n >> 8 & 255, n & 255]; } const m = s.match(/\d+/g).map(Number); return m.slice(0, 3); };
const accent = hex(getComputedStyle(el).getPropertyValue('--c'));
const bad = hex(getComputedStyle(document.documentElement).getPropertyValue('--bad'));
const ctx = u.ctx;
const near = (x, y, rgb, r) => { const img = ctx.getImageData(Math.round(x) - r, Math.round(y) - r, 2 * r + 1, 2 * r + 1).data;
  for (let p = 0; p < img.length; p += 4) { if (img[p + 3] > 150 && Math.abs(img[p] - rgb[0]) + Math.abs(img[p + 1] - rgb[1]) + Math.abs(img[p + 2] - rgb[2]) < 90) return true; } return false; };
const d = u.data;
let results = 0; const missing = [];
for (let i = 0; i < d[0].length; i++) { const v = d[1][i]; if (v == null) continue; results++;
  const x = u.valToPos(d[0][i], 'x', true), y = u.valToPos(v, 'y', true);
  if (!near(x, y, accent, Math.ceil(2 * dpr))) missing.push(new Date(d[0][i] * 1000).toISOString()); }
const data = JSON.parse(document.querySelector('.chart-card script[type=\'application/json\']').textContent);
const markers = data.failed.filter(ts => { const x = u.valToPos(ts, 'x', true); return near(x, u.bbox.top + u.bbox.height - 6 * dpr, bad, Math.ceil(4 * dpr)); }).length;
const measure = document.createElement('canvas').getContext('2d');
measure.font = '12px system-ui, -apple-system, \u0022Segoe UI\u0022, Roboto, sans-serif';
const y = u.axes[1];
const widest = Math.max(...y._values.map(v => measure.measureText(String(v)).width));
const room = y._size - (y.ticks.size || 10) - (y.gap || 5);
const rect = el.getBoundingClientRect();
const canvas = el.querySelector('canvas').getBoundingClientRect();
return { results, missing, failed: data.failed.length, markers, breaks: data.breaks.length,
  yLabels: y._values, xLabels: u.axes[0]._values, widest, room,
  inside: canvas.left >= rect.left - 1 && canvas.right <= rect.right + 1 };
";

/// Whether any two facts of a definition grid overlap, or a value overflows its box.
const OVERLAPS: &str = r"
const out = [];
document.querySelectorAll('dl.facts').forEach(dl => {
  const cells = [...dl.children];
  for (let i = 0; i < cells.length; i++) { const a = cells[i].getBoundingClientRect();
    for (let j = i + 1; j < cells.length; j++) { const b = cells[j].getBoundingClientRect();
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) out.push(cells[i].textContent + ' / ' + cells[j].textContent); } }
  dl.querySelectorAll('dd').forEach(dd => { if (dd.scrollWidth > dd.clientWidth + 1) out.push('overflow: ' + dd.textContent); });
});
return out;
";

/// Inputs and selects that share a row of a form grid but differ in height.
const UNEVEN_INPUTS: &str = r"
const out = [];
document.querySelectorAll('.form-grid').forEach(g => {
  const rows = {};
  g.querySelectorAll(':scope > .field > input:not([type=checkbox]):not([type=radio]), :scope > .field > select, :scope > .field > .btn').forEach(e => {
    const r = e.getBoundingClientRect(); if (!r.height) return; const top = Math.round(r.top); (rows[top] = rows[top] || []).push([e.id || e.textContent.trim(), Math.round(r.height)]); });
  Object.values(rows).forEach(row => { const hs = row.map(x => x[1]); if (Math.max(...hs) - Math.min(...hs) > 1) out.push(JSON.stringify(row)); });
});
return out;
";

pub(crate) async fn sparse_week_in_a_browser(t: &TestApp) {
    let b = Browser::start(
        &t.base,
        &format!("{}-sparse", crate::web_browser::db_label()),
    )
    .await;
    let group = b.process_group();
    first_admin(&b).await;
    // First run: the checklist says what is missing.
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    b.goto("/").await;
    let checklist = b.text(".checklist").await;
    assert!(
        checklist.contains("Agent polling") && checklist.contains("First result"),
        "{checklist}"
    );
    assert!(
        b.text("#first-run-command")
            .await
            .contains("netpulse-agent")
    );
    b.screenshots_both("dashboard-first-run").await;

    // A week: a test every 3 hours, none for 30 hours in the middle, three failures.
    let now = t.clock.now();
    let start = now.plus_seconds(-7 * 86_400 + 3600);
    let mut completed = 0;
    let mut failed = 0;
    for k in 0..56_i64 {
        let at: Timestamp = start.plus_seconds(k * 3 * 3600);
        let hour = k * 3;
        if (60..90).contains(&hour) {
            continue;
        }
        let (stdout, code) = if [5, 20, 40].contains(&k) {
            failed += 1;
            (FAILED_STDOUT.to_owned(), 1)
        } else {
            completed += 1;
            let wave = ((k * 37) % 300) as f64;
            (
                ookla_with(800.0 + wave, 300.0 + wave / 2.0, 12.0 + wave / 20.0),
                0,
            )
        };
        let (s, body) = t
            .push(&agent, &push_body(at, &c, None, &stdout, code, true))
            .await;
        assert_eq!(s, 201, "{body}");
    }
    // One iperf3 run: its server is the host it connected to.
    let mut iperf = push_body(
        now.plus_seconds(-600),
        &c,
        Some("iperf3://192.168.0.188:9987"),
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../netpulse-adapters/tests/fixtures/iperf3/iperf3.0.11-tcp-client-linux-13s.json"
        ))
        .unwrap(),
        0,
        false,
    );
    iperf["engine"] = json!("iperf3");
    let (s, body) = t.push(&agent, &iperf).await;
    assert_eq!(s, 201, "{body}");
    // (It shares the newest 2-hour bucket with the last Ookla result: one point.)
    b.goto("/?range=7d").await;
    b.watch_errors().await;
    b.wait_until("the chart", "document.querySelector('.chart').npPlot")
        .await;
    assert_eq!(b.count(".checklist").await, 0, "the checklist is gone");
    let r = b.eval(CHART_REPORT).await;
    assert_eq!(r["results"], json!(completed), "one point a result: {r}");
    assert_eq!(r["missing"], json!([]), "every result is drawn: {r}");
    assert_eq!(r["failed"], json!(failed), "{r}");
    assert_eq!(
        r["markers"],
        json!(failed),
        "each failed test is a red marker: {r}"
    );
    assert_eq!(
        r["breaks"],
        json!(1),
        "only the 30 hours break the line: {r}"
    );
    assert!(
        r["widest"].as_f64().unwrap() <= r["room"].as_f64().unwrap(),
        "the y labels fit their axis: {r}"
    );
    assert!(r["inside"].as_bool().unwrap(), "{r}");
    let y_labels = r["yLabels"].to_string();
    assert!(y_labels.contains("Gbps"), "{y_labels}");
    for l in r["xLabels"].as_array().unwrap() {
        let l = l.as_str().unwrap_or("");
        assert!(
            !l.contains('/')
                && !l.to_lowercase().contains("am")
                && !l.to_lowercase().contains("pm"),
            "ISO labels: {l}"
        );
    }
    // Upload below 350 Mbps (70 % of 500) is said in words.
    let latest = b.text("#latest-title").await;
    assert_eq!(latest, "Latest test");
    b.screenshots_both("dashboard-sparse").await;
    // The narrow layout: a menu instead of a cut-off nav.
    b.client.set_window_size(390, 900).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert_eq!(
        b.eval("return getComputedStyle(document.querySelector('#main-nav')).display;")
            .await,
        json!("none")
    );
    b.click("#nav-toggle").await;
    let settings_right = b
        .eval("return document.querySelector('#main-nav a[href=\"/settings\"]').getBoundingClientRect().right;")
        .await;
    assert!(
        settings_right.as_f64().unwrap() <= 390.0,
        "{settings_right}"
    );
    b.screenshots("dashboard-menu-390").await;
    b.client.set_window_size(1280, 900).await.unwrap();

    // iperf3 targets are servers too, in History and on the Servers page (per connection,
    // with the share of the plan).
    b.goto("/history").await;
    assert!(b.text("main tbody").await.contains("192.168.0.188:9987"));
    b.goto("/servers").await;
    let servers = b.text("main tbody").await;
    assert!(
        servers.contains("192.168.0.188:9987") && servers.contains("% of plan"),
        "{servers}"
    );
    // At 390 px the History table shows Download and Status without scrolling.
    b.goto("/history").await;
    b.client.set_window_size(390, 900).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let status_right = b
        .eval("return document.querySelector('table.results thead th:last-child').getBoundingClientRect().right;")
        .await;
    assert!(
        status_right.as_f64().unwrap() <= 390.0,
        "Status at {status_right}"
    );
    b.client.set_window_size(1280, 900).await.unwrap();
    // Every page, sparse.
    for (path, name) in [
        ("/history", "history-sparse"),
        ("/heatmap", "heatmap-sparse"),
        ("/servers", "servers-sparse"),
        ("/settings", "settings-general"),
        ("/settings/connections", "settings-connections"),
        ("/settings/probes", "settings-probes"),
        ("/settings/notifications", "settings-notifications"),
        (
            &format!("/settings/connections/{}", c.id),
            "connection-form",
        ),
    ] {
        b.goto(path).await;
        let uneven = b.eval(UNEVEN_INPUTS).await;
        assert_eq!(
            uneven,
            json!([]),
            "{path}: inputs of one row differ in height"
        );
        b.screenshots_both(name).await;
    }
    // The heatmap: a week of tests every 3 hours leaves at most one result a cell, shown
    // pale with its value; the legend is drawn from values, not from "no data".
    b.goto("/heatmap").await;
    assert!(b.count("td.hm-cell.hm-sparse").await >= 30);
    let legend = b.text(".legend").await;
    assert!(
        legend.matches("0 Mbps").count() <= 1 && legend.contains("worse"),
        "{legend}"
    );
    // A failed result's detail page, and a completed one: no fact overlaps another.
    b.goto("/history?status=failed").await;
    b.click("main tbody tr a").await;
    b.wait_until("the detail", "location.pathname.startsWith('/history/')")
        .await;
    assert!(b.text("main").await.contains("Cannot open socket"));
    b.screenshots_both("history-detail-failed").await;
    b.goto("/history").await;
    b.click("main tbody tr a").await;
    b.wait_until("the detail", "location.pathname.startsWith('/history/')")
        .await;
    for width in [1280, 390] {
        b.client.set_window_size(width, 900).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(b.eval(OVERLAPS).await, json!([]), "{width} px");
    }
    b.client.set_window_size(1280, 900).await.unwrap();
    b.screenshots_both("history-detail").await;
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
    assert!(
        group_members(group) > 1,
        "Chromium runs in the driver's group"
    );
    drop(b);
    for _ in 0..50 {
        if group_members(group) == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let ps = std::process::Command::new("ps")
        .args(["-eo", "pid,ppid,pgid,stat,comm"])
        .output()
        .unwrap();
    assert_eq!(
        group_members(group),
        0,
        "Chromium and its helpers are gone: {}",
        String::from_utf8_lossy(&ps.stdout)
            .lines()
            .filter(|l| l.contains(&group.to_string()))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The Connectivity page in a real Chromium with a day of rounds of the default set (a
/// 40-minute IPv6 outage, a lossy hour on one provider, a failing HTTP check now): every check
/// and family has a row with its band, nothing overlaps or overflows at 1280 and 390 px.
/// Screenshots light and dark (and of the 6 h window).
pub(crate) async fn connectivity_page_in_a_browser(t: &TestApp) {
    use netpulse_domain::check::{
        CheckKind, CheckMeasurement, FailureClass, Family, FamilyMode, Outcome,
    };
    let b = Browser::start(
        &t.base,
        &format!("{}-connectivity", crate::web_browser::db_label()),
    )
    .await;
    let group = b.process_group();
    first_admin(&b).await;
    let agent = t.probe("home").await;
    let mut checks = netpulse_app::service::checks::add_defaults(&t.app, &agent.probe.id)
        .await
        .unwrap();
    // A DNS check asking two resolvers (one slow and failing at times), rated per resolver.
    let (s, dns) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/checks",
            &json!({"probeId": agent.probe.id.to_string(), "kind": "dns", "target": "example.org",
                    "family": "v4", "params": {"resolvers": ["1.1.1.1", "9.9.9.9"], "recordTypes": ["A", "AAAA"]}}),
        )
        .await;
    assert_eq!(s, 201, "{dns}");
    let dns_id = dns["id"].as_str().unwrap().to_owned();
    checks.extend(
        netpulse_app::service::checks::list(&t.app, Some(&agent.probe.id))
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.id.as_str() == dns_id),
    );
    let now = t.clock.now();
    let last_round = now.unix_seconds() / 60 * 60 - 60;
    let mut batch = Vec::new();
    for i in 0..1440i64 {
        let at = Timestamp::from_unix_seconds(last_round - (1439 - i) * 60);
        let minute = f64::from(u32::try_from(i).unwrap());
        for c in &checks {
            let family = if c.spec.family == FamilyMode::V6 {
                Family::V6
            } else {
                Family::V4
            };
            let v6_outage = family == Family::V6 && (600..640).contains(&i);
            let quad9 = c.spec.target.contains("9.9.9.9") || c.spec.target.contains("fe::fe");
            let http_broken = c.spec.kind == CheckKind::Http && quad9 && i >= 1430;
            let m = if v6_outage || http_broken {
                let class = if v6_outage {
                    FailureClass::Timeout
                } else {
                    FailureClass::HttpStatus
                };
                CheckMeasurement::failed(
                    c.id.clone(),
                    at,
                    family,
                    Outcome::Fail,
                    class,
                    "no answer",
                )
            } else {
                let mut m = CheckMeasurement::new(c.id.clone(), at, family, Outcome::Ok);
                let base =
                    if quad9 { 14.0 } else { 9.0 } + if family == Family::V6 { 2.0 } else { 0.0 };
                let wave = 3.0 * (minute / 90.0).sin() + (minute * 7.0 % 5.0) / 2.0;
                m.latency_ms = Some(
                    base + wave
                        + if c.spec.kind == CheckKind::Http {
                            15.0
                        } else {
                            0.0
                        },
                );
                if c.spec.kind == CheckKind::Dns {
                    use netpulse_domain::check::RecordType;
                    use netpulse_domain::check::dns::ResolverFigure;
                    let fig = |resolver: &str, record_type, ok: bool, ms: f64| ResolverFigure {
                        resolver: resolver.to_owned(),
                        record_type,
                        sent: 3,
                        succeeded: if ok { 3 } else { 0 },
                        median_ms: ok.then_some(ms),
                    };
                    let slow_ok = i % 7 != 0;
                    m.dns_resolvers = vec![
                        fig("1.1.1.1", RecordType::A, true, 3.0 + wave.abs()),
                        fig("1.1.1.1", RecordType::Aaaa, true, 3.5 + wave.abs()),
                        fig("9.9.9.9", RecordType::A, slow_ok, 28.0 + wave),
                        fig("9.9.9.9", RecordType::Aaaa, true, 24.0 + wave),
                    ];
                    if !slow_ok {
                        m.outcome = Outcome::Fail;
                        m.failure_class = Some(FailureClass::Timeout);
                        m.message =
                            Some("9.9.9.9 A: no answer in time (3 of 3 queries failed)".into());
                    }
                }
                if c.spec.kind == CheckKind::Icmp {
                    let lossy = quad9 && (900..960).contains(&i);
                    m.loss_pct = Some(if lossy && i % 3 == 0 { 40.0 } else { 0.0 });
                    m.rtt_min_ms = m.latency_ms.map(|l| l - 1.5);
                    m.rtt_max_ms = m.latency_ms.map(|l| l + if lossy { 30.0 } else { 4.0 });
                }
                m
            };
            batch.push(m);
        }
        if batch.len() >= 4000 {
            netpulse_app::service::check_results::ingest(
                &t.app,
                &agent.probe.id,
                std::mem::take(&mut batch),
            )
            .await
            .unwrap();
        }
    }
    netpulse_app::service::check_results::ingest(&t.app, &agent.probe.id, batch)
        .await
        .unwrap();

    let path = format!("/connectivity?probe={}&window=24h", agent.probe.id);
    for width in [1280, 390] {
        b.client.set_window_size(width, 900).await.unwrap();
        b.goto(&path).await;
        let rows: Value = b
            .eval("return document.querySelectorAll('table tbody tr').length;")
            .await;
        assert!(
            rows.as_u64().unwrap_or(0) >= 8,
            "a row per check and family: {rows}"
        );
        let bands: Value = b
            .eval("return document.querySelectorAll('svg').length;")
            .await;
        let texts: Value = b
            .eval("return [...document.querySelectorAll('table tbody tr')].map(r => r.innerText.replace(/\\s+/g, ' '));")
            .await;
        assert!(
            bands.as_u64().unwrap_or(0) >= 8,
            "a band per row: {bands} {texts:#}"
        );
        let overflow: Value = b
            .eval("return document.documentElement.scrollWidth - window.innerWidth;")
            .await;
        assert!(
            overflow.as_i64().unwrap_or(0) <= 1,
            "{width} px: the page scrolls sideways by {overflow}"
        );
        let overlaps: Value = b.eval(OVERLAPS).await;
        assert_eq!(overlaps, json!([]), "{width} px");
        let resolvers: Value = b
            .eval("return document.querySelectorAll('.cx-dns li').length;")
            .await;
        assert_eq!(resolvers, json!(4), "a rating per resolver and type");
    }
    b.client.set_window_size(1280, 900).await.unwrap();
    b.goto(&path).await;
    let inner: Value = b
        .eval("const w = document.querySelector('.cx-wrap'); return w.scrollWidth - w.clientWidth;")
        .await;
    assert!(
        inner.as_i64().unwrap_or(0) <= 1,
        "1280 px: the table scrolls sideways by {inner}"
    );
    b.screenshots_both("connectivity-24h").await;
    b.goto(&format!("/connectivity?probe={}&window=6h", agent.probe.id))
        .await;
    b.screenshots_both("connectivity-6h").await;
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
    drop(b);
    for _ in 0..50 {
        if group_members(group) == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(group_members(group), 0, "Chromium's process group is gone");
}
