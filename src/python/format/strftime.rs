//! `datetime.__format__`, which is `strftime`: Python's own `%z`, `%Z` and
//! `%f`, then glibc's `wcsftime` in the C locale (flags `_ - 0 ^ #`,
//! widths, `E`/`O` modifiers, unknown directives copied as written,
//! Python's output-size limit).

use std::borrow::Cow;
use std::fmt::Write as _;

use jiff::tz::TimeZone;

use super::repr::{local_time, write_offset, CaseSink, Count, Sink, Tm};

/// `datetime.__format__(spec)` for a non-empty spec.
pub(super) fn strftime(spec: &str, us: i64, tz: &TimeZone, out: &mut String) -> Result<(), String> {
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
            let d = Directive::read(b, &mut i);
            let Some(ch) = fmt[i..].chars().next() else {
                // `%` and flags at the end of the format are copied.
                self.text(d.width, d.pad, &fmt[pct..], upper_if(d.upcase))?;
                break;
            };
            i += ch.len_utf8();
            let bad: &str = if ch == '%' { "%" } else { &fmt[pct..i] };
            if !d.allows(ch) {
                // glibc applies `#` to %b and %h before it checks the
                // modifier.
                let upper = d.upcase || (d.change_case && matches!(ch, 'b' | 'h'));
                self.text(d.width, d.pad, bad, upper_if(upper))?;
                continue;
            }
            self.conversion(ch, &d, bad)?;
        }
        Ok(())
    }

    /// The conversion `%ch`: names, composite formats and characters here,
    /// numbers in `numeric`. `bad` is the directive as written.
    fn conversion(&mut self, ch: char, d: &Directive, bad: &str) -> Result<(), Overflow> {
        let (width, pad, upcase) = (d.width, d.pad, d.upcase);
        let tm = self.tm;
        let wday = usize::try_from(tm.wday).unwrap_or(0) % 7;
        let month = usize::try_from(tm.month - 1).unwrap_or(0) % 12;
        let ampm = if tm.hour > 11 { "PM" } else { "AM" };
        let name_case = upper_if(upcase || d.change_case);
        match ch {
            '%' => {
                self.pad(width, pad, 1)?;
                self.s.put_char('%');
            }
            'a' => self.text(width, pad, &WEEKDAYS[wday][..3], name_case)?,
            'A' => self.text(width, pad, WEEKDAYS[wday], name_case)?,
            'b' | 'h' => self.text(width, pad, &MONTHS[month][..3], name_case)?,
            'B' => self.text(width, pad, MONTHS[month], name_case)?,
            'c' => self.sub("%a %b %e %H:%M:%S %Y", width, pad, upcase)?,
            'D' | 'x' => self.sub("%m/%d/%y", width, pad, upcase)?,
            'F' => self.sub("%Y-%m-%d", width, pad, upcase)?,
            'r' => self.sub("%I:%M:%S %p", width, pad, upcase)?,
            'R' => self.sub("%H:%M", width, pad, upcase)?,
            'T' | 'X' => self.sub("%H:%M:%S", width, pad, upcase)?,
            'n' => {
                self.pad(width, pad, 1)?;
                self.s.put_char('\n');
            }
            't' => {
                self.pad(width, pad, 1)?;
                self.s.put_char('\t');
            }
            'p' => {
                let case = if d.change_case {
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
            _ => self.numeric(ch, d, bad)?,
        }
        Ok(())
    }

    /// The numeric conversion `%ch`; an unknown one is copied as written
    /// (`bad`).
    fn numeric(&mut self, ch: char, d: &Directive, bad: &str) -> Result<(), Overflow> {
        let (width, pad) = (d.width, d.pad);
        let tm = self.tm;
        let h12 = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
        let spacepad = if pad == Some(b'0') || pad == Some(b'-') {
            pad
        } else {
            Some(b'_')
        };
        let num = |d: u64| d.max(width.unwrap_or(0));
        match ch {
            'C' => self.number(num(1), tm.year.div_euclid(100), pad, width),
            'd' => self.number(num(2), tm.day, pad, width),
            'e' => self.number(num(2), tm.day, spacepad, width),
            'H' => self.number(num(2), tm.hour, pad, width),
            'I' => self.number(num(2), h12, pad, width),
            'k' => self.number(num(2), tm.hour, spacepad, width),
            'l' => self.number(num(2), h12, spacepad, width),
            'j' => self.number(num(3), tm.yday + 1, pad, width),
            'M' => self.number(num(2), tm.minute, pad, width),
            'm' => self.number(num(2), tm.month, pad, width),
            'S' => self.number(num(2), tm.second, pad, width),
            'u' => self.number(num(1), (tm.wday + 6) % 7 + 1, pad, width),
            'U' => self.number(num(2), (tm.yday - tm.wday + 7) / 7, pad, width),
            'V' => self.number(num(2), tm.iso_week, pad, width),
            'g' => self.number(num(2), tm.iso_year.rem_euclid(100), pad, width),
            'G' => self.number(num(1), tm.iso_year, pad, width),
            'W' => self.number(num(2), (tm.yday - (tm.wday + 6) % 7 + 7) / 7, pad, width),
            'w' => self.number(num(1), tm.wday, pad, width),
            'Y' => self.number(num(1), tm.year, pad, width),
            'y' => self.number(num(2), tm.year.rem_euclid(100), pad, width),
            's' => self.number(1, tm.epoch, pad, width),
            _ => self.text(width, pad, bad, upper_if(d.upcase)),
        }
    }
}

fn upper_if(yes: bool) -> Case {
    if yes {
        Case::Upper
    } else {
        Case::Keep
    }
}

/// What comes between `%` and the conversion character: flags, width and
/// modifier.
struct Directive {
    /// The last of the flags `_`, `-` and `0`.
    pad: Option<u8>,
    /// The flag `^`.
    upcase: bool,
    /// The flag `#`.
    change_case: bool,
    width: Option<u64>,
    /// `E` or `O`.
    modifier: Option<u8>,
}

impl Directive {
    /// Reads the directive at `b[*i..]`, leaving `*i` on the conversion
    /// character.
    fn read(b: &[u8], i: &mut usize) -> Directive {
        let mut d = Directive {
            pad: None,
            upcase: false,
            change_case: false,
            width: None,
            modifier: None,
        };
        while *i < b.len() {
            match b[*i] {
                c @ (b'_' | b'-' | b'0') => d.pad = Some(c),
                b'^' => d.upcase = true,
                b'#' => d.change_case = true,
                _ => break,
            }
            *i += 1;
        }
        if *i < b.len() && b[*i].is_ascii_digit() {
            let mut w: u64 = 0;
            const MAX: u64 = i32::MAX as u64;
            while *i < b.len() && b[*i].is_ascii_digit() {
                let digit = u64::from(b[*i] - b'0');
                w = if w > MAX / 10 || (w == MAX / 10 && digit > MAX % 10) {
                    MAX
                } else {
                    w * 10 + digit
                };
                *i += 1;
            }
            d.width = Some(w);
        }
        if *i < b.len() && (b[*i] == b'E' || b[*i] == b'O') {
            d.modifier = Some(b[*i]);
            *i += 1;
        }
        d
    }

    /// The modifier, if any, is allowed on the conversion `ch`.
    fn allows(&self, ch: char) -> bool {
        match self.modifier {
            None => true,
            Some(b'E') => "cnprstuxyzCPRTXYZ%".contains(ch),
            Some(_) => "bdeghjklmnprstuwyzBCGHIMPRSTUVWZ%".contains(ch),
        }
    }
}
