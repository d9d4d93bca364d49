//! The code's layout rules, checked on the source tree (see the module
//! documentation of `src/graphql/mod.rs`): the GraphQL layer reaches storage
//! only through its DataLoaders, its layers import downwards only, live updates
//! depend on the domain and storage (not the use cases), the domain is plain
//! Rust, and no source file grows past [`MAX_LINES`].

use std::path::{Path, PathBuf};

/// The most lines a source file may have.
const MAX_LINES: usize = 600;

/// Where [`MAX_LINES`] holds, relative to the crate root: everywhere.
const LINE_LIMITED: &[&str] = &["src"];

/// The GraphQL files that may import `crate::db`: the per-request DataLoaders.
const STORAGE_ALLOWED: &[&str] = &["src/graphql/loaders.rs"];

/// The infrastructure of the GraphQL layer: what the object types may use.
const GRAPHQL_INFRA: &[&str] = &[
    "budget",
    "connection",
    "context",
    "errors",
    "ids",
    "limits",
    "loaders",
    "order",
    "request",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file below `dir` (relative to the crate root), sorted.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), &mut out);
    out.sort();
    assert!(!out.is_empty(), "no Rust files under {dir}");
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .expect("under the crate root")
        .to_string_lossy()
        .replace('\\', "/")
}

/// The lines of code of a file (comments left out), with their numbers.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

/// `file:line: text` for every code line of `files` that `bad` flags.
fn offending(files: &[PathBuf], bad: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for path in files {
        let file = relative(path);
        for (n, line) in code_lines(path) {
            if bad(&file, &line) {
                found.push(format!("{file}:{n}: {}", line.trim()));
            }
        }
    }
    found
}

#[test]
fn graphql_reaches_storage_only_through_its_loaders() {
    let files = rust_files("src/graphql");
    let found = offending(&files, |file, line| {
        !STORAGE_ALLOWED.contains(&file)
            && (line.contains("crate::db")
                || line.contains("state.db")
                || line.contains(".db.read(")
                || line.contains(".db.begin("))
    });
    assert!(
        found.is_empty(),
        "the GraphQL layer reads through the services (service::queries, \
         service::records for the row types), not storage:\n{}",
        found.join("\n")
    );
}

/// The modules named right after each `prefix` in a file's code (`prefix::a`
/// or `prefix::{a, b::c}`, the group possibly over several lines), with their
/// line numbers.
fn modules_after(path: &Path, prefix: &str) -> Vec<(usize, String)> {
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '*')
            .collect()
    };
    let lines = code_lines(path);
    let mut found = Vec::new();
    for (k, (n, line)) in lines.iter().enumerate() {
        for (i, _) in line.match_indices(prefix) {
            let rest = &line[i + prefix.len()..];
            let Some(group) = rest.strip_prefix('{') else {
                found.push((*n, ident(rest)));
                continue;
            };
            let mut text = group.to_owned();
            for (_, more) in &lines[k + 1..] {
                if text.contains('}') {
                    break;
                }
                text.push_str(more);
            }
            let group = text.split('}').next().unwrap_or_default();
            found.extend(
                group
                    .split(',')
                    .map(|item| (*n, ident(item)))
                    .filter(|(_, m)| !m.is_empty()),
            );
        }
    }
    found
}

/// `file:line: name` for every module a file names after `prefix` that `allowed` refuses.
fn imports_outside(files: &[PathBuf], prefix: &str, allowed: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for path in files {
        for (n, name) in modules_after(path, prefix) {
            if !allowed(&name) {
                found.push(format!("{}:{n}: {prefix}{name}", relative(path)));
            }
        }
    }
    found
}

#[test]
fn graphql_types_use_only_the_infrastructure() {
    let files = rust_files("src/graphql/types");
    let mut found = imports_outside(&files, "crate::graphql::", |m| GRAPHQL_INFRA.contains(&m));
    found.extend(imports_outside(&files, "super::", |m| m != "super"));
    assert!(
        found.is_empty(),
        "object types may use the GraphQL infrastructure ({}) and each other, not the root files:\n{}",
        GRAPHQL_INFRA.join(", "),
        found.join("\n")
    );
}

#[test]
fn graphql_infrastructure_knows_no_types_or_roots() {
    let files: Vec<PathBuf> = GRAPHQL_INFRA
        .iter()
        .map(|m| root().join(format!("src/graphql/{m}.rs")))
        .collect();
    let allowed = |m: &str| GRAPHQL_INFRA.contains(&m) || m == "*";
    let mut found = imports_outside(&files, "super::", allowed);
    found.extend(imports_outside(&files, "crate::graphql::", allowed));
    assert!(
        found.is_empty(),
        "the GraphQL infrastructure imports only itself:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_source_file_is_over_the_line_limit() {
    let mut long = Vec::new();
    for dir in LINE_LIMITED {
        for path in rust_files(dir) {
            let n = std::fs::read_to_string(&path)
                .expect("readable")
                .lines()
                .count();
            if n > MAX_LINES {
                long.push(format!("{}: {n} lines", relative(&path)));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them by type or area):\n{}",
        long.join("\n")
    );
}

#[test]
fn live_updates_do_not_depend_on_the_use_cases() {
    let found = offending(&rust_files("src/live"), |_, line| {
        line.contains("crate::service")
            || line.contains("crate::graphql")
            || line.contains("crate::state")
    });
    assert!(
        found.is_empty(),
        "src/live applies the rules of domain::visibility to rows from db, and \
         knows nothing of the state that holds its hub:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_domain_is_plain_rust() {
    let found = offending(&rust_files("src/domain"), |_, line| {
        [
            "sqlx",
            "axum",
            "async_graphql",
            "crate::db",
            "crate::service",
            "crate::graphql",
            "crate::http",
        ]
        .iter()
        .any(|dep| line.contains(&format!("{dep}::")) || line.contains(&format!("use {dep}")))
    });
    assert!(
        found.is_empty(),
        "domain/ holds plain rules and values (no storage, no API):\n{}",
        found.join("\n")
    );
}

/// Where text is parsed into values: the client's input (cursors, the audit
/// filter's action) and uploaded files. Stored values are decoded once, by
/// `db/types.rs`, never parsed again above storage.
const PARSES_INPUT: &[&str] = &[
    "src/db/types.rs",
    "src/graphql/audit.rs",
    "src/graphql/connection.rs",
    "src/service/workbook.rs",
];

#[test]
fn stored_values_are_decoded_once_at_the_database_edge() {
    let mut files = Vec::new();
    for dir in ["src/db", "src/service", "src/graphql", "src/live"] {
        files.extend(rust_files(dir));
    }
    let found = offending(&files, |file, line| {
        !PARSES_INPUT.contains(&file) && (line.contains(".parse") || line.contains("parse::<"))
    });
    assert!(
        found.is_empty(),
        "a stored value parsed again (give the row field its domain type, see db/types.rs):\n{}",
        found.join("\n")
    );
}
