//! The daemon's durable state: one SQLite file, `state.sqlite`, in the state
//! directory (default `/var/lib/pyruse`).
//!
//! What it keeps:
//! - the journal cursor of the last processed entry, per input source;
//! - the counters (category name, key, tick expiry times, grace end);
//! - the DNAT mappings, in capture order;
//! - the ban records, one per (command kind, set, ip);
//! - the daily-report records and the time of the last report sent;
//! - an outbox of effects not yet carried out, for at-least-once delivery.
//!
//! # Durability
//!
//! The engine processes journal entries in batches. The state changes of a
//! batch are gathered in a [`Batch`] and written by [`Store::commit`] in the
//! *same* SQLite transaction as the cursor of the batch's last entry, so the
//! file always holds a cursor together with exactly the state that the
//! entries up to that cursor produced. After a crash, the entries after the
//! last commit are read again and processed again from the committed state:
//! counts stay exact. A kill -9 at any moment leaves a consistent file
//! (SQLite's transactions; see the `kill9_*` test).
//!
//! The file is in WAL mode with `synchronous=FULL`: the WAL is fsynced at
//! every commit, so a commit that returned `Ok` survives a kill -9, an OS
//! crash and a power loss (on storage that honours fsync). The cost is one
//! fsync per batch, which batching amortises. With `NORMAL` a power loss
//! could drop the commits since the last checkpoint (up to ~1000 pages);
//! that would still be consistent (cursor and state roll back together) but
//! would repeat effects already carried out, so we pay the fsync.
//!
//! # Values
//!
//! [`Value`]s are stored as tagged JSON, e.g. `{"str":"1.2.3.4"}`,
//! `{"int":5}`, `{"bytes":"00ff"}`, `{"float":"3ff8000000000000"}` (IEEE
//! bits, so NaN and -0.0 round-trip), `{"list":[…]}`. Counter rows are
//! identified by a *canonical* encoding of their key that follows `Value`'s
//! `Eq`/`Hash` (`Bool(true)`, `Int(1)` and `Float(1.0)` are one key, as in
//! the in-memory map), so a key touched under two spellings is one row.
//!
//! # Permissions
//!
//! A state directory that `open` creates gets mode 0700 (an existing one is
//! left as it is). The database gets 0600 (tightened if looser); SQLite
//! creates the `-wal` and `-shm` files with the database's mode.

use crate::state::{CounterEntry, Mapping, Remembered};
use crate::value::Value;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value as J;
use std::collections::HashMap;
use std::fmt;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Default state directory of the daemon.
pub const DEFAULT_DIR: &str = "/var/lib/pyruse";
/// File name of the database inside the state directory.
pub const FILE_NAME: &str = "state.sqlite";
/// `PRAGMA application_id` of a Pyruse state file ("PyRu").
pub const APPLICATION_ID: i32 = 0x5079_5275;

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
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

// ---------------------------------------------------------------------------
// Errors

/// A failure of the state store, with the file concerned.
#[derive(Debug)]
pub enum StoreError {
    /// A file-system operation failed.
    Io {
        path: PathBuf,
        what: &'static str,
        source: io::Error,
    },
    /// SQLite failed.
    Sqlite {
        path: PathBuf,
        what: &'static str,
        source: rusqlite::Error,
    },
    /// The file exists but is not a Pyruse state file.
    NotStateFile { path: PathBuf, reason: String },
    /// The file was written by a newer Pyruse.
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// A stored record cannot be read back.
    Corrupt { path: PathBuf, what: String },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { path, what, source } => {
                write!(f, "state store {}: {what}: {source}", path.display())
            }
            StoreError::Sqlite { path, what, source } => {
                write!(f, "state file {}: {what}: {source}", path.display())
            }
            StoreError::NotStateFile { path, reason } => write!(
                f,
                "{} is not a Pyruse state file ({reason}); move it away to start afresh",
                path.display()
            ),
            StoreError::TooNew {
                path,
                found,
                supported,
            } => write!(
                f,
                "state file {} has schema version {found}, written by a newer Pyruse \
                 (this one supports up to {supported})",
                path.display()
            ),
            StoreError::Corrupt { path, what } => {
                write!(f, "state file {} is damaged: {what}", path.display())
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Sqlite { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn sq<T>(path: &Path, what: &'static str, r: rusqlite::Result<T>) -> Result<T, StoreError> {
    r.map_err(|source| StoreError::Sqlite {
        path: path.to_owned(),
        what,
        source,
    })
}

fn io_err<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        path: path.to_owned(),
        what,
        source,
    }
}

// ---------------------------------------------------------------------------
// Records

/// The firewall command a ban was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BanKind {
    Nft,
    Ipset,
}

impl BanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BanKind::Nft => "nft",
            BanKind::Ipset => "ipset",
        }
    }

    pub fn parse(s: &str) -> Option<BanKind> {
        match s {
            "nft" => Some(BanKind::Nft),
            "ipset" => Some(BanKind::Ipset),
            _ => None,
        }
    }
}

/// One ban in force (or to be restored at start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BanRecord {
    pub kind: BanKind,
    pub set: String,
    pub ip: String,
    /// End of the ban (µs since the epoch), `None` for forever.
    pub end_us: Option<i64>,
    /// Where the rule that banned is (e.g. `rules.pyr:12:5`).
    pub rule: String,
}

/// One line for the daily report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRecord {
    pub level: String,
    pub message: String,
    /// The details mode (`ALL`, `FIRST`, `LAST`, `NONE`, …).
    pub details: String,
    pub time_us: i64,
}

/// An effect waiting in the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: String,
    pub payload: J,
    /// Failed attempts so far.
    pub attempts: u32,
    pub next_at_us: i64,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct NewOutbox {
    kind: String,
    payload: J,
    next_at_us: i64,
}

// ---------------------------------------------------------------------------
// Batch

/// The state changes of a batch of entries, written by one
/// [`Store::commit`]. A counter key touched several times keeps only its
/// last state, so a commit costs O(changes), not O(state).
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// category → key → new entry (`None`: delete).
    counters: HashMap<String, HashMap<Value, Option<CounterEntry>>>,
    mappings: Vec<Mapping>,
    /// Sessions kept by `remember` (the last one per key wins).
    sessions: Vec<(String, Vec<Value>, Remembered)>,
    sweep_at: Option<i64>,
    bans: HashMap<(BanKind, String, String), BanRecord>,
    reports: Vec<ReportRecord>,
    outbox: Vec<NewOutbox>,
    /// A report was sent (or queued): clear its records, start a period.
    report_sent: Option<(i64, i64)>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Record the new state of a counter key (an empty entry deletes it).
    pub fn set_counter(&mut self, category: &str, key: &Value, entry: &CounterEntry) {
        let entry = if entry.ticks.is_empty() && entry.grace_until.is_none() {
            None
        } else {
            Some(entry.clone())
        };
        self.put_counter(category, key, entry);
    }

    /// Record that a counter key is gone (reset without grace).
    pub fn delete_counter(&mut self, category: &str, key: &Value) {
        self.put_counter(category, key, None);
    }

    fn put_counter(&mut self, category: &str, key: &Value, entry: Option<CounterEntry>) {
        let cat = match self.counters.get_mut(category) {
            Some(c) => c,
            None => self.counters.entry(category.to_owned()).or_default(),
        };
        match cat.get_mut(key) {
            Some(slot) => *slot = entry,
            None => {
                cat.insert(key.clone(), entry);
            }
        }
    }

    /// Record a captured DNAT mapping (kept in capture order).
    pub fn add_mapping(&mut self, m: Mapping) {
        self.mappings.push(m);
    }

    /// Record a session kept by `remember`.
    pub fn set_session(&mut self, name: String, key: Vec<Value>, r: Remembered) {
        self.sessions.push((name, key, r));
    }

    /// At commit, delete the counter keys and DNAT mappings that are dead
    /// at `now_us` (engine clock). Pass the time of the batch's last entry
    /// (or the earliest time still to be processed if clocks go back).
    /// Several calls keep the latest time.
    pub fn sweep(&mut self, now_us: i64) {
        self.sweep_at = Some(self.sweep_at.map_or(now_us, |t| t.max(now_us)));
    }

    /// Record a ban; it replaces an earlier one with the same kind, set, ip.
    pub fn ban(&mut self, rec: BanRecord) {
        self.bans
            .insert((rec.kind, rec.set.clone(), rec.ip.clone()), rec);
    }

    /// Add a record for the daily report.
    pub fn report(&mut self, rec: ReportRecord) {
        self.reports.push(rec);
    }

    /// Queue an effect for the outbox, first due at `next_at_us`.
    pub fn outbox(&mut self, kind: &str, payload: J, next_at_us: i64) {
        self.outbox.push(NewOutbox {
            kind: kind.to_owned(),
            payload,
            next_at_us,
        });
    }

    /// In the same transaction as the rest of the batch: the records up to
    /// `until_us` went into a report sent (or queued) at `sent_at_us`.
    pub fn report_sent(&mut self, until_us: i64, sent_at_us: i64) {
        self.report_sent = Some((until_us, sent_at_us));
    }

    pub fn is_empty(&self) -> bool {
        self.report_sent.is_none()
            && self.counters.values().all(HashMap::is_empty)
            && self.mappings.is_empty()
            && self.sessions.is_empty()
            && self.sweep_at.is_none()
            && self.bans.is_empty()
            && self.reports.is_empty()
            && self.outbox.is_empty()
    }

    /// Forget everything (after a successful commit), keeping allocations.
    pub fn clear(&mut self) {
        self.counters.values_mut().for_each(HashMap::clear);
        self.mappings.clear();
        self.sessions.clear();
        self.sweep_at = None;
        self.bans.clear();
        self.reports.clear();
        self.outbox.clear();
        self.report_sent = None;
    }
}

// ---------------------------------------------------------------------------
// Store

/// The open state file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open (creating if needed) `dir/state.sqlite`.
    ///
    /// Creates `dir` with mode 0700 and the file with mode 0600; checks that
    /// an existing file is a Pyruse state file and passes SQLite's
    /// `quick_check`; brings its schema to [`SCHEMA_VERSION`]. WAL mode,
    /// `synchronous=FULL`: a commit that returned is on disk (see the
    /// module's doc for the durability window).
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        create_dir(dir)?;
        let path = dir.join(FILE_NAME);
        check_header_and_mode(&path)?;

        let conn = sq(&path, "cannot open", Connection::open(&path))?;
        let mut store = Store { conn, path };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        let p = &self.path;
        let c = &self.conn;
        sq(
            p,
            "cannot set the busy timeout",
            c.busy_timeout(std::time::Duration::from_secs(5)),
        )?;
        // Reading the header also makes SQLite reject a non-database file.
        let app_id: i32 = c
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| not_state_or(p, e, "cannot read the file header"))?;
        let tables: i64 = c
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| not_state_or(p, e, "cannot read the schema"))?;
        if app_id != APPLICATION_ID && (app_id != 0 || tables != 0) {
            return Err(StoreError::NotStateFile {
                path: p.clone(),
                reason: format!("SQLite database with application id {app_id:#x}"),
            });
        }
        if tables != 0 {
            let check: String = c
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(|e| not_state_or(p, e, "integrity check failed"))?;
            if check != "ok" {
                return Err(StoreError::Corrupt {
                    path: p.clone(),
                    what: format!("integrity check: {check}"),
                });
            }
        }
        let mode: String = sq(
            p,
            "cannot switch to WAL mode",
            c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)),
        )?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sqlite {
                path: p.clone(),
                what: "cannot switch to WAL mode",
                source: rusqlite::Error::InvalidQuery,
            });
        }
        sq(
            p,
            "cannot set the pragmas",
            c.execute_batch(
                "PRAGMA synchronous = FULL;
                 PRAGMA temp_store = MEMORY;
                 PRAGMA journal_size_limit = 8388608;",
            ),
        )?;
        // SQLite gives -wal and -shm the database's mode; tighten files left
        // by an older version or another tool.
        for suffix in ["-wal", "-shm"] {
            let mut f = self.path.clone().into_os_string();
            f.push(suffix);
            tighten(Path::new(&f))?;
        }
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
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
            let version: i64 = sq(
                p,
                "cannot read the schema version",
                tx.query_row("PRAGMA user_version", [], |r| r.get(0)),
            )?;
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
            sq(
                p,
                "cannot migrate the schema",
                tx.execute_batch(MIGRATIONS[from]),
            )?;
            sq(
                p,
                "cannot migrate the schema",
                tx.execute_batch(&format!(
                    "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};",
                    from + 1
                )),
            )?;
            sq(p, "cannot commit the schema migration", tx.commit())?;
        }
    }

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

    /// Write the cursor of `source` and the batch's changes in one
    /// transaction: either all of it is on disk when this returns `Ok`, or
    /// none of it is.
    pub fn commit(&mut self, source: &str, cursor: &str, batch: &Batch) -> Result<(), StoreError> {
        self.write(Some((source, cursor, None)), batch)
    }

    /// [`commit`](Self::commit), with the record of journal sequences read
    /// (`journal::sd::Position::seen_text`).
    pub fn commit_position(
        &mut self,
        source: &str,
        cursor: &str,
        seen: Option<&str>,
        batch: &Batch,
    ) -> Result<(), StoreError> {
        self.write(Some((source, cursor, seen)), batch)
    }

    /// Write a batch without moving any cursor (changes that no journal
    /// entry caused, e.g. outbox items queued by a timer).
    pub fn apply(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.write(None, batch)
    }

    fn write(
        &mut self,
        cursor: Option<(&str, &str, Option<&str>)>,
        b: &Batch,
    ) -> Result<(), StoreError> {
        let p = &self.path;
        let what = "cannot commit a batch";
        let tx = sq(
            p,
            what,
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        if let Some((source, cursor, seen)) = cursor {
            sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT INTO cursor (source, cursor, seen) VALUES (?1, ?2, ?3)
                     ON CONFLICT (source) DO UPDATE
                     SET cursor = excluded.cursor, seen = excluded.seen",
                )
                .and_then(|mut st| st.execute(params![source, cursor, seen])),
            )?;
        }
        {
            let mut put = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO counter
                     (category, ident, key, ticks, grace_until, expires)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                ),
            )?;
            let mut del = sq(
                p,
                what,
                tx.prepare_cached("DELETE FROM counter WHERE category = ?1 AND ident = ?2"),
            )?;
            for (cat, keys) in &b.counters {
                for (key, entry) in keys {
                    let ident = ident_value(key);
                    match entry {
                        Some(e) => {
                            let ticks = serde_json::to_string(&e.ticks)
                                .expect("a list of integers is JSON");
                            let expires = e
                                .ticks
                                .iter()
                                .copied()
                                .chain(e.grace_until)
                                .max()
                                .unwrap_or(i64::MIN);
                            sq(
                                p,
                                what,
                                put.execute(params![
                                    cat,
                                    ident,
                                    encode_value(key),
                                    ticks,
                                    e.grace_until,
                                    expires
                                ]),
                            )?;
                        }
                        None => {
                            sq(p, what, del.execute(params![cat, ident]))?;
                        }
                    }
                }
            }
        }
        if !b.mappings.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT INTO mapping
                     (saddr, sport, addr, port, daddr, dport, stamp, shift, dead_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                ),
            )?;
            for m in &b.mappings {
                let opt = |v: &Option<Value>| v.as_ref().map(encode_value);
                sq(
                    p,
                    what,
                    st.execute(params![
                        encode_value(&m.saddr),
                        opt(&m.sport),
                        opt(&m.keys[0]),
                        opt(&m.keys[1]),
                        opt(&m.keys[2]),
                        opt(&m.keys[3]),
                        m.stamp,
                        i64::from(m.shift),
                        mapping_dead_at(m.stamp, m.shift)
                    ]),
                )?;
            }
        }
        if !b.sessions.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO session (name, key, fields, until)
                     VALUES (?1, ?2, ?3, ?4)",
                ),
            )?;
            for (name, key, r) in &b.sessions {
                let key = J::Array(key.iter().map(to_json).collect()).to_string();
                let fields = J::Array(
                    r.fields
                        .iter()
                        .map(|(n, v)| J::Array(vec![J::String(n.clone()), to_json(v)]))
                        .collect(),
                )
                .to_string();
                sq(p, what, st.execute(params![name, key, fields, r.until]))?;
            }
        }
        if let Some(now) = b.sweep_at {
            sq(
                p,
                what,
                tx.prepare_cached("DELETE FROM session WHERE until <= ?1")
                    .and_then(|mut st| st.execute([now])),
            )?;
            sq(
                p,
                what,
                tx.prepare_cached("DELETE FROM counter WHERE expires <= ?1")
                    .and_then(|mut st| st.execute([now])),
            )?;
            sq(
                p,
                what,
                tx.prepare_cached("DELETE FROM mapping WHERE dead_at <= ?1")
                    .and_then(|mut st| st.execute([now.div_euclid(1_000_000)])),
            )?;
        }
        if !b.bans.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO ban (kind, name, ip, end_us, rule)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                ),
            )?;
            for r in b.bans.values() {
                sq(
                    p,
                    what,
                    st.execute(params![r.kind.as_str(), r.set, r.ip, r.end_us, r.rule]),
                )?;
            }
        }
        if !b.reports.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT INTO report (level, message, details, time_us)
                     VALUES (?1, ?2, ?3, ?4)",
                ),
            )?;
            for r in &b.reports {
                sq(
                    p,
                    what,
                    st.execute(params![r.level, r.message, r.details, r.time_us]),
                )?;
            }
        }
        if !b.outbox.is_empty() {
            let mut st = sq(
                p,
                what,
                tx.prepare_cached(
                    "INSERT INTO outbox (kind, payload, next_at_us) VALUES (?1, ?2, ?3)",
                ),
            )?;
            for o in &b.outbox {
                sq(
                    p,
                    what,
                    st.execute(params![o.kind, o.payload.to_string(), o.next_at_us]),
                )?;
            }
        }
        if let Some((until, sent_at)) = b.report_sent {
            sq(
                p,
                what,
                tx.execute("DELETE FROM report WHERE time_us <= ?1", [until]),
            )?;
            sq(
                p,
                what,
                tx.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_report_sent', ?1)",
                    [sent_at],
                ),
            )?;
        }
        sq(p, what, tx.commit())
    }

    /// Delete the counters of categories that are not in `keep` (rules
    /// renamed or removed); returns the number of keys deleted.
    pub fn retain_counter_categories(&mut self, keep: &[&str]) -> Result<usize, StoreError> {
        let p = &self.path;
        let what = "cannot delete old counters";
        let tx = sq(
            p,
            what,
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        let cats: Vec<String> = {
            let mut st = sq(p, what, tx.prepare("SELECT DISTINCT category FROM counter"))?;
            let rows = sq(p, what, st.query_map([], |r| r.get(0)))?;
            sq(p, what, rows.collect())?
        };
        let mut n = 0;
        for c in cats.iter().filter(|c| !keep.contains(&c.as_str())) {
            n += sq(
                p,
                what,
                tx.execute("DELETE FROM counter WHERE category = ?1", [c]),
            )?;
        }
        sq(p, what, tx.commit())?;
        Ok(n)
    }

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

    /// The records for the next daily report, oldest first.
    pub fn report_records(&self) -> Result<Vec<ReportRecord>, StoreError> {
        let p = &self.path;
        let what = "cannot read the report records";
        let mut st = sq(
            p,
            what,
            self.conn.prepare(
                "SELECT level, message, details, time_us FROM report ORDER BY time_us, id",
            ),
        )?;
        let rows = sq(
            p,
            what,
            st.query_map([], |r| {
                Ok(ReportRecord {
                    level: r.get(0)?,
                    message: r.get(1)?,
                    details: r.get(2)?,
                    time_us: r.get(3)?,
                })
            }),
        )?;
        sq(p, what, rows.collect())
    }

    /// When the last daily report was sent (µs), if ever.
    pub fn last_report_sent(&self) -> Result<Option<i64>, StoreError> {
        sq(
            &self.path,
            "cannot read the last report time",
            self.conn
                .query_row(
                    "SELECT value FROM meta WHERE key = 'last_report_sent'",
                    [],
                    |r| r.get(0),
                )
                .optional(),
        )
    }

    /// Atomically delete the report records with `time_us <= until_us` and
    /// set the last report time to `sent_at_us`.
    pub fn report_sent(&mut self, until_us: i64, sent_at_us: i64) -> Result<(), StoreError> {
        let p = &self.path;
        let what = "cannot record the report as sent";
        let tx = sq(
            p,
            what,
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        sq(
            p,
            what,
            tx.execute("DELETE FROM report WHERE time_us <= ?1", [until_us]),
        )?;
        sq(
            p,
            what,
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_report_sent', ?1)",
                [sent_at_us],
            ),
        )?;
        sq(p, what, tx.commit())
    }

    /// Up to `limit` outbox items of the given kinds due at `now_us`,
    /// earliest first.
    pub fn outbox_due(
        &self,
        now_us: i64,
        kinds: &[&str],
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let p = &self.path;
        let what = "cannot read the outbox";
        let mut st = sq(
            p,
            what,
            self.conn.prepare_cached(
                "SELECT id, kind, payload, attempts, next_at_us, last_error FROM outbox
                 WHERE next_at_us <= ?1 AND kind IN (SELECT value FROM json_each(?3))
                 ORDER BY next_at_us, id LIMIT ?2",
            ),
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let kinds = serde_json::to_string(kinds).expect("a list of strings is JSON");
        let rows = sq(
            p,
            what,
            st.query_map(params![now_us, limit, kinds], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            }),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, payload, attempts, next_at_us, last_error) = sq(p, what, row)?;
            let payload = serde_json::from_str(&payload)
                .map_err(|e| corrupt(p, "outbox payload", e.to_string()))?;
            out.push(OutboxItem {
                id,
                kind,
                payload,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                next_at_us,
                last_error,
            });
        }
        Ok(out)
    }

    /// Keep at most `keep` items of the given kinds, the newest; returns
    /// how many older ones were dropped.
    pub fn outbox_trim(&mut self, kinds: &[&str], keep: usize) -> Result<usize, StoreError> {
        let kinds = serde_json::to_string(kinds).expect("a list of strings is JSON");
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        sq(
            &self.path,
            "cannot trim the outbox",
            self.conn.execute(
                "DELETE FROM outbox WHERE id IN (
                     SELECT id FROM outbox WHERE kind IN (SELECT value FROM json_each(?1))
                     ORDER BY id DESC LIMIT -1 OFFSET ?2)",
                params![kinds, keep],
            ),
        )
    }

    /// The item was carried out: delete it.
    pub fn outbox_done(&mut self, id: i64) -> Result<(), StoreError> {
        sq(
            &self.path,
            "cannot delete an outbox item",
            self.conn.execute("DELETE FROM outbox WHERE id = ?1", [id]),
        )
        .map(drop)
    }

    /// The item failed: count the attempt, keep the error, try again at
    /// `next_at_us`.
    pub fn outbox_retry(
        &mut self,
        id: i64,
        next_at_us: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        sq(
            &self.path,
            "cannot reschedule an outbox item",
            self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at_us = ?2, last_error = ?3
                 WHERE id = ?1",
                params![id, next_at_us, error],
            ),
        )
        .map(drop)
    }

    /// Number of items in the outbox, due or not.
    pub fn outbox_len(&self) -> Result<usize, StoreError> {
        let n: i64 = sq(
            &self.path,
            "cannot count the outbox",
            self.conn
                .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

fn corrupt(path: &Path, what: &str, detail: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        what: format!("bad {what}: {detail}"),
    }
}

/// Create the state directory with mode 0700 when it does not exist.
pub fn create_dir(dir: &Path) -> Result<(), StoreError> {
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err(dir, "cannot create the state directory"))?;
        // The mode given to mkdir is masked by the umask.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err(dir, "cannot set the state directory's mode"))?;
    }
    Ok(())
}

impl StoreError {
    /// The file is damaged (truncated, overwritten, corrupt pages), as
    /// opposed to unreadable, foreign or newer.
    pub fn is_damage(&self) -> bool {
        match self {
            StoreError::Corrupt { .. } => true,
            StoreError::NotStateFile { reason, .. } => reason == "not an SQLite database",
            StoreError::Sqlite { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ),
            _ => false,
        }
    }
}

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

/// SQLite's "not a database" becomes [`StoreError::NotStateFile`].
fn not_state_or(path: &Path, e: rusqlite::Error, what: &'static str) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotStateFile {
            path: path.to_owned(),
            reason: "not an SQLite database".into(),
        },
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
            what: e.to_string(),
        },
        _ => StoreError::Sqlite {
            path: path.to_owned(),
            what,
            source: e,
        },
    }
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Create the file with mode 0600 if needed, tighten a looser mode, and
/// reject a non-empty file that does not start with SQLite's magic.
fn check_header_and_mode(path: &Path) -> Result<(), StoreError> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io_err(path, "cannot open or create the state file"))?;
    let meta = f
        .metadata()
        .map_err(io_err(path, "cannot read the state file's metadata"))?;
    if !meta.is_file() {
        return Err(StoreError::NotStateFile {
            path: path.to_owned(),
            reason: "not a regular file".into(),
        });
    }
    if meta.permissions().mode() & 0o777 != 0o600 {
        f.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(io_err(path, "cannot set the state file's mode"))?;
    }
    if meta.len() == 0 {
        return Ok(());
    }
    let mut head = [0u8; 16];
    let n = f
        .read(&mut head)
        .map_err(io_err(path, "cannot read the state file"))?;
    if n < head.len() || &head != SQLITE_MAGIC {
        return Err(StoreError::NotStateFile {
            path: path.to_owned(),
            reason: "not an SQLite database".into(),
        });
    }
    Ok(())
}

/// Set an existing file's mode to 0600 if it is looser.
fn tighten(path: &Path) -> Result<(), StoreError> {
    match fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o777 != 0o600 => {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .map_err(io_err(path, "cannot set the file's mode"))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path, "cannot read the file's metadata")(e)),
    }
}

/// The first second (engine clock) at which a mapping is dead:
/// `(now_s >> shift) <= stamp` ⇔ `now_s < (stamp + 1) << shift`.
fn mapping_dead_at(stamp: i64, shift: u32) -> i64 {
    let v = (i128::from(stamp) + 1) << shift.min(63);
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

// ---------------------------------------------------------------------------
// Value encoding

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(format!("bad hex digit {:?}", c as char)),
    };
    let pairs = s.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err("odd hex length".into());
    }
    pairs
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

fn uuid_of(s: &str) -> Result<[u8; 16], String> {
    unhex(s)?
        .try_into()
        .map_err(|_| "a UUID has 16 bytes".to_string())
}

fn to_json(v: &Value) -> J {
    let (tag, val) = match v {
        Value::None => ("none", J::Null),
        Value::Bool(b) => ("bool", J::Bool(*b)),
        Value::Int(i) => ("int", J::from(*i)),
        Value::Float(f) => ("float", J::String(format!("{:016x}", f.to_bits()))),
        Value::Str(s) => ("str", J::String(s.clone())),
        Value::Bytes(b) => ("bytes", J::String(hex(b))),
        Value::Time(t) => ("time", J::from(*t)),
        Value::Delta(d) => ("delta", J::from(*d)),
        Value::Uuid(u) => ("uuid", J::String(hex(u))),
        Value::Monotonic(t, u) => ("monotonic", J::Array(vec![J::from(*t), J::String(hex(u))])),
        Value::List(items) => ("list", J::Array(items.iter().map(to_json).collect())),
    };
    let mut m = serde_json::Map::new();
    m.insert(tag.into(), val);
    J::Object(m)
}

fn from_json(j: &J) -> Result<Value, String> {
    let bad = || format!("bad tagged value {j}");
    let J::Object(m) = j else { return Err(bad()) };
    let mut it = m.iter();
    let (Some((tag, v)), None) = (it.next(), it.next()) else {
        return Err(bad());
    };
    let int = |v: &J| v.as_i64().ok_or_else(bad);
    let text = |v: &J| v.as_str().map(str::to_owned).ok_or_else(bad);
    Ok(match (tag.as_str(), v) {
        ("none", J::Null) => Value::None,
        ("bool", J::Bool(b)) => Value::Bool(*b),
        ("int", v) => Value::Int(int(v)?),
        ("float", v) => Value::Float(f64::from_bits(
            u64::from_str_radix(&text(v)?, 16).map_err(|_| bad())?,
        )),
        ("str", v) => Value::Str(text(v)?),
        ("bytes", v) => Value::Bytes(unhex(&text(v)?)?),
        ("time", v) => Value::Time(int(v)?),
        ("delta", v) => Value::Delta(int(v)?),
        ("uuid", v) => Value::Uuid(uuid_of(&text(v)?)?),
        ("monotonic", J::Array(a)) if a.len() == 2 => {
            Value::Monotonic(int(&a[0])?, uuid_of(&text(&a[1])?)?)
        }
        ("list", J::Array(a)) => Value::List(a.iter().map(from_json).collect::<Result<_, _>>()?),
        _ => return Err(bad()),
    })
}

/// The tagged JSON text of a value.
pub fn encode_value(v: &Value) -> String {
    to_json(v).to_string()
}

/// The value of a tagged JSON text.
pub fn decode_value(s: &str) -> Result<Value, String> {
    let j: J = serde_json::from_str(s).map_err(|e| format!("{e} in {s:?}"))?;
    from_json(&j)
}

/// The value with numbers in the form `Value`'s `Hash` uses: `Bool` and
/// integral `Float` become `Int`.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Int(i64::from(*b)),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.2e18 => {
            Value::Int(*f as i64)
        }
        Value::List(items) => Value::List(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The identity of a counter key in the file: equal values (`Value`'s `Eq`)
/// have equal identities.
fn ident_value(v: &Value) -> String {
    encode_value(&canonical(v))
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const S: i64 = 1_000_000;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    fn temp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn entry(ticks: &[i64], grace: Option<i64>) -> CounterEntry {
        CounterEntry {
            ticks: ticks.to_vec(),
            grace_until: grace,
        }
    }

    fn all_variants() -> Vec<Value> {
        let u = *b"0123456789abcdef";
        vec![
            Value::None,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(0),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(1.5),
            Value::Float(-0.0),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NAN),
            Value::Float(1e300),
            Value::Str(String::new()),
            Value::Str("ünï \"cödé\" \\ \n 🦀".into()),
            Value::Bytes(vec![]),
            Value::Bytes(vec![0, 0xff, 0x80, b'a']),
            Value::Time(1_700_000_000_123_456),
            Value::Time(-1),
            Value::Delta(-5),
            Value::Uuid(u),
            Value::Monotonic(123_456, u),
            Value::List(vec![]),
            Value::List(vec![
                s("a"),
                Value::Int(1),
                Value::List(vec![Value::None, Value::Bytes(vec![1])]),
            ]),
        ]
    }

    /// Exact equality, variant and bits (Value's `==` is Python's).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            _ => {
                std::mem::discriminant(a) == std::mem::discriminant(b)
                    && format!("{a:?}") == format!("{b:?}")
            }
        }
    }

    #[test]
    fn every_value_variant_round_trips() {
        for v in all_variants() {
            let text = encode_value(&v);
            let back = decode_value(&text).unwrap();
            assert!(same(&v, &back), "{v:?} -> {text} -> {back:?}");
        }
        assert_eq!(encode_value(&s("1.2.3.4")), r#"{"str":"1.2.3.4"}"#);
        assert_eq!(encode_value(&Value::Int(5)), r#"{"int":5}"#);
        for bad in [
            "",
            "3",
            r#"{"str":1}"#,
            r#"{"what":1}"#,
            r#"{"uuid":"00"}"#,
            r#"{"bytes":"0g"}"#,
            r#"{"int":1,"str":"a"}"#,
        ] {
            assert!(decode_value(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_value_variant_round_trips_through_the_file() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        let mut b = Batch::new();
        for (i, v) in all_variants().into_iter().enumerate() {
            b.set_counter(&format!("c{i:02}"), &v, &entry(&[i as i64], None));
            b.add_mapping(Mapping {
                saddr: v.clone(),
                sport: Some(v.clone()),
                keys: [Some(v.clone()), None, Some(v), Some(Value::None)],
                stamp: i as i64,
                shift: 3,
            });
        }
        st.commit("system", "c", &b).unwrap();
        drop(st);
        let st = Store::open(d.path()).unwrap();
        let counters = st.load_counters().unwrap();
        let maps = st.load_mappings().unwrap();
        for (i, v) in all_variants().iter().enumerate() {
            let (cat, key, e) = &counters[i];
            assert_eq!(cat, &format!("c{i:02}"));
            assert!(same(key, v), "{key:?} vs {v:?}");
            assert_eq!(e, &entry(&[i as i64], None));
            let m = &maps[i];
            assert!(same(&m.saddr, v));
            assert!(same(m.sport.as_ref().unwrap(), v));
            assert!(same(m.keys[0].as_ref().unwrap(), v));
            assert!(m.keys[1].is_none());
            assert!(same(m.keys[3].as_ref().unwrap(), &Value::None));
            assert_eq!((m.stamp, m.shift), (i as i64, 3));
        }
    }

    #[test]
    fn equal_values_share_a_counter_identity() {
        let one = [
            Value::Int(1),
            Value::Bool(true),
            Value::Float(1.0),
            Value::List(vec![]),
        ];
        assert_eq!(ident_value(&one[0]), ident_value(&one[1]));
        assert_eq!(ident_value(&one[0]), ident_value(&one[2]));
        assert_ne!(ident_value(&one[0]), ident_value(&s("1")));
        assert_ne!(ident_value(&Value::Float(1.5)), ident_value(&Value::Int(1)));
        assert_eq!(
            ident_value(&Value::List(vec![Value::Bool(false)])),
            ident_value(&Value::List(vec![Value::Float(-0.0)]))
        );
        assert_ne!(ident_value(&Value::Time(1)), ident_value(&Value::Int(1)));
    }

    #[test]
    fn cursors_are_per_source() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        assert_eq!(st.load_cursor("system").unwrap(), None);
        st.commit("system", "s=1", &Batch::new()).unwrap();
        st.commit("/var/log/journal/remote", "r=1", &Batch::new())
            .unwrap();
        st.commit("system", "s=2", &Batch::new()).unwrap();
        drop(st);
        let st = Store::open(d.path()).unwrap();
        assert_eq!(st.load_cursor("system").unwrap().as_deref(), Some("s=2"));
        assert_eq!(
            st.load_cursor("/var/log/journal/remote")
                .unwrap()
                .as_deref(),
            Some("r=1")
        );
        assert_eq!(st.load_cursor("other").unwrap(), None);
    }

    #[test]
    fn batch_keeps_the_last_state_of_a_counter_key() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        let mut b = Batch::new();
        b.set_counter("fails", &s("a"), &entry(&[10], None));
        b.set_counter("fails", &s("a"), &entry(&[10, 20], None));
        b.set_counter("fails", &s("b"), &entry(&[5], None));
        b.delete_counter("fails", &s("b"));
        b.set_counter("fails", &s("c"), &entry(&[5], None));
        b.set_counter("fails", &s("c"), &entry(&[], None)); // empty: deleted
        b.set_counter("fails", &Value::Int(1), &entry(&[1], None));
        b.set_counter("fails", &Value::Bool(true), &entry(&[1, 2], None));
        b.set_counter("other", &s("a"), &entry(&[], Some(99)));
        assert_eq!(b.counters["fails"].len(), 4);
        st.commit("system", "1", &b).unwrap();
        let mut got = st.load_counters().unwrap();
        got.sort_by_key(|(c, k, _)| (c.clone(), encode_value(k)));
        assert_eq!(
            got,
            vec![
                ("fails".into(), Value::Int(1), entry(&[1, 2], None)),
                ("fails".into(), s("a"), entry(&[10, 20], None)),
                ("other".into(), s("a"), entry(&[], Some(99))),
            ]
        );

        // A later batch with the same key under another spelling replaces
        // the row; a deletion removes it.
        let mut b = Batch::new();
        b.set_counter("fails", &Value::Float(1.0), &entry(&[7], None));
        b.delete_counter("other", &s("a"));
        st.commit("system", "2", &b).unwrap();
        let got = st.load_counters().unwrap();
        assert_eq!(got.len(), 2);
        assert!(got
            .iter()
            .any(|(c, k, e)| c == "fails" && same(k, &Value::Float(1.0)) && e.ticks == [7]));
        assert!(!got.iter().any(|(c, _, _)| c == "other"));

        b.clear();
        assert!(b.is_empty());
        assert_eq!(st.retain_counter_categories(&["other"]).unwrap(), 2);
        assert!(st.load_counters().unwrap().is_empty());
    }

    #[test]
    fn sweep_deletes_dead_counters_and_mappings_only() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        let mut b = Batch::new();
        b.set_counter("c", &s("dead"), &entry(&[10 * S, 20 * S], None));
        b.set_counter("c", &s("tick"), &entry(&[10 * S, 31 * S], None));
        b.set_counter("c", &s("grace"), &entry(&[], Some(40 * S)));
        b.set_counter("c", &s("forever"), &entry(&[i64::MAX], None));
        let m = |name: &str, stamp| Mapping {
            saddr: s(name),
            sport: None,
            keys: Default::default(),
            stamp,
            shift: 2,
        };
        // alive while (now_s >> 2) <= stamp, i.e. now_s < 4 * (stamp + 1).
        b.add_mapping(m("dies at 28", 6));
        b.add_mapping(m("dies at 32", 7));
        b.add_mapping(m("dies at 36", 8));
        st.commit("system", "1", &b).unwrap();

        let mut b = Batch::new();
        b.sweep(29 * S);
        b.sweep(30 * S);
        st.commit("system", "2", &b).unwrap();
        let mut keys: Vec<_> = st
            .load_counters()
            .unwrap()
            .into_iter()
            .map(|(_, k, _)| k)
            .collect();
        keys.sort_by_key(encode_value);
        assert_eq!(keys, vec![s("forever"), s("grace"), s("tick")]);
        let names: Vec<_> = st
            .load_mappings()
            .unwrap()
            .into_iter()
            .map(|m| m.saddr)
            .collect();
        assert_eq!(names, vec![s("dies at 32"), s("dies at 36")]);
    }

    #[test]
    fn mapping_dead_at_agrees_with_alive() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let shift = (next() % 12) as u32;
            let stamp = (next() % 4000) as i64 - 2000;
            let now_s = (next() % 80_000) as i64 - 40_000;
            let m = Mapping {
                saddr: Value::None,
                sport: None,
                keys: Default::default(),
                stamp,
                shift,
            };
            let now_us = now_s * S + (next() % 1_000_000) as i64;
            assert_eq!(
                m.alive(now_us),
                now_us.div_euclid(S) < mapping_dead_at(stamp, shift),
                "stamp {stamp} shift {shift} now {now_us}"
            );
        }
        assert_eq!(mapping_dead_at(i64::MAX, 63), i64::MAX);
        assert_eq!(mapping_dead_at(i64::MIN, 63), i64::MIN);
    }

    #[test]
    fn mappings_keep_capture_order_across_batches() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        for i in 0..5 {
            let mut b = Batch::new();
            for j in 0..3 {
                b.add_mapping(Mapping {
                    saddr: Value::Int(i * 3 + j),
                    sport: Some(s("22")),
                    keys: [Some(s("10.0.0.1")), Some(s("22")), None, None],
                    stamp: 1 << 40,
                    shift: 6,
                });
            }
            st.commit("system", &i.to_string(), &b).unwrap();
        }
        let got: Vec<_> = st
            .load_mappings()
            .unwrap()
            .into_iter()
            .map(|m| m.saddr)
            .collect();
        assert_eq!(got, (0..15).map(Value::Int).collect::<Vec<_>>());
    }

    fn ban(kind: BanKind, set: &str, ip: &str, end: Option<i64>, rule: &str) -> BanRecord {
        BanRecord {
            kind,
            set: set.into(),
            ip: ip.into(),
            end_us: end,
            rule: rule.into(),
        }
    }

    #[test]
    fn bans_replace_remove_and_expire() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        let mut b = Batch::new();
        b.ban(ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(100), "r:1:1"));
        b.ban(ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(200), "r:2:1"));
        b.ban(ban(BanKind::Ipset, "ip4 f s", "1.2.3.4", None, "r:3:1"));
        b.ban(ban(BanKind::Nft, "ip6 f s", "::1", Some(50), "r:4:1"));
        st.commit("system", "1", &b).unwrap();
        let mut b = Batch::new();
        b.ban(ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(300), "r:5:1"));
        b.ban(ban(BanKind::Nft, "ip4 f s", "5.6.7.8", Some(150), "r:6:1"));
        st.commit("system", "2", &b).unwrap();
        drop(st);
        let mut st = Store::open(d.path()).unwrap();
        assert_eq!(
            st.bans().unwrap(),
            vec![
                ban(BanKind::Ipset, "ip4 f s", "1.2.3.4", None, "r:3:1"),
                ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(300), "r:5:1"),
                ban(BanKind::Nft, "ip4 f s", "5.6.7.8", Some(150), "r:6:1"),
                ban(BanKind::Nft, "ip6 f s", "::1", Some(50), "r:4:1"),
            ]
        );
        assert!(st.remove_ban(BanKind::Nft, "ip6 f s", "::1").unwrap());
        assert!(!st.remove_ban(BanKind::Nft, "ip6 f s", "::1").unwrap());
        assert_eq!(st.drop_expired_bans(150).unwrap(), 1);
        assert_eq!(st.drop_expired_bans(150).unwrap(), 0);
        assert_eq!(
            st.bans().unwrap(),
            vec![
                ban(BanKind::Ipset, "ip4 f s", "1.2.3.4", None, "r:3:1"),
                ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(300), "r:5:1"),
            ]
        );
        assert_eq!(st.drop_expired_bans(i64::MAX).unwrap(), 1);
        assert_eq!(st.bans().unwrap().len(), 1);
    }

    fn rec(msg: &str, t: i64) -> ReportRecord {
        ReportRecord {
            level: "WARN".into(),
            message: msg.into(),
            details: "FIRST".into(),
            time_us: t,
        }
    }

    #[test]
    fn report_records_and_last_sent() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        assert_eq!(st.last_report_sent().unwrap(), None);
        let mut b = Batch::new();
        b.report(rec("b", 20));
        b.report(rec("a", 10));
        b.report(rec("c", 30));
        b.report(rec("a", 10));
        st.commit("system", "1", &b).unwrap();
        assert_eq!(
            st.report_records().unwrap(),
            vec![rec("a", 10), rec("a", 10), rec("b", 20), rec("c", 30)]
        );
        st.report_sent(20, 1000).unwrap();
        drop(st);
        let mut st = Store::open(d.path()).unwrap();
        assert_eq!(st.last_report_sent().unwrap(), Some(1000));
        assert_eq!(st.report_records().unwrap(), vec![rec("c", 30)]);
        st.report_sent(30, 2000).unwrap();
        assert_eq!(st.last_report_sent().unwrap(), Some(2000));
        assert!(st.report_records().unwrap().is_empty());
    }

    const ALL_KINDS: &[&str] = &["email", "nftBan"];

    #[test]
    fn sessions_round_trip_and_are_swept_when_over() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        let mut b = Batch::new();
        let r = |until| Remembered {
            fields: vec![
                ("clientIP".into(), Value::Str("192.0.2.1".into())),
                ("n".into(), Value::Int(3)),
            ],
            until,
        };
        let key = vec![Value::Str("host".into()), Value::Int(42)];
        b.set_session("sshd".into(), key.clone(), r(100));
        b.set_session("sshd".into(), vec![Value::Int(1)], r(10));
        st.commit("system", "1", &b).unwrap();
        drop(st);
        let mut st = Store::open(d.path()).unwrap();
        let mut got = st.load_sessions().unwrap();
        got.sort_by_key(|(_, _, r)| r.until);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], ("sshd".to_owned(), key, r(100)));
        let mut b = Batch::new();
        b.sweep(50);
        st.commit("system", "2", &b).unwrap();
        assert_eq!(
            st.load_sessions().unwrap().len(),
            1,
            "the one over at 10 is gone"
        );
    }

    #[test]
    fn outbox_filters_by_kind_and_trims_the_oldest() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        let mut b = Batch::new();
        for n in 0..5 {
            b.outbox("email", serde_json::json!({ "n": n }), 100);
        }
        b.outbox("nft", serde_json::json!({ "n": 9 }), 200);
        st.apply(&b).unwrap();
        let bans = st.outbox_due(1000, &["nft", "ipset"], 10).unwrap();
        assert_eq!(bans.len(), 1);
        assert_eq!(bans[0].payload["n"], 9);
        assert_eq!(st.outbox_trim(&["email"], 2).unwrap(), 3);
        let mails = st.outbox_due(1000, &["email"], 10).unwrap();
        let ns: Vec<_> = mails.iter().map(|i| i.payload["n"].as_i64()).collect();
        assert_eq!(ns, vec![Some(3), Some(4)]);
        assert_eq!(st.outbox_len().unwrap(), 3);
    }

    #[test]
    fn outbox_delivers_in_order_with_retries() {
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        let mut b = Batch::new();
        let p = |n: i64| serde_json::json!({"effect": "email", "n": n, "s": "é\n"});
        b.outbox("email", p(1), 100);
        b.outbox("nftBan", p(2), 50);
        b.outbox("email", p(3), 100);
        b.outbox("email", p(4), 500);
        st.apply(&b).unwrap();
        assert_eq!(st.load_cursor("system").unwrap(), None);
        assert_eq!(st.outbox_len().unwrap(), 4);
        assert!(st.outbox_due(49, ALL_KINDS, 10).unwrap().is_empty());
        let due = st.outbox_due(100, ALL_KINDS, 10).unwrap();
        let ns: Vec<_> = due
            .iter()
            .map(|i| i.payload["n"].as_i64().unwrap())
            .collect();
        assert_eq!(ns, vec![2, 1, 3]);
        assert_eq!(due[0].kind, "nftBan");
        assert_eq!(due[0].payload, p(2));
        assert_eq!((due[0].attempts, due[0].last_error.as_deref()), (0, None));
        assert_eq!(st.outbox_due(100, ALL_KINDS, 2).unwrap().len(), 2);

        st.outbox_done(due[0].id).unwrap();
        st.outbox_retry(due[1].id, 400, "smtp: connection refused")
            .unwrap();
        st.outbox_retry(due[1].id, 450, "smtp: timeout").unwrap();
        drop(st);
        let st = Store::open(d.path()).unwrap();
        let due = st.outbox_due(100, ALL_KINDS, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].payload, p(3));
        let all = st.outbox_due(i64::MAX, ALL_KINDS, 10).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].payload, p(1));
        assert_eq!(all[1].attempts, 2);
        assert_eq!(all[1].next_at_us, 450);
        assert_eq!(all[1].last_error.as_deref(), Some("smtp: timeout"));
    }

    #[test]
    fn files_are_for_root_only() {
        let d = temp();
        let dir = d.path().join("a/pyruse");
        let mut st = Store::open(&dir).unwrap();
        let mut b = Batch::new();
        b.set_counter("c", &s("k"), &entry(&[1], None));
        st.commit("system", "1", &b).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join(FILE_NAME);
        for f in [
            db.clone(),
            dir.join("state.sqlite-wal"),
            dir.join("state.sqlite-shm"),
        ] {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
        drop(st);

        // Looser modes left by someone else are tightened at open.
        fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();
        let st = Store::open(&dir).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&dir.join("state.sqlite-wal")), 0o600);
        assert_eq!(mode(&dir.join("state.sqlite-shm")), 0o600);
        drop(st);
    }

    fn open_err(dir: &Path) -> StoreError {
        match Store::open(dir) {
            Ok(_) => panic!("opened"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_foreign_or_damaged_file_is_an_error_not_a_panic() {
        // Not SQLite at all.
        let d = temp();
        fs::write(
            d.path().join(FILE_NAME),
            "this is not a database\n".repeat(100),
        )
        .unwrap();
        let e = open_err(d.path());
        assert!(matches!(e, StoreError::NotStateFile { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("is not a Pyruse state file"), "{msg}");
        assert!(msg.contains(FILE_NAME), "{msg}");

        // Shorter than SQLite's header.
        let d = temp();
        fs::write(d.path().join(FILE_NAME), "SQLite").unwrap();
        assert!(matches!(
            open_err(d.path()),
            StoreError::NotStateFile { .. }
        ));

        // Another program's SQLite database.
        let d = temp();
        let c = Connection::open(d.path().join(FILE_NAME)).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(c);
        let e = open_err(d.path());
        assert!(e.to_string().contains("not a Pyruse state file"), "{e}");

        // A directory where the file should be.
        let d = temp();
        fs::create_dir(d.path().join(FILE_NAME)).unwrap();
        let e = open_err(d.path());
        assert!(e.to_string().contains(FILE_NAME), "{e}");

        // A newer schema.
        let d = temp();
        drop(Store::open(d.path()).unwrap());
        let c = Connection::open(d.path().join(FILE_NAME)).unwrap();
        c.execute_batch("PRAGMA user_version = 99").unwrap();
        drop(c);
        let e = open_err(d.path());
        assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e:?}");

        // A Pyruse file with damaged pages (garbage after the header page).
        let d = temp();
        let mut st = Store::open(d.path()).unwrap();
        let mut b = Batch::new();
        for i in 0..2000 {
            b.set_counter("c", &Value::Int(i), &entry(&[i; 8], None));
        }
        st.commit("system", "1", &b).unwrap();
        drop(st); // checkpoints the WAL into the file
        let db = d.path().join(FILE_NAME);
        let mut bytes = fs::read(&db).unwrap();
        assert!(bytes.len() > 3 * 4096);
        for (i, x) in bytes[4096..].iter_mut().enumerate() {
            *x = (i * 7 % 251) as u8;
        }
        fs::write(&db, bytes).unwrap();
        let r = Store::open(d.path()).and_then(|st| st.load_counters().map(drop));
        let e = r.expect_err("damaged file accepted");
        eprintln!("damaged file: {e}");
        assert!(e.to_string().contains(FILE_NAME), "{e}");

        // An empty file is a fresh store.
        let d = temp();
        fs::write(d.path().join(FILE_NAME), "").unwrap();
        let st = Store::open(d.path()).unwrap();
        assert_eq!(st.load_cursor("system").unwrap(), None);
    }

    // -- kill -9 -----------------------------------------------------------

    const CHILD_ENV: &str = "PYRUSE_STORE_KILL9_DIR";

    /// Batch `n` of the child: cursor `n`, the counter's count is `n`, and
    /// one mapping, report record and outbox item per batch.
    fn child_batch(n: i64) -> Batch {
        let mut b = Batch::new();
        // Touched twice: only the last state counts.
        b.set_counter("seq", &s("k"), &entry(&[0], None));
        b.set_counter(
            "seq",
            &s("k"),
            &entry(&vec![i64::MAX; (n % 500) as usize], Some(n)),
        );
        for j in 0..20 {
            b.set_counter(
                "noise",
                &Value::Int((n * 20 + j) % 5000),
                &entry(&[n], None),
            );
        }
        b.add_mapping(Mapping {
            saddr: Value::Int(n),
            sport: None,
            keys: Default::default(),
            stamp: i64::MAX,
            shift: 0,
        });
        b.report(rec(&n.to_string(), n));
        b.outbox("email", serde_json::json!({ "n": n }), n);
        b
    }

    /// Not a test by itself: the child process of the kill -9 test.
    #[test]
    fn kill9_child() {
        let Some(dir) = std::env::var_os(CHILD_ENV) else {
            return;
        };
        let mut st = Store::open(Path::new(&dir)).unwrap();
        let mut n: i64 = st
            .load_cursor("system")
            .unwrap()
            .map_or(0, |c| c.parse().unwrap());
        loop {
            n += 1;
            st.commit("system", &n.to_string(), &child_batch(n))
                .unwrap();
        }
    }

    fn check_invariants(dir: &Path) -> i64 {
        let st = Store::open(dir).unwrap();
        let check: String = st
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let Some(n) = st.load_cursor("system").unwrap() else {
            assert!(st.load_counters().unwrap().is_empty());
            return 0;
        };
        let n: i64 = n.parse().unwrap();
        let seq: Vec<_> = st
            .load_counters()
            .unwrap()
            .into_iter()
            .filter(|(c, _, _)| c == "seq")
            .collect();
        assert_eq!(seq.len(), 1);
        let e = &seq[0].2;
        assert_eq!(
            e.grace_until,
            Some(n),
            "cursor {n} but counter of batch {:?}",
            e.grace_until
        );
        assert_eq!(e.ticks.len() as i64, n % 500);
        let maps = st.load_mappings().unwrap();
        assert_eq!(maps.len() as i64, n);
        assert_eq!(maps.last().unwrap().saddr, Value::Int(n));
        let reports = st.report_records().unwrap();
        assert_eq!(reports.len() as i64, n);
        assert_eq!(reports.last().unwrap().time_us, n);
        assert_eq!(st.outbox_len().unwrap() as i64, n);
        n
    }

    #[test]
    fn kill9_at_random_times_leaves_a_consistent_file() {
        if std::env::var_os(CHILD_ENV).is_some() {
            return;
        }
        let d = temp();
        let exe = std::env::current_exe().unwrap();
        let mut seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64
            | 1;
        eprintln!("kill9 seed {seed}");
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut last = 0;
        let mut progressed = 0;
        for round in 0..20 {
            let mut child = std::process::Command::new(&exe)
                .args([
                    "state::store::tests::kill9_child",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, d.path())
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // Let it start and commit, then kill it at a random moment.
            let wait = Duration::from_millis(30 + rand(250));
            let start = Instant::now();
            while start.elapsed() < wait {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!("round {round}: child exited early: {status}");
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            let n = check_invariants(d.path());
            assert!(n >= last, "round {round}: cursor went back {last} -> {n}");
            if n > last {
                progressed += 1;
            }
            last = n;
        }
        assert!(progressed >= 10, "the child made too little progress");
        eprintln!("kill9: {last} batches over 20 kills");
    }
}
