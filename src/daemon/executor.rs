//! The executor: a thread that carries out the effects queued in the
//! outbox, with retries, so that the rules never wait on the outside world.
//!
//! - At start, every unexpired ban of the store is applied again, with its
//!   remaining time (expired records are dropped): what Pyruse's separate
//!   boot unit did.
//! - Due items are taken oldest first; nft bans of a burst go to `nft` in
//!   one transaction.
//! - A failure that may pass (relay down, command missing) is retried with
//!   exponential backoff, from 5 s up to 1 h; one that cannot (an address
//!   that is not an address) is dropped. Each cause is logged once.

use super::log::{Level, Logger};
use crate::config::Config;
use crate::effects::host::{self, HostError, NftElement};
use crate::state::store::{BanKind, OutboxItem, Store};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

pub struct Executor {
    wake: SyncSender<()>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Executor {
    /// Something was queued: look at the outbox now.
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }

    /// Finish the current item and stop.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub fn start(state_dir: PathBuf, config: Config) -> Executor {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let handle = std::thread::spawn(move || run(state_dir, config, rx, flag));
    Executor {
        wake: tx,
        stop,
        handle: Some(handle),
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

fn run(state_dir: PathBuf, config: Config, rx: Receiver<()>, stop: Arc<AtomicBool>) {
    let mut log = Logger::new();
    let mut store = match Store::open(&state_dir) {
        Ok(s) => s,
        Err(e) => {
            log.log(
                Level::Err,
                &format!("the executor cannot open the state: {e}"),
            );
            return;
        }
    };
    restore_bans(&mut store, &config, &mut log);
    // What is due when asked to stop is still carried out (with
    // `--exit-at-end`, the effects of the last entries); what waits for a
    // retry stays queued for the next start.
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let now = crate::vm::wall_clock_us();
        let due = match store.outbox_due(now, 64) {
            Ok(d) => d,
            Err(e) => {
                log.once(
                    Level::Err,
                    "outbox: read",
                    &format!("cannot read the outbox: {e}"),
                );
                Vec::new()
            }
        };
        let busy = !due.is_empty();
        carry_out(&mut store, &config, &mut log, due, now);
        if stopping && !busy {
            break;
        }
        if !busy {
            let _ = rx.recv_timeout(Duration::from_secs(2));
        }
    }
    for (cause, n) in log.repeated() {
        log.log(Level::Notice, &format!("{cause}: {n} times in all"));
    }
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
    let mut restored = 0usize;
    for b in &bans {
        let Ok(ip) = host::parse_ip(&b.ip) else {
            continue;
        };
        let Ok(seconds) = remaining_seconds(b.end_us, now) else {
            continue;
        };
        match b.kind {
            BanKind::Nft => nft.push(NftElement {
                set: b.set.clone(),
                ip,
                seconds,
            }),
            BanKind::Ipset => match host::ipset_apply(config, &b.set, ip, seconds) {
                Ok(()) => restored += 1,
                Err(e) => log.once(
                    Level::Err,
                    &e.cause,
                    &format!("restoring bans: {}", e.message),
                ),
            },
        }
    }
    match host::nft_apply(config, &nft) {
        Ok(()) => restored += nft.len(),
        Err(e) => log.once(
            Level::Err,
            &e.cause,
            &format!("restoring bans: {}", e.message),
        ),
    }
    if restored > 0 {
        log.log(Level::Info, &format!("restored {restored} bans"));
    }
}

fn settle(
    store: &mut Store,
    log: &mut Logger,
    item: &OutboxItem,
    result: Result<(), HostError>,
    now: i64,
) {
    let saved = match result {
        Ok(()) => store.outbox_done(item.id),
        Err(e) if e.retry => {
            log.once(Level::Err, &e.cause, &format!("{} (will retry)", e.message));
            let next = now + backoff(item.attempts + 1).as_micros() as i64;
            store.outbox_retry(item.id, next, &e.message)
        }
        Err(e) => {
            log.once(Level::Err, &e.cause, &format!("{} (given up)", e.message));
            store.outbox_done(item.id)
        }
    };
    if let Err(e) = saved {
        log.once(
            Level::Err,
            "outbox: write",
            &format!("cannot update the outbox: {e}"),
        );
    }
}

fn text<'a>(item: &'a OutboxItem, key: &str) -> &'a str {
    item.payload.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

fn carry_out(store: &mut Store, config: &Config, log: &mut Logger, due: Vec<OutboxItem>, now: i64) {
    // nft bans of this round go in one transaction.
    let mut nft_items = Vec::new();
    let mut nft_elements = Vec::new();
    for item in due {
        match item.kind.as_str() {
            "nft" | "ipset" => {
                let rule = text(&item, "rule").to_owned();
                let ip = match host::parse_ip(text(&item, "ip")) {
                    Ok(ip) => ip,
                    Err(mut e) => {
                        e.message = format!("{rule}: {}", e.message);
                        settle(store, log, &item, Err(e), now);
                        continue;
                    }
                };
                let end = item.payload.get("end_us").and_then(|v| v.as_i64());
                let Ok(seconds) = remaining_seconds(end, now) else {
                    // The ban ended before it could be applied.
                    settle(store, log, &item, Ok(()), now);
                    continue;
                };
                let set = text(&item, "set").to_owned();
                if item.kind == "nft" {
                    nft_elements.push(NftElement { set, ip, seconds });
                    nft_items.push(item);
                } else {
                    let r = host::ipset_apply(config, &set, ip, seconds);
                    settle(store, log, &item, r, now);
                }
            }
            "log" => {
                let r = host::journal_log(text(&item, "level"), text(&item, "message"));
                settle(store, log, &item, r, now);
            }
            "email" => {
                let r = crate::effects::mail::send_text(
                    config,
                    text(&item, "subject"),
                    text(&item, "message"),
                );
                settle(store, log, &item, r, now);
            }
            "report" => {
                let report = crate::report::Report {
                    text: text(&item, "text").to_owned(),
                    html: text(&item, "html").to_owned(),
                };
                let r = crate::effects::mail::send_report(config, text(&item, "subject"), &report);
                settle(store, log, &item, r, now);
            }
            other => {
                let e = HostError {
                    cause: format!("outbox: {other}"),
                    message: format!("unknown queued effect `{other}` dropped"),
                    retry: false,
                };
                settle(store, log, &item, Err(e), now);
            }
        }
    }
    if !nft_items.is_empty() {
        let r = host::nft_apply(config, &nft_elements);
        for item in &nft_items {
            settle(store, log, item, r.clone(), now);
        }
    }
}
