-- Tokens ended before their expiry by a sign-out of the browser workspace: the
-- token's `jti`, kept until the token would have expired anyway (then purged).
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    expires_at TEXT NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
