//! Replay: run `journalctl -o json` lines through a program, recording every
//! effect in the trace instead of carrying it out.

use crate::effects::{Effect, KINDS};
use crate::journal::json_lines::JsonEntry;
use crate::journal::plain::{Lines, PlainEntry, TimeFormat};
use crate::progress::Meter;
use crate::vm::explain::{self, Recorder};
use crate::vm::trace::TraceWriter;
use crate::vm::{Collect, EffectSink, EntrySource, ErrorSink, Machine, Pc, Program, RunError};
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
    /// Effects by kind (all of them, whatever the trace keeps), and bans
    /// by address.
    pub tally: Tally,
    /// Per `--explain` selector, how many entries it selected.
    pub selected: Vec<u64>,
}

/// Effects by kind, and bans by address.
#[derive(Debug, Default)]
pub struct Tally {
    /// Per kind, in the order of [`KINDS`].
    pub by_kind: [u64; KINDS.len()],
    /// Bans (`nftBan`, `ipsetBan`) per address.
    pub bans: HashMap<String, u64>,
}

impl Tally {
    pub fn count(&mut self, effect: &Effect) {
        self.by_kind[effect.kind()] += 1;
        if let Effect::NftBan { ip, .. } | Effect::IpsetBan { ip, .. } = effect {
            let ip = crate::python::format::render_plain(ip);
            *self.bans.entry(ip).or_insert(0) += 1;
        }
    }

    /// The `n` most banned addresses, most first (then in address order).
    pub fn top_bans(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.bans.iter().map(|(a, n)| (a.as_str(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }
}

/// A set of effect kinds (bit `i`: `KINDS[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kinds(u16);

impl Kinds {
    pub const ALL: Kinds = Kinds((1 << KINDS.len()) - 1);
    pub const NONE: Kinds = Kinds(0);

    /// The kinds named (as the trace names them); the unknown name, if any.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Kinds, String> {
        let mut set = Kinds::NONE;
        for name in names {
            match KINDS.iter().position(|k| *k == name) {
                Some(i) => set.0 |= 1 << i,
                None => return Err(name.to_owned()),
            }
        }
        Ok(set)
    }

    pub fn without(self, name: &str) -> Kinds {
        match KINDS.iter().position(|k| *k == name) {
            Some(i) => Kinds(self.0 & !(1 << i)),
            None => self,
        }
    }

    pub fn has(self, effect: &Effect) -> bool {
        self.0 & (1 << effect.kind()) != 0
    }
}

/// Which entries `--explain` picks: an entry number (the `entry` of the
/// trace), or a regex searched in `MESSAGE` (written `/…/`).
#[derive(Clone, Debug)]
pub enum Selector {
    Entry(u64),
    Message(regex::Regex),
}

impl std::str::FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Selector, String> {
        if let Some(re) = s.strip_prefix('/').and_then(|r| r.strip_suffix('/')) {
            return regex::Regex::new(re)
                .map(Selector::Message)
                .map_err(|e| format!("not a valid regex: {e}"));
        }
        s.parse().map(Selector::Entry).map_err(|_| {
            "expected an entry number (the `entry` of the trace, from 0) or /REGEX/ (searched in MESSAGE)"
                .to_owned()
        })
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Entry(n) => write!(f, "{n}"),
            Selector::Message(re) => write!(f, "/{re}/"),
        }
    }
}

/// What a replay shows besides, or instead of, the whole trace.
pub struct View {
    /// Explain the entries these select, instead of writing the trace.
    pub explain: Vec<Selector>,
    /// The effect kinds the trace keeps.
    pub keep: Kinds,
    /// The progress line, when standard error is a terminal.
    pub meter: Option<Meter>,
}

impl Default for View {
    fn default() -> View {
        View {
            explain: Vec::new(),
            keep: Kinds::ALL,
            meter: None,
        }
    }
}

impl View {
    /// Whether entry `index` (whose `MESSAGE` is `message()`) is to be
    /// explained; counts the hit of each selector that picks it.
    fn select(
        &self,
        index: u64,
        message_of: &dyn Fn() -> Option<String>,
        hits: &mut [u64],
    ) -> bool {
        let mut message: Option<Option<String>> = None;
        let mut any = false;
        for (selector, hits) in self.explain.iter().zip(hits.iter_mut()) {
            let picked = match selector {
                Selector::Entry(n) => *n == index,
                Selector::Message(re) => message
                    .get_or_insert_with(message_of)
                    .as_deref()
                    .is_some_and(|m| re.is_match(m)),
            };
            if picked {
                *hits += 1;
                any = true;
            }
        }
        any
    }
}

/// The text of a field of a `journalctl -o json` line (bytes that are not
/// UTF-8 replaced, a repeated field's values joined by newlines).
fn field_text(line: &str, name: &str) -> Option<String> {
    use serde_json::Value as J;
    let value: J = serde_json::from_str(line).ok()?;
    let one = |v: &J| -> Option<String> {
        match v {
            J::String(s) => Some(s.clone()),
            J::Array(b) if b.iter().all(J::is_u64) => Some(
                String::from_utf8_lossy(
                    &b.iter()
                        .filter_map(|x| x.as_u64().and_then(|x| u8::try_from(x).ok()))
                        .collect::<Vec<u8>>(),
                )
                .into_owned(),
            ),
            J::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    match value.get(name)? {
        J::Array(items) if !items.is_empty() && !items.iter().all(J::is_u64) => {
            let parts: Vec<String> = items.iter().filter_map(one).collect();
            Some(parts.join("\n"))
        }
        v => one(v),
    }
}

/// How an explanation names its entry: `IDENTIFIER: MESSAGE`, as a
/// journal line reads.
fn title(line: &str) -> String {
    title_of(
        field_text(line, "SYSLOG_IDENTIFIER"),
        field_text(line, "MESSAGE"),
    )
}

fn title_of(identifier: Option<String>, message: Option<String>) -> String {
    let message = message.unwrap_or_else(|| "(no MESSAGE)".to_owned());
    let text = match identifier {
        Some(ident) => format!("{ident}: {message}"),
        None => message,
    };
    let text = text.replace(['\n', '\r'], " ");
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Counts every effect, and hands the kinds kept on.
struct Tee<'a> {
    tally: &'a mut Tally,
    keep: Kinds,
    next: &'a mut dyn EffectSink,
}

impl EffectSink for Tee<'_> {
    fn effect(&mut self, pc: Pc, effect: Effect) {
        self.tally.count(&effect);
        if self.keep.has(&effect) {
            self.next.effect(pc, effect);
        }
    }
}

/// Logs each distinct run-time error once, and counts them.
pub struct ErrorLog<'a, W: Write> {
    program: &'a Program,
    out: W,
    seen: HashMap<(Pc, String), u64>,
    order: Vec<(Pc, String)>,
    /// Internal errors met (bugs of the engine).
    pub internal: u64,
    /// Erase the progress line before each message (standard error is a
    /// terminal that shows one).
    pub erase_line: bool,
}

impl<'a, W: Write> ErrorLog<'a, W> {
    pub fn new(program: &'a Program, out: W) -> Self {
        ErrorLog {
            program,
            out,
            seen: HashMap::new(),
            order: Vec::new(),
            internal: 0,
            erase_line: false,
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
            if self.erase_line {
                let _ = write!(self.out, "\r\x1b[K");
            }
            let _ = writeln!(
                self.out,
                "{}: {what}: {} (logged once)",
                self.program.locate(pc),
                error
            );
        }
    }
}

/// Replay every line of `input`, writing the whole trace.
pub fn replay<R: BufRead, W: Write, E: Write>(
    machine: &mut Machine,
    input: R,
    trace: &mut TraceWriter<W>,
    errors: &mut ErrorLog<E>,
) -> std::io::Result<Summary> {
    replay_with(machine, input, trace, errors, &mut View::default())
}

/// Replay every line of `input`: the trace of the kinds `view` keeps, or
/// the explanations of the entries it selects.
pub fn replay_with<R: BufRead, W: Write, E: Write>(
    machine: &mut Machine,
    mut input: R,
    trace: &mut TraceWriter<W>,
    errors: &mut ErrorLog<E>,
    view: &mut View,
) -> std::io::Result<Summary> {
    let program = machine.program;
    let mut entry = JsonEntry::new(program);
    let mut summary = Summary {
        selected: vec![0; view.explain.len()],
        ..Summary::default()
    };
    let mut buf = Vec::new();
    let mut index: u64 = 0;
    let mut read: u64 = 0;
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        if let Some(m) = &mut view.meter {
            m.tick(index, read);
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
        let shown = Shown {
            index: this,
            message: &|| field_text(line, "MESSAGE"),
            title: &|| title(line),
        };
        run_viewed(
            machine,
            &mut entry,
            trace,
            errors,
            view,
            &mut summary,
            &shown,
        )?;
    }
    finish(trace, errors, view, summary)
}

/// The end of a replay: the progress line erased, the trace flushed, the
/// errors counted into the summary.
fn finish<W: Write, E: Write>(
    trace: &mut TraceWriter<W>,
    errors: &mut ErrorLog<E>,
    view: &mut View,
    mut summary: Summary,
) -> std::io::Result<Summary> {
    if let Some(m) = &mut view.meter {
        m.clear();
    }
    trace.flush()?;
    summary.step_errors = errors.summary();
    summary.internal_errors = errors.internal;
    Ok(summary)
}

/// An entry as `--explain` sees it: its number, its `MESSAGE` (for the
/// selectors) and its title, both worked out only when needed.
struct Shown<'a> {
    index: u64,
    message: &'a dyn Fn() -> Option<String>,
    title: &'a dyn Fn() -> String,
}

/// Run one entry: explained when `view` selects it, else into the trace
/// (the kinds `view` keeps; none while explaining), every effect counted;
/// an error when the trace could not be written.
fn run_viewed<S: EntrySource, W: Write, E: Write>(
    machine: &mut Machine,
    entry: &mut S,
    trace: &mut TraceWriter<W>,
    errors: &mut ErrorLog<E>,
    view: &View,
    summary: &mut Summary,
    shown: &Shown<'_>,
) -> std::io::Result<()> {
    trace.entry = shown.index;
    trace.cursor = None;
    if !view.explain.is_empty() && view.select(shown.index, shown.message, &mut summary.selected) {
        let text = explain_entry(
            machine,
            entry,
            errors,
            &mut summary.tally,
            shown.index,
            &(shown.title)(),
        );
        trace.write_text(text.as_bytes());
    } else {
        let keep = if view.explain.is_empty() {
            view.keep
        } else {
            Kinds::NONE
        };
        let mut sink = Tee {
            tally: &mut summary.tally,
            keep,
            next: trace,
        };
        machine.run(entry, &mut sink, errors);
    }
    summary.entries += 1;
    trace.error.take().map_or(Ok(()), Err)
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
    view: &mut View,
) -> std::io::Result<Summary> {
    let mut entry = PlainEntry::new(machine.program);
    let tz = jiff::tz::TimeZone::system();
    let mut summary = Summary {
        selected: vec![0; view.explain.len()],
        ..Summary::default()
    };
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
        let message = || Some(String::from_utf8_lossy(&lines.line).into_owned());
        let shown = Shown {
            index,
            message: &message,
            title: &|| title_of(Some(log.identifier.to_owned()), message()),
        };
        let written = run_viewed(
            machine,
            &mut entry,
            trace,
            errors,
            view,
            &mut summary,
            &shown,
        );
        index += 1;
        if let Some(m) = &mut view.meter {
            m.tick(index, 0);
        }
        written?;
    }
    finish(trace, errors, view, summary)
}

/// Run entry `index` (on `line`) watched: its explanation.
fn explain_entry<S: EntrySource, E: Write>(
    machine: &mut Machine,
    entry: &mut S,
    errors: &mut ErrorLog<E>,
    tally: &mut Tally,
    index: u64,
    title: &str,
) -> String {
    let program = machine.program;
    let mut effects = Collect::default();
    let mut recorder = Recorder::new(program);
    machine.run_observed(entry, &mut effects, errors, &mut recorder);
    for (_, e) in &effects.0 {
        tally.count(e);
    }
    let mut text = explain::render(program, index, title, &recorder.visits, &effects.0);
    text.push('\n');
    text
}
