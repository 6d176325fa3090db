//! Stage 4 and the soundness property: a program that passes `check` never
//! hits an internal error at run time, whatever the entries. The rules are
//! the shipped ones; the input is arbitrary `journalctl -o json` lines.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pyruse::effects::Collect;
use pyruse::journal::json_lines::JsonEntry;
use pyruse::vm::{ErrorSink, Machine, Pc, RunError};

struct NoInternal;
impl ErrorSink for NoInternal {
    fn step_error(&mut self, _pc: Pc, _filter: bool, e: &RunError) {
        assert!(!e.0.contains("internal error"), "{}", e.0);
    }
}

fuzz_target!(|data: &[u8]| {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");
    let (set, _) = pyruse::syntax::load(std::path::Path::new(rules));
    let Some(program) = pyruse::check::check(set).program else { return };
    let mut machine = Machine::new(&program, jiff::tz::TimeZone::UTC);
    let mut entry = JsonEntry::new(&program);
    for line in String::from_utf8_lossy(data).lines() {
        if entry.parse(line).is_ok() {
            machine.run(&mut entry, &mut Collect::default(), &mut NoInternal);
        }
    }
});
