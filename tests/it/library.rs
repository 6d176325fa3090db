//! The rule library of `rules/` as users run it: its examples, a local file
//! that enables and tunes services without editing the library, one ban
//! per incident, and fail2ban's annotated sample logs.

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rules_dir() -> PathBuf {
    root().join("rules")
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pyrusec"))
        .current_dir(root())
        .args(args)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .output()
        .expect("pyrusec runs")
}

#[test]
fn the_examples_of_the_library_pass() {
    let out = run(&["test", "rules/"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    // "N examples of M services"
    let services: usize = stderr
        .split(" examples of ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(services >= 30, "{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

#[test]
fn each_service_file_checks_clean_and_has_examples_of_both_outcomes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(rules_dir().join("services"))
        .expect("rules/services")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pyr"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{} service files", files.len());
    for f in &files {
        let name = f.to_str().expect("UTF-8 path");
        let out = run(&["check", name]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        assert!(!stderr.contains('⚠'), "{name} has warnings:\n{stderr}");
        let text = std::fs::read_to_string(f).expect("read");
        assert!(text.contains("\nservice \""), "{name} declares its service");
        assert!(
            text.lines()
                .any(|l| l.starts_with("example ") && !l.ends_with("=> nothing")),
            "{name} has an example that counts"
        );
        assert!(
            text.contains("=> nothing"),
            "{name} has an example that must not count"
        );
        let out = run(&["test", name]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// A local file as the README installs it, including the library.
fn local(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("pyruse.pyr");
    std::fs::write(
        &path,
        format!("include \"{}/\"\n{body}", rules_dir().display()),
    )
    .expect("write");
    path
}

fn entry(t: u64, ident: &str, message: &str) -> String {
    serde_json::json!({
        "__REALTIME_TIMESTAMP": (1_767_225_600_000_000 + t * 1_000_000).to_string(),
        "_HOSTNAME": "bastion",
        "SYSLOG_IDENTIFIER": ident,
        "PRIORITY": "5",
        "MESSAGE": message,
    })
    .to_string()
}

fn replay(rules: &Path, entries: &[String]) -> Vec<Value> {
    let out = pyrusec(
        &["replay", rules.to_str().expect("UTF-8 path"), "-"],
        Some(&(entries.join("\n") + "\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

fn of<'a>(trace: &'a [Value], effect: &str) -> Vec<&'a Value> {
    trace.iter().filter(|v| v["effect"] == effect).collect()
}

#[test]
fn a_local_file_enables_and_tunes_services_without_editing_the_library() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = local(
        tmp.path(),
        "set sshd.enabled = true\nset postfix.enabled = true\nset dovecot.enabled = true\n\
         set banTime = 1d\nset sshd.maxFailures = 3\n\
         set ignore = [127.0.0.0/8, ::1, 198.51.100.0/24]\n",
    );
    let out = run(&["check", rules.to_str().expect("UTF-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains('⚠'), "{stderr}");

    let ssh = |t, ip: &str| {
        entry(
            t,
            "sshd",
            &format!("Failed password for root from {ip} port 4242 ssh2"),
        )
    };
    let mut entries: Vec<String> = (0..3).map(|t| ssh(t, "203.0.113.5")).collect();
    entries.push(ssh(3, "198.51.100.7"));
    entries.push(entry(
        4,
        "postfix/smtpd",
        "warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
    ));
    entries.push(entry(
        5,
        "nginx",
        "2026/01/01 00:00:05 [error] 12#12: *3 user \"admin\": password mismatch, client: 203.0.113.10, server: example.org, request: \"GET / HTTP/1.1\", host: \"example.org\"",
    ));
    let trace = replay(&rules, &entries);
    let bans = of(&trace, "nftBan");
    assert_eq!(bans.len(), 1, "{trace:?}");
    assert_eq!(bans[0]["ip"], "203.0.113.5");
    assert_eq!(bans[0]["seconds"], 86400, "the local ban time");
    let counted: Vec<(String, String)> = of(&trace, "counterRaise")
        .iter()
        .map(|v| {
            (
                v["counter"].as_str().unwrap_or("").to_owned(),
                v["key"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(counted.contains(&("postfix".into(), "203.0.113.9".into())));
    assert!(
        !counted.iter().any(|(_, k)| k == "198.51.100.7"),
        "an ignored network is never counted"
    );
    assert!(
        !counted.iter().any(|(c, _)| c == "nginx-http-auth"),
        "a service not enabled does not run"
    );

    // A misspelt parameter is an error that says what was meant.
    let bad = local(
        tmp.path(),
        "set sshd.enabled = true\nset sshd.banTim = 1d\n",
    );
    let out = run(&["check", bad.to_str().expect("UTF-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("unknown parameter `sshd.banTim`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `sshd.banTime`?"), "{stderr}");
    assert!(stderr.contains("pyruse.pyr:3:5"), "{stderr}");
}

#[test]
fn a_burst_of_failures_bans_once_mails_once_and_feeds_no_recidive() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = local(tmp.path(), "set mail = true\n");
    let burst: Vec<String> = (0..7)
        .map(|t| {
            entry(
                t,
                "sshd",
                &format!(
                    "Failed password for invalid user admin from 203.0.113.7 port {} ssh2",
                    40000 + t
                ),
            )
        })
        .collect();
    let trace = replay(&rules, &burst);
    assert_eq!(of(&trace, "nftBan").len(), 1, "{trace:?}");
    assert_eq!(of(&trace, "email").len(), 1, "{trace:?}");
    let logs = of(&trace, "log");
    assert_eq!(logs.len(), 1, "{trace:?}");
    // The ban's journal line comes back as an entry, as journald returns
    // it: recidive counts one ban, and bans nobody.
    let mut again = burst.clone();
    again.push(entry(
        8,
        "pyruse",
        logs[0]["message"].as_str().expect("text"),
    ));
    let trace = replay(&rules, &again);
    let recidive: Vec<_> = of(&trace, "counterRaise")
        .into_iter()
        .filter(|v| v["counter"] == "recidive")
        .collect();
    assert_eq!(recidive.len(), 1, "{trace:?}");
    assert_eq!(recidive[0]["value"], 1);
    assert_eq!(of(&trace, "nftBan").len(), 1, "no recidive ban");
}

#[test]
fn ssh_failures_of_openssh_9_8_count_and_injections_do_not() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = local(tmp.path(), "set sshd.enabled = true\n");
    let trace = replay(
        &rules,
        &[
            entry(
                0,
                "sshd-session",
                "Failed password for root from 192.0.2.10 port 4242 ssh2",
            ),
            // The address in the user name is the attacker's choice.
            entry(
                1,
                "sshd",
                "Invalid user x from 192.0.2.99 port 1 from 192.0.2.11 port 4243",
            ),
            entry(
                2,
                "sshd",
                "Failed publickey for git from 192.0.2.12 port 4244 ssh2: RSA SHA256:abc",
            ),
        ],
    );
    let keys: Vec<&str> = of(&trace, "counterRaise")
        .iter()
        .filter_map(|v| v["key"].as_str())
        .collect();
    assert!(
        keys.contains(&"192.0.2.10"),
        "sshd-session counts: {keys:?}"
    );
    assert!(!keys.contains(&"192.0.2.99"), "{keys:?}");
    assert!(
        !keys.contains(&"192.0.2.12"),
        "a valid user trying several keys is not a failure: {keys:?}"
    );
}

/// Per service: (lines fail2ban must catch that name an address, caught,
/// false positives), from `tests/fail2ban/samples.py score --json`.
fn scores() -> Option<Value> {
    let python = Command::new("python3").arg("--version").output();
    if python.is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the fail2ban sample test needs python3 in CI"
        );
        eprintln!("skipping: needs python3");
        return None;
    }
    // Every service of the library that has samples, fail2ban's or ours.
    let data = root().join("tests/data/fail2ban");
    let mut services: Vec<String> = std::fs::read_dir(rules_dir().join("services"))
        .expect("rules/services")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_stem()?.to_str()?.to_owned();
            (data.join("logs").join(&name).is_file() || data.join("extra").join(&name).is_file())
                .then_some(name)
        })
        .collect();
    services.sort();
    let out = Command::new("python3")
        .current_dir(root())
        .args([
            "tests/fail2ban/samples.py",
            "score",
            "--json",
            "--pyrusec",
            env!("CARGO_BIN_EXE_pyrusec"),
            "--rules",
            "rules/",
        ])
        .args(&services)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("JSON scores"))
}

#[test]
fn fail2ban_samples_are_caught_with_no_false_positive() {
    let Some(scores) = scores() else { return };
    let services = scores["services"]
        .as_object()
        .expect("an object per service");
    let (mut total, mut caught) = (0u64, 0u64);
    let mut report = Vec::new();
    for (name, s) in services {
        let t = s["total"].as_u64().unwrap_or(0);
        let c = s["caught"].as_u64().unwrap_or(0);
        let fp = s["false_positives"].as_u64().unwrap_or(0);
        assert_eq!(
            fp, 0,
            "{name}: match:false lines counted: {}",
            s["false_positive_list"]
        );
        total += t;
        caught += c;
        report.push(format!("{name}: {c}/{t}"));
    }
    assert!(services.len() >= 30, "{} services scored", services.len());
    assert!(
        caught * 100 >= total * 95,
        "{caught}/{total} caught:\n{}",
        report.join("\n")
    );
}
