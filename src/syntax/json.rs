//! A JSON reader for Pyruse's `pyruse.json` rule files that keeps what
//! `serde_json` drops: member order, duplicate keys, and the exact byte range
//! of every key and value, so that diagnostics can point into the source text.
//!
//! # Input
//!
//! [`parse`] takes the whole file as a `&str`. It accepts exactly the
//! documents that Python's `json.loads` accepts in its default (strict) mode,
//! because Pyruse reads the same files with it:
//!
//! - RFC 8259 JSON, with any value at the top level, surrounded by optional
//!   whitespace (space, tab, line feed and carriage return only);
//! - Python's extensions `NaN`, `Infinity` and `-Infinity`.
//!
//! Like Python it rejects a UTF-8 byte order mark at the start of the text,
//! raw control characters (U+0000 to U+001F) inside strings, trailing commas,
//! single-quoted strings, comments, numbers such as `01`, `1.`, `.5`, `+1`,
//! and integers of more than 4300 digits (Python's default limit for
//! converting a string to an `int`).
//!
//! # Output
//!
//! A [`Json`] tree. Every node carries the [`Range`] of its source text; every
//! object member carries the range of its key as well. Numbers without a
//! fraction or an exponent that fit an `i64` are [`JsonKind::Int`]; all other
//! numbers are [`JsonKind::Float`] (`1e999` is infinite, as in Python).
//!
//! On failure, a [`JsonError`] says where (a byte range, zero-width where
//! something is missing), what was found, what was expected, and what to
//! write instead, with secondary labels where another place matters.
//!
//! # Invariants
//!
//! - Every `range` and `key_range` lies on char boundaries and slices the
//!   input to exactly the token: a string's range includes its quotes; an
//!   object's or array's range runs from its opening to its closing bracket.
//!   Error ranges and labels lie on char boundaries too, within the input.
//! - Object members are kept in source order and duplicate keys are all kept;
//!   [`Json::get`] returns the last one, as a Python `dict` would.
//! - Deviation from Python: a `\uXXXX` escape that encodes a lone UTF-16
//!   surrogate (which Python keeps in its `str`) cannot be held in a Rust
//!   `String`; it decodes to U+FFFD REPLACEMENT CHARACTER. A high-surrogate
//!   escape directly followed by a low-surrogate escape decodes to the one
//!   character that the pair encodes, as in Python.
//! - Nesting deeper than [`MAX_DEPTH`] objects and arrays is an error (Python
//!   stops with a `RecursionError` near 1000 levels). The parser does not
//!   recurse, and no input makes it panic.
//!
//! # The missing-bracket heuristic
//!
//! A forgotten `}` or `]` usually shows up as an error much later (often
//! "expected a string key, found `{`"). When a syntax error involves the
//! document's structure, the parser looks at the closing brackets it has
//! already matched: one whose line is indented like the line of an enclosing
//! bracket of the same kind, rather than like the line of the bracket it
//! closed, suggests that a closer is missing before it. A closing bracket of
//! the wrong kind at the error is considered too. Each such guess is checked
//! by parsing the text again with the closer inserted; a guess is kept only
//! if the document then parses, or fails further on. The error then points,
//! zero-width, at the end of the last token before that closer, where the
//! missing bracket belongs. Otherwise the plain error is returned.

use std::fmt;

/// Deepest nesting of objects and arrays that [`parse`] accepts.
pub const MAX_DEPTH: usize = 256;
/// Python's default `sys.get_int_max_str_digits()`.
const PYTHON_INT_MAX_DIGITS: usize = 4300;
/// How many guesses the missing-bracket heuristic checks, at most.
const MAX_SUSPECTS: usize = 16;
/// How many still-open brackets an end-of-file error labels.
const SHOWN_OPEN: usize = 3;
/// Longest token text quoted in a message, in chars.
const SHOWN_CHARS: usize = 40;

/// Byte range in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub start: usize,
    pub end: usize,
}

impl Range {
    fn new(start: usize, end: usize) -> Range {
        Range { start, end }
    }

    fn at(pos: usize) -> Range {
        Range::new(pos, pos)
    }
}

impl From<Range> for std::ops::Range<usize> {
    fn from(r: Range) -> Self {
        r.start..r.end
    }
}

/// A JSON value and the range of its source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    pub kind: JsonKind,
    pub range: Range,
}

/// What a JSON value is.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    /// A number without fraction or exponent that fits i64.
    Int(i64),
    /// Any other number (also integers too large for i64), and Python's NaN/Infinity/-Infinity.
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    /// Members in source order; duplicate keys are all kept (the loader decides).
    Object(Vec<Member>),
}

/// One `"key": value` member of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The decoded key.
    pub key: String,
    /// The key's source range, quotes included.
    pub key_range: Range,
    pub value: Json,
}

/// A syntax error: where, what was found, what was expected, and a help line.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonError {
    /// The exact place (zero-width where something is missing, e.g. where a
    /// missing `}` belongs).
    pub range: Range,
    /// What was expected and what was found, e.g. "expected `,` or `}` after
    /// an object member, found `{`".
    pub message: String,
    /// What to write instead.
    pub help: String,
    /// Secondary labels, e.g. the range of a `{` and "this object is still open".
    pub related: Vec<(Range, String)>,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsonError {}

impl Json {
    /// The value of the last member named `key`, like Python's `dict`; `None`
    /// if there is none or if `self` is not an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match &self.kind {
            JsonKind::Object(members) => members
                .iter()
                .rev()
                .find(|m| m.key == key)
                .map(|m| &m.value),
            _ => None,
        }
    }

    /// The JSON name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "true/false",
            JsonKind::Int(_) | JsonKind::Float(_) => "number",
            JsonKind::Str(_) => "string",
            JsonKind::Array(_) => "array",
            JsonKind::Object(_) => "object",
        }
    }
}

/// Parse a whole JSON document (see the module documentation).
pub fn parse(text: &str) -> Result<Json, JsonError> {
    match parse_plain(text) {
        Ok(json) => Ok(json),
        Err(failure) => {
            let guess = if failure.structural {
                missing_closer(text, &failure)
            } else {
                None
            };
            Err(guess.unwrap_or(failure.error))
        }
    }
}

/// Map a byte offset inside the *decoded* content of a JSON string literal to
/// the byte offset in the source text.
///
/// `literal` is the source range of the string token including its quotes
/// (a [`Json::range`] or [`Member::key_range`]). An offset that falls inside
/// an escape sequence's decoded character maps to the start of the escape
/// (so that the result is always a char boundary); an offset at or past the
/// end of the decoded content maps to the closing quote. If `literal` is not
/// a string literal of `text`, the result is `literal.start + decoded_offset`,
/// clamped to the text.
pub fn source_offset(text: &str, literal: Range, decoded_offset: usize) -> usize {
    let fallback = literal.start.saturating_add(decoded_offset).min(text.len());
    if text.as_bytes().get(literal.start) != Some(&b'"') {
        return fallback;
    }
    let mut pos = literal.start + 1;
    let mut decoded = 0;
    loop {
        if decoded >= decoded_offset {
            return pos;
        }
        match string_unit(text, pos) {
            Unit::Char(c, next) => {
                let len = c.len_utf8();
                if decoded + len > decoded_offset {
                    return pos;
                }
                decoded += len;
                pos = next;
            }
            // The closing quote, or a broken literal: stop where we are.
            _ => return pos,
        }
    }
}

// ---------------------------------------------------------------------------
// Strings: one decoding step, shared by the lexer and `source_offset`.

/// One step of decoding a string body.
enum Unit {
    /// The closing quote.
    End,
    /// A decoded character and the position after its source.
    Char(char, usize),
    /// The text ends inside the string.
    Eof,
    /// A raw control character.
    Control(char),
    /// A backslash and the char after it that is not a valid escape; the end.
    BadEscape(usize),
    /// A `\u` escape without 4 hex digits; the end of what to underline.
    BadUnicode(usize),
}

fn string_unit(text: &str, pos: usize) -> Unit {
    let mut chars = match text.get(pos..) {
        Some(rest) => rest.chars(),
        None => return Unit::Eof,
    };
    match chars.next() {
        None => Unit::Eof,
        Some('"') => Unit::End,
        Some('\\') => {
            let decoded = match chars.next() {
                None => return Unit::Eof,
                Some('"') => '"',
                Some('\\') => '\\',
                Some('/') => '/',
                Some('b') => '\u{8}',
                Some('f') => '\u{c}',
                Some('n') => '\n',
                Some('r') => '\r',
                Some('t') => '\t',
                Some('u') => return unicode_unit(text, pos),
                Some(e) => return Unit::BadEscape(pos + 1 + e.len_utf8()),
            };
            Unit::Char(decoded, pos + 2)
        }
        Some(c) if (c as u32) < 0x20 => Unit::Control(c),
        Some(c) => Unit::Char(c, pos + c.len_utf8()),
    }
}

fn hex4(text: &str, pos: usize) -> Option<u32> {
    let digits = text.as_bytes().get(pos..pos.checked_add(4)?)?;
    digits
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))
}

/// Decode the `\uXXXX` escape at `pos` (and a following low surrogate).
fn unicode_unit(text: &str, pos: usize) -> Unit {
    let high = match hex4(text, pos + 2) {
        Some(v) => v,
        None => {
            let mut end = pos + 2;
            if let Some(rest) = text.get(end..) {
                for c in rest.chars().take(4) {
                    if c == '"' || c == '\\' || (c as u32) < 0x20 {
                        break;
                    }
                    end += c.len_utf8();
                }
            }
            return Unit::BadUnicode(end);
        }
    };
    if (0xD800..0xDC00).contains(&high) && text.as_bytes().get(pos + 6..pos + 8) == Some(b"\\u") {
        if let Some(low) = hex4(text, pos + 8) {
            if (0xDC00..0xE000).contains(&low) {
                let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
                return Unit::Char(c.unwrap_or(char::REPLACEMENT_CHARACTER), pos + 12);
            }
        }
    }
    // Lone surrogates (which Python keeps) become U+FFFD.
    Unit::Char(
        char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER),
        pos + 6,
    )
}

// ---------------------------------------------------------------------------
// Tokens.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bracket {
    Object,
    Array,
}

impl Bracket {
    fn open(self) -> char {
        match self {
            Bracket::Object => '{',
            Bracket::Array => '[',
        }
    }

    fn close(self) -> char {
        match self {
            Bracket::Object => '}',
            Bracket::Array => ']',
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Bracket::Object => "object",
            Bracket::Array => "array",
        }
    }
}

/// Text that is not JSON, which the parser reports according to context.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bad {
    /// An identifier-like word other than the JSON literals.
    Word,
    SingleQuoted,
    SmartQuoted,
    Comment,
    /// `+1` or `.5`.
    NumberLike,
    Char(char),
}

#[derive(Debug)]
enum Tok {
    Open(Bracket),
    Close(Bracket),
    Colon,
    Comma,
    Str(String),
    Scalar(JsonKind),
    Bad(Bad),
    Eof,
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    range: Range,
    /// 1-based line number.
    line: usize,
    /// Indentation (in bytes) of the token's line, i.e. the column of the
    /// line's first token.
    indent: usize,
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$' || (!c.is_ascii() && c.is_alphabetic())
}

fn is_word_char(c: char) -> bool {
    is_word_start(c) || c.is_ascii_digit() || (!c.is_ascii() && c.is_alphanumeric())
}

fn is_number_run_char(c: char) -> bool {
    is_word_char(c) || matches!(c, '.' | '+' | '-')
}

fn char_at(text: &str, pos: usize) -> Option<char> {
    text.get(pos..).and_then(|s| s.chars().next())
}

/// End of the run of chars that satisfy `pred`, from `pos`.
fn run_end(text: &str, pos: usize, pred: fn(char) -> bool) -> usize {
    match text.get(pos..) {
        Some(rest) => rest.find(|c| !pred(c)).map_or(text.len(), |i| pos + i),
        None => pos,
    }
}

fn slice(text: &str, r: Range) -> &str {
    text.get(r.start..r.end).unwrap_or("")
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    line_start: usize,
    line_indent: Option<usize>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            pos: 0,
            line: 1,
            line_start: 0,
            line_indent: None,
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.text.as_bytes().get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                    self.line_indent = None;
                }
                _ => break,
            }
        }
    }

    fn next(&mut self) -> Result<Token, JsonError> {
        self.skip_whitespace();
        let start = self.pos;
        let line = self.line;
        let indent = *self.line_indent.get_or_insert(start - self.line_start);
        let tok = match char_at(self.text, start) {
            None => Tok::Eof,
            Some(c) => self.token(start, c)?,
        };
        Ok(Token {
            tok,
            range: Range::new(start, self.pos),
            line,
            indent,
        })
    }

    fn token(&mut self, start: usize, c: char) -> Result<Tok, JsonError> {
        let after = start + c.len_utf8();
        let next = char_at(self.text, after);
        self.pos = after;
        let tok = match c {
            '{' => Tok::Open(Bracket::Object),
            '[' => Tok::Open(Bracket::Array),
            '}' => Tok::Close(Bracket::Object),
            ']' => Tok::Close(Bracket::Array),
            ':' => Tok::Colon,
            ',' => Tok::Comma,
            '"' => Tok::Str(self.string(start)?),
            '-' | '0'..='9' => self.number(start)?,
            '\'' => {
                self.pos = self.quoted_end(after, &['\'']);
                Tok::Bad(Bad::SingleQuoted)
            }
            '\u{201c}' | '\u{201d}' | '\u{2018}' | '\u{2019}' | '\u{201e}' => {
                let closers = ['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}'];
                self.pos = self.quoted_end(after, &closers);
                Tok::Bad(Bad::SmartQuoted)
            }
            '/' if next == Some('*') => {
                self.pos = match self.text.get(after + 1..).and_then(|r| r.find("*/")) {
                    Some(i) => after + 1 + i + 2,
                    None => self.text.len(),
                };
                Tok::Bad(Bad::Comment)
            }
            '/' | '#' if c == '#' || next == Some('/') => {
                self.pos = run_end(self.text, start, |c| c != '\n' && c != '\r');
                Tok::Bad(Bad::Comment)
            }
            '+' | '.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                self.pos = run_end(self.text, start, is_number_run_char);
                Tok::Bad(Bad::NumberLike)
            }
            c if is_word_start(c) => {
                self.pos = run_end(self.text, start, is_word_char);
                match slice(self.text, Range::new(start, self.pos)) {
                    "true" => Tok::Scalar(JsonKind::Bool(true)),
                    "false" => Tok::Scalar(JsonKind::Bool(false)),
                    "null" => Tok::Scalar(JsonKind::Null),
                    "NaN" => Tok::Scalar(JsonKind::Float(f64::NAN)),
                    "Infinity" => Tok::Scalar(JsonKind::Float(f64::INFINITY)),
                    _ => Tok::Bad(Bad::Word),
                }
            }
            c => Tok::Bad(Bad::Char(c)),
        };
        Ok(tok)
    }

    /// End of a wrongly quoted string whose opening quote ends at `after`: after the first of
    /// `closers` on the same line, or just the opening quote.
    fn quoted_end(&self, after: usize, closers: &[char]) -> usize {
        let rest = self.text.get(after..).unwrap_or("");
        for (i, c) in rest.char_indices() {
            if c == '\n' {
                break;
            }
            if closers.contains(&c) {
                return after + i + c.len_utf8();
            }
        }
        after
    }

    fn string(&mut self, start: usize) -> Result<String, JsonError> {
        let mut out = String::new();
        let mut pos = start + 1;
        let opened = (
            Range::new(start, start + 1),
            "the string starts here".to_string(),
        );
        loop {
            match string_unit(self.text, pos) {
                Unit::End => {
                    self.pos = pos + 1;
                    return Ok(out);
                }
                Unit::Char(c, next) => {
                    out.push(c);
                    pos = next;
                }
                Unit::Eof => {
                    let end = self.text.len();
                    return Err(error(
                        Range::at(end),
                        "unexpected end of file inside a string",
                        "close the string with `\"`",
                    )
                    .label(opened.0, opened.1));
                }
                Unit::Control(c) => {
                    let (name, help) = match c {
                        '\n' | '\r' => (
                            if c == '\n' {
                                "line feed"
                            } else {
                                "carriage return"
                            },
                            "a string cannot span lines: close it with `\"` before the line \
                             ends, or write `\\n` for a line break"
                                .to_string(),
                        ),
                        '\t' => ("tab", "write `\\t` instead of a raw tab".to_string()),
                        _ => (
                            "control character",
                            format!("write it as `\\u{:04x}`", c as u32),
                        ),
                    };
                    return Err(error(
                        Range::new(pos, pos + 1),
                        format!(
                            "invalid control character in a string: {name} (U+{:04X})",
                            c as u32
                        ),
                        help,
                    )
                    .label(opened.0, opened.1));
                }
                Unit::BadEscape(end) => {
                    let r = Range::new(pos, end);
                    let escaped = match char_at(self.text, pos + 1) {
                        Some(c) if c.is_control() => format!("`\\` followed by U+{:04X}", c as u32),
                        _ => format!("`{}`", slice(self.text, r)),
                    };
                    return Err(error(
                        r,
                        format!("invalid escape {escaped} in a string"),
                        "the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; \
                         write `\\\\` for a backslash (in a regex, `\\\\d` means \\d)",
                    ));
                }
                Unit::BadUnicode(end) => {
                    let r = Range::new(pos, end);
                    return Err(error(
                        r,
                        format!(
                            "invalid unicode escape `{}`: `\\u` needs 4 hexadecimal digits",
                            slice(self.text, r)
                        ),
                        "write `\\u` and exactly 4 hexadecimal digits, e.g. `\\u00e9`; \
                         write `\\\\u` for a backslash followed by `u`",
                    ));
                }
            }
        }
    }

    /// A number, or `-Infinity`, as Python reads it:
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`.
    fn number(&mut self, start: usize) -> Result<Tok, JsonError> {
        let text = self.text;
        let bytes = text.as_bytes();
        let digit = |p: usize| bytes.get(p).is_some_and(u8::is_ascii_digit);
        let digits_end = |mut p: usize| {
            while digit(p) {
                p += 1;
            }
            p
        };
        let run = Range::new(start, run_end(text, start, is_number_run_char));
        let invalid = |why: &str, help: String| {
            Err(error(
                run,
                format!("invalid number `{}`: {why}", shorten(slice(text, run))),
                help,
            ))
        };
        let mut p = start;
        let negative = bytes.get(p) == Some(&b'-');
        if negative {
            p += 1;
            if text.get(p..).is_some_and(|r| r.starts_with("Infinity"))
                && !char_at(text, p + 8).is_some_and(is_word_char)
            {
                self.pos = p + 8;
                return Ok(Tok::Scalar(JsonKind::Float(f64::NEG_INFINITY)));
            }
        }
        match bytes.get(p) {
            Some(b'0') => {
                p += 1;
                if digit(p) {
                    let shown = slice(text, run);
                    let help = if shown.bytes().all(|b| b == b'-' || b.is_ascii_digit()) {
                        let trimmed = shown.trim_start_matches('-').trim_start_matches('0');
                        let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
                        let sign = if negative { "-" } else { "" };
                        format!("remove the leading zero: write `{sign}{trimmed}`")
                    } else {
                        "remove the leading zero".to_string()
                    };
                    return invalid("a number cannot start with `0` followed by digits", help);
                }
            }
            Some(b'1'..=b'9') => p = digits_end(p),
            _ => {
                return invalid(
                    "expected a digit after `-`",
                    "write a number such as `-1` or `-0.5`, or `-Infinity`".to_string(),
                )
            }
        }
        let int_end = p;
        let mut integral = true;
        if bytes.get(p) == Some(&b'.') {
            p += 1;
            if !digit(p) {
                let int = slice(text, Range::new(start, int_end));
                return invalid(
                    "expected a digit after the decimal point",
                    format!("write digits after the point, as in `{int}.0`, or drop the point"),
                );
            }
            p = digits_end(p);
            integral = false;
        }
        if matches!(bytes.get(p), Some(b'e') | Some(b'E')) {
            p += 1;
            if matches!(bytes.get(p), Some(b'+') | Some(b'-')) {
                p += 1;
            }
            if !digit(p) {
                return invalid(
                    "expected a digit in the exponent",
                    "write the exponent's digits, as in `1e6` or `2.5e-3`".to_string(),
                );
            }
            p = digits_end(p);
            integral = false;
        }
        if p < run.end {
            let shown = slice(text, run);
            let help = if shown.trim_start_matches('-').starts_with("0x")
                || shown.trim_start_matches('-').starts_with("0X")
            {
                "JSON has no hexadecimal numbers: write the number in decimal".to_string()
            } else {
                "a number is written like `12`, `-3.5` or `1e6`, and is followed by `,`, \
                 `]`, `}` or whitespace"
                    .to_string()
            };
            return invalid("unexpected characters in a number", help);
        }
        self.pos = p;
        let source = slice(text, Range::new(start, p));
        if integral {
            let digits = int_end - start - usize::from(negative);
            if digits > PYTHON_INT_MAX_DIGITS {
                return Err(error(
                    Range::new(start, p),
                    format!(
                        "integer too long: {digits} digits (Python reads at most \
                         {PYTHON_INT_MAX_DIGITS})"
                    ),
                    "shorten it, or write it as a float with an exponent",
                ));
            }
            if let Ok(i) = source.parse::<i64>() {
                return Ok(Tok::Scalar(JsonKind::Int(i)));
            }
        }
        match source.parse::<f64>() {
            Ok(f) => Ok(Tok::Scalar(JsonKind::Float(f))),
            Err(_) => invalid("not a number", "write a number such as `12`".to_string()),
        }
    }
}

// ---------------------------------------------------------------------------
// Messages.

fn error(range: Range, message: impl Into<String>, help: impl Into<String>) -> JsonError {
    JsonError {
        range,
        message: message.into(),
        help: help.into(),
        related: Vec::new(),
    }
}

impl JsonError {
    fn label(mut self, range: Range, text: impl Into<String>) -> Self {
        self.related.push((range, text.into()));
        self
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= SHOWN_CHARS {
        s.to_string()
    } else {
        let mut short: String = s.chars().take(SHOWN_CHARS - 1).collect();
        short.push('…');
        short
    }
}

fn char_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{a0}' => "no-break space",
        '\u{feff}' => "byte order mark",
        '\u{200b}' => "zero-width space",
        '\u{2028}' => "line separator",
        '\u{2029}' => "paragraph separator",
        '\u{b}' => "vertical tab",
        '\u{c}' => "form feed",
        '\u{0}' => "NUL character",
        c if c.is_control() => "control character",
        c if c.is_whitespace() => "whitespace character",
        '\u{200c}'..='\u{200f}' | '\u{2060}'..='\u{2064}' => "invisible character",
        _ => return None,
    })
}

/// The token as shown in a message: quoted, or in words.
fn describe(text: &str, t: &Token) -> String {
    match t.tok {
        Tok::Eof => "end of file".to_string(),
        Tok::Bad(Bad::Char(c)) => match char_name(c) {
            Some(name) => format!("a {name} (U+{:04X})", c as u32),
            None => format!("`{c}`"),
        },
        _ => format!("`{}`", shorten(slice(text, t.range))),
    }
}

const VALUE_HELP: &str = "a value is a string in double quotes, a number, `true`, `false`, \
                          `null`, an object `{ … }` or an array `[ … ]`";

/// What to write instead of text that is not JSON.
fn bad_help(bad: Bad, shown: &str, key: bool) -> String {
    match bad {
        Bad::Word => {
            let lower = shown.to_ascii_lowercase();
            match lower.as_str() {
                "true" | "false" | "null" => {
                    format!("JSON literals are lowercase: write `{lower}`")
                }
                "none" | "nil" | "undefined" => "write `null`".to_string(),
                "nan" => "write `NaN`".to_string(),
                "inf" | "infinity" => "write `Infinity`".to_string(),
                _ if lower.len() >= 2
                    && ["true", "false", "null"]
                        .iter()
                        .any(|l| l.starts_with(lower.as_str())) =>
                {
                    let literal = ["true", "false", "null"]
                        .into_iter()
                        .find(|l| l.starts_with(lower.as_str()))
                        .unwrap_or("null");
                    format!("did you mean `{literal}`?")
                }
                _ if key => format!("keys are strings in double quotes: write `\"{shown}\"`"),
                _ => format!("strings are written in double quotes: `\"{shown}\"`"),
            }
        }
        Bad::SingleQuoted => {
            let inner = shown
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .filter(|s| !s.contains('"'));
            match inner {
                Some(inner) => {
                    format!(
                        "JSON strings use double quotes: write `\"{}\"`",
                        shorten(inner)
                    )
                }
                None => "JSON strings use double quotes `\"`, not `'`".to_string(),
            }
        }
        Bad::SmartQuoted => {
            "JSON strings use plain double quotes `\"`, not typographic quotes".to_string()
        }
        Bad::Comment => "JSON has no comments: remove it".to_string(),
        Bad::NumberLike if shown.starts_with('+') => {
            "remove the `+`: JSON numbers have no plus sign".to_string()
        }
        Bad::NumberLike => format!("write a digit before the decimal point: `0{shown}`"),
        Bad::Char(c) if char_name(c).is_some() => {
            "remove this invisible character: only spaces, tabs and line breaks may separate \
             tokens"
                .to_string()
        }
        Bad::Char('=') => "write `:` between a key and its value".to_string(),
        Bad::Char(';') => "separate members and elements with `,`".to_string(),
        Bad::Char(c) => format!("`{c}` cannot appear here; {VALUE_HELP}"),
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

// ---------------------------------------------------------------------------
// The parser: iterative, with an explicit stack of open brackets.

struct Frame {
    kind: Bracket,
    open: Range,
    line: usize,
    indent: usize,
    /// The key range when this container is a member's value.
    key: Option<Range>,
    items: Vec<Json>,
    members: Vec<Member>,
    pending: Option<(String, Range)>,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Top,
    ArrayFirst,
    /// After a `,` in an array (the comma's range).
    ArrayNext(Range),
    MemberValue,
    ObjectFirst,
    /// After a `,` in an object (the comma's range).
    ObjectNext(Range),
    Colon,
    AfterElement,
    AfterMember,
    End,
}

/// A guess for the missing-bracket heuristic: a closer of `kind` may be
/// missing at `insert_at`, before the closer at `close`.
#[derive(Clone, Debug)]
struct Suspect {
    kind: Bracket,
    open: Range,
    open_line: usize,
    key: Option<Range>,
    insert_at: usize,
    close: Range,
    close_line: usize,
    /// Line of the enclosing bracket that the closer lines up with.
    meant_line: Option<usize>,
}

struct Failure {
    error: JsonError,
    /// Whether a missing bracket could explain the error.
    structural: bool,
    suspects: Vec<Suspect>,
}

impl Failure {
    fn plain(error: JsonError) -> Failure {
        Failure {
            error,
            structural: false,
            suspects: Vec::new(),
        }
    }
}

fn parse_plain(text: &str) -> Result<Json, Failure> {
    if text.starts_with('\u{feff}') {
        return Err(Failure::plain(error(
            Range::new(0, 3),
            "unexpected UTF-8 byte order mark (BOM) at the start of the file",
            "save the file as UTF-8 without a BOM: Python's json module rejects it too",
        )));
    }
    Parser {
        text,
        lex: Lexer::new(text),
        stack: Vec::new(),
        suspects: Vec::new(),
        last_end: 0,
        root: None,
    }
    .run()
}

struct Parser<'a> {
    text: &'a str,
    lex: Lexer<'a>,
    stack: Vec<Frame>,
    suspects: Vec<Suspect>,
    /// End of the last token read.
    last_end: usize,
    root: Option<Json>,
}

impl Parser<'_> {
    fn run(mut self) -> Result<Json, Failure> {
        let mut state = State::Top;
        loop {
            let t = self.lex.next().map_err(Failure::plain)?;
            let prev_end = std::mem::replace(&mut self.last_end, t.range.end);
            let Token {
                tok,
                range,
                line,
                indent,
            } = t;
            let rebuild = |tok| Token {
                tok,
                range,
                line,
                indent,
            };
            state = match (state, tok) {
                (
                    State::Top | State::ArrayFirst | State::ArrayNext(_) | State::MemberValue,
                    tok,
                ) => match tok {
                    Tok::Open(kind) => self.open(kind, state, &rebuild(Tok::Open(kind)))?,
                    Tok::Str(s) => self.complete(Json {
                        kind: JsonKind::Str(s),
                        range,
                    }),
                    Tok::Scalar(kind) => self.complete(Json { kind, range }),
                    Tok::Close(Bracket::Array) if matches!(state, State::ArrayFirst) => {
                        self.close(&rebuild(Tok::Close(Bracket::Array)), prev_end)?
                    }
                    tok => return Err(self.unexpected(state, rebuild(tok), prev_end)),
                },
                (State::ObjectFirst | State::ObjectNext(_), Tok::Str(key)) => {
                    if let Some(frame) = self.stack.last_mut() {
                        frame.pending = Some((key, range));
                    }
                    State::Colon
                }
                (State::ObjectFirst, Tok::Close(Bracket::Object))
                | (State::AfterMember, Tok::Close(Bracket::Object)) => {
                    self.close(&rebuild(Tok::Close(Bracket::Object)), prev_end)?
                }
                (State::AfterElement, Tok::Close(Bracket::Array)) => {
                    self.close(&rebuild(Tok::Close(Bracket::Array)), prev_end)?
                }
                (State::Colon, Tok::Colon) => State::MemberValue,
                (State::AfterElement, Tok::Comma) => State::ArrayNext(range),
                (State::AfterMember, Tok::Comma) => State::ObjectNext(range),
                (State::End, Tok::Eof) => {
                    return match self.root.take() {
                        Some(root) => Ok(root),
                        None => Err(Failure::plain(error(
                            range,
                            "internal error: no value was read",
                            "please report this",
                        ))),
                    }
                }
                (state, tok) => return Err(self.unexpected(state, rebuild(tok), prev_end)),
            };
        }
    }

    fn open(&mut self, kind: Bracket, state: State, t: &Token) -> Result<State, Failure> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Failure::plain(error(
                t.range,
                format!("too deeply nested: more than {MAX_DEPTH} levels of objects and arrays"),
                "Pyruse rules need only a few levels: look for a runaway `[` or `{`",
            )));
        }
        let key = match state {
            State::MemberValue => self
                .stack
                .last()
                .and_then(|f| f.pending.as_ref().map(|p| p.1)),
            _ => None,
        };
        self.stack.push(Frame {
            kind,
            open: t.range,
            line: t.line,
            indent: t.indent,
            key,
            items: Vec::new(),
            members: Vec::new(),
            pending: None,
        });
        Ok(match kind {
            Bracket::Object => State::ObjectFirst,
            Bracket::Array => State::ArrayFirst,
        })
    }

    fn close(&mut self, t: &Token, prev_end: usize) -> Result<State, Failure> {
        let frame = match self.stack.pop() {
            Some(frame) => frame,
            None => {
                return Err(Failure::plain(error(
                    t.range,
                    "internal error: closing bracket without an open one",
                    "please report this",
                )))
            }
        };
        if t.indent != frame.indent {
            let meant = self
                .stack
                .iter()
                .rev()
                .find(|a| a.kind == frame.kind && a.indent == t.indent);
            if let Some(meant) = meant {
                if self.suspects.len() >= 2 * MAX_SUSPECTS {
                    self.suspects.drain(..MAX_SUSPECTS);
                }
                self.suspects.push(Suspect {
                    kind: frame.kind,
                    open: frame.open,
                    open_line: frame.line,
                    key: frame.key,
                    insert_at: prev_end,
                    close: t.range,
                    close_line: t.line,
                    meant_line: Some(meant.line),
                });
            }
        }
        let kind = match frame.kind {
            Bracket::Object => JsonKind::Object(frame.members),
            Bracket::Array => JsonKind::Array(frame.items),
        };
        Ok(self.complete(Json {
            kind,
            range: Range::new(frame.open.start, t.range.end),
        }))
    }

    fn complete(&mut self, value: Json) -> State {
        match self.stack.last_mut() {
            None => {
                self.root = Some(value);
                State::End
            }
            Some(frame) => match frame.kind {
                Bracket::Array => {
                    frame.items.push(value);
                    State::AfterElement
                }
                Bracket::Object => {
                    let (key, key_range) = frame
                        .pending
                        .take()
                        .unwrap_or_else(|| (String::new(), Range::at(value.range.start)));
                    frame.members.push(Member {
                        key,
                        key_range,
                        value,
                    });
                    State::AfterMember
                }
            },
        }
    }

    /// A failure that the missing-bracket heuristic may explain.
    fn structural(&mut self, error: JsonError, mismatch: Option<Suspect>) -> Failure {
        let skip = self.suspects.len().saturating_sub(MAX_SUSPECTS);
        let mut suspects: Vec<Suspect> = self.suspects.drain(..).skip(skip).collect();
        suspects.extend(mismatch);
        Failure {
            error,
            structural: true,
            suspects,
        }
    }

    /// The guess that the innermost open bracket lacks its closer before
    /// the closer `t` of the other kind.
    fn mismatch(&self, t: &Token, prev_end: usize) -> Option<Suspect> {
        let frame = self.stack.last()?;
        Some(Suspect {
            kind: frame.kind,
            open: frame.open,
            open_line: frame.line,
            key: frame.key,
            insert_at: prev_end,
            close: t.range,
            close_line: t.line,
            meant_line: None,
        })
    }

    fn unexpected(&mut self, state: State, t: Token, prev_end: usize) -> Failure {
        let text = self.text;
        let found = describe(text, &t);
        let shown = slice(text, t.range);
        if let Tok::Bad(Bad::Comment) = t.tok {
            return Failure::plain(error(
                t.range,
                format!("unexpected comment {found}"),
                bad_help(Bad::Comment, shown, false),
            ));
        }
        if matches!(t.tok, Tok::Eof) && !self.stack.is_empty() {
            return self.end_of_file(state, t.range);
        }
        let open = self.stack.last().map(|f| (f.kind, f.open, f.line));
        match state {
            State::Top | State::ArrayFirst | State::ArrayNext(_) | State::MemberValue => {
                match (state, &t.tok) {
                    (State::ArrayNext(comma), Tok::Close(Bracket::Array)) => {
                        return trailing_comma(comma, &t)
                    }
                    (State::Top, Tok::Eof) => {
                        return Failure::plain(error(
                            t.range,
                            "expected a JSON value, found end of file",
                            "the document is empty: a rules file holds an object, `{ … }`",
                        ))
                    }
                    _ => {}
                }
                let what = match state {
                    State::Top => "expected a JSON value",
                    State::MemberValue => "expected a value after `:`",
                    _ => "expected a value",
                };
                let message = format!("{what}, found {found}");
                match (&t.tok, state) {
                    (Tok::Bad(bad), _) => {
                        Failure::plain(error(t.range, message, bad_help(*bad, shown, false)))
                    }
                    (Tok::Comma, State::ArrayNext(_)) => {
                        Failure::plain(error(t.range, message, "remove the extra `,`"))
                    }
                    (Tok::Close(_) | Tok::Comma, State::MemberValue) => {
                        let e = error(
                            t.range,
                            message,
                            format!("write the value here; {VALUE_HELP}"),
                        );
                        self.structural(e, None)
                    }
                    _ => {
                        let e = error(t.range, message, VALUE_HELP);
                        self.structural(e, None)
                    }
                }
            }
            State::ObjectFirst | State::ObjectNext(_) => {
                if let (State::ObjectNext(comma), Tok::Close(Bracket::Object)) = (state, &t.tok) {
                    return trailing_comma(comma, &t);
                }
                let message = format!("expected a string key, found {found}");
                let mut e = match &t.tok {
                    Tok::Bad(bad) => {
                        return Failure::plain(error(t.range, message, bad_help(*bad, shown, true)))
                    }
                    Tok::Open(kind) => error(
                        t.range,
                        message,
                        format!(
                            "every member needs a key, as in `\"name\": {}`; or is a `}}` \
                             missing before this?",
                            kind.open()
                        ),
                    ),
                    Tok::Close(Bracket::Array) => error(
                        t.range,
                        message,
                        "close the object with `}` before this `]`",
                    ),
                    _ => error(
                        t.range,
                        message,
                        "object members are written `\"key\": value`",
                    ),
                };
                if let Some((_, open, _)) = open {
                    e = e.label(open, "this object is still open");
                }
                let mismatch = match (state, &t.tok) {
                    (State::ObjectFirst, Tok::Close(Bracket::Array)) => self.mismatch(&t, prev_end),
                    _ => None,
                };
                self.structural(e, mismatch)
            }
            State::Colon => {
                let key = self
                    .stack
                    .last()
                    .and_then(|f| f.pending.as_ref().map(|p| p.1));
                let message = format!("expected `:` after the key, found {found}");
                let mut e = match (&t.tok, key) {
                    (Tok::Bad(Bad::Char('=')), _) => error(
                        t.range,
                        message,
                        "write `:` between a key and its value, not `=`",
                    ),
                    (Tok::Bad(bad), _) => error(t.range, message, bad_help(*bad, shown, false)),
                    (_, Some(key)) => error(
                        t.range,
                        message,
                        format!(
                            "write `:` between the key `{}` and its value",
                            shorten(slice(text, key))
                        ),
                    ),
                    (_, None) => error(t.range, message, "write `:` between a key and its value"),
                };
                if let Some(key) = key {
                    e = e.label(key, "this key");
                }
                if matches!(t.tok, Tok::Bad(_)) {
                    Failure::plain(e)
                } else {
                    self.structural(e, None)
                }
            }
            State::AfterElement | State::AfterMember => {
                let (kind, what, items) = match state {
                    State::AfterElement => (
                        Bracket::Array,
                        "expected `,` or `]` after an array element",
                        "elements",
                    ),
                    _ => (
                        Bracket::Object,
                        "expected `,` or `}` after an object member",
                        "members",
                    ),
                };
                let message = format!("{what}, found {found}");
                let noun = kind.noun();
                match &t.tok {
                    Tok::Bad(bad) => {
                        Failure::plain(error(t.range, message, bad_help(*bad, shown, false)))
                    }
                    Tok::Close(other) => {
                        let mut e = error(
                            t.range,
                            message,
                            format!(
                                "close the {noun} with `{}` before this `{}`",
                                kind.close(),
                                other.close()
                            ),
                        );
                        if let Some((_, open, _)) = open {
                            e = e.label(open, format!("this {noun} is still open"));
                        }
                        let mismatch = self.mismatch(&t, prev_end);
                        self.structural(e, mismatch)
                    }
                    Tok::Colon if kind == Bracket::Array => {
                        let e = error(
                            t.range,
                            message,
                            "an array holds values only: for `\"key\": value` members use an \
                             object `{ … }`",
                        );
                        self.structural(e, None)
                    }
                    Tok::Colon => {
                        let e = error(t.range, message, "a member has a single `:`");
                        self.structural(e, None)
                    }
                    _ => {
                        let e = error(
                            t.range,
                            message,
                            format!("separate {items} with `,`: one is probably missing here"),
                        )
                        .label(Range::at(prev_end), "a `,` is probably missing here");
                        self.structural(e, None)
                    }
                }
            }
            State::End => {
                let ends = self.root.as_ref().map(|root| match root.kind {
                    JsonKind::Object(_) | JsonKind::Array(_) => {
                        Range::new(root.range.end.saturating_sub(1), root.range.end)
                    }
                    _ => root.range,
                });
                let mut e = match &t.tok {
                    Tok::Close(kind) => error(
                        t.range,
                        format!(
                            "unexpected `{}` after the end of the document",
                            kind.close()
                        ),
                        format!(
                            "remove this `{}`: nothing is open here (or a `{}` is missing \
                             earlier)",
                            kind.close(),
                            kind.open()
                        ),
                    ),
                    _ => error(
                        t.range,
                        if found.starts_with('`') {
                            format!("unexpected {found} after the end of the document")
                        } else {
                            format!("found {found} after the end of the document")
                        },
                        "a JSON file holds a single value: remove this, or put all the values \
                         in one object or array",
                    ),
                };
                if let Some(ends) = ends {
                    e = e.label(ends, "the document ends here");
                }
                Failure::plain(e)
            }
        }
    }

    fn end_of_file(&mut self, state: State, at: Range) -> Failure {
        let objects = self
            .stack
            .iter()
            .filter(|f| f.kind == Bracket::Object)
            .count();
        let arrays = self.stack.len() - objects;
        let what = match (objects, arrays) {
            (o, 0) => plural(o, "object"),
            (0, a) => plural(a, "array"),
            (o, a) => format!("{} and {}", plural(o, "object"), plural(a, "array")),
        };
        let verb = if self.stack.len() == 1 { "is" } else { "are" };
        let closers: String = self.stack.iter().rev().map(|f| f.kind.close()).collect();
        let them = if self.stack.len() == 1 { "it" } else { "them" };
        let help = match state {
            State::AfterElement | State::AfterMember | State::ArrayFirst | State::ObjectFirst => {
                format!("close {them} with `{closers}`")
            }
            _ => format!("complete the last member or element, then close {them} with `{closers}`"),
        };
        let mut e = error(
            at,
            format!("unexpected end of file: {what} {verb} still open"),
            help,
        );
        for frame in self.stack.iter().rev().take(SHOWN_OPEN) {
            e = e.label(
                frame.open,
                format!("this {} is still open", frame.kind.noun()),
            );
        }
        self.structural(e, None)
    }
}

fn trailing_comma(comma: Range, t: &Token) -> Failure {
    let (close, noun) = match t.tok {
        Tok::Close(kind) => (kind.close(), kind.noun()),
        _ => ('?', "value"),
    };
    Failure::plain(
        error(
            comma,
            format!("trailing comma before `{close}`"),
            "remove this comma",
        )
        .label(t.range, format!("the {noun} ends here")),
    )
}

// ---------------------------------------------------------------------------
// The missing-bracket heuristic.

/// Check each guess by parsing again with the closer inserted; keep the one
/// that gets furthest (the earliest on a tie), if it gets past the error.
fn missing_closer(text: &str, failure: &Failure) -> Option<JsonError> {
    let at = failure.error.range.start;
    let mut best: Option<(usize, &Suspect)> = None;
    for suspect in &failure.suspects {
        let (before, after) = match (text.get(..suspect.insert_at), text.get(suspect.insert_at..)) {
            (Some(before), Some(after)) => (before, after),
            _ => continue,
        };
        let mut fixed = String::with_capacity(text.len() + 1);
        fixed.push_str(before);
        fixed.push(suspect.kind.close());
        fixed.push_str(after);
        let reached = match parse_plain(&fixed) {
            Ok(_) => usize::MAX,
            Err(f) if f.error.range.start > suspect.insert_at => f.error.range.start - 1,
            Err(f) => f.error.range.start,
        };
        if reached > at && best.is_none_or(|(b, _)| reached > b) {
            best = Some((reached, suspect));
        }
    }
    let (_, s) = best?;
    let noun = s.kind.noun();
    let close = s.kind.close();
    let found_close = slice(text, s.close);
    let opener = match s.key {
        Some(key) => format!("`{}: {}`", shorten(slice(text, key)), s.kind.open()),
        None => format!("the `{}`", s.kind.open()),
    };
    let mut e = error(
        Range::at(s.insert_at),
        format!(
            "missing `{close}` to close the {noun} opened on line {}",
            s.open_line
        ),
        format!(
            "insert `{close}` to close {opener} (line {}) before the `{found_close}` on line {}",
            s.open_line, s.close_line
        ),
    )
    .label(s.open, format!("this {noun} is never closed"));
    e = match s.meant_line {
        Some(meant) => e.label(
            s.close,
            format!(
                "this `{found_close}` lines up with line {meant} but closes the {noun} opened on \
                 line {}",
                s.open_line
            ),
        ),
        None => e.label(
            s.close,
            format!("the {noun} must be closed before this `{found_close}`"),
        ),
    };
    if failure.error.range != s.close {
        e = e.label(
            failure.error.range,
            format!("the error shows up here: {}", failure.error.message),
        );
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The complete file from the Pyruse documentation, whose "SSH failed
    /// logins" chain forgets the `}` that closes `"args": {` (line 25).
    const PYRUSE_BROKEN: &str = r#"{
  "actions": {
    "Capture DNAT for SSH": [
      { "filter": "filter_pcre",
        "args": {
          "field": "MESSAGE",
          "re": "^DNAT/ssh:.* SRC=([^ ]+) DST=([^ ]+) .* SPT=([^ ]+) DPT=([^ ]+) ",
          "save": [ "dnatSaddr", "dnatAddr", "dnatPort", "dnatDport" ]
        }
      },
      { "action": "action_dnatCapture",
        "args": {
          "saddr": "dnatSaddr",
          "addr":  "dnatAddr",  "addrValue":  "127.0.0.1",
          "port":  "dnatPort",
          "dport": "dnatDport", "dportValue": "22"
        }
      }
    ],
    "SSH failed logins": [
      { "filter": "filter_equals",
        "args": { "field": "SYSLOG_IDENTIFIER", "value": "sshd" }
      },
      { "filter": "filter_pcre",
        "args": {
          "field": "MESSAGE",
          "re": "^Failed password for (.*) from ([^ ]+) port ([^ ]+) ssh2$",
          "save": [ "sshUser", "clientIP", "clientPort" ]
      },
      { "action": "action_dnatReplace",
        "args": { "addr": "clientIP", "port": "clientPort", "saddrInto": "clientIP" }
      },
      { "action": "action_email",
        "args": { "message": "SSH attack from {clientIP} on {sshUser}@{_HOSTNAME}." }
      }
    ]
  },
  "debug": true
}
"#;

    const SAVE_LINE: &str = "\"save\": [ \"sshUser\", \"clientIP\", \"clientPort\" ]";

    /// The same file with the missing `}` restored.
    fn pyruse_fixed() -> String {
        let with_brace = format!("{SAVE_LINE}\n        }}");
        PYRUSE_BROKEN.replace(SAVE_LINE, &with_brace)
    }

    fn fail(text: &str) -> JsonError {
        match parse(text) {
            Ok(json) => panic!("{text:?} parsed as {json:?}"),
            Err(e) => e,
        }
    }

    fn ok(text: &str) -> Json {
        match parse(text) {
            Ok(json) => json,
            Err(e) => panic!("{text:?} failed: {e:?}"),
        }
    }

    fn range_of(text: &str, needle: &str) -> Range {
        let start = text.find(needle).expect("needle in text");
        Range::new(start, start + needle.len())
    }

    /// 1-based line and 1-based column (in chars) of a byte offset.
    fn line_col(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// Same value as serde_json's, objects compared as Python dicts (last
    /// duplicate wins).
    fn same(ours: &Json, theirs: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (&ours.kind, theirs) {
            (JsonKind::Null, Value::Null) => true,
            (JsonKind::Bool(a), Value::Bool(b)) => a == b,
            (JsonKind::Int(a), Value::Number(b)) => {
                b.as_i64() == Some(*a) || (b.as_i64().is_none() && b.as_f64() == Some(*a as f64))
            }
            (JsonKind::Float(a), Value::Number(b)) => b.as_f64() == Some(*a),
            (JsonKind::Str(a), Value::String(b)) => a == b,
            (JsonKind::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
            }
            (JsonKind::Object(members), Value::Object(map)) => {
                let mut keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
                keys.sort_unstable();
                keys.dedup();
                keys.len() == map.len()
                    && map
                        .iter()
                        .all(|(k, v)| ours.get(k).is_some_and(|mine| same(mine, v)))
            }
            _ => false,
        }
    }

    fn shifted(j: &Json, by: usize) -> Json {
        let shift = |r: Range| Range::new(r.start + by, r.end + by);
        let kind = match &j.kind {
            JsonKind::Array(items) => {
                JsonKind::Array(items.iter().map(|i| shifted(i, by)).collect())
            }
            JsonKind::Object(members) => JsonKind::Object(
                members
                    .iter()
                    .map(|m| Member {
                        key: m.key.clone(),
                        key_range: shift(m.key_range),
                        value: shifted(&m.value, by),
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        Json {
            kind,
            range: shift(j.range),
        }
    }

    /// Every range slices the source to its token: parsing the slice alone
    /// gives the same node; keys slice to their quoted text, in source order.
    fn check_ranges(text: &str, j: &Json) {
        let own = &text[j.range.start..j.range.end];
        assert_eq!(shifted(&ok(own), j.range.start), *j, "range of {own:?}");
        match &j.kind {
            JsonKind::Array(items) => {
                let mut last = j.range.start;
                for item in items {
                    assert!(item.range.start > last);
                    last = item.range.end;
                    check_ranges(text, item);
                }
            }
            JsonKind::Object(members) => {
                let mut last = j.range.start;
                for m in members {
                    assert!(m.key_range.start > last, "members in source order");
                    assert!(m.value.range.start > m.key_range.end);
                    last = m.value.range.end;
                    let key_text = &text[m.key_range.start..m.key_range.end];
                    assert_eq!(ok(key_text).kind, JsonKind::Str(m.key.clone()));
                    check_ranges(text, &m.value);
                }
            }
            _ => {}
        }
    }

    const VALID: &[&str] = &[
        "{}",
        "[]",
        " \t\r\n{ \"a\" : [ 1 , -2.5e3 , true , false , null , \"x\" ] } \n",
        r#"{"z": 1, "a": 2, "m": {"y": [], "b": {}}, "é": "\u00e9\ud83d\ude00\n\t\"\\\/"}"#,
        r#"[0, -0, 1E+2, 0e0, -0.0, 1.5e-10, 9223372036854775807, -9223372036854775808]"#,
        r#"[9223372036854775808, 123456789012345678901234567890, 1e300, 0.1]"#,
        r#""just a string""#,
        "42",
        r#"{"": "", " ": [[[[{"deep": [null]}]]]]}"#,
        "\"raw é 😀 \u{7f} tab-free\"",
    ];

    #[test]
    fn valid_documents_match_serde_json() {
        let fixed = pyruse_fixed();
        let mut docs: Vec<&str> = VALID.to_vec();
        docs.push(&fixed);
        for doc in docs {
            let ours = ok(doc);
            let theirs: serde_json::Value = serde_json::from_str(doc).expect("serde_json");
            assert!(same(&ours, &theirs), "{doc}: {ours:?} vs {theirs:?}");
            check_ranges(doc, &ours);
            assert_eq!(
                ours.range,
                Range::new(doc.len() - doc.trim_start().len(), doc.trim_end().len())
            );
        }
    }

    #[test]
    fn member_order_and_duplicates_are_kept() {
        let doc = r#"{"b": 1, "a": 2, "b": 3, "c": {"x": 0}, "a": 4}"#;
        let json = ok(doc);
        let JsonKind::Object(members) = &json.kind else {
            panic!("not an object")
        };
        let keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b", "c", "a"]);
        assert_eq!(json.get("b").map(|v| &v.kind), Some(&JsonKind::Int(3)));
        assert_eq!(json.get("a").map(|v| &v.kind), Some(&JsonKind::Int(4)));
        assert_eq!(json.get("nope"), None);
        assert_eq!(members[2].key_range, Range::new(17, 20));
        assert_eq!(members[2].value.range, Range::new(22, 23));
        assert_eq!(
            json.get("c").and_then(|c| c.get("x")).map(|x| x.range),
            Some(Range::new(36, 37))
        );
        assert_eq!(members[0].value.get("b"), None);
    }

    #[test]
    fn values_and_type_names() {
        let json = ok(VALUES);
        let JsonKind::Array(items) = &json.kind else {
            panic!("not an array")
        };
        let names: Vec<&str> = items.iter().map(Json::type_name).collect();
        assert_eq!(
            names,
            [
                "null",
                "true/false",
                "number",
                "number",
                "number",
                "string",
                "array",
                "object",
                "number",
                "number",
                "number",
                "number",
                "number"
            ]
        );
        assert_eq!(items[2].kind, JsonKind::Int(7));
        assert_eq!(items[3].kind, JsonKind::Float(7.0));
        assert_eq!(items[4].kind, JsonKind::Float(100.0));
        assert!(matches!(items[8].kind, JsonKind::Float(f) if f.is_nan()));
        assert_eq!(items[9].kind, JsonKind::Float(f64::INFINITY));
        assert_eq!(items[10].kind, JsonKind::Float(f64::NEG_INFINITY));
        assert_eq!(
            items[11].kind,
            JsonKind::Int(0),
            "Python reads -0 as the int 0"
        );
        assert_eq!(items[12].kind, JsonKind::Float(1e20));
        assert_eq!(items[10].range, range_of(VALUES, "-Infinity"));
    }

    const VALUES: &str = r#"[null, true, 7, 7.0, 1e2, "s", [], {}, NaN, Infinity, -Infinity, -0, 99999999999999999999]"#;

    /// Inputs and whether Python 3.11's `json.loads` accepts them (generated
    /// by running Python on each).
    const PYTHON_VERDICTS: &[(&str, bool)] = &[
        ("0", true),
        ("-0", true),
        ("1.5", true),
        ("-1.5e-3", true),
        ("1E+2", true),
        ("0e0", true),
        ("-0.0", true),
        ("1e999", true),
        ("-1e999", true),
        ("9223372036854775807", true),
        ("-9223372036854775808", true),
        ("9223372036854775808", true),
        ("123456789012345678901234567890", true),
        ("\"\\u0000\"", true),
        ("\"\\ud800\"", true),
        ("\"\\udc00x\"", true),
        ("\"\\ud83d\\ude00\"", true),
        ("\"\\ud800\\u0041\"", true),
        (" \t\r\n[] \n", true),
        ("NaN", true),
        ("-Infinity", true),
        ("Infinity", true),
        ("[Infinity,NaN,-Infinity]", true),
        ("{\"a\":[]}", true),
        ("\"\u{7f}\"", true),
        ("\"é\u{1f600}\"", true),
        ("{\"\":\"\"}", true),
        ("\"\\/\"", true),
        ("\"\\b\\f\\n\\r\\t\\\"\\\\\"", true),
        ("[-0.0]", true),
        ("{\"a\":1,\"a\":2}", true),
        ("true", true),
        ("false", true),
        ("null", true),
        ("[[[[]]]]", true),
        ("{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}", true),
        ("\"\\u00E9\\u00e9\"", true),
        ("", false),
        ("  ", false),
        ("-NaN", false),
        ("+1", false),
        (".5", false),
        ("1.", false),
        ("01", false),
        ("-01", false),
        ("00", false),
        ("-", false),
        ("1e", false),
        ("1e+", false),
        ("1.5.3", false),
        ("[1-2]", false),
        ("\u{feff}{}", false),
        (" \u{feff}{}", false),
        ("\"\u{1}\"", false),
        ("\"a\tb\"", false),
        ("\"a\nb\"", false),
        ("[1,]", false),
        ("{\"a\":1,}", false),
        ("{'a':1}", false),
        ("'a'", false),
        ("\"\\U0041\"", false),
        ("\"\\x\"", false),
        ("\"\\u12\"", false),
        ("\"\\u12G4\"", false),
        ("\"\\ud800\\u12\"", false),
        ("\"\\ud800\\u12\"", false),
        ("nan", false),
        ("inf", false),
        ("True", false),
        ("None", false),
        ("[1 2]", false),
        ("{\"a\" 1}", false),
        ("{\"a\":1 \"b\":2}", false),
        ("[1]]", false),
        ("{}}", false),
        ("// c\n{}", false),
        ("{} // c", false),
        ("/* c */ {}", false),
        ("# c\n{}", false),
        ("\u{c}1", false),
        ("\u{b}1", false),
        ("\u{a0}1", false),
        ("1 2", false),
        ("\"abc", false),
        ("\"", false),
        ("[", false),
        ("{", false),
        ("{\"a\"", false),
        ("{\"a\":", false),
        ("[1,", false),
        ("tru", false),
        ("nul", false),
        ("nullx", false),
        ("truex", false),
        ("{\"a\":1}x", false),
        ("0x10", false),
        ("{,}", false),
        ("[,]", false),
        ("[1,,2]", false),
        ("{\"a\"::1}", false),
        ("{1:2}", false),
        ("{\"a\"=1}", false),
        ("[1;2]", false),
        ("{\"a\":-}", false),
        ("-infinity", false),
        ("-Infinityx", false),
        ("Infinity1", false),
        ("1true", false),
        ("[1true]", false),
        ("\"\\", false),
        ("\"\\\"", false),
        ("[01.5]", false),
        ("1e5.0", false),
        ("0.e1", false),
        ("1.e1", false),
        ("-.5", false),
        ("\u{201c}a\u{201d}", false),
        ("{\u{201c}a\u{201d}:1}", false),
        ("[١]", false),
        ("\u{2028} 1", false),
        ("1\u{a0}", false),
        ("[1]\u{0}", false),
        ("\"\u{a0}\"", true),
        ("\"\u{2028}\"", true),
    ];

    #[test]
    fn accepts_exactly_what_python_accepts() {
        for (text, python) in PYTHON_VERDICTS {
            let ours = parse(text);
            assert_eq!(ours.is_ok(), *python, "{text:?}: {ours:?}");
        }
        let digits = "1".repeat(PYTHON_INT_MAX_DIGITS);
        assert!(matches!(ok(&digits).kind, JsonKind::Float(f) if f.is_infinite()));
        assert!(parse(&format!("-{digits}")).is_ok());
        let e = fail(&format!("{digits}1"));
        assert_eq!(e.range, Range::new(0, PYTHON_INT_MAX_DIGITS + 1));
        assert!(e.message.contains("4301 digits"), "{}", e.message);
        assert!(parse(&format!("{digits}1.0")).is_ok());
        assert!(parse(&format!("{digits}1e0")).is_ok());
    }

    #[test]
    fn surrogates() {
        assert_eq!(ok(r#""\ud83d\ude00""#).kind, JsonKind::Str("😀".into()));
        assert_eq!(ok(r#""\uD83D\uDE00""#).kind, JsonKind::Str("😀".into()));
        assert_eq!(ok(r#""\ud800""#).kind, JsonKind::Str("\u{fffd}".into()));
        assert_eq!(ok(r#""\udc00x""#).kind, JsonKind::Str("\u{fffd}x".into()));
        assert_eq!(
            ok(r#""\ud800\u0041""#).kind,
            JsonKind::Str("\u{fffd}A".into())
        );
        assert_eq!(
            ok(r#""\ud800\ud800\udc00""#).kind,
            JsonKind::Str("\u{fffd}\u{10000}".into())
        );
        assert_eq!(ok(r#""\u0000""#).kind, JsonKind::Str("\0".into()));
        let e = fail(r#""\ud800\u12""#);
        assert_eq!(e.range, Range::new(7, 11));
    }

    #[test]
    fn source_offset_follows_escapes() {
        let text = r#"{"re": "a\\b\u00e9c\"d😀e\ud83d\ude00f"}"#;
        let json = ok(text);
        let re = json.get("re").expect("re");
        assert_eq!(re.kind, JsonKind::Str("a\\béc\"d😀e😀f".into()));
        let lit = re.range;
        let l = lit.start + 1;
        let expect = [
            (0, l),
            (1, l + 1),
            (2, l + 3),
            (3, l + 4),
            (4, l + 4),
            (5, l + 10),
            (6, l + 11),
            (7, l + 13),
            (8, l + 14),
            (10, l + 14),
            (12, l + 18),
            (13, l + 19),
            (15, l + 19),
            (17, l + 31),
            (18, l + 32),
            (100, l + 32),
        ];
        for (decoded, source) in expect {
            assert_eq!(
                source_offset(text, lit, decoded),
                source,
                "decoded offset {decoded}"
            );
        }
        // An error at the `b` of the decoded regex points at the source `b`.
        let JsonKind::Str(s) = &re.kind else { panic!() };
        let b = s.find('b').expect("b");
        assert_eq!(&text[source_offset(text, lit, b)..][..1], "b");
        let c = s.find('c').expect("c");
        assert_eq!(&text[source_offset(text, lit, c)..][..1], "c");
        // The key's range works the same way.
        let JsonKind::Object(members) = &json.kind else {
            panic!()
        };
        assert_eq!(source_offset(text, members[0].key_range, 1), 3);
        // Not a string literal: no panic, clamped.
        assert_eq!(source_offset(text, Range::new(0, 1), 3), 3);
        assert_eq!(source_offset(text, Range::new(500, 501), 3), text.len());
        assert_eq!(source_offset("\"ab", Range::new(0, 3), 9), 3);
    }

    #[test]
    fn control_characters_in_strings() {
        let text = "{\"a\": \"x\ty\"}";
        let e = fail(text);
        assert_eq!(e.range, Range::new(8, 9));
        assert!(e.message.contains("tab (U+0009)"), "{}", e.message);
        assert_eq!(e.help, "write `\\t` instead of a raw tab");
        let text = "{\"a\": \"abc\n}";
        let e = fail(text);
        assert_eq!(e.range, Range::new(10, 11));
        assert!(e.message.contains("line feed (U+000A)"), "{}", e.message);
        assert_eq!(
            e.related,
            vec![(Range::new(6, 7), "the string starts here".to_string())]
        );
        let e = fail("\"\u{1}\"");
        assert_eq!(e.range, Range::new(1, 2));
        assert!(e.help.contains("\\u0001"));
        assert!(parse("\"\u{7f}\"").is_ok());
    }

    #[test]
    fn trailing_commas() {
        let e = fail("[1, 2, ]");
        assert_eq!(e.range, Range::new(5, 6));
        assert_eq!(e.message, "trailing comma before `]`");
        assert_eq!(e.help, "remove this comma");
        assert_eq!(
            e.related,
            vec![(Range::new(7, 8), "the array ends here".to_string())]
        );
        let e = fail("{\"a\": 1,\n}");
        assert_eq!(e.range, Range::new(7, 8));
        assert_eq!(e.help, "remove this comma");
        assert_eq!(e.related[0].0, Range::new(9, 10));
    }

    #[test]
    fn single_and_typographic_quotes() {
        let e = fail("{'a': 1}");
        assert_eq!(e.range, Range::new(1, 4));
        assert_eq!(e.message, "expected a string key, found `'a'`");
        assert_eq!(e.help, "JSON strings use double quotes: write `\"a\"`");
        let e = fail("{\"a\": 'b c'}");
        assert_eq!(e.range, Range::new(6, 11));
        assert_eq!(e.message, "expected a value after `:`, found `'b c'`");
        assert!(e.help.starts_with("JSON strings use double quotes"));
        let e = fail("['unclosed\n]");
        assert_eq!(e.range, Range::new(1, 2));
        let e = fail("{\u{201c}a\u{201d}: 1}");
        assert_eq!(e.range, Range::new(1, 8));
        assert!(e.help.contains("typographic"));
    }

    #[test]
    fn comments() {
        let e = fail("{ // hi\n \"a\": 1 }");
        assert_eq!(e.range, Range::new(2, 7));
        assert_eq!(e.message, "unexpected comment `// hi`");
        assert_eq!(e.help, "JSON has no comments: remove it");
        let e = fail("/* x */ {}");
        assert_eq!(e.range, Range::new(0, 7));
        let e = fail("{} /* open");
        assert_eq!(e.range, Range::new(3, 10));
        let e = fail("# note\r\n{}");
        assert_eq!(e.range, Range::new(0, 6));
        assert_eq!(e.help, "JSON has no comments: remove it");
    }

    #[test]
    fn byte_order_mark() {
        let e = fail("\u{feff}{}");
        assert_eq!(e.range, Range::new(0, 3));
        assert!(e.message.contains("byte order mark (BOM)"), "{}", e.message);
        let e = fail(" \u{feff}{}");
        assert_eq!(e.range, Range::new(1, 4));
        assert_eq!(
            e.message,
            "expected a JSON value, found a byte order mark (U+FEFF)"
        );
    }

    #[test]
    fn escapes() {
        let e = fail(r#"["\d+"]"#);
        assert_eq!(e.range, Range::new(2, 4));
        assert_eq!(e.message, "invalid escape `\\d` in a string");
        assert!(e.help.contains("`\\\\`"), "{}", e.help);
        let e = fail(r#"["\é"]"#);
        assert_eq!(e.range, Range::new(2, 5));
        let e = fail(r#"["\u12G4"]"#);
        assert_eq!(e.range, Range::new(2, 8));
        assert_eq!(
            e.message,
            "invalid unicode escape `\\u12G4`: `\\u` needs 4 hexadecimal digits"
        );
        let e = fail(r#"["\u12"]"#);
        assert_eq!(e.range, Range::new(2, 6));
        let e = fail(r#"["abc"#);
        assert_eq!(e.range, Range::new(5, 5));
        assert_eq!(e.message, "unexpected end of file inside a string");
        assert_eq!(e.related[0].0, Range::new(1, 2));
        let e = fail(r#"["\"#);
        assert_eq!(e.range, Range::new(3, 3));
    }

    #[test]
    fn keys_colons_and_commas() {
        let e = fail("{field: 1}");
        assert_eq!(e.range, Range::new(1, 6));
        assert_eq!(e.message, "expected a string key, found `field`");
        assert_eq!(
            e.help,
            "keys are strings in double quotes: write `\"field\"`"
        );
        let e = fail("{\"a\" 1}");
        assert_eq!(e.range, Range::new(5, 6));
        assert_eq!(e.message, "expected `:` after the key, found `1`");
        assert_eq!(e.related, vec![(Range::new(1, 4), "this key".to_string())]);
        let e = fail("{\"a\" = 1}");
        assert!(e.help.contains("not `=`"));
        let e = fail("{\"a\": 1 \"b\": 2}");
        assert_eq!(e.range, Range::new(8, 11));
        assert_eq!(
            e.message,
            "expected `,` or `}` after an object member, found `\"b\"`"
        );
        assert_eq!(
            e.related[0],
            (
                Range::new(7, 7),
                "a `,` is probably missing here".to_string()
            )
        );
        let e = fail("[1 2]");
        assert_eq!(e.range, Range::new(3, 4));
        assert_eq!(
            e.message,
            "expected `,` or `]` after an array element, found `2`"
        );
        let e = fail("[\"a\": 1]");
        assert!(e.help.contains("use an object"));
        let e = fail("{\"a\": 1, {\"b\": 2}}");
        assert_eq!(e.message, "expected a string key, found `{`");
        assert_eq!(e.range, Range::new(9, 10));
        assert_eq!(
            e.related,
            vec![(Range::new(0, 1), "this object is still open".to_string())]
        );
        let e = fail("[1,,2]");
        assert_eq!(e.range, Range::new(3, 4));
        assert_eq!(e.help, "remove the extra `,`");
        let e = fail("{\"a\": }");
        assert_eq!(e.message, "expected a value after `:`, found `}`");
    }

    #[test]
    fn literals_and_stray_characters() {
        let e = fail("True");
        assert_eq!(e.range, Range::new(0, 4));
        assert_eq!(e.message, "expected a JSON value, found `True`");
        assert_eq!(e.help, "JSON literals are lowercase: write `true`");
        assert_eq!(fail("{\"a\": None}").help, "write `null`");
        assert_eq!(fail("[nan]").help, "write `NaN`");
        assert_eq!(fail("{\"a\": tru}").help, "did you mean `true`?");
        assert_eq!(fail("[nul]").help, "did you mean `null`?");
        assert_eq!(fail("[-inf]").range, Range::new(1, 5));
        let e = fail("{\u{a0}}");
        assert_eq!(e.range, Range::new(1, 3));
        assert_eq!(
            e.message,
            "expected a string key, found a no-break space (U+00A0)"
        );
        assert!(e.help.contains("invisible"));
        let e = fail("[1]\0");
        assert_eq!(e.range, Range::new(3, 4));
        assert_eq!(
            e.message,
            "found a NUL character (U+0000) after the end of the document"
        );
    }

    #[test]
    fn numbers() {
        let cases = [
            (
                "[01]",
                Range::new(1, 3),
                "remove the leading zero: write `1`",
            ),
            (
                "[-007]",
                Range::new(1, 5),
                "remove the leading zero: write `-7`",
            ),
            (
                "[1.]",
                Range::new(1, 3),
                "write digits after the point, as in `1.0`, or drop the point",
            ),
            (
                "-",
                Range::new(0, 1),
                "write a number such as `-1` or `-0.5`, or `-Infinity`",
            ),
            (
                "[1e+]",
                Range::new(1, 4),
                "write the exponent's digits, as in `1e6` or `2.5e-3`",
            ),
            (
                "0x10",
                Range::new(0, 4),
                "JSON has no hexadecimal numbers: write the number in decimal",
            ),
            ("[1-2]", Range::new(1, 4), ""),
            ("[1.5.3]", Range::new(1, 6), ""),
            (
                "+1",
                Range::new(0, 2),
                "remove the `+`: JSON numbers have no plus sign",
            ),
            (
                ".5",
                Range::new(0, 2),
                "write a digit before the decimal point: `0.5`",
            ),
        ];
        for (text, range, help) in cases {
            let e = fail(text);
            assert_eq!(e.range, range, "{text}");
            if !help.is_empty() {
                assert_eq!(e.help, help, "{text}");
            }
        }
        assert_eq!(
            fail("[01]").message,
            "invalid number `01`: a number cannot start with `0` followed by digits"
        );
        assert_eq!(fail("+1").message, "expected a JSON value, found `+1`");
    }

    #[test]
    fn extra_data_and_empty_documents() {
        let e = fail("{}}");
        assert_eq!(e.range, Range::new(2, 3));
        assert_eq!(e.message, "unexpected `}` after the end of the document");
        assert_eq!(
            e.related,
            vec![(Range::new(1, 2), "the document ends here".to_string())]
        );
        let e = fail("{} x");
        assert_eq!(e.message, "unexpected `x` after the end of the document");
        assert_eq!(fail("1 2").range, Range::new(2, 3));
        let e = fail("");
        assert_eq!(e.range, Range::new(0, 0));
        assert_eq!(e.message, "expected a JSON value, found end of file");
        assert_eq!(fail("  \n").range, Range::new(3, 3));
    }

    #[test]
    fn end_of_file_inside_containers() {
        let e = fail("{\"a\": {");
        assert_eq!(e.range, Range::new(7, 7));
        assert_eq!(
            e.message,
            "unexpected end of file: 2 objects are still open"
        );
        assert_eq!(e.help, "close them with `}}`");
        let text = "{\"a\": [1, {\"b\": 2}";
        let e = fail(text);
        assert_eq!(e.range, Range::at(text.len()));
        assert_eq!(
            e.message,
            "unexpected end of file: 1 object and 1 array are still open"
        );
        assert_eq!(e.help, "close them with `]}`");
        assert_eq!(
            e.related,
            vec![
                (Range::new(6, 7), "this array is still open".to_string()),
                (Range::new(0, 1), "this object is still open".to_string()),
            ]
        );
        let e = fail("[");
        assert_eq!(e.message, "unexpected end of file: 1 array is still open");
        assert_eq!(e.help, "close it with `]`");
        let e = fail("{\"a\":");
        assert_eq!(
            e.help,
            "complete the last member or element, then close it with `}`"
        );
    }

    #[test]
    fn nesting_depth_is_limited() {
        let deep = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&deep).is_ok());
        let too_deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        let e = fail(&too_deep);
        assert_eq!(e.range, Range::new(MAX_DEPTH, MAX_DEPTH + 1));
        assert!(e.message.starts_with("too deeply nested"));
        let e = fail(&"[{\"a\":".repeat(200_000));
        assert!(e.message.starts_with("too deeply nested"));
        assert!(fail(&"[".repeat(1_000_000))
            .message
            .starts_with("too deeply nested"));
    }

    #[test]
    fn huge_string() {
        let big = format!("[\"{}\"]", "é".repeat(500_000));
        let json = ok(&big);
        let JsonKind::Array(items) = json.kind else {
            panic!()
        };
        assert_eq!(items[0].range, Range::new(1, big.len() - 1));
    }

    #[test]
    fn missing_brace_in_the_documentation_example() {
        let text = PYRUSE_BROKEN;
        let e = fail(text);
        let save = text.find(SAVE_LINE).expect("save line") + SAVE_LINE.len();
        assert_eq!(e.range, Range::at(save));
        assert_eq!(line_col(text, e.range.start), (28, 58));
        assert_eq!(
            e.message,
            "missing `}` to close the object opened on line 25"
        );
        assert_eq!(
            e.help,
            "insert `}` to close `\"args\": {` (line 25) before the `}` on line 29"
        );
        let (args_brace, label) = &e.related[0];
        assert_eq!(label, "this object is never closed");
        assert_eq!(line_col(text, args_brace.start), (25, 17));
        assert_eq!(&text[args_brace.start..args_brace.end], "{");
        let (closer, label) = &e.related[1];
        assert_eq!(line_col(text, closer.start), (29, 7));
        assert_eq!(
            label,
            "this `}` lines up with line 24 but closes the object opened on line 25"
        );
        let (found, label) = &e.related[2];
        assert_eq!(line_col(text, found.start), (30, 7));
        assert_eq!(
            label,
            "the error shows up here: expected a string key, found `{`"
        );
        // Inserting the `}` where the error says gives the valid file.
        let mut repaired = text.to_string();
        repaired.insert(e.range.start, '}');
        assert!(parse(&repaired).is_ok());
        assert!(parse(&pyruse_fixed()).is_ok());
    }

    #[test]
    fn missing_bracket_of_the_wrong_kind() {
        let text = r#"{
  "actions": {
    "x": [
      { "filter": "filter_pcre",
        "args": {
          "save": [ "a", "b"
        }
      }
    ]
  }
}"#;
        let e = fail(text);
        assert_eq!(line_col(text, e.range.start), (6, 29));
        assert_eq!(e.range.start, e.range.end);
        assert_eq!(e.message, "missing `]` to close the array opened on line 6");
        assert_eq!(
            e.help,
            "insert `]` to close `\"save\": [` (line 6) before the `}` on line 7"
        );
        assert_eq!(line_col(text, e.related[0].0.start), (6, 19));
        assert_eq!(e.related[1].1, "the array must be closed before this `}`");
        assert_eq!(e.related.len(), 2);
    }

    #[test]
    fn missing_bracket_found_by_indentation() {
        let text = "{\n  \"rows\": [\n    [ 1, 2,\n      3\n  ],\n  \"n\": 1\n}\n";
        let e = fail(text);
        assert_eq!(line_col(text, e.range.start), (4, 8));
        assert_eq!(e.message, "missing `]` to close the array opened on line 3");
        assert_eq!(
            e.help,
            "insert `]` to close the `[` (line 3) before the `]` on line 5"
        );

        // The error only shows up at the end of the file.
        let text = "{\n  \"a\": {\n    \"b\": {\n      \"c\": 1\n  },\n  \"d\": 2\n}\n";
        let e = fail(text);
        assert_eq!(line_col(text, e.range.start), (4, 13));
        assert_eq!(
            e.message,
            "missing `}` to close the object opened on line 3"
        );
        assert_eq!(
            e.help,
            "insert `}` to close `\"b\": {` (line 3) before the `}` on line 5"
        );
        assert_eq!(
            e.related[2].1,
            "the error shows up here: unexpected end of file: 1 object is still open"
        );
    }

    #[test]
    fn heuristic_falls_back_to_the_plain_error() {
        // A closer indented like an outer object, but adding a `}` there
        // does not help: the error is a missing comma.
        let text = "{\n  \"a\": {\n    \"b\": { \"c\": 1\n  }\n  },\n  \"d\": 1 \"e\": 2\n}\n";
        let e = fail(text);
        assert_eq!(
            e.message,
            "expected `,` or `}` after an object member, found `\"e\"`"
        );
        assert_eq!(line_col(text, e.range.start), (6, 10));
        // A neatly indented file that is merely cut short.
        let fixed = pyruse_fixed();
        let cut = &fixed[..fixed.find("\"debug\"").expect("debug")];
        let e = fail(cut);
        assert!(
            e.message
                .starts_with("expected a string key, found end of file")
                || e.message.starts_with("unexpected end of file"),
            "{}",
            e.message
        );
        assert_eq!(e.range, Range::at(cut.len()));
    }

    fn assert_sane(text: &str, result: &Result<Json, JsonError>) {
        if let Err(e) = result {
            let mut ranges = vec![e.range];
            ranges.extend(e.related.iter().map(|(r, _)| *r));
            for r in ranges {
                assert!(r.start <= r.end && r.end <= text.len(), "{r:?} in {text:?}");
                assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            }
            assert!(!e.message.is_empty() && !e.help.is_empty());
        }
    }

    #[test]
    fn no_panic_on_truncations_and_edits() {
        let fixed = pyruse_fixed();
        for doc in [PYRUSE_BROKEN, fixed.as_str(), VALID[3]] {
            for (i, _) in doc.char_indices().chain([(doc.len(), ' ')]) {
                let prefix = &doc[..i];
                assert_sane(prefix, &parse(prefix));
                let suffix = &doc[i..];
                assert_sane(suffix, &parse(suffix));
            }
        }
        for (i, c) in fixed.char_indices() {
            let mut deleted = fixed.clone();
            deleted.replace_range(i..i + c.len_utf8(), "");
            assert_sane(&deleted, &parse(&deleted));
            for insert in ["}", "]", "\"", ","] {
                let mut inserted = fixed.clone();
                inserted.insert_str(i, insert);
                assert_sane(&inserted, &parse(&inserted));
            }
        }
    }

    #[test]
    fn no_panic_on_random_input() {
        let alphabet: Vec<char> =
            "{}[]:,\"\\u0123456789abcdefEe.+-ntrufalsINaNy \n\t'/*#é😀\u{a0}\u{feff}\u{0}"
                .chars()
                .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20_000 {
            let len = (next() % 48) as usize;
            let text: String = if round % 4 == 0 {
                let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let result = parse(&text);
            assert_sane(&text, &result);
            if let Ok(json) = &result {
                if !text.contains("NaN") {
                    check_ranges(&text, json);
                }
            }
            let literal = Range::new((next() % 50) as usize, (next() % 50) as usize);
            let _ = source_offset(&text, literal, (next() % 60) as usize);
        }
    }
}
