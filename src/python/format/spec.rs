//! The format-spec mini-language (`Python/formatter_unicode.c`): the raw
//! spec, and its meaning for `str`, `int` and `float`.

use super::fields::code_text;
use super::unicode::decimal_value;
use super::MAX_WIDTH;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct RawSpec {
    pub(super) fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    z: bool,
    alt: bool,
    pub(super) zero: bool,
    pub(super) width: Option<u64>,
    grouping: Option<char>,
    pub(super) precision: Option<u64>,
    pub(super) ty: Option<char>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RawErr {
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
pub(super) fn parse_raw(spec: &str) -> Result<RawSpec, RawErr> {
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
pub(super) enum Kind {
    Str,
    Int,
    Float,
}

/// A spec resolved for one type of value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fmt {
    pub(super) fill: char,
    pub(super) align: char,
    pub(super) sign: Option<char>,
    pub(super) z: bool,
    pub(super) alt: bool,
    pub(super) width: usize,
    pub(super) grouping: Option<char>,
    pub(super) precision: Option<usize>,
    pub(super) ty: char,
}

/// The rest of `parse_internal_render_format_spec` and the checks of
/// `format_string_internal`, `format_long_internal` and
/// `format_float_internal`, in CPython's order.
pub(super) fn resolve(
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
    check_kind(&r, kind, ty, align, tname)?;
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

/// Whether the presentation type `ty` suits the kind of value, then the
/// other checks of `format_string_internal` or `format_long_internal`.
fn check_kind(r: &RawSpec, kind: Kind, ty: char, align: char, tname: &str) -> Result<(), String> {
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
            check_str(r, align)?;
        }
        Kind::Int => match ty {
            'b' | 'c' | 'd' | 'o' | 'x' | 'X' | 'n' => check_int(r, ty)?,
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' => {}
            _ => return Err(unknown()),
        },
        Kind::Float => match ty {
            '\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%' => {}
            _ => return Err(unknown()),
        },
    }
    Ok(())
}

/// The checks of `format_string_internal`.
fn check_str(r: &RawSpec, align: char) -> Result<(), String> {
    if let Some(s) = r.sign {
        return Err(if s == ' ' {
            "Space not allowed in string format specifier".into()
        } else {
            "Sign not allowed in string format specifier".into()
        });
    }
    if r.z {
        return Err("Negative zero coercion (z) not allowed in string format specifier".into());
    }
    if r.alt {
        return Err("Alternate form (#) not allowed in string format specifier".into());
    }
    if align == '=' {
        return Err("'=' alignment not allowed in string format specifier".into());
    }
    Ok(())
}

/// The checks of `format_long_internal` for an integer presentation type.
fn check_int(r: &RawSpec, ty: char) -> Result<(), String> {
    if r.precision.is_some() {
        return Err("Precision not allowed in integer format specifier".into());
    }
    if r.z {
        return Err("Negative zero coercion (z) not allowed in integer format specifier".into());
    }
    if ty == 'c' && r.sign.is_some() {
        return Err("Sign not allowed with integer format specifier 'c'".into());
    }
    if ty == 'c' && r.alt {
        return Err("Alternate form (#) not allowed with integer format specifier 'c'".into());
    }
    Ok(())
}

pub(super) fn is_float_type(ty: char) -> bool {
    matches!(ty, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%')
}
