//! Throughput of the engine, in entries per second (`cargo bench`).
//!
//! - `vm`: entries already in memory run through the rules (the cost of
//!   the rules themselves, as the daemon sees it once libsystemd has
//!   handed an entry over);
//! - `replay`: `journalctl -o json` lines parsed and run (pyrusec replay).
//!
//! Inputs: the 20,000-entry compatibility corpus, through the legacy
//! `semantics.json` and through the shipped `rules/`.

use pyruse::builtins::user_exists::SystemUsers;
use pyruse::effects::Effect;
use pyruse::journal::json_lines::JsonEntry;
use pyruse::vm::EffectSink;
use pyruse::vm::{ErrorSink, Machine, Pc, Program, RunError};
use std::io::Read;
use std::time::Instant;

struct Count(u64);
impl EffectSink for Count {
    fn effect(&mut self, _pc: Pc, _e: Effect) {
        self.0 += 1;
    }
}
struct Quiet;
impl ErrorSink for Quiet {
    fn step_error(&mut self, _pc: Pc, _f: bool, _e: &RunError) {}
}

fn corpus() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/compat/entries/corpus-20k.jsonl.gz"
    );
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("corpus"))
        .read_to_string(&mut s)
        .expect("gunzip");
    s.lines().map(str::to_owned).collect()
}

fn program(path: &str) -> Program {
    let (rules, _) = pyruse::syntax::load(std::path::Path::new(path));
    pyruse::compile::build(rules).program.expect("rules check")
}

fn bench(name: &str, program: &Program, lines: &[String]) {
    // replay: parse and run.
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut m = Machine::new(program, jiff::tz::TimeZone::UTC, Box::new(SystemUsers));
        let mut e = JsonEntry::new(program);
        let mut sink = Count(0);
        let t = Instant::now();
        for l in lines {
            if e.parse(l).is_ok() {
                m.run(&mut e, &mut sink, &mut Quiet);
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{name:<28} replay {:>10.0} entries/s",
        lines.len() as f64 / best
    );
    // vm: entries parsed beforehand, fields fetched from memory.
    let mut parsed: Vec<JsonEntry> = Vec::with_capacity(lines.len());
    for l in lines {
        let mut e = JsonEntry::new(program);
        if e.parse(l).is_ok() {
            parsed.push(e);
        }
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut m = Machine::new(program, jiff::tz::TimeZone::UTC, Box::new(SystemUsers));
        let mut sink = Count(0);
        let t = Instant::now();
        for e in parsed.iter_mut() {
            m.run(e, &mut sink, &mut Quiet);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{name:<28} vm     {:>10.0} entries/s",
        parsed.len() as f64 / best
    );
}

fn main() {
    let lines = corpus();
    let root = env!("CARGO_MANIFEST_DIR");
    bench(
        "semantics.json (legacy)",
        &program(&format!("{root}/tests/data/compat/configs/semantics.json")),
        &lines,
    );
    bench(
        "dnat_ipset.json (legacy)",
        &program(&format!("{root}/tests/data/compat/configs/dnat_ipset.json")),
        &lines,
    );
    bench(
        "rules/ (native .pyr)",
        &program(&format!("{root}/rules")),
        &lines,
    );
}
