//! Values in `.pyr` notation: string, field-name and regex literals,
//! durations, and constant values, as `pyrusec migrate` writes them and
//! `pyrusec disasm` shows them.

use crate::syntax::pyr::is_identifier;
use crate::value::Value;
use std::fmt::Write as _;

/// A string literal, with escapes.
pub fn quote(s: &str) -> String {
    quoted(s, '"')
}

fn quoted(s: &str, q: char) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// A field name: as is when it is an identifier, else between backquotes.
pub fn field_name(s: &str) -> String {
    if is_identifier(s) {
        s.to_string()
    } else {
        backquoted(s)
    }
}

/// A name between backquotes, with the escapes of strings.
pub fn backquoted(s: &str) -> String {
    quoted(s, '`')
}

/// A regex literal for a pattern given as a string: each bare `/` becomes
/// `\/`; `None` if the pattern cannot be written between slashes.
pub fn regex_literal(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() + 4);
    out.push('/');
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        if c.is_control() && c != '\t' {
            return None;
        }
        match c {
            '\\' => {
                let n = it.next()?;
                if n.is_control() && n != '\t' {
                    return None;
                }
                out.push('\\');
                out.push(n);
            }
            '/' => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    out.push('/');
    Some(out)
}

/// Seconds in the largest exact unit: 3600 → `1h`, 63 → `63s`.
pub fn duration(seconds: i64) -> String {
    const UNITS: [(i64, &str); 4] = [(604_800, "w"), (86_400, "d"), (3_600, "h"), (60, "m")];
    if seconds > 0 {
        for (n, u) in UNITS {
            if seconds % n == 0 {
                return format!("{}{u}", seconds / n);
            }
        }
    }
    format!("{seconds}s")
}

/// A float as `.pyr` writes it.
pub fn float(f: f64) -> String {
    format!("{f:?}")
}

/// A constant value as a `.pyr` literal: `"text"`, `3`, `true`, `null`,
/// `[…]`, a duration (`1h`). Values no literal writes (times, bytes,
/// UUIDs) are shown as the string Python's `str()` gives.
pub fn value(v: &Value) -> String {
    match v {
        Value::None => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float(*f),
        Value::Str(s) => quote(s),
        Value::Delta(us) if us % 1_000_000 == 0 => duration(us / 1_000_000),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", items.join(", "))
        }
        other => quote(&crate::python::format::render_str(
            other,
            &jiff::tz::TimeZone::UTC,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_pyr_literals() {
        assert_eq!(value(&Value::Str("127.0.0.1".into())), "\"127.0.0.1\"");
        assert_eq!(value(&Value::Str("a\"b\\\n".into())), r#""a\"b\\\n""#);
        assert_eq!(value(&Value::Int(86400)), "86400");
        assert_eq!(value(&Value::None), "null");
        assert_eq!(value(&Value::Bool(true)), "true");
        assert_eq!(value(&Value::Delta(3_600_000_000)), "1h");
        assert_eq!(
            value(&Value::List(vec![Value::Str("sshd".into()), Value::Int(4)])),
            "[\"sshd\", 4]"
        );
        assert_eq!(field_name("clientIP"), "clientIP");
        assert_eq!(field_name("odd name"), "`odd name`");
    }
}
