-- Review cycles, late-submission grants, comments with their edits, and replies.

CREATE TABLE review_cycles (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    module_id       INTEGER NOT NULL REFERENCES modules (id),
    revision_id     INTEGER NOT NULL REFERENCES revisions (id),
    title           TEXT NOT NULL,
    opens_at        TEXT NOT NULL,
    closes_at       TEXT NOT NULL,
    visibility      TEXT NOT NULL,
    -- The last comment number given; the next submission takes next_number + 1.
    next_number     INTEGER NOT NULL DEFAULT 0,
    consolidated_at TEXT,
    created_by      INTEGER NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX review_cycles_module ON review_cycles (module_id);
CREATE INDEX review_cycles_revision ON review_cycles (revision_id);

CREATE TABLE late_grants (
    cycle_id        INTEGER NOT NULL REFERENCES review_cycles (id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    until           TEXT NOT NULL,
    granted_by      INTEGER NOT NULL REFERENCES users (id),
    granted_at      TEXT NOT NULL,
    PRIMARY KEY (cycle_id, organization_id)
);

CREATE TABLE comments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    cycle_id         INTEGER NOT NULL REFERENCES review_cycles (id),
    revision_id      INTEGER NOT NULL REFERENCES revisions (id),
    author_id        INTEGER NOT NULL REFERENCES users (id),
    organization_id  INTEGER NOT NULL REFERENCES organizations (id),
    number           INTEGER,
    state            TEXT NOT NULL,
    comment_type     TEXT NOT NULL,
    body             TEXT NOT NULL,
    proposed_change  TEXT,
    language         TEXT,
    anchor_kind      TEXT NOT NULL,
    section_anchor   TEXT,
    block_anchor     TEXT,
    quote_exact      TEXT,
    quote_prefix     TEXT,
    quote_suffix     TEXT,
    quote_start      INTEGER,
    quote_end        INTEGER,
    doc_order        INTEGER NOT NULL,
    late             BOOLEAN NOT NULL DEFAULT 0,
    submitted_at     TEXT,
    withdrawn_at     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (cycle_id, number)
);
CREATE INDEX comments_cycle_order ON comments (cycle_id, doc_order, id);
CREATE INDEX comments_revision ON comments (revision_id, section_anchor);

-- Each row keeps a comment's text as it was before one edit.
CREATE TABLE comment_edits (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id      INTEGER NOT NULL REFERENCES comments (id),
    editor_id       INTEGER NOT NULL REFERENCES users (id),
    edited_at       TEXT NOT NULL,
    comment_type    TEXT NOT NULL,
    body            TEXT NOT NULL,
    proposed_change TEXT,
    language        TEXT
);
CREATE INDEX comment_edits_comment ON comment_edits (comment_id, id);

CREATE TABLE replies (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id      INTEGER NOT NULL REFERENCES comments (id),
    author_id       INTEGER NOT NULL REFERENCES users (id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX replies_comment ON replies (comment_id, id);
