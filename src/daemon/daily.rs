//! The daily report: when it is due, and what it holds.
//!
//! Records of `dailyReport` are kept in the state store as they happen.
//! The report is due at the configured time of day (`dailyReport.time`,
//! local time, midnight by default), checked by the daemon's loop even when
//! no entry arrives; after downtime, a missed report is sent at start,
//! once, with everything recorded since the last one.

use crate::config::Config;
use crate::report::{self, Report};
use crate::state::store::{Store, StoreError};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// This machine's host name, for the report's heading.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The first time of day `hh:mm` in `tz` strictly after `after_us`.
pub fn next_due(after_us: i64, (h, m): (u8, u8), tz: &TimeZone) -> i64 {
    let Ok(ts) = Timestamp::from_microsecond(after_us) else {
        return after_us.saturating_add(86_400_000_000);
    };
    let zoned = ts.to_zoned(tz.clone());
    let mut date = zoned.date();
    for _ in 0..3 {
        if let Ok(at) = date.at(h as i8, m as i8, 0, 0).to_zoned(tz.clone()) {
            let us = at.timestamp().as_microsecond();
            if us > after_us {
                return us;
            }
        }
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    after_us.saturating_add(86_400_000_000)
}

/// When the next report is due, starting the first period now if the
/// store has none.
pub fn due_at(
    store: &mut Store,
    config: &Config,
    tz: &TimeZone,
    now_us: i64,
) -> Result<i64, StoreError> {
    let last = match store.last_report_sent()? {
        Some(t) => t,
        None => {
            store.report_sent(i64::MIN, now_us)?;
            now_us
        }
    };
    Ok(next_due(last, config.report_time, tz))
}

/// The report of everything recorded since the last one, read record by
/// record into the report's bounded collector, with the failures and bans
/// per hour, within `config`'s size cap.
pub fn pending(
    store: &Store,
    config: &Config,
    tz: &TimeZone,
    now_us: i64,
) -> Result<Report, StoreError> {
    let mut c = report::Collector::new();
    let mut first: Option<i64> = None;
    store.each_report_record(|level, message, details, time_us| {
        first = Some(first.map_or(time_us, |f| f.min(time_us)));
        c.add(level, message, details, time_us);
    })?;
    let hours = store.report_hours()?;
    // The period runs from the last report, or from the first record when
    // it is older (entries processed while catching up).
    let start = match (store.last_report_sent()?, first) {
        (Some(l), Some(f)) if l > i64::MIN => l.min(f),
        (Some(l), None) if l > i64::MIN => l,
        (_, Some(f)) => f,
        _ => now_us,
    };
    let host = host_name();
    let options = report::Options {
        host: &host,
        tz,
        start_us: start,
        end_us: now_us,
        hours: &hours,
        max_bytes: config.report_max_bytes,
    };
    Ok(report::render(c, &options))
}

/// Queue the pending report for the executor and start a new period, in
/// one transaction: a crash cannot lose the report nor queue it twice.
pub fn queue(
    store: &mut Store,
    config: &Config,
    tz: &TimeZone,
    now_us: i64,
) -> Result<(), StoreError> {
    let r = pending(store, config, tz, now_us)?;
    let mut batch = crate::state::store::Batch::new();
    batch.outbox(
        "report",
        serde_json::json!({ "subject": config.email_subject, "text": r.text, "html": r.html }),
        now_us,
    );
    batch.report_sent(i64::MAX, now_us);
    store.apply(&batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str, tz: &TimeZone) -> i64 {
        let dt: jiff::civil::DateTime = s.parse().expect("datetime");
        dt.to_zoned(tz.clone())
            .expect("zoned")
            .timestamp()
            .as_microsecond()
    }

    #[test]
    fn next_due_is_the_next_time_of_day_strictly_after() {
        let tz = TimeZone::UTC;
        let t = us("2024-03-01T10:00:00", &tz);
        assert_eq!(next_due(t, (0, 0), &tz), us("2024-03-02T00:00:00", &tz));
        assert_eq!(next_due(t, (23, 30), &tz), us("2024-03-01T23:30:00", &tz));
        // Exactly at the time: the next day's.
        let midnight = us("2024-03-02T00:00:00", &tz);
        assert_eq!(
            next_due(midnight, (0, 0), &tz),
            us("2024-03-03T00:00:00", &tz)
        );
    }

    #[test]
    fn next_due_follows_local_time_across_dst() {
        let Ok(tz) = TimeZone::get("Europe/Paris") else {
            return; // no time zone database on this machine
        };
        // Paris goes to summer time on 2024-03-31 at 02:00 (+01:00 → +02:00).
        let before = us("2024-03-30T12:00:00", &tz);
        let after = us("2024-03-31T12:00:00", &tz);
        assert_eq!(
            next_due(before, (0, 0), &tz),
            us("2024-03-31T00:00:00", &tz)
        );
        assert_eq!(next_due(after, (0, 0), &tz), us("2024-04-01T00:00:00", &tz));
        // 23 hours between those midnights, not 24.
        assert_eq!(
            us("2024-04-01T00:00:00", &tz) - us("2024-03-31T00:00:00", &tz),
            23 * 3_600_000_000
        );
    }

    #[test]
    fn hourly_counts_add_up_across_commits_reach_the_report_and_clear_with_it() {
        use crate::state::store::{Batch, ReportRecord};
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(tmp.path()).expect("store");
        let tz = TimeZone::UTC;
        let t = us("2024-03-02T05:10:00", &tz);
        for _ in 0..2 {
            let mut b = Batch::new();
            b.count_hour(t, "sshd", 1, 0);
            b.count_hour(t + 60_000_000, "sshd", 2, 1);
            b.count_hour(t + 3_600_000_000, "postfix", 4, 0);
            b.report(ReportRecord {
                level: "OTHER".into(),
                message: "kernel: link up".into(),
                details: "ALL".into(),
                time_us: t,
            });
            store.apply(&b).expect("apply");
        }
        let hour = us("2024-03-02T05:00:00", &tz);
        let hours = store.report_hours().expect("hours");
        assert_eq!(
            hours,
            vec![
                report::HourCount {
                    hour_us: hour,
                    service: "sshd".into(),
                    failures: 6,
                    bans: 2
                },
                report::HourCount {
                    hour_us: hour + 3_600_000_000,
                    service: "postfix".into(),
                    failures: 8,
                    bans: 0
                },
            ]
        );
        let config = Config::default();
        let r = pending(&store, &config, &tz, us("2024-03-02T07:00:00", &tz)).expect("report");
        // postfix and sshd both total 8: by name.
        assert!(
            r.text.contains("| Hour  | postfix | sshd | All |\n"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("| 05:00 |       - |    6 |   6 |\n"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("| 06:00 |       8 |    - |   8 |\n"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("| 05:00 |       - |    2 |   2 |\n"),
            "{}",
            r.text
        );
        assert!(r
            .text
            .contains("2024-03-02 05:10:00, 2 times: kernel: link up\n"));
        assert!(r.html.contains("<svg"));
        queue(&mut store, &config, &tz, us("2024-03-02T07:00:00", &tz)).expect("queue");
        assert!(store.report_hours().expect("hours").is_empty());
        let r = pending(&store, &config, &tz, us("2024-03-02T08:00:00", &tz)).expect("report");
        assert!(!r.html.contains("<svg") && !r.text.contains("per hour"));
    }
}
