//! Stage 4 and the soundness property: a program that passes `check` never
//! hits an internal error at run time, whatever the entries. The input is
//! arbitrary `journalctl -o json` lines, replayed (effect trace included)
//! through two fixed programs compiled once per process: the shipped rule
//! library (`rules/`) and the legacy compatibility configuration
//! (`tests/data/compat/configs/semantics.json`). Each input starts from a
//! fresh machine (no counters, DNAT mappings or sessions).
#![no_main]
use libfuzzer_sys::fuzz_target;
use pyruse::replay::{replay, ErrorLog};
use pyruse::vm::trace::TraceWriter;

fuzz_target!(
    // Build the programs before the first input, outside its time limit.
    init: {
        pyruse_fuzz::programs();
    },
    |data: &[u8]| {
    for program in pyruse_fuzz::programs() {
        let mut machine = pyruse_fuzz::machine(program);
        let mut trace = TraceWriter::new(std::io::sink(), program);
        let mut errors = ErrorLog::new(program, std::io::sink());
        let summary = replay(&mut machine, data, &mut trace, &mut errors).expect("io::sink");
        assert_eq!(summary.internal_errors, 0, "{:?}", summary.step_errors);
    }
    }
);
