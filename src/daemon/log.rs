//! The daemon's own log: to the journal when systemd connected our stderr
//! to it (`JOURNAL_STREAM` is set), with identifier `pyrused` so that rules
//! reading back `pyruse` lines never see it; to stderr otherwise. Never a line per entry: a recurring problem is logged
//! once per cause, with a count at shutdown.

use std::collections::HashMap;

/// Journal priorities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
}

pub struct Logger {
    journal: bool,
    /// Standard error is a terminal, which may show a progress line: each
    /// message erases it first.
    erase_line: bool,
    seen: HashMap<String, u64>,
}

impl Default for Logger {
    fn default() -> Self {
        Logger::new()
    }
}

impl Logger {
    pub fn new() -> Logger {
        Logger {
            journal: std::env::var_os("JOURNAL_STREAM").is_some(),
            erase_line: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            seen: HashMap::new(),
        }
    }

    pub fn log(&self, level: Level, message: &str) {
        if self.journal {
            let m = format!("MESSAGE={message}");
            let p = format!("PRIORITY={}", level as u8);
            if systemd::journal::send(&[&m, &p, "SYSLOG_IDENTIFIER=pyrused"]).is_ok() {
                return;
            }
        }
        let tag = match level {
            Level::Err => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
            Level::Info => "info",
        };
        let erase = if self.erase_line { "\r\x1b[K" } else { "" };
        eprintln!("{erase}pyrused: {tag}: {message}");
    }

    /// Log `message` the first time `cause` happens; count the others.
    pub fn once(&mut self, level: Level, cause: &str, message: &str) {
        let n = self.seen.entry(cause.to_owned()).or_insert(0);
        *n += 1;
        if *n == 1 {
            self.log(
                level,
                &format!("{message} (further occurrences are counted, not logged)"),
            );
        }
    }

    /// Counts of repeated problems, for the shutdown summary.
    pub fn repeated(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        v.sort();
        v
    }
}
