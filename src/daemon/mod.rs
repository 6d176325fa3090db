//! `pyrused`: follows the journal, runs each entry through the rules, keeps
//! its state durable, and has the host layer carry out the effects.
//!
//! ```text
//! journal ─next─▶ Machine::run ─effects─▶ Batch ─commit(cursor)─▶ state.sqlite
//!                                                       │
//!                                     outbox ◀──────────┘──▶ executor thread ─▶ nft, ipset, mail, journal
//! ```
//!
//! Durability: the cursor of the last processed entry and the state changes
//! of the entries before it commit in one SQLite transaction, every
//! [`Options::commit_every`] entries, every [`Options::commit_interval`],
//! and whenever the input is caught up. After a crash, the entries since
//! the last commit are processed again; their state changes were not
//! committed, so counts stay exact. Outside effects are queued in the same
//! transaction and carried out after it (at least once: an effect carried
//! out just before a crash, whose outbox row was not yet marked done, is
//! carried out again after the restart).

pub mod daily;
pub mod executor;
pub mod files;
pub mod input;
pub mod inspect;
pub mod log;
mod run;
pub mod status;

pub use run::run;

use crate::compile::build;
use crate::diag::Diagnostic;
use crate::effects::Effect;
use crate::state::store::{BanKind, BanRecord, Batch, ReportRecord, Store};
use crate::state::{CounterId, Remembered, State};
use crate::value::Value;
use crate::vm::EffectSink;
use crate::vm::{ErrorSink, Pc, Program, RunError};
use input::InputSpec;
use log::{Level, Logger};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Longest wait for the journal to change (`sd_journal_wait`): also how
/// soon signals and watchdog pings are served when nothing is logged.
/// journald announces appends through inotify after a post-change timer;
/// measured here (systemd 252 on tmpfs) that comes ~500 ms after the write,
/// while the entry is readable at once, so the wait is kept short enough to
/// bound the write-to-effect latency.
pub const WAIT: Duration = Duration::from_millis(200);

/// How the daemon runs.
#[derive(Clone, Debug)]
pub struct Options {
    pub rules: PathBuf,
    /// Whether `rules` was given (`--rules`) rather than found among
    /// [`DEFAULT_RULES`].
    pub rules_given: bool,
    pub input: InputSpec,
    /// `Some(true)`: head, `Some(false)`: tail, `None`: after the saved
    /// cursor, else the input's default.
    pub start_head: Option<bool>,
    pub exit_at_end: bool,
    pub state_dir: PathBuf,
    pub dry_run: bool,
    pub commit_every: usize,
    pub commit_interval: Duration,
    /// Resolve `userExists` against this passwd-format file (dry runs that
    /// reproduce another machine).
    pub passwd: Option<PathBuf>,
}

/// Load and check rules; the rendered diagnostics on failure.
pub fn load_program(path: &Path) -> Result<(Program, Vec<String>), String> {
    let (rules, diags) = crate::syntax::load(path);
    let sources = rules.sources.clone();
    let render = |ds: &[Diagnostic]| {
        ds.iter()
            .map(|d| d.render(&sources, false))
            .collect::<Vec<_>>()
    };
    if diags.iter().any(Diagnostic::is_error) {
        return Err(render(&diags).join(""));
    }
    let checked = build(rules);
    let warnings = render(&checked.diagnostics);
    match checked.program {
        Some(p) => Ok((p, warnings)),
        None => Err(warnings.join("")),
    }
}

/// A warning when a table of the state reached its cap and forgot entries
/// early (each kind logged once, with counts at exit).
fn warn_full_tables(state: &State, logged: &mut [u64; 3], log: &mut Logger) {
    use crate::state::{MAX_COUNTER_KEYS, MAX_DNAT_MAPPINGS, MAX_SESSIONS};
    let now = [
        state.counters.evicted,
        state.dnat.evicted,
        state.sessions.evicted,
    ];
    let what = [
        ("counters", MAX_COUNTER_KEYS, "keys of a counter"),
        ("DNAT links", MAX_DNAT_MAPPINGS, "DNAT links"),
        ("sessions", MAX_SESSIONS, "sessions"),
    ];
    for ((n, last), (cause, cap, items)) in now.iter().zip(logged.iter_mut()).zip(what) {
        if n > last {
            log.once(
                Level::Warning,
                &format!("state: {cause} full"),
                &format!("more than {cap} {items}: the state forgets some early ({n} so far)"),
            );
            *last = *n;
        }
    }
}

/// Whether the rules at `path` change nftables or ipset sets on this
/// machine: a ban step (`nftBan`, `ipsetBan`, `failure`) with a local
/// `nft`/`ipset` command. Rules that cannot be read count as yes.
pub fn bans_locally(path: &Path) -> bool {
    let (rules, diags) = crate::syntax::load(path);
    if diags.iter().any(crate::diag::Diagnostic::is_error) {
        return true;
    }
    let config = crate::check::config_of(&rules);
    let local = |argv: &[String]| {
        argv.first()
            .and_then(|p| Path::new(p).file_name())
            .is_some_and(|n| n == "nft" || n == "ipset")
    };
    let steps = || rules.chains.iter().flat_map(|c| &c.steps);
    // `failure` bans with nft unless its banAction says "ipset".
    let failure_with = |action: &str| {
        steps().any(|s| {
            let by =
                s.args
                    .iter()
                    .rev()
                    .find(|a| a.name == "banAction")
                    .map_or("nft", |a| match &a.value.kind {
                        crate::syntax::ast::ExprKind::Str(v) => v.as_str(),
                        _ => "nft",
                    });
            s.name == "failure" && by == action
        })
    };
    let nft = steps().any(|s| s.name == "nftBan") || failure_with("nft");
    let ipset = steps().any(|s| s.name == "ipsetBan") || failure_with("ipset");
    (nft && local(&config.nft)) || (ipset && local(&config.ipset))
}

/// The unit file to install for the rules at `rules`: without any
/// capability when they ban nothing on this machine.
pub fn unit_file(template: &str, rules: &Path) -> String {
    let unit = if bans_locally(rules) {
        template.to_owned()
    } else {
        without_capabilities(template)
    };
    let (loaded, _) = crate::syntax::load(rules);
    if crate::check::config_of(&loaded).log_files.is_empty() {
        return unit;
    }
    reading_log_files(&unit)
}

/// The unit with the capability to read the plain log files of `logFiles`
/// whatever their owner and mode (nginx's are `www-data:adm 0640`, which
/// root without `CAP_DAC_*` cannot read).
fn reading_log_files(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len() + 200);
    for line in unit.lines() {
        if let Some(caps) = line.strip_prefix("CapabilityBoundingSet=") {
            out.push_str(
                "# The plain log files of logFiles are read whatever their owner and mode.\n",
            );
            out.push_str("CapabilityBoundingSet=");
            if !caps.is_empty() {
                out.push_str(caps);
                out.push(' ');
            }
            out.push_str("CAP_DAC_READ_SEARCH\n");
        } else if line.starts_with("# These rules ban nothing on this machine") {
            out.push_str("# These rules ban nothing on this machine: no capability to change the firewall.\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The unit without any capability.
fn without_capabilities(template: &str) -> String {
    template
        .replace(
            "CapabilityBoundingSet=CAP_NET_ADMIN",
            "# These rules ban nothing on this machine: no capability at all.\nCapabilityBoundingSet=",
        )
        .replace("AF_UNIX AF_NETLINK AF_INET AF_INET6", "AF_UNIX AF_INET AF_INET6")
}

/// The lock file that keeps a second daemon off a state directory.
pub const LOCK_FILE: &str = "pyrused.lock";

/// Lock the state directory for this daemon (created if needed); the lock
/// holds while the returned file is open. `pyrusec` does not take it: its
/// commands work beside a running daemon.
pub fn lock_state_dir(dir: &Path) -> Result<std::fs::File, String> {
    use std::io::{Read, Seek};
    use std::os::unix::fs::OpenOptionsExt;
    crate::state::store::create_dir(dir).map_err(|e| e.to_string())?;
    let path = dir.join(LOCK_FILE);
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match f.try_lock() {
        Ok(()) => {
            let _ = f.set_len(0);
            let _ = writeln!(f, "{}", std::process::id());
            Ok(f)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = f.rewind().and_then(|()| f.read_to_string(&mut pid));
            Err(format!(
                "another pyrused (pid {}) is using the state directory {}; not starting: \
                 run one daemon per state directory (--state-dir)",
                pid.trim(),
                dir.display()
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// Open the state. A damaged file (truncated, overwritten) does not keep
/// the daemon from starting, since bans matter more than counters: it is
/// moved aside with its WAL, what can still be read of its bans and
/// cursors goes into a fresh file, and what was lost is logged at error
/// level.
pub fn open_state(dir: &Path, log: &mut Logger) -> Result<Store, String> {
    let damage = match Store::open(dir) {
        Ok(s) => return Ok(s),
        Err(e) if !e.is_damage() => return Err(e.to_string()),
        Err(e) => e,
    };
    let path = dir.join(crate::state::store::FILE_NAME);
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let name = crate::state::store::FILE_NAME;
    let mut aside = dir.join(format!("{name}.damaged-{stamp}"));
    for n in 1.. {
        if !aside.exists() {
            break;
        }
        aside = dir.join(format!("{name}.damaged-{stamp}-{n}"));
    }
    std::fs::rename(&path, &aside)
        .map_err(|e| format!("{damage}; cannot move it aside to {}: {e}", aside.display()))?;
    for suffix in ["-wal", "-shm"] {
        let mut from = path.clone().into_os_string();
        from.push(suffix);
        let mut to = aside.clone().into_os_string();
        to.push(suffix);
        let _ = std::fs::rename(from, to);
    }
    let found = crate::state::store::salvage(&aside);
    let mut store = Store::open(dir).map_err(|e| e.to_string())?;
    let mut batch = Batch::new();
    let bans = found.bans.len();
    for b in found.bans {
        batch.ban(b);
    }
    store.apply(&batch).map_err(|e| e.to_string())?;
    for (source, cursor, seen) in &found.cursors {
        store
            .commit_position(source, cursor, seen.as_deref(), &Batch::new())
            .map_err(|e| e.to_string())?;
    }
    let cursor = if found.cursors.is_empty() {
        "the journal position (reading starts afresh, as on a first start)"
    } else {
        "nothing of the journal position"
    };
    log.log(
        Level::Err,
        &format!(
            "{damage}: moved aside to {}; recovered {bans} bans and {} journal positions; \
             lost: counters, DNAT links, sessions, daily report records, queued effects, and {cursor}",
            aside.display(),
            found.cursors.len(),
        ),
    );
    Ok(store)
}

/// The rules path to use when none is given (the first that exists):
/// `/etc/pyruse/pyruse.pyr` (the local file that includes the library and
/// enables and tunes its services), `/etc/pyruse/rules.pyr`, the directory
/// `/etc/pyruse/rules.d`, or Pyruse's `/etc/pyruse/pyruse.json` so that
/// existing installs start unchanged.
pub fn default_rules() -> PathBuf {
    DEFAULT_RULES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_RULES[0]))
}

/// The rules paths looked at, in order, when none is given.
pub const DEFAULT_RULES: [&str; 4] = [
    "/etc/pyruse/pyruse.pyr",
    "/etc/pyruse/rules.pyr",
    "/etc/pyruse/rules.d",
    "/etc/pyruse/pyruse.json",
];

/// Why the rules at `path` cannot run, naming each path looked at and what
/// is wrong with it: every default path up to `path` when the rules were
/// not given (`given` false), else `path` alone.
pub fn rules_problem(path: &Path, given: bool) -> String {
    let state = |p: &Path| {
        if p.exists() {
            format!("{} does not check (see above)", p.display())
        } else {
            format!("{} is missing", p.display())
        }
    };
    if given {
        return format!("the rules cannot run: {}; not starting", state(path));
    }
    let mut tried = Vec::new();
    for p in DEFAULT_RULES.iter().map(Path::new) {
        tried.push(state(p));
        if p == path && p.exists() {
            break;
        }
    }
    let (what, hint) = if path.exists() {
        ("the rules cannot run", "")
    } else {
        (
            "no rules to run",
            " (write /etc/pyruse/pyruse.pyr as the README's \"Running the daemon\" says, \
             or give --rules PATH)",
        )
    };
    format!("{what}: {}{hint}; not starting", tried.join(", "))
}

/// The `storage` setting of the rules at `path` (the state directory), or
/// the default when the rules cannot be read.
pub fn storage_of(path: &Path) -> PathBuf {
    let (rules, _) = crate::syntax::load(path);
    PathBuf::from(crate::check::config_of(&rules).storage)
}

fn counter_id(program: &Program, name: &str) -> Option<CounterId> {
    program
        .counters
        .iter()
        .position(|c| c == name)
        .map(|i| CounterId(i as u16))
}

/// State saved in the store, sized for `program`.
pub fn restore_state(store: &Store, program: &Program) -> Result<State, String> {
    let mut state = program.new_state();
    for (category, key, entry) in store.load_counters().map_err(|e| e.to_string())? {
        if let Some(id) = counter_id(program, &category) {
            state.counters.categories[usize::from(id.0)].insert(key, entry);
        }
    }
    // Liveness is judged on the entries' clock when they are looked up, not
    // on the wall clock now: catching up on old entries needs old mappings.
    for m in store.load_mappings().map_err(|e| e.to_string())? {
        state.dnat.capture(m, i64::MIN);
    }
    for (name, key, r) in store.load_sessions().map_err(|e| e.to_string())? {
        state.sessions.remember((name, key), r, i64::MIN);
    }
    Ok(state)
}

/// Carry state over to reloaded rules: counters by name, mappings reindexed.
pub fn remap_state(old: State, from: &Program, to: &Program, now_us: i64) -> State {
    let mut state = to.new_state();
    for (i, cat) in old.counters.categories.into_iter().enumerate() {
        if let Some(name) = from.counters.get(i) {
            if let Some(id) = counter_id(to, name) {
                state.counters.categories[usize::from(id.0)] = cat;
            }
        }
    }
    for m in old.dnat.iter() {
        state.dnat.capture(m.clone(), now_us);
    }
    state.sessions = old.sessions;
    state
}

/// `next_at` of an effect queued by the rules: due at once (carried out in
/// queue order).
const DUE_NOW: i64 = 0;

/// Run-time errors of steps, logged once per location and cause.
struct StepErrors<'a> {
    program: &'a Program,
    log: &'a mut Logger,
}

impl ErrorSink for StepErrors<'_> {
    fn step_error(&mut self, pc: Pc, is_filter: bool, error: &RunError) {
        let at = self.program.locate(pc);
        let what = if is_filter {
            "filter failed, taking its else branch"
        } else {
            "action failed, the entry stops here"
        };
        let level = if error.is_internal() {
            Level::Err
        } else {
            Level::Warning
        };
        self.log.once(
            level,
            &format!("{at}: {error}"),
            &format!("{at}: {what}: {error}"),
        );
    }
}

/// Collects what the rules decided for one entry.
struct EntryEffects<'a> {
    program: &'a Program,
    batch: &'a mut Batch,
    trace: Option<&'a mut dyn Write>,
    entry: u64,
    cursor: Option<&'a str>,
    /// The trace line being written, reused from entry to entry.
    line: &'a mut Vec<u8>,
    now_us: i64,
    dry_run: bool,
    counters: Vec<(String, Value)>,
    captures: usize,
    queued: usize,
    trace_error: Option<std::io::Error>,
}

impl EffectSink for EntryEffects<'_> {
    fn effect(&mut self, pc: Pc, effect: Effect) {
        if let Some(out) = self.trace.as_mut() {
            let mut line = std::mem::take(self.line);
            line.clear();
            crate::vm::trace::write_line(
                &mut line,
                &effect,
                self.entry,
                self.cursor,
                Some(self.program.locate(pc)),
            );
            if let Err(e) = out.write_all(&line) {
                self.trace_error = Some(e);
            }
            *self.line = line;
        }
        self.count_for_report(&effect);
        let rule = self.program.locate(pc);
        match effect {
            // Action errors are logged by `StepErrors`.
            Effect::Noop | Effect::DnatReplace { .. } | Effect::ActionError { .. } => {}
            Effect::CounterRaise { counter, key, .. } | Effect::CounterReset { counter, key } => {
                self.counters.push((counter, key));
            }
            Effect::DnatCapture { .. } => self.captures += 1,
            Effect::Remember {
                session,
                key,
                fields,
                seconds,
            } => {
                let until = self
                    .now_us
                    .saturating_add(seconds.saturating_mul(1_000_000));
                self.batch
                    .set_session(session, key, Remembered { fields, until });
            }
            Effect::Recall { .. } => {}
            Effect::DailyReport {
                level,
                message,
                details,
            } => self.batch.report(ReportRecord {
                level: level.into(),
                message,
                details: details.into(),
                time_us: self.now_us,
            }),
            _ if self.dry_run => {}
            Effect::Log { level, message } => {
                self.batch.outbox(
                    "log",
                    serde_json::json!({ "level": level, "message": message, "rule": rule }),
                    DUE_NOW,
                );
                self.queued += 1;
            }
            Effect::Email { subject, message } => {
                self.batch.outbox(
                    "email",
                    serde_json::json!({ "subject": subject, "message": message, "rule": rule }),
                    DUE_NOW,
                );
                self.queued += 1;
            }
            Effect::NftBan { set, ip, seconds } => self.ban(BanKind::Nft, set, &ip, seconds, rule),
            Effect::IpsetBan { set, ip, seconds } => {
                self.ban(BanKind::Ipset, set, &ip, seconds, rule)
            }
        }
    }
}

impl EntryEffects<'_> {
    /// Failures (counters raised) and bans decided, per hour and service,
    /// for the picture of the daily report (see `report::day`): a ban
    /// counts for the counter the entry raised or reset last, else its set.
    fn count_for_report(&mut self, effect: &Effect) {
        match effect {
            Effect::CounterRaise { counter, .. } => {
                self.batch.count_hour(self.now_us, counter, 1, 0);
            }
            Effect::NftBan { set, .. } | Effect::IpsetBan { set, .. } => {
                let service = self.counters.last().map_or(set.as_str(), |(c, _)| c);
                self.batch.count_hour(self.now_us, service, 0, 1);
            }
            _ => {}
        }
    }

    fn ban(&mut self, kind: BanKind, set: String, ip: &Value, seconds: Option<i64>, rule: &str) {
        let ip_text = match ip {
            Value::Str(s) => s.clone(),
            other => crate::python::format::render_plain(other),
        };
        // Bans follow the engine clock, so a ban decided while catching up
        // ends when it would have.
        let end_us = seconds.map(|s| self.now_us.saturating_add(s.saturating_mul(1_000_000)));
        self.batch.outbox(
            kind.as_str(),
            crate::host::ban_payload(&set, &ip_text, end_us, rule),
            DUE_NOW,
        );
        // The ban step already refuses what is not an address; the check
        // stays so that nothing else ever records one.
        if crate::host::parse_ip(&ip_text).is_ok() {
            self.batch.ban(BanRecord {
                kind,
                set,
                ip: ip_text,
                end_us,
                rule: rule.to_owned(),
            });
        }
        self.queued += 1;
    }
}

/// Signals, as flags the loop looks at between entries.
struct Signals {
    term: Arc<AtomicBool>,
    hup: Arc<AtomicBool>,
}

impl Signals {
    fn register() -> std::io::Result<Signals> {
        let term = Arc::new(AtomicBool::new(false));
        let hup = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&term))?;
        signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&term))?;
        signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&hup))?;
        Ok(Signals { term, hup })
    }
}

fn notify(pairs: &[(&str, String)]) {
    let _ = systemd::daemon::notify(pairs.iter());
}
