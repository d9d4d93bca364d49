-- Live collaboration: the clock watch's indexes, full-text search over
-- comments, the append-only audit trail, notifications and module follows.

CREATE INDEX review_cycles_opens ON review_cycles (opens_at);
CREATE INDEX review_cycles_closes ON review_cycles (closes_at);

-- One row per comment (rowid = comment id): the analysed words of its body,
-- proposed change and replies (folded to lower case without accents, with
-- their English and French stems), written in the transaction of each change.
CREATE VIRTUAL TABLE comment_search USING fts5 (terms, tokenize = 'unicode61 remove_diacritics 2');

CREATE TABLE audit_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor_id        INTEGER REFERENCES users (id),
    organization_id INTEGER REFERENCES organizations (id),
    action          TEXT NOT NULL,
    entity_kind     TEXT NOT NULL,
    entity_id       INTEGER NOT NULL,
    question_id     INTEGER REFERENCES questions (id),
    summary         TEXT NOT NULL,
    request_id      TEXT
);
CREATE INDEX audit_events_entity ON audit_events (entity_kind, entity_id, id);
CREATE INDEX audit_events_question ON audit_events (question_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE module_follows (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    module_id  INTEGER NOT NULL REFERENCES modules (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, module_id)
);
CREATE INDEX module_follows_module ON module_follows (module_id);

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL,
    module_id   INTEGER NOT NULL REFERENCES modules (id),
    revision_id INTEGER NOT NULL REFERENCES revisions (id),
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    read_at     TEXT,
    UNIQUE (user_id, kind, revision_id)
);
CREATE INDEX notifications_user ON notifications (user_id, id);
