//! `pyrused` end to end: on real journal files made by
//! systemd-journal-remote, across restarts and crashes, following a real
//! systemd-journald, and reloading its rules.
//!
//! These tests need root (journal files, mount namespaces). As another
//! user they are skipped with a note, except under CI, where they fail.

use crate::common::*;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn corpus_lines() -> Vec<String> {
    read_data("compat/entries/corpus-20k.jsonl")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn rules(name: &str) -> String {
    data(&format!("compat/configs/{name}.json"))
        .display()
        .to_string()
}

fn passwd() -> String {
    data("passwd").display().to_string()
}

/// `pyrused` over a journal directory with the legacy semantics rules,
/// as a dry run to the end of what exists.
fn semantics_args(dir: &Path, state: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--rules",
        &rules("semantics"),
        "--directory",
        &dir.display().to_string(),
        "--state-dir",
        &state.display().to_string(),
        "--passwd",
        &passwd(),
        "--dry-run",
        "--exit-at-end",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

fn run_dir(dir: &Path, state: &Path, extra: &[&str]) -> std::process::Output {
    let args = semantics_args(dir, state, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = pyrused(&args);
    assert!(
        out.status.success(),
        "pyrused failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A journal directory in `tmp` holding the whole corpus in one file.
fn corpus_journal(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("journal");
    std::fs::create_dir(&dir).expect("mkdir");
    make_journal(
        &read_data("compat/entries/corpus-20k.jsonl"),
        &dir.join("corpus.journal"),
    );
    dir
}

#[test]
fn journal_files_give_pyruse_effects() {
    if !can_run("journal_files_give_pyruse_effects", &[JOURNAL_REMOTE]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = corpus_journal(tmp.path());
    let out = run_dir(&dir, &tmp.path().join("state"), &[]);
    let trace = String::from_utf8(out.stdout).expect("UTF-8 trace");
    assert!(
        trace.lines().all(|l| l.contains("\"cursor\":")),
        "every line has its cursor"
    );
    let expected = read_data("compat/expected/semantics.corpus-20k.effects.jsonl");
    let skipped = skipped("compat/expected/semantics.corpus-20k.skipped");
    let diffs = diff_traces(&expected, &trace, &skipped);
    assert!(
        diffs.is_empty(),
        "{} entries differ:\n{}",
        diffs.len(),
        diffs[..diffs.len().min(5)].join("\n")
    );
}

#[test]
fn restart_resumes_after_the_last_entry_with_counters() {
    if !can_run(
        "restart_resumes_after_the_last_entry_with_counters",
        &[JOURNAL_REMOTE],
    ) {
        return;
    }
    let lines = corpus_lines();
    let (first, second) = lines.split_at(lines.len() / 2);
    let tmp = tempfile::tempdir().expect("tempdir");
    // One run over both files.
    let whole = tmp.path().join("whole");
    std::fs::create_dir(&whole).expect("mkdir");
    make_journal(&first.join("\n"), &whole.join("a.journal"));
    make_journal(&second.join("\n"), &whole.join("b.journal"));
    let once =
        String::from_utf8(run_dir(&whole, &tmp.path().join("s1"), &[]).stdout).expect("UTF-8");
    // Half, exit, the other half appears, restart with the same state.
    let split = tmp.path().join("split");
    std::fs::create_dir(&split).expect("mkdir");
    std::fs::copy(whole.join("a.journal"), split.join("a.journal")).expect("copy");
    let state = tmp.path().join("s2");
    let run1 = String::from_utf8(run_dir(&split, &state, &[]).stdout).expect("UTF-8");
    std::fs::copy(whole.join("b.journal"), split.join("b.journal")).expect("copy");
    let run2 = String::from_utf8(run_dir(&split, &state, &[]).stdout).expect("UTF-8");
    assert!(!run1.is_empty() && !run2.is_empty());
    let together = by_cursor_last(&[run1.clone(), run2.clone()]);
    let reference = by_cursor_last(&[once]);
    assert_eq!(together.len(), reference.len());
    assert!(
        together == reference,
        "the two runs differ from one run over all entries"
    );
    // No entry of the first half was processed again.
    let firsts: std::collections::HashSet<_> = by_cursor_last(&[run1])
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert!(by_cursor_last(&[run2])
        .iter()
        .all(|(c, _)| !firsts.contains(c)));
}

/// Entries of three machines interleaved in time, as JSON lines, as a
/// `systemd-journal-remote` collector receives them.
fn interleaved_lines(range: std::ops::Range<u64>) -> String {
    range
        .map(|i| {
            serde_json::json!({
                "__REALTIME_TIMESTAMP": (1_700_000_000_000_000 + i * 1_000_000).to_string(),
                "__MONOTONIC_TIMESTAMP": (1_000_000 + i * 1_000).to_string(),
                "_BOOT_ID": format!("{:032x}", 0xb007 + i % 3),
                "_HOSTNAME": format!("host{}", i % 3),
                "MESSAGE": format!("entry {i}"),
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn resume_loses_no_entry_of_a_file_from_several_machines() {
    if !can_run(
        "resume_loses_no_entry_of_a_file_from_several_machines",
        &[JOURNAL_REMOTE],
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("every.pyr");
    write_rules(&rules, "chain \"Every entry\" { noop() }\n");
    let dir = tmp.path().join("remote");
    std::fs::create_dir(&dir).expect("mkdir");
    make_journal(&interleaved_lines(0..2_000), &dir.join("a.journal"));
    let state = tmp.path().join("state");
    let run = || {
        let args = [
            "--rules",
            rules.to_str().expect("UTF-8 path"),
            "--directory",
            dir.to_str().expect("UTF-8 path"),
            "--state-dir",
            state.to_str().expect("UTF-8 path"),
            "--dry-run",
            "--exit-at-end",
        ];
        let out = pyrused(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("UTF-8 trace")
            .lines()
            .count()
    };
    assert_eq!(run(), 2_000);
    make_journal(&interleaved_lines(2_000..4_000), &dir.join("b.journal"));
    assert_eq!(run(), 2_000, "every entry of the new file, once");
    assert_eq!(run(), 0, "nothing twice");
}

#[test]
fn killed_at_random_moments_loses_nothing() {
    if !can_run("killed_at_random_moments_loses_nothing", &[JOURNAL_REMOTE]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = corpus_journal(tmp.path());
    let reference =
        by_cursor_last(&[
            String::from_utf8(run_dir(&dir, &tmp.path().join("ref"), &[]).stdout).expect("UTF-8"),
        ]);
    let state = tmp.path().join("state");
    let args = semantics_args(&dir, &state, &["--commit-every", "300"]);
    let mut traces = Vec::new();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut kills = 0;
    let mut runs = 0;
    // Kill at a random moment of a run; the window adapts so that kills land
    // while entries are being processed, however loaded the machine is.
    let mut base_ms: u64 = 5;
    let mut partial = 0;
    while (kills < 25 || partial < 12) && runs < 200 {
        runs += 1;
        let path = tmp.path().join(format!("trace{runs}"));
        let file = std::fs::File::create(&path).expect("trace file");
        let mut child = Reaped::spawn(
            Command::new(env!("CARGO_BIN_EXE_pyrused"))
                .args(&args)
                .env("TZ", "UTC")
                .stdout(file)
                .stderr(Stdio::null()),
        );
        std::thread::sleep(Duration::from_millis(base_ms + rng.next() % 40));
        let killed = child.try_wait().expect("wait").is_none();
        if killed {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        let _ = child.wait();
        let trace = std::fs::read_to_string(&path).unwrap_or_default();
        if killed && !trace.is_empty() {
            partial += 1;
        }
        if killed && trace.is_empty() {
            base_ms += 5;
        } else if !killed {
            base_ms = base_ms.saturating_sub(5).max(1);
        }
        traces.push(trace);
    }
    assert!(kills >= 20, "only {kills} kills landed during a run");
    // Kills landed in the middle of the work, not only before it started.
    let partial = traces.iter().filter(|t| !t.is_empty()).count();
    assert!(
        partial >= 10,
        "only {partial} killed runs had processed entries"
    );
    // The last run goes to the end.
    let last = run_dir(&dir, &state, &[]);
    traces.push(String::from_utf8(last.stdout).expect("UTF-8"));
    let got = by_cursor_last(&traces);
    assert_eq!(
        got.len(),
        reference.len(),
        "every entry with effects was processed"
    );
    let mismatched: Vec<_> = got
        .iter()
        .zip(&reference)
        .filter(|(a, b)| a != b)
        .take(3)
        .collect();
    assert!(
        mismatched.is_empty(),
        "after {kills} kills, effects differ: {mismatched:?}"
    );
}

#[test]
fn state_files_are_readable_by_root_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().join("state");
    let out = pyrused(&[
        "--rules",
        "rules/",
        "--json",
        "rules/samples/demo.jsonl",
        "--state-dir",
        &state.display().to_string(),
        "--dry-run",
        "--exit-at-end",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700);
    for e in std::fs::read_dir(&state).expect("state dir").flatten() {
        assert_eq!(
            mode(&e.path()) & 0o077,
            0,
            "{} is readable by others",
            e.path().display()
        );
    }
}

/// Write a rules file, replacing it atomically.
fn write_rules(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write rules");
    std::fs::rename(&tmp, path).expect("rename rules");
}

fn expect_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(l) if l.contains(needle) => return l,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?} within 20 s");
}

#[test]
fn sighup_reload_keeps_old_rules_on_error_and_state_across() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    let v1 = r#"chain "Count" {
    SYSLOG_IDENTIFIER == "t"
    counterRaise(counter: "c", for: SYSLOG_IDENTIFIER, save: n)
    log(message: "v1 {MESSAGE} n={n}")
}
"#;
    write_rules(&rules, v1);
    let mut child = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_pyrused"))
            .args([
                "--rules",
                &rules.display().to_string(),
                "--json",
                "-",
                "--dry-run",
                "--commit-interval-ms",
                "50",
            ])
            .args([
                "--state-dir",
                &tmp.path().join("state").display().to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut stdin = child.stdin.take().expect("stdin");
    let out = spawn_lines(child.stdout.take().expect("stdout"));
    let err = spawn_lines(child.stderr.take().expect("stderr"));
    let pid = child.id().to_string();
    let hup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok);
    };
    let mut send = |m: &str| {
        writeln!(stdin, r#"{{"SYSLOG_IDENTIFIER": "t", "MESSAGE": "{m}"}}"#).expect("write entry");
        stdin.flush().expect("flush");
    };
    send("one");
    expect_line(&out, "v1 one n=1");
    // A broken file: the old rules keep running.
    write_rules(&rules, "chain \"Count\" {\n    SYSLOG_IDENTIFIER == \"t\"\n    counterRaise(counter: \"c\", for: SYSLOG_IDENTIFIER, save: n\n}\n");
    hup();
    let why = expect_line(&err, "do not check");
    assert!(why.contains("old rules keep running"), "{why}");
    send("two");
    expect_line(&out, "v1 two n=2");
    // Fixed: the new rules run, and the counter goes on.
    write_rules(&rules, &v1.replace("v1", "v2"));
    hup();
    expect_line(&err, "reloaded");
    send("three");
    expect_line(&out, "v2 three n=3");
    let ok = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok);
    let status = child.wait().expect("pyrused exits");
    assert!(
        status.success(),
        "SIGTERM ends pyrused with status 0, got {status}"
    );
}

/// Percentile of sorted durations.
fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
fn follows_a_live_journald() {
    if !can_run("follows_a_live_journald", &[JOURNAL_REMOTE]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        "chain \"Latency\" {\n    SYSLOG_IDENTIFIER == \"latency\"\n    MESSAGE =~ /^ping (?P<n>[0-9]+)$/\n    email(subject: \"pong\", message: \"pong {n}\")\n}\n",
    )
    .expect("rules");
    let jpid = tmp.path().join("journald.pid");
    let _journald = KillPidFile(jpid.clone());
    let script = format!(
        "set -e\n\
         mount -t tmpfs tmpfs /run/systemd\n\
         mount -t tmpfs tmpfs /run/log\n\
         mkdir -p /run/systemd/journal\n\
         /lib/systemd/systemd-journald &\n\
         echo $! > {jpid}\n\
         for i in $(seq 100); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.05; done\n\
         exec {pyrused} --rules {rules} --dry-run --state-dir {state}\n",
        jpid = jpid.display(),
        pyrused = env!("CARGO_BIN_EXE_pyrused"),
        rules = rules.display(),
        state = tmp.path().join("state").display(),
    );
    let mut daemon = Reaped::spawn(
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let out = spawn_lines(daemon.stdout.take().expect("stdout"));
    let err = spawn_lines(daemon.stderr.take().expect("stderr"));
    expect_line(&err, "started with");
    let pid = daemon.id().to_string();
    // systemd-cat in the daemon's mount namespace, fed line by line.
    let mut cat = Reaped::spawn(
        Command::new("nsenter")
            .args(["-t", &pid, "-m", "--", "systemd-cat", "-t", "latency"])
            .stdin(Stdio::piped()),
    );
    let mut cat_in = cat.stdin.take().expect("stdin");
    let mut latencies = Vec::new();
    for i in 0..200 {
        let t0 = Instant::now();
        writeln!(cat_in, "ping {i}").expect("write to systemd-cat");
        cat_in.flush().expect("flush");
        let line = expect_line(&out, &format!("\"pong {i}\""));
        latencies.push(t0.elapsed());
        let v: Value = serde_json::from_str(&line).expect("trace line");
        assert!(
            v["cursor"].as_str().is_some_and(|c| c.starts_with("s=")),
            "{line}"
        );
    }
    drop(cat_in);
    let _ = cat.wait();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let status = daemon.wait().expect("daemon exits");
    if let Ok(j) = std::fs::read_to_string(&jpid) {
        let _ = Command::new("kill").arg(j.trim()).status();
    }
    assert!(status.success(), "pyrused exit status {status}");
    latencies.sort();
    let (p50, p99) = (pct(&latencies, 0.5), pct(&latencies, 0.99));
    eprintln!(
        "write-to-effect latency over {} lines: p50 {:?}, p99 {:?}",
        latencies.len(),
        p50,
        p99
    );
    // Effects follow the writes (bounded by the daemon's 200 ms wait even
    // when journald's notification is late), not seconds later.
    assert!(p50 < Duration::from_secs(1), "p50 {p50:?}");
}

#[test]
fn log_lines_reach_the_journal_and_recidive_rules_read_them_back() {
    if !can_run(
        "log_lines_reach_the_journal_and_recidive_rules_read_them_back",
        &[JOURNAL_REMOTE],
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mails = tmp.path().join("mails");
    std::fs::create_dir(&mails).expect("mkdir");
    let sendmail = tmp.path().join("sendmail");
    std::fs::write(
        &sendmail,
        format!("#!/bin/sh\ncat > {}/mail.$$\n", mails.display()),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sendmail, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!(
            "set email.sendmail = [\"{}\"]\n\
             chain \"SSH\" {{\n    SYSLOG_IDENTIFIER == \"sshd\"\n    MESSAGE =~ /^Failed password for \\S+ from (?P<ip>\\S+) port/\n\
                 log(level: \"WARNING\", message: \"nftBan from ssh for {{ip}}\")\n}}\n\
             chain \"Recidive\" {{\n    SYSLOG_IDENTIFIER == \"pyruse\"\n    PRIORITY == 4\n    MESSAGE =~ /^nftBan from \\S+ for (?P<ip>.+)$/\n\
                 email(subject: \"recidive {{ip}}\", message: \"{{ip}} seen again\")\n}}\n",
            sendmail.display()
        ),
    )
    .expect("rules");
    let jpid = tmp.path().join("journald.pid");
    let _journald = KillPidFile(jpid.clone());
    let script = format!(
        "set -e\n\
         mount -t tmpfs tmpfs /run/systemd\n\
         mount -t tmpfs tmpfs /run/log\n\
         mkdir -p /run/systemd/journal\n\
         /lib/systemd/systemd-journald &\n\
         echo $! > {jpid}\n\
         trap 'kill $(cat {jpid})' EXIT\n\
         for i in $(seq 100); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.05; done\n\
         {pyrused} --rules {rules} --state-dir {state} &\n\
         DAEMON=$!\n\
         sleep 1\n\
         echo 'Failed password for root from 203.0.113.77 port 22 ssh2' | systemd-cat -t sshd\n\
         for i in $(seq 100); do ls {mails}/mail.* >/dev/null 2>&1 && break; sleep 0.1; done\n\
         kill -TERM $DAEMON; wait $DAEMON\n\
         journalctl -D /run/log/journal -t pyruse -o export --no-pager | grep -aE '^(MESSAGE|PRIORITY|SYSLOG_IDENTIFIER)='\n",
        jpid = jpid.display(),
        pyrused = env!("CARGO_BIN_EXE_pyrused"),
        rules = rules.display(),
        state = tmp.path().join("state").display(),
        mails = mails.display(),
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The log action wrote to the journal, as Pyruse, at the asked priority.
    assert!(
        stdout.contains("MESSAGE=nftBan from ssh for 203.0.113.77"),
        "{stdout}"
    );
    assert!(
        stdout.contains("PRIORITY=4") && stdout.contains("SYSLOG_IDENTIFIER=pyruse"),
        "{stdout}"
    );
    // And the recidive chain read it back.
    let sent: Vec<_> = std::fs::read_dir(&mails)
        .expect("mails")
        .flatten()
        .collect();
    assert_eq!(sent.len(), 1, "one recidive mail");
    let mail = std::fs::read_to_string(sent[0].path()).expect("mail");
    assert!(mail.contains("Subject: recidive 203.0.113.77"), "{mail}");
}

#[test]
fn tells_systemd_ready_watchdog_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let tmp = tempfile::tempdir().expect("tempdir");
    let sock_path = tmp.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("notify socket");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut child = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_pyrused"))
            .args(["--rules", "rules/", "--json", "-", "--dry-run"])
            .args([
                "--state-dir",
                &tmp.path().join("state").display().to_string(),
            ])
            .env("NOTIFY_SOCKET", &sock_path)
            .env("WATCHDOG_USEC", "200000")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && got
            .iter()
            .filter(|m: &&String| m.contains("WATCHDOG=1"))
            .count()
            < 3
    {
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok);
    while let Ok(n) = sock.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        if got.last().is_some_and(|m| m.contains("STOPPING=1")) {
            break;
        }
    }
    assert!(child.wait().expect("exit").success());
    assert!(
        got.first()
            .is_some_and(|m| m.contains("READY=1") && m.contains("STATUS=")),
        "{got:?}"
    );
    assert!(
        got.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 3,
        "pings at half the watchdog period: {got:?}"
    );
    assert!(
        got.last().is_some_and(|m| m.contains("STOPPING=1")),
        "{got:?}"
    );
}

/// A session remembered before a restart is recalled after it: the
/// failure logged without an address still counts the address of the
/// connection's first line.
#[test]
fn remembered_sessions_survive_a_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("sessions.pyr");
    write_rules(
        &rules,
        r#"chain "Connections" {
    MESSAGE =~ /^Connection from (?P<clientIP>[0-9.]+) port \d+ on /
    remember(session: "sshd", key: [_HOSTNAME, _PID], fields: [clientIP])
}
chain "Too many failures" {
    MESSAGE =~ /^Disconnecting: Too many authentication failures/
    recall(session: "sshd", key: [_HOSTNAME, _PID])
    failure(IP: clientIP, service: "sshd")
}
"#,
    );
    let line = |t: u64, pid: &str, m: &str| {
        serde_json::json!({
            "__REALTIME_TIMESTAMP": (1_700_000_000_000_000u64 + t * 1_000_000).to_string(),
            "_HOSTNAME": "bastion", "_PID": pid, "MESSAGE": m,
        })
        .to_string()
    };
    let first = tmp.path().join("first.jsonl");
    std::fs::write(
        &first,
        line(
            0,
            "7",
            "Connection from 192.0.2.9 port 4242 on 10.0.0.2 port 22",
        ) + "\n",
    )
    .expect("write");
    let second = tmp.path().join("second.jsonl");
    std::fs::write(
        &second,
        [
            line(
                5,
                "7",
                "Disconnecting: Too many authentication failures [preauth]",
            ),
            line(
                6,
                "8",
                "Disconnecting: Too many authentication failures [preauth]",
            ),
        ]
        .join("\n")
            + "\n",
    )
    .expect("write");
    let state = tmp.path().join("state");
    let run = |input: &Path| {
        let out = pyrused(&[
            "--rules",
            rules.to_str().expect("UTF-8"),
            "--json",
            input.to_str().expect("UTF-8"),
            "--state-dir",
            state.to_str().expect("UTF-8"),
            "--dry-run",
            "--exit-at-end",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    assert!(run(&first).contains("\"effect\":\"remember\""));
    let trace = run(&second);
    let counted: Vec<Value> = trace
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .filter(|v| v["effect"] == "counterRaise")
        .collect();
    assert_eq!(counted.len(), 1, "{trace}");
    assert_eq!(counted[0]["key"], "192.0.2.9");
    assert_eq!(counted[0]["entry"], 0, "the other pid has no session");
}

/// `n` sshd failures of three clients, the last ones a few seconds ago.
fn json_entries(dir: &Path, name: &str, n: u64) -> std::path::PathBuf {
    let path = dir.join(name);
    let t0 = pyruse::vm::wall_clock_us() as u64 - n * 1_000_000;
    let lines: Vec<String> = (0..n)
        .map(|i| {
            serde_json::json!({
                "__REALTIME_TIMESTAMP": (t0 + i * 1_000_000).to_string(),
                "SYSLOG_IDENTIFIER": "sshd",
                "MESSAGE": format!("Failed password for root from 203.0.113.{} port 22 ssh2", i % 3),
            })
            .to_string()
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").expect("write entries");
    path
}

const BAN_RULES: &str = r#"set nftBan.nft = ["/bin/true"]
chain "SSH" {
    MESSAGE =~ /^Failed password for \S+ from (?P<ip>\S+) port/
    failure(IP: ip, service: "sshd", maxFailures: 2)
}
"#;

#[test]
fn a_second_daemon_on_the_same_state_directory_refuses_to_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    write_rules(&rules, BAN_RULES);
    let state = tmp.path().join("state");
    let args = |input: &str| {
        vec![
            "--rules".to_owned(),
            rules.display().to_string(),
            "--json".to_owned(),
            input.to_owned(),
            "--state-dir".to_owned(),
            state.display().to_string(),
        ]
    };
    let mut first = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_pyrused"))
            .args(args("-"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let lock = state.join("pyrused.lock");
    let start = Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |p| p.trim().is_empty()) {
        assert!(start.elapsed() < Duration::from_secs(10), "no lock taken");
        std::thread::sleep(Duration::from_millis(50));
    }
    let entries = json_entries(tmp.path(), "e.jsonl", 4);
    let mut second_args = args(entries.to_str().expect("UTF-8"));
    second_args.push("--exit-at-end".to_owned());
    let second_args: Vec<&str> = second_args.iter().map(String::as_str).collect();
    let second = pyrused(&second_args);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("another pyrused (pid {})", first.id())),
        "{stderr}"
    );
    // pyrusec works beside the running daemon.
    let list = pyrusec(
        &[
            "bans",
            "list",
            "--state-dir",
            state.to_str().expect("UTF-8"),
        ],
        None,
    );
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    drop(first.stdin.take());
    Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .expect("kill");
    assert!(first.wait().expect("exit").success());
    // Once it is gone, the directory is free again.
    let again = pyrused(&second_args);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn a_damaged_state_file_is_moved_aside_and_the_daemon_starts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    write_rules(&rules, BAN_RULES);
    let state = tmp.path().join("state");
    let run = |entries: &Path| {
        pyrused(&[
            "--rules",
            rules.to_str().expect("UTF-8"),
            "--json",
            entries.to_str().expect("UTF-8"),
            "--state-dir",
            state.to_str().expect("UTF-8"),
            "--exit-at-end",
        ])
    };
    let aside = || -> Vec<String> {
        std::fs::read_dir(&state)
            .expect("state dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| {
                n.starts_with("state.sqlite.damaged-")
                    && !n.ends_with("-wal")
                    && !n.ends_with("-shm")
            })
            .collect()
    };
    // Overwritten with something that is not a database.
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(state.join("state.sqlite"), vec![0x5a; 20_000]).expect("write");
    let out = run(&json_entries(tmp.path(), "a.jsonl", 6));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("moved aside to"), "{stderr}");
    assert!(stderr.contains("lost: counters"), "{stderr}");
    assert_eq!(aside().len(), 1);
    // The fresh state works: the bans of that run are recorded.
    let list = pyrusec(
        &[
            "bans",
            "list",
            "--state-dir",
            state.to_str().expect("UTF-8"),
        ],
        None,
    );
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("203.0.113.0"), "{listed}");
    // Truncated in the middle of its pages.
    let file = state.join("state.sqlite");
    let len = std::fs::metadata(&file).expect("meta").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .expect("open");
    f.set_len(len / 2).expect("truncate");
    drop(f);
    let out = run(&json_entries(tmp.path(), "b.jsonl", 6));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("moved aside to"), "{stderr}");
    assert_eq!(aside().len(), 2, "{stderr}");
    std::thread::sleep(Duration::from_millis(1100));
    let out2 = run(&json_entries(tmp.path(), "c.jsonl", 2));
    assert!(
        out2.status.success(),
        "{}",
        String::from_utf8_lossy(&out2.stderr)
    );
}

/// Hostile entries in a real journal file, each followed by an ordinary
/// failure: the daemon processes every ordinary one and keeps running.
#[test]
fn hostile_journal_entries_do_not_stop_the_daemon() {
    if !can_run(
        "hostile_journal_entries_do_not_stop_the_daemon",
        &[JOURNAL_REMOTE],
    ) {
        return;
    }
    let two_mib = "B".repeat(2 << 20);
    let bad: Vec<u8> = vec![0xff, 0xfe, b'x', 0xc3];
    let mut many = serde_json::Map::new();
    for i in 0..3000 {
        many.insert(format!("FIELD_{i}"), format!("value {i}").into());
    }
    many.insert("MESSAGE".into(), "thousands of fields".into());
    let hostile = [
        serde_json::json!({"MESSAGE": two_mib, "SYSLOG_IDENTIFIER": "sshd"}),
        serde_json::json!({"MESSAGE": "Failed password for root\u{0} from 203.0.113.1\u{0} port 22 ssh2", "SYSLOG_IDENTIFIER": "sshd\u{0}"}),
        serde_json::json!({"MESSAGE": bad, "SYSLOG_IDENTIFIER": bad, "_HOSTNAME": bad, "PRIORITY": bad, "_PID": bad}),
        serde_json::json!({"MESSAGE": vec!["Failed password for root from 203.0.113.2 port 22 ssh2"; 400], "SYSLOG_IDENTIFIER": vec!["sshd"; 300]}),
        Value::Object(many),
        serde_json::json!({"PRIORITY": "99999999999999999999999", "_PID": "-99999999999999999999", "MESSAGE": "x"}),
        serde_json::json!({"MESSAGE": "{MESSAGE} {MESSAGE:>999999999} {0} {", "SYSLOG_IDENTIFIER": "{_HOSTNAME}", "PRIORITY": "2"}),
    ];
    let t0 = 1_767_225_600_000_000u64;
    let mut lines = Vec::new();
    for (n, h) in hostile.iter().enumerate() {
        let mut h = h.clone();
        let t = t0 + 2 * n as u64 * 1_000_000;
        h["__REALTIME_TIMESTAMP"] = t.to_string().into();
        h["__MONOTONIC_TIMESTAMP"] = (t / 1000).to_string().into();
        h["_BOOT_ID"] = "0123456789abcdef0123456789abcdef".into();
        lines.push(h.to_string());
        lines.push(
            serde_json::json!({
                "__REALTIME_TIMESTAMP": (t + 1_000_000).to_string(),
                "__MONOTONIC_TIMESTAMP": ((t + 1_000_000) / 1000).to_string(),
                "_BOOT_ID": "0123456789abcdef0123456789abcdef",
                "SYSLOG_IDENTIFIER": "sshd", "_PID": "4242", "_HOSTNAME": "bastion",
                "MESSAGE": format!("Failed password for root from 198.51.100.{} port 22 ssh2", n + 1),
            })
            .to_string(),
        );
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("journal");
    std::fs::create_dir(&dir).expect("mkdir");
    make_journal(&lines.join("\n"), &dir.join("hostile.journal"));
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let out = pyrused(&[
        "--rules",
        rules.to_str().expect("UTF-8"),
        "--directory",
        dir.to_str().expect("UTF-8"),
        "--state-dir",
        tmp.path().join("state").to_str().expect("UTF-8"),
        "--dry-run",
        "--exit-at-end",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let trace = String::from_utf8_lossy(&out.stdout);
    for n in 1..=hostile.len() {
        let key = format!("\"key\":\"198.51.100.{n}\"");
        assert!(
            trace
                .lines()
                .any(|l| l.contains("\"counterRaise\"") && l.contains(&key)),
            "the failure after hostile entry {n} was not counted:\n{stderr}"
        );
    }
}

/// `pyrused --unit` keeps CAP_NET_ADMIN only for rules that ban with a
/// local nft or ipset, filters system calls, and passes
/// `systemd-analyze verify`.
#[test]
fn the_unit_keeps_capabilities_only_for_local_bans() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let unit = |rules: &Path| {
        let out = pyrused(&["--unit", "--rules", rules.to_str().expect("UTF-8")]);
        assert!(out.status.success());
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let shipped = unit(&library);
    assert!(shipped.contains("\nCapabilityBoundingSet=CAP_NET_ADMIN\n"));
    assert!(shipped.contains("\nSystemCallFilter=@system-service\n"));
    let mail_only = tmp.path().join("mail.pyr");
    write_rules(
        &mail_only,
        "chain \"Errors\" {\n    PRIORITY <= 3\n    email(message: \"{MESSAGE}\")\n}\n",
    );
    let remote = tmp.path().join("remote.pyr");
    write_rules(
        &remote,
        &format!("set nftBan.nft = [\"ssh\", \"fw\", \"nft\"]\n{BAN_RULES}")
            .replace("set nftBan.nft = [\"/bin/true\"]\n", ""),
    );
    for rules in [&mail_only, &remote] {
        let text = unit(rules);
        assert!(text.contains("\nCapabilityBoundingSet=\n"), "{text}");
        assert!(!text.contains("AF_NETLINK"), "{text}");
    }
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok()
    {
        let file = tmp.path().join("pyrused.service");
        std::fs::write(
            &file,
            shipped.replace("/usr/local/bin/pyrused", env!("CARGO_BIN_EXE_pyrused")),
        )
        .expect("write");
        let out = Command::new("systemd-analyze")
            .args(["verify", file.to_str().expect("UTF-8")])
            .output()
            .expect("systemd-analyze runs");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !said.lines().any(|l| l.contains("pyrused.service")),
            "{said}"
        );
    }
}

/// The state directory fills up under a running daemon (a small tmpfs in
/// a private mount namespace): the daemon stops reading, retries, and once
/// space is back it goes on; every entry counts, once, and the state is
/// saved at exit.
#[test]
fn a_full_state_directory_loses_no_entry() {
    if !can_run("a_full_state_directory_loses_no_entry", &[JOURNAL_REMOTE]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    write_rules(
        &rules,
        "chain \"SSH\" {\n    MESSAGE =~ /^Failed password for \\S+ from (?P<ip>\\S+) port/\n    failure(IP: ip, service: \"sshd\", maxFailures: 1000)\n}\n",
    );
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).expect("mkdir");
    let mut child = Reaped::spawn(
        Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs -o size=1m,mode=0700 tmpfs \"$0\" && exec \"$1\" --rules \"$2\" --json - --state-dir \"$0\" --dry-run --commit-interval-ms 50")
        .arg(&state)
        .arg(env!("CARGO_BIN_EXE_pyrused"))
        .arg(&rules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()),
    );
    let pid = child.id().to_string();
    let mut stdin = child.stdin.take().expect("stdin");
    let out = spawn_lines(child.stdout.take().expect("stdout"));
    let err = spawn_lines(child.stderr.take().expect("stderr"));
    let now = pyruse::vm::wall_clock_us() as u64;
    let mut n = 0u64;
    let mut send = |count: u64, stdin: &mut std::process::ChildStdin| {
        for _ in 0..count {
            let line = serde_json::json!({
                "__REALTIME_TIMESTAMP": (now + n * 1000).to_string(),
                "MESSAGE": "Failed password for root from 203.0.113.50 port 22 ssh2",
            });
            writeln!(stdin, "{line}").expect("write");
            n += 1;
        }
        stdin.flush().expect("flush");
    };
    let last_value = |count: usize| -> i64 {
        let mut v = 0;
        for _ in 0..count {
            let Ok(l) = out.recv_timeout(Duration::from_secs(10)) else {
                let said: Vec<String> = err.try_iter().collect();
                panic!("no trace line; pyrused said: {said:?}");
            };
            let j: Value = serde_json::from_str(&l).expect("JSON");
            v = j["value"].as_i64().unwrap_or(-1);
        }
        v
    };
    let inside = |script: &str| {
        Command::new("nsenter")
            .args(["-t", &pid, "-m", "sh", "-c", script, "sh"])
            .arg(&state)
            .status()
            .expect("nsenter runs")
    };
    send(5, &mut stdin);
    assert_eq!(last_value(5), 5);
    std::thread::sleep(Duration::from_millis(300));
    inside("dd if=/dev/zero of=\"$1/filler\" bs=4k 2>/dev/null; true");
    send(10, &mut stdin);
    let said = expect_line(&err, "cannot save the state");
    assert!(said.contains("reading stops"), "{said}");
    // Some of the new entries ran before the commit that failed; then
    // nothing more is read while the state cannot be saved.
    std::thread::sleep(Duration::from_millis(500));
    let before: Vec<String> = out.try_iter().collect();
    assert!(!before.is_empty() && before.len() < 10, "{before:?}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        out.try_iter().next().is_none(),
        "an entry ran ahead of the saved state"
    );
    assert!(inside("rm \"$1/filler\"").success());
    expect_line(&err, "saved again");
    assert_eq!(
        last_value(10 - before.len()),
        15,
        "every failure counted once"
    );
    drop(stdin);
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let status = child.wait().expect("exit");
    assert!(status.success(), "the state was saved at exit: {status}");
}

/// CPU time (user + system, in clock ticks) a process has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // Fields after the command name: state is the 3rd field, utime the
    // 14th, stime the 15th.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

/// Once its standard input is closed, a daemon reading JSON from it idles
/// (signals, the report timer) instead of spinning.
#[test]
fn a_daemon_whose_json_input_ended_idles() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    write_rules(&rules, BAN_RULES);
    let mut child = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_pyrused"))
            .args(["--rules", rules.to_str().expect("UTF-8"), "--json", "-"])
            .args([
                "--state-dir",
                tmp.path().join("state").to_str().expect("UTF-8"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    drop(child.stdin.take());
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(child.id()) - before;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(child.wait().expect("exit").success());
    // Clock ticks are 1/100 s: spinning would use about 200 in 2 s.
    assert!(used < 40, "{used} ticks of CPU in 2 s of idling");
}

/// Anonymous memory of a process, in kB (`RssAnon`).
fn rss_anon_kb(pid: u32) -> u64 {
    proc_status(&pid.to_string(), "RssAnon:")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn memory_stays_bounded_under_a_distributed_attack() {
    // The shipped rules, fed failed logins from new addresses (4 entries in
    // 7, across four services), one entry every 10 ms of log time: once the
    // counters' 10-minute window is full, memory must stop growing with
    // the number of entries.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut child = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_pyrused"))
            .args([
                "--rules",
                "rules/",
                "--json",
                "-",
                "--dry-run",
                "--exit-at-end",
            ])
            .args(["--commit-every", "100000"])
            .arg("--state-dir")
            .arg(tmp.path().join("state"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let pid = child.id();
    let stdin = child.stdin.take().expect("stdin");
    let mut w = std::io::BufWriter::new(stdin);
    let mut rng = Rng(7);
    let templates = [
        ("sshd", "Failed password for invalid user u{n} from {ip} port 4242 ssh2"),
        ("postfix/smtpd", "warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"),
        ("nginx", "{ip} - - [01/Dec/2026:10:00:00 +0000] \"GET /wp-login.php HTTP/1.1\" 404 162 \"-\" \"-\""),
        ("dovecot", "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<u{n}>, method=PLAIN, rip={ip}, lip=10.0.0.1, TLS, session=<s>"),
        ("kernel", "eth0: link up"),
        ("systemd", "Started session {n} of user bob."),
        ("cron", "(root) CMD (true)"),
    ];
    const N: u64 = 500_000;
    let mut samples = Vec::new();
    for n in 0..N {
        let (ident, text) = templates[rng.below(templates.len())];
        let ip = format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        );
        let message = text.replace("{ip}", &ip).replace("{n}", &n.to_string());
        let line = serde_json::json!({
            "__REALTIME_TIMESTAMP": (1_764_000_000_000_000 + n * 10_000).to_string(),
            "SYSLOG_IDENTIFIER": ident,
            "PRIORITY": "6",
            "MESSAGE": message,
        });
        writeln!(w, "{line}").expect("the daemon reads its input");
        if n > 0 && n % 50_000 == 0 {
            w.flush().expect("flush");
            samples.push((n, rss_anon_kb(pid)));
        }
    }
    drop(w);
    let status = child.wait().expect("pyrused exits");
    assert!(status.success(), "{status}");
    let half = samples.iter().find(|(n, _)| *n >= N / 2).map_or(0, |s| s.1);
    let last = samples.last().map_or(0, |s| s.1);
    eprintln!("RssAnon (entries, kB): {samples:?}");
    assert!(half > 0 && last > 0, "{samples:?}");
    assert!(
        last < half + 8 * 1024,
        "anonymous memory grew from {half} kB to {last} kB over the second half: {samples:?}"
    );
}
