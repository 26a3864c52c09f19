-- Outage announcements (issue 15). Keep in step with migrations/postgres/0012_outage_announcements.sql.
--
-- The opening (kind 0) and the closing (kind 1) of an episode are each announced once: ingest
-- claims the row in the check-result batch's transaction (INSERT … ON CONFLICT DO NOTHING), so
-- one server process announces it, and a replay or rebuild, which re-derives the same episode
-- id, finds it claimed. Rows are keyed by the episode id, not tied to the outages row, because a
-- replay deletes and re-inserts episodes.
CREATE TABLE outage_announcements (
    outage_id   TEXT     NOT NULL,
    kind        SMALLINT NOT NULL,
    probe_id    TEXT     NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    PRIMARY KEY (outage_id, kind)
) WITHOUT ROWID;

-- Counters per series for /metrics (a scrape reads state rows only): episodes claimed opened,
-- and the down / partial time of the episodes claimed closed, ms.
ALTER TABLE outage_state ADD COLUMN outages_total     BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outage_state ADD COLUMN complete_ms_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outage_state ADD COLUMN partial_ms_total  BIGINT NOT NULL DEFAULT 0;

-- Episodes stored before this migration are history: never announced.
INSERT INTO outage_announcements (outage_id, kind, probe_id)
    SELECT id, 0, probe_id FROM outages;
INSERT INTO outage_announcements (outage_id, kind, probe_id)
    SELECT id, 1, probe_id FROM outages WHERE ended_at IS NOT NULL;
UPDATE outage_state SET
    outages_total = (SELECT COUNT(*) FROM outages o WHERE o.series = outage_state.num),
    complete_ms_total = COALESCE((SELECT SUM(o.rounds_down) * 60000 FROM outages o
        WHERE o.series = outage_state.num AND o.ended_at IS NOT NULL), 0),
    partial_ms_total = COALESCE((SELECT SUM(o.rounds_partial) * 60000 FROM outages o
        WHERE o.series = outage_state.num AND o.ended_at IS NOT NULL), 0);
