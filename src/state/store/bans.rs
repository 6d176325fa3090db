//! The ban records.

use super::error::{corrupt, StoreError};
use super::records::{BanKind, BanRecord};
use super::Store;
use rusqlite::params;

impl Store {
    /// All ban records.
    pub fn bans(&self) -> Result<Vec<BanRecord>, StoreError> {
        let sql = self.sql("cannot read the bans");
        let p = sql.path();
        sql.rows(
            "SELECT kind, name, ip, end_us, rule FROM ban ORDER BY kind, name, ip",
            [],
            |r| {
                let (kind, set, ip, end_us, rule): (String, String, String, Option<i64>, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                let kind = BanKind::parse(&kind)
                    .ok_or_else(|| corrupt(p, "ban record", format!("command kind {kind:?}")))?;
                Ok(BanRecord {
                    kind,
                    set,
                    ip,
                    end_us,
                    rule,
                })
            },
        )
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
