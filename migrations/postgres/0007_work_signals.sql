-- The long-poll wake-up rows (PostgreSQL dialect). Keep in step with
-- migrations/sqlite/0007_work_signals.sql: same table, columns and nullability. Times are Unix
-- milliseconds.

-- A version per probe (and '*' for every probe), bumped whenever work is queued for it, so a
-- long-polling `/due` in another server process (or after a CLI write) sees it with one cheap
-- read. PostgreSQL also sends NOTIFY netpulse_work with the probe id.
CREATE TABLE work_signals (
    probe_id  TEXT   NOT NULL PRIMARY KEY,
    version   BIGINT NOT NULL
);
