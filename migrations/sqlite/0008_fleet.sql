-- The fleet (issue 20), SQLite dialect. Keep in step with migrations/postgres/0008_fleet.sql:
-- same tables, columns and nullability. Times are Unix milliseconds.

-- Maintenance windows of probes, scheduled or opened by the manual switch: [starts_at, ends_at),
-- ends_at NULL until switched off. Deleting the probe deletes them.
CREATE TABLE probe_maintenance (
    id              TEXT    NOT NULL PRIMARY KEY,
    probe_id        TEXT    NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    starts_at       BIGINT  NOT NULL,
    ends_at         BIGINT,
    reason          TEXT    NOT NULL,
    manual          BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX probe_maintenance_probe ON probe_maintenance (probe_id, starts_at);

-- Registration tokens: the secret only as its SHA-256 digest; labels as a JSON object.
CREATE TABLE registration_tokens (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    secret_digest   BLOB   NOT NULL UNIQUE,
    labels          TEXT    NOT NULL,
    expires_at      BIGINT,
    max_uses        BIGINT,
    uses            BIGINT  NOT NULL,
    revoked         BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL
);

-- Agents that registered themselves: one probe per (name, machine). Deleting the probe deletes
-- the registration (the agent may then register again as a new probe).
CREATE TABLE agent_registrations (
    name            TEXT    NOT NULL,
    machine_id      TEXT    NOT NULL,
    probe_id        TEXT    NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    token_id        TEXT    NOT NULL REFERENCES registration_tokens (id) ON DELETE CASCADE,
    registered_at   BIGINT  NOT NULL,
    PRIMARY KEY (name, machine_id)
);
CREATE INDEX agent_registrations_probe ON agent_registrations (probe_id);
