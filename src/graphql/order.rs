//! Responses in the order of the selection set (GraphQL spec, "Serialized Map
//! Ordering"): async-graphql resolves an object's fields concurrently and
//! collects them in the order they finish, so the same request could give a
//! different byte string each time. This puts every object's keys back in the
//! order the document asks for them, fragments inlined where they are spread.
//!
//! The plan for a field is built once per field of the document (lazily, and
//! shared by every item of a list), so the pass costs about one step per value
//! of the response.

use std::cell::OnceCell;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::Value as ConstValue;

/// The response keys of one object, in order, each with the selection sets
/// that ask for its sub-fields.
struct Plan<'a> {
    keys: IndexMap<&'a str, Child<'a>>,
}

struct Child<'a> {
    sets: Vec<&'a SelectionSet>,
    plan: OnceCell<Plan<'a>>,
}

impl<'a> Plan<'a> {
    fn new(doc: &'a ExecutableDocument, sets: &[&'a SelectionSet]) -> Self {
        let mut keys = IndexMap::new();
        let mut visiting = Vec::new();
        for set in sets {
            collect(doc, set, &mut keys, &mut visiting);
        }
        Plan { keys }
    }

    fn apply(&self, doc: &'a ExecutableDocument, value: &mut ConstValue) {
        match value {
            ConstValue::Object(map) => {
                map.sort_by_cached_key(|k, _| {
                    self.keys.get_index_of(k.as_str()).unwrap_or(usize::MAX)
                });
                for (k, v) in map.iter_mut() {
                    let Some(child) = self.keys.get(k.as_str()) else {
                        continue;
                    };
                    if child.sets.iter().all(|s| s.items.is_empty()) {
                        continue;
                    }
                    child
                        .plan
                        .get_or_init(|| Plan::new(doc, &child.sets))
                        .apply(doc, v);
                }
            }
            ConstValue::List(items) => {
                for item in items {
                    self.apply(doc, item);
                }
            }
            _ => {}
        }
    }
}

fn collect<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    keys: &mut IndexMap<&'a str, Child<'a>>,
    visiting: &mut Vec<&'a str>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                let key = f.node.response_key().node.as_str();
                keys.entry(key)
                    .or_insert_with(|| Child {
                        sets: Vec::new(),
                        plan: OnceCell::new(),
                    })
                    .sets
                    .push(&f.node.selection_set.node);
            }
            Selection::InlineFragment(i) => {
                collect(doc, &i.node.selection_set.node, keys, visiting)
            }
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if visiting.contains(&name) {
                    continue;
                }
                if let Some((key, def)) = doc.fragments.get_key_value(name) {
                    visiting.push(key.as_str());
                    collect(doc, &def.node.selection_set.node, keys, visiting);
                    visiting.pop();
                }
            }
        }
    }
}

fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Put `data` (the response of `operation_name` in `doc`) in selection order.
pub fn reorder(doc: &ExecutableDocument, operation_name: Option<&str>, data: &mut ConstValue) {
    if let Some(op) = operation(doc, operation_name) {
        Plan::new(doc, &[&op.selection_set.node]).apply(doc, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &ConstValue) -> Vec<String> {
        match v {
            ConstValue::Object(m) => m.keys().map(|k| k.to_string()).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn objects_follow_the_document_fragments_included() {
        let doc = async_graphql::parser::parse_query(
            "{ modules { status ...M title } } fragment M on Module { revisionCount ... on Module { id } }",
        )
        .expect("parses");
        let mut data = ConstValue::from_json(serde_json::json!({
            "modules": [
                { "title": "t", "id": "1", "revisionCount": 2, "status": "DRAFTING" },
                { "revisionCount": 1, "title": "u", "status": "IN_REVIEW", "id": "2" }
            ]
        }))
        .expect("json");
        reorder(&doc, None, &mut data);
        let ConstValue::Object(root) = &data else {
            panic!("object")
        };
        let ConstValue::List(list) = &root["modules"] else {
            panic!("list")
        };
        for m in list {
            assert_eq!(keys(m), ["status", "revisionCount", "id", "title"]);
        }
    }

    #[test]
    fn aliases_and_merged_fields() {
        let doc = async_graphql::parser::parse_query(
            "query Q { b: viewer { name } a: viewer { id } b: viewer { id } }",
        )
        .expect("parses");
        let mut data = ConstValue::from_json(serde_json::json!({
            "a": { "id": "1" }, "b": { "id": "1", "name": "n" }
        }))
        .expect("json");
        reorder(&doc, Some("Q"), &mut data);
        assert_eq!(keys(&data), ["b", "a"]);
        let ConstValue::Object(root) = &data else {
            panic!("object")
        };
        assert_eq!(keys(&root["b"]), ["name", "id"]);
    }
}
