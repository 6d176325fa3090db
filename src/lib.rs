//! Pyruse: a rule engine for the systemd journal.
//!
//! ```text
//! .pyr ─┐
//!       ├─load─▶ ast ─check─▶ linked ─compile─▶ Program ─run(entry)─▶ effects ─host─▶ nft, mail…
//! .json ┘
//! ```
//!
//! - [`syntax`]: `.pyr` and legacy `pyruse.json` to one AST.
//! - [`print`]: an AST back to `.pyr` (`pyrusec migrate`).
//! - [`check`]: builtins and arguments, chain linking, lints.
//! - [`compile`]: the linked graph to bytecode ([`compile::build`] runs both).
//! - [`vm`]: the program, the interpreter, the traits it calls, the
//!   disassembler and the effect trace.
//! - [`builtins`]: one file per filter or action.
//! - [`python`]: Python compatibility for legacy rules: `str.format_map`
//!   templates, `re` patterns, values as Python writes them.
//! - [`effects`]: what the rules decide (data only).
//! - [`host`]: carrying effects out: nft, ipset, mail, the journal.
//! - [`journal`]: entry sources.
//! - [`state`]: counters, DNAT links, sessions, and the store that keeps them.
//! - [`cli`]: the command lines of `pyrusec` and `pyrused`, their shell
//!   completions and man pages.
//!
//! ## Layers
//!
//! A module uses only modules of the layers below its own; modules of one
//! layer do not use each other. `tests/it/layers.rs` reads this diagram and
//! fails when the code stops matching it.
//!
//! ```text
//! daemon cli              the pyrused loop; the command lines, completions, man pages
//! replay examples         rules over entry files; the `example` lines of rules
//! journal host            entry sources; nft, ipset, mail, journal log
//! compile                 check, then bytecode
//! check print             builtins and arguments, chain linking, lints; AST → .pyr
//! builtins                one file per filter or action
//! vm                      the program, the interpreter, the traits it calls
//! config effects state    settings; what rules decide; counters, DNAT links, the store
//! syntax                  .pyr and legacy JSON to one AST
//! diag python             diagnostics; Python's str.format_map, re and value semantics
//! source value report progress  files and spans; values and fields; the daily report; the progress line
//! ```
#![forbid(unsafe_code)]

pub mod builtins;
pub mod check;
pub mod cli;
pub mod compile;
pub mod config;
pub mod daemon;
pub mod diag;
pub mod effects;
pub mod examples;
pub mod host;
pub mod journal;
pub mod print;
pub mod progress;
pub mod python;
pub mod replay;
pub mod report;
pub mod source;
pub mod state;
pub mod syntax;
pub mod value;
pub mod vm;

#[cfg(test)]
mod testing;
