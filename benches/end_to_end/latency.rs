//! Write-to-effect latency on a live `systemd-journald`, side by side with
//! `journalctl -f` on the same writes.
//!
//! A private journald runs in its own mount namespace (tmpfs on
//! `/run/systemd` and `/run/log`). `pyrused --dry-run` follows it with a
//! rule that turns each `ping N` line into an effect, and `journalctl -f`
//! follows it too; `systemd-cat` writes the lines at irregular intervals.
//! For each line, the time from the write to its effect line on pyrused's
//! standard output, and to its line on journalctl's.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const LINES: usize = 300;
const JOURNALD: &str = "/lib/systemd/systemd-journald";

/// A child killed (and its process group reaped) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Kills the process whose pid the file holds, when dropped.
struct KillPidFile(std::path::PathBuf);

impl Drop for KillPidFile {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// Spawn `cmd` inside the mount namespace of `pid`.
fn in_namespace(pid: u32, cmd: &[&str], stdin: bool) -> Option<Killed> {
    let child = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-m", "--"])
        .args(cmd)
        .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(Killed(child))
}

/// Send, for each line of `child`'s output holding `marker N`, the pair
/// (N, time it was read).
fn watch(child: &mut Killed, marker: &'static str, tx: mpsc::Sender<(usize, Instant)>) {
    let Some(out) = child.0.stdout.take() else {
        return;
    };
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let now = Instant::now();
            let Some(rest) = line.split(marker).nth(1) else {
                continue;
            };
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                if tx.send((n, now)).is_err() {
                    break;
                }
            }
        }
    });
}

/// Measure and print the latencies; skipped without root or journald.
pub fn run(work: &Path) {
    if !crate::is_root() || !Path::new(JOURNALD).exists() {
        println!("\nlatency: skipped (needs root and {JOURNALD})");
        return;
    }
    match measure(work) {
        Ok((pyrused, journalctl)) => print(&pyrused, &journalctl),
        Err(e) => println!("\nlatency: not measured: {e}"),
    }
}

type Lat = Vec<Option<Duration>>;

fn measure(work: &Path) -> Result<(Lat, Lat), String> {
    let dir = work.join("latency");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let rules = dir.join("rules.pyr");
    std::fs::write(
        &rules,
        "chain \"Latency\" {\n    SYSLOG_IDENTIFIER == \"latency\"\n    \
         MESSAGE =~ /^ping (?P<n>[0-9]+)$/\n    \
         email(subject: \"pong\", message: \"pong {n}\")\n}\n",
    )
    .map_err(|e| e.to_string())?;
    // journald outlives the shell that starts it: killed by its pid.
    let pidfile = dir.join("journald.pid");
    let _journald = KillPidFile(pidfile.clone());
    let script = format!(
        "set -e\n\
         mount -t tmpfs tmpfs /run/systemd\n\
         mount -t tmpfs tmpfs /run/log\n\
         mkdir -p /run/systemd/journal\n\
         {JOURNALD} >/dev/null 2>&1 &\n\
         echo $! > {pidfile}\n\
         for i in $(seq 100); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.05; done\n\
         echo ready\n\
         wait\n",
        pidfile = pidfile.display()
    );
    let mut ns = Killed(
        Command::new("unshare")
            .args([
                "-m",
                "--propagation",
                "private",
                "--kill-child",
                "sh",
                "-c",
                &script,
            ])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("unshare: {e}"))?,
    );
    let mut ready = String::new();
    if let Some(out) = ns.0.stdout.take() {
        BufReader::new(out)
            .read_line(&mut ready)
            .map_err(|e| e.to_string())?;
    }
    if ready.trim() != "ready" {
        return Err("journald did not start".into());
    }
    let pid = ns.0.id();
    let state = dir.join("state");
    let (tx_d, rx_d) = mpsc::channel();
    let (tx_j, rx_j) = mpsc::channel();
    let rules_arg = rules.display().to_string();
    let state_arg = state.display().to_string();
    let mut daemon = in_namespace(
        pid,
        &[
            env!("CARGO_BIN_EXE_pyrused"),
            "--rules",
            &rules_arg,
            "--dry-run",
            "--state-dir",
            &state_arg,
        ],
        false,
    )
    .ok_or("pyrused did not start")?;
    let mut follow = in_namespace(
        pid,
        &["journalctl", "-f", "-n", "0", "-o", "cat", "-t", "latency"],
        false,
    )
    .ok_or("journalctl did not start")?;
    watch(&mut daemon, "pong ", tx_d);
    watch(&mut follow, "ping ", tx_j);
    // Both readers set up before the first write.
    std::thread::sleep(Duration::from_secs(2));
    let mut cat =
        in_namespace(pid, &["systemd-cat", "-t", "latency"], true).ok_or("systemd-cat")?;
    let mut input = cat.0.stdin.take().ok_or("systemd-cat stdin")?;
    let mut sent = Vec::with_capacity(LINES);
    let mut rng = crate::testing::Rng(0x1a7e_2026);
    for i in 0..LINES {
        sent.push(Instant::now());
        writeln!(input, "ping {i}").map_err(|e| e.to_string())?;
        input.flush().map_err(|e| e.to_string())?;
        // 10 to 150 ms between lines: not in step with any timer.
        std::thread::sleep(Duration::from_millis(10 + rng.below(140) as u64));
    }
    drop(input);
    let deadline = Instant::now() + Duration::from_secs(5);
    let collect = |rx: &mpsc::Receiver<(usize, Instant)>| {
        let mut got = vec![None; LINES];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok((n, t)) if n < LINES => got[n] = Some(t.saturating_duration_since(sent[n])),
                Ok(_) => {}
                Err(_) => break,
            }
            if got.iter().all(Option::is_some) {
                break;
            }
        }
        got
    };
    let d = collect(&rx_d);
    let j = collect(&rx_j);
    drop(cat);
    drop(follow);
    drop(daemon);
    drop(ns);
    Ok((d, j))
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn print(pyrused: &Lat, journalctl: &Lat) {
    println!(
        "\nwrite-to-effect latency on a live journald, {LINES} lines written by systemd-cat 10-150 ms apart:"
    );
    println!("| reader | seen | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    for (name, lat) in [
        ("pyrused --dry-run (effect line)", pyrused),
        ("journalctl -f (the line)", journalctl),
    ] {
        let mut seen: Vec<Duration> = lat.iter().flatten().copied().collect();
        seen.sort();
        let ms = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1000.0);
        println!(
            "| {name} | {}/{LINES} | {} | {} | {} | {} |",
            seen.len(),
            ms(pct(&seen, 0.5)),
            ms(pct(&seen, 0.9)),
            ms(pct(&seen, 0.99)),
            ms(seen.last().copied().unwrap_or_default()),
        );
    }
    let ahead = pyrused
        .iter()
        .zip(journalctl)
        .filter(|(d, j)| matches!((d, j), (Some(d), Some(j)) if d <= j))
        .count();
    println!("pyrused's effect came no later than journalctl's line for {ahead} of {LINES} lines");
}
