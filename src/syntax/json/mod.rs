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
//!   stops with a `RecursionError` near 1000 levels), found by a scan before
//!   the grammar runs: no input overflows the stack, and no input makes the
//!   reader panic.
//!
//! # How it reads
//!
//! The grammar is `grammar/json.pest`: pest decides what is a document, and
//! the tree is built from its pairs. When the text is not a document,
//! `diagnose.rs` reads it again, token by token and without recursion, to
//! say what was found and what was expected: it knows the open brackets,
//! the key being written, and what Python users write by habit (single
//! quotes, comments, `True`, `01`, …).
//!
//! # The missing-bracket heuristic
//!
//! A forgotten `}` or `]` usually shows up as an error much later (often
//! "expected a string key, found `{`"). When a syntax error involves the
//! document's structure, the reader looks at the closing brackets it has
//! already matched: one whose line is indented like the line of an enclosing
//! bracket of the same kind, rather than like the line of the bracket it
//! closed, suggests that a closer is missing before it. A closing bracket of
//! the wrong kind at the error is considered too. Each such guess is checked
//! by reading the text again with the closer inserted; a guess is kept only
//! if the document then parses, or fails further on. The error then points,
//! zero-width, at the end of the last token before that closer, where the
//! missing bracket belongs (`missing_closer.rs`). Otherwise the plain error
//! is returned.

mod diagnose;
mod missing_closer;
#[cfg(test)]
mod tests;
mod tokens;

use grammar::{JsonParser, Rule};
use pest::iterators::Pair;
use pest::Parser as _;
use std::fmt;

/// The parser of `grammar/json.pest`, and its `Rule`s, kept out of the
/// public API.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/json.pest"]
    pub struct JsonParser;
}

/// Deepest nesting of objects and arrays that [`parse`] accepts.
pub const MAX_DEPTH: usize = 256;
/// Python's default `sys.get_int_max_str_digits()`.
const PYTHON_INT_MAX_DIGITS: usize = 4300;

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
    if nesting_fits(text) {
        match JsonParser::parse(Rule::document, text) {
            Ok(mut pairs) => {
                let value = pairs.next().and_then(|doc| doc.into_inner().next());
                if let Some(value) = value {
                    return build(text, value);
                }
            }
            Err(e) => {
                return Err(explain(text).unwrap_or_else(|| unexplained(text, &e)));
            }
        }
    }
    Err(explain(text).unwrap_or_else(|| {
        error(
            Range::at(0),
            "internal error: this text could not be read as JSON",
            "please report this",
        )
    }))
}

/// What is wrong with `text`, in words: the first error, or the missing
/// bracket that explains it. `None` if the text is a document.
fn explain(text: &str) -> Option<JsonError> {
    let failure = diagnose::scan(text)?;
    let guess = if failure.structural {
        missing_closer::guess(text, &failure)
    } else {
        None
    };
    Some(guess.unwrap_or(failure.error))
}

/// A failure of the grammar that [`diagnose`] does not see (the two
/// disagree: a bug), reported where pest stopped.
fn unexplained(text: &str, e: &pest::error::Error<Rule>) -> JsonError {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    error(
        Range::at(pos),
        "this is not valid JSON",
        "check the JSON syntax here (and please report this message, which should say more)",
    )
}

/// Whether the brackets outside strings nest at most [`MAX_DEPTH`] deep,
/// so that the grammar's recursion stays shallow. Within the part of the
/// text that the grammar reads, its strings are the ones seen here.
fn nesting_fits(text: &str) -> bool {
    let mut depth = 0usize;
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                while let Some(b) = bytes.next() {
                    match b {
                        b'"' => break,
                        b'\\' => {
                            bytes.next();
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    true
}

// ---------------------------------------------------------------------------
// The tree, from the grammar's pairs.

fn range_of(pair: &Pair<'_, Rule>) -> Range {
    let span = pair.as_span();
    Range::new(span.start(), span.end())
}

/// The value of a `value` pair (recursion is bounded: see [`nesting_fits`]).
fn build(text: &str, pair: Pair<'_, Rule>) -> Result<Json, JsonError> {
    let range = range_of(&pair);
    let kind = match pair.as_rule() {
        Rule::object => {
            let mut members = Vec::new();
            for member in pair.into_inner() {
                let mut parts = member.into_inner();
                let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
                    continue;
                };
                let key_range = range_of(&key);
                members.push(Member {
                    key: decode(text, key_range),
                    key_range,
                    value: build(text, value)?,
                });
            }
            JsonKind::Object(members)
        }
        Rule::array => JsonKind::Array(
            pair.into_inner()
                .map(|item| build(text, item))
                .collect::<Result<_, _>>()?,
        ),
        Rule::string => JsonKind::Str(decode(text, range)),
        Rule::number => number(pair.as_str(), range)?,
        Rule::true_ => JsonKind::Bool(true),
        Rule::false_ => JsonKind::Bool(false),
        Rule::nan => JsonKind::Float(f64::NAN),
        Rule::infinity => JsonKind::Float(f64::INFINITY),
        Rule::neg_infinity => JsonKind::Float(f64::NEG_INFINITY),
        // `null`: the grammar has no other value.
        _ => JsonKind::Null,
    };
    Ok(Json { kind, range })
}

/// The value of a number the grammar accepted: an `Int` if it has neither
/// fraction nor exponent and fits an `i64`, else a `Float`.
fn number(source: &str, range: Range) -> Result<JsonKind, JsonError> {
    if !source.contains(['.', 'e', 'E']) {
        let digits = source.trim_start_matches('-').len();
        if digits > PYTHON_INT_MAX_DIGITS {
            return Err(tokens::too_long(range, digits));
        }
        if let Ok(i) = source.parse::<i64>() {
            return Ok(JsonKind::Int(i));
        }
    }
    source
        .parse::<f64>()
        .map(JsonKind::Float)
        .map_err(|_| tokens::not_a_number(source, range))
}

/// The decoded content of the string literal at `literal`.
fn decode(text: &str, literal: Range) -> String {
    let mut out = String::new();
    let mut pos = literal.start + 1;
    while let Unit::Char(c, next) = string_unit(text, pos) {
        out.push(c);
        pos = next;
    }
    out
}

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
// Strings: one decoding step, shared by the tree, the diagnosis and
// `source_offset`.

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
