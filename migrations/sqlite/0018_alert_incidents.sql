-- Incident rows of service-check and probe-offline alerts (issue 21), in the outage incidents'
-- table rather than a third copy. Keep in step with migrations/postgres/0018_alert_incidents.sql.
-- `source`: what raised it (`outage`, `check`, `probe_offline`); `subject_id`: the check's
-- id for a check, else the probe's; `severity`: the severity its alert carried when it opened
-- (NULL: not recorded, as on outage rows from before this migration). A check or probe-offline
-- row is inserted by the process that claimed the alert's edge (ids derived from the edge, so a
-- second insert finds it) and closed when the recovery edge is claimed.
ALTER TABLE outage_incidents ADD COLUMN source TEXT NOT NULL DEFAULT 'outage';
ALTER TABLE outage_incidents ADD COLUMN subject_id TEXT;
ALTER TABLE outage_incidents ADD COLUMN severity TEXT;
UPDATE outage_incidents SET subject_id = probe_id WHERE subject_id IS NULL;
CREATE INDEX outage_incidents_subject ON outage_incidents (source, subject_id, family);
