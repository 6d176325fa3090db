//! `str()`, `repr()` and `ascii()` of every [`Value`], and the local time
//! of a datetime.

use std::fmt::{self, Write as _};

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::render::{float_short, Buf};
use super::unicode::is_printable;
use crate::value::Value;

/// Where text goes: the output, or a counter of characters, …
pub(super) trait Sink {
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
pub(super) struct Count(pub(super) usize);

impl Sink for Count {
    fn put(&mut self, s: &str) {
        self.0 += s.chars().count();
    }
    fn put_char(&mut self, _: char) {
        self.0 += 1;
    }
}

/// Keeps the first `left` characters (`.precision` on text).
pub(super) struct Take<'a> {
    pub(super) out: &'a mut String,
    pub(super) left: usize,
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
pub(super) struct CaseSink<'a> {
    pub(super) inner: &'a mut dyn Sink,
    pub(super) upper: bool,
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
pub(super) enum Text<'a> {
    Str(&'a str),
    Plain(&'a Value),
    Repr(&'a Value),
    Ascii(&'a Value),
}

impl Text<'_> {
    pub(super) fn emit(&self, tz: &TimeZone, s: &mut dyn Sink) {
        match self {
            Text::Str(t) => s.put(t),
            Text::Plain(v) => write_str_value(v, tz, s),
            Text::Repr(v) => write_repr(v, tz, s),
            Text::Ascii(v) => write_repr(v, tz, &mut AsciiSink(s)),
        }
    }
}

pub(super) fn write_str_value(v: &Value, tz: &TimeZone, s: &mut dyn Sink) {
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

pub(super) fn write_repr(v: &Value, tz: &TimeZone, s: &mut dyn Sink) {
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
pub(super) struct Tm {
    pub(super) year: i64,
    pub(super) month: i64,
    pub(super) day: i64,
    pub(super) hour: i64,
    pub(super) minute: i64,
    pub(super) second: i64,
    pub(super) micro: i64,
    /// 0 is Sunday
    pub(super) wday: i64,
    /// 0 is January 1st
    pub(super) yday: i64,
    pub(super) iso_year: i64,
    pub(super) iso_week: i64,
    pub(super) epoch: i64,
    pub(super) offset: i32,
}

pub(super) fn local_time(us: i64, tz: &TimeZone) -> Option<(Tm, Timestamp)> {
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
pub(super) fn write_offset(off: i32, sep: &str, s: &mut dyn Sink) {
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
