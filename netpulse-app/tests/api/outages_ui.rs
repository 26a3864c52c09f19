//! The Outages page, an outage's page and the dashboard's status board show the figures the
//! REST API answers for the same rounds (both databases), with days in the site time zone; in
//! headless Chromium the board fits 390 px and screenshots are saved for a new probe without
//! data and for a month of rounds with several outages.

use netpulse_app::notify::render::duration;
use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckMeasurement, Family};
use netpulse_domain::id::{CheckId, ProbeId};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::outages::{MIN, Round, T0, probe_with_defaults, results};
use crate::web_auth::WebClient;

const ZONE: &str = "Asia/Kolkata";

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "—".to_owned(), |f| format!("{:.2} %", f * 100.0))
}

fn local(rfc3339: &str) -> String {
    let ts: jiff::Timestamp = rfc3339.parse().unwrap();
    ts.to_zoned(jiff::tz::TimeZone::get(ZONE).unwrap())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// One round's results; `Partial` fails three of the four checks (so it is never blamed on one
/// target: a provider with a failure on each side).
fn round_results(
    checks: &[(CheckId, Family)],
    family: Family,
    m: i64,
    what: Round,
) -> Vec<CheckMeasurement> {
    if what != Round::Partial {
        return results(checks, family, m, what);
    }
    let mut out = results(checks, family, m, Round::Down);
    out[0] = results(checks, family, m, Round::Up).swap_remove(0);
    out
}

/// Pushes `plan[i]` (see [`round_results`]) as round `first + i` for both families, `per_batch` rounds a batch.
pub(crate) async fn push_rounds(
    t: &TestApp,
    probe: &ProbeId,
    checks: &[(CheckId, Family)],
    first: i64,
    plan: &[Round],
    per_batch: usize,
) {
    let mut batch: Vec<CheckMeasurement> = Vec::new();
    for (i, what) in plan.iter().enumerate() {
        let m = first + i as i64;
        for family in [Family::V4, Family::V6] {
            batch.extend(round_results(checks, family, m, *what));
        }
        if ((i + 1) % per_batch == 0 || i + 1 == plan.len()) && !batch.is_empty() {
            netpulse_app::service::check_results::ingest(&t.app, probe, std::mem::take(&mut batch))
                .await
                .unwrap();
        }
    }
}

/// The text of the `<li>` (a day cell) whose accessible name starts with `date`.
fn day_label<'a>(page: &'a str, date: &str) -> &'a str {
    let start = page
        .find(&format!("aria-label=\"{date}: "))
        .unwrap_or_else(|| panic!("no cell for {date}"));
    let rest = &page[start..];
    &rest[..rest.find("\">").unwrap()]
}

async fn set_zone(w: &mut WebClient) {
    let token = w.csrf("/settings").await;
    let ok = w
        .post_form(
            "/settings/general",
            &[
                ("_csrf", &token),
                ("site_name", "Home"),
                ("time_zone", ZONE),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
}

pub(crate) async fn outage_pages_show_the_api_figures(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    set_zone(&mut w).await;
    let (p, checks) = probe_with_defaults(t, "home").await;
    // Three hours from 23:27 UTC (04:57 in Kolkata): one local day, two UTC days. A 32-minute
    // complete outage, 10 partial rounds, and a single failing round (a blip).
    let mut plan = vec![Round::Up; 180];
    for r in &mut plan[10..42] {
        *r = Round::Down;
    }
    for r in &mut plan[60..70] {
        *r = Round::Partial;
    }
    plan[100] = Round::Down;
    push_rounds(t, &p.probe.id, &checks, 180, &plan, 1).await;
    let now = T0 + 400 * MIN;
    t.clock.set(Timestamp::from_unix_millis(now));
    let probe = p.probe.id.to_string();

    // The list: every API item is a row with the same start, end, duration, severity, family
    // and attribution; the blips sit in the folded part.
    let (s, api) = t
        .get(&format!("/api/v1/outages?probe={probe}&limit=100"))
        .await;
    assert_eq!(s, 200, "{api}");
    let items = api["items"].as_array().unwrap();
    assert_eq!(items.len(), 9, "three per family: {api:#}");
    let page = w.get(&format!("/outages?probe={probe}&period=all")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (table, blips) = page.body.split_once("<details class=\"blips\">").unwrap();
    assert!(blips.contains("3 single-round blips"), "{blips}");
    for o in items {
        let href = format!("href=\"/outages/{}\"", o["id"].as_str().unwrap());
        let blip = o["roundsDown"].as_u64().unwrap() + o["roundsPartial"].as_u64().unwrap() == 1;
        let part = if blip { blips } else { table };
        let at = part.find(&href).unwrap_or_else(|| panic!("{href} missing"));
        let row = &part[at..at + part[at..].find("</tr>").unwrap()];
        let d = duration(o["durationSeconds"].as_f64().unwrap() as i64);
        for needle in [
            local(o["startedAt"].as_str().unwrap()),
            local(o["endedAt"].as_str().unwrap()),
            format!(">{d}<"),
            format!(">{}<", o["severityLabel"].as_str().unwrap()),
            format!(">{}<", o["family"].as_str().unwrap()),
            format!(">{}<", o["attribution"].as_str().unwrap()),
        ] {
            assert!(row.contains(&needle), "{needle} not in {row}");
        }
    }
    assert!(table.contains(">32 min<") && table.contains(">10 min<"));
    assert!(
        table.contains("2026-05-29 05:07"),
        "started 23:37 UTC, shown in Kolkata time"
    );
    assert!(table.contains(">Partial (75.00 %)<"));

    // Most severe first: the complete outages lead.
    let severe = w
        .get(&format!("/outages?probe={probe}&period=all&order=severity"))
        .await;
    let first = &severe.body[severe.body.find("<tbody>").unwrap()..];
    assert!(first[..first.find("</tr>").unwrap()].contains(">32 min<"));

    // One outage: a cell per round, coloured by state, as many down cells inside it as the
    // API's rounds say.
    let complete = items
        .iter()
        .find(|o| o["family"] == "v4" && o["roundsDown"] == 32)
        .unwrap();
    let id = complete["id"].as_str().unwrap();
    let (_, detail) = t.get(&format!("/api/v1/outages/{id}")).await;
    let down = detail["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "down")
        .count();
    assert_eq!(down, 32);
    let one = w.get(&format!("/outages/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(
        one.body.matches("class=\"st-down in-outage\"").count(),
        down
    );
    assert_eq!(
        one.body.matches("class=\"st-up\"").count(),
        10,
        "5 rounds either side"
    );
    assert!(one.body.contains("icmp 1.1.1.1") && one.body.contains("timeout"));

    // The dashboard: the tiles are the API's 30-day uptime, the day cell of 29 May (Kolkata) is
    // the API's uptime over that local day, the day before has no data, no banner yet.
    let (_, uptime) = t.get(&format!("/api/v1/uptime?probe={probe}")).await;
    let dash = w.get("/").await;
    assert_eq!(dash.status, 200);
    let series = uptime["series"].as_array().unwrap();
    assert_eq!(series.len(), 3);
    for s in series {
        let dt = format!("<dt>{} · 30 days</dt>", s["family"].as_str().unwrap());
        let at = dash
            .body
            .find(&dt)
            .unwrap_or_else(|| panic!("{dt} missing"));
        let tile = &dash.body[at..at + dash.body[at..].find("</div>").unwrap()];
        assert!(tile.contains(&pct(&s["availability"])), "{tile}");
        assert!(
            tile.contains(&format!("strict {}", pct(&s["availabilityStrict"]))),
            "{tile}"
        );
        assert!(
            tile.contains(&format!("coverage {}", pct(&s["coverage"]))),
            "{tile}"
        );
    }
    let day_start = "2026-05-28T18:30:00Z";
    let until = Timestamp::from_unix_millis(now).to_rfc3339();
    let (_, day) = t
        .get(&format!(
            "/api/v1/uptime?probe={probe}&since={day_start}&until={until}"
        ))
        .await;
    let cell = day_label(&dash.body, "2026-05-29");
    // Both families had the same rounds: one line for v4, v6 and all, with the API's figures.
    let lines: Vec<(String, String)> = day["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["family"].as_str().unwrap().to_owned(),
                format!(
                    "{} available, strict {}, coverage {}",
                    pct(&s["availability"]),
                    pct(&s["availabilityStrict"]),
                    pct(&s["coverage"])
                ),
            )
        })
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|(_, l)| *l == lines[0].1), "{lines:?}");
    let line = format!("v4, v6, all: {}", lines[0].1);
    assert!(cell.contains(&line), "{line} not in {cell}");
    assert!(
        cell.contains("3 outages:")
            && cell.contains("05:07 32 min · Complete · ")
            && cell.contains("05:57 10 min · Partial (75.00 %) · ")
            && cell.contains("· v4, v6, all")
            && !cell.contains("… and"),
        "{cell}"
    );
    assert!(dash.body.contains(
        "class=\"day day-major is-sparse tip-end\" tabindex=\"0\" aria-label=\"2026-05-29:"
    ));
    assert!(day_label(&dash.body, "2026-05-28").contains("no data"));
    assert!(!dash.body.contains("currently down since"));

    // An open episode: the banner, with its family, severity so far and link.
    let mut down = vec![Round::Down; 3];
    down.insert(0, Round::Up);
    // The clock goes back first (from T0 + 400 min), and a housekeeping pass that read the
    // later time is waited out: at T0 + 400 the new episode would already be silent and be
    // closed by housekeeping's silent rule.
    t.clock.set(Timestamp::from_unix_millis(T0 + 365 * MIN));
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    push_rounds(t, &p.probe.id, &checks, 360, &down, 1).await;
    let (_, open) = t
        .get(&format!("/api/v1/outages?probe={probe}&family=v4&limit=1"))
        .await;
    let o = &open["items"][0];
    assert_eq!(o["ongoing"], true, "{open:#}");
    let dash = w.get("/").await;
    let banner = format!(
        "home: currently down since {}</strong>",
        local(o["startedAt"].as_str().unwrap())
    );
    assert!(dash.body.contains(&banner), "{banner}");
    let (_, all) = t
        .get(&format!("/api/v1/outages?probe={probe}&family=all&limit=1"))
        .await;
    let all_id = all["items"][0]["id"].as_str().unwrap();
    assert!(
        dash.body
            .contains(&format!("href=\"/outages/{all_id}\">details")),
        "the link goes to the `all` episode"
    );
    assert_eq!(
        dash.body.matches("currently down since").count(),
        1,
        "one banner per probe"
    );
    assert!(dash.body.contains("· v4, v6, all ·"), "the families down");

    // Bad filters name the field.
    for (q, field) in [
        ("family=v5", "family"),
        ("order=worst", "order"),
        ("period=1y", "period"),
        ("probe=nope", "probe"),
    ] {
        let bad = w.get(&format!("/outages?{q}")).await;
        assert_eq!(bad.status, 400, "{q}: {}", bad.body);
        assert!(bad.body.contains(field), "{q}");
    }
    assert_eq!(
        w.get(&format!("/outages/{}", netpulse_app::service::new_uuid()))
            .await
            .status,
        404
    );
}

/// A month of rounds with several outages (a few hours a day missing on some days, one day
/// mostly without data), then the pages in Chromium.
pub(crate) async fn outage_pages_in_a_browser(t: &TestApp) {
    use crate::browser::Browser;
    let b = Browser::start(
        &t.base,
        &format!("{}-outages", crate::web_browser::db_label()),
    )
    .await;
    crate::web_charts::first_admin(&b).await;
    b.watch_errors().await;

    // Sparse: a new probe without data.
    probe_with_defaults(t, "new-probe").await;
    t.clock.set(Timestamp::from_unix_millis(T0 + 10 * MIN));
    b.goto("/").await;
    assert!(b.text(".board").await.contains("no connectivity data yet"));
    assert_eq!(b.count(".bar .day").await, 90);
    b.fits(390).await;
    b.screenshots_both("sparse-dashboard").await;
    b.goto("/outages").await;
    assert!(b.text("main").await.contains("No outages in this period."));
    b.screenshots_both("sparse-list").await;

    // Dense: 33 days of rounds.
    let (p, checks) = probe_with_defaults(t, "home").await;
    let days = 33_usize;
    let mut plan = vec![Round::Up; days * 1440];
    let mut seed = 7_u64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n) as usize
    };
    for day in 0..days {
        let base = day * 1440;
        match day % 5 {
            // A complete outage of 5–95 minutes.
            0 => {
                let at = base + next(1200);
                let len = 5 + next(90);
                plan[at..at + len].fill(Round::Down);
            }
            // Partial rounds and a blip.
            2 => {
                let at = base + next(1200);
                plan[at..at + 20].fill(Round::Partial);
                plan[at + 200] = Round::Down;
            }
            // The agent offline for 6 hours.
            3 => plan[base + 300..base + 660].fill(Round::Missing),
            _ => {}
        }
    }
    // One day mostly without data (a laptop asleep).
    plan[20 * 1440 + 120..21 * 1440 - 60].fill(Round::Missing);
    push_rounds(t, &p.probe.id, &checks, 0, &plan, 120).await;
    // Still down now.
    let end = (days * 1440) as i64;
    push_rounds(t, &p.probe.id, &checks, end, &[Round::Down; 20], 20).await;
    t.clock
        .set(Timestamp::from_unix_millis(T0 + (end + 20) * MIN));

    b.goto("/").await;
    assert_eq!(b.count(".bar .day").await, 180);
    assert!(
        b.count(".bar .day-major").await >= 6,
        "the complete outages"
    );
    assert!(b.count(".bar .is-sparse").await >= 1, "the day asleep");
    assert!(b.text("main").await.contains("currently down since"));
    b.fits(390).await;
    // Focus a day with an outage: its tooltip opens (keyboard).
    b.eval(
        "const d = [...document.querySelectorAll('.bar .day-major')].pop(); d.focus(); return 1;",
    )
    .await;
    let shown = b
        .eval("return getComputedStyle(document.activeElement.querySelector('.tip')).display;")
        .await;
    assert_eq!(shown, "block", "the tooltip opens on focus");
    b.screenshots_both("dense-dashboard").await;
    b.goto("/outages?period=90d").await;
    assert!(b.count("table.outage-table tbody tr").await >= 10);
    b.fits(390).await;
    b.screenshots_both("dense-list").await;
    b.click("table.outage-table tbody tr:first-child a").await;
    b.wait_until(
        "an outage's page",
        "location.pathname.startsWith('/outages/')",
    )
    .await;
    assert!(b.count(".timeline li").await > 10);
    b.fits(390).await;
    b.screenshots_both("dense-detail").await;
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
}
