//! Helpers shared by the integration tests: run the real binaries, read the
//! compatibility data, compare effect traces entry by entry.
#![allow(dead_code)]

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
