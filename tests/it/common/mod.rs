//! Helpers shared by the integration tests: run the real binaries, read the
//! compatibility data, compare effect traces entry by entry.
#![allow(dead_code)]

pub mod smtp;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// The text of a data file, gunzipped when it ends in `.gz`.
pub fn read_data(rel: &str) -> String {
    let p = data(rel);
    if p.exists() {
        return std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
    let gz = data(&format!("{rel}.gz"));
    let f = std::fs::File::open(&gz).unwrap_or_else(|e| panic!("{}: {e}", gz.display()));
    let mut s = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap_or_else(|e| panic!("{}: {e}", gz.display()));
    s
}

/// Run `pyrusec` with arguments and optional standard input (TZ=UTC).
pub fn pyrusec(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pyrusec"));
    cmd.args(args)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("pyrusec runs");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut sin = child.stdin.take().expect("stdin");
        let input = input.to_owned();
        std::thread::spawn(move || {
            let _ = sin.write_all(input.as_bytes());
        });
    }
    child.wait_with_output().expect("pyrusec finishes")
}

/// Effect lines grouped by entry, without `rule` and `cursor`.
pub fn by_entry(trace: &str) -> BTreeMap<u64, Vec<Value>> {
    let mut m: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for line in trace.lines().filter(|l| !l.trim().is_empty()) {
        let mut v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad trace line {line:?}: {e}"));
        let obj = v.as_object_mut().expect("trace lines are objects");
        obj.remove("rule");
        obj.remove("cursor");
        let entry = obj["entry"].as_u64().expect("entry is a number");
        m.entry(entry).or_default().push(v);
    }
    m
}

/// Compare two traces entry by entry, skipping the given entries; returns
/// a readable list of the first differences.
pub fn diff_traces(expected: &str, actual: &str, skipped: &[u64]) -> Vec<String> {
    let e = by_entry(expected);
    let a = by_entry(actual);
    let mut keys: Vec<u64> = e.keys().chain(a.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let empty = Vec::new();
    keys.into_iter()
        .filter(|k| !skipped.contains(k))
        .filter_map(|k| {
            let (x, y) = (e.get(&k).unwrap_or(&empty), a.get(&k).unwrap_or(&empty));
            (x != y).then(|| format!("entry {k}:\n  expected {x:?}\n  actual   {y:?}"))
        })
        .collect()
}

pub fn skipped(rel: &str) -> Vec<u64> {
    read_data(rel)
        .split_whitespace()
        .map(|n| n.parse().expect("skipped entries are numbers"))
        .collect()
}

/// Convert `journalctl -o json` lines to the journal export format, which
/// `systemd-journal-remote` turns into a journal file. A field given as an
/// array of strings is repeated; an array of numbers is raw bytes.
pub fn json_to_export(lines: &str) -> Vec<u8> {
    use pyruse::journal::export;
    fn as_bytes(v: &Value) -> Option<Vec<u8>> {
        match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Array(items) if items.iter().all(Value::is_number) => Some(
                items
                    .iter()
                    .filter_map(|i| i.as_u64().map(|b| b as u8))
                    .collect(),
            ),
            Value::Number(n) => Some(n.to_string().into_bytes()),
            _ => None,
        }
    }
    let mut out = Vec::new();
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("entry lines are JSON");
        let Some(obj) = v.as_object() else { continue };
        for (k, v) in obj.iter().filter(|(k, _)| *k != "__CURSOR") {
            let values = match v {
                Value::Array(items) if !items.iter().all(Value::is_number) => items.clone(),
                other => vec![other.clone()],
            };
            for b in values.iter().filter_map(as_bytes) {
                export::field(&mut out, k, &b);
            }
        }
        export::end_entry(&mut out);
    }
    out
}

pub use pyruse::journal::export::JOURNAL_REMOTE;

/// Write a journal file from `journalctl -o json` lines.
pub fn make_journal(lines: &str, path: &Path) {
    pyruse::journal::export::write_journal(path, &json_to_export(lines))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Run `pyrused` with arguments (TZ=UTC), waiting for it.
pub fn pyrused(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyrused"))
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("pyrused runs")
}

/// Effect lines grouped by cursor, keeping for each cursor the effects of
/// its last appearance (entries processed again after a crash replace
/// those of the interrupted run), in first-appearance order.
pub fn by_cursor_last(traces: &[String]) -> Vec<(String, Vec<Value>)> {
    let mut order: Vec<String> = Vec::new();
    let mut map: std::collections::HashMap<String, Vec<Value>> = std::collections::HashMap::new();
    for t in traces {
        let mut this_run: std::collections::HashMap<String, Vec<Value>> =
            std::collections::HashMap::new();
        let mut seen_order = Vec::new();
        for line in t.lines() {
            let Ok(mut v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let Some(obj) = v.as_object_mut() else {
                continue;
            };
            let Some(c) = obj
                .remove("cursor")
                .and_then(|c| c.as_str().map(str::to_owned))
            else {
                continue;
            };
            obj.remove("rule");
            obj.remove("entry");
            if !this_run.contains_key(&c) {
                seen_order.push(c.clone());
            }
            this_run.entry(c).or_default().push(v);
        }
        for c in seen_order {
            if !map.contains_key(&c) {
                order.push(c.clone());
            }
            map.insert(c.clone(), this_run.remove(&c).unwrap_or_default());
        }
    }
    order
        .into_iter()
        .map(|c| {
            let v = map.remove(&c).unwrap_or_default();
            (c, v)
        })
        .collect()
}

/// Whether a test that needs root and these programs can run. In CI they
/// must be there (the test fails); elsewhere the test is skipped with a
/// note. A program is a path, or a command that answers `--version`.
pub fn can_run(test: &str, programs: &[&str]) -> bool {
    let present = |p: &&str| {
        Path::new(p).is_absolute() && Path::new(p).exists()
            || Command::new(p).arg("--version").output().is_ok()
    };
    if is_root() && programs.iter().all(present) {
        return true;
    }
    let needs = format!("root and {}", programs.join(", "));
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs {needs} in CI"
    );
    eprintln!("skipping {test}: needs {needs}");
    false
}

/// Whether the tests run as root (needed for namespaces and journal files).
pub fn is_root() -> bool {
    proc_status("self", "Uid:").is_some_and(|uid| uid == "0")
}

/// The first value of a `/proc/PID/status` line (`"Uid:"`, `"RssAnon:"`).
pub fn proc_status(pid: &str, key: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1).map(str::to_owned)
}

/// Parse a message with Python's email package: headers, defects, parts.
pub fn parse_mime(path: &Path) -> Value {
    let code = r#"
import email, json, sys
from email import policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
parts = []
for p in (m.walk() if m.is_multipart() else [m]):
    if p.is_multipart():
        continue
    parts.append({"type": p.get_content_type(), "charset": p.get_content_charset(),
                  "cte": p.get("Content-Transfer-Encoding"), "body": p.get_content()})
raw = open(sys.argv[1], 'rb').read()
print(json.dumps({"from": str(m["From"]), "to": str(m["To"]), "subject": str(m["Subject"]),
    "type": m.get_content_type(), "date": str(m["Date"]), "message_id": str(m["Message-ID"]),
    "parts": parts, "longest_line": max(len(l) for l in raw.split(b"\n")),
    "defects": [type(d).__name__ for d in m.defects]}))
"#;
    let out = Command::new("python3")
        .args(["-c", code, &path.display().to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The lines a child writes, as they come, through a channel.
pub fn spawn_lines<R: std::io::Read + Send + 'static>(r: R) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// A child process that is killed and reaped when dropped, so that a test
/// that fails half-way leaves no daemon running behind it.
pub struct Reaped(Option<std::process::Child>);

impl Reaped {
    pub fn spawn(cmd: &mut Command) -> Self {
        Reaped(Some(cmd.spawn().expect("the command starts")))
    }

    /// Wait for the child and collect its output, as `Child::wait_with_output`.
    pub fn wait_with_output(mut self) -> Output {
        self.0
            .take()
            .expect("a child is held until dropped")
            .wait_with_output()
            .expect("the child finishes")
    }
}

impl std::ops::Deref for Reaped {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("a child is held until dropped")
    }
}

impl std::ops::DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.as_mut().expect("a child is held until dropped")
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// Kills, when dropped, the process whose pid a file holds (a process
/// started in the background by a test script, such as a journald).
pub struct KillPidFile(pub PathBuf);

impl Drop for KillPidFile {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// The generator of the unit tests (`src/testing.rs`), shared as a file.
#[path = "../../../src/testing.rs"]
mod testing;
pub use testing::Rng;
