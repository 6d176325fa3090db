//! The compiled matcher: Python's `re.search` on the Rust engines.

use std::sync::{Mutex, TryLockError};

use super::budget;
use super::required::Required;
use super::{
    perr, translate, Engine, PResult, PatternError, Translated, BACKTRACK_LIMIT, WORD_MISMATCH,
};

#[derive(Debug)]
enum Inner {
    Regex {
        re: ::regex::Regex,
        /// Reused across calls; a concurrent caller allocates its own.
        locs: Mutex<::regex::CaptureLocations>,
    },
    Fancy(fancy_regex::Regex),
}

impl Clone for Inner {
    fn clone(&self) -> Self {
        match self {
            Inner::Regex { re, .. } => Inner::Regex {
                re: re.clone(),
                locs: Mutex::new(re.capture_locations()),
            },
            Inner::Fancy(re) => Inner::Fancy(re.clone()),
        }
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
        Inner::Regex { re, .. } => Required::of(re.as_str()),
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
            Engine::Regex => {
                let re = ::regex::Regex::new(&t.pattern)
                    .map_err(|e| to_python(regex_engine_error(&e, &t.pattern)))?;
                Inner::Regex {
                    locs: Mutex::new(re.capture_locations()),
                    re,
                }
            }
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
        let inner = match ::regex::Regex::new(pattern) {
            Ok(re) => Inner::Regex {
                locs: Mutex::new(re.capture_locations()),
                re,
            },
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
            Inner::Regex { re, .. } => re.capture_names().map(|n| n.map(str::to_string)).collect(),
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
            Inner::Regex { re, locs } => match locs.try_lock() {
                Ok(mut locs) => Ok(self.read_regex(re, &mut locs, text, out)),
                Err(TryLockError::Poisoned(p)) => {
                    Ok(self.read_regex(re, &mut p.into_inner(), text, out))
                }
                Err(TryLockError::WouldBlock) => {
                    Ok(self.read_regex(re, &mut re.capture_locations(), text, out))
                }
            },
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

    fn read_regex(
        &self,
        re: &::regex::Regex,
        locs: &mut ::regex::CaptureLocations,
        text: &str,
        out: &mut Vec<Option<(usize, usize)>>,
    ) -> bool {
        // Finding whether there is a match runs the fast automaton; asking
        // for the groups at once may run a slower engine over the whole
        // subject. Without required literals to rule subjects out, most
        // subjects that get here do not match: ask first.
        if (self.required.is_none() && !re.is_match(text)) || re.captures_read(locs, text).is_none()
        {
            return false;
        }
        out.extend(self.slots.iter().map(|&s| locs.get(s)));
        for &g in &self.newline_groups {
            if let (Some((nl, _)), Some(Some(whole))) = (locs.get(g), out.first_mut()) {
                whole.1 = nl;
            }
        }
        true
    }
}
