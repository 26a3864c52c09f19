-- Incident rows of outages (issue 21). Keep in step with migrations/postgres/0016_outage_incidents.sql.
-- A row is inserted when an episode's opening is claimed in outage_announcements and closed when
-- its closing is claimed, in the claim's transaction, so exactly once across processes. Keyed by
-- the derived episode id (a replay finds the same id claimed). Times are Unix milliseconds;
-- acknowledgement and last reminder as on incidents.
CREATE TABLE outage_incidents (
    id              TEXT    NOT NULL PRIMARY KEY,
    probe_id        TEXT    NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    family          TEXT    NOT NULL,
    opened_at       BIGINT  NOT NULL,
    closed_at       BIGINT,
    acknowledged_by TEXT,
    acknowledged_at BIGINT,
    reminded_at     BIGINT
);
CREATE INDEX outage_incidents_opened ON outage_incidents (opened_at);
