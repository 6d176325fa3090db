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

use std::fmt;
use std::sync::{Mutex, TryLockError};

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

// ---------------------------------------------------------------------------
// Tokenizer (mirrors `re._parser.Tokenizer`, with byte offsets)
// ---------------------------------------------------------------------------

struct Source<'a> {
    s: &'a str,
    /// Byte index just after the look-ahead token.
    index: usize,
    /// Byte range of the look-ahead token: one character, or `\` and one
    /// character.
    next: Option<(usize, usize)>,
}

impl<'a> Source<'a> {
    fn new(s: &'a str) -> PResult<Self> {
        let mut src = Source {
            s,
            index: 0,
            next: None,
        };
        src.advance()?;
        Ok(src)
    }

    fn advance(&mut self) -> PResult<()> {
        let i = self.index;
        let Some(c) = self.s[i..].chars().next() else {
            self.next = None;
            return Ok(());
        };
        let mut end = i + c.len_utf8();
        if c == '\\' {
            match self.s[end..].chars().next() {
                Some(d) => end += d.len_utf8(),
                None => {
                    return Err(perr(
                        i,
                        end,
                        "bad escape (end of pattern)",
                        "a pattern cannot end with a lone backslash; write \\\\ for a literal backslash",
                    ))
                }
            }
        }
        self.next = Some((i, end));
        self.index = end;
        Ok(())
    }

    fn peek(&self) -> Option<&'a str> {
        self.next.map(|(a, b)| &self.s[a..b])
    }

    /// The look-ahead token when it is a single character satisfying `pred`.
    fn peek_char_if(&self, pred: impl Fn(char) -> bool) -> Option<char> {
        let t = self.peek()?;
        let mut it = t.chars();
        let c = it.next()?;
        (c != '\\' && it.next().is_none() && pred(c)).then_some(c)
    }

    fn get(&mut self) -> PResult<Option<(usize, &'a str)>> {
        let t = self.next.map(|(a, b)| (a, &self.s[a..b]));
        self.advance()?;
        Ok(t)
    }

    fn matches(&mut self, t: &str) -> PResult<bool> {
        if self.peek() == Some(t) {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn tell(&self) -> usize {
        self.next.map_or(self.s.len(), |(a, _)| a)
    }

    fn seek(&mut self, pos: usize) -> PResult<()> {
        self.index = pos;
        self.advance()
    }

    fn getwhile(&mut self, n: usize, pred: impl Fn(char) -> bool) -> PResult<String> {
        let mut out = String::new();
        for _ in 0..n {
            match self.peek_char_if(&pred) {
                Some(c) => {
                    out.push(c);
                    self.advance()?;
                }
                None => break,
            }
        }
        Ok(out)
    }

    /// Python's `getuntil`: the text up to `term` (consumed), and its start.
    fn getuntil(&mut self, term: char, name: &str) -> PResult<(String, usize)> {
        let start = self.tell();
        let mut out = String::new();
        loop {
            let c = self.peek();
            self.advance()?;
            match c {
                None if out.is_empty() => {
                    return Err(perr(
                        start,
                        self.s.len(),
                        format!("missing {name}"),
                        format!("write the {name} followed by '{term}'"),
                    ))
                }
                None => {
                    return Err(perr(
                        start,
                        self.s.len(),
                        format!("missing {term}, unterminated name"),
                        format!("end the {name} with '{term}'"),
                    ))
                }
                Some(t) if t.len() == 1 && t.starts_with(term) => {
                    if out.is_empty() {
                        return Err(perr(
                            start,
                            start + 1,
                            format!("missing {name}"),
                            format!("write the {name} before '{term}'"),
                        ));
                    }
                    return Ok((out, start));
                }
                Some(t) => out.push_str(t),
            }
        }
    }
}

fn first_char(t: &str) -> char {
    t.chars().next().unwrap_or('\0')
}

/// The escaped character of an escape token (`\q` → `q`).
fn escaped_char(t: &str) -> char {
    t[1..].chars().next().unwrap_or('\0')
}

fn is_identifier(s: &str) -> bool {
    let mut it = s.chars();
    match it.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    it.all(|c| c == '_' || c.is_alphanumeric())
}

fn is_oct(c: char) -> bool {
    ('0'..='7').contains(&c)
}

// ---------------------------------------------------------------------------
// Parsed form
// ---------------------------------------------------------------------------

type Span = (usize, usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// `^`
    Beginning,
    /// `$`
    End,
    /// `\A`
    BeginString,
    /// `\Z`
    EndString,
    /// `\b`
    Boundary,
    /// `\B`
    NonBoundary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cat {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Lit(u32),
    Range(u32, u32),
    Cat(Cat),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rep {
    Greedy,
    Lazy,
    Possessive,
}

#[derive(Debug, Clone)]
enum Node {
    Lit {
        c: u32,
        span: Span,
    },
    Class {
        negate: bool,
        items: Vec<Item>,
        span: Span,
    },
    Any {
        span: Span,
    },
    At {
        at: At,
        span: Span,
    },
    Group {
        index: Option<usize>,
        add: u16,
        del: u16,
        body: Box<Node>,
        span: Span,
    },
    Atomic {
        body: Box<Node>,
        span: Span,
    },
    Seq {
        items: Vec<Node>,
        span: Span,
    },
    Alt {
        branches: Vec<Node>,
        span: Span,
    },
    Repeat {
        min: u64,
        max: u64,
        rep: Rep,
        body: Box<Node>,
        span: Span,
        qspan: Span,
    },
    Backref {
        group: usize,
        span: Span,
    },
    Look {
        behind: bool,
        negate: bool,
        body: Box<Node>,
        span: Span,
    },
    Cond {
        group: usize,
        yes: Box<Node>,
        no: Option<Box<Node>>,
        span: Span,
    },
}

impl Node {
    fn span(&self) -> Span {
        match self {
            Node::Lit { span, .. }
            | Node::Class { span, .. }
            | Node::Any { span }
            | Node::At { span, .. }
            | Node::Group { span, .. }
            | Node::Atomic { span, .. }
            | Node::Seq { span, .. }
            | Node::Alt { span, .. }
            | Node::Repeat { span, .. }
            | Node::Backref { span, .. }
            | Node::Look { span, .. }
            | Node::Cond { span, .. } => *span,
        }
    }

    /// Matches only the empty string, captures nothing, and is translated to
    /// nothing or to empty non-capturing groups (`(?:)`, `(?:)*`, ``).
    fn is_trivially_empty(&self) -> bool {
        match self {
            Node::Seq { items, .. } => items.iter().all(Node::is_trivially_empty),
            Node::Group {
                index: None, body, ..
            }
            | Node::Repeat { body, .. } => body.is_trivially_empty(),
            Node::Cond { yes, no, .. } => {
                yes.is_trivially_empty()
                    && match no {
                        Some(no) => no.is_trivially_empty(),
                        None => true,
                    }
            }
            _ => false,
        }
    }
}

struct Parsed {
    root: Node,
    flags: u16,
    group_count: usize,
    names: Vec<(usize, String)>,
}

/// Python's `_combine_flags`.
fn combine(flags: u16, add: u16, del: u16) -> u16 {
    let mut flags = flags;
    if add & TYPE_FLAGS != 0 {
        flags &= !TYPE_FLAGS;
    }
    (flags | add) & !del
}

fn flag_of(t: &str) -> Option<u16> {
    Some(match t {
        "i" => F_I,
        "L" => F_L,
        "m" => F_M,
        "s" => F_S,
        "x" => F_X,
        "a" => F_A,
        "t" => F_T,
        "u" => F_U,
        _ => return None,
    })
}

fn is_alpha_token(t: &str) -> bool {
    let mut it = t.chars();
    matches!((it.next(), it.next()), (Some(c), None) if c.is_alphabetic())
}

// ---------------------------------------------------------------------------
// Parser (mirrors `re._parser._parse_sub` / `_parse`)
// ---------------------------------------------------------------------------

struct Parser<'a> {
    src: Source<'a>,
    /// Global flags (`state.flags`).
    flags: u16,
    /// Span of the global flag group that last set a type flag (`a`, `u`).
    type_flag_span: Span,
    names: Vec<(String, usize)>,
    /// `closed[g]`: group `g` has been closed (index 0 is the whole match).
    closed: Vec<bool>,
    lookbehind_groups: Option<usize>,
    /// Conditional references by number, first position of each.
    groupref_pos: Vec<(u64, Span)>,
    /// Where the (unsupported) TEMPLATE flag was set.
    template_span: Option<Span>,
}

fn parse(pattern: &str) -> PResult<Parsed> {
    let mut p = Parser {
        src: Source::new(pattern)?,
        flags: 0,
        type_flag_span: (0, 0),
        names: Vec::new(),
        closed: vec![false],
        lookbehind_groups: None,
        groupref_pos: Vec::new(),
        template_span: None,
    };
    let root = p.parse_sub(false, 0)?;
    // fix_flags
    if p.flags & F_A != 0 && p.flags & F_U != 0 {
        let (s, e) = p.type_flag_span;
        return Err(perr(
            s,
            e,
            "ASCII and UNICODE flags are incompatible",
            "use only one of (?a) and (?u)",
        ));
    }
    if let Some((s, e)) = p.src.next {
        return Err(perr(
            s,
            e,
            "unbalanced parenthesis",
            "remove this ')' or escape it as \\)",
        ));
    }
    let groups = p.closed.len() as u64;
    for &(g, (s, e)) in &p.groupref_pos {
        if g >= groups {
            return Err(perr(
                s,
                e,
                format!("invalid group reference {g}"),
                format!("the pattern has {} group(s)", groups - 1),
            ));
        }
    }
    if let Some((s, e)) = p.template_span {
        return Err(perr(
            s,
            e,
            "the TEMPLATE flag (?t) is not supported",
            "remove the 't' flag",
        ));
    }
    let mut names: Vec<(usize, String)> = p.names.into_iter().map(|(n, i)| (i, n)).collect();
    names.sort();
    let parsed = Parsed {
        root,
        flags: p.flags,
        group_count: p.closed.len() - 1,
        names,
    };
    let mut widths = vec![(0, 0); parsed.group_count + 1];
    check(&parsed.root, parsed.flags, &mut widths)?;
    Ok(parsed)
}

impl<'a> Parser<'a> {
    fn groups(&self) -> usize {
        self.closed.len()
    }

    fn checkgroup(&self, gid: usize) -> bool {
        gid < self.groups() && self.closed[gid]
    }

    fn checklookbehindgroup(&self, gid: usize, span: Span) -> PResult<()> {
        if let Some(lb) = self.lookbehind_groups {
            if !self.checkgroup(gid) {
                return Err(perr(
                    span.0,
                    span.1,
                    "cannot refer to an open group",
                    "a group can only be referred to after its closing parenthesis",
                ));
            }
            if gid >= lb {
                return Err(perr(
                    span.0,
                    span.1,
                    "cannot refer to group defined in the same lookbehind subpattern",
                    "move the group out of the look-behind",
                ));
            }
        }
        Ok(())
    }

    fn checkgroupname(&self, name: &str, start: usize) -> PResult<()> {
        if is_identifier(name) {
            Ok(())
        } else {
            Err(perr(
                start,
                start + name.len(),
                format!("bad character in group name '{name}'"),
                "a group name must be an identifier: letters, digits and '_', not starting with a digit",
            ))
        }
    }

    fn parse_sub(&mut self, verbose: bool, nested: usize) -> PResult<Node> {
        let start = self.src.tell();
        let mut verbose = verbose;
        let mut items = Vec::new();
        loop {
            let first = nested == 0 && items.is_empty();
            items.push(self.parse_seq(verbose, nested + 1, first)?);
            if !self.src.matches("|")? {
                break;
            }
            if nested == 0 {
                verbose = self.flags & F_X != 0;
            }
        }
        if items.len() == 1 {
            return Ok(items.pop().expect("one item"));
        }
        Ok(Node::Alt {
            branches: items,
            span: (start, self.src.tell()),
        })
    }

    fn parse_seq(&mut self, verbose: bool, nested: usize, first: bool) -> PResult<Node> {
        let seq_start = self.src.tell();
        let mut verbose = verbose;
        let mut seq: Vec<Node> = Vec::new();
        while let Some(this) = self.src.peek() {
            if this == "|" || this == ")" {
                break;
            }
            let start = self.src.tell();
            self.src.advance()?;
            if verbose {
                if matches!(this, " " | "\t" | "\n" | "\r" | "\x0B" | "\x0C") {
                    continue;
                }
                if this == "#" {
                    loop {
                        match self.src.get()? {
                            None | Some((_, "\n")) => break,
                            _ => {}
                        }
                    }
                    continue;
                }
            }
            let c = first_char(this);
            if c == '\\' {
                let node = self.escape(this, start)?;
                seq.push(node);
            } else if !".[{()*+?^$|".contains(c) {
                seq.push(Node::Lit {
                    c: c as u32,
                    span: (start, self.src.tell()),
                });
            } else if c == '[' {
                let node = self.parse_class(start)?;
                seq.push(node);
            } else if "*+?{".contains(c) {
                self.parse_repeat(c, start, &mut seq)?;
            } else if c == '.' {
                seq.push(Node::Any {
                    span: (start, self.src.tell()),
                });
            } else if c == '(' {
                match self.parse_group(start, verbose, nested, first && seq.is_empty())? {
                    GroupOutcome::Node(node) => seq.push(node),
                    GroupOutcome::Nothing => {}
                    GroupOutcome::GlobalFlags => verbose = self.flags & F_X != 0,
                }
            } else if c == '^' {
                seq.push(Node::At {
                    at: At::Beginning,
                    span: (start, self.src.tell()),
                });
            } else {
                // '$'
                seq.push(Node::At {
                    at: At::End,
                    span: (start, self.src.tell()),
                });
            }
        }
        Ok(Node::Seq {
            items: seq,
            span: (seq_start, self.src.tell()),
        })
    }
}

enum GroupOutcome {
    Node(Node),
    /// A comment `(?#…)`.
    Nothing,
    /// Global flags `(?i)`; `Parser::flags` was updated.
    GlobalFlags,
}

impl<'a> Parser<'a> {
    fn escape(&mut self, this: &'a str, start: usize) -> PResult<Node> {
        let c = escaped_char(this);
        let at = |at: At, p: &Self| Node::At {
            at,
            span: (start, p.src.tell()),
        };
        match c {
            'A' => return Ok(at(At::BeginString, self)),
            'b' => return Ok(at(At::Boundary, self)),
            'B' => return Ok(at(At::NonBoundary, self)),
            'Z' => return Ok(at(At::EndString, self)),
            _ => {}
        }
        if let Some(cat) = category(c) {
            return Ok(Node::Class {
                negate: false,
                items: vec![Item::Cat(cat)],
                span: (start, self.src.tell()),
            });
        }
        let lit = |v: u32, p: &Self| Node::Lit {
            c: v,
            span: (start, p.src.tell()),
        };
        if let Some(v) = simple_escape(c) {
            return Ok(lit(v, self));
        }
        match c {
            'x' | 'u' | 'U' | 'N' => {
                let v = self.escape_code(c, start)?;
                Ok(lit(v, self))
            }
            '0' => {
                let digits = self.src.getwhile(2, is_oct)?;
                let v = u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0);
                Ok(lit(v, self))
            }
            '1'..='9' => {
                let mut digits = String::from(c);
                if let Some(d) = self.src.peek_char_if(|d| d.is_ascii_digit()) {
                    self.src.advance()?;
                    digits.push(d);
                    if is_oct(c) && is_oct(d) {
                        if let Some(e) = self.src.peek_char_if(is_oct) {
                            self.src.advance()?;
                            digits.push(e);
                            let v = u32::from_str_radix(&digits, 8).unwrap_or(u32::MAX);
                            if v > 0o377 {
                                return Err(perr(
                                    start,
                                    self.src.tell(),
                                    format!("octal escape value \\{digits} outside of range 0-0o377"),
                                    "octal escapes go up to \\377; use \\uXXXX for larger code points",
                                ));
                            }
                            return Ok(lit(v, self));
                        }
                    }
                }
                let group: usize = digits.parse().unwrap_or(usize::MAX);
                let span = (start, self.src.tell());
                if group < self.groups() {
                    if !self.checkgroup(group) {
                        return Err(perr(
                            span.0,
                            span.1,
                            "cannot refer to an open group",
                            "a back-reference must come after the closing parenthesis of its group",
                        ));
                    }
                    self.checklookbehindgroup(group, span)?;
                    return Ok(Node::Backref { group, span });
                }
                Err(perr(
                    start + 1,
                    span.1,
                    format!("invalid group reference {group}"),
                    format!(
                        "only {} group(s) are defined before this point; write \\0{} or [{}] for an octal escape",
                        self.groups() - 1,
                        &digits,
                        &digits
                    ),
                ))
            }
            c if c.is_ascii_alphabetic() => Err(bad_escape(this, start, self.src.tell())),
            c => Ok(lit(c as u32, self)),
        }
    }

    /// `\x..`, `\u....`, `\U........` and `\N{...}` (rejected).
    fn escape_code(&mut self, c: char, start: usize) -> PResult<u32> {
        if c == 'N' {
            if !self.src.matches("{")? {
                return Err(perr(
                    start,
                    self.src.tell(),
                    "missing {",
                    "write \\N{CHARACTER NAME}",
                ));
            }
            self.src.getuntil('}', "character name")?;
            return Err(perr(
                start,
                self.src.tell(),
                "named Unicode escapes \\N{...} are not supported",
                "write the character itself, or its code as \\uXXXX or \\UXXXXXXXX",
            ));
        }
        let n = match c {
            'x' => 2,
            'u' => 4,
            _ => 8,
        };
        let digits = self.src.getwhile(n, |d| d.is_ascii_hexdigit())?;
        if digits.len() != n {
            return Err(perr(
                start,
                self.src.tell(),
                format!("incomplete escape \\{c}{digits}"),
                format!("\\{c} needs exactly {n} hexadecimal digits"),
            ));
        }
        let v = u32::from_str_radix(&digits, 16).unwrap_or(u32::MAX);
        if v > 0x10FFFF {
            return Err(perr(
                start,
                self.src.tell(),
                format!("bad escape \\{c}{digits}"),
                "Unicode code points go up to \\U0010FFFF",
            ));
        }
        Ok(v)
    }

    fn class_escape(&mut self, this: &'a str, start: usize) -> PResult<Item> {
        let c = escaped_char(this);
        if c == 'b' {
            return Ok(Item::Lit(8));
        }
        if let Some(v) = simple_escape(c) {
            return Ok(Item::Lit(v));
        }
        if let Some(cat) = category(c) {
            return Ok(Item::Cat(cat));
        }
        match c {
            'x' | 'u' | 'U' | 'N' => Ok(Item::Lit(self.escape_code(c, start)?)),
            '0'..='7' => {
                let digits = self.src.getwhile(2, is_oct)?;
                let v = u32::from_str_radix(&format!("{c}{digits}"), 8).unwrap_or(u32::MAX);
                if v > 0o377 {
                    return Err(perr(
                        start,
                        self.src.tell(),
                        format!("octal escape value \\{c}{digits} outside of range 0-0o377"),
                        "octal escapes go up to \\377; use \\uXXXX for larger code points",
                    ));
                }
                Ok(Item::Lit(v))
            }
            c if c.is_ascii_alphanumeric() => Err(bad_escape(this, start, self.src.tell())),
            c => Ok(Item::Lit(c as u32)),
        }
    }

    fn parse_class(&mut self, here: usize) -> PResult<Node> {
        let unterminated = |_: &Self| {
            perr(
                here,
                here + 1,
                "unterminated character set",
                "close the set opened here with ']' (a literal '[' is written \\[)",
            )
        };
        let mut set: Vec<Item> = Vec::new();
        let negate = self.src.matches("^")?;
        loop {
            let Some((tstart, this)) = self.src.get()? else {
                return Err(unterminated(self));
            };
            if this == "]" && !set.is_empty() {
                break;
            }
            let code1 = if this.starts_with('\\') {
                self.class_escape(this, tstart)?
            } else {
                Item::Lit(first_char(this) as u32)
            };
            if self.src.matches("-")? {
                let Some((ustart, that)) = self.src.get()? else {
                    return Err(unterminated(self));
                };
                if that == "]" {
                    set.push(code1);
                    set.push(Item::Lit('-' as u32));
                    break;
                }
                let code2 = if that.starts_with('\\') {
                    self.class_escape(that, ustart)?
                } else {
                    Item::Lit(first_char(that) as u32)
                };
                let bad = |p: &Self| {
                    perr(
                        tstart,
                        p.src.tell(),
                        format!("bad character range {this}-{that}"),
                        "a range goes from a lower to a higher single character; escape a literal '-' as \\-",
                    )
                };
                match (code1, code2) {
                    (Item::Lit(lo), Item::Lit(hi)) if lo <= hi => set.push(Item::Range(lo, hi)),
                    _ => return Err(bad(self)),
                }
            } else {
                set.push(code1);
            }
        }
        Ok(Node::Class {
            negate,
            items: set,
            span: (here, self.src.tell()),
        })
    }

    fn parse_repeat(&mut self, c: char, start: usize, seq: &mut Vec<Node>) -> PResult<()> {
        let here = self.src.tell();
        let (min, max) = match c {
            '?' => (0, 1),
            '*' => (0, MAXREPEAT),
            '+' => (1, MAXREPEAT),
            _ => {
                let literal = Node::Lit {
                    c: '{' as u32,
                    span: (start, here),
                };
                if self.src.peek() == Some("}") {
                    seq.push(literal);
                    return Ok(());
                }
                let lo = self.src.getwhile(usize::MAX, |d| d.is_ascii_digit())?;
                let hi = if self.src.matches(",")? {
                    self.src.getwhile(usize::MAX, |d| d.is_ascii_digit())?
                } else {
                    lo.clone()
                };
                if !self.src.matches("}")? {
                    seq.push(literal);
                    self.src.seek(here)?;
                    return Ok(());
                }
                let count = |digits: &str, p: &Self| -> PResult<u64> {
                    match digits.parse::<u64>() {
                        Ok(v) if v < MAXREPEAT => Ok(v),
                        _ => Err(perr(
                            start,
                            p.src.tell(),
                            "the repetition number is too large",
                            format!("repeat counts must be below {MAXREPEAT}"),
                        )),
                    }
                };
                let min = if lo.is_empty() { 0 } else { count(&lo, self)? };
                let max = if hi.is_empty() {
                    MAXREPEAT
                } else {
                    let max = count(&hi, self)?;
                    if max < min {
                        return Err(perr(
                            here,
                            self.src.tell(),
                            "min repeat greater than max repeat",
                            "write {min,max} with min <= max",
                        ));
                    }
                    max
                };
                (min, max)
            }
        };
        let item = match seq.pop() {
            None | Some(Node::At { .. }) => return Err(perr(
                start,
                self.src.tell(),
                "nothing to repeat",
                "a repeat must follow something that consumes text; escape a literal one with \\",
            )),
            Some(Node::Repeat { .. }) => {
                return Err(perr(
                    start,
                    self.src.tell(),
                    "multiple repeat",
                    "wrap the repeated part in (?:...) before repeating it again",
                ))
            }
            Some(item) => item,
        };
        let rep = if self.src.matches("?")? {
            Rep::Lazy
        } else if self.src.matches("+")? {
            Rep::Possessive
        } else {
            Rep::Greedy
        };
        let end = self.src.tell();
        seq.push(Node::Repeat {
            min,
            max,
            rep,
            span: (item.span().0, end),
            body: Box::new(item),
            qspan: (start, end),
        });
        Ok(())
    }

    fn unterminated_group(&self, start: usize) -> PatternError {
        perr(
            start,
            start + 1,
            "missing ), unterminated subpattern",
            "close the group opened here with ')' (escape a literal parenthesis as \\()",
        )
    }

    fn unexpected_end(&self, start: usize) -> PatternError {
        perr(
            start,
            self.src.s.len(),
            "unexpected end of pattern",
            "complete the group opened here",
        )
    }

    fn parse_group(
        &mut self,
        start: usize,
        verbose: bool,
        nested: usize,
        at_start: bool,
    ) -> PResult<GroupOutcome> {
        let mut capture = true;
        let mut atomic = false;
        let mut name: Option<(String, usize)> = None;
        let mut add = 0;
        let mut del = 0;
        if self.src.matches("?")? {
            let Some((cstart, ch)) = self.src.get()? else {
                return Err(self.unexpected_end(start));
            };
            match ch {
                "P" => {
                    if self.src.matches("<")? {
                        let (n, ns) = self.src.getuntil('>', "group name")?;
                        self.checkgroupname(&n, ns)?;
                        name = Some((n, ns));
                    } else if self.src.matches("=")? {
                        let (n, ns) = self.src.getuntil(')', "group name")?;
                        self.checkgroupname(&n, ns)?;
                        let nspan = (ns, ns + n.len());
                        let Some(gid) = self.group_index(&n) else {
                            return Err(perr(
                                nspan.0,
                                nspan.1,
                                format!("unknown group name '{n}'"),
                                "(?P=name) must name a group defined before it",
                            ));
                        };
                        if !self.checkgroup(gid) {
                            return Err(perr(
                                nspan.0,
                                nspan.1,
                                "cannot refer to an open group",
                                "a back-reference must come after the closing parenthesis of its group",
                            ));
                        }
                        let span = (start, self.src.tell());
                        self.checklookbehindgroup(gid, span)?;
                        return Ok(GroupOutcome::Node(Node::Backref { group: gid, span }));
                    } else {
                        let Some((s, t)) = self.src.get()? else {
                            return Err(self.unexpected_end(start));
                        };
                        return Err(perr(
                            cstart - 1,
                            s + t.len(),
                            format!("unknown extension ?P{t}"),
                            "write (?P<name>...) for a named group or (?P=name) for a back-reference",
                        ));
                    }
                }
                ":" => capture = false,
                "#" => loop {
                    if self.src.peek().is_none() {
                        return Err(perr(
                            start,
                            start + 1,
                            "missing ), unterminated comment",
                            "end the comment with ')'",
                        ));
                    }
                    if matches!(self.src.get()?, Some((_, ")"))) {
                        return Ok(GroupOutcome::Nothing);
                    }
                },
                "=" | "!" | "<" => {
                    let mut negate = ch == "!";
                    let mut saved = None;
                    if ch == "<" {
                        let Some((s2, c2)) = self.src.get()? else {
                            return Err(self.unexpected_end(start));
                        };
                        if c2 != "=" && c2 != "!" {
                            let help = if is_identifier(c2) {
                                "Python 3.11 does not accept (?<name>...): write (?P<name>...) for a named group"
                            } else {
                                "write (?<=...) or (?<!...) for a look-behind"
                            };
                            return Err(perr(cstart - 1, s2 + c2.len(), format!("unknown extension ?<{c2}"), help));
                        }
                        negate = c2 == "!";
                        saved = Some(self.lookbehind_groups);
                        if self.lookbehind_groups.is_none() {
                            self.lookbehind_groups = Some(self.groups());
                        }
                    }
                    let body = self.parse_sub(verbose, nested + 1)?;
                    if saved == Some(None) {
                        self.lookbehind_groups = None;
                    }
                    if !self.src.matches(")")? {
                        return Err(self.unterminated_group(start));
                    }
                    return Ok(GroupOutcome::Node(Node::Look {
                        behind: saved.is_some(),
                        negate,
                        body: Box::new(body),
                        span: (start, self.src.tell()),
                    }));
                }
                "(" => return self.parse_conditional(start, verbose, nested).map(GroupOutcome::Node),
                ">" => {
                    capture = false;
                    atomic = true;
                }
                t if flag_of(t).is_some() || t == "-" => match self.parse_flags(t, cstart)? {
                    None => {
                        let span = (start, self.src.tell());
                        if !at_start {
                            return Err(perr(
                                span.0,
                                span.1,
                                "global flags not at the start of the expression",
                                "move these flags to the very start of the pattern, or scope them as (?flags:...)",
                            ));
                        }
                        if self.flags & F_T != 0 && self.template_span.is_none() {
                            self.template_span = Some(span);
                        }
                        if self.src.s[span.0..span.1].contains(['a', 'u']) {
                            self.type_flag_span = span;
                        }
                        return Ok(GroupOutcome::GlobalFlags);
                    }
                    Some((a, d)) => {
                        add = a;
                        del = d;
                        capture = false;
                    }
                },
                t => {
                    return Err(perr(
                        cstart - 1,
                        cstart + t.len(),
                        format!("unknown extension ?{t}"),
                        "Python groups are (...), (?:...), (?P<name>...), (?P=name), (?#...), (?=...), (?!...), (?<=...), (?<!...), (?(group)yes|no), (?>...) and (?flags:...)",
                    ))
                }
            }
        }
        let group = if capture {
            let gid = self.groups();
            self.closed.push(false);
            if let Some((n, ns)) = &name {
                if let Some(old) = self.group_index(n) {
                    return Err(perr(
                        *ns,
                        ns + n.len(),
                        format!("redefinition of group name '{n}' as group {gid}; was group {old}"),
                        "give each named group its own name",
                    ));
                }
                self.names.push((n.clone(), gid));
            }
            Some(gid)
        } else {
            None
        };
        let sub_verbose = (verbose || add & F_X != 0) && del & F_X == 0;
        let body = self.parse_sub(sub_verbose, nested + 1)?;
        if !self.src.matches(")")? {
            return Err(self.unterminated_group(start));
        }
        if let Some(g) = group {
            self.closed[g] = true;
        }
        let span = (start, self.src.tell());
        let body = Box::new(body);
        Ok(GroupOutcome::Node(if atomic {
            Node::Atomic { body, span }
        } else {
            Node::Group {
                index: group,
                add,
                del,
                body,
                span,
            }
        }))
    }

    fn group_index(&self, name: &str) -> Option<usize> {
        self.names.iter().find(|(n, _)| n == name).map(|&(_, i)| i)
    }

    fn parse_conditional(&mut self, start: usize, verbose: bool, nested: usize) -> PResult<Node> {
        let (cond, ns) = self.src.getuntil(')', "group name")?;
        let nspan = (ns, ns + cond.len());
        let group = if is_identifier(&cond) {
            match self.group_index(&cond) {
                Some(g) => g,
                None => {
                    return Err(perr(
                        nspan.0,
                        nspan.1,
                        format!("unknown group name '{cond}'"),
                        "a conditional by name must name a group defined before it",
                    ))
                }
            }
        } else {
            if !cond.bytes().all(|b| b.is_ascii_digit()) {
                return Err(perr(
                    nspan.0,
                    nspan.1,
                    format!("bad character in group name '{cond}'"),
                    "write the group number with ASCII digits only, or a group name",
                ));
            }
            let g: u64 = cond.parse().unwrap_or(u64::MAX);
            if g == 0 {
                return Err(perr(
                    nspan.0,
                    nspan.1,
                    "bad group number",
                    "groups are numbered from 1",
                ));
            }
            if g >= MAXGROUPS {
                return Err(perr(
                    nspan.0,
                    nspan.1,
                    format!("invalid group reference {cond}"),
                    "the pattern does not have that many groups",
                ));
            }
            if !self.groupref_pos.iter().any(|&(x, _)| x == g) {
                self.groupref_pos.push((g, nspan));
            }
            g as usize
        };
        self.checklookbehindgroup(group, nspan)?;
        if group < self.groups() && !self.closed[group] {
            return Err(perr(
                nspan.0,
                nspan.1,
                "a conditional inside the group it tests is not supported",
                "fancy-regex and Python disagree on whether a group that is still open has matched: move the conditional after the group",
            ));
        }
        let yes = self.parse_seq(verbose, nested + 1, false)?;
        let no = if self.src.matches("|")? {
            let no = self.parse_seq(verbose, nested + 1, false)?;
            if self.src.peek() == Some("|") {
                let t = self.src.tell();
                return Err(perr(
                    t,
                    t + 1,
                    "conditional backref with more than two branches",
                    "a conditional has at most a yes and a no branch: wrap alternatives in (?:...)",
                ));
            }
            Some(Box::new(no))
        } else {
            None
        };
        if !self.src.matches(")")? {
            return Err(self.unterminated_group(start));
        }
        Ok(Node::Cond {
            group,
            yes: Box::new(yes),
            no,
            span: (start, self.src.tell()),
        })
    }

    /// Python's `_parse_flags`; `None` for global flags (already applied).
    fn parse_flags(&mut self, first: &'a str, first_start: usize) -> PResult<Option<(u16, u16)>> {
        let mut ch = first;
        let mut ch_start = first_start;
        let mut add = 0u16;
        let mut del = 0u16;
        let at_ch = |s: usize, t: &str, msg: &str, help: &str| perr(s, s + t.len(), msg, help);
        let flags_help =
            "flags are a, i, L, m, s, u, x: write (?flags), (?flags:...) or (?flags-flags:...)";
        if ch != "-" {
            loop {
                let flag = flag_of(ch).unwrap_or(0);
                if flag == F_L {
                    return Err(at_ch(
                        ch_start,
                        ch,
                        "bad inline flags: cannot use 'L' flag with a str pattern",
                        "remove the L flag: str patterns are always matched with Unicode rules",
                    ));
                }
                add |= flag;
                if flag & TYPE_FLAGS != 0 && add & TYPE_FLAGS != flag {
                    return Err(at_ch(
                        ch_start,
                        ch,
                        "bad inline flags: flags 'a', 'u' and 'L' are incompatible",
                        "use only one of a and u",
                    ));
                }
                let Some((s, t)) = self.src.get()? else {
                    let e = self.src.tell();
                    return Err(perr(e, e, "missing -, : or )", flags_help));
                };
                ch = t;
                ch_start = s;
                if ch == ")" || ch == "-" || ch == ":" {
                    break;
                }
                if flag_of(ch).is_none() {
                    let msg = if is_alpha_token(ch) {
                        "unknown flag"
                    } else {
                        "missing -, : or )"
                    };
                    return Err(at_ch(ch_start, ch, msg, flags_help));
                }
            }
        }
        if ch == ")" {
            self.flags |= add;
            return Ok(None);
        }
        if add & GLOBAL_FLAGS != 0 {
            return Err(at_ch(
                ch_start,
                ch,
                "bad inline flags: cannot turn on global flag",
                "the t flag cannot be scoped",
            ));
        }
        if ch == "-" {
            let Some((s, t)) = self.src.get()? else {
                let e = self.src.tell();
                return Err(perr(e, e, "missing flag", flags_help));
            };
            ch = t;
            ch_start = s;
            if flag_of(ch).is_none() {
                let msg = if is_alpha_token(ch) {
                    "unknown flag"
                } else {
                    "missing flag"
                };
                return Err(at_ch(ch_start, ch, msg, flags_help));
            }
            loop {
                let flag = flag_of(ch).unwrap_or(0);
                if flag & TYPE_FLAGS != 0 {
                    return Err(at_ch(
                        ch_start,
                        ch,
                        "bad inline flags: cannot turn off flags 'a', 'u' and 'L'",
                        "turn on the other type flag instead, e.g. (?u:...) inside (?a)",
                    ));
                }
                del |= flag;
                let Some((s, t)) = self.src.get()? else {
                    let e = self.src.tell();
                    return Err(perr(e, e, "missing :", flags_help));
                };
                ch = t;
                ch_start = s;
                if ch == ":" {
                    break;
                }
                if flag_of(ch).is_none() {
                    let msg = if is_alpha_token(ch) {
                        "unknown flag"
                    } else {
                        "missing :"
                    };
                    return Err(at_ch(ch_start, ch, msg, flags_help));
                }
            }
        }
        if del & GLOBAL_FLAGS != 0 {
            return Err(at_ch(
                ch_start,
                ch,
                "bad inline flags: cannot turn off global flag",
                "the t flag cannot be scoped",
            ));
        }
        if add & del != 0 {
            return Err(at_ch(
                ch_start,
                ch,
                "bad inline flags: flag turned on and off",
                "a flag cannot be both added and removed",
            ));
        }
        Ok(Some((add, del)))
    }
}

fn bad_escape(this: &str, start: usize, end: usize) -> PatternError {
    perr(
        start,
        end,
        format!("bad escape {this}"),
        "Python rejects unknown escapes of ASCII letters and digits; remove the backslash, or write \\\\ for a literal backslash",
    )
}

fn simple_escape(c: char) -> Option<u32> {
    Some(match c {
        'a' => 7,
        'f' => 12,
        'n' => 10,
        'r' => 13,
        't' => 9,
        'v' => 11,
        '\\' => 92,
        _ => return None,
    })
}

fn category(c: char) -> Option<Cat> {
    Some(match c {
        'd' => Cat::Digit,
        'D' => Cat::NotDigit,
        's' => Cat::Space,
        'S' => Cat::NotSpace,
        'w' => Cat::Word,
        'W' => Cat::NotWord,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Checks done by Python's compiler, and features refused here
// ---------------------------------------------------------------------------

fn cap_width(lo: u64, hi: u64) -> (u64, u64) {
    (lo.min(MAXREPEAT - 1), hi.min(MAXREPEAT))
}

/// Python's `getwidth` (min, max), with the compiler's look-behind check and
/// this module's own refusals.
fn check(node: &Node, flags: u16, widths: &mut Vec<(u64, u64)>) -> PResult<(u64, u64)> {
    Ok(match node {
        Node::Lit { .. } | Node::Class { .. } | Node::Any { .. } => (1, 1),
        Node::At { .. } => (0, 0),
        Node::Group {
            index,
            add,
            del,
            body,
            ..
        } => {
            let w = check(body, combine(flags, *add, *del), widths)?;
            if let Some(i) = index {
                widths[*i] = w;
            }
            w
        }
        Node::Atomic { body, .. } => check(body, flags, widths)?,
        Node::Seq { items, .. } => {
            let (mut lo, mut hi) = (0u64, 0u64);
            for it in items {
                let (a, b) = check(it, flags, widths)?;
                lo = lo.saturating_add(a);
                hi = hi.saturating_add(b);
            }
            cap_width(lo, hi)
        }
        Node::Alt { branches, .. } => {
            let (mut lo, mut hi) = (MAXREPEAT - 1, 0u64);
            for b in branches {
                let (a, c) = check(b, flags, widths)?;
                lo = lo.min(a);
                hi = hi.max(c);
            }
            cap_width(lo, hi)
        }
        Node::Repeat {
            min,
            max,
            rep,
            body,
            qspan,
            ..
        } => {
            let (lo, hi) = check(body, flags, widths)?;
            if *rep == Rep::Possessive && *max > 1 && has_capture(body) {
                return Err(perr(
                    qspan.0,
                    qspan.1,
                    "capturing group inside a possessive repeat",
                    "Python 3.11 records wrong group positions here (a CPython bug): write an atomic group instead, e.g. (?>(?:(a)|b)*) for (?:(a)|b)*+",
                ));
            }
            if *max > 1
                && min != max
                && lo == 0
                && !zero_width(body)
                && has_nullable_capture(body, widths)
            {
                return Err(perr(
                    qspan.0,
                    qspan.1,
                    "repeat of a part that can match the empty string through a capturing group",
                    "Python keeps the captures of a last empty iteration and Rust engines do not: make the capturing group non-empty (e.g. (a+)* instead of (a*)*), or move it out of the repeat",
                ));
            }
            cap_width(lo.saturating_mul(*min), hi.saturating_mul(*max))
        }
        Node::Backref { group, .. } => widths[*group],
        Node::Look {
            behind, body, span, ..
        } => {
            let (lo, hi) = check(body, flags, widths)?;
            if *behind && lo != hi {
                return Err(perr(
                    span.0,
                    span.1,
                    "look-behind requires fixed-width pattern",
                    "every way through a look-behind must match the same number of characters",
                ));
            }
            (0, 0)
        }
        Node::Cond { yes, no, .. } => {
            let (a, b) = check(yes, flags, widths)?;
            match no {
                Some(no) => {
                    let (c, d) = check(no, flags, widths)?;
                    (a.min(c), b.max(d))
                }
                None => (0, b),
            }
        }
    })
}

fn has_capture(node: &Node) -> bool {
    match node {
        Node::Lit { .. }
        | Node::Class { .. }
        | Node::Any { .. }
        | Node::At { .. }
        | Node::Backref { .. } => false,
        Node::Group { index, body, .. } => index.is_some() || has_capture(body),
        Node::Atomic { body, .. } | Node::Repeat { body, .. } | Node::Look { body, .. } => {
            has_capture(body)
        }
        Node::Seq { items, .. } => items.iter().any(has_capture),
        Node::Alt { branches, .. } => branches.iter().any(has_capture),
        Node::Cond { yes, no, .. } => has_capture(yes) || no.as_deref().is_some_and(has_capture),
    }
}

/// The node never consumes anything (Python's maximum width is 0); its
/// repeats are written without a quantifier, see [`Emitter::node`].
fn zero_width(node: &Node) -> bool {
    match node {
        Node::Lit { .. } | Node::Class { .. } | Node::Any { .. } | Node::Backref { .. } => false,
        Node::At { .. } | Node::Look { .. } => true,
        Node::Group { body, .. } | Node::Atomic { body, .. } => zero_width(body),
        Node::Seq { items, .. } => items.iter().all(zero_width),
        Node::Alt { branches, .. } => branches.iter().all(zero_width),
        Node::Repeat { max, body, .. } => *max == 0 || zero_width(body),
        Node::Cond { yes, no, .. } => {
            zero_width(yes)
                && match no {
                    Some(no) => zero_width(no),
                    None => true,
                }
        }
    }
}

fn has_nullable_capture(node: &Node, widths: &[(u64, u64)]) -> bool {
    match node {
        Node::Lit { .. }
        | Node::Class { .. }
        | Node::Any { .. }
        | Node::At { .. }
        | Node::Backref { .. } => false,
        Node::Group { index, body, .. } => {
            index.is_some_and(|i| widths[i].0 == 0) || has_nullable_capture(body, widths)
        }
        Node::Atomic { body, .. } | Node::Repeat { body, .. } | Node::Look { body, .. } => {
            has_nullable_capture(body, widths)
        }
        Node::Seq { items, .. } => items.iter().any(|n| has_nullable_capture(n, widths)),
        Node::Alt { branches, .. } => branches.iter().any(|n| has_nullable_capture(n, widths)),
        Node::Cond { yes, no, .. } => {
            has_nullable_capture(yes, widths)
                || no.as_ref().is_some_and(|n| has_nullable_capture(n, widths))
        }
    }
}

// ---------------------------------------------------------------------------
// Emission of the Rust pattern
// ---------------------------------------------------------------------------

/// The pattern needs the fancy engine.
struct NeedFancy;

/// A class that never matches (used for lone surrogates, which no Rust string
/// holds).
const NEVER: &str = r"[^\x00-\x{10FFFF}]";
/// Python's `\s` for str patterns (`str.isspace` characters).
const SPACE_ITEMS: &str = r"\x09-\x0D\x1C-\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";
const ASCII_WORD: &str = "[0-9A-Za-z_]";

struct Emitter {
    out: String,
    spans: Vec<SpanMap>,
    fancy: bool,
    /// Translate for an empty subject, where Python's `\B` never matches.
    empty_subject: bool,
    /// Write Unicode `\b`/`\B` with Python's word characters (look-arounds).
    exact_words: bool,
    next_group: usize,
    slots: Vec<usize>,
    newline_groups: Vec<usize>,
    has_non_boundary: bool,
    has_rust_boundary: bool,
    /// Number of enclosing repeats that may run their body more than once.
    loops: usize,
    /// A case-insensitive back-reference was emitted.
    casei_backref: bool,
}

fn rust_i(flags: u16) -> bool {
    flags & F_I != 0 && flags & F_A == 0
}

/// What a translation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The main translation.
    Normal,
    /// For the empty subject, where Python's `\B` never matches.
    EmptySubject,
    /// For subjects holding a character of [`WORD_MISMATCH`]: word
    /// boundaries with Python's word characters, as look-arounds.
    ExactWords,
}

struct Emitted {
    translated: Translated,
    /// A `\B` was emitted.
    has_non_boundary: bool,
    /// A `\b` or `\B` with Rust's Unicode word characters was emitted.
    has_rust_boundary: bool,
}

fn emit(parsed: &Parsed, source: &str, engine: Engine, mode: Mode) -> Result<Emitted, NeedFancy> {
    let mut e = Emitter {
        out: String::new(),
        spans: Vec::new(),
        fancy: engine == Engine::Fancy,
        empty_subject: mode == Mode::EmptySubject,
        exact_words: mode == Mode::ExactWords || (mode == Mode::Normal && engine == Engine::Fancy),
        next_group: 1,
        slots: vec![0; parsed.group_count + 1],
        newline_groups: Vec::new(),
        has_non_boundary: false,
        has_rust_boundary: false,
        loops: 0,
        casei_backref: false,
    };
    if rust_i(parsed.flags) {
        e.out.push_str("(?i)");
    }
    e.node(&parsed.root, parsed.flags, true)?;
    Ok(Emitted {
        translated: Translated {
            source: source.to_string(),
            pattern: e.out,
            engine,
            spans: e.spans,
            group_count: parsed.group_count,
            group_names: parsed.names.clone(),
            group_slots: e.slots,
            newline_groups: e.newline_groups,
            for_empty_subject: None,
            for_word_mismatch: None,
            ascii_subjects_only: e.casei_backref,
        },
        has_non_boundary: e.has_non_boundary,
        has_rust_boundary: e.has_rust_boundary,
    })
}

/// The main translation (for the given engine, else the `regex` one when
/// possible) with its variants.
fn emit_all(
    parsed: &Parsed,
    source: &str,
    engine: Option<Engine>,
) -> Result<Translated, NeedFancy> {
    let emit_any = |mode| {
        emit(parsed, source, Engine::Regex, mode)
            .or_else(|NeedFancy| emit(parsed, source, Engine::Fancy, mode))
    };
    let main = match engine {
        Some(engine) => emit(parsed, source, engine, Mode::Normal)?,
        None => emit_any(Mode::Normal)?,
    };
    let mut t = main.translated;
    if main.has_rust_boundary {
        t.for_word_mismatch = Some(Box::new(
            emit(parsed, source, Engine::Fancy, Mode::ExactWords)?.translated,
        ));
    }
    if main.has_non_boundary {
        t.for_empty_subject = Some(Box::new(emit_any(Mode::EmptySubject)?.translated));
    }
    Ok(t)
}

fn is_atom(node: &Node) -> bool {
    !matches!(
        node,
        Node::Seq { .. } | Node::At { .. } | Node::Repeat { .. }
    )
}

fn push_quantifier(out: &mut String, min: u64, max: u64) {
    use fmt::Write as _;
    match (min, max) {
        (0, MAXREPEAT) => out.push('*'),
        (1, MAXREPEAT) => out.push('+'),
        (0, 1) => out.push('?'),
        (m, MAXREPEAT) => {
            let _ = write!(out, "{{{m},}}");
        }
        (m, n) if m == n => {
            let _ = write!(out, "{{{m}}}");
        }
        (m, n) => {
            let _ = write!(out, "{{{m},{n}}}");
        }
    }
}

fn is_control(c: char) -> bool {
    c.is_control()
}

fn push_hex(out: &mut String, c: char) {
    use fmt::Write as _;
    let _ = write!(out, "\\x{{{:X}}}", c as u32);
}

/// A literal character outside a class.
fn push_lit(out: &mut String, c: char) {
    if r"\.+*?()|[]{}^$".contains(c) {
        out.push('\\');
        out.push(c);
    } else if is_control(c) {
        push_hex(out, c);
    } else {
        out.push(c);
    }
}

/// A literal character inside a class.
fn push_class_char(out: &mut String, c: char) {
    if r"\[]^-&~".contains(c) {
        out.push('\\');
        out.push(c);
    } else if is_control(c) {
        push_hex(out, c);
    } else {
        out.push(c);
    }
}

fn push_range(out: &mut String, lo: u32, hi: u32) {
    let lo = if (0xD800..=0xDFFF).contains(&lo) {
        0xE000
    } else {
        lo
    };
    let hi = if (0xD800..=0xDFFF).contains(&hi) {
        0xD7FF
    } else {
        hi
    };
    if lo > hi {
        return;
    }
    if let (Some(a), Some(b)) = (char::from_u32(lo), char::from_u32(hi)) {
        push_class_char(out, a);
        if a != b {
            out.push('-');
            push_class_char(out, b);
        }
    }
}

fn cat_standalone(cat: Cat, ascii: bool) -> String {
    match (cat, ascii) {
        (Cat::Digit, false) => r"\d".into(),
        (Cat::NotDigit, false) => r"\D".into(),
        (Cat::Digit, true) => "[0-9]".into(),
        (Cat::NotDigit, true) => "[^0-9]".into(),
        (Cat::Word, false) => r"[\p{L}\p{N}_]".into(),
        (Cat::NotWord, false) => r"[^\p{L}\p{N}_]".into(),
        (Cat::Word, true) => ASCII_WORD.into(),
        (Cat::NotWord, true) => "[^0-9A-Za-z_]".into(),
        (Cat::Space, false) => format!("[{SPACE_ITEMS}]"),
        (Cat::NotSpace, false) => format!("[^{SPACE_ITEMS}]"),
        (Cat::Space, true) => r"[\x09-\x0D ]".into(),
        (Cat::NotSpace, true) => r"[^\x09-\x0D ]".into(),
    }
}

fn cat_in_class(cat: Cat, ascii: bool) -> String {
    match (cat, ascii) {
        (Cat::Digit, false) => r"\d".into(),
        (Cat::NotDigit, false) => r"\D".into(),
        (Cat::Digit, true) => "0-9".into(),
        (Cat::Word, false) => r"\p{L}\p{N}_".into(),
        (Cat::Word, true) => "0-9A-Za-z_".into(),
        (Cat::Space, false) => SPACE_ITEMS.into(),
        (Cat::Space, true) => r"\x09-\x0D ".into(),
        (Cat::NotDigit | Cat::NotWord | Cat::NotSpace, _) => cat_standalone(cat, ascii),
    }
}

impl Emitter {
    fn need_fancy(&self) -> Result<(), NeedFancy> {
        if self.fancy {
            Ok(())
        } else {
            Err(NeedFancy)
        }
    }

    fn node(&mut self, node: &Node, flags: u16, tail: bool) -> Result<(), NeedFancy> {
        use fmt::Write as _;
        let start = self.out.len();
        match node {
            Node::Lit { c, .. } => self.lit(*c, flags),
            Node::Class { negate, items, .. } => self.class(*negate, items, flags),
            Node::Any { .. } => self
                .out
                .push_str(if flags & F_S != 0 { "(?s:.)" } else { "." }),
            Node::At { at, .. } => self.at(*at, flags, tail)?,
            Node::Group {
                index,
                add,
                del,
                body,
                ..
            } => {
                let child = combine(flags, *add, *del);
                match index {
                    Some(g) => {
                        // fancy-regex hands "easy" parts to the regex crate,
                        // which forgets captures of groups that did not take
                        // part in its match; in a loop that erases the value
                        // of an earlier iteration, which Python keeps. An
                        // empty look-ahead makes the group "hard".
                        self.out.push_str(if self.fancy && self.loops > 0 {
                            "((?=)"
                        } else {
                            "("
                        });
                        self.slots[*g] = self.next_group;
                        self.next_group += 1;
                        self.node(body, child, false)?;
                    }
                    None => {
                        self.out.push_str(match (rust_i(flags), rust_i(child)) {
                            (a, b) if a == b => "(?:",
                            (_, true) => "(?i:",
                            _ => "(?-i:",
                        });
                        self.node(body, child, tail)?;
                    }
                }
                self.out.push(')');
            }
            Node::Atomic { body, .. } => {
                self.need_fancy()?;
                self.out.push_str("(?>");
                self.node(body, flags, false)?;
                self.out.push(')');
            }
            Node::Seq { items, .. } => {
                let n = items.len();
                for (i, it) in items.iter().enumerate() {
                    self.node(it, flags, tail && i + 1 == n)?;
                }
            }
            Node::Alt { branches, .. } => {
                self.out.push_str("(?:");
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        self.out.push('|');
                    }
                    self.node(b, flags, tail)?;
                }
                self.out.push(')');
            }
            Node::Repeat {
                min,
                max,
                rep,
                body,
                ..
            } => {
                // A repeat of nothing matches the empty string (fancy-regex
                // refuses `(?:)*`).
                if body.is_trivially_empty() {
                } else if zero_width(body) {
                    // Python stops repeating after an empty iteration, and
                    // further forced iterations at the same place change
                    // nothing: X{0,n} is an optional X and X{m,n} is X.
                    // fancy-regex refuses quantified look-arounds.
                    let (open, close) = match (min, max, rep) {
                        (_, 0, _) => ("(?:", "){0}"),
                        (0, _, Rep::Greedy) => ("(?:", "|)"),
                        (0, _, Rep::Lazy) => ("(?:|", ")"),
                        (0, _, Rep::Possessive) => {
                            self.need_fancy()?;
                            ("(?>", "|)")
                        }
                        _ => ("(?:", ")"),
                    };
                    self.out.push_str(open);
                    self.node(body, flags, false)?;
                    self.out.push_str(close);
                } else {
                    let possessive = *rep == Rep::Possessive;
                    if possessive {
                        self.need_fancy()?;
                        self.out.push_str("(?>");
                    }
                    // Python's possessive repeat also never backtracks into
                    // an iteration: X{m,n}+ is (?>(?>X){m,n}).
                    let atom = is_atom(body) && !possessive;
                    if !atom {
                        self.out.push_str(if possessive { "(?>" } else { "(?:" });
                    }
                    let looping = usize::from(*max > 1);
                    self.loops += looping;
                    self.node(body, flags, tail && *max <= 1 && !possessive)?;
                    self.loops -= looping;
                    if !atom {
                        self.out.push(')');
                    }
                    push_quantifier(&mut self.out, *min, *max);
                    if *rep == Rep::Lazy {
                        self.out.push('?');
                    }
                    if possessive {
                        self.out.push(')');
                    }
                }
            }
            Node::Backref { group, .. } => {
                // Only the fancy engine gets here, and it has no hidden groups:
                // Python group n is Rust group n.
                self.need_fancy()?;
                if flags & F_I != 0 {
                    self.casei_backref = true;
                }
                // Under ASCII, IGNORECASE is not given to Rust (see `lit`),
                // but the back-reference needs it.
                let open = if flags & F_I != 0 && !rust_i(flags) {
                    "(?i:"
                } else {
                    "(?:"
                };
                let _ = write!(self.out, "{open}\\{group})");
            }
            Node::Look {
                behind,
                negate,
                body,
                ..
            } => {
                self.need_fancy()?;
                // Python's look-arounds are atomic: once one succeeds, its
                // inner choices are final. fancy-regex would backtrack into
                // a positive one, so make its body atomic.
                self.out.push_str(match (behind, negate) {
                    (false, false) => "(?=(?>",
                    (false, true) => "(?!",
                    (true, false) => "(?<=(?>",
                    (true, true) => "(?<!",
                });
                self.node(body, flags, false)?;
                self.out.push_str(if *negate { ")" } else { "))" });
            }
            Node::Cond { group, yes, no, .. } => {
                self.need_fancy()?;
                // fancy-regex reads `(?(1)|)` as "group 1 must have
                // matched" where Python always succeeds: emit nothing then.
                if !node.is_trivially_empty() {
                    let _ = write!(self.out, "(?({group})(?:");
                    self.node(yes, flags, false)?;
                    self.out.push_str(")|(?:");
                    if let Some(no) = no {
                        self.node(no, flags, false)?;
                    }
                    self.out.push_str("))");
                }
            }
        }
        self.spans.push(SpanMap {
            rust: (start, self.out.len()),
            python: node.span(),
        });
        Ok(())
    }

    fn lit(&mut self, c: u32, flags: u16) {
        match char::from_u32(c) {
            None => self.out.push_str(NEVER),
            Some(ch) if flags & F_A != 0 && flags & F_I != 0 && ch.is_ascii_alphabetic() => {
                self.out.push('[');
                self.out.push(ch.to_ascii_uppercase());
                self.out.push(ch.to_ascii_lowercase());
                self.out.push(']');
            }
            Some(ch) => push_lit(&mut self.out, ch),
        }
    }

    fn class(&mut self, negate: bool, items: &[Item], flags: u16) {
        let ascii = flags & F_A != 0;
        let fold = ascii && flags & F_I != 0;
        // Categories are not case-folded by Python; Rust would fold them.
        let only_cats = items.iter().all(|i| matches!(i, Item::Cat(_)));
        let wrap = only_cats && rust_i(flags);
        if wrap {
            self.out.push_str("(?-i:");
        }
        if let (false, [Item::Cat(cat)]) = (negate, items) {
            self.out.push_str(&cat_standalone(*cat, ascii));
        } else {
            let mut body = String::new();
            for item in items {
                match *item {
                    Item::Lit(c) => {
                        if let Some(ch) = char::from_u32(c) {
                            push_class_char(&mut body, ch);
                            if fold && ch.is_ascii_alphabetic() {
                                push_class_char(&mut body, (ch as u8 ^ 0x20) as char);
                            }
                        }
                    }
                    Item::Range(lo, hi) => {
                        push_range(&mut body, lo, hi);
                        if fold {
                            for (a, b) in [(0x41, 0x5A), (0x61, 0x7A)] {
                                let (l, h) = (lo.max(a), hi.min(b));
                                if l <= h {
                                    push_range(&mut body, l ^ 0x20, h ^ 0x20);
                                }
                            }
                        }
                    }
                    Item::Cat(cat) => body.push_str(&cat_in_class(cat, ascii)),
                }
            }
            if body.is_empty() {
                // Only lone surrogates: a set of nothing, or of everything.
                self.out.push_str(if negate { "(?s:.)" } else { NEVER });
            } else {
                self.out.push('[');
                if negate {
                    self.out.push('^');
                }
                self.out.push_str(&body);
                self.out.push(']');
            }
        }
        if wrap {
            self.out.push(')');
        }
    }

    fn at(&mut self, at: At, flags: u16, tail: bool) -> Result<(), NeedFancy> {
        let multiline = flags & F_M != 0;
        let ascii = flags & F_A != 0;
        match at {
            At::Beginning => self.out.push_str(if multiline { "(?m:^)" } else { r"\A" }),
            At::End if multiline => self.out.push_str("(?m:$)"),
            At::End if self.fancy => self.out.push_str(r"(?=\n?\z)"),
            At::End if tail => {
                // Consumes the final "\n" in a hidden group; `Matcher::search`
                // moves the end of group 0 back before it.
                self.out.push_str(r"(?:(\n)?\z)");
                self.newline_groups.push(self.next_group);
                self.next_group += 1;
            }
            At::End => return Err(NeedFancy),
            At::BeginString => self.out.push_str(r"\A"),
            At::EndString => self.out.push_str(r"\z"),
            At::Boundary | At::NonBoundary => {
                let non = at == At::NonBoundary;
                if non {
                    self.has_non_boundary = true;
                }
                if non && self.empty_subject {
                    self.out.push_str(NEVER);
                } else if ascii && !self.fancy {
                    self.out
                        .push_str(if non { r"(?-u:\B)" } else { r"(?-u:\b)" });
                } else if ascii || self.exact_words {
                    self.need_fancy()?;
                    let w = if ascii { ASCII_WORD } else { r"[\p{L}\p{N}_]" };
                    let (inside, outside) = if non { ("=", "!") } else { ("!", "=") };
                    let _ = fmt::Write::write_fmt(
                        &mut self.out,
                        format_args!("(?-i:(?<={w})(?{inside}{w})|(?<!{w})(?{outside}{w}))"),
                    );
                } else {
                    self.has_rust_boundary = true;
                    self.out.push_str(if non { r"\B" } else { r"\b" });
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Compiled matcher
// ---------------------------------------------------------------------------

#[derive(Debug)]
enum Inner {
    Regex {
        re: ::regex::Regex,
        /// Reused across calls; a concurrent caller allocates its own.
        locs: Mutex<::regex::CaptureLocations>,
    },
    Fancy(fancy_regex::Regex),
}

impl Clone for Inner {
    fn clone(&self) -> Self {
        match self {
            Inner::Regex { re, .. } => Inner::Regex {
                re: re.clone(),
                locs: Mutex::new(re.capture_locations()),
            },
            Inner::Fancy(re) => Inner::Fancy(re.clone()),
        }
    }
}

/// A compiled matcher: `regex::Regex` or `fancy_regex::Regex` (with
/// [`BACKTRACK_LIMIT`]), with Python's group layout.
#[derive(Debug, Clone)]
pub struct Matcher {
    inner: Inner,
    /// The pattern as written.
    source: String,
    group_count: usize,
    group_names: Vec<(usize, String)>,
    /// Rust group index of each reported group (0..=group_count).
    slots: Vec<usize>,
    /// Hidden groups of a translated tail `$`.
    newline_groups: Vec<usize>,
    /// Used instead of this matcher for an empty subject.
    for_empty_subject: Option<Box<Matcher>>,
    /// Used instead of this matcher for a subject holding a character of
    /// [`WORD_MISMATCH`].
    for_word_mismatch: Option<Box<Matcher>>,
    /// See [`Translated::ascii_subjects_only`].
    ascii_subjects_only: bool,
}

fn word_mismatch(text: &str) -> bool {
    static RE: std::sync::OnceLock<::regex::Regex> = std::sync::OnceLock::new();
    !text.is_ascii()
        && RE
            .get_or_init(|| ::regex::Regex::new(WORD_MISMATCH).expect("valid WORD_MISMATCH"))
            .is_match(text)
}

/// An error of a Rust engine: where in the Rust pattern (if known), and what.
struct EngineError {
    /// Byte range in the Rust pattern.
    span: Option<(usize, usize)>,
    message: String,
    help: &'static str,
}

const GENERIC_HELP: &str = "simplify this part of the pattern";

fn regex_engine_error(e: &::regex::Error, pattern: &str) -> EngineError {
    match e {
        ::regex::Error::Syntax(s) => EngineError {
            span: caret_span(s, pattern),
            message: s
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or(s)
                .to_string(),
            help: GENERIC_HELP,
        },
        ::regex::Error::CompiledTooBig(limit) => EngineError {
            span: None,
            message: format!("the compiled pattern exceeds the size limit of {limit} bytes"),
            help: "reduce large counted repeats such as {1000} or nested repeats",
        },
        _ => EngineError {
            span: None,
            message: e.to_string(),
            help: GENERIC_HELP,
        },
    }
}

/// The byte range of `pattern` pointed at by the carets of a `regex` syntax
/// error message (single-line patterns only).
fn caret_span(message: &str, pattern: &str) -> Option<(usize, usize)> {
    if pattern.contains(['\n', '\r']) {
        return None;
    }
    let mut lines = message.lines();
    if lines.next()? != "regex parse error:" {
        return None;
    }
    lines.next()?;
    let carets = lines.next()?;
    let column = carets.find('^')?.checked_sub(4)?;
    let width = carets.trim().len();
    if width == 0 || !carets.trim().chars().all(|c| c == '^') {
        return None;
    }
    let mut offsets = pattern
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(pattern.len()));
    let start = offsets.nth(column)?;
    let end = offsets.nth(width - 1).unwrap_or(pattern.len());
    Some((start, end))
}

fn fancy_engine_error(e: &fancy_regex::Error) -> EngineError {
    match e {
        fancy_regex::Error::ParseError(pos, kind) => EngineError {
            span: Some((*pos, *pos + 1)),
            message: kind.to_string(),
            help: match kind {
                fancy_regex::ParseError::TargetNotRepeatable => {
                    "fancy-regex cannot repeat a look-around or an anchor: remove the repeat"
                }
                _ => GENERIC_HELP,
            },
        },
        fancy_regex::Error::CompileError(c) => EngineError {
            span: None,
            message: c.to_string(),
            help: match c {
                fancy_regex::CompileError::LookBehindNotConst => {
                    "fancy-regex needs a look-behind of a width it can compute: avoid back-references inside it"
                }
                _ => GENERIC_HELP,
            },
        },
        _ => EngineError {
            span: None,
            message: e.to_string(),
            help: GENERIC_HELP,
        },
    }
}

/// The time the backtracking regexes of one entry may take together.
///
/// Each backtracking match is bounded by [`BACKTRACK_LIMIT`] steps; on top
/// of that, once the backtracking matches of an entry have taken
/// [`ENTRY_BUDGET`], the next ones of that entry fail at once (their
/// filters take their `else`), so that no entry, whatever its rules and
/// text, holds the engine for long. The VM calls [`new_entry`] for each
/// entry; the clock is only read around backtracking matches, which most
/// rule sets do not have.
pub mod budget {
    use std::cell::Cell;
    use std::time::{Duration, Instant};

    /// Backtracking time allowed to one entry.
    pub const ENTRY_BUDGET: Duration = Duration::from_millis(50);

    thread_local! {
        /// Time spent by the current entry's backtracking matches; `None`
        /// outside an entry (a matcher used on its own has no budget).
        static SPENT: Cell<Option<Duration>> = const { Cell::new(None) };
    }

    /// A new entry starts: its budget is whole again.
    pub fn new_entry() {
        SPENT.with(|s| s.set(Some(Duration::ZERO)));
    }

    /// The entry is over.
    pub fn end_entry() {
        SPENT.with(|s| s.set(None));
    }

    /// Run one backtracking match within the entry's budget.
    pub fn spend<T>(run: impl FnOnce() -> T) -> Result<T, String> {
        let Some(spent) = SPENT.with(Cell::get) else {
            return Ok(run());
        };
        if spent >= ENTRY_BUDGET {
            return Err(format!(
                "the backtracking regexes of this entry took more than {} ms; skipped",
                ENTRY_BUDGET.as_millis()
            ));
        }
        let start = Instant::now();
        let out = run();
        SPENT.with(|s| s.set(Some(spent + start.elapsed())));
        Ok(out)
    }
}

fn runtime_error(e: &fancy_regex::Error) -> String {
    match e {
        fancy_regex::Error::RuntimeError(fancy_regex::RuntimeError::BacktrackLimitExceeded) => {
            format!(
                "the pattern needed more than {BACKTRACK_LIMIT} backtracking steps on this text"
            )
        }
        _ => format!("the backtracking engine failed on this text: {e}"),
    }
}

fn build_fancy(pattern: &str) -> Result<fancy_regex::Regex, EngineError> {
    fancy_regex::RegexBuilder::new(pattern)
        .backtrack_limit(BACKTRACK_LIMIT)
        .build()
        .map_err(|e| fancy_engine_error(&e))
}

fn fancy_tree_needs_backtracking(e: &fancy_regex::Expr) -> bool {
    use fancy_regex::Expr;
    match e {
        Expr::LookAround(..)
        | Expr::Backref { .. }
        | Expr::BackrefWithRelativeRecursionLevel { .. } => true,
        Expr::Concat(v) | Expr::Alt(v) => v.iter().any(fancy_tree_needs_backtracking),
        Expr::Group(b) | Expr::AtomicGroup(b) => fancy_tree_needs_backtracking(b),
        Expr::Repeat { child, .. } => fancy_tree_needs_backtracking(child),
        Expr::Conditional {
            condition,
            true_branch,
            false_branch,
        } => [condition, true_branch, false_branch]
            .iter()
            .any(|b| fancy_tree_needs_backtracking(b)),
        _ => false,
    }
}

/// Whether a repeat holds another unbounded repeat, or an alternation, that
/// can match the same text in several ways: the shapes that make a
/// backtracking engine try exponentially many paths (`(a+)+`, `(a|aa)*`).
fn fancy_tree_nests_repeats(e: &fancy_regex::Expr, in_repeat: bool) -> bool {
    use fancy_regex::Expr;
    match e {
        Expr::Repeat { child, hi, .. } => {
            let unbounded = *hi == usize::MAX;
            (in_repeat && unbounded) || fancy_tree_nests_repeats(child, in_repeat || unbounded)
        }
        Expr::Alt(v) => {
            (in_repeat && v.len() > 1) || v.iter().any(|c| fancy_tree_nests_repeats(c, in_repeat))
        }
        Expr::Concat(v) => v.iter().any(|c| fancy_tree_nests_repeats(c, in_repeat)),
        Expr::Group(b) | Expr::AtomicGroup(b) => fancy_tree_nests_repeats(b, in_repeat),
        Expr::LookAround(b, _) => fancy_tree_nests_repeats(b, in_repeat),
        Expr::Conditional {
            condition,
            true_branch,
            false_branch,
        } => [condition, true_branch, false_branch]
            .iter()
            .any(|b| fancy_tree_nests_repeats(b, in_repeat)),
        _ => false,
    }
}

impl Matcher {
    /// Whether the pattern runs on the backtracking engine and nests
    /// repeats so that some texts may need exponentially many steps (each
    /// match is still bounded, see [`budget`]).
    pub fn may_backtrack_exponentially(&self) -> bool {
        match &self.inner {
            Inner::Regex { .. } => false,
            Inner::Fancy(re) => fancy_regex::Expr::parse_tree(re.as_str())
                .is_ok_and(|tree| fancy_tree_nests_repeats(&tree.expr, false)),
        }
    }

    /// Translate and compile. Errors from the Rust engine are mapped back to
    /// a range of the Python source where possible (else the whole pattern).
    pub fn python(pattern: &str) -> Result<Matcher, PatternError> {
        Matcher::from_translated(&translate(pattern)?)
    }

    /// Compile the result of [`translate`].
    pub fn from_translated(t: &Translated) -> Result<Matcher, PatternError> {
        let to_python = |e: EngineError| {
            let (start, end) = e
                .span
                .map_or((0, t.source.len()), |(off, _)| t.python_span(off));
            perr(
                start,
                end,
                format!(
                    "the Rust {:?} engine cannot run this pattern: {}",
                    t.engine, e.message
                ),
                e.help,
            )
        };
        let inner = match t.engine {
            Engine::Regex => {
                let re = ::regex::Regex::new(&t.pattern)
                    .map_err(|e| to_python(regex_engine_error(&e, &t.pattern)))?;
                Inner::Regex {
                    locs: Mutex::new(re.capture_locations()),
                    re,
                }
            }
            Engine::Fancy => Inner::Fancy(build_fancy(&t.pattern).map_err(to_python)?),
        };
        let variant = |v: &Option<Box<Translated>>| -> PResult<Option<Box<Matcher>>> {
            Ok(match v {
                Some(v) => Some(Box::new(Matcher::from_translated(v)?)),
                None => None,
            })
        };
        let for_empty_subject = variant(&t.for_empty_subject)?;
        let for_word_mismatch = variant(&t.for_word_mismatch)?;
        Ok(Matcher {
            inner,
            source: t.source.clone(),
            group_count: t.group_count,
            group_names: t.group_names.clone(),
            slots: t.group_slots.clone(),
            newline_groups: t.newline_groups.clone(),
            for_empty_subject,
            for_word_mismatch,
            ascii_subjects_only: t.ascii_subjects_only,
        })
    }

    /// Compile a pattern in native syntax (Rust `regex` syntax, falling back
    /// to fancy-regex, and its syntax, only when the pattern uses look-around
    /// or back-references, which `regex` rejects).
    pub fn native(pattern: &str) -> Result<Matcher, PatternError> {
        let to_error = |e: EngineError| {
            let (start, end) = e.span.map_or((0, pattern.len()), |(start, end)| {
                let start = start.min(pattern.len());
                let mut end = end.clamp(start, pattern.len());
                while !pattern.is_char_boundary(end) {
                    end += 1;
                }
                (start, end)
            });
            let help = if e.help == GENERIC_HELP {
                "this is checked with the syntax of the Rust regex crate (and fancy-regex for look-arounds and back-references)"
            } else {
                e.help
            };
            perr(start, end, e.message, help)
        };
        let inner = match ::regex::Regex::new(pattern) {
            Ok(re) => Inner::Regex {
                locs: Mutex::new(re.capture_locations()),
                re,
            },
            Err(err) => {
                let message = err.to_string();
                let fancy = message.contains("look-around")
                    || message.contains("backreferences")
                    || fancy_regex::Expr::parse_tree(pattern)
                        .is_ok_and(|tree| fancy_tree_needs_backtracking(&tree.expr));
                if !fancy {
                    return Err(to_error(regex_engine_error(&err, pattern)));
                }
                Inner::Fancy(build_fancy(pattern).map_err(to_error)?)
            }
        };
        let names: Vec<Option<String>> = match &inner {
            Inner::Regex { re, .. } => re.capture_names().map(|n| n.map(str::to_string)).collect(),
            Inner::Fancy(re) => re.capture_names().map(|n| n.map(str::to_string)).collect(),
        };
        let group_count = names.len().saturating_sub(1);
        Ok(Matcher {
            inner,
            source: pattern.to_string(),
            group_count,
            group_names: names
                .into_iter()
                .enumerate()
                .filter_map(|(i, n)| n.map(|n| (i, n)))
                .collect(),
            slots: (0..=group_count).collect(),
            newline_groups: Vec::new(),
            for_empty_subject: None,
            for_word_mismatch: None,
            ascii_subjects_only: false,
        })
    }

    /// Number of capture groups (excluding group 0), like Python's
    /// `re.compile(p).groups`.
    pub fn group_count(&self) -> usize {
        self.group_count
    }

    /// Names of named groups with their group index, in order of index
    /// (computed at compile time; this returns a copy).
    pub fn group_names(&self) -> Vec<(usize, String)> {
        self.group_names.clone()
    }

    /// The pattern as written (Python or native syntax).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The pattern as written, between slashes: `/…/`.
    pub fn describe(&self) -> String {
        format!("/{}/", self.source)
    }

    /// The engine this matcher runs on.
    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Regex { .. } => Engine::Regex,
            Inner::Fancy(_) => Engine::Fancy,
        }
    }

    /// Python `re.search` (unanchored). On a match, fill `out` (cleared
    /// first) with one entry per group `0..=group_count`: the byte range, or
    /// `None` when the group did not take part. Returns `Ok(true)` on a match,
    /// `Ok(false)` on none, `Err(message)` when the backtracking engine hits
    /// its limit.
    pub fn search(
        &self,
        text: &str,
        out: &mut Vec<Option<(usize, usize)>>,
    ) -> Result<bool, String> {
        out.clear();
        if self.ascii_subjects_only && !text.is_ascii() {
            return Err("this pattern has a case-insensitive back-reference, which is only supported on ASCII text".into());
        }
        if text.is_empty() {
            if let Some(m) = &self.for_empty_subject {
                return m.search(text, out);
            }
        } else if let Some(m) = &self.for_word_mismatch {
            if word_mismatch(text) {
                return m.search(text, out);
            }
        }
        match &self.inner {
            Inner::Regex { re, locs } => match locs.try_lock() {
                Ok(mut locs) => Ok(self.read_regex(re, &mut locs, text, out)),
                Err(TryLockError::Poisoned(p)) => {
                    Ok(self.read_regex(re, &mut p.into_inner(), text, out))
                }
                Err(TryLockError::WouldBlock) => {
                    Ok(self.read_regex(re, &mut re.capture_locations(), text, out))
                }
            },
            Inner::Fancy(re) => {
                match budget::spend(|| re.captures(text).map_err(|e| runtime_error(&e))) {
                    Err(over) => Err(over),
                    Ok(Ok(None)) => Ok(false),
                    Ok(Ok(Some(caps))) => {
                        out.extend(
                            self.slots
                                .iter()
                                .map(|&s| caps.get(s).map(|m| (m.start(), m.end()))),
                        );
                        Ok(true)
                    }
                    Ok(Err(e)) => Err(e),
                }
            }
        }
    }

    fn read_regex(
        &self,
        re: &::regex::Regex,
        locs: &mut ::regex::CaptureLocations,
        text: &str,
        out: &mut Vec<Option<(usize, usize)>>,
    ) -> bool {
        if re.captures_read(locs, text).is_none() {
            return false;
        }
        out.extend(self.slots.iter().map(|&s| locs.get(s)));
        for &g in &self.newline_groups {
            if let (Some((nl, _)), Some(Some(whole))) = (locs.get(g), out.first_mut()) {
                whole.1 = nl;
            }
        }
        true
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What is checked, pattern, subject, expected groups (None: no match).
    type SearchCase = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static [Option<&'static str>]>,
    );

    /// (what, Python pattern, subject, groups of Python's `re.search`), the
    /// expected values printed by Python 3.11.7.
    #[rustfmt::skip]
    const SEARCH_CASES: &[SearchCase] = &[
        ("$ before a final newline, tail position", r#"Message is (?P<state>frozen|thawed)$"#, "1rABC Message is frozen\n", Some(&[Some("Message is frozen"), Some("frozen")])),
        ("$ before a final newline, tail position", r#"Message is (?P<state>frozen|thawed)$"#, "1rABC Message is frozen", Some(&[Some("Message is frozen"), Some("frozen")])),
        ("$ before a final newline, tail position", r#"Message is (?P<state>frozen|thawed)$"#, "1rABC Message is thawed\n\n", None),
        ("\\Z is the absolute end", r#"^queue (?P<n>[0-9]+)\Z"#, "queue 12", Some(&[Some("queue 12"), Some("12")])),
        ("\\Z is the absolute end", r#"^queue (?P<n>[0-9]+)\Z"#, "queue 12\n", None),
        ("[ && -- in classes are literal", r#"^token [[]([a-z&&-]+)[]] done$"#, "token [a&b-c] done", Some(&[Some("token [a&b-c] done"), Some("a&b-c")])),
        ("[ && -- in classes are literal", r#"^token [[]([a-z&&-]+)[]] done$"#, "token [abc] done", Some(&[Some("token [abc] done"), Some("abc")])),
        ("[ && -- in classes are literal", r#"^token [[]([a-z&&-]+)[]] done$"#, "token [a~b] done", None),
        ("back-reference", r#"Redirect to: https://[^/]*/sso/\?r=(.*), client: (?P<thatIP>[^,]*), request: "POST /sso/\?r=\1 HTTP/1\.1"$"#, "Redirect to: https://sso.example.org/sso/?r=/app, client: 203.0.113.9, request: \"POST /sso/?r=/app HTTP/1.1\"", Some(&[Some("Redirect to: https://sso.example.org/sso/?r=/app, client: 203.0.113.9, request: \"POST /sso/?r=/app HTTP/1.1\""), Some("/app"), Some("203.0.113.9")])),
        ("back-reference", r#"Redirect to: https://[^/]*/sso/\?r=(.*), client: (?P<thatIP>[^,]*), request: "POST /sso/\?r=\1 HTTP/1\.1"$"#, "Redirect to: https://sso.example.org/sso/?r=/app, client: 203.0.113.9, request: \"POST /sso/?r=/other HTTP/1.1\"", None),
        ("negative look-aheads", r#"^\[[A-Z](?!OTICE)(?!EBUG)[A-Z]*\] (?P<what>.*)$"#, "[NOTICE] fpm is running", None),
        ("negative look-aheads", r#"^\[[A-Z](?!OTICE)(?!EBUG)[A-Z]*\] (?P<what>.*)$"#, "[DEBUG] x", None),
        ("negative look-aheads", r#"^\[[A-Z](?!OTICE)(?!EBUG)[A-Z]*\] (?P<what>.*)$"#, "[WARNING] child 12 exited", Some(&[Some("[WARNING] child 12 exited"), Some("child 12 exited")])),
        ("look-behind and look-ahead", r#"(?<=client: )(?P<thatIP>[0-9.]+)(?=, server)"#, "open() failed, client: 198.51.100.4, server: www", Some(&[Some("198.51.100.4"), Some("198.51.100.4")])),
        ("look-behind and look-ahead", r#"(?<=client: )(?P<thatIP>[0-9.]+)(?=, server)"#, "client: 198.51.100.4 server: www", None),
        ("$ inside a group", r#"(a$)"#, "a\n", Some(&[Some("a"), Some("a")])),
        ("$ inside a group", r#"(a$)"#, "a", Some(&[Some("a"), Some("a")])),
        ("$ inside a group", r#"(a$)"#, "a\n\n", None),
        ("$ followed by more pattern", r#"a$\n"#, "a\n", Some(&[Some("a\n")])),
        ("$ followed by more pattern", r#"a$\n"#, "a\n\n", None),
        ("$ in an alternation", r#"a$|(b)"#, "a\n", Some(&[Some("a"), None])),
        ("$ in an alternation", r#"a$|(b)"#, "xb", Some(&[Some("b"), Some("b")])),
        ("$ in an alternation", r#"a$|(b)"#, "a\nb", Some(&[Some("b"), Some("b")])),
        ("$ in an optional group", r#"x(?:y$)?"#, "xy\n", Some(&[Some("xy")])),
        ("$ in an optional group", r#"x(?:y$)?"#, "xyz", Some(&[Some("x")])),
        ("multiline ^ and $", r#"(?m)^(b)$"#, "a\nb\nc", Some(&[Some("b"), Some("b")])),
        ("multiline ^ and $", r#"(?m)^(b)$"#, "a\nbc", None),
        ("multiline ^ and $", r#"(?m)^(b)$"#, "b\n", Some(&[Some("b"), Some("b")])),
        ("^ is the start of the string", r#"^a"#, "x\na", None),
        ("^ is the start of the string", r#"^a"#, "ab", Some(&[Some("a")])),
        ("scoped multiline", r#"(?m:^b)$"#, "a\nb", Some(&[Some("b")])),
        ("scoped multiline", r#"(?m:^b)$"#, "a\nb\nc", None),
        ("dot and DOTALL", r#"a.c"#, "a\nc", None),
        ("dot and DOTALL", r#"a.c"#, "abc", Some(&[Some("abc")])),
        ("dot and DOTALL", r#"(?s)a.c"#, "a\nc", Some(&[Some("a\nc")])),
        ("scoped DOTALL", r#"(?s:a.)c."#, "a\nc\n", None),
        ("scoped DOTALL", r#"(?s:a.)c."#, "a\ncd", Some(&[Some("a\ncd")])),
        ("] first in a class", r#"[]a]+"#, "x]a]y", Some(&[Some("]a]")])),
        ("negated class with ]", r#"[^]a]+"#, "]ab]", Some(&[Some("b")])),
        ("- at the end of a class", r#"[a-]+"#, "x-a-", Some(&[Some("-a-")])),
        ("escaped ] in a class", r#"[\]]"#, "a]", Some(&[Some("]")])),
        ("[-- is literal", r#"x[--]"#, "x-", Some(&[Some("x-")])),
        ("[-- is literal", r#"x[--]"#, "xa", None),
        ("[~~ is literal", r#"x[~~]"#, "x~", Some(&[Some("x~")])),
        ("[[ is literal", r#"[[a]+"#, "x[a[", Some(&[Some("[a[")])),
        ("class with \\w and -", r#"[\w-]+"#, "ab-c_d e", Some(&[Some("ab-c_d")])),
        ("\\W and \\d in a class", r#"[\W\d]+"#, "ab 12-x", Some(&[Some(" 12-")])),
        ("\\b in a class is backspace", r#"[\b]"#, "a\u{8}", Some(&[Some("\u{8}")])),
        ("negated \\S and \\n", r#"[^\S\n]+"#, "a \t\nb", Some(&[Some(" \t")])),
        ("{ that is not a repeat", r#"a{"#, "a{", Some(&[Some("a{")])),
        ("{x} is literal", r#"a{x}"#, "a{x}", Some(&[Some("a{x}")])),
        ("{1,x is literal", r#"a{1,x"#, "a{1,x", Some(&[Some("a{1,x")])),
        ("{} is literal", r#"a{}"#, "a{}", Some(&[Some("a{}")])),
        ("{,n}", r#"x{,2}"#, "xxx", Some(&[Some("xx")])),
        ("{,}", r#"x{,}"#, "xxx", Some(&[Some("xxx")])),
        ("{n,}", r#"x{2,}"#, "x", None),
        ("{n,}", r#"x{2,}"#, "xxxx", Some(&[Some("xxxx")])),
        ("lazy {m,n}?", r#"(a{2,3}?)"#, "aaaa", Some(&[Some("aa"), Some("aa")])),
        ("lazy +?", r#"(a+?)(a*)"#, "aaa", Some(&[Some("aaa"), Some("a"), Some("aa")])),
        ("lazy ??", r#"(a??)(a)"#, "aa", Some(&[Some("a"), Some(""), Some("a")])),
        ("Unicode \\d", r#"\d+"#, "x\u{661}\u{662}\u{663}", Some(&[Some("\u{661}\u{662}\u{663}")])),
        ("ASCII \\d", r#"(?a)\d+"#, "x\u{661}\u{662}\u{663}", None),
        ("ASCII \\d", r#"(?a)\d+"#, "x12", Some(&[Some("12")])),
        ("Python \\w includes No characters", r#"\w+"#, "x\u{b2}y z", Some(&[Some("x\u{b2}y")])),
        ("Python \\w excludes marks", r#"\w+"#, "e\u{301}x", Some(&[Some("e")])),
        ("ASCII \\w", r#"(?a)\w+"#, "\u{e9}t\u{e9}", Some(&[Some("t")])),
        ("Python \\s includes \\x1c", r#"a\sb"#, "a\u{1c}b", Some(&[Some("a\u{1c}b")])),
        ("Python \\s includes \\x1c", r#"a\sb"#, "a\u{a0}b", Some(&[Some("a\u{a0}b")])),
        ("Python \\s includes \\x1c", r#"a\sb"#, "a\u{200b}b", None),
        ("ASCII \\s", r#"(?a)a\sb"#, "a\u{1c}b", None),
        ("ASCII \\s", r#"(?a)a\sb"#, "a\u{b}b", Some(&[Some("a\u{b}b")])),
        ("\\b with Python word characters", r#"\bx\b"#, "x\u{b2}", None),
        ("\\b with Python word characters", r#"\bx\b"#, "x y", Some(&[Some("x")])),
        ("\\b with Python word characters", r#"\bx\b"#, "e\u{301}x", Some(&[Some("x")])),
        ("\\b with Python word characters", r#"\bx\b"#, "\u{b2}x", None),
        ("\\b with Python word characters", r#"\bx\b"#, "x\u{203f}", Some(&[Some("x")])),
        ("\\B with Python word characters", r#"x\B"#, "x\u{b2}", Some(&[Some("x")])),
        ("\\B with Python word characters", r#"x\B"#, "x y", None),
        ("\\B with Python word characters", r#"x\B"#, "xy", Some(&[Some("x")])),
        ("\\B never matches an empty string", r#"\B"#, "", None),
        ("\\B never matches an empty string", r#"\B"#, " ", Some(&[Some("")])),
        ("\\B never matches an empty string", r#"\B"#, "a", None),
        ("\\B alternatives on an empty string", r#"\B|(x?)"#, "", Some(&[Some(""), Some("")])),
        ("ASCII \\b", r#"(?a)\bx"#, "\u{e9}x", Some(&[Some("x")])),
        ("ASCII \\b", r#"(?a)\bx"#, "ax", None),
        ("ASCII \\B", r#"(?a)x\B"#, "x\u{e9}", None),
        ("ASCII \\B", r#"(?a)x\B"#, "xa", Some(&[Some("x")])),
        ("IGNORECASE", r#"(?i)HeLLo"#, "say hello", Some(&[Some("hello")])),
        ("scoped IGNORECASE", r#"(?i:a)b"#, "Ab", Some(&[Some("Ab")])),
        ("scoped IGNORECASE", r#"(?i:a)b"#, "AB", None),
        ("IGNORECASE turned off", r#"(?i)a(?-i:b)"#, "AB", None),
        ("IGNORECASE turned off", r#"(?i)a(?-i:b)"#, "Ab", Some(&[Some("Ab")])),
        ("Unicode IGNORECASE folds the Kelvin sign", r#"(?i)k"#, "\u{212a}", Some(&[Some("\u{212a}")])),
        ("ASCII IGNORECASE does not", r#"(?ai)k"#, "\u{212a}", None),
        ("ASCII IGNORECASE does not", r#"(?ai)k"#, "K", Some(&[Some("K")])),
        ("ASCII IGNORECASE classes", r#"(?ai)[a-c]+"#, "xABc\u{212a}", Some(&[Some("ABc")])),
        ("ASCII IGNORECASE negated classes", r#"(?ai)[^a-z]+"#, "aB1\u{e9}", Some(&[Some("1\u{e9}")])),
        ("IGNORECASE back-reference", r#"(?i)(ab)\1"#, "abAB", Some(&[Some("abAB"), Some("ab")])),
        ("IGNORECASE back-reference", r#"(?i)(ab)\1"#, "abAc", None),
        ("ASCII IGNORECASE back-reference", r#"(?ai)(ab)\1"#, "abAB", Some(&[Some("abAB"), Some("ab")])),
        ("verbose mode", "(?x) a b # a comment\n c", "abc", Some(&[Some("abc")])),
        ("verbose mode", "(?x) a b # a comment\n c", "a b c", None),
        ("verbose escaped space", r#"(?x)a\ b"#, "a b", Some(&[Some("a b")])),
        ("verbose space in a class", r#"(?x)a[ ]b"#, "a b", Some(&[Some("a b")])),
        ("verbose does not join {1, 2}", r#"(?x)a{1, 2}"#, "a{1,2}", Some(&[Some("a{1,2}")])),
        ("verbose does not join {1, 2}", r#"(?x)a{1, 2}"#, "aa", None),
        ("scoped verbose", r#"(?x: a b )c d"#, "abc d", Some(&[Some("abc d")])),
        ("octal escapes", r#"\101\0\012"#, "A\u{0}\n", Some(&[Some("A\u{0}\n")])),
        ("octal escape in a class", r#"[\12]"#, "a\n", Some(&[Some("\n")])),
        ("hex and unicode escapes", r#"\x41\u00e9\U0001F600"#, "A\u{e9}\u{1f600}", Some(&[Some("A\u{e9}\u{1f600}")])),
        ("escaped punctuation", r#"\-\#\ \.\&\~"#, "-# .&~", Some(&[Some("-# .&~")])),
        ("a lone surrogate never matches", r#"a|\ud800"#, "a", Some(&[Some("a")])),
        ("a class of a lone surrogate", r#"x[\ud800]|y"#, "xy", Some(&[Some("y")])),
        ("a negated class of a lone surrogate", r#"[^\ud800]"#, "\n", Some(&[Some("\n")])),
        ("possessive repeat", r#"a++a"#, "aaa", None),
        ("possessive repeat of an alternation", r#"(?:a|ab)*+c"#, "abac", Some(&[Some("ac")])),
        ("possessive repeat never re-enters an iteration", r#"(?:\D{1,3}){2}+"#, "\nb", None),
        ("possessive repeat never re-enters an iteration", r#"(?:\D{1,3}){2}+"#, "abcd", Some(&[Some("abcd")])),
        ("atomic group", r#"(?>a|ab)c"#, "abc", None),
        ("atomic group", r#"(?>a|ab)c"#, "ac", Some(&[Some("ac")])),
        ("conditional", r#"(<)?\w+(?(1)>|$)"#, "<a>", Some(&[Some("<a>"), Some("<")])),
        ("conditional", r#"(<)?\w+(?(1)>|$)"#, "a", Some(&[Some("a"), None])),
        ("conditional", r#"(<)?\w+(?(1)>|$)"#, "<a", Some(&[Some("a"), None])),
        ("named conditional", r#"(?P<q>")?x(?(q)")"#, "\"x\"", Some(&[Some("\"x\""), Some("\"")])),
        ("named conditional", r#"(?P<q>")?x(?(q)")"#, "x", Some(&[Some("x"), None])),
        ("named conditional", r#"(?P<q>")?x(?(q)")"#, "\"x", Some(&[Some("x"), None])),
        ("conditional on a later group", r#"(?:(?(1)b|a)(c))+"#, "acbc", Some(&[Some("acbc"), Some("c")])),
        ("named back-reference", r#"(?P<w>\w+) (?P=w)"#, "hello hello", Some(&[Some("hello hello"), Some("hello")])),
        ("named back-reference", r#"(?P<w>\w+) (?P=w)"#, "hello world", None),
        ("repeated group keeps the last iteration", r#"(?:(a)|b)+"#, "ab", Some(&[Some("ab"), Some("a")])),
        ("repeated group in a loop, fancy engine", r#"(?:(a)|b(?=c))+"#, "abc", Some(&[Some("ab"), Some("a")])),
        ("look-ahead is atomic", r#"(?=|(a))(?:\1|c)"#, "a", None),
        ("repeated look-around", r#"(?:(?=a))*a"#, "a", Some(&[Some("a")])),
        ("group of nothing repeated", r#"()*x"#, "x", Some(&[Some("x"), Some("")])),
        ("comments", r#"a(?#comment)*"#, "aaa", Some(&[Some("aaa")])),
        ("empty alternatives", r#"(|a)b"#, "ab", Some(&[Some("ab"), Some("a")])),
        ("non-ASCII literal", r#"\u00e9+|ß"#, "x\u{e9}\u{e9}", Some(&[Some("\u{e9}\u{e9}")])),
        ("leftmost-first alternation", r#"(a|ab)(c|bcd)(d*)"#, "abcd", Some(&[Some("abcd"), Some("a"), Some("bcd"), Some("")])),
        ("zero-width repeat of ^", r#"(?:^)*a"#, "ba", Some(&[Some("a")])),
        ("global flags after a comment", r#"(?#c)(?i)a"#, "A", Some(&[Some("A")])),
        ("conditional with branches that translate to nothing", r#"(a)?(?(1)(?:)*|)b"#, "b", Some(&[Some("b"), None])),
        ("conditional with branches that translate to nothing", r#"(a)?(?(1)(?:)*|)b"#, "ab", Some(&[Some("ab"), Some("a")])),
        ("conditional with branches that translate to nothing", r#"(a)?(?(1)|(?:)*)b"#, "ab", Some(&[Some("ab"), Some("a")])),
        ("conditional with branches that translate to nothing", r#"(a)?(?(1)|(?:)*)b"#, "b", Some(&[Some("b"), None])),
        ("back-reference in a look-behind", r#"(ab)(?<=\1)"#, "xabab", Some(&[Some("ab"), Some("ab")])),
        ("atomic group in a loop keeps captures", r#"(?>(a)b|)*"#, "ab", Some(&[Some("ab"), Some("a")])),
        ("scoped ASCII inside IGNORECASE", r#"(?i)(?a:k)\u212a"#, "K\u{212a}", Some(&[Some("K\u{212a}")])),
        ("scoped ASCII inside IGNORECASE", r#"(?i)(?a:k)\u212a"#, "\u{212a}\u{212a}", None),
    ];

    /// The main matcher, and the fancy-regex one when the main one is not.
    fn matchers(pattern: &str) -> Vec<Matcher> {
        let main = Matcher::python(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
        let mut all = vec![];
        if main.engine() == Engine::Regex {
            let t = translate_for(pattern, Engine::Fancy)
                .expect("translates")
                .expect("fancy can do anything");
            all.push(Matcher::from_translated(&t).expect("fancy compiles"));
        }
        all.insert(0, main);
        all
    }

    fn groups<'t>(m: &Matcher, subject: &'t str) -> Option<Vec<Option<&'t str>>> {
        let mut out = vec![Some((0, 0)); 7]; // stale content must be cleared
        let found = m.search(subject, &mut out).expect("no engine error");
        if !found {
            assert!(out.is_empty());
            return None;
        }
        assert_eq!(out.len(), m.group_count() + 1);
        Some(out.iter().map(|g| g.map(|(a, b)| &subject[a..b])).collect())
    }

    #[test]
    fn search_like_python() {
        for &(what, pattern, subject, expected) in SEARCH_CASES {
            for m in matchers(pattern) {
                assert_eq!(
                    groups(&m, subject).as_deref(),
                    expected,
                    "{what}: {pattern:?} on {subject:?} with {:?}",
                    m.engine()
                );
            }
        }
    }

    fn spans(pattern: &str, subject: &str) -> Option<Vec<Option<(usize, usize)>>> {
        let m = Matcher::python(pattern).unwrap();
        let mut out = Vec::new();
        m.search(subject, &mut out).unwrap().then_some(out)
    }

    #[test]
    fn tail_dollar_stays_on_the_regex_engine_and_ends_before_the_newline() {
        let p = "Message is (?P<state>frozen|thawed)$";
        let t = translate(p).unwrap();
        assert_eq!(t.engine, Engine::Regex);
        assert_eq!(t.group_count, 1);
        assert_eq!(t.group_names, vec![(1, "state".to_string())]);
        let m = Matcher::python(p).unwrap();
        assert_eq!(m.group_names(), vec![(1, "state".to_string())]);
        assert_eq!(m.describe(), format!("/{p}/"));
        assert_eq!(m.as_str(), p);
        // Python: (6, 23) and (17, 23) in both cases.
        let expected = Some(vec![Some((6, 23)), Some((17, 23))]);
        assert_eq!(spans(p, "1rABC Message is frozen\n"), expected);
        assert_eq!(spans(p, "1rABC Message is frozen"), expected);
        assert_eq!(spans(p, "1rABC Message is thawed\n\n"), None);
        // A hidden group before a Python group: numbering is kept.
        assert_eq!(spans("a$|(b)", "a\n"), Some(vec![Some((0, 1)), None]));
        assert_eq!(spans("a$|(b)", "b"), Some(vec![Some((0, 1)), Some((0, 1))]));
        // A literal "\n" before `$` is still part of the match.
        assert_eq!(spans("a\\n$", "a\n\n"), Some(vec![Some((0, 2))]));
        assert_eq!(translate("a\\n$").unwrap().engine, Engine::Regex);
    }

    #[test]
    fn engines_chosen() {
        for (p, engine) in [
            (
                r"^(\S+) sshd\[\d+\]: Invalid user (?P<user>.*) from (?P<ip>\S+)$",
                Engine::Regex,
            ),
            (r"\bword\b", Engine::Regex),
            (r"(?m)a$\n", Engine::Regex),
            (r"(a$)", Engine::Fancy),
            (r"a$\n", Engine::Fancy),
            (r"(a)\1", Engine::Fancy),
            (r"a(?=b)", Engine::Fancy),
            (r"(?>a)", Engine::Fancy),
            (r"a*+", Engine::Fancy),
            (r"(a)?(?(1)b|c)", Engine::Fancy),
        ] {
            assert_eq!(translate(p).unwrap().engine, engine, "{p}");
        }
    }

    #[test]
    fn group_count_and_names() {
        let m = Matcher::python(r"(a)(?P<x>b)(?:c)(d)(?P<y>e)?").unwrap();
        assert_eq!(m.group_count(), 4);
        assert_eq!(
            m.group_names(),
            vec![(2, "x".to_string()), (4, "y".to_string())]
        );
        // Names Rust would refuse are fine: they never reach the Rust pattern.
        let m = Matcher::python(r"(?P<état>é)(?P=état)").unwrap();
        assert_eq!(m.group_names(), vec![(1, "état".to_string())]);
    }

    #[test]
    fn word_boundary_variants() {
        let t = translate(r"\bx\B").unwrap();
        assert_eq!(t.engine, Engine::Regex);
        assert!(t.for_word_mismatch.is_some());
        assert!(t.for_empty_subject.is_some());
        assert!(translate(r"(?a)\bx").unwrap().for_word_mismatch.is_none());
        assert!(translate(r"\bx").unwrap().for_empty_subject.is_none());
    }

    /// (pattern, start, end, message start); Python 3.11.7 rejects each
    /// pattern with that message (its positions differ in a few cases: here
    /// the range covers the offending text).
    #[rustfmt::skip]
    const ERROR_CASES: &[(&str, usize, usize, &str)] = &[
        (r"(abc", 0, 1, "missing ), unterminated subpattern"),
        (r"a\q", 1, 3, r"bad escape \q"),
        (r"[a-", 0, 1, "unterminated character set"),
        (r"[z-a]", 1, 4, "bad character range z-a"),
        (r"[a-\d]", 1, 5, r"bad character range a-\d"),
        (r"a**", 2, 3, "multiple repeat"),
        (r"*a", 0, 1, "nothing to repeat"),
        (r"{2}", 0, 3, "nothing to repeat"),
        (r"a{3,2}", 2, 6, "min repeat greater than max repeat"),
        (r"(?<name>x)", 1, 4, "unknown extension ?<n"),
        (r"a(?i)b", 1, 5, "global flags not at the start of the expression"),
        (r"(?P<1a>x)", 4, 6, "bad character in group name '1a'"),
        (r"(?P=nope)", 4, 8, "unknown group name 'nope'"),
        (r"\2(a)", 1, 2, "invalid group reference 2"),
        (r"(a)\2", 4, 5, "invalid group reference 2"),
        (r"(a\1)", 2, 4, "cannot refer to an open group"),
        (r"(?<=a+)b", 0, 7, "look-behind requires fixed-width pattern"),
        (r"(?<=a|bc)", 0, 9, "look-behind requires fixed-width pattern"),
        (r"(?<=(a)\1)", 7, 9, "cannot refer to group defined in the same lookbehind subpattern"),
        (r")", 0, 1, "unbalanced parenthesis"),
        ("\\", 0, 1, "bad escape (end of pattern)"),
        (r"(?L)a", 2, 3, "bad inline flags: cannot use 'L' flag with a str pattern"),
        (r"(?au)a", 3, 4, "bad inline flags: flags 'a', 'u' and 'L' are incompatible"),
        (r"(?a)(?u)a", 4, 8, "ASCII and UNICODE flags are incompatible"),
        (r"(?i-i:a)", 5, 6, "bad inline flags: flag turned on and off"),
        (r"(?(1)a|b|c)(x)", 8, 9, "conditional backref with more than two branches"),
        (r"(?(2)a)(b)", 3, 4, "invalid group reference 2"),
        (r"(?(x)a)", 3, 4, "unknown group name 'x'"),
        (r"(?(0)a)", 3, 4, "bad group number"),
        (r"(?P<a>x)(?P<a>y)", 12, 13, "redefinition of group name 'a' as group 2; was group 1"),
        (r"\x4", 0, 3, r"incomplete escape \x4"),
        (r"\u12", 0, 4, r"incomplete escape \u12"),
        (r"\U00110000", 0, 10, r"bad escape \U00110000"),
        (r"\777", 0, 4, r"octal escape value \777 outside of range 0-0o377"),
        (r"[\8]", 1, 3, r"bad escape \8"),
        (r"(?z)", 1, 3, "unknown extension ?z"),
        (r"(?P>x)", 1, 4, "unknown extension ?P>"),
        (r"a{99999999999}", 1, 14, "the repetition number is too large"),
        (r"(?#unterminated", 0, 1, "missing ), unterminated comment"),
        (r"(?", 0, 2, "unexpected end of pattern"),
        (r"x(?t)", 1, 5, "global flags not at the start of the expression"),
        ("é\\q", 2, 4, r"bad escape \q"),
    ];

    #[test]
    fn errors_like_python() {
        for &(pattern, start, end, message) in ERROR_CASES {
            let e = Matcher::python(pattern).expect_err(pattern);
            assert_eq!((e.start, e.end), (start, end), "{pattern:?}: {e}");
            assert!(e.message.starts_with(message), "{pattern:?}: {e}");
            assert!(!e.help.is_empty());
        }
        let e = translate(r"(?<name>x)").unwrap_err();
        assert!(e.help.contains("(?P<name>...)"), "{e}");
    }

    /// Patterns Python accepts but this module refuses, with the range.
    #[test]
    fn unsupported_features_are_errors() {
        for (pattern, start, end, message) in [
            (r"\N{EM DASH}", 0, 11, "named Unicode escapes"),
            (r"(?t)a", 0, 4, "the TEMPLATE flag"),
            (
                r"x(a?)*",
                5,
                6,
                "repeat of a part that can match the empty string",
            ),
            (
                r"(a|)+x",
                4,
                5,
                "repeat of a part that can match the empty string",
            ),
            (
                r"(?:(a*)b?){1,3}",
                10,
                15,
                "repeat of a part that can match the empty string",
            ),
            (
                r"(a(?(1)b))",
                5,
                6,
                "a conditional inside the group it tests",
            ),
            (r"(a)(?(٣)b)", 6, 8, "bad character in group name"),
        ] {
            let e = translate(pattern).expect_err(pattern);
            assert_eq!((e.start, e.end), (start, end), "{pattern:?}: {e}");
            assert!(e.message.starts_with(message), "{pattern:?}: {e}");
        }
        // Exact repeats and non-empty groups are fine.
        for pattern in [
            r"(a?){3}",
            r"(a+)*",
            r"(?:(a)|b?)*",
            r"(a*)",
            r"(a)?+",
            r"(?>(?:(a)|b)*)",
        ] {
            translate(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        }
    }

    #[test]
    fn engine_errors_map_back_to_python() {
        // Too big for the regex crate: the whole pattern.
        let p = r"(?:\w{1000}){1000}";
        let e = Matcher::python(p).unwrap_err();
        assert_eq!((e.start, e.end), (0, p.len()));
        assert!(e.message.contains("size limit"), "{e}");
        // Too deep for fancy-regex: the Python group where it gives up.
        let p = format!("{}a{}\\1", "(".repeat(70), ")".repeat(70));
        let e = Matcher::python(&p).unwrap_err();
        assert_eq!((e.start, e.end), (63, 78), "{e}");
        // Translated::python_span
        let t = translate(r"ab(c)").unwrap();
        let c = t.pattern.find('c').unwrap();
        assert_eq!(t.python_span(c), (3, 4));
        assert_eq!(t.python_span(t.pattern.len() + 10), (0, 5));
    }

    #[test]
    fn backtracking_limit_is_an_error() {
        let m = Matcher::python(r"(a+)+\1$").unwrap();
        assert_eq!(m.engine(), Engine::Fancy);
        let text = format!("{}b", "a".repeat(40));
        let mut out = vec![];
        let r = m.search(&text, &mut out);
        assert!(r.is_err(), "{r:?}");
        assert!(out.is_empty());
        // The same matcher still works on reasonable text.
        assert_eq!(m.search("xaa", &mut out), Ok(true));
        assert_eq!(out, vec![Some((1, 3)), Some((1, 2))]);
    }

    #[test]
    fn case_insensitive_back_references_need_ascii_subjects() {
        let m = Matcher::python(r"(?i)(ab)\1").unwrap();
        let mut out = vec![];
        assert_eq!(m.search("xabAB", &mut out), Ok(true));
        assert!(m.search("é abAB", &mut out).is_err());
        assert!(translate(r"(?i)(ab)\1").unwrap().ascii_subjects_only);
        assert!(!translate(r"(ab)\1").unwrap().ascii_subjects_only);
    }

    #[test]
    fn native_patterns() {
        let m = Matcher::native(r"(?P<x>a)(b)").unwrap();
        assert_eq!(m.engine(), Engine::Regex);
        assert_eq!(m.group_count(), 2);
        assert_eq!(m.group_names(), vec![(1, "x".to_string())]);
        assert_eq!(m.describe(), "/(?P<x>a)(b)/");
        let mut out = vec![];
        assert_eq!(m.search("zab", &mut out), Ok(true));
        assert_eq!(out, vec![Some((1, 3)), Some((1, 2)), Some((2, 3))]);
        // Rust's own `$` semantics.
        assert_eq!(m.search("", &mut out), Ok(false));
        let m = Matcher::native("a$").unwrap();
        assert_eq!(m.search("a\n", &mut out), Ok(false));
        // Look-around and back-references fall back to fancy-regex.
        for p in [r"(?<=a)b", r"(a)\1", r"a(?!b)"] {
            assert_eq!(Matcher::native(p).unwrap().engine(), Engine::Fancy, "{p}");
        }
        let m = Matcher::native(r"(?<=a)(b)").unwrap();
        assert_eq!(m.search("ab", &mut out), Ok(true));
        assert_eq!(out, vec![Some((1, 2)), Some((1, 2))]);
        // Errors point into the pattern.
        for (p, start, end) in [
            ("a(", 1, 2),
            ("a{2,1}", 1, 6),
            ("é(", 2, 3),
            (r"(?<=a+", 6, 6),
        ] {
            let e = Matcher::native(p).unwrap_err();
            assert_eq!((e.start, e.end), (start, end), "{p:?}: {e}");
        }
        // Other fancy-only syntax is not enabled by the fallback.
        assert!(Matcher::native(r"(?>a)").is_err());
    }

    #[test]
    fn matcher_is_shareable() {
        fn send_sync<T: Send + Sync + Clone>() {}
        send_sync::<Matcher>();
        let m = Matcher::python(r"(\d+)").unwrap();
        let m2 = m.clone();
        std::thread::scope(|s| {
            for i in 0..4 {
                let m = &m;
                s.spawn(move || {
                    let mut out = vec![];
                    for j in 0..200 {
                        let text = format!("x{i}{j}y");
                        assert_eq!(m.search(&text, &mut out), Ok(true));
                        assert_eq!(
                            out[1].map(|(a, b)| &text[a..b]),
                            Some(&text[1..text.len() - 1])
                        );
                    }
                });
            }
        });
        let mut out = vec![];
        assert_eq!(m2.search("a1", &mut out), Ok(true));
    }
}
