//! The schema of the state file and its migrations.

use super::error::{sq, StoreError};
use super::query::Sql;
use super::{Store, APPLICATION_ID};
use rusqlite::TransactionBehavior;

/// Schema migrations: `MIGRATIONS[i]` takes the schema from version `i` to
/// version `i + 1`. To change the schema, append a step; never edit one.
const MIGRATIONS: &[&str] = &[
    // 0 → 1
    "
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value ANY
    ) WITHOUT ROWID;
    CREATE TABLE cursor (
        source TEXT PRIMARY KEY,
        cursor TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE counter (
        category    TEXT NOT NULL,
        ident       TEXT NOT NULL,      -- canonical key, follows Value's Eq
        key         TEXT NOT NULL,      -- exact key
        ticks       TEXT NOT NULL,      -- JSON array of expiry times (µs)
        grace_until INTEGER,
        expires     INTEGER NOT NULL,   -- last tick or grace end (µs)
        PRIMARY KEY (category, ident)
    ) WITHOUT ROWID;
    CREATE INDEX counter_expires ON counter (expires);
    CREATE TABLE mapping (
        id      INTEGER PRIMARY KEY,    -- capture order
        saddr   TEXT NOT NULL,
        sport   TEXT,
        addr    TEXT,
        port    TEXT,
        daddr   TEXT,
        dport   TEXT,
        stamp   INTEGER NOT NULL,
        shift   INTEGER NOT NULL,
        dead_at INTEGER NOT NULL        -- first second (engine clock) when dead
    );
    CREATE INDEX mapping_dead_at ON mapping (dead_at);
    CREATE TABLE ban (
        kind   TEXT NOT NULL,
        name   TEXT NOT NULL,
        ip     TEXT NOT NULL,
        end_us INTEGER,                 -- NULL: forever
        rule   TEXT NOT NULL,
        PRIMARY KEY (kind, name, ip)
    ) WITHOUT ROWID;
    CREATE INDEX ban_end ON ban (end_us) WHERE end_us IS NOT NULL;
    CREATE TABLE report (
        id      INTEGER PRIMARY KEY,
        level   TEXT NOT NULL,
        message TEXT NOT NULL,
        details TEXT NOT NULL,
        time_us INTEGER NOT NULL
    );
    CREATE INDEX report_time ON report (time_us);
    CREATE TABLE outbox (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        payload    TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        next_at_us INTEGER NOT NULL,
        last_error TEXT
    );
    CREATE INDEX outbox_due ON outbox (next_at_us, id);
    ",
    // 1 → 2: the last sequence number read per journal sequence, beside
    // the cursor (see `journal::sd::Position`).
    "
    ALTER TABLE cursor ADD COLUMN seen TEXT;
    ",
    // 2 → 3: sessions kept by `remember`.
    "
    CREATE TABLE session (
        name   TEXT NOT NULL,
        key    TEXT NOT NULL,               -- JSON array of the key's values
        fields TEXT NOT NULL,               -- JSON array of [name, value]
        until  INTEGER NOT NULL,            -- engine clock (µs)
        PRIMARY KEY (name, key)
    ) WITHOUT ROWID;
    CREATE INDEX session_until ON session (until);
    ",
    // 3 → 4: changes asked for by `pyrusec` (a counter key reset), applied
    // by the daemon to its state in memory at its next commit, so that
    // the commit does not write back what was changed.
    "
    CREATE TABLE command (
        id        INTEGER PRIMARY KEY,
        kind      TEXT NOT NULL,
        payload   TEXT NOT NULL,            -- JSON object
        queued_us INTEGER NOT NULL
    );
    ",
    // 4 → 5: what the firewall made of each ban: `pending` until it is
    // carried out, then `applied` or `failed` (with the error).
    "
    ALTER TABLE ban ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
    ALTER TABLE ban ADD COLUMN error TEXT;
    ",
    // 5 → 6: failures and bans per hour and service, for the picture of
    // the daily report.
    "
    CREATE TABLE report_hour (
        hour_us  INTEGER NOT NULL,          -- start of the UTC hour (µs)
        service  TEXT NOT NULL,
        failures INTEGER NOT NULL,
        bans     INTEGER NOT NULL,
        PRIMARY KEY (hour_us, service)
    ) WITHOUT ROWID;
    ",
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

impl Store {
    pub(super) fn migrate(&mut self) -> Result<(), StoreError> {
        let p = &self.path;
        // Each step reads the version inside its own write transaction, so
        // that two processes opening a new file at once (the daemon
        // starting, `pyrusec` beside it) never run a step twice.
        loop {
            let tx = sq(
                p,
                "cannot start the schema migration",
                self.conn
                    .transaction_with_behavior(TransactionBehavior::Immediate),
            )?;
            let version: i64 =
                Sql::new(&tx, p, "cannot read the schema version").value("PRAGMA user_version")?;
            if !(0..=SCHEMA_VERSION).contains(&version) {
                return Err(StoreError::TooNew {
                    path: p.clone(),
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            if version == SCHEMA_VERSION {
                return Ok(());
            }
            let from = version as usize;
            let sql = Sql::new(&tx, p, "cannot migrate the schema");
            sql.batch(MIGRATIONS[from])?;
            sql.batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};",
                from + 1
            ))?;
            sq(p, "cannot commit the schema migration", tx.commit())?;
        }
    }
}
