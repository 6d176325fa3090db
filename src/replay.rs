//! Replay: run `journalctl -o json` lines through a program, recording every
//! effect in the trace instead of carrying it out.

use crate::journal::json_lines::JsonEntry;
use crate::journal::plain::{Lines, PlainEntry, TimeFormat};
use crate::vm::trace::TraceWriter;
use crate::vm::{ErrorSink, Machine, Pc, Program, RunError};
use std::collections::HashMap;
use std::io::{BufRead, Write};

/// What a replay went through.
#[derive(Debug, Default)]
pub struct Summary {
    pub entries: u64,
    /// 1-based numbers of the lines that were not entries, with why.
    pub bad_lines: Vec<(u64, String)>,
    /// Run-time errors of steps: where, what, how many times.
    pub step_errors: Vec<(String, String, u64)>,
    /// How many of those were internal errors (bugs of the engine).
    pub internal_errors: u64,
    /// Lines of a plain log in which the time format found no time.
    pub untimed: u64,
    /// Lines of a plain log longer than `journal::plain::MAX_LINE`, cut.
    pub cut: u64,
}

/// Logs each distinct run-time error once, and counts them.
pub struct ErrorLog<'a, W: Write> {
    program: &'a Program,
    out: W,
    seen: HashMap<(Pc, String), u64>,
    order: Vec<(Pc, String)>,
    /// Internal errors met (bugs of the engine).
    pub internal: u64,
}

impl<'a, W: Write> ErrorLog<'a, W> {
    pub fn new(program: &'a Program, out: W) -> Self {
        ErrorLog {
            program,
            out,
            seen: HashMap::new(),
            order: Vec::new(),
            internal: 0,
        }
    }

    pub fn summary(&self) -> Vec<(String, String, u64)> {
        self.order
            .iter()
            .map(|k| {
                (
                    self.program.locate(k.0).to_owned(),
                    k.1.clone(),
                    self.seen[k],
                )
            })
            .collect()
    }
}

impl<W: Write> ErrorSink for ErrorLog<'_, W> {
    fn step_error(&mut self, pc: Pc, is_filter: bool, error: &RunError) {
        self.internal += u64::from(error.is_internal());
        let key = (pc, error.to_string());
        let n = self.seen.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            self.order.push(key);
            let what = if is_filter {
                "filter failed, taking its else branch"
            } else {
                "action failed, the entry stops here"
            };
            let _ = writeln!(
                self.out,
                "{}: {what}: {} (logged once)",
                self.program.locate(pc),
                error
            );
        }
    }
}

/// Replay every line of `input`.
pub fn replay<R: BufRead, W: Write, E: Write>(
    machine: &mut Machine,
    mut input: R,
    trace: &mut TraceWriter<W>,
    errors: &mut ErrorLog<E>,
) -> std::io::Result<Summary> {
    let program = machine.program;
    let mut entry = JsonEntry::new(program);
    let mut summary = Summary::default();
    let mut buf = Vec::new();
    let mut index: u64 = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let this = index;
        index += 1;
        let line = match std::str::from_utf8(&buf) {
            Ok(l) => l.trim_end_matches(['\n', '\r']),
            Err(_) => {
                summary.bad_lines.push((this + 1, "not valid UTF-8".into()));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Err(e) = entry.parse(line) {
            summary.bad_lines.push((this + 1, e.0));
            continue;
        }
        trace.entry = this;
        trace.cursor = None;
        machine.run(&mut entry, trace, errors);
        summary.entries += 1;
        if let Some(e) = trace.error.take() {
            return Err(e);
        }
    }
    trace.flush()?;
    summary.step_errors = errors.summary();
    summary.internal_errors = errors.internal;
    Ok(summary)
}

/// A plain log to replay: its lines are entries with `MESSAGE` and
/// `SYSLOG_IDENTIFIER`, timed by `time_format` when it finds a time in the
/// line, else by the time the line is read.
pub struct PlainLog<'a> {
    pub identifier: &'a str,
    pub time_format: Option<&'a TimeFormat>,
}

/// Replay every line of a plain log, as the daemon reads a file of
/// `logFiles`.
pub fn replay_log<R: BufRead, W: Write, E: Write>(
    machine: &mut Machine,
    mut input: R,
    log: &PlainLog<'_>,
    trace: &mut TraceWriter<W>,
    errors: &mut ErrorLog<E>,
) -> std::io::Result<Summary> {
    let mut entry = PlainEntry::new(machine.program);
    let tz = jiff::tz::TimeZone::system();
    let mut summary = Summary::default();
    let mut lines = Lines::default();
    let mut index: u64 = 0;
    loop {
        if lines.next(&mut input)?.is_none() && lines.flush().is_none() {
            break;
        }
        summary.cut += u64::from(lines.truncated);
        let read_at = crate::vm::wall_clock_us();
        let time = match log.time_format {
            None => read_at,
            Some(f) => {
                let now = jiff::Timestamp::now();
                f.find(&lines.line, &tz, now).unwrap_or_else(|| {
                    summary.untimed += 1;
                    read_at
                })
            }
        };
        entry.set(&lines.line, log.identifier, time);
        trace.entry = index;
        trace.cursor = None;
        machine.run(&mut entry, trace, errors);
        index += 1;
        summary.entries += 1;
        if let Some(e) = trace.error.take() {
            return Err(e);
        }
    }
    trace.flush()?;
    summary.step_errors = errors.summary();
    summary.internal_errors = errors.internal;
    Ok(summary)
}
