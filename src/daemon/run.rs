//! The daemon's loop: start-up (all or nothing: a failure is one error
//! message and exit status 1), then entries in, effects and state out,
//! commits, the daily report, systemd notifications, reloads, and the stop.

use super::input::{Next, Reader};
use super::log::{Level, Logger};
use super::{
    daily, executor, load_program, lock_state_dir, notify, open_state, remap_state, restore_state,
    warn_full_tables, EntryEffects, Options, Signals, StepErrors, WAIT,
};
use crate::builtins::user_exists::{PasswdFile, SystemUsers};
use crate::journal::json_lines::JsonEntry;
use crate::state::store::{Batch, Store};
use crate::state::State;
use crate::vm::{EntrySource, Machine, Program, UserDb};
use jiff::tz::TimeZone;
use std::io::{BufWriter, StdoutLock, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What start-up opens, held until the daemon stops.
struct Started {
    program: Program,
    /// One daemon per state directory: the lock is held until exit.
    _lock: std::fs::File,
    store: Store,
    /// The input's key in the store (its cursor row).
    key: String,
    reader: Reader,
    state: State,
    tz: TimeZone,
    users: Option<PasswdFile>,
    report_due: i64,
    watchdog: Option<Duration>,
    executor: Option<executor::Executor>,
}

/// Open everything the daemon needs, in order; the first failure is the
/// error, and nothing is left half-started (the executor starts last).
fn start(opts: &Options, log: &mut Logger) -> Result<Started, String> {
    let (program, warnings) = load_program(&opts.rules).map_err(|diags| {
        eprint!("{diags}");
        format!(
            "the rules in {} do not check; not starting",
            opts.rules.display()
        )
    })?;
    for w in warnings {
        eprint!("{w}");
    }
    let lock = lock_state_dir(&opts.state_dir)?;
    let mut store = open_state(&opts.state_dir, log)?;
    let key = opts.input.key();
    let saved = store
        .load_position(&key)
        .map_err(|e| e.to_string())?
        .filter(|(c, _)| !c.is_empty());
    let (head, after) = match (opts.start_head, saved) {
        (Some(h), _) => (h, None),
        (None, Some(c)) => (true, Some(c)),
        (None, None) => (opts.input.default_head(), None),
    };
    let reader = Reader::open(&opts.input, head, after)
        .map_err(|e| format!("cannot open the journal: {e}"))?;
    let state = restore_state(&store, &program)?;
    let tz = TimeZone::system();
    let users = match &opts.passwd {
        None => None,
        Some(p) => Some(PasswdFile::parse(
            &std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
        )),
    };
    let report_due = if opts.dry_run {
        i64::MAX
    } else {
        daily::due_at(&mut store, &program.config, &tz, crate::vm::wall_clock_us())
            .map_err(|e| e.to_string())?
    };
    let watchdog = systemd::daemon::watchdog_enabled()
        .ok()
        .filter(|&u| u > 0)
        .map(|u| Duration::from_micros(u / 2));
    let executor =
        (!opts.dry_run).then(|| executor::start(opts.state_dir.clone(), program.config.clone()));
    Ok(Started {
        program,
        _lock: lock,
        store,
        key,
        reader,
        state,
        tz,
        users,
        report_due,
        watchdog,
        executor,
    })
}

/// Run the daemon until SIGTERM/SIGINT (or the end of the input with
/// `exit_at_end`). Returns the process exit status.
pub fn run(opts: &Options) -> u8 {
    let mut log = Logger::new();
    let signals = match Signals::register() {
        Ok(s) => s,
        Err(e) => {
            log.log(Level::Err, &format!("cannot install signal handlers: {e}"));
            return 1;
        }
    };
    match start(opts, &mut log) {
        Ok(started) => serve(opts, started, &signals, log),
        Err(e) => {
            log.log(Level::Err, &e);
            1
        }
    }
}

/// Follow the input with what start-up opened, until the stop.
fn serve(opts: &Options, started: Started, signals: &Signals, mut log: Logger) -> u8 {
    let Started {
        mut program,
        _lock,
        mut store,
        key,
        mut reader,
        mut state,
        tz,
        users,
        mut report_due,
        watchdog,
        executor,
    } = started;
    announce(opts, &program, &mut log);

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut progress = Progress::new();
    let mut exit = 0u8;
    loop {
        let users: Box<dyn UserDb> = match &users {
            Some(u) => Box::new(u.clone()),
            None => Box::new(SystemUsers),
        };
        let mut machine = Machine::new(&program, tz.clone(), users);
        machine.state = std::mem::take(&mut state);
        let mut lp = Loop {
            opts,
            program: &program,
            store: &mut store,
            key: &key,
            reader: &mut reader,
            out: &mut out,
            log: &mut log,
            executor: executor.as_ref(),
            tz: &tz,
            watchdog,
            report_due: &mut report_due,
            p: &mut progress,
        };
        let outcome = lp.follow(&mut machine, signals);
        state = std::mem::take(&mut machine.state);
        drop(machine);
        match outcome {
            Outcome::Reload(p) => {
                state = remap_state(state, &program, &p, progress.last_now);
                program = *p;
            }
            Outcome::Stop => break,
            Outcome::Fail => {
                exit = 1;
                break;
            }
        }
    }
    let _ = out.flush();
    let saved = save_last(&mut store, &key, &reader, &progress, &mut log);
    finish(executor, &progress, &mut log);
    if saved {
        exit
    } else {
        1
    }
}

/// Tell systemd, let the workers carry out what is due, log the end.
fn finish(executor: Option<executor::Executor>, progress: &Progress, log: &mut Logger) {
    notify(&[("STOPPING", "1".into())]);
    if let Some(x) = executor {
        x.stop();
    }
    for (cause, n) in log.repeated() {
        log.log(Level::Notice, &format!("{cause}: {n} times in all"));
    }
    let processed = progress.processed;
    log.log(Level::Info, &format!("stopped after {processed} entries"));
}

/// Tell systemd and the log that the daemon is up.
fn announce(opts: &Options, program: &Program, log: &mut Logger) {
    notify(&[
        ("READY", "1".into()),
        ("STATUS", "following the journal".into()),
    ]);
    let started_msg = format!(
        "started with {} ({} steps)",
        opts.rules.display(),
        program.code.len()
    );
    log.log(Level::Info, &started_msg);
}

/// Commit what the last entries changed, at the stop; false when it fails.
fn save_last(
    store: &mut Store,
    key: &str,
    reader: &Reader,
    progress: &Progress,
    log: &mut Logger,
) -> bool {
    if progress.pending == 0 {
        return true;
    }
    let cursor = progress.last_cursor.as_str();
    match store.commit_position(key, cursor, reader.seen().as_deref(), &progress.batch) {
        Ok(()) => true,
        Err(e) => {
            log.log(Level::Err, &format!("cannot save the state: {e}"));
            false
        }
    }
}

/// Where the loop stands: counts, what waits to be committed, timers.
struct Progress {
    batch: Batch,
    processed: u64,
    /// Number of the next input entry (bad JSON lines count).
    index: u64,
    /// Entries processed since the last commit.
    pending: usize,
    /// Outside effects queued since the last commit.
    queued: usize,
    /// The cursor of the last entry that had one ("" before the first),
    /// in a buffer reused from entry to entry.
    last_cursor: String,
    /// The trace line being written, reused.
    line: Vec<u8>,
    last_commit: Instant,
    last_ping: Instant,
    last_status: Instant,
    rate_mark: (Instant, u64),
    /// The engine clock: entry times, never going backwards.
    last_now: i64,
    /// Evictions already logged: counters, DNAT links, sessions.
    evicted: [u64; 3],
    /// The last commit failed: read nothing until one succeeds.
    commit_failing: bool,
}

impl Progress {
    fn new() -> Progress {
        let now = Instant::now();
        Progress {
            batch: Batch::new(),
            processed: 0,
            index: 0,
            pending: 0,
            queued: 0,
            last_cursor: String::new(),
            line: Vec::new(),
            last_commit: now,
            last_ping: now,
            last_status: now,
            rate_mark: (now, 0),
            last_now: i64::MIN,
            evicted: [0; 3],
            commit_failing: false,
        }
    }
}

/// How following the input ended.
enum Outcome {
    /// SIGTERM, SIGINT, or the end of the input with `exit_at_end`.
    Stop,
    /// SIGHUP with rules that check: go on with these.
    Reload(Box<Program>),
    /// The effect trace cannot be written.
    Fail,
}

/// The loop over entries of one program (until a stop or a reload).
struct Loop<'a, 'o> {
    opts: &'a Options,
    program: &'a Program,
    store: &'a mut Store,
    key: &'a str,
    reader: &'a mut Reader,
    out: &'a mut BufWriter<StdoutLock<'o>>,
    log: &'a mut Logger,
    executor: Option<&'a executor::Executor>,
    tz: &'a TimeZone,
    watchdog: Option<Duration>,
    report_due: &'a mut i64,
    p: &'a mut Progress,
}

impl Loop<'_, '_> {
    fn follow(&mut self, machine: &mut Machine, signals: &Signals) -> Outcome {
        let mut json_entry = JsonEntry::new(self.program);
        // A progress line while catching up, when standard error is a
        // terminal (and the trace of --dry-run does not go to one).
        let trace_on_terminal =
            self.opts.dry_run && std::io::IsTerminal::is_terminal(&std::io::stdout());
        let mut meter =
            crate::progress::Meter::on_terminal("entries", None).filter(|_| !trace_on_terminal);
        loop {
            if signals.term.load(Ordering::Relaxed) {
                return Outcome::Stop;
            }
            if signals.hup.swap(false, Ordering::Relaxed) {
                if let Some(p) = self.reload() {
                    return Outcome::Reload(Box::new(p));
                }
            }
            // While the state cannot be saved (disk full, read-only), read
            // nothing more: no entry runs ahead of what is saved, and the
            // commit is retried at each turn until it succeeds.
            let got = !self.p.commit_failing && self.next_entry();
            if got && !self.run_entry(machine, &mut json_entry) {
                return Outcome::Fail;
            }
            let caught_up = !got;
            match &mut meter {
                Some(m) if got => m.tick(self.p.processed, 0),
                Some(_) => meter = None,
                None => {}
            }
            if !self.commit_if_due(machine, caught_up) {
                return Outcome::Fail;
            }
            self.daily_report();
            self.tell_systemd();
            if caught_up {
                if self.opts.exit_at_end
                    && self.p.pending == 0
                    && (self.reader.finished() || self.reader.journal().is_some())
                {
                    return Outcome::Stop;
                }
                let wait = self.watchdog.map_or(WAIT, |p| p.min(WAIT));
                self.reader.wait(wait);
            }
        }
    }

    /// The rules again, when they check; else the old ones keep running.
    fn reload(&mut self) -> Option<Program> {
        match load_program(&self.opts.rules) {
            Ok((p, _)) => {
                let msg = format!("reloaded {}", self.opts.rules.display());
                self.log.log(Level::Notice, &msg);
                Some(p)
            }
            Err(diags) => {
                self.log.log(
                    Level::Err,
                    &format!("the new rules do not check; the old rules keep running:\n{diags}"),
                );
                None
            }
        }
    }

    /// Move the input to its next entry; false when there is none yet.
    fn next_entry(&mut self) -> bool {
        match self.reader.advance() {
            Ok(Next::Entry) => true,
            Ok(Next::End) => false,
            Err(e) => {
                self.log.once(Level::Err, &e, &e);
                false
            }
        }
    }

    /// Run the current entry through the rules and keep what changed;
    /// false when the effect trace cannot be written.
    fn run_entry(&mut self, machine: &mut Machine, json_entry: &mut JsonEntry) -> bool {
        // The entry's cursor, copied into the reused buffer.
        let keep = |c: Option<&str>, last: &mut String| match c {
            Some(c) => {
                last.clear();
                last.push_str(c);
                true
            }
            None => false,
        };
        let has_cursor: bool;
        let src: &mut dyn EntrySource = match (self.reader.take_json_line(), &mut *self.reader) {
            (Some((n, line)), _) => {
                let parsed = std::str::from_utf8(&line)
                    .map_err(|_| "not valid UTF-8".to_owned())
                    .and_then(|l| json_entry.parse(l.trim_end()).map_err(|e| e.0));
                if let Err(why) = parsed {
                    self.log.once(
                        Level::Warning,
                        "json: bad line",
                        &format!("input line {n} is not an entry ({why}); skipped"),
                    );
                    self.p.index += 1;
                    return true;
                }
                has_cursor = keep(json_entry.cursor(), &mut self.p.last_cursor);
                json_entry
            }
            (None, Reader::Journal(j)) => {
                has_cursor = keep(j.cursor(), &mut self.p.last_cursor);
                j
            }
            (None, Reader::Json { .. }) => return true,
        };
        let now = src
            .realtime()
            .unwrap_or_else(crate::vm::wall_clock_us)
            .max(self.p.last_now);
        self.p.last_now = now;
        let p = &mut *self.p;
        let mut sink = EntryEffects {
            program: self.program,
            batch: &mut p.batch,
            trace: if self.opts.dry_run {
                Some(&mut *self.out as &mut dyn Write)
            } else {
                None
            },
            entry: p.index,
            cursor: has_cursor.then_some(p.last_cursor.as_str()),
            line: &mut p.line,
            now_us: now,
            dry_run: self.opts.dry_run,
            counters: Vec::new(),
            captures: 0,
            queued: 0,
            trace_error: None,
        };
        let mut errors = StepErrors {
            program: self.program,
            log: self.log,
        };
        machine.run(src, &mut sink, &mut errors);
        if let Some(e) = sink.trace_error.take() {
            let msg = format!("cannot write the effect trace: {e}");
            self.log.log(Level::Err, &msg);
            return false;
        }
        let (touched, captures, queued) = (
            std::mem::take(&mut sink.counters),
            sink.captures,
            sink.queued,
        );
        self.p.queued += queued;
        self.keep_state_changes(machine, touched, captures, now);
        self.p.index += 1;
        self.p.processed += 1;
        self.p.pending += 1;
        true
    }

    /// Put the counters and DNAT links an entry changed into the batch.
    fn keep_state_changes(
        &mut self,
        machine: &Machine,
        touched: Vec<(String, crate::value::Value)>,
        captures: usize,
        now: i64,
    ) {
        let batch = &mut self.p.batch;
        for (name, k) in touched {
            if let Some(id) = super::counter_id(self.program, &name) {
                match machine.state.counters.categories[usize::from(id.0)].get(&k) {
                    Some(e) => batch.set_counter(&name, &k, e),
                    None => batch.delete_counter(&name, &k),
                }
            }
        }
        if captures > 0 {
            let newest: Vec<_> = machine
                .state
                .dnat
                .iter()
                .rev()
                .take(captures)
                .cloned()
                .collect();
            for m in newest.into_iter().rev() {
                batch.add_mapping(m);
            }
        }
        batch.sweep(now);
    }

    /// Commit when entries wait and the input is caught up, or enough
    /// entries or time went by; false when the effect trace cannot be
    /// written. A failed commit is retried at the next turn.
    fn commit_if_due(&mut self, machine: &Machine, caught_up: bool) -> bool {
        let p = &mut *self.p;
        if p.pending == 0
            || !(caught_up
                || p.pending >= self.opts.commit_every
                || p.last_commit.elapsed() >= self.opts.commit_interval)
        {
            return true;
        }
        if let Err(e) = self.out.flush() {
            let msg = format!("cannot write the effect trace: {e}");
            self.log.log(Level::Err, &msg);
            return false;
        }
        warn_full_tables(&machine.state, &mut p.evicted, self.log);
        let seen = self.reader.seen();
        let cursor = p.last_cursor.as_str();
        match self
            .store
            .commit_position(self.key, cursor, seen.as_deref(), &p.batch)
        {
            Ok(()) => {
                if std::mem::take(&mut p.commit_failing) {
                    self.log
                        .log(Level::Notice, "the state is saved again; reading goes on");
                }
                p.batch.clear();
                p.pending = 0;
                p.last_commit = Instant::now();
                if p.queued > 0 {
                    if let Some(x) = self.executor {
                        x.wake();
                    }
                    p.queued = 0;
                }
            }
            Err(e) => {
                p.commit_failing = true;
                self.log.once(
                    Level::Err,
                    "store: commit",
                    &format!("cannot save the state: {e}; reading stops until it can, retrying"),
                );
            }
        }
        true
    }

    /// Queue the daily report when it is due and everything is committed.
    fn daily_report(&mut self) {
        let wall = crate::vm::wall_clock_us();
        if wall < *self.report_due || self.p.pending != 0 {
            return;
        }
        let config = &self.program.config;
        match daily::queue(self.store, config, self.tz, wall) {
            Ok(()) => {
                self.log.log(Level::Info, "daily report queued");
                if let Some(x) = self.executor {
                    x.wake();
                }
            }
            Err(e) => self.log.once(
                Level::Err,
                "report: queue",
                &format!("cannot queue the daily report: {e}"),
            ),
        }
        *self.report_due = daily::next_due(wall, config.report_time, self.tz);
    }

    /// Watchdog pings, and a status line every 10 seconds.
    fn tell_systemd(&mut self) {
        let p = &mut *self.p;
        if let Some(period) = self.watchdog {
            if p.last_ping.elapsed() >= period {
                notify(&[("WATCHDOG", "1".into())]);
                p.last_ping = Instant::now();
            }
        }
        if p.last_status.elapsed() >= Duration::from_secs(10) {
            let (t0, n0) = p.rate_mark;
            let rate = (p.processed - n0) as f64 / t0.elapsed().as_secs_f64().max(0.001);
            let processed = p.processed;
            notify(&[(
                "STATUS",
                format!("{processed} entries processed, {rate:.0}/s"),
            )]);
            p.rate_mark = (Instant::now(), p.processed);
            p.last_status = Instant::now();
        }
    }
}
