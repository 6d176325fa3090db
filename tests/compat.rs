//! The effects the original Pyruse produced, reproduced by `pyrusec replay`
//! from the legacy JSON and from its migration to `.pyr`.

mod common;
use common::*;

/// (config, entries) pairs of tests/data/compat/expected.
const PAIRS: &[(&str, &str)] = &[
    ("semantics", "edge-cases"),
    ("semantics", "corpus-20k"),
    ("dnat_ipset", "edge-cases"),
    ("dnat_ipset", "corpus-20k"),
    ("python_re", "python-re"),
    ("dnat_doc", "dnat-doc"),
];

fn entries_file(dir: &tempfile::TempDir, name: &str) -> String {
    let p = dir.path().join(format!("{name}.jsonl"));
    std::fs::write(&p, read_data(&format!("compat/entries/{name}.jsonl"))).expect("write entries");
    p.display().to_string()
}

fn check_pair(config: &str, entries: &str, rules: &str, dir: &tempfile::TempDir) {
    let input = entries_file(dir, entries);
    let passwd = data("passwd").display().to_string();
    let out = pyrusec(&["replay", "--passwd", &passwd, rules, &input], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "replay of {rules} failed: {stderr}");
    let actual = String::from_utf8(out.stdout).expect("trace is UTF-8");
    let expected = read_data(&format!("compat/expected/{config}.{entries}.effects.jsonl"));
    let skipped = skipped(&format!("compat/expected/{config}.{entries}.skipped"));
    let diffs = diff_traces(&expected, &actual, &skipped);
    assert!(
        diffs.is_empty(),
        "{rules} on {entries}: {} entries differ; first ones:\n{}",
        diffs.len(),
        diffs.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn legacy_json_reproduces_pyruse_effects() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (config, entries) in PAIRS {
        let rules = data(&format!("compat/configs/{config}.json"))
            .display()
            .to_string();
        check_pair(config, entries, &rules, &dir);
    }
}

#[test]
fn migrated_pyr_reproduces_pyruse_effects() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (config, entries) in PAIRS {
        let json = data(&format!("compat/configs/{config}.json"))
            .display()
            .to_string();
        let out = pyrusec(&["migrate", &json], None);
        assert!(
            out.status.success(),
            "migrate {config}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pyr = dir.path().join(format!("{config}.pyr"));
        std::fs::write(&pyr, &out.stdout).expect("write migrated rules");
        let check = pyrusec(&["check", &pyr.display().to_string()], None);
        assert!(
            check.status.success(),
            "migrated {config} does not check:\n{}\n{}",
            String::from_utf8_lossy(&check.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        check_pair(config, entries, &pyr.display().to_string(), &dir);
    }
}
