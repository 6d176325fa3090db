//! Settings of a legacy `pyruse.json` written as nested objects
//! (`"email": {"smtp": {"host": …}}`) read as their dotted keys do.

use crate::common::smtp::SmtpSink;
use crate::common::{pyrusec, pyrused};
use std::path::Path;
use std::time::Duration;

const ACTIONS: &str = r#""actions": { "A": [ { "action": "action_noop", "args": {} } ] }"#;

fn nested(port: u16) -> String {
    format!(
        r#"{{
  "email": {{
    "from": "pyruse@example.org",
    "to": ["hostmaster@example.org"],
    "smtp": {{ "host": "127.0.0.1", "port": {port}, "security": "none" }}
  }},
  {ACTIONS}
}}
"#
    )
}

fn flat(port: u16) -> String {
    format!(
        r#"{{
  "email": {{ "from": "pyruse@example.org", "to": ["hostmaster@example.org"] }},
  "email.smtp.host": "127.0.0.1",
  "email.smtp.port": {port},
  "email.smtp.security": "none",
  {ACTIONS}
}}
"#
    )
}

fn config(dir: &Path, name: &str, text: &str) -> pyruse::config::Config {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("rules written");
    let out = pyrusec(&["check", path.to_str().expect("UTF-8 path")], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{name}: {err}");
    assert!(!err.contains('⚠'), "{name} checks without warnings: {err}");
    let (rules, diags) = pyruse::syntax::load(&path);
    assert!(diags.is_empty(), "{name}");
    pyruse::check::config_of(&rules)
}

#[test]
fn nested_and_dotted_smtp_settings_give_the_same_config() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let n = config(tmp.path(), "nested.json", &nested(2525));
    let f = config(tmp.path(), "flat.json", &flat(2525));
    let expected = pyruse::config::Smtp {
        host: "127.0.0.1".into(),
        port: Some(2525),
        security: "none".into(),
        user: None,
        password: None,
    };
    assert_eq!(n.smtp.as_ref(), Some(&expected));
    assert_eq!(f.smtp, n.smtp);
    assert_eq!(n.email_from, "pyruse@example.org");
    assert_eq!(n.email_to, ["hostmaster@example.org"]);
    assert_eq!((f.email_from, f.email_to), (n.email_from, n.email_to));
    // Both forms with the same value are one setting, not a conflict.
    let both = nested(2525).replacen('{', "{\n  \"email.smtp.port\": 2525,", 1);
    let b = config(tmp.path(), "both.json", &both);
    assert_eq!(b.smtp, Some(expected));
}

/// The report goes through the relay the nested settings name.
#[test]
fn a_nested_smtp_relay_receives_the_mail() {
    let sink = SmtpSink::start();
    let port = sink.config().port.expect("a port");
    let tmp = tempfile::tempdir().expect("temporary directory");
    let rules = tmp.path().join("pyruse.json");
    std::fs::write(&rules, nested(port)).expect("rules written");
    let rules = rules.to_str().expect("UTF-8 path");
    let state = tmp.path().join("state");
    let state = state.to_str().expect("UTF-8 path");
    let out = pyrused(&[
        "--rules",
        rules,
        "--json",
        "/dev/null",
        "--state-dir",
        state,
        "--exit-at-end",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pyrusec(
        &["report", "send", "--rules", rules, "--state-dir", state],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = sink.wait_for(1, Duration::from_secs(20));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "pyruse@example.org");
    assert_eq!(got[0].to, ["hostmaster@example.org"]);
}

#[test]
fn conflicting_nested_and_dotted_settings_are_an_error() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let path = tmp.path().join("pyruse.json");
    let text = nested(2525).replacen('{', "{\n  \"email.smtp.host\": \"relay.example.org\",", 1);
    std::fs::write(&path, &text).expect("rules written");
    let out = pyrusec(
        &[
            "check",
            "--format",
            "json",
            path.to_str().expect("UTF-8 path"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let d: serde_json::Value =
        serde_json::from_str(err.lines().next().expect("a diagnostic")).expect("JSON");
    assert_eq!(d["code"], "pyr::json::shape");
    assert!(
        d["message"].as_str().is_some_and(
            |m| m.starts_with("`email.smtp.host` is given twice with different values")
        ),
        "{d}"
    );
    // At the nested "host", which comes second.
    assert_eq!(
        (&d["span"]["line"], &d["span"]["column"]),
        (&6.into(), &15.into()),
        "{d}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
