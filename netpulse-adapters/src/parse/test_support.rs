//! Helpers shared by the parsers' unit tests.

use netpulse_domain::measurement::{FailureClass, Observation};
use netpulse_domain::model::RawOutput;

/// A fixture file of `tests/fixtures/<engine>/`.
pub(crate) fn fixture(engine: &str, name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/{engine}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A raw output.
pub(crate) fn raw(exit: Option<i32>, stdout: &str, stderr: &str) -> RawOutput {
    RawOutput {
        exit_code: exit,
        stdout: stdout.to_owned(),
        stderr: stderr.to_owned(),
    }
}

/// Asserts a figure equals `expected` up to float noise.
#[track_caller]
pub(crate) fn close(actual: Option<f64>, expected: f64) {
    let a = actual.unwrap_or_else(|| panic!("expected {expected}, got None"));
    assert!(
        (a - expected).abs() <= expected.abs() * 1e-12,
        "expected {expected}, got {a}"
    );
}

/// The class and message of a failed observation.
#[track_caller]
pub(crate) fn failure(obs: &Observation) -> (FailureClass, &str) {
    let f = obs.failure.as_ref().expect("a failed observation");
    (f.class, f.message.as_str())
}
