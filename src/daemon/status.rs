//! What the daemon tells `pyrusec status`, and what `pyrusec` asks of it.
//!
//! - The status record: the rules loaded (files, when), the input, the
//!   time of the last entry processed and of the newest one in the
//!   journal, the entries processed with a few (time, count) marks of the
//!   last minute (for a rate), and the errors and warnings of the log by
//!   cause. It is kept in memory and written with each commit (no cost
//!   per entry), and when idle at most every [`CONTROL_EVERY`] when the
//!   log has something new. `pyrusec` reads it from the `meta` table.
//! - Commands queued by `pyrusec` (a counter key reset) are applied to the
//!   state in memory within [`CONTROL_EVERY`], and deleted in the same
//!   transaction as the state change they make.

use super::log::{self, Level, Logger};
use crate::state::store::{decode_value, Batch, CommandRow};
use crate::state::State;
use crate::vm::Program;
use serde_json::{json, Value as J};
use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the daemon looks for queued commands, and at most how often
/// it writes its status record when idle.
pub const CONTROL_EVERY: Duration = Duration::from_secs(1);

/// The span of the marks kept for the rate of entries.
const RATE_WINDOW_US: i64 = 60_000_000;
/// At most one mark per this much time.
const MARK_EVERY_US: i64 = 5_000_000;

/// The daemon's status, kept in memory between writes.
pub struct StatusRecorder {
    pid: u32,
    started_us: i64,
    dry_run: bool,
    input: String,
    rules: J,
    /// (wall clock µs, entries processed): the last minute, and one mark
    /// before it.
    marks: VecDeque<(i64, u64)>,
    /// The log's tally generation at the last write.
    written_generation: u64,
    last_write: Option<Instant>,
}

/// The rules part of the record.
fn rules_record(path: &Path, program: &Program) -> J {
    let files: Vec<&str> = program
        .sources
        .files()
        .map(|(_, f)| f.name.as_str())
        .collect();
    json!({
        "path": path.display().to_string(),
        "files": files,
        "loaded_us": crate::vm::wall_clock_us(),
        "steps": program.code.len(),
        "counters": program.counters,
    })
}

impl StatusRecorder {
    pub fn new(rules: &Path, program: &Program, input: &str, dry_run: bool) -> StatusRecorder {
        log::keep_tally();
        let now = crate::vm::wall_clock_us();
        StatusRecorder {
            pid: std::process::id(),
            started_us: now,
            dry_run,
            input: input.to_owned(),
            rules: rules_record(rules, program),
            marks: VecDeque::from([(now, 0)]),
            written_generation: 0,
            last_write: None,
        }
    }

    /// New rules run (a reload).
    pub fn rules_loaded(&mut self, rules: &Path, program: &Program) {
        self.rules = rules_record(rules, program);
    }

    /// Whether the log has something the last record does not, and the
    /// last write is old enough to write again.
    pub fn wants_write(&self) -> bool {
        log::tally_generation() != self.written_generation
            && self.last_write.is_none_or(|t| t.elapsed() >= CONTROL_EVERY)
    }

    /// The record as it stands (JSON text), for the batch being committed.
    pub fn record(
        &mut self,
        processed: u64,
        last_entry_us: Option<i64>,
        caught_up: bool,
        newest_us: Option<i64>,
    ) -> String {
        let now = crate::vm::wall_clock_us();
        if self.marks.back().is_none_or(|m| now - m.0 >= MARK_EVERY_US) {
            self.marks.push_back((now, processed));
        }
        while self.marks.len() > 2 && self.marks[1].0 <= now - RATE_WINDOW_US {
            self.marks.pop_front();
        }
        self.written_generation = log::tally_generation();
        self.last_write = Some(Instant::now());
        let mut marks: Vec<(i64, u64)> = self.marks.iter().copied().collect();
        marks.push((now, processed));
        let errors: Vec<J> = log::tally_causes()
            .into_iter()
            .map(|(cause, c)| {
                json!({
                    "cause": cause,
                    "level": c.level.name(),
                    "count": c.count,
                    "first_us": c.first_us,
                    "last_us": c.last_us,
                    "message": c.message,
                })
            })
            .collect();
        json!({
            "pid": self.pid,
            "started_us": self.started_us,
            "written_us": now,
            "dry_run": self.dry_run,
            "rules": self.rules,
            "input": self.input,
            "processed": processed,
            "marks": marks,
            "last_entry_us": last_entry_us,
            "newest_us": newest_us,
            "caught_up": caught_up,
            "errors": errors,
        })
        .to_string()
    }
}

/// Apply the commands queued by `pyrusec` to the state in memory and to
/// `batch`, which deletes them when it commits. Returns how many.
pub fn apply_commands(
    commands: Vec<CommandRow>,
    program: &Program,
    state: &mut State,
    batch: &mut Batch,
    now_us: i64,
    log: &mut Logger,
) -> usize {
    let n = commands.len();
    for c in commands {
        match c.kind.as_str() {
            "counterReset" => counter_reset(&c, program, state, batch, now_us, log),
            other => log.once(
                Level::Warning,
                &format!("command: {other}"),
                &format!("unknown command `{other}` queued by pyrusec; dropped"),
            ),
        }
        batch.command_done(c.id);
    }
    n
}

fn counter_reset(
    c: &CommandRow,
    program: &Program,
    state: &mut State,
    batch: &mut Batch,
    now_us: i64,
    log: &mut Logger,
) {
    let counter = c.payload.get("counter").and_then(J::as_str).unwrap_or("");
    let key = c.payload.get("key").and_then(J::as_str).map(decode_value);
    let Some(Ok(key)) = key else {
        log.once(
            Level::Warning,
            "command: bad counterReset",
            "a counter reset queued by pyrusec has no readable key; dropped",
        );
        return;
    };
    if let Some(id) = super::counter_id(program, counter) {
        state.counters.reset(id, &key, None, now_us);
    }
    // The file too, should an entry processed since have written it back.
    batch.delete_counter(counter, &key);
    log.log(
        Level::Notice,
        &format!(
            "counter {counter} key {} reset by pyrusec",
            crate::python::format::render_plain(&key)
        ),
    );
}
