//! Syntax errors of `.pyr` files: pest's failures turned into diagnostics
//! that say in words what was expected, and the nesting check that runs
//! before pest.

use super::{Rule, KEYWORDS, MAX_NESTING};
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::{FileId, SourceFile, Span, Syntax};
use std::sync::Arc;

// ---------------------------------------------------------------------------
// A rough lexer, for the checks pest cannot make and for error help.

/// What the rough lexer found.
#[derive(Default)]
struct Scan {
    /// Opening brackets not yet closed at the scan position: (offset, char).
    open: Vec<(usize, char)>,
    /// A token that runs to the end of its line unclosed: (start, kind).
    unclosed: Vec<(usize, char)>,
    /// Braces closed before the scan position: (offset of `{`, offset of
    /// the `}` that closed it).
    pairs: Vec<(usize, usize)>,
    /// Where each comment starts.
    comments: Vec<usize>,
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
                scan.comments.push(i);
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
                if let Some((o, oc)) = scan.open.pop() {
                    if oc == '{' && c == b'}' {
                        scan.pairs.push((o, i));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    (scan, None)
}

pub(super) fn check_nesting(text: &str, file: FileId) -> Option<Diagnostic> {
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
pub(super) fn expected_name(rule: Rule) -> (u8, &'static str) {
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
    let (found, end) = Found::at(text, pos);
    let (prev_at, prev) = word_before(text, pos);
    let f = Failure {
        text,
        file,
        pos,
        positives,
        found,
        prev_at,
        prev,
    };
    let span = Span::new(file, pos, end);
    let mut related: Vec<(Span, String)> = Vec::new();
    let (message, label, help) = match f.unclosed_quote() {
        Some((what, help)) => (
            format!("this {what} is not closed"),
            format!("the {what} starts here"),
            Some(help),
        ),
        None => {
            let expected = expected_in_words(&f.positives);
            let help = f
                .help_for_found()
                .or_else(|| f.help_for_expected(&mut related));
            (
                format!("expected {expected}, found {}", f.found.describe()),
                format!("expected {expected}"),
                help,
            )
        }
    };
    if let Some(d) = f.missing_brace(span, &expected_in_words(&f.positives)) {
        return d;
    }
    let help = f.unclosed_bracket(help, &mut related);

    let mut d = Diagnostic::error(Code::Syntax, span, message).with_label(label);
    if let Some(h) = help {
        d = d.with_help(h);
    }
    for (s, l) in related {
        d = d.with_related(s, l);
    }
    d
}

/// What was expected, in words: "a, b or c", the comparison operators and
/// `then`/`else` merged when all of them are.
fn expected_in_words(positives: &[Rule]) -> String {
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
    one_of(&list)
}

/// Where pest failed, what it would have accepted there, and what is there.
struct Failure<'t> {
    text: &'t str,
    file: FileId,
    pos: usize,
    positives: Vec<Rule>,
    found: Found,
    /// Where the word before the failure starts.
    prev_at: usize,
    /// The word before the failure.
    prev: &'t str,
}

impl Failure<'_> {
    fn has(&self, r: Rule) -> bool {
        self.positives.contains(&r)
    }

    /// A string, regex or backquoted name left open where one of its kind
    /// could start: what it is and how to close it.
    fn unclosed_quote(&self) -> Option<(&'static str, String)> {
        let Found::Quoted(q, false) = self.found else {
            return None;
        };
        let has = |r| self.has(r);
        let accepts_string = has(Rule::expr)
            || has(Rule::chain_label)
            || has(Rule::target_label)
            || has(Rule::include_path);
        let accepts_name =
            has(Rule::field) || has(Rule::call_name) || has(Rule::step) || has(Rule::arg_name);
        let accepts_regex = has(Rule::regex) || has(Rule::expr);
        let accepted = (q == '"' && accepts_string)
            || (q == '/' && accepts_regex)
            || (q == '`' && (accepts_name || has(Rule::setting_key)));
        if !accepted {
            return None;
        }
        let (what, close) = match q {
            '"' => ("string", "`\"`"),
            '/' => ("regex", "an unescaped `/`"),
            _ => ("backquoted name", "`` ` ``"),
        };
        let line_rest = rest_of_line(self.text, self.pos, &[]);
        let mut h = format!("a {what} ends with {close} on the same line");
        if q == '"' {
            h.push_str("; write a line break inside a string as `\\n`");
            if line_rest.contains("\\\"") {
                h.push_str(", and `\\\"` is an escaped quote, not the end of the string");
            }
        }
        Some((what, h))
    }

    /// Help for the usual mistakes, told by the token found: a bare label
    /// or path, `=` for `==`, `!=`, single quotes, separators.
    fn help_for_found(&self) -> Option<String> {
        let has = |r| self.has(r);
        let (text, pos) = (self.text, self.pos);
        match &self.found {
            Found::Word(w) if has(Rule::chain_label) => {
                let label_text = rest_of_line(text, pos, &['{']);
                let label_text = if label_text.is_empty() {
                    w.as_str()
                } else {
                    label_text
                };
                Some(format!(
                    "labels are strings: write chain \"{}\" {{",
                    label_text.replace('"', "\\\"")
                ))
            }
            Found::Word(w) if has(Rule::target_label) => {
                let label_text = rest_of_line(text, pos, &['{', '}']);
                let label_text = if label_text.is_empty() {
                    w.as_str()
                } else {
                    label_text
                };
                let (_, jump) = word_before(text, self.prev_at);
                Some(format!(
                    "labels are strings: write {jump} {} \"{}\"",
                    self.prev,
                    label_text.replace('"', "\\\"")
                ))
            }
            Found::Word(_) if has(Rule::include_path) => {
                let path = rest_of_line(text, pos, &[]);
                Some(format!(
                    "paths are strings: write include \"{}\"",
                    path.replace('"', "\\\"")
                ))
            }
            Found::Punct(p) if (p == "=" || p == "=>" || p == "=<") && has(Rule::op_cmp) => {
                Some("compare with `==` (a single `=` is only for `set`)".into())
            }
            Found::Punct(p) if p == "!=" || p == "!~" || p == "!" => Some(
                "there is no negated test: write the test with `==` or `=~` and put the steps \
                 for the other case in `else { … }`"
                    .into(),
            ),
            Found::Punct(p) if p == "'" => {
                Some("strings are written between double quotes: \"…\"".into())
            }
            Found::Punct(p) if (p == ";" || p == ",") && has(Rule::step) => {
                Some(format!("steps need no separator: remove this `{p}`"))
            }
            Found::Punct(p) if p == "=" && has(Rule::colon) => {
                Some("arguments are written `name: value`".into())
            }
            Found::Punct(p) if p == ":" && has(Rule::assign) => {
                Some("write a setting as `set KEY = VALUE`".into())
            }
            Found::Punct(p) if p == "}" && has(Rule::kw_chain) => Some(
                "this `}` closes nothing: remove it, or look for a `}` written twice above".into(),
            ),
            _ => None,
        }
    }

    /// Help told by what was expected, when the token found had none of its
    /// own. A `mismatched_closer` adds the bracket it names to `related`.
    fn help_for_expected(&self, related: &mut Vec<(Span, String)>) -> Option<String> {
        let has = |r| self.has(r);
        let (found, prev) = (&self.found, self.prev);
        if has(Rule::kw_goto) && !has(Rule::lbrace) {
            return None;
        }
        if has(Rule::kw_goto) && matches!(found, Found::Quoted('"', true)) {
            return Some(format!("write `{prev} goto \"…\"` to jump to a chain"));
        }
        if has(Rule::kw_pyruse) {
            return Some("the only compatibility mode is `compat pyruse`".into());
        }
        if has(Rule::assign) {
            return Some("write a setting as `set KEY = VALUE`".into());
        }
        if (has(Rule::regex) || has(Rule::kw_any)) && matches!(found, Found::Quoted('"', _)) {
            return Some("regexes are written between slashes: /…/".into());
        }
        if has(Rule::arg_name) && found.is_value() {
            return Some(
                "arguments are named: write `name: value`, as in `log(message: \"…\")`".into(),
            );
        }
        if has(Rule::comma) && has(Rule::rparen) && matches!(found, Found::Word(_)) {
            return Some("separate arguments with `,`".into());
        }
        let positives = &self.positives;
        if let Some(h) =
            mismatched_closer(found, positives, self.text, self.pos, self.file, related)
        {
            return Some(h);
        }
        if (has(Rule::comma) && has(Rule::rbracket)) && !matches!(found, Found::End) {
            return Some("separate list elements with `,`".into());
        }
        if has(Rule::lbracket) && prev == "in" {
            return Some("`in` takes a list: FIELD in [\"a\", \"b\"]".into());
        }
        if has(Rule::lbracket) && prev == "save" {
            return Some("`save` takes a list of field names: save [user, ip]".into());
        }
        self.help_for_names()
    }

    /// The rest of [`Self::help_for_expected`]: keywords used as names,
    /// calls without parentheses, misplaced `then`, odd values and
    /// unknown top-level words.
    fn help_for_names(&self) -> Option<String> {
        let has = |r| self.has(r);
        let (found, prev) = (&self.found, self.prev);
        if has(Rule::lparen) && KEYWORDS.contains(&prev) && prev != "in" {
            return Some(format!(
                "`{prev}` is a keyword: write a field with that name between backquotes, `{prev}`"
            ));
        }
        if has(Rule::lparen) && prev == "in" && matches!(found, Found::Punct(_)) {
            return Some(
                "`in` is a keyword: write a field with that name between backquotes, `in`".into(),
            );
        }
        if has(Rule::lparen)
            && !matches!(found, Found::Punct(ref p) if p.starts_with(['=', '<', '>']))
            && !prev.is_empty()
        {
            return Some(format!(
                "a call needs parentheses, even without arguments: `{prev}()`; a test needs an \
                 operator: `{prev} == \"…\"`"
            ));
        }
        if has(Rule::step) && !has(Rule::kw_then) && found.is_word("then") {
            return Some("`then` comes before `else`".into());
        }
        if let Found::Word(w) = found {
            let keyword =
                KEYWORDS.contains(&w.as_str()) && !["true", "false", "null"].contains(&w.as_str());
            if (has(Rule::field) || has(Rule::step) || has(Rule::expr))
                && keyword
                && !(has(Rule::step)
                    && (found.is_word("chain") || found.is_word("set") || found.is_word("include")))
            {
                return Some(format!(
                    "`{w}` is a keyword: write a field with that name between backquotes, `{w}`"
                ));
            }
            if has(Rule::expr) {
                return w.starts_with(|c: char| c.is_ascii_digit()).then(|| {
                    "durations are written 90s, 10m, 2h, 5d or 1w; networks 10.0.0.0/8 or ::1"
                        .into()
                });
            }
            if has(Rule::kw_chain) {
                return did_you_mean(w, ["chain", "set", "include", "compat"])
                    .map(|k| format!("did you mean `{k}`?"))
                    .or_else(|| {
                        Some("a rule file holds `chain \"label\" { … }`, `set KEY = VALUE` and `include \"file\"`".into())
                    });
            }
        }
        None
    }

    /// A bracket still open where the file (or the block) ends: its place,
    /// and how to close it before any other help.
    fn unclosed_bracket(
        &self,
        help: Option<String>,
        related: &mut Vec<(Span, String)>,
    ) -> Option<String> {
        let has = |r| self.has(r);
        let found = &self.found;
        let closer_expected = has(Rule::rbrace) || has(Rule::rparen) || has(Rule::rbracket);
        let at_top_level_word =
            found.is_word("chain") || found.is_word("set") || found.is_word("include");
        if !(closer_expected && (*found == Found::End || at_top_level_word)) {
            return help;
        }
        let (scan, _) = rough_scan(self.text, self.pos, usize::MAX);
        let Some(&(open, c)) = scan.open.last() else {
            return help;
        };
        let close = match c {
            '{' => '}',
            '[' => ']',
            _ => ')',
        };
        let src = SourceFile::new(String::new(), Arc::from(self.text), Syntax::Pyr);
        let (line, _) = src.line_col(open);
        related.push((
            Span::new(self.file, open, open + 1),
            format!("this `{c}` is not closed"),
        ));
        let h = format!("add `{close}` to close the `{c}` of line {line}");
        Some(match help {
            Some(prev) => format!("{h}; {prev}"),
            None => h,
        })
    }
}

// ---------------------------------------------------------------------------
// A missing `}`, placed by indentation

/// The width of the blank space that starts the line holding `pos`, and
/// the offset where that line starts.
fn indent_at(text: &str, pos: usize) -> (usize, usize) {
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let width = text[start..]
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count();
    (width, start)
}

/// Where a `}` is missing for the block opened at `open`: the end of the
/// last line of the block, the block ending before the first line, after
/// the opening one and before `limit`, that is indented no deeper than the
/// opening line (the next step of the enclosing block, or the next
/// top-level item), or at the end of the file when `limit` is there.
/// `None` when no line does, or the block is empty.
fn block_end(text: &str, open: usize, limit: usize, comments: &[usize]) -> Option<usize> {
    let (width, _) = indent_at(text, open);
    let mut last_end = None;
    let mut line_start = text[open..].find('\n')? + open + 1;
    while line_start <= limit && line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let code_end = comments
            .iter()
            .copied()
            .find(|&c| c >= line_start && c < line_end)
            .unwrap_or(line_end);
        let code = text[line_start..code_end].trim_end();
        if !code.trim_start().is_empty() {
            let (w, _) = indent_at(text, line_start);
            if w <= width {
                return last_end;
            }
            last_end = Some(line_start + code.len());
        }
        line_start = line_end + 1;
    }
    last_end.filter(|_| limit >= text.len())
}

impl Failure<'_> {
    /// A `{` whose `}` is missing, told by indentation: a `}` that closes a
    /// block opened on a line indented deeper than its own (it lines up
    /// with an outer block: the inner one lacks its `}`), else the
    /// innermost block still open where the next top-level item or the end
    /// of the file shows up. The error is then put where the `}` belongs.
    fn missing_brace(&self, error_at: Span, expected: &str) -> Option<Diagnostic> {
        let found = &self.found;
        let at_top_level_word =
            found.is_word("chain") || found.is_word("set") || found.is_word("include");
        if !(self.has(Rule::rbrace) && (*found == Found::End || at_top_level_word)) {
            return None;
        }
        let (scan, _) = rough_scan(self.text, self.pos, usize::MAX);
        let indent = |p| indent_at(self.text, p).0;
        let mismatched = scan
            .pairs
            .iter()
            .rev()
            .find(|&&(o, c)| indent(c) < indent(o))
            .map(|&(o, c)| (o, Some(c)));
        let innermost = scan.open.last().filter(|(_, c)| *c == '{');
        let (open, close) = mismatched.or_else(|| innermost.map(|&(o, _)| (o, None)))?;
        let limit = close.map_or(self.pos, |c| indent_at(self.text, c).1);
        let insert_at = block_end(self.text, open, limit, &scan.comments)?;
        let src = SourceFile::new(String::new(), Arc::from(self.text), Syntax::Pyr);
        let line = |p| src.line_col(p).0;
        // Blocks around it that are still open lack their `}` too.
        let outer: Vec<String> = scan
            .open
            .iter()
            .filter(|&&(o, c)| close.is_none() && c == '{' && o != open)
            .map(|&(o, _)| line(o).to_string())
            .collect();
        let either = match outer.len() {
            0 => String::new(),
            1 => format!(" (the `{{` of line {} is not closed either)", outer[0]),
            _ => format!(
                " (those of lines {} are not closed either)",
                outer.join(", ")
            ),
        };
        let mut d = Diagnostic::error(
            Code::Syntax,
            Span::new(self.file, insert_at, insert_at),
            format!("missing `}}` to close the `{{` of line {}", line(open)),
        )
        .with_label("`}` missing here")
        .with_help(format!(
            "insert `}}` at the end of line {} to close the `{{` of line {}{either}",
            line(insert_at),
            line(open)
        ))
        .with_related(
            Span::new(self.file, open, open + 1),
            "this `{` is never closed",
        );
        if let Some(c) = close {
            d = d.with_related(
                Span::new(self.file, c, c + 1),
                format!(
                    "this `}}` lines up with an outer block but closes the `{{` of line {}",
                    line(open)
                ),
            );
        }
        Some(d.with_related(
            error_at,
            format!(
                "the error shows up here: expected {expected}, found {}",
                self.found.describe()
            ),
        ))
    }
}
