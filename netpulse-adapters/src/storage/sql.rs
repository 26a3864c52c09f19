//! SQL shared by both databases. Placeholders are `$N`: PostgreSQL's syntax, which sqlx-sqlite
//! maps to argument N as well.

pub(crate) const PROBE_COLUMNS: &str =
    "id, name, labels, enabled, created_at, last_poll_at, agent_version, agent_engines";

pub(crate) const CONNECTION_COLUMNS: &str = "c.id, c.probe_id, c.name, c.isp, \
     c.expected_download_bps, c.expected_upload_bps, c.colour, c.labels, c.server_pool, \
     c.schedule_mode, c.tests_per_day, c.jitter_seconds, c.cron_expressions, c.time_zone, \
     c.min_download_ratio, c.min_upload_ratio, c.max_ping_ms, c.max_jitter_ms, \
     c.max_packet_loss_percent, c.adaptive_interval_seconds, c.recovery_healthy_count, \
     c.max_consecutive_failures, c.alert_after, c.recover_after, c.source_interface, \
     c.source_address, c.enabled, c.created_at, c.baseline_deviation_pct";

pub(crate) const STATE_COLUMNS: &str = "s.last_at, s.last_pool_entry, s.last_completed_at, \
     s.recent_verdicts, s.alerting, s.unhealthy_run, s.healthy_run";

pub(crate) const MEASUREMENT_COLUMNS: &str = "id, probe_id, connection_id, engine, pool_entry, \
     status, failure_class, failure_message, download_bps, upload_bps, download_bytes, \
     upload_bytes, ping_ms, ping_low_ms, ping_high_ms, jitter_ms, download_latency_ms, \
     upload_latency_ms, packet_loss_percent, server_id, server_name, server_location, server_host, \
     isp, result_url, tool_timestamp, started_at, completed_at, received_at, scheduled, breaches, \
     exit_code, raw_stdout, raw_stderr";

pub(crate) const INSERT_PROBE: &str = "INSERT INTO probes (id, name, labels, token_digest, \
     enabled, created_at, last_poll_at, agent_version, agent_engines) VALUES ($1, $2, $3, $4, $5, \
     $6, NULL, NULL, '')";

pub(crate) const INSERT_CONNECTION: &str = "INSERT INTO connections (id, probe_id, name, isp, \
     expected_download_bps, expected_upload_bps, colour, labels, server_pool, schedule_mode, \
     tests_per_day, jitter_seconds, cron_expressions, time_zone, min_download_ratio, \
     min_upload_ratio, max_ping_ms, max_jitter_ms, max_packet_loss_percent, \
     adaptive_interval_seconds, recovery_healthy_count, max_consecutive_failures, alert_after, \
     recover_after, source_interface, source_address, enabled, created_at, baseline_deviation_pct) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
     $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)";

/// Same argument order as [`INSERT_CONNECTION`]; `probe_id` ($2) and `created_at` ($28) are
/// only used to find the row (the owner is immutable).
pub(crate) const UPDATE_CONNECTION: &str = "UPDATE connections SET name = $3, isp = $4, \
     expected_download_bps = $5, expected_upload_bps = $6, colour = $7, labels = $8, server_pool = \
     $9, schedule_mode = $10, tests_per_day = $11, jitter_seconds = $12, cron_expressions = $13, \
     time_zone = $14, min_download_ratio = $15, min_upload_ratio = $16, max_ping_ms = $17, \
     max_jitter_ms = $18, max_packet_loss_percent = $19, adaptive_interval_seconds = $20, \
     recovery_healthy_count = $21, max_consecutive_failures = $22, alert_after = $23, \
     recover_after = $24, source_interface = $25, source_address = $26, enabled = $27, \
     baseline_deviation_pct = $29 WHERE id = $1 AND probe_id = $2 AND created_at <= $28";

pub(crate) const INSERT_STATE: &str = "INSERT INTO connection_state (connection_id, last_at, \
     last_pool_entry, last_completed_at, recent_verdicts, alerting, unhealthy_run, healthy_run, \
     measurement_count) VALUES ($1, NULL, NULL, NULL, '', FALSE, 0, 0, 0)";

pub(crate) const UPDATE_STATE: &str = "UPDATE connection_state SET last_at = $2, last_pool_entry = \
     $3, last_completed_at = $4, recent_verdicts = $5, alerting = $6, unhealthy_run = $7, \
     healthy_run = $8, measurement_count = measurement_count + 1 WHERE connection_id = $1";

pub(crate) const INSERT_MEASUREMENT: &str = "INSERT INTO measurements (id, probe_id, \
     connection_id, engine, pool_entry, status, failure_class, failure_message, download_bps, \
     upload_bps, download_bytes, upload_bytes, ping_ms, ping_low_ms, ping_high_ms, jitter_ms, \
     download_latency_ms, upload_latency_ms, packet_loss_percent, server_id, server_name, \
     server_location, server_host, isp, result_url, tool_timestamp, started_at, completed_at, \
     received_at, scheduled, healthy, breaches, exit_code, raw_stdout, raw_stderr) VALUES ($1, $2, \
     $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
     $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35)";

/// `$1` is the id; `$2`–`$22` are the observation columns in the order of [`INSERT_MEASUREMENT`]'s
/// `$6`–`$26`.
pub(crate) const REPLACE_OBSERVATION: &str = "UPDATE measurements SET status = $2, failure_class = \
     $3, failure_message = $4, download_bps = $5, upload_bps = $6, download_bytes = $7, \
     upload_bytes = $8, ping_ms = $9, ping_low_ms = $10, ping_high_ms = $11, jitter_ms = $12, \
     download_latency_ms = $13, upload_latency_ms = $14, packet_loss_percent = $15, server_id = \
     $16, server_name = $17, server_location = $18, server_host = $19, isp = $20, result_url = \
     $21, tool_timestamp = $22 WHERE id = $1";

pub(crate) const TAKE_RUN_REQUESTS: &str = "UPDATE run_requests SET phase = 'running', updated_at \
     = $2 WHERE phase = 'queued' AND connection_id IN (SELECT id FROM connections WHERE probe_id = \
     $1 AND enabled = TRUE) RETURNING connection_id, pinned";

pub(crate) const UPSERT_RUN_REQUEST: &str = "INSERT INTO run_requests (connection_id, phase, \
     pinned, requested_at, updated_at) VALUES ($1, 'queued', $2, $3, $3) ON CONFLICT \
     (connection_id) DO UPDATE SET phase = 'queued', pinned = excluded.pinned, requested_at = \
     excluded.requested_at, updated_at = excluded.updated_at";

pub(crate) const UPSERT_RUN_REQUEST_ALL: &str = "INSERT INTO run_requests (connection_id, phase, \
     pinned, requested_at, updated_at) SELECT id, 'queued', NULL, $1, $1 FROM connections WHERE \
     enabled = TRUE ON CONFLICT (connection_id) DO UPDATE SET phase = 'queued', pinned = NULL, \
     requested_at = excluded.requested_at, updated_at = excluded.updated_at RETURNING \
     connection_id";

pub(crate) const RECORD_POLL: &str = "UPDATE probes SET last_poll_at = $2, agent_version = $3, \
     agent_engines = $4 WHERE id = $1 AND (last_poll_at IS NULL OR last_poll_at <= $5 \
     OR agent_version IS DISTINCT FROM $3 OR agent_engines <> $4)";
