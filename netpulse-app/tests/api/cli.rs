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
