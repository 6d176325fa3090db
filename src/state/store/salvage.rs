//! Reading back what can be read of a damaged state file.

use super::query::readable_rows;
use super::records::{BanKind, BanRecord};
use rusqlite::{Connection, Row};
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
    let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return Salvage::default();
    };
    let bans = readable_rows(
        &conn,
        "SELECT kind, name, ip, end_us, rule FROM ban",
        ban_row,
    )
    .unwrap_or_default()
    .into_iter()
    .filter_map(|(kind, set, ip, end_us, rule)| {
        Some(BanRecord {
            kind: BanKind::parse(&kind)?,
            set,
            ip,
            end_us,
            rule,
        })
    })
    .collect();
    // The `seen` column exists from schema 2 on.
    let cursors = readable_rows(&conn, "SELECT source, cursor, seen FROM cursor", cursor_row)
        .or_else(|| readable_rows(&conn, "SELECT source, cursor, NULL FROM cursor", cursor_row))
        .unwrap_or_default();
    Salvage { bans, cursors }
}

type BanRow = (String, String, String, Option<i64>, String);

fn ban_row(r: &Row<'_>) -> rusqlite::Result<BanRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn cursor_row(r: &Row<'_>) -> rusqlite::Result<(String, String, Option<String>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}
