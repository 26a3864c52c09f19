-- Connectivity checks (SQLite dialect). Keep in step with migrations/postgres/0004_checks.sql:
-- same tables, columns and nullability (a test compares them). Times are Unix milliseconds.
--
-- A check belongs to a probe (deleting the probe deletes its checks); its results and its
-- latest state belong to the check (CASCADE). Results refer to the check by its small integer
-- `num`, not its UUID, so a result row stays narrow (see check_results).

CREATE TABLE checks (
    num             INTEGER NOT NULL PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    probe_id        TEXT    NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    port            INTEGER,
    family          TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    interval_s      INTEGER NOT NULL,
    -- The kind's parameters and thresholds, as the wire's camelCase `params` object (JSON).
    params          TEXT    NOT NULL,
    alert_after     INTEGER,
    recover_after   INTEGER,
    enabled         BOOLEAN NOT NULL,
    labels          TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX checks_probe ON checks (probe_id, created_at);

-- One row per (check, family, round): the primary key is the exactly-once key of a replayed
-- spool. Narrow typed columns only: enums as SMALLINT codes (storage/check_rows.rs), times in
-- microseconds as INTEGER, loss in hundredths of a percent, the address as its 4 or 16 octets,
-- and text only in `message` (NULL when ok). WITHOUT ROWID: the key is the table (no second
-- B-tree), and a check's rounds are stored together in time order.
CREATE TABLE check_results (
    check_num       INTEGER  NOT NULL REFERENCES checks (num) ON DELETE CASCADE,
    round_at        BIGINT   NOT NULL,
    family          SMALLINT NOT NULL,
    outcome         SMALLINT NOT NULL,
    failure_class   SMALLINT,
    latency_us      INTEGER,
    loss_bp         SMALLINT,
    jitter_us       INTEGER,
    rtt_min_us      INTEGER,
    rtt_max_us      INTEGER,
    rtt_stdev_us    INTEGER,
    status          SMALLINT,
    ttfb_us         INTEGER,
    port_state      SMALLINT,
    dns_rating      SMALLINT,
    flags           SMALLINT NOT NULL,
    address         BLOB,
    message         TEXT,
    PRIMARY KEY (check_num, round_at, family)
) WITHOUT ROWID;

-- The newest round of each check and family (written at ingest, only by newer rounds), its run
-- counters (every newly stored result) and the service-alert debouncer: what /metrics and the
-- Connectivity page read instead of the history.
CREATE TABLE check_state (
    check_num               INTEGER  NOT NULL REFERENCES checks (num) ON DELETE CASCADE,
    family                  SMALLINT NOT NULL,
    round_at                BIGINT   NOT NULL,
    outcome                 SMALLINT NOT NULL,
    failure_class           SMALLINT,
    latency_us              INTEGER,
    loss_bp                 SMALLINT,
    flags                   SMALLINT NOT NULL,
    message                 TEXT,
    last_failure_at         BIGINT,
    last_failure_class      SMALLINT,
    last_failure_message    TEXT,
    runs_ok                 BIGINT   NOT NULL,
    runs_fail               BIGINT   NOT NULL,
    runs_not_applicable     BIGINT   NOT NULL,
    runs_local_error        BIGINT   NOT NULL,
    alerting                BOOLEAN  NOT NULL,
    fail_run                INTEGER  NOT NULL,
    ok_run                  INTEGER  NOT NULL,
    PRIMARY KEY (check_num, family)
);
