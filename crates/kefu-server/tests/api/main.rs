//! The HTTP API's integration tests: one binary, one file per resource, every test run on
//! SQLite and on PostgreSQL (the `both_stores!` macro makes `sqlite::x` and `postgres::x`).
#![allow(clippy::unwrap_used)]

mod helpers;

mod auth;
mod calendar;
mod catalogue;
mod customers;
mod health;
mod knowledge;
mod openapi;
mod orgs;
mod search;
mod serve;
mod sla;
mod staff;
mod workorder_burst;
mod workorders;
