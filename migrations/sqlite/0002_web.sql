-- The web dashboard, SQLite dialect. Keep in step with migrations/postgres/0002_web.sql: same
-- tables, columns and nullability (a test compares them).

-- Signed-in browsers. The cookie holds a random 256-bit secret; only its SHA-256 is stored.
-- Each session has its own CSRF token (synchroniser pattern). Sessions end when idle for too
-- long or at their absolute expiry, whichever comes first; deleting a user ends them all.
CREATE TABLE sessions (
    id_digest       BLOB    NOT NULL PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token      TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_seen_at    BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed sign-ins per key (`account:<email>` or `address:<ip>`): a fixed window that starts at
-- the first failure; a key is locked until `locked_until` once it reaches the limit.
CREATE TABLE login_throttle (
    key             TEXT    NOT NULL PRIMARY KEY,
    failures        INTEGER NOT NULL,
    window_start    BIGINT  NOT NULL,
    locked_until    BIGINT
);

-- Public, revocable links to one result (`/r/{token}`). Revoking deletes the row; deleting the
-- measurement (with its connection) deletes its links.
CREATE TABLE share_links (
    token           TEXT    NOT NULL PRIMARY KEY,
    measurement_id  TEXT    NOT NULL REFERENCES measurements (id) ON DELETE CASCADE,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX share_links_measurement ON share_links (measurement_id);
