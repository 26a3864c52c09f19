-- A probe's own alerting for its outage and probe-offline alerts (issue 21). Keep in step with
-- the other dialect's 0017_probe_alerting.sql. No row, or NULL: the source's severity and every
-- channel. A list in use cannot be deleted (no ON DELETE).
CREATE TABLE probe_alerting (
    probe_id        TEXT    NOT NULL PRIMARY KEY REFERENCES probes (id) ON DELETE CASCADE,
    severity        TEXT,
    contact_list_id TEXT    REFERENCES contact_lists (id)
);
