//! Services and parameters of the rule library, resolved once every file is
//! loaded.
//!
//! A library file declares `service "sshd"`, then the parameters, chains and
//! examples of that service. `param NAME = DEFAULT` declares a parameter:
//! global when written outside a service (`banTime`), else the service's own
//! (`sshd.mode`). Every service also has every global parameter under its
//! own name (`sshd.banTime`, defaulting to the global `banTime`) and
//! `SERVICE.enabled`. A local file overrides any of them with
//! `set NAME = VALUE`, without editing the library, as fail2ban's
//! `jail.local` does.
//!
//! This pass, run after loading and before checking:
//! - checks each override (a parameter that exists, with did-you-mean, and
//!   a value of the default's type) and takes it out of the core settings;
//! - keeps the chains of the enabled services only (when no `enabled` is
//!   set to `true` anywhere, every service is enabled: that is how a
//!   library directory replays as shipped), and the chains whose `when`
//!   holds;
//! - replaces every `$NAME` by its value;
//! - gives each `failure(…)` of a service the service's name and parameters
//!   for the arguments it does not write itself.

use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Arg, Expr, ExprKind, ParamDecl, RuleSet, Setting};
use std::collections::{HashMap, HashSet};

/// The arguments of `failure` that a service's parameters fill in.
pub const FAILURE_PARAMS: &[&str] = &[
    "maxFailures",
    "findTime",
    "banTime",
    "ignore",
    "banAction",
    "banSetIPv4",
    "banSetIPv6",
    "mail",
];

/// A parameter's default, or the override that replaced it.
struct Param {
    value: Expr,
    /// Where it is declared.
    decl: Span,
    /// The default, when an override replaced it.
    default: Option<Expr>,
}

#[derive(Default)]
struct Table {
    /// Global parameters.
    global: HashMap<String, Param>,
    /// A service's own parameters: (service, name).
    own: HashMap<(String, String), Param>,
    /// `set SERVICE.enabled = …`.
    enabled: HashMap<String, (bool, Span)>,
    services: Vec<String>,
}

impl Table {
    /// The value of `name` seen from `service` (its own parameter, else the
    /// global one), or of the global `name` outside services.
    fn get(&self, service: Option<&str>, name: &str) -> Option<&Expr> {
        if let Some(s) = service {
            if let Some(p) = self.own.get(&(s.to_owned(), name.to_owned())) {
                return Some(&p.value);
            }
            // `$sshd.banTime` from anywhere.
        }
        if let Some((s, n)) = name.split_once('.') {
            if self.services.iter().any(|x| x == s) {
                return self.get(Some(s), n);
            }
        }
        self.global.get(name).map(|p| &p.value)
    }

    /// Every name `$…` or `set …` may use from `service`, for did-you-mean.
    fn names(&self, service: Option<&str>) -> Vec<String> {
        let mut out: Vec<String> = self.global.keys().cloned().collect();
        for (s, n) in self.own.keys() {
            if Some(s.as_str()) == service {
                out.push(n.clone());
            }
            out.push(format!("{s}.{n}"));
        }
        for s in &self.services {
            out.extend(self.global.keys().map(|g| format!("{s}.{g}")));
            out.push(format!("{s}.enabled"));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Whether an override has the shape of the default.
fn same_type(default: &Expr, value: &Expr) -> bool {
    use ExprKind as K;
    match (&default.kind, &value.kind) {
        (K::Int(_), K::Int(_)) => true,
        // A number of seconds stands for a duration.
        (K::Duration(_), K::Duration(_)) => true,
        (K::Duration(_), K::Int(n)) => *n >= 0,
        (K::Str(_), K::Str(_)) | (K::Bool(_), K::Bool(_)) => true,
        (K::List(d), K::List(v)) => match d.first() {
            None => true,
            Some(first) => v.iter().all(|i| match (&first.kind, &i.kind) {
                (K::Network(_), K::Network(_) | K::Str(_)) => true,
                (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
            }),
        },
        _ => false,
    }
}

fn example_of(default: &Expr) -> &'static str {
    match default.kind {
        ExprKind::Duration(_) => "a duration such as `1h` or `30m`",
        ExprKind::Int(_) => "an integer such as `5`",
        ExprKind::Str(_) => "a string in double quotes",
        ExprKind::Bool(_) => "`true` or `false`",
        ExprKind::List(_) => "a list `[…]` like the default",
        _ => "a value like the default",
    }
}

/// Resolve services and parameters in `rules` (see the module doc).
pub fn resolve(rules: &mut RuleSet, diags: &mut Vec<Diagnostic>) {
    resolve_with(rules, diags, false);
}

/// [`resolve`]; with `defaults`, overrides of parameters are checked but
/// not applied (only `SERVICE.enabled` is): the library as shipped, for
/// its examples.
pub fn resolve_with(rules: &mut RuleSet, diags: &mut Vec<Diagnostic>, defaults: bool) {
    let nothing_to_do = rules.params.is_empty()
        && rules.services.is_empty()
        && !rules.chains.iter().any(|c| c.when.is_some())
        && !has_param_refs(rules);
    if nothing_to_do {
        return;
    }
    let table = build_table(rules, diags, defaults);
    check_choices(rules, &table, diags);
    enable(rules, &table);
    substitute(rules, &table, diags);
    fill_failures(rules, &table);
}

fn has_param_refs(rules: &RuleSet) -> bool {
    fn any(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Param(_) => true,
            ExprKind::List(items) => items.iter().any(any),
            _ => false,
        }
    }
    rules
        .chains
        .iter()
        .flat_map(|c| &c.steps)
        .flat_map(|s| &s.args)
        .any(|a| any(&a.value))
        || rules.settings.iter().any(|s| any(&s.value))
}

fn build_table(rules: &mut RuleSet, diags: &mut Vec<Diagnostic>, defaults: bool) -> Table {
    let mut t = Table {
        services: rules.services.iter().map(|s| s.name.clone()).collect(),
        ..Table::default()
    };
    for p in &rules.params {
        t.declare(p, diags);
    }
    // Overrides, in load order: the last one wins.
    let mut kept: Vec<Setting> = Vec::new();
    for s in std::mem::take(&mut rules.settings) {
        kept.extend(t.apply(s, diags, defaults));
    }
    rules.settings = kept;
    t
}

impl Table {
    /// Declares a parameter; declaring one twice is an error.
    fn declare(&mut self, p: &ParamDecl, diags: &mut Vec<Diagnostic>) {
        let slot = match &p.service {
            Some(s) => self.own.get(&(s.clone(), p.name.clone())),
            None => self.global.get(&p.name),
        };
        if let Some(first) = slot {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateParam,
                    p.name_span,
                    format!("parameter `{}` is declared twice", p.key()),
                )
                .with_label("declared again here")
                .with_related(first.decl, "first declared here")
                .with_help("declare a parameter once; override it with `set` in a local file"),
            );
            return;
        }
        let param = Param {
            value: p.value.clone(),
            decl: p.name_span,
            default: None,
        };
        match &p.service {
            Some(s) => self.own.insert((s.clone(), p.name.clone()), param),
            None => self.global.insert(p.name.clone(), param),
        };
    }

    /// Applies the override `s` (only checks it, with `defaults`, unless it
    /// enables a service); gives it back when it is not about a parameter:
    /// it is a core setting.
    fn apply(
        &mut self,
        s: Setting,
        diags: &mut Vec<Diagnostic>,
        defaults: bool,
    ) -> Option<Setting> {
        match override_target(self, &s.key) {
            Target::Global(name) => {
                let slot = self.global.get_mut(&name).expect("a known global");
                set(slot, &s, diags, !defaults);
            }
            Target::Own(service, name) => {
                let slot = self
                    .own
                    .get_mut(&(service.clone(), name.clone()))
                    .expect("a known parameter");
                set(slot, &s, diags, !defaults);
            }
            Target::Inherited(service, name) => {
                let decl = self.global[&name].decl;
                let value = self.global[&name].value.clone();
                let slot = self.own.entry((service, name)).or_insert(Param {
                    value,
                    decl,
                    default: None,
                });
                set(slot, &s, diags, !defaults);
            }
            Target::Enabled(service) => match s.value.kind {
                ExprKind::Bool(b) => {
                    self.enabled.insert(service, (b, s.key_span));
                }
                _ => diags.push(
                    Diagnostic::error(
                        Code::ArgumentType,
                        s.value.span,
                        format!("`{}` is `true` or `false`", s.key),
                    )
                    .with_label(format!("found {}", s.value.describe()))
                    .with_help(format!("write `set {} = true`", s.key)),
                ),
            },
            Target::Unknown(service) => diags.push(self.unknown_param(&s, &service)),
            Target::NotAParam => {
                let is_core = super::ast::SETTING_KEYS.contains(&s.key.as_str());
                let close = (!is_core).then(|| self.names(None)).and_then(|names| {
                    did_you_mean(&s.key, names.iter().map(String::as_str)).map(str::to_owned)
                });
                match close {
                    Some(n) => diags.push(
                        Diagnostic::error(
                            Code::UnknownParam,
                            s.key_span,
                            format!("unknown parameter `{}`", s.key),
                        )
                        .with_label("no parameter or setting has this name")
                        .with_help(format!("did you mean `{n}`?")),
                    ),
                    None => return Some(s),
                }
            }
        }
        None
    }

    /// `set SERVICE.x` where the service has no `x`: the error, with the
    /// closest name or the service's parameters.
    fn unknown_param(&self, s: &Setting, service: &str) -> Diagnostic {
        let names = self.names(None);
        let hint = did_you_mean(&s.key, names.iter().map(String::as_str))
            .map(|n| format!("did you mean `{n}`?"));
        Diagnostic::error(
            Code::UnknownParam,
            s.key_span,
            format!("unknown parameter `{}`", s.key),
        )
        .with_label(format!("service `{service}` has no such parameter"))
        .with_help(hint.unwrap_or_else(|| {
            format!(
                "`{service}` takes: {}",
                names
                    .iter()
                    .filter_map(|n| n.strip_prefix(&format!("{service}.")))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }))
    }
}

enum Target {
    Global(String),
    Own(String, String),
    /// A global parameter set for one service.
    Inherited(String, String),
    Enabled(String),
    /// `SERVICE.x` where the service has no `x`.
    Unknown(String),
    NotAParam,
}

fn override_target(t: &Table, key: &str) -> Target {
    if t.global.contains_key(key) {
        return Target::Global(key.to_owned());
    }
    let Some((service, name)) = key.split_once('.') else {
        return Target::NotAParam;
    };
    if !t.services.iter().any(|s| s == service) {
        return Target::NotAParam;
    }
    let (service, name) = (service.to_owned(), name.to_owned());
    if name == "enabled" {
        Target::Enabled(service)
    } else if t.own.contains_key(&(service.clone(), name.clone())) {
        Target::Own(service, name)
    } else if t.global.contains_key(&name) {
        Target::Inherited(service, name)
    } else {
        Target::Unknown(service)
    }
}

fn set(slot: &mut Param, s: &Setting, diags: &mut Vec<Diagnostic>, apply: bool) {
    if same_type(&slot.value, &s.value) {
        if apply {
            let old = std::mem::replace(&mut slot.value, s.value.clone());
            slot.default.get_or_insert(old);
        }
        return;
    }
    diags.push(
        Diagnostic::error(
            Code::ArgumentType,
            s.value.span,
            format!(
                "`{}` is {}, found {}",
                s.key,
                slot.value.describe(),
                s.value.describe()
            ),
        )
        .with_label("wrong type")
        .with_related(slot.decl, "declared here with its default")
        .with_help(format!("write {}", example_of(&slot.value))),
    );
}

/// A parameter that `when` clauses test (a service's `mode`) takes one of
/// the values they name, or its default: anything else is an error.
fn check_choices(rules: &RuleSet, t: &Table, diags: &mut Vec<Diagnostic>) {
    let mut choices: HashMap<(Option<String>, String), Vec<&Expr>> = HashMap::new();
    for c in &rules.chains {
        if let Some(w) = &c.when {
            choices
                .entry((c.service.clone(), w.param.clone()))
                .or_default()
                .extend(&w.values);
        }
    }
    for ((service, name), values) in choices {
        let param = match &service {
            Some(s) => t.own.get(&(s.clone(), name.clone())),
            None => t.global.get(&name),
        };
        let Some(Param {
            value,
            default: Some(default),
            ..
        }) = param
        else {
            continue;
        };
        if same_value(value, default) || values.iter().any(|v| same_value(value, v)) {
            continue;
        }
        let mut names: Vec<String> = std::iter::once(default)
            .chain(values.iter().copied())
            .filter_map(|v| match &v.kind {
                ExprKind::Str(s) => Some(format!("\"{s}\"")),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        let key = match &service {
            Some(s) => format!("{s}.{name}"),
            None => name.clone(),
        };
        let hint = match &value.kind {
            ExprKind::Str(v) => did_you_mean(&format!("\"{v}\""), names.iter().map(String::as_str))
                .map(|n| format!("did you mean {n}? ")),
            _ => None,
        };
        diags.push(
            Diagnostic::error(
                Code::InvalidValue,
                value.span,
                format!("`{key}` has no such value"),
            )
            .with_label("not one of the values the rules know")
            .with_help(format!(
                "{}`{key}` is one of {}",
                hint.unwrap_or_default(),
                names.join(", ")
            )),
        );
    }
}

/// Keep the chains of enabled services whose `when` holds; forget the
/// examples of disabled services.
fn enable(rules: &mut RuleSet, t: &Table) {
    let any_enabled = t.enabled.values().any(|(b, _)| *b);
    let is_on = |service: &Option<String>| match service {
        None => true,
        Some(s) => match t.enabled.get(s) {
            Some((b, _)) => *b,
            None => !any_enabled,
        },
    };
    rules.disabled_services = t
        .services
        .iter()
        .filter(|s| !is_on(&Some((*s).clone())))
        .cloned()
        .collect();
    rules.chains.retain(|c| {
        is_on(&c.service)
            && c.when.as_ref().is_none_or(|w| {
                // An unknown parameter is reported by `substitute`.
                t.get(c.service.as_deref(), &w.param)
                    .is_none_or(|v| w.values.iter().any(|x| same_value(v, x)))
            })
    });
}

fn same_value(a: &Expr, b: &Expr) -> bool {
    use ExprKind as K;
    match (&a.kind, &b.kind) {
        (K::Str(x), K::Str(y)) => x == y,
        (K::Int(x) | K::Duration(x), K::Int(y) | K::Duration(y)) => x == y,
        (K::Bool(x), K::Bool(y)) => x == y,
        _ => false,
    }
}

/// Replace every `$NAME` of the chains and settings by its value.
fn substitute(rules: &mut RuleSet, t: &Table, diags: &mut Vec<Diagnostic>) {
    let mut reported: HashSet<(String, Span)> = HashSet::new();
    let mut unknown =
        |name: &str, span: Span, service: Option<&str>, diags: &mut Vec<Diagnostic>| {
            if !reported.insert((name.to_owned(), span)) {
                return;
            }
            let names = t.names(service);
            let hint = did_you_mean(name, names.iter().map(String::as_str)).map_or_else(
                || "declare it with `param NAME = DEFAULT`".to_owned(),
                |n| format!("did you mean `${n}`?"),
            );
            diags.push(
                Diagnostic::error(
                    Code::UnknownParam,
                    span,
                    format!("unknown parameter `${name}`"),
                )
                .with_label("no parameter of this name")
                .with_help(hint),
            );
        };
    for c in &mut rules.chains {
        let service = c.service.clone();
        if let Some(w) = &c.when {
            if t.get(service.as_deref(), &w.param).is_none() {
                unknown(&w.param, w.param_span, service.as_deref(), diags);
            }
        }
        for step in &mut c.steps {
            for a in &mut step.args {
                replace(
                    &mut a.value,
                    &mut |name, span| match t.get(service.as_deref(), name) {
                        Some(v) => Some(v.clone()),
                        None => {
                            unknown(name, span, service.as_deref(), diags);
                            None
                        }
                    },
                );
            }
        }
    }
    for s in &mut rules.settings {
        replace(&mut s.value, &mut |name, span| match t.get(None, name) {
            Some(v) => Some(v.clone()),
            None => {
                unknown(name, span, None, diags);
                None
            }
        });
    }
}

fn replace(e: &mut Expr, value: &mut dyn FnMut(&str, Span) -> Option<Expr>) {
    match &mut e.kind {
        ExprKind::Param(name) => {
            if let Some(v) = value(name, e.span) {
                *e = v;
            }
        }
        ExprKind::List(items) => {
            for i in items {
                replace(i, value);
            }
        }
        _ => {}
    }
}

/// `failure(IP: …)` in a service's chain takes the service's name and
/// parameters for the arguments it does not write.
fn fill_failures(rules: &mut RuleSet, t: &Table) {
    for c in &mut rules.chains {
        let Some(service) = c.service.clone() else {
            continue;
        };
        for step in c.steps.iter_mut().filter(|s| s.name == "failure") {
            let at = step.name_span;
            let has =
                |step: &crate::syntax::ast::Step, n: &str| step.args.iter().any(|a| a.name == n);
            if !has(step, "service") {
                step.args.push(Arg {
                    name: "service".into(),
                    name_span: at,
                    value: Expr {
                        kind: ExprKind::Str(service.clone()),
                        span: at,
                    },
                });
            }
            for &p in FAILURE_PARAMS {
                if has(step, p) {
                    continue;
                }
                if let Some(v) = t.get(Some(&service), p) {
                    step.args.push(Arg {
                        name: p.into(),
                        name_span: at,
                        value: v.clone(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::syntax::ast::ExprKind;
    use crate::syntax::load_str;

    const LIBRARY: &str = r#"
param maxFailures = 5
param banTime = 1h
param ignore = [127.0.0.0/8, ::1]

service "sshd"
param mode = "normal"
chain "sshd" {
    MESSAGE =~ /^Failed password for \S+ from (?P<ip>\S+)/
    failure(IP: ip)
}
chain "sshd (ddos)" when $mode in ["ddos", "aggressive"] {
    MESSAGE =~ /^Connection closed by (?P<ip>\S+)/
    failure(IP: ip)
}
example "sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2" => 192.0.2.1

service "postfix"
chain "postfix" {
    MESSAGE =~ /^warning: \S+\[(?P<ip>[0-9.]+)\]: SASL/
    failure(IP: ip, maxFailures: 2)
}
"#;

    fn load(local: &str) -> (crate::syntax::ast::RuleSet, Vec<crate::diag::Diagnostic>) {
        load_str("lib.pyr", &format!("{LIBRARY}\n{local}"))
    }

    fn arg<'a>(rules: &'a crate::syntax::ast::RuleSet, chain: &str, name: &str) -> &'a ExprKind {
        let c = rules.chains.iter().find(|c| c.label == chain).unwrap();
        let step = c.steps.iter().find(|s| s.name == "failure").unwrap();
        &step
            .args
            .iter()
            .rev()
            .find(|a| a.name == name)
            .unwrap()
            .value
            .kind
    }

    #[test]
    fn every_service_runs_with_its_defaults_when_none_is_enabled() {
        let (rules, diags) = load("");
        assert!(diags.is_empty(), "{diags:?}");
        let labels: Vec<_> = rules.chains.iter().map(|c| c.label.to_string()).collect();
        assert_eq!(labels, ["sshd", "postfix"], "the ddos chain is not loaded");
        assert!(matches!(arg(&rules, "sshd", "service"), ExprKind::Str(s) if s == "sshd"));
        assert!(matches!(
            arg(&rules, "sshd", "banTime"),
            ExprKind::Duration(3600)
        ));
        assert!(
            matches!(arg(&rules, "postfix", "maxFailures"), ExprKind::Int(2)),
            "written arguments win"
        );
    }

    #[test]
    fn a_local_file_enables_and_tunes_without_editing_the_library() {
        let (rules, diags) = load(
            "set sshd.enabled = true\nset sshd.banTime = 1d\nset banTime = 2h\nset sshd.mode = \"ddos\"\nset ignore = [10.0.0.0/8]\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let labels: Vec<_> = rules.chains.iter().map(|c| c.label.to_string()).collect();
        assert_eq!(labels, ["sshd", "sshd (ddos)"], "postfix is not enabled");
        assert_eq!(rules.disabled_services, ["postfix"]);
        assert!(matches!(
            arg(&rules, "sshd", "banTime"),
            ExprKind::Duration(86400)
        ));
        assert!(matches!(arg(&rules, "sshd", "ignore"), ExprKind::List(l) if l.len() == 1));
        assert!(rules.settings.is_empty(), "overrides are not core settings");
    }

    #[test]
    fn a_global_override_reaches_every_service() {
        let (rules, diags) = load("set banTime = 2h\nset postfix.enabled = false\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert!(matches!(
            arg(&rules, "sshd", "banTime"),
            ExprKind::Duration(7200)
        ));
        assert!(!rules.chains.iter().any(|c| c.label == "postfix"));
    }

    #[test]
    fn misspelt_or_mistyped_overrides_are_errors_with_their_place() {
        let (rules, diags) =
            load("set sshd.maxFailure = 3\nset sshd.banTime = \"1d\"\nset bantime = 1d\n");
        let codes: Vec<_> = diags.iter().map(|d| (d.code, d.message.clone())).collect();
        assert_eq!(codes.len(), 3, "{codes:?}");
        assert_eq!(diags[0].code, Code::UnknownParam);
        assert!(diags[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("sshd.maxFailures"));
        let text = &rules.sources.file(diags[0].span.unwrap().file).text;
        let s = diags[0].span.unwrap();
        assert_eq!(&text[s.start as usize..s.end as usize], "sshd.maxFailure");
        assert_eq!(diags[1].code, Code::ArgumentType);
        let s = diags[1].span.unwrap();
        assert_eq!(&text[s.start as usize..s.end as usize], "\"1d\"");
        assert_eq!(diags[2].code, Code::UnknownParam);
        assert!(diags[2].help.as_deref().unwrap_or("").contains("banTime"));
    }

    #[test]
    fn a_mode_the_rules_do_not_know_is_an_error() {
        let (_, diags) = load("set sshd.mode = \"dos\"\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, Code::InvalidValue);
        let help = diags[0].help.as_deref().unwrap_or("");
        assert!(help.contains("did you mean \"ddos\"?"), "{help}");
        assert!(
            help.contains("\"aggressive\", \"ddos\", \"normal\""),
            "{help}"
        );
        let (_, diags) = load("set sshd.mode = \"aggressive\"\n");
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn unknown_references_are_errors() {
        let (_, diags) = load_str(
            "x.pyr",
            "param banTime = 1h\nchain \"a\" { MESSAGE =~ /(?P<ip>.+)/\n failure(IP: ip, service: \"a\", banTime: $banTme) }\n",
        );
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, Code::UnknownParam);
        assert!(diags[0].help.as_deref().unwrap_or("").contains("$banTime"));
    }
}
