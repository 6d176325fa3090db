//! `pyrusec status`: what the daemon is doing, read from its state file
//! (opened read-only, beside the running daemon), as one JSON object
//! ([`gather`], documented in docs/status.md) or as text ([`human`], made
//! from that object).

use super::LOCK_FILE;
use crate::state::store::{BanStatus, Store, StoreError};
use serde_json::{json, Map, Value as J};
use std::path::Path;

/// The version of the JSON object: it changes only when a key changes
/// meaning or goes away (keys may be added).
pub const FORMAT: u64 = 1;

/// The outbox kinds, always listed.
const OUTBOX_KINDS: [&str; 5] = ["nft", "ipset", "log", "email", "report"];

/// A time as RFC 3339, UTC, to the second.
pub fn rfc3339(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| us.to_string())
}

fn time_or_null(us: Option<i64>) -> J {
    us.map_or(J::Null, |t| J::String(rfc3339(t)))
}

/// Whether a daemon holds the lock of a state directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// A process holds it (its pid, when `/proc/locks` gives one).
    Held(Option<u32>),
    Free,
    /// `/proc/locks` cannot be read.
    Unknown,
}

/// Who holds the lock of `dir`, from `/proc/locks`: nothing is locked nor
/// opened for writing to find out.
pub fn lock_holder(dir: &Path) -> Holder {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::metadata(dir.join(LOCK_FILE)) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Holder::Free,
        Err(_) => return Holder::Unknown,
    };
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return Holder::Unknown;
    };
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let want = (Some(major), Some(minor), Some(meta.ino()));
    for line in locks.lines().filter(|l| !l.contains("->")) {
        // `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF`
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || f[1] != "FLOCK" {
            continue;
        }
        let mut id = f[5].split(':');
        let found = (
            id.next().and_then(|m| u64::from_str_radix(m, 16).ok()),
            id.next().and_then(|m| u64::from_str_radix(m, 16).ok()),
            id.next().and_then(|i| i.parse::<u64>().ok()),
        );
        if found == want {
            return Holder::Held(f[4].parse().ok());
        }
    }
    Holder::Free
}

/// Entries per second over the last minute before `now`, from the marks
/// (wall clock µs, entries processed) of the record.
fn rate_last_minute(marks: &[(i64, u64)], now: i64) -> f64 {
    let Some(&(_, last)) = marks.last() else {
        return 0.0;
    };
    let base = marks
        .iter()
        .rev()
        .find(|m| m.0 <= now - 60_000_000)
        .or(marks.first())
        .copied()
        .unwrap_or((now, last));
    let secs = (now - base.0) as f64 / 1e6;
    if secs <= 0.0 {
        return 0.0;
    }
    last.saturating_sub(base.1) as f64 / secs
}

fn round2(x: f64) -> J {
    json!((x * 100.0).round() / 100.0)
}

/// The daemon's part: whether it runs, since when, what it processed.
fn daemon_part(record: &J, dir: &Path, now: i64) -> (J, J) {
    let (running, pid) = match lock_holder(dir) {
        Holder::Held(pid) => (Some(true), pid),
        Holder::Free => (Some(false), None),
        Holder::Unknown => (None, None),
    };
    let started = record.get("started_us").and_then(J::as_i64);
    let written = record.get("written_us").and_then(J::as_i64);
    let daemon = json!({
        "running": running,
        "pid": pid,
        "started": time_or_null(started),
        "status_written": time_or_null(written),
        "dry_run": record.get("dry_run").cloned().unwrap_or(J::Null),
    });
    let processed = record.get("processed").and_then(J::as_u64).unwrap_or(0);
    let marks: Vec<(i64, u64)> = record
        .get("marks")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default();
    let average = match (started, written) {
        (Some(s), Some(w)) if w > s => processed as f64 / ((w - s) as f64 / 1e6),
        _ => 0.0,
    };
    let entries = json!({
        "processed": processed,
        "per_second": round2(rate_last_minute(&marks, now)),
        "per_second_since_start": round2(average),
    });
    (daemon, entries)
}

/// The input's part: source, cursor, the last entry and how far behind.
fn input_part(record: &J, cursors: &[(String, String)], now: i64) -> J {
    let source = record.get("input").and_then(J::as_str);
    let cursor = cursors
        .iter()
        .find(|(s, _)| Some(s.as_str()) == source)
        .or(cursors.first());
    let last = record.get("last_entry_us").and_then(J::as_i64);
    let newest = record.get("newest_us").and_then(J::as_i64);
    let caught_up = record.get("caught_up").and_then(J::as_bool);
    let behind = match (caught_up, last, newest) {
        (Some(true), _, _) => Some(0.0),
        (_, Some(l), Some(n)) => Some((n - l).max(0) as f64 / 1e6),
        _ => None,
    };
    json!({
        "source": source.or(cursor.map(|c| c.0.as_str())),
        "cursor": cursor.map(|c| c.1.as_str()),
        "last_entry": time_or_null(last),
        "lag_seconds": last.map(|l| round2((now - l) as f64 / 1e6)),
        "journal_newest": time_or_null(newest),
        "behind_journal_seconds": behind.map(round2),
        "caught_up": caught_up,
    })
}

fn outbox_part(store: &Store) -> Result<J, StoreError> {
    let depth = store.outbox_depth()?;
    let mut out = Map::new();
    for kind in OUTBOX_KINDS {
        out.insert(
            kind.into(),
            json!({"waiting": 0, "retrying": 0, "last_error": null}),
        );
    }
    for d in depth {
        out.insert(
            d.kind,
            json!({"waiting": d.waiting, "retrying": d.retrying, "last_error": d.last_error}),
        );
    }
    Ok(J::Object(out))
}

fn errors_part(record: &J) -> J {
    let errors = record.get("errors").and_then(J::as_array);
    let mut list: Vec<J> = errors
        .into_iter()
        .flatten()
        .map(|e| {
            let t = |k: &str| time_or_null(e.get(k).and_then(J::as_i64));
            json!({
                "cause": e.get("cause"),
                "level": e.get("level"),
                "count": e.get("count"),
                "first": t("first_us"),
                "last": t("last_us"),
                "message": e.get("message"),
            })
        })
        .collect();
    // The most frequent first.
    list.sort_by_key(|e| std::cmp::Reverse(e.get("count").and_then(J::as_u64).unwrap_or(0)));
    J::Array(list)
}

/// Per counter (those of the rules, then any other in the file), its live
/// keys and the `top` highest, judged at `clock`.
fn counters_part(store: &Store, record: &J, clock: i64, top: usize) -> Result<J, StoreError> {
    let sizes = store.counter_sizes(clock)?;
    let mut names: Vec<String> = record
        .pointer("/rules/counters")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    for (n, _) in &sizes {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let mut out = Vec::new();
    for name in names {
        let keys = sizes.iter().find(|(n, _)| *n == name).map_or(0, |s| s.1);
        let rows = store.counter_top(&name, clock, top)?;
        let top: Vec<J> = rows
            .iter()
            .map(|r| {
                json!({
                    "key": crate::python::format::render_plain(&r.key),
                    "value": r.value,
                    "expires": rfc3339(r.expires_us),
                    "grace_until": time_or_null(r.grace_until_us),
                })
            })
            .collect();
        out.push(json!({"name": name, "keys": keys, "top": top}));
    }
    Ok(J::Array(out))
}

/// Per set, the bans not ended at `now` (wall clock), the latest to end
/// first, each with what the firewall made of it.
fn sets_part(store: &Store, now: i64) -> Result<J, StoreError> {
    let mut bans = store.bans_with_status()?;
    bans.retain(|(b, _)| b.end_us.is_none_or(|e| e > now));
    bans.sort_by(|(a, _), (b, _)| {
        (a.kind.as_str(), &a.set)
            .cmp(&(b.kind.as_str(), &b.set))
            .then(
                b.end_us
                    .unwrap_or(i64::MAX)
                    .cmp(&a.end_us.unwrap_or(i64::MAX)),
            )
    });
    let mut sets: Vec<J> = Vec::new();
    for (b, status) in bans {
        let mut ban = json!({
            "address": b.ip,
            "until": time_or_null(b.end_us),
            "rule": b.rule,
            "status": status.name(),
        });
        if let (BanStatus::Failed(why), J::Object(o)) = (&status, &mut ban) {
            o.insert("error".into(), J::String(why.clone()));
        }
        let same = |s: &J| {
            s.get("kind").and_then(J::as_str) == Some(b.kind.as_str())
                && s.get("set").and_then(J::as_str) == Some(b.set.as_str())
        };
        match sets.iter_mut().find(|s| same(s)) {
            Some(J::Object(s)) => {
                if let Some(J::Array(list)) = s.get_mut("bans") {
                    list.push(ban);
                }
            }
            _ => sets.push(json!({"kind": b.kind.as_str(), "set": b.set, "bans": [ban]})),
        }
    }
    Ok(J::Array(sets))
}

/// Everything `pyrusec status` shows, as the documented JSON object.
pub fn gather(store: &Store, dir: &Path, now: i64, top: usize) -> Result<J, StoreError> {
    let record: J = store
        .status_record()?
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(J::Null);
    let (daemon, entries) = daemon_part(&record, dir, now);
    let input = input_part(&record, &store.cursors()?, now);
    // Counters live on the entries' clock: judged at the last entry while
    // the daemon is behind or stopped, else now.
    let last = record.get("last_entry_us").and_then(J::as_i64);
    let live = daemon["running"] == J::Bool(true) && record["caught_up"] == J::Bool(true);
    let clock = match last {
        Some(l) if !live => l,
        _ => now,
    };
    let commands = if store.has_table("command")? {
        store.commands()?.len()
    } else {
        0
    };
    let rules = match record.get("rules") {
        Some(r) => json!({
            "path": r.get("path"),
            "files": r.get("files"),
            "loaded": time_or_null(r.get("loaded_us").and_then(J::as_i64)),
            "steps": r.get("steps"),
        }),
        None => J::Null,
    };
    Ok(json!({
        "format": FORMAT,
        "state_dir": dir.display().to_string(),
        "at": rfc3339(now),
        "daemon": daemon,
        "rules": rules,
        "input": input,
        "entries": entries,
        "commands_pending": commands,
        "outbox": outbox_part(store)?,
        "errors": errors_part(&record),
        "counters_at": rfc3339(clock),
        "counters": counters_part(store, &record, clock, top)?,
        "sets": sets_part(store, now)?,
    }))
}

/// A line of the text form and the lines under it.
struct Node {
    text: String,
    children: Vec<Node>,
}

fn node(text: String) -> Node {
    Node {
        text,
        children: Vec::new(),
    }
}

fn draw(nodes: &[Node], prefix: &str, out: &mut String) {
    for (i, n) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        out.push_str(prefix);
        out.push_str(if last { "`- " } else { "|- " });
        out.push_str(&n.text);
        out.push('\n');
        let deeper = format!("{prefix}{}", if last { "   " } else { "|  " });
        draw(&n.children, &deeper, out);
    }
}

/// A time of the JSON object in the local zone, or `never`.
fn local(v: &J, tz: &jiff::tz::TimeZone) -> String {
    match v.as_str().and_then(|s| s.parse::<jiff::Timestamp>().ok()) {
        Some(t) => t
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => "never".into(),
    }
}

/// Seconds as `4s`, `3m12s`, `2h05m`, `3d04h`.
fn span(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    }
}

fn daemon_line(s: &J, tz: &jiff::tz::TimeZone) -> String {
    let d = &s["daemon"];
    let state = match (d["running"].as_bool(), d["pid"].as_u64()) {
        (Some(true), Some(pid)) => format!("running (pid {pid})"),
        (Some(true), None) => "running".into(),
        (Some(false), _) => "not running".into(),
        _ => "unknown (cannot read /proc/locks)".into(),
    };
    if d["started"].is_null() {
        return format!("daemon:   {state}; it recorded no status yet");
    }
    let dry = if d["dry_run"] == J::Bool(true) {
        ", dry run"
    } else {
        ""
    };
    format!(
        "daemon:   {state}{dry}; started {}, status of {}",
        local(&d["started"], tz),
        local(&d["status_written"], tz)
    )
}

fn rules_line(s: &J, tz: &jiff::tz::TimeZone) -> Node {
    let r = &s["rules"];
    if r.is_null() {
        return node("rules:    unknown".into());
    }
    let files: Vec<Node> = r["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(|f| node(f.to_owned())))
        .collect();
    let n = files.len();
    let mut line = node(format!(
        "rules:    {} ({n} file{}, {} steps), loaded {}",
        r["path"].as_str().unwrap_or("?"),
        if n == 1 { "" } else { "s" },
        r["steps"],
        local(&r["loaded"], tz)
    ));
    // A library of dozens of files is summed up; a few are named.
    if n <= 5 {
        line.children = files;
    }
    line
}

fn input_lines(s: &J, tz: &jiff::tz::TimeZone) -> Vec<Node> {
    let i = &s["input"];
    let mut where_ = match i["lag_seconds"].as_f64() {
        Some(lag) => format!(
            "last entry {} ({} ago)",
            local(&i["last_entry"], tz),
            span(lag)
        ),
        None => "no entry processed yet".into(),
    };
    match (
        i["caught_up"].as_bool(),
        i["behind_journal_seconds"].as_f64(),
    ) {
        (Some(true), _) => where_.push_str(", caught up"),
        (_, Some(b)) => where_.push_str(&format!(
            ", {} behind the newest entry of the journal ({})",
            span(b),
            local(&i["journal_newest"], tz)
        )),
        _ => {}
    }
    let e = &s["entries"];
    vec![
        node(format!(
            "input:    {}, {where_}",
            i["source"].as_str().unwrap_or("unknown")
        )),
        node(format!(
            "cursor:   {}",
            i["cursor"].as_str().unwrap_or("none")
        )),
        node(format!(
            "entries:  {} since start, {}/s over the last minute, {}/s on average",
            e["processed"], e["per_second"], e["per_second_since_start"]
        )),
    ]
}

fn outbox_line(s: &J) -> String {
    let mut parts = Vec::new();
    for (kind, o) in s["outbox"].as_object().into_iter().flatten() {
        let waiting = o["waiting"].as_u64().unwrap_or(0);
        if waiting == 0 {
            continue;
        }
        let mut p = format!("{kind} {waiting}");
        let retrying = o["retrying"].as_u64().unwrap_or(0);
        if retrying > 0 {
            p.push_str(&format!(" ({retrying} retrying"));
            if let Some(e) = o["last_error"].as_str() {
                p.push_str(&format!(", last error: {e}"));
            }
            p.push(')');
        }
        parts.push(p);
    }
    let pending = s["commands_pending"].as_u64().unwrap_or(0);
    let commands = if pending > 0 {
        format!("; {pending} command(s) from pyrusec waiting for the daemon")
    } else {
        String::new()
    };
    if parts.is_empty() {
        format!("outbox:   nothing waiting{commands}")
    } else {
        format!("outbox:   {}{commands}", parts.join(", "))
    }
}

fn errors_node(s: &J, tz: &jiff::tz::TimeZone) -> Node {
    let errors = s["errors"].as_array().cloned().unwrap_or_default();
    let mut n = node(if errors.is_empty() {
        "errors:   none".into()
    } else {
        format!("errors:   {} cause(s)", errors.len())
    });
    for e in &errors {
        n.children.push(node(format!(
            "{}× {} {} (first {}, last {})",
            e["count"],
            e["level"].as_str().unwrap_or("?"),
            e["cause"].as_str().unwrap_or("?"),
            local(&e["first"], tz),
            local(&e["last"], tz)
        )));
    }
    n
}

fn counters_node(s: &J, tz: &jiff::tz::TimeZone) -> Node {
    let mut n = node(format!("counters, at {}:", local(&s["counters_at"], tz)));
    // A library of sixty services has as many counters: those without a
    // key are counted, not listed.
    let mut empty = 0;
    for c in s["counters"].as_array().into_iter().flatten() {
        let keys = c["keys"].as_u64().unwrap_or(0);
        if keys == 0 {
            empty += 1;
            continue;
        }
        let mut cn = node(format!(
            "{}: {}",
            c["name"].as_str().unwrap_or("?"),
            match keys {
                0 => "no key".to_owned(),
                1 => "1 key".to_owned(),
                k => format!("{k} keys"),
            }
        ));
        for k in c["top"].as_array().into_iter().flatten() {
            let grace = if k["grace_until"].is_null() {
                String::new()
            } else {
                format!(", grace until {}", local(&k["grace_until"], tz))
            };
            cn.children.push(node(format!(
                "{:<39} {:>5}  until {}{grace}",
                k["key"].as_str().unwrap_or("?"),
                k["value"].as_i64().unwrap_or(0),
                local(&k["expires"], tz)
            )));
        }
        n.children.push(cn);
    }
    match (n.children.is_empty(), empty) {
        (true, 0) => n.text.push_str(" none"),
        (true, 1) => n.text.push_str(" no key (1 counter)"),
        (true, _) => n.text.push_str(&format!(" no key ({empty} counters)")),
        (false, 0) => {}
        (false, 1) => n.children.push(node("1 other counter has no key".into())),
        (false, _) => n
            .children
            .push(node(format!("{empty} other counters have no key"))),
    }
    n
}

fn bans_node(s: &J, tz: &jiff::tz::TimeZone) -> Node {
    let mut n = node("bans:".into());
    for set in s["sets"].as_array().into_iter().flatten() {
        let bans = set["bans"].as_array().cloned().unwrap_or_default();
        let mut sn = node(format!(
            "{} {}: {}",
            set["kind"].as_str().unwrap_or("?"),
            set["set"].as_str().unwrap_or("?"),
            bans.len()
        ));
        for b in &bans {
            let until = if b["until"].is_null() {
                "forever".to_owned()
            } else {
                local(&b["until"], tz)
            };
            let status = match b["status"].as_str() {
                Some("in force") | None => String::new(),
                Some(other) => format!("  [{other}]"),
            };
            sn.children.push(node(format!(
                "{:<39} until {until:<19}  {}{status}",
                b["address"].as_str().unwrap_or("?"),
                b["rule"].as_str().unwrap_or("")
            )));
        }
        n.children.push(sn);
    }
    if n.children.is_empty() {
        n.text.push_str(" none");
    }
    n
}

/// The text form of the object [`gather`] made, times in `tz`.
pub fn human(s: &J, tz: &jiff::tz::TimeZone) -> String {
    let mut nodes = vec![node(daemon_line(s, tz)), rules_line(s, tz)];
    nodes.extend(input_lines(s, tz));
    nodes.push(node(outbox_line(s)));
    nodes.push(errors_node(s, tz));
    nodes.push(counters_node(s, tz));
    nodes.push(bans_node(s, tz));
    let mut out = format!(
        "Status of pyrused, state {}, at {}\n",
        s["state_dir"].as_str().unwrap_or("?"),
        local(&s["at"], tz)
    );
    draw(&nodes, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn counters_without_keys_are_counted_not_listed() {
        let tz = jiff::tz::TimeZone::UTC;
        let key = json!({"key": "203.0.113.5", "value": 4, "expires": "2026-12-02T03:16:58Z", "grace_until": null});
        let s = json!({"counters_at": "2026-12-02T03:07:04Z", "counters": [
            {"name": "apache-auth", "keys": 0, "top": []},
            {"name": "sshd", "keys": 1, "top": [key]},
            {"name": "dovecot", "keys": 0, "top": []},
        ]});
        let n = counters_node(&s, &tz);
        let texts: Vec<&str> = n.children.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["sshd: 1 key", "2 other counters have no key"]);
        let none = json!({"counters_at": "2026-12-02T03:07:04Z", "counters": [
            {"name": "sshd", "keys": 0, "top": []},
        ]});
        let n = counters_node(&none, &tz);
        assert!(n.children.is_empty());
        assert!(n.text.ends_with(": no key (1 counter)"), "{}", n.text);
    }

    #[test]
    fn the_rate_is_over_the_last_minute_before_now() {
        // Started at 0, 600 entries by 100 s, 660 by 130 s.
        let marks = [(0, 0), (60 * S, 300), (100 * S, 600), (130 * S, 660)];
        // From the last mark at least a minute old (60 s: 300) to 130 s.
        assert_eq!(rate_last_minute(&marks, 130 * S), 360.0 / 70.0);
        // Idle since: nothing in the last minute once it has passed.
        assert_eq!(rate_last_minute(&marks, 200 * S), 0.0);
        // Younger than a minute: since the start.
        assert_eq!(rate_last_minute(&[(0, 0), (10 * S, 50)], 20 * S), 2.5);
        assert_eq!(rate_last_minute(&[], 0), 0.0);
    }

    #[test]
    fn spans_read_at_a_glance() {
        assert_eq!(span(4.4), "4s");
        assert_eq!(span(192.0), "3m12s");
        assert_eq!(span(7500.0), "2h05m");
        assert_eq!(span(273_600.0), "3d04h");
        assert_eq!(span(-3.0), "0s");
    }
}
