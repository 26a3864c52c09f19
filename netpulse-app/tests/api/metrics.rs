//! `/metrics` over the real server: every family with its name, type, labels and help text,
//! the fixes over the PHP exporter, the enable flag and the allowlist, and `promtool check
//! metrics` on the real output.
#![allow(clippy::float_cmp)] // the values compared are exact (integers, or parsed from the same text)

use std::collections::{BTreeMap, HashMap};

use clap::Parser;
use netpulse_app::metrics::config::{MetricsArgs, MetricsConfig};
use netpulse_app::service::connections::{self, ConnectionInput};
use netpulse_domain::model::Connection;
use serde_json::json;

use crate::helpers::{Agent, Db, TestApp, ookla_stdout, push_body, spawn_with_metrics};

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    metrics: MetricsArgs,
}

/// The metrics configuration the given `serve` flags produce.
pub(crate) fn config(flags: &[&str]) -> MetricsConfig {
    let mut argv = vec!["netpulse"];
    argv.extend_from_slice(flags);
    Flags::try_parse_from(argv)
        .expect("valid flags")
        .metrics
        .config(60)
        .expect("valid metrics configuration")
}

/// One sample of the text exposition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) value: f64,
}

/// A parsed text exposition (format 0.0.4).
#[derive(Debug, Default)]
pub(crate) struct Exposition {
    pub(crate) samples: Vec<Sample>,
    pub(crate) help: HashMap<String, String>,
    pub(crate) types: HashMap<String, String>,
}

impl Exposition {
    pub(crate) fn parse(text: &str) -> Self {
        let mut e = Self::default();
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap();
                e.help.insert(name.into(), help.into());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                e.types.insert(name.into(), kind.into());
            } else {
                e.samples.push(parse_sample(line));
            }
        }
        e
    }

    /// Families that have at least one sample.
    pub(crate) fn names(&self) -> std::collections::BTreeSet<String> {
        self.samples.iter().map(|s| s.name.clone()).collect()
    }

    pub(crate) fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample matching; panics when there is none or several.
    pub(crate) fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found = self.find(name, labels);
        assert_eq!(found.len(), 1, "{name}{labels:?}: {found:?}");
        found[0].value
    }
}

fn parse_sample(line: &str) -> Sample {
    let (head, value) = line.rsplit_once(' ').unwrap();
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
    };
    let (name, labels) = match head.split_once('{') {
        None => (head, BTreeMap::new()),
        Some((name, rest)) => {
            let body = rest.strip_suffix('}').unwrap();
            let mut labels = BTreeMap::new();
            let mut chars = body.chars().peekable();
            loop {
                let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                if key.is_empty() {
                    break;
                }
                assert_eq!(chars.next(), Some('"'), "{line}");
                let mut val = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some('n') => val.push('\n'),
                            Some(o) => val.push(o),
                            None => {}
                        },
                        '"' => break,
                        o => val.push(o),
                    }
                }
                labels.insert(key.trim_start_matches(',').to_owned(), val);
                if chars.peek() == Some(&',') {
                    chars.next();
                }
            }
            (name, labels)
        }
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

pub(crate) async fn scrape(t: &TestApp) -> (u16, Option<String>, String) {
    let r = t.client.get(t.url("/metrics")).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, ct, r.text().await.unwrap())
}

pub(crate) async fn exposition(t: &TestApp) -> Exposition {
    let (status, _, body) = scrape(t).await;
    assert_eq!(status, 200, "{body}");
    Exposition::parse(&body)
}

async fn connection(t: &TestApp, agent: &Agent, name: &str, up_mbps: u64) -> Connection {
    let input = ConnectionInput {
        name: Some(name.into()),
        isp: Some("Acme Fibre".into()),
        download_mbps: Some(100),
        upload_mbps: Some(up_mbps),
        server_pool: Some(vec!["12746".into()]),
        jitter_seconds: Some(0),
        ..Default::default()
    };
    connections::create(&t.app, &agent.probe.id, input)
        .await
        .unwrap()
}

fn iperf3_stdout() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../netpulse-adapters/tests/fixtures/iperf3/iperf3.9-tcp-localhost-linux-10s.json"
    ))
    .unwrap()
}

/// The data set behind the family tests: a probe `home` (site berlin) whose agent polled, with
/// `wan1` (an unhealthy Ookla result, then a healthy one, a failure and an iperf3 result),
/// `wan2` (failures only), `wan3` (no result yet) and `off` (disabled); a probe `office`
/// that never polled; a disabled probe `old` with a connection.
pub(crate) struct Seeded {
    pub(crate) home: Agent,
    pub(crate) wan1: Connection,
    pub(crate) wan2: Connection,
}

pub(crate) async fn seed(t: &TestApp) -> Seeded {
    let home = {
        let mut labels = netpulse_domain::values::Labels::new();
        labels.insert("site", "berlin").unwrap();
        let issued = netpulse_app::service::probes::create(&t.app, "home", labels)
            .await
            .unwrap();
        Agent {
            probe: issued.probe,
            token: issued.token,
        }
    };
    t.probe("office").await;
    let old = t.probe("old").await;
    t.connection(&old.probe.id, "gone", &[]).await;
    t.app
        .storage
        .set_probe_enabled(&old.probe.id, false)
        .await
        .unwrap();

    // wan1: the fixture's upload (49 Mbps) breaches a 500 Mbps plan at 0.7 and passes a
    // 50 Mbps one.
    let wan1 = connection(t, &home, "wan1", 500).await;
    let wan2 = connection(t, &home, "wan2", 10).await;
    connection(t, &home, "wan3", 10).await;
    let off = connection(t, &home, "off", 10).await;
    t.app
        .storage
        .set_connection_enabled(&off.id, false)
        .await
        .unwrap();
    let (status, _) = t.due(&home).await;
    assert_eq!(status, 200);
    crate::checks::seed_check_results(t, &home).await;

    let now = t.clock_now();
    let ok = |at, c: &Connection| push_body(at, c, Some("12746"), &ookla_stdout(), 0, true);
    for body in [
        ok(now.plus_seconds(-400), &wan1),
        push_body(now.plus_seconds(-300), &wan1, None, "", 1, true),
        {
            let mut b = push_body(
                now.plus_seconds(-200),
                &wan1,
                None,
                &iperf3_stdout(),
                0,
                true,
            );
            b["engine"] = json!("iperf3");
            b
        },
        push_body(now.plus_seconds(-150), &wan2, None, "", 1, true),
        push_body(now.plus_seconds(-140), &wan2, None, "", 1, true),
    ] {
        let (status, r) = t.push(&home, &body).await;
        assert_eq!(status, 201, "{r}");
    }
    // Raise the upload plan's tolerance so the newest Ookla result is healthy.
    let input = ConnectionInput {
        upload_mbps: Some(50),
        ..Default::default()
    };
    connections::update(&t.app, &wan1.id, input).await.unwrap();
    let (status, r) = t.push(&home, &ok(now.plus_seconds(-100), &wan1)).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["healthy"], true, "{r}");
    Seeded { home, wan1, wan2 }
}

async fn spawn(db: Db, flags: &[&str]) -> Option<TestApp> {
    spawn_with_metrics(db, Some(config(flags))).await
}

/// The help texts of the PHP exporter (netpulse-php-behaviour.md §4.3), kept verbatim.
const REFERENCE_HELP: [(&str, &str); 19] = [
    (
        "netpulse_build_info",
        "Build information of the NetPulse exporter.",
    ),
    (
        "netpulse_connection_info",
        "Static information about a monitored connection.",
    ),
    (
        "netpulse_up",
        "Whether the connection has a fresh successful measurement within the freshness window.",
    ),
    (
        "netpulse_last_result_timestamp_seconds",
        "Unix timestamp of the last successful measurement.",
    ),
    (
        "netpulse_download_bits_per_second",
        "Last measured download throughput in bits per second.",
    ),
    (
        "netpulse_upload_bits_per_second",
        "Last measured upload throughput in bits per second.",
    ),
    (
        "netpulse_ping_seconds",
        "Last measured idle latency in seconds.",
    ),
    (
        "netpulse_jitter_seconds",
        "Last measured idle jitter in seconds.",
    ),
    (
        "netpulse_packet_loss_ratio",
        "Last measured packet loss as a ratio between 0 and 1.",
    ),
    (
        "netpulse_download_latency_iqm_seconds",
        "Last measured loaded download latency (IQM) in seconds.",
    ),
    (
        "netpulse_upload_latency_iqm_seconds",
        "Last measured loaded upload latency (IQM) in seconds.",
    ),
    (
        "netpulse_data_used_bytes",
        "Bytes transferred during the last measurement.",
    ),
    (
        "netpulse_connection_healthy",
        "Whether the latest measurement passed the connection's health thresholds (1 healthy, 0 unhealthy).",
    ),
    (
        "netpulse_connection_degraded",
        "Whether the connection is currently degraded per the adaptive scheduling predicate (1 degraded, 0 healthy).",
    ),
    (
        "netpulse_connection_expected_download_bits_per_second",
        "Configured expected download speed in bits per second.",
    ),
    (
        "netpulse_connection_expected_upload_bits_per_second",
        "Configured expected upload speed in bits per second.",
    ),
    (
        "netpulse_speedtest_runs_total",
        "Total number of speedtest runs by status.",
    ),
    (
        "netpulse_speedtest_failures_total",
        "Total number of failed speedtest runs.",
    ),
    (
        "netpulse_remote_write_failures_total",
        "Total number of failed remote-write push attempts.",
    ),
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

pub(crate) async fn every_family_with_names_types_labels_and_help(t: &TestApp) {
    let s = seed(t).await;
    let (status, ct, body) = scrape(t).await;
    assert_eq!(status, 200);
    assert_eq!(
        ct.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(!body.contains("otel_scope"), "scope labels are off");
    assert!(!body.contains("target_info"), "target_info is off");
    let e = Exposition::parse(&body);
    for (name, help) in REFERENCE_HELP {
        assert_eq!(e.help.get(name).map(String::as_str), Some(help), "{name}");
    }
    for (name, kind) in &e.types {
        let want = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        assert_eq!(kind, want, "{name}");
    }
    let home = [("probe", "home"), ("site", "berlin")];
    let c1 = [
        ("probe", "home"),
        ("connection", "wan1"),
        ("site", "berlin"),
    ];
    let c2 = [
        ("probe", "home"),
        ("connection", "wan2"),
        ("site", "berlin"),
    ];
    let c3 = [
        ("probe", "home"),
        ("connection", "wan3"),
        ("site", "berlin"),
    ];

    assert_eq!(
        e.value(
            "netpulse_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    // Every enabled connection of an enabled probe has netpulse_up, 0 until it completes one.
    assert_eq!(e.value("netpulse_up", &c1), 1.0);
    assert_eq!(e.value("netpulse_up", &c2), 0.0);
    assert_eq!(e.value("netpulse_up", &c3), 0.0);
    assert!(e.find("netpulse_up", &[("connection", "off")]).is_empty());
    assert!(e.find("netpulse_up", &[("connection", "gone")]).is_empty());
    assert_eq!(e.find("netpulse_up", &[]).len(), 3);
    assert_eq!(
        e.value("netpulse_connection_info", &c1)
            + e.find(
                "netpulse_connection_info",
                &[("isp", "Some ISP"), ("connection", "wan1")]
            )
            .len() as f64,
        2.0
    );
    assert_eq!(
        e.value(
            "netpulse_connection_info",
            &[("connection", "wan3"), ("isp", "")]
        ),
        1.0
    );
    // The newest completed result is the healthy Ookla one (the iperf3 result is older).
    let newest = t.clock_now().plus_seconds(-100).unix_millis() as f64 / 1000.0;
    assert_eq!(
        e.value("netpulse_last_result_timestamp_seconds", &c1),
        newest
    );
    assert!(
        e.find("netpulse_last_result_timestamp_seconds", &c2)
            .is_empty()
    );
    let server = [
        ("probe", "home"),
        ("connection", "wan1"),
        ("site", "berlin"),
        ("server_name", "Jonas de Vries (Network-Test)"),
        ("server_id", "60440"),
        ("isp", "Some ISP"),
    ];
    for (name, want) in [
        ("netpulse_download_bits_per_second", 116_445_504.0 * 8.0),
        ("netpulse_upload_bits_per_second", 6_181_475.0 * 8.0),
        ("netpulse_ping_seconds", 0.017_148),
        ("netpulse_jitter_seconds", 0.000_629),
        ("netpulse_packet_loss_ratio", 0.0),
        ("netpulse_download_latency_iqm_seconds", 0.180_912),
        ("netpulse_upload_latency_iqm_seconds", 0.013_338),
        ("netpulse_data_used_bytes", 1_101_191_686.0 + 40_116_304.0),
        ("netpulse_connection_healthy", 1.0),
    ] {
        let got = e.value(name, &server);
        assert!(close(got, want), "{name}: {got} != {want}");
        assert_eq!(e.find(name, &[]).len(), 1, "{name} only for wan1");
    }
    // wan1: unhealthy, failed, healthy in its history → degraded (3 healthy results end it).
    assert_eq!(e.value("netpulse_connection_degraded", &c1), 1.0);
    assert_eq!(e.value("netpulse_connection_degraded", &c3), 0.0);
    assert_eq!(
        e.value("netpulse_connection_expected_download_bits_per_second", &c1),
        100e6
    );
    assert_eq!(
        e.value("netpulse_connection_expected_upload_bits_per_second", &c1),
        50e6
    );
    assert_eq!(
        e.value("netpulse_connection_expected_upload_bits_per_second", &c3),
        10e6
    );

    // Counters count events: 3 completed (2 Ookla, 1 iperf3) and 1 failed on wan1.
    let runs = |c: &[(&str, &str)], status| {
        let mut l = c.to_vec();
        l.push(("status", status));
        e.value("netpulse_speedtest_runs_total", &l)
    };
    assert_eq!(runs(&c1, "completed"), 3.0);
    assert_eq!(runs(&c1, "failed"), 1.0);
    assert_eq!(runs(&c2, "completed"), 0.0);
    assert_eq!(runs(&c2, "failed"), 2.0);
    assert_eq!(runs(&c3, "failed"), 0.0);
    assert_eq!(e.value("netpulse_speedtest_failures_total", &c1), 1.0);
    assert_eq!(e.value("netpulse_speedtest_failures_total", &c3), 0.0);
    // Unhealthy counts completed results that breached a threshold, not failures: on wan1 only
    // the first Ookla result (upload below 70 % of 500 Mbps; the iperf3 run has no download
    // figure, which is unknown, not a breach).
    assert_eq!(e.value("netpulse_speedtest_unhealthy_total", &c1), 1.0);
    assert_eq!(e.value("netpulse_speedtest_unhealthy_total", &c2), 0.0);
    assert_eq!(e.value("netpulse_remote_write_failures_total", &[]), 0.0);

    // Probe liveness from the probe rows: home polled just now, office never.
    assert_eq!(e.value("netpulse_probe_up", &home), 1.0);
    assert_eq!(
        e.value("netpulse_probe_up", &[("probe", "office"), ("site", "")]),
        0.0
    );
    assert!(e.find("netpulse_probe_up", &[("probe", "old")]).is_empty());
    assert_eq!(
        e.value("netpulse_probe_last_poll_timestamp_seconds", &home),
        t.clock_now().unix_millis() as f64 / 1000.0
    );
    assert!(
        e.find(
            "netpulse_probe_last_poll_timestamp_seconds",
            &[("probe", "office")]
        )
        .is_empty()
    );
    assert_eq!(
        e.value(
            "netpulse_agent_info",
            &[
                ("probe", "home"),
                ("site", "berlin"),
                ("version", "9.9.9"),
                ("engines", "ookla,iperf3")
            ]
        ),
        1.0
    );

    // Per engine.
    let engine = |name, eng| {
        let mut l = c1.to_vec();
        l.push(("engine", eng));
        e.value(name, &l)
    };
    assert_eq!(
        engine("netpulse_engine_last_result_timestamp_seconds", "ookla"),
        newest
    );
    assert_eq!(
        engine("netpulse_engine_last_result_timestamp_seconds", "iperf3"),
        t.clock_now().plus_seconds(-200).unix_millis() as f64 / 1000.0
    );
    // The iperf3 fixture is an upload run over loopback.
    assert!(engine("netpulse_engine_upload_bits_per_second", "iperf3") > 1e9);
    assert!(
        e.find(
            "netpulse_engine_download_bits_per_second",
            &[("engine", "iperf3")]
        )
        .is_empty()
    );
    assert!(close(
        engine("netpulse_engine_download_bits_per_second", "ookla"),
        116_445_504.0 * 8.0
    ));
    assert_eq!(
        e.value(
            "netpulse_engine_runs_total",
            &[
                ("connection", "wan1"),
                ("engine", "ookla"),
                ("status", "completed")
            ]
        ),
        2.0
    );
    assert_eq!(
        e.value(
            "netpulse_engine_runs_total",
            &[
                ("connection", "wan1"),
                ("engine", "ookla"),
                ("status", "failed")
            ]
        ),
        1.0
    );
    assert_eq!(
        e.value(
            "netpulse_engine_runs_total",
            &[
                ("connection", "wan1"),
                ("engine", "iperf3"),
                ("status", "completed")
            ]
        ),
        1.0
    );

    // Freshness: an hour and a bit later wan1 is no longer up, and the probe is silent.
    t.clock.advance_seconds(3600);
    let e = exposition(t).await;
    assert_eq!(e.value("netpulse_up", &c1), 0.0);
    assert_eq!(e.value("netpulse_probe_up", &home), 0.0);
    let _ = s;
}

pub(crate) async fn counters_survive_a_restart_and_deleted_connections_leave(t: &TestApp) {
    let s = seed(t).await;
    let before = exposition(t).await;
    let total = |e: &Exposition, c: &str| {
        e.value(
            "netpulse_speedtest_runs_total",
            &[("connection", c), ("status", "failed")],
        )
    };
    assert_eq!(total(&before, "wan2"), 2.0);

    // A second exporter over the same database (a restart) starts from the stored counts.
    let mut app = t.app.clone();
    app.listeners.clear();
    let restarted = netpulse_app::startup::install_metrics(&mut app, config(&[]))
        .await
        .unwrap();
    let again = Exposition::parse(&restarted.metrics.render().await);
    for sample in before.samples.iter().filter(|s| s.name.ends_with("_total")) {
        let other = again
            .samples
            .iter()
            .find(|o| o.name == sample.name && o.labels == sample.labels)
            .unwrap_or_else(|| panic!("{sample:?} after restart"));
        assert_eq!(other.value, sample.value, "{sample:?}");
    }

    // More events only ever add.
    let (status, _) = t
        .push(
            &s.home,
            &push_body(t.clock_now(), &s.wan2, None, "", 1, true),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(total(&exposition(t).await, "wan2"), 3.0);

    // Deleting a connection ends its series; the others' counters stay.
    t.app.storage.delete_connection(&s.wan1.id).await.unwrap();
    let after = exposition(t).await;
    assert!(
        after
            .find("netpulse_up", &[("connection", "wan1")])
            .is_empty()
    );
    assert!(
        after
            .find("netpulse_speedtest_runs_total", &[("connection", "wan1")])
            .is_empty()
    );
    assert_eq!(total(&after, "wan2"), 3.0);
}

pub(crate) async fn duplicate_names_get_distinct_series(t: &TestApp) {
    let a = t.probe("twin").await;
    let b = t.probe("twin").await;
    connection(t, &a, "wan", 10).await;
    connection(t, &a, "wan", 10).await;
    connection(t, &b, "wan", 10).await;
    let e = exposition(t).await;
    let ups = e.find("netpulse_up", &[]);
    assert_eq!(ups.len(), 3, "{ups:?}");
    let mut keys: Vec<(String, String)> = ups
        .iter()
        .map(|s| (s.labels["probe"].clone(), s.labels["connection"].clone()))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 3, "{keys:?}");
    let short = |id: &str| id[id.len() - 12..].to_owned();
    assert!(
        keys.iter()
            .any(|(p, _)| *p == format!("twin [{}]", short(a.probe.id.as_str())))
    );
    assert!(
        keys.iter()
            .any(|(p, c)| *p == format!("twin [{}]", short(b.probe.id.as_str())) && c == "wan")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_metrics_answer_404_and_the_allowlist_403() {
    let t = spawn(Db::Sqlite, &["--metrics-enabled", "false"])
        .await
        .unwrap();
    let (status, _, body) = scrape(&t).await;
    assert_eq!(status, 404, "{body}");

    let t = spawn(Db::Sqlite, &["--metrics-allow", "10.0.0.0/8,192.0.2.1"])
        .await
        .unwrap();
    let (status, _, body) = scrape(&t).await;
    assert_eq!((status, body.as_str()), (403, ""));

    let t = spawn(
        Db::Sqlite,
        &[
            "--metrics-allow",
            "10.0.0.0/8",
            "--metrics-allow",
            "127.0.0.0/8",
        ],
    )
    .await
    .unwrap();
    let (status, _, _) = scrape(&t).await;
    assert_eq!(status, 200);

    let bad: netpulse_app::cli::CliError =
        Flags::try_parse_from(["netpulse", "--metrics-allow", "localhost"])
            .unwrap()
            .metrics
            .config(60)
            .unwrap_err()
            .into();
    assert_eq!(bad.status, 2);
    assert!(bad.message.contains("--metrics-allow"), "{}", bad.message);
}

/// The real output, with every family populated, passes `promtool check metrics` except for
/// the one style rule the reference names cannot satisfy: promtool's linter wants byte units
/// (`use base unit "bytes" instead of "bits"`), and the reference families
/// `netpulse_*download*_bits_per_second`/`*upload*_bits_per_second` are kept verbatim so that
/// existing dashboards and alerts keep working. Anything else promtool reports fails the test;
/// the exact set of unit findings is asserted too, so promtool demonstrably read every family.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_checks_the_real_output() {
    let t = spawn(
        Db::Sqlite,
        &[
            "--remote-write-url",
            "http://127.0.0.1:9/api/v1/write",
            "--remote-write-max-attempts",
            "1",
        ],
    )
    .await
    .unwrap();
    seed(&t).await;
    t.metrics
        .as_ref()
        .unwrap()
        .metrics
        .notification_sent("alert", "email", "sent");
    // The MQTT series exist only while publishing is on: point it at a port nothing listens
    // on, so they are exported (disconnected, failures counted) and promtool reads them too.
    let (status, v) = t
        .send(
            reqwest::Method::PUT,
            "/api/v1/integrations/mqtt",
            &json!({"enabled": true, "brokerUrl": "mqtt://127.0.0.1:9", "topicPrefix": "promtool"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let body = loop {
        let (_, _, body) = scrape(&t).await;
        if Exposition::parse(&body)
            .names()
            .contains("netpulse_mqtt_connected")
            || std::time::Instant::now() > deadline
        {
            break body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let names = Exposition::parse(&body).names();
    for family in netpulse_app::metrics::state::Family::ALL {
        assert!(
            names.contains(family.name()),
            "{} is not populated",
            family.name()
        );
    }
    let findings = promtool_check_metrics(&body);
    let mut want: Vec<String> = [
        "netpulse_connection_expected_download_bits_per_second",
        "netpulse_connection_expected_upload_bits_per_second",
        "netpulse_download_bits_per_second",
        "netpulse_engine_download_bits_per_second",
        "netpulse_engine_upload_bits_per_second",
        "netpulse_upload_bits_per_second",
    ]
    .iter()
    .map(|n| format!("{n} use base unit \"bytes\" instead of \"bits\""))
    .collect();
    want.sort();
    assert_eq!(findings, want, "promtool output:\n{}", findings.join("\n"));
}

/// The two renderers (the frame written directly, and the OpenTelemetry instruments through
/// `opentelemetry-prometheus`) write the same families, help texts, types, series and values.
pub(crate) async fn both_renderers_write_the_same_exposition(t: &TestApp) {
    seed(t).await;
    let metrics = &t.metrics.as_ref().unwrap().metrics;
    metrics.notification_sent("recovery", "email", "failed");
    let text = Exposition::parse(&metrics.render_text().await);
    let otel = Exposition::parse(&metrics.render_opentelemetry().await);
    assert_eq!(text.help, otel.help);
    assert_eq!(text.types, otel.types);
    let key = |s: &Sample| format!("{}{:?}", s.name, s.labels);
    let mut a: Vec<(String, f64)> = text.samples.iter().map(|s| (key(s), s.value)).collect();
    let mut b: Vec<(String, f64)> = otel.samples.iter().map(|s| (key(s), s.value)).collect();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.0, y.0);
        assert!(close(x.1, y.1), "{}: {} vs {}", x.0, x.1, y.1);
    }
    assert!(a.len() >= 50, "{}", a.len());
}

/// Runs `promtool check metrics` on `text`; returns its findings, sorted. Fails on a parse
/// error or an unexpected exit status.
pub(crate) fn promtool_check_metrics(text: &str) -> Vec<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (Debian package `prometheus`; .ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // 0: clean; 3: lint findings only. Anything else (1: parse error) is a failure.
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "promtool failed ({:?}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("error while linting"), "{stderr}");
    let mut findings: Vec<String> = stderr
        .lines()
        .chain(stdout.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    findings.sort();
    findings
}
