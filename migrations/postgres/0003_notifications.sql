-- Notifications (PostgreSQL dialect). Keep in step with migrations/sqlite/0003_notifications.sql:
-- same tables, columns and nullability (a test compares them). Times are Unix milliseconds.

-- The global settings: one row (id = 1), written on first save.
CREATE TABLE notification_settings (
    id                  INTEGER NOT NULL PRIMARY KEY,
    enabled             BOOLEAN NOT NULL,
    alert_after         INTEGER NOT NULL,
    recover_after       INTEGER NOT NULL,
    probe_offline       BOOLEAN NOT NULL,
    digest_daily        BOOLEAN NOT NULL,
    digest_weekly       BOOLEAN NOT NULL,
    digest_minute       INTEGER NOT NULL,
    digest_weekday      INTEGER NOT NULL,
    digest_time_zone    TEXT    NOT NULL,
    log_retention_days  INTEGER NOT NULL,
    public_url          TEXT,
    updated_at          BIGINT  NOT NULL
);

-- Channels. Secrets are sealed (AES-256-GCM) by the server before they get here.
CREATE TABLE notification_channels (
    id                  TEXT    NOT NULL PRIMARY KEY,
    name                TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    enabled             BOOLEAN NOT NULL,
    options             TEXT    NOT NULL,
    sealed_secrets      TEXT,
    secret_names        TEXT    NOT NULL,
    events              TEXT    NOT NULL,
    quiet_start         INTEGER,
    quiet_end           INTEGER,
    quiet_time_zone     TEXT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);

-- Rendered notifications and their structured context (JSON).
CREATE TABLE notifications (
    id          TEXT    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    context     TEXT    NOT NULL,
    event_at    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX notifications_created ON notifications (created_at);

-- The outbox and delivery log: one row per notification and channel. No foreign key to the
-- channel: log lines outlive it.
CREATE TABLE notification_deliveries (
    id                  TEXT    NOT NULL PRIMARY KEY,
    notification_id     TEXT    NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel_id          TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    attempts            INTEGER NOT NULL,
    next_attempt_at     BIGINT,
    claimed_until       BIGINT,
    last_error          TEXT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_log ON notification_deliveries (created_at, id);
CREATE INDEX notification_deliveries_notification ON notification_deliveries (notification_id);

-- A connection's alert and its recovery.
CREATE TABLE incidents (
    id              TEXT    NOT NULL PRIMARY KEY,
    connection_id   TEXT    NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    opened_at       BIGINT  NOT NULL,
    closed_at       BIGINT,
    announced       BOOLEAN NOT NULL,
    result_id       TEXT
);
CREATE INDEX incidents_connection ON incidents (connection_id, opened_at);

CREATE TABLE maintenance_windows (
    id              TEXT    NOT NULL PRIMARY KEY,
    connection_id   TEXT    NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    starts_at       BIGINT  NOT NULL,
    ends_at         BIGINT  NOT NULL,
    note            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX maintenance_windows_connection ON maintenance_windows (connection_id, starts_at);

-- Whether a probe is known to be offline (claimed with conditional writes).
CREATE TABLE probe_liveness (
    probe_id    TEXT    NOT NULL PRIMARY KEY REFERENCES probes (id) ON DELETE CASCADE,
    offline     BOOLEAN NOT NULL,
    changed_at  BIGINT  NOT NULL
);

-- The next slot of each digest period (claimed with a conditional write).
CREATE TABLE digest_slots (
    period      TEXT    NOT NULL PRIMARY KEY,
    next_slot   BIGINT  NOT NULL
);

-- Leases: which server process runs housekeeping.
CREATE TABLE leases (
    name        TEXT    NOT NULL PRIMARY KEY,
    holder      TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL
);
