//! `netpulse check …` through the real binary, on SQLite and PostgreSQL: one JSON object per
//! command, errors exit 2 naming the flag, the default set can be re-added and switched off.

use std::process::Command;

use netpulse_adapters::testing::TestDatabase;
use serde_json::{Value, json};

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

fn check_commands(db: &TestDatabase) {
    let (code, probe, text) = netpulse(db, &["probe", "create", "home", "--json"]);
    assert_eq!(code, 0, "{text}");
    let probe = probe["id"].as_str().unwrap().to_owned();
    let (code, list, _) = netpulse(db, &["check", "list", "--probe", &probe, "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        8,
        "the default set"
    );

    let (code, c, text) = netpulse(
        db,
        &[
            "check",
            "create",
            "--probe",
            &probe,
            "--kind",
            "dns",
            "--target",
            "example.org",
            "--resolver",
            "9.9.9.9",
            "--record-type",
            "AAAA",
            "--queries",
            "2",
            "--label",
            "team=net",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        c["params"],
        json!({"resolvers": ["9.9.9.9"], "recordTypes": ["AAAA"], "expectAny": false, "queries": 2})
    );
    let id = c["id"].as_str().unwrap().to_owned();
    let (code, shown, _) = netpulse(db, &["check", "show", &id, "--json"]);
    assert_eq!((code, &shown["target"]), (0, &json!("example.org")));
    let (code, up, text) = netpulse(
        db,
        &[
            "check",
            "update",
            &id,
            "--expect-any",
            "true",
            "--enabled",
            "false",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        (&up["params"]["expectAny"], &up["enabled"]),
        (&json!(true), &json!(false))
    );
    let (code, _, text) = netpulse(db, &["check", "show", &id]);
    assert_eq!(code, 0);
    assert!(text.contains("example.org"), "{text}");

    for (args, flag) in [
        (
            vec!["--kind", "icmp", "--target", "1.1.1.1", "--count", "99"],
            "--count",
        ),
        (vec!["--kind", "tcp", "--target", "example.org"], "--port"),
        (vec!["--kind", "http", "--target", "ftp://x"], "--target"),
        (
            vec![
                "--kind",
                "icmp",
                "--target",
                "1.1.1.1",
                "--timeout-ms",
                "100",
            ],
            "--timeout-ms",
        ),
        (
            vec!["--kind", "dns", "--target", "a.org", "--record-type", "MX"],
            "--record-type",
        ),
        (
            vec![
                "--kind",
                "tcp",
                "--target",
                "a.org",
                "--port",
                "1",
                "--interval-seconds",
                "1",
            ],
            "--interval-seconds",
        ),
    ] {
        let mut full = vec!["check", "create", "--probe", probe.as_str()];
        full.extend(args.iter().copied());
        let (code, _, text) = netpulse(db, &full);
        assert_eq!(code, 2, "{full:?}: {text}");
        assert!(
            text.contains(&format!("invalid {flag}")),
            "{full:?}: {text}"
        );
    }
    let (code, _, text) = netpulse(db, &["check", "show", "nope"]);
    assert_eq!(code, 2, "{text}");

    let (code, gone, _) = netpulse(db, &["check", "delete", &id, "--json"]);
    assert_eq!((code, &gone["deleted"]), (0, &json!(true)));
    let (code, _, text) = netpulse(db, &["check", "show", &id]);
    assert_eq!(code, 1, "{text}");

    // The default set: switched off for new probes, re-added to one on demand.
    let (code, d, text) = netpulse(db, &["check", "defaults", "--new-probes", "off", "--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(d["newProbes"], "off");
    assert_eq!(d["hosts"].as_array().unwrap().len(), 4);
    let (_, bare, _) = netpulse(db, &["probe", "create", "bare", "--json"]);
    let bare = bare["id"].as_str().unwrap().to_owned();
    let (_, list, _) = netpulse(db, &["check", "list", "--probe", &bare, "--json"]);
    assert_eq!(list["items"], json!([]));
    let (code, d, _) = netpulse(db, &["check", "defaults", "--probe", &bare, "--json"]);
    assert_eq!((code, d["added"].as_array().unwrap().len()), (0, 8));
    let (code, _, text) = netpulse(db, &["check", "defaults", "--new-probes", "maybe"]);
    assert!(code == 2 && text.contains("--new-probes"), "{text}");
}

#[test]
fn check_commands_on_sqlite() {
    check_commands(&TestDatabase::sqlite());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_commands_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        tokio::task::spawn_blocking(move || check_commands(&db))
            .await
            .unwrap();
    }
}
