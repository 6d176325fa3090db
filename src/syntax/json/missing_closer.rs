//! The missing-bracket heuristic (see the documentation of [`super`]): the
//! guesses that [`super::diagnose`] noted, checked by reading the text
//! again with the closer inserted.

use super::diagnose::{self, Failure, Suspect};
use super::tokens::{shorten, slice};
use super::{error, JsonError, Range};

/// Check each guess by reading again with the closer inserted; keep the one
/// that gets furthest (the earliest on a tie), if it gets past the error.
pub(super) fn guess(text: &str, failure: &Failure) -> Option<JsonError> {
    let at = failure.error.range.start;
    let mut best: Option<(usize, &Suspect)> = None;
    for suspect in &failure.suspects {
        let (before, after) = match (text.get(..suspect.insert_at), text.get(suspect.insert_at..)) {
            (Some(before), Some(after)) => (before, after),
            _ => continue,
        };
        let mut fixed = String::with_capacity(text.len() + 1);
        fixed.push_str(before);
        fixed.push(suspect.kind.close());
        fixed.push_str(after);
        let reached = match diagnose::scan(&fixed) {
            None => usize::MAX,
            Some(f) if f.error.range.start > suspect.insert_at => f.error.range.start - 1,
            Some(f) => f.error.range.start,
        };
        if reached > at && best.is_none_or(|(b, _)| reached > b) {
            best = Some((reached, suspect));
        }
    }
    let (_, s) = best?;
    let noun = s.kind.noun();
    let close = s.kind.close();
    let found_close = slice(text, s.close);
    let opener = match s.key {
        Some(key) => format!("`{}: {}`", shorten(slice(text, key)), s.kind.open()),
        None => format!("the `{}`", s.kind.open()),
    };
    let mut e = error(
        Range::at(s.insert_at),
        format!(
            "missing `{close}` to close the {noun} opened on line {}",
            s.open_line
        ),
        format!(
            "insert `{close}` to close {opener} (line {}) before the `{found_close}` on line {}",
            s.open_line, s.close_line
        ),
    )
    .label(s.open, format!("this {noun} is never closed"));
    e = match s.meant_line {
        Some(meant) => e.label(
            s.close,
            format!(
                "this `{found_close}` lines up with line {meant} but closes the {noun} opened on \
                 line {}",
                s.open_line
            ),
        ),
        None => e.label(
            s.close,
            format!("the {noun} must be closed before this `{found_close}`"),
        ),
    };
    if failure.error.range != s.close {
        e = e.label(
            failure.error.range,
            format!("the error shows up here: {}", failure.error.message),
        );
    }
    Some(e)
}
