//! Time formats of plain log files: a named format or a strftime-like
//! pattern, and where in a line the time is.

use jiff::fmt::strtime::BrokenDownTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// How far into a line its time is looked for, in bytes.
const TIME_SEARCH: usize = 256;

/// The named time formats: name, strftime formats tried in order, example.
pub const NAMED_FORMATS: &[(&str, &[&str], &str)] = &[
    (
        "clf",
        &["%d/%b/%Y:%H:%M:%S %z"],
        "10/Oct/2000:13:55:36 -0700 (nginx and Apache access logs; also named nginx, apache)",
    ),
    (
        "nginx-error",
        &["%Y/%m/%d %H:%M:%S"],
        "2000/10/10 13:55:36 (nginx error log, local time)",
    ),
    (
        "apache-error",
        &["%a %b %d %H:%M:%S%.f %Y"],
        "Tue Oct 10 13:55:36.123456 2000 (Apache error log, local time)",
    ),
    (
        "syslog",
        &["%b %e %H:%M:%S"],
        "Oct 10 13:55:36 (local time; the year is the current one, or the last one for a date ahead)",
    ),
    (
        "iso8601",
        &[
            "%Y-%m-%dT%H:%M:%S%.f%:z",
            "%Y-%m-%dT%H:%M:%S%.f%z",
            "%Y-%m-%dT%H:%M:%S%.fZ",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
        ],
        "2000-10-10T13:55:36.123+02:00 (with an offset or Z, else local time)",
    ),
    (
        "epoch",
        &["%s%.f"],
        "971185336.123 (seconds since 1970)",
    ),
];

/// A time format: a named one or a strftime-like pattern (`%d/%b/%Y:%H:%M:%S %z`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeFormat {
    /// As configured.
    pub written: String,
    patterns: Vec<String>,
}

impl TimeFormat {
    /// A named format or a pattern; `Err` says why it cannot read a time.
    pub fn new(written: &str) -> Result<TimeFormat, String> {
        let name = match written {
            "nginx" | "apache" => "clf",
            other => other,
        };
        if let Some((_, patterns, _)) = NAMED_FORMATS.iter().find(|(n, ..)| *n == name) {
            return Ok(TimeFormat {
                written: written.to_owned(),
                patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
            });
        }
        if !written.contains('%') {
            let names: Vec<&str> = NAMED_FORMATS.iter().map(|(n, ..)| *n).collect();
            return Err(format!(
                "`{written}` is neither a named time format ({}) nor a strftime pattern like \"%d/%b/%Y:%H:%M:%S %z\"",
                names.join(", ")
            ));
        }
        let f = TimeFormat {
            written: written.to_owned(),
            patterns: vec![written.to_owned()],
        };
        // The pattern must read back what it writes, with a date and a time.
        let sample = jiff::civil::date(2024, 11, 28)
            .at(13, 55, 36, 0)
            .to_zoned(TimeZone::UTC)
            .map_err(|e| e.to_string())?;
        let text = jiff::fmt::strtime::format(written, &sample)
            .map_err(|e| format!("`{written}` is not a time format: {e}"))?;
        let now = Timestamp::from_second(1_735_000_000).map_err(|e| e.to_string())?;
        match f.find(text.as_bytes(), &TimeZone::UTC, now) {
            Some(t) if t % 86_400_000_000 == (13 * 3600 + 55 * 60 + 36) * 1_000_000 => Ok(f),
            _ => Err(format!(
                "`{written}` cannot read a full time back (it writes \"{text}\" for 2024-11-28 13:55:36): \
                 it needs the date (%d, %b or %m, and %Y unless the year is left out) and the time (%H:%M:%S)"
            )),
        }
    }

    /// The time of `line`: the first place, in its first bytes, where a
    /// pattern reads one; µs since 1970. Times without an offset are in
    /// `tz`; a date without a year is in the year of `now`, or the one
    /// before when that puts it more than a day ahead.
    pub fn find(&self, line: &[u8], tz: &TimeZone, now: Timestamp) -> Option<i64> {
        let end = line.len().min(TIME_SEARCH);
        for start in 0..end {
            let c = line[start];
            if !c.is_ascii_alphanumeric() || (start > 0 && line[start - 1].is_ascii_alphanumeric())
            {
                continue;
            }
            for p in &self.patterns {
                if !first_fits(p, c) {
                    continue;
                }
                if let Ok((tm, _)) = BrokenDownTime::parse_prefix(p, &line[start..]) {
                    if let Some(t) = to_time(tm, p.ends_with('Z'), tz, now) {
                        return Some(t);
                    }
                }
            }
        }
        None
    }
}

/// Whether a time written by `pattern` can start with byte `c`.
fn first_fits(pattern: &str, c: u8) -> bool {
    let b = pattern.as_bytes();
    match (b.first(), b.get(1)) {
        (Some(b'%'), Some(b'a' | b'A' | b'b' | b'B' | b'h')) => c.is_ascii_alphabetic(),
        (Some(b'%'), Some(b'd' | b'm' | b'Y' | b'y' | b'H' | b's' | b'j')) => c.is_ascii_digit(),
        (Some(b'%'), _) => true,
        (Some(&lit), _) => lit == c,
        (None, _) => false,
    }
}

fn to_time(mut tm: BrokenDownTime, utc: bool, tz: &TimeZone, now: Timestamp) -> Option<i64> {
    if let Some(ts) = tm.timestamp() {
        let sub = i64::from(tm.subsec_nanosecond().unwrap_or(0)) / 1000;
        return Some(ts.as_microsecond().saturating_add(sub));
    }
    if tm.offset().is_some() {
        return tm.to_timestamp().ok().map(|t| t.as_microsecond());
    }
    let tz = if utc { &TimeZone::UTC } else { tz };
    let guess_year = tm.year().is_none();
    if !guess_year {
        let dt = tm.to_datetime().ok()?;
        return tz.to_timestamp(dt).ok().map(|t| t.as_microsecond());
    }
    let year = now.to_zoned(tz.clone()).year();
    for y in [year, year - 1] {
        tm.set_year(Some(y)).ok()?;
        let Ok(dt) = tm.to_datetime() else { continue };
        let t = tz.to_timestamp(dt).ok()?.as_microsecond();
        if t <= now.as_microsecond() + 86_400_000_000 {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().expect("timestamp").as_microsecond()
    }

    fn now() -> Timestamp {
        "2024-12-01T12:00:00Z".parse().expect("timestamp")
    }

    fn find(format: &str, line: &str) -> Option<i64> {
        TimeFormat::new(format)
            .expect("format")
            .find(line.as_bytes(), &TimeZone::UTC, now())
    }

    #[test]
    fn an_nginx_access_line_has_its_time_with_its_offset() {
        let line = r#"203.0.113.7 - - [10/Oct/2024:13:55:36 -0700] "GET /wp-login.php HTTP/1.1" 404 153 "-" "curl/8""#;
        let want = Some(at("2024-10-10T20:55:36Z"));
        assert_eq!(find("nginx", line), want);
        assert_eq!(find("%d/%b/%Y:%H:%M:%S %z", line), want);
    }

    #[test]
    fn named_formats_read_their_examples() {
        let cases = [
            (
                "nginx-error",
                "2024/10/10 13:55:36 [error] 12#12: *1 open() failed",
                "2024-10-10T13:55:36Z",
            ),
            (
                "apache-error",
                "[Thu Oct 10 13:55:36.123456 2024] [auth_basic:error] [pid 1]",
                "2024-10-10T13:55:36.123456Z",
            ),
            (
                "syslog",
                "Oct  1 13:55:36 host sshd[1]: x",
                "2024-10-01T13:55:36Z",
            ),
            (
                "iso8601",
                "2024-10-10T13:55:36.5+02:00 level=warn",
                "2024-10-10T11:55:36.5Z",
            ),
            (
                "iso8601",
                "time=2024-10-10T13:55:36Z msg=x",
                "2024-10-10T13:55:36Z",
            ),
            (
                "iso8601",
                "2024-10-10 13:55:36,123 WARN",
                "2024-10-10T13:55:36Z",
            ),
            ("epoch", "1728568536.25 GET /", "2024-10-10T13:55:36.25Z"),
        ];
        for (format, line, want) in cases {
            assert_eq!(find(format, line), Some(at(want)), "{format}: {line}");
        }
    }

    #[test]
    fn a_date_without_a_year_ahead_of_now_is_last_year() {
        assert_eq!(
            find("syslog", "Dec 25 10:00:00 x"),
            Some(at("2023-12-25T10:00:00Z"))
        );
        assert_eq!(
            find("syslog", "Dec  2 10:00:00 x"),
            Some(at("2024-12-02T10:00:00Z"))
        );
    }

    #[test]
    fn a_line_without_a_time_has_none() {
        assert_eq!(find("nginx", "no time here 10/Oct/2024"), None);
        assert_eq!(find("nginx", ""), None);
    }

    #[test]
    fn a_time_is_not_read_inside_a_word_or_a_number() {
        // 110/Oct/… must not give the 10th.
        assert_eq!(find("nginx", "x110/Oct/2024:13:55:36 +0000"), None);
    }

    #[test]
    fn bad_formats_are_refused_with_why() {
        for bad in ["%H:%M", "nginxx", "%Q%Q", "%d/%b"] {
            let e = TimeFormat::new(bad).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }
}
