//! The parsed form of a pattern: its nodes, class items and flags.

use super::{F_A, F_I, F_L, F_M, F_S, F_T, F_U, F_X, TYPE_FLAGS};

pub(super) type Span = (usize, usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    /// `^`
    Beginning,
    /// `$`
    End,
    /// `\A`
    BeginString,
    /// `\Z`
    EndString,
    /// `\b`
    Boundary,
    /// `\B`
    NonBoundary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cat {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Item {
    Lit(u32),
    Range(u32, u32),
    Cat(Cat),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rep {
    Greedy,
    Lazy,
    Possessive,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Lit {
        c: u32,
        span: Span,
    },
    Class {
        negate: bool,
        items: Vec<Item>,
        span: Span,
    },
    Any {
        span: Span,
    },
    At {
        at: At,
        span: Span,
    },
    Group {
        index: Option<usize>,
        add: u16,
        del: u16,
        body: Box<Node>,
        span: Span,
    },
    Atomic {
        body: Box<Node>,
        span: Span,
    },
    Seq {
        items: Vec<Node>,
        span: Span,
    },
    Alt {
        branches: Vec<Node>,
        span: Span,
    },
    Repeat {
        min: u64,
        max: u64,
        rep: Rep,
        body: Box<Node>,
        span: Span,
        qspan: Span,
    },
    Backref {
        group: usize,
        span: Span,
    },
    Look {
        behind: bool,
        negate: bool,
        body: Box<Node>,
        span: Span,
    },
    Cond {
        group: usize,
        yes: Box<Node>,
        no: Option<Box<Node>>,
        span: Span,
    },
}

impl Node {
    pub(super) fn span(&self) -> Span {
        match self {
            Node::Lit { span, .. }
            | Node::Class { span, .. }
            | Node::Any { span }
            | Node::At { span, .. }
            | Node::Group { span, .. }
            | Node::Atomic { span, .. }
            | Node::Seq { span, .. }
            | Node::Alt { span, .. }
            | Node::Repeat { span, .. }
            | Node::Backref { span, .. }
            | Node::Look { span, .. }
            | Node::Cond { span, .. } => *span,
        }
    }

    /// Matches only the empty string, captures nothing, and is translated to
    /// nothing or to empty non-capturing groups (`(?:)`, `(?:)*`, ``).
    pub(super) fn is_trivially_empty(&self) -> bool {
        match self {
            Node::Seq { items, .. } => items.iter().all(Node::is_trivially_empty),
            Node::Group {
                index: None, body, ..
            }
            | Node::Repeat { body, .. } => body.is_trivially_empty(),
            Node::Cond { yes, no, .. } => {
                yes.is_trivially_empty()
                    && match no {
                        Some(no) => no.is_trivially_empty(),
                        None => true,
                    }
            }
            _ => false,
        }
    }
}

pub(super) struct Parsed {
    pub(super) root: Node,
    pub(super) flags: u16,
    pub(super) group_count: usize,
    pub(super) names: Vec<(usize, String)>,
}

/// Python's `_combine_flags`.
pub(super) fn combine(flags: u16, add: u16, del: u16) -> u16 {
    let mut flags = flags;
    if add & TYPE_FLAGS != 0 {
        flags &= !TYPE_FLAGS;
    }
    (flags | add) & !del
}

pub(super) fn flag_of(t: &str) -> Option<u16> {
    Some(match t {
        "i" => F_I,
        "L" => F_L,
        "m" => F_M,
        "s" => F_S,
        "x" => F_X,
        "a" => F_A,
        "t" => F_T,
        "u" => F_U,
        _ => return None,
    })
}

pub(super) fn is_alpha_token(t: &str) -> bool {
    let mut it = t.chars();
    matches!((it.next(), it.next()), (Some(c), None) if c.is_alphabetic())
}
