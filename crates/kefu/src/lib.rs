//! The `kefu` binary's library half: command-line definitions, configuration, opening the store,
//! the command bodies, the work-order reports, the demo province generator and the benchmarks — kept in a library so
//! integration tests and benchmarks can call them.

pub mod bench;
pub mod calendar;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod demo;
pub mod export;
pub mod import;
pub mod orders;
pub mod search;
pub mod sla;
