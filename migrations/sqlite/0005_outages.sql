-- Outages (SQLite dialect). Keep in step with migrations/postgres/0005_outages.sql: same
-- tables, columns and nullability (a test compares them). Times are Unix milliseconds.
--
-- One outage series per (probe, family): family 0 = v4, 1 = v6, 2 = all. Its state row is
-- advanced at check-result ingest in O(1) per round (the episode tracker of
-- netpulse_domain::outage); its rounds and episodes belong to it (CASCADE), and it belongs to
-- the probe.

CREATE TABLE outage_state (
    num             INTEGER  NOT NULL PRIMARY KEY,
    probe_id        TEXT     NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    family          SMALLINT NOT NULL,
    -- The newest round fed (NULL before the first).
    last_round_at   BIGINT,
    -- Good rounds and rounds without data since the open episode's last failing round.
    good_rounds     INTEGER  NOT NULL,
    gap_rounds      INTEGER  NOT NULL,
    -- The open episode (a row of outages with ended_at NULL).
    open_id         TEXT,
    -- The last round with an ok result per family (the 24 h "the host had this family" rule).
    last_ok_v4      BIGINT,
    last_ok_v6      BIGINT,
    UNIQUE (probe_id, family)
);

-- Every round of a series with its state (0 up, 1 target, 2 partial, 3 down, 4 local,
-- 5 maintenance, 6 unknown) and its failed / counted checks: the timeline of an outage and
-- the time per state that uptime is computed from. Rounds without any result are not stored
-- (they are unknown).
CREATE TABLE outage_rounds (
    series          INTEGER  NOT NULL REFERENCES outage_state (num) ON DELETE CASCADE,
    round_at        BIGINT   NOT NULL,
    state           SMALLINT NOT NULL,
    failed          SMALLINT NOT NULL,
    counted         SMALLINT NOT NULL,
    PRIMARY KEY (series, round_at)
) WITHOUT ROWID;

-- Episodes, open (ended_at NULL) and closed. The id is derived from (probe, family, start),
-- so a replay finds an episode again under the same id.
CREATE TABLE outages (
    id                      TEXT     NOT NULL PRIMARY KEY,
    series                  INTEGER  NOT NULL REFERENCES outage_state (num) ON DELETE CASCADE,
    probe_id                TEXT     NOT NULL,
    family                  SMALLINT NOT NULL,
    started_at              BIGINT   NOT NULL,
    ended_at                BIGINT,
    -- The end of its last failing round (so far, while open).
    last_failure_end        BIGINT   NOT NULL,
    -- The round whose arrival closed it (NULL while open).
    closed_by_round         BIGINT,
    end_uncertain           BOOLEAN  NOT NULL,
    complete                BOOLEAN  NOT NULL,
    duration_ms             BIGINT   NOT NULL,
    impact_ms               DOUBLE PRECISION NOT NULL,
    rounds_down             INTEGER  NOT NULL,
    rounds_partial          INTEGER  NOT NULL,
    rounds_unknown          INTEGER  NOT NULL,
    failed_checks           BIGINT   NOT NULL,
    counted_checks          BIGINT   NOT NULL,
    rounds_link             INTEGER  NOT NULL,
    rounds_gateway_known    INTEGER  NOT NULL,
    rounds_gateway_failed   INTEGER  NOT NULL,
    -- [[check id, first failure class or null], ...] (JSON).
    failing_checks          TEXT     NOT NULL
);
CREATE INDEX outages_latest ON outages (started_at, id);
CREATE INDEX outages_series ON outages (series, started_at);
CREATE INDEX outages_probe ON outages (probe_id, family, started_at);
CREATE INDEX outages_severity ON outages (complete, impact_ms, duration_ms, started_at);
