//! Plain log files (nginx's `access.log`, Apache's `error.log`…): each line
//! is an entry with `MESSAGE` (the line, without its end of line),
//! `SYSLOG_IDENTIFIER` (configured per file) and a time, read from the line
//! when a time format is configured, else the time it was read.
//!
//! A line is handed to the rules as bytes, as a journal field is: one that
//! is not UTF-8 is decoded by the rules' `8bit-message-encoding`, as
//! journal entries are. A line longer than [`MAX_LINE`] keeps its first
//! [`MAX_LINE`] bytes.

pub use crate::config::{LogFile, TimeFormat};
use crate::value::fields::FieldId;
use crate::vm::{EntrySource, Program, RawField};
use std::io::BufRead;

/// The longest line kept, in bytes (journald's default `LineMax`); the
/// rest of a longer line is dropped.
pub const MAX_LINE: usize = 48 * 1024;

/// Splits a file into lines, keeping at most [`MAX_LINE`] bytes of each.
/// The bytes of a line not yet ended stay until its end is read, so that
/// a file being written is read line by line, never a line in pieces.
#[derive(Debug, Default)]
pub struct Lines {
    /// The current line, without its end of line.
    pub line: Vec<u8>,
    /// The file bytes of the current line read so far (dropped ones too).
    pub partial: u64,
    /// The current line is complete (the next read starts a new one).
    done: bool,
    /// The current line was longer than [`MAX_LINE`].
    pub truncated: bool,
}

impl Lines {
    /// The next complete line of `r` into `line`: `Some(bytes in the
    /// file, end of line included)`, or `None` when `r` has nothing more
    /// for now (the start of an unfinished line is kept).
    pub fn next(&mut self, r: &mut impl BufRead) -> std::io::Result<Option<u64>> {
        if self.done {
            self.reset();
        }
        loop {
            let buf = r.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            match memchr::memchr(b'\n', buf) {
                Some(i) => {
                    self.keep(&buf[..i]);
                    r.consume(i + 1);
                    self.partial += i as u64 + 1;
                    return Ok(Some(self.finish()));
                }
                None => {
                    let n = buf.len();
                    self.keep(&buf[..n]);
                    r.consume(n);
                    self.partial += n as u64;
                }
            }
        }
    }

    /// The unfinished last line as a line (its file will not grow any
    /// more); `None` when there is none.
    pub fn flush(&mut self) -> Option<u64> {
        (!self.done && self.partial > 0).then(|| self.finish())
    }

    /// Forget the current line (reading starts afresh).
    pub fn reset(&mut self) {
        self.line.clear();
        self.partial = 0;
        self.done = false;
        self.truncated = false;
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.line.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.line.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish(&mut self) -> u64 {
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        self.done = true;
        self.partial
    }
}

/// A line of a plain log file as an entry. The buffers are reused from
/// line to line.
pub struct PlainEntry {
    message: Option<FieldId>,
    identifier: Option<FieldId>,
    pub line: Vec<u8>,
    pub ident: Vec<u8>,
    /// µs since 1970.
    pub time: i64,
}

impl PlainEntry {
    pub fn new(program: &Program) -> PlainEntry {
        PlainEntry {
            message: program.field("MESSAGE"),
            identifier: program.field("SYSLOG_IDENTIFIER"),
            line: Vec::new(),
            ident: Vec::new(),
            time: 0,
        }
    }

    /// Make this entry the line `line` of the file of `identifier`.
    pub fn set(&mut self, line: &[u8], identifier: &str, time: i64) {
        self.line.clear();
        self.line.extend_from_slice(line);
        self.ident.clear();
        self.ident.extend_from_slice(identifier.as_bytes());
        self.time = time;
    }
}

impl EntrySource for PlainEntry {
    fn fetch(&mut self, id: FieldId, _name: &str, out: &mut RawField) {
        if Some(id) == self.message {
            out.push(&self.line);
        } else if Some(id) == self.identifier {
            out.push(&self.ident);
        }
    }

    fn realtime(&self) -> Option<i64> {
        Some(self.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_kept_whole_and_bounded() {
        let mut text = b"one\r\ntwo\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        text.extend(b"\nlast");
        let mut r = std::io::BufReader::with_capacity(7, &text[..]);
        let mut l = Lines::default();
        assert_eq!(l.next(&mut r).expect("read"), Some(5));
        assert_eq!(l.line, b"one");
        assert_eq!(l.next(&mut r).expect("read"), Some(4));
        assert_eq!(l.line, b"two");
        assert_eq!(l.next(&mut r).expect("read"), Some(MAX_LINE as u64 + 11));
        assert_eq!(l.line.len(), MAX_LINE);
        assert!(l.truncated);
        assert_eq!(l.next(&mut r).expect("read"), None, "unfinished");
        assert_eq!(l.partial, 4);
        assert_eq!(l.flush(), Some(4));
        assert_eq!(l.line, b"last");
        assert_eq!(l.flush(), None);
    }
}
