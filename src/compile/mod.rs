//! The compiler: from the checker's linked rule graph to bytecode.
//!
//! Input: a [`Linked`] rule set (the graph of step instances, with the
//! prepared step of each AST step). Output: a [`Program`] with one
//! instruction per step instance and a final `Stop`, successors resolved to
//! instruction indexes, and the span of each instruction's step. Copies of a
//! chain share its prepared steps, so a regex is compiled once however many
//! times its chain is copied.
//!
//! [`build`] runs the whole front end: check, then compile.

use crate::check::workflow::Succ;
use crate::check::{Linked, StepRef};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span, Syntax};
use crate::syntax::ast::RuleSet;
use crate::vm::{ChainId, Instr, Pc, Program, Step, StepId};
use std::collections::HashMap;

/// The result of [`build`]: a program when the rules have no error.
pub struct Built {
    pub program: Option<Program>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Built {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Check a rule set and, when it has no error, compile it.
pub fn build(rules: RuleSet) -> Built {
    let checked = crate::check::check(rules);
    let mut diagnostics = checked.diagnostics;
    let program = match checked.linked.map(compile) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            diagnostics.push(e);
            None
        }
        None => None,
    };
    Built {
        program,
        diagnostics,
    }
}

/// Compile a linked rule set. The checker only hands over rule sets whose
/// steps all prepared; a step missing anyway is an internal error.
pub fn compile(linked: Linked) -> Result<Program, Diagnostic> {
    let Linked {
        rules,
        config,
        graph,
        mut prepared,
        tables,
    } = linked;
    let pc_of = |n: usize| {
        u32::try_from(n).map(Pc).map_err(|_| {
            Diagnostic::error(
                Code::Internal,
                rules.chains.first().map_or(no_span(), |c| c.label_span),
                "internal error: the rule graph has too many steps",
            )
        })
    };
    let stop = pc_of(graph.nodes.len())?;
    let pc = |s: Succ| match s {
        Succ::Node(n) => Pc(n),
        Succ::Open | Succ::Stop => stop,
    };
    let mut step_ids: HashMap<StepRef, StepId> = HashMap::new();
    let mut steps: Vec<Box<dyn Step>> = Vec::new();
    let mut step_names = Vec::new();
    let mut code = Vec::with_capacity(graph.nodes.len() + 1);
    let mut spans = Vec::with_capacity(graph.nodes.len() + 1);
    let mut chain_of = Vec::with_capacity(graph.nodes.len() + 1);
    for node in &graph.nodes {
        let key = StepRef {
            chain: node.chain,
            step: node.step,
        };
        let at = step_location(&rules, key);
        let id = match step_ids.get(&key) {
            Some(&id) => id,
            None => {
                let Some(p) = prepared.remove(&key) else {
                    return Err(Diagnostic::error(
                        Code::Internal,
                        at,
                        "internal error: this step reached the compiler unprepared",
                    )
                    .with_help("this is a bug in pyruse: please report it with the rule file"));
                };
                let id = StepId(pc_of(steps.len())?.0);
                steps.push(p.step);
                step_names.push(p.name);
                step_ids.insert(key, id);
                id
            }
        };
        code.push(if node.is_filter {
            Instr::Filter {
                step: id,
                then: pc(node.then),
                else_: pc(node.else_),
            }
        } else {
            Instr::Action {
                step: id,
                then: pc(node.then),
            }
        });
        spans.push(at);
        chain_of.push(Some(ChainId(pc_of(node.chain)?.0)));
    }
    code.push(Instr::Stop);
    spans.push(rules.chains.last().map_or(no_span(), |c| c.span));
    chain_of.push(None);
    Ok(Program {
        code,
        spans,
        chain_of,
        labels: rules.chains.iter().map(|c| c.label.clone()).collect(),
        steps,
        step_names,
        entry: pc(graph.entry),
        fields: tables.fields,
        field_ids: tables.field_ids,
        counters: tables.counters,
        dnat_masks: tables.dnat_masks,
        sources: rules.sources,
        config,
        locations: Default::default(),
    })
}

fn no_span() -> Span {
    Span::new(FileId(0), 0, 0)
}

/// Where a step is reported at run time: its first character in `.pyr`,
/// its builtin name in JSON.
fn step_location(rules: &RuleSet, at: StepRef) -> Span {
    let s = &rules.chains[at.chain].steps[at.step];
    match rules.sources.file(s.span.file).syntax {
        Syntax::Pyr => s.span.at_start(),
        Syntax::Json => s.name_span,
    }
}
