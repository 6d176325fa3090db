//! Message templates: Python's `str.format_map(entry)`, byte for byte.
//!
//! Pyruse rendered the `message` of its actions with Python 3.11's
//! `str.format_map` over the journal entry (semantics §6). This module
//! reproduces that: the replacement-field grammar and its error messages
//! (`Objects/stringlib/unicode_format.h`), the format-spec mini-language for
//! `str`, `int`, `bool` and `float` (`Python/formatter_unicode.c`,
//! `Python/pystrtod.c`), `str()`/`repr()`/`ascii()` of every [`Value`], and
//! `datetime.__format__`, which is `strftime`: Python's own handling of
//! `%z`, `%Z` and `%f`, then glibc's `wcsftime` in the C locale, emulated
//! here (flags `_ - 0 ^ #`, widths, `E`/`O` modifiers, unknown directives
//! copied as written, Python's output-size limit).
//!
//! A template is parsed once ([`Template::parse`]); everything Python would
//! reject whatever the entry holds is a load error ([`TemplateError`]).
//! Errors that depend on the value (`{x:d}` on a str) happen at render time
//! ([`RenderError`]), as in Python.
//!
//! Deliberate limits, each an error where Python would have succeeded:
//! * a field name is a plain key: `{a.b}` and `{a[0]}` are load errors;
//! * a format spec that is invalid for `str`, `int` and `float` alike and
//!   holds no `%` is a load error, although a datetime would render it as
//!   `strftime` text (e.g. `{x:zz}`);
//! * widths and precisions above [`MAX_WIDTH`] are refused (Python would
//!   try to allocate them).
//!
//! Datetimes (`Value::Time`) are rendered the way Python rendered the
//! aware datetime `datetime.fromtimestamp(t, timezone.utc).astimezone()`:
//! its `tzinfo` is a fixed-offset `datetime.timezone` named after the zone
//! abbreviation (`CET`, `UTC`), so `repr` gives
//! `datetime.datetime(2024, 3, 2, 0, 1, 39, 99, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))`,
//! and `strftime` sees `tm_isdst = -1` (glibc's own `%z`, reached only
//! through a flag such as `%-z`, is then empty, and `%Z` with a flag or
//! width is blank). `%s` is the entry's Unix time (glibc's `mktime` in the
//! process zone gives the same except in a repeated DST hour). A time
//! outside Python's years 1–9999 renders as its number of microseconds
//! (and is a render error under a format spec).
//!
//! Files, one concern each:
//! * `mod.rs`: [`Template`], its errors, and `str()`/`repr()` of a value
//!   ([`render_str`], [`render_repr`], [`render_plain`]);
//! * `fields.rs`: the replacement fields and their load errors
//!   (`unicode_format.h`);
//! * `spec.rs`: the format-spec mini-language (`formatter_unicode.c`);
//! * `render.rs`: rendering a template, and numbers as Python writes them;
//! * `repr.rs`: `str()`, `repr()` and `ascii()` of each value;
//! * `strftime.rs`: `datetime.__format__`;
//! * `unicode.rs`: Python's Unicode tables;
//! * `tests.rs`: expectations printed by CPython 3.11.

use std::collections::HashMap;
use std::fmt;

use jiff::tz::TimeZone;

use crate::vm::value::Value;

mod fields;
mod render;
mod repr;
mod spec;
mod strftime;
#[cfg(test)]
mod tests;
mod unicode;

use fields::Parser;
use render::Ctx;
use repr::{write_repr, write_str_value};
use spec::{RawErr, RawSpec};

/// Largest width or precision a format spec may ask for.
pub const MAX_WIDTH: u64 = 65_535;

/// A parsed message template.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
    fields: Vec<String>,
    ranges: Vec<(usize, usize)>,
}

/// Why a template cannot be loaded; `start..end` is a byte range of the
/// template text. `message` is Python's own message where Python has one.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub help: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// How a field absent from the entry renders: Python Pyruse renders `None`
/// (legacy), native rules render "" .
///
/// With [`Missing::Empty`] the field renders as the empty text whatever its
/// conversion, padded to the width of its format spec (fill character
/// included) when the spec has one; it never fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    PythonNone,
    Empty,
}

/// Why rendering failed at run time (Python raised): message like Python's,
/// e.g. "Unknown format code 'd' for object of type 'str'".
#[derive(Debug, Clone, PartialEq)]
pub struct RenderError {
    /// The field whose value could not be formatted.
    pub field: String,
    pub message: String,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot render field {}: {}", self.field, self.message)
    }
}

impl std::error::Error for RenderError {}

#[derive(Debug, Clone)]
enum Piece {
    Lit(Box<str>),
    Field(FieldRef),
}

#[derive(Debug, Clone)]
struct FieldRef {
    index: usize,
    conv: Conv,
    spec: SpecSrc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    None,
    Str,
    Repr,
    Ascii,
}

#[derive(Debug, Clone)]
enum SpecSrc {
    Empty,
    Static {
        text: Box<str>,
        raw: Result<RawSpec, RawErr>,
    },
    /// A spec with replacement fields of its own (`{x:>{width}}`).
    Dynamic(Vec<Piece>),
}

impl Template {
    /// Parses a template; fails where Python's `str.format_map` would raise
    /// whatever the mapping holds.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parser = Parser {
            text,
            fields: Vec::new(),
            ranges: Vec::new(),
            index: HashMap::new(),
        };
        let pieces = parser.markup(0, text.len(), false)?;
        Ok(Template {
            pieces,
            fields: parser.fields,
            ranges: parser.ranges,
        })
    }

    /// The field names the template reads, in first-use order, without
    /// duplicates. Segment i refers to field index k in this list.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The source byte range of each field reference (same order as
    /// fields()): the range of the name in its first use, for diagnostics.
    pub fn field_ranges(&self) -> &[(usize, usize)] {
        &self.ranges
    }

    /// Render, appending to `out`. `lookup(k)` gives the value of
    /// fields()[k] or None when absent. `tz` is the zone datetimes render
    /// in. On error nothing is appended (Python produced no text).
    pub fn render<'v>(
        &self,
        lookup: &dyn Fn(usize) -> Option<&'v Value>,
        missing: Missing,
        tz: &TimeZone,
        out: &mut String,
    ) -> Result<(), RenderError> {
        let start = out.len();
        let ctx = Ctx {
            lookup,
            missing,
            tz,
            fields: &self.fields,
        };
        let result = ctx.pieces(&self.pieces, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// True when the template has no field (pure literal after `{{`/`}}`
    /// unescaping), and that literal.
    pub fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Lit(text)] => Some(text),
            _ => None,
        }
    }
}

/// Python `str(v)` == `format(v, "")` for each Value, in the local zone of
/// the process (`jiff::tz::TimeZone::system()`). Used for effect traces of
/// non-JSON types.
pub fn render_plain(v: &Value) -> String {
    render_str(v, &TimeZone::system())
}

/// Same with an explicit zone.
pub fn render_str(v: &Value, tz: &TimeZone) -> String {
    let mut out = String::new();
    write_str_value(v, tz, &mut out);
    out
}

/// Python `repr(v)`.
pub fn render_repr(v: &Value, tz: &TimeZone) -> String {
    let mut out = String::new();
    write_repr(v, tz, &mut out);
    out
}
