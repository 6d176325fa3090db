//! Argument checking against a builtin's signature: unknown, repeated,
//! missing and mistyped arguments, with "did you mean".

use crate::builtins::{Builtin, Param, Ty};
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::Syntax;
use crate::syntax::ast::{Arg, Expr, ExprKind, RuleSet, Step};

fn is_const(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
    )
}

fn is_field(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Field(_) | ExprKind::Str(_))
}

fn all(e: &Expr, f: fn(&Expr) -> bool) -> bool {
    matches!(&e.kind, ExprKind::List(items) if items.iter().all(f))
}

/// Whether an expression has the shape a parameter type needs.
pub fn accepts(ty: Ty, e: &Expr) -> bool {
    match ty {
        Ty::Field => is_field(e),
        Ty::FieldList => all(e, is_field),
        Ty::FieldOrList => is_field(e) || all(e, is_field),
        Ty::Const => is_const(e),
        Ty::ConstList => all(e, is_const),
        Ty::Regex => matches!(e.kind, ExprKind::Regex(_) | ExprKind::Str(_)),
        Ty::RegexList => all(e, |i| {
            matches!(i.kind, ExprKind::Regex(_) | ExprKind::Str(_))
        }),
        Ty::Networks => all(e, |i| {
            matches!(i.kind, ExprKind::Network(_) | ExprKind::Str(_))
        }),
        Ty::Template | Ty::Str => matches!(e.kind, ExprKind::Str(_)),
        Ty::Seconds => matches!(e.kind, ExprKind::Int(i) | ExprKind::Duration(i) if i >= 0),
        Ty::Count => matches!(e.kind, ExprKind::Int(i) if i >= 1),
        Ty::Bool => matches!(e.kind, ExprKind::Bool(_)),
    }
}

pub fn check_args(rules: &RuleSet, step: &Step, b: &Builtin, diags: &mut Vec<Diagnostic>) {
    let json = rules.sources.file(step.span.file).syntax == Syntax::Json;
    let mut seen: Vec<&str> = Vec::new();
    for a in &step.args {
        let Some(p) = b.params.iter().find(|p| p.name == a.name) else {
            diags.push(unknown_argument(b, a, json));
            continue;
        };
        if seen.contains(&p.name) {
            diags.push(duplicate_argument(a, json));
        }
        seen.push(p.name);
        if !accepts(p.ty, &a.value) {
            diags.push(wrong_type(b, p, a));
        }
    }
    for p in b.params.iter().filter(|p| p.required) {
        if !step.args.iter().any(|a| a.name == p.name) {
            diags.push(
                Diagnostic::error(
                    Code::MissingArgument,
                    step.name_span,
                    format!("`{}` needs argument `{}`", b.name, p.name),
                )
                .with_label(format!("`{}` missing", p.name))
                .with_help(format!("add `{}`: {}", p.name, p.ty.describe())),
            );
        }
    }
}

/// An argument the builtin does not take: an error, or a warning in legacy
/// JSON (Pyruse ignores unknown arguments).
fn unknown_argument(b: &Builtin, a: &Arg, json: bool) -> Diagnostic {
    let hint = did_you_mean(&a.name, b.params.iter().map(|p| p.name)).map_or_else(
        || {
            if b.params.is_empty() {
                format!("`{}` takes no argument", b.name)
            } else {
                format!(
                    "`{}` takes {}",
                    b.name,
                    b.params
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        },
        |s| format!("did you mean `{s}`?"),
    );
    let d = if json {
        Diagnostic::warning(
            Code::UnknownArgument,
            a.name_span,
            format!("`{}` has no argument `{}`; it is ignored", b.name, a.name),
        )
    } else {
        Diagnostic::error(
            Code::UnknownArgument,
            a.name_span,
            format!("`{}` has no argument `{}`", b.name, a.name),
        )
    };
    d.with_label("unknown argument").with_help(hint)
}

/// An argument given twice: an error, or a warning in legacy JSON (the last
/// one counts).
fn duplicate_argument(a: &Arg, json: bool) -> Diagnostic {
    let d = if json {
        Diagnostic::warning(
            Code::DuplicateArgument,
            a.name_span,
            format!("argument `{}` is given twice; the last one counts", a.name),
        )
    } else {
        Diagnostic::error(
            Code::DuplicateArgument,
            a.name_span,
            format!("argument `{}` is given twice", a.name),
        )
    };
    d.with_help("keep one of them")
}

/// A value that parameter `p` does not accept.
fn wrong_type(b: &Builtin, p: &Param, a: &Arg) -> Diagnostic {
    let mut help = format!("write {} here", p.ty.describe());
    if matches!(p.ty, Ty::Field | Ty::FieldList) && matches!(a.value.kind, ExprKind::Regex(_)) {
        help = "a field name is written bare (SYSLOG_IDENTIFIER) or as a string".into();
    } else if p.ty == Ty::Const && matches!(a.value.kind, ExprKind::Field(_)) {
        help = "compare with a constant: quote strings (\"sshd\")".into();
    } else if p.ty == Ty::Seconds && matches!(a.value.kind, ExprKind::Int(i) if i < 0) {
        help = "a duration cannot be negative".into();
    }
    Diagnostic::error(
        Code::ArgumentType,
        a.value.span,
        format!(
            "argument `{}` of `{}` must be {}, not {}",
            a.name,
            b.name,
            p.ty.describe(),
            a.value.describe()
        ),
    )
    .with_label("wrong type")
    .with_help(help)
}
