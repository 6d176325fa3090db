//! Message templates: Python's `str.format_map(entry)`, byte for byte.
//!
//! Pyruse rendered the `message` of its actions with Python 3.11's
//! `str.format_map` over the journal entry (docs/legacy-semantics.md §6). This module
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

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::value::Value;

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

// ---------------------------------------------------------------------------
// Parsing the replacement fields (unicode_format.h)

fn terr(
    start: usize,
    end: usize,
    message: impl Into<String>,
    help: impl Into<String>,
) -> TemplateError {
    TemplateError {
        start,
        end,
        message: message.into(),
        help: help.into(),
    }
}

const HELP_OPEN: &str = "close the field with '}', or write '{{' for a literal '{'";

struct Parser<'t> {
    text: &'t str,
    fields: Vec<String>,
    ranges: Vec<(usize, usize)>,
    index: HashMap<&'t str, usize>,
}

/// What the structural scan of one replacement field found.
struct RawField {
    name: (usize, usize),
    conv: Option<(usize, char)>,
    /// start, end, and whether it holds `{` (needs expanding)
    spec: Option<(usize, usize, bool)>,
    /// index just past the closing `}`
    next: usize,
}

impl<'t> Parser<'t> {
    /// `MarkupIterator`: literal text and fields of `text[start..end]`.
    fn markup(
        &mut self,
        start: usize,
        end: usize,
        nested: bool,
    ) -> Result<Vec<Piece>, TemplateError> {
        let text = self.text;
        let b = text.as_bytes();
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut pos = start;
        while pos < end {
            let mut i = pos;
            while i < end && b[i] != b'{' && b[i] != b'}' {
                i += 1;
            }
            if i >= end {
                lit.push_str(&text[pos..end]);
                break;
            }
            let c = b[i];
            let at_end = i + 1 >= end;
            if c == b'}' && (at_end || b[i + 1] != b'}') {
                return Err(terr(
                    i,
                    i + 1,
                    "Single '}' encountered in format string",
                    "write '}}' for a literal '}'",
                ));
            }
            if at_end {
                return Err(terr(
                    i,
                    i + 1,
                    "Single '{' encountered in format string",
                    HELP_OPEN,
                ));
            }
            if b[i + 1] == c {
                lit.push_str(&text[pos..=i]);
                pos = i + 2;
                continue;
            }
            lit.push_str(&text[pos..i]);
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit).into_boxed_str()));
            }
            let (field, next) = self.field(i, end, nested)?;
            pieces.push(Piece::Field(field));
            pos = next;
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit.into_boxed_str()));
        }
        Ok(pieces)
    }

    /// `parse_field`: the structure of the field opened at `open`.
    fn scan_field(&self, open: usize, end: usize) -> Result<RawField, TemplateError> {
        let text = self.text;
        let b = text.as_bytes();
        let name_start = open + 1;
        let mut p = name_start;
        let mut term = None;
        while p < end {
            let c = b[p];
            p += 1;
            match c {
                b'{' => {
                    return Err(terr(
                        p - 1,
                        p,
                        "unexpected '{' in field name",
                        "a field name cannot hold '{'; write '{{' outside fields for a literal '{'",
                    ))
                }
                b'[' => {
                    while p < end && b[p] != b']' {
                        p += 1;
                    }
                }
                b'}' | b':' | b'!' => {
                    term = Some(c);
                    break;
                }
                _ => {}
            }
        }
        let Some(term) = term else {
            return Err(terr(
                open,
                end,
                "expected '}' before end of string",
                HELP_OPEN,
            ));
        };
        let name = (name_start, p - 1);
        if term == b'}' {
            return Ok(RawField {
                name,
                conv: None,
                spec: None,
                next: p,
            });
        }
        let mut conv = None;
        if term == b'!' {
            let Some(c) = text.get(p..end).and_then(|t| t.chars().next()) else {
                return Err(terr(
                    open,
                    end,
                    "end of string while looking for conversion specifier",
                    "write the conversion as !r, !s or !a, then '}'",
                ));
            };
            conv = Some((p - 1, c));
            p += c.len_utf8();
            if let Some(c2) = text.get(p..end).and_then(|t| t.chars().next()) {
                p += c2.len_utf8();
                if c2 == '}' {
                    return Ok(RawField {
                        name,
                        conv,
                        spec: None,
                        next: p,
                    });
                }
                if c2 != ':' {
                    return Err(terr(
                        p - c2.len_utf8(),
                        p,
                        "expected ':' after conversion specifier",
                        "a conversion is one letter: {FIELD!r} or {FIELD!r:SPEC}",
                    ));
                }
            }
        }
        let spec_start = p;
        let mut count = 1;
        let mut expand = false;
        while p < end {
            let c = b[p];
            p += 1;
            if c == b'{' {
                expand = true;
                count += 1;
            } else if c == b'}' {
                count -= 1;
                if count == 0 {
                    return Ok(RawField {
                        name,
                        conv,
                        spec: Some((spec_start, p - 1, expand)),
                        next: p,
                    });
                }
            }
        }
        Err(terr(open, end, "unmatched '{' in format spec", HELP_OPEN))
    }

    fn field(
        &mut self,
        open: usize,
        end: usize,
        nested: bool,
    ) -> Result<(FieldRef, usize), TemplateError> {
        let raw = self.scan_field(open, end)?;
        let text = self.text;
        let (ns, ne) = raw.name;
        let name = &text[ns..ne];
        check_name(name, ns, ne, open, raw.next)?;
        let index = *self.index.entry(name).or_insert_with(|| {
            self.fields.push(name.to_owned());
            self.ranges.push((ns, ne));
            self.fields.len() - 1
        });
        let conv = match raw.conv {
            None => Conv::None,
            Some((_, 's')) => Conv::Str,
            Some((_, 'r')) => Conv::Repr,
            Some((_, 'a')) => Conv::Ascii,
            Some((at, c)) => {
                return Err(terr(
                    at,
                    at + 1 + c.len_utf8(),
                    format!("Unknown conversion specifier {}", code_text(c)),
                    "use !r (repr), !s (str) or !a (ascii)",
                ))
            }
        };
        let spec = match raw.spec {
            None => SpecSrc::Empty,
            Some((s, e, true)) => {
                if nested {
                    return Err(terr(
                        s,
                        e,
                        "Max string recursion exceeded",
                        "a field inside a format spec cannot have a field in its own spec",
                    ));
                }
                let pieces = self.markup(s, e, true)?;
                match pieces.as_slice() {
                    [] => SpecSrc::Empty,
                    [Piece::Lit(lit)] => static_spec(lit, s, e, conv)?,
                    _ => SpecSrc::Dynamic(pieces),
                }
            }
            Some((s, e, false)) if s == e => SpecSrc::Empty,
            Some((s, e, false)) => static_spec(&text[s..e], s, e, conv)?,
        };
        Ok((FieldRef { index, conv, spec }, raw.next))
    }
}

/// `field_name_split`: a name must be a key, not a position, attribute or
/// index.
fn check_name(
    name: &str,
    ns: usize,
    ne: usize,
    open: usize,
    close: usize,
) -> Result<(), TemplateError> {
    let first_len = name.find(['.', '[']).unwrap_or(name.len());
    let first = &name[..first_len];
    let positional = || {
        terr(
            open,
            close,
            "Format string contains positional fields",
            "name the field: {FIELD}",
        )
    };
    if first.is_empty() {
        return Err(positional());
    }
    let mut acc: i64 = 0;
    let mut all_digits = true;
    for c in first.chars() {
        let Some(d) = decimal_value(c) else {
            all_digits = false;
            break;
        };
        let d = i64::from(d);
        if acc > (i64::MAX - d) / 10 {
            return Err(terr(
                ns,
                ne,
                "Too many decimal digits in format string",
                "name the field: {FIELD}",
            ));
        }
        acc = acc * 10 + d;
    }
    if all_digits {
        return Err(positional());
    }
    if first_len < name.len() {
        return Err(terr(
            ns + first_len,
            ne,
            "attribute and index lookups are not supported in templates",
            format!("a field is a plain name: write {{{first}}}"),
        ));
    }
    Ok(())
}

/// A spec without nested fields, checked at load time.
fn static_spec(text: &str, s: usize, e: usize, conv: Conv) -> Result<SpecSrc, TemplateError> {
    let raw = parse_raw(text);
    if let Ok(r) = &raw {
        if r.width.unwrap_or(0) > MAX_WIDTH || r.precision.unwrap_or(0) > MAX_WIDTH {
            return Err(terr(
                s,
                e,
                format!("format width or precision above {MAX_WIDTH}"),
                "use a smaller width or precision",
            ));
        }
    }
    if conv != Conv::None {
        if let Err(m) = resolve(&raw, text, Kind::Str, "str") {
            return Err(terr(
                s,
                e,
                m,
                "after !r, !s or !a the value is a str: use fill, alignment, width and .precision",
            ));
        }
    } else if !text.contains('%') {
        let str_err = resolve(&raw, text, Kind::Str, "str").err();
        let int_err = resolve(&raw, text, Kind::Int, "int").err();
        let float_err = resolve(&raw, text, Kind::Float, "float").err();
        if let (Some(se), Some(ie), Some(fe)) = (str_err, int_err, float_err) {
            let ty = raw.as_ref().ok().and_then(|r| r.ty);
            let message = match ty {
                Some('b' | 'c' | 'd' | 'o' | 'x' | 'X' | 'n') => ie.clone(),
                Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') => fe.clone(),
                _ => se.clone(),
            };
            return Err(terr(
                s,
                e,
                message,
                format!(
                    "this format spec fails for every value: str: {se}; int: {ie}; float: {fe}"
                ),
            ));
        }
    }
    Ok(SpecSrc::Static {
        text: text.into(),
        raw,
    })
}

/// `%c` in CPython messages: the character, or `\x..` outside 33..=126.
fn code_text(c: char) -> String {
    let n = u32::from(c);
    if n > 32 && n < 127 {
        c.to_string()
    } else {
        format!("\\x{n:x}")
    }
}

// ---------------------------------------------------------------------------
// The format-spec mini-language (formatter_unicode.c)

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct RawSpec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    z: bool,
    alt: bool,
    zero: bool,
    width: Option<u64>,
    grouping: Option<char>,
    precision: Option<u64>,
    ty: Option<char>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawErr {
    TooManyDigits,
    CommaUnderscore,
    MissingPrecision,
    Invalid,
}

impl RawErr {
    fn message(self, spec: &str, tname: &str) -> String {
        match self {
            RawErr::TooManyDigits => "Too many decimal digits in format string".into(),
            RawErr::CommaUnderscore => "Cannot specify both ',' and '_'.".into(),
            RawErr::MissingPrecision => "Format specifier missing precision".into(),
            RawErr::Invalid => {
                format!("Invalid format specifier '{spec}' for object of type '{tname}'")
            }
        }
    }
}

fn is_align(c: char) -> bool {
    matches!(c, '<' | '>' | '=' | '^')
}

/// `get_integer`: Unicode decimal digits, overflow past `Py_ssize_t`.
fn get_integer(rest: &mut &str) -> Result<(usize, u64), RawErr> {
    let mut acc: i64 = 0;
    let mut count = 0;
    let mut used = 0;
    for c in rest.chars() {
        let Some(d) = decimal_value(c) else { break };
        let d = i64::from(d);
        if acc > (i64::MAX - d) / 10 {
            return Err(RawErr::TooManyDigits);
        }
        acc = acc * 10 + d;
        count += 1;
        used += c.len_utf8();
    }
    *rest = &rest[used..];
    Ok((count, acc.unsigned_abs()))
}

/// `parse_internal_render_format_spec`, the part that does not depend on
/// the type of the value.
fn parse_raw(spec: &str) -> Result<RawSpec, RawErr> {
    let mut r = RawSpec::default();
    let mut rest = spec;
    let mut it = rest.chars();
    let (c0, c1) = (it.next(), it.next());
    if let (Some(f), Some(a)) = (c0, c1) {
        if is_align(a) {
            r.fill = Some(f);
            r.align = Some(a);
            rest = &rest[f.len_utf8() + 1..];
        }
    }
    if r.align.is_none() {
        if let Some(a) = c0.filter(|&a| is_align(a)) {
            r.align = Some(a);
            rest = &rest[1..];
        }
    }
    if let Some(c @ ('+' | '-' | ' ')) = rest.chars().next() {
        r.sign = Some(c);
        rest = &rest[1..];
    }
    if let Some(t) = rest.strip_prefix('z') {
        r.z = true;
        rest = t;
    }
    if let Some(t) = rest.strip_prefix('#') {
        r.alt = true;
        rest = t;
    }
    if r.fill.is_none() {
        if let Some(t) = rest.strip_prefix('0') {
            r.zero = true;
            rest = t;
        }
    }
    let (n, w) = get_integer(&mut rest)?;
    if n > 0 {
        r.width = Some(w);
    }
    if let Some(t) = rest.strip_prefix(',') {
        r.grouping = Some(',');
        rest = t;
    }
    if let Some(t) = rest.strip_prefix('_') {
        if r.grouping.is_some() {
            return Err(RawErr::CommaUnderscore);
        }
        r.grouping = Some('_');
        rest = t;
    }
    if rest.starts_with(',') && r.grouping == Some('_') {
        return Err(RawErr::CommaUnderscore);
    }
    if let Some(t) = rest.strip_prefix('.') {
        rest = t;
        let (n, p) = get_integer(&mut rest)?;
        if n == 0 {
            return Err(RawErr::MissingPrecision);
        }
        r.precision = Some(p);
    }
    let mut it = rest.chars();
    match (it.next(), it.next()) {
        (None, _) => {}
        (Some(c), None) => r.ty = Some(c),
        _ => return Err(RawErr::Invalid),
    }
    Ok(r)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Float,
}

/// A spec resolved for one type of value.
#[derive(Debug, Clone, Copy)]
struct Fmt {
    fill: char,
    align: char,
    sign: Option<char>,
    z: bool,
    alt: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: char,
}

/// The rest of `parse_internal_render_format_spec` and the checks of
/// `format_string_internal`, `format_long_internal` and
/// `format_float_internal`, in CPython's order.
fn resolve(
    raw: &Result<RawSpec, RawErr>,
    spec: &str,
    kind: Kind,
    tname: &str,
) -> Result<Fmt, String> {
    let r = match raw {
        Ok(r) => *r,
        Err(e) => return Err(e.message(spec, tname)),
    };
    let (default_ty, default_align) = match kind {
        Kind::Str => ('s', '<'),
        Kind::Int => ('d', '>'),
        Kind::Float => ('\0', '>'),
    };
    let mut fill = r.fill.unwrap_or(' ');
    let mut align = r.align.unwrap_or(default_align);
    if r.zero {
        fill = '0';
        if r.align.is_none() && default_align == '>' {
            align = '=';
        }
    }
    let ty = r.ty.unwrap_or(default_ty);
    if let Some(g) = r.grouping {
        match ty {
            'd' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F' | '\0' => {}
            'b' | 'o' | 'x' | 'X' if g == '_' => {}
            _ => return Err(format!("Cannot specify '{g}' with '{}'.", code_text(ty))),
        }
    }
    let unknown = || {
        format!(
            "Unknown format code '{}' for object of type '{tname}'",
            code_text(ty)
        )
    };
    match kind {
        Kind::Str => {
            if ty != 's' {
                return Err(unknown());
            }
            if let Some(s) = r.sign {
                return Err(if s == ' ' {
                    "Space not allowed in string format specifier".into()
                } else {
                    "Sign not allowed in string format specifier".into()
                });
            }
            if r.z {
                return Err(
                    "Negative zero coercion (z) not allowed in string format specifier".into(),
                );
            }
            if r.alt {
                return Err("Alternate form (#) not allowed in string format specifier".into());
            }
            if align == '=' {
                return Err("'=' alignment not allowed in string format specifier".into());
            }
        }
        Kind::Int => match ty {
            'b' | 'c' | 'd' | 'o' | 'x' | 'X' | 'n' => {
                if r.precision.is_some() {
                    return Err("Precision not allowed in integer format specifier".into());
                }
                if r.z {
                    return Err(
                        "Negative zero coercion (z) not allowed in integer format specifier".into(),
                    );
                }
                if ty == 'c' && r.sign.is_some() {
                    return Err("Sign not allowed with integer format specifier 'c'".into());
                }
                if ty == 'c' && r.alt {
                    return Err(
                        "Alternate form (#) not allowed with integer format specifier 'c'".into(),
                    );
                }
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' => {}
            _ => return Err(unknown()),
        },
        Kind::Float => match ty {
            '\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%' => {}
            _ => return Err(unknown()),
        },
    }
    let width = r.width.unwrap_or(0);
    let precision = r.precision;
    if width > MAX_WIDTH || precision.unwrap_or(0) > MAX_WIDTH {
        return Err(format!("format width or precision above {MAX_WIDTH}"));
    }
    Ok(Fmt {
        fill,
        align,
        sign: r.sign,
        z: r.z,
        alt: r.alt,
        // Both are at most MAX_WIDTH here.
        width: usize::try_from(width).unwrap_or(0),
        grouping: r.grouping,
        precision: precision.map(|p| usize::try_from(p).unwrap_or(0)),
        ty,
    })
}

fn is_float_type(ty: char) -> bool {
    matches!(ty, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%')
}

// ---------------------------------------------------------------------------
// Rendering

static NONE: Value = Value::None;

struct Ctx<'a, 'v> {
    lookup: &'a dyn Fn(usize) -> Option<&'v Value>,
    missing: Missing,
    tz: &'a TimeZone,
    fields: &'a [String],
}

type Spec<'s> = Option<(&'s str, Result<RawSpec, RawErr>)>;

impl Ctx<'_, '_> {
    fn pieces(&self, pieces: &[Piece], out: &mut String) -> Result<(), RenderError> {
        for piece in pieces {
            match piece {
                Piece::Lit(text) => out.push_str(text),
                Piece::Field(f) => self.field(f, out)?,
            }
        }
        Ok(())
    }

    fn field(&self, f: &FieldRef, out: &mut String) -> Result<(), RenderError> {
        let value = (self.lookup)(f.index);
        let owned;
        let spec: Spec<'_> = match &f.spec {
            SpecSrc::Empty => None,
            SpecSrc::Static { text, raw } => Some((text, *raw)),
            SpecSrc::Dynamic(pieces) => {
                let mut text = String::new();
                self.pieces(pieces, &mut text)?;
                owned = text;
                if owned.is_empty() {
                    None
                } else {
                    Some((owned.as_str(), parse_raw(&owned)))
                }
            }
        };
        let v = match value {
            Some(v) => v,
            None if self.missing == Missing::Empty => {
                pad_empty(&spec, out);
                return Ok(());
            }
            None => &NONE,
        };
        let result = match f.conv {
            Conv::None => format_value(v, &spec, self.tz, out),
            conv => {
                let text = match (conv, v) {
                    (Conv::Str, Value::Str(s)) => Text::Str(s),
                    (Conv::Str, _) => Text::Plain(v),
                    (Conv::Repr, _) => Text::Repr(v),
                    _ => Text::Ascii(v),
                };
                match &spec {
                    None => {
                        text.emit(self.tz, out);
                        Ok(())
                    }
                    Some((t, raw)) => resolve(raw, t, Kind::Str, "str")
                        .map(|fmt| format_text(&text, &fmt, self.tz, out)),
                }
            }
        };
        result.map_err(|message| RenderError {
            field: self.fields.get(f.index).cloned().unwrap_or_default(),
            message,
        })
    }
}

/// `Missing::Empty`: the empty text, padded to the spec's width.
fn pad_empty(spec: &Spec<'_>, out: &mut String) {
    if let Some((_, Ok(r))) = spec {
        let fill = match (r.fill, r.zero) {
            (Some(c), _) => c,
            (None, true) => '0',
            (None, false) => ' ',
        };
        let width = r.width.unwrap_or(0).min(MAX_WIDTH);
        for _ in 0..width {
            out.push(fill);
        }
    }
}

/// `format(v, spec)`.
fn format_value(v: &Value, spec: &Spec<'_>, tz: &TimeZone, out: &mut String) -> Result<(), String> {
    let Some((text, raw)) = spec else {
        write_str_value(v, tz, out);
        return Ok(());
    };
    match v {
        Value::Str(s) => {
            let f = resolve(raw, text, Kind::Str, "str")?;
            format_text(&Text::Str(s), &f, tz, out);
            Ok(())
        }
        Value::Int(i) => format_int_value(*i, "int", text, raw, out),
        Value::Bool(b) => format_int_value(i64::from(*b), "bool", text, raw, out),
        Value::Float(x) => {
            let f = resolve(raw, text, Kind::Float, "float")?;
            format_float(*x, &f, out);
            Ok(())
        }
        Value::Time(us) => strftime(text, *us, tz, out),
        other => Err(format!(
            "unsupported format string passed to {}.__format__",
            format_type_name(other)
        )),
    }
}

/// `type(v).__name__` as `object.__format__` names it in its error.
fn format_type_name(v: &Value) -> &'static str {
    match v {
        Value::None => "NoneType",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Str(_) => "str",
        Value::Bytes(_) => "bytes",
        Value::Time(_) => "datetime.datetime",
        Value::Delta(_) => "datetime.timedelta",
        Value::Uuid(_) => "UUID",
        Value::Monotonic(..) => "tuple",
        Value::List(_) => "list",
    }
}

fn format_int_value(
    i: i64,
    tname: &str,
    text: &str,
    raw: &Result<RawSpec, RawErr>,
    out: &mut String,
) -> Result<(), String> {
    let f = resolve(raw, text, Kind::Int, tname)?;
    if is_float_type(f.ty) {
        // PyNumber_Float: correctly rounded, like `as`.
        format_float(i as f64, &f, out);
        Ok(())
    } else {
        format_int(i, &f, out)
    }
}

fn push_fill(out: &mut String, c: char, n: usize) {
    for _ in 0..n {
        out.push(c);
    }
}

/// Text padded and truncated as `format_string_internal` does.
fn format_text(text: &Text<'_>, f: &Fmt, tz: &TimeZone, out: &mut String) {
    let mut count = Count(0);
    text.emit(tz, &mut count);
    let n = f.precision.map_or(count.0, |p| count.0.min(p));
    let pad = f.width.saturating_sub(n);
    let left = match f.align {
        '>' => pad,
        '^' => pad / 2,
        _ => 0,
    };
    push_fill(out, f.fill, left);
    text.emit(tz, &mut Take { out, left: n });
    push_fill(out, f.fill, pad - left);
}

fn format_int(v: i64, f: &Fmt, out: &mut String) -> Result<(), String> {
    if f.ty == 'c' {
        if !(0..=0x10_FFFF).contains(&v) {
            return Err("%c arg not in range(0x110000)".into());
        }
        let Some(c) = u32::try_from(v).ok().and_then(char::from_u32) else {
            return Err(format!(
                "code point {v:#x} is a surrogate, which cannot be rendered"
            ));
        };
        let mut b = [0u8; 4];
        write_number(
            out,
            f,
            false,
            "",
            "",
            false,
            c.encode_utf8(&mut b),
            "",
            None,
        );
        return Ok(());
    }
    let (base, prefix) = match f.ty {
        'b' => (2, "0b"),
        'o' => (8, "0o"),
        'x' => (16, "0x"),
        'X' => (16, "0X"),
        _ => (10, ""),
    };
    let digit_set: &[u8; 16] = if f.ty == 'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut buf = [0u8; 64];
    let mut i = buf.len();
    let mut m = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = digit_set[(m % base) as usize];
        m /= base;
        if m == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&buf[i..]).unwrap_or("0");
    let group = match f.grouping {
        Some(',') => Some((',', 3)),
        Some(g) => Some((g, if base == 10 { 3 } else { 4 })),
        None => None,
    };
    let prefix = if f.alt { prefix } else { "" };
    write_number(out, f, v < 0, prefix, digits, false, "", "", group);
    Ok(())
}

/// How many digit positions (`t`) and output characters the grouped digits
/// take: `_PyUnicode_InsertThousandsGrouping` with its minimum width.
fn group_layout(n_digits: usize, min_width: i64, group: Option<(char, usize)>) -> (usize, usize) {
    let n = n_digits as i64;
    match group {
        None => {
            let t = n.max(min_width).max(1) as usize;
            (t, t)
        }
        Some((_, g)) => {
            let g = g as i64;
            let (mut remaining, mut mw, mut t, mut groups) = (n, min_width, 0i64, 0i64);
            loop {
                let len = g.min(remaining.max(mw).max(1));
                groups += 1;
                t += len;
                remaining -= remaining.min(len).max(0);
                mw -= len;
                if remaining <= 0 && mw <= 0 {
                    break;
                }
                mw -= 1;
            }
            (t as usize, (t + groups - 1) as usize)
        }
    }
}

/// `calc_number_widths` and `fill_number`.
#[allow(clippy::too_many_arguments)]
fn write_number(
    out: &mut String,
    f: &Fmt,
    negative: bool,
    prefix: &str,
    digits: &str,
    decimal: bool,
    rem: &str,
    rem2: &str,
    group: Option<(char, usize)>,
) {
    let sign = match (negative, f.sign) {
        (true, _) => Some('-'),
        (false, Some('+')) => Some('+'),
        (false, Some(' ')) => Some(' '),
        _ => None,
    };
    let n_rem = rem.chars().count() + rem2.chars().count();
    let non_digit = usize::from(sign.is_some()) + prefix.len() + usize::from(decimal) + n_rem;
    let width = f.width as i64;
    let min_width = if f.fill == '0' && f.align == '=' {
        width - non_digit as i64
    } else {
        0
    };
    let (t, grouped) = if digits.is_empty() {
        (0, 0)
    } else {
        group_layout(digits.len(), min_width, group)
    };
    let padding = width - (non_digit + grouped) as i64;
    let (lpad, spad, rpad) = if padding > 0 {
        let p = padding as usize;
        match f.align {
            '<' => (0, 0, p),
            '^' => (p / 2, 0, p - p / 2),
            '=' => (0, p, 0),
            _ => (p, 0, 0),
        }
    } else {
        (0, 0, 0)
    };
    out.reserve(lpad + spad + rpad + non_digit + grouped);
    push_fill(out, f.fill, lpad);
    if let Some(c) = sign {
        out.push(c);
    }
    out.push_str(prefix);
    push_fill(out, f.fill, spad);
    let db = digits.as_bytes();
    let lead = t.saturating_sub(db.len());
    for p in 0..t {
        out.push(if p < lead {
            '0'
        } else {
            char::from(db[p - lead])
        });
        if let Some((sep, g)) = group {
            if p + 1 < t && (t - 1 - p) % g == 0 {
                out.push(sep);
            }
        }
    }
    if decimal {
        out.push('.');
    }
    out.push_str(rem);
    out.push_str(rem2);
    push_fill(out, f.fill, rpad);
}

/// `format_float_internal`.
fn format_float(x: f64, f: &Fmt, out: &mut String) {
    let mut ty = f.ty;
    let mut add_dot0 = false;
    let mut default_precision = 6;
    if ty == '\0' {
        add_dot0 = true;
        ty = 'r';
        default_precision = 0;
    }
    if ty == 'n' {
        ty = 'g';
    }
    let mut val = x;
    let mut percent = false;
    if ty == '%' {
        ty = 'f';
        val *= 100.0;
        percent = true;
    }
    let precision = match f.precision {
        None => default_precision,
        Some(p) => {
            if ty == 'r' {
                ty = 'g';
            }
            p
        }
    };
    let mut buf = Buf::new();
    float_short(
        val,
        ty.to_ascii_lowercase(),
        precision,
        add_dot0,
        f.alt,
        f.z,
        ty.is_ascii_uppercase(),
        &mut buf,
    );
    let s = buf.as_str();
    let (negative, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let nd = body.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, after) = body.split_at(nd);
    let (decimal, rem) = match after.strip_prefix('.') {
        Some(r) => (true, r),
        None => (false, after),
    };
    let group = f.grouping.map(|g| (g, 3));
    write_number(
        out,
        f,
        negative,
        "",
        digits,
        decimal,
        rem,
        if percent { "%" } else { "" },
        group,
    );
}

/// `PyOS_double_to_string` / `format_float_short`: `code` is one of
/// `e f g r`.
#[allow(clippy::too_many_arguments)]
fn float_short(
    x: f64,
    code: char,
    precision: usize,
    add_dot0: bool,
    alt: bool,
    no_neg0: bool,
    upper: bool,
    out: &mut Buf,
) {
    if x.is_nan() {
        out.push_str(if upper { "NAN" } else { "nan" });
        return;
    }
    let mut negative = x.is_sign_negative();
    if x.is_infinite() {
        if negative {
            out.push_str("-");
        }
        out.push_str(if upper { "INF" } else { "inf" });
        return;
    }
    let a = x.abs();
    // Digits (shortest, or correctly rounded) and decimal point position,
    // as `_Py_dg_dtoa` gives them: no trailing zeros.
    let mut raw = Buf::new();
    let mut dig = Buf::new();
    let mut decpt: i64;
    let precision = precision as i64;
    if code == 'f' {
        let _ = write!(raw, "{:.*}", precision as usize, a);
        let s = raw.as_str();
        let (int_part, frac) = s.split_once('.').unwrap_or((s, ""));
        decpt = int_part.len() as i64;
        let mut leading = true;
        for part in [int_part, frac] {
            for ch in part.chars() {
                if leading && ch == '0' {
                    decpt -= 1;
                    continue;
                }
                leading = false;
                dig.push_char(ch);
            }
        }
    } else {
        let _ = match code {
            'r' => {
                // Shortest round-trip digits. When two candidates of that
                // length are equally close, dtoa takes the even one and Rust
                // may not: prefer the correctly rounded string of the same
                // length whenever it round-trips.
                let _ = write!(raw, "{a:e}");
                let mantissa = raw.as_str().split('e').next().unwrap_or("");
                let len = mantissa.bytes().filter(u8::is_ascii_digit).count();
                let mut rounded = Buf::new();
                let _ = write!(rounded, "{:.*e}", len.saturating_sub(1), a);
                if rounded.as_str().parse::<f64>().ok() == Some(a) {
                    raw = rounded;
                }
                Ok(())
            }
            'e' => write!(raw, "{:.*e}", precision as usize, a),
            _ => write!(raw, "{:.*e}", (precision.max(1) - 1) as usize, a),
        };
        let s = raw.as_str();
        let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
        for ch in mantissa.chars().filter(|c| *c != '.') {
            dig.push_char(ch);
        }
        decpt = exp.parse::<i64>().unwrap_or(0) + 1;
    }
    let all = dig.as_str();
    let mut digits = all.trim_end_matches('0');
    if digits.is_empty() {
        if a == 0.0 {
            digits = "0";
            decpt = 1;
        } else {
            decpt = -precision;
        }
    }
    let digits_len = digits.len() as i64;
    if no_neg0 && negative && (digits_len == 0 || digits == "0") {
        negative = false;
    }
    let mut vdigits_end = digits_len;
    let mut use_exp = false;
    match code {
        'e' => {
            use_exp = true;
            vdigits_end = precision + 1;
        }
        'f' => vdigits_end = decpt + precision,
        'g' => {
            let p = precision.max(1);
            if decpt <= -4 || decpt > (if add_dot0 { p - 1 } else { p }) {
                use_exp = true;
            }
            if alt {
                vdigits_end = p;
            }
        }
        _ => {
            if decpt <= -4 || decpt > 16 {
                use_exp = true;
            }
        }
    }
    let mut exp = 0;
    if use_exp {
        exp = decpt - 1;
        decpt = 1;
    }
    let vdigits_start = if decpt <= 0 { decpt - 1 } else { 0 };
    if !use_exp && add_dot0 {
        vdigits_end = vdigits_end.max(decpt + 1);
    } else {
        vdigits_end = vdigits_end.max(decpt);
    }
    if negative {
        out.push_str("-");
    }
    if decpt <= 0 {
        out.push_zeros(decpt - vdigits_start);
        out.push_str(".");
        out.push_zeros(-decpt);
    } else {
        out.push_zeros(-vdigits_start);
    }
    if 0 < decpt && decpt <= digits_len {
        let (head, tail) = digits.split_at(decpt as usize);
        out.push_str(head);
        out.push_str(".");
        out.push_str(tail);
    } else {
        out.push_str(digits);
    }
    if digits_len < decpt {
        out.push_zeros(decpt - digits_len);
        out.push_str(".");
        out.push_zeros(vdigits_end - decpt);
    } else {
        out.push_zeros(vdigits_end - digits_len);
    }
    if !alt {
        out.pop_dot();
    }
    if use_exp {
        let _ = write!(
            out,
            "{}{}{:02}",
            if upper { 'E' } else { 'e' },
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    }
}

/// A small text buffer on the stack that moves to the heap when full.
struct Buf {
    arr: [u8; 96],
    len: usize,
    heap: Option<String>,
}

impl Buf {
    fn new() -> Buf {
        Buf {
            arr: [0; 96],
            len: 0,
            heap: None,
        }
    }

    fn push_str(&mut self, s: &str) {
        if let Some(h) = &mut self.heap {
            h.push_str(s);
        } else if self.len + s.len() <= self.arr.len() {
            self.arr[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut h = String::with_capacity(2 * (self.len + s.len()));
            h.push_str(std::str::from_utf8(&self.arr[..self.len]).unwrap_or(""));
            h.push_str(s);
            self.heap = Some(h);
        }
    }

    fn push_char(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0u8; 4]));
    }

    fn push_zeros(&mut self, n: i64) {
        for _ in 0..n.max(0) {
            self.push_str("0");
        }
    }

    fn pop_dot(&mut self) {
        if let Some(h) = &mut self.heap {
            if h.ends_with('.') {
                h.pop();
            }
        } else if self.len > 0 && self.arr[self.len - 1] == b'.' {
            self.len -= 1;
        }
    }

    fn as_str(&self) -> &str {
        match &self.heap {
            Some(h) => h,
            None => std::str::from_utf8(&self.arr[..self.len]).unwrap_or(""),
        }
    }
}

impl fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// str(), repr(), ascii()

/// Where text goes: the output, or a counter of characters, …
trait Sink {
    fn put(&mut self, s: &str);
    fn put_char(&mut self, c: char) {
        self.put(c.encode_utf8(&mut [0u8; 4]));
    }
}

impl Sink for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
    fn put_char(&mut self, c: char) {
        self.push(c);
    }
}

/// Counts characters (code points).
struct Count(usize);

impl Sink for Count {
    fn put(&mut self, s: &str) {
        self.0 += s.chars().count();
    }
    fn put_char(&mut self, _: char) {
        self.0 += 1;
    }
}

/// Keeps the first `left` characters (`.precision` on text).
struct Take<'a> {
    out: &'a mut String,
    left: usize,
}

impl Sink for Take<'_> {
    fn put(&mut self, s: &str) {
        if self.left == 0 {
            return;
        }
        match s.char_indices().nth(self.left) {
            Some((i, _)) => {
                self.out.push_str(&s[..i]);
                self.left = 0;
            }
            None => {
                self.left -= s.chars().count();
                self.out.push_str(s);
            }
        }
    }
}

/// `ascii()`: escapes what is not ASCII (backslashreplace).
struct AsciiSink<'a>(&'a mut dyn Sink);

impl Sink for AsciiSink<'_> {
    fn put(&mut self, s: &str) {
        let mut start = 0;
        for (i, c) in s.char_indices() {
            if !c.is_ascii() {
                self.0.put(&s[start..i]);
                put_escape(self.0, c);
                start = i + c.len_utf8();
            }
        }
        self.0.put(&s[start..]);
    }
}

/// Upper or lower case (strftime's `^`, `#`).
struct CaseSink<'a> {
    inner: &'a mut dyn Sink,
    upper: bool,
}

impl Sink for CaseSink<'_> {
    fn put(&mut self, s: &str) {
        for c in s.chars() {
            self.put_char(c);
        }
    }
    fn put_char(&mut self, c: char) {
        // towupper/towlower map one character to one character.
        let mut it_u = c.to_uppercase();
        let mut it_l = c.to_lowercase();
        let mapped = if self.upper {
            (it_u.len() == 1).then(|| it_u.next()).flatten()
        } else {
            (it_l.len() == 1).then(|| it_l.next()).flatten()
        };
        self.inner.put_char(mapped.unwrap_or(c));
    }
}

struct SinkWriter<'a>(&'a mut dyn Sink);

impl fmt::Write for SinkWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put(s);
        Ok(())
    }
}

fn putf(s: &mut dyn Sink, args: fmt::Arguments<'_>) {
    let _ = SinkWriter(s).write_fmt(args);
}

/// `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
fn put_escape(s: &mut dyn Sink, c: char) {
    let n = u32::from(c);
    if n <= 0xff {
        putf(s, format_args!("\\x{n:02x}"));
    } else if n <= 0xffff {
        putf(s, format_args!("\\u{n:04x}"));
    } else {
        putf(s, format_args!("\\U{n:08x}"));
    }
}

/// A text-valued thing to format: a str, or the str()/repr()/ascii() of a
/// value, produced on demand (twice when padding needs its length).
enum Text<'a> {
    Str(&'a str),
    Plain(&'a Value),
    Repr(&'a Value),
    Ascii(&'a Value),
}

impl Text<'_> {
    fn emit(&self, tz: &TimeZone, s: &mut dyn Sink) {
        match self {
            Text::Str(t) => s.put(t),
            Text::Plain(v) => write_str_value(v, tz, s),
            Text::Repr(v) => write_repr(v, tz, s),
            Text::Ascii(v) => write_repr(v, tz, &mut AsciiSink(s)),
        }
    }
}

fn write_str_value(v: &Value, tz: &TimeZone, s: &mut dyn Sink) {
    match v {
        Value::None => s.put("None"),
        Value::Bool(b) => s.put(if *b { "True" } else { "False" }),
        Value::Int(i) => putf(s, format_args!("{i}")),
        Value::Float(x) => {
            let mut buf = Buf::new();
            float_short(*x, 'r', 0, true, false, false, false, &mut buf);
            s.put(buf.as_str());
        }
        Value::Str(t) => s.put(t),
        Value::Bytes(b) => write_bytes_repr(b, s),
        Value::Time(us) => write_datetime(*us, tz, s),
        Value::Delta(us) => write_delta(*us, s),
        Value::Uuid(u) => write_uuid(u, s),
        Value::Monotonic(..) | Value::List(_) => write_repr(v, tz, s),
    }
}

fn write_repr(v: &Value, tz: &TimeZone, s: &mut dyn Sink) {
    match v {
        Value::Str(t) => write_str_repr(t, s),
        Value::Time(us) => write_datetime_repr(*us, tz, s),
        Value::Delta(us) => write_delta_repr(*us, s),
        Value::Uuid(u) => {
            s.put("UUID('");
            write_uuid(u, s);
            s.put("')");
        }
        Value::Monotonic(us, u) => {
            s.put("(");
            write_delta_repr(*us, s);
            s.put(", UUID('");
            write_uuid(u, s);
            s.put("'))");
        }
        Value::List(items) => {
            s.put("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.put(", ");
                }
                write_repr(item, tz, s);
            }
            s.put("]");
        }
        other => write_str_value(other, tz, s),
    }
}

/// `unicode_repr`.
fn write_str_repr(t: &str, s: &mut dyn Sink) {
    let quote = if t.contains('\'') && !t.contains('"') {
        '"'
    } else {
        '\''
    };
    s.put_char(quote);
    let mut start = 0;
    for (i, c) in t.char_indices() {
        let plain = if c.is_ascii() {
            c != quote && c != '\\' && (' '..'\x7f').contains(&c)
        } else {
            is_printable(c)
        };
        if plain {
            continue;
        }
        s.put(&t[start..i]);
        start = i + c.len_utf8();
        match c {
            '\\' => s.put("\\\\"),
            '\t' => s.put("\\t"),
            '\n' => s.put("\\n"),
            '\r' => s.put("\\r"),
            c if c == quote => {
                s.put_char('\\');
                s.put_char(c);
            }
            c => put_escape(s, c),
        }
    }
    s.put(&t[start..]);
    s.put_char(quote);
}

/// `bytes.__repr__`.
fn write_bytes_repr(b: &[u8], s: &mut dyn Sink) {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    s.put_char('b');
    s.put_char(char::from(quote));
    for &c in b {
        match c {
            b'\\' => s.put("\\\\"),
            b'\t' => s.put("\\t"),
            b'\n' => s.put("\\n"),
            b'\r' => s.put("\\r"),
            c if c == quote => {
                s.put_char('\\');
                s.put_char(char::from(c));
            }
            c if !(0x20..0x7f).contains(&c) => putf(s, format_args!("\\x{c:02x}")),
            c => s.put_char(char::from(c)),
        }
    }
    s.put_char(char::from(quote));
}

fn write_uuid(u: &[u8; 16], s: &mut dyn Sink) {
    for (i, byte) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.put_char('-');
        }
        putf(s, format_args!("{byte:02x}"));
    }
}

/// A timedelta's normalized (days, seconds, microseconds).
fn delta_parts(us: i64) -> (i64, i64, i64) {
    const DAY: i64 = 86_400_000_000;
    let rem = us.rem_euclid(DAY);
    (us.div_euclid(DAY), rem / 1_000_000, rem % 1_000_000)
}

/// `str(timedelta)`.
fn write_delta(us: i64, s: &mut dyn Sink) {
    let (days, secs, micros) = delta_parts(us);
    if days != 0 {
        let plural = if days.abs() != 1 { "s" } else { "" };
        putf(s, format_args!("{days} day{plural}, "));
    }
    putf(
        s,
        format_args!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
    );
    if micros != 0 {
        putf(s, format_args!(".{micros:06}"));
    }
}

/// `repr(timedelta)`.
fn write_delta_repr(us: i64, s: &mut dyn Sink) {
    let (days, secs, micros) = delta_parts(us);
    s.put("datetime.timedelta(");
    let mut sep = "";
    for (name, n) in [("days", days), ("seconds", secs), ("microseconds", micros)] {
        if n != 0 {
            putf(s, format_args!("{sep}{name}={n}"));
            sep = ", ";
        }
    }
    if sep.is_empty() {
        s.put("0");
    }
    s.put(")");
}

/// The broken-down local time of a `Value::Time`, when Python could hold
/// it (years 1 to 9999).
struct Tm {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micro: i64,
    /// 0 is Sunday
    wday: i64,
    /// 0 is January 1st
    yday: i64,
    iso_year: i64,
    iso_week: i64,
    epoch: i64,
    offset: i32,
}

fn local_time(us: i64, tz: &TimeZone) -> Option<(Tm, Timestamp)> {
    let ts = Timestamp::from_microsecond(us).ok()?;
    let offset = tz.to_offset(ts);
    let dt = offset.to_datetime(ts);
    if dt.year() < 1 {
        return None;
    }
    let iso = dt.date().iso_week_date();
    let tm = Tm {
        year: i64::from(dt.year()),
        month: i64::from(dt.month()),
        day: i64::from(dt.day()),
        hour: i64::from(dt.hour()),
        minute: i64::from(dt.minute()),
        second: i64::from(dt.second()),
        micro: i64::from(dt.subsec_nanosecond() / 1000),
        wday: i64::from(dt.weekday().to_sunday_zero_offset()),
        yday: i64::from(dt.day_of_year()) - 1,
        iso_year: i64::from(iso.year()),
        iso_week: i64::from(iso.week()),
        epoch: us.div_euclid(1_000_000),
        offset: offset.seconds(),
    };
    Some((tm, ts))
}

/// A UTC offset as Python writes it: `+HH<sep>MM[<sep>SS]`.
fn write_offset(off: i32, sep: &str, s: &mut dyn Sink) {
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    putf(
        s,
        format_args!("{sign}{:02}{sep}{:02}", a / 3600, a / 60 % 60),
    );
    if !a.is_multiple_of(60) {
        putf(s, format_args!("{sep}{:02}", a % 60));
    }
}

/// `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM`.
fn write_datetime(us: i64, tz: &TimeZone, s: &mut dyn Sink) {
    let Some((t, _)) = local_time(us, tz) else {
        putf(s, format_args!("{us}"));
        return;
    };
    putf(
        s,
        format_args!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        ),
    );
    if t.micro != 0 {
        putf(s, format_args!(".{:06}", t.micro));
    }
    write_offset(t.offset, ":", s);
}

/// `repr(datetime)` with the `datetime.timezone` that `astimezone()` gives.
fn write_datetime_repr(us: i64, tz: &TimeZone, s: &mut dyn Sink) {
    let Some((t, ts)) = local_time(us, tz) else {
        putf(s, format_args!("{us}"));
        return;
    };
    putf(
        s,
        format_args!(
            "datetime.datetime({}, {}, {}, {}, {}",
            t.year, t.month, t.day, t.hour, t.minute
        ),
    );
    if t.second != 0 || t.micro != 0 {
        putf(s, format_args!(", {}", t.second));
    }
    if t.micro != 0 {
        putf(s, format_args!(", {}", t.micro));
    }
    s.put(", tzinfo=datetime.timezone(");
    write_delta_repr(i64::from(t.offset) * 1_000_000, s);
    s.put(", ");
    write_str_repr(tz.to_offset_info(ts).abbreviation(), s);
    s.put("))");
}

// ---------------------------------------------------------------------------
// datetime.__format__: strftime

/// `datetime.__format__(spec)` for a non-empty spec.
fn strftime(spec: &str, us: i64, tz: &TimeZone, out: &mut String) -> Result<(), String> {
    let Some((tm, ts)) = local_time(us, tz) else {
        return Err(format!(
            "the time {us} µs after the epoch is out of Python's datetime range"
        ));
    };
    // wrap_strftime works on a C string: it stops at the first NUL.
    let spec = spec.split('\0').next().unwrap_or("");
    let info = tz.to_offset_info(ts);
    let processed = python_strftime_stage(spec, &tm, info.abbreviation());
    // time.strftime tries buffers of 1024, 2048, … characters up to 256
    // times the format's length, and returns "" when none was enough.
    let target = 256 * processed.chars().count() as u64;
    let mut limit: u64 = 1024;
    while limit < target {
        limit *= 2;
    }
    let start = out.len();
    let mut engine = Strf {
        s: out,
        n: 0,
        limit,
        tm: &tm,
    };
    if engine.run(&processed).is_err() {
        out.truncate(start);
    }
    Ok(())
}

/// Python's own part of strftime: `%z`, `%Z` and `%f` replaced.
fn python_strftime_stage<'s>(spec: &'s str, tm: &Tm, abbreviation: &str) -> Cow<'s, str> {
    let b = spec.as_bytes();
    let mut i = 0;
    let mut needed = false;
    while i < b.len() {
        if b[i] == b'%' && i + 1 < b.len() {
            if matches!(b[i + 1], b'z' | b'Z' | b'f') {
                needed = true;
                break;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    if !needed {
        return Cow::Borrowed(spec);
    }
    let mut s = String::with_capacity(spec.len() + 16);
    let mut it = spec.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            s.push(c);
            continue;
        }
        match it.next() {
            None => s.push('%'),
            Some('z') => write_offset(tm.offset, "", &mut s),
            Some('Z') => s.push_str(&abbreviation.replace('%', "%%")),
            Some('f') => {
                let _ = write!(s, "{:06}", tm.micro);
            }
            Some(o) => {
                s.push('%');
                s.push(o);
            }
        }
    }
    Cow::Owned(s)
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Output exceeds the buffer: strftime gives "".
struct Overflow;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Keep,
    Upper,
    Lower,
}

/// glibc's `__strftime_internal` in the C locale (wide-character version,
/// `tm_isdst` = -1).
struct Strf<'a> {
    s: &'a mut dyn Sink,
    /// characters written so far
    n: u64,
    /// the buffer size: the output must stay below it
    limit: u64,
    tm: &'a Tm,
}

impl Strf<'_> {
    /// glibc's `add`: counts `len` characters padded to `width` against the
    /// buffer and writes the padding; the caller then writes the text.
    fn pad(&mut self, width: Option<u64>, pad: Option<u8>, len: u64) -> Result<(), Overflow> {
        let delta = width.unwrap_or(0).saturating_sub(len);
        let incr = len.saturating_add(delta);
        if incr >= self.limit.saturating_sub(self.n) {
            return Err(Overflow);
        }
        let c = if pad == Some(b'0') { '0' } else { ' ' };
        for _ in 0..delta {
            self.s.put_char(c);
        }
        self.n += incr;
        Ok(())
    }

    fn text(
        &mut self,
        width: Option<u64>,
        pad: Option<u8>,
        t: &str,
        case: Case,
    ) -> Result<(), Overflow> {
        self.pad(width, pad, t.chars().count() as u64)?;
        match case {
            Case::Keep => self.s.put(t),
            upper_or_lower => CaseSink {
                inner: &mut *self.s,
                upper: upper_or_lower == Case::Upper,
            }
            .put(t),
        }
        Ok(())
    }

    /// `DO_NUMBER`, `do_number_sign_and_padding`.
    fn number(
        &mut self,
        digits: u64,
        v: i64,
        pad: Option<u8>,
        width: Option<u64>,
    ) -> Result<(), Overflow> {
        let mut buf = [0u8; 24];
        let mut i = buf.len();
        let mut m = v.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (m % 10) as u8;
            m /= 10;
            if m == 0 {
                break;
            }
        }
        let negative = v < 0;
        if negative {
            i -= 1;
            buf[i] = b'-';
        }
        let mut width = width;
        let mut body = &buf[i..];
        if pad != Some(b'-') {
            let padding = digits.saturating_sub(body.len() as u64);
            if padding > 0 {
                if pad == Some(b'_') {
                    if padding >= self.limit.saturating_sub(self.n) {
                        return Err(Overflow);
                    }
                    for _ in 0..padding {
                        self.s.put_char(' ');
                    }
                } else {
                    if digits >= self.limit.saturating_sub(self.n) {
                        return Err(Overflow);
                    }
                    if negative {
                        // The sign goes before the zeros.
                        body = &body[1..];
                        self.s.put_char('-');
                        self.n += 1;
                    }
                    for _ in 0..padding {
                        self.s.put_char('0');
                    }
                }
                self.n += padding;
                width = Some(width.unwrap_or(0).saturating_sub(padding));
            }
        }
        let text = std::str::from_utf8(body).unwrap_or("");
        self.text(width, pad, text, Case::Keep)
    }

    fn sub(
        &mut self,
        fmt: &str,
        width: Option<u64>,
        pad: Option<u8>,
        upper: bool,
    ) -> Result<(), Overflow> {
        let mut count = Count(0);
        Strf {
            s: &mut count,
            n: 0,
            limit: u64::MAX,
            tm: self.tm,
        }
        .run(fmt)?;
        self.pad(width, pad, count.0 as u64)?;
        let mut upper_sink;
        let s: &mut dyn Sink = if upper {
            upper_sink = CaseSink {
                inner: &mut *self.s,
                upper: true,
            };
            &mut upper_sink
        } else {
            &mut *self.s
        };
        Strf {
            s,
            n: 0,
            limit: u64::MAX,
            tm: self.tm,
        }
        .run(fmt)
    }

    fn run(&mut self, fmt: &str) -> Result<(), Overflow> {
        let b = fmt.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                let c = fmt[i..].chars().next().unwrap_or(' ');
                self.pad(None, None, 1)?;
                self.s.put_char(c);
                i += c.len_utf8();
                continue;
            }
            let pct = i;
            i += 1;
            let mut pad = None;
            let mut upcase = false;
            let mut change_case = false;
            while i < b.len() {
                match b[i] {
                    c @ (b'_' | b'-' | b'0') => pad = Some(c),
                    b'^' => upcase = true,
                    b'#' => change_case = true,
                    _ => break,
                }
                i += 1;
            }
            let mut width = None;
            if i < b.len() && b[i].is_ascii_digit() {
                let mut w: u64 = 0;
                const MAX: u64 = i32::MAX as u64;
                while i < b.len() && b[i].is_ascii_digit() {
                    let d = u64::from(b[i] - b'0');
                    w = if w > MAX / 10 || (w == MAX / 10 && d > MAX % 10) {
                        MAX
                    } else {
                        w * 10 + d
                    };
                    i += 1;
                }
                width = Some(w);
            }
            let mut modifier = None;
            if i < b.len() && (b[i] == b'E' || b[i] == b'O') {
                modifier = Some(b[i]);
                i += 1;
            }
            let upper_if = |yes: bool| if yes { Case::Upper } else { Case::Keep };
            let Some(ch) = fmt[i..].chars().next() else {
                // `%` and flags at the end of the format are copied.
                self.text(width, pad, &fmt[pct..], upper_if(upcase))?;
                break;
            };
            i += ch.len_utf8();
            let bad: &str = if ch == '%' { "%" } else { &fmt[pct..i] };
            let allowed = match modifier {
                None => true,
                Some(b'E') => "cnprstuxyzCPRTXYZ%".contains(ch),
                Some(_) => "bdeghjklmnprstuwyzBCGHIMPRSTUVWZ%".contains(ch),
            };
            if !allowed {
                // glibc applies `#` to %b and %h before it checks the
                // modifier.
                let upper = upcase || (change_case && matches!(ch, 'b' | 'h'));
                self.text(width, pad, bad, upper_if(upper))?;
                continue;
            }
            let tm = self.tm;
            let h12 = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
            let spacepad = if pad == Some(b'0') || pad == Some(b'-') {
                pad
            } else {
                Some(b'_')
            };
            let num = |d: u64| d.max(width.unwrap_or(0));
            let wday = usize::try_from(tm.wday).unwrap_or(0) % 7;
            let month = usize::try_from(tm.month - 1).unwrap_or(0) % 12;
            let ampm = if tm.hour > 11 { "PM" } else { "AM" };
            match ch {
                '%' => {
                    self.pad(width, pad, 1)?;
                    self.s.put_char('%');
                }
                'a' => self.text(
                    width,
                    pad,
                    &WEEKDAYS[wday][..3],
                    upper_if(upcase || change_case),
                )?,
                'A' => self.text(width, pad, WEEKDAYS[wday], upper_if(upcase || change_case))?,
                'b' | 'h' => self.text(
                    width,
                    pad,
                    &MONTHS[month][..3],
                    upper_if(upcase || change_case),
                )?,
                'B' => self.text(width, pad, MONTHS[month], upper_if(upcase || change_case))?,
                'c' => self.sub("%a %b %e %H:%M:%S %Y", width, pad, upcase)?,
                'D' | 'x' => self.sub("%m/%d/%y", width, pad, upcase)?,
                'F' => self.sub("%Y-%m-%d", width, pad, upcase)?,
                'r' => self.sub("%I:%M:%S %p", width, pad, upcase)?,
                'R' => self.sub("%H:%M", width, pad, upcase)?,
                'T' | 'X' => self.sub("%H:%M:%S", width, pad, upcase)?,
                'C' => self.number(num(1), tm.year.div_euclid(100), pad, width)?,
                'd' => self.number(num(2), tm.day, pad, width)?,
                'e' => self.number(num(2), tm.day, spacepad, width)?,
                'H' => self.number(num(2), tm.hour, pad, width)?,
                'I' => self.number(num(2), h12, pad, width)?,
                'k' => self.number(num(2), tm.hour, spacepad, width)?,
                'l' => self.number(num(2), h12, spacepad, width)?,
                'j' => self.number(num(3), tm.yday + 1, pad, width)?,
                'M' => self.number(num(2), tm.minute, pad, width)?,
                'm' => self.number(num(2), tm.month, pad, width)?,
                'S' => self.number(num(2), tm.second, pad, width)?,
                'u' => self.number(num(1), (tm.wday + 6) % 7 + 1, pad, width)?,
                'U' => self.number(num(2), (tm.yday - tm.wday + 7) / 7, pad, width)?,
                'V' => self.number(num(2), tm.iso_week, pad, width)?,
                'g' => self.number(num(2), tm.iso_year.rem_euclid(100), pad, width)?,
                'G' => self.number(num(1), tm.iso_year, pad, width)?,
                'W' => self.number(num(2), (tm.yday - (tm.wday + 6) % 7 + 7) / 7, pad, width)?,
                'w' => self.number(num(1), tm.wday, pad, width)?,
                'Y' => self.number(num(1), tm.year, pad, width)?,
                'y' => self.number(num(2), tm.year.rem_euclid(100), pad, width)?,
                's' => self.number(1, tm.epoch, pad, width)?,
                'n' => {
                    self.pad(width, pad, 1)?;
                    self.s.put_char('\n');
                }
                't' => {
                    self.pad(width, pad, 1)?;
                    self.s.put_char('\t');
                }
                'p' => {
                    let case = if change_case {
                        Case::Lower
                    } else {
                        upper_if(upcase)
                    };
                    self.text(width, pad, ampm, case)?;
                }
                'P' => self.text(width, pad, ampm, Case::Lower)?,
                // tm_isdst < 0: glibc writes nothing, not even padding.
                'z' => {}
                // No zone name: the empty text, padded.
                'Z' => self.text(width, pad, "", Case::Keep)?,
                _ => self.text(width, pad, bad, upper_if(upcase))?,
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Unicode tables of Python 3.11 (Unicode 14.0)

/// Python's `Py_UNICODE_TODECIMAL`.
fn decimal_value(c: char) -> Option<u32> {
    let n = u32::from(c);
    if c.is_ascii() {
        return c.to_digit(10);
    }
    let i = DECIMAL_ZEROS.partition_point(|&z| z <= n);
    let zero = *DECIMAL_ZEROS.get(i.checked_sub(1)?)?;
    (n - zero < 10).then_some(n - zero)
}

/// Python's `str.isprintable` for one character.
fn is_printable(c: char) -> bool {
    let n = u32::from(c);
    NON_PRINTABLE.partition_point(|&b| b <= n) % 2 == 0
}

/// Zero digits of the Unicode decimal-digit blocks (each block 0 to 9).
#[rustfmt::skip]
const DECIMAL_ZEROS: [u32; 66] = [
    0x00030, 0x00660, 0x006f0, 0x007c0, 0x00966, 0x009e6, 0x00a66, 0x00ae6, 0x00b66, 0x00be6,
    0x00c66, 0x00ce6, 0x00d66, 0x00de6, 0x00e50, 0x00ed0, 0x00f20, 0x01040, 0x01090, 0x017e0,
    0x01810, 0x01946, 0x019d0, 0x01a80, 0x01a90, 0x01b50, 0x01bb0, 0x01c40, 0x01c50, 0x0a620,
    0x0a8d0, 0x0a900, 0x0a9d0, 0x0a9f0, 0x0aa50, 0x0abf0, 0x0ff10, 0x104a0, 0x10d30, 0x11066,
    0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0,
    0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2,
    0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// Half-open ranges `[start, end)` of the characters Python does not print
/// as is in a `repr`, as a flat list of boundaries.
#[rustfmt::skip]
const NON_PRINTABLE: [u32; 1402] = [
    0x00000, 0x00020, 0x0007f, 0x000a1, 0x000ad, 0x000ae, 0x00378, 0x0037a, 0x00380, 0x00384,
    0x0038b, 0x0038c, 0x0038d, 0x0038e, 0x003a2, 0x003a3, 0x00530, 0x00531, 0x00557, 0x00559,
    0x0058b, 0x0058d, 0x00590, 0x00591, 0x005c8, 0x005d0, 0x005eb, 0x005ef, 0x005f5, 0x00606,
    0x0061c, 0x0061d, 0x006dd, 0x006de, 0x0070e, 0x00710, 0x0074b, 0x0074d, 0x007b2, 0x007c0,
    0x007fb, 0x007fd, 0x0082e, 0x00830, 0x0083f, 0x00840, 0x0085c, 0x0085e, 0x0085f, 0x00860,
    0x0086b, 0x00870, 0x0088f, 0x00898, 0x008e2, 0x008e3, 0x00984, 0x00985, 0x0098d, 0x0098f,
    0x00991, 0x00993, 0x009a9, 0x009aa, 0x009b1, 0x009b2, 0x009b3, 0x009b6, 0x009ba, 0x009bc,
    0x009c5, 0x009c7, 0x009c9, 0x009cb, 0x009cf, 0x009d7, 0x009d8, 0x009dc, 0x009de, 0x009df,
    0x009e4, 0x009e6, 0x009ff, 0x00a01, 0x00a04, 0x00a05, 0x00a0b, 0x00a0f, 0x00a11, 0x00a13,
    0x00a29, 0x00a2a, 0x00a31, 0x00a32, 0x00a34, 0x00a35, 0x00a37, 0x00a38, 0x00a3a, 0x00a3c,
    0x00a3d, 0x00a3e, 0x00a43, 0x00a47, 0x00a49, 0x00a4b, 0x00a4e, 0x00a51, 0x00a52, 0x00a59,
    0x00a5d, 0x00a5e, 0x00a5f, 0x00a66, 0x00a77, 0x00a81, 0x00a84, 0x00a85, 0x00a8e, 0x00a8f,
    0x00a92, 0x00a93, 0x00aa9, 0x00aaa, 0x00ab1, 0x00ab2, 0x00ab4, 0x00ab5, 0x00aba, 0x00abc,
    0x00ac6, 0x00ac7, 0x00aca, 0x00acb, 0x00ace, 0x00ad0, 0x00ad1, 0x00ae0, 0x00ae4, 0x00ae6,
    0x00af2, 0x00af9, 0x00b00, 0x00b01, 0x00b04, 0x00b05, 0x00b0d, 0x00b0f, 0x00b11, 0x00b13,
    0x00b29, 0x00b2a, 0x00b31, 0x00b32, 0x00b34, 0x00b35, 0x00b3a, 0x00b3c, 0x00b45, 0x00b47,
    0x00b49, 0x00b4b, 0x00b4e, 0x00b55, 0x00b58, 0x00b5c, 0x00b5e, 0x00b5f, 0x00b64, 0x00b66,
    0x00b78, 0x00b82, 0x00b84, 0x00b85, 0x00b8b, 0x00b8e, 0x00b91, 0x00b92, 0x00b96, 0x00b99,
    0x00b9b, 0x00b9c, 0x00b9d, 0x00b9e, 0x00ba0, 0x00ba3, 0x00ba5, 0x00ba8, 0x00bab, 0x00bae,
    0x00bba, 0x00bbe, 0x00bc3, 0x00bc6, 0x00bc9, 0x00bca, 0x00bce, 0x00bd0, 0x00bd1, 0x00bd7,
    0x00bd8, 0x00be6, 0x00bfb, 0x00c00, 0x00c0d, 0x00c0e, 0x00c11, 0x00c12, 0x00c29, 0x00c2a,
    0x00c3a, 0x00c3c, 0x00c45, 0x00c46, 0x00c49, 0x00c4a, 0x00c4e, 0x00c55, 0x00c57, 0x00c58,
    0x00c5b, 0x00c5d, 0x00c5e, 0x00c60, 0x00c64, 0x00c66, 0x00c70, 0x00c77, 0x00c8d, 0x00c8e,
    0x00c91, 0x00c92, 0x00ca9, 0x00caa, 0x00cb4, 0x00cb5, 0x00cba, 0x00cbc, 0x00cc5, 0x00cc6,
    0x00cc9, 0x00cca, 0x00cce, 0x00cd5, 0x00cd7, 0x00cdd, 0x00cdf, 0x00ce0, 0x00ce4, 0x00ce6,
    0x00cf0, 0x00cf1, 0x00cf3, 0x00d00, 0x00d0d, 0x00d0e, 0x00d11, 0x00d12, 0x00d45, 0x00d46,
    0x00d49, 0x00d4a, 0x00d50, 0x00d54, 0x00d64, 0x00d66, 0x00d80, 0x00d81, 0x00d84, 0x00d85,
    0x00d97, 0x00d9a, 0x00db2, 0x00db3, 0x00dbc, 0x00dbd, 0x00dbe, 0x00dc0, 0x00dc7, 0x00dca,
    0x00dcb, 0x00dcf, 0x00dd5, 0x00dd6, 0x00dd7, 0x00dd8, 0x00de0, 0x00de6, 0x00df0, 0x00df2,
    0x00df5, 0x00e01, 0x00e3b, 0x00e3f, 0x00e5c, 0x00e81, 0x00e83, 0x00e84, 0x00e85, 0x00e86,
    0x00e8b, 0x00e8c, 0x00ea4, 0x00ea5, 0x00ea6, 0x00ea7, 0x00ebe, 0x00ec0, 0x00ec5, 0x00ec6,
    0x00ec7, 0x00ec8, 0x00ece, 0x00ed0, 0x00eda, 0x00edc, 0x00ee0, 0x00f00, 0x00f48, 0x00f49,
    0x00f6d, 0x00f71, 0x00f98, 0x00f99, 0x00fbd, 0x00fbe, 0x00fcd, 0x00fce, 0x00fdb, 0x01000,
    0x010c6, 0x010c7, 0x010c8, 0x010cd, 0x010ce, 0x010d0, 0x01249, 0x0124a, 0x0124e, 0x01250,
    0x01257, 0x01258, 0x01259, 0x0125a, 0x0125e, 0x01260, 0x01289, 0x0128a, 0x0128e, 0x01290,
    0x012b1, 0x012b2, 0x012b6, 0x012b8, 0x012bf, 0x012c0, 0x012c1, 0x012c2, 0x012c6, 0x012c8,
    0x012d7, 0x012d8, 0x01311, 0x01312, 0x01316, 0x01318, 0x0135b, 0x0135d, 0x0137d, 0x01380,
    0x0139a, 0x013a0, 0x013f6, 0x013f8, 0x013fe, 0x01400, 0x01680, 0x01681, 0x0169d, 0x016a0,
    0x016f9, 0x01700, 0x01716, 0x0171f, 0x01737, 0x01740, 0x01754, 0x01760, 0x0176d, 0x0176e,
    0x01771, 0x01772, 0x01774, 0x01780, 0x017de, 0x017e0, 0x017ea, 0x017f0, 0x017fa, 0x01800,
    0x0180e, 0x0180f, 0x0181a, 0x01820, 0x01879, 0x01880, 0x018ab, 0x018b0, 0x018f6, 0x01900,
    0x0191f, 0x01920, 0x0192c, 0x01930, 0x0193c, 0x01940, 0x01941, 0x01944, 0x0196e, 0x01970,
    0x01975, 0x01980, 0x019ac, 0x019b0, 0x019ca, 0x019d0, 0x019db, 0x019de, 0x01a1c, 0x01a1e,
    0x01a5f, 0x01a60, 0x01a7d, 0x01a7f, 0x01a8a, 0x01a90, 0x01a9a, 0x01aa0, 0x01aae, 0x01ab0,
    0x01acf, 0x01b00, 0x01b4d, 0x01b50, 0x01b7f, 0x01b80, 0x01bf4, 0x01bfc, 0x01c38, 0x01c3b,
    0x01c4a, 0x01c4d, 0x01c89, 0x01c90, 0x01cbb, 0x01cbd, 0x01cc8, 0x01cd0, 0x01cfb, 0x01d00,
    0x01f16, 0x01f18, 0x01f1e, 0x01f20, 0x01f46, 0x01f48, 0x01f4e, 0x01f50, 0x01f58, 0x01f59,
    0x01f5a, 0x01f5b, 0x01f5c, 0x01f5d, 0x01f5e, 0x01f5f, 0x01f7e, 0x01f80, 0x01fb5, 0x01fb6,
    0x01fc5, 0x01fc6, 0x01fd4, 0x01fd6, 0x01fdc, 0x01fdd, 0x01ff0, 0x01ff2, 0x01ff5, 0x01ff6,
    0x01fff, 0x02010, 0x02028, 0x02030, 0x0205f, 0x02070, 0x02072, 0x02074, 0x0208f, 0x02090,
    0x0209d, 0x020a0, 0x020c1, 0x020d0, 0x020f1, 0x02100, 0x0218c, 0x02190, 0x02427, 0x02440,
    0x0244b, 0x02460, 0x02b74, 0x02b76, 0x02b96, 0x02b97, 0x02cf4, 0x02cf9, 0x02d26, 0x02d27,
    0x02d28, 0x02d2d, 0x02d2e, 0x02d30, 0x02d68, 0x02d6f, 0x02d71, 0x02d7f, 0x02d97, 0x02da0,
    0x02da7, 0x02da8, 0x02daf, 0x02db0, 0x02db7, 0x02db8, 0x02dbf, 0x02dc0, 0x02dc7, 0x02dc8,
    0x02dcf, 0x02dd0, 0x02dd7, 0x02dd8, 0x02ddf, 0x02de0, 0x02e5e, 0x02e80, 0x02e9a, 0x02e9b,
    0x02ef4, 0x02f00, 0x02fd6, 0x02ff0, 0x02ffc, 0x03001, 0x03040, 0x03041, 0x03097, 0x03099,
    0x03100, 0x03105, 0x03130, 0x03131, 0x0318f, 0x03190, 0x031e4, 0x031f0, 0x0321f, 0x03220,
    0x0a48d, 0x0a490, 0x0a4c7, 0x0a4d0, 0x0a62c, 0x0a640, 0x0a6f8, 0x0a700, 0x0a7cb, 0x0a7d0,
    0x0a7d2, 0x0a7d3, 0x0a7d4, 0x0a7d5, 0x0a7da, 0x0a7f2, 0x0a82d, 0x0a830, 0x0a83a, 0x0a840,
    0x0a878, 0x0a880, 0x0a8c6, 0x0a8ce, 0x0a8da, 0x0a8e0, 0x0a954, 0x0a95f, 0x0a97d, 0x0a980,
    0x0a9ce, 0x0a9cf, 0x0a9da, 0x0a9de, 0x0a9ff, 0x0aa00, 0x0aa37, 0x0aa40, 0x0aa4e, 0x0aa50,
    0x0aa5a, 0x0aa5c, 0x0aac3, 0x0aadb, 0x0aaf7, 0x0ab01, 0x0ab07, 0x0ab09, 0x0ab0f, 0x0ab11,
    0x0ab17, 0x0ab20, 0x0ab27, 0x0ab28, 0x0ab2f, 0x0ab30, 0x0ab6c, 0x0ab70, 0x0abee, 0x0abf0,
    0x0abfa, 0x0ac00, 0x0d7a4, 0x0d7b0, 0x0d7c7, 0x0d7cb, 0x0d7fc, 0x0f900, 0x0fa6e, 0x0fa70,
    0x0fada, 0x0fb00, 0x0fb07, 0x0fb13, 0x0fb18, 0x0fb1d, 0x0fb37, 0x0fb38, 0x0fb3d, 0x0fb3e,
    0x0fb3f, 0x0fb40, 0x0fb42, 0x0fb43, 0x0fb45, 0x0fb46, 0x0fbc3, 0x0fbd3, 0x0fd90, 0x0fd92,
    0x0fdc8, 0x0fdcf, 0x0fdd0, 0x0fdf0, 0x0fe1a, 0x0fe20, 0x0fe53, 0x0fe54, 0x0fe67, 0x0fe68,
    0x0fe6c, 0x0fe70, 0x0fe75, 0x0fe76, 0x0fefd, 0x0ff01, 0x0ffbf, 0x0ffc2, 0x0ffc8, 0x0ffca,
    0x0ffd0, 0x0ffd2, 0x0ffd8, 0x0ffda, 0x0ffdd, 0x0ffe0, 0x0ffe7, 0x0ffe8, 0x0ffef, 0x0fffc,
    0x0fffe, 0x10000, 0x1000c, 0x1000d, 0x10027, 0x10028, 0x1003b, 0x1003c, 0x1003e, 0x1003f,
    0x1004e, 0x10050, 0x1005e, 0x10080, 0x100fb, 0x10100, 0x10103, 0x10107, 0x10134, 0x10137,
    0x1018f, 0x10190, 0x1019d, 0x101a0, 0x101a1, 0x101d0, 0x101fe, 0x10280, 0x1029d, 0x102a0,
    0x102d1, 0x102e0, 0x102fc, 0x10300, 0x10324, 0x1032d, 0x1034b, 0x10350, 0x1037b, 0x10380,
    0x1039e, 0x1039f, 0x103c4, 0x103c8, 0x103d6, 0x10400, 0x1049e, 0x104a0, 0x104aa, 0x104b0,
    0x104d4, 0x104d8, 0x104fc, 0x10500, 0x10528, 0x10530, 0x10564, 0x1056f, 0x1057b, 0x1057c,
    0x1058b, 0x1058c, 0x10593, 0x10594, 0x10596, 0x10597, 0x105a2, 0x105a3, 0x105b2, 0x105b3,
    0x105ba, 0x105bb, 0x105bd, 0x10600, 0x10737, 0x10740, 0x10756, 0x10760, 0x10768, 0x10780,
    0x10786, 0x10787, 0x107b1, 0x107b2, 0x107bb, 0x10800, 0x10806, 0x10808, 0x10809, 0x1080a,
    0x10836, 0x10837, 0x10839, 0x1083c, 0x1083d, 0x1083f, 0x10856, 0x10857, 0x1089f, 0x108a7,
    0x108b0, 0x108e0, 0x108f3, 0x108f4, 0x108f6, 0x108fb, 0x1091c, 0x1091f, 0x1093a, 0x1093f,
    0x10940, 0x10980, 0x109b8, 0x109bc, 0x109d0, 0x109d2, 0x10a04, 0x10a05, 0x10a07, 0x10a0c,
    0x10a14, 0x10a15, 0x10a18, 0x10a19, 0x10a36, 0x10a38, 0x10a3b, 0x10a3f, 0x10a49, 0x10a50,
    0x10a59, 0x10a60, 0x10aa0, 0x10ac0, 0x10ae7, 0x10aeb, 0x10af7, 0x10b00, 0x10b36, 0x10b39,
    0x10b56, 0x10b58, 0x10b73, 0x10b78, 0x10b92, 0x10b99, 0x10b9d, 0x10ba9, 0x10bb0, 0x10c00,
    0x10c49, 0x10c80, 0x10cb3, 0x10cc0, 0x10cf3, 0x10cfa, 0x10d28, 0x10d30, 0x10d3a, 0x10e60,
    0x10e7f, 0x10e80, 0x10eaa, 0x10eab, 0x10eae, 0x10eb0, 0x10eb2, 0x10f00, 0x10f28, 0x10f30,
    0x10f5a, 0x10f70, 0x10f8a, 0x10fb0, 0x10fcc, 0x10fe0, 0x10ff7, 0x11000, 0x1104e, 0x11052,
    0x11076, 0x1107f, 0x110bd, 0x110be, 0x110c3, 0x110d0, 0x110e9, 0x110f0, 0x110fa, 0x11100,
    0x11135, 0x11136, 0x11148, 0x11150, 0x11177, 0x11180, 0x111e0, 0x111e1, 0x111f5, 0x11200,
    0x11212, 0x11213, 0x1123f, 0x11280, 0x11287, 0x11288, 0x11289, 0x1128a, 0x1128e, 0x1128f,
    0x1129e, 0x1129f, 0x112aa, 0x112b0, 0x112eb, 0x112f0, 0x112fa, 0x11300, 0x11304, 0x11305,
    0x1130d, 0x1130f, 0x11311, 0x11313, 0x11329, 0x1132a, 0x11331, 0x11332, 0x11334, 0x11335,
    0x1133a, 0x1133b, 0x11345, 0x11347, 0x11349, 0x1134b, 0x1134e, 0x11350, 0x11351, 0x11357,
    0x11358, 0x1135d, 0x11364, 0x11366, 0x1136d, 0x11370, 0x11375, 0x11400, 0x1145c, 0x1145d,
    0x11462, 0x11480, 0x114c8, 0x114d0, 0x114da, 0x11580, 0x115b6, 0x115b8, 0x115de, 0x11600,
    0x11645, 0x11650, 0x1165a, 0x11660, 0x1166d, 0x11680, 0x116ba, 0x116c0, 0x116ca, 0x11700,
    0x1171b, 0x1171d, 0x1172c, 0x11730, 0x11747, 0x11800, 0x1183c, 0x118a0, 0x118f3, 0x118ff,
    0x11907, 0x11909, 0x1190a, 0x1190c, 0x11914, 0x11915, 0x11917, 0x11918, 0x11936, 0x11937,
    0x11939, 0x1193b, 0x11947, 0x11950, 0x1195a, 0x119a0, 0x119a8, 0x119aa, 0x119d8, 0x119da,
    0x119e5, 0x11a00, 0x11a48, 0x11a50, 0x11aa3, 0x11ab0, 0x11af9, 0x11c00, 0x11c09, 0x11c0a,
    0x11c37, 0x11c38, 0x11c46, 0x11c50, 0x11c6d, 0x11c70, 0x11c90, 0x11c92, 0x11ca8, 0x11ca9,
    0x11cb7, 0x11d00, 0x11d07, 0x11d08, 0x11d0a, 0x11d0b, 0x11d37, 0x11d3a, 0x11d3b, 0x11d3c,
    0x11d3e, 0x11d3f, 0x11d48, 0x11d50, 0x11d5a, 0x11d60, 0x11d66, 0x11d67, 0x11d69, 0x11d6a,
    0x11d8f, 0x11d90, 0x11d92, 0x11d93, 0x11d99, 0x11da0, 0x11daa, 0x11ee0, 0x11ef9, 0x11fb0,
    0x11fb1, 0x11fc0, 0x11ff2, 0x11fff, 0x1239a, 0x12400, 0x1246f, 0x12470, 0x12475, 0x12480,
    0x12544, 0x12f90, 0x12ff3, 0x13000, 0x1342f, 0x14400, 0x14647, 0x16800, 0x16a39, 0x16a40,
    0x16a5f, 0x16a60, 0x16a6a, 0x16a6e, 0x16abf, 0x16ac0, 0x16aca, 0x16ad0, 0x16aee, 0x16af0,
    0x16af6, 0x16b00, 0x16b46, 0x16b50, 0x16b5a, 0x16b5b, 0x16b62, 0x16b63, 0x16b78, 0x16b7d,
    0x16b90, 0x16e40, 0x16e9b, 0x16f00, 0x16f4b, 0x16f4f, 0x16f88, 0x16f8f, 0x16fa0, 0x16fe0,
    0x16fe5, 0x16ff0, 0x16ff2, 0x17000, 0x187f8, 0x18800, 0x18cd6, 0x18d00, 0x18d09, 0x1aff0,
    0x1aff4, 0x1aff5, 0x1affc, 0x1affd, 0x1afff, 0x1b000, 0x1b123, 0x1b150, 0x1b153, 0x1b164,
    0x1b168, 0x1b170, 0x1b2fc, 0x1bc00, 0x1bc6b, 0x1bc70, 0x1bc7d, 0x1bc80, 0x1bc89, 0x1bc90,
    0x1bc9a, 0x1bc9c, 0x1bca0, 0x1cf00, 0x1cf2e, 0x1cf30, 0x1cf47, 0x1cf50, 0x1cfc4, 0x1d000,
    0x1d0f6, 0x1d100, 0x1d127, 0x1d129, 0x1d173, 0x1d17b, 0x1d1eb, 0x1d200, 0x1d246, 0x1d2e0,
    0x1d2f4, 0x1d300, 0x1d357, 0x1d360, 0x1d379, 0x1d400, 0x1d455, 0x1d456, 0x1d49d, 0x1d49e,
    0x1d4a0, 0x1d4a2, 0x1d4a3, 0x1d4a5, 0x1d4a7, 0x1d4a9, 0x1d4ad, 0x1d4ae, 0x1d4ba, 0x1d4bb,
    0x1d4bc, 0x1d4bd, 0x1d4c4, 0x1d4c5, 0x1d506, 0x1d507, 0x1d50b, 0x1d50d, 0x1d515, 0x1d516,
    0x1d51d, 0x1d51e, 0x1d53a, 0x1d53b, 0x1d53f, 0x1d540, 0x1d545, 0x1d546, 0x1d547, 0x1d54a,
    0x1d551, 0x1d552, 0x1d6a6, 0x1d6a8, 0x1d7cc, 0x1d7ce, 0x1da8c, 0x1da9b, 0x1daa0, 0x1daa1,
    0x1dab0, 0x1df00, 0x1df1f, 0x1e000, 0x1e007, 0x1e008, 0x1e019, 0x1e01b, 0x1e022, 0x1e023,
    0x1e025, 0x1e026, 0x1e02b, 0x1e100, 0x1e12d, 0x1e130, 0x1e13e, 0x1e140, 0x1e14a, 0x1e14e,
    0x1e150, 0x1e290, 0x1e2af, 0x1e2c0, 0x1e2fa, 0x1e2ff, 0x1e300, 0x1e7e0, 0x1e7e7, 0x1e7e8,
    0x1e7ec, 0x1e7ed, 0x1e7ef, 0x1e7f0, 0x1e7ff, 0x1e800, 0x1e8c5, 0x1e8c7, 0x1e8d7, 0x1e900,
    0x1e94c, 0x1e950, 0x1e95a, 0x1e95e, 0x1e960, 0x1ec71, 0x1ecb5, 0x1ed01, 0x1ed3e, 0x1ee00,
    0x1ee04, 0x1ee05, 0x1ee20, 0x1ee21, 0x1ee23, 0x1ee24, 0x1ee25, 0x1ee27, 0x1ee28, 0x1ee29,
    0x1ee33, 0x1ee34, 0x1ee38, 0x1ee39, 0x1ee3a, 0x1ee3b, 0x1ee3c, 0x1ee42, 0x1ee43, 0x1ee47,
    0x1ee48, 0x1ee49, 0x1ee4a, 0x1ee4b, 0x1ee4c, 0x1ee4d, 0x1ee50, 0x1ee51, 0x1ee53, 0x1ee54,
    0x1ee55, 0x1ee57, 0x1ee58, 0x1ee59, 0x1ee5a, 0x1ee5b, 0x1ee5c, 0x1ee5d, 0x1ee5e, 0x1ee5f,
    0x1ee60, 0x1ee61, 0x1ee63, 0x1ee64, 0x1ee65, 0x1ee67, 0x1ee6b, 0x1ee6c, 0x1ee73, 0x1ee74,
    0x1ee78, 0x1ee79, 0x1ee7d, 0x1ee7e, 0x1ee7f, 0x1ee80, 0x1ee8a, 0x1ee8b, 0x1ee9c, 0x1eea1,
    0x1eea4, 0x1eea5, 0x1eeaa, 0x1eeab, 0x1eebc, 0x1eef0, 0x1eef2, 0x1f000, 0x1f02c, 0x1f030,
    0x1f094, 0x1f0a0, 0x1f0af, 0x1f0b1, 0x1f0c0, 0x1f0c1, 0x1f0d0, 0x1f0d1, 0x1f0f6, 0x1f100,
    0x1f1ae, 0x1f1e6, 0x1f203, 0x1f210, 0x1f23c, 0x1f240, 0x1f249, 0x1f250, 0x1f252, 0x1f260,
    0x1f266, 0x1f300, 0x1f6d8, 0x1f6dd, 0x1f6ed, 0x1f6f0, 0x1f6fd, 0x1f700, 0x1f774, 0x1f780,
    0x1f7d9, 0x1f7e0, 0x1f7ec, 0x1f7f0, 0x1f7f1, 0x1f800, 0x1f80c, 0x1f810, 0x1f848, 0x1f850,
    0x1f85a, 0x1f860, 0x1f888, 0x1f890, 0x1f8ae, 0x1f8b0, 0x1f8b2, 0x1f900, 0x1fa54, 0x1fa60,
    0x1fa6e, 0x1fa70, 0x1fa75, 0x1fa78, 0x1fa7d, 0x1fa80, 0x1fa87, 0x1fa90, 0x1faad, 0x1fab0,
    0x1fabb, 0x1fac0, 0x1fac6, 0x1fad0, 0x1fada, 0x1fae0, 0x1fae8, 0x1faf0, 0x1faf7, 0x1fb00,
    0x1fb93, 0x1fb94, 0x1fbcb, 0x1fbf0, 0x1fbfa, 0x20000, 0x2a6e0, 0x2a700, 0x2b739, 0x2b740,
    0x2b81e, 0x2b820, 0x2cea2, 0x2ceb0, 0x2ebe1, 0x2f800, 0x2fa1e, 0x30000, 0x3134b, 0xe0100,
    0xe01f0, 0x110000,
];

#[cfg(test)]
mod tests {
    //! Every expected string below was printed by CPython 3.11
    //! (`str.format_map` over a dict whose `__missing__` returns None, with
    //! datetimes built as `datetime.fromtimestamp(t, timezone.utc).astimezone()`
    //! under the given `TZ`).

    use super::*;

    const BOOT: [u8; 16] = [
        0x9e, 0xc1, 0xeb, 0x60, 0xc7, 0x2a, 0x20, 0x52, 0x86, 0xd6, 0x14, 0xfc, 0x42, 0x9e, 0xb4,
        0xb9,
    ];

    fn s(t: &str) -> Value {
        Value::Str(t.to_owned())
    }

    /// The zone, or `None` when the time zone database is missing.
    fn zone(name: &str) -> Option<TimeZone> {
        if name == "UTC" {
            return Some(TimeZone::UTC);
        }
        TimeZone::get(name).ok()
    }

    fn render(
        tpl: &str,
        vals: &[(&str, Value)],
        tz: &TimeZone,
        missing: Missing,
    ) -> Result<String, RenderError> {
        let t = Template::parse(tpl).unwrap_or_else(|e| panic!("{tpl:?} does not parse: {e:?}"));
        let values: Vec<Option<&Value>> = t
            .fields()
            .iter()
            .map(|f| vals.iter().find(|(n, _)| n == f).map(|(_, v)| v))
            .collect();
        let mut out = String::from("<");
        t.render(&|k| values[k], missing, tz, &mut out)?;
        assert!(out.starts_with('<'));
        Ok(out[1..].to_owned())
    }

    #[track_caller]
    fn ok(tpl: &str, vals: &[(&str, Value)], tz: &str, expected: &str) {
        let Some(tz) = zone(tz) else { return };
        assert_eq!(
            render(tpl, vals, &tz, Missing::PythonNone).as_deref(),
            Ok(expected),
            "template {tpl:?}"
        );
    }

    #[track_caller]
    fn render_err(tpl: &str, vals: &[(&str, Value)], tz: &str, message: &str) {
        let Some(tz) = zone(tz) else { return };
        match render(tpl, vals, &tz, Missing::PythonNone) {
            Err(e) => assert_eq!(e.message, message, "template {tpl:?}"),
            Ok(out) => panic!("template {tpl:?} rendered {out:?}, expected error {message:?}"),
        }
    }

    #[track_caller]
    fn parse_err(tpl: &str, message: &str) {
        match Template::parse(tpl) {
            Err(e) => {
                assert_eq!(e.message, message, "template {tpl:?}");
                assert!(
                    e.start <= e.end && e.end <= tpl.len(),
                    "range of {tpl:?}: {e:?}"
                );
                assert!(tpl.is_char_boundary(e.start) && tpl.is_char_boundary(e.end));
                assert!(!e.help.is_empty());
            }
            Ok(_) => panic!("template {tpl:?} parsed, expected error {message:?}"),
        }
    }

    /// Renders each template (reading the field `x` = `v`) in zone `tz`.
    #[track_caller]
    fn check(v: &Value, tz: &str, cases: &[(&str, Result<&str, &str>)]) {
        let Some(zone) = zone(tz) else { return };
        for (tpl, expected) in cases {
            let got = render(tpl, &[("x", v.clone())], &zone, Missing::PythonNone);
            let got = got.as_deref().map_err(|e| e.message.as_str());
            assert_eq!(got, *expected, "template {tpl:?} with {v:?}");
        }
    }

    #[track_caller]
    fn plain(v: Value, tz: &str, expected_str: &str, expected_repr: &str) {
        let Some(tz) = zone(tz) else { return };
        assert_eq!(render_str(&v, &tz), expected_str, "str of {v:?}");
        assert_eq!(render_repr(&v, &tz), expected_repr, "repr of {v:?}");
    }

    #[test]
    fn must_pass_examples() {
        let vals = [
            ("fails", Value::Int(3)),
            ("thatIP", s("203.0.113.9")),
            ("__REALTIME_TIMESTAMP", Value::Time(1709337606000123)),
            ("_HOSTNAME", s("dmz")),
            ("_BOOT_ID", Value::Uuid(BOOT)),
            ("PRIORITY", Value::Int(4)),
        ];
        ok(
            "[{fails:^9d}] {thatIP} banned at {__REALTIME_TIMESTAMP} on {_HOSTNAME} (boot {_BOOT_ID}, prio {PRIORITY:02d}, missing {noSuchField})",
            &vals,
            "UTC",
            "[    3    ] 203.0.113.9 banned at 2024-03-02 00:00:06.000123+00:00 on dmz (boot 9ec1eb60-c72a-2052-86d6-14fc429eb4b9, prio 04, missing None)",
        );
        ok(
            "token {tok!r} {tok:>12}|{tok:-^9}|",
            &[("tok", s("a&b-c"))],
            "UTC",
            "token 'a&b-c'        a&b-c|--a&b-c--|",
        );
        ok(
            "token {tok!r} {tok:>12}|{tok:-^9}|",
            &[("tok", s("abc"))],
            "UTC",
            "token 'abc'          abc|---abc---|",
        );
        let vals = [
            (
                "_CMDLINE",
                Value::Bytes(b"/usr/bin/perl -e print\xff\xfe'\\".to_vec()),
            ),
            ("MULTI", Value::List(vec![s("one"), s("two")])),
            ("PRIORITY", Value::Int(6)),
            ("_PID", Value::Int(1234567)),
            ("_UID", Value::Int(1000)),
            ("_BOOT_ID", Value::Uuid(BOOT)),
            ("__REALTIME_TIMESTAMP", Value::Time(1709337699000099)),
            ("_SOURCE_REALTIME_TIMESTAMP", Value::Time(1709337599999000)),
        ];
        ok(
            "cmd={_CMDLINE} multi={MULTI} prio={PRIORITY:>3} pid={_PID:,} uid={_UID:x} boot={_BOOT_ID} t={__REALTIME_TIMESTAMP} src={_SOURCE_REALTIME_TIMESTAMP} none={NOPE} braces={{x}}",
            &vals,
            "UTC",
            "cmd=b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\" multi=['one', 'two'] prio=  6 pid=1,234,567 uid=3e8 boot=9ec1eb60-c72a-2052-86d6-14fc429eb4b9 t=2024-03-02 00:01:39.000099+00:00 src=2024-03-01 23:59:59.999000+00:00 none=None braces={x}",
        );
    }

    #[test]
    fn non_utc_zone() {
        // Europe/Paris from the tz database; a fixed +01:00 zone without it
        // (the same offset in winter).
        let tz =
            TimeZone::get("Europe/Paris").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(1)));
        let t = [("t", Value::Time(1709337606000123))];
        assert_eq!(
            render("{t} {t:%H:%M %z}", &t, &tz, Missing::PythonNone).as_deref(),
            Ok("2024-03-02 01:00:06.000123+01:00 01:00 +0100")
        );
        assert_eq!(
            render_str(&Value::Time(1709337600000000), &tz),
            "2024-03-02 01:00:00+01:00"
        );
        // Summer time and a zone with a half-hour offset.
        ok(
            "{t} {t:%z %Z}",
            &[("t", Value::Time(1720000000000000))],
            "Europe/Paris",
            "2024-07-03 11:46:40+02:00 +0200 CEST",
        );
        ok(
            "{t} {t:%z %Z}",
            &[("t", Value::Time(1720000000000000))],
            "Asia/Kolkata",
            "2024-07-03 15:16:40+05:30 +0530 IST",
        );
        // Paris mean time before 1911: an offset with seconds.
        ok(
            "{t} {t:%z}",
            &[("t", Value::Time(-2208988800000000))],
            "Europe/Paris",
            "1900-01-01 00:09:21+00:09:21 +000921",
        );
    }

    #[test]
    fn format_specs() {
        // str
        check(
            &s("a&b-c"),
            "UTC",
            &[
                ("[{x:}]", Ok("[a&b-c]")),
                ("[{x:>12}]", Ok("[       a&b-c]")),
                ("[{x:<8}]", Ok("[a&b-c   ]")),
                ("[{x:^9}]", Ok("[  a&b-c  ]")),
                ("[{x:-^9}]", Ok("[--a&b-c--]")),
                ("[{x:*>6}]", Ok("[*a&b-c]")),
                ("[{x:0>6}]", Ok("[0a&b-c]")),
                ("[{x:05}]", Ok("[a&b-c]")),
                ("[{x:.2}]", Ok("[a&]")),
                ("[{x:10.3}]", Ok("[a&b       ]")),
                ("[{x:^10.1}]", Ok("[    a     ]")),
                ("[{x:s}]", Ok("[a&b-c]")),
                ("[{x:>5s}]", Ok("[a&b-c]")),
                ("[{x:é^7}]", Ok("[éa&b-cé]")),
                ("[{x:😀<4}]", Ok("[a&b-c]")),
                ("[{x:<}]", Ok("[a&b-c]")),
                ("[{x:=<5}]", Ok("[a&b-c]")),
                (
                    "[{x:=5}]",
                    Err("'=' alignment not allowed in string format specifier"),
                ),
                (
                    "[{x:+}]",
                    Err("Sign not allowed in string format specifier"),
                ),
                (
                    "[{x: }]",
                    Err("Space not allowed in string format specifier"),
                ),
                (
                    "[{x:#}]",
                    Err("Alternate form (#) not allowed in string format specifier"),
                ),
                (
                    "[{x:z}]",
                    Err("Negative zero coercion (z) not allowed in string format specifier"),
                ),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'str'"),
                ),
                ("[{x:,}]", Err("Cannot specify ',' with 's'.")),
                ("[{x:_}]", Err("Cannot specify '_' with 's'.")),
                ("[{x:x<4}]", Ok("[a&b-c]")),
            ],
        );
        check(
            &s("é☃😀"),
            "UTC",
            &[
                ("[{x:>6}]", Ok("[   é☃😀]")),
                ("[{x:.2}]", Ok("[é☃]")),
                ("[{x:_^7.1}]", Ok("[___é___]")),
            ],
        );
        check(
            &s(""),
            "UTC",
            &[("[{x:^6}]", Ok("[      ]")), ("[{x:.0}]", Ok("[]"))],
        );
        // int
        check(
            &Value::Int(1234567),
            "UTC",
            &[
                ("[{x:}]", Ok("[1234567]")),
                ("[{x:d}]", Ok("[1234567]")),
                ("[{x:^9d}]", Ok("[ 1234567 ]")),
                ("[{x:02d}]", Ok("[1234567]")),
                ("[{x:>3}]", Ok("[1234567]")),
                ("[{x:<5}]", Ok("[1234567]")),
                ("[{x:^6}]", Ok("[1234567]")),
                ("[{x:=+8}]", Ok("[+1234567]")),
                ("[{x:+}]", Ok("[+1234567]")),
                ("[{x: }]", Ok("[ 1234567]")),
                ("[{x:-}]", Ok("[1234567]")),
                ("[{x:,}]", Ok("[1,234,567]")),
                ("[{x:_}]", Ok("[1_234_567]")),
                ("[{x:010,}]", Ok("[01,234,567]")),
                ("[{x:09,}]", Ok("[1,234,567]")),
                ("[{x:08_}]", Ok("[1_234_567]")),
                ("[{x:0=10,}]", Ok("[01,234,567]")),
                ("[{x:<010}]", Ok("[1234567000]")),
                ("[{x:^010}]", Ok("[0123456700]")),
                ("[{x:x}]", Ok("[12d687]")),
                ("[{x:X}]", Ok("[12D687]")),
                ("[{x:#x}]", Ok("[0x12d687]")),
                ("[{x:#X}]", Ok("[0X12D687]")),
                ("[{x:#010x}]", Ok("[0x0012d687]")),
                ("[{x:#010_x}]", Ok("[0x012_d687]")),
                ("[{x:_b}]", Ok("[1_0010_1101_0110_1000_0111]")),
                ("[{x:012_b}]", Ok("[1_0010_1101_0110_1000_0111]")),
                ("[{x:#b}]", Ok("[0b100101101011010000111]")),
                ("[{x:o}]", Ok("[4553207]")),
                ("[{x:#o}]", Ok("[0o4553207]")),
                ("[{x:n}]", Ok("[1234567]")),
                ("[{x:e}]", Ok("[1.234567e+06]")),
                ("[{x:.2e}]", Ok("[1.23e+06]")),
                ("[{x:f}]", Ok("[1234567.000000]")),
                ("[{x:.1f}]", Ok("[1234567.0]")),
                ("[{x:g}]", Ok("[1.23457e+06]")),
                ("[{x:%}]", Ok("[123456700.000000%]")),
                ("[{x:.1%}]", Ok("[123456700.0%]")),
                ("[{x:,.2f}]", Ok("[1,234,567.00]")),
                ("[{x:c}]", Err("%c arg not in range(0x110000)")),
                ("[{x:5c}]", Err("%c arg not in range(0x110000)")),
                ("[{x:05c}]", Err("%c arg not in range(0x110000)")),
                ("[{x:*^+9,d}]", Ok("[+1,234,567]")),
                (
                    "[{x:.2}]",
                    Err("Precision not allowed in integer format specifier"),
                ),
                (
                    "[{x:z}]",
                    Err("Negative zero coercion (z) not allowed in integer format specifier"),
                ),
                (
                    "[{x:s}]",
                    Err("Unknown format code 's' for object of type 'int'"),
                ),
            ],
        );
        check(
            &Value::Int(-42),
            "UTC",
            &[
                ("[{x:}]", Ok("[-42]")),
                ("[{x:d}]", Ok("[-42]")),
                ("[{x:^9d}]", Ok("[   -42   ]")),
                ("[{x:02d}]", Ok("[-42]")),
                ("[{x:>3}]", Ok("[-42]")),
                ("[{x:<5}]", Ok("[-42  ]")),
                ("[{x:^6}]", Ok("[ -42  ]")),
                ("[{x:=+8}]", Ok("[-     42]")),
                ("[{x:+}]", Ok("[-42]")),
                ("[{x: }]", Ok("[-42]")),
                ("[{x:-}]", Ok("[-42]")),
                ("[{x:,}]", Ok("[-42]")),
                ("[{x:_}]", Ok("[-42]")),
                ("[{x:010,}]", Ok("[-0,000,042]")),
                ("[{x:09,}]", Ok("[-0,000,042]")),
                ("[{x:08_}]", Ok("[-000_042]")),
                ("[{x:0=10,}]", Ok("[-0,000,042]")),
                ("[{x:<010}]", Ok("[-420000000]")),
                ("[{x:^010}]", Ok("[000-420000]")),
                ("[{x:x}]", Ok("[-2a]")),
                ("[{x:X}]", Ok("[-2A]")),
                ("[{x:#x}]", Ok("[-0x2a]")),
                ("[{x:#X}]", Ok("[-0X2A]")),
                ("[{x:#010x}]", Ok("[-0x000002a]")),
                ("[{x:#010_x}]", Ok("[-0x00_002a]")),
                ("[{x:_b}]", Ok("[-10_1010]")),
                ("[{x:012_b}]", Ok("[-0_0010_1010]")),
                ("[{x:#b}]", Ok("[-0b101010]")),
                ("[{x:o}]", Ok("[-52]")),
                ("[{x:#o}]", Ok("[-0o52]")),
                ("[{x:n}]", Ok("[-42]")),
                ("[{x:e}]", Ok("[-4.200000e+01]")),
                ("[{x:.2e}]", Ok("[-4.20e+01]")),
                ("[{x:f}]", Ok("[-42.000000]")),
                ("[{x:.1f}]", Ok("[-42.0]")),
                ("[{x:g}]", Ok("[-42]")),
                ("[{x:%}]", Ok("[-4200.000000%]")),
                ("[{x:.1%}]", Ok("[-4200.0%]")),
                ("[{x:,.2f}]", Ok("[-42.00]")),
                ("[{x:c}]", Err("%c arg not in range(0x110000)")),
                ("[{x:5c}]", Err("%c arg not in range(0x110000)")),
                ("[{x:05c}]", Err("%c arg not in range(0x110000)")),
                ("[{x:*^+9,d}]", Ok("[***-42***]")),
                (
                    "[{x:.2}]",
                    Err("Precision not allowed in integer format specifier"),
                ),
                (
                    "[{x:z}]",
                    Err("Negative zero coercion (z) not allowed in integer format specifier"),
                ),
                (
                    "[{x:s}]",
                    Err("Unknown format code 's' for object of type 'int'"),
                ),
            ],
        );
        check(
            &Value::Int(0),
            "UTC",
            &[
                ("[{x:}]", Ok("[0]")),
                ("[{x:d}]", Ok("[0]")),
                ("[{x:^9d}]", Ok("[    0    ]")),
                ("[{x:02d}]", Ok("[00]")),
                ("[{x:>3}]", Ok("[  0]")),
                ("[{x:<5}]", Ok("[0    ]")),
                ("[{x:^6}]", Ok("[  0   ]")),
                ("[{x:=+8}]", Ok("[+      0]")),
                ("[{x:+}]", Ok("[+0]")),
                ("[{x: }]", Ok("[ 0]")),
                ("[{x:-}]", Ok("[0]")),
                ("[{x:,}]", Ok("[0]")),
                ("[{x:_}]", Ok("[0]")),
                ("[{x:010,}]", Ok("[00,000,000]")),
                ("[{x:09,}]", Ok("[0,000,000]")),
                ("[{x:08_}]", Ok("[0_000_000]")),
                ("[{x:0=10,}]", Ok("[00,000,000]")),
                ("[{x:<010}]", Ok("[0000000000]")),
                ("[{x:^010}]", Ok("[0000000000]")),
                ("[{x:x}]", Ok("[0]")),
                ("[{x:X}]", Ok("[0]")),
                ("[{x:#x}]", Ok("[0x0]")),
                ("[{x:#X}]", Ok("[0X0]")),
                ("[{x:#010x}]", Ok("[0x00000000]")),
                ("[{x:#010_x}]", Ok("[0x000_0000]")),
                ("[{x:_b}]", Ok("[0]")),
                ("[{x:012_b}]", Ok("[00_0000_0000]")),
                ("[{x:#b}]", Ok("[0b0]")),
                ("[{x:o}]", Ok("[0]")),
                ("[{x:#o}]", Ok("[0o0]")),
                ("[{x:n}]", Ok("[0]")),
                ("[{x:e}]", Ok("[0.000000e+00]")),
                ("[{x:.2e}]", Ok("[0.00e+00]")),
                ("[{x:f}]", Ok("[0.000000]")),
                ("[{x:.1f}]", Ok("[0.0]")),
                ("[{x:g}]", Ok("[0]")),
                ("[{x:%}]", Ok("[0.000000%]")),
                ("[{x:.1%}]", Ok("[0.0%]")),
                ("[{x:,.2f}]", Ok("[0.00]")),
                ("[{x:c}]", Ok("[\u{0}]")),
                ("[{x:5c}]", Ok("[    \u{0}]")),
                ("[{x:05c}]", Ok("[0000\u{0}]")),
                ("[{x:*^+9,d}]", Ok("[***+0****]")),
                (
                    "[{x:.2}]",
                    Err("Precision not allowed in integer format specifier"),
                ),
                (
                    "[{x:z}]",
                    Err("Negative zero coercion (z) not allowed in integer format specifier"),
                ),
                (
                    "[{x:s}]",
                    Err("Unknown format code 's' for object of type 'int'"),
                ),
            ],
        );
        check(
            &Value::Int(128512),
            "UTC",
            &[("[{x:c}]", Ok("[😀]")), ("[{x:^5c}]", Ok("[  😀  ]"))],
        );
        check(
            &Value::Int(i64::MIN),
            "UTC",
            &[
                ("[{x:,}]", Ok("[-9,223,372,036,854,775,808]")),
                (
                    "[{x:#b}]",
                    Ok("[-0b1000000000000000000000000000000000000000000000000000000000000000]"),
                ),
                ("[{x:e}]", Ok("[-9.223372e+18]")),
            ],
        );
        check(
            &Value::Int(9223372036854775807),
            "UTC",
            &[
                ("[{x:x}]", Ok("[7fffffffffffffff]")),
                ("[{x:_d}]", Ok("[9_223_372_036_854_775_807]")),
                ("[{x:.3g}]", Ok("[9.22e+18]")),
            ],
        );
        // bool
        check(
            &Value::Bool(true),
            "UTC",
            &[
                ("[{x:}]", Ok("[True]")),
                ("[{x:d}]", Ok("[1]")),
                ("[{x:>5}]", Ok("[    1]")),
                ("[{x:^7}]", Ok("[   1   ]")),
                ("[{x:x}]", Ok("[1]")),
                ("[{x:.2f}]", Ok("[1.00]")),
                ("[{x:+}]", Ok("[+1]")),
                (
                    "[{x:s}]",
                    Err("Unknown format code 's' for object of type 'bool'"),
                ),
            ],
        );
        check(
            &Value::Bool(false),
            "UTC",
            &[("[{x}]", Ok("[False]")), ("[{x:05}]", Ok("[00000]"))],
        );
        // float
        check(
            &Value::Float(2.5),
            "UTC",
            &[
                ("[{x:}]", Ok("[2.5]")),
                ("[{x:.2f}]", Ok("[2.50]")),
                ("[{x:.0f}]", Ok("[2]")),
                ("[{x:#.0f}]", Ok("[2.]")),
                ("[{x:.2e}]", Ok("[2.50e+00]")),
                ("[{x:E}]", Ok("[2.500000E+00]")),
                ("[{x:.3g}]", Ok("[2.5]")),
                ("[{x:G}]", Ok("[2.5]")),
                ("[{x:#g}]", Ok("[2.50000]")),
                ("[{x:.3}]", Ok("[2.5]")),
                ("[{x:#}]", Ok("[2.5]")),
                ("[{x:%}]", Ok("[250.000000%]")),
                ("[{x:n}]", Ok("[2.5]")),
                ("[{x:,.2f}]", Ok("[2.50]")),
                ("[{x:_}]", Ok("[2.5]")),
                ("[{x:015,.2f}]", Ok("[0,000,000,002.50]")),
                ("[{x:+010.1f}]", Ok("[+0000002.5]")),
                ("[{x:=+12.3e}]", Ok("[+  2.500e+00]")),
                ("[{x:z}]", Ok("[2.5]")),
                ("[{x:z.1f}]", Ok("[2.5]")),
                ("[{x:^12}]", Ok("[    2.5     ]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(
            &Value::Float(-0.0),
            "UTC",
            &[
                ("[{x:}]", Ok("[-0.0]")),
                ("[{x:.2f}]", Ok("[-0.00]")),
                ("[{x:.0f}]", Ok("[-0]")),
                ("[{x:#.0f}]", Ok("[-0.]")),
                ("[{x:.2e}]", Ok("[-0.00e+00]")),
                ("[{x:E}]", Ok("[-0.000000E+00]")),
                ("[{x:.3g}]", Ok("[-0]")),
                ("[{x:G}]", Ok("[-0]")),
                ("[{x:#g}]", Ok("[-0.00000]")),
                ("[{x:.3}]", Ok("[-0.0]")),
                ("[{x:#}]", Ok("[-0.0]")),
                ("[{x:%}]", Ok("[-0.000000%]")),
                ("[{x:n}]", Ok("[-0]")),
                ("[{x:,.2f}]", Ok("[-0.00]")),
                ("[{x:_}]", Ok("[-0.0]")),
                ("[{x:015,.2f}]", Ok("[-000,000,000.00]")),
                ("[{x:+010.1f}]", Ok("[-0000000.0]")),
                ("[{x:=+12.3e}]", Ok("[-  0.000e+00]")),
                ("[{x:z}]", Ok("[0.0]")),
                ("[{x:z.1f}]", Ok("[0.0]")),
                ("[{x:^12}]", Ok("[    -0.0    ]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(
            &Value::Float(0.125),
            "UTC",
            &[
                ("[{x:}]", Ok("[0.125]")),
                ("[{x:.2f}]", Ok("[0.12]")),
                ("[{x:.0f}]", Ok("[0]")),
                ("[{x:#.0f}]", Ok("[0.]")),
                ("[{x:.2e}]", Ok("[1.25e-01]")),
                ("[{x:E}]", Ok("[1.250000E-01]")),
                ("[{x:.3g}]", Ok("[0.125]")),
                ("[{x:G}]", Ok("[0.125]")),
                ("[{x:#g}]", Ok("[0.125000]")),
                ("[{x:.3}]", Ok("[0.125]")),
                ("[{x:#}]", Ok("[0.125]")),
                ("[{x:%}]", Ok("[12.500000%]")),
                ("[{x:n}]", Ok("[0.125]")),
                ("[{x:,.2f}]", Ok("[0.12]")),
                ("[{x:_}]", Ok("[0.125]")),
                ("[{x:015,.2f}]", Ok("[0,000,000,000.12]")),
                ("[{x:+010.1f}]", Ok("[+0000000.1]")),
                ("[{x:=+12.3e}]", Ok("[+  1.250e-01]")),
                ("[{x:z}]", Ok("[0.125]")),
                ("[{x:z.1f}]", Ok("[0.1]")),
                ("[{x:^12}]", Ok("[   0.125    ]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(
            &Value::Float(1e+16),
            "UTC",
            &[
                ("[{x:}]", Ok("[1e+16]")),
                ("[{x:.2f}]", Ok("[10000000000000000.00]")),
                ("[{x:.0f}]", Ok("[10000000000000000]")),
                ("[{x:#.0f}]", Ok("[10000000000000000.]")),
                ("[{x:.2e}]", Ok("[1.00e+16]")),
                ("[{x:E}]", Ok("[1.000000E+16]")),
                ("[{x:.3g}]", Ok("[1e+16]")),
                ("[{x:G}]", Ok("[1E+16]")),
                ("[{x:#g}]", Ok("[1.00000e+16]")),
                ("[{x:.3}]", Ok("[1e+16]")),
                ("[{x:#}]", Ok("[1.e+16]")),
                ("[{x:%}]", Ok("[1000000000000000000.000000%]")),
                ("[{x:n}]", Ok("[1e+16]")),
                ("[{x:,.2f}]", Ok("[10,000,000,000,000,000.00]")),
                ("[{x:_}]", Ok("[1e+16]")),
                ("[{x:015,.2f}]", Ok("[10,000,000,000,000,000.00]")),
                ("[{x:+010.1f}]", Ok("[+10000000000000000.0]")),
                ("[{x:=+12.3e}]", Ok("[+  1.000e+16]")),
                ("[{x:z}]", Ok("[1e+16]")),
                ("[{x:z.1f}]", Ok("[10000000000000000.0]")),
                ("[{x:^12}]", Ok("[   1e+16    ]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(
            &Value::Float(1e-05),
            "UTC",
            &[
                ("[{x:}]", Ok("[1e-05]")),
                ("[{x:.2f}]", Ok("[0.00]")),
                ("[{x:.0f}]", Ok("[0]")),
                ("[{x:#.0f}]", Ok("[0.]")),
                ("[{x:.2e}]", Ok("[1.00e-05]")),
                ("[{x:E}]", Ok("[1.000000E-05]")),
                ("[{x:.3g}]", Ok("[1e-05]")),
                ("[{x:G}]", Ok("[1E-05]")),
                ("[{x:#g}]", Ok("[1.00000e-05]")),
                ("[{x:.3}]", Ok("[1e-05]")),
                ("[{x:#}]", Ok("[1.e-05]")),
                ("[{x:%}]", Ok("[0.001000%]")),
                ("[{x:n}]", Ok("[1e-05]")),
                ("[{x:,.2f}]", Ok("[0.00]")),
                ("[{x:_}]", Ok("[1e-05]")),
                ("[{x:015,.2f}]", Ok("[0,000,000,000.00]")),
                ("[{x:+010.1f}]", Ok("[+0000000.0]")),
                ("[{x:=+12.3e}]", Ok("[+  1.000e-05]")),
                ("[{x:z}]", Ok("[1e-05]")),
                ("[{x:z.1f}]", Ok("[0.0]")),
                ("[{x:^12}]", Ok("[   1e-05    ]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(
            &Value::Float(123456789.0),
            "UTC",
            &[
                ("[{x:}]", Ok("[123456789.0]")),
                ("[{x:.2f}]", Ok("[123456789.00]")),
                ("[{x:.0f}]", Ok("[123456789]")),
                ("[{x:#.0f}]", Ok("[123456789.]")),
                ("[{x:.2e}]", Ok("[1.23e+08]")),
                ("[{x:E}]", Ok("[1.234568E+08]")),
                ("[{x:.3g}]", Ok("[1.23e+08]")),
                ("[{x:G}]", Ok("[1.23457E+08]")),
                ("[{x:#g}]", Ok("[1.23457e+08]")),
                ("[{x:.3}]", Ok("[1.23e+08]")),
                ("[{x:#}]", Ok("[123456789.0]")),
                ("[{x:%}]", Ok("[12345678900.000000%]")),
                ("[{x:n}]", Ok("[1.23457e+08]")),
                ("[{x:,.2f}]", Ok("[123,456,789.00]")),
                ("[{x:_}]", Ok("[123_456_789.0]")),
                ("[{x:015,.2f}]", Ok("[0,123,456,789.00]")),
                ("[{x:+010.1f}]", Ok("[+123456789.0]")),
                ("[{x:=+12.3e}]", Ok("[+  1.235e+08]")),
                ("[{x:z}]", Ok("[123456789.0]")),
                ("[{x:z.1f}]", Ok("[123456789.0]")),
                ("[{x:^12}]", Ok("[123456789.0 ]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(
            &Value::Float(-1234567.891),
            "UTC",
            &[
                ("[{x:}]", Ok("[-1234567.891]")),
                ("[{x:.2f}]", Ok("[-1234567.89]")),
                ("[{x:.0f}]", Ok("[-1234568]")),
                ("[{x:#.0f}]", Ok("[-1234568.]")),
                ("[{x:.2e}]", Ok("[-1.23e+06]")),
                ("[{x:E}]", Ok("[-1.234568E+06]")),
                ("[{x:.3g}]", Ok("[-1.23e+06]")),
                ("[{x:G}]", Ok("[-1.23457E+06]")),
                ("[{x:#g}]", Ok("[-1.23457e+06]")),
                ("[{x:.3}]", Ok("[-1.23e+06]")),
                ("[{x:#}]", Ok("[-1234567.891]")),
                ("[{x:%}]", Ok("[-123456789.100000%]")),
                ("[{x:n}]", Ok("[-1.23457e+06]")),
                ("[{x:,.2f}]", Ok("[-1,234,567.89]")),
                ("[{x:_}]", Ok("[-1_234_567.891]")),
                ("[{x:015,.2f}]", Ok("[-001,234,567.89]")),
                ("[{x:+010.1f}]", Ok("[-1234567.9]")),
                ("[{x:=+12.3e}]", Ok("[-  1.235e+06]")),
                ("[{x:z}]", Ok("[-1234567.891]")),
                ("[{x:z.1f}]", Ok("[-1234567.9]")),
                ("[{x:^12}]", Ok("[-1234567.891]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(&Value::Float(1.7976931348623157e+308), "UTC", &[
        ("[{x:}]", Ok("[1.7976931348623157e+308]")),
        ("[{x:.2f}]", Ok("[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.00]")),
        ("[{x:.0f}]", Ok("[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368]")),
        ("[{x:#.0f}]", Ok("[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.]")),
        ("[{x:.2e}]", Ok("[1.80e+308]")),
        ("[{x:E}]", Ok("[1.797693E+308]")),
        ("[{x:.3g}]", Ok("[1.8e+308]")),
        ("[{x:G}]", Ok("[1.79769E+308]")),
        ("[{x:#g}]", Ok("[1.79769e+308]")),
        ("[{x:.3}]", Ok("[1.8e+308]")),
        ("[{x:#}]", Ok("[1.7976931348623157e+308]")),
        ("[{x:%}]", Ok("[inf%]")),
        ("[{x:n}]", Ok("[1.79769e+308]")),
        ("[{x:,.2f}]", Ok("[179,769,313,486,231,570,814,527,423,731,704,356,798,070,567,525,844,996,598,917,476,803,157,260,780,028,538,760,589,558,632,766,878,171,540,458,953,514,382,464,234,321,326,889,464,182,768,467,546,703,537,516,986,049,910,576,551,282,076,245,490,090,389,328,944,075,868,508,455,133,942,304,583,236,903,222,948,165,808,559,332,123,348,274,797,826,204,144,723,168,738,177,180,919,299,881,250,404,026,184,124,858,368.00]")),
        ("[{x:_}]", Ok("[1.7976931348623157e+308]")),
        ("[{x:015,.2f}]", Ok("[179,769,313,486,231,570,814,527,423,731,704,356,798,070,567,525,844,996,598,917,476,803,157,260,780,028,538,760,589,558,632,766,878,171,540,458,953,514,382,464,234,321,326,889,464,182,768,467,546,703,537,516,986,049,910,576,551,282,076,245,490,090,389,328,944,075,868,508,455,133,942,304,583,236,903,222,948,165,808,559,332,123,348,274,797,826,204,144,723,168,738,177,180,919,299,881,250,404,026,184,124,858,368.00]")),
        ("[{x:+010.1f}]", Ok("[+179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.0]")),
        ("[{x:=+12.3e}]", Ok("[+ 1.798e+308]")),
        ("[{x:z}]", Ok("[1.7976931348623157e+308]")),
        ("[{x:z.1f}]", Ok("[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.0]")),
        ("[{x:^12}]", Ok("[1.7976931348623157e+308]")),
        ("[{x:d}]", Err("Unknown format code 'd' for object of type 'float'")),
    ]);
        check(
            &Value::Float(f64::INFINITY),
            "UTC",
            &[
                ("[{x:}]", Ok("[inf]")),
                ("[{x:.2f}]", Ok("[inf]")),
                ("[{x:.0f}]", Ok("[inf]")),
                ("[{x:#.0f}]", Ok("[inf]")),
                ("[{x:.2e}]", Ok("[inf]")),
                ("[{x:E}]", Ok("[INF]")),
                ("[{x:.3g}]", Ok("[inf]")),
                ("[{x:G}]", Ok("[INF]")),
                ("[{x:#g}]", Ok("[inf]")),
                ("[{x:.3}]", Ok("[inf]")),
                ("[{x:#}]", Ok("[inf]")),
                ("[{x:%}]", Ok("[inf%]")),
                ("[{x:n}]", Ok("[inf]")),
                ("[{x:,.2f}]", Ok("[inf]")),
                ("[{x:_}]", Ok("[inf]")),
                ("[{x:015,.2f}]", Ok("[000000000000inf]")),
                ("[{x:+010.1f}]", Ok("[+000000inf]")),
                ("[{x:=+12.3e}]", Ok("[+        inf]")),
                ("[{x:z}]", Ok("[inf]")),
                ("[{x:z.1f}]", Ok("[inf]")),
                ("[{x:^12}]", Ok("[    inf     ]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(
            &Value::Float(f64::NAN),
            "UTC",
            &[
                ("[{x:}]", Ok("[nan]")),
                ("[{x:.2f}]", Ok("[nan]")),
                ("[{x:.0f}]", Ok("[nan]")),
                ("[{x:#.0f}]", Ok("[nan]")),
                ("[{x:.2e}]", Ok("[nan]")),
                ("[{x:E}]", Ok("[NAN]")),
                ("[{x:.3g}]", Ok("[nan]")),
                ("[{x:G}]", Ok("[NAN]")),
                ("[{x:#g}]", Ok("[nan]")),
                ("[{x:.3}]", Ok("[nan]")),
                ("[{x:#}]", Ok("[nan]")),
                ("[{x:%}]", Ok("[nan%]")),
                ("[{x:n}]", Ok("[nan]")),
                ("[{x:,.2f}]", Ok("[nan]")),
                ("[{x:_}]", Ok("[nan]")),
                ("[{x:015,.2f}]", Ok("[000000000000nan]")),
                ("[{x:+010.1f}]", Ok("[+000000nan]")),
                ("[{x:=+12.3e}]", Ok("[+        nan]")),
                ("[{x:z}]", Ok("[nan]")),
                ("[{x:z.1f}]", Ok("[nan]")),
                ("[{x:^12}]", Ok("[    nan     ]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
        check(
            &Value::Float(1921825758892393.2),
            "UTC",
            &[
                ("[{x:}]", Ok("[1921825758892393.2]")),
                ("[{x:.2f}]", Ok("[1921825758892393.25]")),
                ("[{x:.0f}]", Ok("[1921825758892393]")),
                ("[{x:#.0f}]", Ok("[1921825758892393.]")),
                ("[{x:.2e}]", Ok("[1.92e+15]")),
                ("[{x:E}]", Ok("[1.921826E+15]")),
                ("[{x:.3g}]", Ok("[1.92e+15]")),
                ("[{x:G}]", Ok("[1.92183E+15]")),
                ("[{x:#g}]", Ok("[1.92183e+15]")),
                ("[{x:.3}]", Ok("[1.92e+15]")),
                ("[{x:#}]", Ok("[1921825758892393.2]")),
                ("[{x:%}]", Ok("[192182575889239328.000000%]")),
                ("[{x:n}]", Ok("[1.92183e+15]")),
                ("[{x:,.2f}]", Ok("[1,921,825,758,892,393.25]")),
                ("[{x:_}]", Ok("[1_921_825_758_892_393.2]")),
                ("[{x:015,.2f}]", Ok("[1,921,825,758,892,393.25]")),
                ("[{x:+010.1f}]", Ok("[+1921825758892393.2]")),
                ("[{x:=+12.3e}]", Ok("[+  1.922e+15]")),
                ("[{x:z}]", Ok("[1921825758892393.2]")),
                ("[{x:z.1f}]", Ok("[1921825758892393.2]")),
                ("[{x:^12}]", Ok("[1921825758892393.2]")),
                (
                    "[{x:d}]",
                    Err("Unknown format code 'd' for object of type 'float'"),
                ),
            ],
        );
    }

    #[test]
    fn other_types_conversions_and_nested_specs() {
        // other types: str() and the NoneType-like errors
        check(
            &Value::None,
            "UTC",
            &[
                ("[{x}] [{x!s}]", Ok("[None] [None]")),
                ("[{x!r}] [{x!a}]", Ok("[None] [None]")),
                (
                    "[{x!r:>60.40}]",
                    Ok("[                                                        None]"),
                ),
                (
                    "[{x:>5}]",
                    Err("unsupported format string passed to NoneType.__format__"),
                ),
                ("[{x:}] [{x!r:}]", Ok("[None] [None]")),
            ],
        );
        check(&Value::Bytes(b"/usr/bin/perl -e print\xff\xfe'\\".to_vec()), "UTC", &[
        ("[{x}] [{x!s}]", Ok("[b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"] [b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"]")),
        ("[{x!r}] [{x!a}]", Ok("[b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"] [b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"]")),
        ("[{x!r:>60.40}]", Ok("[                        b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"]")),
        ("[{x:>5}]", Err("unsupported format string passed to bytes.__format__")),
        ("[{x:}] [{x!r:}]", Ok("[b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"] [b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"]")),
    ]);
        check(&Value::Uuid(BOOT), "UTC", &[
        ("[{x}] [{x!s}]", Ok("[9ec1eb60-c72a-2052-86d6-14fc429eb4b9] [9ec1eb60-c72a-2052-86d6-14fc429eb4b9]")),
        ("[{x!r}] [{x!a}]", Ok("[UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9')] [UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9')]")),
        ("[{x!r:>60.40}]", Ok("[                    UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4]")),
        ("[{x:>5}]", Err("unsupported format string passed to UUID.__format__")),
        ("[{x:}] [{x!r:}]", Ok("[9ec1eb60-c72a-2052-86d6-14fc429eb4b9] [UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9')]")),
    ]);
        check(
            &Value::List(vec![s("one"), s("two")]),
            "UTC",
            &[
                ("[{x}] [{x!s}]", Ok("[['one', 'two']] [['one', 'two']]")),
                ("[{x!r}] [{x!a}]", Ok("[['one', 'two']] [['one', 'two']]")),
                (
                    "[{x!r:>60.40}]",
                    Ok("[                                              ['one', 'two']]"),
                ),
                (
                    "[{x:>5}]",
                    Err("unsupported format string passed to list.__format__"),
                ),
                ("[{x:}] [{x!r:}]", Ok("[['one', 'two']] [['one', 'two']]")),
            ],
        );
        check(&Value::Delta(93784000005), "UTC", &[
        ("[{x}] [{x!s}]", Ok("[1 day, 2:03:04.000005] [1 day, 2:03:04.000005]")),
        ("[{x!r}] [{x!a}]", Ok("[datetime.timedelta(days=1, seconds=7384, microseconds=5)] [datetime.timedelta(days=1, seconds=7384, microseconds=5)]")),
        ("[{x!r:>60.40}]", Ok("[                    datetime.timedelta(days=1, seconds=7384,]")),
        ("[{x:>5}]", Err("unsupported format string passed to datetime.timedelta.__format__")),
        ("[{x:}] [{x!r:}]", Ok("[1 day, 2:03:04.000005] [datetime.timedelta(days=1, seconds=7384, microseconds=5)]")),
    ]);
        check(&Value::Monotonic(5000000, BOOT), "UTC", &[
        ("[{x}] [{x!s}]", Ok("[(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))] [(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))]")),
        ("[{x!r}] [{x!a}]", Ok("[(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))] [(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))]")),
        ("[{x!r:>60.40}]", Ok("[                    (datetime.timedelta(seconds=5), UUID('9e]")),
        ("[{x:>5}]", Err("unsupported format string passed to tuple.__format__")),
        ("[{x:}] [{x!r:}]", Ok("[(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))] [(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))]")),
    ]);
        check(
            &s("é☃😀\u{0}"),
            "UTC",
            &[
                ("[{x!a}]", Ok("['\\xe9\\u2603\\U0001f600\\x00']")),
                ("[{x!r:^9}]", Ok("['é☃😀\\x00']")),
                ("[{x!s:.2}]", Ok("[é☃]")),
            ],
        );
        check(
            &Value::List(vec![s("é"), Value::Bytes(b"\xff".to_vec())]),
            "UTC",
            &[("[{x!a}]", Ok("[['\\xe9', b'\\xff']]"))],
        );
        // nested specs
        ok(
            "{x:>{w}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "      abc",
        );
        ok("{i:{w}{w}}", &[("t", Value::Time(1709337606000123)), ("x", s("abc")), ("i", Value::Int(1234)), ("w", Value::Int(9)), ("f", s("%Y-%m-%d")), ("s", s(">6")), ("n", Value::None)], "UTC", "                                                                                               1234");
        ok(
            "{x:*^{w}.{w}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "***abc***",
        );
        ok(
            "{t:{f}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "2024-03-02",
        );
        ok(
            "{t:{f} %H}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "2024-03-02 00",
        );
        ok(
            "{x:{s}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "   abc",
        );
        ok(
            "{i:{s}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "  1234",
        );
        ok(
            "{x:{w:d}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "abc      ",
        );
        ok(
            "{x!r:{s}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            " 'abc'",
        );
        render_err(
            "{x:{n}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "Invalid format specifier 'None' for object of type 'str'",
        );
        render_err(
            "{i:{x}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "Invalid format specifier 'abc' for object of type 'int'",
        );
        render_err(
            "{x:{missing}}",
            &[
                ("t", Value::Time(1709337606000123)),
                ("x", s("abc")),
                ("i", Value::Int(1234)),
                ("w", Value::Int(9)),
                ("f", s("%Y-%m-%d")),
                ("s", s(">6")),
                ("n", Value::None),
            ],
            "UTC",
            "Invalid format specifier 'None' for object of type 'str'",
        );
    }

    #[test]
    fn datetimes_and_strftime() {
        // datetime str and strftime
        check(&Value::Time(1709337606000123), "UTC", &[
        ("{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}", Ok("2024-03-02 00:00:06.000123+00:00 | 2024-03-02 00:00:06 +0000 UTC Sat Mar 062 000123")),
    ]);
        check(&Value::Time(1709337699000099), "UTC", &[
        ("{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}", Ok("2024-03-02 00:01:39.000099+00:00 | 2024-03-02 00:01:39 +0000 UTC Sat Mar 062 000099")),
    ]);
        check(&Value::Time(1709337599999000), "UTC", &[
        ("{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}", Ok("2024-03-01 23:59:59.999000+00:00 | 2024-03-01 23:59:59 +0000 UTC Fri Mar 061 999000")),
    ]);
        check(
            &Value::Time(0),
            "UTC",
            &[(
                "{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}",
                Ok("1970-01-01 00:00:00+00:00 | 1970-01-01 00:00:00 +0000 UTC Thu Jan 001 000000"),
            )],
        );
        check(
            &Value::Time(-2208988800000000),
            "UTC",
            &[(
                "{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}",
                Ok("1900-01-01 00:00:00+00:00 | 1900-01-01 00:00:00 +0000 UTC Mon Jan 001 000000"),
            )],
        );
        check(&Value::Time(1), "UTC", &[
        ("{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}", Ok("1970-01-01 00:00:00.000001+00:00 | 1970-01-01 00:00:00 +0000 UTC Thu Jan 001 000001")),
    ]);
        check(&Value::Time(1709337606000123), "Europe/Paris", &[
        ("{x:%c}", Ok("Sat Mar  2 01:00:06 2024")),
        ("{x:%x %X}", Ok("03/02/24 01:00:06")),
        ("{x:%D %F %T %R %r}", Ok("03/02/24 2024-03-02 01:00:06 01:00 01:00:06 AM")),
        ("{x:%A %B %h %p %P}", Ok("Saturday March Mar AM am")),
        ("{x:%I %l %k %e %u %w}", Ok("01  1  1  2 6 6")),
        ("{x:%U %W %V %G %g %y %C}", Ok("08 09 09 2024 24 24 20")),
        ("{x:%s}", Ok("1709337606")),
        ("{x:%n%t%%}", Ok("\n\t%")),
        ("{x:%-d %_d %0e %-m %-H}", Ok("2  2 02 3 1")),
        ("{x:%^a %^B %#a %#p %^p}", Ok("SAT MARCH SAT am AM")),
        ("{x:%5Y %-5Y %_5Y %05Y %3j %-j}", Ok("02024  2024  2024 02024 062 62")),
        ("{x:%10a %-10a %010a %_10d %-10d}", Ok("       Sat        Sat 0000000Sat          2          2")),
        ("{x:%Ey %Od %OB %Oh %Ex}", Ok("24 02 March Mar 03/02/24")),
        ("{x:%Ea %Ej %OY %Q %q %:z %+ %i}", Ok("%Ea %Ej %OY %Q %q %:z %+ %i")),
        ("{x:%-z %10z %10Z %^Z %010Z}", Ok("              0000000000")),
        ("{x:%5 %}", Ok("  %5 %")),
        ("{x:%d\u{0}b}", Ok("02")),
        ("{x:%10f %-f %^f %5%}", Ok("      %10f %-f %^F     %")),
        ("{x:%#5Eh}", Ok("%#5EH")),
        ("{x:%E}", Ok("%E")),
        ("{x:%1023Y}", Ok("000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002024")),
        ("{x:%1024Y}", Ok("0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002024")),
        ("{x:%2000Y}", Ok("00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002024")),
        ("{x:%5000Y}", Ok("")),
        ("{x:%15s %015s %-15s}", Ok("     1709337606 000001709337606      1709337606")),
        ("{x:%#10Q}", Ok("     %#10Q")),
        ("{x:%^5é}", Ok(" %^5É")),
        ("{x:%f}", Ok("000123")),
        ("{x:%%f %%%z}", Ok("%f %+0100")),
        ("{x:at %Hh}", Ok("at 01h")),
    ]);
    }

    #[test]
    fn str_and_repr_of_values() {
        plain(Value::None, "UTC", "None", "None");
        plain(Value::Bool(true), "UTC", "True", "True");
        plain(Value::Bool(false), "UTC", "False", "False");
        plain(Value::Int(-5), "UTC", "-5", "-5");
        plain(
            Value::Int(i64::MIN),
            "UTC",
            "-9223372036854775808",
            "-9223372036854775808",
        );
        plain(Value::Float(2.5), "UTC", "2.5", "2.5");
        plain(Value::Float(1e+16), "UTC", "1e+16", "1e+16");
        plain(Value::Float(1e-05), "UTC", "1e-05", "1e-05");
        plain(Value::Float(-0.0), "UTC", "-0.0", "-0.0");
        plain(Value::Float(0.1), "UTC", "0.1", "0.1");
        plain(Value::Float(f64::INFINITY), "UTC", "inf", "inf");
        plain(Value::Float(f64::NAN), "UTC", "nan", "nan");
        plain(Value::Float(2.0), "UTC", "2.0", "2.0");
        plain(s("it's"), "UTC", "it's", "\"it's\"");
        plain(s("say \"hi\""), "UTC", "say \"hi\"", "'say \"hi\"'");
        plain(
            s("both ' and \""),
            "UTC",
            "both ' and \"",
            "'both \\' and \"'",
        );
        plain(
            s("tab\there\nnl\r\u{0}\u{7f}\u{80} \u{ad} é ☃ \u{200b} 😀 \u{feff} \\"),
            "UTC",
            "tab\there\nnl\r\u{0}\u{7f}\u{80} \u{ad} é ☃ \u{200b} 😀 \u{feff} \\",
            "'tab\\there\\nnl\\r\\x00\\x7f\\x80\\xa0\\xad é ☃ \\u200b 😀 \\ufeff \\\\'",
        );
        plain(Value::Bytes(b"'".to_vec()), "UTC", "b\"'\"", "b\"'\"");
        plain(Value::Bytes(b"'\"".to_vec()), "UTC", "b'\\'\"'", "b'\\'\"'");
        plain(Value::Bytes(b"\"".to_vec()), "UTC", "b'\"'", "b'\"'");
        plain(
            Value::Bytes(b"/usr/bin/perl -e print\xff\xfe'\\".to_vec()),
            "UTC",
            "b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"",
            "b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"",
        );
        plain(
            Value::Bytes(b"\x09\x0a\x0d\x00\x1f\x7f\x80 ~".to_vec()),
            "UTC",
            "b'\\t\\n\\r\\x00\\x1f\\x7f\\x80 ~'",
            "b'\\t\\n\\r\\x00\\x1f\\x7f\\x80 ~'",
        );
        plain(
            Value::Uuid(BOOT),
            "UTC",
            "9ec1eb60-c72a-2052-86d6-14fc429eb4b9",
            "UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9')",
        );
        plain(Value::List(vec![s("a'b"), Value::Int(3), Value::None, Value::Bytes(b"\x01'".to_vec()), Value::List(vec![s("x")]), Value::Float(2.0), Value::Bool(true), Value::Uuid(BOOT), Value::Delta(5)]), "UTC", "[\"a'b\", 3, None, b\"\\x01'\", ['x'], 2.0, True, UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'), datetime.timedelta(microseconds=5)]", "[\"a'b\", 3, None, b\"\\x01'\", ['x'], 2.0, True, UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'), datetime.timedelta(microseconds=5)]");
        plain(Value::List(vec![]), "UTC", "[]", "[]");
        plain(Value::Delta(0), "UTC", "0:00:00", "datetime.timedelta(0)");
        plain(
            Value::Delta(5000000),
            "UTC",
            "0:00:05",
            "datetime.timedelta(seconds=5)",
        );
        plain(
            Value::Delta(93784000005),
            "UTC",
            "1 day, 2:03:04.000005",
            "datetime.timedelta(days=1, seconds=7384, microseconds=5)",
        );
        plain(
            Value::Delta(-1),
            "UTC",
            "-1 day, 23:59:59.999999",
            "datetime.timedelta(days=-1, seconds=86399, microseconds=999999)",
        );
        plain(
            Value::Delta(-86400000000),
            "UTC",
            "-1 day, 0:00:00",
            "datetime.timedelta(days=-1)",
        );
        plain(
            Value::Delta(172800000000),
            "UTC",
            "2 days, 0:00:00",
            "datetime.timedelta(days=2)",
        );
        plain(
            Value::Delta(i64::MIN),
            "UTC",
            "-106751992 days, 19:59:05.224192",
            "datetime.timedelta(days=-106751992, seconds=71945, microseconds=224192)",
        );
        plain(
            Value::Monotonic(5000000, BOOT),
            "UTC",
            "(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))",
            "(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))",
        );
        plain(Value::Time(1709337606000123), "UTC", "2024-03-02 00:00:06.000123+00:00", "datetime.datetime(2024, 3, 2, 0, 0, 6, 123, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))");
        plain(Value::Time(1709337606000000), "UTC", "2024-03-02 00:00:06+00:00", "datetime.datetime(2024, 3, 2, 0, 0, 6, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))");
        plain(Value::Time(1709337600000000), "UTC", "2024-03-02 00:00:00+00:00", "datetime.datetime(2024, 3, 2, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))");
        plain(Value::Time(1709337606000123), "Europe/Paris", "2024-03-02 01:00:06.000123+01:00", "datetime.datetime(2024, 3, 2, 1, 0, 6, 123, tzinfo=datetime.timezone(datetime.timedelta(seconds=3600), 'CET'))");
        plain(Value::Time(1720000000000000), "Europe/Paris", "2024-07-03 11:46:40+02:00", "datetime.datetime(2024, 7, 3, 11, 46, 40, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200), 'CEST'))");
        plain(Value::Time(1709337606000123), "America/New_York", "2024-03-01 19:00:06.000123-05:00", "datetime.datetime(2024, 3, 1, 19, 0, 6, 123, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400), 'EST'))");
        plain(Value::Time(1720000000000000), "America/New_York", "2024-07-03 05:46:40-04:00", "datetime.datetime(2024, 7, 3, 5, 46, 40, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=72000), 'EDT'))");
        plain(Value::Time(1709337606000123), "Asia/Kolkata", "2024-03-02 05:30:06.000123+05:30", "datetime.datetime(2024, 3, 2, 5, 30, 6, 123, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800), 'IST'))");
        plain(Value::Time(1720000000000000), "Asia/Kolkata", "2024-07-03 15:16:40+05:30", "datetime.datetime(2024, 7, 3, 15, 16, 40, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800), 'IST'))");
        plain(Value::Time(-2208988800000000), "Europe/Paris", "1900-01-01 00:09:21+00:09:21", "datetime.datetime(1900, 1, 1, 0, 9, 21, tzinfo=datetime.timezone(datetime.timedelta(seconds=561), 'PMT'))");
    }

    #[test]
    fn load_errors() {
        for (tpl, message) in [
            // structural
            ("{", "Single '{' encountered in format string"),
            ("}", "Single '}' encountered in format string"),
            ("a}b", "Single '}' encountered in format string"),
            ("x{", "Single '{' encountered in format string"),
            ("{x", "expected '}' before end of string"),
            ("{x:>5", "unmatched '{' in format spec"),
            (
                "{x!",
                "end of string while looking for conversion specifier",
            ),
            ("{x!r", "unmatched '{' in format spec"),
            ("{x!}", "unmatched '{' in format spec"),
            ("{x!rr}", "expected ':' after conversion specifier"),
            ("{x!x}", "Unknown conversion specifier x"),
            ("{x!é}", "Unknown conversion specifier \\xe9"),
            ("{x! }", "Unknown conversion specifier \\x20"),
            ("{x!}}", "Unknown conversion specifier }"),
            ("{x!:}", "Unknown conversion specifier :"),
            ("{}", "Format string contains positional fields"),
            ("{0}", "Format string contains positional fields"),
            ("{00}", "Format string contains positional fields"),
            ("{:>5}", "Format string contains positional fields"),
            ("{!r}", "Format string contains positional fields"),
            ("{٣}", "Format string contains positional fields"),
            (
                "{99999999999999999999}",
                "Too many decimal digits in format string",
            ),
            (
                "{99999999999999999999a}",
                "Too many decimal digits in format string",
            ),
            ("{a{b}c}", "unexpected '{' in field name"),
            ("{x:{i:{i}}}", "Max string recursion exceeded"),
            ("{x:{}}", "Format string contains positional fields"),
            ("{x:{y}", "unmatched '{' in format spec"),
            ("{x:}}", "Single '}' encountered in format string"),
            ("{x:zz}", "Unknown format code 'z' for object of type 'str'"),
            (
                "{x!r:d}",
                "Unknown format code 'd' for object of type 'str'",
            ),
            ("{x!s:+}", "Sign not allowed in string format specifier"),
            (
                "{x!a:=5}",
                "'=' alignment not allowed in string format specifier",
            ),
            ("{x:,_}", "Cannot specify both ',' and '_'."),
            ("{x:_,}", "Cannot specify both ',' and '_'."),
            ("{x:.}", "Format specifier missing precision"),
            (
                "{x:1000000000000000000000}",
                "Too many decimal digits in format string",
            ),
            (
                "{i:5.2d}",
                "Precision not allowed in integer format specifier",
            ),
            (
                "{i:.2c}",
                "Precision not allowed in integer format specifier",
            ),
            ("{x:,s}", "Cannot specify ',' with 's'."),
            ("{x:,c}", "Cannot specify ',' with 'c'."),
            (
                "{x:3#<z+}",
                "Invalid format specifier '3#<z+' for object of type 'str'",
            ),
            (
                "{i:+c}",
                "Sign not allowed with integer format specifier 'c'",
            ),
            (
                "{i:#c}",
                "Alternate form (#) not allowed with integer format specifier 'c'",
            ),
            ("{i:_c}", "Cannot specify '_' with 'c'."),
            ("{i:,n}", "Cannot specify ',' with 'n'."),
        ] {
            parse_err(tpl, message);
        }
    }

    #[test]
    fn fields_ranges_and_literals() {
        let t = Template::parse("{b} {a:>{w}} {b!r} {a:{b}} {w:%H}").unwrap();
        assert_eq!(t.fields(), ["b", "a", "w"]);
        assert_eq!(t.field_ranges(), [(1, 2), (5, 6), (9, 10)]);
        assert_eq!(t.as_literal(), None);
        let t = Template::parse("a {{b}} c").unwrap();
        assert_eq!(t.as_literal(), Some("a {b} c"));
        assert!(t.fields().is_empty());
        assert_eq!(Template::parse("").unwrap().as_literal(), Some(""));
        let t = Template::parse("x {{{é} y").unwrap();
        assert_eq!(t.fields(), ["é"]);
        assert_eq!(t.field_ranges(), [(5, 7)]);
    }

    #[test]
    fn error_ranges_and_help() {
        let e = Template::parse("ab {} cd").unwrap_err();
        assert_eq!((e.start, e.end), (3, 5));
        assert_eq!(e.help, "name the field: {FIELD}");
        let e = Template::parse("ab } cd").unwrap_err();
        assert_eq!((e.start, e.end), (3, 4));
        let e = Template::parse("x {a!q} y").unwrap_err();
        assert_eq!(
            (e.start, e.end, e.message.as_str()),
            (4, 6, "Unknown conversion specifier q")
        );
        let e = Template::parse("x {a:zz} y").unwrap_err();
        assert_eq!((e.start, e.end), (5, 7));
        let e = Template::parse("x {a.b} y").unwrap_err();
        assert_eq!((e.start, e.end), (4, 6));
        assert_eq!(e.help, "a field is a plain name: write {a}");
        let e = Template::parse("x {a[0]} y").unwrap_err();
        assert_eq!((e.start, e.end), (4, 7));
        let e = Template::parse("{a:70000}").unwrap_err();
        assert_eq!(e.message, "format width or precision above 65535");
        // A strftime spec is left to the value: fine for a datetime.
        assert!(Template::parse("{a:%H:%M}").is_ok());
        assert!(Template::parse("{a:=5}").is_ok());
        assert!(Template::parse("{a:.2%}").is_ok());
    }

    #[test]
    fn render_errors_name_the_field_and_write_nothing() {
        let t = Template::parse("a {x} {y:d} b").unwrap();
        let vals = [s("1"), s("2")];
        let mut out = String::from("keep");
        let e = t
            .render(
                &|k| vals.get(k),
                Missing::PythonNone,
                &TimeZone::UTC,
                &mut out,
            )
            .unwrap_err();
        assert_eq!(e.field, "y");
        assert_eq!(
            e.message,
            "Unknown format code 'd' for object of type 'str'"
        );
        assert_eq!(out, "keep");
        render_err(
            "{x:>5}",
            &[],
            "UTC",
            "unsupported format string passed to NoneType.__format__",
        );
        render_err(
            "{x:{w}}",
            &[("x", s("a")), ("w", Value::Int(70000))],
            "UTC",
            "format width or precision above 65535",
        );
        render_err(
            "{t:%Y}",
            &[("t", Value::Time(i64::MAX))],
            "UTC",
            "the time 9223372036854775807 µs after the epoch is out of Python's datetime range",
        );
        ok(
            "{t}",
            &[("t", Value::Time(i64::MAX))],
            "UTC",
            "9223372036854775807",
        );
    }

    #[test]
    fn missing_fields_render_empty_in_native_mode() {
        let empty = |tpl: &str| {
            render(tpl, &[("w", Value::Int(3))], &TimeZone::UTC, Missing::Empty).unwrap()
        };
        assert_eq!(empty("[{x}]"), "[]");
        assert_eq!(empty("[{x!r}]"), "[]");
        assert_eq!(empty("[{x:>5}]"), "[     ]");
        assert_eq!(empty("[{x:*^4}]"), "[****]");
        assert_eq!(empty("[{x:05d}]"), "[00000]");
        assert_eq!(empty("[{x:%H:%M}]"), "[]");
        assert_eq!(empty("[{x:>{w}}]"), "[   ]");
        assert_eq!(empty("[{w:>{x}}]"), "[3]");
        assert_eq!(
            render("[{x}]", &[], &TimeZone::UTC, Missing::PythonNone).unwrap(),
            "[None]"
        );
    }

    #[test]
    fn plain_uses_the_system_zone_only_for_datetimes() {
        assert_eq!(render_plain(&Value::Int(3)), "3");
        assert_eq!(
            render_plain(&Value::Uuid(BOOT)),
            "9ec1eb60-c72a-2052-86d6-14fc429eb4b9"
        );
        assert_eq!(render_plain(&Value::Delta(5_000_000)), "0:00:05");
    }

    #[test]
    fn no_panic_on_any_template() {
        // A deterministic pseudo-random walk over the characters that
        // matter to the parser and the renderers.
        let alphabet: Vec<char> = "{}{}!:rsa0159<>^=+-_,.#%zcdxXbeEfgGn[]éY{{}}\u{663}\0 "
            .chars()
            .collect();
        let values = [
            Value::None,
            Value::Bool(true),
            Value::Int(-1234),
            Value::Int(i64::MIN),
            Value::Float(-0.5),
            Value::Float(f64::NAN),
            s("é☃"),
            Value::Bytes(vec![0, 39, 255]),
            Value::Time(1709337606000123),
            Value::Time(i64::MIN),
            Value::Delta(i64::MIN),
            Value::Uuid(BOOT),
            Value::Monotonic(-1, BOOT),
            Value::List(vec![s("'\""), Value::None]),
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let tz = TimeZone::UTC;
        for _ in 0..20_000 {
            let len = 1 + next(10);
            let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let Ok(t) = Template::parse(&text) else {
                continue;
            };
            let picks: Vec<&Value> = t
                .fields()
                .iter()
                .map(|_| &values[next(values.len())])
                .collect();
            for missing in [Missing::PythonNone, Missing::Empty] {
                let mut out = String::new();
                let _ = t.render(&|k| picks.get(k).copied(), missing, &tz, &mut out);
                let _ = t.render(&|_| None, missing, &tz, &mut out);
            }
        }
    }
}
