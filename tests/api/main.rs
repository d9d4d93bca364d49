//! Integration tests: the real server over HTTP, on SQLite and (with
//! `TEST_POSTGRES_URL`) PostgreSQL.

mod common;

mod accounts;
mod audit;
mod auth;
mod backup;
mod cli;
mod conditional;
mod connections;
mod consolidation;
mod copy;
mod cors;
mod faults;
mod files;
mod graphiql;
mod layout;
mod limits;
mod live;
mod metrics;
mod modules;
mod passwords;
mod protocol;
mod readme;
mod retries;
mod review;
mod schema;
mod search;
mod uploads;
mod web_session;
