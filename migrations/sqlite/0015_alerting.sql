-- Severities, contact lists and acknowledgement (issue 21). Keep in step with the other
-- dialect's 0015_alerting.sql: same tables, columns and nullability. Times are Unix milliseconds.

-- The severity configured per alert source (connection, probe_offline, check), overriding the
-- source's default. No row: the default.
CREATE TABLE alert_source_severities (
    source      TEXT    NOT NULL PRIMARY KEY,
    severity    TEXT    NOT NULL
);

-- Named groups of channels. `reminder_minutes`: re-send an open, unacknowledged incident's alert
-- every so many minutes (NULL: never); `min_severity`: the least urgent severity the list gets
-- (NULL: every severity).
CREATE TABLE contact_lists (
    id                  TEXT    NOT NULL PRIMARY KEY,
    name                TEXT    NOT NULL UNIQUE,
    reminder_minutes    INTEGER,
    min_severity        TEXT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);

CREATE TABLE contact_list_channels (
    list_id     TEXT    NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
    channel_id  TEXT    NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, channel_id)
);

-- A connection's or check's own severity and contact list (no row, or NULL: the source's
-- severity and every channel). A list in use cannot be deleted (no ON DELETE).
CREATE TABLE connection_alerting (
    connection_id   TEXT    NOT NULL PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    severity        TEXT,
    contact_list_id TEXT    REFERENCES contact_lists (id)
);

CREATE TABLE check_alerting (
    check_id        TEXT    NOT NULL PRIMARY KEY REFERENCES checks (id) ON DELETE CASCADE,
    severity        TEXT,
    contact_list_id TEXT    REFERENCES contact_lists (id)
);

-- Who acknowledged an incident and when; when its last reminder went out (claimed with a
-- conditional write, so each interval's reminder is sent once across processes).
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT;
ALTER TABLE incidents ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE incidents ADD COLUMN reminded_at BIGINT;
