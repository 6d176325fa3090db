//! The executor: a thread that carries out the effects queued in the
//! outbox, with retries, so that the rules never wait on the outside world.
//!
//! - At start, the bans lane sets up the firewall sets the rules ban into
//!   (`host::firewall`, unless `nftBan.setup`/`ipsetBan.setup` are off),
//!   then every unexpired ban of the store is applied again, with its
//!   remaining time (expired records are dropped): what Pyruse's separate
//!   boot unit did. After a ban fails, the set-up runs again before the
//!   retry (a `flush ruleset` of the firewall's own reload removes the
//!   table), and when it succeeds the recorded bans are applied again; a
//!   reload of the rules (SIGHUP) does both, for the sets they name.
//! - What the firewall made of each ban is recorded beside it (applied, or
//!   failed and why), so that a ban it refused is never listed as in force.
//! - Each [`Lane`] (bans, journal lines, mail) has a thread and a store
//!   connection of its own, so bans never wait behind a mail to a dead
//!   relay, a report, or another lane's retries. Mail and journal lanes are
//!   bounded; bans are never dropped.
//! - Due items are taken oldest first; nft bans of a burst go to `nft` in
//!   one transaction.
//! - A failure that may pass (relay down, command missing) is retried with
//!   exponential backoff, from 5 s up to 1 h; one that cannot (an address
//!   that is not an address) is dropped. Each cause is logged once.

use super::log::{Level, Logger};
use crate::config::Config;
use crate::effects::BanSet;
use crate::host::{self, firewall, HostError, NftElement};
use crate::state::store::{BanKind, BanOutcome, OutboxItem, Settled, Store};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A family of effects with a worker of its own: a slow or failing lane
/// (a mail relay that drops packets, a report) never holds another, and
/// bans wait on nothing but `nft`/`ipset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// `nft` and `ipset` bans; restores the recorded bans at start.
    Bans,
    /// Lines for the journal.
    Log,
    /// Mails and daily reports.
    Mail,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Bans, Lane::Log, Lane::Mail];

    /// The outbox kinds this lane carries out.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Lane::Bans => &["nft", "ipset"],
            Lane::Log => &["log"],
            Lane::Mail => &["email", "report"],
        }
    }

    /// At most this many items wait in the lane; past it the oldest are
    /// dropped (and a warning logged). Bans are never dropped.
    pub fn cap(self) -> Option<usize> {
        match self {
            Lane::Bans => None,
            Lane::Log => Some(LOG_CAP),
            Lane::Mail => Some(MAIL_CAP),
        }
    }

    /// Due items taken at a time: bans of a burst go to `nft` together;
    /// a mail at a time, so that a stop or a failed relay is noticed
    /// between two sends.
    fn batch(self) -> usize {
        match self {
            // One nft transaction and one store transaction per round.
            Lane::Bans => 10_000,
            Lane::Log => 256,
            Lane::Mail => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Lane::Bans => "bans",
            Lane::Log => "log",
            Lane::Mail => "mail",
        }
    }
}

/// How long a lane goes on carrying out due items once asked to stop
/// (plus the attempt in progress: at most the SMTP timeout for mail).
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// Journal lines waiting at most (the journal is local: a backlog this
/// long means it is gone).
pub const LOG_CAP: usize = 10_000;
/// Mails waiting at most, while the relay is down.
pub const MAIL_CAP: usize = 1_000;

struct Worker {
    wake: SyncSender<()>,
    handle: Option<std::thread::JoinHandle<()>>,
}

/// The workers that carry out queued effects, one thread per [`Lane`].
pub struct Executor {
    workers: Vec<Worker>,
    stop: Arc<AtomicBool>,
    /// Sets for the bans lane to set up, with the recorded bans again.
    set_up: SetUpRequest,
}

/// The sets of reloaded rules, for the bans lane to set up.
type SetUpRequest = Arc<std::sync::Mutex<Option<Vec<BanSet>>>>;

impl Executor {
    /// Set the firewall up again for these sets (reloaded rules) and
    /// apply the recorded bans again (what a reload of the firewall's own
    /// rules, with its `flush ruleset`, removed).
    pub fn set_up_again(&self, sets: Vec<BanSet>) {
        if let Ok(mut pending) = self.set_up.lock() {
            *pending = Some(sets);
        }
        self.wake();
    }

    /// Something was queued: look at the outbox now.
    pub fn wake(&self) {
        for w in &self.workers {
            let _ = w.wake.try_send(());
        }
    }

    /// Finish the current items and stop.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake();
        for w in &mut self.workers {
            if let Some(h) = w.handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// Start the workers; `sets`: the firewall sets the rules ban into.
pub fn start(state_dir: PathBuf, config: Config, sets: Vec<BanSet>) -> Executor {
    let stop = Arc::new(AtomicBool::new(false));
    let set_up: SetUpRequest = Arc::default();
    let workers = Lane::ALL
        .iter()
        .map(|&lane| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let (dir, config, flag) = (state_dir.clone(), config.clone(), Arc::clone(&stop));
            let sets = if lane == Lane::Bans {
                sets.clone()
            } else {
                Vec::new()
            };
            let request = Arc::clone(&set_up);
            let handle = std::thread::Builder::new()
                .name(format!("pyrused-{}", lane.name()))
                .spawn(move || run(lane, dir, config, (sets, request), rx, flag))
                .ok();
            Worker { wake: tx, handle }
        })
        .collect();
    Executor {
        workers,
        stop,
        set_up,
    }
}

/// Delay before retry number `attempts` (1-based).
pub fn backoff(attempts: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(12));
    Duration::from_secs(secs.min(3600))
}

fn remaining_seconds(end_us: Option<i64>, now_us: i64) -> Result<Option<u64>, ()> {
    match end_us {
        None => Ok(None),
        Some(end) if end > now_us => Ok(Some(((end - now_us) as u64).div_ceil(1_000_000))),
        Some(_) => Err(()),
    }
}

fn run(
    lane: Lane,
    state_dir: PathBuf,
    config: Config,
    (sets, request): (Vec<BanSet>, SetUpRequest),
    rx: Receiver<()>,
    stop: Arc<AtomicBool>,
) {
    let mut log = Logger::new();
    let mut store = match Store::open(&state_dir) {
        Ok(s) => s,
        Err(e) => {
            log.log(
                Level::Err,
                &format!("the {} worker cannot open the state: {e}", lane.name()),
            );
            return;
        }
    };
    if lane == Lane::Bans {
        set_up_firewall(&config, &sets, &mut log);
        restore_bans(&mut store, &config, &mut log);
    }
    let mut worker = LaneWorker {
        lane,
        store,
        config,
        log,
        paused_until: None,
        sets,
        set_up_again: false,
        request,
    };
    // What is due when asked to stop is still carried out (with
    // `--exit-at-end`, the effects of the last entries) for up to
    // `STOP_GRACE`; what is left, or waits for a retry, stays queued for the
    // next start.
    let mut stop_seen: Option<Instant> = None;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        if stopping {
            let since = *stop_seen.get_or_insert_with(Instant::now);
            if since.elapsed() >= STOP_GRACE {
                break;
            }
        }
        if let Some(left) = worker.paused() {
            if stopping {
                break;
            }
            let _ = rx.recv_timeout(left.min(Duration::from_secs(2)));
            continue;
        }
        let busy = worker.round();
        if stopping && !busy {
            break;
        }
        if !busy {
            let _ = rx.recv_timeout(Duration::from_secs(2));
        }
    }
    for (cause, n) in worker.log.repeated() {
        worker
            .log
            .log(Level::Notice, &format!("{cause}: {n} times in all"));
    }
}

/// The thread of one lane: its own connection to the store and its own log.
struct LaneWorker {
    lane: Lane,
    store: Store,
    config: Config,
    log: Logger,
    /// A mail relay that failed is left alone until its backoff is over,
    /// instead of being tried again for every queued mail.
    paused_until: Option<Instant>,
    /// The firewall sets the rules ban into (bans lane).
    sets: Vec<BanSet>,
    /// A ban failed: set the firewall up again before the next round.
    set_up_again: bool,
    /// Sets of reloaded rules to set up (bans lane).
    request: SetUpRequest,
}

impl LaneWorker {
    /// How long the lane still waits after a failure, if it does.
    fn paused(&mut self) -> Option<Duration> {
        let left = self.paused_until?.saturating_duration_since(Instant::now());
        if left.is_zero() {
            self.paused_until = None;
            return None;
        }
        Some(left)
    }

    /// Carry out what is due; returns whether there was anything.
    fn round(&mut self) -> bool {
        self.trim();
        if self.lane == Lane::Bans {
            if let Some(sets) = self.request.lock().ok().and_then(|mut r| r.take()) {
                self.sets = sets;
                set_up_firewall(&self.config, &self.sets, &mut self.log);
                restore_bans(&mut self.store, &self.config, &mut self.log);
            }
        }
        let now = crate::vm::wall_clock_us();
        let due = match self
            .store
            .outbox_due(now, self.lane.kinds(), self.lane.batch())
        {
            Ok(d) => d,
            Err(e) => {
                self.log.once(
                    Level::Err,
                    "outbox: read",
                    &format!("cannot read the outbox: {e}"),
                );
                Vec::new()
            }
        };
        let busy = !due.is_empty();
        if busy && std::mem::take(&mut self.set_up_again) {
            self.set_up_and_restore();
        }
        let failed = carry_out(&mut self.store, &self.config, &mut self.log, due, now);
        if self.lane == Lane::Bans && failed.is_some() {
            self.set_up_again = true;
        }
        if self.lane == Lane::Mail {
            self.paused_until = failed.map(|attempts| Instant::now() + backoff(attempts));
        }
        busy
    }

    /// After a failed ban: the set-up again, and when some part of it is
    /// ready, the recorded bans again (what a flushed ruleset lost).
    fn set_up_and_restore(&mut self) {
        if set_up_firewall(&self.config, &self.sets, &mut self.log) {
            restore_bans(&mut self.store, &self.config, &mut self.log);
        }
    }

    /// Drop the oldest items of a lane past its cap.
    fn trim(&mut self) {
        let Some(cap) = self.lane.cap() else {
            return;
        };
        let name = self.lane.name();
        match self.store.outbox_trim(self.lane.kinds(), cap) {
            Ok(0) => {}
            Ok(n) => self.log.once(
                Level::Warning,
                &format!("outbox: {name} full"),
                &format!("more than {cap} {name} effects waiting: dropped the {n} oldest"),
            ),
            Err(e) => self.log.once(
                Level::Err,
                "outbox: trim",
                &format!("cannot trim the outbox: {e}"),
            ),
        }
    }
}

/// Set up the sets the rules ban into, and what drops their members
/// (`host::firewall`), for each firewall whose set-up is on; each outcome
/// logged, a failure once per cause. Whether some part is ready.
fn set_up_firewall(config: &Config, sets: &[BanSet], log: &mut Logger) -> bool {
    let mut outcomes = Vec::new();
    if config.nft_setup {
        let done = firewall::nft_setup(config, sets);
        outcomes.extend(done.into_iter().map(|o| (o, "nftBan.setup")));
    }
    if config.ipset_setup {
        let done = firewall::ipset_setup(config, sets);
        outcomes.extend(done.into_iter().map(|o| (o, "ipsetBan.setup")));
    }
    let mut ready = false;
    for (o, key) in outcomes {
        match o {
            firewall::Outcome::Done(m) => {
                ready = true;
                log.log(Level::Info, &m);
            }
            firewall::Outcome::Left(m) => log.once(Level::Notice, &m, &m),
            firewall::Outcome::Failed { cause, message: m } => log.once(
                Level::Err,
                &cause,
                &format!(
                    "{m}; bans into it are recorded as failed and retried \
                     (`set {key} = false` leaves the firewall to you)"
                ),
            ),
        }
    }
    ready
}

/// Record what the firewall made of bans; a failure to record is logged.
fn record_outcomes(store: &mut Store, log: &mut Logger, outcomes: &[BanOutcome]) {
    if let Err(e) = store.ban_outcomes(outcomes) {
        log.once(
            Level::Err,
            "bans: record",
            &format!("cannot record the outcome of bans: {e}"),
        );
    }
}

/// What the firewall made of a recorded ban, to record.
fn outcome(b: &crate::state::store::BanRecord, r: &Result<(), HostError>) -> BanOutcome {
    BanOutcome {
        kind: b.kind,
        set: b.set.clone(),
        ip: b.ip.clone(),
        result: r.clone().map_err(|e| e.message),
    }
}

/// The outcome of a ban restored at start; a failure is logged (once per
/// cause).
fn restored(
    log: &mut Logger,
    b: &crate::state::store::BanRecord,
    r: &Result<(), HostError>,
) -> BanOutcome {
    if let Err(e) = r {
        log.once(
            Level::Err,
            &e.cause,
            &format!("restoring bans: {}", e.message),
        );
    }
    outcome(b, r)
}

fn restore_bans(store: &mut Store, config: &Config, log: &mut Logger) {
    let now = crate::vm::wall_clock_us();
    if let Err(e) = store.drop_expired_bans(now) {
        log.log(Level::Err, &format!("cannot drop expired bans: {e}"));
    }
    let bans = match store.bans() {
        Ok(b) => b,
        Err(e) => {
            log.log(Level::Err, &format!("cannot read the bans to restore: {e}"));
            return;
        }
    };
    let mut nft = Vec::new();
    let mut nft_bans = Vec::new();
    let mut outcomes = Vec::new();
    for b in &bans {
        let Ok(ip) = host::parse_ip(&b.ip) else {
            continue;
        };
        let Ok(seconds) = remaining_seconds(b.end_us, now) else {
            continue;
        };
        match b.kind {
            BanKind::Nft => {
                nft.push(NftElement {
                    set: b.set.clone(),
                    ip,
                    seconds,
                });
                nft_bans.push(b);
            }
            BanKind::Ipset => {
                let r = host::ipset_apply(config, &b.set, ip, seconds);
                outcomes.push(restored(log, b, &r));
            }
        }
    }
    for (b, r) in nft_bans.iter().zip(nft_apply_by_set(config, &nft)) {
        outcomes.push(restored(log, b, &r));
    }
    record_outcomes(store, log, &outcomes);
    let restored = outcomes.iter().filter(|o| o.result.is_ok()).count();
    if restored > 0 {
        log.log(Level::Info, &format!("restored {restored} bans"));
    }
}

/// Log the outcome of an item and say what becomes of it. When it failed
/// in a way that may pass (it will be retried), `failed` gets its attempt
/// number, unless an earlier item of the round already set it.
fn settle(
    log: &mut Logger,
    item: &OutboxItem,
    result: Result<(), HostError>,
    now: i64,
    failed: &mut Option<u32>,
) -> Settled {
    match result {
        Ok(()) => Settled::Done(item.id),
        Err(e) if e.retry => {
            log.once(Level::Err, &e.cause, &format!("{} (will retry)", e.message));
            failed.get_or_insert(item.attempts + 1);
            Settled::Retry {
                id: item.id,
                next_at_us: now + backoff(item.attempts + 1).as_micros() as i64,
                error: e.message,
            }
        }
        Err(e) => {
            log.once(Level::Err, &e.cause, &format!("{} (given up)", e.message));
            Settled::Done(item.id)
        }
    }
}

fn text<'a>(item: &'a OutboxItem, key: &str) -> &'a str {
    item.payload.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// Carry out due items; returns the attempt number of an item that failed
/// in a way that may pass.
fn carry_out(
    store: &mut Store,
    config: &Config,
    log: &mut Logger,
    due: Vec<OutboxItem>,
    now: i64,
) -> Option<u32> {
    let mut failed = None;
    let mut settled = Vec::with_capacity(due.len());
    let mut bans = Vec::new();
    // nft bans of this round go in one transaction.
    let mut nft_items = Vec::new();
    let mut nft_elements = Vec::new();
    for item in due {
        let outcome = match item.kind.as_str() {
            "nft" | "ipset" => match plan_ban(config, &item, now) {
                BanPlan::Done(r) => r,
                BanPlan::Ipset(r) => {
                    bans.push(ban_outcome(&item, &r));
                    r
                }
                BanPlan::Nft(element) => {
                    nft_elements.push(element);
                    nft_items.push(item);
                    continue;
                }
            },
            _ => deliver(config, &item),
        };
        settled.push(settle(log, &item, outcome, now, &mut failed));
    }
    if !nft_items.is_empty() {
        let results = nft_apply_by_set(config, &nft_elements);
        for (item, r) in nft_items.iter().zip(results) {
            bans.push(ban_outcome(item, &r));
            settled.push(settle(log, item, r, now, &mut failed));
        }
    }
    if let Err(e) = store.outbox_settle_bans(&settled, &bans) {
        log.once(
            Level::Err,
            "outbox: write",
            &format!("cannot update the outbox: {e}"),
        );
    }
    failed
}

/// Apply nft bans in one transaction; when it fails and they go to
/// several sets, each set in a transaction of its own, so that a set that
/// is missing or refuses them holds back no other. The outcome of each.
fn nft_apply_by_set(config: &Config, elements: &[NftElement]) -> Vec<Result<(), HostError>> {
    let all = host::nft_apply(config, elements);
    let mut sets: Vec<&str> = elements.iter().map(|e| e.set.as_str()).collect();
    sets.sort_unstable();
    sets.dedup();
    if all.is_ok() || sets.len() < 2 {
        return vec![all; elements.len()];
    }
    let mut results = vec![Ok(()); elements.len()];
    for set in sets {
        let (at, of_set): (Vec<usize>, Vec<NftElement>) = elements
            .iter()
            .enumerate()
            .filter(|(_, e)| e.set == set)
            .map(|(i, e)| (i, e.clone()))
            .unzip();
        let r = host::nft_apply(config, &of_set);
        for i in at {
            results[i] = r.clone();
        }
    }
    results
}

/// What the firewall made of the ban of an outbox item, to record.
fn ban_outcome(item: &OutboxItem, r: &Result<(), HostError>) -> BanOutcome {
    BanOutcome {
        kind: if item.kind == "ipset" {
            BanKind::Ipset
        } else {
            BanKind::Nft
        },
        set: text(item, "set").to_owned(),
        ip: text(item, "ip").to_owned(),
        result: r.clone().map_err(|e| e.message),
    }
}

/// What becomes of a due ban: an outcome now with nothing to record (no
/// address, or already over), the outcome of an ipset ban, or an element
/// of the round's nft transaction.
enum BanPlan {
    Done(Result<(), HostError>),
    Ipset(Result<(), HostError>),
    Nft(NftElement),
}

/// An ipset ban is applied at once; an nft ban waits for the round's
/// transaction; a ban already over, or of no address, is settled.
fn plan_ban(config: &Config, item: &OutboxItem, now: i64) -> BanPlan {
    let ip = match host::parse_ip(text(item, "ip")) {
        Ok(ip) => ip,
        Err(mut e) => {
            e.message = format!("{}: {}", text(item, "rule"), e.message);
            return BanPlan::Done(Err(e));
        }
    };
    let end = item.payload.get("end_us").and_then(|v| v.as_i64());
    let Ok(seconds) = remaining_seconds(end, now) else {
        // The ban ended before it could be applied.
        return BanPlan::Done(Ok(()));
    };
    let set = text(item, "set").to_owned();
    if item.kind == "nft" {
        BanPlan::Nft(NftElement { set, ip, seconds })
    } else {
        BanPlan::Ipset(host::ipset_apply(config, &set, ip, seconds))
    }
}

/// Carry out a journal line, a mail or a report.
fn deliver(config: &Config, item: &OutboxItem) -> Result<(), HostError> {
    match item.kind.as_str() {
        "log" => host::journal_log(text(item, "level"), text(item, "message")),
        "email" => {
            crate::host::mail::send_text(config, text(item, "subject"), text(item, "message"))
        }
        "report" => {
            let report = crate::report::Report {
                text: text(item, "text").to_owned(),
                html: text(item, "html").to_owned(),
            };
            crate::host::mail::send_report(config, text(item, "subject"), &report)
        }
        other => Err(HostError {
            cause: format!("outbox: {other}"),
            message: format!("unknown queued effect `{other}` dropped"),
            retry: false,
        }),
    }
}
