//! Writing a batch of state changes, with or without a cursor: one
//! transaction, one function per kind of change.

use super::batch::Batch;
use super::encoding::{encode_value, ident_value, session_fields_text, session_key_text};
use super::error::StoreError;
use super::query::Sql;
use super::records::{BanKind, BanRecord, NewOutbox, ReportRecord};
use super::report::mark_report_sent;
use super::Store;
use crate::state::{CounterEntry, Mapping, Remembered};
use crate::value::Value;
use rusqlite::params;
use std::collections::HashMap;

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
        self.transaction("cannot commit a batch", |sql| {
            if let Some((source, cursor, seen)) = cursor {
                write_cursor(sql, source, cursor, seen)?;
            }
            for (source, position) in &b.positions {
                write_cursor(sql, source, position, None)?;
            }
            write_counters(sql, &b.counters)?;
            write_mappings(sql, &b.mappings)?;
            write_sessions(sql, &b.sessions)?;
            if let Some(now) = b.sweep_at {
                sweep(sql, now)?;
            }
            write_bans(sql, &b.bans)?;
            write_reports(sql, &b.reports)?;
            write_hours(sql, &b.hours)?;
            write_outbox(sql, &b.outbox)?;
            if let Some((until, sent_at)) = b.report_sent {
                mark_report_sent(sql, until, sent_at)?;
            }
            super::control::write_control(sql, b.status.as_deref(), &b.done_commands)?;
            Ok(())
        })
    }

    /// Delete the counters of categories that are not in `keep` (rules
    /// renamed or removed); returns the number of keys deleted.
    pub fn retain_counter_categories(&mut self, keep: &[&str]) -> Result<usize, StoreError> {
        self.transaction("cannot delete old counters", |sql| {
            let cats: Vec<String> = sql.rows("SELECT DISTINCT category FROM counter", [], |r| {
                Ok(r.get(0)?)
            })?;
            let mut n = 0;
            for c in cats.iter().filter(|c| !keep.contains(&c.as_str())) {
                n += sql.run("DELETE FROM counter WHERE category = ?1", [c])?;
            }
            Ok(n)
        })
    }
}

fn write_cursor(
    sql: Sql<'_>,
    source: &str,
    cursor: &str,
    seen: Option<&str>,
) -> Result<(), StoreError> {
    sql.run_cached(
        "INSERT INTO cursor (source, cursor, seen) VALUES (?1, ?2, ?3)
         ON CONFLICT (source) DO UPDATE
         SET cursor = excluded.cursor, seen = excluded.seen",
        params![source, cursor, seen],
    )?;
    Ok(())
}

/// Write the new state of each counter key touched (`None`: deleted).
fn write_counters(
    sql: Sql<'_>,
    counters: &HashMap<String, HashMap<Value, Option<CounterEntry>>>,
) -> Result<(), StoreError> {
    let mut put = sql.cached(
        "INSERT OR REPLACE INTO counter
         (category, ident, key, ticks, grace_until, expires)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut del = sql.cached("DELETE FROM counter WHERE category = ?1 AND ident = ?2")?;
    for (cat, keys) in counters {
        for (key, entry) in keys {
            let ident = ident_value(key);
            match entry {
                Some(e) => {
                    let ticks =
                        serde_json::to_string(&e.ticks).expect("a list of integers is JSON");
                    let row = params![
                        cat,
                        ident,
                        encode_value(key),
                        ticks,
                        e.grace_until,
                        expires(e)
                    ];
                    sql.exec(&mut put, row)?;
                }
                None => {
                    sql.exec(&mut del, params![cat, ident])?;
                }
            }
        }
    }
    Ok(())
}

/// When a counter key is dead: its last tick or its grace end.
fn expires(e: &CounterEntry) -> i64 {
    e.ticks
        .iter()
        .copied()
        .chain(e.grace_until)
        .max()
        .unwrap_or(i64::MIN)
}

fn write_mappings(sql: Sql<'_>, mappings: &[Mapping]) -> Result<(), StoreError> {
    if mappings.is_empty() {
        return Ok(());
    }
    let mut st = sql.cached(
        "INSERT INTO mapping
         (saddr, sport, addr, port, daddr, dport, stamp, shift, dead_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for m in mappings {
        let opt = |v: &Option<Value>| v.as_ref().map(encode_value);
        let row = params![
            encode_value(&m.saddr),
            opt(&m.sport),
            opt(&m.keys[0]),
            opt(&m.keys[1]),
            opt(&m.keys[2]),
            opt(&m.keys[3]),
            m.stamp,
            i64::from(m.shift),
            mapping_dead_at(m.stamp, m.shift)
        ];
        sql.exec(&mut st, row)?;
    }
    Ok(())
}

fn write_sessions(
    sql: Sql<'_>,
    sessions: &[(String, Vec<Value>, Remembered)],
) -> Result<(), StoreError> {
    if sessions.is_empty() {
        return Ok(());
    }
    let mut st = sql.cached(
        "INSERT OR REPLACE INTO session (name, key, fields, until)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (name, key, r) in sessions {
        let key = session_key_text(key);
        let fields = session_fields_text(&r.fields);
        sql.exec(&mut st, params![name, key, fields, r.until])?;
    }
    Ok(())
}

/// Delete the sessions, counter keys and DNAT mappings dead at `now`
/// (engine clock, µs).
fn sweep(sql: Sql<'_>, now: i64) -> Result<(), StoreError> {
    sql.run_cached("DELETE FROM session WHERE until <= ?1", [now])?;
    sql.run_cached("DELETE FROM counter WHERE expires <= ?1", [now])?;
    sql.run_cached(
        "DELETE FROM mapping WHERE dead_at <= ?1",
        [now.div_euclid(1_000_000)],
    )?;
    Ok(())
}

fn write_bans(
    sql: Sql<'_>,
    bans: &HashMap<(BanKind, String, String), BanRecord>,
) -> Result<(), StoreError> {
    if bans.is_empty() {
        return Ok(());
    }
    let mut st = sql.cached(
        "INSERT OR REPLACE INTO ban (kind, name, ip, end_us, rule)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for r in bans.values() {
        sql.exec(
            &mut st,
            params![r.kind.as_str(), r.set, r.ip, r.end_us, r.rule],
        )?;
    }
    Ok(())
}

fn write_reports(sql: Sql<'_>, reports: &[ReportRecord]) -> Result<(), StoreError> {
    if reports.is_empty() {
        return Ok(());
    }
    let mut st = sql.cached(
        "INSERT INTO report (level, message, details, time_us)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for r in reports {
        sql.exec(&mut st, params![r.level, r.message, r.details, r.time_us])?;
    }
    Ok(())
}

fn write_hours(sql: Sql<'_>, hours: &[(i64, String, u64, u64)]) -> Result<(), StoreError> {
    if hours.is_empty() {
        return Ok(());
    }
    let mut st = sql.cached(
        "INSERT INTO report_hour (hour_us, service, failures, bans) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (hour_us, service) DO UPDATE
         SET failures = failures + excluded.failures, bans = bans + excluded.bans",
    )?;
    for (hour, service, f, b) in hours {
        let (f, b) = (
            i64::try_from(*f).unwrap_or(i64::MAX),
            i64::try_from(*b).unwrap_or(i64::MAX),
        );
        sql.exec(&mut st, params![hour, service, f, b])?;
    }
    Ok(())
}

fn write_outbox(sql: Sql<'_>, items: &[NewOutbox]) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut st =
        sql.cached("INSERT INTO outbox (kind, payload, next_at_us) VALUES (?1, ?2, ?3)")?;
    for o in items {
        sql.exec(
            &mut st,
            params![o.kind, o.payload.to_string(), o.next_at_us],
        )?;
    }
    Ok(())
}

/// The first second (engine clock) at which a mapping is dead:
/// `(now_s >> shift) <= stamp` ⇔ `now_s < (stamp + 1) << shift`.
pub(super) fn mapping_dead_at(stamp: i64, shift: u32) -> i64 {
    let v = (i128::from(stamp) + 1) << shift.min(63);
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
