//! The module layers drawn in `src/lib.rs` hold: a module uses only modules
//! of lower layers, so there is no import cycle between top-level modules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers of the diagram in `src/lib.rs`, lowest first.
fn layers(lib: &str) -> Vec<Vec<String>> {
    let mut in_block = false;
    let mut seen_heading = false;
    let mut rows = Vec::new();
    for line in lib.lines() {
        let Some(text) = line.strip_prefix("//!") else {
            continue;
        };
        let text = text.trim_start();
        if text == "## Layers" {
            seen_heading = true;
        } else if seen_heading && text.starts_with("```") {
            if in_block {
                break;
            }
            in_block = true;
        } else if in_block {
            let names = text.split("  ").next().unwrap_or("");
            rows.push(names.split_whitespace().map(str::to_owned).collect());
        }
    }
    rows.reverse();
    rows
}

/// The top-level modules a piece of Rust code names with `crate::`,
/// leaving comments and test modules out.
fn uses(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in code.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.push(name);
                }
            } else {
                out.push(
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect(),
                );
            }
        }
    }
    out.retain(|n| !n.is_empty());
    out
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("source folder")
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            rust_files(&e, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs")
        && path.file_name().is_some_and(|n| n != "tests.rs")
    {
        out.push(path.to_owned());
    }
}

/// Every use of a module that is not below the user, as readable lines.
fn violations(rows: &[Vec<String>], code_of: &BTreeMap<String, String>) -> Vec<String> {
    let rank: BTreeMap<&str, usize> = rows
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().map(move |m| (m.as_str(), i)))
        .collect();
    let mut bad = Vec::new();
    for (module, code) in code_of {
        let Some(&own) = rank.get(module.as_str()) else {
            bad.push(format!("{module} is not in the layer diagram"));
            continue;
        };
        for used in uses(code) {
            if used == *module {
                continue;
            }
            match rank.get(used.as_str()) {
                None => bad.push(format!("{module} uses {used}, which is not in the diagram")),
                Some(&r) if r >= own => bad.push(format!(
                    "{module} (layer {own}) uses {used} (layer {r}): a layer may only use the layers below it"
                )),
                Some(_) => {}
            }
        }
    }
    bad.sort();
    bad.dedup();
    bad
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let rows = layers(&lib);
    assert!(rows.len() >= 5, "the layer diagram of src/lib.rs: {rows:?}");
    let declared: Vec<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_owned())
        .collect();
    let drawn: Vec<&String> = rows.iter().flatten().collect();
    for m in &declared {
        assert!(
            drawn.contains(&m),
            "module {m} is missing from the layer diagram"
        );
    }
    let mut code_of = BTreeMap::new();
    for m in &declared {
        let mut files = Vec::new();
        let dir = src.join(m);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{m}.rs")));
        }
        let mut code = String::new();
        for f in files {
            code.push_str(&std::fs::read_to_string(&f).expect("source file"));
            code.push('\n');
        }
        code_of.insert(m.clone(), code);
    }
    let bad = violations(&rows, &code_of);
    assert!(bad.is_empty(), "layer violations:\n{}", bad.join("\n"));
}

#[test]
fn the_check_sees_upward_uses_cycles_and_grouped_imports() {
    let rows = vec![
        vec!["low".to_owned()],
        vec!["mid".to_owned(), "side".to_owned()],
        vec!["high".to_owned()],
    ];
    let code = |s: &str| s.to_owned();
    let mut code_of = BTreeMap::new();
    code_of.insert("low".to_owned(), code("use crate::{mid::X, low::Y};\n"));
    code_of.insert(
        "mid".to_owned(),
        code("// crate::high in a comment\nfn f() { crate::side::g() }\n"),
    );
    code_of.insert(
        "side".to_owned(),
        code("use crate::low::A;\n#[cfg(test)]\nmod tests { use crate::high::B; }\n"),
    );
    code_of.insert(
        "high".to_owned(),
        code("use crate::mid::C;\nuse crate::low::D;\n"),
    );
    let bad = violations(&rows, &code_of);
    assert_eq!(
        bad,
        vec![
            "low (layer 0) uses mid (layer 1): a layer may only use the layers below it".to_owned(),
            "mid (layer 1) uses side (layer 1): a layer may only use the layers below it"
                .to_owned(),
        ]
    );
}
