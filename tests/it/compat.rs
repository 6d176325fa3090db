//! The effects the original Pyruse produced, reproduced by `pyrusec replay`
//! from the legacy JSON and from its migration to `.pyr`.

use crate::common::*;

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

/// Replay `entries` through `rules`, check the effects against Pyruse's,
/// and return the trace.
fn check_pair(config: &str, entries: &str, rules: &str, dir: &tempfile::TempDir) -> String {
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
    actual
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

/// The configurations of tests/data/compat/configs, by name.
fn configs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data("compat/configs"))
        .expect("compat configs")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// `path` as a `.pyr` string literal.
fn pyr_string(path: &str) -> String {
    format!("\"{}\"", path.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn pyr_including_legacy_json_replays_as_the_json_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    for config in configs() {
        let json = data(&format!("compat/configs/{config}.json"))
            .display()
            .to_string();
        let pyr = dir.path().join(format!("include-{config}.pyr"));
        std::fs::write(&pyr, format!("include {}\n", pyr_string(&json))).expect("write rules");
        let pyr = pyr.display().to_string();
        let pairs: Vec<&str> = PAIRS
            .iter()
            .filter(|(c, _)| *c == config)
            .map(|(_, e)| *e)
            .collect();
        assert!(!pairs.is_empty(), "{config}.json is replayed on no entries");
        for entries in pairs {
            let included = check_pair(&config, entries, &pyr, &dir);
            let alone = check_pair(&config, entries, &json, &dir);
            assert!(
                included == alone,
                "{config} on {entries}: the include does not replay as the JSON alone"
            );
        }
    }
}

#[test]
fn pyr_named_legacy_json_replays_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (config, entries) in PAIRS {
        let pyr = dir.path().join(format!("{config}.pyr"));
        std::fs::write(&pyr, read_data(&format!("compat/configs/{config}.json")))
            .expect("write rules");
        check_pair(config, entries, &pyr.display().to_string(), &dir);
    }
}

/// A `.pyr` rule set with chains of its own and a legacy JSON file included
/// before them: the JSON's chains act as they did alone, with Pyruse's
/// semantics (a literal email subject); what they leave goes on to the
/// `.pyr` chains, with native semantics.
#[test]
fn pyr_chains_and_included_legacy_json_both_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = data("compat/configs/dnat_doc.json").display().to_string();
    let pyr = dir.path().join("mixed.pyr");
    std::fs::write(
        &pyr,
        format!(
            "include {}\n\n\
             chain \"My app\" {{\n    \
                 SYSLOG_IDENTIFIER == \"myapp\"\n    \
                 email(subject: \"myapp on {{_HOSTNAME}}\", message: \"{{MESSAGE}}\")\n\
             }}\n",
            pyr_string(&json)
        ),
    )
    .expect("write rules");
    let pyr = pyr.display().to_string();
    let check = pyrusec(&["check", &pyr], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let legacy = read_data("compat/entries/dnat-doc.jsonl");
    let count = legacy.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    let mine = r#"{"_HOSTNAME": "web", "SYSLOG_IDENTIFIER": "myapp", "MESSAGE": "hello", "__REALTIME_TIMESTAMP": "1709337700000000"}"#;
    let input = dir.path().join("mixed.jsonl");
    std::fs::write(&input, format!("{}\n{mine}\n", legacy.trim_end())).expect("write entries");
    let passwd = data("passwd").display().to_string();
    let out = pyrusec(
        &[
            "replay",
            "--passwd",
            &passwd,
            &pyr,
            &input.display().to_string(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actual = String::from_utf8(out.stdout).expect("trace is UTF-8");
    let (theirs, ours): (Vec<&str>, Vec<&str>) = actual.lines().partition(|l| {
        serde_json::from_str::<serde_json::Value>(l)
            .ok()
            .and_then(|v| v["entry"].as_u64())
            .is_some_and(|e| e < count)
    });
    let expected = read_data("compat/expected/dnat_doc.dnat-doc.effects.jsonl");
    let skipped = skipped("compat/expected/dnat_doc.dnat-doc.skipped");
    let diffs = diff_traces(&expected, &theirs.join("\n"), &skipped);
    assert!(diffs.is_empty(), "{diffs:?}");
    let mine = by_entry(&ours.join("\n"));
    let effects = mine.get(&count).expect("the .pyr chain acts on its entry");
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0]["effect"], "email");
    assert_eq!(effects[0]["subject"], "myapp on web");
    assert_eq!(effects[0]["message"], "hello");
    assert_eq!(mine.len(), 1, "{mine:?}");
}
