//! The real `netpulse` binary.

use std::process::Command;

use netpulse_adapters::testing::TestDatabase;
use serde_json::Value;

fn netpulse(db: &TestDatabase, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(args)
        .env("NETPULSE_DATABASE_URL", &db.url)
        .env_remove("NETPULSE_JSON")
        .output()
        .expect("run netpulse");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        format!("{stdout}{stderr}"),
    )
}

#[test]
fn probe_and_connection_commands_print_one_json_object() {
    let db = TestDatabase::sqlite();
    let (code, probe, _) = netpulse(
        &db,
        &[
            "probe",
            "create",
            "home",
            "--label",
            "site=berlin",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    let id = probe["id"].as_str().unwrap().to_owned();
    assert_eq!(probe["token"].as_str().unwrap().len(), 43);

    let (code, conn, text) = netpulse(
        &db,
        &[
            "connection",
            "create",
            "--probe",
            &id,
            "--name",
            "wan1",
            "--download-mbps",
            "250",
            "--upload-mbps",
            "40",
            "--server-pool",
            "12746",
            "--server-pool",
            "fra.example:8080",
            "--schedule",
            "cron",
            "--cron",
            "0 8,20 * * *",
            "--cron",
            "30 12 * * 1-5",
            "--timezone",
            "Europe/Berlin",
            "--max-ping-ms",
            "none",
            "--label",
            "rack=4",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        conn["cron"],
        serde_json::json!(["0 8,20 * * *", "30 12 * * 1-5"])
    );
    assert_eq!(conn["maxPingMs"], Value::Null);
    assert_eq!(
        conn["serverPool"],
        serde_json::json!(["12746", "fra.example:8080"])
    );
    let cid = conn["id"].as_str().unwrap().to_owned();

    let (code, shown, _) = netpulse(&db, &["connection", "show", &cid, "--json"]);
    assert_eq!((code, &shown["name"]), (0, &Value::from("wan1")));
    let (code, updated, _) = netpulse(
        &db,
        &[
            "connection",
            "update",
            &cid,
            "--schedule",
            "even",
            "--tests-per-day",
            "48",
            "--json",
        ],
    );
    assert_eq!((code, &updated["testsPerDay"]), (0, &Value::from(48)));
    let (code, list, _) = netpulse(&db, &["connection", "list", "--json"]);
    assert_eq!((code, list["items"].as_array().unwrap().len()), (0, 1));
    let (code, _, _) = netpulse(&db, &["connection", "disable", &cid]);
    assert_eq!(code, 0);

    // Deleting a probe with connections is refused with a clear message.
    let (code, _, text) = netpulse(&db, &["probe", "delete", &id]);
    assert_eq!(code, 1);
    assert!(text.contains("still has connections"), "{text}");
    let (code, _, _) = netpulse(&db, &["connection", "delete", &cid]);
    assert_eq!(code, 0);
    let (code, deleted, _) = netpulse(&db, &["probe", "delete", &id, "--json"]);
    assert_eq!((code, &deleted["deleted"]), (0, &Value::from(true)));
}

#[test]
fn invalid_input_exits_2_naming_the_flag() {
    let db = TestDatabase::sqlite();
    let (_, probe, _) = netpulse(&db, &["probe", "create", "home", "--json"]);
    let id = probe["id"].as_str().unwrap().to_owned();
    for (args, flag) in [
        (
            vec!["connection", "create", "--probe", "nope", "--name", "x"],
            "--probe",
        ),
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--tests-per-day",
                "0",
            ],
            "--tests-per-day",
        ),
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--cron",
                "61 * * * *",
            ],
            "--cron",
        ),
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--cron",
                "0 0 * * *",
                "--timezone",
                "Nowhere/X",
            ],
            "--timezone",
        ),
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--jitter",
                "100000",
            ],
            "--jitter",
        ),
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--server-pool",
                "ftp://x",
            ],
            "--server-pool",
        ),
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--min-download-ratio",
                "2",
            ],
            "--min-download-ratio",
        ),
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--max-ping-ms",
                "fast",
            ],
            "--max-ping-ms",
        ),
        // An even schedule does not use a time zone, but a wrong one is refused, not dropped.
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--tests-per-day",
                "24",
                "--timezone",
                "Mars/Base",
            ],
            "--timezone",
        ),
        (
            vec![
                "connection",
                "create",
                "--probe",
                &id,
                "--name",
                "x",
                "--cron",
                "MON * * * *",
            ],
            "--cron",
        ),
        (vec!["connection", "create", "--probe", &id], "--name"),
        (vec!["probe", "create", " "], "--name"),
        (
            vec![
                "user",
                "create",
                "--email",
                "admin@example.org",
                "--password",
                "short",
            ],
            "--password",
        ),
        (
            vec![
                "user",
                "create",
                "--email",
                "not-an-email",
                "--password",
                "long enough password",
            ],
            "--email",
        ),
    ] {
        let (code, _, text) = netpulse(&db, &args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(text.contains(flag), "{args:?} should name {flag}: {text}");
    }
}

#[test]
fn users_tokens_and_help() {
    let db = TestDatabase::sqlite();
    let (code, user, text) = netpulse(
        &db,
        &[
            "user",
            "create",
            "--email",
            "Admin@Example.org",
            "--password",
            "correct horse battery",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(user["email"], "admin@example.org");
    let (code, _, text) = netpulse(
        &db,
        &[
            "user",
            "create",
            "--email",
            "admin@example.org",
            "--password",
            "another long password",
        ],
    );
    assert_eq!(code, 1, "{text}");
    let (code, _, _) = netpulse(
        &db,
        &[
            "user",
            "reset-password",
            "--email",
            "admin@example.org",
            "--password",
            "a new long password",
        ],
    );
    assert_eq!(code, 0);
    let (code, tok, _) = netpulse(&db, &["token", "create", "--name", "grafana", "--json"]);
    assert_eq!((code, tok["token"].as_str().unwrap().len()), (0, 43));
    let (_, list, _) = netpulse(&db, &["token", "list", "--json"]);
    assert_eq!(list["items"][0]["name"], "grafana");
    assert!(
        list.to_string()
            .find(tok["token"].as_str().unwrap())
            .is_none(),
        "secrets are never listed"
    );
    let (code, _, _) = netpulse(&db, &["token", "revoke", tok["id"].as_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, migrated, _) = netpulse(&db, &["migrate", "--json"]);
    assert_eq!((code, &migrated["migrated"]), (0, &Value::from(true)));
    let (code, measured, _) = netpulse(&db, &["measurements", "reparse", "--json"]);
    assert_eq!((code, &measured["examined"]), (0, &Value::from(0)));
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["probe", "create", "--help"],
        vec!["connection", "create", "--help"],
        vec!["connection", "update", "--help"],
        vec!["user", "create", "--help"],
        vec!["token", "create", "--help"],
        vec!["measurements", "reparse", "--help"],
    ] {
        let (code, _, text) = netpulse(&db, &args);
        assert_eq!(code, 0, "{args:?}");
        assert!(text.contains("Usage"), "{args:?}: {text}");
    }
    let (code, _, text) = netpulse(&db, &["connection", "create", "--help"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("NETPULSE_DATABASE_URL"),
        "flags show their env var: {text}"
    );
}

/// Runs `netpulse serve` on a free loopback port with stderr piped (not a terminal), makes
/// `requests` (paths) once it answers, stops it and returns what it logged.
#[test]
fn retention_and_prune_commands() {
    let db = TestDatabase::sqlite();
    let (code, shown, text) = netpulse(&db, &["retention", "show", "--json"]);
    assert_eq!(code, 0, "{text}");
    let kinds = shown["kinds"].as_array().unwrap();
    let keep: Vec<(&str, &str)> = kinds
        .iter()
        .map(|k| (k["kind"].as_str().unwrap(), k["keep"].as_str().unwrap()))
        .collect();
    assert_eq!(
        keep,
        [
            ("raw-checks", "35"),
            ("raw-speed", "400"),
            ("hourly", "400"),
            ("daily", "1830"),
            ("weekly", "forever")
        ]
    );
    assert!(kinds.iter().all(|k| k["default"] == true));

    // Refusals exit 2 naming the argument or the setting.
    let (code, _, text) = netpulse(&db, &["retention", "set", "raw-speed", "34"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("invalid retention.raw_speed: must be at least 35 days"),
        "{text}"
    );
    let (code, _, text) = netpulse(&db, &["retention", "set", "speed", "40"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("invalid KIND"), "{text}");
    let (code, _, text) = netpulse(&db, &["retention", "set", "hourly", "a week"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("invalid DAYS"), "{text}");

    let (code, set, text) = netpulse(&db, &["retention", "set", "raw_checks", "20", "--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(set["kinds"][0]["keep"], "20");
    assert_eq!(set["kinds"][0]["default"], false);

    let (code, dry, text) = netpulse(&db, &["prune", "--dry-run", "--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(dry["dryRun"], true);
    assert_eq!(dry["kinds"].as_array().unwrap().len(), 5);
    assert_eq!(
        dry["kinds"][4]["cut"],
        Value::Null,
        "weekly is kept forever"
    );
    let (code, _, text) = netpulse(&db, &["prune"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("went") && text.contains("raw-checks"),
        "{text}"
    );
    let (code, shown, _) = netpulse(&db, &["retention", "show", "--json"]);
    assert_eq!(code, 0);
    assert!(shown["kinds"][0]["floor"].is_string(), "{shown}");
}

fn serve_log(db: &TestDatabase, requests: &[&str]) -> String {
    use std::io::Read;
    use std::process::Stdio;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Killed and waited for below.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("NETPULSE_DATABASE_URL", &db.url)
        .env(
            "NETPULSE_SECRET_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
        std::io::Write::write_all(
            &mut stream,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok::<_, std::io::Error>(answer)
    };
    let mut up = false;
    for _ in 0..200 {
        if get("/api/v1/ping").is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for path in requests {
        if up {
            get(path).unwrap();
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(up, "the server did not start:\n{log}");
    log
}

#[test]
fn serve_says_where_to_go_and_keeps_speedtest_requests_out_of_its_log() {
    let db = TestDatabase::sqlite();
    let log = serve_log(&db, &["/speedtest/ping", "/speedtest/ping", "/api/v1/ping"]);
    assert!(!log.contains('\u{1b}'), "colour codes on a pipe:\n{log}");
    assert!(
        log.contains("/setup in a browser to create the administrator account"),
        "{log}"
    );
    assert!(!log.contains("/speedtest/ping"), "{log}");
    assert!(log.contains("uri=/api/v1/ping"), "{log}");

    let (code, _, text) = netpulse(
        &db,
        &[
            "user",
            "create",
            "--email",
            "admin@example.org",
            "--password",
            "correct horse battery",
        ],
    );
    assert_eq!(code, 0, "{text}");
    let log = serve_log(&db, &[]);
    assert!(log.contains("/ in a browser and sign in"), "{log}");
    assert!(!log.contains("/setup"), "{log}");
}

#[test]
fn baselines_rebuild_for_one_connection_or_all_and_the_deviation_flag() {
    let db = TestDatabase::sqlite();
    let (_, probe, _) = netpulse(&db, &["probe", "create", "home", "--json"]);
    let id = probe["id"].as_str().unwrap().to_owned();
    let (code, conn, text) = netpulse(
        &db,
        &[
            "connection",
            "create",
            "--probe",
            &id,
            "--name",
            "wan1",
            "--baseline-deviation-pct",
            "25",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(conn["baselineDeviationPct"], 25.0, "{conn}");
    let conn_id = conn["id"].as_str().unwrap().to_owned();
    let (code, out, text) = netpulse(&db, &["baselines", "rebuild", "--json"]);
    assert_eq!(
        (code, out["connectionsRecomputed"].as_u64()),
        (0, Some(1)),
        "{text}"
    );
    let (code, out, text) = netpulse(
        &db,
        &["baselines", "rebuild", "--connection", &conn_id, "--json"],
    );
    assert_eq!(
        (code, out["connectionsRecomputed"].as_u64()),
        (0, Some(1)),
        "{text}"
    );
    let (code, _, text) = netpulse(
        &db,
        &[
            "baselines",
            "rebuild",
            "--connection",
            "11111111-1111-4111-8111-111111111111",
        ],
    );
    assert_ne!(code, 0, "an unknown connection: {text}");
    let (code, _, text) = netpulse(
        &db,
        &[
            "connection",
            "update",
            &conn_id,
            "--baseline-deviation-pct",
            "0",
        ],
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--baseline-deviation-pct"), "{text}");
}
