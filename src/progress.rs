//! A progress line on standard error, for long runs over many entries
//! (`pyrusec replay`, `pyrused` catching up): the count, the rate and,
//! when the size of the input is known, the share read. Only when
//! standard error is a terminal: pipes, files and the journal never see
//! it.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The line appears after this long (short runs show nothing), and is
/// redrawn at most this often.
const FIRST: Duration = Duration::from_secs(1);
const EVERY: Duration = Duration::from_millis(250);

/// The progress line.
pub struct Meter {
    /// What is counted ("entries").
    what: &'static str,
    /// Bytes in the whole input, when known.
    total: Option<u64>,
    started: Instant,
    last: Instant,
    shown: bool,
}

impl Meter {
    /// A meter when standard error is a terminal, else none.
    pub fn on_terminal(what: &'static str, total: Option<u64>) -> Option<Meter> {
        std::io::stderr()
            .is_terminal()
            .then(|| Meter::new(what, total))
    }

    fn new(what: &'static str, total: Option<u64>) -> Meter {
        let now = Instant::now();
        Meter {
            what,
            total,
            started: now,
            last: now,
            shown: false,
        }
    }

    /// `count` things done, `read` bytes of the input read: redraw the
    /// line when it is time. Looks at the clock once per 256 counts.
    #[inline]
    pub fn tick(&mut self, count: u64, read: u64) {
        if !count.is_multiple_of(256) {
            return;
        }
        let now = Instant::now();
        let wait = if self.shown { EVERY } else { FIRST };
        if now.duration_since(self.last) < wait || now.duration_since(self.started) < FIRST {
            return;
        }
        self.last = now;
        self.shown = true;
        let line = self.line(count, read, now.duration_since(self.started));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
    }

    /// The text of the line.
    fn line(&self, count: u64, read: u64, elapsed: Duration) -> String {
        let rate = count as f64 / elapsed.as_secs_f64().max(0.001);
        let share = match self.total {
            Some(t) if t > 0 => format!(", {:.0}%", (read as f64 * 100.0 / t as f64).min(100.0)),
            _ => String::new(),
        };
        format!(
            "{} {}, {}/s{share}",
            thousands(count),
            self.what,
            thousands(rate as u64)
        )
    }

    /// Erase the line, if shown (before other output, and at the end).
    pub fn clear(&mut self) {
        if std::mem::take(&mut self.shown) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_has_the_count_the_rate_and_the_share() {
        let m = Meter::new("entries", Some(1000));
        assert_eq!(
            m.line(1_234_567, 250, Duration::from_secs(2)),
            "1,234,567 entries, 617,283/s, 25%"
        );
        let m = Meter::new("entries", None);
        assert_eq!(m.line(999, 0, Duration::from_secs(1)), "999 entries, 999/s");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
    }
}
