//! Compile-time context of a builtin's `prepare`: typed access to the
//! step's arguments, interning of fields and counters, and diagnostics with
//! exact spans (inside a regex or template when they are wrong).

use crate::diag::{Code, Diagnostic};
use crate::python::format::{Missing, Template};
use crate::python::re::{Matcher, PatternError};
use crate::source::{Span, Syntax};
use crate::state::CounterId;
use crate::syntax::ast::{Compat, Expr, ExprKind, RuleSet, Step as AstStep};
use crate::value::fields::{FieldId, FieldKind};
use crate::value::Value;
use crate::vm::FieldInfo;
use crate::vm::{Ctx, RunError};
use std::collections::HashMap;

/// Field and counter tables being built for a program.
#[derive(Default)]
pub struct Tables {
    pub fields: Vec<FieldInfo>,
    pub field_ids: HashMap<String, FieldId>,
    pub counters: Vec<String>,
    pub dnat_masks: Vec<u8>,
    /// Fields read by steps, with where.
    pub reads: Vec<(FieldId, Span)>,
    /// Fields written by steps.
    pub writes: Vec<FieldId>,
    /// The first field name past [`MAX_FIELDS`], if any: the checker
    /// reports it, and no program is built.
    pub overflow: Option<String>,
}

/// How many distinct fields a program can name (field ids are `u16`, the
/// last one kept out of use).
pub const MAX_FIELDS: usize = u16::MAX as usize;

impl Tables {
    pub fn intern(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.field_ids.get(name) {
            return id;
        }
        let Some(id) = u16::try_from(self.fields.len())
            .ok()
            .filter(|&n| usize::from(n) < MAX_FIELDS)
            .map(FieldId)
        else {
            self.overflow.get_or_insert_with(|| name.to_owned());
            return FieldId(u16::MAX);
        };
        self.fields.push(FieldInfo {
            name: name.to_owned(),
            kind: FieldKind::of(name),
        });
        self.field_ids.insert(name.to_owned(), id);
        id
    }
}

/// The context of one step's preparation.
pub struct Prep<'a> {
    pub rules: &'a RuleSet,
    pub step: &'a AstStep,
    pub tables: &'a mut Tables,
    pub diags: &'a mut Vec<Diagnostic>,
    pub compat: Compat,
}

impl Prep<'_> {
    pub fn arg(&self, name: &str) -> Option<&Expr> {
        // Python keeps the last value of a repeated key.
        self.step
            .args
            .iter()
            .rev()
            .find(|a| a.name == name)
            .map(|a| &a.value)
    }

    pub fn error(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::error(code, span, message).with_help(help));
    }

    fn field_name(e: &Expr) -> Option<&str> {
        match &e.kind {
            ExprKind::Field(s) | ExprKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A field the step reads.
    pub fn field(&mut self, name: &str) -> Option<FieldId> {
        let e = self.arg(name)?;
        let (n, span) = (Self::field_name(e)?.to_owned(), e.span);
        let id = self.tables.intern(&n);
        self.tables.reads.push((id, span));
        Some(id)
    }

    /// A field the step writes.
    pub fn field_out(&mut self, name: &str) -> Option<FieldId> {
        let e = self.arg(name)?;
        let n = Self::field_name(e)?.to_owned();
        Some(self.write_field(&n))
    }

    pub fn write_field(&mut self, name: &str) -> FieldId {
        let id = self.tables.intern(name);
        self.tables.writes.push(id);
        id
    }

    /// Fields the step writes, given as one name or a list.
    pub fn fields_out(&mut self, name: &str) -> Vec<FieldId> {
        let names = self.arg(name).map(Self::field_names).unwrap_or_default();
        names.iter().map(|n| self.write_field(n)).collect()
    }

    /// The field names of a field or list of fields.
    pub fn field_names(e: &Expr) -> Vec<String> {
        match &e.kind {
            ExprKind::List(items) => items
                .iter()
                .filter_map(|i| Self::field_name(i).map(str::to_owned))
                .collect(),
            _ => Self::field_name(e).map(str::to_owned).into_iter().collect(),
        }
    }

    /// Fields the step reads, from a field or a list of fields, with their
    /// names.
    pub fn fields_in(&mut self, name: &str) -> Vec<(FieldId, String)> {
        let Some(e) = self.arg(name) else {
            return Vec::new();
        };
        let span = e.span;
        Self::field_names(e)
            .into_iter()
            .map(|n| {
                let id = self.tables.intern(&n);
                self.tables.reads.push((id, span));
                (id, n)
            })
            .collect()
    }

    pub fn string(&self, name: &str) -> Option<String> {
        match &self.arg(name)?.kind {
            ExprKind::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn seconds(&self, name: &str) -> Option<i64> {
        match self.arg(name)?.kind {
            ExprKind::Int(i) | ExprKind::Duration(i) => Some(i),
            _ => None,
        }
    }

    pub fn constant(e: &Expr) -> Option<Value> {
        Some(match &e.kind {
            ExprKind::Null => Value::None,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::Duration(d) => Value::Int(*d),
            ExprKind::Network(n) => Value::Str(n.clone()),
            _ => return None,
        })
    }

    /// Map an offset inside a string or regex literal's content to a span.
    pub fn inner_span(&self, e: &Expr, start: usize, end: usize) -> Span {
        let file = self.rules.sources.file(e.span.file);
        let text = &file.text;
        let lit = e.span;
        match (file.syntax, &e.kind) {
            (Syntax::Json, ExprKind::Str(_)) => {
                let r = crate::syntax::json::Range {
                    start: lit.start as usize,
                    end: lit.end as usize,
                };
                let s = crate::syntax::json::source_offset(text, r, start);
                let t = crate::syntax::json::source_offset(text, r, end);
                Span::new(lit.file, s, t.max(s))
            }
            (Syntax::Pyr, ExprKind::Str(_)) => {
                let s = crate::syntax::pyr::string_source_offset(text, lit, start);
                let t = crate::syntax::pyr::string_source_offset(text, lit, end);
                Span::new(lit.file, s, t.max(s))
            }
            // Regex literals keep their text verbatim after the opening `/`.
            _ => {
                let s = (lit.start as usize + 1 + start).min(lit.end as usize);
                let t = (lit.start as usize + 1 + end).min(lit.end as usize);
                Span::new(lit.file, s, t.max(s))
            }
        }
    }

    fn regex_text(e: &Expr) -> Option<&str> {
        match &e.kind {
            ExprKind::Str(s) | ExprKind::Regex(s) => Some(s),
            _ => None,
        }
    }

    /// Compile one regex expression, in the dialect of its file.
    pub fn compile_regex(&mut self, e: &Expr) -> Option<Matcher> {
        let text = Self::regex_text(e)?;
        let result = match self.compat {
            Compat::Pyruse => Matcher::python(text),
            Compat::Native => Matcher::native(text),
        };
        match result {
            Ok(m) => {
                if m.may_backtrack_exponentially() {
                    self.diags.push(
                        Diagnostic::warning(
                            Code::SlowRegex,
                            e.span,
                            "this regex may backtrack exponentially on some texts",
                        )
                        .with_label("nested repeats with a back-reference or look-around")
                        .with_help(format!(
                            "each match stops after {} steps and an entry's backtracking regexes after {} ms \
                             (the filter then takes its else); remove the nesting, e.g. (a+)+ → a+",
                            crate::python::re::BACKTRACK_LIMIT,
                            crate::python::re::budget::ENTRY_BUDGET.as_millis()
                        )),
                    );
                }
                Some(m)
            }
            Err(PatternError {
                start,
                end,
                message,
                help,
            }) => {
                let span = self.inner_span(e, start, end);
                let dialect = match self.compat {
                    Compat::Pyruse => "Python `re`",
                    Compat::Native => "Rust regex",
                };
                self.diags.push(
                    Diagnostic::error(
                        Code::InvalidRegex,
                        span,
                        format!("invalid regex: {message}"),
                    )
                    .with_label("here")
                    .with_help(if help.is_empty() {
                        format!("this regex is read in {dialect} syntax")
                    } else {
                        help
                    }),
                );
                None
            }
        }
    }

    pub fn regex(&mut self, name: &str) -> Option<Matcher> {
        let e = self.arg(name)?.clone();
        self.compile_regex(&e)
    }

    pub fn regexes(&mut self, name: &str) -> Option<Vec<Matcher>> {
        let e = self.arg(name)?.clone();
        let ExprKind::List(items) = &e.kind else {
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.compile_regex(item) {
                Some(m) => out.push(m),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A message template, with its fields interned.
    pub fn template(&mut self, name: &str) -> Option<Tpl> {
        let e = self.arg(name)?.clone();
        let ExprKind::Str(text) = &e.kind else {
            return None;
        };
        match Template::parse(text) {
            Ok(t) => {
                let mut ids = Vec::new();
                for (k, f) in t.fields().iter().enumerate() {
                    let id = self.tables.intern(f);
                    let (s, en) = t.field_ranges().get(k).copied().unwrap_or((0, 0));
                    let span = self.inner_span(&e, s, en);
                    self.tables.reads.push((id, span));
                    ids.push(id);
                }
                let missing = match self.compat {
                    Compat::Pyruse => Missing::PythonNone,
                    Compat::Native => Missing::Empty,
                };
                Some(Tpl {
                    text: text.clone(),
                    template: t,
                    ids,
                    missing,
                })
            }
            Err(err) => {
                let span = self.inner_span(&e, err.start, err.end);
                self.diags.push(
                    Diagnostic::error(
                        Code::InvalidTemplate,
                        span,
                        format!("malformed message template: {}", err.message),
                    )
                    .with_label("here")
                    .with_help(err.help),
                );
                None
            }
        }
    }

    pub fn counter(&mut self, name: &str) -> CounterId {
        if let Some(i) = self.tables.counters.iter().position(|c| c == name) {
            return CounterId(i as u16);
        }
        self.tables.counters.push(name.to_owned());
        CounterId((self.tables.counters.len() - 1) as u16)
    }

    /// Span of the step's builtin name.
    pub fn step_span(&self) -> Span {
        self.step.name_span
    }
}

/// A prepared template: its fields as slots.
pub struct Tpl {
    pub text: String,
    pub template: Template,
    pub ids: Vec<FieldId>,
    pub missing: Missing,
}

impl Tpl {
    pub fn render(&self, ctx: &mut Ctx) -> Result<String, RunError> {
        if let Some(lit) = self.template.as_literal() {
            return Ok(lit.to_owned());
        }
        for &id in &self.ids {
            ctx.load(id);
        }
        let mut out = String::new();
        let ctx_ref: &Ctx = ctx;
        self.template
            .render(
                &|k| self.ids.get(k).and_then(|&id| ctx_ref.peek(id)),
                self.missing,
                ctx_ref.tz,
                &mut out,
            )
            .map_err(|e| RunError::step(format!("cannot render {{{}}}: {}", e.field, e.message)))?;
        Ok(out)
    }

    /// The template as a `.pyr` string literal.
    pub fn source(&self) -> String {
        crate::syntax::notation::quote(&self.text)
    }
}
