//! Front ends: `.pyr` files and legacy `pyruse.json`, both to one AST.

pub mod ast;
pub mod json;
pub mod legacy;
pub mod notation;
pub mod params;
pub mod pyr;

use crate::diag::{Code, Diagnostic};
use ast::RuleSet;
use std::path::Path;

/// Whether a rule file is legacy JSON: named `*.json`, or holding an
/// object (its first character other than whitespace is `{`, which no
/// `.pyr` file starts with), whatever its name: a `pyruse.json` renamed
/// `pyruse.pyr` still loads.
pub fn is_json(path: &Path, text: &str) -> bool {
    path.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{')
}

/// Load rules from a `.pyr` file, a directory of `.pyr` files, or a legacy
/// JSON file.
pub fn load(path: &Path) -> (RuleSet, Vec<Diagnostic>) {
    load_with(path, false)
}

/// [`load`], with the library's parameters at their defaults (overrides
/// checked, not applied; `SERVICE.enabled` applied): what the examples of
/// the library are written for.
pub fn load_as_shipped(path: &Path) -> (RuleSet, Vec<Diagnostic>) {
    load_with(path, true)
}

fn load_with(path: &Path, defaults: bool) -> (RuleSet, Vec<Diagnostic>) {
    let mut rules = RuleSet::default();
    let mut diags = Vec::new();
    if path.is_dir() {
        pyr::load_path(path, &mut rules, &mut diags);
        params::resolve_with(&mut rules, &mut diags, defaults);
        return (rules, diags);
    }
    match std::fs::read(path) {
        Err(e) => diags.push(
            Diagnostic::bare(Code::Io, format!("cannot read {}: {e}", path.display()))
                .with_help("check the path and its permissions"),
        ),
        Ok(bytes) => match String::from_utf8(bytes) {
            Err(e) => diags.push(
                Diagnostic::bare(
                    Code::Io,
                    format!(
                        "{} is not valid UTF-8 (byte {})",
                        path.display(),
                        e.utf8_error().valid_up_to()
                    ),
                )
                .with_help("rule files are UTF-8 text"),
            ),
            Ok(text) => {
                if is_json(path, &text) {
                    legacy::load(
                        path.display().to_string(),
                        text.into(),
                        &mut rules,
                        &mut diags,
                    );
                } else {
                    pyr::load_path(path, &mut rules, &mut diags);
                }
            }
        },
    }
    params::resolve_with(&mut rules, &mut diags, defaults);
    (rules, diags)
}

/// Load rules from text (tests, fuzzing): JSON when `name` ends in `.json`.
pub fn load_str(name: &str, text: &str) -> (RuleSet, Vec<Diagnostic>) {
    let mut rules = RuleSet::default();
    let mut diags = Vec::new();
    if name.ends_with(".json") {
        legacy::load(name.to_owned(), text.into(), &mut rules, &mut diags);
    } else {
        pyr::load_str(name, text, &mut rules, &mut diags);
    }
    params::resolve(&mut rules, &mut diags);
    (rules, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_json_is_known_by_name_or_by_content() {
        let json = "\n  { \"actions\": {} }";
        assert!(is_json(Path::new("pyruse.json"), ""));
        assert!(is_json(Path::new("pyruse.json"), "chain \"x\" {}"));
        assert!(is_json(Path::new("pyruse.pyr"), json));
        assert!(is_json(Path::new("rules"), json));
        assert!(!is_json(Path::new("pyruse.pyr"), "# {\nchain \"x\" {}"));
        assert!(!is_json(Path::new("rules"), ""));
    }
}
