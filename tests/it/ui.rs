//! Diagnostics as users see them: every file of tests/ui is checked with
//! `pyrusec check`, its output compared with the reviewed snapshot in
//! tests/snapshots/. Files named `warn_*` must check with warnings only
//! (exit 0); every other file must fail (exit 1) with the diagnostic code
//! its name announces.

use std::path::Path;

fn ui_files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/ui exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pyr") || n.ends_with(".json"))
        .collect();
    files.sort();
    files
}

#[test]
fn at_least_25_bad_rule_files_in_both_syntaxes() {
    let files = ui_files();
    let bad = |ext: &str| {
        files
            .iter()
            .filter(|f| f.ends_with(ext) && !f.starts_with("warn_"))
            .count()
    };
    assert!(bad(".pyr") + bad(".json") >= 25, "{files:?}");
    assert!(bad(".pyr") >= 10 && bad(".json") >= 10, "{files:?}");
}

#[test]
fn diagnostics_match_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    for name in ui_files() {
        let rel = format!("tests/ui/{name}");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pyrusec"))
            .current_dir(root)
            .args(["check", &rel])
            .env("NO_COLOR", "1")
            .output()
            .expect("pyrusec runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        if name.starts_with("warn_") {
            assert_eq!(
                code,
                Some(0),
                "{name} should check with warnings only:\n{stderr}"
            );
            assert!(stderr.contains('⚠'), "{name} should warn:\n{stderr}");
        } else {
            assert_eq!(code, Some(1), "{name} should fail to check:\n{stderr}");
            assert!(
                stderr.contains('×'),
                "{name} should report an error:\n{stderr}"
            );
            assert!(
                stderr.contains("help:"),
                "{name}: every error has a help line:\n{stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        insta::assert_snapshot!(name.replace('.', "_"), stderr);
    }
}

#[test]
fn json_diagnostics_carry_code_and_exact_place() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pyrusec"))
        .current_dir(root)
        .args([
            "check",
            "--format",
            "json",
            "tests/ui/dnat_doc_missing_brace.json",
        ])
        .output()
        .expect("pyrusec runs");
    assert_eq!(out.status.code(), Some(1));
    let line = String::from_utf8_lossy(&out.stderr);
    let d: serde_json::Value =
        serde_json::from_str(line.lines().next().expect("one line")).expect("JSON");
    assert_eq!(d["code"], "pyr::json::syntax");
    assert_eq!(d["severity"], "error");
    // The `}` that closes "args" belongs right after the `save` list.
    assert_eq!(d["span"]["line"], 28);
    assert_eq!(d["span"]["column"], 58);
    assert!(d["help"].as_str().is_some_and(|h| h.contains("insert `}`")));
}

#[test]
fn unreadable_file_is_a_usage_error() {
    let out = crate::common::pyrusec(&["check", "/nonexistent/rules.pyr"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn shipped_rules_check_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pyrusec"))
        .current_dir(root)
        .args(["check", "rules/"])
        .env("NO_COLOR", "1")
        .output()
        .expect("pyrusec runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains('⚠') && !stderr.contains('×'),
        "rules/ must check without warnings:\n{stderr}"
    );
}

#[test]
fn warnings_show_beside_errors() {
    let out = crate::common::pyrusec(
        &[
            "check",
            "--format",
            "json",
            &format!(
                "{}/tests/ui/unknown_builtin_beside_warnings.pyr",
                env!("CARGO_MANIFEST_DIR")
            ),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let found: Vec<(String, String, u64)> = stderr
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).expect("JSON");
            (
                d["severity"].as_str().unwrap_or("").to_owned(),
                d["code"].as_str().unwrap_or("").to_owned(),
                d["span"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("warning".into(), "pyr::lint::dropped_steps".into(), 5),
            ("error".into(), "pyr::check::unknown_builtin".into(), 9),
        ]
    );
}

/// A missing `}` in `.pyr` is put where the block's indentation ends, not
/// at the opening brace nor where the parser gave up.
#[test]
fn pyr_missing_brace_is_placed_by_indentation() {
    let cases = [
        // (file, line and column where `}` belongs, line of the `{`)
        ("syntax_missing_brace_inner.pyr", 5, 15, 4),
        ("syntax_missing_brace_at_end.pyr", 3, 36, 1),
        ("syntax_unclosed_chain.pyr", 4, 15, 3),
    ];
    for (file, line, column, open) in cases {
        let path = format!("{}/tests/ui/{file}", env!("CARGO_MANIFEST_DIR"));
        let out = crate::common::pyrusec(&["check", "--format", "json", &path], None);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let d: serde_json::Value =
            serde_json::from_str(stderr.lines().next().expect("one line")).expect("JSON");
        assert_eq!(d["code"], "pyr::syntax", "{file}");
        assert_eq!(
            (&d["span"]["line"], &d["span"]["column"]),
            (&line.into(), &column.into()),
            "{file}: {d}"
        );
        let help = d["help"].as_str().unwrap_or("");
        assert!(
            help.starts_with(&format!(
                "insert `}}` at the end of line {line} to close the `{{` of line {open}"
            )),
            "{file}: {help}"
        );
    }
}
