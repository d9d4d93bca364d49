-- A per-user token epoch: tokens carry it, and each deactivation bumps it, so
-- a token issued before a deactivation stays refused after a reactivation.
ALTER TABLE users ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;
