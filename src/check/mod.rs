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

use crate::builtins::{self, prep::Tables, Builtin, Kind, Prep, Step as Prepare};
use crate::config::Config;
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Label, RuleSet, Step, StepKind};
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
    pub step: Box<dyn Prepare>,
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
pub fn effective_len(steps: &[Step]) -> usize {
    steps
        .iter()
        .position(|s| s.then.is_some())
        .map_or(steps.len(), |i| i + 1)
}

pub fn check(rules: RuleSet) -> Checked {
    let mut diags = Vec::new();
    let config = Config::from_rules(&rules, &mut diags);
    let mut c = Checker {
        rules: &rules,
        index: HashMap::new(),
        diags,
        tables: Tables::default(),
        prepared: HashMap::new(),
        broken: false,
    };
    c.labels();
    c.warn_if_no_chain();
    let shapes: Vec<ChainShape> = rules
        .chains
        .iter()
        .enumerate()
        .map(|(ci, chain)| ChainShape {
            label: chain.label.clone(),
            steps: chain.steps[..effective_len(&chain.steps)]
                .iter()
                .enumerate()
                .map(|(si, step)| {
                    c.step(
                        StepRef {
                            chain: ci,
                            step: si,
                        },
                        step,
                    )
                })
                .collect(),
        })
        .collect();
    c.too_many_fields();
    let Checker {
        mut diags,
        tables,
        prepared,
        broken,
        ..
    } = c;
    let (graph, graph_diags) = workflow::build(&shapes);
    diags.extend(graph_diags);
    if graph.nodes.len() >= workflow::MAX_NODES {
        if let Some(c) = rules.chains.first() {
            diags.push(workflow::too_large(c.label_span));
        }
    }
    lints::run(&rules, &shapes, &graph, &tables, broken, &mut diags);
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

/// The checker's state while it goes through a rule set.
struct Checker<'r> {
    rules: &'r RuleSet,
    /// Chain labels to chain indexes (the first of duplicates).
    index: HashMap<&'r Label, usize>,
    diags: Vec<Diagnostic>,
    tables: Tables,
    prepared: HashMap<StepRef, Prepared>,
    /// An error that makes the lints meaningless (unknown builtin or chain,
    /// too many fields): they are not run.
    broken: bool,
}

impl<'r> Checker<'r> {
    /// Index the chain labels; a label used twice is an error.
    fn labels(&mut self) {
        let rules = self.rules;
        for (ci, c) in rules.chains.iter().enumerate() {
            if let Some(&first) = self.index.get(&c.label) {
                self.diags.push(
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
                self.index.insert(&c.label, ci);
            }
        }
    }

    /// A file of settings only is a piece of a rule directory; a file with
    /// nothing at all is probably a mistake.
    fn warn_if_no_chain(&mut self) {
        let rules = self.rules;
        if !(rules.chains.iter().all(|c| c.label.is_block()) && rules.settings.is_empty()) {
            return;
        }
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
        self.diags.push(match span {
            Some(s) => Diagnostic { span: Some(s), ..d },
            None => d,
        });
    }

    /// Check and prepare one step; its shape for the chain graph.
    fn step(&mut self, at: StepRef, step: &'r Step) -> StepShape {
        let before = self.diags.len();
        let Some(builtin) = builtins::lookup(&step.name) else {
            self.unknown_builtin(step);
            return StepShape {
                is_filter: step.else_.is_some(),
                then: None,
                else_: None,
            };
        };
        let is_filter = builtin.kind == Kind::Filter;
        self.step_kind(step, builtin);
        args::check_args(self.rules, step, builtin, &mut self.diags);
        if self.diags[before..].iter().all(|d| !d.is_error()) {
            self.prepare(at, step, builtin, before);
        }
        let then = self.target(&step.then);
        let else_ = if is_filter {
            self.target(&step.else_)
        } else {
            None
        };
        StepShape {
            is_filter,
            then,
            else_,
        }
    }

    fn unknown_builtin(&mut self, step: &Step) {
        let hint = did_you_mean(&step.name, builtins::BUILTINS.iter().map(|b| b.name)).map_or_else(
            || "see `pyrusec builtins` for the list".to_owned(),
            |s| format!("did you mean `{s}`?"),
        );
        self.diags.push(
            Diagnostic::error(
                Code::UnknownBuiltin,
                step.name_span,
                format!("unknown builtin `{}`", step.name),
            )
            .with_label("not a filter or action")
            .with_help(hint),
        );
        self.broken = true;
    }

    /// A filter written as an action or the reverse; an else on an action.
    fn step_kind(&mut self, step: &Step, builtin: &Builtin) {
        let is_filter = builtin.kind == Kind::Filter;
        if let (StepKind::Filter, Kind::Action) | (StepKind::Action, Kind::Filter) =
            (step.kind, builtin.kind)
        {
            let (was, is) = if is_filter {
                ("an action", "a filter")
            } else {
                ("a filter", "an action")
            };
            self.diags.push(
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
        if let (false, Some(e)) = (is_filter, &step.else_) {
            self.diags.push(
                Diagnostic::error(
                    Code::ElseOnAction,
                    e.span,
                    format!("`{}` is an action: it has no else branch", step.name),
                )
                .with_help("only filters choose between then and else; remove this else"),
            );
        }
    }

    /// Prepare a step whose arguments checked; a builtin that prepares
    /// nothing without saying why is an internal error.
    fn prepare(&mut self, at: StepRef, step: &Step, builtin: &Builtin, before: usize) {
        let mut prep = Prep {
            rules: self.rules,
            step,
            tables: &mut self.tables,
            diags: &mut self.diags,
            compat: self.rules.compat_at(step.span),
        };
        match (builtin.prepare)(&mut prep) {
            Some(s) => {
                self.prepared.insert(
                    at,
                    Prepared {
                        step: s,
                        name: builtin.name,
                    },
                );
            }
            None if self.diags[before..].iter().all(|d| !d.is_error()) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::Internal,
                        step.name_span,
                        format!("internal error: `{}` could not be prepared", step.name),
                    )
                    .with_help("this is a bug in pyruse: please report it with this rule file"),
                );
            }
            None => {}
        }
    }

    /// The chain a jump names; an unknown one is an error.
    fn target(&mut self, t: &Option<crate::syntax::ast::Target>) -> Option<(usize, Span)> {
        let t = t.as_ref()?;
        if let Some(&i) = self.index.get(&t.label) {
            return Some((i, t.span));
        }
        let wrong = t.label.to_string();
        let hint = did_you_mean(&wrong, self.index.keys().filter_map(|l| l.name())).map_or_else(
            || "jump to one of the chains of the rule set".to_owned(),
            |s| format!("did you mean \"{s}\"?"),
        );
        self.diags.push(
            Diagnostic::error(
                Code::UnknownChain,
                t.span,
                format!("no chain is named \"{}\"", t.label),
            )
            .with_label("unknown chain")
            .with_help(hint),
        );
        self.broken = true;
        None
    }

    fn too_many_fields(&mut self) {
        let Some(name) = &self.tables.overflow else {
            return;
        };
        self.broken = true;
        let rules = self.rules;
        self.diags.push(
            Diagnostic::error(
                Code::TooManyFields,
                rules.chains.first().map_or_else(
                    || Span::new(crate::source::FileId(0), 0, 0),
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

    #[test]
    fn a_chain_named_like_a_block_is_not_the_block() {
        let odd = "\\u{1}block@t.pyr:1:25";
        let text = format!(
            "chain \"a\" {{ A == 1 else {{ noop() }} }}\n\
             chain \"{odd}\" {{ log(message: \"odd\") }}\n\
             chain \"b\" {{ B == 1 then goto \"{odd}\" }}\n"
        );
        let (rules, diags) = crate::syntax::load_str("t.pyr", &text);
        assert!(diags.is_empty(), "{diags:?}");
        assert!(rules.chains[1].label.is_block());
        assert_eq!(
            rules.chains[1].label.to_string(),
            rules.chains[2].label.to_string()
        );
        let checked = super::check(rules);
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        let program = crate::compile::compile(checked.linked.unwrap()).unwrap();
        let text = crate::vm::disasm::disasm(&program);
        assert!(text.contains("; chain {block t.pyr:1:25}"), "{text}");
        assert!(
            text.contains("; chain \"\\u{1}block@t.pyr:1:25\""),
            "{text}"
        );
        // The jump of "b" goes to the named chain, whose step is a log.
        let named = text
            .lines()
            .position(|l| l.contains("\"\\u{1}block"))
            .unwrap();
        let log = text.lines().nth(named + 1).unwrap();
        let at = log.split_whitespace().next().unwrap();
        assert!(log.contains("action log"), "{text}");
        let jump = text
            .lines()
            .find(|l| l.contains("filter equals") && l.contains("B"))
            .unwrap();
        assert!(jump.contains(&format!("then {at} ")), "{text}");
    }
}
