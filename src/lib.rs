//! Pyruse: a rule engine for the systemd journal.
//!
//! ```text
//! .pyr ─┐
//!       ├─load─▶ ast ─check─▶ graph ─compile─▶ Program ─run(entry)─▶ effects
//! .json ┘
//! ```
//!
//! - [`syntax`]: `.pyr` and legacy `pyruse.json` to one AST, and back to `.pyr`.
//! - [`check`]: builtins and arguments, chain linking, lints.
//! - [`compile`]: the linked graph to bytecode.
//! - [`vm`]: values, the bytecode, the interpreter, the disassembler.
//! - [`builtins`]: one file per filter or action.
//! - [`python`]: Python compatibility for legacy rules: `str.format_map`
//!   templates, `re` patterns, values as Python writes them.
//! - [`effects`]: what the rules decide, and the effect trace.
//! - [`journal`]: entry sources.
//! - [`state`]: counters and DNAT mappings.
#![forbid(unsafe_code)]

pub mod builtins;
pub mod check;
pub mod compile;
pub mod config;
pub mod daemon;
pub mod diag;
pub mod effects;
pub mod examples;
pub mod journal;
pub mod python;
pub mod replay;
pub mod report;
pub mod source;
pub mod state;
pub mod syntax;
pub mod vm;

/// Former path of [`python::format`], still named by `vm::value`.
pub(crate) use python::format as template;
