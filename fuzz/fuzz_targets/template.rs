//! The message templates (Python `str.format_map`): any text parses to a
//! template or to a `TemplateError` whose range lies in the text, never a
//! panic; a template renders every kind of value, or fails with a
//! `RenderError` and writes nothing.
//!
//! The input is the template text. The first letter of a field name picks
//! its value from a fixed palette (`{s}` a text, `{i}` an int, `{t}` a
//! time…); a name that starts otherwise is a missing field. Each template
//! is rendered with both treatments of a missing field, in UTC and in a
//! zone with daylight saving time.
#![no_main]
use jiff::tz::TimeZone;
use libfuzzer_sys::fuzz_target;
use pyruse::python::format::{Missing, Template};
use pyruse::value::Value;
use std::sync::OnceLock;

const BOOT: [u8; 16] = [
    0x9e, 0xc1, 0xeb, 0x60, 0xc7, 0x2a, 0x20, 0x52, 0x86, 0xd6, 0x14, 0xfc, 0x42, 0x9e, 0xb4, 0xb9,
];

/// Value of a field, by the first letter of its name.
fn value(name: &str) -> Option<&'static Value> {
    static PALETTE: OnceLock<Vec<(char, Value)>> = OnceLock::new();
    let palette = PALETTE.get_or_init(|| {
        vec![
            (
                'a',
                Value::Str("Failed password for root from 203.0.113.7".into()),
            ),
            ('b', Value::Bool(true)),
            ('c', Value::Str("é☃\u{663}\0'\"\\\n".into())),
            ('d', Value::Delta(-86_400_000_001)),
            ('e', Value::Delta(i64::MIN)),
            ('f', Value::Float(-0.5)),
            ('g', Value::Float(f64::NAN)),
            ('h', Value::Float(1e300)),
            ('i', Value::Int(-1234)),
            ('j', Value::Int(i64::MIN)),
            ('k', Value::Int(i64::MAX)),
            (
                'l',
                Value::List(vec![Value::Str("'\"".into()), Value::None, Value::Int(3)]),
            ),
            ('m', Value::Monotonic(-1, BOOT)),
            ('n', Value::None),
            ('o', Value::Bool(false)),
            ('p', Value::Int(0)),
            ('q', Value::Float(0.0)),
            ('r', Value::Time(1_709_337_606_000_123)),
            ('s', Value::Str(String::new())),
            ('t', Value::Time(1_711_846_800_000_000)), // 2024-03-31 01:00 UTC, a DST change
            ('u', Value::Uuid(BOOT)),
            ('v', Value::Time(i64::MIN)),
            ('w', Value::Int(12)),
            ('x', Value::Bytes(vec![0, 39, 255, b'a'])),
            ('y', Value::Time(-62_135_596_800_000_000)), // year 1
            ('z', Value::Monotonic(123_456_789, BOOT)),
        ]
    });
    let first = name.chars().next()?;
    palette.iter().find(|(c, _)| *c == first).map(|(_, v)| v)
}

fn zones() -> &'static [TimeZone] {
    static ZONES: OnceLock<Vec<TimeZone>> = OnceLock::new();
    ZONES.get_or_init(|| {
        let paris =
            TimeZone::get("Europe/Paris").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(1)));
        vec![TimeZone::UTC, paris]
    })
}

fn char_range(text: &str, start: usize, end: usize) -> bool {
    start <= end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let template = match Template::parse(text) {
        Ok(t) => t,
        Err(e) => {
            assert!(
                char_range(text, e.start, e.end),
                "error range {}..{} in {text:?}",
                e.start,
                e.end
            );
            return;
        }
    };
    assert_eq!(template.fields().len(), template.field_ranges().len());
    for (name, &(s, e)) in template.fields().iter().zip(template.field_ranges()) {
        assert!(char_range(text, s, e), "field range {s}..{e} in {text:?}");
        assert_eq!(&text[s..e], name);
    }
    let values: Vec<Option<&Value>> = template.fields().iter().map(|n| value(n)).collect();
    for tz in zones() {
        for missing in [Missing::PythonNone, Missing::Empty] {
            let mut out = String::from("kept");
            if template
                .render(&|k| values.get(k).copied().flatten(), missing, tz, &mut out)
                .is_err()
            {
                assert_eq!(out, "kept", "a failed render wrote text");
            }
            if let Some(lit) = template.as_literal() {
                assert_eq!(out, format!("kept{lit}"));
            }
        }
    }
});
