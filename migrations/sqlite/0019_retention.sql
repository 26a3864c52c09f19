-- Retention (issue 17; sqlite dialect, keep in step with migrations/postgres/0019_retention.sql).
--
-- retention_floors: per kind of data (netpulse_domain::retention::DataKind::name: raw-checks,
-- raw-speed, hourly, daily, weekly) the cut of the last prune, Unix ms. A floor only moves
-- forward; nothing is recomputed from raw data below the raw-speed floor (the rollup job and
-- `rollups rebuild` start there) and `outages rebuild` replays no check results below the
-- raw-checks floor. The retention itself is in `settings` (keys retention.*).
CREATE TABLE retention_floors (
    kind        TEXT    NOT NULL PRIMARY KEY,
    floor_at    BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
-- The prune of raw check results takes the oldest hour blocks of every check first.
CREATE INDEX check_result_blocks_time ON check_result_blocks (block_at);
