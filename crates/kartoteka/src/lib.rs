//! The `kartoteka` binary's pieces: configuration, start-up, and the command-line tools.

pub mod bench;
mod bench_duplicates;
mod bench_filter;
mod bench_import;
pub mod config;
pub mod demo;
pub mod duplicates_cli;
pub mod startup;
pub mod transfer;
