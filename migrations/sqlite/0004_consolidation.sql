-- Consolidation: a disposition per comment (with its history), the comments
-- each revision addresses, and where every earlier comment lands in each later
-- revision (the carry-forward projection, computed when the revision is made).

CREATE TABLE dispositions (
    comment_id      INTEGER PRIMARY KEY REFERENCES comments (id),
    cycle_id        INTEGER NOT NULL REFERENCES review_cycles (id),
    kind            TEXT NOT NULL,
    rationale       TEXT,
    duplicate_of_id INTEGER REFERENCES comments (id),
    decided_by      INTEGER NOT NULL REFERENCES users (id),
    decided_at      TEXT NOT NULL
);
CREATE INDEX dispositions_cycle ON dispositions (cycle_id, kind);

-- One row per change of a disposition: who, when, before (null for the first) and after.
CREATE TABLE disposition_changes (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id             INTEGER NOT NULL REFERENCES comments (id),
    changed_by             INTEGER NOT NULL REFERENCES users (id),
    changed_at             TEXT NOT NULL,
    before_kind            TEXT,
    before_rationale       TEXT,
    before_duplicate_of_id INTEGER REFERENCES comments (id),
    after_kind             TEXT NOT NULL,
    after_rationale        TEXT,
    after_duplicate_of_id  INTEGER REFERENCES comments (id)
);
CREATE INDEX disposition_changes_comment ON disposition_changes (comment_id, id);

-- The comments a revision addresses (createRevision's addressedCommentIds).
CREATE TABLE addressed_comments (
    revision_id INTEGER NOT NULL REFERENCES revisions (id),
    comment_id  INTEGER NOT NULL REFERENCES comments (id),
    PRIMARY KEY (revision_id, comment_id)
);
CREATE INDEX addressed_comments_comment ON addressed_comments (comment_id);

-- Where a comment made on an earlier revision is found in a later one.
CREATE TABLE carried_anchors (
    revision_id    INTEGER NOT NULL REFERENCES revisions (id),
    comment_id     INTEGER NOT NULL REFERENCES comments (id),
    status         TEXT NOT NULL,
    score          REAL,
    section_anchor TEXT,
    block_anchor   TEXT,
    quote_start    INTEGER,
    quote_end      INTEGER,
    doc_order      INTEGER NOT NULL,
    PRIMARY KEY (revision_id, comment_id)
);
CREATE INDEX carried_anchors_order ON carried_anchors (revision_id, doc_order, comment_id);
CREATE INDEX carried_anchors_comment ON carried_anchors (comment_id);
