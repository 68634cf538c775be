//! Integration tests of the `kefu` binary: each runs the built executable, on SQLite (a temp
//! data directory) and on PostgreSQL (a fresh schema at 127.0.0.1:5432, database `test`, or
//! `KEFU_TEST_DATABASE_URL`).

mod bench_import;
mod bench_sweep;
mod calendar;
mod commands;
mod demo;
mod export;
mod import;
mod import_edges;
mod import_support;
mod orders;
mod serve;
mod support;
