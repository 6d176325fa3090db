//! The integration tests, in one binary: the crate and its dependencies
//! are linked once for all of them. (`tests/alloc.rs` stays apart: it
//! installs a counting global allocator.)

mod common;

mod bans;
mod cli;
mod compat;
mod daemon;
mod docs;
mod explain;
mod failures;
mod function_length;
mod golden;
mod layers;
mod legacy_settings;
mod library;
mod links;
mod logfiles;
mod mail;
mod readme_setup;
mod robustness;
mod startup;
mod status;
mod ui;
