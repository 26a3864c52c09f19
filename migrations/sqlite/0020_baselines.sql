-- Baselines (issue 17, wave2-specs §5). Keep in step with the other dialect's 0020_baselines.sql.
-- A connection's deviation, percent: a result this much worse than its reliable baseline is a
-- baseline_deviation breach.
ALTER TABLE connections ADD COLUMN baseline_deviation_pct DOUBLE PRECISION NOT NULL DEFAULT 30;

-- One row per series, metric and local day (site time zone): the baseline in force from
-- day_start, computed from the 14 local days before it. series_kind is `connection` (metrics
-- download, upload, ping) or `check` (metrics latency_v4, latency_v6).
CREATE TABLE baselines (
    series_kind     TEXT             NOT NULL,
    series_id       TEXT             NOT NULL,
    metric          TEXT             NOT NULL,
    day             TEXT             NOT NULL,
    day_start       BIGINT           NOT NULL,
    n               BIGINT           NOT NULL,
    median          DOUBLE PRECISION NOT NULL,
    p10             DOUBLE PRECISION NOT NULL,
    p90             DOUBLE PRECISION NOT NULL,
    mad             DOUBLE PRECISION NOT NULL,
    reliable        BOOLEAN          NOT NULL,
    computed_at     BIGINT           NOT NULL,
    PRIMARY KEY (series_kind, series_id, metric, day)
);
CREATE INDEX baselines_in_force ON baselines (series_kind, series_id, day_start);
