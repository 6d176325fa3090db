//! The errors of the state store.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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
    /// The state directory does not exist (`pyrusec` never creates it).
    NoStateDir { path: PathBuf },
    /// The state directory holds no state file (no daemon ran with it).
    NoStateFile { path: PathBuf },
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
            StoreError::NoStateDir { path } => write!(
                f,
                "the state directory {} does not exist: check --state-dir (or the rules' \
                 `storage` setting); pyrused creates it when it first starts",
                path.display()
            ),
            StoreError::NoStateFile { path } => write!(
                f,
                "there is no state file {}: pyrused has not run with this state directory yet",
                path.display()
            ),
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

pub(super) fn sq<T>(
    path: &Path,
    what: &'static str,
    r: rusqlite::Result<T>,
) -> Result<T, StoreError> {
    r.map_err(|source| StoreError::Sqlite {
        path: path.to_owned(),
        what,
        source,
    })
}

pub(super) fn io_err<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        path: path.to_owned(),
        what,
        source,
    }
}

pub(super) fn corrupt(path: &Path, what: &str, detail: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        what: format!("bad {what}: {detail}"),
    }
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

/// SQLite's "not a database" becomes [`StoreError::NotStateFile`].
pub(super) fn not_state_or(path: &Path, e: rusqlite::Error, what: &'static str) -> StoreError {
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
