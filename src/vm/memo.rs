//! Remembered verdicts of pure filters.
//!
//! Most chains open with a test of one field that takes few values
//! (`SYSLOG_IDENTIFIER =~ /^nginx(?:[_-][\w-]*)?$/`, `_SYSTEMD_UNIT == …`,
//! `SYSLOG_IDENTIFIER in [...]`): an entry meets dozens of them, and each
//! gives the same verdict for the same value. A filter whose verdict
//! depends on one field's text and nothing else (it saves nothing, emits
//! nothing: [`Step::pure_on`]) is worked out once per distinct value; later
//! entries with that value find the verdict in a table, one hash of the
//! value per entry and field instead of one regex per filter.
//!
//! A table stops growing at [`MAX_VALUES`] values, and stops being used
//! when most lookups miss (a field whose values rarely repeat, such as
//! `MESSAGE`): the filters then run as if there were no table.

use super::{Ctx, Program, RunError, Step};
use crate::value::fields::FieldId;
use crate::value::Value;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: the values are short (identifiers, units) and come from the
/// logs of this machine, so a fast hash beats a keyed one here; a table
/// is bounded ([`MAX_VALUES`]) whatever collides.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Values remembered per field, at most.
pub const MAX_VALUES: usize = 4096;
/// After this many lookups, a table whose hit rate is under one half is
/// given up.
const TRIAL: u64 = 4096;

/// A pure filter's place in the tables: which table (one per field), which
/// column (one per filter of that field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoSlot {
    pub table: u16,
    pub column: u16,
}

/// Which filters of a program have remembered verdicts: per step, its slot;
/// per table, its field and number of columns.
#[derive(Debug, Default)]
pub struct Plan {
    pub slots: Vec<Option<MemoSlot>>,
    pub tables: Vec<(FieldId, u16)>,
}

impl Plan {
    /// The plan for `steps`; a field some step writes (`writes`: a regex
    /// capture, a DNAT correction…) has no table, since its value changes
    /// within an entry and rarely repeats.
    pub fn new(steps: &[Box<dyn Step>], writes: &[FieldId]) -> Plan {
        let mut plan = Plan::default();
        for s in steps {
            let slot = s
                .pure_on()
                .filter(|f| !writes.contains(f))
                .and_then(|field| {
                    let t = match plan.tables.iter().position(|(f, _)| *f == field) {
                        Some(t) => t,
                        None => {
                            plan.tables.push((field, 0));
                            plan.tables.len() - 1
                        }
                    };
                    let cols = &mut plan.tables[t].1;
                    let slot = MemoSlot {
                        table: u16::try_from(t).ok()?,
                        column: *cols,
                    };
                    *cols = cols.checked_add(1)?;
                    Some(slot)
                });
            plan.slots.push(slot);
        }
        plan
    }
}

const UNKNOWN: u8 = 0;
const PASS: u8 = 1;
const FAIL: u8 = 2;

/// The verdicts known for one field.
struct Table {
    field: FieldId,
    columns: usize,
    rows: HashMap<Box<str>, u32, BuildHasherDefault<Fnv>>,
    cells: Vec<u8>,
    lookups: u64,
    hits: u64,
    given_up: bool,
}

impl Table {
    /// The row of `value`, added when there is room.
    fn row(&mut self, value: &str) -> Option<u32> {
        if self.given_up {
            return None;
        }
        self.lookups += 1;
        if let Some(&r) = self.rows.get(value) {
            self.hits += 1;
            return Some(r);
        }
        if self.lookups >= TRIAL && self.hits * 2 < self.lookups {
            self.given_up = true;
            self.rows = HashMap::default();
            self.cells = Vec::new();
            return None;
        }
        if self.rows.len() >= MAX_VALUES {
            return None;
        }
        let r = u32::try_from(self.rows.len()).ok()?;
        self.rows.insert(value.into(), r);
        self.cells.resize(self.cells.len() + self.columns, UNKNOWN);
        Some(r)
    }
}

/// The tables of a machine, and the row of each field for the entry being
/// run.
pub struct Memo {
    tables: Vec<Table>,
    /// Per table: the row for the current entry, `NO_ROW` when the value
    /// has none, `UNSET` before the first lookup of the entry. (No step
    /// writes a field that has a table, see [`Plan::new`], so the row holds
    /// for the whole entry.)
    current: Vec<u32>,
}

const UNSET: u32 = u32::MAX;
const NO_ROW: u32 = u32::MAX - 1;

impl Memo {
    pub fn new(program: &Program) -> Memo {
        let tables: Vec<Table> = program
            .memo
            .tables
            .iter()
            .map(|&(field, columns)| Table {
                field,
                columns: usize::from(columns),
                rows: HashMap::default(),
                cells: Vec::new(),
                lookups: 0,
                hits: 0,
                given_up: false,
            })
            .collect();
        Memo {
            current: vec![UNSET; tables.len()],
            tables,
        }
    }

    /// A new entry: rows are looked up again.
    pub fn begin(&mut self) {
        self.current.iter_mut().for_each(|r| *r = UNSET);
    }

    /// Run the pure filter `step` (at `slot`), or find its verdict.
    pub fn call(
        &mut self,
        slot: MemoSlot,
        step: &dyn Step,
        ctx: &mut Ctx,
    ) -> Result<bool, RunError> {
        let t = usize::from(slot.table);
        let table = &mut self.tables[t];
        if table.given_up {
            return step.call(ctx);
        }
        if self.current[t] == UNSET {
            ctx.load(table.field);
            self.current[t] = match ctx.peek(table.field) {
                Some(Value::Str(s)) => table.row(s).unwrap_or(NO_ROW),
                _ => NO_ROW,
            };
        }
        let row = self.current[t];
        if row == NO_ROW {
            return step.call(ctx);
        }
        let cell = row as usize * table.columns + usize::from(slot.column);
        match table.cells[cell] {
            PASS => Ok(true),
            FAIL => Ok(false),
            _ => {
                let verdict = step.call(ctx);
                if let Ok(passed) = verdict {
                    table.cells[cell] = if passed { PASS } else { FAIL };
                }
                verdict
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::effects::Effect;
    use crate::value::fields::FieldId;
    use crate::vm::{Collect, EntrySource, ErrorSink, Machine, Pc, RawField, RunError};

    struct Entry(Vec<(&'static str, String)>);
    impl EntrySource for Entry {
        fn fetch(&mut self, _id: FieldId, name: &str, out: &mut RawField) {
            for (k, v) in &self.0 {
                if *k == name {
                    out.push(v.as_bytes());
                }
            }
        }
        fn realtime(&self) -> Option<i64> {
            Some(1_700_000_000_000_000)
        }
    }
    struct NoErrors;
    impl ErrorSink for NoErrors {
        fn step_error(&mut self, _pc: Pc, _f: bool, e: &RunError) {
            panic!("unexpected step error: {e}");
        }
    }

    /// The log messages of each entry, run one after the other.
    fn logs(rules: &str, entries: &[&[(&'static str, &str)]]) -> Vec<Vec<String>> {
        let (rules, diags) = crate::syntax::load_str("test.pyr", rules);
        assert!(diags.is_empty(), "{diags:?}");
        let program = crate::compile::build(rules).program.expect("rules check");
        let users = Box::new(crate::builtins::user_exists::SystemUsers);
        let mut m = Machine::new(&program, jiff::tz::TimeZone::UTC, users);
        entries
            .iter()
            .map(|fields| {
                let mut e = Entry(fields.iter().map(|(k, v)| (*k, v.to_string())).collect());
                let mut sink = Collect::default();
                m.run(&mut e, &mut sink, &mut NoErrors);
                sink.0
                    .into_iter()
                    .filter_map(|(_, e)| match e {
                        Effect::Log { message, .. } => Some(message),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn remembered_verdicts_match_the_filters() {
        let rules = r#"
chain "a" {
    SYSLOG_IDENTIFIER =~ /^nginx(?:[_-]\w+)?$/
    log(message: "nginx {MESSAGE}")
}
chain "b" {
    SYSLOG_IDENTIFIER in ["sshd", "nginx-x"]
    log(message: "in {MESSAGE}")
}
"#;
        let idents = ["nginx", "sshd", "nginx-x", "nginxx", "sshd", "nginx"];
        let entries: Vec<Vec<(&str, String)>> = (0..3000)
            .map(|i| {
                vec![
                    ("SYSLOG_IDENTIFIER", idents[i % idents.len()].to_string()),
                    ("MESSAGE", i.to_string()),
                ]
            })
            .collect();
        let refs: Vec<Vec<(&'static str, &str)>> = entries
            .iter()
            .map(|e| e.iter().map(|(k, v)| (*k, v.as_str())).collect())
            .collect();
        let slices: Vec<&[(&str, &str)]> = refs.iter().map(Vec::as_slice).collect();
        let got = logs(rules, &slices);
        for (i, msgs) in got.iter().enumerate() {
            let want: Vec<String> = match idents[i % idents.len()] {
                "nginx" => vec![format!("nginx {i}")],
                // The action ending chain "a" ends the entry.
                "nginx-x" => vec![format!("nginx {i}")],
                "sshd" => vec![format!("in {i}")],
                _ => vec![],
            };
            assert_eq!(msgs, &want, "entry {i}");
        }
    }

    #[test]
    fn a_field_written_by_a_step_is_tested_afresh() {
        // The capture changes SYSLOG_IDENTIFIER from "a" to "b" within the
        // entry, which the second test must see: a field a step writes
        // has no table.
        let rules = r#"
chain "w" {
    SYSLOG_IDENTIFIER == "a" else { noop() }
    MESSAGE =~ /^(?P<SYSLOG_IDENTIFIER>\w+)/
    SYSLOG_IDENTIFIER == "b" else { log(message: "still {SYSLOG_IDENTIFIER}") }
    log(message: "now b")
}
"#;
        let e1: &[(&str, &str)] = &[("SYSLOG_IDENTIFIER", "a"), ("MESSAGE", "b")];
        let e2: &[(&str, &str)] = &[("SYSLOG_IDENTIFIER", "a"), ("MESSAGE", "c")];
        let got = logs(rules, &[e1, e2, e1, e2]);
        assert_eq!(
            got,
            vec![
                vec!["now b".to_string()],
                vec!["still c".to_string()],
                vec!["now b".to_string()],
                vec!["still c".to_string()],
            ]
        );
    }

    #[test]
    fn a_field_whose_values_do_not_repeat_is_given_up() {
        let mut t = super::Table {
            field: FieldId(0),
            columns: 1,
            rows: Default::default(),
            cells: Vec::new(),
            lookups: 0,
            hits: 0,
            given_up: false,
        };
        for i in 0..super::TRIAL + 1 {
            t.row(&i.to_string());
        }
        assert!(t.given_up);
        assert!(t.rows.is_empty());
        assert!(t.row("1").is_none());
    }
}
