-- Rollups of speed results per connection (sqlite dialect). Keep in step with the other
-- dialect's 0006_rollups.sql: same tables, columns and nullability. Times are Unix ms.
--
-- speed_rollup_dirty: the (connection, UTC hour) pairs whose raw results changed since their
-- rollups were last computed. Ingest (and re-parsing) upserts a row in the result's own
-- transaction and bumps `version`; the rollup job recomputes the hour, its local days and
-- weeks from raw and deletes the row only if `version` is still the one it read, so a result
-- arriving during the recompute keeps its hour dirty.
CREATE TABLE speed_rollup_dirty (
    connection_id   TEXT    NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    hour_at         BIGINT  NOT NULL,
    version         BIGINT  NOT NULL,
    PRIMARY KEY (connection_id, hour_at)
);

-- speed_rollups: one row per connection, level (1 = UTC hour, 2 = local day, 3 = local ISO
-- week from Monday, in the site time zone), server key ('' = every server; per-server rows
-- exist for days only, for the Servers page) and bucket start. Per metric (dl = download bps,
-- ul = upload bps, ping ms, jit = jitter ms, loss %): values counted, sum, sum of squares,
-- min, max and the DDSketch (netpulse_domain::rollup::Sketch::encode).
CREATE TABLE speed_rollups (
    connection_id   TEXT    NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    level           SMALLINT NOT NULL,
    server_key      TEXT    NOT NULL,
    bucket_at       BIGINT  NOT NULL,
    bucket_end      BIGINT  NOT NULL,
    server_name     TEXT,
    server_location TEXT,
    by_host         BOOLEAN NOT NULL,
    results         BIGINT  NOT NULL,
    ok              BIGINT  NOT NULL,
    fail            BIGINT  NOT NULL,
    healthy         BIGINT  NOT NULL,
    expected        DOUBLE PRECISION NOT NULL,
    last_at         BIGINT  NOT NULL,
    computed_at     BIGINT  NOT NULL,
    dl_n          BIGINT  NOT NULL,
    dl_sum        DOUBLE PRECISION NOT NULL,
    dl_sq         DOUBLE PRECISION NOT NULL,
    dl_min        DOUBLE PRECISION,
    dl_max        DOUBLE PRECISION,
    dl_sketch     BLOB   NOT NULL,
    ul_n          BIGINT  NOT NULL,
    ul_sum        DOUBLE PRECISION NOT NULL,
    ul_sq         DOUBLE PRECISION NOT NULL,
    ul_min        DOUBLE PRECISION,
    ul_max        DOUBLE PRECISION,
    ul_sketch     BLOB   NOT NULL,
    ping_n          BIGINT  NOT NULL,
    ping_sum        DOUBLE PRECISION NOT NULL,
    ping_sq         DOUBLE PRECISION NOT NULL,
    ping_min        DOUBLE PRECISION,
    ping_max        DOUBLE PRECISION,
    ping_sketch     BLOB   NOT NULL,
    jit_n          BIGINT  NOT NULL,
    jit_sum        DOUBLE PRECISION NOT NULL,
    jit_sq         DOUBLE PRECISION NOT NULL,
    jit_min        DOUBLE PRECISION,
    jit_max        DOUBLE PRECISION,
    jit_sketch     BLOB   NOT NULL,
    loss_n          BIGINT  NOT NULL,
    loss_sum        DOUBLE PRECISION NOT NULL,
    loss_sq         DOUBLE PRECISION NOT NULL,
    loss_min        DOUBLE PRECISION,
    loss_max        DOUBLE PRECISION,
    loss_sketch     BLOB   NOT NULL,
    PRIMARY KEY (connection_id, level, server_key, bucket_at)
);
-- The Servers page reads every connection's per-server days of a window.
CREATE INDEX speed_rollups_level_time ON speed_rollups (level, bucket_at);
