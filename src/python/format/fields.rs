//! Parsing the replacement fields, as `Objects/stringlib/unicode_format.h`
//! does: literal text, `{name!conv:spec}`, nested fields in a spec, and
//! Python's load-time error messages.

use std::collections::HashMap;

use super::spec::{parse_raw, resolve, Kind};
use super::unicode::decimal_value;
use super::{Conv, FieldRef, Piece, SpecSrc, TemplateError, MAX_WIDTH};

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

pub(super) struct Parser<'t> {
    pub(super) text: &'t str,
    pub(super) fields: Vec<String>,
    pub(super) ranges: Vec<(usize, usize)>,
    pub(super) index: HashMap<&'t str, usize>,
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
    pub(super) fn markup(
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
        let (name, term) = self.scan_name(open, end)?;
        let mut p = name.1 + 1;
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
        let (spec, next) = self.scan_spec(open, end, p)?;
        Ok(RawField {
            name,
            conv,
            spec: Some(spec),
            next,
        })
    }

    /// The name of the field opened at `open`, and the character that ends
    /// it: `}`, `:` or `!`.
    fn scan_name(&self, open: usize, end: usize) -> Result<((usize, usize), u8), TemplateError> {
        let b = self.text.as_bytes();
        let name_start = open + 1;
        let mut p = name_start;
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
                b'}' | b':' | b'!' => return Ok(((name_start, p - 1), c)),
                _ => {}
            }
        }
        Err(terr(
            open,
            end,
            "expected '}' before end of string",
            HELP_OPEN,
        ))
    }

    /// The format spec starting at `spec_start`, up to the `}` that closes
    /// the field opened at `open`, with nested fields counted: its range,
    /// whether it holds fields, and the index just past the `}`.
    fn scan_spec(
        &self,
        open: usize,
        end: usize,
        spec_start: usize,
    ) -> Result<((usize, usize, bool), usize), TemplateError> {
        let b = self.text.as_bytes();
        let mut p = spec_start;
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
                    return Ok(((spec_start, p - 1, expand), p));
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
pub(super) fn code_text(c: char) -> String {
    let n = u32::from(c);
    if n > 32 && n < 127 {
        c.to_string()
    } else {
        format!("\\x{n:x}")
    }
}
