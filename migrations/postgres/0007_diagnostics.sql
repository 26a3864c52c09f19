-- Diagnostics on demand and the long-poll wake-up rows (PostgreSQL dialect). Keep in step with
-- migrations/sqlite/0007_diagnostics.sql: same tables, columns and nullability. Times are Unix
-- milliseconds.

-- One row per diagnostic asked for (trace, port probe, DNS timing). `params` and `result` are
-- the wire's camelCase JSON objects. `phase` is queued, running, done or failed; "expired" is
-- not stored: a queued row past `expires_at` reads as expired and is never handed out.
CREATE TABLE diagnostics (
    id           TEXT   NOT NULL PRIMARY KEY,
    probe_id     TEXT   NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    kind         TEXT   NOT NULL,
    target       TEXT   NOT NULL,
    params       TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    phase        TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    taken_at     BIGINT,
    finished_at  BIGINT,
    result       TEXT,
    error        TEXT
);
CREATE INDEX diagnostics_probe_phase ON diagnostics (probe_id, phase);
CREATE INDEX diagnostics_created ON diagnostics (created_at);

-- A version per probe (and '*' for every probe), bumped whenever work is queued for it, so a
-- long-polling `/due` in another server process (or after a CLI write) sees it with one cheap
-- read. PostgreSQL also sends NOTIFY netpulse_work with the probe id.
CREATE TABLE work_signals (
    probe_id  TEXT   NOT NULL PRIMARY KEY,
    version   BIGINT NOT NULL
);
