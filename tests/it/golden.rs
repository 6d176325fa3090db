//! Golden outputs, reviewed by hand: the disassembly of the shipped rules
//! and the migration of the legacy configurations to `.pyr`.

use std::path::Path;

fn run_in_root(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pyrusec"))
        .current_dir(root)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("pyrusec runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn disassembly_of_shipped_rules() {
    let _g = settings().bind_to_scope();
    insta::assert_snapshot!("disasm_rules", run_in_root(&["disasm", "rules/"]));
}

#[test]
fn disassembly_shows_chain_copies_of_semantics_json() {
    let _g = settings().bind_to_scope();
    insta::assert_snapshot!(
        "disasm_semantics_json",
        run_in_root(&["disasm", "tests/data/compat/configs/semantics.json"])
    );
}

#[test]
fn migration_of_legacy_configs() {
    let _g = settings().bind_to_scope();
    for name in ["semantics", "dnat_ipset", "python_re", "dnat_doc"] {
        let out = run_in_root(&["migrate", &format!("tests/data/compat/configs/{name}.json")]);
        insta::assert_snapshot!(format!("migrate_{name}"), out);
    }
}
