//! The daemon's own log: to the journal when systemd connected our stderr
//! to it (`JOURNAL_STREAM` is set), with identifier `pyrused` so that rules
//! reading back `pyruse` lines never see it; to stderr otherwise. Never a line per entry: a recurring problem is logged
//! once per cause, with a count at shutdown.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Journal priorities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
        if level <= Level::Warning {
            let first = message.lines().next().unwrap_or("");
            let cause: String = first.chars().take(160).collect();
            tally(level, &cause, message);
        }
        self.write(level, message);
    }

    fn write(&self, level: Level, message: &str) {
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
        if level <= Level::Warning {
            tally(level, cause, message);
        }
        if *n == 1 {
            self.write(
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

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Err => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
            Level::Info => "info",
        }
    }
}

/// A cause of errors or warnings of the daemon's log, for `pyrusec status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    pub level: Level,
    pub count: u64,
    /// Wall clock, µs.
    pub first_us: i64,
    pub last_us: i64,
    /// The message of its first occurrence.
    pub message: String,
}

/// Errors and warnings by cause, kept (once [`keep_tally`] is called) for
/// the daemon's status record. Every logger of the process (the loop's,
/// the executor lanes') adds to it, at the cost of a lock per error.
struct Tally {
    causes: BTreeMap<String, Cause>,
    /// Changes at each error or warning.
    generation: u64,
}

static TALLY: Mutex<Option<Tally>> = Mutex::new(None);

/// Causes kept at most; the others are counted under [`OTHER_CAUSES`].
pub const MAX_CAUSES: usize = 200;
pub const OTHER_CAUSES: &str = "(other causes)";

/// Keep the errors and warnings of this process by cause, from now on.
pub fn keep_tally() {
    if let Ok(mut t) = TALLY.lock() {
        t.get_or_insert_with(|| Tally {
            causes: BTreeMap::new(),
            generation: 0,
        });
    }
}

fn tally(level: Level, cause: &str, message: &str) {
    let Ok(mut guard) = TALLY.lock() else {
        return;
    };
    let Some(t) = guard.as_mut() else {
        return;
    };
    let now = crate::vm::wall_clock_us();
    t.generation += 1;
    let key = if t.causes.len() >= MAX_CAUSES && !t.causes.contains_key(cause) {
        OTHER_CAUSES
    } else {
        cause
    };
    match t.causes.get_mut(key) {
        Some(c) => {
            c.count += 1;
            c.last_us = now;
            c.level = c.level.min(level);
        }
        None => {
            let message: String = message.chars().take(2000).collect();
            t.causes.insert(
                key.to_owned(),
                Cause {
                    level,
                    count: 1,
                    first_us: now,
                    last_us: now,
                    message,
                },
            );
        }
    }
}

/// The generation of the tally (it changes at each error or warning).
pub fn tally_generation() -> u64 {
    TALLY
        .lock()
        .ok()
        .and_then(|t| t.as_ref().map(|t| t.generation))
        .unwrap_or(0)
}

/// The causes so far, by name.
pub fn tally_causes() -> Vec<(String, Cause)> {
    TALLY
        .lock()
        .ok()
        .and_then(|t| {
            t.as_ref().map(|t| {
                t.causes
                    .iter()
                    .map(|(k, c)| (k.clone(), c.clone()))
                    .collect()
            })
        })
        .unwrap_or_default()
}
