//! The tokenizer: mirrors `re._parser.Tokenizer`, with byte offsets.

use super::{perr, PResult};

pub(super) struct Source<'a> {
    pub(super) s: &'a str,
    /// Byte index just after the look-ahead token.
    index: usize,
    /// Byte range of the look-ahead token: one character, or `\` and one
    /// character.
    pub(super) next: Option<(usize, usize)>,
}

impl<'a> Source<'a> {
    pub(super) fn new(s: &'a str) -> PResult<Self> {
        let mut src = Source {
            s,
            index: 0,
            next: None,
        };
        src.advance()?;
        Ok(src)
    }

    pub(super) fn advance(&mut self) -> PResult<()> {
        let i = self.index;
        let Some(c) = self.s[i..].chars().next() else {
            self.next = None;
            return Ok(());
        };
        let mut end = i + c.len_utf8();
        if c == '\\' {
            match self.s[end..].chars().next() {
                Some(d) => end += d.len_utf8(),
                None => {
                    return Err(perr(
                        i,
                        end,
                        "bad escape (end of pattern)",
                        "a pattern cannot end with a lone backslash; write \\\\ for a literal backslash",
                    ))
                }
            }
        }
        self.next = Some((i, end));
        self.index = end;
        Ok(())
    }

    pub(super) fn peek(&self) -> Option<&'a str> {
        self.next.map(|(a, b)| &self.s[a..b])
    }

    /// The look-ahead token when it is a single character satisfying `pred`.
    pub(super) fn peek_char_if(&self, pred: impl Fn(char) -> bool) -> Option<char> {
        let t = self.peek()?;
        let mut it = t.chars();
        let c = it.next()?;
        (c != '\\' && it.next().is_none() && pred(c)).then_some(c)
    }

    pub(super) fn get(&mut self) -> PResult<Option<(usize, &'a str)>> {
        let t = self.next.map(|(a, b)| (a, &self.s[a..b]));
        self.advance()?;
        Ok(t)
    }

    pub(super) fn matches(&mut self, t: &str) -> PResult<bool> {
        if self.peek() == Some(t) {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub(super) fn tell(&self) -> usize {
        self.next.map_or(self.s.len(), |(a, _)| a)
    }

    pub(super) fn seek(&mut self, pos: usize) -> PResult<()> {
        self.index = pos;
        self.advance()
    }

    pub(super) fn getwhile(&mut self, n: usize, pred: impl Fn(char) -> bool) -> PResult<String> {
        let mut out = String::new();
        for _ in 0..n {
            match self.peek_char_if(&pred) {
                Some(c) => {
                    out.push(c);
                    self.advance()?;
                }
                None => break,
            }
        }
        Ok(out)
    }

    /// Python's `getuntil`: the text up to `term` (consumed), and its start.
    pub(super) fn getuntil(&mut self, term: char, name: &str) -> PResult<(String, usize)> {
        let start = self.tell();
        let mut out = String::new();
        loop {
            let c = self.peek();
            self.advance()?;
            match c {
                None if out.is_empty() => {
                    return Err(perr(
                        start,
                        self.s.len(),
                        format!("missing {name}"),
                        format!("write the {name} followed by '{term}'"),
                    ))
                }
                None => {
                    return Err(perr(
                        start,
                        self.s.len(),
                        format!("missing {term}, unterminated name"),
                        format!("end the {name} with '{term}'"),
                    ))
                }
                Some(t) if t.len() == 1 && t.starts_with(term) => {
                    if out.is_empty() {
                        return Err(perr(
                            start,
                            start + 1,
                            format!("missing {name}"),
                            format!("write the {name} before '{term}'"),
                        ));
                    }
                    return Ok((out, start));
                }
                Some(t) => out.push_str(t),
            }
        }
    }
}

pub(super) fn first_char(t: &str) -> char {
    t.chars().next().unwrap_or('\0')
}

/// The escaped character of an escape token (`\q` → `q`).
pub(super) fn escaped_char(t: &str) -> char {
    t[1..].chars().next().unwrap_or('\0')
}

pub(super) fn is_identifier(s: &str) -> bool {
    let mut it = s.chars();
    match it.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    it.all(|c| c == '_' || c.is_alphanumeric())
}

pub(super) fn is_oct(c: char) -> bool {
    ('0'..='7').contains(&c)
}
