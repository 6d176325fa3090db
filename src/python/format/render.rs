//! Rendering a parsed template: each field formatted with its spec, and the
//! numbers (`int`, `float`, `Python/pystrtod.c`'s short repr and fixed or
//! exponent forms) written as Python writes them.

use std::fmt::{self, Write as _};

use jiff::tz::TimeZone;

use super::repr::{write_str_value, Count, Take, Text};
use super::spec::{is_float_type, parse_raw, resolve, Fmt, Kind, RawErr, RawSpec};
use super::strftime::strftime;
use super::{Conv, FieldRef, Missing, Piece, RenderError, SpecSrc, MAX_WIDTH};
use crate::value::Value;

static NONE: Value = Value::None;

pub(super) struct Ctx<'a, 'v> {
    pub(super) lookup: &'a dyn Fn(usize) -> Option<&'v Value>,
    pub(super) missing: Missing,
    pub(super) tz: &'a TimeZone,
    pub(super) fields: &'a [String],
}

type Spec<'s> = Option<(&'s str, Result<RawSpec, RawErr>)>;

impl Ctx<'_, '_> {
    pub(super) fn pieces(&self, pieces: &[Piece], out: &mut String) -> Result<(), RenderError> {
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
pub(super) fn float_short(
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
    let precision = precision as i64;
    let mut dig = Buf::new();
    let mut decpt = dtoa(a, code, precision, &mut dig);
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
    let layout = Layout::new(code, precision, add_dot0, alt, digits_len, decpt);
    if negative {
        out.push_str("-");
    }
    layout.write_digits(digits, out);
    if !alt {
        out.pop_dot();
    }
    if let Some(exp) = layout.exp {
        let _ = write!(
            out,
            "{}{}{:02}",
            if upper { 'E' } else { 'e' },
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    }
}

/// The digits of `a` (finite, not negative) for `code` and the position of
/// the decimal point, as `_Py_dg_dtoa` gives them (shortest round-trip
/// digits for `r`, else correctly rounded ones), except that trailing
/// zeros may remain.
fn dtoa(a: f64, code: char, precision: i64, dig: &mut Buf) -> i64 {
    let mut raw = Buf::new();
    if code == 'f' {
        let _ = write!(raw, "{:.*}", precision as usize, a);
        let s = raw.as_str();
        let (int_part, frac) = s.split_once('.').unwrap_or((s, ""));
        let mut decpt = int_part.len() as i64;
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
        return decpt;
    }
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
    exp.parse::<i64>().unwrap_or(0) + 1
}

/// Where `format_float_short` puts the digits: the output is
/// `[sign]<zeros><digits><zeros>[exponent]`, positions counted in digits
/// from the first digit, with one decimal point.
struct Layout {
    /// The decimal point goes before digit `decpt`.
    decpt: i64,
    /// The zero-padded digits span `vdigits_start..vdigits_end`.
    vdigits_start: i64,
    vdigits_end: i64,
    /// The exponent, in the exponent form.
    exp: Option<i64>,
}

impl Layout {
    /// The `switch (format_code)` of `format_float_short` and the padding it
    /// implies.
    fn new(
        code: char,
        precision: i64,
        add_dot0: bool,
        alt: bool,
        digits_len: i64,
        decpt: i64,
    ) -> Layout {
        let mut decpt = decpt;
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
        let mut exp = None;
        if use_exp {
            exp = Some(decpt - 1);
            decpt = 1;
        }
        let vdigits_start = if decpt <= 0 { decpt - 1 } else { 0 };
        if !use_exp && add_dot0 {
            vdigits_end = vdigits_end.max(decpt + 1);
        } else {
            vdigits_end = vdigits_end.max(decpt);
        }
        Layout {
            decpt,
            vdigits_start,
            vdigits_end,
            exp,
        }
    }

    /// The digits with their zeros and decimal point.
    fn write_digits(&self, digits: &str, out: &mut Buf) {
        let decpt = self.decpt;
        let digits_len = digits.len() as i64;
        if decpt <= 0 {
            out.push_zeros(decpt - self.vdigits_start);
            out.push_str(".");
            out.push_zeros(-decpt);
        } else {
            out.push_zeros(-self.vdigits_start);
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
            out.push_zeros(self.vdigits_end - decpt);
        } else {
            out.push_zeros(self.vdigits_end - digits_len);
        }
    }
}

/// A small text buffer on the stack that moves to the heap when full.
pub(super) struct Buf {
    arr: [u8; 96],
    len: usize,
    heap: Option<String>,
}

impl Buf {
    pub(super) fn new() -> Buf {
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

    pub(super) fn as_str(&self) -> &str {
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
