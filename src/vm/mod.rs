//! The bytecode and the interpreter that runs each journal entry.
//!
//! A [`Program`] is a flat list of [`Instr`]: one per step of the rule graph
//! (chains copied at jumps as Pyruse does, docs/legacy-semantics.md §3), each with its
//! successors resolved to instruction indexes. Steps are prepared builtins
//! ([`Step`], implemented in `crate::builtins`): regexes compiled, networks parsed, fields
//! interned into slots. Running an entry walks the instructions from the
//! entry point until a `Stop`.
//!
//! Invariant: the graph is acyclic (the checker rejects jump loops), so an
//! entry runs at most `code.len()` instructions.

pub mod disasm;
pub mod explain;
pub mod memo;
pub mod trace;

use crate::config::Config;
use crate::effects::Effect;
use crate::source::{SourceMap, Span};
use crate::state::State;
use crate::syntax::ast::Label;
use crate::value::fields::{self, Encoding, FieldId, FieldKind};
use crate::value::Value;
use std::collections::HashMap;

/// Index of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pc(pub u32);

/// Index of a chain in [`Program::labels`] (the rule set's chains, in order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChainId(pub u32);

/// Index of a prepared step in [`Program::steps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StepId(pub u32);

/// One instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instr {
    /// A filter step (`FIELD == v`, `pcre(…)`, …): go to `then` when it
    /// passes, to `else_` when it does not or fails.
    Filter { step: StepId, then: Pc, else_: Pc },
    /// An action step (`email(…)`, `nftBan(…)`, …): go to `then`; a failure
    /// stops the entry.
    Action { step: StepId, then: Pc },
    /// The end of the processing of an entry: an action that ends its chain,
    /// or the open exits of the last chain.
    Stop,
}

/// Static facts about a field slot.
#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: String,
    pub kind: FieldKind,
}

/// A compiled rule set.
pub struct Program {
    pub code: Vec<Instr>,
    /// Span of the step of each instruction (same index as `code`).
    pub spans: Vec<Span>,
    /// The chain each instruction belongs to (same index as `code`); none
    /// for the final `Stop`.
    pub chain_of: Vec<Option<ChainId>>,
    pub labels: Vec<Label>,
    pub steps: Vec<Box<dyn Step>>,
    pub step_names: Vec<&'static str>,
    pub entry: Pc,
    pub fields: Vec<FieldInfo>,
    pub field_ids: HashMap<String, FieldId>,
    pub counters: Vec<String>,
    pub dnat_masks: Vec<u8>,
    pub sources: SourceMap,
    pub config: Config,
    /// Which filters have remembered verdicts.
    pub memo: memo::Plan,
    /// `file:line:col` of each instruction's step, worked out once, on
    /// first use (the trace and the outbox name the rule of each effect).
    pub locations: std::sync::OnceLock<Vec<Box<str>>>,
}

impl Program {
    /// The firewall sets the program's ban steps ban into, each once,
    /// sorted.
    pub fn ban_sets(&self) -> Vec<crate::effects::BanSet> {
        let mut sets: Vec<_> = self.steps.iter().flat_map(|s| s.ban_sets()).collect();
        sets.sort();
        sets.dedup();
        sets
    }

    /// `file:line:col` of an instruction's step.
    pub fn locate(&self, pc: Pc) -> &str {
        let all = self.locations.get_or_init(|| {
            // Instructions of one step share its span: locate each span once.
            let mut last: Option<(Span, Box<str>)> = None;
            self.spans
                .iter()
                .map(|s| match &last {
                    Some((span, text)) if span == s => text.clone(),
                    _ => {
                        let text: Box<str> = self.sources.locate(*s).into();
                        last = Some((*s, text.clone()));
                        text
                    }
                })
                .collect()
        });
        all.get(pc.0 as usize).map_or("?", |s| s)
    }

    pub fn field(&self, name: &str) -> Option<FieldId> {
        self.field_ids.get(name).copied()
    }

    /// Fresh state sized for this program.
    pub fn new_state(&self) -> State {
        State {
            counters: crate::state::Counters::new(self.counters.len()),
            dnat: crate::state::Dnat::new(self.dnat_masks.clone()),
            sessions: crate::state::Sessions::default(),
        }
    }
}

/// The raw occurrences of one field, in buffers reused from entry to entry
/// (no allocation once they have grown to the size of the values seen).
#[derive(Default, Debug)]
pub struct RawField {
    parts: Vec<Vec<u8>>,
    len: usize,
}

impl RawField {
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Append one occurrence.
    pub fn push(&mut self, bytes: &[u8]) {
        if let Some(p) = self.parts.get_mut(self.len) {
            p.clear();
            p.extend_from_slice(bytes);
        } else {
            self.parts.push(bytes.to_vec());
        }
        self.len += 1;
    }

    pub fn parts(&self) -> &[Vec<u8>] {
        &self.parts[..self.len]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Where an entry's fields come from (a JSON line, the journal).
pub trait EntrySource {
    /// Append the raw occurrences of field `name` (slot `id`) to `out`.
    /// Nothing appended means the field is absent.
    fn fetch(&mut self, id: FieldId, name: &str, out: &mut RawField);
    /// `__REALTIME_TIMESTAMP`, in microseconds.
    fn realtime(&self) -> Option<i64>;
}

/// The slots of the entry being processed: loaded on first use.
pub struct Slots {
    values: Vec<Option<Value>>,
    loaded: Vec<u32>,
    generation: u32,
    raw: RawField,
    encoding: Encoding,
    boot_slot: Option<FieldId>,
    /// The fields written by steps, while an [`Observer`] that asks for
    /// them watches ([`Observer::WATCHES_WRITES`]); `None` otherwise.
    written: Option<Vec<FieldId>>,
}

impl Slots {
    pub fn new(program: &Program) -> Slots {
        let n = program.fields.len();
        Slots {
            values: vec![None; n],
            loaded: vec![0; n],
            generation: 0,
            raw: RawField::default(),
            encoding: program.config.message_encoding,
            boot_slot: program.field("_BOOT_ID"),
            written: None,
        }
    }

    fn begin(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.loaded.iter_mut().for_each(|g| *g = 0);
            self.generation = 1;
        }
    }

    fn load(&mut self, id: FieldId, fields: &[FieldInfo], src: &mut dyn EntrySource) {
        let i = usize::from(id.0);
        if self.loaded[i] == self.generation {
            return;
        }
        self.loaded[i] = self.generation;
        let info = &fields[i];
        // `__MONOTONIC_TIMESTAMP` pairs its time with the boot id: load that
        // first, since loading shares the raw buffer.
        let boot = match (info.kind, self.boot_slot) {
            (FieldKind::Monotonic, Some(b)) => {
                self.load(b, fields, src);
                match &self.values[usize::from(b.0)] {
                    Some(Value::Uuid(u)) => Some(*u),
                    _ => None,
                }
            }
            _ => None,
        };
        self.raw.clear();
        src.fetch(id, &info.name, &mut self.raw);
        fields::convert_into(
            info.kind,
            self.raw.parts(),
            self.encoding,
            boot,
            &mut self.values[i],
        );
    }

    fn set(&mut self, id: FieldId, v: Value) {
        let i = usize::from(id.0);
        self.loaded[i] = self.generation;
        self.values[i] = Some(v);
        if let Some(w) = &mut self.written {
            w.push(id);
        }
    }
}

/// A prepared step (a builtin with its arguments), called once per entry
/// that reaches it.
pub trait Step: Send + Sync {
    /// Filters return whether the entry passes; actions return `true`.
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError>;
    /// Readable arguments, for the disassembler.
    fn describe(&self) -> String;
    /// Why the filter did not pass, in words, fields written `field#N`
    /// as in [`Step::describe`] (`pyrusec replay --explain`): called after
    /// a verdict of `false`, never on the hot path.
    fn why_not(&self, _ctx: &mut Ctx) -> String {
        format!("{} does not hold", self.describe())
    }
    /// The field a filter reads, when its verdict depends on that field's
    /// text and on nothing else, and it writes nothing, emits nothing and
    /// cannot fail on text: its verdicts are then remembered per value
    /// ([`memo`]).
    fn pure_on(&self) -> Option<FieldId> {
        None
    }
    /// The firewall sets a ban step bans into (none for other steps), so
    /// that the daemon can create them at start.
    fn ban_sets(&self) -> Vec<crate::effects::BanSet> {
        Vec::new()
    }
}

/// Receives effects in the order the rules decide them.
pub trait EffectSink {
    fn effect(&mut self, pc: Pc, effect: Effect);
}

/// Keeps effects in memory (tests, batching).
#[derive(Default)]
pub struct Collect(pub Vec<(Pc, Effect)>);

impl EffectSink for Collect {
    fn effect(&mut self, pc: Pc, effect: Effect) {
        self.0.push((pc, effect));
    }
}

/// Who the system's users are (`userExists`).
pub trait UserDb: Send + Sync {
    fn exists(&self, name: &str) -> bool;
}

/// What a step sees while it runs.
pub struct Ctx<'a> {
    slots: &'a mut Slots,
    fields: &'a [FieldInfo],
    src: &'a mut dyn EntrySource,
    pub state: &'a mut State,
    pub sink: &'a mut dyn EffectSink,
    pub pc: Pc,
    /// Engine time of this entry, microseconds.
    pub now: i64,
    pub tz: &'a jiff::tz::TimeZone,
    pub users: &'a dyn UserDb,
    /// Scratch space for regex group offsets.
    pub groups: Vec<Option<(usize, usize)>>,
}

impl Ctx<'_> {
    /// The value of a field, loading it from the entry on first use.
    pub fn get(&mut self, id: FieldId) -> Option<&Value> {
        self.slots.load(id, self.fields, self.src);
        self.slots.values[usize::from(id.0)].as_ref()
    }

    /// Load a field without borrowing its value (to read several at once
    /// with [`Ctx::peek`]).
    pub fn load(&mut self, id: FieldId) {
        self.slots.load(id, self.fields, self.src);
    }

    /// The value of a field already loaded with [`Ctx::load`].
    pub fn peek(&self, id: FieldId) -> Option<&Value> {
        self.slots.values[usize::from(id.0)].as_ref()
    }

    /// Write a field (regex capture, counter value, DNAT correction).
    pub fn set(&mut self, id: FieldId, v: Value) {
        self.slots.set(id, v);
    }

    pub fn emit(&mut self, effect: Effect) {
        self.sink.effect(self.pc, effect);
    }

    /// The fields steps wrote since the last [`Ctx::forget_written`], in
    /// order (a field written twice is there twice), while an
    /// [`Observer`] that asks for them watches; empty otherwise.
    pub fn written(&self) -> &[FieldId] {
        self.slots.written.as_deref().unwrap_or_default()
    }

    pub fn forget_written(&mut self) {
        if let Some(w) = &mut self.slots.written {
            w.clear();
        }
    }
}

/// Watches an entry go through the rules, step by step (`pyrusec replay
/// --explain`). [`Machine::run`] runs with [`Unobserved`], whose calls do
/// nothing and compile away: watching costs nothing when off.
pub trait Observer {
    /// Whether [`Ctx::written`] records the fields steps write.
    const WATCHES_WRITES: bool = false;

    /// Whether every step reached is run and shown to the observer, even
    /// in a run of filters whose end is remembered ([`memo`]).
    const SEES_EVERY_STEP: bool = true;

    /// The step of instruction `pc` is about to run.
    #[inline(always)]
    fn before(&mut self, _pc: Pc, _ctx: &mut Ctx) {}

    /// The step of instruction `pc` ran: `Ok(passed)` (an action that
    /// succeeds passes), or why it failed.
    #[inline(always)]
    fn after(&mut self, _pc: Pc, _verdict: &Result<bool, RunError>, _ctx: &mut Ctx) {}
}

/// The observer of normal runs: nothing.
pub struct Unobserved;

impl Observer for Unobserved {
    const SEES_EVERY_STEP: bool = false;
}

/// Why a step failed at run time.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    /// The entry does not suit the step (Python raised): a missing field,
    /// a value of the wrong type, an address that is not one. Logged; the
    /// entry goes on as the step kind says.
    Step(String),
    /// A broken invariant of the engine: a bug, never caused by an entry.
    Internal(String),
}

impl RunError {
    /// A step error with this message.
    pub fn step(message: impl Into<String>) -> RunError {
        RunError::Step(message.into())
    }

    pub fn is_internal(&self) -> bool {
        matches!(self, RunError::Internal(_))
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Step(m) => f.write_str(m),
            RunError::Internal(m) => write!(f, "internal error: {m}; please report this bug"),
        }
    }
}

/// Receives the run-time errors of steps (logged, never fatal).
pub trait ErrorSink {
    fn step_error(&mut self, pc: Pc, is_filter: bool, error: &RunError);
}

/// Everything needed to run entries, besides the program.
pub struct Machine<'p> {
    pub program: &'p Program,
    pub slots: Slots,
    memo: memo::Memo,
    /// Time and calls per instruction, when profiling (`replay --profile`).
    profile: Option<Vec<(u64, u64)>>,
    pub state: State,
    pub tz: jiff::tz::TimeZone,
    pub users: Box<dyn UserDb>,
    clock: i64,
    groups: Vec<Option<(usize, usize)>>,
}

impl<'p> Machine<'p> {
    pub fn new(
        program: &'p Program,
        tz: jiff::tz::TimeZone,
        users: Box<dyn UserDb>,
    ) -> Machine<'p> {
        Machine {
            program,
            slots: Slots::new(program),
            memo: memo::Memo::new(program),
            profile: None,
            state: program.new_state(),
            tz,
            users,
            clock: i64::MIN,
            groups: Vec::new(),
        }
    }

    /// Measure the time spent in each step from now on.
    pub fn start_profile(&mut self) {
        self.profile = Some(vec![(0, 0); self.program.code.len()]);
    }

    /// The steps that took the most time, costliest first: (instruction,
    /// nanoseconds, calls). Empty when not profiling.
    pub fn profile(&self) -> Vec<(Pc, u64, u64)> {
        let mut v: Vec<(Pc, u64, u64)> = self.profile.as_deref().map_or(Vec::new(), |p| {
            p.iter()
                .enumerate()
                .filter(|(_, (_, calls))| *calls > 0)
                .map(|(i, &(ns, calls))| (Pc(i as u32), ns, calls))
                .collect()
        });
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0 .0.cmp(&b.0 .0)));
        v
    }

    /// The engine clock: the entry's timestamp, never going backwards; the
    /// wall clock for an entry without one.
    fn tick(&mut self, entry_time: Option<i64>) -> i64 {
        let t = entry_time.unwrap_or_else(wall_clock_us);
        self.clock = self.clock.max(t);
        self.clock
    }

    /// Run one entry through the rules.
    pub fn run(
        &mut self,
        src: &mut dyn EntrySource,
        sink: &mut dyn EffectSink,
        errors: &mut dyn ErrorSink,
    ) {
        self.run_observed(src, sink, errors, &mut Unobserved);
    }

    /// Run one entry through the rules, telling `observer` about each step.
    #[inline(always)]
    pub fn run_observed<O: Observer>(
        &mut self,
        src: &mut dyn EntrySource,
        sink: &mut dyn EffectSink,
        errors: &mut dyn ErrorSink,
        observer: &mut O,
    ) {
        let program = self.program;
        let now = self.tick(src.realtime());
        crate::python::re::budget::new_entry();
        self.slots.begin();
        self.memo.begin();
        if O::WATCHES_WRITES {
            self.slots.written = Some(Vec::new());
        }
        let memo = &mut self.memo;
        let mut ctx = Ctx {
            slots: &mut self.slots,
            fields: &program.fields,
            src,
            state: &mut self.state,
            sink,
            pc: program.entry,
            now,
            tz: &self.tz,
            users: self.users.as_ref(),
            groups: std::mem::take(&mut self.groups),
        };
        let mut pc = program.entry;
        let mut budget = program.code.len() + 1;
        loop {
            budget -= 1;
            if budget == 0 {
                errors.step_error(
                    pc,
                    false,
                    &RunError::Internal("the rule graph loops".into()),
                );
                break;
            }
            ctx.pc = pc;
            if !O::SEES_EVERY_STEP && self.profile.is_none() {
                if let Some(&Some(run)) = program.memo.runs.get(pc.0 as usize) {
                    pc = match memo.run_end(run, &mut ctx) {
                        Ok(end) => end,
                        Err(row) => {
                            let (end, clean) = walk_run(program, memo, &mut ctx, errors, pc);
                            if let (Some(row), true) = (row, clean) {
                                memo.set_run_end(run, row, end);
                            }
                            end
                        }
                    };
                    continue;
                }
            }
            let started = self.profile.is_some().then(std::time::Instant::now);
            let here = pc;
            let next = step(program, memo, &mut ctx, errors, observer);
            if let (Some(t), Some(p)) = (started, self.profile.as_mut()) {
                let cell = &mut p[here.0 as usize];
                cell.0 += t.elapsed().as_nanos() as u64;
                cell.1 += 1;
            }
            match next {
                Some(n) => pc = n,
                None => break,
            }
        }
        self.groups = ctx.groups;
        if O::WATCHES_WRITES {
            self.slots.written = None;
        }
        crate::python::re::budget::end_entry();
    }
}

/// Run the filters of the run that starts at `pc` (remembered filters of
/// one table, each going to the next by its `else`) up to the first that
/// passes: where the run goes next (that filter's `then`, or the last
/// one's `else`), and whether no step failed on the way (only then does
/// the end hold for every entry with the same value).
fn walk_run(
    program: &Program,
    memo: &mut memo::Memo,
    ctx: &mut Ctx,
    errors: &mut dyn ErrorSink,
    start: Pc,
) -> (Pc, bool) {
    let table = program.memo.table_at(&program.code, start);
    let (mut pc, mut clean) = (start, true);
    loop {
        let Instr::Filter { step, then, else_ } = program.code[pc.0 as usize] else {
            return (pc, false);
        };
        ctx.pc = pc;
        let s = program.steps[step.0 as usize].as_ref();
        let verdict = match program.memo.slots[step.0 as usize] {
            Some(slot) => memo.call(slot, s, ctx),
            None => s.call(ctx),
        };
        let passed = verdict.unwrap_or_else(|e| {
            errors.step_error(pc, true, &e);
            clean = false;
            false
        });
        if passed {
            return (then, clean);
        }
        if program.memo.table_at(&program.code, else_) != table {
            return (else_, clean);
        }
        pc = else_;
    }
}

/// Run the instruction at `ctx.pc`: the next one, or none when the entry
/// stops.
#[inline(always)]
fn step<O: Observer>(
    program: &Program,
    memo: &mut memo::Memo,
    ctx: &mut Ctx,
    errors: &mut dyn ErrorSink,
    observer: &mut O,
) -> Option<Pc> {
    let pc = ctx.pc;
    match program.code[pc.0 as usize] {
        Instr::Filter { step, then, else_ } => {
            let s = program.steps[step.0 as usize].as_ref();
            observer.before(pc, ctx);
            let verdict = match program.memo.slots[step.0 as usize] {
                Some(slot) => memo.call(slot, s, ctx),
                None => s.call(ctx),
            };
            observer.after(pc, &verdict, ctx);
            let passed = match verdict {
                Ok(p) => p,
                Err(e) => {
                    errors.step_error(pc, true, &e);
                    false
                }
            };
            Some(if passed { then } else { else_ })
        }
        Instr::Action { step, then } => {
            observer.before(pc, ctx);
            let verdict = program.steps[step.0 as usize].call(ctx);
            observer.after(pc, &verdict, ctx);
            match verdict {
                Ok(_) => Some(then),
                Err(e) => {
                    errors.step_error(pc, false, &e);
                    ctx.emit(Effect::ActionError {
                        message: e.to_string(),
                    });
                    None
                }
            }
        }
        Instr::Stop => None,
    }
}

pub fn wall_clock_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
