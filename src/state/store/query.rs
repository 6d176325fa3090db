//! Running a statement on the state file, with errors that name the file
//! and the operation under way.

use super::error::{not_state_or, sq, StoreError};
use super::Store;
use rusqlite::types::FromSql;
use rusqlite::TransactionBehavior;
use rusqlite::{CachedStatement, Connection, OptionalExtension, Params, Row, Statement};
use std::path::Path;

/// Why a row could not be read: SQLite failed, or the record in it is bad.
pub(super) enum RowError {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for RowError {
    fn from(e: rusqlite::Error) -> RowError {
        RowError::Sqlite(e)
    }
}

impl From<StoreError> for RowError {
    fn from(e: StoreError) -> RowError {
        RowError::Store(e)
    }
}

/// A connection (or a transaction), the file it is on, and the operation
/// that its errors are reported as (`"cannot read the bans"`).
#[derive(Clone, Copy)]
pub(super) struct Sql<'a> {
    conn: &'a Connection,
    path: &'a Path,
    what: &'static str,
}

impl<'a> Sql<'a> {
    pub(super) fn new(conn: &'a Connection, path: &'a Path, what: &'static str) -> Sql<'a> {
        Sql { conn, path, what }
    }

    /// The database file.
    pub(super) fn path(&self) -> &'a Path {
        self.path
    }

    fn fail(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.to_owned(),
            what: self.what,
            source,
        }
    }

    fn check<T>(&self, r: rusqlite::Result<T>) -> Result<T, StoreError> {
        r.map_err(|e| self.fail(e))
    }

    /// Every row of a query, each made into a `T` by `f` before the next is
    /// read.
    pub(super) fn rows<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnMut(&Row<'_>) -> Result<T, RowError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut st = self.check(self.conn.prepare(sql))?;
        self.collect(&mut st, params, f)
    }

    /// [`rows`](Self::rows) with the statement kept in the connection's
    /// cache, for a query run often.
    pub(super) fn rows_cached<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnMut(&Row<'_>) -> Result<T, RowError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut st = self.cached(sql)?;
        self.collect(&mut st, params, f)
    }

    fn collect<T>(
        &self,
        st: &mut Statement<'_>,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> Result<T, RowError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut rows = self.check(st.query(params))?;
        let mut out = Vec::new();
        while let Some(row) = self.check(rows.next())? {
            match f(row) {
                Ok(x) => out.push(x),
                Err(RowError::Sqlite(e)) => return Err(self.fail(e)),
                Err(RowError::Store(e)) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The first row of a query, if any.
    pub(super) fn one<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError> {
        self.check(self.conn.query_row(sql, params, f).optional())
    }

    /// The first column of the first row of a query that has one (a
    /// `PRAGMA`, a `count(*)`).
    pub(super) fn value<T: FromSql>(&self, sql: &str) -> Result<T, StoreError> {
        self.check(self.conn.query_row(sql, [], |r| r.get(0)))
    }

    /// [`value`](Self::value), for a query that is the first to read the
    /// file: SQLite's "not a database" and "corrupt" become
    /// [`StoreError::NotStateFile`] and [`StoreError::Corrupt`].
    pub(super) fn header_value<T: FromSql>(&self, sql: &str) -> Result<T, StoreError> {
        self.conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(|e| not_state_or(self.path, e, self.what))
    }

    /// Run a statement; the number of rows changed.
    pub(super) fn run(&self, sql: &str, params: impl Params) -> Result<usize, StoreError> {
        self.check(self.conn.execute(sql, params))
    }

    /// [`run`](Self::run) with the statement kept in the connection's cache.
    pub(super) fn run_cached(&self, sql: &str, params: impl Params) -> Result<usize, StoreError> {
        let mut st = self.cached(sql)?;
        self.exec(&mut st, params)
    }

    /// Run statements that take no parameters, one after the other.
    pub(super) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.check(self.conn.execute_batch(sql))
    }

    /// A statement from the connection's cache, to run once per record
    /// with [`exec`](Self::exec).
    pub(super) fn cached(&self, sql: &str) -> Result<CachedStatement<'a>, StoreError> {
        self.check(self.conn.prepare_cached(sql))
    }

    /// Run a prepared statement; the number of rows changed.
    pub(super) fn exec(
        &self,
        st: &mut Statement<'_>,
        params: impl Params,
    ) -> Result<usize, StoreError> {
        self.check(st.execute(params))
    }
}

impl Store {
    /// The store's connection, its errors reported as `what`.
    pub(super) fn sql(&self, what: &'static str) -> Sql<'_> {
        Sql::new(&self.conn, &self.path, what)
    }

    /// Run `f` in a write transaction, committed when `f` returns `Ok` and
    /// rolled back otherwise; errors reported as `what`.
    pub(super) fn transaction<T>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(Sql<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let p = &self.path;
        let tx = sq(
            p,
            what,
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        let out = f(Sql::new(&tx, p, what))?;
        sq(p, what, tx.commit())?;
        Ok(out)
    }
}

/// The rows of a query on a file that may be damaged, up to the first that
/// cannot be read: what comes before a bad page is still worth having.
/// `None` when the query cannot be prepared (e.g. a column that this
/// schema version lacks).
pub(super) fn readable_rows<T>(
    conn: &Connection,
    sql: &str,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Option<Vec<T>> {
    let mut st = conn.prepare(sql).ok()?;
    let rows: Vec<T> = match st.query_map([], f) {
        Ok(rows) => rows.map_while(Result::ok).collect(),
        Err(_) => Vec::new(),
    };
    Some(rows)
}
