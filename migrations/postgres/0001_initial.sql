-- NetPulse schema, PostgreSQL dialect. Keep in step with migrations/sqlite/0001_initial.sql:
-- same tables, columns and nullability (a test compares them).
-- Times are Unix milliseconds (BIGINT); ids are canonical lower-case UUID text.
-- Delete policy: a probe cannot be deleted while it has connections (RESTRICT); deleting a
-- connection deletes its measurements, state and run-now request (CASCADE). No orphans.

CREATE TABLE probes (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    labels          TEXT    NOT NULL,
    token_digest    BYTEA   NOT NULL,
    enabled         BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_poll_at    BIGINT,
    agent_version   TEXT,
    agent_engines   TEXT    NOT NULL
);

CREATE TABLE connections (
    id                          TEXT    NOT NULL PRIMARY KEY,
    probe_id                    TEXT    NOT NULL REFERENCES probes (id) ON DELETE RESTRICT,
    name                        TEXT    NOT NULL,
    isp                         TEXT    NOT NULL,
    expected_download_bps       BIGINT  NOT NULL,
    expected_upload_bps         BIGINT  NOT NULL,
    colour                      TEXT    NOT NULL,
    labels                      TEXT    NOT NULL,
    server_pool                 TEXT    NOT NULL,
    schedule_mode               TEXT    NOT NULL,
    tests_per_day               INTEGER NOT NULL,
    jitter_seconds              INTEGER NOT NULL,
    cron_expressions            TEXT    NOT NULL,
    time_zone                   TEXT    NOT NULL,
    min_download_ratio          DOUBLE PRECISION NOT NULL,
    min_upload_ratio            DOUBLE PRECISION NOT NULL,
    max_ping_ms                 DOUBLE PRECISION,
    max_jitter_ms               DOUBLE PRECISION,
    max_packet_loss_percent     DOUBLE PRECISION,
    adaptive_interval_seconds   INTEGER NOT NULL,
    recovery_healthy_count      INTEGER NOT NULL,
    max_consecutive_failures    INTEGER NOT NULL,
    alert_after                 INTEGER,
    recover_after               INTEGER,
    source_interface            TEXT,
    source_address              TEXT,
    enabled                     BOOLEAN NOT NULL,
    created_at                  BIGINT  NOT NULL
);
CREATE INDEX connections_probe ON connections (probe_id, name);

-- One row per connection, updated by ingest in the measurement's transaction, so that the due
-- calculation never reads the measurement history.
CREATE TABLE connection_state (
    connection_id       TEXT    NOT NULL PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    last_at             BIGINT,
    last_pool_entry     TEXT,
    last_completed_at   BIGINT,
    recent_verdicts     TEXT    NOT NULL,
    alerting            BOOLEAN NOT NULL,
    unhealthy_run       INTEGER NOT NULL,
    healthy_run         INTEGER NOT NULL,
    measurement_count   BIGINT  NOT NULL
);

CREATE TABLE measurements (
    id                      TEXT    NOT NULL PRIMARY KEY,
    probe_id                TEXT    NOT NULL REFERENCES probes (id) ON DELETE RESTRICT,
    connection_id           TEXT    NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    engine                  TEXT    NOT NULL,
    pool_entry              TEXT,
    status                  TEXT    NOT NULL,
    failure_class           TEXT,
    failure_message         TEXT,
    download_bps            DOUBLE PRECISION,
    upload_bps              DOUBLE PRECISION,
    download_bytes          BIGINT,
    upload_bytes            BIGINT,
    ping_ms                 DOUBLE PRECISION,
    ping_low_ms             DOUBLE PRECISION,
    ping_high_ms            DOUBLE PRECISION,
    jitter_ms               DOUBLE PRECISION,
    download_latency_ms     DOUBLE PRECISION,
    upload_latency_ms       DOUBLE PRECISION,
    packet_loss_percent     DOUBLE PRECISION,
    server_id               TEXT,
    server_name             TEXT,
    server_location         TEXT,
    server_host             TEXT,
    isp                     TEXT,
    result_url              TEXT,
    tool_timestamp          BIGINT,
    started_at              BIGINT  NOT NULL,
    completed_at            BIGINT  NOT NULL,
    received_at             BIGINT  NOT NULL,
    scheduled               BOOLEAN NOT NULL,
    healthy                 BOOLEAN NOT NULL,
    breaches                TEXT    NOT NULL,
    exit_code               INTEGER,
    raw_stdout              TEXT    NOT NULL,
    raw_stderr              TEXT    NOT NULL
);
CREATE INDEX measurements_connection_time ON measurements (connection_id, completed_at, id);
CREATE INDEX measurements_server_time ON measurements (server_id, completed_at);
CREATE INDEX measurements_time ON measurements (completed_at, id);

-- The latest run-now request of each connection and where it is.
CREATE TABLE run_requests (
    connection_id   TEXT    NOT NULL PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    phase           TEXT    NOT NULL,
    pinned          TEXT,
    requested_at    BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX run_requests_phase ON run_requests (phase);

CREATE TABLE users (
    id              TEXT    NOT NULL PRIMARY KEY,
    email           TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);

CREATE TABLE settings (
    key         TEXT    NOT NULL PRIMARY KEY,
    value       TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    token_digest    BYTEA   NOT NULL UNIQUE,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT
);
