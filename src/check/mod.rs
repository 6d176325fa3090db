//! The checker: from a [`RuleSet`] to a [`Linked`] rule set, with every
//! problem reported as a diagnostic.
//!
//! It resolves builtins and arguments against their signatures, prepares
//! each step (regexes, networks, templates), links the chains into a graph
//! as Pyruse does ([`workflow`]) and runs the lints ([`lints`]); the
//! compiler (`crate::compile`) turns what it hands over into bytecode. All errors of a file are reported, not just the
//! first; a step with an error is not prepared, and problems that follow
//! from it are not reported twice.

pub mod args;
pub mod lints;
pub mod workflow;

use crate::builtins::{self, prep::Tables, Kind, Prep, Step};
use crate::config::Config;
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::syntax::ast::{RuleSet, StepKind};
use std::collections::HashMap;
use workflow::{ChainShape, Graph, StepShape};

/// The result of checking: the linked rule set when there is no error.
pub struct Checked {
    pub linked: Option<Linked>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A step of the rule set: its chain's index in [`RuleSet::chains`] and
/// its index in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StepRef {
    pub chain: usize,
    pub step: usize,
}

/// A step ready to run: the builtin's prepared step and its name.
pub struct Prepared {
    pub step: Box<dyn Step>,
    pub name: &'static str,
}

/// What the checker hands the compiler: a rule set without errors, every
/// step of it prepared, its chains linked into one graph.
pub struct Linked {
    pub rules: RuleSet,
    pub config: Config,
    pub graph: Graph,
    pub prepared: HashMap<StepRef, Prepared>,
    pub tables: Tables,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Number of steps of a chain that run: up to and including the first step
/// with an explicit `then`.
pub fn effective_len(steps: &[crate::syntax::ast::Step]) -> usize {
    steps
        .iter()
        .position(|s| s.then.is_some())
        .map_or(steps.len(), |i| i + 1)
}

pub fn check(rules: RuleSet) -> Checked {
    let mut diags = Vec::new();
    let config = Config::from_rules(&rules, &mut diags);

    // Labels.
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (ci, c) in rules.chains.iter().enumerate() {
        if let Some(&first) = index.get(c.label.as_str()) {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateChain,
                    c.label_span,
                    format!("a chain named \"{}\" already exists", c.label),
                )
                .with_label("second definition")
                .with_related(rules.chains[first].label_span, "first defined here")
                .with_help("give each chain its own label, or merge the two"),
            );
        } else {
            index.insert(&c.label, ci);
        }
    }
    // A file of settings only is a piece of a rule directory; a file with
    // nothing at all is probably a mistake.
    if rules.chains.iter().all(|c| c.anonymous) && rules.settings.is_empty() {
        let span = rules
            .sources
            .files()
            .next()
            .map(|(id, _)| crate::source::Span::new(id, 0, 0));
        let d = Diagnostic {
            severity: crate::diag::Severity::Warning,
            ..Diagnostic::bare(
                Code::NoChain,
                "these rules have no chain: no entry will be acted on",
            )
            .with_help("write at least one chain: chain \"My rules\" { … }")
        };
        diags.push(match span {
            Some(s) => Diagnostic { span: Some(s), ..d },
            None => d,
        });
    }

    // Steps.
    let mut tables = Tables::default();
    let mut prepared: HashMap<StepRef, Prepared> = HashMap::new();
    let mut shapes = Vec::new();
    let mut broken = false;
    for (ci, chain) in rules.chains.iter().enumerate() {
        let n = effective_len(&chain.steps);
        let mut steps = Vec::new();
        for (si, step) in chain.steps[..n].iter().enumerate() {
            let before = diags.len();
            let builtin = match builtins::lookup(&step.name) {
                Some(b) => b,
                None => {
                    let hint = did_you_mean(&step.name, builtins::BUILTINS.iter().map(|b| b.name))
                        .map_or_else(
                            || "see `pyrusec builtins` for the list".to_owned(),
                            |s| format!("did you mean `{s}`?"),
                        );
                    diags.push(
                        Diagnostic::error(
                            Code::UnknownBuiltin,
                            step.name_span,
                            format!("unknown builtin `{}`", step.name),
                        )
                        .with_label("not a filter or action")
                        .with_help(hint),
                    );
                    broken = true;
                    steps.push(StepShape {
                        is_filter: step.else_.is_some(),
                        then: None,
                        else_: None,
                    });
                    continue;
                }
            };
            let is_filter = builtin.kind == Kind::Filter;
            match (step.kind, builtin.kind) {
                (StepKind::Filter, Kind::Action) | (StepKind::Action, Kind::Filter) => {
                    let (was, is) = if is_filter {
                        ("an action", "a filter")
                    } else {
                        ("a filter", "an action")
                    };
                    diags.push(
                        Diagnostic::error(
                            Code::WrongStepKind,
                            step.name_span,
                            format!("`{}` is {is}, used here as {was}", step.name),
                        )
                        .with_help(if is_filter {
                            format!("write \"filter\": \"filter_{}\"", step.name)
                        } else {
                            format!("write \"action\": \"action_{}\"", step.name)
                        }),
                    );
                }
                _ => {}
            }
            if !is_filter {
                if let Some(e) = &step.else_ {
                    diags.push(
                        Diagnostic::error(
                            Code::ElseOnAction,
                            e.span,
                            format!("`{}` is an action: it has no else branch", step.name),
                        )
                        .with_help("only filters choose between then and else; remove this else"),
                    );
                }
            }
            args::check_args(&rules, step, builtin, &mut diags);
            if diags[before..].iter().all(|d| !d.is_error()) {
                let mut prep = Prep {
                    rules: &rules,
                    step,
                    tables: &mut tables,
                    diags: &mut diags,
                    compat: rules.compat_at(step.span),
                };
                match (builtin.prepare)(&mut prep) {
                    Some(s) => {
                        prepared.insert(
                            StepRef {
                                chain: ci,
                                step: si,
                            },
                            Prepared {
                                step: s,
                                name: builtin.name,
                            },
                        );
                    }
                    None => {
                        if diags[before..].iter().all(|d| !d.is_error()) {
                            diags.push(
                                Diagnostic::error(
                                    Code::Internal,
                                    step.name_span,
                                    format!(
                                        "internal error: `{}` could not be prepared",
                                        step.name
                                    ),
                                )
                                .with_help(
                                    "this is a bug in pyruse: please report it with this rule file",
                                ),
                            );
                        }
                    }
                }
            }
            let mut target = |t: &Option<crate::syntax::ast::Target>| {
                let t = t.as_ref()?;
                match index.get(t.label.as_str()) {
                    Some(&i) => Some((i, t.span)),
                    None => {
                        let hint = did_you_mean(&t.label, index.keys().copied()).map_or_else(
                            || "jump to one of the chains of the rule set".to_owned(),
                            |s| format!("did you mean \"{s}\"?"),
                        );
                        diags.push(
                            Diagnostic::error(
                                Code::UnknownChain,
                                t.span,
                                format!("no chain is named \"{}\"", t.label),
                            )
                            .with_label("unknown chain")
                            .with_help(hint),
                        );
                        broken = true;
                        None
                    }
                }
            };
            let then = target(&step.then);
            let else_ = if is_filter { target(&step.else_) } else { None };
            steps.push(StepShape {
                is_filter,
                then,
                else_,
            });
        }
        shapes.push(ChainShape {
            label: chain.label.clone(),
            anonymous: chain.anonymous,
            steps,
        });
    }

    if let Some(name) = &tables.overflow {
        broken = true;
        diags.push(
            Diagnostic::error(
                Code::TooManyFields,
                rules.chains.first().map_or_else(
                    || crate::source::Span::new(crate::source::FileId(0), 0, 0),
                    |c| c.label_span,
                ),
                format!(
                    "the rules name more than {} distinct fields (the first one past the limit is `{name}`)",
                    crate::builtins::prep::MAX_FIELDS
                ),
            )
            .with_help("save fewer regex groups, or split the rules across several daemons"),
        );
    }
    let (graph, graph_diags) = workflow::build(&shapes);
    diags.extend(graph_diags);
    if graph.nodes.len() >= workflow::MAX_NODES {
        if let Some(c) = rules.chains.first() {
            diags.push(workflow::too_large(c.label_span));
        }
    }
    if !broken {
        lints::run(&rules, &shapes, &graph, &tables, &mut diags);
    }
    diags.sort_by_key(|d| d.span.map_or((u32::MAX, u32::MAX), |s| (s.file.0, s.start)));

    let errors = diags.iter().any(Diagnostic::is_error);
    let linked = (!errors).then(|| Linked {
        rules,
        config,
        graph,
        prepared,
        tables,
    });
    Checked {
        linked,
        diagnostics: diags,
    }
}

/// The configuration only (for tools that do not run rules).
pub fn config_of(rules: &RuleSet) -> Config {
    Config::from_rules(rules, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;

    #[test]
    fn more_fields_than_ids_is_an_error_not_a_wrapped_id() {
        // Spread over many steps: 100 fields per message.
        let steps: String = (0..=crate::builtins::prep::MAX_FIELDS / 100)
            .map(|s| {
                let fields: String = (s * 100..s * 100 + 100)
                    .map(|i| format!("{{F{i}}}"))
                    .collect();
                format!("    log(message: \"{fields}\")\n")
            })
            .collect();
        let text = format!("chain \"Many\" {{\n{steps}}}\n");
        let (rules, diags) = crate::syntax::load_str("many.pyr", &text);
        assert!(diags.is_empty(), "{diags:?}");
        let checked = super::check(rules);
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, Code::TooManyFields);
        assert!(
            errors[0].message.contains("`F65535`"),
            "{}",
            errors[0].message
        );
        assert!(checked.linked.is_none());
    }
}
