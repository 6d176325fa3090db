//! The path of one entry through the rules, in words (`pyrusec replay
//! --explain`): each step the entry reached, with its place in the rules,
//! its verdict and why, what it saved and the effects it decided.
//!
//! A [`Recorder`] watches the run ([`Machine::run_observed`]); [`render`]
//! writes what it saw, with the effects the run gave.
//!
//! [`Machine::run_observed`]: super::Machine::run_observed

use super::{Ctx, Instr, Observer, Pc, Program, RunError};
use crate::effects::Effect;
use crate::source::Syntax;
use crate::value::fields::FieldId;
use crate::value::Value;
use std::fmt::Write;

/// What a step made of the entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// A filter passed, or an action was carried out.
    Pass,
    /// A filter did not pass, with why (`field#N` for fields).
    Fail(String),
    /// The step failed at run time: a filter then takes its `else`, an
    /// action stops the entry.
    Error(String),
}

/// One step the entry reached.
#[derive(Clone, Debug)]
pub struct Visit {
    pub pc: Pc,
    pub verdict: Verdict,
    /// The fields the step wrote, each once, with its value after the step.
    pub saved: Vec<(FieldId, Option<Value>)>,
}

/// Records the steps of one run.
pub struct Recorder<'p> {
    program: &'p Program,
    pub visits: Vec<Visit>,
}

impl<'p> Recorder<'p> {
    pub fn new(program: &'p Program) -> Recorder<'p> {
        Recorder {
            program,
            visits: Vec::new(),
        }
    }
}

impl Observer for Recorder<'_> {
    const WATCHES_WRITES: bool = true;

    fn before(&mut self, _pc: Pc, ctx: &mut Ctx) {
        ctx.forget_written();
    }

    fn after(&mut self, pc: Pc, verdict: &Result<bool, RunError>, ctx: &mut Ctx) {
        let verdict = match verdict {
            Ok(true) => Verdict::Pass,
            Ok(false) => match self.program.code.get(pc.0 as usize) {
                Some(Instr::Filter { step, .. }) => {
                    Verdict::Fail(self.program.steps[step.0 as usize].why_not(ctx))
                }
                _ => Verdict::Pass,
            },
            Err(e) => Verdict::Error(e.to_string()),
        };
        let mut saved: Vec<(FieldId, Option<Value>)> = Vec::new();
        for &id in ctx.written() {
            if !saved.iter().any(|(f, _)| *f == id) {
                saved.push((id, None));
            }
        }
        for (id, value) in &mut saved {
            *value = ctx.peek(*id).cloned();
        }
        self.visits.push(Visit { pc, verdict, saved });
    }
}

/// A value as an explanation shows it: text in double quotes, cut after
/// 120 characters; other values as Python writes them.
pub fn shown(v: &Value) -> String {
    match v {
        Value::Str(s) => match s.char_indices().nth(120) {
            Some((at, _)) => format!("{:?}…", &s[..at]),
            None => format!("{s:?}"),
        },
        other => crate::python::format::render_repr(other, &jiff::tz::TimeZone::UTC),
    }
}

/// Why a filter that compares `field` with `wanted` did not pass: the
/// field is missing, or `field#N is VALUE, not WANTED`.
pub fn why_not_value(ctx: &mut Ctx, field: FieldId, wanted: &str) -> String {
    match ctx.get(field) {
        None => format!("field#{} is missing", field.0),
        Some(v) => format!("field#{} is {}, not {wanted}", field.0, shown(v)),
    }
}

/// `field#N` in a step's text replaced by the field's name.
pub fn with_field_names(program: &Program, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("field#") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "field#".len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let name = after[..digits]
            .parse::<usize>()
            .ok()
            .and_then(|i| program.fields.get(i));
        match name {
            Some(f) => out.push_str(&f.name),
            None => out.push_str(&rest[at..at + "field#".len() + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// How a step reads: as written in a `.pyr` file (its first line, " …"
/// when it goes on), its builtin and arguments for legacy JSON rules.
pub fn step_text(program: &Program, pc: Pc) -> String {
    let Some(Instr::Filter { step, .. } | Instr::Action { step, .. }) =
        program.code.get(pc.0 as usize).copied()
    else {
        return "stop".to_owned();
    };
    let span = program.spans[pc.0 as usize];
    let file = program.sources.file(span.file);
    if file.syntax == Syntax::Pyr {
        if let Some(text) = file.text.get(span.start as usize..) {
            return cut(&pyr_step(text), 200);
        }
    }
    let i = step.0 as usize;
    let described = with_field_names(program, &program.steps[i].describe());
    cut(&format!("{}: {described}", program.step_names[i]), 200)
}

/// A `.pyr` step from the text that starts with it: up to the end of its
/// line, or to the bracket that closes the block it is in; " …" when it
/// goes on past the line.
fn pyr_step(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    let mut escaped = false;
    let mut end = line.len();
    for (i, c) in line.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' => quote = Some('"'),
            // A regex, not a network's prefix length (`10.0.0.0/8`).
            '/' if matches!(prev, '~' | '[' | ',' | '(' | ':') => quote = Some('/'),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => {
                end = i;
                break;
            }
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if !c.is_whitespace() {
            prev = c;
        }
    }
    let step = line[..end].trim();
    if end == line.len() && (depth > 0 || quote.is_some()) {
        format!("{step} …")
    } else {
        step.to_owned()
    }
}

/// `text` cut after `max` characters, with "…".
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Where the entry goes after `visit`: the next instruction, or none when
/// it stops there.
fn next(program: &Program, visit: &Visit) -> Option<Pc> {
    match (program.code.get(visit.pc.0 as usize)?, &visit.verdict) {
        (Instr::Filter { then, .. }, Verdict::Pass) => Some(*then),
        (Instr::Filter { else_, .. }, _) => Some(*else_),
        (Instr::Action { then, .. }, Verdict::Pass) => Some(*then),
        _ => None,
    }
}

/// The chain of an instruction, as a header line.
fn chain_line(program: &Program, pc: Pc) -> String {
    let label = program
        .chain_of
        .get(pc.0 as usize)
        .copied()
        .flatten()
        .and_then(|c| program.labels.get(c.0 as usize))
        .map_or_else(|| "?".to_owned(), super::disasm::label_name);
    format!("  chain {label}")
}

/// The visits of one chain: under its header, or on one line when the
/// entry left the chain at its first step, a filter that did not pass.
fn write_chain(
    out: &mut String,
    program: &Program,
    entry: u64,
    group: &[Visit],
    effects: &[(Pc, Effect)],
) {
    let header = chain_line(program, group[0].pc);
    if let [Visit {
        pc,
        verdict: Verdict::Fail(why),
        ..
    }] = group
    {
        if !effects.iter().any(|(at, _)| at == pc) {
            let why = with_field_names(program, why);
            let _ = writeln!(out, "{header}: {}  fail: {why}", program.locate(*pc));
            return;
        }
    }
    out.push_str(&header);
    out.push('\n');
    for visit in group {
        let _ = writeln!(
            out,
            "    {}  {}\n      {}",
            program.locate(visit.pc),
            step_text(program, visit.pc),
            verdict_line(program, visit)
        );
        for (_, effect) in effects.iter().filter(|(pc, _)| *pc == visit.pc) {
            let mut line = Vec::new();
            effect.write_trace_line(&mut line, entry, None, None);
            let _ = writeln!(out, "      effect {}", String::from_utf8_lossy(&line));
        }
    }
}

/// The verdict line of a visit.
fn verdict_line(program: &Program, visit: &Visit) -> String {
    let is_filter = matches!(
        program.code.get(visit.pc.0 as usize),
        Some(Instr::Filter { .. })
    );
    let mut line = match (&visit.verdict, is_filter) {
        (Verdict::Pass, true) => "pass".to_owned(),
        (Verdict::Pass, false) => "done".to_owned(),
        (Verdict::Fail(why), _) => format!("fail: {}", with_field_names(program, why)),
        (Verdict::Error(why), true) => format!("error: {why}; the filter takes its else"),
        (Verdict::Error(why), false) => {
            format!("error: {why}; nothing of it was done and the entry stops")
        }
    };
    if !visit.saved.is_empty() {
        let saved: Vec<String> = visit
            .saved
            .iter()
            .map(|(id, v)| {
                let name = program
                    .fields
                    .get(usize::from(id.0))
                    .map_or("?", |f| f.name.as_str());
                let value = v.as_ref().map_or_else(|| "None".to_owned(), shown);
                format!("{name} = {value}")
            })
            .collect();
        let _ = write!(line, "; saved {}", saved.join(", "));
    }
    line
}

/// How the entry's processing ended, after its last visit.
fn end_line(program: &Program, last: Option<&Visit>) -> &'static str {
    let Some(visit) = last else {
        return "end: no step";
    };
    let is_action = matches!(
        program.code.get(visit.pc.0 as usize),
        Some(Instr::Action { .. })
    );
    match (&visit.verdict, is_action) {
        (Verdict::Error(_), true) => "end: the action failed, the entry stops there",
        (_, true) => "end: the action ends its chain, the entry stops there",
        (_, false) => "end: no chain is left after this filter",
    }
}

/// The explanation of one entry: `title` (the entry, as the caller names
/// it), each visit under the header of its chain, the effects after the
/// step that decided them (trace lines, as `write_trace_line` writes
/// them), how it ended, and the outcome.
pub fn render(
    program: &Program,
    entry: u64,
    title: &str,
    visits: &[Visit],
    effects: &[(Pc, Effect)],
) -> String {
    let mut out = format!("entry {entry}: {title}\n");
    let mut rest = visits;
    while let Some(first) = rest.first() {
        let chain = program.chain_of.get(first.pc.0 as usize).copied().flatten();
        let n = rest
            .iter()
            .take_while(|v| program.chain_of.get(v.pc.0 as usize).copied().flatten() == chain)
            .count();
        let (group, more) = rest.split_at(n);
        write_chain(&mut out, program, entry, group, effects);
        rest = more;
    }
    let last = visits.last();
    let stopped_early = last.is_some_and(|v| {
        next(program, v).is_some_and(|n| program.code.get(n.0 as usize) != Some(&Instr::Stop))
    });
    out.push_str("  ");
    out.push_str(if stopped_early {
        "end: the run was cut short"
    } else {
        end_line(program, last)
    });
    out.push('\n');
    out.push_str(&outcome(effects));
    out
}

/// The outcome line: the effects by kind, and the addresses banned.
fn outcome(effects: &[(Pc, Effect)]) -> String {
    if effects.is_empty() {
        return "  outcome: no effect, no ban\n".to_owned();
    }
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    let mut bans: Vec<String> = Vec::new();
    for (_, e) in effects {
        match kinds.iter_mut().find(|(k, _)| *k == e.name()) {
            Some((_, n)) => *n += 1,
            None => kinds.push((e.name(), 1)),
        }
        if let Effect::NftBan { ip, set, .. } | Effect::IpsetBan { ip, set, .. } = e {
            bans.push(format!(
                "{} (set {set})",
                crate::python::format::render_plain(ip)
            ));
        }
    }
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(k, n)| {
            if *n == 1 {
                (*k).to_owned()
            } else {
                format!("{n} {k}")
            }
        })
        .collect();
    let bans = if bans.is_empty() {
        "no ban".to_owned()
    } else {
        format!("banned {}", bans.join(", "))
    };
    format!("  outcome: {}; {bans}\n", kinds.join(", "))
}

#[cfg(test)]
mod tests {
    use super::pyr_step;

    #[test]
    fn a_pyr_step_ends_with_its_line_or_its_block() {
        // The rest of the line of a step written inside a block.
        assert_eq!(pyr_step("noop() }\n    next()"), "noop()");
        // Blocks opened and closed on the line are the step's.
        assert_eq!(
            pyr_step("failures >= 3 else { noop() }\n"),
            "failures >= 3 else { noop() }"
        );
        // Brackets in strings and regexes do not count; a network's
        // prefix length is not a regex.
        assert_eq!(
            pyr_step(r#"log(message: "}{ )") }"#),
            r#"log(message: "}{ )")"#
        );
        assert_eq!(
            pyr_step(r"MESSAGE =~ /^a{2}\/(\}/ else { noop() } }"),
            r"MESSAGE =~ /^a{2}\/(\}/ else { noop() }"
        );
        assert_eq!(
            pyr_step("ip in [10.0.0.0/8, ::1] then { noop() } else {\n  x()\n}"),
            "ip in [10.0.0.0/8, ::1] then { noop() } else { …"
        );
        // A step that goes on past its line.
        assert_eq!(pyr_step("dnatCapture(\n  saddr: s,\n)"), "dnatCapture( …");
    }
}
