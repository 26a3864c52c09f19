//! The poem-openapi DTOs (the documented API) and the wire contract (what the agent sends
//! and reads) must write and accept the same JSON.

use netpulse_adapters::agent_client::{parse_due, push_body_json};
use netpulse_domain::due_work::DueReason;
use netpulse_domain::id::{ResultId, TaskId};
use poem_openapi::types::{ParseFromJSON, ToJSON};
use serde_json::json;

use super::*;
use netpulse_domain::model::RawOutput;
use netpulse_domain::pool::PoolEntry;

const CONN: &str = "22222222-2222-4222-8222-222222222222";

fn due_answer() -> DueAnswerBody {
    let task = |id: &str, entry: Option<&str>, engine, reason: DueReason| {
        let task = Task {
            task_id: TaskId::parse(id).unwrap(),
            connection_id: ConnectionId::parse(CONN).unwrap(),
            pool_entry: entry.map(|e| PoolEntry::parse(e).unwrap()),
            engine,
            scheduled: reason != DueReason::RunNow,
            source_interface: (reason == DueReason::RunNow).then(|| "eth1".to_owned()),
            source_address: None,
            timeout: Some(Duration::from_secs(u64::from(TASK_TIMEOUT_SECONDS))),
        };
        DueTaskBody::new(&task, reason)
    };
    DueAnswerBody {
        tasks: vec![
            task(
                "11111111-1111-4111-8111-111111111111",
                Some("ookla:4711"),
                Engine::Ookla,
                DueReason::Schedule,
            ),
            task(
                "33333333-3333-4333-8333-333333333333",
                None,
                Engine::Http,
                DueReason::RunNow,
            ),
        ],
        poll_after_seconds: 60,
    }
}

#[test]
fn the_due_dto_and_the_wire_answer_are_the_same_json() {
    let wire = due_answer();
    let wire_json = serde_json::to_value(&wire).unwrap();
    let dto = DueDto::from(wire.clone());
    assert_eq!(dto.to_json(), Some(wire_json.clone()));
    assert_eq!(
        wire_json,
        json!({
            "tasks": [{
                "taskId": "11111111-1111-4111-8111-111111111111",
                "connectionId": CONN,
                "poolEntry": "ookla:4711",
                "engine": "ookla",
                "reason": "schedule",
                "scheduled": true,
                "sourceInterface": null,
                "sourceAddress": null,
                "timeoutSeconds": 180,
                "serverId": "4711",
            }, {
                "taskId": "33333333-3333-4333-8333-333333333333",
                "connectionId": CONN,
                "poolEntry": null,
                "engine": "http",
                "reason": "run_now",
                "scheduled": false,
                "sourceInterface": "eth1",
                "sourceAddress": null,
                "timeoutSeconds": 180,
                "serverId": null,
            }],
            "pollAfterSeconds": 60,
        })
    );
    // Each side accepts what the other writes.
    let parsed = DueDto::parse_from_json(Some(wire_json.clone())).unwrap();
    assert_eq!(DueAnswerBody::from(parsed), wire);
    let read: DueAnswerBody = serde_json::from_value(dto.to_json().unwrap()).unwrap();
    assert_eq!(read, wire);
    // And the agent client reads the server's answer into the tasks the server meant.
    let (plan, warnings) = parse_due(&dto.to_json_string()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(plan.poll_after_seconds, 60);
    assert_eq!(plan.tasks.len(), 2);
    assert!(plan.tasks[0].scheduled);
    assert_eq!(plan.tasks[1].source_interface.as_deref(), Some("eth1"));
    assert_eq!(
        plan.tasks[1].timeout,
        Some(Duration::from_secs(u64::from(TASK_TIMEOUT_SECONDS)))
    );
}

#[test]
fn the_push_dto_and_the_wire_push_are_the_same_json() {
    for (task_id, pool_entry, exit_code) in [
        (None, None, None),
        (
            Some("11111111-1111-4111-8111-111111111111"),
            Some("12345"),
            Some(0),
        ),
    ] {
        let push = ResultPush {
            result_id: ResultId::parse("01890000-0000-7000-8000-000000000001").unwrap(),
            connection_id: ConnectionId::parse(CONN).unwrap(),
            task_id: task_id.map(|t| TaskId::parse(t).unwrap()),
            engine: Engine::Ookla,
            pool_entry: pool_entry.map(|p| PoolEntry::parse(p).unwrap()),
            started_at: Timestamp::from_unix_millis(1_780_747_500_250),
            finished_at: Timestamp::from_unix_seconds(1_780_747_530),
            scheduled: task_id.is_some(),
            raw: RawOutput {
                exit_code,
                stdout: "{\"type\":\"result\"}".to_owned(),
                stderr: "warning: x".to_owned(),
            },
        };
        let sent = push_body_json(&push);
        let wire = ResultPushBody::from(&push);
        assert_eq!(serde_json::to_value(&wire).unwrap(), sent);
        let dto = ResultPushDto::parse_from_json(Some(sent.clone())).unwrap();
        assert_eq!(dto.to_json(), Some(sent.clone()));
        assert_eq!(ResultPushBody::from(dto), wire);
        assert_eq!(
            ResultPushDto::from(wire).to_json().unwrap(),
            sent,
            "{task_id:?}"
        );
        // The server reads what the agent sends back into the same result.
        assert_eq!(submission(&sent).unwrap(), push);
    }
}
