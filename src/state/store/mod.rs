//! The daemon's durable state: one SQLite file, `state.sqlite`, in the state
//! directory (default `/var/lib/pyruse`).
//!
//! What it keeps:
//! - the journal cursor of the last processed entry, per input source;
//! - the counters (category name, key, tick expiry times, grace end);
//! - the DNAT mappings, in capture order;
//! - the ban records, one per (command kind, set, ip), with what the
//!   firewall made of each (pending, applied, failed and why);
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

mod apply;
mod bans;
mod batch;
mod control;
mod encoding;
mod error;
mod load;
mod outbox;
mod query;
mod records;
mod report;
mod salvage;
mod schema;

pub use batch::Batch;
pub use control::{CommandRow, CounterRow, OutboxDepth};
pub use encoding::{decode_value, encode_value};
pub use error::StoreError;
pub use outbox::Settled;
pub use records::{BanKind, BanOutcome, BanRecord, BanStatus, OutboxItem, ReportRecord};
pub use salvage::{salvage, Salvage};
pub use schema::SCHEMA_VERSION;

use error::{io_err, sq};
use rusqlite::Connection;
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

    /// Open the state file of an existing directory for reading only, as
    /// `pyrusec` does beside a running daemon: no directory nor state file
    /// is created, no mode, record or schema changed (SQLite may add the
    /// `-wal` and `-shm` files a WAL reader needs, with the file's mode),
    /// and the daemon's transactions are never waited on (WAL readers see
    /// the last commit).
    pub fn open_read_only(dir: &Path) -> Result<Store, StoreError> {
        use rusqlite::OpenFlags;
        let path = existing_file(dir)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = sq(
            &path,
            "cannot open",
            Connection::open_with_flags(&path, flags),
        )?;
        let store = Store { conn, path };
        let p = &store.path;
        sq(
            p,
            "cannot set the busy timeout",
            store.conn.busy_timeout(std::time::Duration::from_secs(5)),
        )?;
        // A daemon starting creates the file, then its schema: wait for
        // it (milliseconds) rather than take a new file for a foreign one.
        let started = std::time::Instant::now();
        let (app_id, version, creating) = loop {
            let app_id: i32 = store
                .sql("cannot read the file header")
                .header_value("PRAGMA application_id")?;
            let version: i64 = store
                .sql("cannot read the schema version")
                .value("PRAGMA user_version")?;
            let tables: i64 = store
                .sql("cannot read the schema")
                .value("SELECT count(*) FROM sqlite_schema")?;
            let creating = app_id == 0 && version == 0 && tables == 0;
            if !creating || started.elapsed() >= std::time::Duration::from_secs(5) {
                break (app_id, version, creating);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        if creating {
            return Err(StoreError::NoStateFile {
                path: store.path.clone(),
            });
        }
        if app_id != APPLICATION_ID {
            return Err(StoreError::NotStateFile {
                path: p.clone(),
                reason: format!("SQLite database with application id {app_id:#x}"),
            });
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: p.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    /// [`open`](Self::open) for a directory that must exist: the state file
    /// is created in it when missing, the directory never (a mistyped
    /// `--state-dir` is an error, not a new empty state).
    pub fn open_existing(dir: &Path) -> Result<Store, StoreError> {
        if !dir.is_dir() {
            return Err(StoreError::NoStateDir {
                path: dir.to_owned(),
            });
        }
        Store::open(dir)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        let p = &self.path;
        sq(
            p,
            "cannot set the busy timeout",
            self.conn.busy_timeout(std::time::Duration::from_secs(5)),
        )?;
        // Reading the header also makes SQLite reject a non-database file.
        let app_id: i32 = self
            .sql("cannot read the file header")
            .header_value("PRAGMA application_id")?;
        let tables: i64 = self
            .sql("cannot read the schema")
            .header_value("SELECT count(*) FROM sqlite_schema")?;
        if app_id != APPLICATION_ID && (app_id != 0 || tables != 0) {
            return Err(StoreError::NotStateFile {
                path: p.clone(),
                reason: format!("SQLite database with application id {app_id:#x}"),
            });
        }
        if tables != 0 {
            let check: String = self
                .sql("integrity check failed")
                .header_value("PRAGMA quick_check")?;
            if check != "ok" {
                return Err(StoreError::Corrupt {
                    path: p.clone(),
                    what: format!("integrity check: {check}"),
                });
            }
        }
        let mode: String = self
            .sql("cannot switch to WAL mode")
            .value("PRAGMA journal_mode = WAL")?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sqlite {
                path: p.clone(),
                what: "cannot switch to WAL mode",
                source: rusqlite::Error::InvalidQuery,
            });
        }
        self.sql("cannot set the pragmas").batch(
            "PRAGMA synchronous = FULL;
             PRAGMA temp_store = MEMORY;
             PRAGMA journal_size_limit = 8388608;",
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

/// The state file of an existing directory, which must exist too.
fn existing_file(dir: &Path) -> Result<PathBuf, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::NoStateDir {
            path: dir.to_owned(),
        });
    }
    let path = dir.join(FILE_NAME);
    if !path.is_file() {
        return Err(StoreError::NoStateFile { path });
    }
    Ok(path)
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

#[cfg(test)]
mod tests;
