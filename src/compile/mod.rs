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
use crate::check::{Linked, Prepared, StepRef};
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
    let stop = Pc(index(graph.nodes.len(), &rules)?);
    let pc = |s: Succ| match s {
        Succ::Node(n) => Pc(n),
        Succ::Open | Succ::Stop => stop,
    };
    let mut table = StepTable::default();
    let mut code = Vec::with_capacity(graph.nodes.len() + 1);
    let mut spans = Vec::with_capacity(graph.nodes.len() + 1);
    let mut chain_of = Vec::with_capacity(graph.nodes.len() + 1);
    for node in &graph.nodes {
        let key = StepRef {
            chain: node.chain,
            step: node.step,
        };
        let at = step_location(&rules, key);
        let id = table.id(key, at, &mut prepared, &rules)?;
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
        chain_of.push(Some(ChainId(index(node.chain, &rules)?)));
    }
    code.push(Instr::Stop);
    spans.push(rules.chains.last().map_or(no_span(), |c| c.span));
    chain_of.push(None);
    let mut memo = crate::vm::memo::Plan::new(&table.steps, &tables.writes);
    memo.find_runs(&code);
    Ok(Program {
        code,
        spans,
        chain_of,
        labels: rules.chains.iter().map(|c| c.label.clone()).collect(),
        steps: table.steps,
        memo,
        step_names: table.names,
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

/// A count or an index as the `u32` of code addresses and ids.
fn index(n: usize, rules: &RuleSet) -> Result<u32, Diagnostic> {
    u32::try_from(n).map_err(|_| {
        Diagnostic::error(
            Code::Internal,
            rules.chains.first().map_or(no_span(), |c| c.label_span),
            "internal error: the rule graph has too many steps",
        )
    })
}

/// The prepared steps of the program, each once however many nodes of the
/// graph run it.
#[derive(Default)]
struct StepTable {
    ids: HashMap<StepRef, StepId>,
    steps: Vec<Box<dyn Step>>,
    names: Vec<&'static str>,
}

impl StepTable {
    /// The id of the step at `key` (reported at `at`), taken from
    /// `prepared` the first time.
    fn id(
        &mut self,
        key: StepRef,
        at: Span,
        prepared: &mut HashMap<StepRef, Prepared>,
        rules: &RuleSet,
    ) -> Result<StepId, Diagnostic> {
        if let Some(&id) = self.ids.get(&key) {
            return Ok(id);
        }
        let Some(p) = prepared.remove(&key) else {
            return Err(Diagnostic::error(
                Code::Internal,
                at,
                "internal error: this step reached the compiler unprepared",
            )
            .with_help("this is a bug in pyruse: please report it with the rule file"));
        };
        let id = StepId(index(self.steps.len(), rules)?);
        self.steps.push(p.step);
        self.names.push(p.name);
        self.ids.insert(key, id);
        Ok(id)
    }
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
