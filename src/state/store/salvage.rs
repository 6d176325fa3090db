//! Reading back what can be read of a damaged state file.

use super::records::{BanKind, BanRecord};
use rusqlite::Connection;
use std::path::Path;

/// What could be read back from a damaged state file.
#[derive(Debug, Default)]
pub struct Salvage {
    pub bans: Vec<BanRecord>,
    /// (source, cursor, seen)
    pub cursors: Vec<(String, String, Option<String>)>,
}

/// Read what can be read of the bans and cursors of a damaged state file.
pub fn salvage(path: &Path) -> Salvage {
    let mut out = Salvage::default();
    let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return out;
    };
    if let Ok(mut st) = conn.prepare("SELECT kind, name, ip, end_us, rule FROM ban") {
        if let Ok(rows) = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, String>(4)?,
            ))
        }) {
            for (kind, set, ip, end_us, rule) in rows.map_while(Result::ok) {
                if let Some(kind) = BanKind::parse(&kind) {
                    out.bans.push(BanRecord {
                        kind,
                        set,
                        ip,
                        end_us,
                        rule,
                    });
                }
            }
        }
    }
    // The `seen` column exists from schema 2 on.
    let cursors = conn
        .prepare("SELECT source, cursor, seen FROM cursor")
        .or_else(|_| conn.prepare("SELECT source, cursor, NULL FROM cursor"));
    if let Ok(mut st) = cursors {
        if let Ok(rows) = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        }) {
            out.cursors.extend(rows.map_while(Result::ok));
        }
    }
    out
}
