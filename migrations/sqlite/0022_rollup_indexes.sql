-- Indexes for the rollup job (issue 17, rebuild speed). Keep in step with the other
-- dialect's 0022_rollup_indexes.sql.
--
-- A recompute clears the buckets of one connection and level overlapping a range
-- (`bucket_at < until AND bucket_at > from - Level::max_seconds AND bucket_end > from`); the
-- primary key (connection_id, level, server_key, bucket_at) puts server_key before the start,
-- so without this index every clear scanned all of a connection's buckets of that level.
CREATE INDEX speed_rollups_connection_level_time ON speed_rollups (connection_id, level, bucket_at);
