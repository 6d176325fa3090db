//! The ban records.

use super::error::{corrupt, StoreError};
use super::query::Sql;
use super::records::{BanKind, BanOutcome, BanRecord, BanStatus};
use super::Store;
use rusqlite::params;

impl Store {
    /// All ban records.
    pub fn bans(&self) -> Result<Vec<BanRecord>, StoreError> {
        Ok(self
            .bans_with_status()?
            .into_iter()
            .map(|(b, _)| b)
            .collect())
    }

    /// All ban records, each with what the firewall made of it.
    pub fn bans_with_status(&self) -> Result<Vec<(BanRecord, BanStatus)>, StoreError> {
        let sql = self.sql("cannot read the bans");
        let p = sql.path();
        sql.rows(
            "SELECT kind, name, ip, end_us, rule, status, error FROM ban ORDER BY kind, name, ip",
            [],
            |r| {
                let (kind, set, ip, end_us, rule): (String, String, String, Option<i64>, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                let (status, error): (String, Option<String>) = (r.get(5)?, r.get(6)?);
                let kind = BanKind::parse(&kind)
                    .ok_or_else(|| corrupt(p, "ban record", format!("command kind {kind:?}")))?;
                let status = match status.as_str() {
                    "pending" => BanStatus::Pending,
                    "applied" => BanStatus::Applied,
                    "failed" => BanStatus::Failed(error.unwrap_or_default()),
                    other => {
                        return Err(corrupt(p, "ban record", format!("status {other:?}")).into())
                    }
                };
                let record = BanRecord {
                    kind,
                    set,
                    ip,
                    end_us,
                    rule,
                };
                Ok((record, status))
            },
        )
    }

    /// Record what the firewall made of bans, in one transaction.
    pub fn ban_outcomes(&mut self, outcomes: &[BanOutcome]) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        self.transaction("cannot record the outcome of bans", |sql| {
            write_ban_outcomes(sql, outcomes)
        })
    }

    /// Delete one ban record; `false` if there was none.
    pub fn remove_ban(&mut self, kind: BanKind, set: &str, ip: &str) -> Result<bool, StoreError> {
        let n = self.sql("cannot delete a ban").run(
            "DELETE FROM ban WHERE kind = ?1 AND name = ?2 AND ip = ?3",
            params![kind.as_str(), set, ip],
        )?;
        Ok(n > 0)
    }

    /// Delete the bans of `ip` queued in the outbox and not carried out
    /// yet (so that an unbanned address is not banned again by them);
    /// returns how many.
    pub fn drop_queued_bans(&mut self, ip: &str) -> Result<usize, StoreError> {
        self.sql("cannot delete queued bans").run(
            "DELETE FROM outbox WHERE kind IN ('nft', 'ipset')
             AND json_extract(payload, '$.ip') = ?1",
            [ip],
        )
    }

    /// Delete the bans that ended at or before `now_us`; returns how many.
    pub fn drop_expired_bans(&mut self, now_us: i64) -> Result<usize, StoreError> {
        self.sql("cannot delete expired bans").run(
            "DELETE FROM ban WHERE end_us IS NOT NULL AND end_us <= ?1",
            [now_us],
        )
    }
}

/// Mark each ban applied or failed (a record removed meanwhile, by an
/// unban, stays removed).
pub(super) fn write_ban_outcomes(sql: Sql<'_>, outcomes: &[BanOutcome]) -> Result<(), StoreError> {
    for o in outcomes {
        let (status, error) = match &o.result {
            Ok(()) => ("applied", None),
            Err(e) => ("failed", Some(e.as_str())),
        };
        sql.run_cached(
            "UPDATE ban SET status = ?4, error = ?5 WHERE kind = ?1 AND name = ?2 AND ip = ?3",
            params![o.kind.as_str(), o.set, o.ip, status, error],
        )?;
    }
    Ok(())
}
