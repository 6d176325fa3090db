//! Lints: warnings about rules that load but probably do not do what their
//! author meant. None of them changes behaviour.

use super::workflow::{ChainShape, Graph, Succ};
use crate::builtins::prep::Tables;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{ExprKind, RuleSet};
use crate::value::fields::FieldKind;
use std::collections::HashSet;

/// `broken`: some step or jump did not check (an unknown builtin or
/// chain…). The lints that hold whatever such a step would do still run, so
/// that `check` shows warnings beside the errors; those that depend on what
/// every step writes or reaches (a field's type, a field no step sets, a
/// chain no entry reaches) could be wrong about a misspelt step, and wait
/// for the errors to be fixed.
pub fn run(
    rules: &RuleSet,
    shapes: &[ChainShape],
    graph: &Graph,
    tables: &Tables,
    broken: bool,
    diags: &mut Vec<Diagnostic>,
) {
    dropped_steps(rules, diags);
    target_above(rules, shapes, graph, diags);
    if !broken {
        never_true(rules, tables, diags);
        unset_fields(tables, diags);
        unreachable_chains(rules, graph, diags);
    }
}

/// Steps after an explicit `then` never run.
fn dropped_steps(rules: &RuleSet, diags: &mut Vec<Diagnostic>) {
    for c in &rules.chains {
        let n = super::effective_len(&c.steps);
        if n < c.steps.len() {
            let jump = &c.steps[n - 1];
            let first = c.steps[n].span;
            let last = c.steps[c.steps.len() - 1].span;
            let mut d = Diagnostic::warning(
                Code::DroppedSteps,
                first.to(last),
                if c.steps.len() - n == 1 {
                    "this step comes after an explicit `then`: it never runs".to_owned()
                } else {
                    format!(
                        "these {} steps come after an explicit `then`: they never run",
                        c.steps.len() - n
                    )
                },
            )
            .with_label("never run")
            .with_help("move these steps into the chain the `then` jumps to, or remove them");
            if let Some(t) = &jump.then {
                d = d.with_related(t.span, "the jump that ends this chain");
            }
            diags.push(d);
        }
    }
}

/// A jump target written above its first use also runs top-level.
fn target_above(
    rules: &RuleSet,
    shapes: &[ChainShape],
    graph: &Graph,
    diags: &mut Vec<Diagnostic>,
) {
    let mut warned = HashSet::new();
    for (ci, shape) in shapes.iter().enumerate() {
        for s in &shape.steps {
            for (target, span) in [s.then, s.else_].into_iter().flatten() {
                if target < ci
                    && graph.built_top_level[target]
                    && !rules.chains[target].label.is_block()
                    && warned.insert(target)
                {
                    diags.push(
                        Diagnostic::warning(
                            Code::TargetAbove,
                            span,
                            format!(
                                "\"{}\" is written above this jump, so it also runs as a top-level chain",
                                rules.chains[target].label
                            ),
                        )
                        .with_related(rules.chains[target].label_span, "written here")
                        .with_help("move the target chain below its first use if it should only run when jumped to"),
                    );
                }
            }
        }
    }
}

/// Comparisons whose types make them always false.
fn never_true(rules: &RuleSet, tables: &Tables, diags: &mut Vec<Diagnostic>) {
    let written: HashSet<_> = tables.writes.iter().copied().collect();
    for c in &rules.chains {
        let n = super::effective_len(&c.steps);
        for s in &c.steps[..n] {
            let Some(op) = crate::builtins::lookup(&s.name).and_then(|b| b.operator) else {
                continue;
            };
            let field = s.args.iter().rev().find(|a| a.name == "field");
            let Some((ExprKind::Field(name) | ExprKind::Str(name), fspan)) =
                field.map(|a| (&a.value.kind, a.value.span))
            else {
                continue;
            };
            let Some(&id) = tables.field_ids.get(name.as_str()) else {
                continue;
            };
            if written.contains(&id) || !is_journal_name(name) {
                continue;
            }
            let kind = FieldKind::of(name);
            let values: Vec<&crate::syntax::ast::Expr> = s
                .args
                .iter()
                .filter(|a| a.name == "value" || a.name == "values")
                .flat_map(|a| match &a.value.kind {
                    ExprKind::List(items) => items.iter().collect::<Vec<_>>(),
                    _ => vec![&a.value],
                })
                .collect();
            for v in values {
                let clash = match (&kind, &v.kind) {
                    (FieldKind::Int, ExprKind::Str(_)) => Some(("an integer", "a string")),
                    (
                        FieldKind::Text | FieldKind::Message,
                        ExprKind::Int(_) | ExprKind::Float(_),
                    ) => Some(("text", "a number")),
                    _ => None,
                };
                if let Some((is, other)) = clash {
                    let what = if op == "==" || op == "in" {
                        "is never true"
                    } else {
                        "always fails (and takes the else branch)"
                    };
                    let fix = match &v.kind {
                        ExprKind::Str(s) => {
                            format!("compare with the number {s} instead of the string")
                        }
                        ExprKind::Int(i) => {
                            format!("compare with the string \"{i}\" instead of the number")
                        }
                        _ => "compare with a value of the field's type".into(),
                    };
                    diags.push(
                        Diagnostic::warning(
                            Code::NeverTrue,
                            v.span,
                            format!("`{name} {op} …` {what}: {name} is {is}, this is {other}"),
                        )
                        .with_related(fspan, "the field")
                        .with_help(fix),
                    );
                }
            }
        }
    }
}

/// Journal field names are upper case (`MESSAGE`, `_HOSTNAME`, …).
pub fn is_journal_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Fields read but set by no step and not journal fields.
fn unset_fields(tables: &Tables, diags: &mut Vec<Diagnostic>) {
    let written: HashSet<_> = tables.writes.iter().copied().collect();
    let mut warned = HashSet::new();
    for &(id, span) in &tables.reads {
        let name = &tables.fields[usize::from(id.0)].name;
        if written.contains(&id) || is_journal_name(name) || !warned.insert(id) {
            continue;
        }
        let similar = tables
            .writes
            .iter()
            .map(|w| tables.fields[usize::from(w.0)].name.as_str())
            .collect::<Vec<_>>();
        let hint = crate::diag::did_you_mean(name, similar).map_or_else(
            || "set it with a regex capture or a `save`, or check its spelling".to_owned(),
            |s| format!("did you mean `{s}`?"),
        );
        diags.push(
            Diagnostic::warning(
                Code::UnsetField,
                span,
                format!("no step sets `{name}`, and it is not a journal field"),
            )
            .with_help(hint),
        );
    }
}

/// Chains no entry can reach.
fn unreachable_chains(rules: &RuleSet, graph: &Graph, diags: &mut Vec<Diagnostic>) {
    let mut reached = vec![false; graph.nodes.len()];
    let mut stack = Vec::new();
    if let Succ::Node(n) = graph.entry {
        stack.push(n);
    }
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut reached[n as usize], true) {
            continue;
        }
        let node = &graph.nodes[n as usize];
        for s in [node.then, node.else_] {
            if let Succ::Node(m) = s {
                stack.push(m);
            }
        }
    }
    let mut chains_reached = vec![false; rules.chains.len()];
    for (i, node) in graph.nodes.iter().enumerate() {
        if reached[i] {
            chains_reached[node.chain] = true;
        }
    }
    for (ci, c) in rules.chains.iter().enumerate() {
        if !chains_reached[ci] && !c.steps.is_empty() && !c.label.is_block() {
            diags.push(
                Diagnostic::warning(
                    Code::UnreachableChain,
                    c.label_span,
                    format!("no entry can reach \"{}\"", c.label),
                )
                .with_help("the chain before it ends every path with an action, and nothing jumps here; end that chain with a filter, or jump here"),
            );
        }
    }
}
