//! The README's GraphQL examples, run in order against a demo server: every
//! ```graphql block must be preceded by an `<!-- example: ... -->` line that
//! says who runs it, and each of its named operations must succeed (or fail
//! with the code the annotation names).
//!
//! Annotation keys (separated by `;`):
//! - `as=EMAIL` — a demo user (the demo password), or `as=none`;
//! - `expect=Op:CODE` — that operation must fail with this code;
//! - `nonempty=Op:path.to.value` — that value must be a non-empty list or
//!   a non-null value (so an example that finds nothing on the demo fails);
//! - `set=var=Op:path.to.value` — later operations may use `$var`.
//!
//! Operations get the variables they declare, from the demo's ids (below)
//! and what earlier examples set.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::backend_tests;
use crate::common::{Backend, TestServer};

const DEMO_PASSWORD: &str = "kitreview-demo-2026";

struct Example {
    line: usize,
    annotation: String,
    text: String,
}

fn examples(readme: &str) -> Vec<Example> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "```graphql" {
            let annotation = i
                .checked_sub(1)
                .map(|p| lines[p].trim())
                .and_then(|l| l.strip_prefix("<!-- example:"))
                .and_then(|l| l.strip_suffix("-->"))
                .unwrap_or_else(|| {
                    panic!(
                        "README.md line {}: a ```graphql block without an <!-- example: ... --> line",
                        i + 1
                    )
                })
                .trim()
                .to_owned();
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim() != "```" {
                end += 1;
            }
            out.push(Example {
                line: i + 1,
                annotation,
                text: lines[start..end].join("\n"),
            });
            i = end;
        }
        i += 1;
    }
    out
}

/// The named operations of a document (each starts a line), in order, with
/// their declared variables.
fn operations(text: &str) -> Vec<(String, Vec<String>)> {
    text.lines()
        .map(str::trim_start)
        .filter_map(|l| {
            l.strip_prefix("query ")
                .or_else(|| l.strip_prefix("mutation "))
        })
        .map(|after| {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                !name.is_empty(),
                "every example operation has a name: {after:.60}"
            );
            let header = &after[name.len()..];
            let vars = match (header.trim_start().starts_with('('), header.find(')')) {
                (true, Some(close)) => header[..close]
                    .split('$')
                    .skip(1)
                    .map(|v| v.split(':').next().unwrap_or("").trim().to_owned())
                    .collect(),
                _ => Vec::new(),
            };
            (name, vars)
        })
        .collect()
}

fn at<'v>(v: &'v Value, path: &str) -> &'v Value {
    path.split('.')
        .fold(v, |v, key| match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[key],
        })
}

/// `Op:path` → (Op, path).
fn op_path(spec: &str) -> (&str, &str) {
    spec.split_once(':')
        .unwrap_or_else(|| panic!("`{spec}`: write Op:path"))
}

async fn demo_ids(s: &TestServer, token: &str) -> HashMap<String, Value> {
    let data = s
        .ok(
            Some(token),
            "{ question(code: \"17-2/2\") { kits { modules { id title revisionCount currentRevision { id }
               reviewCycles { id status } } } }
               organizations(first: 100) { nodes { id shortName } }
               users(first: 100) { nodes { id email } } }",
            json!({}),
        )
        .await;
    let modules: Vec<&Value> = data["question"]["kits"]
        .as_array()
        .expect("kits")
        .iter()
        .flat_map(|k| k["modules"].as_array().expect("modules").iter())
        .collect();
    let with_cycle = |status: &str| {
        modules
            .iter()
            .find(|m| {
                m["reviewCycles"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["status"] == status))
            })
            .copied()
            .unwrap_or_else(|| panic!("a demo module with a {status} cycle"))
    };
    let cycle_of = |m: &Value, status: &str| {
        m["reviewCycles"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["status"] == status))
            .map(|c| c["id"].clone())
            .unwrap_or(Value::Null)
    };
    let gov = with_cycle("OPEN");
    let env = with_cycle("CONSOLIDATED");
    // What the README's introduction says of the demo.
    assert_eq!(gov["revisionCount"], 2, "{gov}");
    assert_eq!(env["revisionCount"], 2, "{env}");
    let org = |short: &str| {
        data["organizations"]["nodes"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["shortName"] == short))
            .map(|o| o["id"].clone())
            .unwrap_or_else(|| panic!("demo organization {short}"))
    };
    let user = |email: &str| {
        data["users"]["nodes"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["email"] == email))
            .map(|u| u["id"].clone())
            .unwrap_or_else(|| panic!("demo user {email}"))
    };
    HashMap::from([
        ("module".into(), gov["id"].clone()),
        ("revision".into(), gov["currentRevision"]["id"].clone()),
        ("cycle".into(), cycle_of(gov, "OPEN")),
        ("envModule".into(), env["id"].clone()),
        ("envRevision".into(), env["currentRevision"]["id"].clone()),
        ("envCycle".into(), cycle_of(env, "CONSOLIDATED")),
        ("senegal".into(), org("Senegal")),
        ("expert".into(), user("expert.unep@itu.example")),
    ])
}

async fn the_readme_examples_run_on_the_demo(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    kitreview::demo::load(&s.state).await.expect("demo");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut tokens: HashMap<String, String> = HashMap::new();
    let secretariat = s.login("secretariat@itu.example", DEMO_PASSWORD).await;
    let mut vars = demo_ids(&s, &secretariat).await;
    let found = examples(&readme);
    assert!(found.len() >= 10, "the README's examples were found");
    let mut ran = 0;
    for ex in &found {
        let mut who = None;
        let mut expect: HashMap<&str, &str> = HashMap::new();
        let mut nonempty = Vec::new();
        let mut sets = Vec::new();
        for part in ex
            .annotation
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (key, value) = part
                .split_once('=')
                .unwrap_or_else(|| panic!("README.md line {}: `{part}`", ex.line));
            match key {
                "as" => who = Some(value),
                "expect" => {
                    let (op, code) = op_path(value);
                    expect.insert(op, code);
                }
                "nonempty" => nonempty.push(op_path(value)),
                "set" => {
                    let (var, spec) = value.split_once('=').expect("set=var=Op:path");
                    sets.push((var, op_path(spec)));
                }
                other => panic!("README.md line {}: unknown key `{other}`", ex.line),
            }
        }
        let who = who.unwrap_or_else(|| panic!("README.md line {}: say as=…", ex.line));
        let token = if who == "none" {
            None
        } else {
            if !tokens.contains_key(who) {
                tokens.insert(who.to_owned(), s.login(who, DEMO_PASSWORD).await);
            }
            tokens.get(who).cloned()
        };
        let ops = operations(&ex.text);
        assert!(
            !ops.is_empty(),
            "README.md line {}: no named operation",
            ex.line
        );
        for (name, declared) in ops {
            let mut given = Map::new();
            for v in &declared {
                let value = vars.get(v).unwrap_or_else(|| {
                    panic!(
                        "README.md line {}: {name} needs ${v}, which nothing sets",
                        ex.line
                    )
                });
                given.insert(v.clone(), value.clone());
            }
            let body = s
                .http
                .post(s.url("/graphql"))
                .json(&json!({ "query": ex.text, "operationName": name, "variables": given }));
            let body = match &token {
                Some(t) => body.bearer_auth(t),
                None => body,
            };
            let res: Value = body
                .send()
                .await
                .expect("request")
                .json()
                .await
                .expect("JSON");
            match expect.get(name.as_str()) {
                Some(code) => assert_eq!(
                    res["errors"][0]["extensions"]["code"], *code,
                    "README.md line {}: {name}: {res:#}",
                    ex.line
                ),
                None => assert!(
                    res.get("errors").is_none(),
                    "README.md line {}: {name} as {who}: {res:#}",
                    ex.line
                ),
            }
            for (op, path) in &nonempty {
                if *op == name {
                    let v = at(&res["data"], path);
                    let empty = v.is_null() || v.as_array().is_some_and(Vec::is_empty);
                    assert!(
                        !empty,
                        "README.md line {}: {name} finds nothing at {path}: {res:#}",
                        ex.line
                    );
                }
            }
            for (var, (op, path)) in &sets {
                if *op == name {
                    let v = at(&res["data"], path).clone();
                    assert!(
                        !v.is_null(),
                        "README.md line {}: {path} is null: {res:#}",
                        ex.line
                    );
                    vars.insert((*var).to_owned(), v);
                }
            }
            ran += 1;
        }
    }
    assert!(ran >= 20, "ran {ran} operations");
}

backend_tests!(the_readme_examples_run_on_the_demo);
