-- Optimistic concurrency on dispositions: each disposition counts its changes
-- (Comment.dispositionVersion; 0 while never decided, so no row). Raised in the
-- transaction that records the change; setDisposition's expectedVersion is
-- compared with it. Backfilled from the history: one per change recorded.
ALTER TABLE dispositions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE dispositions SET version =
    (SELECT COUNT(*) FROM disposition_changes h WHERE h.comment_id = dispositions.comment_id);
