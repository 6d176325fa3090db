//! Reading rule files: a file, the `*.pyr` files of a directory, and the
//! files that `include` names, with include cycles and depth checked.

use super::{parse_file, IncludeResolver, MAX_INCLUDE_DEPTH};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::RuleSet;
use crate::syntax::{is_json, legacy};
use std::path::{Path, PathBuf};

/// A file to load: its name (as shown), its key (canonical path, or name:
/// what include cycles are found by) and its text.
pub(super) struct ReadFile {
    pub name: String,
    pub key: String,
    pub text: Result<String, String>,
}

/// Where the text of included files comes from.
pub(super) trait Resolve {
    fn resolve(&mut self, from: &str, path: &str) -> Result<Vec<ReadFile>, String>;
}

pub(super) struct FsResolver;

impl Resolve for FsResolver {
    fn resolve(&mut self, from: &str, path: &str) -> Result<Vec<ReadFile>, String> {
        let written = Path::new(path);
        let full = if written.is_absolute() {
            written.to_path_buf()
        } else {
            Path::new(from)
                .parent()
                .map_or_else(|| written.to_path_buf(), |dir| dir.join(written))
        };
        read_path(&full)
    }
}

pub(super) struct FnResolver<'r, 'a>(pub &'r mut IncludeResolver<'a>);

impl Resolve for FnResolver<'_, '_> {
    fn resolve(&mut self, from: &str, path: &str) -> Result<Vec<ReadFile>, String> {
        (self.0)(from, path).map(|files| {
            files
                .into_iter()
                .map(|(name, text)| ReadFile {
                    key: name.clone(),
                    name,
                    text: Ok(text),
                })
                .collect()
        })
    }
}

pub(super) struct NoIncludes;

impl Resolve for NoIncludes {
    fn resolve(&mut self, _from: &str, path: &str) -> Result<Vec<ReadFile>, String> {
        Err(format!(
            "cannot include \"{path}\": includes are disabled here"
        ))
    }
}

/// A file, or the `*.pyr` files of a directory sorted by name.
pub(super) fn read_path(path: &Path) -> Result<Vec<ReadFile>, String> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if !meta.is_dir() {
        return Ok(vec![read_file(path.to_path_buf())]);
    }
    let entries =
        std::fs::read_dir(path).map_err(|e| format!("cannot read directory `{shown}`: {e}"))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read directory `{shown}`: {e}"))?;
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "pyr") && !p.is_dir() {
            files.push(p);
        }
    }
    files.sort_by(|a, b| {
        let a = a.file_name().unwrap_or_default().as_encoded_bytes();
        let b = b.file_name().unwrap_or_default().as_encoded_bytes();
        a.cmp(b)
    });
    Ok(files.into_iter().map(read_file).collect())
}

pub(super) fn read_file(path: PathBuf) -> ReadFile {
    let name = path.display().to_string();
    let key = std::fs::canonicalize(&path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| name.clone());
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            format!(
                "`{name}` is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        }),
        Err(e) => Err(format!("cannot read `{name}`: {e}")),
    };
    ReadFile { name, key, text }
}

/// One file of the include stack: its key (canonical path, or name) and
/// its name.
pub(super) type IncludeFrame = (String, String);

pub(super) fn include(
    path: &str,
    span: Span,
    from: &str,
    rules: &mut RuleSet,
    resolver: &mut dyn Resolve,
    stack: &mut Vec<IncludeFrame>,
    diags: &mut Vec<Diagnostic>,
) {
    if stack.len() >= MAX_INCLUDE_DEPTH {
        diags.push(
            Diagnostic::error(
                Code::IncludeCycle,
                span,
                format!("includes nest more than {MAX_INCLUDE_DEPTH} levels deep"),
            )
            .with_label("one include too many")
            .with_help("includes probably loop through paths that name the same files differently"),
        );
        return;
    }
    let files = match resolver.resolve(from, path) {
        Ok(files) => files,
        Err(e) => {
            diags.push(Diagnostic::error(Code::Io, span, e).with_label("included here"));
            return;
        }
    };
    for file in files {
        if let Some(pos) = stack.iter().position(|(k, _)| *k == file.key) {
            let mut cycle: Vec<String> =
                stack[pos..].iter().map(|(_, n)| format!("`{n}`")).collect();
            cycle.push(format!("`{}`", file.name));
            diags.push(
                Diagnostic::error(
                    Code::IncludeCycle,
                    span,
                    format!("include cycle: {}", cycle.join(" includes ")),
                )
                .with_label("includes a file that is already being loaded")
                .with_help("remove one of these includes"),
            );
            continue;
        }
        match file.text {
            Ok(text) => load_text(&file.name, &file.key, text, rules, resolver, stack, diags),
            Err(e) => diags.push(Diagnostic::error(Code::Io, span, e).with_label("included here")),
        }
    }
}

/// Loads the text of a file that was read or included: as legacy JSON, with
/// Pyruse's semantics, when it is one (see [`is_json`]), else as `.pyr`.
pub(super) fn load_text(
    name: &str,
    key: &str,
    text: String,
    rules: &mut RuleSet,
    resolver: &mut dyn Resolve,
    stack: &mut Vec<IncludeFrame>,
    diags: &mut Vec<Diagnostic>,
) {
    if is_json(Path::new(name), &text) {
        legacy::load(name.to_owned(), text.into(), rules, diags);
    } else {
        parse_file(name, key, &text, rules, resolver, stack, diags);
    }
}
