//! The deployment files, checked against the code they deploy: Prometheus configuration and
//! alert rules (promtool), the Grafana dashboard (only metrics `/metrics` exposes), the compose
//! file (no Docker engine here: parsed, every service, profile, volume and variable checked
//! against the binaries' own flags), the Dockerfile and the systemd units (`systemd-analyze
//! verify`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::helpers::{Db, spawn_with_metrics};
use crate::metrics::{Exposition, config, scrape, seed};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Yaml {
    serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Every `netpulse_…` metric name in a PromQL expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(i) = rest.find("netpulse_") {
        let preceded = rest[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if !preceded {
            out.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    out
}

#[tokio::test]
async fn prometheus_config_rules_and_rule_tests_pass_promtool() {
    let dir = repo().join("deploy/prometheus");
    let out = run(Command::new("promtool")
        .args(["check", "config", "prometheus.yml"])
        .current_dir(&dir));
    assert!(out.contains("1 rule files found"), "{out}");
    let out = run(Command::new("promtool")
        .args(["check", "rules", "alerts.yml"])
        .current_dir(&dir));
    assert!(out.contains("6 rules found"), "{out}");
    let out = run(Command::new("promtool")
        .args(["test", "rules", "alerts_test.yml"])
        .current_dir(&dir));
    assert!(out.contains("SUCCESS"), "{out}");

    // The alerts the issue asks for exist.
    let rules = yaml("deploy/prometheus/alerts.yml");
    let alerts: BTreeMap<String, (String, String)> = rules["groups"][0]["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["alert"].as_str().unwrap().to_owned(),
                (
                    r["expr"].as_str().unwrap().to_owned(),
                    r["for"].as_str().unwrap_or("0s").to_owned(),
                ),
            )
        })
        .collect();
    assert!(
        alerts["NetPulseConnectionDown"]
            .0
            .contains("netpulse_up == 0")
    );
    assert_eq!(alerts["NetPulseConnectionDegraded"].1, "30m");
    assert!(
        alerts["NetPulseConnectionDegraded"]
            .0
            .contains("netpulse_connection_degraded")
    );
    assert!(
        alerts["NetPulseProbeSilent"]
            .0
            .contains("netpulse_probe_up == 0")
    );
    assert!(
        alerts["NetPulseInternetOutage"]
            .0
            .contains("netpulse_outage_active{family=\"all\"} == 1")
    );
}

/// Every metric family name the real server exposes with every family populated.
async fn exposed_names() -> BTreeSet<String> {
    let t = spawn_with_metrics(
        Db::Sqlite,
        Some(config(&[
            "--remote-write-url",
            "http://127.0.0.1:9/api/v1/write",
            "--remote-write-max-attempts",
            "1",
        ])),
    )
    .await
    .unwrap();
    seed(&t).await;
    t.metrics
        .as_ref()
        .unwrap()
        .metrics
        .notification_sent("alert", "webhook", "sent");
    let (_, _, body) = scrape(&t).await;
    Exposition::parse(&body).names()
}

fn collect_exprs(panel: &Json, out: &mut Vec<(String, String)>) {
    let title = panel["title"].as_str().unwrap_or("").to_owned();
    for target in panel["targets"].as_array().into_iter().flatten() {
        if let Some(e) = target["expr"].as_str() {
            out.push((title.clone(), e.to_owned()));
        }
    }
    for inner in panel["panels"].as_array().into_iter().flatten() {
        collect_exprs(inner, out);
    }
}

fn datasource_uids(v: &Json, out: &mut BTreeSet<String>) {
    match v {
        Json::Object(map) => {
            if let Some(uid) = map.get("datasource").and_then(|ds| ds["uid"].as_str()) {
                out.insert(uid.to_owned());
            }
            map.values().for_each(|x| datasource_uids(x, out));
        }
        Json::Array(items) => items.iter().for_each(|x| datasource_uids(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_alerts_reference_only_exposed_metrics() {
    let exposed = exposed_names().await;
    let dashboard: Json =
        serde_json::from_str(&read("deploy/grafana/dashboards/netpulse-overview.json")).unwrap();
    assert_eq!(dashboard["uid"], "netpulse-overview");

    let mut exprs = Vec::new();
    for p in dashboard["panels"].as_array().unwrap() {
        collect_exprs(p, &mut exprs);
    }
    let vars = dashboard["templating"]["list"].as_array().unwrap();
    let var_names: Vec<&str> = vars.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(var_names, ["probe", "connection"]);
    for v in vars {
        exprs.push((
            format!("variable {}", v["name"]),
            v["query"]["query"].as_str().unwrap().to_owned(),
        ));
    }
    let mut used = BTreeSet::new();
    for (title, e) in &exprs {
        let names = metric_names(e);
        assert!(!names.is_empty(), "{title}: {e} uses no NetPulse metric");
        for n in names {
            assert!(
                exposed.contains(&n),
                "{title}: {n} is not exposed by /metrics"
            );
            used.insert(n);
        }
        // Every panel follows the template variables.
        if !title.starts_with("variable") {
            assert!(e.contains("$probe"), "{title}: {e} ignores $probe");
            // Probe-level series (liveness, agents, outages) have no connection.
            let per_probe = e.contains("probe_") || e.contains("agent_") || e.contains("outage");
            if e.contains("connection=") || !per_probe {
                assert!(
                    e.contains("$connection"),
                    "{title}: {e} ignores $connection"
                );
            }
        }
    }
    for want in [
        "netpulse_download_bits_per_second",
        "netpulse_upload_bits_per_second",
        "netpulse_ping_seconds",
        "netpulse_jitter_seconds",
        "netpulse_packet_loss_ratio",
        "netpulse_connection_healthy",
        "netpulse_up",
        "netpulse_probe_up",
        "netpulse_outage_active",
        "netpulse_outage_seconds_total",
        "netpulse_outages_total",
    ] {
        assert!(used.contains(want), "the dashboard shows no {want}");
    }

    // One datasource, the provisioned one, pointing at the compose service.
    let provisioned = yaml("deploy/grafana/provisioning/datasources/prometheus.yml");
    let ds = &provisioned["datasources"][0];
    let mut uids = BTreeSet::new();
    datasource_uids(&dashboard, &mut uids);
    assert_eq!(
        uids,
        BTreeSet::from([ds["uid"].as_str().unwrap().to_owned()])
    );
    assert_eq!(ds["url"].as_str(), Some("http://prometheus:9090"));
    let provider = yaml("deploy/grafana/provisioning/dashboards/netpulse.yml");
    assert_eq!(
        provider["providers"][0]["options"]["path"].as_str(),
        Some("/var/lib/grafana/dashboards")
    );

    // The alert rules too.
    let rules = yaml("deploy/prometheus/alerts.yml");
    for r in rules["groups"][0]["rules"].as_sequence().unwrap() {
        for n in metric_names(r["expr"].as_str().unwrap()) {
            assert!(
                exposed.contains(&n),
                "alert {:?}: {n} is not exposed",
                r["alert"]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// compose.yaml, Dockerfile, systemd: variables the binaries read

/// Environment variables a command reads (its own flags and `global` ones), each with its
/// long flag.
fn env_flags(cmd: &clap::Command) -> BTreeMap<String, String> {
    cmd.get_arguments()
        .filter_map(|a| {
            let env = a.get_env()?.to_str()?.to_owned();
            Some((env, format!("--{}", a.get_long()?)))
        })
        .collect()
}

/// What `netpulse serve` reads: its flags, the global ones, and `RUST_LOG` (tracing).
fn server_env() -> BTreeMap<String, String> {
    let cli = netpulse_app::cli::Cli::command();
    let mut env = env_flags(&cli);
    env.extend(env_flags(cli.find_subcommand("serve").unwrap()));
    env.insert("RUST_LOG".into(), String::new());
    env
}

/// What `netpulse-agent` reads, and `RUST_LOG`.
fn agent_env() -> BTreeMap<String, String> {
    let mut env = env_flags(&netpulse_agent::Args::command());
    env.insert("RUST_LOG".into(), String::new());
    env
}

/// `${VAR:-default}` → `default`; other text unchanged.
fn default_of(value: &str) -> String {
    match value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
        Some(inner) => inner
            .split_once(":-")
            .map_or(String::new(), |(_, d)| d.to_owned()),
        None => value.to_owned(),
    }
}

/// Checks that every variable is read by the binary and that the values (defaults) parse as
/// the binary parses them: each becomes its flag on a command line the binary's own parser
/// reads.
fn check_env(
    what: &str,
    vars: &BTreeMap<String, String>,
    known: &BTreeMap<String, String>,
    parse: impl Fn(Vec<String>) -> Result<(), String>,
) {
    let mut argv = Vec::new();
    for (k, v) in vars {
        let flag = known.get(k).unwrap_or_else(|| {
            panic!(
                "{what}: {k} is not read by the binary (known: {:?})",
                known.keys()
            )
        });
        if !flag.is_empty() && !v.is_empty() {
            argv.push(format!("{flag}={v}"));
        }
    }
    parse(argv.clone()).unwrap_or_else(|e| panic!("{what}: {argv:?} do not parse: {e}"));
}

fn parse_server(argv: Vec<String>) -> Result<(), String> {
    let mut full = vec!["netpulse".to_owned()];
    // Global flags go before the subcommand, serve's after; clap accepts globals anywhere.
    full.push("serve".into());
    full.extend(argv);
    let cli = <netpulse_app::cli::Cli as clap::Parser>::try_parse_from(full)
        .map_err(|e| e.to_string())?;
    match cli.command {
        netpulse_app::cli::Command::Serve(args) => {
            args.metrics
                .config(args.poll_interval)
                .map_err(|e| e.message)?;
            Ok(())
        }
        _ => Err("not serve".into()),
    }
}

fn parse_agent(argv: Vec<String>) -> Result<(), String> {
    let mut full = vec!["netpulse-agent".to_owned()];
    full.extend(argv);
    <netpulse_agent::Args as clap::Parser>::try_parse_from(full)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn env_map(service: &Yaml) -> BTreeMap<String, String> {
    service["environment"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Bool(b) => b.to_string(),
                Yaml::Number(n) => n.to_string(),
                Yaml::Null => String::new(),
                other => panic!("{other:?}"),
            };
            (k.as_str().unwrap().to_owned(), default_of(&v))
        })
        .collect()
}

/// `(source, target)` of a service's volumes.
fn mounts(service: &Yaml) -> Vec<(String, String)> {
    service["volumes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|v| {
            let parts: Vec<&str> = v.as_str().unwrap().split(':').collect();
            (parts[0].to_owned(), parts[1].to_owned())
        })
        .collect()
}

fn strs(v: &Yaml) -> Vec<String> {
    v.as_sequence()
        .into_iter()
        .flatten()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn compose_file_matches_the_binaries() {
    let compose = yaml("compose.yaml");
    let services = compose["services"].as_mapping().unwrap();
    let names: BTreeSet<&str> = services.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["agent", "grafana", "netpulse", "postgres", "prometheus"])
    );
    let svc = |n: &str| &compose["services"][n];
    for (name, profiles) in [
        ("netpulse", vec![]),
        ("prometheus", vec![]),
        ("grafana", vec![]),
        ("postgres", vec!["postgres".to_owned()]),
        ("agent", vec!["agent".to_owned()]),
    ] {
        assert_eq!(strs(&svc(name)["profiles"]), profiles, "{name}");
        assert_eq!(
            svc(name)["restart"].as_str(),
            Some("unless-stopped"),
            "{name}"
        );
        assert!(
            !strs(&svc(name)["healthcheck"]["test"]).is_empty(),
            "{name} health check"
        );
    }
    // Volumes: named ones are declared; bind mounts exist in the repository.
    let declared: BTreeSet<&str> = compose["volumes"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    let mut used = BTreeSet::new();
    for (_, s) in services {
        for (source, _) in mounts(s) {
            if let Some(rel) = source.strip_prefix("./") {
                assert!(repo().join(rel).exists(), "{source} does not exist");
            } else {
                assert!(
                    declared.contains(source.as_str()),
                    "{source} is not declared"
                );
                used.insert(source);
            }
        }
    }
    assert_eq!(
        used.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        declared
    );

    // The server: every variable is one `netpulse serve` reads, and the values parse.
    let server = env_map(svc("netpulse"));
    check_env("netpulse", &server, &server_env(), parse_server);
    assert_eq!(server["NETPULSE_LISTEN"], "0.0.0.0:8080");
    assert!(strs(&svc("netpulse")["ports"])[0].ends_with(":8080"));
    let data = mounts(svc("netpulse"));
    assert_eq!(
        data,
        [("netpulse_data".to_owned(), "/var/lib/netpulse".to_owned())]
    );
    let db = &server["NETPULSE_DATABASE_URL"];
    assert!(
        db.starts_with("sqlite:///var/lib/netpulse/"),
        "SQLite in the volume: {db}"
    );
    assert!(
        server["REMOTE_WRITE_URL"].starts_with("http://prometheus:9090/"),
        "remote write goes to the prometheus service"
    );
    let depends = &svc("netpulse")["depends_on"]["postgres"];
    assert_eq!(depends["condition"].as_str(), Some("service_healthy"));
    assert_eq!(depends["required"].as_bool(), Some(false));

    // PostgreSQL: the env file switches the profile on and the server over, with the
    // credentials the postgres service is created with.
    let pg = env_map(svc("postgres"));
    let env_file: BTreeMap<String, String> = read("deploy/compose/postgres.env")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    assert_eq!(env_file["COMPOSE_PROFILES"], "postgres");
    assert_eq!(
        env_file["NETPULSE_DATABASE_URL"],
        format!(
            "postgres://{}:{}@postgres:5432/{}",
            pg["POSTGRES_USER"], env_file["POSTGRES_PASSWORD"], pg["POSTGRES_DB"]
        )
    );
    let mut with_pg = server.clone();
    with_pg.insert(
        "NETPULSE_DATABASE_URL".into(),
        env_file["NETPULSE_DATABASE_URL"].clone(),
    );
    check_env(
        "netpulse on postgres",
        &with_pg,
        &server_env(),
        parse_server,
    );

    // The agent: the agent's own variables; the spool in its volume; ICMP allowed.
    let agent = env_map(svc("agent"));
    check_env("agent", &agent, &agent_env(), parse_agent);
    for required in [
        "NETPULSE_SERVER_URL",
        "PROBE_ID",
        "PROBE_TOKEN",
        "NETPULSE_SPOOL_DIR",
    ] {
        assert!(agent.contains_key(required), "agent needs {required}");
    }
    assert_eq!(agent["NETPULSE_SERVER_URL"], "http://netpulse:8080");
    let spool = mounts(svc("agent"));
    assert!(agent["NETPULSE_SPOOL_DIR"].starts_with(&format!("{}/", spool[0].1)));
    assert_eq!(
        strs(&svc("agent")["entrypoint"]),
        ["/usr/bin/tini", "--", "netpulse-agent"]
    );
    assert_eq!(strs(&svc("agent")["cap_add"]), ["NET_RAW"]);
    assert_eq!(
        svc("agent")["sysctls"]["net.ipv4.ping_group_range"].as_str(),
        Some("0 2147483647")
    );
    let health = strs(&svc("agent")["healthcheck"]["test"]).join(" ");
    assert!(
        health.contains("/api/v1/probes/$$PROBE_ID/health"),
        "{health}"
    );

    // Prometheus and Grafana: provisioned from deploy/, wired to each other and to NetPulse.
    let prom = svc("prometheus");
    let cmd = strs(&prom["command"]);
    assert!(cmd.contains(&"--web.enable-remote-write-receiver".to_owned()));
    assert!(cmd.contains(&"--config.file=/etc/prometheus/prometheus.yml".to_owned()));
    assert!(mounts(prom).contains(&("./deploy/prometheus".into(), "/etc/prometheus".into())));
    let prom_config = yaml("deploy/prometheus/prometheus.yml");
    let job = &prom_config["scrape_configs"][0];
    assert_eq!(job["job_name"].as_str(), Some("netpulse"));
    assert_eq!(job["metrics_path"].as_str(), Some("/metrics"));
    assert_eq!(
        strs(&job["static_configs"][0]["targets"]),
        ["netpulse:8080"],
        "the scrape target is the compose service"
    );
    let grafana = mounts(svc("grafana"));
    assert!(grafana.contains(&(
        "./deploy/grafana/provisioning".into(),
        "/etc/grafana/provisioning".into()
    )));
    assert!(grafana.contains(&(
        "./deploy/grafana/dashboards".into(),
        "/var/lib/grafana/dashboards".into()
    )));
    let home = env_map(svc("grafana"))["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].clone();
    let file = home.strip_prefix("/var/lib/grafana/dashboards/").unwrap();
    assert!(repo().join("deploy/grafana/dashboards").join(file).exists());

    // Both NetPulse services are built from the Dockerfile's runtime stage.
    for name in ["netpulse", "agent"] {
        assert_eq!(svc(name)["build"]["target"].as_str(), Some("runtime"));
        assert_eq!(svc(name)["build"]["context"].as_str(), Some("."));
    }
}

/// The cargo command the Dockerfile builds with; CI runs the same one.
pub(crate) const RELEASE_BUILD: &str =
    "cargo build --release --locked --bin netpulse --bin netpulse-agent";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dockerfile_builds_and_runs_what_compose_and_ci_expect() {
    let docker = read("Dockerfile");
    let lines: Vec<&str> = docker.lines().map(str::trim).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("FROM rust:") && l.ends_with(" AS build"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("FROM debian:") && l.ends_with(" AS runtime"))
    );
    assert!(
        docker.contains(RELEASE_BUILD),
        "the Dockerfile builds with `{RELEASE_BUILD}`"
    );
    assert!(
        read(".ci/run").contains(RELEASE_BUILD),
        "CI builds what the Dockerfile builds"
    );
    // The binaries are the workspace's.
    assert!(read("netpulse-app/Cargo.toml").contains("name = \"netpulse\""));
    assert!(read("netpulse-agent/Cargo.toml").contains("name = \"netpulse-agent\""));
    // The toolchain is the pinned one.
    let toolchain = read("rust-toolchain.toml");
    let arg = lines
        .iter()
        .find_map(|l| l.strip_prefix("ARG RUST_VERSION="))
        .unwrap();
    assert!(
        toolchain.contains(&format!("channel = \"{arg}\"")),
        "{arg} vs {toolchain}"
    );
    // Non-root, a data volume, the Ookla CLI optional.
    let user = lines.iter().find_map(|l| l.strip_prefix("USER ")).unwrap();
    assert!(user != "root" && user != "0");
    assert!(lines.contains(&"VOLUME [\"/var/lib/netpulse\"]"));
    assert!(lines.contains(&"ARG INSTALL_OOKLA=false"));
    assert!(docker.contains("NETPULSE_DATABASE_URL=sqlite:///var/lib/netpulse/netpulse.db"));
    assert!(docker.contains("NETPULSE_SPOOL_DIR=/var/lib/netpulse-agent/spool"));
    assert!(docker.contains("ENTRYPOINT [\"/usr/bin/tini\", \"--\", \"netpulse\"]"));
    // The HEALTHCHECK asks a route that answers 200 on a running server.
    let path = docker
        .split("http://127.0.0.1:8080")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    assert_eq!(path, "/api/v1/healthcheck");
    let t = crate::helpers::spawn(Db::Sqlite).await.unwrap();
    let r = t.client.get(t.url(path)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Its environment parses as the server reads it.
    let mut env = BTreeMap::new();
    for (k, v) in [
        ("NETPULSE_LISTEN", "0.0.0.0:8080"),
        (
            "NETPULSE_DATABASE_URL",
            "sqlite:///var/lib/netpulse/netpulse.db",
        ),
    ] {
        assert!(docker.contains(&format!("{k}={v}")));
        env.insert(k.to_owned(), v.to_owned());
    }
    check_env("Dockerfile", &env, &server_env(), parse_server);
    let ignore = read(".dockerignore");
    assert!(ignore.lines().any(|l| l == "target"));
}

fn unit(path: &str) -> Vec<(String, String)> {
    read(path)
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('[') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn env_file(path: &str) -> BTreeMap<String, String> {
    read(path)
        .lines()
        .map(|l| l.trim().trim_start_matches("# ").trim())
        .filter(|l| l.contains('=') && l.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn systemd_units_verify_and_match_the_binaries() {
    let dir = std::env::temp_dir().join(format!("netpulse-units-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, env_example, known, parse) in [
        (
            "netpulse.service",
            "deploy/systemd/netpulse.env.example",
            server_env(),
            parse_server as fn(Vec<String>) -> Result<(), String>,
        ),
        (
            "netpulse-agent.service",
            "deploy/systemd/agent.env.example",
            agent_env(),
            parse_agent,
        ),
    ] {
        let path = format!("deploy/systemd/{name}");
        let keys = unit(&path);
        let get = |k: &str| {
            keys.iter()
                .filter(|(x, _)| x == k)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        for (k, v) in [
            ("DynamicUser", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("NoNewPrivileges", "yes"),
            ("PrivateTmp", "yes"),
        ] {
            assert_eq!(get(k), [v], "{name}: {k}");
        }
        let state = get("StateDirectory");
        assert_eq!(state.len(), 1, "{name}");
        let state_dir = format!("/var/lib/{}/", state[0]);
        // Environment= lines and the example file hold only variables the binary reads.
        let mut vars: BTreeMap<String, String> = get("Environment")
            .iter()
            .map(|e| {
                let (k, v) = e.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        for (k, v) in &vars {
            if k.ends_with("DATABASE_URL") || k.ends_with("SPOOL_DIR") {
                assert!(
                    v.contains(&state_dir),
                    "{name}: {k}={v} outside {state_dir}"
                );
            }
        }
        check_env(name, &vars, &known, parse);
        vars.extend(env_file(env_example));
        check_env(env_example, &vars, &known, parse);

        // systemd itself: every directive known and valid (ExecStart pointed at a binary that
        // exists here).
        let text = read(&path)
            .replace(
                "ExecStart=/usr/local/bin/netpulse-agent",
                "ExecStart=/bin/true",
            )
            .replace("ExecStart=/usr/local/bin/netpulse", "ExecStart=/bin/true");
        std::fs::write(dir.join(name), text).unwrap();
        let out = Command::new("systemd-analyze")
            .args(["verify", &format!("./{name}")])
            .current_dir(&dir)
            .output()
            .expect("systemd-analyze is installed (Debian package `systemd`; .ci/run installs it)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && !text.contains(name),
            "{name}:\n{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metric_names_are_found_in_expressions() {
    assert_eq!(
        metric_names(
            "time() - max by (probe) (netpulse_probe_last_poll_timestamp_seconds{probe=~\"$probe\"}) + x_netpulse_no"
        ),
        BTreeSet::from(["netpulse_probe_last_poll_timestamp_seconds".to_owned()])
    );
    assert_eq!(default_of("${A:-b:c}"), "b:c");
    assert_eq!(default_of("${A:-}"), "");
    assert_eq!(default_of("plain"), "plain");
}
