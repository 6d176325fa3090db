//! The compiler: from the linked rule graph to bytecode.
//!
//! Input: the graph of step instances built by the checker, with the
//! prepared step of each AST step. Output: a [`Program`] with one
//! instruction per step instance and a final `Stop`, successors resolved to
//! instruction indexes, and the span of each instruction's step. Copies of a
//! chain share its prepared steps, so a regex is compiled once however many
//! times its chain is copied.

use crate::builtins::prep::Tables;
use crate::builtins::Step;
use crate::check::workflow::{Graph, Succ};
use crate::config::Config;
use crate::syntax::ast::RuleSet;
use crate::vm::{Instr, Pc, Program, StepId};
use std::collections::HashMap;

pub fn compile(
    rules: RuleSet,
    config: Config,
    graph: Graph,
    mut prepared: HashMap<(usize, usize), Box<dyn Step>>,
    names: HashMap<(usize, usize), &'static str>,
    tables: Tables,
) -> Program {
    let stop = Pc(graph.nodes.len() as u32);
    let pc = |s: Succ| match s {
        Succ::Node(n) => Pc(n),
        Succ::Open | Succ::Stop => stop,
    };
    let mut step_ids: HashMap<(usize, usize), StepId> = HashMap::new();
    let mut steps: Vec<Box<dyn Step>> = Vec::new();
    let mut step_names = Vec::new();
    let mut code = Vec::with_capacity(graph.nodes.len() + 1);
    let mut spans = Vec::with_capacity(graph.nodes.len() + 1);
    let mut chain_of = Vec::with_capacity(graph.nodes.len() + 1);
    for node in &graph.nodes {
        let key = (node.chain, node.step);
        let id = match step_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = StepId(steps.len() as u32);
                // The checker only hands over graphs whose steps all prepared.
                let Some(s) = prepared.remove(&key) else {
                    code.push(Instr::Stop);
                    spans.push(step_location(&rules, node.chain, node.step));
                    chain_of.push(node.chain as u32);
                    continue;
                };
                steps.push(s);
                step_names.push(names.get(&key).copied().unwrap_or("?"));
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
        spans.push(step_location(&rules, node.chain, node.step));
        chain_of.push(node.chain as u32);
    }
    code.push(Instr::Stop);
    spans.push(rules.chains.last().map_or(
        crate::source::Span::new(crate::source::FileId(0), 0, 0),
        |c| c.span,
    ));
    chain_of.push(u32::MAX);
    Program {
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
    }
}

/// Where a step is reported at run time: its first character in `.pyr`,
/// its builtin name in JSON.
fn step_location(rules: &RuleSet, chain: usize, step: usize) -> crate::source::Span {
    let s = &rules.chains[chain].steps[step];
    match rules.sources.file(s.span.file).syntax {
        crate::source::Syntax::Pyr => s.span.at_start(),
        crate::source::Syntax::Json => s.name_span,
    }
}
