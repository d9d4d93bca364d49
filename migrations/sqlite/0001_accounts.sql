-- Accounts: organizations, users, questions and their rapporteurs; sign-in throttling.
-- Timestamps are RFC 3339 text in UTC; booleans are 0/1.

CREATE TABLE organizations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    short_name     TEXT NOT NULL,
    short_name_key TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    country_code   TEXT,
    region         TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- The secretariat's own organization, home of SECRETARIAT users created without one.
INSERT INTO organizations (name, short_name, short_name_key, kind, created_at, updated_at)
VALUES ('International Telecommunication Union', 'ITU', 'itu', 'INTERNATIONAL_ORGANIZATION',
        strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

CREATE TABLE users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL UNIQUE,
    display_name     TEXT NOT NULL,
    organization_id  INTEGER NOT NULL REFERENCES organizations (id),
    roles            INTEGER NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT 1,
    password_hash    TEXT,
    -- Bumped by every password change; tokens carry it, so older tokens stop working.
    password_version INTEGER NOT NULL DEFAULT 0,
    external_subject TEXT UNIQUE,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX users_organization ON users (organization_id);

CREATE TABLE questions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    study_group INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE question_rapporteurs (
    question_id INTEGER NOT NULL REFERENCES questions (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
CREATE INDEX question_rapporteurs_user ON question_rapporteurs (user_id);

CREATE TABLE login_throttle (
    key               TEXT PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at TEXT NOT NULL,
    locked_until      TEXT
);
