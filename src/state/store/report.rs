//! The records of the daily report and the time of the last one sent.

use super::error::{sq, StoreError};
use super::records::ReportRecord;
use super::Store;
use rusqlite::{OptionalExtension, TransactionBehavior};

impl Store {
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
}
