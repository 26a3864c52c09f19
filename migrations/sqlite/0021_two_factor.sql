-- Two-factor sign-in (sqlite dialect; keep in step with the other database's 0021_two_factor.sql).
-- Times are Unix milliseconds.

-- The TOTP secret, sealed with the secrets adapter (AES-256-GCM, the user id as associated
-- data): `totp_secret_enc` once confirmed (2FA on), `totp_pending_enc` while being enrolled.
-- `totp_last_step` is the newest 30-second step accepted (the replay guard, RFC 6238 §5.2).
ALTER TABLE users ADD COLUMN totp_secret_enc TEXT;
ALTER TABLE users ADD COLUMN totp_pending_enc TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Single-use recovery codes: argon2id digests (PHC strings); `used_at` is set once, atomically.
CREATE TABLE recovery_codes (
    id              TEXT    NOT NULL PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest          TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    used_at         BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- A sign-in whose password was right and whose second factor is still to be given: the
-- browser holds a random secret, the table its SHA-256. Deleted when used or expired.
CREATE TABLE login_challenges (
    id_digest       BLOB    NOT NULL PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next_path       TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);
