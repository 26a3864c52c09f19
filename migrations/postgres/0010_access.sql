-- Users and access (postgres dialect; keep in step with the other database's 0010_access.sql):
-- roles, disabled accounts, token owners and scopes, the one-time flash, the audit log.
-- Times are Unix milliseconds.

-- Every account that existed before roles is an Admin (it could do everything).
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN display_name TEXT;

-- A token belongs to a user (deleting the user deletes their tokens); its scopes are
-- permission names separated by spaces. Tokens made before owners belong to the first account
-- and keep every scope (they could do everything).
ALTER TABLE api_tokens ADD COLUMN user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'results:read reports:read tests:run schedules:write alerts:ack schedules:delete agents:write alerts:write users:write settings:write';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_ip TEXT;
UPDATE api_tokens SET user_id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- A message shown once on the next page of the same session (post/redirect/get), e.g. a new
-- token's secret; read and deleted together.
CREATE TABLE session_flash (
    id              TEXT    NOT NULL PRIMARY KEY,
    session_digest  BYTEA   NOT NULL REFERENCES sessions (id_digest) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX session_flash_session ON session_flash (session_digest);

-- Who changed what and when. The actor's e-mail is copied so the entry outlives the account.
CREATE TABLE audit_log (
    id              TEXT    NOT NULL PRIMARY KEY,
    at              BIGINT  NOT NULL,
    actor_id        TEXT,
    actor_email     TEXT,
    action          TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    detail          TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
