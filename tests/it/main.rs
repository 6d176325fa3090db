//! The integration tests, in one binary: the crate and its dependencies
//! are linked once for all of them. (`tests/alloc.rs` stays apart: it
//! installs a counting global allocator.)

mod common;

mod bans;
mod compat;
mod daemon;
mod docs;
mod explain;
mod failures;
mod function_length;
mod golden;
mod layers;
mod library;
mod mail;
mod robustness;
mod ui;
