//! The PHP agent's result push: the Ookla JSON object itself, merged with `connectionId` and
//! `scheduled` (no `resultId`), read into the same [`ResultPush`] as the agent's body.

use netpulse_domain::id::ConnectionId;
use netpulse_domain::model::{RawOutput, UNKNOWN_RESULT_TIME};
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::agent_api::ResultPush;
use serde_json::Value;

use super::payload::Fields;
use crate::error::AppError;
use crate::service::ingest::fresh_result_id;

/// The PHP agent pushed the Ookla JSON itself, merged with `connectionId` and `scheduled`
/// (a failed test as `{"type":"error","message":…,"server":{"id":"<requested>"}}`). Its
/// requested server comes back as `server.id`, which becomes the pool entry so rotation goes on.
pub(super) fn legacy_submission(
    body: &Value,
    connection_id: ConnectionId,
    scheduled: bool,
) -> Result<ResultPush, AppError> {
    let f = Fields::of(body)?;
    let kind = f
        .opt_string("type")?
        .ok_or_else(|| AppError::invalid("type", "is required (or send resultId)"))?;
    let mut ookla = body.clone();
    if let Some(map) = ookla.as_object_mut() {
        map.remove("connectionId");
        map.remove("scheduled");
    }
    let requested = ookla
        .pointer("/server/id")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
        .and_then(|id| PoolEntry::parse(&id).ok());
    let pool_entry = if kind == "result" { None } else { requested };
    Ok(ResultPush {
        result_id: fresh_result_id(),
        connection_id,
        task_id: None,
        engine: Engine::Ookla,
        pool_entry,
        started_at: UNKNOWN_RESULT_TIME,
        finished_at: UNKNOWN_RESULT_TIME,
        scheduled,
        raw: RawOutput {
            exit_code: Some(i32::from(kind != "result")),
            stdout: ookla.to_string(),
            stderr: String::new(),
        },
    })
}
