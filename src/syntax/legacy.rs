//! Legacy `pyruse.json` → AST.
//!
//! The file is read with our order- and position-keeping JSON reader, so
//! chains keep their file order (which is semantics) and every node gets a
//! span into the JSON text. As in Python, a label written twice keeps its
//! first position and its last value (a warning); unknown keys are ignored
//! with a warning. All steps are `Form::Call`, all values plain literals:
//! the checker gives them meaning from the builtin signatures.

use super::ast::{
    Arg, Chain, Compat, Expr, ExprKind, Form, Label, RuleSet, Setting, Step, StepKind, Target,
};
use super::json::{self, Json, JsonKind};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span, Syntax};
use std::sync::Arc;

/// Load one JSON rule file into `rules`.
pub fn load(name: String, text: Arc<str>, rules: &mut RuleSet, diags: &mut Vec<Diagnostic>) {
    let file = rules.sources.add(name, text.clone(), Syntax::Json);
    while rules.file_compat.len() < file.0 as usize {
        rules.file_compat.push(Compat::Native);
    }
    rules.file_compat.push(Compat::Pyruse);
    let span = |r: json::Range| Span::new(file, r.start, r.end);
    let doc = match json::parse(&text) {
        Ok(doc) => doc,
        Err(e) => {
            let mut d = Diagnostic::error(Code::JsonSyntax, span(e.range), e.message)
                .with_label("here")
                .with_help(e.help);
            for (r, l) in e.related {
                d = d.with_related(span(r), l);
            }
            diags.push(d);
            return;
        }
    };
    let JsonKind::Object(members) = &doc.kind else {
        diags.push(
            Diagnostic::error(
                Code::JsonShape,
                span(doc.range),
                format!("a pyruse.json file is an object, not {}", doc.type_name()),
            )
            .with_help("write { \"actions\": { \"My chain\": [ … ] } }"),
        );
        return;
    };
    let mut cx = Loader { file, rules, diags };
    let mut settings = Vec::new();
    for m in members {
        match m.key.as_str() {
            "actions" => cx.actions(&m.value),
            "email" | "nftBan" | "ipsetBan" => match &m.value.kind {
                JsonKind::Object(sub) => nested_settings(&m.key, sub, &mut settings),
                _ => settings.push(JsonSetting::flat(m)),
            },
            _ => settings.push(JsonSetting::flat(m)),
        }
    }
    cx.conflicts(&settings);
    for s in settings {
        cx.setting(s.key, s.key_range, s.value);
    }
}

/// A setting of a JSON file, flattened to its `.pyr` key.
struct JsonSetting<'j> {
    key: String,
    key_range: json::Range,
    value: &'j Json,
    /// Written inside an object (`"email": {"smtp": {"host": …}}`) rather
    /// than as a dotted key (`"email.smtp.host"`).
    nested: bool,
}

impl JsonSetting<'_> {
    fn flat(m: &json::Member) -> JsonSetting<'_> {
        JsonSetting {
            key: m.key.clone(),
            key_range: m.key_range,
            value: &m.value,
            nested: false,
        }
    }
}

/// The members of `"email": { … }` (and of its `"smtp": { … }`),
/// `"nftBan": { … }`, `"ipsetBan": { … }`, as dotted keys.
fn nested_settings<'j>(prefix: &str, members: &'j [json::Member], out: &mut Vec<JsonSetting<'j>>) {
    for s in members {
        let key = format!("{prefix}.{}", s.key);
        match &s.value.kind {
            JsonKind::Object(sub) if key == "email.smtp" => nested_settings(&key, sub, out),
            _ => out.push(JsonSetting {
                key,
                key_range: s.key_range,
                value: &s.value,
                nested: true,
            }),
        }
    }
}

/// Whether two JSON values are equal, wherever they are written.
fn same_value(a: &Json, b: &Json) -> bool {
    match (&a.kind, &b.kind) {
        (JsonKind::Array(x), JsonKind::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (JsonKind::Object(x), JsonKind::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(a, b)| a.key == b.key && same_value(&a.value, &b.value))
        }
        (x, y) => x == y,
    }
}

struct Loader<'a> {
    file: FileId,
    rules: &'a mut RuleSet,
    diags: &'a mut Vec<Diagnostic>,
}

impl Loader<'_> {
    fn span(&self, r: json::Range) -> Span {
        Span::new(self.file, r.start, r.end)
    }

    fn expr(&self, j: &Json) -> Expr {
        let kind = match &j.kind {
            JsonKind::Null => ExprKind::Null,
            JsonKind::Bool(b) => ExprKind::Bool(*b),
            JsonKind::Int(i) => ExprKind::Int(*i),
            JsonKind::Float(f) => ExprKind::Float(*f),
            JsonKind::Str(s) => ExprKind::Str(s.clone()),
            JsonKind::Array(items) => ExprKind::List(items.iter().map(|i| self.expr(i)).collect()),
            JsonKind::Object(ms) => ExprKind::Object(
                ms.iter()
                    .map(|m| (m.key.clone(), self.span(m.key_range), self.expr(&m.value)))
                    .collect(),
            ),
        };
        Expr {
            kind,
            span: self.span(j.range),
        }
    }

    /// A setting given both as a dotted key and inside an object, with two
    /// different values: which one was meant is not clear.
    fn conflicts(&mut self, settings: &[JsonSetting]) {
        for (i, a) in settings.iter().enumerate() {
            let other = settings[..i]
                .iter()
                .find(|b| b.key == a.key && b.nested != a.nested);
            let Some(b) = other.filter(|b| !same_value(a.value, b.value)) else {
                continue;
            };
            let d = Diagnostic::error(
                Code::JsonShape,
                self.span(a.key_range),
                format!(
                    "`{}` is given twice with different values, as \"{}\" and inside an object",
                    a.key, a.key
                ),
            )
            .with_label("given again here")
            .with_related(self.span(b.key_range), "first given here")
            .with_related(self.span(b.value.range), "one value")
            .with_related(self.span(a.value.range), "another value")
            .with_help("keep one of the two");
            self.diags.push(d);
        }
    }

    fn setting(&mut self, key: String, key_range: json::Range, value: &Json) {
        let value = self.expr(value);
        self.rules.settings.push(Setting {
            key,
            key_span: self.span(key_range),
            value,
        });
    }

    fn shape_error(&mut self, r: json::Range, message: String, help: &str) {
        let d = Diagnostic::error(Code::JsonShape, self.span(r), message).with_help(help);
        self.diags.push(d);
    }

    fn actions(&mut self, v: &Json) {
        let JsonKind::Object(chains) = &v.kind else {
            self.shape_error(
                v.range,
                format!(
                    "`actions` must be an object of chains, not {}",
                    v.type_name()
                ),
                "write \"actions\": { \"My chain\": [ steps ] }",
            );
            return;
        };
        for m in chains {
            let label_span = self.span(m.key_range);
            let steps = match &m.value.kind {
                JsonKind::Array(items) => items.iter().filter_map(|s| self.step(s)).collect(),
                _ => {
                    self.shape_error(
                        m.value.range,
                        format!(
                            "chain \"{}\" must be a list of steps, not {}",
                            m.key,
                            m.value.type_name()
                        ),
                        "write [ { \"filter\": …, \"args\": { … } }, … ]",
                    );
                    Vec::new()
                }
            };
            let chain = Chain {
                label: Label::Named(m.key.clone()),
                label_span,
                steps,
                span: label_span.to(self.span(m.value.range)),
                service: None,
                when: None,
            };
            // Python's json keeps the first position and the last value.
            if let Some(first) = self
                .rules
                .chains
                .iter_mut()
                .find(|c| c.label == chain.label && c.span.file == self.file)
            {
                self.diags.push(
                    Diagnostic::warning(
                        Code::DuplicateLabel,
                        label_span,
                        format!(
                            "chain \"{}\" is written twice; this definition replaces the first",
                            chain.label
                        ),
                    )
                    .with_related(first.label_span, "the chain keeps this position")
                    .with_help(
                        "Pyruse behaved the same way; remove one of the two to make this explicit",
                    ),
                );
                first.steps = chain.steps;
                continue;
            }
            self.rules.chains.push(chain);
        }
    }

    fn step(&mut self, s: &Json) -> Option<Step> {
        let JsonKind::Object(members) = &s.kind else {
            self.shape_error(
                s.range,
                format!("a step is an object, not {}", s.type_name()),
                "write { \"filter\": \"filter_equals\", \"args\": { … } }",
            );
            return None;
        };
        let (kind, name, name_json) = self.builtin(s)?;
        let args = self.args(s);
        let then = self.target(s, "then");
        let else_ = self.target(s, "else");
        for m in members {
            if !matches!(
                m.key.as_str(),
                "filter" | "action" | "args" | "then" | "else"
            ) {
                self.diags.push(
                    Diagnostic::warning(
                        Code::JsonShape,
                        self.span(m.key_range),
                        format!("unknown step key \"{}\" is ignored", m.key),
                    )
                    .with_help(
                        "a step has \"filter\" or \"action\", \"args\", \"then\" and \"else\"",
                    ),
                );
            }
        }
        Some(Step {
            kind,
            name,
            name_span: self.span(name_json.range),
            args,
            then,
            else_,
            span: self.span(s.range),
            form: Form::Call,
        })
    }

    /// The `"filter"` or `"action"` of step `s`: the kind of step, the
    /// builtin's name without its prefix, and the JSON of the name.
    fn builtin<'j>(&mut self, s: &'j Json) -> Option<(StepKind, String, &'j Json)> {
        let (kind, word) = if s.get("filter").is_some() {
            (StepKind::Filter, "filter")
        } else if s.get("action").is_some() {
            (StepKind::Action, "action")
        } else {
            self.shape_error(
                s.range,
                "this step has neither \"filter\" nor \"action\"".into(),
                "add \"filter\": \"filter_NAME\" or \"action\": \"action_NAME\"",
            );
            return None;
        };
        let name_json = s.get(word)?;
        let JsonKind::Str(full) = &name_json.kind else {
            self.shape_error(
                name_json.range,
                format!("\"{word}\" must be a string, not {}", name_json.type_name()),
                "write the builtin's name, like \"filter_pcre\"",
            );
            return None;
        };
        let name = full
            .strip_prefix("filter_")
            .or_else(|| full.strip_prefix("action_"))
            .unwrap_or(full)
            .to_owned();
        // A name with the other prefix ("filter": "action_email") keeps the
        // kind of its key: the checker reports the mismatch.
        Some((kind, name, name_json))
    }

    /// The `"args"` of step `s`.
    fn args(&mut self, s: &Json) -> Vec<Arg> {
        let mut args = Vec::new();
        if let Some(a) = s.get("args") {
            match &a.kind {
                JsonKind::Object(ms) => {
                    for m in ms {
                        args.push(Arg {
                            name: m.key.clone(),
                            name_span: self.span(m.key_range),
                            value: self.expr(&m.value),
                        });
                    }
                }
                JsonKind::Null => {}
                _ => self.shape_error(
                    a.range,
                    format!("\"args\" must be an object, not {}", a.type_name()),
                    "write \"args\": { \"field\": \"MESSAGE\", … }",
                ),
            }
        }
        args
    }

    /// The `"then"` or `"else"` (`key`) of step `s`.
    fn target(&mut self, s: &Json, key: &str) -> Option<Target> {
        let t = s.get(key)?;
        match &t.kind {
            JsonKind::Str(label) => Some(Target {
                label: Label::Named(label.clone()),
                span: self.span(t.range),
            }),
            JsonKind::Null => None,
            _ => {
                self.shape_error(
                    t.range,
                    format!(
                        "\"{key}\" must be the label of a chain, not {}",
                        t.type_name()
                    ),
                    "write the label as a string",
                );
                None
            }
        }
    }
}
