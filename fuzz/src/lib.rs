//! What the fuzz targets share and build once per process: the programs
//! compiled from fixed rules, and a fixed user database.
//!
//! Nothing here depends on the input: each target calls these on every
//! execution and gets the values built by the first call (`OnceLock`).

use pyruse::builtins::user_exists::{PasswdFile, UserDb};
use pyruse::vm::{Machine, Program};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A file or folder of the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Load, check and compile fixed rules; they must compile.
pub fn compile(rel: &str) -> Program {
    let path = repo(rel);
    let (rules, diags) = pyruse::syntax::load(&path);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        panic!("{}: {d:?}", path.display());
    }
    let checked = pyruse::compile::build(rules);
    checked
        .program
        .unwrap_or_else(|| panic!("{} does not compile", path.display()))
}

/// The shipped rule library (`rules/`, native `.pyr`) and the legacy
/// compatibility configuration (`semantics.json`, Python Pyruse's
/// behaviour), compiled once.
pub fn programs() -> &'static [Program] {
    static PROGRAMS: OnceLock<Vec<Program>> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        vec![
            compile("rules"),
            compile("tests/data/compat/configs/semantics.json"),
        ]
    })
}

/// The users of `tests/data/passwd`: `userExists` gives the same answer on
/// every machine.
pub struct FixedUsers(&'static PasswdFile);

impl UserDb for FixedUsers {
    fn exists(&self, name: &str) -> bool {
        self.0.exists(name)
    }
}

pub fn users() -> FixedUsers {
    static USERS: OnceLock<PasswdFile> = OnceLock::new();
    FixedUsers(USERS.get_or_init(|| {
        let text = std::fs::read_to_string(repo("tests/data/passwd")).expect("tests/data/passwd");
        PasswdFile::parse(&text)
    }))
}

/// A fresh machine (empty counters, DNAT table and sessions) for a program,
/// in UTC, with the fixed users.
pub fn machine(program: &Program) -> Machine<'_> {
    Machine::new(program, jiff::tz::TimeZone::UTC, Box::new(users()))
}
