//! The abstract syntax tree shared by `.pyr` and legacy JSON.
//!
//! Both loaders produce a [`RuleSet`]: chains in file order, each a list of
//! steps naming a builtin with arguments and optional `then`/`else` jumps.
//! Which builtin is a filter and which an action, and what each argument
//! means, is decided later by the checker from the builtin signatures; the
//! AST only keeps what was written, with spans.

use crate::source::{FileId, SourceMap, Span};
use std::fmt;

/// Every key a `set` line (or a legacy JSON setting) may name; the
/// settings are read by `crate::config`.
pub const SETTING_KEYS: &[&str] = &[
    "email.from",
    "email.to",
    "email.subject",
    "email.sendmail",
    "email.smtp.host",
    "email.smtp.port",
    "email.smtp.security",
    "email.smtp.user",
    "email.smtp.password",
    "storage",
    "8bit-message-encoding",
    "debug",
    "nftBan.nft",
    "nftBan.setup",
    "nftBan.priority",
    "ipsetBan.ipset",
    "ipsetBan.setup",
    "ipsetBan.iptables",
    "ipsetBan.ip6tables",
    "dailyReport.time",
    "dailyReport.maxSize",
    "logFiles",
    "logFiles.pollMilliseconds",
];

/// Everything loaded from one rule file (and the files it includes).
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub sources: SourceMap,
    /// Chains in load order; inline blocks come after the chain that
    /// contains them and are never run top-level.
    pub chains: Vec<Chain>,
    /// Core settings (`email.to`, `storage`, …) in load order.
    pub settings: Vec<Setting>,
    /// The semantics of each file, indexed by `FileId`: legacy for JSON
    /// and for `.pyr` files that say `compat pyruse`.
    pub file_compat: Vec<Compat>,
    /// Services of the library (`service "sshd"`), in load order.
    pub services: Vec<Service>,
    /// Parameters declared with `param`, in load order.
    pub params: Vec<ParamDecl>,
    /// Example log lines with their expected outcome.
    pub examples: Vec<Example>,
    /// Services left out by `set SERVICE.enabled` (their chains are not
    /// loaded, their examples not run).
    pub disabled_services: Vec<String>,
}

/// `service "NAME"`: what follows in the file belongs to that service.
#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub span: Span,
}

/// `param NAME = DEFAULT`, in a service (`SERVICE.NAME`) or global.
#[derive(Clone, Debug)]
pub struct ParamDecl {
    pub service: Option<String>,
    pub name: String,
    pub name_span: Span,
    pub value: Expr,
}

impl ParamDecl {
    /// The name `set` and `$` use: `NAME`, or `SERVICE.NAME`.
    pub fn key(&self) -> String {
        match &self.service {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// `example INPUT => ADDRESS | nothing`.
#[derive(Clone, Debug)]
pub struct Example {
    pub service: Option<String>,
    /// A line `IDENT[PID]: message`, a list of them, or an object of
    /// fields.
    pub input: Expr,
    /// The address the last entry must count, or `None` for `nothing`.
    pub outcome: Option<(String, Span)>,
    pub span: Span,
}

/// `when $PARAM == v` / `when $PARAM in [v, …]` on a chain.
#[derive(Clone, Debug)]
pub struct When {
    pub param: String,
    pub param_span: Span,
    pub values: Vec<Expr>,
}

impl RuleSet {
    /// The semantics the file of `span` was written for.
    pub fn compat_at(&self, span: Span) -> Compat {
        self.file_compat
            .get(span.file.0 as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// Which semantics the rules were written for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compat {
    /// Native `.pyr`: templated email subjects, missing fields render empty,
    /// regexes in Rust syntax.
    #[default]
    Native,
    /// Pyruse's: literal email subjects, missing fields render `None`,
    /// regexes in Python `re` syntax.
    Pyruse,
}

/// A labelled list of steps.
#[derive(Clone, Debug)]
pub struct Chain {
    /// Its name, or, for an inline block, where the block was written.
    pub label: Label,
    pub label_span: Span,
    pub steps: Vec<Step>,
    pub span: Span,
    /// The library service the chain belongs to: it is loaded only when
    /// the service is enabled.
    pub service: Option<String>,
    /// Loaded only when this holds.
    pub when: Option<When>,
}

/// Whether a step was written as a filter or an action. JSON says so
/// explicitly (`"filter"`/`"action"`); `.pyr` leaves it to the builtin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Filter,
    Action,
    /// `.pyr`: decided by the builtin's signature.
    Either,
}

/// One step: a builtin call with its successors.
#[derive(Clone, Debug)]
pub struct Step {
    pub kind: StepKind,
    /// Builtin name without Pyruse's `filter_`/`action_` prefix.
    pub name: String,
    pub name_span: Span,
    pub args: Vec<Arg>,
    pub then: Option<Target>,
    pub else_: Option<Target>,
    pub span: Span,
    /// How the step was written in `.pyr` (operator or call), for printing.
    pub form: Form,
}

/// The written form of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `name(arg: value, …)` or a JSON object.
    Call,
    /// An operator: `FIELD == v`, `FIELD in […]`, `FIELD =~ /re/`, …
    Operator,
}

/// A jump: the label of a chain.
#[derive(Clone, Debug)]
pub struct Target {
    pub label: Label,
    pub span: Span,
}

/// What a chain is called: a name the rules gave it, or the place of an
/// inline block. A named label never equals a block's, whatever the name,
/// so no name a user writes can reach (or clash with) a block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Label {
    /// `chain "NAME"`, `goto "NAME"`, or the key of a legacy JSON chain.
    Named(String),
    /// An inline block (`then { … }`, `else { … }`): only reachable by its
    /// one jump.
    Block(BlockAt),
}

/// Where an inline block was written: the position of its `{`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlockAt {
    /// The name of the file, as loaded.
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The file, when a file of the same name was loaded before it (one
    /// file included twice): it keeps the blocks of the two apart.
    pub repeat: Option<FileId>,
}

impl Label {
    /// Whether this is the label of an inline block.
    pub fn is_block(&self) -> bool {
        matches!(self, Label::Block(_))
    }

    /// The name of a named label; `None` for a block.
    pub fn name(&self) -> Option<&str> {
        match self {
            Label::Named(n) => Some(n),
            Label::Block(_) => None,
        }
    }
}

/// `FILE:LINE:COL`, followed by `#ID` for a repeated file name.
impl fmt::Display for BlockAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)?;
        match self.repeat {
            Some(id) => write!(f, "#{}", id.0),
            None => Ok(()),
        }
    }
}

/// The label as messages and printed rules name it: a name as written, a
/// block as `\u{1}block@FILE:LINE:COL` (a text no `.pyr` file reads back
/// as a block).
impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Named(n) => f.write_str(n),
            Label::Block(at) => write!(f, "\u{1}block@{at}"),
        }
    }
}

/// Only a named label equals a string.
impl PartialEq<str> for Label {
    fn eq(&self, other: &str) -> bool {
        self.name() == Some(other)
    }
}

impl PartialEq<&str> for Label {
    fn eq(&self, other: &&str) -> bool {
        self.name() == Some(*other)
    }
}

/// A named argument.
#[derive(Clone, Debug)]
pub struct Arg {
    pub name: String,
    pub name_span: Span,
    pub value: Expr,
}

/// A literal value.
#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string (from JSON, or a quoted `.pyr` string).
    Str(String),
    /// A `.pyr` regex literal `/…/` (the text between the slashes, with
    /// `\/` kept as written).
    Regex(String),
    /// A `.pyr` duration literal (`90s`, `10m`), in seconds.
    Duration(i64),
    /// A `.pyr` network literal (`10.0.0.0/8`, `::1`), as written.
    Network(String),
    /// A `.pyr` field reference (`SYSLOG_IDENTIFIER`, `` `odd name` ``).
    Field(String),
    List(Vec<Expr>),
    /// A JSON object value (only in settings and malformed JSON args).
    Object(Vec<(String, Span, Expr)>),
    /// `$NAME` or `$SERVICE.NAME`: a parameter's value, substituted when
    /// the rules are loaded.
    Param(String),
}

impl Expr {
    /// A short description of the kind of value, for messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            ExprKind::Null => "null",
            ExprKind::Bool(_) => "a boolean",
            ExprKind::Int(_) => "an integer",
            ExprKind::Float(_) => "a number",
            ExprKind::Str(_) => "a string",
            ExprKind::Regex(_) => "a regex",
            ExprKind::Duration(_) => "a duration",
            ExprKind::Network(_) => "a network",
            ExprKind::Field(_) => "a field name",
            ExprKind::List(_) => "a list",
            ExprKind::Object(_) => "an object",
            ExprKind::Param(_) => "a parameter",
        }
    }
}

/// `set KEY = VALUE` in `.pyr`, or a core key of `pyruse.json`
/// (`email.to`, `nftBan.nft`, `storage`, …), flattened to a dotted key.
#[derive(Clone, Debug)]
pub struct Setting {
    pub key: String,
    pub key_span: Span,
    pub value: Expr,
}
