//! The disassembler: a program as readable text (`pyrusec disasm`).

use super::{Instr, Pc, Program};
use crate::syntax::ast::Label;
use std::fmt::Write;

pub fn disasm(p: &Program) -> String {
    let text = listing(p);
    // Steps describe fields by slot; show their names.
    match regex::Regex::new(r"field#([0-9]+)") {
        Ok(re) => re
            .replace_all(&text, |c: &regex::Captures| {
                c[1].parse::<usize>()
                    .ok()
                    .and_then(|i| p.fields.get(i))
                    .map_or_else(
                        || c[0].to_owned(),
                        |f| crate::syntax::notation::field_name(&f.name),
                    )
            })
            .into_owned(),
        Err(_) => text,
    }
}

/// A readable name for a chain label: `"NAME"`, or `{block FILE:LINE:COL}`.
pub fn label_name(label: &Label) -> String {
    match label {
        Label::Named(name) => format!("\"{}\"", name.escape_debug()),
        Label::Block(at) => format!("{{block {at}}}"),
    }
}

fn listing(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "; {} instructions, {} prepared steps, entry @{}",
        p.code.len(),
        p.steps.len(),
        p.entry.0
    );
    let _ = writeln!(out, "; fields:");
    for (i, f) in p.fields.iter().enumerate() {
        let _ = writeln!(out, ";   #{i} {} ({:?})", f.name, f.kind);
    }
    if !p.counters.is_empty() {
        let _ = writeln!(out, "; counters: {}", p.counters.join(", "));
    }
    let mut last_chain = None;
    for (i, ins) in p.code.iter().enumerate() {
        let chain = p.chain_of.get(i).copied().flatten();
        if let Some(c) = chain.filter(|_| chain != last_chain) {
            let label = p
                .labels
                .get(c.0 as usize)
                .map_or_else(|| "\"?\"".to_owned(), label_name);
            let _ = writeln!(out, "\n; chain {label}");
            last_chain = chain;
        }
        let at = p.locate(Pc(i as u32));
        let _ = match ins {
            Instr::Filter { step, then, else_ } => writeln!(
                out,
                "@{i:<5} filter {:<16} then @{:<5} else @{:<5} ; {}  [{at}]",
                p.step_names[step.0 as usize],
                then.0,
                else_.0,
                p.steps[step.0 as usize].describe()
            ),
            Instr::Action { step, then } => {
                let next = if p.code.get(then.0 as usize) == Some(&Instr::Stop) {
                    "stop".to_owned()
                } else {
                    format!("@{}", then.0)
                };
                writeln!(
                    out,
                    "@{i:<5} action {:<16} then {next:<17} ; {}  [{at}]",
                    p.step_names[step.0 as usize],
                    p.steps[step.0 as usize].describe()
                )
            }
            Instr::Stop => writeln!(out, "\n@{i:<5} stop"),
        };
    }
    out
}
