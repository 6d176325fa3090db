//! Every relative link of the Markdown files of the repository leads to a
//! file that exists, and every `#anchor` to a heading of its target; plain
//! `../file.md` references too.

use std::path::{Path, PathBuf};

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "corpus" && name != "artifacts"
            {
                markdown_files(&p, out);
            }
        } else if name.ends_with(".md") {
            out.push(p);
        }
    }
}

/// The anchor GitHub gives a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.push(slug(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn relative_links_lead_somewhere() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    markdown_files(root, &mut files);
    assert!(files.len() >= 5, "{files:?}");
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").expect("regex");
    let plain = regex::Regex::new(r"(?:^|[\s(])(\.\.?/[\w./-]+\.md)\b").expect("regex");
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let dir = file.parent().expect("a directory");
        let targets = link
            .captures_iter(&text)
            .chain(plain.captures_iter(&text))
            .map(|c| c[1].to_owned());
        for target in targets {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let dest = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            let rel = file.strip_prefix(root).unwrap_or(file).display();
            if !dest.exists() {
                broken.push(format!("{rel}: {target}: no such file"));
                continue;
            }
            if let (Some(a), true) = (anchor, dest.extension().is_some_and(|e| e == "md")) {
                let dest_text = std::fs::read_to_string(&dest).expect("readable");
                if !anchors(&dest_text).iter().any(|h| h == a) {
                    broken.push(format!("{rel}: {target}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
