//! Every rule a connection input breaks, at once. [`ConnectionInput::apply`] stops at the
//! first broken rule; a form should list them all, so each broken field is replaced by a
//! stand-in that keeps the stored (or default) value and the input is checked again, until it
//! passes or a field repeats. Nothing is stored.

use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::Connection;

use super::App;
use super::connections::ConnectionInput;
use crate::error::AppError;

/// Replaces the field named `field` by its stand-in; `false` when the field is not one of the
/// input's.
fn stand_in(input: &mut ConnectionInput, field: &str) -> bool {
    match field {
        "name" => input.name = Some("connection".into()),
        "isp" => input.isp = None,
        "download_mbps" => input.download_mbps = None,
        "upload_mbps" => input.upload_mbps = None,
        "colour" => input.colour = None,
        "labels" => input.labels = None,
        "server_pool" => input.server_pool = None,
        "schedule" | "tests_per_day" | "jitter_seconds" | "cron" | "timezone" => {
            input.schedule = None;
            input.tests_per_day = None;
            input.jitter_seconds = None;
            input.cron = None;
            input.timezone = None;
        }
        "min_download_ratio" => input.min_download_ratio = None,
        "min_upload_ratio" => input.min_upload_ratio = None,
        "max_ping_ms" => input.max_ping_ms = None,
        "max_jitter_ms" => input.max_jitter_ms = None,
        "max_packet_loss_percent" => input.max_packet_loss_percent = None,
        "adaptive_interval_seconds" => input.adaptive_interval_seconds = None,
        "recovery_healthy_count" => input.recovery_healthy_count = None,
        "max_consecutive_failures" => input.max_consecutive_failures = None,
        "alert_after" | "recover_after" | "unhealthy_count" | "healthy_count" => {
            input.alert_after = None;
            input.recover_after = None;
        }
        "source_interface" => input.source_interface = None,
        "source_address" => input.source_address = None,
        _ => return false,
    }
    true
}

/// Every `(field, message)` the input breaks (empty when it is valid), for a new connection
/// (`base` = `None`) or an update of `base`.
pub fn every_error(
    app: &App,
    input: &ConnectionInput,
    base: Option<&Connection>,
) -> Vec<(String, String)> {
    let (Ok(id), Ok(probe)) = (
        ConnectionId::parse("00000000-0000-4000-8000-000000000000"),
        ProbeId::parse("00000000-0000-4000-8000-000000000000"),
    ) else {
        return Vec::new();
    };
    let mut input = input.clone();
    let mut out: Vec<(String, String)> = Vec::new();
    // Each round fixes one field; there are fewer than 32.
    for _ in 0..32 {
        match input.clone().apply(app, id.clone(), probe.clone(), base) {
            Err(AppError::Invalid { field, message }) => {
                if out.iter().any(|(f, _)| *f == field) {
                    break;
                }
                let known = stand_in(&mut input, &field);
                out.push((field, message));
                if !known {
                    break;
                }
            }
            _ => break,
        }
    }
    out
}
