//! Prints a [`RuleSet`] as `.pyr` text: for `pyrusec migrate` (JSON →
//! `.pyr`) and for formatting.
//!
//! The text lowers back to the same meaning:
//! - steps of a legacy JSON file get the literal forms their builtin's
//!   arguments call for (a field as a name, a regex as `/…/`, seconds as a
//!   duration, networks unquoted) and the operator form when it fits;
//!   steps written in `.pyr` keep their form and literal kinds;
//! - a chain of a JSON file that only one jump reaches, written below the
//!   chain of that jump and not first, is printed as an inline block at the
//!   jump (with its label as a comment); inline blocks always are;
//! - steps of a JSON file written after a step with an explicit `then` are
//!   never run: they are printed as comments;
//! - anything unknown (builtin, argument, odd value) is printed as written,
//!   in call form, for the checker to report.

use crate::source::{Span, Syntax};
use crate::syntax::ast::{
    Chain, Compat, Expr, ExprKind, Form, Label, RuleSet, Step, StepKind, Target,
};
use crate::syntax::notation::{backquoted, float};
pub use crate::syntax::notation::{duration, field_name, quote, regex_literal};
use crate::syntax::pyr::{is_identifier, is_network_literal, is_setting_key};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Lines longer than this are broken.
pub const WIDTH: usize = 100;

/// How deep migrated chains are nested as inline blocks.
pub const MAX_INLINE_DEPTH: usize = 2;

const INDENT: &str = "    ";

/// Prints a whole rule set as one `.pyr` file.
/// Values that `.pyr` cannot write: the `NaN` and infinities that
/// Python's JSON reader accepts (`.pyr` numbers are finite). Migrating a
/// file that holds one must fail with these, not print a file that does
/// not read back.
pub fn unprintable(rules: &RuleSet) -> Vec<crate::diag::Diagnostic> {
    fn walk(e: &Expr, out: &mut Vec<crate::diag::Diagnostic>) {
        match &e.kind {
            ExprKind::Float(f) if !f.is_finite() => out.push(
                crate::diag::Diagnostic::error(
                    crate::diag::Code::InvalidValue,
                    e.span,
                    format!(
                        "`{}` has no .pyr form: .pyr numbers are finite",
                        if f.is_nan() {
                            "NaN"
                        } else if *f > 0.0 {
                            "Infinity"
                        } else {
                            "-Infinity"
                        }
                    ),
                )
                .with_help(
                    "keep this file as JSON and include it from a .pyr file \
                     (`include \"pyruse.json\"`), or write a finite number here",
                ),
            ),
            ExprKind::List(items) => items.iter().for_each(|i| walk(i, out)),
            ExprKind::Object(items) => items.iter().for_each(|(_, _, i)| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in &rules.chains {
        for st in &c.steps {
            st.args.iter().for_each(|a| walk(&a.value, &mut out));
        }
    }
    rules.settings.iter().for_each(|s| walk(&s.value, &mut out));
    out
}

pub fn print(rules: &RuleSet) -> String {
    Printer::new(rules).run()
}

/// Prints one value as `.pyr` text, as written (no conversion).
pub fn print_expr(expr: &Expr) -> String {
    value(expr, Ty::Any, false)
}

/// A builtin name (`in` is allowed, as a call).
fn call_name(s: &str) -> String {
    if is_identifier(s) || s == "in" {
        s.to_string()
    } else {
        backquoted(s)
    }
}

/// An argument name: any identifier, keywords included.
fn arg_name(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        s.to_string()
    } else {
        backquoted(s)
    }
}

/// Whether a network given as a string can be written unquoted: it lexes
/// as a network literal and is a valid address or network.
pub fn printable_network(s: &str) -> bool {
    if !is_network_literal(s) {
        return false;
    }
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match len {
        None => true,
        Some(l) => l.parse::<u32>().is_ok_and(|l| l <= max),
    }
}

/// What an argument is, for choosing the literal form of a JSON value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Field,
    FieldList,
    Regex,
    RegexList,
    Duration,
    Nets,
    Any,
}

/// The literal form an argument of a builtin takes, from its parameter's
/// type.
fn arg_type(builtin: &str, arg: &str) -> Ty {
    use crate::builtins::Ty as T;
    let param =
        crate::builtins::lookup(builtin).and_then(|b| b.params.iter().find(|p| p.name == arg));
    match param.map(|p| p.ty) {
        Some(T::Field | T::FieldOrList) => Ty::Field,
        Some(T::FieldList) => Ty::FieldList,
        Some(T::Regex) => Ty::Regex,
        Some(T::RegexList) => Ty::RegexList,
        Some(T::Seconds) => Ty::Duration,
        Some(T::Networks) => Ty::Nets,
        _ => Ty::Any,
    }
}

/// A value as text. With `conv` (a JSON step), strings and integers take
/// the literal form of `ty`; without, every value keeps its kind.
fn value(e: &Expr, ty: Ty, conv: bool) -> String {
    if conv {
        if let Some(s) = converted(e, ty) {
            return s;
        }
    }
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Float(f) => float(*f),
        ExprKind::Str(s) => quote(s),
        ExprKind::Regex(r) => format!("/{r}/"),
        ExprKind::Duration(n) => duration(*n),
        ExprKind::Network(n) => n.clone(),
        ExprKind::Field(f) => field_name(f),
        ExprKind::Param(p) => format!("${p}"),
        ExprKind::List(items) => {
            let inner = match ty {
                Ty::FieldList => Ty::Field,
                Ty::RegexList => Ty::Regex,
                Ty::Nets => Ty::Nets,
                _ => Ty::Any,
            };
            let items: Vec<String> = items.iter().map(|i| value(i, inner, conv)).collect();
            format!("[{}]", items.join(", "))
        }
        ExprKind::Object(entries) => {
            if entries.is_empty() {
                return "{}".into();
            }
            let items: Vec<String> = entries
                .iter()
                .map(|(k, _, v)| {
                    let key = if k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        k.clone()
                    } else {
                        quote(k)
                    };
                    format!("{key}: {}", value(v, Ty::Any, conv))
                })
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
    }
}

/// The converted form of a JSON value, when `ty` calls for one.
fn converted(e: &Expr, ty: Ty) -> Option<String> {
    match (&e.kind, ty) {
        (ExprKind::Str(s), Ty::Field) => Some(field_name(s)),
        (ExprKind::Str(s), Ty::Regex) => regex_literal(s),
        (ExprKind::Str(s), Ty::Nets) if printable_network(s) => Some(s.clone()),
        (ExprKind::Int(n), Ty::Duration) if *n >= 0 => Some(duration(*n)),
        _ => None,
    }
}

/// Whether `e` prints as a field name in a FIELD position.
fn is_field(e: &Expr, conv: bool) -> bool {
    match &e.kind {
        ExprKind::Field(_) => true,
        ExprKind::Str(_) => conv,
        _ => false,
    }
}

fn is_regex(e: &Expr, conv: bool) -> bool {
    match &e.kind {
        ExprKind::Regex(_) => true,
        ExprKind::Str(s) => conv && regex_literal(s).is_some(),
        _ => false,
    }
}

fn is_network(e: &Expr, conv: bool) -> bool {
    match &e.kind {
        ExprKind::Network(n) => is_network_literal(n),
        ExprKind::Str(s) => conv && printable_network(s),
        _ => false,
    }
}

fn list_items(e: &Expr) -> Option<&[Expr]> {
    match &e.kind {
        ExprKind::List(items) => Some(items),
        _ => None,
    }
}

/// The text of a step (without successors), as lines; the first line is
/// not indented, the others are (for `indent`).
struct StepText {
    lines: Vec<String>,
    /// The step goes on over several lines (`save […]` on its own line):
    /// successors go on lines of their own too.
    continued: bool,
}

impl StepText {
    fn new(lines: Vec<String>) -> StepText {
        StepText {
            lines,
            continued: false,
        }
    }
}

struct Printer<'a> {
    rules: &'a RuleSet,
    /// Chain index by label (`None` for a label written twice).
    by_label: HashMap<&'a Label, Option<usize>>,
    /// Chains printed as an inline block, by index.
    inlined: Vec<bool>,
}

impl<'a> Printer<'a> {
    fn new(rules: &'a RuleSet) -> Printer<'a> {
        let mut by_label: HashMap<&Label, Option<usize>> = HashMap::new();
        for (i, c) in rules.chains.iter().enumerate() {
            by_label
                .entry(&c.label)
                .and_modify(|v| *v = None)
                .or_insert(Some(i));
        }
        let mut p = Printer {
            rules,
            by_label,
            inlined: vec![false; rules.chains.len()],
        };
        // Jumps of printed (not commented out) steps, per target label.
        let mut refs: HashMap<&Label, Vec<usize>> = HashMap::new();
        for (ci, chain) in rules.chains.iter().enumerate() {
            for (si, step) in chain.steps.iter().enumerate() {
                if p.commented(chain, si) {
                    continue;
                }
                for t in [&step.then, &step.else_].into_iter().flatten() {
                    refs.entry(&t.label).or_default().push(ci);
                }
            }
        }
        let mut depth = vec![0usize; rules.chains.len()];
        for (li, chain) in rules.chains.iter().enumerate() {
            let Some(Some(_)) = p.by_label.get(&chain.label) else {
                continue;
            };
            let Some(from) = refs.get(&chain.label) else {
                continue;
            };
            let block = chain.label.is_block();
            let inlinable = block || p.in_json_file(chain.span);
            if inlinable && from.len() == 1 && from[0] < li && li != 0 {
                // Deep staircases of blocks read worse than named chains:
                // a migrated chain is inlined at most MAX_INLINE_DEPTH deep.
                let d = depth[from[0]] + 1;
                if block || d <= MAX_INLINE_DEPTH {
                    p.inlined[li] = true;
                    depth[li] = d;
                }
            }
        }
        p
    }

    /// Whether a span is in a legacy JSON file.
    fn in_json_file(&self, span: Span) -> bool {
        let n = self.rules.sources.files().count();
        (span.file.0 as usize) < n && self.rules.sources.file(span.file).syntax == Syntax::Json
    }

    /// Whether step `si` of `chain` is printed as a comment: a JSON step
    /// after a step with an explicit `then` (it never runs).
    fn commented(&self, chain: &Chain, si: usize) -> bool {
        self.in_json_file(chain.span) && chain.steps[..si].iter().any(|s| s.then.is_some())
    }

    fn run(&self) -> String {
        let mut out = String::new();
        let rules = self.rules;
        if !rules.file_compat.is_empty() && rules.file_compat.iter().all(|c| *c == Compat::Pyruse) {
            out.push_str(
                "# Pyruse's legacy semantics: email subjects are sent as written (no\n\
                 # {field} substitution), a missing field renders as None, and regexes\n\
                 # are Python `re` syntax.\n\
                 compat pyruse\n",
            );
        }
        if !rules.settings.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            for s in &rules.settings {
                let key = if is_setting_key(&s.key) {
                    s.key.clone()
                } else {
                    backquoted(&s.key)
                };
                let head = format!("set {key} = ");
                for line in self.value_lines(&s.value, &head, "") {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        for (ci, chain) in rules.chains.iter().enumerate() {
            if self.inlined[ci] {
                continue;
            }
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = write!(out, "chain {} ", quote(&chain.label.to_string()));
            self.block(&mut out, ci, "", false);
            out.push('\n');
        }
        out
    }

    /// A value after `head`, broken one element per line when it is a long
    /// list.
    fn value_lines(&self, e: &Expr, head: &str, indent: &str) -> Vec<String> {
        let one = format!("{indent}{head}{}", value(e, Ty::Any, false));
        match &e.kind {
            ExprKind::List(items) if one.chars().count() > WIDTH && !items.is_empty() => {
                let mut lines = vec![format!("{indent}{head}[")];
                for i in items {
                    lines.push(format!("{indent}{INDENT}{},", value(i, Ty::Any, false)));
                }
                lines.push(format!("{indent}]"));
                lines
            }
            _ => vec![one],
        }
    }

    /// `{ steps }` of chain `ci`, the `{` on the current line; the closing
    /// `}` is left without a newline.
    fn block(&self, out: &mut String, ci: usize, indent: &str, with_label: bool) {
        let chain = &self.rules.chains[ci];
        if chain.steps.is_empty() && !with_label {
            out.push_str("{}");
            return;
        }
        out.push_str("{\n");
        let inner = format!("{indent}{INDENT}");
        if with_label {
            let _ = writeln!(out, "{inner}# {}", chain.label.to_string().escape_debug());
        }
        let mut marked = false;
        for (si, step) in chain.steps.iter().enumerate() {
            if self.commented(chain, si) {
                if !marked {
                    let _ = writeln!(
                        out,
                        "{inner}# never run: steps after an explicit \"then\" are ignored"
                    );
                    marked = true;
                }
                let mut text = String::new();
                self.step(&mut text, step, &inner, true);
                for line in text.lines() {
                    let body = line.strip_prefix(inner.as_str()).unwrap_or(line);
                    let _ = writeln!(out, "{inner}# {body}");
                }
                continue;
            }
            self.step(out, step, &inner, false);
        }
        out.push_str(indent);
        out.push('}');
    }

    /// One step with its successors, ending with a newline. `flat`: no
    /// inline blocks (for a commented-out step).
    fn step(&self, out: &mut String, step: &Step, indent: &str, flat: bool) {
        let text = self.step_text(step, indent);
        let succ: Vec<(&str, &Target, Option<usize>)> =
            [("then", &step.then), ("else", &step.else_)]
                .into_iter()
                .filter_map(|(k, t)| t.as_ref().map(|t| (k, t)))
                .map(|(k, t)| {
                    let block = if flat { None } else { self.inline_target(t) };
                    (k, t, block)
                })
                .collect();
        out.push_str(indent);
        out.push_str(&text.lines.join("\n"));
        if succ.is_empty() {
            out.push('\n');
            return;
        }
        let last = text.lines.last().map_or(0, |l| l.chars().count());
        let start = if text.lines.len() == 1 {
            indent.chars().count()
        } else {
            0
        };
        let inline: usize = succ
            .iter()
            .map(|(k, t, b)| match b {
                Some(_) => format!(" {k} {{").chars().count(),
                None => format!(" {k} goto {}", quote(&t.label.to_string()))
                    .chars()
                    .count(),
            })
            .sum();
        let continued = text.continued || start + last + inline > WIDTH;
        let inner = format!("{indent}{INDENT}");
        for (k, t, block) in succ {
            if continued {
                out.push('\n');
                out.push_str(&inner);
            } else {
                out.push(' ');
            }
            match block {
                Some(ci) => {
                    let _ = write!(out, "{k} ");
                    let chain = &self.rules.chains[ci];
                    let at = if continued { inner.as_str() } else { indent };
                    self.block(out, ci, at, !chain.label.is_block());
                }
                None => {
                    let _ = write!(out, "{k} goto {}", quote(&t.label.to_string()));
                }
            }
        }
        out.push('\n');
    }

    /// The chain to print as a block for a jump, if it is inlined.
    fn inline_target(&self, t: &Target) -> Option<usize> {
        match self.by_label.get(&t.label) {
            Some(Some(ci)) if self.inlined[*ci] => Some(*ci),
            _ => None,
        }
    }

    fn step_text(&self, step: &Step, indent: &str) -> StepText {
        let conv = step.kind != StepKind::Either;
        let operator = conv || step.form == Form::Operator;
        if operator {
            if let Some(t) = self.operator_text(step, indent, conv) {
                return t;
            }
        }
        self.call_text(step, indent, conv)
    }

    fn call_text(&self, step: &Step, indent: &str, conv: bool) -> StepText {
        let name = call_name(&step.name);
        let args: Vec<String> = step
            .args
            .iter()
            .map(|a| {
                let ty = if conv {
                    arg_type(&step.name, &a.name)
                } else {
                    Ty::Any
                };
                format!("{}: {}", arg_name(&a.name), value(&a.value, ty, conv))
            })
            .collect();
        let one = format!("{name}({})", args.join(", "));
        if indent.chars().count() + one.chars().count() <= WIDTH || args.is_empty() {
            return StepText::new(vec![one]);
        }
        let mut lines = vec![format!("{name}(")];
        for a in args {
            lines.push(format!("{indent}{INDENT}{a},"));
        }
        lines.push(format!("{indent})"));
        StepText::new(lines)
    }

    /// The operator form, when the arguments are exactly the expected ones
    /// with the right kinds of values.
    fn operator_text(&self, step: &Step, indent: &str, conv: bool) -> Option<StepText> {
        let mut op = OperatorStep {
            step,
            indent,
            conv,
            field: String::new(),
        };
        let field = op.get("field").filter(|f| is_field(f, conv))?;
        op.field = value(field, Ty::Field, conv);
        match step.name.as_str() {
            "equals" | "lowerOrEquals" | "greaterOrEquals" => op.comparison(),
            "in" => op.in_values(),
            "inNetworks" => op.in_networks(),
            "pcre" => op.pcre(),
            "pcreAny" => op.pcre_any(),
            _ => None,
        }
    }
}

/// A step being printed in operator form: `FIELD OP …`.
struct OperatorStep<'s> {
    step: &'s Step,
    indent: &'s str,
    conv: bool,
    /// The field, as printed.
    field: String,
}

impl<'s> OperatorStep<'s> {
    /// The value of argument `name`, when it is written exactly once.
    fn get(&self, name: &str) -> Option<&'s Expr> {
        let mut found = self.step.args.iter().filter(|a| a.name == name);
        let first = found.next();
        if found.next().is_some() {
            None
        } else {
            first.map(|a| &a.value)
        }
    }

    /// Whether every argument is one of `names`.
    fn only(&self, names: &[&str]) -> bool {
        self.step
            .args
            .iter()
            .all(|a| names.contains(&a.name.as_str()))
    }

    /// `head[items]`, one item per line when too long.
    fn list(&self, items: &[Expr], ty: Ty, head: String) -> StepText {
        let (indent, conv) = (self.indent, self.conv);
        let texts: Vec<String> = items.iter().map(|i| value(i, ty, conv)).collect();
        let one = format!("{head}[{}]", texts.join(", "));
        if indent.chars().count() + one.chars().count() <= WIDTH || texts.is_empty() {
            return StepText::new(vec![one]);
        }
        let mut lines = vec![format!("{head}[")];
        for t in texts {
            lines.push(format!("{indent}{INDENT}{t},"));
        }
        lines.push(format!("{indent}]"));
        StepText::new(lines)
    }

    /// `FIELD == v`, `FIELD <= v`, `FIELD >= v`.
    fn comparison(&self) -> Option<StepText> {
        if !self.only(&["field", "value"]) || self.step.args.len() != 2 {
            return None;
        }
        let v = self.get("value")?;
        let op = crate::builtins::lookup(&self.step.name)?.operator?;
        Some(StepText::new(vec![format!(
            "{} {op} {}",
            self.field,
            value(v, Ty::Any, self.conv)
        )]))
    }

    /// `FIELD in [a, b]` (not all networks: that is `inNetworks`).
    fn in_values(&self) -> Option<StepText> {
        if !self.only(&["field", "values"]) || self.step.args.len() != 2 {
            return None;
        }
        let items = list_items(self.get("values")?)?;
        let nets =
            !items.is_empty() && items.iter().all(|i| matches!(i.kind, ExprKind::Network(_)));
        if nets {
            return None;
        }
        Some(self.list(items, Ty::Any, format!("{} in ", self.field)))
    }

    /// `FIELD in [10.0.0.0/8, ::1]`.
    fn in_networks(&self) -> Option<StepText> {
        if !self.only(&["field", "nets"]) || self.step.args.len() != 2 {
            return None;
        }
        let items = list_items(self.get("nets")?)?;
        if items.is_empty() || !items.iter().all(|i| is_network(i, self.conv)) {
            return None;
        }
        Some(self.list(items, Ty::Nets, format!("{} in ", self.field)))
    }

    /// `FIELD =~ /re/`, with `save [a, b]` on the next line when too long.
    fn pcre(&self) -> Option<StepText> {
        let (indent, conv) = (self.indent, self.conv);
        if !self.only(&["field", "re", "save"]) {
            return None;
        }
        let re = self.get("re").filter(|r| is_regex(r, conv))?;
        let mut text = format!("{} =~ {}", self.field, value(re, Ty::Regex, conv));
        let n = 2 + usize::from(self.step.args.iter().any(|a| a.name == "save"));
        if self.step.args.len() != n {
            return None;
        }
        if n == 3 {
            let save = list_items(self.get("save")?)?;
            if !save.iter().all(|f| is_field(f, conv)) {
                return None;
            }
            let names: Vec<String> = save.iter().map(|f| value(f, Ty::Field, conv)).collect();
            let save = format!("save [{}]", names.join(", "));
            if indent.chars().count() + text.chars().count() + 1 + save.chars().count() > WIDTH {
                return Some(StepText {
                    lines: vec![text, format!("{indent}{INDENT}{save}")],
                    continued: true,
                });
            }
            text.push(' ');
            text.push_str(&save);
        }
        Some(StepText::new(vec![text]))
    }

    /// `FIELD =~ any [/a/, /b/]`.
    fn pcre_any(&self) -> Option<StepText> {
        if !self.only(&["field", "re"]) || self.step.args.len() != 2 {
            return None;
        }
        let items = list_items(self.get("re")?)?;
        if !items.iter().all(|r| is_regex(r, self.conv)) {
            return None;
        }
        Some(self.list(items, Ty::Regex, format!("{} =~ any ", self.field)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::syntax::ast::{Arg, Setting};
    use crate::syntax::pyr::parse_str;
    use std::collections::HashSet;
    use std::sync::Arc;

    // ---- AST shape, without spans ------------------------------------------

    /// The AST as text, without spans; blocks are numbered in order of
    /// appearance.
    pub(crate) fn shape(rules: &RuleSet) -> String {
        let mut names: HashMap<&Label, String> = HashMap::new();
        for c in &rules.chains {
            if c.label.is_block() {
                let n = names.len();
                names.insert(&c.label, format!("<block {n}>"));
            }
        }
        let label = |l: &Label| {
            names
                .get(l)
                .cloned()
                .unwrap_or_else(|| format!("{:?}", l.to_string()))
        };
        let mut out = String::new();
        let _ = writeln!(out, "compat {:?}", rules.file_compat);
        for s in &rules.settings {
            let _ = writeln!(out, "set {} = {}", s.key, expr_shape(&s.value));
        }
        for c in &rules.chains {
            let _ = writeln!(
                out,
                "chain {} block={}",
                label(&c.label),
                c.label.is_block()
            );
            for s in &c.steps {
                let args: Vec<String> = s
                    .args
                    .iter()
                    .map(|a| format!("{}={}", a.name, expr_shape(&a.value)))
                    .collect();
                let _ = writeln!(
                    out,
                    "  {:?} {:?} {}({}) then={:?} else={:?}",
                    s.kind,
                    s.form,
                    s.name,
                    args.join(", "),
                    s.then.as_ref().map(|t| label(&t.label)),
                    s.else_.as_ref().map(|t| label(&t.label)),
                );
            }
        }
        out
    }

    fn expr_shape(e: &Expr) -> String {
        match &e.kind {
            ExprKind::List(items) => {
                let items: Vec<String> = items.iter().map(expr_shape).collect();
                format!("List[{}]", items.join(", "))
            }
            ExprKind::Object(entries) => {
                let items: Vec<String> = entries
                    .iter()
                    .map(|(k, _, v)| format!("{k:?}: {}", expr_shape(v)))
                    .collect();
                format!("Object{{{}}}", items.join(", "))
            }
            k => format!("{k:?}"),
        }
    }

    // ---- meaning: what Pyruse would build -----------------------------------

    /// The rule graph as Pyruse builds it (docs/legacy-semantics.md §3): the
    /// top-level chains in order, each expanded through its jumps, steps
    /// after an explicit `then` dropped, values compared by what they say
    /// (a field name and a string alike, `\/` and `/` alike, a duration and
    /// its seconds alike).
    pub(crate) fn meaning(rules: &RuleSet) -> String {
        let mut built: HashSet<&Label> = HashSet::new();
        let mut out = String::new();
        for c in &rules.chains {
            if c.label.is_block() || built.contains(&c.label) {
                continue;
            }
            built.insert(&c.label);
            let mut path = vec![&c.label];
            let _ = writeln!(
                out,
                "top {:?}: {}",
                c.label.to_string(),
                expand(rules, c, &mut path, &mut built)
            );
        }
        let mut settings: Vec<String> = rules
            .settings
            .iter()
            .map(|s| format!("{}={}", s.key, norm(&s.value)))
            .collect();
        settings.sort();
        let _ = writeln!(out, "settings {settings:?}");
        out
    }

    fn expand<'r>(
        rules: &'r RuleSet,
        chain: &'r Chain,
        path: &mut Vec<&'r Label>,
        built: &mut HashSet<&'r Label>,
    ) -> String {
        let mut parts = Vec::new();
        for s in &chain.steps {
            let mut args: Vec<String> = s
                .args
                .iter()
                .map(|a| format!("{}={}", a.name, norm(&a.value)))
                .collect();
            args.sort();
            let mut text = format!("{}({})", s.name, args.join(","));
            for (k, t) in [("then", &s.then), ("else", &s.else_)] {
                let Some(t) = t else { continue };
                if path.contains(&&t.label) {
                    let _ = write!(text, " {k} loop");
                    continue;
                }
                let target = rules.chains.iter().find(|c| c.label == t.label);
                let Some(target) = target else {
                    let _ = write!(text, " {k} missing {:?}", t.label.to_string());
                    continue;
                };
                built.insert(&target.label);
                path.push(&target.label);
                let inner = expand(rules, target, path, built);
                path.pop();
                let _ = write!(text, " {k} {{{inner}}}");
            }
            parts.push(text);
            if s.then.is_some() {
                break;
            }
        }
        parts.join("; ")
    }

    fn norm(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Network(s) => format!("{s:?}"),
            ExprKind::Str(r) | ExprKind::Regex(r) | ExprKind::Field(r) => {
                // `\/` is `/` (in a regex; a JSON pattern may say either);
                // other escapes stay.
                let mut s = String::new();
                let mut it = r.chars();
                while let Some(c) = it.next() {
                    if c == '\\' {
                        match it.next() {
                            Some('/') => s.push('/'),
                            Some(n) => {
                                s.push('\\');
                                s.push(n);
                            }
                            None => s.push('\\'),
                        }
                    } else {
                        s.push(c);
                    }
                }
                format!("{s:?}")
            }
            ExprKind::Duration(n) | ExprKind::Int(n) => n.to_string(),
            ExprKind::List(items) => {
                let items: Vec<String> = items.iter().map(norm).collect();
                format!("[{}]", items.join(","))
            }
            ExprKind::Object(entries) => {
                let items: Vec<String> = entries
                    .iter()
                    .map(|(k, _, v)| format!("{k:?}:{}", norm(v)))
                    .collect();
                format!("{{{}}}", items.join(","))
            }
            k => format!("{k:?}"),
        }
    }

    // ---- a small legacy JSON loader, for tests only -------------------------

    #[derive(Debug, Clone)]
    enum J {
        Null,
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(String),
        List(Vec<J>),
        Obj(Vec<(String, J)>),
    }

    /// Parses JSON keeping the order of object keys.
    fn parse_json(text: &str) -> J {
        fn ws(b: &[u8], i: &mut usize) {
            while *i < b.len() && b[*i].is_ascii_whitespace() {
                *i += 1;
            }
        }
        fn val(t: &str, i: &mut usize) -> J {
            let b = t.as_bytes();
            ws(b, i);
            match b[*i] {
                b'{' => {
                    *i += 1;
                    let mut v = Vec::new();
                    loop {
                        ws(b, i);
                        if b[*i] == b'}' {
                            *i += 1;
                            return J::Obj(v);
                        }
                        let J::Str(k) = val(t, i) else { panic!("key") };
                        ws(b, i);
                        assert_eq!(b[*i], b':');
                        *i += 1;
                        let x = val(t, i);
                        v.push((k, x));
                        ws(b, i);
                        if b[*i] == b',' {
                            *i += 1;
                        }
                    }
                }
                b'[' => {
                    *i += 1;
                    let mut v = Vec::new();
                    loop {
                        ws(b, i);
                        if b[*i] == b']' {
                            *i += 1;
                            return J::List(v);
                        }
                        v.push(val(t, i));
                        ws(b, i);
                        if b[*i] == b',' {
                            *i += 1;
                        }
                    }
                }
                b'"' => {
                    let start = *i;
                    *i += 1;
                    while b[*i] != b'"' {
                        if b[*i] == b'\\' {
                            *i += 1;
                        }
                        *i += 1;
                    }
                    *i += 1;
                    J::Str(serde_json::from_str(&t[start..*i]).expect("string"))
                }
                b't' => {
                    *i += 4;
                    J::Bool(true)
                }
                b'f' => {
                    *i += 5;
                    J::Bool(false)
                }
                b'n' => {
                    *i += 4;
                    J::Null
                }
                _ => {
                    let start = *i;
                    while *i < b.len()
                        && (b[*i] == b'-' || b[*i] == b'.' || b[*i].is_ascii_alphanumeric())
                    {
                        *i += 1;
                    }
                    let n = &t[start..*i];
                    n.parse::<i64>()
                        .map(J::Int)
                        .unwrap_or_else(|_| J::Float(n.parse().expect("number")))
                }
            }
        }
        val(text, &mut 0)
    }

    fn jexpr(j: &J, span: Span) -> Expr {
        let kind = match j {
            J::Null => ExprKind::Null,
            J::Bool(b) => ExprKind::Bool(*b),
            J::Int(n) => ExprKind::Int(*n),
            J::Float(f) => ExprKind::Float(*f),
            J::Str(s) => ExprKind::Str(s.clone()),
            J::List(v) => ExprKind::List(v.iter().map(|x| jexpr(x, span)).collect()),
            J::Obj(v) => ExprKind::Object(
                v.iter()
                    .map(|(k, x)| (k.clone(), span, jexpr(x, span)))
                    .collect(),
            ),
        };
        Expr { kind, span }
    }

    /// Loads a legacy `pyruse.json` the way the JSON loader does (steps
    /// `Filter`/`Action` in call form, plain values, dotted settings).
    pub(crate) fn load_json(name: &str, text: &str) -> RuleSet {
        let mut rules = RuleSet::default();
        let file = rules
            .sources
            .add(name.into(), Arc::from(text), Syntax::Json);
        rules.file_compat.push(Compat::Pyruse);
        let span = Span::new(file, 0, 0);
        let J::Obj(top) = parse_json(text) else {
            panic!("not an object")
        };
        for (key, v) in &top {
            match (key.as_str(), v) {
                ("actions", J::Obj(chains)) => {
                    for (label, steps) in chains {
                        let J::List(steps) = steps else { panic!() };
                        let steps = steps
                            .iter()
                            .map(|s| {
                                let J::Obj(fields) = s else { panic!() };
                                let get = |k: &str| fields.iter().find(|f| f.0 == k).map(|f| &f.1);
                                let (kind, name) = match (get("filter"), get("action")) {
                                    (Some(J::Str(n)), _) => {
                                        (StepKind::Filter, n.trim_start_matches("filter_"))
                                    }
                                    (_, Some(J::Str(n))) => {
                                        (StepKind::Action, n.trim_start_matches("action_"))
                                    }
                                    _ => panic!(),
                                };
                                let args = match get("args") {
                                    Some(J::Obj(a)) => a
                                        .iter()
                                        .map(|(k, x)| Arg {
                                            name: k.clone(),
                                            name_span: span,
                                            value: jexpr(x, span),
                                        })
                                        .collect(),
                                    _ => Vec::new(),
                                };
                                let target = |k: &str| match get(k) {
                                    Some(J::Str(l)) => Some(Target {
                                        label: Label::Named(l.clone()),
                                        span,
                                    }),
                                    _ => None,
                                };
                                Step {
                                    kind,
                                    name: name.to_string(),
                                    name_span: span,
                                    args,
                                    then: target("then"),
                                    else_: target("else"),
                                    span,
                                    form: Form::Call,
                                }
                            })
                            .collect();
                        rules.chains.push(Chain {
                            label: Label::Named(label.clone()),
                            label_span: span,
                            steps,
                            span,
                            service: None,
                            when: None,
                        });
                    }
                }
                ("email" | "nftBan" | "ipsetBan", J::Obj(sub)) => {
                    for (k, x) in sub {
                        rules.settings.push(Setting {
                            key: format!("{key}.{k}"),
                            key_span: span,
                            value: jexpr(x, span),
                        });
                    }
                }
                _ => rules.settings.push(Setting {
                    key: key.clone(),
                    key_span: span,
                    value: jexpr(v, span),
                }),
            }
        }
        let _ = FileId(0);
        rules
    }

    pub(crate) fn parse(text: &str) -> RuleSet {
        let mut rules = RuleSet::default();
        let diags = parse_str("test.pyr", text, &mut rules, None);
        assert!(
            diags.is_empty(),
            "{text}\n{:?}",
            diags
                .iter()
                .map(|d| (&d.message, d.span.map(|s| rules.sources.locate(s))))
                .collect::<Vec<_>>()
        );
        rules
    }

    /// parse → print → parse gives the same shape, and printing is stable.
    pub(crate) fn roundtrip(text: &str) -> String {
        let first = parse(text);
        let printed = print(&first);
        let second = parse(&printed);
        assert_eq!(shape(&first), shape(&second), "printed:\n{printed}");
        assert_eq!(print(&second), printed, "printing is not stable");
        printed
    }

    /// A legacy configuration of the compatibility corpus.
    fn config(name: &str) -> String {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/compat/configs");
        std::fs::read_to_string(format!("{dir}/{name}"))
            .unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
    }

    /// JSON → `.pyr` → AST keeps the meaning; the printed file is stable
    /// and has no comment-free dropped step.
    fn migrate(name: &str, text: &str) -> String {
        let json = load_json(name, text);
        let printed = print(&json);
        let pyr = parse(&printed);
        assert_eq!(meaning(&json), meaning(&pyr), "printed:\n{printed}");
        assert_eq!(print(&pyr), print(&parse(&print(&pyr))));
        printed
    }

    #[test]
    fn numbers_without_a_pyr_form_are_refused_where_they_are() {
        let text = r#"{"actions": {"a": [
            {"filter": "filter_greaterOrEquals", "args": {"field": "x", "value": -Infinity}},
            {"filter": "filter_in", "args": {"field": "y", "values": [1, NaN, Infinity]}},
            {"action": "action_noop", "args": {}}]}}"#;
        let (json, loaded) = crate::syntax::load_str("nf.json", text);
        assert!(loaded.is_empty(), "{loaded:?}");
        let diags = unprintable(&json);
        let at: Vec<&str> = diags
            .iter()
            .map(|d| {
                let sp = d.span.expect("a span");
                &text[sp.start as usize..sp.end as usize]
            })
            .collect();
        assert_eq!(at, ["-Infinity", "NaN", "Infinity"]);
        assert!(diags.iter().all(|d| d.is_error() && d.help.is_some()));
        assert!(unprintable(&load_json(
            "ok.json",
            r#"{"actions": {"a": [
            {"filter": "filter_equals", "args": {"field": "x", "value": 1.5}}]}}"#
        ))
        .is_empty());
    }

    #[test]
    fn migrates_every_compat_config() {
        for name in [
            "semantics.json",
            "dnat_ipset.json",
            "python_re.json",
            "dnat_doc.json",
        ] {
            let printed = migrate(name, &config(name));
            assert!(
                printed.starts_with("# Pyruse's legacy semantics"),
                "{printed}"
            );
            assert!(printed.contains("\ncompat pyruse\n"));
            for line in printed.lines() {
                assert!(!line.contains('\t'), "{line}");
            }
        }
    }

    /// compat/configs/semantics.json, written by hand in `.pyr`.
    const SEMANTICS_PYR: &str = r#"# Legacy semantics, as the pyruse.json this comes from.
compat pyruse

set email.from = "pyruse@example.org"
set email.to = ["hostmaster@example.org"]
set email.subject = "Pyruse Report"
set email.sendmail = ["/usr/sbin/sendmail", "-t"]
set nftBan.nft = ["/usr/sbin/nft"]
set storage = "/var/lib/pyruse"
set debug = true

chain "Detect failed SSH passwords" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for (invalid user )?(.*) from ([^ ]+) port ([0-9]+) ssh2$/
        save [invalid, sshUser, thatIP, thatPort]
        else {
            MESSAGE =~ /^User (?P<sshUser>[^ ]+) from (?P<thatIP>[^ ]+) not allowed because (?P<why>.*)$/
            log(level: "NOTICE", message: "SSH refused {sshUser} from {thatIP}: {why}")
            counterRaise(counter: "refused", for: thatIP, save: refusals)
            refusals >= 2
        }
    userExists(field: sshUser) else {
        dailyReport(level: "INFO", details: "FIRSTLAST",
                    message: "Failed SSH password for unknown user {sshUser} from {thatIP}")
            then goto "… Check network, then count"
    }
    dailyReport(
        level: "WARN",
        message: "Failed SSH password for existing user {sshUser} from {thatIP} (invalid={invalid})",
        details: "FIRST",
    ) then goto "… Check network, then count"
}

chain "Detect IMAP logins" {
    SYSLOG_IDENTIFIER == "dovecot"
    MESSAGE =~ any [
        /^imap-login: Login: user=<(?P<mailUser>[^>]+)>, method=[^,]*, rip=(?P<thatIP>[^,]+),/,
        /^pop3-login: Login: user=<(?P<mailUser>[^>]+)>, method=[^,]*, rip=(?P<thatIP>[^,]+),/,
    ] else {
        MESSAGE =~ /auth failed, [0-9]+ attempts in [0-9]+ secs\): user=<([^>]*)>.*, rip=([^,]+),/
            save [mailUser, thatIP] else goto "… NOOP"
        dailyReport(level: "WARN", message: "IMAP failure {mailUser} from {thatIP}", details: "LAST")
            then goto "… Check network, then count"
    }
    counterReset(counter: "auth", for: thatIP, graceSeconds: 10m, save: fails)
    dailyReport(level: "INFO", message: "IMAP login {mailUser} from {thatIP}", details: "NONE")
}

chain "… Check network, then count" {
    thatIP in [192.168.1.0/24, 127.0.0.0/8, ::1, 2001:db8:1000::/48] then goto "… NOOP" else {
        counterRaise(counter: "auth", for: thatIP, keepSeconds: 30m, save: fails)
        fails >= 3
        nftBan(IP: thatIP, banSeconds: 1h, nftSetIPv4: "ip Inet4 auth_ban", nftSetIPv6: "ip6 Inet6 auth_ban")
        email(
            subject: "Ban {thatIP}",
            message: "[{fails:^9d}] {thatIP} banned at {__REALTIME_TIMESTAMP} on {_HOSTNAME} (boot {_BOOT_ID}, prio {PRIORITY:02d}, missing {noSuchField})",
        )
        log(message: "nftBan from auth for {thatIP}")
    }
}

chain "Recidive" {
    SYSLOG_IDENTIFIER in ["pyruse", "python"]
    MESSAGE =~ /^nftBan from [^ ]+ for (?P<thatIP>.+)$/ else goto "… NOOP"
    counterRaise(counter: "recidive", for: thatIP, keepSeconds: 1d, save: bans)
    bans >= 2 else goto "… NOOP"
    nftBan(IP: thatIP, nftSetIPv4: "ip Inet4 recidive", nftSetIPv6: "ip6 Inet6 recidive")
}

chain "Owncloud logins" {
    SYSLOG_IDENTIFIER == "ownCloud"
    MESSAGE =~ /^\{core\} Login failed: '(?P<cloudUser>.*)' \(Remote IP: '(?P<thatIP>.*)'\)/
        else goto "… NOOP"
    dailyReport(level: "WARN", message: "Cloud login failure {cloudUser} from {thatIP}")
        then goto "… Check network, then count"
}

chain "Priorities" {
    PRIORITY in [0, 1, 2] else {
        PRIORITY <= 4 else goto "… NOOP"
        SYSLOG_IDENTIFIER >= 3 else {    # a str field compared with an int: to else
            dailyReport(level: "OTHER", message: "[{PRIORITY}] {SYSLOG_IDENTIFIER}/{_HOSTNAME}: {MESSAGE}")
        }
        email(message: "unreachable: comparing a str field with an int raises")
    }
    email(subject: "Critical", message: "{SYSLOG_IDENTIFIER}@{_HOSTNAME} [{PRIORITY}]: {MESSAGE}")
    dailyReport(level: "WARN", message: "{SYSLOG_IDENTIFIER}: {MESSAGE}", details: "ALL")
}

chain "… NOOP" {
    noop()
}
"#;

    #[test]
    fn semantics_by_hand_round_trips_and_means_the_json() {
        let printed = roundtrip(SEMANTICS_PYR);
        assert!(printed.contains("\ncompat pyruse\n"));
        let json = load_json("semantics.json", &config("semantics.json"));
        assert_eq!(meaning(&json), meaning(&parse(SEMANTICS_PYR)));
    }

    #[test]
    fn round_trips_each_construct() {
        for text in [
            "set a = null\nset b = [true, false, -12, 4096, 2.5, 1e-7, \"s\", /r\\/e/, 90s, 10.0.0.0/8, ::1, f, `odd f`, [], {}]\n",
            "set o = {a: 1, \"b c\": [2, {}]}\nset `odd key` = \"\\u{1}\\\\\\\"\\n\\t\\r\\0é😀\"\n",
            "compat pyruse\nchain \"a\" {}\n",
            "chain \"a\" { noop() x(`a b`: 1, save: 2, in: 3, for: 4,) `odd name`() in(field: f, values: [::1]) }",
            "chain \"a\" { A == 1 B <= 2.5 C >= \"x\" `in` == null D == [1] E == E2 F == /x/ G == 10m }",
            "chain \"a\" { A in [] B in [\"x\", 1] C in [10.0.0.0/8, ::1] D in [10.0.0.1, \"x\"] }",
            "chain \"a\" { A =~ /x/ B =~ /a\\/b/ save [c, `d e`] C =~ any [] D =~ any [/1/, /2/] E =~ //}",
            "chain \"a\" { A == 1 then goto \"b\" B == 1 else goto \"c\" C == 1 then goto \"d\" else goto \"e\" }",
            "chain \"a\" { A == 1 then { B == 2 else { noop() } C() } else { D() } E == 1 else {} F() }",
            "chain \"a\" { A == 1 then goto \"x\" else { noop() } B == 1 then { noop() } else goto \"y\" }",
            "chain \"\\u{1}odd\\\"label\" { noop() }\nchain \"b\" { x() then goto \"\\u{1}odd\\\"label\" }",
            "chain \"a\" { equals(field: A, value: 1) pcre(field: A, re: \"x\") inNetworks(field: A, nets: [\"999.1.1.1\"]) }",
            "chain \"a\" { equals(field: \"A\", value: 1) equals(value: 1, field: A) equals(field: A, value: 1, x: 2) }",
            "chain \"a\" { loooooooooooooooooooooooooooooooooooong(aaaaaaaaaaaaaaa: \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\", c: [1, 2, 3]) else goto \"x\" }",
            "chain \"a\" { MESSAGE =~ /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ save [a, b] then goto \"x\" else { noop() } }",
            "chain \"a\" { F in [\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\", \"c\"] else { noop() } }",
            "set email.sendmail = [\"/usr/sbin/sendmaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaail\", \"-t\"]",
            SEMANTICS_PYR,
        ] {
            roundtrip(text);
        }
    }

    #[test]
    fn keeps_the_form_it_was_written_in() {
        let printed = roundtrip(
            "chain \"a\" { equals(field: A, value: 1) A == 1 pcre(field: M, re: /x/, save: [a]) in(field: F, values: [1]) }",
        );
        assert_eq!(
            printed,
            "chain \"a\" {\n    equals(field: A, value: 1)\n    A == 1\n    pcre(field: M, re: /x/, save: [a])\n    in(field: F, values: [1])\n}\n"
        );
    }

    #[test]
    fn literal_forms() {
        assert_eq!(duration(3600), "1h");
        assert_eq!(duration(1800), "30m");
        assert_eq!(duration(86400), "1d");
        assert_eq!(duration(604800 * 2), "2w");
        assert_eq!(duration(63), "63s");
        assert_eq!(duration(0), "0s");
        assert_eq!(
            regex_literal("a/b\\/c\\\\/d").as_deref(),
            Some("/a\\/b\\/c\\\\\\/d/")
        );
        assert_eq!(regex_literal("a\\"), None);
        assert_eq!(regex_literal("a\nb"), None);
        assert_eq!(field_name("clientIP"), "clientIP");
        assert_eq!(field_name("in"), "`in`");
        assert_eq!(field_name("a b`c\\"), "`a b\\`c\\\\`");
        assert_eq!(field_name("a\nb\""), "`a\\nb\"`");
        assert_eq!(field_name(""), "``");
        assert_eq!(quote("a\"b\\c\n\u{7}é"), "\"a\\\"b\\\\c\\n\\u{7}é\"");
        assert!(printable_network("10.0.0.0/8") && printable_network("::1"));
        assert!(!printable_network("999.1.1.1") && !printable_network("10.0.0.0/33"));
        assert!(!printable_network("fe80::1%eth0") && !printable_network("x"));
    }

    /// A JSON sample with every odd case of the migration.
    const ODD_JSON: &str = r#"{
      "actions": {
        "Start": [ { "action": "action_log", "args": { "message": "first chain" } } ],
        "Above": [ { "action": "action_noop" } ],
        "First": [
          { "filter": "filter_inNetworks", "args": { "field": "ip", "nets": ["999.1.1.1", "10.0.0.0/8"] }, "else": "Below once" },
          { "filter": "filter_inNetworks", "args": { "field": "ip", "nets": [] }, "else": "Above" },
          { "filter": "filter_equals", "args": { "value": "v", "field": "in" } },
          { "filter": "filter_equals", "args": { "field": "x", "value": 1, "extra": true } },
          { "filter": "filter_pcre", "args": { "field": "MESSAGE", "re": "a\nb" } },
          { "filter": "filter_pcre", "args": { "field": "MESSAGE", "re": "a/b", "save": "notAList" } },
          { "filter": "filter_in", "args": { "field": "f", "values": ["10.0.0.1"] } },
          { "action": "action_counterRaise", "args": { "counter": "c", "for": "odd name", "keepSeconds": 90, "save": "n" } },
          { "action": "action_nftBan", "args": { "IP": "ip", "nftSetIPv4": "s4", "nftSetIPv6": "s6", "banSeconds": -5 } },
          { "action": "action_mystery", "args": { "what": { "deep": [1, 2.5, null] } }, "then": "Twice" },
          { "action": "action_log", "args": { "message": "dropped" }, "else": "Dropped only" }
        ],
        "Below once": [ { "filter": "filter_userExists", "args": { "field": "u" }, "else": "Nested" } ],
        "Nested": [ { "action": "action_log", "args": { "message": "nested" } } ],
        "Twice": [ { "action": "action_noop" } ],
        "Second": [
          { "filter": "filter_equals", "args": { "field": "a", "value": "b" }, "then": "Twice", "else": "Start" }
        ],
        "Dropped only": [ { "action": "action_noop" } ],
        "Loop": [ { "filter": "filter_equals", "args": { "field": "a", "value": "b" }, "else": "Loop" } ]
      },
      "8bit-message-encoding": "iso-8859-15",
      "unknown key": 1
    }"#;

    #[test]
    fn migrates_odd_cases_faithfully() {
        let printed = migrate("odd.json", ODD_JSON);
        let expected = r#"# Pyruse's legacy semantics: email subjects are sent as written (no
# {field} substitution), a missing field renders as None, and regexes
# are Python `re` syntax.
compat pyruse

set 8bit-message-encoding = "iso-8859-15"
set `unknown key` = 1

chain "Start" {
    log(message: "first chain")
}

chain "Above" {
    noop()
}

chain "First" {
    inNetworks(field: ip, nets: ["999.1.1.1", 10.0.0.0/8]) else {
        # Below once
        userExists(field: u) else {
            # Nested
            log(message: "nested")
        }
    }
    inNetworks(field: ip, nets: []) else goto "Above"
    `in` == "v"
    equals(field: x, value: 1, extra: true)
    pcre(field: MESSAGE, re: "a\nb")
    pcre(field: MESSAGE, re: /a\/b/, save: "notAList")
    f in ["10.0.0.1"]
    counterRaise(counter: "c", for: `odd name`, keepSeconds: 90s, save: n)
    nftBan(IP: ip, nftSetIPv4: "s4", nftSetIPv6: "s6", banSeconds: -5)
    mystery(what: { deep: [1, 2.5, null] }) then goto "Twice"
    # never run: steps after an explicit "then" are ignored
    # log(message: "dropped") else goto "Dropped only"
}

chain "Twice" {
    noop()
}

chain "Second" {
    a == "b" then goto "Twice" else goto "Start"
}

chain "Dropped only" {
    noop()
}

chain "Loop" {
    a == "b" else goto "Loop"
}
"#;
        assert_eq!(printed, expected);
    }

    /// A tiny deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
            &items[(self.next() % items.len() as u64) as usize]
        }
    }

    const STRINGS: &[&str] = &[
        "a",
        "in",
        "save",
        "odd name",
        "x/y",
        "a\\",
        "é😀",
        "l\nf",
        "\"q\"",
        "`",
        "10.0.0.1",
        "999.1.1.1",
        "::1",
        "fe80::/10",
        "",
        "\u{1}",
        "^a(.*)\\/b$",
        "tab\there",
        "{f}",
    ];

    fn random_value(rng: &mut Rng, depth: u32) -> Expr {
        let span = Span::new(FileId(0), 0, 0);
        let kind = match rng.next() % if depth > 1 { 6 } else { 8 } {
            0 => ExprKind::Str(rng.pick(STRINGS).to_string()),
            1 => ExprKind::Int(*rng.pick(&[0, 1, -5, 60, 63, 3600, 86400, 604800, i64::MIN])),
            2 => ExprKind::Float(*rng.pick(&[2.5, -0.0, 1e300, 1e-7, 0.1 + 0.2])),
            3 => ExprKind::Null,
            4 => ExprKind::Bool(rng.next().is_multiple_of(2)),
            5 => ExprKind::Str(rng.pick(STRINGS).to_string()),
            6 => ExprKind::List(
                (0..rng.next() % 4)
                    .map(|_| random_value(rng, depth + 1))
                    .collect(),
            ),
            _ => ExprKind::Object(
                (0..rng.next() % 3)
                    .map(|_| {
                        (
                            rng.pick(STRINGS).to_string(),
                            span,
                            random_value(rng, depth + 1),
                        )
                    })
                    .collect(),
            ),
        };
        Expr { kind, span }
    }

    /// Random legacy rule sets: print, parse back, same meaning.
    #[test]
    fn random_json_rule_sets_migrate_faithfully() {
        let builtins: &[(&str, &[&str])] = &[
            ("equals", &["field", "value"]),
            ("in", &["field", "values"]),
            ("lowerOrEquals", &["field", "value"]),
            ("inNetworks", &["field", "nets"]),
            ("pcre", &["field", "re", "save"]),
            ("pcreAny", &["field", "re"]),
            ("counterRaise", &["counter", "for", "keepSeconds", "save"]),
            ("nftBan", &["IP", "nftSetIPv4", "nftSetIPv6", "banSeconds"]),
            ("dnatCapture", &["saddr", "addrValue", "keepSeconds"]),
            ("noop", &[]),
            ("mystery", &["x", "odd arg", ""]),
            ("odd builtin", &["field"]),
        ];
        let labels = ["A", "B", "C", "… D", "E \"q\"", "\u{1}F"];
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for round in 0..500 {
            let mut rules = RuleSet::default();
            let file = rules
                .sources
                .add("r.json".into(), Arc::from(""), Syntax::Json);
            rules.file_compat.push(Compat::Pyruse);
            let span = Span::new(file, 0, 0);
            let n = 1 + rng.next() % 5;
            for label in labels.iter().take(n as usize) {
                let mut steps = Vec::new();
                for _ in 0..rng.next() % 4 {
                    let (name, params) = *rng.pick(builtins);
                    let mut args = Vec::new();
                    for p in params.iter() {
                        if rng.next().is_multiple_of(5) {
                            continue;
                        }
                        let value = match (*p, rng.next() % 3) {
                            ("nets" | "re" | "save" | "values", 0) => Expr {
                                kind: ExprKind::List(
                                    (0..rng.next() % 3)
                                        .map(|_| Expr {
                                            kind: ExprKind::Str(rng.pick(STRINGS).to_string()),
                                            span,
                                        })
                                        .collect(),
                                ),
                                span,
                            },
                            _ => random_value(&mut rng, 0),
                        };
                        args.push(Arg {
                            name: p.to_string(),
                            name_span: span,
                            value,
                        });
                    }
                    let target = |rng: &mut Rng| {
                        rng.next().is_multiple_of(3).then(|| Target {
                            label: Label::Named(rng.pick(&labels).to_string()),
                            span,
                        })
                    };
                    let then = target(&mut rng);
                    let else_ = target(&mut rng);
                    steps.push(Step {
                        kind: if rng.next().is_multiple_of(2) {
                            StepKind::Filter
                        } else {
                            StepKind::Action
                        },
                        name: name.to_string(),
                        name_span: span,
                        args,
                        then,
                        else_,
                        span,
                        form: Form::Call,
                    });
                }
                rules.chains.push(Chain {
                    label: Label::Named(label.to_string()),
                    label_span: span,
                    steps,
                    span,
                    service: None,
                    when: None,
                });
            }
            let printed = print(&rules);
            let mut back = RuleSet::default();
            let diags = parse_str("m.pyr", &printed, &mut back, None);
            assert!(
                diags.is_empty(),
                "round {round}:\n{printed}\n{:?}",
                diags.iter().map(|d| &d.message).collect::<Vec<_>>()
            );
            assert_eq!(meaning(&rules), meaning(&back), "round {round}:\n{printed}");
            assert_eq!(print(&back), print(&parse(&print(&back))), "round {round}");
        }
    }

    fn random_step(rng: &mut Rng, depth: u32, out: &mut String) {
        const F: &[&str] = &["A", "`in`", "`a b`", "MESSAGE"];
        const V: &[&str] = &[
            "1",
            "-2",
            "2.5",
            "\"s\\n\"",
            "null",
            "true",
            "10m",
            "::1",
            "f",
            "`odd f`",
            "/r\\/x/",
            "[1, \"a\"]",
            "{a: 1, \"b c\": []}",
            "10.0.0.0/8",
            "[]",
        ];
        let f = rng.pick(F);
        let v = rng.pick(V);
        let step = match rng.next() % 9 {
            0 => format!("{f} == {v}"),
            1 => format!("{f} <= {v}"),
            2 => format!("{f} >= {v}"),
            3 => format!("{f} in [{v}, {}]", rng.pick(V)),
            4 => format!("{f} in [10.0.0.0/8, ::1]"),
            5 => format!("{f} =~ /x\\/y/ save [a, `b c`]"),
            6 => format!("{f} =~ any [/a/, /b/]"),
            7 => format!("{f} =~ /x/"),
            _ => format!(
                "call{}(a: {v}, `b c`: {}, save: {v})",
                rng.next() % 3,
                rng.pick(V)
            ),
        };
        out.push_str(&step);
        for k in ["then", "else"] {
            match rng.next() % 4 {
                0 => {
                    let _ = write!(out, " {k} goto \"L{}\"", rng.next() % 3);
                }
                1 if depth < 3 => {
                    let _ = write!(out, " {k} {{ ");
                    for _ in 0..rng.next() % 3 {
                        random_step(rng, depth + 1, out);
                        out.push('\n');
                    }
                    out.push('}');
                }
                _ => {}
            }
        }
    }

    /// Random `.pyr` files: parse → print → parse gives the same shape.
    #[test]
    fn random_pyr_files_round_trip() {
        let mut rng = Rng(0x1234_5678_9ABC_DEF1);
        for _ in 0..300 {
            let mut text = String::new();
            if rng.next().is_multiple_of(2) {
                text.push_str("compat pyruse\n");
            }
            for c in 0..1 + rng.next() % 3 {
                let _ = writeln!(text, "chain \"L{c}\" {{");
                for _ in 0..rng.next() % 5 {
                    random_step(&mut rng, 0, &mut text);
                    text.push('\n');
                }
                text.push_str("}\n");
            }
            roundtrip(&text);
        }
    }
}
