//! The GraphQL API: one schema merged from per-area query and mutation roots.
//!
//! Layout, in layers that import only downwards:
//! - the root files, one per area (`accounts`, `questions`, `modules`,
//!   `review`, `consolidation`, `notifications`, `search`, `audit`, `session`,
//!   `node`, `live`): the query, mutation and subscription roots of the area
//!   with their inputs and payloads;
//! - [`types`]: the object types, one file per type with all its fields;
//! - the infrastructure: [`connection`] (the one way to page a list),
//!   [`ids`], [`context`], [`loaders`], [`errors`], and the request pipeline
//!   ([`request`], [`limits`], [`budget`], [`order`]).
//!
//! Reads go through the services (`service::queries`, `service::search`, and
//! the use cases for mutations), with the rows they return named through
//! `service::records`. No file here but [`loaders`] imports `crate::db`: the
//! DataLoaders are the one documented exception, batching the lookups by id
//! that every type's fields make. `tests/api/layout.rs` checks this.

pub mod accounts;
pub mod audit;
pub mod budget;
pub mod connection;
pub mod consolidation;
pub mod context;
pub mod errors;
pub mod ids;
pub mod limits;
pub mod live;
pub mod loaders;
pub mod modules;
pub mod node;
pub mod notifications;
pub mod order;
pub mod questions;
pub mod request;
pub mod review;
pub mod search;
pub mod session;
pub mod types;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use crate::config::LimitArgs;

/// All queries.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    session::SessionQuery,
    accounts::AccountsQuery,
    questions::QuestionsQuery,
    search::SearchQuery,
    audit::AuditQuery,
);

/// All mutations.
#[derive(MergedObject, Default)]
pub struct Mutation(
    session::SessionMutation,
    accounts::AccountsMutation,
    questions::QuestionsMutation,
    modules::ModulesMutation,
    review::ReviewMutation,
    consolidation::ConsolidationMutation,
    notifications::NotificationsMutation,
);

/// An optional input field: undefined leaves a value alone, null clears it, a value sets it.
pub(crate) fn maybe<T>(m: async_graphql::MaybeUndefined<T>) -> Option<Option<T>> {
    match m {
        async_graphql::MaybeUndefined::Undefined => None,
        async_graphql::MaybeUndefined::Null => Some(None),
        async_graphql::MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// The schema type.
pub type KitSchema = Schema<Query, Mutation, live::Subscription>;

fn builder(limits: &LimitArgs) -> SchemaBuilder<Query, Mutation, live::Subscription> {
    let b = Schema::build(Query::default(), Mutation::default(), live::Subscription)
        .limit_depth(limits.max_query_depth)
        .limit_complexity(limits.max_query_complexity)
        .limit_recursive_depth(64)
        .limit_directives(16)
        .extension(budget::ResponseBudget {
            max_bytes: limits.max_response_bytes,
        });
    if limits.introspection {
        b
    } else {
        b.disable_introspection()
    }
}

/// Build the schema with the configured limits. Request data (state, viewer,
/// loaders) is attached per request.
pub fn build(limits: &LimitArgs) -> KitSchema {
    builder(limits).finish()
}

/// The SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build(&LimitArgs::default()).sdl()
}
