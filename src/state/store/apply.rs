//! Writing a batch of state changes, with or without a cursor.

use super::batch::Batch;
use super::encoding::{encode_value, ident_value, to_json};
use super::error::{sq, StoreError};
use super::Store;
use crate::value::Value;
use rusqlite::{params, TransactionBehavior};
use serde_json::Value as J;

impl Store {
    /// Write the cursor of `source` and the batch's changes in one
    /// transaction: either all of it is on disk when this returns `Ok`, or
    /// none of it is.
    pub fn commit(&mut self, source: &str, cursor: &str, batch: &Batch) -> Result<(), StoreError> {
        self.write(Some((source, cursor, None)), batch)
    }

    /// [`commit`](Self::commit), with the record of journal sequences read
    /// (`journal::sd::Position::seen_text`).
    pub fn commit_position(
        &mut self,
        source: &str,
        cursor: &str,
        seen: Option<&str>,
        batch: &Batch,
    ) -> Result<(), StoreError> {
        self.write(Some((source, cursor, seen)), batch)
    }

    /// Write a batch without moving any cursor (changes that no journal
    /// entry caused, e.g. outbox items queued by a timer).
    pub fn apply(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.write(None, batch)
    }

    fn write(
        &mut self,
        cursor: Option<(&str, &str, Option<&str>)>,
        b: &Batch,
    ) -> Result<(), StoreError> {
        let p = &self.path;
        let what = "cannot commit a batch";
        let tx = sq(
            p,
            what,
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        if let Some((source, cursor, seen)) = cursor {
            sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT INTO cursor (source, cursor, seen) VALUES (?1, ?2, ?3)
                     ON CONFLICT (source) DO UPDATE
                     SET cursor = excluded.cursor, seen = excluded.seen",
                )
                .and_then(|mut st| st.execute(params![source, cursor, seen])),
            )?;
        }
        {
            let mut put = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO counter
                     (category, ident, key, ticks, grace_until, expires)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                ),
            )?;
            let mut del = sq(
                p,
                what,
                tx.prepare_cached("DELETE FROM counter WHERE category = ?1 AND ident = ?2"),
            )?;
            for (cat, keys) in &b.counters {
                for (key, entry) in keys {
                    let ident = ident_value(key);
                    match entry {
                        Some(e) => {
                            let ticks = serde_json::to_string(&e.ticks)
                                .expect("a list of integers is JSON");
                            let expires = e
                                .ticks
                                .iter()
                                .copied()
                                .chain(e.grace_until)
                                .max()
                                .unwrap_or(i64::MIN);
                            sq(
                                p,
                                what,
                                put.execute(params![
                                    cat,
                                    ident,
                                    encode_value(key),
                                    ticks,
                                    e.grace_until,
                                    expires
                                ]),
                            )?;
                        }
                        None => {
                            sq(p, what, del.execute(params![cat, ident]))?;
                        }
                    }
                }
            }
        }
        if !b.mappings.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT INTO mapping
                     (saddr, sport, addr, port, daddr, dport, stamp, shift, dead_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                ),
            )?;
            for m in &b.mappings {
                let opt = |v: &Option<Value>| v.as_ref().map(encode_value);
                sq(
                    p,
                    what,
                    st.execute(params![
                        encode_value(&m.saddr),
                        opt(&m.sport),
                        opt(&m.keys[0]),
                        opt(&m.keys[1]),
                        opt(&m.keys[2]),
                        opt(&m.keys[3]),
                        m.stamp,
                        i64::from(m.shift),
                        mapping_dead_at(m.stamp, m.shift)
                    ]),
                )?;
            }
        }
        if !b.sessions.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO session (name, key, fields, until)
                     VALUES (?1, ?2, ?3, ?4)",
                ),
            )?;
            for (name, key, r) in &b.sessions {
                let key = J::Array(key.iter().map(to_json).collect()).to_string();
                let fields = J::Array(
                    r.fields
                        .iter()
                        .map(|(n, v)| J::Array(vec![J::String(n.clone()), to_json(v)]))
                        .collect(),
                )
                .to_string();
                sq(p, what, st.execute(params![name, key, fields, r.until]))?;
            }
        }
        if let Some(now) = b.sweep_at {
            sq(
                p,
                what,
                tx.prepare_cached("DELETE FROM session WHERE until <= ?1")
                    .and_then(|mut st| st.execute([now])),
            )?;
            sq(
                p,
                what,
                tx.prepare_cached("DELETE FROM counter WHERE expires <= ?1")
                    .and_then(|mut st| st.execute([now])),
            )?;
            sq(
                p,
                what,
                tx.prepare_cached("DELETE FROM mapping WHERE dead_at <= ?1")
                    .and_then(|mut st| st.execute([now.div_euclid(1_000_000)])),
            )?;
        }
        if !b.bans.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO ban (kind, name, ip, end_us, rule)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                ),
            )?;
            for r in b.bans.values() {
                sq(
                    p,
                    what,
                    st.execute(params![r.kind.as_str(), r.set, r.ip, r.end_us, r.rule]),
                )?;
            }
        }
        if !b.reports.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT INTO report (level, message, details, time_us)
                     VALUES (?1, ?2, ?3, ?4)",
                ),
            )?;
            for r in &b.reports {
                sq(
                    p,
                    what,
                    st.execute(params![r.level, r.message, r.details, r.time_us]),
                )?;
            }
        }
        if !b.outbox.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT INTO outbox (kind, payload, next_at_us) VALUES (?1, ?2, ?3)",
                ),
            )?;
            for o in &b.outbox {
                sq(
                    p,
                    what,
                    st.execute(params![o.kind, o.payload.to_string(), o.next_at_us]),
                )?;
            }
        }
        if let Some((until, sent_at)) = b.report_sent {
            sq(
                p,
                what,
                tx.execute("DELETE FROM report WHERE time_us <= ?1", [until]),
            )?;
            sq(
                p,
                what,
                tx.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_report_sent', ?1)",
                    [sent_at],
                ),
            )?;
        }
        sq(p, what, tx.commit())
    }

    /// Delete the counters of categories that are not in `keep` (rules
    /// renamed or removed); returns the number of keys deleted.
    pub fn retain_counter_categories(&mut self, keep: &[&str]) -> Result<usize, StoreError> {
        let p = &self.path;
        let what = "cannot delete old counters";
        let tx = sq(
            p,
            what,
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        let cats: Vec<String> = {
            let mut st = sq(p, what, tx.prepare("SELECT DISTINCT category FROM counter"))?;
            let rows = sq(p, what, st.query_map([], |r| r.get(0)))?;
            sq(p, what, rows.collect())?
        };
        let mut n = 0;
        for c in cats.iter().filter(|c| !keep.contains(&c.as_str())) {
            n += sq(
                p,
                what,
                tx.execute("DELETE FROM counter WHERE category = ?1", [c]),
            )?;
        }
        sq(p, what, tx.commit())?;
        Ok(n)
    }
}

/// The first second (engine clock) at which a mapping is dead:
/// `(now_s >> shift) <= stamp` ⇔ `now_s < (stamp + 1) << shift`.
pub(super) fn mapping_dead_at(stamp: i64, shift: u32) -> i64 {
    let v = (i128::from(stamp) + 1) << shift.min(63);
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
