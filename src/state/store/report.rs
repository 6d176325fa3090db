//! The records of the daily report and the time of the last one sent.

use super::error::StoreError;
use super::query::Sql;
use super::records::ReportRecord;
use super::Store;
use crate::report::HourCount;

impl Store {
    /// The records for the next daily report, oldest first.
    pub fn report_records(&self) -> Result<Vec<ReportRecord>, StoreError> {
        self.sql("cannot read the report records").rows(
            "SELECT level, message, details, time_us FROM report ORDER BY time_us, id",
            [],
            |r| {
                Ok(ReportRecord {
                    level: r.get(0)?,
                    message: r.get(1)?,
                    details: r.get(2)?,
                    time_us: r.get(3)?,
                })
            },
        )
    }

    /// The records for the next daily report, oldest first, handed to `f`
    /// one by one (a day can hold millions).
    pub fn each_report_record(
        &self,
        mut f: impl FnMut(&str, &str, &str, i64),
    ) -> Result<(), StoreError> {
        self.sql("cannot read the report records").rows(
            "SELECT level, message, details, time_us FROM report ORDER BY time_us, id",
            [],
            |r| {
                let (level, message, details): (String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                f(&level, &message, &details, r.get(3)?);
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Failures and bans per hour and service since the last report.
    pub fn report_hours(&self) -> Result<Vec<HourCount>, StoreError> {
        self.sql("cannot read the report's hourly counts").rows(
            "SELECT hour_us, service, failures, bans FROM report_hour ORDER BY hour_us, service",
            [],
            |r| {
                let (f, b): (i64, i64) = (r.get(2)?, r.get(3)?);
                Ok(HourCount {
                    hour_us: r.get(0)?,
                    service: r.get(1)?,
                    failures: f.max(0) as u64,
                    bans: b.max(0) as u64,
                })
            },
        )
    }

    /// When the last daily report was sent (µs), if ever.
    pub fn last_report_sent(&self) -> Result<Option<i64>, StoreError> {
        self.sql("cannot read the last report time").one(
            "SELECT value FROM meta WHERE key = 'last_report_sent'",
            [],
            |r| r.get(0),
        )
    }

    /// Atomically delete the report records with `time_us <= until_us` (and
    /// the hourly counts of hours starting then) and
    /// set the last report time to `sent_at_us`.
    pub fn report_sent(&mut self, until_us: i64, sent_at_us: i64) -> Result<(), StoreError> {
        self.transaction("cannot record the report as sent", |sql| {
            mark_report_sent(sql, until_us, sent_at_us)
        })
    }
}

/// Delete the report records with `time_us <= until_us` and set the last
/// report time to `sent_at_us`, in the transaction under way.
pub(super) fn mark_report_sent(
    sql: Sql<'_>,
    until_us: i64,
    sent_at_us: i64,
) -> Result<(), StoreError> {
    sql.run("DELETE FROM report WHERE time_us <= ?1", [until_us])?;
    sql.run("DELETE FROM report_hour WHERE hour_us <= ?1", [until_us])?;
    sql.run(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_report_sent', ?1)",
        [sent_at_us],
    )?;
    Ok(())
}
