//! The compiled matcher: Python's `re.search` on the Rust engines.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, TryLockError};

use super::budget;
use super::required::Required;
use super::{
    perr, translate, Engine, PResult, PatternError, Translated, BACKTRACK_LIMIT, WORD_MISMATCH,
};

#[derive(Debug)]
enum Inner {
    Regex {
        /// The pattern, as the `regex` engine reads it.
        pattern: Box<str>,
        /// The pattern compiled with Unicode: when deferred (see
        /// [`defer_unicode_forms`]), built for the first subject that is
        /// not ASCII, and the error of a failed build kept.
        unicode: OnceLock<Result<Unicode, String>>,
        /// The same pattern without Unicode, for ASCII subjects.
        ascii: Option<Ascii>,
    },
    Fancy(fancy_regex::Regex),
}

/// Whether the Unicode form of a pattern that has an ASCII twin waits for
/// a first subject that needs it ([`defer_unicode_forms`]).
static DEFER: AtomicBool = AtomicBool::new(false);

/// From now on, compile the Unicode form of a pattern only when a first
/// subject that is not ASCII needs it (`pyrusec replay`): those forms take
/// most of the time it takes to load a library of hundreds of regexes, and
/// log lines are nearly all ASCII. The cost: the Unicode form of a pattern
/// can exceed the engine's size limit where its ASCII twin does not
/// (`\w{1000}`), and such an error is then the step's run-time error
/// instead of a diagnostic at load. `pyrusec check` and `pyrused` compile
/// every pattern in full, so that no such error waits for a line.
pub fn defer_unicode_forms(yes: bool) {
    DEFER.store(yes, Ordering::Relaxed);
}

/// A pattern compiled with Unicode, with the group offsets reused across
/// calls (a concurrent caller allocates its own).
#[derive(Debug)]
struct Unicode {
    re: ::regex::Regex,
    locs: Mutex<::regex::CaptureLocations>,
}

impl Unicode {
    fn new(re: ::regex::Regex) -> Unicode {
        Unicode {
            locs: Mutex::new(re.capture_locations()),
            re,
        }
    }
}

impl Clone for Unicode {
    fn clone(&self) -> Self {
        Unicode::new(self.re.clone())
    }
}

/// A pattern compiled without Unicode (`\d`, `\w`, `\s`, `\b`, `.`,
/// case folding, all ASCII), which finds exactly the matches and groups
/// of the Unicode pattern in a subject that is all ASCII: Unicode classes
/// hold the same ASCII characters as their ASCII forms, and a subject
/// without other characters cannot tell them apart. Its automata are a
/// fraction of the size (`\S` alone is hundreds of states in UTF-8), and
/// most log lines are ASCII. `None` when the pattern needs Unicode (a
/// `\p{…}` class, a non-ASCII character in a class).
#[derive(Debug)]
struct Ascii {
    re: ::regex::bytes::Regex,
    locs: Mutex<::regex::bytes::CaptureLocations>,
}

impl Ascii {
    fn of(pattern: &str) -> Option<Ascii> {
        let re = ::regex::bytes::RegexBuilder::new(pattern)
            .unicode(false)
            .build()
            .ok()?;
        Some(Ascii {
            locs: Mutex::new(re.capture_locations()),
            re,
        })
    }
}

impl Clone for Ascii {
    fn clone(&self) -> Self {
        Ascii {
            re: self.re.clone(),
            locs: Mutex::new(self.re.capture_locations()),
        }
    }
}

impl Inner {
    /// Compile `pattern` for the `regex` engine: its errors are those of
    /// `regex::Regex::new`. When deferred, the Unicode form waits if there
    /// is an ASCII twin and the pattern parses (then only the engine's size
    /// limit can fail).
    fn regex(pattern: &str) -> Result<Inner, ::regex::Error> {
        Inner::regex_deferring(pattern, DEFER.load(Ordering::Relaxed))
    }

    fn regex_deferring(pattern: &str, defer: bool) -> Result<Inner, ::regex::Error> {
        let ascii = Ascii::of(pattern);
        let unicode = OnceLock::new();
        let wait = defer && ascii.is_some() && regex_syntax::Parser::new().parse(pattern).is_ok();
        if !wait {
            let _ = unicode.set(Ok(Unicode::new(::regex::Regex::new(pattern)?)));
        }
        Ok(Inner::Regex {
            pattern: pattern.into(),
            unicode,
            ascii,
        })
    }

    /// The Unicode form of a `regex` pattern, compiled on first need.
    fn unicode<'a>(
        pattern: &str,
        cell: &'a OnceLock<Result<Unicode, String>>,
    ) -> Result<&'a Unicode, String> {
        cell.get_or_init(|| {
            ::regex::Regex::new(pattern).map(Unicode::new).map_err(|e| {
                format!(
                    "the pattern cannot be compiled for text that is not ASCII: {}",
                    regex_engine_error(&e, pattern).message
                )
            })
        })
        .as_ref()
        .map_err(Clone::clone)
    }
}

impl Clone for Inner {
    fn clone(&self) -> Self {
        match self {
            Inner::Regex {
                pattern,
                unicode,
                ascii,
            } => Inner::Regex {
                pattern: pattern.clone(),
                unicode: unicode
                    .get()
                    .cloned()
                    .map_or_else(OnceLock::new, OnceLock::from),
                ascii: ascii.clone(),
            },
            Inner::Fancy(re) => Inner::Fancy(re.clone()),
        }
    }
}

/// Run `f` on the value of `m`: locked when free, else on a fresh one (a
/// concurrent caller).
fn with_lock<T, R>(m: &Mutex<T>, fresh: impl FnOnce() -> T, f: impl FnOnce(&mut T) -> R) -> R {
    match m.try_lock() {
        Ok(mut v) => f(&mut v),
        Err(TryLockError::Poisoned(p)) => f(&mut p.into_inner()),
        Err(TryLockError::WouldBlock) => f(&mut fresh()),
    }
}

/// A compiled matcher: `regex::Regex` or `fancy_regex::Regex` (with
/// [`BACKTRACK_LIMIT`]), with Python's group layout.
#[derive(Debug, Clone)]
pub struct Matcher {
    inner: Inner,
    /// The pattern as written.
    source: String,
    group_count: usize,
    group_names: Vec<(usize, String)>,
    /// Rust group index of each reported group (0..=group_count).
    slots: Vec<usize>,
    /// Hidden groups of a translated tail `$`.
    newline_groups: Vec<usize>,
    /// Used instead of this matcher for an empty subject.
    for_empty_subject: Option<Box<Matcher>>,
    /// Used instead of this matcher for a subject holding a character of
    /// [`WORD_MISMATCH`].
    for_word_mismatch: Option<Box<Matcher>>,
    /// See [`Translated::ascii_subjects_only`].
    ascii_subjects_only: bool,
    /// Literals one of which every match contains (`regex` engine only).
    required: Option<Required>,
}

fn word_mismatch(text: &str) -> bool {
    static RE: std::sync::OnceLock<::regex::Regex> = std::sync::OnceLock::new();
    !text.is_ascii()
        && RE
            .get_or_init(|| ::regex::Regex::new(WORD_MISMATCH).expect("valid WORD_MISMATCH"))
            .is_match(text)
}

/// An error of a Rust engine: where in the Rust pattern (if known), and what.
struct EngineError {
    /// Byte range in the Rust pattern.
    span: Option<(usize, usize)>,
    message: String,
    help: &'static str,
}

const GENERIC_HELP: &str = "simplify this part of the pattern";

fn regex_engine_error(e: &::regex::Error, pattern: &str) -> EngineError {
    match e {
        ::regex::Error::Syntax(s) => EngineError {
            span: caret_span(s, pattern),
            message: s
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or(s)
                .to_string(),
            help: GENERIC_HELP,
        },
        ::regex::Error::CompiledTooBig(limit) => EngineError {
            span: None,
            message: format!("the compiled pattern exceeds the size limit of {limit} bytes"),
            help: "reduce large counted repeats such as {1000} or nested repeats",
        },
        _ => EngineError {
            span: None,
            message: e.to_string(),
            help: GENERIC_HELP,
        },
    }
}

/// The byte range of `pattern` pointed at by the carets of a `regex` syntax
/// error message (single-line patterns only).
fn caret_span(message: &str, pattern: &str) -> Option<(usize, usize)> {
    if pattern.contains(['\n', '\r']) {
        return None;
    }
    let mut lines = message.lines();
    if lines.next()? != "regex parse error:" {
        return None;
    }
    lines.next()?;
    let carets = lines.next()?;
    let column = carets.find('^')?.checked_sub(4)?;
    let width = carets.trim().len();
    if width == 0 || !carets.trim().chars().all(|c| c == '^') {
        return None;
    }
    let mut offsets = pattern
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(pattern.len()));
    let start = offsets.nth(column)?;
    let end = offsets.nth(width - 1).unwrap_or(pattern.len());
    Some((start, end))
}

fn fancy_engine_error(e: &fancy_regex::Error) -> EngineError {
    match e {
        fancy_regex::Error::ParseError(pos, kind) => EngineError {
            span: Some((*pos, *pos + 1)),
            message: kind.to_string(),
            help: match kind {
                fancy_regex::ParseError::TargetNotRepeatable => {
                    "fancy-regex cannot repeat a look-around or an anchor: remove the repeat"
                }
                _ => GENERIC_HELP,
            },
        },
        fancy_regex::Error::CompileError(c) => EngineError {
            span: None,
            message: c.to_string(),
            help: match c {
                fancy_regex::CompileError::LookBehindNotConst => {
                    "fancy-regex needs a look-behind of a width it can compute: avoid back-references inside it"
                }
                _ => GENERIC_HELP,
            },
        },
        _ => EngineError {
            span: None,
            message: e.to_string(),
            help: GENERIC_HELP,
        },
    }
}

fn runtime_error(e: &fancy_regex::Error) -> String {
    match e {
        fancy_regex::Error::RuntimeError(fancy_regex::RuntimeError::BacktrackLimitExceeded) => {
            format!(
                "the pattern needed more than {BACKTRACK_LIMIT} backtracking steps on this text"
            )
        }
        _ => format!("the backtracking engine failed on this text: {e}"),
    }
}

fn build_fancy(pattern: &str) -> Result<fancy_regex::Regex, EngineError> {
    fancy_regex::RegexBuilder::new(pattern)
        .backtrack_limit(BACKTRACK_LIMIT)
        .build()
        .map_err(|e| fancy_engine_error(&e))
}

fn fancy_tree_needs_backtracking(e: &fancy_regex::Expr) -> bool {
    use fancy_regex::Expr;
    match e {
        Expr::LookAround(..)
        | Expr::Backref { .. }
        | Expr::BackrefWithRelativeRecursionLevel { .. } => true,
        Expr::Concat(v) | Expr::Alt(v) => v.iter().any(fancy_tree_needs_backtracking),
        Expr::Group(b) | Expr::AtomicGroup(b) => fancy_tree_needs_backtracking(b),
        Expr::Repeat { child, .. } => fancy_tree_needs_backtracking(child),
        Expr::Conditional {
            condition,
            true_branch,
            false_branch,
        } => [condition, true_branch, false_branch]
            .iter()
            .any(|b| fancy_tree_needs_backtracking(b)),
        _ => false,
    }
}

/// Whether a repeat holds another unbounded repeat, or an alternation, that
/// can match the same text in several ways: the shapes that make a
/// backtracking engine try exponentially many paths (`(a+)+`, `(a|aa)*`).
fn fancy_tree_nests_repeats(e: &fancy_regex::Expr, in_repeat: bool) -> bool {
    use fancy_regex::Expr;
    match e {
        Expr::Repeat { child, hi, .. } => {
            let unbounded = *hi == usize::MAX;
            (in_repeat && unbounded) || fancy_tree_nests_repeats(child, in_repeat || unbounded)
        }
        Expr::Alt(v) => {
            (in_repeat && v.len() > 1) || v.iter().any(|c| fancy_tree_nests_repeats(c, in_repeat))
        }
        Expr::Concat(v) => v.iter().any(|c| fancy_tree_nests_repeats(c, in_repeat)),
        Expr::Group(b) | Expr::AtomicGroup(b) => fancy_tree_nests_repeats(b, in_repeat),
        Expr::LookAround(b, _) => fancy_tree_nests_repeats(b, in_repeat),
        Expr::Conditional {
            condition,
            true_branch,
            false_branch,
        } => [condition, true_branch, false_branch]
            .iter()
            .any(|b| fancy_tree_nests_repeats(b, in_repeat)),
        _ => false,
    }
}

fn required_of(inner: &Inner) -> Option<Required> {
    match inner {
        Inner::Regex { pattern, .. } => Required::of(pattern),
        Inner::Fancy(_) => None,
    }
}

impl Matcher {
    /// Whether the pattern runs on the backtracking engine and nests
    /// repeats so that some texts may need exponentially many steps (each
    /// match is still bounded, see [`budget`]).
    pub fn may_backtrack_exponentially(&self) -> bool {
        match &self.inner {
            Inner::Regex { .. } => false,
            Inner::Fancy(re) => fancy_regex::Expr::parse_tree(re.as_str())
                .is_ok_and(|tree| fancy_tree_nests_repeats(&tree.expr, false)),
        }
    }

    /// Translate and compile. Errors from the Rust engine are mapped back to
    /// a range of the Python source where possible (else the whole pattern).
    pub fn python(pattern: &str) -> Result<Matcher, PatternError> {
        Matcher::from_translated(&translate(pattern)?)
    }

    /// Compile the result of [`translate`].
    pub fn from_translated(t: &Translated) -> Result<Matcher, PatternError> {
        let to_python = |e: EngineError| {
            let (start, end) = e
                .span
                .map_or((0, t.source.len()), |(off, _)| t.python_span(off));
            perr(
                start,
                end,
                format!(
                    "the Rust {:?} engine cannot run this pattern: {}",
                    t.engine, e.message
                ),
                e.help,
            )
        };
        let inner = match t.engine {
            Engine::Regex => Inner::regex(&t.pattern)
                .map_err(|e| to_python(regex_engine_error(&e, &t.pattern)))?,
            Engine::Fancy => Inner::Fancy(build_fancy(&t.pattern).map_err(to_python)?),
        };
        let variant = |v: &Option<Box<Translated>>| -> PResult<Option<Box<Matcher>>> {
            Ok(match v {
                Some(v) => Some(Box::new(Matcher::from_translated(v)?)),
                None => None,
            })
        };
        let for_empty_subject = variant(&t.for_empty_subject)?;
        let for_word_mismatch = variant(&t.for_word_mismatch)?;
        Ok(Matcher {
            source: t.source.clone(),
            group_count: t.group_count,
            group_names: t.group_names.clone(),
            slots: t.group_slots.clone(),
            newline_groups: t.newline_groups.clone(),
            for_empty_subject,
            for_word_mismatch,
            ascii_subjects_only: t.ascii_subjects_only,
            required: required_of(&inner),
            inner,
        })
    }

    /// Compile a pattern in native syntax (Rust `regex` syntax, falling back
    /// to fancy-regex, and its syntax, only when the pattern uses look-around
    /// or back-references, which `regex` rejects).
    pub fn native(pattern: &str) -> Result<Matcher, PatternError> {
        let to_error = |e: EngineError| {
            let (start, end) = e.span.map_or((0, pattern.len()), |(start, end)| {
                let start = start.min(pattern.len());
                let mut end = end.clamp(start, pattern.len());
                while !pattern.is_char_boundary(end) {
                    end += 1;
                }
                (start, end)
            });
            let help = if e.help == GENERIC_HELP {
                "this is checked with the syntax of the Rust regex crate (and fancy-regex for look-arounds and back-references)"
            } else {
                e.help
            };
            perr(start, end, e.message, help)
        };
        let inner = match Inner::regex(pattern) {
            Ok(inner) => inner,
            Err(err) => {
                let message = err.to_string();
                let fancy = message.contains("look-around")
                    || message.contains("backreferences")
                    || fancy_regex::Expr::parse_tree(pattern)
                        .is_ok_and(|tree| fancy_tree_needs_backtracking(&tree.expr));
                if !fancy {
                    return Err(to_error(regex_engine_error(&err, pattern)));
                }
                Inner::Fancy(build_fancy(pattern).map_err(to_error)?)
            }
        };
        let names: Vec<Option<String>> = match &inner {
            Inner::Regex { ascii: Some(a), .. } => {
                a.re.capture_names()
                    .map(|n| n.map(str::to_string))
                    .collect()
            }
            Inner::Regex {
                pattern, unicode, ..
            } => Inner::unicode(pattern, unicode)
                .map(|u| {
                    u.re.capture_names()
                        .map(|n| n.map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            Inner::Fancy(re) => re.capture_names().map(|n| n.map(str::to_string)).collect(),
        };
        let group_count = names.len().saturating_sub(1);
        Ok(Matcher {
            source: pattern.to_string(),
            group_count,
            group_names: names
                .into_iter()
                .enumerate()
                .filter_map(|(i, n)| n.map(|n| (i, n)))
                .collect(),
            slots: (0..=group_count).collect(),
            newline_groups: Vec::new(),
            for_empty_subject: None,
            for_word_mismatch: None,
            ascii_subjects_only: false,
            required: required_of(&inner),
            inner,
        })
    }

    /// Number of capture groups (excluding group 0), like Python's
    /// `re.compile(p).groups`.
    pub fn group_count(&self) -> usize {
        self.group_count
    }

    /// Names of named groups with their group index, in order of index
    /// (computed at compile time; this returns a copy).
    pub fn group_names(&self) -> Vec<(usize, String)> {
        self.group_names.clone()
    }

    /// The pattern as written (Python or native syntax).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The pattern as written, between slashes: `/…/`.
    pub fn describe(&self) -> String {
        format!("/{}/", self.source)
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The engine this matcher runs on.
    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Regex { .. } => Engine::Regex,
            Inner::Fancy(_) => Engine::Fancy,
        }
    }

    /// Python `re.search` (unanchored). On a match, fill `out` (cleared
    /// first) with one entry per group `0..=group_count`: the byte range, or
    /// `None` when the group did not take part. Returns `Ok(true)` on a match,
    /// `Ok(false)` on none, `Err(message)` when the backtracking engine hits
    /// its limit.
    pub fn search(
        &self,
        text: &str,
        out: &mut Vec<Option<(usize, usize)>>,
    ) -> Result<bool, String> {
        out.clear();
        if self.ascii_subjects_only && !text.is_ascii() {
            return Err("this pattern has a case-insensitive back-reference, which is only supported on ASCII text".into());
        }
        if text.is_empty() {
            if let Some(m) = &self.for_empty_subject {
                return m.search(text, out);
            }
        } else if let Some(m) = &self.for_word_mismatch {
            if word_mismatch(text) {
                return m.search(text, out);
            }
        }
        if self.required.as_ref().is_some_and(|r| !r.may_match(text)) {
            return Ok(false);
        }
        match &self.inner {
            Inner::Regex { ascii: Some(a), .. } if text.is_ascii() => Ok(with_lock(
                &a.locs,
                || a.re.capture_locations(),
                |locs| {
                    let text = text.as_bytes();
                    let found = (self.required.is_some() || a.re.is_match(text))
                        && a.re.captures_read(locs, text).is_some();
                    found && self.read_groups(|g| locs.get(g), out)
                },
            )),
            Inner::Regex {
                pattern, unicode, ..
            } => {
                let u = Inner::unicode(pattern, unicode)?;
                let re = &u.re;
                Ok(with_lock(
                    &u.locs,
                    || re.capture_locations(),
                    |locs| {
                        let found = (self.required.is_some() || re.is_match(text))
                            && re.captures_read(locs, text).is_some();
                        found && self.read_groups(|g| locs.get(g), out)
                    },
                ))
            }
            Inner::Fancy(re) => {
                match budget::spend(|| re.captures(text).map_err(|e| runtime_error(&e))) {
                    Err(over) => Err(over),
                    Ok(Ok(None)) => Ok(false),
                    Ok(Ok(Some(caps))) => {
                        out.extend(
                            self.slots
                                .iter()
                                .map(|&s| caps.get(s).map(|m| (m.start(), m.end()))),
                        );
                        Ok(true)
                    }
                    Ok(Err(e)) => Err(e),
                }
            }
        }
    }

    /// Fill `out` from the groups of a match (`get`: a group's range) and
    /// return true.
    ///
    /// The search before: finding whether there is a match runs the fast
    /// automaton; asking for the groups at once may run a slower engine
    /// over the whole subject. Without required literals to rule subjects
    /// out, most subjects that get there do not match: ask first.
    fn read_groups(
        &self,
        get: impl Fn(usize) -> Option<(usize, usize)>,
        out: &mut Vec<Option<(usize, usize)>>,
    ) -> bool {
        out.extend(self.slots.iter().map(|&s| get(s)));
        for &g in &self.newline_groups {
            if let (Some((nl, _)), Some(Some(whole))) = (get(g), out.first_mut()) {
                whole.1 = nl;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Spans = Option<Vec<Option<(usize, usize)>>>;

    /// Every group's range, by the Unicode engine and by the ASCII twin.
    fn both(re: &::regex::Regex, ascii: &Ascii, text: &str) -> (Spans, Spans) {
        let unicode = re.captures(text).map(|c| {
            (0..c.len())
                .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                .collect()
        });
        let twin = ascii.re.captures(text.as_bytes()).map(|c| {
            (0..c.len())
                .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                .collect()
        });
        (unicode, twin)
    }

    /// On ASCII text, the twin finds what the Unicode pattern finds: every
    /// class, boundary and case fold, around every ASCII character.
    #[test]
    fn the_ascii_twin_agrees_with_unicode_on_ascii_text() {
        let patterns = [
            r"(\w+)",
            r"(\W+)",
            r"(\d+)",
            r"(\D+)",
            r"(\s+)",
            r"(\S+)",
            r"\b(.)\b",
            r"\B(.)\B",
            r"(?i)(k+)",
            r"(?i)(s+)",
            r"(?i)([a-z]+)",
            r"(.)",
            r"(?s)(.)",
            r"([^a])",
            r"([^\s]+)",
            r"(?m)^(.*)$",
            r"(?i)(\w)\W",
            r"([[:alpha:]]+)",
            r"([[:space:]])",
        ];
        for p in patterns {
            let re = ::regex::Regex::new(p).unwrap();
            let ascii = Ascii::of(p).expect("an ASCII twin");
            for c in 0u8..128 {
                for text in [
                    format!("{}", c as char),
                    format!("a{}b", c as char),
                    format!("1 {}{} x", c as char, c as char),
                ] {
                    let (unicode, twin) = both(&re, &ascii, &text);
                    assert_eq!(unicode, twin, "pattern {p:?} on {text:?}");
                }
            }
        }
        // And on a log line, through the matcher, with the twin in use.
        let m = Matcher::native(
            r"^Failed (?P<m>\S+) for (?P<u>\w+) from (?P<ip>[\d.]+) port (?P<p>\d+)",
        )
        .unwrap();
        let Inner::Regex { ascii, .. } = &m.inner else {
            panic!("the regex engine")
        };
        assert!(ascii.is_some());
        let mut out = Vec::new();
        assert!(m
            .search(
                "Failed password for root from 192.0.2.7 port 22 ssh2",
                &mut out
            )
            .unwrap());
        assert_eq!(
            out,
            vec![
                Some((0, 47)),
                Some((7, 15)),
                Some((20, 24)),
                Some((30, 39)),
                Some((45, 47))
            ]
        );
        // Non-ASCII text goes to the Unicode pattern: `\w` takes "é".
        assert!(m
            .search(
                "Failed password for josé from 192.0.2.7 port 22 ssh2",
                &mut out
            )
            .unwrap());
        assert_eq!(out[2], Some((20, 25)));
    }

    /// Deferred, the Unicode form is built for the first subject that
    /// needs it; a build that fails is that subject's error, not the
    /// load's, and ASCII subjects still match.
    #[test]
    fn a_deferred_unicode_form_is_built_on_first_need() {
        let mut out = Vec::new();
        let mut m = Matcher::native(r"^(\w+) from$").unwrap();
        m.inner = Inner::regex_deferring(r"^(\w+) from$", true).unwrap();
        let Inner::Regex { unicode, .. } = &m.inner else {
            panic!("the regex engine")
        };
        assert!(unicode.get().is_none(), "not built at load");
        assert!(m.search("root from", &mut out).unwrap());
        assert!(m.search("josé from", &mut out).unwrap());
        assert_eq!(out[1], Some((0, 5)));
        let Inner::Regex { unicode, .. } = &m.inner else {
            panic!("the regex engine")
        };
        assert!(unicode.get().is_some_and(Result::is_ok), "built for josé");

        // Too big in Unicode, not in ASCII: refused in full, deferred it
        // loads, matches ASCII, and fails on the first other subject.
        let big = r"^\w{1000}$";
        assert!(matches!(
            Inner::regex_deferring(big, false),
            Err(::regex::Error::CompiledTooBig(_))
        ));
        let mut m = Matcher::native(r"^\w{3}$").unwrap();
        m.inner = Inner::regex_deferring(big, true).unwrap();
        assert!(m.search(&"a".repeat(1000), &mut out).unwrap());
        let err = m
            .search(&format!("é{}", "a".repeat(999)), &mut out)
            .unwrap_err();
        assert!(
            err.contains("cannot be compiled for text that is not ASCII"),
            "{err}"
        );
        assert!(err.contains("size limit"), "{err}");
        // Syntax errors are never deferred.
        assert!(Inner::regex_deferring(r"(?-u:\xFF)", true).is_err());
    }

    /// A pattern that needs Unicode has no twin, and still runs.
    #[test]
    fn a_pattern_that_needs_unicode_has_no_twin() {
        assert!(Ascii::of(r"\p{Greek}+").is_none());
        let m = Matcher::native(r"(\p{Greek}+)").unwrap();
        let mut out = Vec::new();
        assert!(!m.search("abc", &mut out).unwrap());
        assert!(m.search("x αβ", &mut out).unwrap());
    }
}
