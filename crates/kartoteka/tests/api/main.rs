//! Integration tests: the real server over HTTP on a random port, a fresh database each.
//! SQLite by default; PostgreSQL when KARTOTEKA_TEST_POSTGRES_URL is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod browser;
mod cases;
mod cli;
mod cli_duplicates;
mod demo;
mod door;
mod duplicates;
mod duplicates_props;
mod duplicates_search;
mod duplicates_trigrams;
mod exports;
mod fields;
mod groups;
mod helpers;
mod identify;
mod imports;
mod imports_job;
mod imports_matching;
mod imports_revert;
mod jobs;
mod records;
mod search;
mod session;
mod ui;
mod ui_admin;
mod ui_admin_groups;
mod ui_admin_users;
mod ui_duplicates;
mod ui_duplicates_browser;
mod ui_filter;
mod ui_imports;
mod users;
mod webdriver;
