//! Reading the engine's state back: cursors, counters, sessions, DNAT
//! mappings.

use super::encoding::{decode_value, session_fields_of, session_key_of};
use super::error::{corrupt, StoreError};
use super::Store;
use crate::state::{CounterEntry, Mapping, Remembered};
use crate::value::Value;
use std::path::Path;

impl Store {
    /// The cursor of the last committed entry of `source`, and the record
    /// of journal sequences saved with it.
    pub fn load_position(
        &self,
        source: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        self.sql("cannot read the cursor").one(
            "SELECT cursor, seen FROM cursor WHERE source = ?1",
            [source],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// The cursor of the last committed entry of `source`.
    pub fn load_cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        self.sql("cannot read the cursor").one(
            "SELECT cursor FROM cursor WHERE source = ?1",
            [source],
            |r| r.get(0),
        )
    }

    /// All counter keys: (category name, key, entry), expired ones included
    /// until a sweep deletes them.
    pub fn load_counters(&self) -> Result<Vec<(String, Value, CounterEntry)>, StoreError> {
        let sql = self.sql("cannot read the counters");
        let p = sql.path();
        sql.rows(
            "SELECT category, key, ticks, grace_until FROM counter ORDER BY category, ident",
            [],
            |r| {
                let (cat, key, ticks, grace_until): (String, String, String, Option<i64>) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                let key = decode_value(&key).map_err(|e| corrupt(p, "counter key", e))?;
                let ticks: Vec<i64> = serde_json::from_str(&ticks)
                    .map_err(|e| corrupt(p, "counter ticks", e.to_string()))?;
                Ok((cat, key, CounterEntry { ticks, grace_until }))
            },
        )
    }

    /// All remembered sessions.
    pub fn load_sessions(&self) -> Result<Vec<(String, Vec<Value>, Remembered)>, StoreError> {
        let sql = self.sql("cannot read the sessions");
        let p = sql.path();
        sql.rows("SELECT name, key, fields, until FROM session", [], |r| {
            let (name, key, fields, until): (String, String, String, i64) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let bad = |e: String| corrupt(p, "session", e);
            let key = session_key_of(&key).map_err(bad)?;
            let fields = session_fields_of(&fields).map_err(bad)?;
            Ok((name, key, Remembered { fields, until }))
        })
    }

    /// All DNAT mappings, oldest first.
    pub fn load_mappings(&self) -> Result<Vec<Mapping>, StoreError> {
        let sql = self.sql("cannot read the DNAT mappings");
        let p = sql.path();
        sql.rows(
            "SELECT saddr, sport, addr, port, daddr, dport, stamp, shift
             FROM mapping ORDER BY id",
            [],
            |r| {
                let mut texts: [Option<String>; 6] = Default::default();
                for (i, t) in texts.iter_mut().enumerate() {
                    *t = r.get(i)?;
                }
                let (stamp, shift) = (r.get(6)?, r.get(7)?);
                Ok(mapping_of(p, &texts, stamp, shift)?)
            },
        )
    }
}

/// The mapping of a row: its six optional value texts (`saddr`, `sport`,
/// `addr`, `port`, `daddr`, `dport`), stamp and shift.
fn mapping_of(
    p: &Path,
    texts: &[Option<String>; 6],
    stamp: i64,
    shift: i64,
) -> Result<Mapping, StoreError> {
    let mut vals: [Option<Value>; 6] = Default::default();
    for (v, t) in vals.iter_mut().zip(texts) {
        if let Some(t) = t {
            *v = Some(decode_value(t).map_err(|e| corrupt(p, "DNAT mapping", e))?);
        }
    }
    let [saddr, sport, addr, port, daddr, dport] = vals;
    let saddr = saddr.ok_or_else(|| corrupt(p, "DNAT mapping", "no saddr".into()))?;
    let shift =
        u32::try_from(shift).map_err(|_| corrupt(p, "DNAT mapping", format!("shift {shift}")))?;
    Ok(Mapping {
        saddr,
        sport,
        keys: [addr, port, daddr, dport],
        stamp,
        shift,
    })
}
