//! The ban records.

use super::error::{corrupt, sq, StoreError};
use super::records::{BanKind, BanRecord};
use super::Store;
use rusqlite::params;

impl Store {
    /// All ban records.
    pub fn bans(&self) -> Result<Vec<BanRecord>, StoreError> {
        let p = &self.path;
        let what = "cannot read the bans";
        let mut st = sq(
            p,
            what,
            self.conn
                .prepare("SELECT kind, name, ip, end_us, rule FROM ban ORDER BY kind, name, ip"),
        )?;
        let rows = sq(
            p,
            what,
            st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    BanRecord {
                        kind: BanKind::Nft,
                        set: r.get(1)?,
                        ip: r.get(2)?,
                        end_us: r.get(3)?,
                        rule: r.get(4)?,
                    },
                ))
            }),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, mut rec) = sq(p, what, row)?;
            rec.kind = BanKind::parse(&kind)
                .ok_or_else(|| corrupt(p, "ban record", format!("command kind {kind:?}")))?;
            out.push(rec);
        }
        Ok(out)
    }

    /// Delete one ban record; `false` if there was none.
    pub fn remove_ban(&mut self, kind: BanKind, set: &str, ip: &str) -> Result<bool, StoreError> {
        let n = sq(
            &self.path,
            "cannot delete a ban",
            self.conn.execute(
                "DELETE FROM ban WHERE kind = ?1 AND name = ?2 AND ip = ?3",
                params![kind.as_str(), set, ip],
            ),
        )?;
        Ok(n > 0)
    }

    /// Delete the bans that ended at or before `now_us`; returns how many.
    pub fn drop_expired_bans(&mut self, now_us: i64) -> Result<usize, StoreError> {
        sq(
            &self.path,
            "cannot delete expired bans",
            self.conn.execute(
                "DELETE FROM ban WHERE end_us IS NOT NULL AND end_us <= ?1",
                [now_us],
            ),
        )
    }
}
