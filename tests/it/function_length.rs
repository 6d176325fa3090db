//! No production function runs over 80 lines, so that each can be held in
//! mind; the few exceptions are named here with their reason.

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 80;

/// Functions allowed to be longer, with why.
const EXCEPTIONS: &[(&str, &str)] = &[(
    "src/syntax/pyr/errors.rs:expected_name",
    "one arm per grammar rule: splitting it would lose the compiler's check that every rule has a name",
)];

/// Blank out string literals, character literals and comments, keeping
/// newlines, so that braces can be counted.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |s: &[u8], out: &mut String| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        let prev_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let end = if rest.starts_with(b"//") {
            rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len())
        } else if rest[0] == b'r' && !prev_ident && matches!(rest.get(1), Some(b'"' | b'#')) {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(1 + hashes) == Some(&b'"') {
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                let body = 2 + hashes;
                rest[body..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(rest.len(), |p| body + p + close.len())
            } else {
                1
            }
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(rest.len())
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '\u{..}'), not a lifetime.
            match rest.iter().skip(1).take(12).position(|&c| c == b'\'') {
                Some(p) if rest[1] == b'\\' || p == 1 || !rest[1].is_ascii() => p + 2,
                _ => 1,
            }
        } else {
            out.push(rest[0] as char);
            i += 1;
            continue;
        };
        blank(&rest[..end], &mut out);
        i += end;
    }
    out
}

/// (name, first line, length in lines) of each function before the file's
/// test module.
fn functions(src: &str) -> Vec<(String, usize, usize)> {
    let code = code_only(src);
    let lines: Vec<&str> = code.lines().collect();
    let stop = lines
        .iter()
        .position(|l| l.trim_start().starts_with("#[cfg(test)]"))
        .unwrap_or(lines.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < stop {
        let words: Vec<&str> = lines[i].split_whitespace().collect();
        let at = words.iter().position(|w| *w == "fn");
        let Some(name) = at.and_then(|a| words.get(a + 1)) else {
            i += 1;
            continue;
        };
        let name: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let (mut depth, mut opened, mut j) = (0i32, false, i);
        while j < stop {
            for c in lines[j].chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth <= 0) || (!opened && lines[j].trim_end().ends_with(';')) {
                break;
            }
            j += 1;
        }
        if opened {
            out.push((name, i + 1, j - i + 1));
        }
        i = j + 1;
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs")
            && p.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(p);
        }
    }
}

#[test]
fn no_production_function_is_over_80_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut long = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("source is readable");
        let rel = f.strip_prefix(root).unwrap_or(f).display().to_string();
        for (name, line, len) in functions(&src) {
            let key = format!("{rel}:{name}");
            if len > MAX_LINES && !EXCEPTIONS.iter().any(|(k, _)| *k == key) {
                long.push(format!("{rel}:{line}: fn {name} is {len} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these along their seams (or name them in EXCEPTIONS with a reason):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_counter_sees_braces_in_code_only() {
    let src = r#####"
fn a() {
    let s = "}}}";
    let r = r#"{{"#;
    let c = '{';
    // }
    let l: &'static str = "x";
}
fn b<'x>(v: &'x str) -> &'x str { v }
"#####;
    let f = functions(src);
    assert_eq!(
        f,
        vec![("a".to_owned(), 2, 7), ("b".to_owned(), 9, 1)],
        "{}",
        code_only(src)
    );
}
