//! What one GraphQL document may ask for, checked on the parsed document before
//! async-graphql validates it (validation walks every fragment spread, so a
//! document of a few hundred bytes could otherwise cost minutes of CPU): its size
//! once fragments are inlined (sizes memoised per fragment, so the check itself
//! is linear), the number of fragments, aliases and root fields, `__schema` at
//! most once, and no NUL character in any text (PostgreSQL cannot store it).

use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::parser::Positioned;
use async_graphql::Name;
use async_graphql_value::{ConstValue, Value};

/// The limits of one document (from `LimitArgs`).
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    pub max_fragments: usize,
    pub max_expanded_fields: u64,
    pub max_aliases: u64,
    pub max_root_fields: u64,
}

impl From<&crate::config::LimitArgs> for DocumentLimits {
    fn from(l: &crate::config::LimitArgs) -> Self {
        Self {
            max_fragments: l.max_fragments,
            max_expanded_fields: l.max_expanded_fields,
            max_aliases: l.max_aliases,
            max_root_fields: l.max_root_fields,
        }
    }
}

/// Why a document is refused: the message, and the input it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub message: String,
}

fn refuse(field: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// What a selection set costs once its fragments are inlined.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    /// Fields at every depth.
    fields: u64,
    /// Fields given an alias.
    aliases: u64,
    /// `__schema` fields.
    schemas: u64,
    /// `__schema` and `__type` fields.
    introspection: u64,
    /// Fields directly in this set (through fragments at this level too).
    top: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.schemas = self.schemas.saturating_add(other.schemas);
        self.introspection = self.introspection.saturating_add(other.introspection);
        self.top = self.top.saturating_add(other.top);
    }
}

struct Measure<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// `None` while a fragment is being measured: a cycle counts nothing here
    /// (validation refuses it).
    memo: HashMap<&'a str, Option<Counts>>,
}

impl<'a> Measure<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> Counts {
        let mut c = Counts::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let child = self.set(&f.selection_set.node);
                    c.fields = c.fields.saturating_add(1).saturating_add(child.fields);
                    c.aliases = c
                        .aliases
                        .saturating_add(u64::from(f.alias.is_some()))
                        .saturating_add(child.aliases);
                    let name = f.name.node.as_str();
                    c.schemas = c
                        .schemas
                        .saturating_add(u64::from(name == "__schema"))
                        .saturating_add(child.schemas);
                    c.introspection = c
                        .introspection
                        .saturating_add(u64::from(name == "__schema" || name == "__type"))
                        .saturating_add(child.introspection);
                    c.top = c.top.saturating_add(1);
                }
                Selection::InlineFragment(i) => {
                    let inner = self.set(&i.node.selection_set.node);
                    c.add(inner);
                }
                Selection::FragmentSpread(s) => {
                    let inner = self.fragment(s.node.fragment_name.node.as_str());
                    c.add(inner);
                }
            }
        }
        c
    }

    fn fragment(&mut self, name: &'a str) -> Counts {
        if let Some(known) = self.memo.get(name) {
            return known.unwrap_or_default();
        }
        let Some((key, def)) = self.fragments.get_key_value(name) else {
            return Counts::default();
        };
        self.memo.insert(key.as_str(), None);
        let c = self.set(&def.node.selection_set.node);
        self.memo.insert(key.as_str(), Some(c));
        c
    }
}

/// What a checked document asks for.
#[derive(Debug, Clone, Copy)]
pub struct Checked {
    /// It introspects the schema (`__schema` or `__type`).
    pub introspects: bool,
}

/// Check `doc` against `limits`.
pub fn check(doc: &ExecutableDocument, limits: &DocumentLimits) -> Result<Checked, Refusal> {
    if doc.fragments.len() > limits.max_fragments {
        return Err(refuse(
            "query",
            format!(
                "the query defines {} fragments; at most {} are allowed",
                doc.fragments.len(),
                limits.max_fragments
            ),
        ));
    }
    let mut m = Measure {
        fragments: &doc.fragments,
        memo: HashMap::new(),
    };
    let mut sets: Vec<(bool, Counts)> = Vec::new();
    let mut introspects = false;
    for (_, op) in doc.operations.iter() {
        sets.push((true, m.set(&op.node.selection_set.node)));
    }
    for name in doc.fragments.keys() {
        sets.push((false, m.fragment(name.as_str())));
    }
    for (is_operation, c) in sets {
        introspects |= c.introspection > 0;
        if c.fields > limits.max_expanded_fields {
            return Err(refuse(
                "query",
                format!(
                    "the query is too large once its fragments are expanded: {} fields, \
                     at most {} are allowed",
                    display(c.fields),
                    limits.max_expanded_fields
                ),
            ));
        }
        if c.aliases > limits.max_aliases {
            return Err(refuse(
                "query",
                format!(
                    "the query uses {} aliases once its fragments are expanded; at most {} are allowed",
                    display(c.aliases),
                    limits.max_aliases
                ),
            ));
        }
        if c.schemas > 1 {
            return Err(refuse(
                "query",
                "ask for `__schema` at most once per document",
            ));
        }
        if is_operation && c.top > limits.max_root_fields {
            return Err(refuse(
                "query",
                format!(
                    "the operation asks for {} root fields; at most {} are allowed",
                    display(c.top),
                    limits.max_root_fields
                ),
            ));
        }
    }
    no_nul_in_document(doc)?;
    Ok(Checked { introspects })
}

fn display(n: u64) -> String {
    if n == u64::MAX {
        "more than 18 quintillion".into()
    } else {
        n.to_string()
    }
}

const NUL_MESSAGE: &str = "text may not contain the NUL character (U+0000)";

fn no_nul_in_document(doc: &ExecutableDocument) -> Result<(), Refusal> {
    let mut ok = true;
    for (_, op) in doc.operations.iter() {
        let op = &op.node;
        for v in &op.variable_definitions {
            if let Some(d) = &v.node.default_value {
                ok &= !const_has_nul(&d.node);
            }
        }
        ok &= directives_ok(&op.directives) && set_ok(&op.selection_set.node);
    }
    for def in doc.fragments.values() {
        ok &= directives_ok(&def.node.directives) && set_ok(&def.node.selection_set.node);
    }
    if ok {
        Ok(())
    } else {
        Err(refuse("query", NUL_MESSAGE))
    }
}

fn directives_ok(list: &[Positioned<Directive>]) -> bool {
    list.iter().all(|d| {
        d.node
            .arguments
            .iter()
            .all(|(_, v)| !value_has_nul(&v.node))
    })
}

fn set_ok(set: &SelectionSet) -> bool {
    set.items.iter().all(|item| match &item.node {
        Selection::Field(f) => {
            f.node
                .arguments
                .iter()
                .all(|(_, v)| !value_has_nul(&v.node))
                && directives_ok(&f.node.directives)
                && set_ok(&f.node.selection_set.node)
        }
        Selection::InlineFragment(i) => {
            directives_ok(&i.node.directives) && set_ok(&i.node.selection_set.node)
        }
        Selection::FragmentSpread(s) => directives_ok(&s.node.directives),
    })
}

fn value_has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::List(l) => l.iter().any(value_has_nul),
        Value::Object(o) => o.values().any(value_has_nul),
        _ => false,
    }
}

fn const_has_nul(v: &ConstValue) -> bool {
    use ConstValue as C;
    match v {
        C::String(s) => s.contains('\0'),
        C::List(l) => l.iter().any(const_has_nul),
        C::Object(o) => o.values().any(const_has_nul),
        _ => false,
    }
}

/// The variables may not carry a NUL character in any string or key. The
/// refusal names the innermost input field that holds it (as the services'
/// own validation does: `markdown`, `email`, ...).
pub fn check_variables(vars: &serde_json::Map<String, serde_json::Value>) -> Result<(), Refusal> {
    use serde_json::Value as J;
    fn find<'a>(key: &'a str, v: &'a J) -> Option<&'a str> {
        if key.contains('\0') {
            return Some(key);
        }
        match v {
            J::String(s) if s.contains('\0') => Some(key),
            J::Array(a) => a.iter().find_map(|i| find(key, i)),
            J::Object(o) => o.iter().find_map(|(k, v)| find(k, v)),
            _ => None,
        }
    }
    match vars.iter().find_map(|(k, v)| find(k, v)) {
        Some(field) => Err(refuse(&field.replace('\0', ""), NUL_MESSAGE)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_fragments: 100,
        max_expanded_fields: 5_000,
        max_aliases: 100,
        max_root_fields: 50,
    };

    fn doc(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).expect("parses")
    }

    /// K fragments, each spreading the previous one twice: 2^K fields once inlined.
    fn doubling(k: usize) -> String {
        let mut q = String::from("query { ...F0 }\nfragment F0 on Query { __typename }\n");
        for i in 1..k {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{p} ...F{p} }}\n",
                p = i - 1
            ));
        }
        q = q.replacen("...F0 }", &format!("...F{} }}", k - 1), 1);
        q
    }

    #[test]
    fn a_fragment_chain_is_measured_without_expanding_it() {
        let started = std::time::Instant::now();
        let err = check(&doc(&doubling(60)), &LIMITS).expect_err("refused");
        assert!(err
            .message
            .contains("too large once its fragments are expanded"));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        check(&doc(&doubling(5)), &LIMITS).expect("16 fields are fine");
    }

    #[test]
    fn aliases_root_fields_and_schema_are_counted() {
        let aliases: String = (0..101).map(|i| format!("a{i}: __typename ")).collect();
        let err = check(&doc(&format!("{{ viewer {{ {aliases} }} }}")), &LIMITS).expect_err("a");
        assert!(err.message.contains("101 aliases"), "{err:?}");
        let roots: String = (0..51).map(|_| "__typename ".to_string()).collect();
        let err = check(&doc(&format!("{{ {roots} }}")), &LIMITS).expect_err("roots");
        assert!(err.message.contains("51 root fields"), "{err:?}");
        let err = check(
            &doc("{ __schema { queryType { name } } ...S } fragment S on Query { __schema { description } }"),
            &LIMITS,
        )
        .expect_err("schema twice");
        assert!(err.message.contains("__schema"));
        check(&doc("{ __schema { queryType { name } } }"), &LIMITS).expect("once is fine");
    }

    #[test]
    fn too_many_fragments() {
        let mut q = String::from("{ __typename }");
        for i in 0..101 {
            q.push_str(&format!(" fragment F{i} on Query {{ __typename }}"));
        }
        assert!(check(&doc(&q), &LIMITS)
            .expect_err("refused")
            .message
            .contains("101 fragments"));
    }

    #[test]
    fn cycles_do_not_loop() {
        let q = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }";
        check(&doc(q), &LIMITS).expect("validation refuses the cycle later");
    }

    #[test]
    fn nul_is_refused_anywhere() {
        let err = check(
            &doc("{ organization(shortName: \"a\\u0000b\") { id } }"),
            &LIMITS,
        )
        .expect_err("nul");
        assert_eq!(err.message, NUL_MESSAGE);
        let vars = serde_json::json!({ "e": { "list": ["ok", "x\u{0}"] } });
        let serde_json::Value::Object(vars) = vars else {
            unreachable!()
        };
        assert!(check_variables(&vars).is_err());
    }
}
