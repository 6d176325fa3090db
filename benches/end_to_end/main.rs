//! End to end: a million journal entries of a small self-hosted server,
//! written as real journal files by `systemd-journal-remote`, read by
//! `pyrused` through libsystemd, with the shipped rule library and with a
//! legacy `pyruse.json` of real-world size (`server.json`).
//!
//! ```sh
//! cargo bench --bench end_to_end                     # 1,000,000 entries
//! cargo bench --bench end_to_end -- --entries 200000
//! cargo bench --bench end_to_end -- --peers          # beside fail2ban only
//! ```
//!
//! The entries are generated once (deterministically, see `gen.rs`) into
//! `target/tmp/end_to_end/` and reused by later runs. Each line of the
//! table is a separate process, measured by the kernel: CPU time (user +
//! system, of the process and its children: `nft`, `sendmail`), wall time,
//! and peak anonymous memory (sampled from `/proc`). The floor is a
//! program that only iterates the same files through libsystemd and reads
//! every field of every entry; the last column is each line's CPU time
//! over the floor's.
//!
//! Needs `systemd-journal-remote` (package systemd-journal-remote).

mod gen;
mod latency;
mod peers;
#[path = "../../src/testing.rs"]
#[allow(dead_code)]
mod testing;

use pyruse::journal::export;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bump when the generator's output changes, so that old data is not reused.
const DATA_VERSION: u32 = 1;
const SEED: u64 = 0x5eed_2026_1101;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--floor") {
        let Some(dir) = args.get(i + 1) else {
            fail("--floor DIR")
        };
        floor(Path::new(dir));
        return;
    }
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("end_to_end");
    if args.iter().any(|a| a == "--latency") {
        latency::run(&work);
        return;
    }
    let peers_only = args.iter().any(|a| a == "--peers");
    let entries: usize = match args.iter().position(|a| a == "--entries") {
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.replace('_', "").parse().ok())
            .unwrap_or_else(|| fail("--entries N")),
        None => 1_000_000,
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = generate(&work, entries);
    let rules = root.join("rules");
    let legacy = root.join("benches/end_to_end/server.json");
    if peers_only {
        peers::run(&work, &data.json, &rules);
        return;
    }
    let real = Real::new(&work, &rules, &legacy);

    println!(
        "{entries} entries; {} of journal files",
        megabytes(dir_size(&data.journal))
    );
    let mut table = Table::default();
    // Once unmeasured, so that every measured run finds the files in the
    // page cache.
    table.run(
        "warm-up",
        Command::new(self_exe()).arg("--floor").arg(&data.journal),
        entries,
    );
    table.rows.clear();
    let floor = table.run(
        "floor: libsystemd, every field",
        Command::new(self_exe()).arg("--floor").arg(&data.journal),
        entries,
    );
    let pyrused = |rules: &Path, dry: bool| {
        let state = work.join("state");
        let _ = std::fs::remove_dir_all(&state);
        let mut c = Command::new(env!("CARGO_BIN_EXE_pyrused"));
        c.arg("--rules")
            .arg(rules)
            .arg("--directory")
            .arg(&data.journal)
            .args(["--start", "head", "--exit-at-end", "--state-dir"])
            .arg(&state)
            .env("TZ", "UTC");
        if dry {
            c.arg("--dry-run");
        }
        c
    };
    let replay = |rules: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pyrusec"));
        c.arg("replay").arg(rules).arg(&data.json).env("TZ", "UTC");
        c
    };
    for (name, rules, real_rules) in [
        ("rules/", &rules, &real.rules),
        ("server.json", &legacy, &real.legacy),
    ] {
        table.run(
            &format!("pyrused --dry-run, {name}"),
            &mut pyrused(rules, true),
            entries,
        );
        real.reset();
        table.run(
            &format!("pyrused, {name}, effects carried out"),
            &mut pyrused(real_rules, false),
            entries,
        );
        table.note(&real.summary());
        table.run(
            &format!("pyrusec replay (JSON lines), {name}"),
            &mut replay(rules),
            entries,
        );
    }
    table.print(floor, "× floor");
    peers::run(&work, &data.json, &rules);
    bans_to_nft(&work);
    latency::run(&work);
}

fn fail(what: &str) -> ! {
    eprintln!("end_to_end: {what}");
    std::process::exit(2)
}

/// Whether this runs as root (the namespaces of the last two sections).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    })
}

fn self_exe() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|e| fail(&format!("own path: {e}")))
}

// ---------------------------------------------------------------------------
// Data

struct Data {
    /// A directory of journal files.
    journal: PathBuf,
    /// The same entries as `journalctl -o json` lines.
    json: PathBuf,
}

/// Generate `n` entries once: journal files and JSON lines.
fn generate(work: &Path, n: usize) -> Data {
    let base = work.join(format!("data-v{DATA_VERSION}-{n}"));
    let data = Data {
        journal: base.join("journal"),
        json: base.join("entries.jsonl"),
    };
    let done = base.join("complete");
    if done.exists() {
        return data;
    }
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&data.journal).unwrap_or_else(|e| fail(&format!("{base:?}: {e}")));
    eprintln!("generating {n} entries into {}", base.display());
    let t = Instant::now();
    let mut g = gen::Gen::new(SEED);
    let mut entry = gen::Entry::new();
    let mut json =
        BufWriter::new(std::fs::File::create(&data.json).unwrap_or_else(|e| fail(&format!("{e}"))));
    let mut buf = Vec::new();
    let file = data.journal.join("server.journal");
    let mut done_n = 0;
    while done_n < n {
        buf.clear();
        let chunk = (n - done_n).min(100_000);
        for _ in 0..chunk {
            g.next(&mut entry);
            write_json(&mut json, &entry);
            for (k, v) in &entry {
                export::field(&mut buf, k, v);
            }
            export::end_entry(&mut buf);
        }
        export::write_journal(&file, &buf).unwrap_or_else(|e| fail(&format!("{e}")));
        done_n += chunk;
    }
    json.flush().unwrap_or_else(|e| fail(&format!("{e}")));
    std::fs::write(&done, b"").unwrap_or_else(|e| fail(&format!("{e}")));
    eprintln!("generated in {:.1} s", t.elapsed().as_secs_f64());
    data
}

/// One `journalctl -o json` line: strings, or byte arrays for non-UTF-8
/// values; a field repeated becomes an array.
fn write_json(out: &mut impl Write, entry: &gen::Entry) {
    let mut obj: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    for (k, v) in entry {
        let v = match std::str::from_utf8(v) {
            Ok(s) => serde_json::Value::from(s),
            Err(_) => serde_json::Value::from(v.clone()),
        };
        obj.entry(k).or_default().push(v);
    }
    let obj: serde_json::Map<String, serde_json::Value> = obj
        .into_iter()
        .map(|(k, mut v)| {
            let v = if v.len() == 1 {
                v.remove(0)
            } else {
                serde_json::Value::from(v)
            };
            (k.to_owned(), v)
        })
        .collect();
    let line = serde_json::to_string(&obj).unwrap_or_default();
    let _ = writeln!(out, "{line}");
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

// ---------------------------------------------------------------------------
// The floor

/// Iterate every entry of the journal files of `dir` and read every field,
/// as the cheapest reader through libsystemd would.
fn floor(dir: &Path) {
    use systemd::journal::OpenDirectoryOptions;
    let c_dir = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
        .unwrap_or_else(|e| fail(&format!("{dir:?}: {e}")));
    let mut j = OpenDirectoryOptions::default()
        .open_directory(&c_dir)
        .unwrap_or_else(|e| fail(&format!("{dir:?}: {e}")));
    let _ = j.set_data_threshold(0);
    let (mut entries, mut bytes) = (0u64, 0u64);
    while j.next().unwrap_or(0) > 0 {
        entries += 1;
        j.restart_data();
        while let Ok(Some(item)) = j.enumerate_data() {
            bytes += item.data().len() as u64;
        }
    }
    eprintln!("floor: {entries} entries, {bytes} bytes of fields");
}

// ---------------------------------------------------------------------------
// Effects carried out, harmlessly

/// Rules that carry effects out through commands that only record: the
/// ban command writes its nft script to a file, sendmail discards. Bans
/// last a year, so that those of the generated days are still in force
/// when the benchmark runs and really reach the ban command (a ban that
/// ended before pyrused catches up with it is rightly never applied).
struct Real {
    rules: PathBuf,
    legacy: PathBuf,
    bans: PathBuf,
    mails: PathBuf,
}

impl Real {
    fn new(work: &Path, rules: &Path, legacy: &Path) -> Real {
        let dir = work.join("real");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(&format!("{e}")));
        let bans = dir.join("bans.nft");
        let mails = dir.join("mails");
        let nft = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            format!("cat >> '{0}'; echo '# end' >> '{0}'", bans.display()),
        ];
        let sendmail = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            format!("cat > /dev/null; echo >> '{}'", mails.display()),
        ];
        let quoted = |v: &[String]| {
            let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", items.join(", "))
        };
        let pyr = dir.join("rules.pyr");
        let text = format!(
            "include {:?}\nset nftBan.nft = {}\nset email.sendmail = {}\nset banTime = 365d\n",
            format!("{}/", rules.display()),
            quoted(&nft),
            quoted(&sendmail)
        );
        std::fs::write(&pyr, text).unwrap_or_else(|e| fail(&format!("{e}")));
        // Edited as text: the order of the chains is the program's order,
        // which a JSON map would not keep.
        let json = dir.join("server.json");
        let text = std::fs::read_to_string(legacy)
            .unwrap_or_else(|e| fail(&format!("{}: {e}", legacy.display())));
        let list = |v: &[String]| serde_json::to_string(v).unwrap_or_default();
        let text = replace_list(&text, "\"sendmail\"", &list(&sendmail));
        let text = replace_list(&text, "\"nft\"", &list(&nft));
        let year = format!("\"banSeconds\": {}", 365 * 86_400);
        let text = regex::Regex::new(r#""banSeconds"\s*:\s*[0-9]+"#)
            .map(|re| re.replace_all(&text, year.as_str()).into_owned())
            .unwrap_or(text);
        std::fs::write(&json, text).unwrap_or_else(|e| fail(&format!("{e}")));
        Real {
            rules: pyr,
            legacy: json,
            bans,
            mails,
        }
    }

    fn reset(&self) {
        let _ = std::fs::remove_file(&self.bans);
        let _ = std::fs::remove_file(&self.mails);
    }

    fn summary(&self) -> String {
        let bans = std::fs::read_to_string(&self.bans).unwrap_or_default();
        // Each script deletes every element it bans, in one command per set.
        let elements: usize = bans
            .lines()
            .filter(|l| l.starts_with("delete element"))
            .map(|l| l.matches(',').count() + 1)
            .sum();
        let scripts = bans.lines().filter(|l| *l == "# end").count();
        let mails = std::fs::read_to_string(&self.mails)
            .map(|m| m.lines().count())
            .unwrap_or(0);
        format!("{elements} bans through {scripts} nft scripts, {mails} mails")
    }
}

/// `text` with the list that follows `key` (`"key": [ … ]`) replaced.
fn replace_list(text: &str, key: &str, list: &str) -> String {
    let Some(k) = text.find(key) else {
        fail(&format!("{key} not found in server.json"))
    };
    let (Some(open), Some(close)) = (text[k..].find('['), text[k..].find(']')) else {
        fail(&format!("no list after {key} in server.json"))
    };
    format!("{}{list}{}", &text[..k + open], &text[k + close + 1..])
}

// ---------------------------------------------------------------------------
// Bans reaching nftables

/// 10,000 failed logins from as many addresses, each banned at its first
/// failure, through the real `nft` in a private network namespace: the time
/// from the start of `pyrused` to its exit with every ban in the set.
fn bans_to_nft(work: &Path) {
    const N: u32 = 10_000;
    let nft_found = ["/usr/sbin/nft", "/sbin/nft"]
        .iter()
        .any(|p| Path::new(p).exists());
    if !nft_found || !is_root() {
        println!("\n{N} bans to nftables: skipped (needs root and nft)");
        return;
    }
    let dir = work.join("bans");
    let _ = std::fs::remove_dir_all(&dir);
    let journal = dir.join("journal");
    std::fs::create_dir_all(&journal).unwrap_or_else(|e| fail(&format!("{e}")));
    let rules = dir.join("rules.pyr");
    std::fs::write(
        &rules,
        r#"set nftBan.nft = ["nft"]
chain "sshd" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for \S+ from (?P<ip>[0-9.]+) port [0-9]+ ssh2$/
    nftBan(IP: ip, nftSetIPv4: "inet pyruse ban4", nftSetIPv6: "inet pyruse ban6", banSeconds: 1h)
}
"#,
    )
    .unwrap_or_else(|e| fail(&format!("{e}")));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let mut buf = Vec::new();
    for i in 0..N {
        let t = (now - 60_000_000 + u64::from(i)).to_string();
        let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        export::field(&mut buf, "__REALTIME_TIMESTAMP", t.as_bytes());
        export::field(&mut buf, "__MONOTONIC_TIMESTAMP", t.as_bytes());
        export::field(&mut buf, "_BOOT_ID", b"9ec1eb60c72a205286d614fc429eb4b9");
        export::field(&mut buf, "SYSLOG_IDENTIFIER", b"sshd");
        let msg = format!("Failed password for root from {ip} port 4242 ssh2");
        export::field(&mut buf, "MESSAGE", msg.as_bytes());
        export::end_entry(&mut buf);
    }
    export::write_journal(&journal.join("ssh.journal"), &buf)
        .unwrap_or_else(|e| fail(&format!("{e}")));
    let script = format!(
        "set -e\n\
         nft add table inet pyruse\n\
         nft add set inet pyruse ban4 '{{ type ipv4_addr; flags timeout; }}'\n\
         nft add set inet pyruse ban6 '{{ type ipv6_addr; flags timeout; }}'\n\
         date +%s.%N\n\
         {} --rules {} --directory {} --state-dir {} --exit-at-end 2>/dev/null\n\
         date +%s.%N\n\
         nft list set inet pyruse ban4 | grep -o '10\\.[0-9.]*' | wc -l\n",
        env!("CARGO_BIN_EXE_pyrused"),
        rules.display(),
        journal.display(),
        dir.join("state").display()
    );
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .output()
        .unwrap_or_else(|e| fail(&format!("unshare: {e}")));
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = text
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    match v.as_slice() {
        [t0, t1, n] if out.status.success() => println!(
            "\n{N} bans to nftables (unshare -n, real nft): {n} in the set, \
             {:.2} s from the start of pyrused to its exit",
            t1 - t0
        ),
        _ => println!(
            "\n{N} bans to nftables failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

// ---------------------------------------------------------------------------
// Measuring

struct Row {
    name: String,
    cpu: f64,
    wall: f64,
    anon_kb: u64,
    entries: usize,
    output: String,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
    notes: Vec<(usize, String)>,
}

impl Table {
    /// Run `cmd` to its end, measuring it; returns the row's index.
    fn run(&mut self, name: &str, cmd: &mut Command, entries: usize) -> usize {
        eprintln!("running: {name}");
        let before = children_cpu();
        let t = Instant::now();
        let output_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("end_to_end/last-output");
        let out = std::fs::File::create(&output_path).unwrap_or_else(|e| fail(&format!("{e}")));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| fail(&format!("{name}: {e}")));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (pid, stop) = (child.id(), stop.clone());
            std::thread::spawn(move || {
                let mut peak = 0;
                while !stop.load(Ordering::Relaxed) {
                    peak = peak.max(rss_anon_kb(pid).unwrap_or(0));
                    std::thread::sleep(Duration::from_millis(10));
                }
                peak
            })
        };
        let res = child.wait_with_output();
        let wall = t.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let anon_kb = sampler.join().unwrap_or(0);
        let cpu = children_cpu() - before;
        let out = res.unwrap_or_else(|e| fail(&format!("{name}: {e}")));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            fail(&format!("{name}: {}\n{stderr}", out.status));
        }
        let output = trace_summary(&output_path);
        let last = stderr.lines().last().unwrap_or("").to_owned();
        self.rows.push(Row {
            name: name.to_owned(),
            cpu,
            wall,
            anon_kb,
            entries,
            output: if output.is_empty() { last } else { output },
        });
        self.rows.len() - 1
    }

    fn note(&mut self, text: &str) {
        self.notes.push((self.rows.len() - 1, text.to_owned()));
    }

    /// The table, with each row's CPU time over the `base` row's in the
    /// last column (headed `ratio`).
    fn print(&self, base: usize, ratio: &str) {
        let base = self.rows[base].cpu.max(1e-9);
        println!();
        println!(
            "| {:<44} | {:>7} | {:>7} | {:>11} | {:>8} | {:>7} |",
            "run", "CPU s", "wall s", "entries/s", "anon MB", ratio
        );
        println!(
            "|{:-<46}|{:->9}|{:->9}|{:->13}|{:->10}|{:->9}|",
            "", "", "", "", "", ""
        );
        for r in &self.rows {
            println!(
                "| {:<44} | {:>7.2} | {:>7.2} | {:>11.0} | {:>8.1} | {:>7.2} |",
                r.name,
                r.cpu,
                r.wall,
                r.entries as f64 / r.cpu.max(1e-9),
                r.anon_kb as f64 / 1024.0,
                r.cpu / base
            );
        }
        println!();
        println!("entries/s: entries over CPU seconds (user + system).");
        for (i, r) in self.rows.iter().enumerate() {
            if !r.output.is_empty() {
                println!("{}: {}", r.name, r.output);
            }
            for (_, n) in self.notes.iter().filter(|(at, _)| *at == i) {
                println!("    {n}");
            }
        }
    }
}

/// User + system CPU seconds of the children waited for so far
/// (`/proc/self/stat`, fields cutime and cstime, in clock ticks of 1/100 s).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); cutime is field 16, cstime 17.
    let tick = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(16) + tick(17)) / 100.0
}

fn rss_anon_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("RssAnon:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Effect lines by kind, from a trace.
fn trace_summary(path: &Path) -> String {
    let Ok(f) = std::fs::File::open(path) else {
        return String::new();
    };
    use std::io::BufRead;
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
        let Some(i) = line.find("\"effect\":\"") else {
            continue;
        };
        let rest = &line[i + 10..];
        let kind = rest.split('"').next().unwrap_or("");
        *kinds.entry(kind.to_owned()).or_default() += 1;
    }
    kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}
