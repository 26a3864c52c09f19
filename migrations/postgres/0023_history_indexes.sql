-- Indexes for the all-time history pages (issue 17, history speed). Keep in step with the
-- other dialect's 0023_history_indexes.sql.
--
-- Sorting by download (either way) orders by the list's sort key, `COALESCE(download_bps,
-- -1.0)` descending / `COALESCE(download_bps, 1.0e300)` ascending, then completed_at DESC,
-- id DESC (storage/list.rs sort_spec): the expressions must stay exactly as written there for
-- the planner to walk these indexes instead of sorting every result.
CREATE INDEX measurements_download_desc ON measurements ((COALESCE(download_bps, -1.0)), completed_at, id);
CREATE INDEX measurements_download_asc ON measurements ((COALESCE(download_bps, 1.0e300)), completed_at DESC, id DESC);
-- The history's server filter lists the servers seen since a time (servers_seen): with the
-- name and location in the index that list reads the index only, not every recent row. It
-- starts like measurements_server_time (server_id, completed_at), which it replaces.
CREATE INDEX measurements_server_seen ON measurements (server_id, completed_at, server_name, server_location);
DROP INDEX measurements_server_time;
