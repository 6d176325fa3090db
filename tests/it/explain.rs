//! `pyrusec replay --explain`, `--effects`, `--no-noop` and the summary of
//! a replay: the expected texts below are written from the rules and the
//! entries by hand.

use crate::common::*;
use std::path::PathBuf;

/// Bans an address at its third failed password (and again at each
/// failure after that); bans the address of an "attack from" line.
const RULES: &str = r#"chain "ssh" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for \S+ from (?P<clientIP>\S+) port \d+/
    counterRaise(counter: "ssh", for: clientIP, keepSeconds: 1h, save: failures)
    failures >= 3 else { noop() }
    nftBan(IP: clientIP, nftSetIPv4: "inet t ban4", nftSetIPv6: "inet t ban6", banSeconds: 1h)
}

chain "attacks" {
    MESSAGE =~ /^attack from (?P<ip>.+)$/
    nftBan(IP: ip, nftSetIPv4: "inet t ban4", nftSetIPv6: "inet t ban6", banSeconds: 1h)
}
"#;

/// (SYSLOG_IDENTIFIER, MESSAGE) of each entry, one second apart.
const ENTRIES: &[(Option<&str>, &str)] = &[
    (
        Some("sshd"),
        "Failed password for root from 192.0.2.1 port 22 ssh2",
    ),
    (
        Some("sshd"),
        "Failed password for root from 192.0.2.1 port 22 ssh2",
    ),
    (
        Some("sshd"),
        "Failed password for root from 192.0.2.1 port 22 ssh2",
    ),
    (
        Some("sshd"),
        "Accepted password for alice from 192.0.2.9 port 22 ssh2",
    ),
    (Some("nginx"), "attack from 198.51.100.7"),
    (None, "attack from example.com"),
    (
        Some("sshd"),
        "Failed password for root from 192.0.2.1 port 22 ssh2",
    ),
    (
        Some("sshd"),
        "Failed password for bob from 192.0.2.2 port 22 ssh2",
    ),
];

struct Setup {
    _dir: tempfile::TempDir,
    rules: PathBuf,
    entries: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let rules = dir.path().join("ssh.pyr");
        std::fs::write(&rules, RULES).expect("write rules");
        let lines: Vec<String> = ENTRIES
            .iter()
            .enumerate()
            .map(|(i, (ident, message))| {
                let mut e = serde_json::json!({
                    "MESSAGE": message,
                    "__REALTIME_TIMESTAMP": (1_700_000_000_000_000u64 + i as u64 * 1_000_000).to_string(),
                });
                if let Some(id) = ident {
                    e["SYSLOG_IDENTIFIER"] = (*id).into();
                }
                e.to_string()
            })
            .collect();
        let entries = dir.path().join("entries.jsonl");
        std::fs::write(&entries, lines.join("\n") + "\n").expect("write entries");
        Setup {
            _dir: dir,
            rules,
            entries,
        }
    }

    fn rules(&self) -> &str {
        self.rules.to_str().expect("UTF-8 path")
    }

    /// `pyrusec replay RULES ENTRIES ARGS…`: (status, stdout, stderr).
    fn replay(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let mut all = vec![
            "replay",
            self.rules(),
            self.entries.to_str().expect("UTF-8"),
        ];
        all.extend_from_slice(args);
        let out = pyrusec(&all, None);
        (
            out.status.code(),
            String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        )
    }
}

/// The explanations in `stdout`, by entry number.
fn explanations(stdout: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("entry ") {
            let n = rest.split(':').next().and_then(|n| n.parse().ok());
            out.push((n.expect("entry number"), String::new()));
        }
        if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

#[test]
fn explain_shows_the_path_of_a_line_that_bans() {
    let s = Setup::new();
    let (status, stdout, stderr) = s.replay(&["--explain", "2"]);
    assert_eq!(status, Some(0), "{stderr}");
    let f = s.rules();
    let want = format!(
        r#"entry 2: sshd: Failed password for root from 192.0.2.1 port 22 ssh2
  chain "ssh"
    {f}:2:5  SYSLOG_IDENTIFIER == "sshd"
      pass
    {f}:3:5  MESSAGE =~ /^Failed password for \S+ from (?P<clientIP>\S+) port \d+/
      pass; saved clientIP = "192.0.2.1"
    {f}:4:5  counterRaise(counter: "ssh", for: clientIP, keepSeconds: 1h, save: failures)
      done; saved failures = 3
      effect {{"counter":"ssh","effect":"counterRaise","entry":2,"key":"192.0.2.1","value":3}}
    {f}:5:5  failures >= 3 else {{ noop() }}
      pass
    {f}:6:5  nftBan(IP: clientIP, nftSetIPv4: "inet t ban4", nftSetIPv6: "inet t ban6", banSeconds: 1h)
      done
      effect {{"effect":"nftBan","entry":2,"ip":"192.0.2.1","seconds":3600,"set":"inet t ban4"}}
  end: the action ends its chain, the entry stops there
  outcome: counterRaise, nftBan; banned 192.0.2.1 (set inet t ban4)

"#
    );
    assert_eq!(stdout, want);
}

#[test]
fn explain_names_the_step_that_stopped_a_line_and_why() {
    let s = Setup::new();
    let (status, stdout, stderr) = s.replay(&["--explain", "1"]);
    assert_eq!(status, Some(0), "{stderr}");
    let f = s.rules();
    // The second failure: counted, but under the threshold; the else
    // block's noop ends the entry.
    let want = format!(
        r#"entry 1: sshd: Failed password for root from 192.0.2.1 port 22 ssh2
  chain "ssh"
    {f}:2:5  SYSLOG_IDENTIFIER == "sshd"
      pass
    {f}:3:5  MESSAGE =~ /^Failed password for \S+ from (?P<clientIP>\S+) port \d+/
      pass; saved clientIP = "192.0.2.1"
    {f}:4:5  counterRaise(counter: "ssh", for: clientIP, keepSeconds: 1h, save: failures)
      done; saved failures = 2
      effect {{"counter":"ssh","effect":"counterRaise","entry":1,"key":"192.0.2.1","value":2}}
    {f}:5:5  failures >= 3 else {{ noop() }}
      fail: failures is 2, not >= 3
  chain {{block {f}:5:24}}
    {f}:5:26  noop()
      done
      effect {{"effect":"noop","entry":1}}
  end: the action ends its chain, the entry stops there
  outcome: counterRaise, noop; no ban

"#
    );
    assert_eq!(stdout, want);
}

#[test]
fn explain_by_regex_shows_the_regex_that_did_not_match() {
    let s = Setup::new();
    let (status, stdout, stderr) = s.replay(&["--explain", "/^Accepted/"]);
    assert_eq!(status, Some(0), "{stderr}");
    let f = s.rules();
    // A filter without else falls through to the next chain; the one that
    // ends the last chain ends the entry. A chain left at its first step
    // takes one line.
    let msg = "\"Accepted password for alice from 192.0.2.9 port 22 ssh2\"";
    let want = format!(
        r#"entry 3: sshd: Accepted password for alice from 192.0.2.9 port 22 ssh2
  chain "ssh"
    {f}:2:5  SYSLOG_IDENTIFIER == "sshd"
      pass
    {f}:3:5  MESSAGE =~ /^Failed password for \S+ from (?P<clientIP>\S+) port \d+/
      fail: MESSAGE {msg} did not match /^Failed password for \S+ from (?P<clientIP>\S+) port \d+/
  chain "attacks": {f}:10:5  fail: MESSAGE {msg} did not match /^attack from (?P<ip>.+)$/
  end: no chain is left after this filter
  outcome: no effect, no ban

"#
    );
    assert_eq!(stdout, want);
}

#[test]
fn explain_tells_missing_fields_and_failed_actions() {
    let s = Setup::new();
    let (status, stdout, stderr) = s.replay(&["--explain", "5"]);
    assert_eq!(status, Some(0), "{stderr}");
    let f = s.rules();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "entry 5: attack from example.com");
    assert_eq!(
        lines[1],
        format!("  chain \"ssh\": {f}:2:5  fail: SYSLOG_IDENTIFIER is missing")
    );
    assert_eq!(lines[2], "  chain \"attacks\"");
    assert_eq!(lines[4], "      pass; saved ip = \"example.com\"");
    assert!(
        lines[5].starts_with(&format!("    {f}:11:5  nftBan(IP: ip,")),
        "{stdout}"
    );
    assert!(
        lines[6].starts_with("      error: refusing to ban \"example.com\"")
            && lines[6].ends_with("; nothing of it was done and the entry stops"),
        "{stdout}"
    );
    assert!(
        lines[7].starts_with("      effect {\"effect\":\"error\""),
        "{stdout}"
    );
    assert_eq!(lines[8], "  end: the action failed, the entry stops there");
    assert_eq!(lines[9], "  outcome: error; no ban");
}

#[test]
fn explain_picks_entries_by_number_and_by_message() {
    let s = Setup::new();
    let (status, stdout, stderr) = s.replay(&[
        "--explain",
        "2",
        "--explain",
        r"/192\.0\.2\.1 /",
        "--explain",
        "/^Accepted/",
        "--explain",
        "99",
    ]);
    assert_eq!(status, Some(0), "{stderr}");
    // Each entry once, in input order, whichever selectors pick it.
    let picked: Vec<u64> = explanations(&stdout).iter().map(|e| e.0).collect();
    assert_eq!(picked, [0, 1, 2, 3, 6]);
    // The explanations replace the trace: no trace line on its own.
    assert!(!stdout.lines().any(|l| l.starts_with('{')), "{stdout}");
    // The fourth failure of 192.0.2.1 bans again: the entries not
    // explained still ran.
    let sixth = &explanations(&stdout)[4].1;
    assert!(sixth.contains("saved failures = 4"), "{sixth}");
    assert!(sixth.contains("banned 192.0.2.1"), "{sixth}");
    assert!(
        stderr.contains("--explain 99 picked no entry"),
        "a selector that picks nothing is told: {stderr}"
    );
}

#[test]
fn explain_rejects_selectors_it_cannot_read() {
    let s = Setup::new();
    for (bad, why) in [
        ("/(/", "not a valid regex"),
        ("two", "expected an entry number"),
        ("-1", "expected an entry number"),
    ] {
        let (status, stdout, stderr) = s.replay(&[&format!("--explain={bad}")]);
        assert_eq!(status, Some(2), "{bad}: {stderr}");
        assert!(stdout.is_empty(), "{bad}: {stdout}");
        assert!(
            stderr.contains("--explain") && stderr.contains(why),
            "{bad}: {stderr}"
        );
    }
}

/// Legacy JSON rules: the step reads as its builtin and arguments, at the
/// place of its name in the file.
#[test]
fn explain_works_on_legacy_json_rules() {
    let rules = data("compat/configs/dnat_doc.json").display().to_string();
    let entries = data("compat/entries/dnat-doc.jsonl").display().to_string();
    let out = pyrusec(&["replay", &rules, &entries, "--explain", "1"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "entry 1: sshd: Failed password for ME from 10.0.0.1 port 43210 ssh2"
    );
    // The first chain is left at its regex, the 1st step of its file.
    assert!(
        lines[1].starts_with(&format!(
            "  chain \"Capture DNAT for SSH\": {rules}:4:19  fail: MESSAGE \"Failed password for ME"
        )) && lines[1].contains("did not match /^DNAT/ssh:"),
        "{stdout}"
    );
    assert_eq!(lines[2], "  chain \"SSH failed logins\"");
    assert!(lines[3].starts_with(&format!("    {rules}:21:19  equals: SYSLOG_IDENTIFIER == ")));
    assert_eq!(lines[4], "      pass");
    assert!(lines[5].starts_with(&format!("    {rules}:24:19  pcre: MESSAGE =~ ")));
    assert_eq!(
        lines[6],
        "      pass; saved sshUser = \"ME\", clientIP = \"10.0.0.1\", clientPort = \"43210\""
    );
    // The DNAT correction writes the real client, captured from entry 0.
    assert!(lines[7].starts_with(&format!("    {rules}:31:19  dnatReplace")));
    assert_eq!(lines[8], "      done; saved clientIP = \"12.34.56.78\"");
    assert!(lines[10].starts_with(&format!("    {rules}:34:19  email")));
    assert_eq!(
        lines[12],
        "      effect {\"effect\":\"email\",\"entry\":1,\"message\":\"SSH attack from 12.34.56.78 on ME@sshserv.\",\"subject\":\"Pyruse Notification\"}"
    );
    assert_eq!(
        lines[13],
        "  end: the action ends its chain, the entry stops there"
    );
    assert_eq!(lines[14], "  outcome: dnatReplace, email; no ban");
}

/// The effect names of a trace, line by line.
fn effect_names(trace: &str) -> Vec<String> {
    trace
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a trace line");
            v["effect"].as_str().expect("effect").to_owned()
        })
        .collect()
}

#[test]
fn effects_keeps_only_the_kinds_named() {
    let s = Setup::new();
    let (_, full, _) = s.replay(&[]);
    assert_eq!(
        effect_names(&full),
        [
            "counterRaise",
            "noop",
            "counterRaise",
            "noop",
            "counterRaise",
            "nftBan",
            "nftBan",
            "error",
            "counterRaise",
            "nftBan",
            "counterRaise",
            "noop"
        ]
    );
    let keep = |kinds: &[&str]| -> String {
        full.lines()
            .filter(|l| {
                kinds
                    .iter()
                    .any(|k| l.contains(&format!("\"effect\":\"{k}\"")))
            })
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let (status, only, stderr) = s.replay(&["--effects", "nftBan,error"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(only, keep(&["nftBan", "error"]));
    let (_, no_noop, _) = s.replay(&["--no-noop"]);
    assert_eq!(no_noop, keep(&["counterRaise", "nftBan", "error"]));
    let (_, both, _) = s.replay(&["--effects", "noop,nftBan", "--no-noop"]);
    assert_eq!(both, keep(&["nftBan"]));
    // Every kind named: the whole trace.
    let all = "noop,dailyReport,email,log,nftBan,ipsetBan,counterRaise,counterReset,dnatCapture,dnatReplace,remember,recall,error";
    let (_, every, _) = s.replay(&["--effects", all]);
    assert_eq!(every, full);
}

#[test]
fn an_unknown_effect_kind_is_a_usage_error_naming_the_kinds() {
    let s = Setup::new();
    let (status, stdout, stderr) = s.replay(&["--effects", "nftBan,noops"]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("noops"), "{stderr}");
    for kind in [
        "noop",
        "dailyReport",
        "counterRaise",
        "ipsetBan",
        "recall",
        "error",
    ] {
        assert!(stderr.contains(kind), "{kind} is listed: {stderr}");
    }
}

#[test]
fn the_summary_counts_entries_effects_bans_and_errors() {
    let s = Setup::new();
    // The summary counts every effect, whatever the trace keeps.
    let (status, _, stderr) = s.replay(&["--effects", "log"]);
    assert_eq!(status, Some(0), "{stderr}");
    let summary: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("summary:"))
        .collect();
    assert_eq!(
        summary,
        [
            "summary: 8 entries, 12 effects",
            "          3  noop",
            "          3  nftBan",
            "          5  counterRaise",
            "          1  error",
            "bans by address: 3 bans of 2 addresses",
            "          2  192.0.2.1",
            "          1  198.51.100.7",
            "errors: 1 run-time error at 1 step (told above)",
        ]
    );
    // The error itself is told before, with its place.
    assert!(
        stderr.contains(&format!("{}:11:5: action failed", s.rules())),
        "{stderr}"
    );
}

/// Without the new options, standard output is the trace alone, byte for
/// byte as the README shows it (its extract was checked by hand).
#[test]
fn without_options_the_trace_is_as_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pyrusec"))
        .current_dir(root)
        .args(["replay", "rules/", "rules/samples/demo.jsonl"])
        .env("TZ", "UTC")
        .output()
        .expect("pyrusec runs");
    assert!(out.status.success());
    let trace = String::from_utf8(out.stdout).expect("UTF-8");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let extract: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("```json"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert_eq!(extract.len(), 6, "the README's extract");
    let lines: Vec<&str> = trace.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == extract[0])
        .unwrap_or_else(|| panic!("{} not in the trace:\n{trace}", extract[0]));
    assert_eq!(&lines[at..at + extract.len()], extract.as_slice());
    assert!(
        trace.lines().all(|l| l.starts_with("{\"")),
        "only trace lines"
    );
    // The summary goes to standard error.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("summary: 20 entries, "), "{stderr}");
}

/// Whether `script` (util-linux), which gives a command a terminal, is
/// there; in CI it must be.
fn have_script(test: &str) -> bool {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs script in CI"
    );
    eprintln!("skipping {test}: needs script (util-linux)");
    false
}

/// A replay of 1,000 entries that arrive over about 3 seconds, the trace
/// into a file: the shell script, and the trace file.
fn slow_replay(dir: &std::path::Path, rules: &str, name: &str) -> (PathBuf, PathBuf) {
    let trace = dir.join(format!("{name}.trace"));
    let script = dir.join(format!("{name}.sh"));
    let line = r#"{"SYSLOG_IDENTIFIER": "sshd", "MESSAGE": "Failed password for root from 192.0.2.1 port 22 ssh2"}"#;
    std::fs::write(
        &script,
        format!(
            "for i in 1 2 3 4 5 6 7 8 9 10; do\n  \
             for j in $(seq 100); do echo '{line}'; done\n  sleep 0.3\n\
             done | '{}' replay '{rules}' - > '{}'\n",
            env!("CARGO_BIN_EXE_pyrusec"),
            trace.display()
        ),
    )
    .expect("write script");
    (script, trace)
}

/// The progress line shows on a terminal, and never when standard error
/// is a pipe; the trace is the same either way.
#[test]
fn progress_shows_on_a_terminal_only() {
    if !have_script("progress_shows_on_a_terminal_only") {
        return;
    }
    let s = Setup::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let (on_tty, tty_trace) = slow_replay(dir.path(), s.rules(), "tty");
    let out = std::process::Command::new("script")
        .args(["-qec", &format!("sh '{}'", on_tty.display()), "/dev/null"])
        .env("TZ", "UTC")
        .output()
        .expect("script runs");
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{terminal}");
    // Redrawn in place, with the count and the rate.
    let shown: Vec<&str> = terminal
        .split("\r\x1b[K")
        .filter(|l| l.contains(" entries, ") && l.contains("/s"))
        .collect();
    assert!(
        !shown.is_empty(),
        "no progress line on the terminal:\n{terminal:?}"
    );
    assert!(
        shown.iter().any(|l| l.starts_with("512 entries, ")),
        "{shown:?}"
    );
    // Erased before the summary.
    let summary = terminal.find("summary: 1000 entries").expect("the summary");
    assert!(terminal[..summary].ends_with("\r\x1b[K"), "{terminal:?}");

    let (in_pipe, pipe_trace) = slow_replay(dir.path(), s.rules(), "pipe");
    let out = std::process::Command::new("sh")
        .arg(&in_pipe)
        .env("TZ", "UTC")
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.starts_with("summary: 1000 entries"), "{stderr:?}");
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    let read = |p: &PathBuf| std::fs::read_to_string(p).expect("trace");
    assert_eq!(read(&tty_trace), read(&pipe_trace));
    // Each failure is counted, then the first two end at the noop and the
    // others are banned: two lines per entry.
    assert_eq!(read(&pipe_trace).lines().count(), 2000);
}

#[test]
fn explain_and_effects_work_on_a_plain_log() {
    let s = Setup::new();
    let log = s._dir.path().join("auth.log");
    std::fs::write(
        &log,
        "Failed password for root from 192.0.2.1 port 22 ssh2\n\
         Accepted password for alice from 192.0.2.9 port 22 ssh2\n\
         Failed password for root from 192.0.2.1 port 22 ssh2\n",
    )
    .expect("write log");
    let log = log.to_str().expect("UTF-8");
    let run = |args: &[&str]| {
        let mut all = vec!["replay", s.rules(), "--log", log, "--identifier", "sshd"];
        all.extend_from_slice(args);
        let out = pyrusec(&all, None);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        (String::from_utf8(out.stdout).expect("UTF-8"), stderr)
    };
    // The second line: the regex of the "ssh" chain did not match it.
    let (stdout, _) = run(&["--explain", "/Accepted/"]);
    let got = explanations(&stdout);
    assert_eq!(got.len(), 1, "{stdout}");
    assert_eq!(got[0].0, 1);
    assert!(
        got[0]
            .1
            .starts_with("entry 1: sshd: Accepted password for alice"),
        "{}",
        got[0].1
    );
    assert!(got[0].1.contains("did not match"), "{}", got[0].1);
    // Only the counter raises of the failures, and the summary counts both.
    let (stdout, stderr) = run(&["--effects", "counterRaise"]);
    let kinds = effect_names(&stdout);
    assert_eq!(kinds, ["counterRaise", "counterRaise"], "{stdout}");
    assert!(stderr.contains("summary: 3 entries"), "{stderr}");
}
