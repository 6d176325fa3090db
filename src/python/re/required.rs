//! Text a match cannot do without: a cheap test that rules out most
//! subjects before a regex runs.
//!
//! The rules' regexes are anchored (`^…$`, so that text the client writes
//! cannot move a capture), which keeps the `regex` crate from looking for
//! the literals inside them: it runs its automaton over the subject instead.
//! Yet most of them hold plain words that every match contains ("Failed ",
//! `" 404 `, "authentication failure"). From the pattern's syntax tree we
//! find a set of literals one of which every match contains; a subject
//! holding none of them cannot match, which a SIMD substring search tells
//! far faster than the regex (`memchr`'s vectorised substring search).

use regex_syntax::hir::{Class, Hir, HirKind};

/// Literals shorter than this are not worth a search.
const MIN_LEN: usize = 3;
/// Sets larger than this are given up (an alternation of many words).
const MAX_LITERALS: usize = 24;

/// A set of literals one of which every match of the pattern contains.
#[derive(Debug, Clone)]
pub struct Required {
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl Required {
    /// The required literals of a pattern in `regex` syntax, when there are
    /// worthwhile ones.
    pub fn of(pattern: &str) -> Option<Required> {
        let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
        let set = required(&hir)?;
        if set.is_empty() || set.iter().any(|l| l.len() < MIN_LEN) {
            return None;
        }
        let finders = set
            .iter()
            .map(|l| memchr::memmem::Finder::new(l).into_owned())
            .collect();
        Some(Required { finders })
    }

    /// Whether `text` holds one of the literals: when it does not, the
    /// pattern cannot match it.
    pub fn may_match(&self, text: &str) -> bool {
        let text = text.as_bytes();
        self.finders.iter().any(|f| f.find(text).is_some())
    }
}

/// A set of literals one of which every match of `h` contains, or `None`
/// when no such set is known.
fn required(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Literal(l) => Some(vec![l.0.to_vec()]),
        HirKind::Class(c) => single_char(c).map(|b| vec![b]),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Concat(items) => concat(items),
        HirKind::Alternation(items) => {
            let mut all = Vec::new();
            for i in items {
                all.extend(required(i)?);
                if all.len() > MAX_LITERALS {
                    return None;
                }
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        _ => None,
    }
}

/// A class of one character, as its UTF-8 bytes.
fn single_char(c: &Class) -> Option<Vec<u8>> {
    match c {
        Class::Unicode(u) => match u.ranges() {
            [r] if r.start() == r.end() => Some(r.start().to_string().into_bytes()),
            _ => None,
        },
        Class::Bytes(b) => match b.ranges() {
            [r] if r.start() == r.end() && r.start().is_ascii() => Some(vec![r.start()]),
            _ => None,
        },
    }
}

/// In a concatenation, runs of literal pieces make longer literals; the
/// best requirement of the parts (the one whose shortest literal is the
/// longest; the later one on a tie, since what ends a log line's pattern,
/// a status or an error text, is usually rarer than what starts it) stands
/// for the whole.
fn concat(items: &[Hir]) -> Option<Vec<Vec<u8>>> {
    let mut best: Option<Vec<Vec<u8>>> = None;
    let mut run: Vec<u8> = Vec::new();
    let consider = |set: Vec<Vec<u8>>, best: &mut Option<Vec<Vec<u8>>>| {
        let score = |s: &[Vec<u8>]| s.iter().map(Vec::len).min().unwrap_or(0);
        if best.as_ref().is_none_or(|b| score(&set) >= score(b)) {
            *best = Some(set);
        }
    };
    for i in items {
        let piece = match i.kind() {
            HirKind::Literal(l) => Some(l.0.to_vec()),
            HirKind::Class(c) => single_char(c),
            _ => None,
        };
        match piece {
            Some(p) => run.extend_from_slice(&p),
            None => {
                if !run.is_empty() {
                    consider(vec![std::mem::take(&mut run)], &mut best);
                }
                if let Some(set) = required(i) {
                    consider(set, &mut best);
                }
            }
        }
    }
    if !run.is_empty() {
        consider(vec![run], &mut best);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(p: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::Parser::new().parse(p).ok()?;
        required(&hir).map(|s| {
            s.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn literals_every_match_contains() {
        assert_eq!(
            lits(r"^(?:error: )?Failed (?P<m>\S+) for (?P<u>\S+) from (?P<ip>[\d.]+)"),
            Some(vec!["Failed ".into()])
        );
        assert_eq!(
            lits(r#"^(?P<ip>[0-9a-f.:]+) \S+ .*? "GET \S+ HTTP/[0-9.]+" 404 "#),
            Some(vec!["\" 404 ".into()])
        );
        assert_eq!(
            lits(r"^(?:Invalid|Illegal) user \S+ from"),
            Some(vec!["Illegal".into(), "Invalid".into()])
        );
        assert_eq!(
            lits(r"(?:authentication failure|auth failed)"),
            Some(vec!["auth failed".into(), "authentication failure".into()])
        );
        // Optional parts and case-insensitive words require nothing.
        assert_eq!(lits(r"^(?:Failed )?x"), Some(vec!["x".into()]));
        assert!(Required::of(r"^(?:Failed )?x").is_none(), "too short");
        assert!(Required::of(r"(?i)failed password").is_none());
        assert!(Required::of(r"^\S+$").is_none());
    }

    #[test]
    fn a_subject_without_the_literals_cannot_match() {
        let patterns = [
            r"^(?:error: )?Failed (?P<m>\S+) for (?P<u>\S+) from (?P<ip>[\d.]+)",
            r#"^(?P<ip>[0-9a-f.:]+) \S+ .*? "GET \S+ HTTP/[0-9.]+" 404 "#,
            r"(?:authentication failure|auth failed);",
            r"^é{2,}+x+ab",
            r"(?:ab+c|[x]yz)",
        ];
        let texts = [
            "Failed password for root from 192.0.2.1",
            "error: Failed none for x from 1.2.3.4",
            r#"192.0.2.1 - - [x] "GET / HTTP/1.1" 404 12"#,
            r#"192.0.2.1 - - [x] "GET / HTTP/1.1" 200 12"#,
            "pam: authentication failure; user=x",
            "éééxxab",
            "abbbc xyz",
            "nothing",
        ];
        for p in patterns {
            let re = regex::Regex::new(p).unwrap();
            let Some(req) = Required::of(p) else { continue };
            for t in texts {
                if re.is_match(t) {
                    assert!(req.may_match(t), "{p} matches {t:?} but was ruled out");
                }
            }
        }
    }
}
