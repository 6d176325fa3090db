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
//!
//! The chains of a library open one after the other with such a test of
//! the same field, each test's `else` going to the next chain's: a run of
//! dozens of filters that an entry walks through to reach the one or two
//! chains of its service. Where the run goes for a value is as fixed as
//! each verdict: it is remembered too, per value and per instruction that
//! starts a run ([`Plan::runs`]), and a normal run jumps there at once
//! (`replay --explain` and `--profile` still walk every step).

use super::{Ctx, Instr, Pc, Program, RunError, Step};
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
    /// Per instruction: where the end of the run it starts is remembered
    /// (its table, and its column among the runs of that table), for a
    /// filter with a remembered verdict whose `else` goes to another of
    /// the same table.
    pub runs: Vec<Option<MemoSlot>>,
    /// Per table: how many runs start in it.
    pub run_columns: Vec<u16>,
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
        plan.run_columns = vec![0; plan.tables.len()];
        plan
    }

    /// The table of the remembered filter at `pc`, if it is one.
    pub fn table_at(&self, code: &[Instr], pc: Pc) -> Option<u16> {
        match code.get(pc.0 as usize)? {
            Instr::Filter { step, .. } => {
                self.slots.get(step.0 as usize).copied()?.map(|s| s.table)
            }
            _ => None,
        }
    }

    /// Find the runs of `code`: each remembered filter whose `else` is a
    /// remembered filter of the same table starts one.
    pub fn find_runs(&mut self, code: &[Instr]) {
        self.runs = (0..code.len())
            .map(|i| {
                let Instr::Filter { else_, .. } = code[i] else {
                    return None;
                };
                let table = self.table_at(code, Pc(i as u32))?;
                if self.table_at(code, else_) != Some(table) {
                    return None;
                }
                let cols = self.run_columns.get_mut(usize::from(table))?;
                let slot = MemoSlot {
                    table,
                    column: *cols,
                };
                *cols = cols.checked_add(1)?;
                Some(slot)
            })
            .collect();
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
    /// Runs per row.
    run_columns: usize,
    /// Per row and run: where the run ends, plus one (0: not known yet).
    ends: Vec<u32>,
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
            self.ends = Vec::new();
            return None;
        }
        if self.rows.len() >= MAX_VALUES {
            return None;
        }
        let r = u32::try_from(self.rows.len()).ok()?;
        self.rows.insert(value.into(), r);
        self.cells.resize(self.cells.len() + self.columns, UNKNOWN);
        self.ends.resize(self.ends.len() + self.run_columns, 0);
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
            .enumerate()
            .map(|(t, &(field, columns))| Table {
                field,
                columns: usize::from(columns),
                rows: HashMap::default(),
                cells: Vec::new(),
                run_columns: usize::from(program.memo.run_columns.get(t).copied().unwrap_or(0)),
                ends: Vec::new(),
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

    /// The row of table `t` for the current entry, `NO_ROW` when none.
    fn row(&mut self, t: usize, ctx: &mut Ctx) -> u32 {
        let table = &mut self.tables[t];
        if table.given_up {
            return NO_ROW;
        }
        if self.current[t] == UNSET {
            ctx.load(table.field);
            self.current[t] = match ctx.peek(table.field) {
                Some(Value::Str(s)) => table.row(s).unwrap_or(NO_ROW),
                _ => NO_ROW,
            };
        }
        self.current[t]
    }

    /// Where the run at `run` ends for the current entry: `Ok(pc)` when
    /// known, else `Err(row)` to [`set_run_end`](Self::set_run_end) once
    /// walked (`Err(None)`: the value has no row, nothing is remembered).
    pub fn run_end(&mut self, run: MemoSlot, ctx: &mut Ctx) -> Result<Pc, Option<u32>> {
        let t = usize::from(run.table);
        let row = self.row(t, ctx);
        if row == NO_ROW {
            return Err(None);
        }
        let table = &self.tables[t];
        match table.ends[row as usize * table.run_columns + usize::from(run.column)] {
            0 => Err(Some(row)),
            end => Ok(Pc(end - 1)),
        }
    }

    /// Remember where the run at `run` ends for the value of `row`.
    pub fn set_run_end(&mut self, run: MemoSlot, row: u32, end: Pc) {
        let table = &mut self.tables[usize::from(run.table)];
        if let (Some(cell), Some(v)) = (
            table
                .ends
                .get_mut(row as usize * table.run_columns + usize::from(run.column)),
            end.0.checked_add(1),
        ) {
            *cell = v;
        }
    }

    /// Run the pure filter `step` (at `slot`), or find its verdict.
    pub fn call(
        &mut self,
        slot: MemoSlot,
        step: &dyn Step,
        ctx: &mut Ctx,
    ) -> Result<bool, RunError> {
        let t = usize::from(slot.table);
        let row = self.row(t, ctx);
        if row == NO_ROW {
            return step.call(ctx);
        }
        let table = &mut self.tables[t];
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
        logs_observed(rules, entries, &mut crate::vm::Unobserved)
    }

    fn logs_observed<O: crate::vm::Observer>(
        rules: &str,
        entries: &[&[(&'static str, &str)]],
        observer: &mut O,
    ) -> Vec<Vec<String>> {
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
                m.run_observed(&mut e, &mut sink, &mut NoErrors, observer);
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

    /// What [`logs`] gives, run by an observer that sees every step, so
    /// that no run of filters is jumped over.
    fn logs_walking_every_step(
        rules: &str,
        entries: &[&[(&'static str, &str)]],
    ) -> Vec<Vec<String>> {
        struct Every;
        impl crate::vm::Observer for Every {}
        logs_observed(rules, entries, &mut Every)
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
    fn runs_of_chains_jump_to_where_the_value_goes() {
        // Five chains keyed on SYSLOG_IDENTIFIER, broken after the third
        // by one keyed on MESSAGE (another table), and a chain that jumps
        // into the middle of the first run.
        let rules = r#"
chain "a" {
    SYSLOG_IDENTIFIER == "a"
    log(message: "a {MESSAGE}")
}
chain "b" {
    SYSLOG_IDENTIFIER in ["b", "bb"]
    MESSAGE == "skip" else { log(message: "b {MESSAGE}") }
}
chain "c" {
    SYSLOG_IDENTIFIER =~ /^c/
    log(message: "c {MESSAGE}")
}
chain "m" {
    MESSAGE == "m"
    log(message: "m {SYSLOG_IDENTIFIER}")
}
chain "d" {
    SYSLOG_IDENTIFIER == "d"
    log(message: "d {MESSAGE}")
}
chain "e" {
    SYSLOG_IDENTIFIER == "e" else { log(message: "none {SYSLOG_IDENTIFIER}") }
    log(message: "e {MESSAGE}")
}
"#;
        let cases = [
            ("a", "1"),
            ("bb", "2"),
            ("b", "skip"),
            ("cx", "3"),
            ("d", "m"),
            ("d", "4"),
            ("e", "5"),
            ("z", "6"),
            ("z", "m"),
        ];
        // Each case three times: the first walks the runs, the others
        // jump by what was remembered. The reference walks every step.
        let entries: Vec<[(&'static str, &str); 2]> = (0..3)
            .flat_map(|_| cases.iter())
            .map(|(id, msg)| [("SYSLOG_IDENTIFIER", *id), ("MESSAGE", *msg)])
            .collect();
        let slices: Vec<&[(&str, &str)]> = entries.iter().map(|e| e.as_slice()).collect();
        let got = logs(rules, &slices);
        let reference = logs_walking_every_step(rules, &slices);
        assert_eq!(got, reference);
        assert_eq!(got[0], ["a 1"]);
        assert_eq!(got[3], ["c 3"]);
        assert_eq!(got[4], ["m d"]);
        assert_eq!(got[5], ["d 4"]);
        assert_eq!(got[7], ["none z"]);
        assert_eq!(got[8], ["m z"]);

        let (rules, _) = crate::syntax::load_str("test.pyr", rules);
        let program = crate::compile::build(rules).program.expect("rules check");
        let heads: Vec<usize> = (0..program.code.len())
            .filter(|&i| program.memo.runs[i].is_some())
            .collect();
        // a→b→c, c's else is "m"; d→e: three instructions start runs.
        assert_eq!(heads.len(), 3, "{heads:?}");
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
            run_columns: 0,
            ends: Vec::new(),
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
