//! Mail as a mail reader sees it: messages handed to a sendmail-style
//! command parse as valid MIME with the expected headers and bodies; the
//! daily report is one multipart/alternative mail with its three sections,
//! and its HTML renders in a real browser (screenshot kept as a test
//! artifact in target/test-artifacts/).

use crate::common::*;
use std::path::Path;
use std::process::Command;

/// A sendmail-style command that keeps each message in `dir`.
fn capture_command(dir: &Path) -> String {
    let script = dir.join("sendmail");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n# records its arguments and the message\necho \"$@\" > {d}/args.$$\ncat > {d}/mail.$$.eml\n", d = dir.display()),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script.display().to_string()
}

fn mails(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    v.sort();
    v
}

fn line(t: i64, ident: &str, prio: u8, msg: &str) -> String {
    serde_json::json!({"__REALTIME_TIMESTAMP": t.to_string(), "_HOSTNAME": "web", "SYSLOG_IDENTIFIER": ident,
        "PRIORITY": prio.to_string(), "MESSAGE": msg}).to_string() + "\n"
}

/// `pyrused` over JSON entries to their end, carrying out the effects.
fn run_json(rules: &str, entries: &str, state: &str) -> std::process::Output {
    let out = pyrused(&[
        "--rules",
        rules,
        "--json",
        entries,
        "--state-dir",
        state,
        "--exit-at-end",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn email_action_through_a_sendmail_command_is_valid_mime() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sendmail = capture_command(tmp.path());
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!(
            "set email.from = \"Pyruse <pyruse@example.org>\"\n\
             set email.to = [\"hostmaster\", \"security@example.org\"]\n\
             set email.sendmail = [\"{sendmail}\", \"-t\"]\n\
             chain \"Mail\" {{\n    SYSLOG_IDENTIFIER == \"sshd\"\n    MESSAGE =~ /from (?P<ip>\\S+)/\n\
                 email(subject: \"Attaque depuis {{ip}} — é\", message: \"Ligne : {{MESSAGE}}\\nSecond line, long: {long}\")\n}}\n",
            long = "x".repeat(2000)
        ),
    )
    .expect("rules");
    let entries = tmp.path().join("e.jsonl");
    let now = pyruse::vm::wall_clock_us();
    std::fs::write(
        &entries,
        line(
            now,
            "sshd",
            5,
            "Failed password for root from 203.0.113.9 port 22 ssh2 — déjà vu",
        ),
    )
    .expect("entries");
    run_json(
        &rules.display().to_string(),
        &entries.display().to_string(),
        &tmp.path().join("state").display().to_string(),
    );
    let m = mails(tmp.path());
    assert_eq!(m.len(), 1, "one mail sent");
    let args = std::fs::read_dir(tmp.path())
        .expect("dir")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("args."));
    assert_eq!(
        std::fs::read_to_string(args.expect("args recorded").path())
            .expect("args")
            .trim(),
        "-t",
        "exactly the configured argv"
    );
    let mime = parse_mime(&m[0]);
    assert_eq!(mime["subject"], "Attaque depuis 203.0.113.9 — é");
    assert_eq!(mime["from"], "Pyruse <pyruse@example.org>");
    let to = mime["to"].as_str().expect("To");
    assert!(
        to.contains("hostmaster") && to.contains("security@example.org"),
        "{to}"
    );
    assert_eq!(mime["type"], "text/plain");
    let part = &mime["parts"][0];
    assert_eq!(part["charset"], "utf-8");
    assert_eq!(part["cte"], "quoted-printable");
    let body = part["body"].as_str().expect("body");
    assert!(
        body.contains("Ligne : Failed password for root from 203.0.113.9 port 22 ssh2 — déjà vu"),
        "{body}"
    );
    assert!(
        body.contains(&"x".repeat(2000)),
        "long lines survive quoted-printable"
    );
    assert!(mime["longest_line"].as_u64().expect("n") <= 998);
    assert!(mime["message_id"].as_str().is_some_and(|s| s.contains('@')));
}

#[test]
fn daily_report_mail_has_both_parts_and_renders_in_a_browser() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sendmail = capture_command(tmp.path());
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!(
            "set email.to = [\"hostmaster\"]\nset email.subject = \"Rapport quotidien\"\nset email.sendmail = [\"{sendmail}\", \"-t\"]\n\
             chain \"Report\" {{\n    PRIORITY <= 3 else {{\n        PRIORITY <= 4 else {{\n            dailyReport(level: \"OTHER\", message: \"{{SYSLOG_IDENTIFIER}}: {{MESSAGE}}\")\n        }}\n\
                     dailyReport(level: \"INFO\", message: \"{{SYSLOG_IDENTIFIER}}: {{MESSAGE}}\", details: \"FIRSTLAST\")\n    }}\n\
                 dailyReport(level: \"WARN\", message: \"{{SYSLOG_IDENTIFIER}}: {{MESSAGE}}\", details: \"ALL\")\n}}\n"
        ),
    )
    .expect("rules");
    let t = pyruse::vm::wall_clock_us() - 3_600_000_000;
    let mut input = String::new();
    input += &line(
        t,
        "nginx",
        2,
        "open() \"/var/www/<script>alert(1)</script>\" failed & denied",
    );
    input += &line(
        t + 1_000_000,
        "nginx",
        2,
        "open() \"/var/www/<script>alert(1)</script>\" failed & denied",
    );
    input += &line(
        t + 2_000_000,
        "postfix",
        4,
        "warning: hostname does not resolve",
    );
    input += &line(
        t + 3_000_000,
        "postfix",
        4,
        "warning: hostname does not resolve",
    );
    input += &line(t + 4_000_000, "cron", 6, "job ran");
    let entries = tmp.path().join("e.jsonl");
    std::fs::write(&entries, input).expect("entries");
    let state = tmp.path().join("state").display().to_string();
    let r = rules.display().to_string();
    run_json(&r, &entries.display().to_string(), &state);
    let preview = pyrusec(
        &["report", "preview", "--rules", &r, "--state-dir", &state],
        None,
    );
    let text = String::from_utf8_lossy(&preview.stdout);
    assert!(
        text.contains("WARN") && text.contains("INFO") && text.contains("OTHER"),
        "{text}"
    );
    let sent = pyrusec(
        &["report", "send", "--rules", &r, "--state-dir", &state],
        None,
    );
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let m = mails(tmp.path());
    assert_eq!(m.len(), 1);
    let mime = parse_mime(&m[0]);
    assert_eq!(mime["type"], "multipart/alternative");
    assert_eq!(mime["subject"], "Rapport quotidien");
    let parts = mime["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["type"], "text/plain");
    assert_eq!(parts[1]["type"], "text/html");
    let (txt, html) = (
        parts[0]["body"].as_str().expect("text"),
        parts[1]["body"].as_str().expect("html"),
    );
    for section in ["WARN", "INFO", "OTHER"] {
        assert!(
            txt.contains(section) && html.contains(section),
            "section {section} missing"
        );
    }
    assert!(
        txt.contains("nginx: open()")
            && txt.contains("postfix: warning")
            && txt.contains("cron: job ran"),
        "{txt}"
    );
    assert!(!html.contains("<script>"), "log text is escaped in HTML");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(mime["longest_line"].as_u64().expect("n") <= 998);
    // A new period started: nothing pending any more.
    let after = pyrusec(
        &["report", "preview", "--rules", &r, "--state-dir", &state],
        None,
    );
    assert!(!String::from_utf8_lossy(&after.stdout).contains("job ran"));

    // The HTML part in a real browser.
    let page = tmp.path().join("report.html");
    std::fs::write(&page, html).expect("html");
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let shot = artifacts.join("daily-report.png");
    let _ = std::fs::remove_file(&shot);
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok());
    let Some(chromium) = chromium else {
        assert!(std::env::var_os("CI").is_none(), "chromium is needed in CI");
        eprintln!("skipping the browser check: no chromium");
        return;
    };
    let profile = tmp.path().join("profile");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let url = format!("file://{}", page.display());
    let dom = Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<table") && dom.contains("WARN") && dom.contains("postfix: warning"),
        "rendered DOM:\n{dom}"
    );
    assert!(
        !dom.contains("<script>alert"),
        "no script element made it to the page"
    );
    let status = Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--window-size=1000,1400",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .expect("chromium runs");
    assert!(
        shot.exists(),
        "screenshot taken: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        std::fs::metadata(&shot).expect("png").len() > 10_000,
        "the screenshot shows something"
    );
}

#[test]
fn a_missed_daily_report_is_sent_at_start_with_no_traffic() {
    use pyruse::state::store::{Batch, ReportRecord, Store};
    let tmp = tempfile::tempdir().expect("tempdir");
    let sendmail = capture_command(tmp.path());
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!(
            "set email.sendmail = [\"{sendmail}\", \"-t\"]\nset dailyReport.time = \"00:00\"\n\
             chain \"Nothing\" {{\n    SYSLOG_IDENTIFIER == \"never\"\n}}\n"
        ),
    )
    .expect("rules");
    // The daemon was down: the last report went out two days ago, and a
    // record waits since then.
    let state = tmp.path().join("state");
    let now = pyruse::vm::wall_clock_us();
    {
        let mut store = Store::open(&state).expect("store");
        store
            .report_sent(i64::MIN, now - 2 * 86_400_000_000)
            .expect("last report");
        let mut b = Batch::new();
        b.report(ReportRecord {
            level: "WARN".into(),
            message: "disk almost full".into(),
            details: "ALL".into(),
            time_us: now - 86_400_000_000,
        });
        store.apply(&b).expect("record");
    }
    // No entry at all.
    let empty = tmp.path().join("none.jsonl");
    std::fs::write(&empty, "").expect("entries");
    let out = run_json(
        &rules.display().to_string(),
        &empty.display().to_string(),
        &state.display().to_string(),
    );
    let m = mails(tmp.path());
    assert_eq!(
        m.len(),
        1,
        "the missed report was sent once: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mime = parse_mime(&m[0]);
    assert_eq!(mime["type"], "multipart/alternative");
    assert!(mime["parts"][0]["body"]
        .as_str()
        .is_some_and(|b| b.contains("disk almost full")));
    // A new period started: the next start sends nothing.
    run_json(
        &rules.display().to_string(),
        &empty.display().to_string(),
        &state.display().to_string(),
    );
    assert_eq!(mails(tmp.path()).len(), 1, "no second report the same day");
}

/// Headless Chromium, when installed (required in CI).
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "chromium is needed in CI");
        eprintln!("skipping the browser check: no chromium");
    }
    found
}

const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Measures the charts of the report as the browser lays them out: for
/// each bar, its service, its title and the value its height stands for
/// on the chart's scale (from the drawn top line and base line and the
/// axis label); the cells of the tables; where the first section starts.
/// Added to a copy of the report for the test only: the report itself has
/// no script.
const MEASURE: &str = r##"<script>
const out = {};
for (const id of ["failures", "bans"]) {
  const svg = document.getElementById(id + "-chart");
  const box = svg.getBoundingClientRect();
  const [top, base] = [...svg.querySelectorAll("line")].map(l => l.getBoundingClientRect().top);
  const ymax = Number(svg.querySelector(".ymax").textContent);
  const bars = [...svg.querySelectorAll("rect[data-service]")].map(b => {
    const r = b.getBoundingClientRect();
    return {service: b.dataset.service, title: b.querySelector("title").textContent,
            value: r.height / (base - top) * ymax,
            inside: r.width > 2 && r.top >= top - 1 && r.bottom <= base + 1 && r.left >= box.left && r.right <= box.right};
  });
  const rows = [...document.querySelectorAll("#" + id + "-table tr")].map(tr => [...tr.children].map(c => c.textContent));
  out[id] = {width: box.width, height: box.height, top: box.top, bars, rows};
}
out.first_section = document.getElementById("warn").getBoundingClientRect().top;
const pre = document.createElement("pre");
pre.id = "measure";
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"##;

#[test]
fn daily_report_opens_with_the_picture_of_the_day_in_text_and_in_a_browser() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sendmail = capture_command(tmp.path());
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(
        &rules,
        format!(
            "set email.to = [\"hostmaster\"]\nset email.sendmail = [\"{sendmail}\", \"-t\"]\n\
             set nftBan.nft = [\"true\"]\n\
             chain \"sshd\" {{\n    SYSLOG_IDENTIFIER == \"sshd\"\n\
                 MESSAGE =~ /^Failed password for \\S+ from (?P<ip>\\S+)/ else {{\n\
                     dailyReport(level: \"OTHER\", message: \"{{SYSLOG_IDENTIFIER}}: {{MESSAGE}}\")\n    }}\n\
                 failure(IP: ip, service: \"sshd\", maxFailures: 3)\n}}\n"
        ),
    )
    .expect("rules");
    // All in one hour, two hours ago: 7 failures of 203.0.113.7 (banned
    // at the third), 2 of 198.51.100.9, and 300 timeouts.
    let hour = pyruse::report::day::hour_of(pyruse::vm::wall_clock_us() - 7_200_000_000);
    let t = hour + 600_000_000;
    let mut input = String::new();
    for i in 0..9 {
        let ip = if i < 7 { "203.0.113.7" } else { "198.51.100.9" };
        let msg = format!("Failed password for root from {ip} port {} ssh2", 5000 + i);
        input += &line(t + i * 1_000_000, "sshd", 4, &msg);
    }
    for i in 0..300 {
        let msg = format!(
            "Timeout before authentication for 192.0.2.{} port {}",
            i % 200,
            40000 + i
        );
        input += &line(t + 10_000_000 + i * 1_000_000, "sshd", 6, &msg);
    }
    let entries = tmp.path().join("e.jsonl");
    std::fs::write(&entries, input).expect("entries");
    let state = tmp.path().join("state").display().to_string();
    let r = rules.display().to_string();
    run_json(&r, &entries.display().to_string(), &state);
    let sent = pyrusec(
        &["report", "send", "--rules", &r, "--state-dir", &state],
        None,
    );
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let m = mails(tmp.path());
    assert_eq!(m.len(), 1);
    let mime = parse_mime(&m[0]);
    // Line ends as the mail carries them (CRLF) made `\n`.
    let (txt, html) = (
        mime["parts"][0]["body"]
            .as_str()
            .expect("text")
            .replace("\r\n", "\n"),
        mime["parts"][1]["body"]
            .as_str()
            .expect("html")
            .replace("\r\n", "\n"),
    );
    let (txt, html) = (txt.as_str(), html.as_str());
    // The text part: the tables of the picture, by hand, then the sections.
    let label = jiff::Timestamp::from_microsecond(hour)
        .expect("time")
        .strftime("%H:%M")
        .to_string();
    let failures = format!(
        "Failures per hour, by service (- is none; hours without any are left out):\n\n\
         | Hour  | sshd | All |\n|-------|------|-----|\n| {label} |    9 |   9 |\n| Total |    9 |   9 |\n"
    );
    let bans = format!(
        "Bans per hour, by service (- is none; hours without any are left out):\n\n\
         | Hour  | sshd | All |\n|-------|------|-----|\n| {label} |    1 |   1 |\n| Total |    1 |   1 |\n"
    );
    assert!(txt.contains(&failures) && txt.contains(&bans), "{txt}");
    assert!(txt.find(&failures) < txt.find("(WARN)"));
    assert!(
        txt.contains(
            ", 300 times: sshd: Timeout before authentication for <IP> port <N>\n    \
             e.g. sshd: Timeout before authentication for 192.0.2.0 port 40000\n"
        ),
        "{txt}"
    );
    assert!(txt.contains("== Other events (OTHER): 300 events in 1 line\n"));
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("href="));

    let Some(chromium) = chromium() else {
        return;
    };
    let page = tmp.path().join("report.html");
    std::fs::write(
        &page,
        html.replace("</body>", &format!("{MEASURE}\n</body>")),
    )
    .expect("html");
    let url = format!("file://{}", page.display());
    let profile = format!("--user-data-dir={}", tmp.path().join("profile").display());
    let dom = Command::new(chromium)
        .args(CHROMIUM_FLAGS)
        .args([
            profile.as_str(),
            "--window-size=1000,1400",
            "--dump-dom",
            &url,
        ])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    let json = dom
        .split("<pre id=\"measure\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("no measure in\n{dom}"));
    let json = json
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let measure: serde_json::Value = serde_json::from_str(&json).expect("measure JSON");
    for (id, expected) in [("failures", 9.0), ("bans", 1.0)] {
        let chart = &measure[id];
        assert!(chart["width"].as_f64().expect("width") >= 600.0, "{chart}");
        assert!(
            chart["height"].as_f64().expect("height") >= 150.0,
            "{chart}"
        );
        assert!(
            chart["top"].as_f64() < measure["first_section"].as_f64(),
            "the picture opens the report"
        );
        let bars = chart["bars"].as_array().expect("bars");
        assert_eq!(bars.len(), 1, "{chart}");
        let bar = &bars[0];
        assert_eq!(bar["inside"], true, "{bar}");
        assert_eq!(bar["service"], "sshd");
        let value = bar["value"].as_f64().expect("value");
        assert!(
            (value - expected).abs() < 0.2,
            "{id}: bar of {value}, table {expected}"
        );
        // The table beside it says the same.
        assert_eq!(
            chart["rows"],
            serde_json::json!([
                ["Hour", "sshd", "All"],
                [label, expected.to_string(), expected.to_string()],
                ["Total", expected.to_string(), expected.to_string()]
            ])
        );
    }
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let shot = artifacts.join("daily-report-picture.png");
    let _ = std::fs::remove_file(&shot);
    std::fs::write(tmp.path().join("plain.html"), html).expect("html");
    Command::new(chromium)
        .args(CHROMIUM_FLAGS)
        .args([
            profile.as_str(),
            "--window-size=1000,1000",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", tmp.path().join("plain.html").display()),
        ])
        .output()
        .expect("chromium runs");
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "screenshot of the picture taken"
    );
}
