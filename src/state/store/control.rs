//! What `pyrusec` reads and changes beside a running daemon: the daemon's
//! status record, the counters as they stand, the outbox by kind, and the
//! commands it queues for the daemon (a counter key reset).
//!
//! The daemon keeps its counters in memory and writes the keys an entry
//! touched at its commits. A key deleted from the file behind its back
//! would be written again by the next entry that touches it, with the
//! count the daemon still holds; so `pyrusec` deletes the row (the file is
//! right at once, and a stopped daemon loads it so) *and* queues a
//! command, which the daemon applies to its memory within a second and
//! deletes in the same transaction as the change (see
//! `daemon::control`). Bans are not held in memory: they are changed in
//! the file directly.

use super::encoding::{decode_value, encode_value, ident_value};
use super::error::{corrupt, StoreError};
use super::Store;
use crate::value::Value;
use rusqlite::params;
use serde_json::Value as J;

/// A command queued by `pyrusec` for the daemon.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandRow {
    pub id: i64,
    /// `counterReset`.
    pub kind: String,
    pub payload: J,
    pub queued_us: i64,
}

/// A live key of a counter, as the file holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterRow {
    pub key: Value,
    /// Ticks still live at the time asked: the count the next raise adds to.
    pub value: i64,
    /// When the key is forgotten (its last tick, or its grace end), µs.
    pub expires_us: i64,
    /// The end of a grace period (raises count 0 until then), µs.
    pub grace_until_us: Option<i64>,
}

/// The outbox items of one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxDepth {
    pub kind: String,
    pub waiting: u64,
    /// Items that failed at least once and wait for a retry.
    pub retrying: u64,
    /// The error of the latest item that failed.
    pub last_error: Option<String>,
}

/// The key of the status record in the `meta` table.
const STATUS_KEY: &str = "status";

impl Store {
    /// Whether the file has a table (an older schema read without
    /// migration, by [`Store::open_read_only`], may lack one).
    pub fn has_table(&self, name: &str) -> Result<bool, StoreError> {
        let n: Option<i64> = self.sql("cannot read the schema").one(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )?;
        Ok(n.is_some())
    }

    /// The daemon's last status record (JSON text), if it wrote one.
    pub fn status_record(&self) -> Result<Option<String>, StoreError> {
        self.sql("cannot read the status record").one(
            "SELECT value FROM meta WHERE key = ?1",
            [STATUS_KEY],
            |r| r.get(0),
        )
    }

    /// Every saved cursor: (source, cursor).
    pub fn cursors(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.sql("cannot read the cursors").rows(
            "SELECT source, cursor FROM cursor ORDER BY source",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// The counters that have keys alive at `now_us`, with how many.
    pub fn counter_sizes(&self, now_us: i64) -> Result<Vec<(String, u64)>, StoreError> {
        self.sql("cannot read the counters").rows(
            "SELECT category, count(*) FROM counter WHERE expires > ?1
             GROUP BY category ORDER BY category",
            [now_us],
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)),
        )
    }

    /// The keys of a counter alive at `now_us`, the highest counts first
    /// (then the latest to expire), at most `limit`.
    pub fn counter_top(
        &self,
        category: &str,
        now_us: i64,
        limit: usize,
    ) -> Result<Vec<CounterRow>, StoreError> {
        let sql = self.sql("cannot read the counters");
        let p = sql.path();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        sql.rows(
            "SELECT key, (SELECT count(*) FROM json_each(ticks) WHERE value > ?2) AS n,
                    expires, grace_until
             FROM counter WHERE category = ?1 AND expires > ?2
             ORDER BY n DESC, expires DESC, ident LIMIT ?3",
            params![category, now_us, limit],
            |r| {
                let (key, value, expires_us, grace): (String, i64, i64, Option<i64>) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                let key = decode_value(&key).map_err(|e| corrupt(p, "counter key", e))?;
                Ok(CounterRow {
                    key,
                    value,
                    expires_us,
                    grace_until_us: grace.filter(|&g| g > now_us),
                })
            },
        )
    }

    /// The keys of a counter written as `text` (a key is a value: the
    /// address `192.0.2.1` is a string, a key may also be a number).
    pub fn counter_keys_written(
        &self,
        category: &str,
        text: &str,
    ) -> Result<Vec<Value>, StoreError> {
        let exact = Value::Str(text.to_owned());
        let sql = self.sql("cannot read the counters");
        let p = sql.path();
        let keys = sql.rows(
            "SELECT key FROM counter WHERE category = ?1",
            [category],
            |r| {
                let key: String = r.get(0)?;
                Ok(decode_value(&key).map_err(|e| corrupt(p, "counter key", e))?)
            },
        )?;
        Ok(keys
            .into_iter()
            .filter(|k| *k == exact || crate::python::format::render_plain(k) == text)
            .collect())
    }

    /// Delete a counter key from the file and queue its reset for a
    /// running daemon, in one transaction.
    pub fn reset_counter(
        &mut self,
        category: &str,
        key: &Value,
        now_us: i64,
    ) -> Result<(), StoreError> {
        let payload = serde_json::json!({ "counter": category, "key": encode_value(key) });
        self.transaction("cannot reset a counter key", |sql| {
            sql.run(
                "DELETE FROM counter WHERE category = ?1 AND ident = ?2",
                params![category, ident_value(key)],
            )?;
            sql.run(
                "INSERT INTO command (kind, payload, queued_us) VALUES ('counterReset', ?1, ?2)",
                params![payload.to_string(), now_us],
            )?;
            Ok(())
        })
    }

    /// The commands queued for the daemon, oldest first.
    pub fn commands(&self) -> Result<Vec<CommandRow>, StoreError> {
        let sql = self.sql("cannot read the queued commands");
        let p = sql.path();
        sql.rows_cached(
            "SELECT id, kind, payload, queued_us FROM command ORDER BY id",
            [],
            |r| {
                let (id, kind, payload, queued_us): (i64, String, String, i64) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                let payload = serde_json::from_str(&payload)
                    .map_err(|e| corrupt(p, "queued command", e.to_string()))?;
                Ok(CommandRow {
                    id,
                    kind,
                    payload,
                    queued_us,
                })
            },
        )
    }

    /// Outbox items by kind, kinds in name order.
    pub fn outbox_depth(&self) -> Result<Vec<OutboxDepth>, StoreError> {
        self.sql("cannot read the outbox").rows(
            "SELECT kind, count(*), sum(attempts > 0),
                    (SELECT last_error FROM outbox l WHERE l.kind = o.kind
                     AND l.last_error IS NOT NULL ORDER BY l.id DESC LIMIT 1)
             FROM outbox o GROUP BY kind ORDER BY kind",
            [],
            |r| {
                Ok(OutboxDepth {
                    kind: r.get(0)?,
                    waiting: r.get::<_, i64>(1)?.max(0) as u64,
                    retrying: r.get::<_, Option<i64>>(2)?.unwrap_or(0).max(0) as u64,
                    last_error: r.get(3)?,
                })
            },
        )
    }
}

/// The parts of a batch that concern `pyrusec`: the status record, and the
/// commands applied.
pub(super) fn write_control(
    sql: super::query::Sql<'_>,
    status: Option<&str>,
    done: &[i64],
) -> Result<(), StoreError> {
    if let Some(s) = status {
        sql.run_cached(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![STATUS_KEY, s],
        )?;
    }
    for id in done {
        sql.run_cached("DELETE FROM command WHERE id = ?1", [id])?;
    }
    Ok(())
}
