//! How commands print: one JSON object with `--json`, text for people otherwise; and the ids
//! commands take.

use netpulse_domain::id::{ConnectionId, ProbeId};
use serde_json::Value;

use super::{CliError, Output};

/// Prints `value` as JSON, or `text()` for people.
pub fn print(out: &Output, value: &Value, text: impl FnOnce() -> String) {
    if out.json {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

/// Prints that `what` (`probe`, `connection`) `id` is now enabled or disabled.
pub(crate) fn print_enabled(out: &Output, what: &str, id: &str, enabled: bool) {
    let state = if enabled { "enabled" } else { "disabled" };
    print(
        out,
        &serde_json::json!({ "id": id, "enabled": enabled }),
        || format!("{what} {id} {state}"),
    );
}

pub(crate) fn json_of<T: poem_openapi::types::ToJSON>(v: &T) -> Value {
    v.to_json().unwrap_or(Value::Null)
}

pub(crate) fn parse_probe(text: &str) -> Result<ProbeId, CliError> {
    ProbeId::parse(text).map_err(|e| CliError::usage("ID", e))
}

pub(crate) fn parse_connection(text: &str) -> Result<ConnectionId, CliError> {
    ConnectionId::parse(text).map_err(|e| CliError::usage("ID", e))
}
