//! The state changes of a batch of entries.

use super::records::{BanKind, BanRecord, NewOutbox, ReportRecord};
use crate::state::{CounterEntry, Mapping, Remembered};
use crate::value::Value;
use serde_json::Value as J;
use std::collections::HashMap;

/// The state changes of a batch of entries, written by one
/// [`Store::commit`](super::Store::commit). A counter key touched several times keeps only its
/// last state, so a commit costs O(changes), not O(state).
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// category → key → new entry (`None`: delete).
    pub(super) counters: HashMap<String, HashMap<Value, Option<CounterEntry>>>,
    pub(super) mappings: Vec<Mapping>,
    /// Sessions kept by `remember` (the last one per key wins).
    pub(super) sessions: Vec<(String, Vec<Value>, Remembered)>,
    pub(super) sweep_at: Option<i64>,
    pub(super) bans: HashMap<(BanKind, String, String), BanRecord>,
    pub(super) reports: Vec<ReportRecord>,
    /// Failures and bans per (hour, service), added to the stored ones.
    pub(super) hours: Vec<(i64, String, u64, u64)>,
    pub(super) outbox: Vec<NewOutbox>,
    /// A report was sent (or queued): clear its records, start a period.
    pub(super) report_sent: Option<(i64, i64)>,
    /// The daemon's status record (JSON text), for `pyrusec status`.
    pub(super) status: Option<String>,
    /// Commands queued by `pyrusec` that this batch carries out.
    pub(super) done_commands: Vec<i64>,
    /// Positions of other inputs (plain log files): source → position.
    pub(super) positions: Vec<(String, String)>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Record the new state of a counter key (an empty entry deletes it).
    pub fn set_counter(&mut self, category: &str, key: &Value, entry: &CounterEntry) {
        let entry = if entry.ticks.is_empty() && entry.grace_until.is_none() {
            None
        } else {
            Some(entry.clone())
        };
        self.put_counter(category, key, entry);
    }

    /// Record that a counter key is gone (reset without grace).
    pub fn delete_counter(&mut self, category: &str, key: &Value) {
        self.put_counter(category, key, None);
    }

    fn put_counter(&mut self, category: &str, key: &Value, entry: Option<CounterEntry>) {
        let cat = match self.counters.get_mut(category) {
            Some(c) => c,
            None => self.counters.entry(category.to_owned()).or_default(),
        };
        match cat.get_mut(key) {
            Some(slot) => *slot = entry,
            None => {
                cat.insert(key.clone(), entry);
            }
        }
    }

    /// Record a captured DNAT mapping (kept in capture order).
    pub fn add_mapping(&mut self, m: Mapping) {
        self.mappings.push(m);
    }

    /// Record a session kept by `remember`.
    pub fn set_session(&mut self, name: String, key: Vec<Value>, r: Remembered) {
        self.sessions.push((name, key, r));
    }

    /// At commit, delete the counter keys and DNAT mappings that are dead
    /// at `now_us` (engine clock). Pass the time of the batch's last entry
    /// (or the earliest time still to be processed if clocks go back).
    /// Several calls keep the latest time.
    pub fn sweep(&mut self, now_us: i64) {
        self.sweep_at = Some(self.sweep_at.map_or(now_us, |t| t.max(now_us)));
    }

    /// Record a ban; it replaces an earlier one with the same kind, set, ip.
    pub fn ban(&mut self, rec: BanRecord) {
        self.bans
            .insert((rec.kind, rec.set.clone(), rec.ip.clone()), rec);
    }

    /// Add a record for the daily report.
    pub fn report(&mut self, rec: ReportRecord) {
        self.reports.push(rec);
    }

    /// Count failures and bans of `service` in the hour of `time_us`, for
    /// the picture of the daily report. Few services a batch: a short list.
    pub fn count_hour(&mut self, time_us: i64, service: &str, failures: u64, bans: u64) {
        let hour = crate::report::day::hour_of(time_us);
        match self
            .hours
            .iter_mut()
            .find(|(h, s, _, _)| *h == hour && s == service)
        {
            Some((_, _, f, b)) => {
                *f += failures;
                *b += bans;
            }
            None => self.hours.push((hour, service.to_owned(), failures, bans)),
        }
    }

    /// Queue an effect for the outbox, first due at `next_at_us`.
    pub fn outbox(&mut self, kind: &str, payload: J, next_at_us: i64) {
        self.outbox.push(NewOutbox {
            kind: kind.to_owned(),
            payload,
            next_at_us,
        });
    }

    /// In the same transaction as the rest of the batch: the records up to
    /// `until_us` went into a report sent (or queued) at `sent_at_us`.
    pub fn report_sent(&mut self, until_us: i64, sent_at_us: i64) {
        self.report_sent = Some((until_us, sent_at_us));
    }

    /// Write the daemon's status record with the batch.
    pub fn set_status(&mut self, record: String) {
        self.status = Some(record);
    }

    /// The batch carries out the queued command `id`: it is deleted with it.
    pub fn command_done(&mut self, id: i64) {
        self.done_commands.push(id);
    }

    /// The position of another input (a plain log file) read up to the
    /// batch's last entry; written like a cursor, in the same transaction.
    pub fn set_position(&mut self, source: &str, position: &str) {
        match self.positions.iter_mut().find(|(s, _)| s == source) {
            Some((_, p)) => {
                p.clear();
                p.push_str(position);
            }
            None => self
                .positions
                .push((source.to_owned(), position.to_owned())),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.report_sent.is_none()
            && self.status.is_none()
            && self.done_commands.is_empty()
            && self.positions.is_empty()
            && self.counters.values().all(HashMap::is_empty)
            && self.mappings.is_empty()
            && self.sessions.is_empty()
            && self.sweep_at.is_none()
            && self.bans.is_empty()
            && self.reports.is_empty()
            && self.hours.is_empty()
            && self.outbox.is_empty()
    }

    /// Forget everything (after a successful commit), keeping allocations.
    pub fn clear(&mut self) {
        self.counters.values_mut().for_each(HashMap::clear);
        self.mappings.clear();
        self.sessions.clear();
        self.sweep_at = None;
        self.bans.clear();
        self.reports.clear();
        self.hours.clear();
        self.outbox.clear();
        self.report_sent = None;
        self.status = None;
        self.done_commands.clear();
        self.positions.clear();
    }
}
