//! Bad input never crashes: mutated rule files go through load and check,
//! hostile entries through replay, and `pyrusec` exits with a status, not a
//! panic.

use crate::common::*;

fn seeds() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["tests/ui", "rules", "tests/data/compat/configs"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for e in std::fs::read_dir(path).expect("seed dir").flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".pyr") || name.ends_with(".json") {
                if let Ok(text) = std::fs::read_to_string(e.path()) {
                    out.push((name, text));
                }
            }
        }
    }
    out.sort();
    out
}

const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "/",
    "\\",
    ",",
    ":",
    "=",
    "==",
    "=~",
    " then ",
    " else ",
    " goto ",
    "chain ",
    "\n",
    "{x:>99999999}",
    "(?P<",
    "\u{1}",
    "é",
    "😀",
    "\0",
    "include \"x\"",
    "compat pyruse\n",
    "9999999999999999999999",
    "-",
    "::",
    "/33",
    "{{",
    "}}",
    "any [",
    "save [",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 if !chars.is_empty() => {
                let end = (at + rng.below(8)).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            1 => {
                let piece = PIECES[rng.below(PIECES.len())];
                for (i, c) in piece.chars().enumerate() {
                    chars.insert((at + i).min(chars.len()), c);
                }
            }
            _ => {
                if !chars.is_empty() {
                    let from = rng.below(chars.len());
                    let c = chars[from];
                    chars.insert(at.min(chars.len()), c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_rule_files_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, text) in seeds() {
        for _ in 0..60 {
            let m = mutate(&mut rng, &text);
            let (rules, diags) = pyruse::syntax::load_str(&name, &m);
            if !diags.iter().any(|d| d.is_error()) {
                let checked = pyruse::compile::build(rules);
                for d in &checked.diagnostics {
                    assert_ne!(d.code, pyruse::diag::Code::Internal, "{name}: {m}");
                }
            }
        }
    }
}

#[test]
fn hostile_entries_are_processed_or_skipped() {
    let big = "A".repeat(1 << 20);
    let lines = [
        r#"{"MESSAGE": "Failed password for root from 203.0.113.1 port 22 ssh2", "SYSLOG_IDENTIFIER": "sshd", "PRIORITY": "5"}"#.to_owned(),
        // Repeated fields, bytes, nulls, odd types.
        r#"{"MESSAGE": ["a", "b"], "SYSLOG_IDENTIFIER": [115, 115, 104, 100], "PRIORITY": null}"#.to_owned(),
        r#"{"MESSAGE": [[255, 254], "x"], "PRIORITY": ["1", "2"], "_BOOT_ID": "not a uuid", "__REALTIME_TIMESTAMP": "-5"}"#.to_owned(),
        r#"{"MESSAGE": 12, "PRIORITY": {"a": 1}, "__REALTIME_TIMESTAMP": "99999999999999999999999"}"#.to_owned(),
        format!(r#"{{"MESSAGE": "{big}", "SYSLOG_IDENTIFIER": "kernel", "PRIORITY": "2"}}"#),
        "not json at all".to_owned(),
        "[1, 2, 3]".to_owned(),
        "{\"MESSAGE\": \"\\u0000\\u001b[31m<script>\", \"PRIORITY\": \"3\", \"SYSLOG_IDENTIFIER\": \"x\"}".to_owned(),
        String::new(),
        r#"{}"#.to_owned(),
    ];
    let mut input = lines.join("\n");
    input.push('\n');
    let out = pyrusec(&["replay", "rules/"], Some(&input));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Two lines were not entries: exit 1, both reported with their numbers.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 6 is not an entry"), "{stderr}");
    assert!(stderr.contains("line 7 is not an entry"), "{stderr}");
    let trace = String::from_utf8_lossy(&out.stdout);
    // The 1 MiB message was reported in full (entry 4 is a priority-2 line).
    assert!(
        trace
            .lines()
            .any(|l| l.contains("\"entry\":4") && l.len() > (1 << 20)),
        "1 MiB entry lost"
    );
}

#[test]
fn invalid_utf8_line_is_reported_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("entries.jsonl");
    let mut bytes =
        b"{\"MESSAGE\": \"ok\", \"PRIORITY\": \"2\", \"SYSLOG_IDENTIFIER\": \"a\"}\n".to_vec();
    bytes.extend_from_slice(b"{\"MESSAGE\": \"\xff\xfe\"}\n");
    bytes.extend_from_slice(
        b"{\"MESSAGE\": \"after\", \"PRIORITY\": \"2\", \"SYSLOG_IDENTIFIER\": \"b\"}\n",
    );
    std::fs::write(&p, bytes).expect("write");
    let out = pyrusec(&["replay", "rules/", &p.display().to_string()], None);
    assert_eq!(out.status.code(), Some(1));
    let trace = String::from_utf8_lossy(&out.stdout);
    assert!(
        trace.contains("\"entry\":0") && trace.contains("\"entry\":2"),
        "{trace}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2 is not an entry"));
}

/// A captured "address" crafted to smuggle firewall syntax fails the ban
/// step itself: the trace shows an error where the ban is written, and the
/// mail announcing the ban, written after it, is never decided. An honest
/// address is banned and announced as before.
#[test]
fn a_refused_ban_is_an_action_error_and_stops_the_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("ban.pyr");
    std::fs::write(
        &rules,
        r#"chain "Ban" {
    MESSAGE =~ /^attack from (?P<ip>.+)$/
    nftBan(IP: ip, nftSetIPv4: "inet pyruse ban4", nftSetIPv6: "inet pyruse ban6", banSeconds: 1h)
    email(subject: "Banned {ip}", message: "Banned {ip}")
}
"#,
    )
    .expect("write rules");
    let crafted = "192.0.2.1} ; flush ruleset ; add element inet pyruse ban4 { 198.51.100.99";
    let input = [crafted, "203.0.113.9", "2001:db8::7", "example.com"]
        .iter()
        .map(|ip| serde_json::json!({ "MESSAGE": format!("attack from {ip}") }).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let out = pyrusec(
        &["replay", rules.to_str().expect("UTF-8 path"), "-"],
        Some(&input),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = String::from_utf8(out.stdout).expect("UTF-8 trace");
    let effects = by_entry(&trace);
    let names = |e: u64| -> Vec<String> {
        effects
            .get(&e)
            .map(|v| {
                v.iter()
                    .map(|x| x["effect"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(0), ["error"], "{trace}");
    assert!(
        effects[&0][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not an IPv4 or IPv6 address")),
        "{trace}"
    );
    assert!(
        trace
            .lines()
            .next()
            .is_some_and(|l| l.contains("ban.pyr:3:5")),
        "{trace}"
    );
    assert_eq!(names(1), ["nftBan", "email"]);
    assert_eq!(effects[&1][0]["set"], "inet pyruse ban4");
    assert_eq!(names(2), ["nftBan", "email"]);
    assert_eq!(effects[&2][0]["set"], "inet pyruse ban6");
    assert_eq!(names(3), ["error"], "a host name is not banned");
    assert!(!trace.contains("flush ruleset\",\"effect\":\"nftBan"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ban.pyr:3:5"),
        "logged with its place: {stderr}"
    );
}

/// One ordinary sshd failure, from its own address, after each hostile line.
fn ordinary(n: usize) -> String {
    serde_json::json!({
        "SYSLOG_IDENTIFIER": "sshd", "_PID": "4242", "_HOSTNAME": "bastion", "PRIORITY": "5",
        "MESSAGE": format!("Failed password for root from 198.51.100.{n} port 22 ssh2"),
        "__REALTIME_TIMESTAMP": (1_767_225_600_000_000u64 + n as u64 * 1_000_000).to_string(),
    })
    .to_string()
}

/// The hostile entries of the brief, as `journalctl -o json` lines.
fn hostile_lines() -> Vec<String> {
    let two_mib = "B".repeat(2 << 20);
    let bad_utf8: Vec<u8> = vec![0xff, 0xfe, b'x', 0xc3];
    let bytes = serde_json::json!(bad_utf8);
    let mut many = serde_json::Map::new();
    for i in 0..3000 {
        many.insert(format!("FIELD_{i}"), format!("value {i}").into());
    }
    many.insert("MESSAGE".into(), "thousands of fields".into());
    vec![
        serde_json::json!({"MESSAGE": two_mib, "SYSLOG_IDENTIFIER": "sshd"}).to_string(),
        serde_json::json!({"MESSAGE": "Failed password for root\u{0} from 203.0.113.1\u{0} port 22 ssh2", "SYSLOG_IDENTIFIER": "sshd\u{0}"}).to_string(),
        serde_json::json!({"MESSAGE": bytes, "SYSLOG_IDENTIFIER": bytes, "_HOSTNAME": bytes, "PRIORITY": bytes, "_PID": bytes, "__REALTIME_TIMESTAMP": bytes}).to_string(),
        serde_json::json!({"MESSAGE": vec!["Failed password for root from 203.0.113.2 port 22 ssh2"; 400], "SYSLOG_IDENTIFIER": vec!["sshd"; 300]}).to_string(),
        serde_json::Value::Object(many).to_string(),
        "{}".to_owned(),
        serde_json::json!({"MESSAGE": "x", "PRIORITY": "99999999999999999999999", "__REALTIME_TIMESTAMP": "99999999999999999999999", "_PID": "-99999999999999999999"}).to_string(),
        serde_json::json!({"MESSAGE": "x", "__REALTIME_TIMESTAMP": "-1"}).to_string(),
        serde_json::json!({"MESSAGE": "{MESSAGE} {MESSAGE:>999999999} {0} {", "SYSLOG_IDENTIFIER": "{_HOSTNAME}", "PRIORITY": "2"}).to_string(),
        r#"{"MESSAGE": "truncated", "SYSLOG_IDEN"#.to_owned(),
        r#"["not", "an", "object"]"#.to_owned(),
        "not JSON at all".to_owned(),
        "null".to_owned(),
    ]
}

/// Each hostile line is followed by an ordinary failure: every ordinary
/// failure is still counted, bad lines are reported, nothing panics, and
/// the whole replay stays fast.
#[test]
fn every_entry_after_a_hostile_one_is_still_processed() {
    let hostile = hostile_lines();
    let mut input = String::new();
    for (n, h) in hostile.iter().enumerate() {
        input.push_str(h);
        input.push('\n');
        input.push_str(&ordinary(n + 1));
        input.push('\n');
    }
    let start = std::time::Instant::now();
    let out = pyrusec(&["replay", "rules/"], Some(&input));
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "bad lines make exit 1: {stderr}"
    );
    for bad in [
        "line 19 is not an entry",
        "line 21 is not an entry",
        "line 23 is not an entry",
        "line 25 is not an entry",
    ] {
        assert!(stderr.contains(bad), "{bad}: {stderr}");
    }
    let trace = String::from_utf8_lossy(&out.stdout);
    for n in 1..=hostile.len() {
        let key = format!("\"key\":\"198.51.100.{n}\"");
        assert!(
            trace
                .lines()
                .any(|l| l.contains("\"counterRaise\"") && l.contains(&key)),
            "the failure after hostile line {n} was not counted"
        );
    }
    // A format spec in the *data* stays data: the report line is the text.
    assert!(
        trace.contains("{MESSAGE:>999999999}"),
        "templates render data as data"
    );
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}

/// Back-references with nested repeats in a legacy configuration: `check`
/// warns about each, and at run time every entry is bounded (each match
/// by a step limit, the entry's backtracking regexes together by a time
/// budget), so the entry after a hostile one is processed at once.
#[test]
fn catastrophic_regexes_are_warned_about_and_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("pyruse.json");
    let chain = |name: &str, re: &str| {
        format!(
            r#""{name}": [ {{ "filter": "filter_pcre", "args": {{ "field": "MESSAGE", "re": "{re}" }} }}, {{ "action": "action_noop", "args": {{}} }} ]"#
        )
    };
    let chains = [
        chain("A", r"^(a+)+\\1b$"),
        chain("B", r"^(a|aa)+\\1c$"),
        chain("C", r"^(?=(a+)+d)"),
        chain("D", r"^(\\w+)+\\1e$"),
        r#""Ordinary": [ { "filter": "filter_pcre", "args": { "field": "MESSAGE", "re": "^ordinary (\\d+)$", "save": ["n"] } }, { "action": "action_log", "args": { "message": "ordinary {n}" } } ]"#.to_owned(),
    ];
    std::fs::write(
        &config,
        format!("{{ \"actions\": {{ {} }} }}", chains.join(",\n")),
    )
    .expect("write");
    let out = pyrusec(&["check", config.to_str().expect("UTF-8")], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("may backtrack exponentially").count(),
        4,
        "{stderr}"
    );
    let mut input = String::new();
    for n in 0..20 {
        input.push_str(&serde_json::json!({ "MESSAGE": "a".repeat(40 + n * 500) }).to_string());
        input.push('\n');
        input.push_str(&serde_json::json!({ "MESSAGE": format!("ordinary {n}") }).to_string());
        input.push('\n');
    }
    let start = std::time::Instant::now();
    let out = pyrusec(
        &["replay", config.to_str().expect("UTF-8"), "-"],
        Some(&input),
    );
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = String::from_utf8_lossy(&out.stdout);
    for n in 0..20 {
        assert!(
            trace.contains(&format!("\"message\":\"ordinary {n}\"")),
            "{trace}"
        );
    }
    // Unbounded, these 20 entries take tens of seconds; bounded, about
    // 60 ms each in a debug build.
    assert!(took < std::time::Duration::from_secs(8), "{took:?}");
}

/// `replay --profile` names the costliest steps with their place in the
/// rules, and leaves the trace as it is without it.
#[test]
fn replay_profile_names_the_costliest_steps() {
    let input = [
        r#"{"MESSAGE": "Failed password for root from 203.0.113.1 port 22 ssh2", "SYSLOG_IDENTIFIER": "sshd", "PRIORITY": "5"}"#,
        r#"{"MESSAGE": "GET / HTTP/1.1", "SYSLOG_IDENTIFIER": "nginx", "PRIORITY": "6"}"#,
    ]
    .join("\n");
    let plain = pyrusec(&["replay", "rules/"], Some(&input));
    let out = pyrusec(&["replay", "--profile", "rules/"], Some(&input));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, plain.stdout, "the trace does not change");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("for 2 entries"), "{stderr}");
    let steps: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("rules/services/sshd.pyr:"))
        .collect();
    assert!(!steps.is_empty(), "sshd's steps are listed:\n{stderr}");
    assert!(
        steps
            .iter()
            .any(|l| l.ends_with(" pcreAny") || l.ends_with(" in")),
        "each step with its builtin:\n{stderr}"
    );
    let plain_stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(
        !plain_stderr.contains("in steps for") && !plain_stderr.contains("ns/call"),
        "no profile without --profile: {plain_stderr}"
    );
}

/// A regex whose Unicode form is too big for the engine, though its ASCII
/// form is not: `check` refuses it and `pyrused` will not start on it;
/// `replay`, which compiles the Unicode form of a regex for the first line
/// that needs it, runs it on ASCII lines and reports the error, once, at
/// the first other line.
#[test]
fn a_regex_too_big_for_unicode_is_refused_where_rules_load_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("big.pyr");
    std::fs::write(
        &rules,
        "chain \"c\" {\n    MESSAGE =~ /^\\w{1000}$/\n    log(message: \"long\")\n}\n",
    )
    .expect("write");
    let rules = rules.to_str().expect("UTF-8");
    let out = pyrusec(&["check", rules], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("exceeds the size limit"), "{stderr}");

    let state = dir.path().join("state");
    let out = pyrused(&[
        "--rules",
        rules,
        "--json",
        "/dev/null",
        "--state-dir",
        state.to_str().expect("UTF-8"),
        "--exit-at-end",
        "--dry-run",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "pyrused started:\n{stderr}");
    assert!(stderr.contains("exceeds the size limit"), "{stderr}");

    let line = |m: String| serde_json::json!({ "MESSAGE": m }).to_string() + "\n";
    let input = [
        line("a".repeat(1000)),
        line(format!("é{}", "a".repeat(999))),
        line(format!("ü{}", "a".repeat(999))),
        line("b".repeat(1000)),
    ]
    .concat();
    let out = pyrusec(&["replay", rules, "-"], Some(&input));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let trace = String::from_utf8_lossy(&out.stdout);
    let logged: Vec<u64> = trace
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["effect"] == "log")
        .filter_map(|v| v["entry"].as_u64())
        .collect();
    assert_eq!(logged, [0, 3], "{trace}");
    // Told once, then tallied.
    let told: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("cannot be compiled for text that is not ASCII"))
        .collect();
    assert_eq!(told.len(), 2, "{stderr}");
    assert!(told[0].ends_with("(logged once)"), "{stderr}");
    assert!(told[1].ends_with(": 2 times in all"), "{stderr}");
}
