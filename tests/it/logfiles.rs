//! Plain log files (the `logFiles` setting, `pyrusec replay --log`): real
//! files written, renamed and truncated beside a real `pyrused`, killed and
//! restarted; what counts is the state the daemon committed, each line
//! counted exactly once.

use crate::common::*;
use pyruse::state::store::Store;
use pyruse::value::Value;
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// Rules that count each line `n=N` of the file under key N (and each
/// journal entry `j=N` under key jN), so that a line processed twice has
/// two ticks and a line lost has none.
fn write_rules(dir: &Path, log: &Path, poll_ms: u64) -> std::path::PathBuf {
    let rules = dir.join("rules.pyr");
    let text = format!(
        r#"set logFiles = [ {{ path: "{}", identifier: "app" }} ]
set logFiles.pollMilliseconds = {poll_ms}

chain "lines" {{
    SYSLOG_IDENTIFIER == "app"
    MESSAGE =~ /^(?:n|(?P<j>j))=(?P<n>\d+)$/
    counterRaise(counter: "lines", for: n, keepSeconds: 1d)
}}
"#,
        log.display()
    );
    std::fs::write(&rules, text).expect("write rules");
    rules
}

fn append(path: &Path, range: std::ops::Range<u64>) {
    let text: String = range.map(|n| format!("n={n}\n")).collect();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open the log");
    f.write_all(text.as_bytes()).expect("append");
}

/// Counter `lines`: key → number of ticks.
fn counted(state: &Path) -> BTreeMap<u64, usize> {
    let store = Store::open(state).expect("the state opens");
    store
        .load_counters()
        .expect("counters")
        .into_iter()
        .filter(|(c, ..)| c == "lines")
        .map(|(_, k, e)| {
            let Value::Str(k) = k else {
                panic!("a string key, got {k:?}")
            };
            (k.parse().expect("a number"), e.ticks.len())
        })
        .collect()
}

/// The keys of the counterRaise lines of a trace, as they come, until
/// `n` distinct keys were seen; panics after 20 s.
fn wait_for_keys(out: &Receiver<String>, seen: &mut BTreeMap<u64, usize>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = out.recv_timeout(left) else {
            panic!("only {} of {n} lines were processed", seen.len());
        };
        let v: J = serde_json::from_str(&line).expect("a trace line");
        if v["effect"] == "counterRaise" {
            let k = v["key"].as_str().expect("key").parse().expect("number");
            *seen.entry(k).or_default() += 1;
        }
    }
}

fn term(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok);
}

fn daemon(rules: &Path, state: &Path, json: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pyrused"));
    cmd.args(["--rules", &rules.display().to_string()])
        .args(["--json", json, "--dry-run"])
        .args(["--state-dir", &state.display().to_string()])
        .args(extra)
        .env("TZ", "UTC");
    cmd
}

#[test]
fn a_followed_file_loses_and_repeats_nothing_through_rotations() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let rules = write_rules(tmp.path(), &log, 50);
    let state = tmp.path().join("state");
    let mut child = Reaped::spawn(
        daemon(&rules, &state, "-", &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let _stdin = child.stdin.take();
    let out = spawn_lines(child.stdout.take().expect("stdout"));
    let err = spawn_lines(child.stderr.take().expect("stderr"));
    let mut seen = BTreeMap::new();
    // Missing at start: waited for, then read from its start.
    let waiting = err
        .recv_timeout(Duration::from_secs(20))
        .expect("a line about the missing file");
    assert!(waiting.contains("waiting for it"), "{waiting}");
    append(&log, 0..100);
    wait_for_keys(&out, &mut seen, 100);
    // Rotation by renaming; the service writes to the old file a little
    // longer, then to the new one.
    append(&log, 100..150);
    std::fs::rename(&log, tmp.path().join("access.log.1")).expect("rename");
    append(&log, 160..200);
    append(&tmp.path().join("access.log.1"), 150..160);
    wait_for_keys(&out, &mut seen, 200);
    // copytruncate: copied, then truncated in place; written again.
    append(&log, 200..250);
    wait_for_keys(&out, &mut seen, 250);
    std::fs::copy(&log, tmp.path().join("access.log.2")).expect("copy");
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .expect("truncate");
    append(&log, 250..260);
    wait_for_keys(&out, &mut seen, 260);
    term(child.id());
    assert!(child.wait().expect("pyrused exits").success());
    let want: BTreeMap<u64, usize> = (0..260).map(|n| (n, 1)).collect();
    assert_eq!(seen, want, "each line once in the trace");
    assert_eq!(counted(&state), want, "each line counted once in the state");
}

#[test]
fn killed_mid_file_the_daemon_resumes_at_the_exact_line() {
    const N: u64 = 30_000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    let rules = write_rules(tmp.path(), &log, 50);
    let state = tmp.path().join("state");
    let none = tmp.path().join("none.jsonl");
    std::fs::write(&none, "").expect("empty journal");
    let json = none.display().to_string();
    // A first start reads a file from its end: one line read and saved
    // there makes the position.
    std::fs::write(&log, "").expect("empty log");
    let mut first = Reaped::spawn(
        daemon(&rules, &state, &json, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let out = spawn_lines(first.stdout.take().expect("stdout"));
    let err = spawn_lines(first.stderr.take().expect("stderr"));
    let started = err.recv_timeout(Duration::from_secs(20)).expect("started");
    assert!(started.contains("following"), "{started}");
    append(&log, 0..1);
    wait_for_keys(&out, &mut BTreeMap::new(), 1);
    term(first.id());
    assert!(first.wait().expect("exits").success());
    append(&log, 1..N);
    let args = ["--commit-every", "500", "--exit-at-end"];
    let mut kills = 0;
    let mut partial = 0;
    let mut base_ms: u64 = 20;
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..60 {
        if kills >= 8 && partial >= 4 {
            break;
        }
        let before = counted(&state).len();
        let mut child = Reaped::spawn(
            daemon(&rules, &state, &json, &args)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(base_ms + rng % 40));
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        kills += 1;
        let after = counted(&state);
        if after.len() > before && after.len() < N as usize {
            partial += 1;
        } else {
            base_ms += 10;
        }
        assert!(after.values().all(|&t| t == 1), "a line counted twice");
    }
    assert!(
        partial >= 4,
        "only {partial} of {kills} kills landed mid-file"
    );
    let last = daemon(&rules, &state, &json, &args)
        .stdout(Stdio::null())
        .output()
        .expect("pyrused runs");
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    let want: BTreeMap<u64, usize> = (0..N).map(|n| (n, 1)).collect();
    let got = counted(&state);
    let twice: Vec<_> = got.iter().filter(|(_, &t)| t != 1).take(5).collect();
    assert!(twice.is_empty(), "counted more than once: {twice:?}");
    assert_eq!(
        got.len(),
        want.len(),
        "after {kills} kills, lines were lost"
    );
}

#[test]
fn a_file_rotated_while_the_daemon_was_stopped_is_read_to_its_end_first() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    let rules = write_rules(tmp.path(), &log, 50);
    let state = tmp.path().join("state");
    let none = tmp.path().join("none.jsonl");
    std::fs::write(&none, "").expect("empty journal");
    let json = none.display().to_string();
    append(&log, 0..10);
    let run = |extra: &[&str]| {
        let mut args = vec!["--exit-at-end"];
        args.extend(extra);
        let out = daemon(&rules, &state, &json, &args)
            .output()
            .expect("pyrused runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    // --start head: from the start of the file, not its end.
    run(&["--start", "head"]);
    append(&log, 10..20);
    std::fs::rename(&log, tmp.path().join("app.log.1")).expect("rename");
    append(&log, 20..30);
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rotated while pyrused was stopped"), "{err}");
    let want: BTreeMap<u64, usize> = (0..30).map(|n| (n, 1)).collect();
    assert_eq!(counted(&state), want);
}

#[test]
fn journal_entries_and_file_lines_are_read_in_turn() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    let rules = write_rules(tmp.path(), &log, 50);
    let state = tmp.path().join("state");
    let journal = tmp.path().join("journal.jsonl");
    let entries: String = (0..500)
        .map(|n| {
            format!(
                "{{\"SYSLOG_IDENTIFIER\":\"app\",\"MESSAGE\":\"j={n}\",\"__CURSOR\":\"c{n}\"}}\n"
            )
        })
        .collect();
    std::fs::write(&journal, entries).expect("journal");
    append(&log, 1000..1500);
    let out = daemon(
        &rules,
        &state,
        &journal.display().to_string(),
        &["--exit-at-end", "--start", "head"],
    )
    .output()
    .expect("pyrused runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = String::from_utf8(out.stdout).expect("UTF-8");
    let from_file: Vec<bool> = trace
        .lines()
        .map(|l| serde_json::from_str::<J>(l).expect("JSON"))
        .filter(|v| v["effect"] == "counterRaise")
        .map(|v| v["cursor"].is_null())
        .collect();
    assert_eq!(from_file.len(), 1000);
    // Both sources move from the start: neither waits for the other's end.
    let head = &from_file[..100];
    let n = head.iter().filter(|&&f| f).count();
    assert!(
        (30..=70).contains(&n),
        "{n} of the first 100 entries from the file"
    );
    assert_eq!(counted(&state).len(), 1000);
}

/// An nginx access log: two scanners, one fast (5 probes in 4 minutes),
/// one slow (5 probes 11 minutes apart, beyond the library's findTime of
/// 10 minutes), and a visitor.
const ACCESS_LOG: &str = r#"203.0.113.7 - - [28/Nov/2024:10:00:00 +0100] "GET /wp-login.php HTTP/1.1" 404 153 "-" "Mozilla/5.0"
198.51.100.9 - - [28/Nov/2024:10:00:01 +0100] "GET /.env HTTP/1.1" 404 153 "-" "curl/8.5"
203.0.113.7 - - [28/Nov/2024:10:00:05 +0100] "GET /phpmyadmin/ HTTP/1.1" 404 153 "-" "Mozilla/5.0"
192.0.2.44 - - [28/Nov/2024:10:00:06 +0100] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0"
203.0.113.7 - - [28/Nov/2024:10:01:00 +0100] "GET /.env HTTP/1.1" 404 153 "-" "Mozilla/5.0"
192.0.2.44 - - [28/Nov/2024:10:01:30 +0100] "GET /wp-login.php HTTP/1.1" 200 4120 "-" "Mozilla/5.0"
203.0.113.7 - - [28/Nov/2024:10:02:00 +0100] "GET /.git/config HTTP/1.1" 404 153 "-" "Mozilla/5.0"
203.0.113.7 - - [28/Nov/2024:10:04:00 +0100] "GET /cgi-bin/test.cgi HTTP/1.1" 404 153 "-" "Mozilla/5.0"
198.51.100.9 - - [28/Nov/2024:10:11:02 +0100] "GET /.git/HEAD HTTP/1.1" 404 153 "-" "curl/8.5"
198.51.100.9 - - [28/Nov/2024:10:22:03 +0100] "GET /webmail/ HTTP/1.1" 404 153 "-" "curl/8.5"
198.51.100.9 - - [28/Nov/2024:10:33:04 +0100] "GET /pma/ HTTP/1.1" 404 153 "-" "curl/8.5"
198.51.100.9 - - [28/Nov/2024:10:44:05 +0100] "GET /.aws/credentials HTTP/1.1" 404 153 "-" "curl/8.5"
"#;

/// A ban of a trace: entry, address, seconds.
type Ban = (u64, String, i64);

/// (counterRaise key and value, bans) of a replay's trace.
fn raises_and_bans(trace: &str) -> (Vec<(String, i64)>, Vec<Ban>) {
    let mut raises = Vec::new();
    let mut bans = Vec::new();
    for v in trace
        .lines()
        .map(|l| serde_json::from_str::<J>(l).expect("JSON"))
    {
        match v["effect"].as_str() {
            Some("counterRaise") => raises.push((
                v["key"].as_str().expect("key").to_owned(),
                v["value"].as_i64().expect("value"),
            )),
            Some("nftBan") => bans.push((
                v["entry"].as_u64().expect("entry"),
                v["ip"].as_str().expect("ip").to_owned(),
                v["seconds"].as_i64().expect("seconds"),
            )),
            _ => {}
        }
    }
    (raises, bans)
}

#[test]
fn replay_log_runs_the_library_on_an_nginx_access_log() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    std::fs::write(&log, ACCESS_LOG).expect("log");
    let log = log.display().to_string();
    let replay = |extra: &[&str]| {
        let mut args = vec!["replay", "rules/", "--log", &log, "--identifier", "nginx"];
        args.extend(extra);
        let out = pyrusec(&args, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let (raises, bans) = raises_and_bans(&replay(&["--time-format", "nginx"]));
    let fast: Vec<i64> = raises
        .iter()
        .filter(|(k, _)| k == "203.0.113.7")
        .map(|r| r.1)
        .collect();
    let slow: Vec<i64> = raises
        .iter()
        .filter(|(k, _)| k == "198.51.100.9")
        .map(|r| r.1)
        .collect();
    assert_eq!(fast, [1, 2, 3, 4, 5], "each probe counted, the fifth bans");
    assert_eq!(
        slow,
        [1, 1, 1, 1, 1],
        "probes further apart than findTime never add up"
    );
    assert!(
        raises.iter().all(|(k, _)| k != "192.0.2.44"),
        "a visitor is not counted"
    );
    assert_eq!(
        bans,
        [(7, "203.0.113.7".to_owned(), 3600)],
        "one ban, at the fifth probe (line 8)"
    );
    // Without the time format the lines are timed as they are read: the
    // slow scanner's probes then fall within findTime and ban too.
    let (_, bans) = raises_and_bans(&replay(&[]));
    let banned: Vec<&str> = bans.iter().map(|b| b.1.as_str()).collect();
    assert_eq!(banned, ["203.0.113.7", "198.51.100.9"]);
}

#[test]
fn replay_log_refuses_bad_arguments_with_status_2() {
    let out = pyrusec(
        &[
            "replay",
            "rules/",
            "--log",
            "/nonexistent/access.log",
            "--identifier",
            "nginx",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/access.log"));
    let out = pyrusec(&["replay", "rules/", "--log", "-"], Some(""));
    assert_eq!(out.status.code(), Some(2), "--identifier is required");
    let out = pyrusec(
        &[
            "replay",
            "rules/",
            "--log",
            "-",
            "--identifier",
            "x",
            "--time-format",
            "%H:%M",
        ],
        Some(""),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read a full time back"));
}

/// nginx's logs are `www-data:adm 0640`: root without `CAP_DAC_*` cannot
/// read them. The unit `pyrused --unit` writes for rules with `logFiles`
/// keeps the capability to; run with exactly its capabilities (setpriv),
/// the daemon reads a file of another owner, and without it it cannot.
#[test]
fn the_unit_keeps_the_capability_to_read_log_files_of_other_owners() {
    use std::os::unix::fs::PermissionsExt;
    let test = "the_unit_keeps_the_capability_to_read_log_files_of_other_owners";
    if !can_run(test, &["setpriv"]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("logs");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let log = dir.join("access.log");
    append(&log, 0..3);
    std::os::unix::fs::chown(&log, Some(12_345), Some(12_345)).expect("chown");
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let rules = write_rules(tmp.path(), &log, 50);
    let unit = pyrused(&["--unit", "--rules", rules.to_str().expect("UTF-8")]);
    let unit = String::from_utf8(unit.stdout).expect("UTF-8");
    let caps = unit
        .lines()
        .find_map(|l| l.strip_prefix("CapabilityBoundingSet="))
        .expect("a capability bounding set");
    assert_eq!(
        caps, "CAP_DAC_READ_SEARCH",
        "these rules ban nothing: reading only"
    );
    let none = tmp.path().join("none.jsonl");
    std::fs::write(&none, "").expect("empty journal");
    let read_with = |bounding: &str, state: &str| {
        let out = Command::new("setpriv")
            .args(["--bounding-set", bounding, "--inh-caps", "-all", "--"])
            .arg(env!("CARGO_BIN_EXE_pyrused"))
            .args(["--rules", rules.to_str().expect("UTF-8")])
            .args([
                "--json",
                none.to_str().expect("UTF-8"),
                "--dry-run",
                "--exit-at-end",
            ])
            .args(["--start", "head", "--state-dir"])
            .arg(tmp.path().join(state))
            .output()
            .expect("setpriv runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            counted(&tmp.path().join(state)).len(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let caps: Vec<String> = caps
        .split_whitespace()
        .map(|c| format!("+{}", c.trim_start_matches("CAP_").to_lowercase()))
        .collect();
    let (n, err) = read_with(&format!("-all,{}", caps.join(",")), "with");
    assert_eq!(n, 3, "{err}");
    let (n, err) = read_with("-all", "without");
    assert_eq!(n, 0);
    assert!(err.contains("Permission denied"), "{err}");
}

/// SIGHUP with another `logFiles`: a file added is followed (from its
/// end, as at a first start), the one kept goes on where it was.
#[test]
fn a_reload_follows_the_files_of_the_new_rules() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = tmp.path().join("a.log");
    let b = tmp.path().join("b.log");
    std::fs::write(&a, "").expect("a");
    std::fs::write(&b, "n=999\n").expect("b");
    let rules = write_rules(tmp.path(), &a, 50);
    let state = tmp.path().join("state");
    let mut child = Reaped::spawn(
        daemon(&rules, &state, "-", &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let _stdin = child.stdin.take();
    let out = spawn_lines(child.stdout.take().expect("stdout"));
    let err = spawn_lines(child.stderr.take().expect("stderr"));
    let started = err.recv_timeout(Duration::from_secs(20)).expect("started");
    assert!(started.contains("following"), "{started}");
    let mut seen = BTreeMap::new();
    append(&a, 0..10);
    wait_for_keys(&out, &mut seen, 10);
    let text = std::fs::read_to_string(&rules).expect("rules");
    let both = text.replace(
        "identifier: \"app\" }",
        &format!(
            "identifier: \"app\" }}, {{ path: \"{}\", identifier: \"app\" }}",
            b.display()
        ),
    );
    std::fs::write(&rules, both).expect("rules");
    let ok = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !err
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .expect("the new file followed")
        .contains(&format!("following {}", b.display()))
    {}
    append(&a, 10..20);
    append(&b, 100..110);
    wait_for_keys(&out, &mut seen, 30);
    term(child.id());
    assert!(child.wait().expect("exits").success());
    let mut want: BTreeMap<u64, usize> = (0..20).map(|n| (n, 1)).collect();
    want.extend((100..110).map(|n| (n, 1)));
    assert_eq!(seen, want, "b from its end (n=999 was there before)");
    assert_eq!(counted(&state), want);
}
