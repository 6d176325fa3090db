//! Entry sources: where journal entries come from.
//!
//! - [`json_lines`]: `journalctl -o json` lines (replay, `--json`).

pub mod json_lines;
