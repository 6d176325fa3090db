//! The hot path does not allocate: once warmed up, running an entry that
//! no rule acts on (the vast majority of a journal) through the shipped
//! rules allocates nothing: fields are read into reused buffers, regexes
//! are compiled once, no field name is hashed.

use pyruse::builtins::user_exists::SystemUsers;
use pyruse::effects::Effect;
use pyruse::value::fields::FieldId;
use pyruse::vm::EffectSink;
use pyruse::vm::{EntrySource, ErrorSink, Machine, Pc, RawField, RunError};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// An entry held in memory, as the journal reader holds one in its buffer.
struct Entry {
    fields: Vec<(&'static str, Vec<u8>)>,
    time: i64,
}

impl EntrySource for Entry {
    fn fetch(&mut self, _id: FieldId, name: &str, out: &mut RawField) {
        for (k, v) in &self.fields {
            if *k == name {
                out.push(v);
            }
        }
    }
    fn realtime(&self) -> Option<i64> {
        Some(self.time)
    }
}

struct Discard(usize);
impl EffectSink for Discard {
    fn effect(&mut self, _pc: Pc, _e: Effect) {
        self.0 += 1;
    }
}
struct NoErrors;
impl ErrorSink for NoErrors {
    fn step_error(&mut self, _pc: Pc, _f: bool, e: &RunError) {
        panic!("unexpected step error: {e}");
    }
}

#[test]
fn entries_no_rule_acts_on_do_not_allocate() {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let (set, diags) = pyruse::syntax::load(&rules);
    assert!(diags.is_empty());
    let program = pyruse::compile::build(set).program.expect("rules check");
    let mut machine = Machine::new(&program, jiff::tz::TimeZone::UTC, Box::new(SystemUsers));
    let messages = [
        "[pid: 2762319|app: 0|req: 6805/20415] 198.51.100.103 () {52 vars in 1024 bytes} GET /index.php => generated 19830 bytes in 951 msecs (HTTP/1.1 200)",
        // (An "Accepted" line is one the rules act on: the sshd service
        // looks it up in the session of earlier PAM failures.)
        "pam_unix(sshd:session): session opened for user alice(uid=1000) by alice(uid=0)",
        "imap-login: Login: user=<alice>, method=PLAIN, rip=192.0.2.4, lip=192.0.2.1, TLS",
    ];
    let idents = ["uwsgi", "sshd", "dovecot"];
    let mut entries: Vec<Entry> = (0..3)
        .map(|i| Entry {
            fields: vec![
                ("SYSLOG_IDENTIFIER", idents[i].as_bytes().to_vec()),
                ("PRIORITY", b"6".to_vec()),
                ("MESSAGE", messages[i].as_bytes().to_vec()),
                ("_HOSTNAME", b"web".to_vec()),
            ],
            time: 1_709_251_200_000_000,
        })
        .collect();
    let mut sink = Discard(0);
    for round in 0..50 {
        for e in entries.iter_mut() {
            e.time += 1_000_000;
            machine.run(e, &mut sink, &mut NoErrors);
        }
        let _ = round;
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        for e in entries.iter_mut() {
            e.time += 1_000_000;
            machine.run(e, &mut sink, &mut NoErrors);
        }
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert!(
        sink.0 > 0,
        "the rules ran (noop effects of the report chain)"
    );
    assert_eq!(allocations, 0, "{allocations} allocations for 3000 entries");
}
