-- Idempotency keys: a creating mutation sent again with the same key (a client
-- retrying after a timeout or a dropped connection) replays its first result
-- instead of creating a second comment. A key belongs to one user; it is
-- claimed in the transaction that does the work, so it exists if and only if
-- that work was stored. Kept for 24 hours (service::idempotency::KEPT).
CREATE TABLE idempotency_keys (
    user_id     BIGINT NOT NULL REFERENCES users (id),
    key         TEXT NOT NULL,
    -- The mutation, and a hash of its input: the same key with another input
    -- is refused (CONFLICT).
    operation   TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    -- The ids the work created, as a JSON array; set in the same transaction.
    result      TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
