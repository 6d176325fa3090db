//! The `.pyr` rule language: parsing, lowering to the AST, and loading
//! files, includes and directories.
//!
//! The grammar is `grammar/pyr.pest`. Parsing stops at the first syntax
//! error of a file; that error is turned into one [`Diagnostic`] with
//! [`Code::Syntax`] in [`syntax_error`], which says in words what was
//! expected, where, and how to fix the usual mistakes. Errors found while
//! lowering (a bad string escape, a number out of range, `compat` in the
//! wrong place) are reported at their exact span, and lowering goes on.
//!
//! Operator steps are lowered to the builtin they stand for:
//!
//! | written                       | builtin and arguments           |
//! |-------------------------------|---------------------------------|
//! | `F == v`                      | `equals(field: F, value: v)`    |
//! | `F <= v`, `F >= v`            | `lowerOrEquals`, `greaterOrEquals` (`field`, `value`) |
//! | `F in [a, b]`                 | `in(field: F, values: [a, b])`  |
//! | `F in [10.0.0.0/8, ::1]`      | `inNetworks(field: F, nets: […])` (every element a network, list not empty) |
//! | `F =~ /re/ save [a, b]`       | `pcre(field: F, re: /re/, save: [a, b])` |
//! | `F =~ any [/a/, /b/]`         | `pcreAny(field: F, re: [/a/, /b/])` |
//!
//! An inline block (`then { … }`, `else { … }`) becomes a chain labelled
//! [`Label::Block`] with the place it was written, pushed to
//! [`RuleSet::chains`] right after the chain that contains it (nested blocks
//! after their parent, in the order they are written); a block label never
//! equals a label a user can write.
//!
//! A file that is legacy JSON (named `*.json`, or whose text starts with
//! `{`: see [`crate::syntax::is_json`]) loads with the legacy loader
//! wherever it comes: given on its own, in a directory, or included. Its
//! chains take the place of the `include` in the rule set's chain order,
//! as an included `.pyr` file's do, and keep Pyruse's semantics; a `.pyr`
//! file that only includes `pyruse.json` runs exactly as `pyruse.json`.

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, SourceFile, Span, Syntax};
use crate::syntax::ast::{
    self, Arg, BlockAt, Chain, Compat, Example, Expr, ExprKind, Form, Label, ParamDecl, RuleSet,
    Setting, Step, StepKind, Target, When,
};
use pest::iterators::Pair;
use pest::Parser as _;
use std::path::Path;
use std::sync::Arc;

mod errors;
mod files;
#[cfg(test)]
mod tests;

use errors::check_nesting;
pub use errors::syntax_error;
use files::{
    include, load_text, read_path, FnResolver, FsResolver, IncludeFrame, NoIncludes, Resolve,
};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/pyr.pest"]
pub struct PyrParser;

/// The keywords of the language. A field whose name is one of them must be
/// written between backquotes (`` `in` ``).
pub const KEYWORDS: &[&str] = &[
    "chain", "include", "set", "compat", "pyruse", "then", "else", "goto", "in", "any", "save",
    "true", "false", "null",
];

/// How deep brackets, braces and parentheses may nest in one file.
pub const MAX_NESTING: usize = 64;

/// How deep includes may nest.
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// Resolves `include "PATH"`: called with the name of the including file
/// and PATH as written; returns the files to load in place of the include
/// (one for a file, the `*.pyr` files of a directory in order), as
/// `(name, text)`, or an error message. The name identifies the file for
/// include-cycle detection.
pub type IncludeResolver<'a> = dyn FnMut(&str, &str) -> Result<Vec<(String, String)>, String> + 'a;

/// Loads a `.pyr` file with its includes, or every `*.pyr` file of a
/// directory (sorted by file name, bytewise; not recursive); legacy JSON
/// files among them load as legacy JSON.
pub fn load(path: &Path) -> (RuleSet, Vec<Diagnostic>) {
    let mut rules = RuleSet::default();
    let mut diags = Vec::new();
    load_path(path, &mut rules, &mut diags);
    (rules, diags)
}

/// Like [`load`], adding to an existing rule set. An include is read
/// relative to the directory of the including file.
pub fn load_path(path: &Path, rules: &mut RuleSet, diags: &mut Vec<Diagnostic>) {
    let mut resolver = FsResolver;
    let mut stack = Vec::new();
    match read_path(path) {
        Ok(files) => {
            for file in files {
                match file.text {
                    Ok(text) => load_text(
                        &file.name,
                        &file.key,
                        text,
                        rules,
                        &mut resolver,
                        &mut stack,
                        diags,
                    ),
                    Err(e) => diags.push(Diagnostic::bare(Code::Io, e)),
                }
            }
        }
        Err(e) => diags.push(Diagnostic::bare(Code::Io, e)),
    }
}

/// Parses `text` as the `.pyr` file `name` into `rules`, with includes
/// disabled (an include is an error): for tests and fuzzing.
pub fn load_str(name: &str, text: &str, rules: &mut RuleSet, diags: &mut Vec<Diagnostic>) {
    diags.extend(parse_str(name, text, rules, None));
}

/// Parses `text` as the `.pyr` file `name` into `rules`. Includes go
/// through `resolve`; with `None`, an include is an error.
pub fn parse_str(
    name: &str,
    text: &str,
    rules: &mut RuleSet,
    resolve: Option<&mut IncludeResolver<'_>>,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut stack = Vec::new();
    match resolve {
        Some(f) => {
            let mut r = FnResolver(f);
            parse_file(name, name, text, rules, &mut r, &mut stack, &mut diags);
        }
        None => parse_file(
            name,
            name,
            text,
            rules,
            &mut NoIncludes,
            &mut stack,
            &mut diags,
        ),
    }
    diags
}

/// The source offset of byte `off` of the decoded value of the string
/// literal at `lit` (a span that includes the quotes) in file `text`:
/// escapes are walked, so that an error found in a string (a template, a
/// regex given as a string) points at the right characters. An offset past
/// the end gives the closing quote.
pub fn string_source_offset(text: &str, lit: Span, off: usize) -> usize {
    let start = lit.start as usize;
    let Some(raw) = text.get(start..(lit.end as usize).min(text.len())) else {
        return start.min(text.len());
    };
    if raw.len() < 2 {
        return start;
    }
    let inner = &raw[1..raw.len() - 1];
    let mut decoded = 0;
    let mut it = inner.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if decoded >= off {
            return start + 1 + i;
        }
        if c != '\\' {
            decoded += c.len_utf8();
            continue;
        }
        match it.next() {
            Some((_, 'u')) => {
                let mut hex = String::new();
                for (_, h) in it.by_ref() {
                    if h == '}' {
                        break;
                    }
                    if h != '{' {
                        hex.push(h);
                    }
                }
                decoded += u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .map_or(0, char::len_utf8);
            }
            Some(_) => decoded += 1,
            None => break,
        }
    }
    start + 1 + inner.len()
}

/// Whether `text` is a plain identifier (not a keyword): a field written
/// without backquotes.
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&text)
}

/// Whether `text` is a setting key that needs no backquotes
/// (`email.to`, `8bit-message-encoding`).
pub fn is_setting_key(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// Whether `text` lexes as one network literal (`10.0.0.0/8`, `::1`).
/// Nothing is validated beyond the shape.
pub fn is_network_literal(text: &str) -> bool {
    PyrParser::parse(Rule::network_only, text).is_ok()
}

fn parse_file(
    name: &str,
    key: &str,
    text: &str,
    rules: &mut RuleSet,
    resolver: &mut dyn Resolve,
    stack: &mut Vec<IncludeFrame>,
    diags: &mut Vec<Diagnostic>,
) {
    let text: Arc<str> = Arc::from(text);
    let already_named = rules.sources.files().any(|(_, f)| f.name == name);
    let file = rules
        .sources
        .add(name.to_string(), text.clone(), Syntax::Pyr);
    let idx = file.0 as usize;
    if rules.file_compat.len() <= idx {
        rules.file_compat.resize(idx + 1, Compat::Native);
    }
    rules.file_compat[idx] = Compat::Native;

    if let Some(d) = check_nesting(&text, file) {
        diags.push(d);
        return;
    }
    let items = match PyrParser::parse(Rule::file, &text) {
        Ok(pairs) => pairs,
        Err(e) => {
            diags.push(syntax_error(&e, file, &text));
            return;
        }
    };

    stack.push((key.to_string(), name.to_string()));
    let mut lower = Lower {
        file,
        src: SourceFile::new(name.to_string(), text.clone(), Syntax::Pyr),
        repeat: already_named.then_some(file),
        diags: Vec::new(),
    };
    let mut compat_span: Option<Span> = None;
    let mut first_chain: Option<Span> = None;
    // The service the items that follow belong to, until the next one.
    let mut service: Option<String> = None;
    for item in items {
        match item.as_rule() {
            Rule::service_decl => {
                let Some(name_pair) = children(item).next() else {
                    continue;
                };
                let span = lower.span(&name_pair);
                let Some(name) = lower.string(&name_pair) else {
                    continue;
                };
                if let Some(first) = rules.services.iter().find(|s| s.name == name) {
                    lower.diags.push(
                        Diagnostic::error(
                            Code::DuplicateChain,
                            span,
                            format!("a service named \"{name}\" already exists"),
                        )
                        .with_label("second definition")
                        .with_related(first.span, "first defined here")
                        .with_help("give each service its own name, or merge the two files"),
                    );
                } else if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    lower.diags.push(
                        Diagnostic::error(Code::Syntax, span, "a service name is a plain name")
                            .with_label("letters, digits, `_` and `-` only, as in `nginx-http-auth`")
                            .with_help("its parameters are written `set NAME.banTime = …`, so the name cannot hold dots or blanks"),
                    );
                } else {
                    rules.services.push(ast::Service {
                        name: name.clone(),
                        span,
                    });
                }
                service = Some(name);
            }
            Rule::param_decl => {
                if let Some(p) = lower.param_decl(item, &service) {
                    rules.params.push(p);
                }
            }
            Rule::example => {
                if let Some(e) = lower.example(item, &service) {
                    rules.examples.push(e);
                }
            }
            Rule::compat_decl => {
                let span = lower.span(&item);
                if let Some(first) = compat_span {
                    lower.diags.push(
                        Diagnostic::error(Code::Syntax, span, "`compat pyruse` is written twice")
                            .with_label("written again here")
                            .with_related(first, "first written here")
                            .with_help("remove this line"),
                    );
                } else if let Some(chain) = first_chain {
                    lower.diags.push(
                        Diagnostic::error(
                            Code::Syntax,
                            span,
                            "`compat pyruse` must come before any chain",
                        )
                        .with_label("too late")
                        .with_related(chain, "first chain of the file")
                        .with_help("move `compat pyruse` to the top of the file"),
                    );
                } else {
                    compat_span = Some(span);
                    rules.file_compat[idx] = Compat::Pyruse;
                }
            }
            Rule::setting => {
                if let Some(s) = lower.setting(item) {
                    rules.settings.push(s);
                }
            }
            Rule::chain => {
                first_chain.get_or_insert(lower.span(&item));
                let mut out = Vec::new();
                lower.chain(item, &mut out);
                for c in &mut out {
                    c.service.clone_from(&service);
                }
                rules.chains.extend(out);
            }
            Rule::include => {
                let path_pair = item.into_inner().nth(1);
                let Some(path_pair) = path_pair else { continue };
                let span = lower.span(&path_pair);
                let Some(path) = lower.string(&path_pair) else {
                    continue;
                };
                diags.append(&mut lower.diags);
                include(&path, span, name, rules, resolver, stack, diags);
            }
            _ => {}
        }
    }
    diags.append(&mut lower.diags);
    stack.pop();
}

// ---------------------------------------------------------------------------
// Lowering

struct Lower {
    file: FileId,
    src: SourceFile,
    /// This file, when a file of the same name was loaded before it.
    repeat: Option<FileId>,
    diags: Vec<Diagnostic>,
}

/// Whether a pair is punctuation or a keyword (skipped when lowering).
fn is_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::lbrace
            | Rule::rbrace
            | Rule::lparen
            | Rule::rparen
            | Rule::lbracket
            | Rule::rbracket
            | Rule::comma
            | Rule::colon
            | Rule::assign
            | Rule::kw_chain
            | Rule::kw_include
            | Rule::kw_set
            | Rule::kw_compat
            | Rule::kw_pyruse
            | Rule::kw_then
            | Rule::kw_else
            | Rule::kw_goto
            | Rule::kw_in
            | Rule::kw_any
            | Rule::kw_save
            | Rule::kw_service
            | Rule::kw_param
            | Rule::kw_example
            | Rule::kw_when
            | Rule::arrow
            | Rule::op_match
            | Rule::EOI
    )
}

fn children(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !is_token(p.as_rule()))
}

impl Lower {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    fn setting(&mut self, pair: Pair<'_, Rule>) -> Option<Setting> {
        let mut it = children(pair);
        let key = it.next()?;
        let value = it.next()?;
        let key_span = self.span(&key);
        let key = self.name(&key)?;
        Some(Setting {
            key,
            key_span,
            value: self.expr(value)?,
        })
    }

    fn chain(&mut self, pair: Pair<'_, Rule>, out: &mut Vec<Chain>) {
        let span = self.span(&pair);
        let mut it = children(pair);
        let (Some(label), Some(mut block)) = (it.next(), it.next()) else {
            return;
        };
        let mut when = None;
        if block.as_rule() == Rule::when_clause {
            when = self.when(block);
            let Some(b) = it.next() else { return };
            block = b;
        }
        let label_span = self.span(&label);
        let label = Label::Named(self.string(&label).unwrap_or_default());
        let at = out.len();
        self.block(block, label, label_span, span, out);
        for c in &mut out[at..] {
            c.when.clone_from(&when);
        }
    }

    /// `when $PARAM == v` or `when $PARAM in [v, …]`.
    fn when(&mut self, pair: Pair<'_, Rule>) -> Option<When> {
        let mut it = children(pair);
        let param = it.next()?;
        let param_span = self.span(&param);
        let name = param.as_str().trim_start_matches('$').to_owned();
        let test = it.next()?;
        let rule = test.as_rule();
        let mut parts = test.into_inner();
        let op = parts.next()?;
        let values = match rule {
            Rule::cmp_test if op.as_str() == "==" => vec![self.expr(parts.next()?)?],
            Rule::cmp_test => {
                let span = self.span(&op);
                self.diags.push(
                    Diagnostic::error(Code::Syntax, span, "`when` compares with `==` or `in`")
                        .with_label("not allowed here")
                        .with_help("write `when $mode == \"ddos\"` or `when $mode in [\"ddos\", \"aggressive\"]`"),
                );
                return None;
            }
            _ => match self.expr_inner(parts.next()?)?.kind {
                ExprKind::List(items) => items,
                _ => return None,
            },
        };
        Some(When {
            param: name,
            param_span,
            values,
        })
    }

    fn param_decl(&mut self, pair: Pair<'_, Rule>, service: &Option<String>) -> Option<ParamDecl> {
        let mut it = children(pair);
        let name = it.next()?;
        let value = it.next()?;
        Some(ParamDecl {
            service: service.clone(),
            name: name.as_str().to_owned(),
            name_span: self.span(&name),
            value: self.expr(value)?,
        })
    }

    fn example(&mut self, pair: Pair<'_, Rule>, service: &Option<String>) -> Option<Example> {
        let span = self.span(&pair);
        let mut it = children(pair);
        let input = self.expr(it.next()?)?;
        let outcome = it.next()?.into_inner().next()?;
        let outcome = match outcome.as_rule() {
            Rule::network => Some((outcome.as_str().to_owned(), self.span(&outcome))),
            _ => None,
        };
        Some(Example {
            service: service.clone(),
            input,
            outcome,
            span,
        })
    }

    /// Lowers a block into a chain pushed to `out`, followed by the
    /// chains of its inline blocks.
    fn block(
        &mut self,
        block: Pair<'_, Rule>,
        label: Label,
        label_span: Span,
        span: Span,
        out: &mut Vec<Chain>,
    ) {
        let at = out.len();
        out.push(Chain {
            label,
            label_span,
            steps: Vec::new(),
            span,
            service: None,
            when: None,
        });
        let mut steps = Vec::new();
        for step in children(block) {
            if let Some(s) = self.step(step, out) {
                steps.push(s);
            }
        }
        out[at].steps = steps;
    }

    fn step(&mut self, pair: Pair<'_, Rule>, out: &mut Vec<Chain>) -> Option<Step> {
        let span = self.span(&pair);
        let mut then = None;
        let mut else_ = None;
        let mut step = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::call => step = self.call(part, span),
                Rule::op_step => step = self.op_step(part, span),
                Rule::then_clause => then = self.successor(part, out),
                Rule::else_clause => else_ = self.successor(part, out),
                _ => {}
            }
        }
        let mut step = step?;
        step.then = then;
        step.else_ = else_;
        Some(step)
    }

    fn successor(&mut self, pair: Pair<'_, Rule>, out: &mut Vec<Chain>) -> Option<Target> {
        let inner = children(pair).next()?;
        match inner.as_rule() {
            Rule::goto => {
                let label = children(inner).next()?;
                let span = self.span(&label);
                Some(Target {
                    label: Label::Named(self.string(&label)?),
                    span,
                })
            }
            Rule::block => {
                let span = self.span(&inner);
                let brace = Span::new(self.file, span.start as usize, span.start as usize + 1);
                let (line, col) = self.src.line_col(span.start as usize);
                let label = Label::Block(BlockAt {
                    file: self.src.name.clone(),
                    line,
                    col,
                    repeat: self.repeat,
                });
                self.block(inner, label.clone(), brace, span, out);
                Some(Target { label, span })
            }
            _ => None,
        }
    }

    fn call(&mut self, pair: Pair<'_, Rule>, span: Span) -> Option<Step> {
        let mut it = children(pair);
        let name = it.next()?;
        let name_span = self.span(&name);
        let name = self.name(&name)?;
        let mut args = Vec::new();
        for arg in it {
            let mut parts = children(arg);
            let (Some(n), Some(v)) = (parts.next(), parts.next()) else {
                continue;
            };
            let name_span = self.span(&n);
            let name = self.name(&n);
            if let (Some(name), Some(value)) = (name, self.expr(v)) {
                args.push(Arg {
                    name,
                    name_span,
                    value,
                });
            }
        }
        Some(Step {
            kind: StepKind::Either,
            name,
            name_span,
            args,
            then: None,
            else_: None,
            span,
            form: Form::Call,
        })
    }

    fn op_step(&mut self, pair: Pair<'_, Rule>, span: Span) -> Option<Step> {
        let mut it = pair.into_inner();
        let field = it.next()?;
        let field_span = self.span(&field);
        let field_name = self.name(&field)?;
        let field_arg = Arg {
            name: "field".into(),
            name_span: field_span,
            value: Expr {
                kind: ExprKind::Field(field_name),
                span: field_span,
            },
        };
        let test = it.next()?;
        let rule = test.as_rule();
        let mut parts = test.into_inner();
        let op = parts.next()?;
        let op_span = self.span(&op);
        let mut args = vec![field_arg];
        let name = match rule {
            Rule::cmp_test => {
                let value = self.expr(parts.next()?)?;
                args.push(Arg {
                    name: "value".into(),
                    name_span: op_span,
                    value,
                });
                match op.as_str() {
                    "==" => "equals",
                    "<=" => "lowerOrEquals",
                    _ => "greaterOrEquals",
                }
            }
            Rule::in_test => {
                let list = self.expr_inner(parts.next()?)?;
                let nets = matches!(&list.kind, ExprKind::List(items)
                    if !items.is_empty()
                        && items.iter().all(|e| matches!(e.kind, ExprKind::Network(_))));
                args.push(Arg {
                    name: if nets { "nets" } else { "values" }.into(),
                    name_span: op_span,
                    value: list,
                });
                if nets {
                    "inNetworks"
                } else {
                    "in"
                }
            }
            Rule::match_test => {
                let next = parts.next()?;
                if next.as_rule() == Rule::kw_any {
                    let list = parts.next()?;
                    let list_span = self.span(&list);
                    let items = children(list).map(|r| self.regex(&r)).collect::<Vec<_>>();
                    args.push(Arg {
                        name: "re".into(),
                        name_span: op_span,
                        value: Expr {
                            kind: ExprKind::List(items),
                            span: list_span,
                        },
                    });
                    "pcreAny"
                } else {
                    args.push(Arg {
                        name: "re".into(),
                        name_span: op_span,
                        value: self.regex(&next),
                    });
                    if let Some(save) = parts.next() {
                        let mut sp = save.into_inner();
                        let kw = sp.next()?;
                        let list = sp.next()?;
                        let list_span = self.span(&list);
                        let mut items = Vec::new();
                        for f in children(list) {
                            let span = self.span(&f);
                            items.push(Expr {
                                kind: ExprKind::Field(self.name(&f)?),
                                span,
                            });
                        }
                        args.push(Arg {
                            name: "save".into(),
                            name_span: self.span(&kw),
                            value: Expr {
                                kind: ExprKind::List(items),
                                span: list_span,
                            },
                        });
                    }
                    "pcre"
                }
            }
            _ => return None,
        };
        Some(Step {
            kind: StepKind::Either,
            name: name.into(),
            name_span: op_span,
            args,
            then: None,
            else_: None,
            span,
            form: Form::Operator,
        })
    }

    fn regex(&self, pair: &Pair<'_, Rule>) -> Expr {
        let text = pair.as_str();
        Expr {
            kind: ExprKind::Regex(text[1..text.len() - 1].to_string()),
            span: self.span(pair),
        }
    }

    /// An `expr` pair.
    fn expr(&mut self, pair: Pair<'_, Rule>) -> Option<Expr> {
        let inner = pair.into_inner().next()?;
        self.expr_inner(inner)
    }

    /// The pair inside an `expr` (or a `list`).
    fn expr_inner(&mut self, pair: Pair<'_, Rule>) -> Option<Expr> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::null => ExprKind::Null,
            Rule::boolean => ExprKind::Bool(text == "true"),
            Rule::int => match text.parse::<i64>() {
                Ok(n) => ExprKind::Int(n),
                Err(_) => {
                    self.diags.push(
                        Diagnostic::error(Code::Syntax, span, "integer out of range")
                            .with_label("too large")
                            .with_help(format!("integers go from {} to {}", i64::MIN, i64::MAX)),
                    );
                    return None;
                }
            },
            Rule::float => match text.parse::<f64>() {
                Ok(f) if f.is_finite() => ExprKind::Float(f),
                _ => {
                    self.diags.push(
                        Diagnostic::error(Code::Syntax, span, "number out of range")
                            .with_label("too large"),
                    );
                    return None;
                }
            },
            Rule::duration => {
                let (digits, unit) = text.split_at(text.len() - 1);
                let mult = match unit {
                    "s" => 1,
                    "m" => 60,
                    "h" => 3600,
                    "d" => 86400,
                    _ => 604800,
                };
                match digits.parse::<i64>().ok().and_then(|n| n.checked_mul(mult)) {
                    Some(n) => ExprKind::Duration(n),
                    None => {
                        self.diags.push(
                            Diagnostic::error(Code::Syntax, span, "duration out of range")
                                .with_label("too long"),
                        );
                        return None;
                    }
                }
            }
            Rule::network => ExprKind::Network(text.to_string()),
            Rule::string => ExprKind::Str(self.string(&pair)?),
            Rule::regex => return Some(self.regex(&pair)),
            Rule::field => ExprKind::Field(self.name(&pair)?),
            Rule::param_ref => ExprKind::Param(text.trim_start_matches('$').to_owned()),
            Rule::list => {
                let mut items = Vec::new();
                let mut ok = true;
                for e in children(pair) {
                    match self.expr(e) {
                        Some(e) => items.push(e),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                ExprKind::List(items)
            }
            Rule::object => {
                let mut entries = Vec::new();
                let mut ok = true;
                for entry in children(pair) {
                    let mut parts = children(entry);
                    let (Some(k), Some(v)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    let kspan = self.span(&k);
                    let key = if k.as_str().starts_with('"') {
                        self.string(&k)
                    } else {
                        Some(k.as_str().to_string())
                    };
                    match (key, self.expr(v)) {
                        (Some(key), Some(v)) => entries.push((key, kspan, v)),
                        _ => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                ExprKind::Object(entries)
            }
            _ => return None,
        };
        Some(Expr { kind, span })
    }

    /// A field, argument, builtin or setting name: plain, or between
    /// backquotes (with the escapes of strings).
    fn name(&mut self, pair: &Pair<'_, Rule>) -> Option<String> {
        if pair.as_str().starts_with('`') {
            self.string(pair)
        } else {
            Some(pair.as_str().to_string())
        }
    }

    /// Decodes a quoted string (or backquoted name), reporting each bad
    /// escape at its place.
    fn string(&mut self, pair: &Pair<'_, Rule>) -> Option<String> {
        let span = self.span(pair);
        match unescape(pair.as_str()) {
            Ok(s) => Some(s),
            Err(errors) => {
                for (start, end, message, help) in errors {
                    self.diags.push(
                        Diagnostic::error(Code::Syntax, span.sub(start, end), message)
                            .with_label("here")
                            .with_help(help),
                    );
                }
                None
            }
        }
    }
}

/// A bad escape: byte range in the quoted text, message, help.
type EscapeError = (usize, usize, String, String);

/// Decodes a quoted string (with its quotes).
fn unescape(quoted: &str) -> Result<String, Vec<EscapeError>> {
    let inner = &quoted[1..quoted.len().saturating_sub(1).max(1)];
    let mut out = String::with_capacity(inner.len());
    let mut errors = Vec::new();
    let mut it = inner.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let start = i + 1; // offset in `quoted`
        let Some((j, e)) = it.next() else { break };
        let after = j + 1 + e.len_utf8();
        match e {
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '`' => out.push('`'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'u' => {
                // \u{HEX}
                let help =
                    "write a Unicode character as `\\u{1F600}`: 1 to 6 hex digits between braces"
                        .to_string();
                if it.peek().map(|&(_, c)| c) != Some('{') {
                    errors.push((
                        start,
                        after,
                        "bad Unicode escape: `\\u` must be followed by `{`".into(),
                        help,
                    ));
                    continue;
                }
                it.next();
                let mut hex = String::new();
                let mut end = after + 1;
                let mut closed = false;
                while let Some(&(k, h)) = it.peek() {
                    if h == '}' {
                        it.next();
                        end = k + 1 + 1;
                        closed = true;
                        break;
                    }
                    if !h.is_ascii_hexdigit() || hex.len() >= 6 {
                        end = k + 1;
                        break;
                    }
                    hex.push(h);
                    it.next();
                    end = k + 1 + 1;
                }
                let value = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                match (closed, value) {
                    (true, Some(ch)) if !hex.is_empty() => out.push(ch),
                    (false, _) => errors.push((
                        start,
                        end,
                        "bad Unicode escape: expected 1 to 6 hex digits and `}`".into(),
                        help,
                    )),
                    _ => errors.push((
                        start,
                        end,
                        format!("bad Unicode escape: `{hex}` is not a Unicode character"),
                        help,
                    )),
                }
            }
            other => errors.push((
                start,
                after,
                format!("unknown escape `\\{other}`"),
                "the escapes are \\\\ \\\" \\` \\n \\t \\r \\0 and \\u{…}; write a backslash as \\\\"
                    .into(),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
