//! Examples written in rule files (`example "sshd[7]: Failed password …" =>
//! 192.0.2.1`), run by `pyrusec test`.
//!
//! Each example runs through the whole program, as the daemon would run it,
//! with a fresh state: the lines before the last one prepare it (a session
//! opened on an earlier line), and the outcome is read from the effects of
//! the last one:
//! - `=> ADDRESS`: a `counterRaise` (what `failure` does) counts that
//!   address;
//! - `=> nothing`: no `counterRaise` and no ban.

use crate::builtins::user_exists::SystemUsers;
use crate::effects::Effect;
use crate::journal::json_lines::JsonEntry;
use crate::source::Span;
use crate::syntax::ast::{Example, ExprKind};
use crate::value::Value;
use crate::vm::Collect;
use crate::vm::{ErrorSink, Machine, Pc, Program, RunError};
use std::net::IpAddr;

/// The result of one example.
#[derive(Debug)]
pub struct Outcome {
    pub span: Span,
    pub service: Option<String>,
    /// `None` when it passed; else what happened instead.
    pub failure: Option<String>,
}

/// When the example entries happen (µs): 2026-01-01T00:00:00Z, one second
/// apart.
const T0: i64 = 1_767_225_600_000_000;

/// An example line `IDENT[PID]: message` (or `IDENT: message`) as entry
/// fields.
pub fn line_fields(line: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let (tag, message) = line.split_once(": ")?;
    let (ident, pid) = match tag.strip_suffix(']').and_then(|t| t.split_once('[')) {
        Some((i, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (i, Some(p)),
        Some(_) => return None,
        None => (tag, None),
    };
    if ident.is_empty() || ident.contains(char::is_whitespace) {
        return None;
    }
    let mut m = serde_json::Map::new();
    m.insert("SYSLOG_IDENTIFIER".into(), ident.into());
    if let Some(p) = pid {
        m.insert("_PID".into(), p.into());
        m.insert("SYSLOG_PID".into(), p.into());
    }
    m.insert("MESSAGE".into(), message.into());
    Some(m)
}

/// The entries of an example, as `journalctl -o json` objects.
fn entries(e: &Example) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    let one = |x: &crate::syntax::ast::Expr| -> Result<_, String> {
        match &x.kind {
            ExprKind::Str(s) => line_fields(s)
                .ok_or_else(|| format!("{s:?} is not a journal line `IDENT[PID]: message`")),
            ExprKind::Object(fields) => {
                let mut m = serde_json::Map::new();
                for (k, _, v) in fields {
                    let v = match &v.kind {
                        ExprKind::Str(s) => s.clone(),
                        ExprKind::Int(n) => n.to_string(),
                        _ => return Err(format!("the value of `{k}` is not a string")),
                    };
                    m.insert(k.clone(), v.into());
                }
                Ok(m)
            }
            _ => Err("an example is a line, a list of lines or an object of fields".into()),
        }
    };
    match &e.input.kind {
        ExprKind::List(items) if !items.is_empty() => items.iter().map(one).collect(),
        ExprKind::List(_) => Err("an empty list of lines".into()),
        _ => Ok(vec![one(&e.input)?]),
    }
}

/// Keeps the run-time errors of the last entry.
struct Errors<'p> {
    program: &'p Program,
    last: Vec<String>,
}

impl ErrorSink for Errors<'_> {
    fn step_error(&mut self, pc: Pc, is_filter: bool, error: &RunError) {
        if !is_filter {
            self.last.push(format!(
                "{}: action failed: {}",
                self.program.locate(pc),
                error
            ));
        }
    }
}

fn same_address(v: &Value, want: IpAddr) -> bool {
    matches!(v, Value::Str(s) if s.parse::<IpAddr>().is_ok_and(|a| a == want))
}

/// Run the examples through `program`; examples of `disabled` services are
/// left out.
pub fn run(program: &Program, examples: &[Example], disabled: &[String]) -> Vec<Outcome> {
    let tz = jiff::tz::TimeZone::UTC;
    let mut out = Vec::new();
    for e in examples {
        if e.service.as_ref().is_some_and(|s| disabled.contains(s)) {
            continue;
        }
        let failure = run_one(program, e, &tz).err();
        out.push(Outcome {
            span: e.span,
            service: e.service.clone(),
            failure,
        });
    }
    out
}

fn run_one(program: &Program, e: &Example, tz: &jiff::tz::TimeZone) -> Result<(), String> {
    let want = match &e.outcome {
        None => None,
        Some((text, _)) => Some(
            text.parse::<IpAddr>()
                .map_err(|_| format!("`{text}` is not an address"))?,
        ),
    };
    let (effects, errors) = run_entries(program, entries(e)?, tz)?;
    let counted: Vec<&Value> = effects
        .0
        .iter()
        .filter_map(|(_, f)| match f {
            Effect::CounterRaise { key, .. } => Some(key),
            _ => None,
        })
        .collect();
    let banned = effects
        .0
        .iter()
        .any(|(_, f)| matches!(f, Effect::NftBan { .. } | Effect::IpsetBan { .. }));
    let passed = match want {
        Some(a) => counted.iter().any(|v| same_address(v, a)),
        None => counted.is_empty() && !banned,
    };
    if passed {
        return Ok(());
    }
    Err(mismatch(program, e, &effects, errors))
}

/// Runs the entries of an example in order, with a fresh state: the
/// effects and the run-time errors of the last one.
fn run_entries(
    program: &Program,
    entries: Vec<serde_json::Map<String, serde_json::Value>>,
    tz: &jiff::tz::TimeZone,
) -> Result<(Collect, Vec<String>), String> {
    let mut machine = Machine::new(program, tz.clone(), Box::new(SystemUsers));
    let mut entry = JsonEntry::new(program);
    let mut effects = Collect::default();
    let mut errors = Errors {
        program,
        last: Vec::new(),
    };
    for (i, mut fields) in entries.into_iter().enumerate() {
        fields
            .entry("__REALTIME_TIMESTAMP")
            .or_insert_with(|| (T0 + i as i64 * 1_000_000).to_string().into());
        fields
            .entry("_HOSTNAME")
            .or_insert_with(|| "example".into());
        let line = serde_json::Value::Object(fields).to_string();
        entry.parse(&line).map_err(|b| b.0)?;
        effects.0.clear();
        errors.last.clear();
        machine.run(&mut entry, &mut effects, &mut errors);
    }
    Ok((effects, errors.last))
}

/// What a failed example expected, and what the rules did instead.
fn mismatch(program: &Program, e: &Example, effects: &Collect, errors: Vec<String>) -> String {
    let mut got: Vec<String> = effects
        .0
        .iter()
        .map(|(pc, f)| {
            let what = match f {
                Effect::CounterRaise { counter, key, .. } => {
                    format!(
                        "counted {} under \"{counter}\"",
                        crate::python::format::render_plain(key)
                    )
                }
                other => other.name().to_owned(),
            };
            format!("{what} ({})", program.locate(*pc))
        })
        .collect();
    got.extend(errors);
    let expected = match &e.outcome {
        Some((a, _)) => format!("{a} counted"),
        None => "nothing counted".into(),
    };
    if got.is_empty() {
        format!("expected {expected}; no rule acted on it")
    } else {
        format!("expected {expected}; got: {}", got.join(", "))
    }
}
