-- Kits, modules, and immutable numbered revisions with their sections and blocks.

CREATE TABLE kits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id INTEGER NOT NULL REFERENCES questions (id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (question_id, title)
);

CREATE TABLE modules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kit_id     INTEGER NOT NULL REFERENCES kits (id),
    number     INTEGER NOT NULL,
    title      TEXT NOT NULL,
    status     TEXT NOT NULL,
    -- The latest revision's number; 0 before the first. Guards createRevision.
    revision_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (kit_id, number)
);

CREATE TABLE revisions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    module_id        INTEGER NOT NULL REFERENCES modules (id),
    number           INTEGER NOT NULL,
    base_revision_id INTEGER REFERENCES revisions (id),
    author_id        INTEGER NOT NULL REFERENCES users (id),
    summary          TEXT NOT NULL,
    markdown         TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    word_count       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (module_id, number)
);

CREATE TABLE revision_sections (
    revision_id INTEGER NOT NULL REFERENCES revisions (id),
    position    INTEGER NOT NULL,
    anchor_id   TEXT NOT NULL,
    level       INTEGER NOT NULL,
    clause      TEXT NOT NULL,
    title       TEXT NOT NULL,
    PRIMARY KEY (revision_id, position),
    UNIQUE (revision_id, anchor_id)
);

CREATE TABLE revision_blocks (
    revision_id      INTEGER NOT NULL REFERENCES revisions (id),
    position         INTEGER NOT NULL,
    section_position INTEGER NOT NULL,
    anchor_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    text             TEXT NOT NULL,
    source_start     INTEGER NOT NULL,
    source_end       INTEGER NOT NULL,
    PRIMARY KEY (revision_id, position),
    UNIQUE (revision_id, anchor_id)
);
