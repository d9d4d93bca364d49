//! What `copy` moves: every table of both migration sets, in foreign-key
//! order, with its columns and their kinds, and the statements that read
//! them on either database.

/// How a column is stored, and so read, written and checksummed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
    /// A timestamp: RFC 3339 text on SQLite, TIMESTAMPTZ on PostgreSQL.
    Time,
    Real,
    /// The search index's words: FTS5 text on SQLite, indexed anew as a
    /// `tsvector` on PostgreSQL, so not comparable byte for byte (left out
    /// of the checksum; the rows' ids are in it).
    Terms,
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// What SQLite calls it, when not `name` (the FTS5 table's `rowid`).
    pub sqlite: Option<&'static str>,
}

/// Rows the PostgreSQL migrations insert themselves, replaced by the source's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    No,
    /// The built-in ITU organization (migration 0001).
    Itu,
    /// The sixteen `data_versions` stripes (migration 0010).
    Stripes,
}

/// One table.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The primary key: the order rows are read, copied and checksummed in.
    pub key: &'static [&'static str],
    /// Has an `id` identity (PostgreSQL) / AUTOINCREMENT (SQLite) sequence.
    pub identity: bool,
    pub seeded: Seeded,
}

pub(super) const fn c(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        sqlite: None,
    }
}

use Kind::{Bool as B, Int as I, Real as R, Text as T, Time as D};

const fn t(name: &'static str, key: &'static [&'static str], columns: &'static [Column]) -> Table {
    Table {
        name,
        columns,
        key,
        identity: false,
        seeded: Seeded::No,
    }
}

const fn id(name: &'static str, columns: &'static [Column]) -> Table {
    Table {
        name,
        columns,
        key: &["id"],
        identity: true,
        seeded: Seeded::No,
    }
}

/// Every kitreview table, parents before children. A table or column the
/// migrations add and this list lacks fails `tests/api/copy.rs`.
pub const TABLES: &[Table] = &[
    Table {
        seeded: Seeded::Itu,
        ..id(
            "organizations",
            &[
                c("id", I),
                c("name", T),
                c("short_name", T),
                c("short_name_key", T),
                c("kind", T),
                c("country_code", T),
                c("region", T),
                c("created_at", D),
                c("updated_at", D),
            ],
        )
    },
    id(
        "users",
        &[
            c("id", I),
            c("email", T),
            c("email_key", T),
            c("display_name", T),
            c("organization_id", I),
            c("roles", I),
            c("active", B),
            c("password_hash", T),
            c("password_version", I),
            c("external_subject", T),
            c("created_at", D),
            c("updated_at", D),
            c("token_epoch", I),
            c("password_temporary_until", D),
        ],
    ),
    id(
        "questions",
        &[
            c("id", I),
            c("code", T),
            c("title", T),
            c("study_group", I),
            c("created_at", D),
            c("updated_at", D),
        ],
    ),
    t(
        "question_rapporteurs",
        &["question_id", "user_id"],
        &[c("question_id", I), c("user_id", I), c("assigned_at", D)],
    ),
    t(
        "login_throttle",
        &["key"],
        &[
            c("key", T),
            c("failures", I),
            c("window_started_at", D),
            c("locked_until", D),
        ],
    ),
    id(
        "kits",
        &[
            c("id", I),
            c("question_id", I),
            c("title", T),
            c("description", T),
            c("created_at", D),
            c("updated_at", D),
        ],
    ),
    id(
        "modules",
        &[
            c("id", I),
            c("kit_id", I),
            c("number", I),
            c("title", T),
            c("status", T),
            c("revision_count", I),
            c("created_at", D),
            c("updated_at", D),
        ],
    ),
    id(
        "revisions",
        &[
            c("id", I),
            c("module_id", I),
            c("number", I),
            c("base_revision_id", I),
            c("author_id", I),
            c("summary", T),
            c("markdown", T),
            c("content_hash", T),
            c("word_count", I),
            c("created_at", D),
        ],
    ),
    t(
        "revision_sections",
        &["revision_id", "position"],
        &[
            c("revision_id", I),
            c("position", I),
            c("anchor_id", T),
            c("level", I),
            c("clause", T),
            c("title", T),
        ],
    ),
    t(
        "revision_blocks",
        &["revision_id", "position"],
        &[
            c("revision_id", I),
            c("position", I),
            c("section_position", I),
            c("anchor_id", T),
            c("kind", T),
            c("text", T),
            c("source_start", I),
            c("source_end", I),
        ],
    ),
    id(
        "review_cycles",
        &[
            c("id", I),
            c("module_id", I),
            c("revision_id", I),
            c("title", T),
            c("opens_at", D),
            c("closes_at", D),
            c("visibility", T),
            c("next_number", I),
            c("consolidated_at", D),
            c("created_by", I),
            c("created_at", D),
            c("updated_at", D),
        ],
    ),
    t(
        "late_grants",
        &["cycle_id", "organization_id"],
        &[
            c("cycle_id", I),
            c("organization_id", I),
            c("until", D),
            c("granted_by", I),
            c("granted_at", D),
        ],
    ),
    id(
        "comments",
        &[
            c("id", I),
            c("cycle_id", I),
            c("revision_id", I),
            c("author_id", I),
            c("organization_id", I),
            c("number", I),
            c("state", T),
            c("comment_type", T),
            c("body", T),
            c("proposed_change", T),
            c("language", T),
            c("anchor_kind", T),
            c("section_anchor", T),
            c("block_anchor", T),
            c("quote_exact", T),
            c("quote_prefix", T),
            c("quote_suffix", T),
            c("quote_start", I),
            c("quote_end", I),
            c("doc_order", I),
            c("late", B),
            c("submitted_at", D),
            c("withdrawn_at", D),
            c("created_at", D),
            c("updated_at", D),
        ],
    ),
    id(
        "comment_edits",
        &[
            c("id", I),
            c("comment_id", I),
            c("editor_id", I),
            c("edited_at", D),
            c("comment_type", T),
            c("body", T),
            c("proposed_change", T),
            c("language", T),
        ],
    ),
    id(
        "replies",
        &[
            c("id", I),
            c("comment_id", I),
            c("author_id", I),
            c("organization_id", I),
            c("body", T),
            c("state", T),
            c("created_at", D),
            c("updated_at", D),
        ],
    ),
    t(
        "dispositions",
        &["comment_id"],
        &[
            c("comment_id", I),
            c("cycle_id", I),
            c("kind", T),
            c("rationale", T),
            c("duplicate_of_id", I),
            c("decided_by", I),
            c("decided_at", D),
            c("version", I),
        ],
    ),
    id(
        "disposition_changes",
        &[
            c("id", I),
            c("comment_id", I),
            c("changed_by", I),
            c("changed_at", D),
            c("before_kind", T),
            c("before_rationale", T),
            c("before_duplicate_of_id", I),
            c("after_kind", T),
            c("after_rationale", T),
            c("after_duplicate_of_id", I),
        ],
    ),
    t(
        "addressed_comments",
        &["revision_id", "comment_id"],
        &[c("revision_id", I), c("comment_id", I)],
    ),
    t(
        "carried_anchors",
        &["revision_id", "comment_id"],
        &[
            c("revision_id", I),
            c("comment_id", I),
            c("status", T),
            c("score", R),
            c("section_anchor", T),
            c("block_anchor", T),
            c("quote_start", I),
            c("quote_end", I),
            c("doc_order", I),
        ],
    ),
    t(
        "comment_search",
        &["comment_id"],
        &[
            Column {
                sqlite: Some("rowid"),
                ..c("comment_id", I)
            },
            c("terms", Kind::Terms),
        ],
    ),
    id(
        "audit_events",
        &[
            c("id", I),
            c("at", D),
            c("actor_id", I),
            c("organization_id", I),
            c("action", T),
            c("entity_kind", T),
            c("entity_id", I),
            c("question_id", I),
            c("summary", T),
            c("request_id", T),
        ],
    ),
    t(
        "module_follows",
        &["user_id", "module_id"],
        &[c("user_id", I), c("module_id", I), c("created_at", D)],
    ),
    id(
        "notifications",
        &[
            c("id", I),
            c("user_id", I),
            c("kind", T),
            c("module_id", I),
            c("revision_id", I),
            c("reason", T),
            c("created_at", D),
            c("read_at", D),
        ],
    ),
    t(
        "idempotency_keys",
        &["user_id", "key"],
        &[
            c("user_id", I),
            c("key", T),
            c("operation", T),
            c("fingerprint", T),
            c("result", T),
            c("created_at", D),
        ],
    ),
    t(
        "revoked_tokens",
        &["jti"],
        &[c("jti", T), c("user_id", I), c("expires_at", D)],
    ),
    Table {
        seeded: Seeded::Stripes,
        ..t(
            "data_versions",
            &["stripe"],
            &[c("stripe", I), c("version", I)],
        )
    },
];

impl Table {
    /// `SELECT` of every column, in key order, for either database: on
    /// PostgreSQL integers are read as BIGINT (`data_versions.stripe` is an
    /// INTEGER) and text keys in byte order, as SQLite sorts them.
    pub fn select(&self, postgres: bool) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| match (postgres, c.kind, c.sqlite) {
                (false, _, Some(name)) => format!("{name} AS {}", c.name),
                (true, Kind::Int, _) => format!("CAST({0} AS BIGINT) AS {0}", c.name),
                // Not read back: the index keeps its own form of the words.
                (true, Kind::Terms, _) => format!("NULL AS {}", c.name),
                _ => c.name.to_owned(),
            })
            .collect();
        let order: Vec<String> = self
            .key
            .iter()
            .map(|k| {
                let text = self.columns.iter().any(|c| c.name == *k && c.kind == T);
                match self
                    .columns
                    .iter()
                    .find(|c| c.name == *k)
                    .and_then(|c| c.sqlite)
                {
                    Some(name) if !postgres => name.to_owned(),
                    _ if postgres && text => format!("{k} COLLATE \"C\""),
                    _ => (*k).to_owned(),
                }
            })
            .collect();
        format!(
            "SELECT {} FROM {} ORDER BY {}",
            columns.join(", "),
            self.name,
            order.join(", ")
        )
    }

    /// `name (a, b, c)`, for an INSERT.
    pub fn insert_target(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        format!("{} ({})", self.name, names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keys_sort_in_byte_order_on_postgres() {
        let t = TABLES
            .iter()
            .find(|t| t.name == "idempotency_keys")
            .expect("table");
        assert!(t
            .select(true)
            .ends_with("ORDER BY user_id, key COLLATE \"C\""));
        let s = TABLES
            .iter()
            .find(|t| t.name == "comment_search")
            .expect("table");
        assert_eq!(
            s.select(false),
            "SELECT rowid AS comment_id, terms FROM comment_search ORDER BY rowid"
        );
    }
}
