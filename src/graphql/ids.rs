//! Global ids as the API spells them: encoding, and decoding ids given in input.

use async_graphql::ID;

use crate::domain::ids::{GlobalId, IdError, NodeKind};
use crate::error::{AppError, AppResult};

/// The opaque id of a row of `kind`.
pub fn id(kind: NodeKind, id: i64) -> ID {
    ID(GlobalId::new(kind, id).to_string())
}

/// Decode an id given in input `field`, which must name a `kind`.
pub fn decode_id(field: &str, id: &ID, kind: NodeKind) -> AppResult<i64> {
    GlobalId::parse_kind(id.as_str(), kind).map_err(|e| match e {
        IdError::Malformed => {
            AppError::validation(field, format!("'{}' is not a valid id", id.as_str()))
        }
        e @ IdError::WrongKind { .. } => AppError::validation(field, e),
    })
}

/// Decode a list of ids of one kind; errors name the field and the index.
pub fn decode_ids(field: &str, list: &[ID], kind: NodeKind) -> AppResult<Vec<i64>> {
    list.iter()
        .enumerate()
        .map(|(i, id)| decode_id(&format!("{field}[{i}]"), id, kind))
        .collect()
}
