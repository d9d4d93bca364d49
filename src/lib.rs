//! kitreview: a collaborative comment-and-review service for ITU-D Study Group 2
//! Question 17 toolkit modules. One GraphQL server over SQLite or PostgreSQL.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod deadline;
pub mod demo;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod live;
pub mod service;
pub mod state;
