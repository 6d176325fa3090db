//! The `journalctl -o json` reader: any line is an entry or a `BadLine`,
//! never a panic; every field of an entry converts to a value the way
//! python-systemd does, and the value prints (`str`, `repr`).
//!
//! The program (built once) reads one field of each kind (text, MESSAGE,
//! int, UUID, time, monotonic, delta, bytes) plus the usual ones.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pyruse::journal::json_lines::JsonEntry;
use pyruse::python::format::{render_repr, render_str};
use pyruse::value::fields::{convert, FieldId};
use pyruse::vm::{EntrySource, Program, RawField};
use std::sync::OnceLock;

const RULES: &str = r#"chain "Every kind of field" {
    log(level: "INFO", message: "{MESSAGE!r} {SYSLOG_IDENTIFIER!r} {PRIORITY!r} {_PID!r} {_BOOT_ID!r} {MESSAGE_ID!r} {__REALTIME_TIMESTAMP!r} {_SOURCE_REALTIME_TIMESTAMP!r} {__MONOTONIC_TIMESTAMP!r} {_SOURCE_MONOTONIC_TIMESTAMP!r} {COREDUMP!r} {_HOSTNAME!r} {__CURSOR!r}")
}
"#;

fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let (rules, diags) = pyruse::syntax::load_str("fields.pyr", RULES);
        assert!(!diags.iter().any(|d| d.is_error()), "{diags:?}");
        pyruse::compile::build(rules).program.expect("compiles")
    })
}

fuzz_target!(
    // Build the program before the first input, outside its time limit.
    init: {
        program();
    },
    |data: &[u8]| {
    let program = program();
    let tz = jiff::tz::TimeZone::UTC;
    let mut entry = JsonEntry::new(program);
    let mut raw = RawField::default();
    for line in String::from_utf8_lossy(data).lines() {
        let is_object = matches!(
            serde_json::from_str::<serde_json::Value>(line),
            Ok(serde_json::Value::Object(_))
        );
        match entry.parse(line) {
            Ok(()) => assert!(is_object, "not an object, yet an entry: {line}"),
            Err(e) => {
                assert!(!is_object, "a JSON object refused: {}: {line}", e.0);
                continue;
            }
        }
        let _ = entry.realtime();
        let _ = entry.cursor();
        let boot = program.field("_BOOT_ID").and_then(|id| {
            raw.clear();
            entry.fetch(id, "_BOOT_ID", &mut raw);
            match raw.parts() {
                [one] => pyruse::value::fields::parse_uuid(one),
                _ => None,
            }
        });
        for (i, info) in program.fields.iter().enumerate() {
            raw.clear();
            entry.fetch(FieldId(i as u16), &info.name, &mut raw);
            let encoding = program.config.message_encoding;
            if let Some(value) = convert(info.kind, raw.parts(), encoding, boot) {
                let _ = render_str(&value, &tz);
                let _ = render_repr(&value, &tz);
            }
        }
    }
}
);
