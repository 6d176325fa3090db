//! Diagnostics: one type for every problem found in a rule set.
//!
//! Each diagnostic has a stable [`Code`], a primary span, optional secondary
//! spans and a help line. They render through miette for terminals and as
//! JSON for CI (`pyrusec check --format json`).

use crate::source::{SourceMap, Span};
use std::fmt;

/// Whether a diagnostic stops the rule set from loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, )*) => {
        /// Stable diagnostic codes. Never renamed, never reused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code { $( $(#[doc = $doc])* $variant, )* }
        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }
            /// Every code, for documentation and tests.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];
        }
    };
}

codes! {
    /// A `.pyr` file does not follow the grammar.
    Syntax = "pyr::syntax",
    /// A JSON file is not valid JSON.
    JsonSyntax = "pyr::json::syntax",
    /// A JSON rule file is valid JSON but not shaped like a `pyruse.json`.
    JsonShape = "pyr::json::shape",
    /// A file or directory could not be read.
    Io = "pyr::io",
    /// An `include` that includes itself, directly or not.
    IncludeCycle = "pyr::include_cycle",
    /// A jump (`then`/`else`) to a chain that does not exist.
    UnknownChain = "pyr::check::unknown_chain",
    /// Jumps that come back to a chain already on the current path.
    JumpLoop = "pyr::check::jump_loop",
    /// A step names a builtin that does not exist.
    UnknownBuiltin = "pyr::check::unknown_builtin",
    /// A filter used as an action or an action used as a filter.
    WrongStepKind = "pyr::check::wrong_step_kind",
    /// An action with an `else` successor.
    ElseOnAction = "pyr::check::else_on_action",
    /// A required argument is missing.
    MissingArgument = "pyr::check::missing_argument",
    /// An argument the builtin does not take.
    UnknownArgument = "pyr::check::unknown_argument",
    /// An argument given twice.
    DuplicateArgument = "pyr::check::duplicate_argument",
    /// An argument of the wrong type.
    ArgumentType = "pyr::check::argument_type",
    /// An argument with a value outside of what the builtin accepts.
    InvalidValue = "pyr::check::invalid_value",
    /// A regular expression that does not compile.
    InvalidRegex = "pyr::check::invalid_regex",
    /// An IP network that does not parse.
    InvalidNetwork = "pyr::check::invalid_network",
    /// A message template that does not parse.
    InvalidTemplate = "pyr::check::invalid_template",
    /// A parameter declared twice.
    DuplicateParam = "pyr::check::duplicate_param",
    /// `set` or `$` names a parameter that does not exist.
    UnknownParam = "pyr::check::unknown_param",
    /// Two chains with the same label in `.pyr`.
    DuplicateChain = "pyr::check::duplicate_chain",
    /// Two chains with the same label in legacy JSON (Python keeps the first position and the last value).
    DuplicateLabel = "pyr::check::duplicate_label",
    /// Steps written after an explicit jump: they never run.
    DroppedSteps = "pyr::lint::dropped_steps",
    /// A jump target written above its first use: it also runs as a top-level chain.
    TargetAbove = "pyr::lint::target_above",
    /// A comparison that can never be true because of the types involved.
    NeverTrue = "pyr::lint::never_true",
    /// A regex that may backtrack exponentially (bounded at run time).
    SlowRegex = "pyr::lint::slow_regex",
    /// A field that no path sets and that is not a journal field.
    UnsetField = "pyr::lint::unset_field",
    /// A chain no entry can reach.
    UnreachableChain = "pyr::lint::unreachable_chain",
    /// A setting the engine does not know.
    UnknownSetting = "pyr::check::unknown_setting",
    /// The rule graph grows too large (chains with open exits copied at each jump).
    GraphTooLarge = "pyr::check::graph_too_large",
    /// The rule set has no chain.
    NoChain = "pyr::check::no_chain",
    /// More distinct fields than a program can hold (65,535).
    TooManyFields = "pyr::check::too_many_fields",
    /// A broken internal invariant: a bug in pyruse.
    Internal = "pyr::internal",
}

/// One problem, with where it is and what to do about it.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    pub label: String,
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: Some(span),
            label: String::new(),
            related: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// A diagnostic that is about no place in particular (e.g. I/O).
    pub fn bare(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: None,
            label: String::new(),
            related: Vec::new(),
            help: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Render for a terminal, through miette's graphical handler.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        use miette::{GraphicalReportHandler, GraphicalTheme};
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut out = String::new();
        let shown = Shown::new(self, sources);
        if handler.render_report(&mut out, &shown).is_err() {
            out = format!("{}: {}\n", self.code.as_str(), self.message);
        }
        out
    }

    /// Render as one JSON object (for `--format json`).
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let place = |span: Span| {
            let f = sources.file(span.file);
            let (line, column) = f.line_col(span.start as usize);
            let (end_line, end_column) = f.line_col(span.end as usize);
            serde_json::json!({
                "file": f.name, "line": line, "column": column,
                "end_line": end_line, "end_column": end_column,
                "start": span.start, "end": span.end,
            })
        };
        serde_json::json!({
            "code": self.code.as_str(),
            "severity": match self.severity { Severity::Error => "error", Severity::Warning => "warning" },
            "message": self.message,
            "span": self.span.map(place),
            "label": self.label,
            "related": self.related.iter().map(|(s, l)| {
                let mut p = place(*s);
                p["label"] = serde_json::Value::String(l.clone());
                p
            }).collect::<Vec<_>>(),
            "help": self.help,
        })
    }
}

/// A diagnostic bound to its source text, in the shape miette renders.
struct Shown {
    code: Code,
    severity: Severity,
    message: String,
    help: Option<String>,
    source: Option<miette::NamedSource<String>>,
    labels: Vec<miette::LabeledSpan>,
}

impl Shown {
    fn new(d: &Diagnostic, sources: &SourceMap) -> Shown {
        let mut labels = Vec::new();
        let mut source = None;
        let mut help = d.help.clone();
        if let Some(span) = d.span {
            let f = sources.file(span.file);
            source = Some(miette::NamedSource::new(f.name.clone(), f.text.to_string()));
            let label = if d.label.is_empty() {
                None
            } else {
                Some(d.label.clone())
            };
            labels.push(miette::LabeledSpan::new_primary_with_span(
                label,
                span.range(),
            ));
            for (s, l) in &d.related {
                if s.file == span.file {
                    labels.push(miette::LabeledSpan::new_with_span(
                        Some(l.clone()),
                        s.range(),
                    ));
                } else {
                    let note = format!("{} (at {})", l, sources.locate(*s));
                    help = Some(match help {
                        Some(h) => format!("{h}\n{note}"),
                        None => note,
                    });
                }
            }
        }
        Shown {
            code: d.code,
            severity: d.severity,
            message: d.message.clone(),
            help,
            source,
            labels,
        }
    }
}

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown {}

impl miette::Diagnostic for Shown {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// Closest candidate by edit distance, for "did you mean".
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wrong_l = wrong.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&wrong_l, &c.to_lowercase());
        let limit = (wrong.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["counterRaise", "counterReset", "nftBan"];
        assert_eq!(did_you_mean("counterRise", names), Some("counterRaise"));
        assert_eq!(did_you_mean("nftban", names), Some("nftBan"));
        assert_eq!(did_you_mean("email", names), None);
    }
}
