//! Why a text is not a JSON document, in words.
//!
//! The grammar only says where it stopped; this reads the text again, token
//! by token, with an explicit stack of open brackets instead of recursion,
//! and stops at the first error: what was found, what was expected there,
//! and what to write instead. Tokens that are not JSON are still read as
//! tokens (`True`, `'a'`, `// note`, `01`) so that the message can name
//! them. It accepts exactly what `grammar/json.pest` accepts.
//!
//! Along the way it notes the closing brackets that are indented like an
//! enclosing bracket rather than their own: the guesses that
//! [`super::missing_closer`] checks.

use super::tokens::{shorten, slice, Bad, Bracket, Lexer, Tok, Token};
use super::{error, JsonError, Range, MAX_DEPTH};

/// How many guesses the missing-bracket heuristic checks, at most.
pub(super) const MAX_SUSPECTS: usize = 16;
/// How many still-open brackets an end-of-file error labels.
const SHOWN_OPEN: usize = 3;

// ---------------------------------------------------------------------------
// Messages.

fn char_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{a0}' => "no-break space",
        '\u{feff}' => "byte order mark",
        '\u{200b}' => "zero-width space",
        '\u{2028}' => "line separator",
        '\u{2029}' => "paragraph separator",
        '\u{b}' => "vertical tab",
        '\u{c}' => "form feed",
        '\u{0}' => "NUL character",
        c if c.is_control() => "control character",
        c if c.is_whitespace() => "whitespace character",
        '\u{200c}'..='\u{200f}' | '\u{2060}'..='\u{2064}' => "invisible character",
        _ => return None,
    })
}

/// The token as shown in a message: quoted, or in words.
fn describe(text: &str, t: &Token) -> String {
    match t.tok {
        Tok::Eof => "end of file".to_string(),
        Tok::Bad(Bad::Char(c)) => match char_name(c) {
            Some(name) => format!("a {name} (U+{:04X})", c as u32),
            None => format!("`{c}`"),
        },
        _ => format!("`{}`", shorten(slice(text, t.range))),
    }
}

const VALUE_HELP: &str = "a value is a string in double quotes, a number, `true`, `false`, \
                          `null`, an object `{ … }` or an array `[ … ]`";

/// What to write instead of text that is not JSON.
fn bad_help(bad: Bad, shown: &str, key: bool) -> String {
    match bad {
        Bad::Word => {
            let lower = shown.to_ascii_lowercase();
            match lower.as_str() {
                "true" | "false" | "null" => {
                    format!("JSON literals are lowercase: write `{lower}`")
                }
                "none" | "nil" | "undefined" => "write `null`".to_string(),
                "nan" => "write `NaN`".to_string(),
                "inf" | "infinity" => "write `Infinity`".to_string(),
                _ if lower.len() >= 2
                    && ["true", "false", "null"]
                        .iter()
                        .any(|l| l.starts_with(lower.as_str())) =>
                {
                    let literal = ["true", "false", "null"]
                        .into_iter()
                        .find(|l| l.starts_with(lower.as_str()))
                        .unwrap_or("null");
                    format!("did you mean `{literal}`?")
                }
                _ if key => format!("keys are strings in double quotes: write `\"{shown}\"`"),
                _ => format!("strings are written in double quotes: `\"{shown}\"`"),
            }
        }
        Bad::SingleQuoted => {
            let inner = shown
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .filter(|s| !s.contains('"'));
            match inner {
                Some(inner) => {
                    format!(
                        "JSON strings use double quotes: write `\"{}\"`",
                        shorten(inner)
                    )
                }
                None => "JSON strings use double quotes `\"`, not `'`".to_string(),
            }
        }
        Bad::SmartQuoted => {
            "JSON strings use plain double quotes `\"`, not typographic quotes".to_string()
        }
        Bad::Comment => "JSON has no comments: remove it".to_string(),
        Bad::NumberLike if shown.starts_with('+') => {
            "remove the `+`: JSON numbers have no plus sign".to_string()
        }
        Bad::NumberLike => format!("write a digit before the decimal point: `0{shown}`"),
        Bad::Char(c) if char_name(c).is_some() => {
            "remove this invisible character: only spaces, tabs and line breaks may separate \
             tokens"
                .to_string()
        }
        Bad::Char('=') => "write `:` between a key and its value".to_string(),
        Bad::Char(';') => "separate members and elements with `,`".to_string(),
        Bad::Char(c) => format!("`{c}` cannot appear here; {VALUE_HELP}"),
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

// ---------------------------------------------------------------------------
// The reader: iterative, with an explicit stack of open brackets.

struct Frame {
    kind: Bracket,
    open: Range,
    line: usize,
    indent: usize,
    /// The key range when this container is a member's value.
    key: Option<Range>,
    /// The key of the member being read.
    pending: Option<Range>,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Top,
    ArrayFirst,
    /// After a `,` in an array (the comma's range).
    ArrayNext(Range),
    MemberValue,
    ObjectFirst,
    /// After a `,` in an object (the comma's range).
    ObjectNext(Range),
    Colon,
    AfterElement,
    AfterMember,
    End,
}

/// A guess for the missing-bracket heuristic: a closer of `kind` may be
/// missing at `insert_at`, before the closer at `close`.
#[derive(Clone, Debug)]
pub(super) struct Suspect {
    pub kind: Bracket,
    pub open: Range,
    pub open_line: usize,
    pub key: Option<Range>,
    pub insert_at: usize,
    pub close: Range,
    pub close_line: usize,
    /// Line of the enclosing bracket that the closer lines up with.
    pub meant_line: Option<usize>,
}

/// The first error of a text, and the guesses of missing brackets.
pub(super) struct Failure {
    pub error: JsonError,
    /// Whether a missing bracket could explain the error.
    pub structural: bool,
    pub suspects: Vec<Suspect>,
}

impl Failure {
    fn plain(error: JsonError) -> Failure {
        Failure {
            error,
            structural: false,
            suspects: Vec::new(),
        }
    }
}

/// The first error of `text`, or `None` if it is a JSON document.
pub(super) fn scan(text: &str) -> Option<Failure> {
    if text.starts_with('\u{feff}') {
        return Some(Failure::plain(error(
            Range::new(0, 3),
            "unexpected UTF-8 byte order mark (BOM) at the start of the file",
            "save the file as UTF-8 without a BOM: Python's json module rejects it too",
        )));
    }
    Reader {
        text,
        lex: Lexer::new(text),
        stack: Vec::new(),
        suspects: Vec::new(),
        last_end: 0,
        root: None,
    }
    .run()
    .err()
}

struct Reader<'a> {
    text: &'a str,
    lex: Lexer<'a>,
    stack: Vec<Frame>,
    suspects: Vec<Suspect>,
    /// End of the last token read.
    last_end: usize,
    /// The range of the top-level value, once read, and whether it is an
    /// object or an array.
    root: Option<(Range, bool)>,
}

impl Reader<'_> {
    fn run(mut self) -> Result<(), Failure> {
        let mut state = State::Top;
        loop {
            let t = self.lex.next().map_err(Failure::plain)?;
            let prev_end = std::mem::replace(&mut self.last_end, t.range.end);
            let Token {
                tok,
                range,
                line,
                indent,
            } = t;
            let rebuild = |tok| Token {
                tok,
                range,
                line,
                indent,
            };
            state = match (state, tok) {
                (
                    State::Top | State::ArrayFirst | State::ArrayNext(_) | State::MemberValue,
                    tok,
                ) => match tok {
                    Tok::Open(kind) => self.open(kind, state, &rebuild(Tok::Open(kind)))?,
                    Tok::Str | Tok::Value => self.complete(range, false),
                    Tok::Close(Bracket::Array) if matches!(state, State::ArrayFirst) => {
                        self.close(&rebuild(Tok::Close(Bracket::Array)), prev_end)
                    }
                    tok => return Err(self.unexpected(state, rebuild(tok), prev_end)),
                },
                (State::ObjectFirst | State::ObjectNext(_), Tok::Str) => {
                    if let Some(frame) = self.stack.last_mut() {
                        frame.pending = Some(range);
                    }
                    State::Colon
                }
                (State::ObjectFirst, Tok::Close(Bracket::Object))
                | (State::AfterMember, Tok::Close(Bracket::Object)) => {
                    self.close(&rebuild(Tok::Close(Bracket::Object)), prev_end)
                }
                (State::AfterElement, Tok::Close(Bracket::Array)) => {
                    self.close(&rebuild(Tok::Close(Bracket::Array)), prev_end)
                }
                (State::Colon, Tok::Colon) => State::MemberValue,
                (State::AfterElement, Tok::Comma) => State::ArrayNext(range),
                (State::AfterMember, Tok::Comma) => State::ObjectNext(range),
                (State::End, Tok::Eof) => return Ok(()),
                (state, tok) => return Err(self.unexpected(state, rebuild(tok), prev_end)),
            };
        }
    }

    fn open(&mut self, kind: Bracket, state: State, t: &Token) -> Result<State, Failure> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Failure::plain(error(
                t.range,
                format!("too deeply nested: more than {MAX_DEPTH} levels of objects and arrays"),
                "Pyruse rules need only a few levels: look for a runaway `[` or `{`",
            )));
        }
        let key = match state {
            State::MemberValue => self.stack.last().and_then(|f| f.pending),
            _ => None,
        };
        self.stack.push(Frame {
            kind,
            open: t.range,
            line: t.line,
            indent: t.indent,
            key,
            pending: None,
        });
        Ok(match kind {
            Bracket::Object => State::ObjectFirst,
            Bracket::Array => State::ArrayFirst,
        })
    }

    /// Close the innermost bracket (the caller checked that `t` closes it).
    fn close(&mut self, t: &Token, prev_end: usize) -> State {
        let Some(frame) = self.stack.pop() else {
            return State::End;
        };
        if t.indent != frame.indent {
            let meant = self
                .stack
                .iter()
                .rev()
                .find(|a| a.kind == frame.kind && a.indent == t.indent);
            if let Some(meant) = meant {
                if self.suspects.len() >= 2 * MAX_SUSPECTS {
                    self.suspects.drain(..MAX_SUSPECTS);
                }
                self.suspects.push(Suspect {
                    kind: frame.kind,
                    open: frame.open,
                    open_line: frame.line,
                    key: frame.key,
                    insert_at: prev_end,
                    close: t.range,
                    close_line: t.line,
                    meant_line: Some(meant.line),
                });
            }
        }
        self.complete(Range::new(frame.open.start, t.range.end), true)
    }

    /// A value was read, at `range`.
    fn complete(&mut self, range: Range, container: bool) -> State {
        match self.stack.last_mut() {
            None => {
                self.root = Some((range, container));
                State::End
            }
            Some(frame) => match frame.kind {
                Bracket::Array => State::AfterElement,
                Bracket::Object => {
                    frame.pending = None;
                    State::AfterMember
                }
            },
        }
    }

    /// A failure that the missing-bracket heuristic may explain.
    fn structural(&mut self, error: JsonError, mismatch: Option<Suspect>) -> Failure {
        let skip = self.suspects.len().saturating_sub(MAX_SUSPECTS);
        let mut suspects: Vec<Suspect> = self.suspects.drain(..).skip(skip).collect();
        suspects.extend(mismatch);
        Failure {
            error,
            structural: true,
            suspects,
        }
    }

    /// The guess that the innermost open bracket lacks its closer before
    /// the closer `t` of the other kind.
    fn mismatch(&self, t: &Token, prev_end: usize) -> Option<Suspect> {
        let frame = self.stack.last()?;
        Some(Suspect {
            kind: frame.kind,
            open: frame.open,
            open_line: frame.line,
            key: frame.key,
            insert_at: prev_end,
            close: t.range,
            close_line: t.line,
            meant_line: None,
        })
    }

    /// The failure for token `t`, which state `state` does not accept.
    fn unexpected(&mut self, state: State, t: Token, prev_end: usize) -> Failure {
        let found = describe(self.text, &t);
        let shown = slice(self.text, t.range);
        if let Tok::Bad(Bad::Comment) = t.tok {
            return Failure::plain(error(
                t.range,
                format!("unexpected comment {found}"),
                bad_help(Bad::Comment, shown, false),
            ));
        }
        if matches!(t.tok, Tok::Eof) && !self.stack.is_empty() {
            return self.end_of_file(state, t.range);
        }
        match state {
            State::Top | State::ArrayFirst | State::ArrayNext(_) | State::MemberValue => {
                self.expected_value(state, &t, &found, shown)
            }
            State::ObjectFirst | State::ObjectNext(_) => {
                self.expected_key(state, &t, &found, shown, prev_end)
            }
            State::Colon => self.expected_colon(&t, &found, shown),
            State::AfterElement | State::AfterMember => {
                self.expected_separator(state, &t, &found, shown, prev_end)
            }
            State::End => self.after_end(&t, &found),
        }
    }

    /// Where a value should start: at the top, in an array, after `:`.
    fn expected_value(&mut self, state: State, t: &Token, found: &str, shown: &str) -> Failure {
        match (state, &t.tok) {
            (State::ArrayNext(comma), Tok::Close(Bracket::Array)) => {
                return trailing_comma(comma, t)
            }
            (State::Top, Tok::Eof) => {
                return Failure::plain(error(
                    t.range,
                    "expected a JSON value, found end of file",
                    "the document is empty: a rules file holds an object, `{ … }`",
                ))
            }
            _ => {}
        }
        let what = match state {
            State::Top => "expected a JSON value",
            State::MemberValue => "expected a value after `:`",
            _ => "expected a value",
        };
        let message = format!("{what}, found {found}");
        match (&t.tok, state) {
            (Tok::Bad(bad), _) => {
                Failure::plain(error(t.range, message, bad_help(*bad, shown, false)))
            }
            (Tok::Comma, State::ArrayNext(_)) => {
                Failure::plain(error(t.range, message, "remove the extra `,`"))
            }
            (Tok::Close(_) | Tok::Comma, State::MemberValue) => {
                let e = error(
                    t.range,
                    message,
                    format!("write the value here; {VALUE_HELP}"),
                );
                self.structural(e, None)
            }
            _ => {
                let e = error(t.range, message, VALUE_HELP);
                self.structural(e, None)
            }
        }
    }

    /// Where the key of a member should be: after `{` or a `,` in an object.
    fn expected_key(
        &mut self,
        state: State,
        t: &Token,
        found: &str,
        shown: &str,
        prev_end: usize,
    ) -> Failure {
        if let (State::ObjectNext(comma), Tok::Close(Bracket::Object)) = (state, &t.tok) {
            return trailing_comma(comma, t);
        }
        let message = format!("expected a string key, found {found}");
        let mut e = match &t.tok {
            Tok::Bad(bad) => {
                return Failure::plain(error(t.range, message, bad_help(*bad, shown, true)))
            }
            Tok::Open(kind) => error(
                t.range,
                message,
                format!(
                    "every member needs a key, as in `\"name\": {}`; or is a `}}` \
                     missing before this?",
                    kind.open()
                ),
            ),
            Tok::Close(Bracket::Array) => error(
                t.range,
                message,
                "close the object with `}` before this `]`",
            ),
            _ => error(
                t.range,
                message,
                "object members are written `\"key\": value`",
            ),
        };
        if let Some(frame) = self.stack.last() {
            e = e.label(frame.open, "this object is still open");
        }
        let mismatch = match (state, &t.tok) {
            (State::ObjectFirst, Tok::Close(Bracket::Array)) => self.mismatch(t, prev_end),
            _ => None,
        };
        self.structural(e, mismatch)
    }

    /// Where the `:` after a key should be.
    fn expected_colon(&mut self, t: &Token, found: &str, shown: &str) -> Failure {
        let key = self.stack.last().and_then(|f| f.pending);
        let message = format!("expected `:` after the key, found {found}");
        let mut e = match (&t.tok, key) {
            (Tok::Bad(Bad::Char('=')), _) => error(
                t.range,
                message,
                "write `:` between a key and its value, not `=`",
            ),
            (Tok::Bad(bad), _) => error(t.range, message, bad_help(*bad, shown, false)),
            (_, Some(key)) => error(
                t.range,
                message,
                format!(
                    "write `:` between the key `{}` and its value",
                    shorten(slice(self.text, key))
                ),
            ),
            (_, None) => error(t.range, message, "write `:` between a key and its value"),
        };
        if let Some(key) = key {
            e = e.label(key, "this key");
        }
        if matches!(t.tok, Tok::Bad(_)) {
            Failure::plain(e)
        } else {
            self.structural(e, None)
        }
    }

    /// Where a `,` or the closing bracket should follow an element or a
    /// member.
    fn expected_separator(
        &mut self,
        state: State,
        t: &Token,
        found: &str,
        shown: &str,
        prev_end: usize,
    ) -> Failure {
        let (kind, what, items) = match state {
            State::AfterElement => (
                Bracket::Array,
                "expected `,` or `]` after an array element",
                "elements",
            ),
            _ => (
                Bracket::Object,
                "expected `,` or `}` after an object member",
                "members",
            ),
        };
        let message = format!("{what}, found {found}");
        let noun = kind.noun();
        match &t.tok {
            Tok::Bad(bad) => Failure::plain(error(t.range, message, bad_help(*bad, shown, false))),
            Tok::Close(other) => {
                let mut e = error(
                    t.range,
                    message,
                    format!(
                        "close the {noun} with `{}` before this `{}`",
                        kind.close(),
                        other.close()
                    ),
                );
                if let Some(frame) = self.stack.last() {
                    e = e.label(frame.open, format!("this {noun} is still open"));
                }
                let mismatch = self.mismatch(t, prev_end);
                self.structural(e, mismatch)
            }
            Tok::Colon if kind == Bracket::Array => {
                let e = error(
                    t.range,
                    message,
                    "an array holds values only: for `\"key\": value` members use an \
                     object `{ … }`",
                );
                self.structural(e, None)
            }
            Tok::Colon => {
                let e = error(t.range, message, "a member has a single `:`");
                self.structural(e, None)
            }
            _ => {
                let e = error(
                    t.range,
                    message,
                    format!("separate {items} with `,`: one is probably missing here"),
                )
                .label(Range::at(prev_end), "a `,` is probably missing here");
                self.structural(e, None)
            }
        }
    }

    /// Anything after the top-level value.
    fn after_end(&self, t: &Token, found: &str) -> Failure {
        let ends = self.root.map(|(root, container)| match container {
            true => Range::new(root.end.saturating_sub(1), root.end),
            false => root,
        });
        let mut e = match &t.tok {
            Tok::Close(kind) => error(
                t.range,
                format!(
                    "unexpected `{}` after the end of the document",
                    kind.close()
                ),
                format!(
                    "remove this `{}`: nothing is open here (or a `{}` is missing \
                     earlier)",
                    kind.close(),
                    kind.open()
                ),
            ),
            _ => error(
                t.range,
                if found.starts_with('`') {
                    format!("unexpected {found} after the end of the document")
                } else {
                    format!("found {found} after the end of the document")
                },
                "a JSON file holds a single value: remove this, or put all the values \
                 in one object or array",
            ),
        };
        if let Some(ends) = ends {
            e = e.label(ends, "the document ends here");
        }
        Failure::plain(e)
    }

    fn end_of_file(&mut self, state: State, at: Range) -> Failure {
        let objects = self
            .stack
            .iter()
            .filter(|f| f.kind == Bracket::Object)
            .count();
        let arrays = self.stack.len() - objects;
        let what = match (objects, arrays) {
            (o, 0) => plural(o, "object"),
            (0, a) => plural(a, "array"),
            (o, a) => format!("{} and {}", plural(o, "object"), plural(a, "array")),
        };
        let verb = if self.stack.len() == 1 { "is" } else { "are" };
        let closers: String = self.stack.iter().rev().map(|f| f.kind.close()).collect();
        let them = if self.stack.len() == 1 { "it" } else { "them" };
        let help = match state {
            State::AfterElement | State::AfterMember | State::ArrayFirst | State::ObjectFirst => {
                format!("close {them} with `{closers}`")
            }
            _ => format!("complete the last member or element, then close {them} with `{closers}`"),
        };
        let mut e = error(
            at,
            format!("unexpected end of file: {what} {verb} still open"),
            help,
        );
        for frame in self.stack.iter().rev().take(SHOWN_OPEN) {
            e = e.label(
                frame.open,
                format!("this {} is still open", frame.kind.noun()),
            );
        }
        self.structural(e, None)
    }
}

fn trailing_comma(comma: Range, t: &Token) -> Failure {
    let (close, noun) = match t.tok {
        Tok::Close(kind) => (kind.close(), kind.noun()),
        _ => ('?', "value"),
    };
    Failure::plain(
        error(
            comma,
            format!("trailing comma before `{close}`"),
            "remove this comma",
        )
        .label(t.range, format!("the {noun} ends here")),
    )
}
