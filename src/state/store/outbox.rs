//! The outbox: effects not yet carried out, for at-least-once delivery.

use super::error::{corrupt, StoreError};
use super::records::{BanOutcome, OutboxItem};
use super::Store;
use rusqlite::params;

/// What became of an outbox item, for [`Store::outbox_settle`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Carried out, or given up: delete it.
    Done(i64),
    /// Failed in a way that may pass: count the attempt, keep the error,
    /// try again at `next_at_us`.
    Retry {
        id: i64,
        next_at_us: i64,
        error: String,
    },
}

impl Store {
    /// Up to `limit` outbox items of the given kinds due at `now_us`,
    /// earliest first.
    pub fn outbox_due(
        &self,
        now_us: i64,
        kinds: &[&str],
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let sql = self.sql("cannot read the outbox");
        let p = sql.path();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let kinds = serde_json::to_string(kinds).expect("a list of strings is JSON");
        sql.rows_cached(
            "SELECT id, kind, payload, attempts, next_at_us, last_error FROM outbox
             WHERE next_at_us <= ?1 AND kind IN (SELECT value FROM json_each(?3))
             ORDER BY next_at_us, id LIMIT ?2",
            params![now_us, limit, kinds],
            |r| {
                let (id, kind, payload, attempts, next_at_us, last_error): (
                    i64,
                    String,
                    String,
                    i64,
                    i64,
                    Option<String>,
                ) = (
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                );
                let payload = serde_json::from_str(&payload)
                    .map_err(|e| corrupt(p, "outbox payload", e.to_string()))?;
                Ok(OutboxItem {
                    id,
                    kind,
                    payload,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    next_at_us,
                    last_error,
                })
            },
        )
    }

    /// Keep at most `keep` items of the given kinds, the newest; returns
    /// how many older ones were dropped.
    pub fn outbox_trim(&mut self, kinds: &[&str], keep: usize) -> Result<usize, StoreError> {
        let kinds = serde_json::to_string(kinds).expect("a list of strings is JSON");
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.sql("cannot trim the outbox").run(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox WHERE kind IN (SELECT value FROM json_each(?1))
                 ORDER BY id DESC LIMIT -1 OFFSET ?2)",
            params![kinds, keep],
        )
    }

    /// Record what became of several items in one transaction (one `fsync`
    /// for a whole round of bans instead of one per ban).
    pub fn outbox_settle(&mut self, outcomes: &[Settled]) -> Result<(), StoreError> {
        self.outbox_settle_bans(outcomes, &[])
    }

    /// [`outbox_settle`](Self::outbox_settle), and what the firewall made
    /// of the bans among the items, in the same transaction.
    pub fn outbox_settle_bans(
        &mut self,
        outcomes: &[Settled],
        bans: &[BanOutcome],
    ) -> Result<(), StoreError> {
        if outcomes.is_empty() && bans.is_empty() {
            return Ok(());
        }
        self.transaction("cannot update the outbox", |sql| {
            super::bans::write_ban_outcomes(sql, bans)?;
            for o in outcomes {
                match o {
                    Settled::Done(id) => {
                        sql.run_cached("DELETE FROM outbox WHERE id = ?1", [id])?;
                    }
                    Settled::Retry {
                        id,
                        next_at_us,
                        error,
                    } => {
                        sql.run_cached(
                            "UPDATE outbox SET attempts = attempts + 1, next_at_us = ?2,
                             last_error = ?3 WHERE id = ?1",
                            params![id, next_at_us, error],
                        )?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Number of items in the outbox, due or not.
    pub fn outbox_len(&self) -> Result<usize, StoreError> {
        let n: i64 = self
            .sql("cannot count the outbox")
            .value("SELECT count(*) FROM outbox")?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
