//! The outside world fails, the daemon does not: with `nft` missing,
//! sendmail failing and the SMTP relay down, pyrused keeps processing,
//! logs each failure once per cause, and delivers the queued mail once the
//! relay is back.

use crate::common::smtp::SmtpSink;
use crate::common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RULES: &str = r#"chain "SSH" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for \S+ from (?P<ip>\S+) port/
    dailyReport(level: "WARN", message: "failure from {ip}")
    counterRaise(counter: "ssh", for: ip, save: n)
    n >= 2 else { noop() }
    nftBan(IP: ip, nftSetIPv4: "inet pyruse ban4", nftSetIPv6: "inet pyruse ban6", banSeconds: 1h)
    email(subject: "Banned {ip}", message: "{ip} banned after {n} failures")
}
"#;

fn entry(t: i64, ip: &str) -> String {
    serde_json::json!({"__REALTIME_TIMESTAMP": t.to_string(), "SYSLOG_IDENTIFIER": "sshd",
        "MESSAGE": format!("Failed password for root from {ip} port 22 ssh2")})
    .to_string()
}

#[test]
fn missing_nft_and_failing_sendmail_do_not_stop_processing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!("set nftBan.nft = [\"/nonexistent/nft\"]\nset email.sendmail = [\"/bin/false\"]\n{RULES}"),
    )
    .expect("rules");
    let now = pyruse::vm::wall_clock_us();
    let mut lines = String::new();
    for i in 0..40 {
        lines += &entry(now + i, &format!("203.0.113.{}", i % 10));
        lines.push('\n');
    }
    let entries = tmp.path().join("e.jsonl");
    std::fs::write(&entries, lines).expect("entries");
    let state = tmp.path().join("state").display().to_string();
    let r = rules.display().to_string();
    let out = pyrused(&[
        "--rules",
        &r,
        "--json",
        &entries.display().to_string(),
        "--state-dir",
        &state,
        "--exit-at-end",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Every entry was processed: 40 report records, 10 bans recorded.
    let preview = pyrusec(
        &["report", "preview", "--rules", &r, "--state-dir", &state],
        None,
    );
    let text = String::from_utf8_lossy(&preview.stdout);
    // Ten addresses: more than five messages of one shape, one row.
    assert!(
        text.contains("|    40 | failure from <IP>\n|       |   e.g. failure from 203.0.113.0\n"),
        "{text}"
    );
    let bans = pyrusec(
        &["bans", "list", "--rules", &r, "--state-dir", &state],
        None,
    );
    let listed = String::from_utf8_lossy(&bans.stdout);
    assert_eq!(listed.matches("203.0.113.").count(), 10);
    // nft never ran: no ban is in force, each is listed as failed.
    assert!(!listed.contains("in force"), "{listed}");
    assert_eq!(listed.matches(" failed ").count(), 10, "{listed}");
    // The set-up names the command that could not run.
    assert!(
        stderr.contains(
            "cannot set up the nftables table inet pyruse: \
             /nonexistent/nft -t list table inet pyruse: cannot run /nonexistent/nft"
        ),
        "{stderr}"
    );
    // Each cause logged once, however often it happened.
    assert_eq!(
        stderr.matches("cannot run /nonexistent/nft").count(),
        1,
        "{stderr}"
    );
    assert_eq!(stderr.matches("/bin/false failed").count(), 1, "{stderr}");
}

/// `pyrused` reading JSON entries from its standard input, committing
/// every 50 ms.
fn daemon_on_stdin(rules: &std::path::Path, state: &std::path::Path) -> Reaped {
    Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_pyrused"))
            .args(["--rules", &rules.display().to_string(), "--json", "-"])
            .args(["--commit-interval-ms", "50"])
            .args(["--state-dir", &state.display().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )
}

#[test]
fn mail_queued_while_the_relay_is_down_is_delivered_when_it_is_back() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let down = SmtpSink::start();
    let port = down.port;
    down.stop();
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!(
            "set nftBan.nft = [\"/bin/true\"]\nset email.from = \"pyruse@example.org\"\nset email.to = [\"hostmaster@example.org\"]\n\
             set email.smtp.host = \"127.0.0.1\"\nset email.smtp.port = {port}\nset email.smtp.security = \"none\"\n{RULES}"
        ),
    )
    .expect("rules");
    let mut child = daemon_on_stdin(&rules, &tmp.path().join("state"));
    let mut stdin = child.stdin.take().expect("stdin");
    let err = spawn_lines(child.stderr.take().expect("stderr"));
    let now = pyruse::vm::wall_clock_us();
    // Two failures: a ban and a mail, which cannot be delivered.
    for i in 0..2 {
        writeln!(stdin, "{}", entry(now + i, "198.51.100.7")).expect("write");
    }
    stdin.flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut logged = Vec::new();
    while Instant::now() < deadline {
        if let Ok(l) = err.recv_timeout(Duration::from_millis(200)) {
            let done = l.contains("smtp: connect") || l.contains("will retry");
            logged.push(l);
            if done {
                break;
            }
        }
    }
    assert!(
        logged.iter().any(|l| l.contains("will retry")),
        "the failed send is logged: {logged:?}"
    );
    // The daemon keeps processing meanwhile.
    for i in 2..30 {
        writeln!(stdin, "{}", entry(now + i, &format!("192.0.2.{i}"))).expect("write");
    }
    stdin.flush().expect("flush");
    // The relay comes back: the queued mail goes out with the next retry.
    let sink = SmtpSink::start_on(port).expect("port free again");
    let got = sink.wait_for(1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "the queued mail was delivered");
    assert_eq!(got[0].to, vec!["hostmaster@example.org".to_owned()]);
    // What the relay received is a valid MIME message.
    let eml = tmp.path().join("received.eml");
    std::fs::write(&eml, &got[0].data).expect("write");
    let mime = parse_mime(&eml);
    assert_eq!(mime["subject"], "Banned 198.51.100.7");
    assert_eq!(mime["from"], "pyruse@example.org");
    assert_eq!(mime["to"], "hostmaster@example.org");
    assert_eq!(mime["parts"][0]["type"], "text/plain");
    assert!(
        mime["parts"][0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("198.51.100.7 banned after 2 failures")),
        "{mime}"
    );
    assert_eq!(mime["defects"], serde_json::json!([]));
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok);
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status}");
    let relay_errors = logged.iter().filter(|l| l.contains("will retry")).count();
    assert_eq!(relay_errors, 1, "one line per cause: {logged:?}");
}

/// Mails queued before a ban go to a relay that accepts connections and
/// never answers (each attempt hangs until the SMTP timeout): the ban still
/// reaches the firewall command at once, and the daemon still stops
/// promptly on SIGTERM, leaving the unsent mail queued.
#[test]
fn bans_never_wait_behind_mail_to_a_dead_relay() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let relay = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = relay.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        // Accept, then say nothing.
        let mut held = Vec::new();
        for conn in relay.incoming().flatten() {
            held.push(conn);
        }
    });
    let banned = tmp.path().join("banned.txt");
    let nft = tmp.path().join("nft.sh");
    std::fs::write(&nft, format!("#!/bin/sh\ncat >> {}\n", banned.display())).expect("script");
    Command::new("chmod")
        .args(["+x", &nft.display().to_string()])
        .status()
        .expect("chmod");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!(
            "set nftBan.nft = [\"{}\"]\nset email.from = \"pyruse@example.org\"\nset email.to = [\"hostmaster@example.org\"]\n\
             set email.smtp.host = \"127.0.0.1\"\nset email.smtp.port = {port}\nset email.smtp.security = \"none\"\n\
             chain \"Mail\" {{\n    MESSAGE =~ /^mail (?P<n>\\d+)$/\n    email(subject: \"Note {{n}}\", message: \"note {{n}}\")\n}}\n\
             chain \"Ban\" {{\n    MESSAGE =~ /^attack from (?P<ip>\\S+)$/\n    nftBan(IP: ip, nftSetIPv4: \"inet pyruse ban4\", nftSetIPv6: \"inet pyruse ban6\", banSeconds: 1h)\n}}\n",
            nft.display()
        ),
    )
    .expect("rules");
    let mut child = daemon_on_stdin(&rules, &tmp.path().join("state"));
    let mut stdin = child.stdin.take().expect("stdin");
    let _err = spawn_lines(child.stderr.take().expect("stderr"));
    let now = pyruse::vm::wall_clock_us();
    let line = |i: i64, m: String| {
        serde_json::json!({"__REALTIME_TIMESTAMP": (now + i).to_string(), "MESSAGE": m}).to_string()
    };
    for i in 0..5 {
        writeln!(stdin, "{}", line(i, format!("mail {i}"))).expect("write");
    }
    writeln!(stdin, "{}", line(5, "attack from 203.0.113.8".into())).expect("write");
    stdin.flush().expect("flush");
    let start = Instant::now();
    let mut applied = String::new();
    while start.elapsed() < Duration::from_secs(30) && !applied.contains("203.0.113.8") {
        std::thread::sleep(Duration::from_millis(50));
        applied = std::fs::read_to_string(&banned).unwrap_or_default();
    }
    let waited = start.elapsed();
    assert!(applied.contains("203.0.113.8"), "the ban was applied");
    assert!(
        waited < Duration::from_secs(5),
        "the ban waited {waited:?} behind the mail"
    );
    let stop = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status}");
    assert!(
        stop.elapsed() < Duration::from_secs(30),
        "stopping took {:?}",
        stop.elapsed()
    );
    let store = pyruse::state::store::Store::open(&tmp.path().join("state")).expect("state");
    assert!(
        store.outbox_len().expect("outbox") >= 4,
        "unsent mail stays queued"
    );
}
