//! Python `re` patterns, run by the Rust `regex` and `fancy-regex` engines.
//!
//! Legacy `pyruse.json` configurations hold regular expressions written for
//! Python 3.11's `re` module. This module parses such a pattern the way
//! `re._parser` does (same tokenizer, same error cases, same group numbering)
//! and writes a pattern with the same meaning for the Rust `regex` crate, or
//! for `fancy-regex` when it needs what only a backtracking engine has
//! (back-references, look-arounds, atomic groups, possessive repeats,
//! conditionals, a `$` that is not at the very end of the pattern).
//!
//! * Input: a Python `str` pattern (flags only inline, as in `(?i)`).
//! * Output: [`Translated`] (the Rust pattern, its engine, a map from Rust
//!   byte offsets back to Python byte offsets, the group layout, and variants
//!   for special subjects), or a [`PatternError`] whose byte range points into
//!   the *Python* pattern.
//! * [`Matcher`] compiles a translation and offers Python's `re.search`.
//!
//! Invariants:
//! * Python group `n` is group `n` in the results of [`Matcher::search`]; the
//!   translation groups with `(?:…)`, and its only extra capturing groups (the
//!   markers of a translated `$`) are never reported.
//! * Group names never reach the Rust pattern (named back-references and
//!   conditionals become numbered ones), so any name Python accepts works.
//! * What cannot be given exactly Python's meaning is rejected with a
//!   [`PatternError`] (range + help line), never run with another meaning;
//!   the few known differences, all about non-ASCII text, are listed below.
//! * Offsets reported by [`Matcher::search`] are byte offsets into the
//!   subject (Python reports code point offsets).
//!
//! How Python's meaning is kept:
//! * `$` without MULTILINE matches at the end and before a final `\n`. At the
//!   tail of the pattern it becomes `(?:(\n)?\z)`, and the hidden group tells
//!   [`Matcher::search`] to end group 0 before the `\n`; elsewhere it becomes
//!   the look-ahead `(?=\n?\z)` (fancy engine). `\Z` becomes `\z`, `^` becomes
//!   `\A`; with MULTILINE, `^`/`$` become `(?m:^)`/`(?m:$)`.
//! * `\w` is `[\p{L}\p{N}_]`, `\s` is Python's exact list (with `\x1C`-`\x1F`),
//!   `\d` is `\p{Nd}`; under ASCII (`(?a)`) they, `\b`, `\B` and IGNORECASE
//!   (folded by the translation itself) follow the ASCII definitions.
//! * `\b`/`\B` use Rust's fast word boundary, whose word characters differ
//!   from Python's only on the characters of [`WORD_MISMATCH`] (like `²` or
//!   combining marks); a subject holding one is searched with a variant that
//!   spells Python's boundary with look-arounds. `\B` never matches an empty
//!   subject in Python: another variant handles that.
//! * Classes are rewritten item by item: `[`, `&&`, `--`, `~~` inside a class
//!   are literal; `]` first in a class is literal; lone surrogates
//!   (`\ud800`) match nothing, as no Rust string holds one.
//! * `{` that does not start a valid repeat is a literal; `{,n}` is `{0,n}`.
//! * Verbose mode, scoped flags `(?i:…)`/`(?-i:…)`, global flags only at the
//!   start, octal/hex/`\u`/`\U` escapes, and Python's errors (bad escapes,
//!   unterminated groups and sets, bad ranges, nothing to repeat, look-behind
//!   not of fixed width, ...).
//! * fancy-regex differs from Python in places, avoided as follows: a
//!   positive look-around is made atomic (Python never backtracks into one);
//!   a capturing group inside a loop starts with `(?=)`, which keeps
//!   fancy-regex from handing it to the `regex` crate (that would forget the
//!   value of an earlier iteration); `X{m,n}+` becomes `(?>(?>X){m,n})` like
//!   Python's possessive repeat; a repeat of a zero-width part is written as
//!   an optional part; a conditional with two empty branches is dropped.
//!
//! Rejected although Python accepts them (each with a help line):
//! * `\N{NAME}` escapes; the `(?t)` TEMPLATE flag;
//! * a repeat (other than an exact count) of a part that can match the empty
//!   string through a capturing group, e.g. `(a?)*`: Python records the
//!   captures of a last, empty iteration, which the Rust engines drop;
//! * a capturing group inside a possessive repeat, e.g. `(?:(a)|b)*+`:
//!   CPython 3.11 records wrong positions there (or fails), write
//!   `(?>(?:(a)|b)*)`;
//! * a conditional `(?(1)…)` inside the group it tests, or whose group number
//!   is not written in ASCII digits;
//! * what fancy-regex cannot run (e.g. very deep nesting, a look-behind
//!   whose width it cannot compute); [`Matcher::python`] maps its errors back
//!   to the Python source.
//!
//! Known differences, all about non-ASCII text:
//! * IGNORECASE uses Unicode simple case folding where Python uses simple
//!   lowercasing plus a few extra pairs: e.g. Python's `(?i)i` matches `İ`.
//! * A case-insensitive back-reference is compared by fancy-regex with other
//!   rules than Python's outside ASCII: [`Matcher::search`] returns an error
//!   for a non-ASCII subject (see [`Translated::ascii_subjects_only`]).
//! * Unicode tables are those of the Rust crates, not Python 3.11's
//!   `unicodedata` 14.0.0 (characters assigned since then may differ).
//! * Non-ASCII group names are checked with Rust's `char::is_alphanumeric`
//!   instead of Python's `str.isidentifier`.
//!
//! Files, in the order a pattern goes through them: `tokenizer.rs`;
//! `parser.rs`, which builds the form of `parsed.rs`; `checks.rs`, what
//! Python's compiler checks and what is refused here; `emit.rs`, the Rust
//! pattern; `matcher.rs`, [`Matcher`]. [`budget`] bounds the backtracking
//! time of an entry. `tests.rs` holds the results Python 3.11.7 printed
//! (re-printed by `src/python/gen/expectations.py`).

use std::fmt;

pub mod budget;
mod checks;
mod emit;
mod matcher;
mod parsed;
mod parser;
mod required;
#[cfg(test)]
mod tests;
mod tokenizer;

pub use matcher::{defer_unicode_forms, Matcher};

use emit::{emit_all, NeedFancy};
use parser::parse;

/// Backtracking limit given to fancy-regex so that a hostile subject cannot
/// hang the caller: a match that needs more steps fails. About 25 ms of
/// work on our machines; see also [`budget`] for the bound per entry.
pub const BACKTRACK_LIMIT: usize = 250_000;

/// Python's `_sre.MAXREPEAT`: repeat counts must be below it; as a maximum it
/// means "no limit".
const MAXREPEAT: u64 = 4_294_967_295;
/// Python's `_sre.MAXGROUPS`.
const MAXGROUPS: u64 = 1_073_741_823;

// Python flag bits, as in `re._constants` (values are ours).
const F_I: u16 = 1;
const F_L: u16 = 2;
const F_M: u16 = 4;
const F_S: u16 = 8;
const F_X: u16 = 16;
const F_A: u16 = 32;
const F_T: u16 = 64;
const F_U: u16 = 128;
const TYPE_FLAGS: u16 = F_A | F_L | F_U;
const GLOBAL_FLAGS: u16 = F_T;

/// Which engine a translated pattern needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The `regex` crate: linear time.
    Regex,
    /// `fancy-regex`: backtracking, with [`BACKTRACK_LIMIT`].
    Fancy,
}

/// One emitted piece of the translation: the byte range it occupies in the
/// Rust pattern, and the byte range of the Python source it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanMap {
    /// Byte range in [`Translated::pattern`].
    pub rust: (usize, usize),
    /// Byte range in [`Translated::source`].
    pub python: (usize, usize),
}

/// The result of [`translate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The Python pattern that was translated.
    pub source: String,
    /// The pattern in the syntax of [`Translated::engine`].
    pub pattern: String,
    /// The engine the pattern is written for.
    pub engine: Engine,
    /// Map from byte ranges of `pattern` to byte ranges of `source`, one entry
    /// per translated element; entries nest like the pattern does. See
    /// [`Translated::python_span`].
    pub spans: Vec<SpanMap>,
    /// Number of Python capture groups (excluding group 0).
    pub group_count: usize,
    /// Python group names with their group index, by increasing index.
    pub group_names: Vec<(usize, String)>,
    /// `group_slots[n]` is the Rust group index holding Python group `n`
    /// (`group_slots.len() == group_count + 1`).
    pub group_slots: Vec<usize>,
    /// Rust group indexes of the hidden groups of a translated tail `$`: when
    /// one of them took part in a match, the Python match (group 0) ends where
    /// it starts.
    pub newline_groups: Vec<usize>,
    /// The translation to use instead when the subject is the empty string,
    /// present when the pattern has `\B` (Python's `\B` never matches in an
    /// empty string, Rust's does).
    pub for_empty_subject: Option<Box<Translated>>,
    /// The translation to use instead when the subject holds a character of
    /// [`WORD_MISMATCH`], present when `pattern` has a Unicode `\b` or `\B`
    /// (Rust's word characters differ from Python's `[\p{L}\p{N}_]` on
    /// those characters only).
    pub for_word_mismatch: Option<Box<Translated>>,
    /// The translation is exact on ASCII subjects only: it has a
    /// case-insensitive back-reference, which fancy-regex compares with
    /// other rules than Python outside ASCII. [`Matcher::search`] returns an
    /// error for a non-ASCII subject.
    pub ascii_subjects_only: bool,
}

/// The characters that are word characters for Python (`[\p{L}\p{N}_]`) but
/// not for Rust's `\b`, or the reverse (e.g. `²`, combining marks, `‿`).
pub const WORD_MISMATCH: &str = r"[\w~~[\p{L}\p{N}_]]";

impl Translated {
    /// The byte range of the Python source responsible for the given byte
    /// offset of the Rust pattern (the innermost translated element around
    /// it), or the whole source when nothing covers it.
    pub fn python_span(&self, rust_offset: usize) -> (usize, usize) {
        self.spans
            .iter()
            .filter(|m| m.rust.0 <= rust_offset && rust_offset < m.rust.1.max(m.rust.0 + 1))
            .min_by_key(|m| m.rust.1 - m.rust.0)
            .map_or((0, self.source.len()), |m| m.python)
    }
}

/// A translation error with the byte range in the *Python* pattern that is
/// wrong and a human message and a help line.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternError {
    /// Start of the offending byte range in the pattern.
    pub start: usize,
    /// End (exclusive) of the offending byte range in the pattern.
    pub end: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (at bytes {}..{}); help: {}",
            self.message, self.start, self.end, self.help
        )
    }
}

impl std::error::Error for PatternError {}

type PResult<T> = Result<T, PatternError>;

fn perr(
    start: usize,
    end: usize,
    message: impl Into<String>,
    help: impl Into<String>,
) -> PatternError {
    PatternError {
        start,
        end: end.max(start),
        message: message.into(),
        help: help.into(),
    }
}

/// Translate a Python `re` pattern (Python 3.11 syntax, `str` pattern, no
/// flags outside the pattern) for the `regex` crate when possible, else for
/// `fancy-regex`.
pub fn translate(python_pattern: &str) -> Result<Translated, PatternError> {
    let parsed = parse(python_pattern)?;
    emit_all(&parsed, python_pattern, None).map_err(|NeedFancy| {
        perr(
            0,
            python_pattern.len(),
            "internal translation error",
            "please report this pattern",
        )
    })
}

/// The translation for a given engine, `None` when the pattern needs fancy.
#[cfg(test)]
pub(crate) fn translate_for(
    python_pattern: &str,
    engine: Engine,
) -> Result<Option<Translated>, PatternError> {
    let parsed = parse(python_pattern)?;
    Ok(emit_all(&parsed, python_pattern, Some(engine)).ok())
}
