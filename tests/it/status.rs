//! `pyrusec status`, `bans ban`, `counters list`/`reset` on the state of
//! real `pyrused` runs over real journal files (made by
//! systemd-journal-remote), beside a running daemon, and against real
//! nftables in a private network namespace; and every command on the
//! state refuses a state directory that does not exist.

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Three failures ban (the ban command does nothing: the bans are read
/// back from the state).
const RULES: &str = r#"set nftBan.nft = ["/bin/true"]

chain "SSH failed logins" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for \S+ from (?P<ip>.+?) port [0-9]+ ssh2$/
    counterRaise(counter: "ssh", for: ip, keepSeconds: 1h, save: n)
    n >= 3 else { noop() }
    nftBan(IP: ip, nftSetIPv4: "inet pyruse ban4", nftSetIPv6: "inet pyruse ban6", banSeconds: 1h)
}
"#;

const HOUR_US: i64 = 3_600_000_000;

/// A failed login of `ip` at `t` (µs), as a `journalctl -o json` line.
fn failure(ip: &str, t: i64) -> String {
    serde_json::json!({
        "__REALTIME_TIMESTAMP": t.to_string(),
        "__MONOTONIC_TIMESTAMP": (t / 1000).to_string(),
        "_BOOT_ID": "9ec1eb60c72a205286d614fc429eb4b9",
        "_HOSTNAME": "bastion",
        "SYSLOG_IDENTIFIER": "sshd",
        "PRIORITY": "5",
        "MESSAGE": format!("Failed password for root from {ip} port 40000 ssh2"),
    })
    .to_string()
}

/// Failures one second apart from `t0`: each (address, how many) in turn.
/// Returns the lines and the time of each.
fn failures(t0: i64, plan: &[(&str, usize)]) -> (String, Vec<(String, i64)>) {
    let mut lines = String::new();
    let mut times = Vec::new();
    let mut t = t0;
    for (ip, n) in plan {
        for _ in 0..*n {
            t += 1_000_000;
            lines.push_str(&failure(ip, t));
            lines.push('\n');
            times.push((ip.to_string(), t));
        }
    }
    (lines, times)
}

/// The time of the last failure of `ip`.
fn last_of(times: &[(String, i64)], ip: &str) -> i64 {
    times
        .iter()
        .filter(|(i, _)| i == ip)
        .map(|(_, t)| *t)
        .max()
        .expect("the address failed")
}

fn utc(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .expect("a time")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn local_utc(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .expect("a time")
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

struct Dirs {
    _tmp: tempfile::TempDir,
    rules: String,
    journal: PathBuf,
    state: String,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(&rules, RULES).expect("rules");
    let journal = tmp.path().join("journal");
    std::fs::create_dir(&journal).expect("mkdir");
    let state = tmp.path().join("state").display().to_string();
    Dirs {
        rules: rules.display().to_string(),
        journal,
        state,
        _tmp: tmp,
    }
}

/// Put a journal file into the directory at once (written aside, then
/// renamed), as a collector's next file appears.
fn add_journal(d: &Dirs, name: &str, lines: &str) {
    let aside = d.journal.with_file_name(name);
    make_journal(lines, &aside);
    std::fs::rename(&aside, d.journal.join(name)).expect("rename");
}

fn status_json(d: &Dirs) -> Value {
    let out = status_output(d);
    assert!(
        out.status.success(),
        "pyrusec status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn status_output(d: &Dirs) -> std::process::Output {
    pyrusec(
        &[
            "status",
            "--format",
            "json",
            "--rules",
            &d.rules,
            "--state-dir",
            &d.state,
        ],
        None,
    )
}

fn counter_keys(status: &Value, name: &str) -> Vec<(String, i64, String)> {
    let c = status["counters"]
        .as_array()
        .expect("counters")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no counter {name} in {status}"));
    c["top"]
        .as_array()
        .expect("top")
        .iter()
        .map(|k| {
            (
                k["key"].as_str().expect("key").to_owned(),
                k["value"].as_i64().expect("value"),
                k["expires"].as_str().expect("expires").to_owned(),
            )
        })
        .collect()
}

#[test]
fn status_shows_what_a_pyrused_run_over_a_journal_left() {
    if !can_run(
        "status_shows_what_a_pyrused_run_over_a_journal_left",
        &[JOURNAL_REMOTE],
    ) {
        return;
    }
    let d = dirs();
    let t0 = pyruse::vm::wall_clock_us() - 60_000_000;
    // 203.0.113.5 is banned at its third failure and again at its fourth;
    // the hostile "address" fails the ban step (a warning, by cause).
    let hostile = "192.0.2.1 } ; flush ruleset";
    let plan = [
        ("203.0.113.5", 4),
        ("198.51.100.7", 2),
        ("2001:db8::1", 1),
        (hostile, 3),
    ];
    let (lines, times) = failures(t0, &plan);
    add_journal(&d, "a.journal", &lines);
    let out = pyrused(&[
        "--rules",
        &d.rules,
        "--directory",
        d.journal.to_str().expect("UTF-8"),
        "--state-dir",
        &d.state,
        "--exit-at-end",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = status_json(&d);
    assert_eq!(s["format"], 1);
    assert_eq!(s["daemon"]["running"], false);
    assert_eq!(s["rules"]["path"], d.rules.as_str());
    assert_eq!(s["rules"]["files"], serde_json::json!([d.rules]));
    let last = times.last().expect("entries").1;
    let input = &s["input"];
    assert_eq!(
        input["source"],
        format!("directory:{}", d.journal.display()).as_str()
    );
    assert!(input["cursor"]
        .as_str()
        .expect("a cursor")
        .starts_with("s="));
    assert_eq!(input["last_entry"], utc(last).as_str());
    assert_eq!(input["journal_newest"], utc(last).as_str());
    assert_eq!(input["caught_up"], true);
    assert_eq!(input["behind_journal_seconds"], 0.0);
    assert_eq!(s["entries"]["processed"], 10);
    // Counters as of the last entry: the highest count first, each key
    // until an hour after its last failure.
    let keys = counter_keys(&s, "ssh");
    let expect = |ip: &str, n: i64| (ip.to_owned(), n, utc(last_of(&times, ip) + HOUR_US));
    assert_eq!(
        keys,
        vec![
            expect("203.0.113.5", 4),
            expect(hostile, 3),
            expect("198.51.100.7", 2),
            expect("2001:db8::1", 1),
        ]
    );
    assert_eq!(s["counters_at"], utc(last).as_str());
    // One ban in force, renewed by the fourth failure.
    let sets = s["sets"].as_array().expect("sets");
    assert_eq!(sets.len(), 1, "{s}");
    assert_eq!(sets[0]["set"], "inet pyruse ban4");
    assert_eq!(sets[0]["kind"], "nft");
    let ban = &sets[0]["bans"][0];
    assert_eq!(ban["address"], "203.0.113.5");
    assert_eq!(
        ban["until"],
        utc(last_of(&times, "203.0.113.5") + HOUR_US).as_str()
    );
    assert!(ban["rule"]
        .as_str()
        .expect("rule")
        .ends_with("rules.pyr:8:5"));
    assert_eq!(ban["status"], "in force", "{ban}");
    assert!(ban.get("error").is_none(), "{ban}");
    // The refused ban: one cause, counted once, at the ban step.
    let errors = s["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{s}");
    assert!(errors[0]["cause"]
        .as_str()
        .expect("cause")
        .contains("rules.pyr:8:5"));
    assert_eq!(errors[0]["level"], "warning");
    assert_eq!(errors[0]["count"], 1);
    assert_eq!(s["outbox"]["nft"]["waiting"], 0);

    let out = pyrusec(
        &["status", "--rules", &d.rules, "--state-dir", &d.state],
        None,
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let has = |needle: &str| assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    has("daemon:   not running");
    has(&format!("last entry {}", local_utc(last)));
    has("caught up");
    has("entries:  10 since start");
    has("ssh: 4 keys");
    let line_of = |ip: &str| {
        text.lines()
            .find(|l| l.contains(&format!("- {ip} ")))
            .unwrap_or_else(|| panic!("no line for {ip} in:\n{text}"))
            .to_owned()
    };
    let l = line_of("198.51.100.7");
    assert!(l.contains(" 2  until "), "{l}");
    assert!(
        l.contains(&local_utc(last_of(&times, "198.51.100.7") + HOUR_US)),
        "{l}"
    );
    has("nft inet pyruse ban4: 1");
    has("errors:   1 cause(s)");
}

/// Wait until `pyrusec status` satisfies `ok` (at most 30 s).
fn wait_status(d: &Dirs, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        // Until the daemon has made its state, status says there is none.
        let out = status_output(d);
        let s: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if out.status.success() && ok(&s) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited 30 s for {what}; status: {s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn status_and_counter_reset_beside_a_running_daemon() {
    if !can_run(
        "status_and_counter_reset_beside_a_running_daemon",
        &[JOURNAL_REMOTE],
    ) {
        return;
    }
    let d = dirs();
    let t0 = pyruse::vm::wall_clock_us() - 60_000_000;
    let (lines, _) = failures(t0, &[("203.0.113.5", 2), ("198.51.100.7", 1)]);
    add_journal(&d, "a.journal", &lines);
    let mut daemon = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_pyrused"))
            .args(["--rules", &d.rules, "--state-dir", &d.state])
            .args(["--directory", d.journal.to_str().expect("UTF-8")])
            .env("TZ", "UTC")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let s = wait_status(&d, "3 entries", |s| s["entries"]["processed"] == 3);
    assert_eq!(s["daemon"]["running"], true);
    assert_eq!(s["daemon"]["pid"], daemon.id());
    assert_eq!(s["input"]["caught_up"], true);
    let keys = counter_keys(&s, "ssh");
    assert_eq!((keys[0].0.as_str(), keys[0].1), ("203.0.113.5", 2));

    // Reset 203.0.113.5 while the daemon holds its count in memory.
    let out = pyrusec(
        &[
            "counters",
            "reset",
            "ssh",
            "203.0.113.5",
            "--rules",
            &d.rules,
            "--state-dir",
            &d.state,
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_status(&d, "the daemon to apply the reset", |s| {
        s["commands_pending"] == 0
    });
    // Its next failure counts 1, not 3: no ban.
    let (more, _) = failures(t0 + 10_000_000, &[("203.0.113.5", 1), ("198.51.100.7", 1)]);
    add_journal(&d, "b.journal", &more);
    let s = wait_status(&d, "5 entries", |s| s["entries"]["processed"] == 5);
    let keys = counter_keys(&s, "ssh");
    let value = |ip: &str| keys.iter().find(|k| k.0 == ip).map(|k| k.1);
    assert_eq!(value("203.0.113.5"), Some(1), "{s}");
    assert_eq!(value("198.51.100.7"), Some(2), "{s}");
    assert_eq!(s["sets"], serde_json::json!([]));
    assert_eq!(s["daemon"]["running"], true);

    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .expect("kill");
    assert!(daemon.wait().expect("exit").success());
    let s = status_json(&d);
    assert_eq!(s["daemon"]["running"], false);
}

#[test]
fn a_state_directory_that_does_not_exist_is_an_error_and_stays_absent() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(&rules, RULES).expect("rules");
    let missing = tmp.path().join("mistyped");
    let (r, m) = (
        rules.to_str().expect("UTF-8"),
        missing.to_str().expect("UTF-8"),
    );
    let commands: [&[&str]; 8] = [
        &["bans", "list"],
        &["bans", "unban", "192.0.2.1"],
        &["bans", "ban", "192.0.2.1"],
        &["status"],
        &["counters", "list"],
        &["counters", "reset", "ssh", "192.0.2.1"],
        &["report", "preview"],
        &["report", "send"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.extend(["--rules", r, "--state-dir", m]);
        let out = pyrusec(&args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains(&format!("the state directory {m} does not exist")),
            "{cmd:?}: {err}"
        );
        assert!(!missing.exists(), "{cmd:?} created {m}");
    }
    // A directory without a state file: reading commands say so and
    // create nothing.
    std::fs::create_dir(&missing).expect("mkdir");
    for cmd in [&["status"][..], &["bans", "list"], &["counters", "list"]] {
        let mut args = cmd.to_vec();
        args.extend(["--rules", r, "--state-dir", m]);
        let out = pyrusec(&args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(err.contains("pyrused has not run"), "{cmd:?}: {err}");
        let left: Vec<_> = std::fs::read_dir(&missing).expect("dir").collect();
        assert!(left.is_empty(), "{cmd:?} left {left:?}");
    }
}

#[test]
fn manual_bans_are_validated() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(&rules, RULES).expect("rules");
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).expect("mkdir");
    let (r, st) = (
        rules.to_str().expect("UTF-8"),
        state.to_str().expect("UTF-8"),
    );
    let ban = |extra: &[&str]| {
        let mut args = vec!["bans", "ban"];
        args.extend(extra);
        args.extend(["--rules", r, "--state-dir", st]);
        pyrusec(&args, None)
    };
    for (bad, why) in [
        (&["192.0.2.300"][..], "not an IPv4 or IPv6 address"),
        (
            &["192.0.2.1 } ; flush ruleset"],
            "not an IPv4 or IPv6 address",
        ),
        (&["192.0.2.1", "--for", "2x"], "is not a duration"),
        (&["192.0.2.1", "--for", "0s"], "at least one second"),
        (
            &["192.0.2.1", "--set", "inet pyruse ban4 }; flush ruleset"],
            "is not a set",
        ),
    ] {
        let out = ban(bad);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {err}");
        assert!(err.contains(why), "{bad:?}: {err}");
    }
    // Refused before the state is touched: no state file was made.
    let list = pyrusec(&["bans", "list", "--rules", r, "--state-dir", st], None);
    assert_eq!(list.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&list.stderr).contains("pyrused has not run"));
    // Durations as the rules write them; the set the rules ban into.
    let out = ban(&["192.0.2.1", "--for", "2h"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("in nft set inet pyruse ban4 until "),
        "{text}"
    );
}

/// nft set-up, as shell commands.
const NFT_SETS: &str = "nft add table inet pyruse\n\
     nft add set inet pyruse ban4 '{ type ipv4_addr; flags timeout; }'\n\
     nft add set inet pyruse ban6 '{ type ipv6_addr; flags timeout; }'\n";

/// The text between two markers of the script's output.
fn section<'a>(out: &'a str, name: &str) -> &'a str {
    let start = out
        .find(&format!("=== {name}\n"))
        .unwrap_or_else(|| panic!("no section {name} in:\n{out}"));
    let rest = &out[start + name.len() + 5..];
    &rest[..rest.find("=== ").unwrap_or(rest.len())]
}

#[test]
fn a_manual_ban_reaches_nft_is_restored_at_start_and_unbanned() {
    if !can_run(
        "a_manual_ban_reaches_nft_is_restored_at_start_and_unbanned",
        &["nft"],
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(&rules, RULES.replace("/bin/true", "nft")).expect("rules");
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).expect("mkdir");
    let empty = tmp.path().join("none.jsonl");
    std::fs::write(&empty, "").expect("empty input");
    let p = |p: &Path| p.display().to_string();
    let (r, st) = (p(&rules), p(&state));
    let pyrusec = |cmd: &str| {
        format!(
            "{} {cmd} --rules {r} --state-dir {st}",
            env!("CARGO_BIN_EXE_pyrusec")
        )
    };
    let daemon = format!(
        "{} --rules {r} --state-dir {st} --json {} --exit-at-end",
        env!("CARGO_BIN_EXE_pyrused"),
        p(&empty)
    );
    let script = format!(
        "set -e\n\
         echo '=== EARLY'; {early} || echo \"exit $?\"\n\
         echo '=== QUEUED'; {status}\n\
         {early99} || true\n\
         echo '=== UNBAN99'; {unban99}\n\
         {NFT_SETS}\
         echo '=== BAN'; {ban4}; {ban6}\n\
         echo '=== SETS'; nft list set inet pyruse ban4; nft list set inet pyruse ban6\n\
         echo '=== LIST'; {list}\n\
         nft flush set inet pyruse ban4; nft flush set inet pyruse ban6\n\
         {daemon}\n\
         echo '=== RESTORED'; nft list set inet pyruse ban4; nft list set inet pyruse ban6\n\
         echo '=== UNBAN'; {unban}\n\
         echo '=== AFTER'; nft list set inet pyruse ban6\n\
         echo '=== END'\n",
        early = pyrusec("bans ban 192.0.2.88 --for 1h"),
        status = pyrusec("status --format json"),
        early99 = pyrusec("bans ban 192.0.2.99"),
        unban99 = pyrusec("bans unban 192.0.2.99"),
        ban4 = pyrusec("bans ban 192.0.2.77 --for 1h"),
        ban6 = pyrusec("bans ban 2001:db8::77"),
        list = pyrusec("bans list"),
        unban = pyrusec("bans unban 2001:db8::77"),
    );
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .env("TZ", "UTC")
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "script failed:\n{stdout}\n{stderr}");
    // Before the table exists, the ban fails: recorded and queued.
    assert!(
        section(&stdout, "EARLY").contains("exit 1"),
        "{stdout}\n{stderr}"
    );
    let queued: Value =
        serde_json::from_str(section(&stdout, "QUEUED").trim()).expect("status JSON");
    assert_eq!(queued["outbox"]["nft"]["waiting"], 1, "{queued}");
    // Unbanned before it was carried out: its queued ban goes too.
    let unban = section(&stdout, "UNBAN99");
    assert!(
        unban.contains("dropped 1 queued ban(s) of 192.0.2.99"),
        "{unban}"
    );
    // Carried out at once through nft.
    let sets = section(&stdout, "SETS");
    assert!(sets.contains("192.0.2.77 timeout 1h"), "{sets}");
    assert!(sets.contains("2001:db8::77"), "{sets}");
    let list = section(&stdout, "LIST");
    for ip in ["192.0.2.77", "192.0.2.88", "2001:db8::77"] {
        let line = list
            .lines()
            .find(|l| l.starts_with(ip))
            .unwrap_or_else(|| panic!("{ip} not listed:\n{list}"));
        assert!(line.contains("manual (pyrusec bans ban)"), "{line}");
    }
    assert!(list
        .lines()
        .any(|l| l.starts_with("2001:db8::77") && l.contains("forever")));
    // Flushed, then restored by the daemon's start, with the early one.
    let restored = section(&stdout, "RESTORED");
    for ip in ["192.0.2.77", "192.0.2.88", "2001:db8::77"] {
        assert!(restored.contains(ip), "{ip} not restored:\n{restored}");
    }
    assert!(!restored.contains("192.0.2.99"), "{restored}");
    assert!(!section(&stdout, "AFTER").contains("2001:db8::77"));
}

#[test]
fn status_shows_the_outbox_and_the_errors_of_an_idle_daemon() {
    // A relay that refuses connections: a port just closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("address").port()
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!(
            "set email.from = \"pyruse@example.org\"\n\
             set email.to = [\"root@example.org\"]\n\
             set email.smtp.host = \"127.0.0.1\"\n\
             set email.smtp.port = {port}\n\
             chain \"mail\" {{\n    email(subject: \"seen\", message: \"{{MESSAGE}}\")\n}}\n"
        ),
    )
    .expect("rules");
    let input = tmp.path().join("entries.jsonl");
    let t0 = pyruse::vm::wall_clock_us();
    let (lines, _) = failures(t0, &[("192.0.2.1", 2)]);
    std::fs::write(&input, lines).expect("entries");
    let d = Dirs {
        rules: rules.display().to_string(),
        journal: tmp.path().join("unused"),
        state: tmp.path().join("state").display().to_string(),
        _tmp: tmp,
    };
    let _daemon = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_pyrused"))
            .args(["--rules", &d.rules, "--state-dir", &d.state])
            .args(["--json", input.to_str().expect("UTF-8")])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    // The mail worker fails after the entries are committed; the idle
    // daemon writes its status again for that error.
    let cause = format!("smtp: connect 127.0.0.1:{port}");
    let s = wait_status(&d, "the relay's error", |s| {
        s["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["cause"] == cause.as_str()))
    });
    assert_eq!(s["entries"]["processed"], 2);
    let email = &s["outbox"]["email"];
    assert_eq!(email["waiting"], 2, "{s}");
    assert_eq!(email["retrying"], 1, "{s}");
    assert!(
        email["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("127.0.0.1:{port}"))),
        "{s}"
    );
    let error = s["errors"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["cause"] == cause.as_str()))
        .expect("the cause");
    assert_eq!(error["level"], "error");
}
