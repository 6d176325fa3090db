//! Checks done by Python's compiler (look-behind widths, group references),
//! and the features refused here.

use super::parsed::{combine, Node, Rep, Span};
use super::{perr, PResult, MAXREPEAT};

fn cap_width(lo: u64, hi: u64) -> (u64, u64) {
    (lo.min(MAXREPEAT - 1), hi.min(MAXREPEAT))
}

/// Python's `getwidth` (min, max), with the compiler's look-behind check and
/// this module's own refusals.
pub(super) fn check(node: &Node, flags: u16, widths: &mut Vec<(u64, u64)>) -> PResult<(u64, u64)> {
    Ok(match node {
        Node::Lit { .. } | Node::Class { .. } | Node::Any { .. } => (1, 1),
        Node::At { .. } => (0, 0),
        Node::Group {
            index,
            add,
            del,
            body,
            ..
        } => {
            let w = check(body, combine(flags, *add, *del), widths)?;
            if let Some(i) = index {
                widths[*i] = w;
            }
            w
        }
        Node::Atomic { body, .. } => check(body, flags, widths)?,
        Node::Seq { items, .. } => {
            let (mut lo, mut hi) = (0u64, 0u64);
            for it in items {
                let (a, b) = check(it, flags, widths)?;
                lo = lo.saturating_add(a);
                hi = hi.saturating_add(b);
            }
            cap_width(lo, hi)
        }
        Node::Alt { branches, .. } => {
            let (mut lo, mut hi) = (MAXREPEAT - 1, 0u64);
            for b in branches {
                let (a, c) = check(b, flags, widths)?;
                lo = lo.min(a);
                hi = hi.max(c);
            }
            cap_width(lo, hi)
        }
        Node::Repeat {
            min,
            max,
            rep,
            body,
            qspan,
            ..
        } => check_repeat(*min, *max, *rep, body, *qspan, flags, widths)?,
        Node::Backref { group, .. } => widths[*group],
        Node::Look {
            behind, body, span, ..
        } => {
            let (lo, hi) = check(body, flags, widths)?;
            if *behind && lo != hi {
                return Err(perr(
                    span.0,
                    span.1,
                    "look-behind requires fixed-width pattern",
                    "every way through a look-behind must match the same number of characters",
                ));
            }
            (0, 0)
        }
        Node::Cond { yes, no, .. } => {
            let (a, b) = check(yes, flags, widths)?;
            match no {
                Some(no) => {
                    let (c, d) = check(no, flags, widths)?;
                    (a.min(c), b.max(d))
                }
                None => (0, b),
            }
        }
    })
}

/// The width of a repeat, and the repeats refused here: those Python and
/// the Rust engines would give different groups.
fn check_repeat(
    min: u64,
    max: u64,
    rep: Rep,
    body: &Node,
    qspan: Span,
    flags: u16,
    widths: &mut Vec<(u64, u64)>,
) -> PResult<(u64, u64)> {
    let (lo, hi) = check(body, flags, widths)?;
    if rep == Rep::Possessive && max > 1 && has_capture(body) {
        return Err(perr(
            qspan.0,
            qspan.1,
            "capturing group inside a possessive repeat",
            "Python 3.11 records wrong group positions here (a CPython bug): write an atomic group instead, e.g. (?>(?:(a)|b)*) for (?:(a)|b)*+",
        ));
    }
    if max > 1 && min != max && lo == 0 && !zero_width(body) && has_nullable_capture(body, widths) {
        return Err(perr(
            qspan.0,
            qspan.1,
            "repeat of a part that can match the empty string through a capturing group",
            "Python keeps the captures of a last empty iteration and Rust engines do not: make the capturing group non-empty (e.g. (a+)* instead of (a*)*), or move it out of the repeat",
        ));
    }
    Ok(cap_width(lo.saturating_mul(min), hi.saturating_mul(max)))
}

fn has_capture(node: &Node) -> bool {
    match node {
        Node::Lit { .. }
        | Node::Class { .. }
        | Node::Any { .. }
        | Node::At { .. }
        | Node::Backref { .. } => false,
        Node::Group { index, body, .. } => index.is_some() || has_capture(body),
        Node::Atomic { body, .. } | Node::Repeat { body, .. } | Node::Look { body, .. } => {
            has_capture(body)
        }
        Node::Seq { items, .. } => items.iter().any(has_capture),
        Node::Alt { branches, .. } => branches.iter().any(has_capture),
        Node::Cond { yes, no, .. } => has_capture(yes) || no.as_deref().is_some_and(has_capture),
    }
}

/// The node never consumes anything (Python's maximum width is 0); its
/// repeats are written without a quantifier, see
/// `Emitter::zero_width_repeat` in `emit.rs`.
pub(super) fn zero_width(node: &Node) -> bool {
    match node {
        Node::Lit { .. } | Node::Class { .. } | Node::Any { .. } | Node::Backref { .. } => false,
        Node::At { .. } | Node::Look { .. } => true,
        Node::Group { body, .. } | Node::Atomic { body, .. } => zero_width(body),
        Node::Seq { items, .. } => items.iter().all(zero_width),
        Node::Alt { branches, .. } => branches.iter().all(zero_width),
        Node::Repeat { max, body, .. } => *max == 0 || zero_width(body),
        Node::Cond { yes, no, .. } => {
            zero_width(yes)
                && match no {
                    Some(no) => zero_width(no),
                    None => true,
                }
        }
    }
}

fn has_nullable_capture(node: &Node, widths: &[(u64, u64)]) -> bool {
    match node {
        Node::Lit { .. }
        | Node::Class { .. }
        | Node::Any { .. }
        | Node::At { .. }
        | Node::Backref { .. } => false,
        Node::Group { index, body, .. } => {
            index.is_some_and(|i| widths[i].0 == 0) || has_nullable_capture(body, widths)
        }
        Node::Atomic { body, .. } | Node::Repeat { body, .. } | Node::Look { body, .. } => {
            has_nullable_capture(body, widths)
        }
        Node::Seq { items, .. } => items.iter().any(|n| has_nullable_capture(n, widths)),
        Node::Alt { branches, .. } => branches.iter().any(|n| has_nullable_capture(n, widths)),
        Node::Cond { yes, no, .. } => {
            has_nullable_capture(yes, widths)
                || no.as_ref().is_some_and(|n| has_nullable_capture(n, widths))
        }
    }
}
