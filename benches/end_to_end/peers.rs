//! Beside fail2ban: the sshd lines of the generated journal, through
//! `fail2ban-regex` with fail2ban's own sshd filter (as an `auth.log`
//! written by rsyslog) and through `pyrusec replay` with the library (as
//! `journalctl -o json` lines), each in its own process, CPU time measured
//! as for the table.
//!
//! fail2ban is found at `$FAIL2BAN` (the root of an installed or unpacked
//! package: `apt-get download fail2ban && dpkg -x fail2ban_*.deb DIR`),
//! else at `/`; without it, this part is skipped with a note.

use crate::{fail, Table};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sshd identifiers of the library's sshd service.
const SSHD: [&str; 3] = ["sshd", "sshd-session", "sshd-auth"];

/// Where fail2ban is: its `fail2ban-regex`, its Python modules, its filters.
struct Fail2ban {
    script: PathBuf,
    python_path: PathBuf,
    filter: PathBuf,
}

fn find_fail2ban() -> Option<Fail2ban> {
    let root = std::env::var_os("FAIL2BAN").map_or_else(|| PathBuf::from("/"), PathBuf::from);
    let f = Fail2ban {
        script: root.join("usr/bin/fail2ban-regex"),
        python_path: root.join("usr/lib/python3/dist-packages"),
        filter: root.join("etc/fail2ban/filter.d/sshd.conf"),
    };
    (f.script.exists() && f.filter.exists()).then_some(f)
}

pub fn run(work: &Path, json: &Path, rules: &Path) {
    println!();
    println!("Beside fail2ban, on the sshd lines of the same entries:");
    let Some(f2b) = find_fail2ban() else {
        println!(
            "    skipped: no fail2ban (install it, or unpack its package and set FAIL2BAN=DIR)"
        );
        return;
    };
    let dir = work.join("peers");
    let _ = std::fs::create_dir_all(&dir);
    let (log, lines) = (dir.join("auth.log"), dir.join("sshd.jsonl"));
    let n = split_sshd(json, &log, &lines);

    let mut table = Table::default();
    let f2b_row = table.run(
        "fail2ban-regex, filter.d/sshd.conf, auth.log",
        Command::new("python3")
            .arg(&f2b.script)
            .arg(&log)
            .arg(&f2b.filter)
            .env("PYTHONPATH", &f2b.python_path)
            .env("TZ", "UTC"),
        n,
    );
    let matched = last_output()
        .lines()
        .find(|l| l.starts_with("Lines:"))
        .unwrap_or("Lines: ?")
        .to_owned();
    let ours = table.run(
        "pyrusec replay rules/ (JSON lines)",
        Command::new(env!("CARGO_BIN_EXE_pyrusec"))
            .arg("replay")
            .arg(rules)
            .arg(&lines)
            .env("TZ", "UTC"),
        n,
    );
    let failures = last_output()
        .lines()
        .filter(|l| l.contains("\"effect\":\"counterRaise\"") && l.contains("\"counter\":\"sshd\""))
        .count();
    table.print(ours, "× ours");
    println!("fail2ban-regex: {matched}");
    println!("pyrusec: {failures} sshd failures counted");
    let (a, b) = (table.rows[f2b_row].cpu, table.rows[ours].cpu.max(1e-9));
    println!(
        "fail2ban-regex takes {:.1} times the CPU time of pyrusec",
        a / b
    );
}

fn last_output() -> String {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("end_to_end/last-output");
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Write the sshd entries of `json` as syslog lines (`log`) and as the
/// same JSON lines (`lines`); returns how many.
fn split_sshd(json: &Path, log: &Path, lines: &Path) -> usize {
    let open = |p: &Path| {
        BufWriter::new(std::fs::File::create(p).unwrap_or_else(|e| fail(&format!("{p:?}: {e}"))))
    };
    let (mut log_out, mut json_out) = (open(log), open(lines));
    let input = std::fs::File::open(json).unwrap_or_else(|e| fail(&format!("{json:?}: {e}")));
    let mut n = 0;
    for line in BufReader::new(input).lines().map_while(Result::ok) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
        if !SSHD.contains(&text("SYSLOG_IDENTIFIER")) {
            continue;
        }
        let us: i64 = text("__REALTIME_TIMESTAMP").parse().unwrap_or(0);
        let when = jiff::Timestamp::from_microsecond(us)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%b %e %H:%M:%S")
            .to_string();
        let written = writeln!(
            log_out,
            "{when} {} {}[{}]: {}",
            text("_HOSTNAME"),
            text("SYSLOG_IDENTIFIER"),
            text("_PID"),
            text("MESSAGE")
        )
        .and_then(|()| writeln!(json_out, "{line}"));
        written.unwrap_or_else(|e| fail(&format!("{e}")));
        n += 1;
    }
    log_out
        .flush()
        .and_then(|()| json_out.flush())
        .unwrap_or_else(|e| fail(&format!("{e}")));
    n
}
