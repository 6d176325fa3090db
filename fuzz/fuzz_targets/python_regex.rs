//! The Python-regex translator: any pattern translates, with a byte map
//! into both patterns, or fails with a `PatternError` whose range lies in
//! the pattern, never a panic; a translation compiles or fails the same
//! way, and its search reports Python's groups, within the subject.
//!
//! Input: the pattern, then optionally a NUL byte and a subject. Each
//! pattern is searched in that subject and in a few fixed ones (empty, a
//! final newline, non-ASCII word characters). Native (Rust syntax)
//! patterns are compiled by `check_compile`, from the regexes of rule text.
//!
//! Compiling dominates: a realistic pattern (Unicode classes) takes tens of
//! milliseconds in this instrumented build; translating, well under one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pyruse::python::re::{translate, Matcher, PatternError};

const SUBJECTS: &[&str] = &[
    "",
    "\n",
    "Failed password for invalid user admin from 203.0.113.7 port 22 ssh2\n",
    "aAbB_09 x²é\u{301}‿ İı ß\tab\nab",
];

fn in_text(text: &str, start: usize, end: usize) -> bool {
    start <= end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end)
}

fn check_error(pattern: &str, e: &PatternError) {
    assert!(
        in_text(pattern, e.start, e.end),
        "error range {}..{} outside {pattern:?}: {}",
        e.start,
        e.end,
        e.message
    );
}

fn search_all(m: &Matcher, subject: Option<&str>) {
    let mut groups = Vec::new();
    for text in subject.iter().chain(SUBJECTS) {
        if let Ok(true) = m.search(text, &mut groups) {
            assert_eq!(groups.len(), m.group_count() + 1, "{}", m.describe());
            assert!(groups[0].is_some(), "group 0 unset: {}", m.describe());
            for &(s, e) in groups.iter().flatten() {
                assert!(
                    in_text(text, s, e),
                    "group {s}..{e} in {text:?}: {}",
                    m.describe()
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (pattern, subject) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(pattern) = std::str::from_utf8(pattern) else {
        return;
    };
    let subject = subject.and_then(|s| std::str::from_utf8(s).ok());
    match translate(pattern) {
        Err(e) => check_error(pattern, &e),
        Ok(t) => {
            assert_eq!(t.group_slots.len(), t.group_count + 1);
            for span in &t.spans {
                assert!(
                    in_text(&t.pattern, span.rust.0, span.rust.1),
                    "{span:?} in {:?}",
                    t.pattern
                );
                assert!(
                    in_text(pattern, span.python.0, span.python.1),
                    "{span:?} in {pattern:?}"
                );
            }
            match Matcher::from_translated(&t) {
                Err(e) => check_error(pattern, &e),
                Ok(m) => {
                    assert_eq!(m.group_count(), t.group_count);
                    search_all(&m, subject);
                }
            }
        }
    }
});
