//! The shape of a report line: the message with its variable parts
//! (addresses, numbers, hex ids, UUIDs, user names in known positions)
//! replaced by placeholders, so that a day of
//! `Timeout before authentication for 203.0.113.7 port 51234` lines,
//! each with its own address and port, is one line of the report.
//!
//! A hand-written scanner, one pass over the bytes, no regex, no
//! allocation once the output buffer has grown. It is conservative: only a
//! whole token is replaced (bounded by characters that are not letters,
//! digits or `_`), so `ssh2`, `eth0`, `web01` or `OpenSSH_9.6p1` stay as
//! they are and two lines that differ by such a word stay two lines.
//!
//! | token | placeholder |
//! |---|---|
//! | an IPv4 address (`203.0.113.7`) | `<IP>` |
//! | an IPv6 address (`2001:db8::7`, `::1`, `::ffff:192.0.2.1`) | `<IP>` |
//! | a MAC address (`00:1a:2b:3c:4d:5e`) | `<MAC>` |
//! | a UUID (`123e4567-e89b-12d3-a456-426614174000`) | `<UUID>` |
//! | `0x` and hex digits; or 6 hex digits or more, with at least one digit and one letter (`4F2A31C0B2`) | `<HEX>` |
//! | digits, maybe followed by a unit (`51234`, `10ms`, `3MB`) | `<N>` (unit kept) |
//! | the word after `invalid user `, `for user `, `user=`, `ruser=` | `<USER>` |
//!
//! Ports are numbers (`port <N>`, `<IP>:<N>`). Words with digits inside
//! (`ssh2`), host names and user names elsewhere are kept: a line that
//! differs by a meaningful word is another shape.
//!
//! The shape is also the grouping key. A NUL in the message is written as
//! two NULs, and each placeholder as a NUL and a letter, so that no message
//! can pass itself off as the shape of another; [`display`] turns a shape
//! into text (`<IP>`…).

use std::net::{Ipv4Addr, Ipv6Addr};

/// The placeholders, by their letter in the key.
const KINDS: [(u8, &str); 6] = [
    (b'I', "<IP>"),
    (b'M', "<MAC>"),
    (b'U', "<UUID>"),
    (b'H', "<HEX>"),
    (b'N', "<N>"),
    (b'S', "<USER>"),
];

/// Units kept after a number (`10ms` → `<N>ms`); other letters after
/// digits make a word that is kept whole.
const UNITS: [&str; 22] = [
    "s", "ms", "us", "ns", "m", "h", "d", "k", "K", "M", "G", "T", "B", "b", "kB", "KB", "MB",
    "GB", "TB", "KiB", "MiB", "GiB",
];

/// The longest address text (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`
/// is 45 bytes), with room.
const MAX_ADDRESS: usize = 64;

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Whether the token ending at `end` ends a word (end of text or a
/// character that is not a letter, digit or `_`).
fn ends_word(b: &[u8], end: usize) -> bool {
    end >= b.len() || !is_word(b[end])
}

/// Writes the shape of `msg` into `out` (cleared first) and returns how
/// many placeholders it holds.
pub fn shape(msg: &str, out: &mut String) -> usize {
    out.clear();
    let b = msg.as_bytes();
    let mut s = Scan {
        msg,
        out,
        copied: 0,
        placeholders: 0,
    };
    let mut i = 0;
    // The last two words seen, for the user-name positions.
    let mut words: [&[u8]; 2] = [b"", b""];
    while i < b.len() {
        let boundary = i == 0 || !is_word(b[i - 1]);
        if !boundary || !(is_word(b[i]) || b[i] == b':') {
            if b[i] == b'\0' {
                s.replace(i, i + 1, b'\0');
            }
            i += 1;
            continue;
        }
        if let Some((end, kind)) = token_at(b, i) {
            s.replace(i, end, kind);
            i = end;
            words = [b"", b""];
            continue;
        }
        let end = (i..b.len()).find(|&j| !is_word(b[j])).unwrap_or(b.len());
        let word = &b[i..end];
        i = end;
        if let Some(user_end) = user_after(b, end, words, word) {
            s.replace(end + 1, user_end, b'S');
            i = user_end;
            words = [b"", b""];
            continue;
        }
        if !word.is_empty() {
            words = [words[1], word];
        }
        if word.is_empty() {
            i += 1;
        }
    }
    s.finish()
}

struct Scan<'a> {
    msg: &'a str,
    out: &'a mut String,
    copied: usize,
    placeholders: usize,
}

impl Scan<'_> {
    /// Replace `msg[from..to]` by the placeholder `kind` (or a NUL by two).
    fn replace(&mut self, from: usize, to: usize, kind: u8) {
        self.out.push_str(&self.msg[self.copied..from]);
        self.out.push('\0');
        self.out.push(kind as char);
        if kind != b'\0' {
            self.placeholders += 1;
        }
        self.copied = to;
    }

    fn finish(self) -> usize {
        self.out.push_str(&self.msg[self.copied..]);
        self.placeholders
    }
}

/// The end of a user name that follows `word` (ending at `end`), when
/// `word` is in a known position: `invalid user X`, `for user X`,
/// `user=X`, `ruser=X`. The name runs to the next space (or `,` `;` for
/// `user=`); an empty one is none.
fn user_after(b: &[u8], end: usize, words: [&[u8]; 2], word: &[u8]) -> Option<usize> {
    let sep = *b.get(end)?;
    let keyed =
        sep == b'=' && (word.eq_ignore_ascii_case(b"user") || word.eq_ignore_ascii_case(b"ruser"));
    let spaced = sep == b' '
        && word.eq_ignore_ascii_case(b"user")
        && (words[1].eq_ignore_ascii_case(b"invalid") || words[1].eq_ignore_ascii_case(b"for"));
    if !keyed && !spaced {
        return None;
    }
    let start = end + 1;
    let stop = |c: u8| c.is_ascii_whitespace() || (keyed && (c == b',' || c == b';'));
    let user_end = (start..b.len()).find(|&j| stop(b[j])).unwrap_or(b.len());
    (user_end > start).then_some(user_end)
}

/// The variable token starting at `i` (a word boundary), if any: its end
/// and its placeholder letter.
fn token_at(b: &[u8], i: usize) -> Option<(usize, u8)> {
    if let Some(end) = uuid(b, i) {
        return Some((end, b'U'));
    }
    if let Some(r) = address(b, i) {
        return Some(r);
    }
    if let Some(end) = hex_id(b, i) {
        return Some((end, b'H'));
    }
    number(b, i).map(|end| (end, b'N'))
}

/// `8-4-4-4-12` hex digits.
fn uuid(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for (n, len) in [8, 4, 4, 4, 12].into_iter().enumerate() {
        if n > 0 {
            (b.get(j) == Some(&b'-')).then_some(())?;
            j += 1;
        }
        let run = b.get(j..j + len)?;
        run.iter().all(|&c| hex(c)).then_some(())?;
        j += len;
    }
    ends_word(b, j).then_some(j)
}

/// An IPv4, IPv6 or MAC address: the longest run of hex digits, `.` and
/// `:` from `i`, without a trailing `.` or `:`, that parses as one.
fn address(b: &[u8], i: usize) -> Option<(usize, u8)> {
    // Nor is the tail of a longer dotted run (`1.2.3.4.5`).
    if i >= 2 && matches!(b[i - 1], b'.' | b':') && hex(b[i - 2]) {
        return None;
    }
    // No address is longer than this: a longer run is not one, and is not
    // scanned further (a line of colons stays linear).
    let limit = b.len().min(i + MAX_ADDRESS);
    let run = (i..limit)
        .find(|&j| !(hex(b[j]) || b[j] == b'.' || b[j] == b':'))
        .unwrap_or(limit);
    if run == limit && limit < b.len() {
        return None;
    }
    let mut end = run;
    while end > i && matches!(b[end - 1], b'.' | b':') {
        end -= 1;
    }
    // A run of hex digits followed by more of a word is not an address.
    if end == i || (end == run && !ends_word(b, end)) {
        return None;
    }
    // The run is ASCII, so this cannot fail; checked anyway.
    let text = std::str::from_utf8(&b[i..end]).ok()?;
    let colons = text.bytes().filter(|&c| c == b':').count();
    if colons == 5 && text.len() == 17 && mac(text) {
        return Some((end, b'M'));
    }
    if colons >= 2 && text.parse::<Ipv6Addr>().is_ok() {
        return Some((end, b'I'));
    }
    // IPv4, maybe followed by `:port` (the port is a number of its own).
    let v4 = text.split(':').next().unwrap_or(text);
    let ok = v4.bytes().filter(|&c| c == b'.').count() == 3 && v4.parse::<Ipv4Addr>().is_ok();
    ok.then_some((i + v4.len(), b'I'))
}

fn mac(text: &str) -> bool {
    text.split(':').all(|g| g.len() == 2 && g.bytes().all(hex))
}

/// `0x…`, or a word of 6 hex digits or more with a digit and a letter.
fn hex_id(b: &[u8], i: usize) -> Option<usize> {
    let start = if b[i..].starts_with(b"0x") || b[i..].starts_with(b"0X") {
        i + 2
    } else {
        i
    };
    let end = (start..b.len()).find(|&j| !hex(b[j])).unwrap_or(b.len());
    if end == start || !ends_word(b, end) {
        return None;
    }
    let run = &b[start..end];
    let prefixed = start > i;
    let mixed = run.len() >= 6
        && run.iter().any(u8::is_ascii_digit)
        && run.iter().any(u8::is_ascii_alphabetic);
    (prefixed || mixed).then_some(end)
}

/// Digits, maybe followed by a unit, ending the word.
fn number(b: &[u8], i: usize) -> Option<usize> {
    let digits = (i..b.len())
        .find(|&j| !b[j].is_ascii_digit())
        .unwrap_or(b.len());
    if digits == i {
        return None;
    }
    if ends_word(b, digits) {
        return Some(digits);
    }
    let word = (digits..b.len())
        .find(|&j| !is_word(b[j]))
        .unwrap_or(b.len());
    let unit = &b[digits..word];
    UNITS
        .iter()
        .any(|u| u.as_bytes() == unit)
        // The unit is kept: only the digits are replaced.
        .then_some(digits)
}

/// A shape as text: placeholders as `<IP>`, `<N>`…
pub fn display(shape: &str) -> String {
    let mut out = String::with_capacity(shape.len());
    let mut parts = shape.split('\0');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    // After each NUL: a placeholder letter, or an empty part for a NUL of
    // the message (written as two NULs).
    let mut nul = false;
    for part in parts {
        if nul {
            out.push('\0');
            out.push_str(part);
            nul = false;
            continue;
        }
        let Some(&k) = part.as_bytes().first() else {
            nul = true;
            continue;
        };
        match KINDS.iter().find(|(c, _)| *c == k) {
            Some((_, p)) => out.push_str(p),
            None => out.push_str(&part[..1]),
        }
        out.push_str(&part[1..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(m: &str) -> String {
        let mut out = String::new();
        shape(m, &mut out);
        display(&out)
    }

    fn same(a: &str, b: &str) -> bool {
        let (mut x, mut y) = (String::new(), String::new());
        shape(a, &mut x);
        shape(b, &mut y);
        x == y
    }

    #[test]
    fn addresses_numbers_and_ports() {
        assert_eq!(
            sh("Timeout before authentication for 203.0.113.7 port 51234"),
            "Timeout before authentication for <IP> port <N>"
        );
        assert_eq!(
            sh("Connection from 2001:db8::7 port 22 on ::1 port 2222"),
            "Connection from <IP> port <N> on <IP> port <N>"
        );
        assert_eq!(
            sh("peer [2001:db8:0:1::dead:beef]:443, ::ffff:192.0.2.1."),
            "peer [<IP>]:<N>, <IP>."
        );
        assert_eq!(sh("from 192.0.2.1:5353"), "from <IP>:<N>");
        assert_eq!(
            sh("sshd[1234]: took 10ms, 1.5s, 3MB"),
            "sshd[<N>]: took <N>ms, <N>.<N>s, <N>MB"
        );
        assert_eq!(sh("at 10:22:33"), "at <N>:<N>:<N>");
        assert_eq!(sh("lladdr 00:1a:2b:3C:4d:5e"), "lladdr <MAC>");
        assert_eq!(sh("-5 and +7"), "-<N> and +<N>");
    }

    #[test]
    fn hex_ids_and_uuids() {
        assert_eq!(sh("4F2A31C0B2: removed"), "<HEX>: removed");
        assert_eq!(sh("obj 0xdeadBEEF freed"), "obj <HEX> freed");
        assert_eq!(
            sh("unit 123e4567-e89b-12d3-a456-426614174000 done"),
            "unit <UUID> done"
        );
        // Words made of hex letters only are words.
        assert_eq!(sh("decade facade accede"), "decade facade accede");
        assert!(same("id a1b2c3d4 x", "id 99ff00aa x"));
    }

    #[test]
    fn words_with_digits_are_kept() {
        for m in [
            "Disconnected ssh2",
            "link eth0 up",
            "host web01",
            "OpenSSH_9.6p1 Debian",
            "3des-cbc a1b2",
        ] {
            assert_eq!(sh(m), m);
        }
        assert!(!same("link eth0 up", "link eth1 up"));
        assert!(!same("host web01 down", "host web02 down"));
        // Not addresses: five parts, a part over 255; their numbers are
        // numbers.
        assert_eq!(sh("1.2.3.4.5"), "<N>.<N>.<N>.<N>.<N>");
        assert_eq!(sh("999.1.1.1"), "<N>.<N>.<N>.<N>");
    }

    #[test]
    fn meaningful_words_are_not_merged() {
        assert!(!same(
            "Accepted password for 203.0.113.7 port 22",
            "Failed password for 203.0.113.7 port 22"
        ));
        assert!(!same(
            "Connection closed by 192.0.2.1",
            "Connection reset by 192.0.2.1"
        ));
        assert!(same(
            "Timeout before authentication for 203.0.113.7 port 51234",
            "Timeout before authentication for 2001:db8::1 port 7"
        ));
    }

    #[test]
    fn user_names_only_in_known_positions() {
        assert_eq!(
            sh("Invalid user oracle from 192.0.2.9 port 4242"),
            "Invalid user <USER> from <IP> port <N>"
        );
        assert_eq!(
            sh("Failed password for invalid user admin from 192.0.2.9"),
            "Failed password for invalid user <USER> from <IP>"
        );
        assert_eq!(
            sh("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.9  user=root"),
            "pam_unix(sshd:auth): authentication failure; logname= uid=<N> euid=<N> tty=ssh ruser= rhost=<IP>  user=<USER>"
        );
        assert_eq!(
            sh("session opened for user www-data(uid=33) by (uid=0)"),
            "session opened for user <USER> by (uid=<N>)"
        );
        // Elsewhere, a word after "user" is a word.
        assert_eq!(sh("user unknown"), "user unknown");
        assert_eq!(sh("unknown user root"), "unknown user root");
        assert!(!same(
            "Failed password for root from 192.0.2.1",
            "Failed password for admin from 192.0.2.1"
        ));
        assert!(same(
            "Invalid user oracle from 192.0.2.1",
            "Invalid user ä.b-c from 192.0.2.2"
        ));
    }

    #[test]
    fn hostile_lines_stay_linear() {
        // Each would rescan the rest of the line at every position: in
        // linear time these take well under a second, in quadratic time
        // hours.
        for (unit, n) in [
            (":", 1 << 18),
            ("1:", 1 << 17),
            ("a.", 1 << 17),
            (":: ", 1 << 16),
        ] {
            let line = unit.repeat(n);
            let start = std::time::Instant::now();
            let mut out = String::new();
            shape(&line, &mut out);
            assert!(start.elapsed().as_secs() < 60, "{unit:?}");
        }
        assert_eq!(sh(&"1:".repeat(40)), "<N>:".repeat(40));
    }

    #[test]
    fn no_message_passes_for_a_shape() {
        assert!(!same("for <IP> x", "for 192.0.2.1 x"));
        assert!(!same("a\0Ib", "a 1 b"));
        assert!(!same("a\0Ib", "a1.2.3.4b"));
        assert_eq!(sh("nul\0here 5"), "nul\0here <N>");
        assert_eq!(sh(""), "");
        assert_eq!(sh("é1 ü2.3 ::1"), "é<N> ü<N>.<N> <IP>");
    }
}
