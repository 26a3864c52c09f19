//! The spool with real files: durability, order, eviction, damaged files, the lock.

use std::fs;

use netpulse_agent::spool::{Spool, SpoolError, SpoolRecord};
use netpulse_domain::pool::Engine;

use crate::helpers::{CONN_A, CONN_B, files_in, pending_in, result};

#[test]
fn stored_results_survive_a_reopen_unchanged_and_come_back_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let results: Vec<_> = (0..3)
        .map(|i| result(if i % 2 == 0 { CONN_A } else { CONN_B }, Engine::Ookla))
        .collect();
    {
        let (spool, report) = Spool::open(dir.path(), 100).unwrap();
        assert_eq!(report.pending, 0);
        // Stored newest first, to show the order comes from the ids (UUID v7), not from the
        // order of writing.
        for r in results.iter().rev() {
            spool.store(r).unwrap();
        }
    } // dropped without any tidying, as after a crash
    let (spool, report) = Spool::open(dir.path(), 100).unwrap();
    assert_eq!(report.pending, 3);
    assert_eq!(report.removed_temporary, 0);
    let pending = spool.pending().unwrap();
    let loaded: Vec<_> = pending.iter().map(|f| spool.load(f).unwrap()).collect();
    assert_eq!(loaded, results);
    assert_eq!(
        pending
            .iter()
            .map(|f| f.name().to_owned())
            .collect::<Vec<_>>(),
        results
            .iter()
            .map(|r| format!("{}.json", r.result_id))
            .collect::<Vec<_>>()
    );
    // Nothing but the results and the lock file.
    let mut expected: Vec<String> = pending.iter().map(|f| f.name().to_owned()).collect();
    expected.insert(0, ".lock".to_owned());
    assert_eq!(files_in(dir.path()), expected);
}

#[test]
fn the_file_is_the_push_body_with_a_format_number() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(dir.path(), 10).unwrap();
    let r = result(CONN_A, Engine::Iperf3);
    let (file, evicted) = spool.store(&r).unwrap();
    assert!(evicted.is_empty());
    let json: serde_json::Value = serde_json::from_slice(&fs::read(file.path()).unwrap()).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["resultId"], r.result_id.as_str());
    assert_eq!(json["connectionId"], CONN_A);
    assert_eq!(json["engine"], "iperf3");
    assert_eq!(json["poolEntry"], "12345");
    assert_eq!(json["startedAt"], r.started_at.to_rfc3339());
    assert_eq!(json["exitCode"], 0);
    assert_eq!(json["stdout"], r#"{"type":"result"}"#);
    // Storing the same result again replaces it.
    spool.store(&r).unwrap();
    assert_eq!(spool.pending().unwrap().len(), 1);
}

#[test]
fn half_written_files_from_a_crash_are_deleted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let kept = result(CONN_A, Engine::Ookla);
    {
        let (spool, _) = Spool::open(dir.path(), 10).unwrap();
        spool.store(&kept).unwrap();
    }
    let torn = result(CONN_B, Engine::Ookla);
    let tmp = dir.path().join(format!(".{}.json.tmp", torn.result_id));
    fs::write(&tmp, br#"{"format":1,"resultId":"#).unwrap();

    let (spool, report) = Spool::open(dir.path(), 10).unwrap();
    assert_eq!(report.removed_temporary, 1);
    assert_eq!(report.pending, 1);
    assert!(!tmp.exists());
    let pending = spool.pending().unwrap();
    assert_eq!(spool.load(&pending[0]).unwrap(), kept);
}

#[test]
fn damaged_files_are_reported_as_corrupt_and_can_be_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(dir.path(), 10).unwrap();
    let good = result(CONN_A, Engine::Ookla);
    spool.store(&good).unwrap();
    // A truncated file under a result's name, a file with a bad field, and stray files.
    let truncated = "01000000-0000-7000-8000-000000000001.json";
    fs::write(
        dir.path().join(truncated),
        br#"{"format":1,"resultId":"0100"#,
    )
    .unwrap();
    let mut record = SpoolRecord::from_result(&result(CONN_B, Engine::Ookla));
    record.push.engine = "ping".to_owned();
    let bad_engine = "01000000-0000-7000-8000-000000000002.json";
    fs::write(
        dir.path().join(bad_engine),
        serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();
    fs::write(dir.path().join("notes.txt"), b"not a result").unwrap();
    fs::create_dir(dir.path().join("subdir.json")).unwrap();

    let pending = spool.pending().unwrap();
    let names: Vec<&str> = pending
        .iter()
        .map(netpulse_agent::spool::SpooledFile::name)
        .collect();
    assert_eq!(
        names,
        [truncated, bad_engine, &format!("{}.json", good.result_id)]
    );
    match spool.load(&pending[0]) {
        Err(SpoolError::Corrupt { reason, .. }) => assert!(reason.contains("not a spool record")),
        other => panic!("{other:?}"),
    }
    match spool.load(&pending[1]) {
        Err(SpoolError::Corrupt { reason, .. }) => assert!(reason.contains("engine"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let moved = spool.quarantine(&pending[0], "truncated").unwrap();
    assert_eq!(moved, dir.path().join("corrupt").join(truncated));
    assert_eq!(
        fs::read_to_string(
            dir.path()
                .join("corrupt")
                .join(format!("{truncated}.reason.txt"))
        )
        .unwrap(),
        "truncated\n"
    );
    assert_eq!(spool.pending().unwrap().len(), 2);
}

#[test]
fn the_oldest_results_are_evicted_beyond_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let results: Vec<_> = (0..5).map(|_| result(CONN_A, Engine::Ookla)).collect();
    let (spool, _) = Spool::open(dir.path(), 3).unwrap();
    let mut evicted = Vec::new();
    for r in &results {
        evicted.extend(spool.store(r).unwrap().1);
    }
    assert_eq!(
        evicted,
        results[..2]
            .iter()
            .map(|r| format!("{}.json", r.result_id))
            .collect::<Vec<_>>()
    );
    let left: Vec<_> = spool
        .pending()
        .unwrap()
        .iter()
        .map(|f| spool.load(f).unwrap())
        .collect();
    assert_eq!(left, results[2..]);
    drop(spool);

    // Reopening with a smaller cap evicts too.
    let (spool, report) = Spool::open(dir.path(), 1).unwrap();
    assert_eq!(report.evicted.len(), 2);
    assert_eq!(report.pending, 1);
    assert_eq!(
        spool.load(&spool.pending().unwrap()[0]).unwrap(),
        results[4]
    );
}

#[test]
fn rejected_results_move_to_their_folder_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(dir.path(), 10).unwrap();
    let r = result(CONN_A, Engine::Http);
    let (file, _) = spool.store(&r).unwrap();
    let moved = spool.reject(&file, "HTTP 400: unknown connection").unwrap();
    assert_eq!(moved, dir.path().join("rejected").join(file.name()));
    assert!(spool.pending().unwrap().is_empty());
    assert_eq!(pending_in(&dir.path().join("rejected")), [file.name()]);
    let reason = fs::read_to_string(
        dir.path()
            .join("rejected")
            .join(format!("{}.reason.txt", file.name())),
    )
    .unwrap();
    assert!(reason.contains("HTTP 400: unknown connection"));
    // Removing a file that is gone already is fine.
    spool.remove(&file).unwrap();
}

#[test]
fn one_spool_directory_serves_one_agent_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = Spool::open(dir.path(), 10).unwrap();
    let second = Spool::open(dir.path(), 10);
    assert!(matches!(second, Err(SpoolError::Locked(_))), "{second:?}");
    let clone = first.clone();
    drop(first);
    assert!(
        matches!(Spool::open(dir.path(), 10), Err(SpoolError::Locked(_))),
        "a clone keeps the lock"
    );
    drop(clone);
    Spool::open(dir.path(), 10).unwrap();
}

#[test]
fn a_spool_directory_that_cannot_be_created_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    fs::write(&file, b"x").unwrap();
    let err = Spool::open(&file.join("spool"), 10).unwrap_err();
    assert!(err.to_string().contains("cannot create"), "{err}");
}
