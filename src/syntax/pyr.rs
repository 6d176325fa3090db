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
//! An inline block (`then { … }`, `else { … }`) becomes an anonymous chain,
//! pushed to [`RuleSet::chains`] right after the chain that contains it
//! (nested blocks after their parent, in the order they are written), with
//! a generated label that starts with `\u{1}` and so never collides with a
//! label a user can write.

use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::{FileId, SourceFile, Span, Syntax};
use crate::syntax::ast::{
    self, Arg, Chain, Compat, Example, Expr, ExprKind, Form, ParamDecl, RuleSet, Setting, Step,
    StepKind, Target, When,
};
use pest::iterators::Pair;
use pest::Parser as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
/// directory (sorted by file name, bytewise; not recursive).
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
                    Ok(text) => parse_file(
                        &file.name,
                        &file.key,
                        &text,
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

// ---------------------------------------------------------------------------
// Files and includes

struct ReadFile {
    name: String,
    key: String,
    text: Result<String, String>,
}

/// Where the text of included files comes from.
trait Resolve {
    fn resolve(&mut self, from: &str, path: &str) -> Result<Vec<ReadFile>, String>;
}

struct FsResolver;

impl Resolve for FsResolver {
    fn resolve(&mut self, from: &str, path: &str) -> Result<Vec<ReadFile>, String> {
        let written = Path::new(path);
        let full = if written.is_absolute() {
            written.to_path_buf()
        } else {
            Path::new(from)
                .parent()
                .map_or_else(|| written.to_path_buf(), |dir| dir.join(written))
        };
        read_path(&full)
    }
}

struct FnResolver<'r, 'a>(&'r mut IncludeResolver<'a>);

impl Resolve for FnResolver<'_, '_> {
    fn resolve(&mut self, from: &str, path: &str) -> Result<Vec<ReadFile>, String> {
        (self.0)(from, path).map(|files| {
            files
                .into_iter()
                .map(|(name, text)| ReadFile {
                    key: name.clone(),
                    name,
                    text: Ok(text),
                })
                .collect()
        })
    }
}

struct NoIncludes;

impl Resolve for NoIncludes {
    fn resolve(&mut self, _from: &str, path: &str) -> Result<Vec<ReadFile>, String> {
        Err(format!(
            "cannot include \"{path}\": includes are disabled here"
        ))
    }
}

/// A file, or the `*.pyr` files of a directory sorted by name.
fn read_path(path: &Path) -> Result<Vec<ReadFile>, String> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if !meta.is_dir() {
        return Ok(vec![read_file(path.to_path_buf())]);
    }
    let entries =
        std::fs::read_dir(path).map_err(|e| format!("cannot read directory `{shown}`: {e}"))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read directory `{shown}`: {e}"))?;
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "pyr") && !p.is_dir() {
            files.push(p);
        }
    }
    files.sort_by(|a, b| {
        let a = a.file_name().unwrap_or_default().as_encoded_bytes();
        let b = b.file_name().unwrap_or_default().as_encoded_bytes();
        a.cmp(b)
    });
    Ok(files.into_iter().map(read_file).collect())
}

fn read_file(path: PathBuf) -> ReadFile {
    let name = path.display().to_string();
    let key = std::fs::canonicalize(&path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| name.clone());
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            format!(
                "`{name}` is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        }),
        Err(e) => Err(format!("cannot read `{name}`: {e}")),
    };
    ReadFile { name, key, text }
}

/// One file of the include stack: its key (canonical path, or name) and
/// its name.
type IncludeFrame = (String, String);

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
        label_suffix: if already_named {
            format!("#{}", file.0)
        } else {
            String::new()
        },
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

fn include(
    path: &str,
    span: Span,
    from: &str,
    rules: &mut RuleSet,
    resolver: &mut dyn Resolve,
    stack: &mut Vec<IncludeFrame>,
    diags: &mut Vec<Diagnostic>,
) {
    if stack.len() >= MAX_INCLUDE_DEPTH {
        diags.push(
            Diagnostic::error(
                Code::IncludeCycle,
                span,
                format!("includes nest more than {MAX_INCLUDE_DEPTH} levels deep"),
            )
            .with_label("one include too many")
            .with_help("includes probably loop through paths that name the same files differently"),
        );
        return;
    }
    let files = match resolver.resolve(from, path) {
        Ok(files) => files,
        Err(e) => {
            diags.push(Diagnostic::error(Code::Io, span, e).with_label("included here"));
            return;
        }
    };
    for file in files {
        if let Some(pos) = stack.iter().position(|(k, _)| *k == file.key) {
            let mut cycle: Vec<String> =
                stack[pos..].iter().map(|(_, n)| format!("`{n}`")).collect();
            cycle.push(format!("`{}`", file.name));
            diags.push(
                Diagnostic::error(
                    Code::IncludeCycle,
                    span,
                    format!("include cycle: {}", cycle.join(" includes ")),
                )
                .with_label("includes a file that is already being loaded")
                .with_help("remove one of these includes"),
            );
            continue;
        }
        match file.text {
            Ok(text) => parse_file(&file.name, &file.key, &text, rules, resolver, stack, diags),
            Err(e) => diags.push(Diagnostic::error(Code::Io, span, e).with_label("included here")),
        }
    }
}

// ---------------------------------------------------------------------------
// Lowering

struct Lower {
    file: FileId,
    src: SourceFile,
    label_suffix: String,
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
        let label = self.string(&label).unwrap_or_default();
        let at = out.len();
        self.block(block, label, label_span, false, span, out);
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
    /// anonymous chains of its inline blocks.
    fn block(
        &mut self,
        block: Pair<'_, Rule>,
        label: String,
        label_span: Span,
        anonymous: bool,
        span: Span,
        out: &mut Vec<Chain>,
    ) {
        let at = out.len();
        out.push(Chain {
            label,
            label_span,
            steps: Vec::new(),
            anonymous,
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
                    label: self.string(&label)?,
                    span,
                })
            }
            Rule::block => {
                let span = self.span(&inner);
                let brace = Span::new(self.file, span.start as usize, span.start as usize + 1);
                let (line, col) = self.src.line_col(span.start as usize);
                let label = format!(
                    "\u{1}block@{}:{line}:{col}{}",
                    self.src.name, self.label_suffix
                );
                self.block(inner, label.clone(), brace, true, span, out);
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

// ---------------------------------------------------------------------------
// A rough lexer, for the checks pest cannot make and for error help.

/// What the rough lexer found.
#[derive(Default)]
struct Scan {
    /// Opening brackets not yet closed at the scan position: (offset, char).
    open: Vec<(usize, char)>,
    /// A token that runs to the end of its line unclosed: (start, kind).
    unclosed: Vec<(usize, char)>,
}

/// Scans `text` up to `limit`, skipping comments, strings, backquoted
/// names and regexes. Stops early (returning the offset) when nesting goes
/// past `max_depth`.
fn rough_scan(text: &str, limit: usize, max_depth: usize) -> (Scan, Option<usize>) {
    let bytes = text.as_bytes();
    let mut scan = Scan::default();
    let mut i = 0;
    let limit = limit.min(bytes.len());
    while i < limit {
        let c = bytes[i];
        match c {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'`' | b'/' => {
                if c == b'/' {
                    // A regex starts after blank space or punctuation; a
                    // `/` inside a network (`10.0.0.0/8`) does not.
                    let prev = if i == 0 { b' ' } else { bytes[i - 1] };
                    if !(prev.is_ascii_whitespace() || b"[(,~={".contains(&prev)) {
                        i += 1;
                        continue;
                    }
                }
                let start = i;
                i += 1;
                loop {
                    if i >= bytes.len() || bytes[i] == b'\n' {
                        scan.unclosed.push((start, c as char));
                        break;
                    }
                    if bytes[i] == b'\\' && i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == c {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'{' | b'[' | b'(' => {
                scan.open.push((i, c as char));
                if scan.open.len() > max_depth {
                    return (scan, Some(i));
                }
            }
            b'}' | b']' | b')' => {
                scan.open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    (scan, None)
}

fn check_nesting(text: &str, file: FileId) -> Option<Diagnostic> {
    let (_, deep) = rough_scan(text, text.len(), MAX_NESTING);
    let at = deep?;
    Some(
        Diagnostic::error(
            Code::Syntax,
            Span::new(file, at, at + 1),
            format!("brackets nest more than {MAX_NESTING} levels deep"),
        )
        .with_label("too deep")
        .with_help("flatten the rules: a chain can jump to another chain with `goto`"),
    )
}

// ---------------------------------------------------------------------------
// Syntax errors

/// What each rule is called in an "expected …" message, and its rank in
/// the list. Every rule of the grammar is named here.
fn expected_name(rule: Rule) -> (u8, &'static str) {
    match rule {
        Rule::step => (0, "a step"),
        Rule::call_name => (0, "a builtin name"),
        Rule::kw_chain => (1, "`chain`"),
        Rule::kw_set => (2, "`set`"),
        Rule::kw_include => (3, "`include`"),
        Rule::kw_compat => (4, "`compat`"),
        Rule::compat_decl => (4, "`compat pyruse`"),
        Rule::include => (3, "`include`"),
        Rule::setting => (2, "`set`"),
        Rule::chain => (1, "`chain`"),
        Rule::kw_pyruse => (5, "`pyruse`"),
        Rule::setting_key => (5, "a setting name (such as `email.to`)"),
        Rule::assign => (6, "`=`"),
        Rule::chain_label => (5, "a string (the chain label)"),
        Rule::target_label => (5, "a string (the label of the chain to jump to)"),
        Rule::include_path => (5, "a string (the path of the file to include)"),
        Rule::field => (5, "a field name"),
        Rule::field_list => (5, "`[`"),
        Rule::regex_list => (5, "`[`"),
        Rule::cmp_test | Rule::op_cmp => (6, "`==`, `<=`, `>=`"),
        Rule::in_test | Rule::kw_in => (7, "`in`"),
        Rule::match_test | Rule::op_match => (8, "`=~`"),
        Rule::op_step => (5, "a field name"),
        Rule::call => (0, "a builtin name"),
        Rule::kw_any => (5, "`any`"),
        Rule::regex => (6, "a regex `/…/`"),
        Rule::save_clause | Rule::kw_save => (9, "`save`"),
        Rule::arg | Rule::arg_name => (5, "an argument name"),
        Rule::colon => (6, "`:`"),
        Rule::expr => (6, "a value"),
        Rule::list => (6, "a list `[…]`"),
        Rule::object => (6, "an object `{…}`"),
        Rule::object_entry | Rule::object_key => (6, "a key"),
        Rule::null
        | Rule::boolean
        | Rule::duration
        | Rule::float
        | Rule::int
        | Rule::network
        | Rule::string => (6, "a value"),
        Rule::comma => (10, "`,`"),
        Rule::lparen => (6, "`(`"),
        Rule::rparen => (11, "`)`"),
        Rule::lbracket => (6, "`[`"),
        Rule::rbracket => (11, "`]`"),
        Rule::lbrace | Rule::block => (7, "`{`"),
        Rule::rbrace => (12, "`}`"),
        Rule::then_clause | Rule::kw_then => (13, "`then`"),
        Rule::else_clause | Rule::kw_else => (14, "`else`"),
        Rule::goto | Rule::kw_goto => (5, "`goto`"),
        Rule::service_decl | Rule::kw_service => (1, "`service`"),
        Rule::service_name => (5, "a string (the service name)"),
        Rule::param_decl | Rule::kw_param => (2, "`param`"),
        Rule::param_name => (5, "a parameter name"),
        Rule::param_ref => (6, "a parameter `$name`"),
        Rule::when_clause | Rule::kw_when => (7, "`when`"),
        Rule::example | Rule::kw_example => (3, "`example`"),
        Rule::arrow => (6, "`=>`"),
        Rule::example_outcome | Rule::kw_nothing => (6, "an address or `nothing`"),
        Rule::EOI => (15, "the end of the file"),
        Rule::file | Rule::network_only => (15, "the end of the file"),
        // Silent rules: never reported, named for completeness.
        Rule::item => (
            1,
            "`chain`, `set`, `include`, `service`, `param` or `example`",
        ),
        Rule::key_segment => (5, "a setting name"),
        Rule::exponent | Rule::ipv4 | Rule::ipv6 => (6, "a value"),
        Rule::string_body | Rule::string_char => (6, "a string"),
        Rule::ident
        | Rule::ident_raw
        | Rule::ident_char
        | Rule::backquoted_body
        | Rule::keyword => (5, "a name"),
        Rule::WHITESPACE | Rule::COMMENT => (16, "a blank"),
    }
}

/// The token found where the parse failed.
#[derive(Debug, PartialEq)]
enum Found {
    End,
    Word(String),
    /// A string, regex or backquoted name (by its opening char), closed or not.
    Quoted(char, bool),
    Punct(String),
}

impl Found {
    fn at(text: &str, pos: usize) -> (Found, usize) {
        let rest = &text[pos..];
        let Some(c) = rest.chars().next() else {
            return (Found::End, pos);
        };
        if c.is_ascii_alphanumeric() || c == '_' {
            let digit = c.is_ascii_digit();
            let len = rest
                .find(|ch: char| {
                    !(ch.is_ascii_alphanumeric()
                        || ch == '_'
                        || (digit && (ch == '.' || ch == ':' || ch == '/')))
                })
                .unwrap_or(rest.len());
            return (Found::Word(rest[..len].to_string()), pos + len);
        }
        if c == '"' || c == '`' || c == '/' {
            let b = rest.as_bytes();
            let mut i = 1;
            while i < b.len() && b[i] != b'\n' {
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] != b'\n' {
                    i += 2;
                    continue;
                }
                if b[i] == c as u8 {
                    return (Found::Quoted(c, true), pos + i + 1);
                }
                i += 1;
            }
            return (Found::Quoted(c, false), pos + 1);
        }
        if "=<>!~".contains(c) {
            let len = rest
                .find(|ch: char| !"=<>!~".contains(ch))
                .unwrap_or(rest.len())
                .min(2);
            return (Found::Punct(rest[..len].to_string()), pos + len);
        }
        (Found::Punct(c.to_string()), pos + c.len_utf8())
    }

    fn describe(&self) -> String {
        match self {
            Found::End => "the end of the file".into(),
            Found::Word(w) if w.chars().count() > 40 => {
                format!("`{}…`", w.chars().take(40).collect::<String>())
            }
            Found::Word(w) => format!("`{w}`"),
            Found::Quoted('"', _) => "a string".into(),
            Found::Quoted('/', _) => "a regex".into(),
            Found::Quoted(_, _) => "a backquoted name".into(),
            Found::Punct(p) if p.chars().all(|c| c.is_control() || c.is_whitespace()) => {
                format!("{p:?}")
            }
            Found::Punct(p) => format!("`{p}`"),
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self, Found::Word(x) if x == w)
    }

    fn is_value(&self) -> bool {
        match self {
            Found::Quoted(c, _) => *c != '`',
            Found::Word(w) => {
                w.starts_with(|c: char| c.is_ascii_digit())
                    || ["true", "false", "null"].contains(&w.as_str())
            }
            Found::Punct(p) => p == "[" || p == "-",
            Found::End => false,
        }
    }
}

/// A `)`, `]` or `}` where another closing bracket was expected.
fn mismatched_closer(
    found: &Found,
    positives: &[Rule],
    text: &str,
    pos: usize,
    file: FileId,
    related: &mut Vec<(Span, String)>,
) -> Option<String> {
    let Found::Punct(p) = found else { return None };
    if !matches!(p.as_str(), ")" | "]" | "}") {
        return None;
    }
    let (scan, _) = rough_scan(text, pos, usize::MAX);
    let &(open, c) = scan.open.last()?;
    let close = match c {
        '{' => "}",
        '[' => "]",
        _ => ")",
    };
    let wanted = match close {
        "}" => Rule::rbrace,
        "]" => Rule::rbracket,
        _ => Rule::rparen,
    };
    if close == p || !positives.contains(&wanted) {
        return None;
    }
    let src = SourceFile::new(String::new(), Arc::from(text), Syntax::Pyr);
    let (line, col) = src.line_col(open);
    related.push((
        Span::new(file, open, open + 1),
        format!("this `{c}` is not closed"),
    ));
    Some(format!(
        "add `{close}` before this `{p}`, to close the `{c}` of line {line}, column {col}"
    ))
}

/// "a, b or c".
fn one_of(items: &[&str]) -> String {
    match items {
        [] => "something else".into(),
        [one] => (*one).into(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The text from `pos` to the end of its line, without a trailing comment,
/// cut before any of `stop`.
fn rest_of_line<'t>(text: &'t str, pos: usize, stop: &[char]) -> &'t str {
    let rest = &text[pos..];
    let end = rest
        .find(|c: char| c == '\n' || c == '#' || stop.contains(&c))
        .unwrap_or(rest.len());
    rest[..end].trim()
}

/// The word just before `pos` (skipping blanks), and where it starts.
fn word_before(text: &str, pos: usize) -> (usize, &str) {
    let before = text[..pos].trim_end();
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    (start, &before[start..])
}

/// Turns a pest error into a diagnostic: the place, what was expected there
/// in words, what was found instead, and a hint for the usual mistakes.
pub fn syntax_error(err: &pest::error::Error<Rule>, file: FileId, text: &str) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let positives: Vec<Rule> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { message } => {
            return Diagnostic::error(
                Code::Syntax,
                Span::new(file, pos, pos),
                format!("cannot parse this file: {message}"),
            );
        }
    };
    let has = |r: Rule| positives.contains(&r);
    let (found, end) = Found::at(text, pos);
    let span = Span::new(file, pos, end);

    // What was expected, in words.
    let mut names: Vec<(u8, &str)> = positives.iter().map(|r| expected_name(*r)).collect();
    names.sort();
    names.dedup_by(|a, b| a.1 == b.1);
    let ops = ["`==`, `<=`, `>=`", "`in`", "`=~`"];
    if ops.iter().all(|o| names.iter().any(|n| n.1 == *o)) {
        names.retain(|n| !ops.contains(&n.1));
        names.push((6, "an operator (`==`, `<=`, `>=`, `in`, `=~`)"));
    } else if let Some(n) = names.iter_mut().find(|n| n.1 == ops[0]) {
        n.1 = "`==`, `<=` or `>=`";
    }
    if names.iter().any(|n| n.1 == "`then`") && names.iter().any(|n| n.1 == "`else`") {
        names.retain(|n| n.1 != "`then`" && n.1 != "`else`");
        names.push((13, "`then`/`else`"));
    }
    names.sort();
    let list: Vec<&str> = names.iter().map(|n| n.1).collect();
    let expected = one_of(&list);
    let mut message = format!("expected {expected}, found {}", found.describe());
    let mut label = format!("expected {expected}");
    let mut help: Option<String> = None;
    let mut related: Vec<(Span, String)> = Vec::new();

    let accepts_string = has(Rule::expr)
        || has(Rule::chain_label)
        || has(Rule::target_label)
        || has(Rule::include_path);
    let accepts_name =
        has(Rule::field) || has(Rule::call_name) || has(Rule::step) || has(Rule::arg_name);
    let accepts_regex = has(Rule::regex) || has(Rule::expr);
    let (prev_at, prev) = word_before(text, pos);

    match &found {
        Found::Quoted(q, false)
            if (*q == '"' && accepts_string)
                || (*q == '/' && accepts_regex)
                || (*q == '`' && (accepts_name || has(Rule::setting_key))) =>
        {
            let (what, close) = match q {
                '"' => ("string", "`\"`"),
                '/' => ("regex", "an unescaped `/`"),
                _ => ("backquoted name", "`` ` ``"),
            };
            let line_rest = rest_of_line(text, pos, &[]);
            message = format!("this {what} is not closed");
            label = format!("the {what} starts here");
            let mut h = format!("a {what} ends with {close} on the same line");
            if *q == '"' {
                h.push_str("; write a line break inside a string as `\\n`");
                if line_rest.contains("\\\"") {
                    h.push_str(", and `\\\"` is an escaped quote, not the end of the string");
                }
            }
            help = Some(h);
        }
        Found::Word(w) if has(Rule::chain_label) => {
            let label_text = rest_of_line(text, pos, &['{']);
            let label_text = if label_text.is_empty() {
                w.as_str()
            } else {
                label_text
            };
            help = Some(format!(
                "labels are strings: write chain \"{}\" {{",
                label_text.replace('"', "\\\"")
            ));
        }
        Found::Word(w) if has(Rule::target_label) => {
            let label_text = rest_of_line(text, pos, &['{', '}']);
            let label_text = if label_text.is_empty() {
                w.as_str()
            } else {
                label_text
            };
            let (_, jump) = word_before(text, prev_at);
            help = Some(format!(
                "labels are strings: write {jump} {prev} \"{}\"",
                label_text.replace('"', "\\\"")
            ));
        }
        Found::Word(_) if has(Rule::include_path) => {
            let path = rest_of_line(text, pos, &[]);
            help = Some(format!(
                "paths are strings: write include \"{}\"",
                path.replace('"', "\\\"")
            ));
        }
        Found::Punct(p) if (p == "=" || p == "=>" || p == "=<") && has(Rule::op_cmp) => {
            help = Some("compare with `==` (a single `=` is only for `set`)".into());
        }
        Found::Punct(p) if p == "!=" || p == "!~" || p == "!" => {
            help = Some(
                "there is no negated test: write the test with `==` or `=~` and put the steps \
                 for the other case in `else { … }`"
                    .into(),
            );
        }
        Found::Punct(p) if p == "'" => {
            help = Some("strings are written between double quotes: \"…\"".into());
        }
        Found::Punct(p) if (p == ";" || p == ",") && has(Rule::step) => {
            help = Some(format!("steps need no separator: remove this `{p}`"));
        }
        Found::Punct(p) if p == "=" && has(Rule::colon) => {
            help = Some("arguments are written `name: value`".into());
        }
        Found::Punct(p) if p == ":" && has(Rule::assign) => {
            help = Some("write a setting as `set KEY = VALUE`".into());
        }
        Found::Punct(p) if p == "}" && has(Rule::kw_chain) => {
            help = Some(
                "this `}` closes nothing: remove it, or look for a `}` written twice above".into(),
            );
        }
        Found::Punct(p) if p == "{" && has(Rule::kw_goto) => {
            help = None; // `{` is expected: cannot happen
        }
        _ => {}
    }

    if help.is_none() {
        help = if has(Rule::kw_goto) && !has(Rule::lbrace) {
            None
        } else if has(Rule::kw_goto) && matches!(found, Found::Quoted('"', true)) {
            Some(format!("write `{prev} goto \"…\"` to jump to a chain"))
        } else if has(Rule::kw_pyruse) {
            Some("the only compatibility mode is `compat pyruse`".into())
        } else if has(Rule::assign) {
            Some("write a setting as `set KEY = VALUE`".into())
        } else if (has(Rule::regex) || has(Rule::kw_any)) && matches!(found, Found::Quoted('"', _))
        {
            Some("regexes are written between slashes: /…/".into())
        } else if has(Rule::arg_name) && found.is_value() {
            Some("arguments are named: write `name: value`, as in `log(message: \"…\")`".into())
        } else if has(Rule::comma) && has(Rule::rparen) && matches!(found, Found::Word(_)) {
            Some("separate arguments with `,`".into())
        } else if let Some(h) = mismatched_closer(&found, &positives, text, pos, file, &mut related)
        {
            Some(h)
        } else if (has(Rule::comma) && has(Rule::rbracket)) && !matches!(found, Found::End) {
            Some("separate list elements with `,`".into())
        } else if has(Rule::lbracket) && prev == "in" {
            Some("`in` takes a list: FIELD in [\"a\", \"b\"]".into())
        } else if has(Rule::lbracket) && prev == "save" {
            Some("`save` takes a list of field names: save [user, ip]".into())
        } else if has(Rule::lparen) && KEYWORDS.contains(&prev) && prev != "in" {
            Some(format!(
                "`{prev}` is a keyword: write a field with that name between backquotes, `{prev}`"
            ))
        } else if has(Rule::lparen) && prev == "in" && matches!(found, Found::Punct(_)) {
            Some("`in` is a keyword: write a field with that name between backquotes, `in`".into())
        } else if has(Rule::lparen)
            && !matches!(found, Found::Punct(ref p) if p.starts_with(['=', '<', '>']))
            && !prev.is_empty()
        {
            Some(format!(
                "a call needs parentheses, even without arguments: `{prev}()`; a test needs an \
                 operator: `{prev} == \"…\"`"
            ))
        } else if has(Rule::step) && !has(Rule::kw_then) && found.is_word("then") {
            Some("`then` comes before `else`".into())
        } else if (has(Rule::field) || has(Rule::step) || has(Rule::expr))
            && matches!(&found, Found::Word(w) if KEYWORDS.contains(&w.as_str()) && !["true", "false", "null"].contains(&w.as_str()))
            && !(has(Rule::step)
                && (found.is_word("chain") || found.is_word("set") || found.is_word("include")))
        {
            let Found::Word(w) = &found else {
                unreachable!()
            };
            Some(format!(
                "`{w}` is a keyword: write a field with that name between backquotes, `{w}`"
            ))
        } else if let (true, Found::Word(w)) = (has(Rule::expr), &found) {
            if w.starts_with(|c: char| c.is_ascii_digit()) {
                Some(
                    "durations are written 90s, 10m, 2h, 5d or 1w; networks 10.0.0.0/8 or ::1"
                        .into(),
                )
            } else {
                None
            }
        } else if let (true, Found::Word(w)) = (has(Rule::kw_chain), &found) {
            did_you_mean(w, ["chain", "set", "include", "compat"])
                .map(|k| format!("did you mean `{k}`?"))
                .or_else(|| {
                    Some("a rule file holds `chain \"label\" { … }`, `set KEY = VALUE` and `include \"file\"`".into())
                })
        } else {
            None
        };
    }

    // A bracket still open where the file (or the block) ends.
    let closer_expected = has(Rule::rbrace) || has(Rule::rparen) || has(Rule::rbracket);
    let at_top_level_word =
        found.is_word("chain") || found.is_word("set") || found.is_word("include");
    if closer_expected && (found == Found::End || at_top_level_word) {
        let (scan, _) = rough_scan(text, pos, usize::MAX);
        if let Some(&(open, c)) = scan.open.last() {
            let close = match c {
                '{' => '}',
                '[' => ']',
                _ => ')',
            };
            let src = SourceFile::new(String::new(), Arc::from(text), Syntax::Pyr);
            let (line, _) = src.line_col(open);
            related.push((
                Span::new(file, open, open + 1),
                format!("this `{c}` is not closed"),
            ));
            let h = format!("add `{close}` to close the `{c}` of line {line}");
            help = Some(match help {
                Some(prev) => format!("{h}; {prev}"),
                None => h,
            });
        }
    }

    let mut d = Diagnostic::error(Code::Syntax, span, message).with_label(label);
    if let Some(h) = help {
        d = d.with_help(h);
    }
    for (s, l) in related {
        d = d.with_related(s, l);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"# comment to end of line
compat pyruse            # legacy semantics for this file
set email.to = ["hostmaster@example.org"]
set 8bit-message-encoding = "iso-8859-1"
set debug = true

chain "SSH failed logins" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for (.*) from ([^ ]+) port ([^ ]+) ssh2$/ save [sshUser, clientIP, clientPort]
        else goto "… SSH not allowed"
    dnatReplace(addr: clientIP, port: clientPort, saddrInto: clientIP,)
    PRIORITY <= 4 else { noop() }      # inline block
    clientIP in [10.0.0.0/8, 192.168.1.96/29, 127.0.0.1, ::1, 2001:db8:1000::/48, fe80::/10] then goto "x"
    MESSAGE =~ any [/a\/b/, /c/]
    `odd name` >= 90s then { in(field: x, values: []) else { noop() } } else { `odd call`(`odd arg`: 1w) }
    email(message: "SSH attack from {clientIP} on {sshUser}@{_HOSTNAME}.", subject: "\u{1F600} \"q\"\t\\")
    counterRaise(counter: "c", for: `in`, keepSeconds: 10m, save: n, x: [null, true, false, -12, 2.5, 5d, 2h])
}

chain "… SSH not allowed" {
    noop()
}
"#;

    fn parse(text: &str) -> (RuleSet, Vec<Diagnostic>) {
        let mut rules = RuleSet::default();
        let mut diags = Vec::new();
        load_str("test.pyr", text, &mut rules, &mut diags);
        (rules, diags)
    }

    #[test]
    fn offsets_in_strings_map_back_to_the_source() {
        let rules = parse_ok("set a = \"x\\n\\u{1F600}y{f}\\\"z\"");
        let e = &rules.settings[0].value;
        let ExprKind::Str(v) = &e.kind else { panic!() };
        let text = &rules.sources.file(e.span.file).text;
        let at = |needle: &str| {
            let off = v.find(needle).unwrap();
            let src = string_source_offset(text, e.span, off);
            text[src..].chars().next().unwrap()
        };
        assert_eq!(at("x"), 'x');
        assert_eq!(at("\n"), '\\');
        assert_eq!(at("y"), 'y');
        assert_eq!(at("{f}"), '{');
        assert_eq!(at("\"z"), '\\');
        assert_eq!(at("z"), 'z');
        assert_eq!(
            string_source_offset(text, e.span, 999),
            e.span.end as usize - 1
        );
    }

    fn parse_ok(text: &str) -> RuleSet {
        let (rules, diags) = parse(text);
        assert!(
            diags.is_empty(),
            "{:?}",
            diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        rules
    }

    fn kinds(step: &Step) -> Vec<(String, String)> {
        step.args
            .iter()
            .map(|a| (a.name.clone(), format!("{:?}", a.value.kind)))
            .collect()
    }

    fn args(step: &Step) -> Vec<(&str, &ExprKind)> {
        step.args
            .iter()
            .map(|a| (a.name.as_str(), &a.value.kind))
            .collect()
    }

    #[test]
    fn lowers_the_sample() {
        let rules = parse_ok(SAMPLE);
        assert_eq!(rules.file_compat, vec![Compat::Pyruse]);
        let keys: Vec<&str> = rules.settings.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["email.to", "8bit-message-encoding", "debug"]);
        let labels: Vec<(&str, bool)> = rules
            .chains
            .iter()
            .map(|c| (c.label.as_str(), c.anonymous))
            .collect();
        assert_eq!(
            labels,
            [
                ("SSH failed logins", false),
                ("\u{1}block@test.pyr:12:24", true),
                ("\u{1}block@test.pyr:15:28", true),
                ("\u{1}block@test.pyr:15:60", true),
                ("\u{1}block@test.pyr:15:78", true),
                ("… SSH not allowed", false),
            ]
        );
        let steps = &rules.chains[0].steps;
        let names: Vec<(&str, Form)> = steps.iter().map(|s| (s.name.as_str(), s.form)).collect();
        assert_eq!(
            names,
            [
                ("equals", Form::Operator),
                ("pcre", Form::Operator),
                ("dnatReplace", Form::Call),
                ("lowerOrEquals", Form::Operator),
                ("inNetworks", Form::Operator),
                ("pcreAny", Form::Operator),
                ("greaterOrEquals", Form::Operator),
                ("email", Form::Call),
                ("counterRaise", Form::Call),
            ]
        );
        assert!(steps.iter().all(|s| s.kind == StepKind::Either));
        assert_eq!(
            kinds(&steps[0]),
            [
                ("field".into(), "Field(\"SYSLOG_IDENTIFIER\")".into()),
                ("value".into(), "Str(\"sshd\")".into())
            ]
        );
        let ExprKind::List(save) = &steps[1].args[2].value.kind else {
            panic!()
        };
        assert!(matches!(&save[1].kind, ExprKind::Field(f) if f == "clientIP"));
        assert_eq!(steps[1].else_.as_ref().unwrap().label, "… SSH not allowed");
        assert_eq!(
            steps[3].else_.as_ref().unwrap().label,
            "\u{1}block@test.pyr:12:24"
        );
        // The target of a block has the span of the block.
        let t = steps[3].else_.as_ref().unwrap();
        assert_eq!(rules.sources.slice(t.span), "{ noop() }");
        let ExprKind::List(nets) = &steps[4].args[1].value.kind else {
            panic!()
        };
        assert!(matches!(&nets[4].kind, ExprKind::Network(n) if n == "2001:db8:1000::/48"));
        assert_eq!(steps[4].args[1].name, "nets");
        assert_eq!(steps[4].then.as_ref().unwrap().label, "x");
        let ExprKind::List(res) = &steps[5].args[1].value.kind else {
            panic!()
        };
        assert!(matches!(&res[0].kind, ExprKind::Regex(r) if r == "a\\/b"));
        assert!(matches!(&steps[6].args[0].value.kind, ExprKind::Field(f) if f == "odd name"));
        assert!(matches!(
            steps[6].args[1].value.kind,
            ExprKind::Duration(90)
        ));
        assert!(
            matches!(&steps[7].args[1].value.kind, ExprKind::Str(s) if s == "\u{1F600} \"q\"\t\\")
        );
        let a = args(&steps[8]);
        assert!(matches!(a[1].1, ExprKind::Field(f) if f == "in"));
        assert!(matches!(a[2].1, ExprKind::Duration(600)));
        assert_eq!(
            format!("{:?}", a[4].1).matches("kind:").count(),
            7,
            "{:?}",
            a[4].1
        );
        let ExprKind::List(x) = a[4].1 else { panic!() };
        let xs: Vec<String> = x.iter().map(|e| format!("{:?}", e.kind)).collect();
        assert_eq!(
            xs,
            [
                "Null",
                "Bool(true)",
                "Bool(false)",
                "Int(-12)",
                "Float(2.5)",
                "Duration(432000)",
                "Duration(7200)"
            ]
        );
        // Nested blocks come after their parent, in written order.
        let inner = &rules.chains[2].steps[0];
        assert_eq!(inner.name, "in");
        assert_eq!(inner.args[1].name, "values");
        assert_eq!(
            inner.else_.as_ref().unwrap().label,
            "\u{1}block@test.pyr:15:60"
        );
        assert_eq!(rules.chains[4].steps[0].name, "odd call");
        assert_eq!(rules.chains[4].steps[0].args[0].name, "odd arg");
    }

    #[test]
    fn spans_point_at_what_was_written() {
        let rules = parse_ok("chain \"a\" {\n    FOO == 1 else goto \"b\"\n}\n");
        let s = &rules.chains[0].steps[0];
        let src = &rules.sources;
        assert_eq!(src.slice(s.span), "FOO == 1 else goto \"b\"");
        assert_eq!(src.slice(s.name_span), "==");
        assert_eq!(src.slice(s.args[0].value.span), "FOO");
        assert_eq!(src.slice(s.args[1].value.span), "1");
        assert_eq!(src.slice(s.else_.as_ref().unwrap().span), "\"b\"");
        assert_eq!(src.slice(rules.chains[0].label_span), "\"a\"");
        assert_eq!(src.locate(s.span), "test.pyr:2:5");
    }

    #[test]
    fn in_lists_of_networks_only_are_in_networks() {
        let rules = parse_ok(
            "chain \"a\" { A in [::1] B in [] C in [10.0.0.0/8, \"x\"] D in [\"10.0.0.1\"] }",
        );
        let names: Vec<(&str, &str)> = rules.chains[0]
            .steps
            .iter()
            .map(|s| (s.name.as_str(), s.args[1].name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("inNetworks", "nets"),
                ("in", "values"),
                ("in", "values"),
                ("in", "values")
            ]
        );
    }

    #[test]
    fn literals() {
        let rules = parse_ok(
            r#"set a = [0s, 1m, 3600, -1, 1.5e3, 1e-7, 127.0.0.1, fe80::1, ::ffff:1.2.3.4/128, `a b`, `x\`y\\z`, {k: 1, "l m": []}, "\0\r\n"]"#,
        );
        let ExprKind::List(items) = &rules.settings[0].value.kind else {
            panic!()
        };
        let got: Vec<String> = items.iter().map(|e| format!("{:?}", e.kind)).collect();
        assert_eq!(
            got[..10],
            [
                "Duration(0)",
                "Duration(60)",
                "Int(3600)",
                "Int(-1)",
                "Float(1500.0)",
                "Float(1e-7)",
                "Network(\"127.0.0.1\")",
                "Network(\"fe80::1\")",
                "Network(\"::ffff:1.2.3.4/128\")",
                "Field(\"a b\")",
            ]
        );
        assert_eq!(got[10], "Field(\"x`y\\\\z\")");
        let rules = parse_ok("set a = `a\\nb\\u{1}`\nset `` = 1");
        assert!(matches!(&rules.settings[0].value.kind, ExprKind::Field(f) if f == "a\nb\u{1}"));
        assert_eq!(rules.settings[1].key, "");
        assert!(got[11].starts_with("Object([(\"k\""));
        assert_eq!(got[12], "Str(\"\\0\\r\\n\")");
    }

    #[test]
    fn setting_keys() {
        let rules = parse_ok("set 8bit-message-encoding = \"x\"\nset `odd key` = 1\nset nftBan.nft = [\"/usr/sbin/nft\"]");
        let keys: Vec<&str> = rules.settings.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["8bit-message-encoding", "odd key", "nftBan.nft"]);
    }

    #[test]
    fn keywords_as_fields_need_backquotes() {
        let rules = parse_ok(
            "chain \"a\" { `in` == 1 `save` =~ /x/ save [`then`, y] in(field: x, values: [1]) }",
        );
        let s = &rules.chains[0].steps;
        assert_eq!(s[0].name, "equals");
        assert_eq!(s[1].name, "pcre");
        assert_eq!(s[2].name, "in");
        assert_eq!(s[2].form, Form::Call);
        let (_, diags) = parse("chain \"a\" { save == 1 }");
        assert_eq!(diags.len(), 1);
    }

    #[test]
    fn compat_must_come_first_and_once() {
        let (rules, diags) = parse("compat pyruse\ncompat pyruse\n");
        assert_eq!(rules.file_compat, vec![Compat::Pyruse]);
        assert_eq!(diags[0].message, "`compat pyruse` is written twice");
        let (rules, diags) = parse("set x = 1\ncompat pyruse\nchain \"a\" {}\n");
        assert!(diags.is_empty());
        assert_eq!(rules.file_compat, vec![Compat::Pyruse]);
        let (rules, diags) = parse("chain \"a\" {}\ncompat pyruse\n");
        assert_eq!(
            diags[0].message,
            "`compat pyruse` must come before any chain"
        );
        assert_eq!(rules.file_compat, vec![Compat::Native]);
        let (rules, _) = parse("chain \"a\" {}\n");
        assert_eq!(rules.file_compat, vec![Compat::Native]);
    }

    #[test]
    fn bad_escapes_are_reported_at_their_place() {
        let (rules, diags) =
            parse("chain \"a\" {\n  log(message: \"ok \\q and \\u{D800} and \\u{41\")\n}\n");
        let got: Vec<(String, &str, &str)> = diags
            .iter()
            .map(|d| {
                let s = d.span.unwrap();
                (
                    rules.sources.locate(s),
                    rules.sources.slice(s),
                    d.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("test.pyr:2:20".to_string(), "\\q", "unknown escape `\\q`"),
                (
                    "test.pyr:2:27".to_string(),
                    "\\u{D800}",
                    "bad Unicode escape: `D800` is not a Unicode character"
                ),
                (
                    "test.pyr:2:40".to_string(),
                    "\\u{41",
                    "bad Unicode escape: expected 1 to 6 hex digits and `}`"
                ),
            ]
        );
        // The step with a bad string is dropped, the chain is kept.
        assert_eq!(rules.chains.len(), 1);
    }

    #[test]
    fn out_of_range_numbers() {
        let (_, diags) = parse("set a = [99999999999999999999, 99999999999999999w, 1e999]");
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "integer out of range",
                "duration out of range",
                "number out of range"
            ]
        );
    }

    /// (input, line:col, message, help) for typical mistakes.
    const MISTAKES: &[(&str, &str, &str, &str)] = &[
        (
            "chain Foo {\n    noop()\n}\n",
            "1:7",
            "expected a string (the chain label), found `Foo`",
            "labels are strings: write chain \"Foo\" {",
        ),
        (
            "chain \"a\" {\n    FOO = \"x\"\n}\n",
            "2:9",
            "expected `(` or an operator (`==`, `<=`, `>=`, `in`, `=~`), found `=`",
            "compare with `==`",
        ),
        (
            "chain \"a\" {\n    log(message: \"abc)\n}\n",
            "2:18",
            "this string is not closed",
            "a string ends with `\"` on the same line",
        ),
        (
            "chain \"a\" {\n    FOO == 1\n",
            "3:1",
            "expected a step, `}` or `then`/`else`, found the end of the file",
            "add `}` to close the `{` of line 1",
        ),
        (
            "chain \"a\" {\n    FOO == 1\nchain \"b\" {\n    noop()\n}\n",
            "3:1",
            "expected a step, `}` or `then`/`else`, found `chain`",
            "add `}` to close the `{` of line 1",
        ),
        (
            "chain \"a\" {\n    FOO == 1 else \"x\"\n}\n",
            "2:19",
            "expected `goto` or `{`, found a string",
            "write `else goto \"…\"`",
        ),
        (
            "chain \"a\" {\n    FOO == 1 else goto Other chain\n}\n",
            "2:24",
            "expected a string (the label of the chain to jump to), found `Other`",
            "labels are strings: write else goto \"Other chain\"",
        ),
        (
            "chain \"a\" {\n    log(\"hello\")\n}\n",
            "2:9",
            "expected an argument name or `)`, found a string",
            "arguments are named",
        ),
        (
            "chain \"a\" {\n    log(message: \"x\" level: \"INFO\")\n}\n",
            "2:22",
            "expected `,` or `)`, found `level`",
            "separate arguments with `,`",
        ),
        (
            "chain \"a\" {\n    noop\n}\n",
            "3:1",
            "expected `(` or an operator (`==`, `<=`, `>=`, `in`, `=~`), found `}`",
            "a call needs parentheses, even without arguments: `noop()`",
        ),
        (
            "chain \"a\" {\n    FOO == 1 else goto \"x\" then goto \"y\"\n}\n",
            "2:28",
            "expected a step or `}`, found `then`",
            "`then` comes before `else`",
        ),
        (
            "chain \"a\" {\n    MESSAGE =~ \"^x\"\n}\n",
            "2:16",
            "expected `any` or a regex `/…/`, found a string",
            "regexes are written between slashes: /…/",
        ),
        (
            "chain \"a\" {\n    MESSAGE =~ /^x\n}\n",
            "2:16",
            "this regex is not closed",
            "a regex ends with an unescaped `/` on the same line",
        ),
        (
            "chain \"a\" {\n    FOO != 1\n}\n",
            "2:9",
            "expected `(` or an operator (`==`, `<=`, `>=`, `in`, `=~`), found `!=`",
            "there is no negated test",
        ),
        (
            "chain \"a\" {\n    FOO in \"a\"\n}\n",
            "2:12",
            "expected `[`, found a string",
            "`in` takes a list",
        ),
        (
            "set email.to [\"x\"]\n",
            "1:14",
            "expected `=`, found `[`",
            "write a setting as `set KEY = VALUE`",
        ),
        (
            "compat legacy\n",
            "1:8",
            "expected `pyruse`, found `legacy`",
            "the only compatibility mode is `compat pyruse`",
        ),
        (
            "chains \"a\" {}\n",
            "1:1",
            "expected `chain`, `service`, `param`, `set`, `example`, `include`, `compat` or the end of the file, found `chains`",
            "did you mean `chain`?",
        ),
        (
            "chain \"a\" {}\n}\n",
            "2:1",
            "expected `chain`, `service`, `param`, `set`, `example`, `include`, `compat` or the end of the file, found `}`",
            "this `}` closes nothing",
        ),
        (
            "chain \"a\" {\n    FOO == 1;\n}\n",
            "2:13",
            "expected a step, `}` or `then`/`else`, found `;`",
            "steps need no separator",
        ),
        (
            "include rules.pyr\n",
            "1:9",
            "expected a string (the path of the file to include), found `rules`",
            "paths are strings: write include \"rules.pyr\"",
        ),
        (
            "chain \"a\" {\n    FOO == 'x'\n}\n",
            "2:12",
            "expected a value, found `'`",
            "strings are written between double quotes",
        ),
        (
            "chain \"a\" {\n    log(message = \"x\")\n}\n",
            "2:17",
            "expected `:`, found `=`",
            "arguments are written `name: value`",
        ),
        (
            "chain \"a\" {\n    x(a: [1, 2)\n}\n",
            "2:15",
            "expected `,` or `]`, found `)`",
            "add `]` before this `)`, to close the `[` of line 2, column 10",
        ),
        (
            "chain \"a\" {\n    in == 3\n}\n",
            "2:8",
            "expected `(`, found `==`",
            "`in` is a keyword",
        ),
        (
            "chain \"a\" {\n    FOO == 10x\n}\n",
            "2:12",
            "expected a value, found `10x`",
            "durations are written 90s, 10m, 2h, 5d or 1w",
        ),
        (
            "chain \"a {\n    noop()\n}\n",
            "1:7",
            "this string is not closed",
            "a string ends with `\"` on the same line",
        ),
        (
            "chain \"a\" {\n    FOO =~ /x/ save [a b]\n}\n",
            "2:24",
            "expected `,` or `]`, found `b`",
            "separate list elements with `,`",
        ),
    ];

    #[test]
    fn syntax_errors_say_what_and_where() {
        for (input, at, message, help) in MISTAKES {
            let (rules, diags) = parse(input);
            assert_eq!(
                diags.len(),
                1,
                "{input}: {:?}",
                diags.iter().map(|d| &d.message).collect::<Vec<_>>()
            );
            let d = &diags[0];
            assert_eq!(d.code, Code::Syntax);
            assert_eq!(
                rules.sources.locate(d.span.unwrap()),
                format!("test.pyr:{at}"),
                "{input}"
            );
            assert_eq!(d.message, *message, "{input}");
            let h = d.help.as_deref().unwrap_or("");
            assert!(h.contains(help), "{input}: help is {h:?}");
            assert!(!d.message.contains("Rule") && !h.contains("Rule"));
            // It renders.
            assert!(d.render(&rules.sources, false).contains("pyr::syntax"));
        }
    }

    #[test]
    fn unclosed_brace_points_at_the_opening_brace() {
        let (rules, diags) = parse("chain \"a\" {\n    FOO == 1 else {\n        noop()\n}\n");
        let d = &diags[0];
        assert_eq!(rules.sources.locate(d.span.unwrap()), "test.pyr:5:1");
        assert_eq!(d.related.len(), 1);
        assert_eq!(rules.sources.locate(d.related[0].0), "test.pyr:1:11");
        assert_eq!(d.related[0].1, "this `{` is not closed");
    }

    #[test]
    fn every_rule_has_a_human_name() {
        // No name may leak a rule identifier.
        for name in [
            Rule::step,
            Rule::rbrace,
            Rule::kw_then,
            Rule::expr,
            Rule::chain_label,
            Rule::target_label,
            Rule::include_path,
            Rule::arg_name,
            Rule::field,
            Rule::EOI,
        ] {
            let (_, n) = expected_name(name);
            assert!(!n.contains('_'), "{n}");
        }
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
    }

    #[test]
    fn never_panics() {
        // Every prefix of the sample.
        for (i, _) in SAMPLE.char_indices() {
            let _ = parse(&SAMPLE[..i]);
        }
        // Random bytes, and random soups of tokens.
        let tokens = [
            "chain",
            "\"a\"",
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ",",
            ":",
            "==",
            "=~",
            "<=",
            "in",
            "any",
            "save",
            "then",
            "else",
            "goto",
            "set",
            "x",
            "`y`",
            "/r/",
            "1",
            "-2",
            "2.5",
            "10m",
            "::1",
            "10.0.0.0/8",
            "\"",
            "/",
            "`",
            "\\",
            "#",
            "\n",
            " ",
            "\u{1}",
            "é",
            "\"\\u{",
            "compat",
            "pyruse",
            "include",
            "null",
            "=",
            ".",
            "-",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let len = (rng.next() % 60) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let _ = parse(&String::from_utf8_lossy(&bytes));
            let soup: String = (0..len)
                .map(|_| tokens[(rng.next() % tokens.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(if rng.next() & 1 == 0 { " " } else { "" });
            let _ = parse(&soup);
        }
        // Random edits of the sample.
        for _ in 0..500 {
            let mut s: Vec<char> = SAMPLE.chars().collect();
            for _ in 0..3 {
                let at = (rng.next() % s.len() as u64) as usize;
                let t = tokens[(rng.next() % tokens.len() as u64) as usize];
                match rng.next() % 3 {
                    0 => {
                        s.remove(at);
                    }
                    1 => s.splice(at..at, t.chars()).for_each(drop),
                    _ => s.truncate(at.max(1)),
                }
            }
            let _ = parse(&s.into_iter().collect::<String>());
        }
        // Deep nesting is refused, not a stack overflow.
        for open in ["[", "{", "(", "chain \"a\" { x == 1 else "] {
            let text = format!("set a = {}", open.repeat(100_000));
            let (_, diags) = parse(&text);
            assert_eq!(diags.len(), 1);
        }
        let deep = format!("set a = {}1{}", "[".repeat(60), "]".repeat(60));
        assert!(parse(&deep).1.is_empty());
    }

    #[test]
    fn includes_go_in_place() {
        let mut files: std::collections::HashMap<&str, &str> = [
            (
                "b.pyr",
                "chain \"b1\" { noop() }\ninclude \"c.pyr\"\nchain \"b2\" { noop() }",
            ),
            ("c.pyr", "compat pyruse\nchain \"c\" { noop() }"),
        ]
        .into_iter()
        .collect();
        let mut calls = Vec::new();
        let mut resolve = |from: &str, path: &str| -> Result<Vec<(String, String)>, String> {
            calls.push(format!("{from}->{path}"));
            files
                .remove(path)
                .map(|t| vec![(path.to_string(), t.to_string())])
                .ok_or_else(|| format!("cannot read `{path}`"))
        };
        let mut rules = RuleSet::default();
        let diags = parse_str(
            "a.pyr",
            "chain \"a1\" { x == 1 else { noop() } }\ninclude \"b.pyr\"\ninclude \"nope.pyr\"\nchain \"a2\" { noop() }",
            &mut rules,
            Some(&mut resolve),
        );
        let labels: Vec<&str> = rules.chains.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            ["a1", "\u{1}block@a.pyr:1:26", "b1", "c", "b2", "a2"]
        );
        assert_eq!(
            rules.file_compat,
            [Compat::Native, Compat::Native, Compat::Pyruse]
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::Io);
        assert_eq!(rules.sources.slice(diags[0].span.unwrap()), "\"nope.pyr\"");
        assert_eq!(calls, ["a.pyr->b.pyr", "b.pyr->c.pyr", "a.pyr->nope.pyr"]);
    }

    #[test]
    fn include_cycles_are_errors() {
        let mut resolve = |_: &str, path: &str| -> Result<Vec<(String, String)>, String> {
            let text = match path {
                "b.pyr" => "include \"c.pyr\"",
                _ => "include \"a.pyr\"",
            };
            Ok(vec![(path.to_string(), text.to_string())])
        };
        let mut rules = RuleSet::default();
        let diags = parse_str("a.pyr", "include \"b.pyr\"", &mut rules, Some(&mut resolve));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::IncludeCycle);
        assert_eq!(
            diags[0].message,
            "include cycle: `a.pyr` includes `b.pyr` includes `c.pyr` includes `a.pyr`"
        );
        assert_eq!(rules.sources.locate(diags[0].span.unwrap()), "c.pyr:1:9");
        // Without a resolver, an include is an error too.
        let (_, diags) = parse("include \"x.pyr\"");
        assert_eq!(diags[0].code, Code::Io);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pyr-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn loads_files_and_directories() {
        let dir = temp_dir("load");
        std::fs::create_dir_all(dir.join("inc")).unwrap();
        std::fs::write(
            dir.join("b.pyr"),
            "chain \"b\" { noop() }\ninclude \"inc/x.pyr\"",
        )
        .unwrap();
        std::fs::write(dir.join("a.pyr"), "chain \"a\" { noop() }").unwrap();
        std::fs::write(dir.join("B.pyr"), "chain \"B\" { noop() }").unwrap();
        std::fs::write(dir.join("notes.txt"), "not rules").unwrap();
        std::fs::write(
            dir.join("inc/x.pyr"),
            "include \"y.pyr\"\nchain \"x\" { noop() }",
        )
        .unwrap();
        std::fs::write(dir.join("inc/y.pyr"), "chain \"y\" { noop() }").unwrap();
        std::fs::write(dir.join("inc/z.pyr"), "chain \"z\" { noop() }").unwrap();

        let (rules, diags) = load(&dir);
        assert!(
            diags.is_empty(),
            "{:?}",
            diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        let labels: Vec<&str> = rules.chains.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["B", "a", "b", "y", "x"]);
        assert!(rules.sources.files().all(|(_, f)| f.syntax == Syntax::Pyr));
        assert_eq!(rules.file_compat.len(), rules.sources.files().count());

        // An included directory brings its files in order.
        std::fs::write(dir.join("main.pyr"), "include \"inc\"").unwrap();
        let (rules, diags) = load(&dir.join("main.pyr"));
        let labels: Vec<&str> = rules.chains.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            ["y", "x", "y", "z"],
            "{:?}",
            diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        );

        // A cycle through the file system.
        std::fs::write(dir.join("inc/y.pyr"), "include \"../b.pyr\"").unwrap();
        let (rules, diags) = load(&dir.join("b.pyr"));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::IncludeCycle);
        assert!(
            diags[0].message.starts_with("include cycle: `"),
            "{}",
            diags[0].message
        );
        assert_eq!(rules.sources.slice(diags[0].span.unwrap()), "\"../b.pyr\"");

        // Unreadable.
        let (_, diags) = load(&dir.join("missing.pyr"));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::Io);
        assert!(diags[0].span.is_none());
        std::fs::write(dir.join("bad.pyr"), b"chain \"\xff\" {}").unwrap();
        let (_, diags) = load(&dir.join("bad.pyr"));
        assert_eq!(diags[0].code, Code::Io);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn same_file_twice_gets_distinct_block_labels() {
        let mut resolve = |_: &str, p: &str| -> Result<Vec<(String, String)>, String> {
            Ok(vec![(
                p.to_string(),
                "chain \"x\" { a == 1 else { noop() } }".to_string(),
            )])
        };
        let mut rules = RuleSet::default();
        let _ = parse_str(
            "m.pyr",
            "include \"i.pyr\"\ninclude \"i.pyr\"",
            &mut rules,
            Some(&mut resolve),
        );
        let labels: Vec<&str> = rules
            .chains
            .iter()
            .filter(|c| c.anonymous)
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(labels.len(), 2);
        assert_ne!(labels[0], labels[1]);
    }

    #[test]
    fn network_literals() {
        for ok in [
            "10.0.0.0/8",
            "192.168.1.96/29",
            "127.0.0.1",
            "::1",
            "2001:db8:1000::/48",
            "fe80::/10",
            "::",
            "::ffff:1.2.3.4",
            "999.1.1.1",
        ] {
            assert!(is_network_literal(ok), "{ok}");
        }
        for no in [
            "10.0.0",
            "1.2.3.4.5",
            "fe80:1",
            "x",
            "10.0.0.0/8 ",
            " ::1",
            "fe80::1%eth0",
            "1.2.3.4/",
        ] {
            assert!(!is_network_literal(no), "{no}");
        }
        assert!(is_identifier("clientIP") && !is_identifier("in") && !is_identifier("a b"));
        assert!(is_setting_key("8bit-message-encoding") && !is_setting_key("a..b"));
    }
}
