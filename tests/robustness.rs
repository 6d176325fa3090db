//! Bad input never crashes: mutated rule files go through load and check,
//! hostile entries through replay, and `pyrusec` exits with a status, not a
//! panic.

mod common;
use common::*;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

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
                let checked = pyruse::check::check(rules);
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
