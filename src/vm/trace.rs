//! The effect trace: one JSON object per effect, one line each, in the
//! order effects happen (`docs/effect-trace.md`).

use super::{EffectSink, Pc, Program};
use crate::effects::Effect;
use std::io::Write;

/// Writes effects as trace lines.
pub struct TraceWriter<'a, W: Write> {
    out: W,
    program: &'a Program,
    /// Index of the current entry in the input.
    pub entry: u64,
    /// Cursor of the current entry, when read from a journal.
    pub cursor: Option<String>,
    /// Add `rule` (file:line:col) to each line.
    pub with_rule: bool,
    pub error: Option<std::io::Error>,
    /// The line being written, reused.
    buf: Vec<u8>,
}

impl<'a, W: Write> TraceWriter<'a, W> {
    pub fn new(out: W, program: &'a Program) -> Self {
        TraceWriter {
            out,
            program,
            entry: 0,
            cursor: None,
            with_rule: true,
            error: None,
            buf: Vec::new(),
        }
    }

    /// Write text of another kind (an explanation) where the trace goes.
    pub fn write_text(&mut self, text: &[u8]) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(text) {
                self.error = Some(e);
            }
        }
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One trace line for an effect, newline included, appended to `out`.
pub fn write_line(
    out: &mut Vec<u8>,
    effect: &Effect,
    entry: u64,
    cursor: Option<&str>,
    rule: Option<&str>,
) {
    effect.write_trace_line(out, entry, cursor, rule);
    out.push(b'\n');
}

impl<W: Write> EffectSink for TraceWriter<'_, W> {
    fn effect(&mut self, pc: Pc, effect: Effect) {
        if self.error.is_some() {
            return;
        }
        let rule = self.with_rule.then(|| self.program.locate(pc));
        self.buf.clear();
        write_line(
            &mut self.buf,
            &effect,
            self.entry,
            self.cursor.as_deref(),
            rule,
        );
        if let Err(e) = self.out.write_all(&self.buf) {
            self.error = Some(e);
        }
    }
}
