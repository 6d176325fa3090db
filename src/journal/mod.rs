//! Entry sources: where journal entries come from.
//!
//! - [`json_lines`]: `journalctl -o json` lines (replay, `--json`).
//! - [`plain`]: lines of plain log files (nginx's access.log…).
//! - [`sd`]: the journal itself, through libsystemd.
//! - [`export`]: writing journal files (export format, `systemd-journal-remote`).

pub mod export;
pub mod json_lines;
pub mod plain;
pub mod sd;
