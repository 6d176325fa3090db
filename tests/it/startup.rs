//! What `pyrused` says at start when it has no rules to run or nothing to
//! read: every rules path it looked at and what is wrong with each, and
//! where it looked for journal files.

use crate::common::{can_run, data, make_journal, pyrused, JOURNAL_REMOTE};
use std::process::Command;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn missing_rules_given_with_rules_are_named_as_missing() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let missing = tmp.path().join("nowhere/rules.pyr");
    let out = pyrused(&[
        "--rules",
        missing.to_str().expect("UTF-8 path"),
        "--directory",
        tmp.path().to_str().expect("UTF-8 path"),
        "--state-dir",
        tmp.path().join("state").to_str().expect("UTF-8 path"),
        "--exit-at-end",
    ]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "the rules cannot run: {} is missing; not starting",
            missing.display()
        )),
        "{err}"
    );
    // No "does not check" for a file that is not there.
    assert!(!err.contains("does not check"), "{err}");
}

/// `pyrused` without `--rules`, in a private mount namespace whose /etc is
/// an empty tmpfs holding only what `setup` writes into /etc/pyruse.
fn default_rules_run(setup: &str) -> Option<String> {
    if !can_run("default_rules_run", &["unshare"]) {
        return None;
    }
    let tmp = tempfile::tempdir().expect("temporary directory");
    let script = format!(
        "mount -t tmpfs tmpfs /etc && mkdir /etc/pyruse && {setup} && \
         exec {pyrused} --directory {dir} --state-dir {dir}/state --exit-at-end",
        pyrused = env!("CARGO_BIN_EXE_pyrused"),
        dir = tmp.path().display(),
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env("TZ", "UTC")
        .output()
        .expect("unshare runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    Some(stderr_of(&out))
}

#[test]
fn without_rules_every_default_path_is_named_as_missing() {
    let Some(err) = default_rules_run("true") else {
        return;
    };
    assert!(
        err.contains(
            "no rules to run: /etc/pyruse/pyruse.pyr is missing, /etc/pyruse/rules.pyr is missing, \
             /etc/pyruse/rules.d is missing, /etc/pyruse/pyruse.json is missing"
        ),
        "{err}"
    );
    assert!(err.contains("--rules PATH"), "{err}");
    assert!(!err.contains("does not check"), "{err}");
}

#[test]
fn invalid_default_rules_are_named_with_the_paths_before_them() {
    let Some(err) = default_rules_run("echo 'chain \"x\" { nop() }' > /etc/pyruse/rules.pyr")
    else {
        return;
    };
    // The diagnostic, then which paths were looked at and why none runs.
    assert!(err.contains("unknown builtin `nop`"), "{err}");
    assert!(
        err.contains(
            "the rules cannot run: /etc/pyruse/pyruse.pyr is missing, \
             /etc/pyruse/rules.pyr does not check (see above); not starting"
        ),
        "{err}"
    );
    // The paths after the one that was chosen were not looked at.
    assert!(!err.contains("rules.d"), "{err}");
}

#[test]
fn an_empty_journal_directory_is_warned_about() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let rules = data("compat/configs/semantics.json");
    let empty = tmp.path().join("journal");
    std::fs::create_dir(&empty).expect("mkdir");
    let args = |dir: &std::path::Path| {
        vec![
            "--rules".to_owned(),
            rules.display().to_string(),
            "--directory".to_owned(),
            dir.display().to_string(),
            "--state-dir".to_owned(),
            tmp.path().join("state").display().to_string(),
            "--dry-run".to_owned(),
            "--exit-at-end".to_owned(),
        ]
    };
    let a = args(&empty);
    let out = pyrused(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "warning: nothing to read: no journal file (*.journal) in {}",
            empty.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "stopped after 0 entries: nothing was found to read in {}",
            empty.display()
        )),
        "{err}"
    );
    // With a journal file there, no such warning.
    if !can_run(
        "an_empty_journal_directory_is_warned_about",
        &[JOURNAL_REMOTE],
    ) {
        return;
    }
    make_journal(
        r#"{"__REALTIME_TIMESTAMP":"1700000000000000","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"hello"}"#,
        &empty.join("one.journal"),
    );
    let out = pyrused(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("nothing"), "{err}");
    assert!(err.contains("stopped after 1 entries"), "{err}");
}

#[test]
fn no_local_journal_is_warned_about() {
    if !can_run("no_local_journal_is_warned_about", &["unshare"]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("temporary directory");
    // Where journald keeps its files, empty in a private mount namespace.
    let script = format!(
        "mount -t tmpfs tmpfs /var/log && mount -t tmpfs tmpfs /run && \
         exec {pyrused} --rules {rules} --state-dir {dir}/state --dry-run --exit-at-end",
        pyrused = env!("CARGO_BIN_EXE_pyrused"),
        rules = data("compat/configs/semantics.json").display(),
        dir = tmp.path().display(),
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env("TZ", "UTC")
        .output()
        .expect("unshare runs");
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(
            "warning: nothing to read: no journal file (*.journal) in /var/log/journal nor \
             /run/log/journal: is systemd-journald running here?"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "stopped after 0 entries: nothing was found to read in /var/log/journal nor \
             /run/log/journal"
        ),
        "{err}"
    );
}
