//! The README's set-up path holds together as a new user walks it, top to
//! bottom: the toolchain it names is the one the crate needs, nothing runs
//! `pyrusec` or `pyrused` before they are installed, the installed
//! binaries are stripped, and the caveat about mail under
//! `NoNewPrivileges` stands next to the installation of the unit.

use std::path::Path;

fn read(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The lines of the README's `sh` code blocks, with their line numbers.
fn shell_lines(readme: &str) -> Vec<(usize, &str)> {
    let mut in_sh = false;
    let mut out = Vec::new();
    for (i, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
        } else if in_sh {
            out.push((i + 1, line));
        }
    }
    out
}

#[test]
fn the_readme_names_the_toolchain_the_crate_needs() {
    let cargo = read("Cargo.toml");
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("Cargo.toml has a rust-version")
        .trim_matches('"');
    let readme = read("README.md");
    assert!(
        readme.contains(&format!("Pyruse needs Rust {version} or newer")),
        "the README must name rust-version {version}"
    );
    assert!(
        readme.contains("rustup"),
        "the README must say how to get it"
    );
}

#[test]
fn nothing_runs_the_programs_before_the_readme_installs_them() {
    let readme = read("README.md");
    let lines = shell_lines(&readme);
    let install = lines
        .iter()
        .position(|(_, l)| {
            l.starts_with("sudo install target/release/pyrused target/release/pyrusec")
        })
        .expect("the README installs the binaries");
    assert!(
        lines[..install]
            .iter()
            .any(|(_, l)| l.starts_with("cargo build --release")),
        "the binaries are built before they are installed"
    );
    let calls = |l: &str| {
        l.split(['|', ';', '&', '(', '$'])
            .map(|c| c.trim().trim_start_matches("sudo "))
            .any(|c| c.starts_with("pyrusec ") || c.starts_with("pyrused "))
    };
    for (n, l) in &lines[..install] {
        assert!(
            !calls(l),
            "README.md:{n} runs `{l}` before the binaries are installed"
        );
    }
}

#[test]
fn release_binaries_are_stripped() {
    let cargo = read("Cargo.toml");
    let release = cargo
        .split("[profile.release]")
        .nth(1)
        .and_then(|r| r.split("\n[").next())
        .expect("Cargo.toml has [profile.release]");
    assert!(
        release.lines().any(|l| l.trim() == "strip = true"),
        "[profile.release] strips symbols too: {release}"
    );
}

#[test]
fn the_mail_caveat_stands_next_to_the_unit_installation() {
    let readme = read("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let unit = lines
        .iter()
        .position(|l| l.starts_with("pyrused --unit | sudo tee"))
        .expect("the README installs the unit");
    let caveat = lines
        .iter()
        .position(|l| l.contains("cannot queue mail under `NoNewPrivileges`"))
        .expect("the README warns about sendmail under NoNewPrivileges");
    assert!(
        caveat > unit && caveat - unit < 15,
        "the caveat (line {}) belongs right after the unit's installation (line {})",
        caveat + 1,
        unit + 1
    );
}
