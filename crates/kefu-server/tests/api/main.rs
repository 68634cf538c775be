//! The HTTP API's integration tests: one binary, one file per resource, every test run on
//! SQLite and on PostgreSQL (the `both_stores!` macro makes `sqlite::x` and `postgres::x`).
#![allow(clippy::unwrap_used)]

mod helpers;

mod auth;
mod calendar;
mod catalogue;
mod customers;
mod health;
mod imports;
mod knowledge;
mod list_sort;
mod openapi;
mod orgs;
mod preview;
mod search;
mod selfservice;
mod serve;
mod sla;
mod staff;
mod ui_session;
mod workorder_burst;
mod workorders;
