//! One GraphQL operation, from either transport (HTTP or WebSocket): the query
//! text and the parsed document checked against the limits before
//! async-graphql validates anything, the request built with the viewer's data,
//! and the response finished the same way (selection order, error codes).

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::Variables;
use serde_json::{Map, Value};

use super::context::RequestData;
use super::loaders::Loaders;
use super::{errors, limits, order};
use crate::auth::Viewer;
use crate::state::AppState;

/// Why an operation is refused before it runs.
#[derive(Debug)]
pub enum Refused {
    /// The query text is over `--max-query-bytes` (not even parsed).
    TooLong { limit: usize },
    /// The document does not parse.
    Parse(String),
    /// The document or its variables are over a limit.
    Limit(limits::Refusal),
    /// An anonymous request introspects the schema (off unless configured).
    Introspection,
}

impl Refused {
    /// The error code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::TooLong { .. } => "PAYLOAD_TOO_LARGE",
            Refused::Parse(_) => "GRAPHQL_PARSE_FAILED",
            Refused::Limit(_) => "VALIDATION",
            Refused::Introspection => "UNAUTHENTICATED",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refused::TooLong { limit } => {
                format!("the query is over the limit of {limit} bytes")
            }
            Refused::Parse(m) => m.clone(),
            Refused::Limit(r) => r.message.clone(),
            Refused::Introspection => {
                "sign in to introspect the schema (`__schema`, `__type`)".into()
            }
        }
    }

    /// The error as a GraphQL error object.
    pub fn to_json(&self) -> Value {
        let mut ext = Map::new();
        ext.insert("code".into(), self.code().into());
        if let Refused::Limit(r) = self {
            ext.insert("field".into(), r.field.clone().into());
        }
        serde_json::json!({ "message": self.message(), "extensions": ext })
    }
}

/// What the response of an operation is finished with.
#[derive(Clone)]
pub struct Shape {
    doc: Arc<ExecutableDocument>,
    operation_name: Option<String>,
}

impl Shape {
    /// Error codes set, and data in the order the document asks for it.
    pub fn finish(&self, response: &mut async_graphql::Response) {
        for e in &mut response.errors {
            errors::classify(e);
        }
        order::reorder(
            &self.doc,
            self.operation_name.as_deref(),
            &mut response.data,
        );
    }
}

/// An operation ready to execute.
pub struct Prepared {
    pub request: async_graphql::Request,
    pub shape: Shape,
    /// Its type; `None` when the document has several and none was named.
    pub ty: Option<OperationType>,
}

impl Prepared {
    /// The operation's name: the one asked for, or the document's only
    /// operation's; `None` for an anonymous one.
    pub fn name(&self) -> Option<&str> {
        if let Some(name) = self.shape.operation_name.as_deref() {
            return Some(name);
        }
        match &self.shape.doc.operations {
            DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                ops.keys().next().map(|n| n.as_str())
            }
            _ => None,
        }
    }
}

fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Check and build one operation for `viewer`.
pub fn prepare(
    state: &AppState,
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    viewer: Viewer,
    client_addr: Option<IpAddr>,
) -> Result<Prepared, Refused> {
    let l = &state.limits;
    if query.len() > l.max_query_bytes {
        return Err(Refused::TooLong {
            limit: l.max_query_bytes,
        });
    }
    let doc =
        async_graphql::parser::parse_query(&query).map_err(|e| Refused::Parse(e.to_string()))?;
    let checked = limits::check(&doc, &limits::DocumentLimits::from(l)).map_err(Refused::Limit)?;
    let anonymous = matches!(viewer, Viewer::Anonymous);
    if anonymous && checked.introspects && !l.anonymous_introspection {
        return Err(Refused::Introspection);
    }
    if let Some(vars) = &variables {
        limits::check_variables(vars).map_err(Refused::Limit)?;
    }
    let ty = operation_type(&doc, operation_name.as_deref());
    let doc = Arc::new(doc);
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = &operation_name {
        request = request.operation_name(name.clone());
    }
    if let Some(vars) = variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    request.set_parsed_query(ExecutableDocument::clone(&doc));
    if anonymous && !l.anonymous_introspection {
        request = request.disable_introspection();
    }
    let viewer_org = match &viewer {
        Viewer::User(u) => u.organization_id,
        Viewer::Anonymous => 0,
    };
    let request = request.data(state.clone()).data(RequestData {
        loaders: Arc::new(Loaders::new(state, viewer_org)),
        viewer,
        client_addr,
    });
    Ok(Prepared {
        request,
        shape: Shape {
            doc,
            operation_name,
        },
        ty,
    })
}
