//! The daemon's loop: start-up (all or nothing: a failure is one error
//! message and exit status 1), then entries in, effects and state out,
//! commits, the daily report, systemd notifications, reloads, and the stop.

use super::files::Files;
use super::input::{Next, Reader};
use super::log::{Level, Logger};
use super::status::{self, StatusRecorder};
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
    /// Plain log files read with the journal.
    files: Files,
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
        if opts.rules.exists() {
            eprint!("{diags}");
        }
        super::rules_problem(&opts.rules, opts.rules_given)
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
    let files = Files::open(&program, opts.start_head, opts.exit_at_end, &store, log);
    if let Some((place, hint)) = opts.input.nothing_to_read() {
        log.log(
            Level::Warning,
            &format!("nothing to read: no journal file (*.journal) in {place}{hint}"),
        );
    }
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
    let executor = (!opts.dry_run).then(|| {
        let sets = program.ban_sets();
        executor::start(opts.state_dir.clone(), program.config.clone(), sets)
    });
    Ok(Started {
        program,
        _lock: lock,
        store,
        key,
        reader,
        files,
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
        mut files,
        mut state,
        tz,
        users,
        mut report_due,
        watchdog,
        executor,
    } = started;
    announce(opts, &program, &files, &mut log);

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let recorder = StatusRecorder::new(&opts.rules, &program, &key, opts.dry_run);
    let mut progress = Progress::new(recorder);
    record_start(&mut store, &mut progress, &mut log);
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
            files: &mut files,
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
                if let Some(x) = &executor {
                    x.set_up_again(p.ban_sets());
                }
                state = remap_state(state, &program, &p, progress.last_now);
                program = *p;
                progress.status.rules_loaded(&opts.rules, &program);
                files.reload(&program, &store, &mut log);
            }
            Outcome::Stop => break,
            Outcome::Fail => {
                exit = 1;
                break;
            }
        }
    }
    let _ = out.flush();
    let saved = save_last(&mut store, &key, &reader, &files, &mut progress, &mut log);
    finish(executor, &progress, &opts.input, &mut log);
    if saved {
        exit
    } else {
        1
    }
}

/// Tell systemd, let the workers carry out what is due, log the end.
fn finish(
    executor: Option<executor::Executor>,
    progress: &Progress,
    input: &super::input::InputSpec,
    log: &mut Logger,
) {
    notify(&[("STOPPING", "1".into())]);
    if let Some(x) = executor {
        x.stop();
    }
    for (cause, n) in log.repeated() {
        log.log(Level::Notice, &format!("{cause}: {n} times in all"));
    }
    let processed = progress.processed;
    let why = match input.nothing_to_read() {
        Some((place, _)) if processed == 0 => {
            format!(": nothing was found to read in {place}")
        }
        _ => String::new(),
    };
    log.log(
        Level::Info,
        &format!("stopped after {processed} entries{why}"),
    );
}

/// Tell systemd and the log that the daemon is up.
fn announce(opts: &Options, program: &Program, files: &Files, log: &mut Logger) {
    notify(&[
        ("READY", "1".into()),
        ("STATUS", "following the journal".into()),
    ]);
    let mut started_msg = format!(
        "started with {} ({} steps)",
        opts.rules.display(),
        program.code.len()
    );
    if !files.is_empty() {
        let paths: Vec<String> = files
            .followers
            .iter()
            .map(|f| f.spec.path.display().to_string())
            .collect();
        started_msg.push_str(&format!("; following {}", paths.join(", ")));
    }
    log.log(Level::Info, &started_msg);
}

/// The status record of a daemon that just started (before any entry).
fn record_start(store: &mut Store, progress: &mut Progress, log: &mut Logger) {
    let mut batch = Batch::new();
    batch.set_status(progress.status.record(0, None, false, None));
    if let Err(e) = store.apply(&batch) {
        log.once(
            Level::Err,
            "store: status",
            &format!("cannot write the status record: {e}"),
        );
    }
}

/// Commit what the last entries changed, at the stop; false when it fails.
fn save_last(
    store: &mut Store,
    key: &str,
    reader: &Reader,
    files: &Files,
    progress: &mut Progress,
    log: &mut Logger,
) -> bool {
    if progress.pending == 0 {
        return true;
    }
    match commit(store, key, reader, files, progress) {
        Ok(()) => true,
        Err(e) => {
            log.log(Level::Err, &format!("cannot save the state: {e}"));
            false
        }
    }
}

/// Commit the batch with the position of every input: the journal cursor
/// (when an entry of the journal was read), the files' positions.
fn commit(
    store: &mut Store,
    key: &str,
    reader: &Reader,
    files: &Files,
    p: &mut Progress,
) -> Result<(), crate::state::store::StoreError> {
    files.positions(&mut p.batch);
    let cursor = p.last_cursor.as_str();
    if cursor.is_empty() {
        // No journal entry yet: its saved cursor stays.
        store.apply(&p.batch)
    } else {
        store.commit_position(key, cursor, reader.seen().as_deref(), &p.batch)
    }
}

/// Copy the entry's cursor into the reused buffer; whether it has one.
fn keep_cursor(c: Option<&str>, last: &mut String) -> bool {
    match c {
        Some(c) => {
            last.clear();
            last.push_str(c);
            true
        }
        None => false,
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
    /// What `pyrusec status` reads, written with the commits.
    status: StatusRecorder,
    /// When the queued commands were last looked for.
    last_control: Instant,
}

impl Progress {
    /// An entry was processed, with `queued` outside effects.
    fn done(&mut self, queued: usize) {
        self.queued += queued;
        self.index += 1;
        self.processed += 1;
        self.pending += 1;
    }

    fn new(status: StatusRecorder) -> Progress {
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
            status,
            last_control: now,
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
    files: &'a mut Files,
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
            self.control(machine, caught_up);
            self.daily_report();
            self.tell_systemd();
            if caught_up {
                if self.opts.exit_at_end
                    && self.p.pending == 0
                    && (self.reader.finished() || self.reader.journal().is_some())
                {
                    return Outcome::Stop;
                }
                let wait = self.files.wait(self.watchdog.map_or(WAIT, |p| p.min(WAIT)));
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

    /// Move the input to its next entry (the journal and the files in
    /// turn); false when there is none yet.
    fn next_entry(&mut self) -> bool {
        let reader = &mut *self.reader;
        let mut journal = |log: &mut Logger, patient: bool| match if patient {
            reader.advance()
        } else {
            reader.advance_now()
        } {
            Ok(Next::Entry) => true,
            Ok(Next::End) => false,
            Err(e) => {
                log.once(Level::Err, &e, &e);
                false
            }
        };
        if self.files.is_empty() {
            return journal(self.log, true);
        }
        self.files.next(self.log, &mut journal)
    }

    /// Run the current entry through the rules and keep what changed;
    /// false when the effect trace cannot be written.
    fn run_entry(&mut self, machine: &mut Machine, json_entry: &mut JsonEntry) -> bool {
        let has_cursor: bool;
        let file_line = self.files.current.take();
        // A file line is current, or a JSON line, or a journal entry.
        let json_line = file_line.map_or_else(|| self.reader.take_json_line(), |_| None);
        let src: &mut dyn EntrySource = match (file_line, json_line, &mut *self.reader) {
            (Some(i), _, _) => {
                has_cursor = false;
                let read_at = crate::vm::wall_clock_us();
                self.files.take_line(i, self.tz, read_at, self.log)
            }
            (None, Some((n, line)), _) => {
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
                has_cursor = keep_cursor(json_entry.cursor(), &mut self.p.last_cursor);
                json_entry
            }
            (None, None, Reader::Journal(j)) => {
                has_cursor = keep_cursor(j.cursor(), &mut self.p.last_cursor);
                j
            }
            (None, None, Reader::Json { .. }) => return true,
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
        self.keep_state_changes(machine, touched, captures, now);
        self.p.done(queued);
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
        let last_entry = (p.last_now != i64::MIN).then_some(p.last_now);
        let newest = self.reader.journal().and_then(|j| j.newest_realtime());
        let record = p.status.record(p.processed, last_entry, caught_up, newest);
        p.batch.set_status(record);
        match commit(self.store, self.key, self.reader, self.files, p) {
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

    /// Apply the commands queued by `pyrusec` (at most every
    /// [`status::CONTROL_EVERY`]); when no entry waits to be committed,
    /// write them, and the status record if the log has something new.
    fn control(&mut self, machine: &mut Machine, caught_up: bool) {
        let p = &mut *self.p;
        if p.last_control.elapsed() < status::CONTROL_EVERY || p.commit_failing {
            return;
        }
        p.last_control = Instant::now();
        let commands = match self.store.commands() {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("cannot read the commands queued by pyrusec: {e}");
                self.log.once(Level::Err, "store: commands", &msg);
                Vec::new()
            }
        };
        let now = if p.last_now == i64::MIN {
            crate::vm::wall_clock_us()
        } else {
            p.last_now
        };
        let applied = status::apply_commands(
            commands,
            self.program,
            &mut machine.state,
            &mut p.batch,
            now,
            self.log,
        );
        // With entries pending, the next commit (due within the commit
        // interval) carries the changes.
        if p.pending != 0 || (applied == 0 && !p.status.wants_write()) {
            return;
        }
        let last_entry = (p.last_now != i64::MIN).then_some(p.last_now);
        let newest = self.reader.journal().and_then(|j| j.newest_realtime());
        let record = p.status.record(p.processed, last_entry, caught_up, newest);
        p.batch.set_status(record);
        match self.store.apply(&p.batch) {
            Ok(()) => p.batch.clear(),
            Err(e) => {
                let msg = format!("cannot write the status record: {e}");
                self.log.once(Level::Err, "store: status", &msg);
            }
        }
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
