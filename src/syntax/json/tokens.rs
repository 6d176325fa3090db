//! The tokens of a JSON text, as the diagnosis reads them: JSON's own, and
//! what people write by habit instead (`True`, `'a'`, `// note`, `+1`), so
//! that a message can name it. A string or a number that breaks a rule of
//! JSON is an error at its exact place.

use super::{error, string_unit, JsonError, Range, Unit, PYTHON_INT_MAX_DIGITS};

/// Longest token text quoted in a message, in chars.
const SHOWN_CHARS: usize = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bracket {
    Object,
    Array,
}

impl Bracket {
    pub(super) fn open(self) -> char {
        match self {
            Bracket::Object => '{',
            Bracket::Array => '[',
        }
    }

    pub(super) fn close(self) -> char {
        match self {
            Bracket::Object => '}',
            Bracket::Array => ']',
        }
    }

    pub(super) fn noun(self) -> &'static str {
        match self {
            Bracket::Object => "object",
            Bracket::Array => "array",
        }
    }
}

/// Text that is not JSON, which the parser reports according to context.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Bad {
    /// An identifier-like word other than the JSON literals.
    Word,
    SingleQuoted,
    SmartQuoted,
    Comment,
    /// `+1` or `.5`.
    NumberLike,
    Char(char),
}

#[derive(Debug)]
pub(super) enum Tok {
    Open(Bracket),
    Close(Bracket),
    Colon,
    Comma,
    Str,
    /// A number or a literal.
    Value,
    Bad(Bad),
    Eof,
}

#[derive(Debug)]
pub(super) struct Token {
    pub tok: Tok,
    pub range: Range,
    /// 1-based line number.
    pub line: usize,
    /// Indentation (in bytes) of the token's line, i.e. the column of the
    /// line's first token.
    pub indent: usize,
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$' || (!c.is_ascii() && c.is_alphabetic())
}

fn is_word_char(c: char) -> bool {
    is_word_start(c) || c.is_ascii_digit() || (!c.is_ascii() && c.is_alphanumeric())
}

fn is_number_run_char(c: char) -> bool {
    is_word_char(c) || matches!(c, '.' | '+' | '-')
}

fn char_at(text: &str, pos: usize) -> Option<char> {
    text.get(pos..).and_then(|s| s.chars().next())
}

/// End of the run of chars that satisfy `pred`, from `pos`.
fn run_end(text: &str, pos: usize, pred: fn(char) -> bool) -> usize {
    match text.get(pos..) {
        Some(rest) => rest.find(|c| !pred(c)).map_or(text.len(), |i| pos + i),
        None => pos,
    }
}

pub(super) fn slice(text: &str, r: Range) -> &str {
    text.get(r.start..r.end).unwrap_or("")
}

pub(super) struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    line_start: usize,
    line_indent: Option<usize>,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Lexer {
            text,
            pos: 0,
            line: 1,
            line_start: 0,
            line_indent: None,
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.text.as_bytes().get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                    self.line_indent = None;
                }
                _ => break,
            }
        }
    }

    pub(super) fn next(&mut self) -> Result<Token, JsonError> {
        self.skip_whitespace();
        let start = self.pos;
        let line = self.line;
        let indent = *self.line_indent.get_or_insert(start - self.line_start);
        let tok = match char_at(self.text, start) {
            None => Tok::Eof,
            Some(c) => self.token(start, c)?,
        };
        Ok(Token {
            tok,
            range: Range::new(start, self.pos),
            line,
            indent,
        })
    }

    fn token(&mut self, start: usize, c: char) -> Result<Tok, JsonError> {
        let after = start + c.len_utf8();
        let next = char_at(self.text, after);
        self.pos = after;
        let tok = match c {
            '{' => Tok::Open(Bracket::Object),
            '[' => Tok::Open(Bracket::Array),
            '}' => Tok::Close(Bracket::Object),
            ']' => Tok::Close(Bracket::Array),
            ':' => Tok::Colon,
            ',' => Tok::Comma,
            '"' => {
                self.string(start)?;
                Tok::Str
            }
            '-' | '0'..='9' => self.number(start)?,
            '\'' => {
                self.pos = self.quoted_end(after, &['\'']);
                Tok::Bad(Bad::SingleQuoted)
            }
            '\u{201c}' | '\u{201d}' | '\u{2018}' | '\u{2019}' | '\u{201e}' => {
                let closers = ['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}'];
                self.pos = self.quoted_end(after, &closers);
                Tok::Bad(Bad::SmartQuoted)
            }
            '/' if next == Some('*') => {
                self.pos = match self.text.get(after + 1..).and_then(|r| r.find("*/")) {
                    Some(i) => after + 1 + i + 2,
                    None => self.text.len(),
                };
                Tok::Bad(Bad::Comment)
            }
            '/' | '#' if c == '#' || next == Some('/') => {
                self.pos = run_end(self.text, start, |c| c != '\n' && c != '\r');
                Tok::Bad(Bad::Comment)
            }
            '+' | '.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                self.pos = run_end(self.text, start, is_number_run_char);
                Tok::Bad(Bad::NumberLike)
            }
            c if is_word_start(c) => {
                self.pos = run_end(self.text, start, is_word_char);
                match slice(self.text, Range::new(start, self.pos)) {
                    "true" | "false" | "null" | "NaN" | "Infinity" => Tok::Value,
                    _ => Tok::Bad(Bad::Word),
                }
            }
            c => Tok::Bad(Bad::Char(c)),
        };
        Ok(tok)
    }

    /// End of a wrongly quoted string whose opening quote ends at `after`: after the first of
    /// `closers` on the same line, or just the opening quote.
    fn quoted_end(&self, after: usize, closers: &[char]) -> usize {
        let rest = self.text.get(after..).unwrap_or("");
        for (i, c) in rest.char_indices() {
            if c == '\n' {
                break;
            }
            if closers.contains(&c) {
                return after + i + c.len_utf8();
            }
        }
        after
    }

    /// Check the string that starts at `start`, and move past it.
    fn string(&mut self, start: usize) -> Result<(), JsonError> {
        let mut pos = start + 1;
        let opened = Range::new(start, start + 1);
        loop {
            match string_unit(self.text, pos) {
                Unit::End => {
                    self.pos = pos + 1;
                    return Ok(());
                }
                Unit::Char(_, next) => pos = next,
                Unit::Eof => {
                    let end = self.text.len();
                    return Err(error(
                        Range::at(end),
                        "unexpected end of file inside a string",
                        "close the string with `\"`",
                    )
                    .label(opened, STRING_STARTS));
                }
                Unit::Control(c) => {
                    return Err(control_in_string(pos, c).label(opened, STRING_STARTS));
                }
                Unit::BadEscape(end) => return Err(self.bad_escape(Range::new(pos, end))),
                Unit::BadUnicode(end) => {
                    let r = Range::new(pos, end);
                    return Err(error(
                        r,
                        format!(
                            "invalid unicode escape `{}`: `\\u` needs 4 hexadecimal digits",
                            slice(self.text, r)
                        ),
                        "write `\\u` and exactly 4 hexadecimal digits, e.g. `\\u00e9`; \
                         write `\\\\u` for a backslash followed by `u`",
                    ));
                }
            }
        }
    }

    /// A `\` at `r.start` followed by no JSON escape.
    fn bad_escape(&self, r: Range) -> JsonError {
        let escaped = match char_at(self.text, r.start + 1) {
            Some(c) if c.is_control() => format!("`\\` followed by U+{:04X}", c as u32),
            _ => format!("`{}`", slice(self.text, r)),
        };
        error(
            r,
            format!("invalid escape {escaped} in a string"),
            "the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; \
             write `\\\\` for a backslash (in a regex, `\\\\d` means \\d)",
        )
    }

    /// A number, or `-Infinity`, as Python reads it:
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`.
    fn number(&mut self, start: usize) -> Result<Tok, JsonError> {
        let text = self.text;
        let negative = text.as_bytes().get(start) == Some(&b'-');
        let p = start + usize::from(negative);
        if negative
            && text.get(p..).is_some_and(|r| r.starts_with("Infinity"))
            && !char_at(text, p + 8).is_some_and(is_word_char)
        {
            self.pos = p + 8;
            return Ok(Tok::Value);
        }
        let n = NumberText {
            text,
            start,
            run: Range::new(start, run_end(text, start, is_number_run_char)),
            negative,
        };
        let int_end = n.integer(p)?;
        let (end, integral) = n.fraction_and_exponent(int_end)?;
        if end < n.run.end {
            return Err(n.trailing_characters());
        }
        self.pos = end;
        let digits = int_end - start - usize::from(negative);
        if integral && digits > PYTHON_INT_MAX_DIGITS {
            return Err(too_long(Range::new(start, end), digits));
        }
        Ok(Tok::Value)
    }
}

/// The label of the opening quote of a string in error.
const STRING_STARTS: &str = "the string starts here";

/// A raw control character at `pos` in a string.
fn control_in_string(pos: usize, c: char) -> JsonError {
    let (name, help) = match c {
        '\n' | '\r' => (
            if c == '\n' {
                "line feed"
            } else {
                "carriage return"
            },
            "a string cannot span lines: close it with `\"` before the line \
             ends, or write `\\n` for a line break"
                .to_string(),
        ),
        '\t' => ("tab", "write `\\t` instead of a raw tab".to_string()),
        _ => (
            "control character",
            format!("write it as `\\u{:04x}`", c as u32),
        ),
    };
    error(
        Range::new(pos, pos + 1),
        format!(
            "invalid control character in a string: {name} (U+{:04X})",
            c as u32
        ),
        help,
    )
}

/// A number being read: where it starts, the run of number-like chars an
/// error names, and its sign.
struct NumberText<'a> {
    text: &'a str,
    start: usize,
    run: Range,
    negative: bool,
}

impl NumberText<'_> {
    fn invalid(&self, why: &str, help: String) -> JsonError {
        error(
            self.run,
            format!(
                "invalid number `{}`: {why}",
                shorten(slice(self.text, self.run))
            ),
            help,
        )
    }

    fn digit(&self, p: usize) -> bool {
        self.text.as_bytes().get(p).is_some_and(u8::is_ascii_digit)
    }

    fn digits_end(&self, mut p: usize) -> usize {
        while self.digit(p) {
            p += 1;
        }
        p
    }

    /// The integer part, from `p` after the sign: where it ends.
    fn integer(&self, p: usize) -> Result<usize, JsonError> {
        match self.text.as_bytes().get(p) {
            Some(b'0') if self.digit(p + 1) => {
                let shown = slice(self.text, self.run);
                let help = if shown.bytes().all(|b| b == b'-' || b.is_ascii_digit()) {
                    let trimmed = shown.trim_start_matches('-').trim_start_matches('0');
                    let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
                    let sign = if self.negative { "-" } else { "" };
                    format!("remove the leading zero: write `{sign}{trimmed}`")
                } else {
                    "remove the leading zero".to_string()
                };
                Err(self.invalid("a number cannot start with `0` followed by digits", help))
            }
            Some(b'0') => Ok(p + 1),
            Some(b'1'..=b'9') => Ok(self.digits_end(p)),
            _ => Err(self.invalid(
                "expected a digit after `-`",
                "write a number such as `-1` or `-0.5`, or `-Infinity`".to_string(),
            )),
        }
    }

    /// The fraction and the exponent, from `p` after the integer part:
    /// where they end, and whether there is neither.
    fn fraction_and_exponent(&self, mut p: usize) -> Result<(usize, bool), JsonError> {
        let bytes = self.text.as_bytes();
        let int_end = p;
        let mut integral = true;
        if bytes.get(p) == Some(&b'.') {
            p += 1;
            if !self.digit(p) {
                let int = slice(self.text, Range::new(self.start, int_end));
                return Err(self.invalid(
                    "expected a digit after the decimal point",
                    format!("write digits after the point, as in `{int}.0`, or drop the point"),
                ));
            }
            p = self.digits_end(p);
            integral = false;
        }
        if matches!(bytes.get(p), Some(b'e') | Some(b'E')) {
            p += 1;
            if matches!(bytes.get(p), Some(b'+') | Some(b'-')) {
                p += 1;
            }
            if !self.digit(p) {
                return Err(self.invalid(
                    "expected a digit in the exponent",
                    "write the exponent's digits, as in `1e6` or `2.5e-3`".to_string(),
                ));
            }
            p = self.digits_end(p);
            integral = false;
        }
        Ok((p, integral))
    }

    /// A number followed by more number-like chars (`0x1f`, `1.2.3`).
    fn trailing_characters(&self) -> JsonError {
        let shown = slice(self.text, self.run);
        let help = if shown.trim_start_matches('-').starts_with("0x")
            || shown.trim_start_matches('-').starts_with("0X")
        {
            "JSON has no hexadecimal numbers: write the number in decimal".to_string()
        } else {
            "a number is written like `12`, `-3.5` or `1e6`, and is followed by `,`, \
             `]`, `}` or whitespace"
                .to_string()
        };
        self.invalid("unexpected characters in a number", help)
    }
}

/// An integer of more than Python's 4300 digits, at `range`.
pub(super) fn too_long(range: Range, digits: usize) -> JsonError {
    error(
        range,
        format!("integer too long: {digits} digits (Python reads at most {PYTHON_INT_MAX_DIGITS})"),
        "shorten it, or write it as a float with an exponent",
    )
}

/// A number that Rust cannot read (the grammar accepted it: a bug).
pub(super) fn not_a_number(source: &str, range: Range) -> JsonError {
    error(
        range,
        format!("invalid number `{}`: not a number", shorten(source)),
        "write a number such as `12`",
    )
}

/// `s`, cut to [`SHOWN_CHARS`] chars for a message.
pub(super) fn shorten(s: &str) -> String {
    if s.chars().count() <= SHOWN_CHARS {
        s.to_string()
    } else {
        let mut short: String = s.chars().take(SHOWN_CHARS - 1).collect();
        short.push('…');
        short
    }
}
