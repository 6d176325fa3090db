//! How chains link into one graph (docs/legacy-semantics.md §3), exactly as Pyruse does.
//!
//! Input: the chains with their effective steps (steps after an explicit
//! `then` are dropped). Output: nodes, one per step *instance* — a chain
//! with open exits is copied at each jump to it — with resolved successors,
//! and the entry node.
//!
//! - Chains are walked in file order; a chain already built as a jump
//!   target is skipped. The open exits of a top-level chain go to the next
//!   top-level chain built.
//! - Open exits: the `else` of a filter without one, the `then` of a filter
//!   that ends its chain, and the open exits of a chain reached by a jump.
//! - An action that ends its chain stops the entry.
//! - A jump reuses an already built chain when it has no open exits, and
//!   builds the chain afresh otherwise.

use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::Label;

/// Where a step goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Succ {
    Node(u32),
    /// Not linked yet (an open exit).
    Open,
    Stop,
}

/// A step instance.
#[derive(Clone, Debug)]
pub struct Node {
    pub chain: usize,
    pub step: usize,
    pub is_filter: bool,
    pub then: Succ,
    pub else_: Succ,
}

/// What the builder needs to know of a step.
#[derive(Clone, Debug)]
pub struct StepShape {
    pub is_filter: bool,
    /// Index of the target chain of an explicit `then`, with the jump span.
    pub then: Option<(usize, Span)>,
    pub else_: Option<(usize, Span)>,
}

/// What the builder needs to know of a chain.
#[derive(Clone, Debug)]
pub struct ChainShape {
    pub label: Label,
    /// Effective steps (dropped ones removed).
    pub steps: Vec<StepShape>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Port {
    Then,
    Else,
}

pub struct Graph {
    pub nodes: Vec<Node>,
    pub entry: Succ,
    /// For each chain, the order in which it was first built (None: never).
    pub built_top_level: Vec<bool>,
}

/// Above this many step instances, the copies of chains with open exits
/// have run away: refuse rather than exhaust memory.
pub const MAX_NODES: usize = 200_000;

struct Builder<'a> {
    chains: &'a [ChainShape],
    nodes: Vec<Node>,
    built: Vec<Option<(Succ, bool)>>,
    path: Vec<usize>,
    diags: Vec<Diagnostic>,
    too_large: bool,
}

pub fn build(chains: &[ChainShape]) -> (Graph, Vec<Diagnostic>) {
    let mut b = Builder {
        chains,
        nodes: Vec::new(),
        built: vec![None; chains.len()],
        path: Vec::new(),
        diags: Vec::new(),
        too_large: false,
    };
    let mut built_top_level = vec![false; chains.len()];
    let mut pending: Vec<(u32, Port)> = Vec::new();
    let mut entry = Succ::Stop;
    let mut have_entry = false;
    for ci in 0..chains.len() {
        if chains[ci].label.is_block() || b.built[ci].is_some() {
            continue;
        }
        built_top_level[ci] = true;
        b.path.push(ci);
        let mut open = Vec::new();
        let e = b.chain(ci, &mut open);
        b.path.pop();
        b.built[ci] = Some((e, e == Succ::Open || !open.is_empty()));
        if let Succ::Node(_) = e {
            for (n, p) in pending.drain(..) {
                b.link(n, p, e);
            }
            if !have_entry {
                entry = e;
                have_entry = true;
            }
        }
        pending.extend(open);
        if b.too_large {
            break;
        }
    }
    for (n, p) in pending {
        b.link(n, p, Succ::Stop);
    }
    (
        Graph {
            nodes: b.nodes,
            entry,
            built_top_level,
        },
        b.diags,
    )
}

impl Builder<'_> {
    fn link(&mut self, n: u32, p: Port, to: Succ) {
        let node = &mut self.nodes[n as usize];
        match p {
            Port::Then => node.then = to,
            Port::Else => node.else_ = to,
        }
    }

    /// Build chain `ci`; its open exits are appended to `open`.
    fn chain(&mut self, ci: usize, open: &mut Vec<(u32, Port)>) -> Succ {
        let steps = &self.chains[ci].steps;
        if steps.is_empty() {
            return Succ::Open;
        }
        if self.nodes.len() + steps.len() > MAX_NODES {
            self.too_large = true;
            return Succ::Stop;
        }
        let first = self.nodes.len() as u32;
        for (si, s) in steps.iter().enumerate() {
            self.nodes.push(Node {
                chain: ci,
                step: si,
                is_filter: s.is_filter,
                then: Succ::Stop,
                else_: Succ::Stop,
            });
        }
        let n = steps.len();
        for si in 0..n {
            let s = self.chains[ci].steps[si].clone();
            let id = first + si as u32;
            let next = (si + 1 < n).then(|| Succ::Node(id + 1));
            let then = match (s.then, next) {
                (Some((t, span)), _) => self.jump(t, span, id, Port::Then, open),
                (None, Some(nx)) => nx,
                (None, None) if s.is_filter => {
                    open.push((id, Port::Then));
                    Succ::Open
                }
                (None, None) => Succ::Stop,
            };
            self.nodes[id as usize].then = then;
            if s.is_filter {
                let else_ = match s.else_ {
                    Some((t, span)) => self.jump(t, span, id, Port::Else, open),
                    None => {
                        open.push((id, Port::Else));
                        Succ::Open
                    }
                };
                self.nodes[id as usize].else_ = else_;
            }
        }
        Succ::Node(first)
    }

    fn jump(
        &mut self,
        target: usize,
        span: Span,
        from: u32,
        port: Port,
        open: &mut Vec<(u32, Port)>,
    ) -> Succ {
        if self.too_large {
            return Succ::Stop;
        }
        if let Some(pos) = self.path.iter().position(|&c| c == target) {
            let mut names: Vec<String> = self.path[pos..]
                .iter()
                .map(|&c| format!("\"{}\"", self.chains[c].label))
                .collect();
            names.push(format!("\"{}\"", self.chains[target].label));
            self.diags.push(
                Diagnostic::error(
                    Code::JumpLoop,
                    span,
                    format!("jump loop: {}", names.join(" → ")),
                )
                .with_label("this jump closes the loop")
                .with_help(
                    "an entry would run these chains forever; make one of the jumps go elsewhere",
                ),
            );
            return Succ::Stop;
        }
        if let Some((entry, false)) = self.built[target] {
            return entry;
        }
        self.path.push(target);
        let mut sub = Vec::new();
        let entry = self.chain(target, &mut sub);
        self.path.pop();
        if self.built[target].is_none() {
            self.built[target] = Some((entry, entry == Succ::Open || !sub.is_empty()));
        }
        open.extend(sub);
        if entry == Succ::Open {
            open.push((from, port));
        }
        entry
    }
}

/// A diagnostic for a graph over [`MAX_NODES`].
pub fn too_large(span: Span) -> Diagnostic {
    Diagnostic::error(
        Code::GraphTooLarge,
        span,
        format!("the rules expand to more than {MAX_NODES} steps"),
    )
    .with_help("chains with open exits are copied at each jump to them; end shared chains with an action, or jump to them less often")
}
