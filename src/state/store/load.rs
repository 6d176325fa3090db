//! Reading the engine's state back: cursors, counters, sessions, DNAT
//! mappings.

use super::encoding::{decode_value, from_json};
use super::error::{corrupt, sq, StoreError};
use super::Store;
use crate::state::{CounterEntry, Mapping, Remembered};
use crate::value::Value;
use rusqlite::OptionalExtension;
use serde_json::Value as J;

impl Store {
    /// The cursor of the last committed entry of `source`, and the record
    /// of journal sequences saved with it.
    pub fn load_position(
        &self,
        source: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        sq(
            &self.path,
            "cannot read the cursor",
            self.conn
                .query_row(
                    "SELECT cursor, seen FROM cursor WHERE source = ?1",
                    [source],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional(),
        )
    }

    /// The cursor of the last committed entry of `source`.
    pub fn load_cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        sq(
            &self.path,
            "cannot read the cursor",
            self.conn
                .query_row(
                    "SELECT cursor FROM cursor WHERE source = ?1",
                    [source],
                    |r| r.get(0),
                )
                .optional(),
        )
    }

    /// All counter keys: (category name, key, entry), expired ones included
    /// until a sweep deletes them.
    pub fn load_counters(&self) -> Result<Vec<(String, Value, CounterEntry)>, StoreError> {
        let p = &self.path;
        let what = "cannot read the counters";
        let mut st = sq(
            p,
            what,
            self.conn.prepare(
                "SELECT category, key, ticks, grace_until FROM counter ORDER BY category, ident",
            ),
        )?;
        let rows = sq(
            p,
            what,
            st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            }),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (cat, key, ticks, grace_until) = sq(p, what, row)?;
            let key = decode_value(&key).map_err(|e| corrupt(p, "counter key", e))?;
            let ticks: Vec<i64> = serde_json::from_str(&ticks)
                .map_err(|e| corrupt(p, "counter ticks", e.to_string()))?;
            out.push((cat, key, CounterEntry { ticks, grace_until }));
        }
        Ok(out)
    }

    /// All remembered sessions.
    pub fn load_sessions(&self) -> Result<Vec<(String, Vec<Value>, Remembered)>, StoreError> {
        let p = &self.path;
        let what = "cannot read the sessions";
        let mut st = sq(
            p,
            what,
            self.conn
                .prepare("SELECT name, key, fields, until FROM session"),
        )?;
        let rows = sq(
            p,
            what,
            st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            }),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (name, key, fields, until) = sq(p, what, row)?;
            let bad = |e: String| corrupt(p, "session", e);
            let key: J = serde_json::from_str(&key).map_err(|e| bad(e.to_string()))?;
            let key = key
                .as_array()
                .ok_or_else(|| bad("key is not a list".into()))?
                .iter()
                .map(from_json)
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?;
            let fields: J = serde_json::from_str(&fields).map_err(|e| bad(e.to_string()))?;
            let mut pairs = Vec::new();
            for f in fields
                .as_array()
                .ok_or_else(|| bad("fields is not a list".into()))?
            {
                match f.as_array().map(Vec::as_slice) {
                    Some([J::String(n), v]) => pairs.push((n.clone(), from_json(v).map_err(bad)?)),
                    _ => return Err(bad(format!("field {f}"))),
                }
            }
            out.push((
                name,
                key,
                Remembered {
                    fields: pairs,
                    until,
                },
            ));
        }
        Ok(out)
    }

    /// All DNAT mappings, oldest first.
    pub fn load_mappings(&self) -> Result<Vec<Mapping>, StoreError> {
        let p = &self.path;
        let what = "cannot read the DNAT mappings";
        let mut st = sq(
            p,
            what,
            self.conn.prepare(
                "SELECT saddr, sport, addr, port, daddr, dport, stamp, shift
                 FROM mapping ORDER BY id",
            ),
        )?;
        let rows = sq(
            p,
            what,
            st.query_map([], |r| {
                let mut texts: [Option<String>; 6] = Default::default();
                for (i, t) in texts.iter_mut().enumerate() {
                    *t = r.get(i)?;
                }
                Ok((texts, r.get::<_, i64>(6)?, r.get::<_, i64>(7)?))
            }),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (texts, stamp, shift) = sq(p, what, row)?;
            let mut vals: [Option<Value>; 6] = Default::default();
            for (v, t) in vals.iter_mut().zip(&texts) {
                if let Some(t) = t {
                    *v = Some(decode_value(t).map_err(|e| corrupt(p, "DNAT mapping", e))?);
                }
            }
            let [saddr, sport, addr, port, daddr, dport] = vals;
            let saddr = saddr.ok_or_else(|| corrupt(p, "DNAT mapping", "no saddr".into()))?;
            let shift = u32::try_from(shift)
                .map_err(|_| corrupt(p, "DNAT mapping", format!("shift {shift}")))?;
            out.push(Mapping {
                saddr,
                sport,
                keys: [addr, port, daddr, dport],
                stamp,
                shift,
            });
        }
        Ok(out)
    }
}
