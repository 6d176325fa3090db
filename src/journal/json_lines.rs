//! Entries as `journalctl -o json` lines.
//!
//! Values are strings; a value that is not valid UTF-8 is an array of byte
//! values; a repeated field is an array of such values; `null` is a field
//! too large for journalctl (without `--all`), taken as absent. Only the
//! fields the program uses are kept from each line: the others are read
//! over without being copied.

use crate::value::fields::FieldId;
use crate::vm::{EntrySource, Program, RawField};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as J;
use std::borrow::Cow;
use std::fmt;

/// One parsed line, holding the values of the program's fields.
pub struct JsonEntry<'p> {
    program: &'p Program,
    slots: Vec<Option<J>>,
    realtime: Option<i64>,
    cursor: Option<String>,
}

/// Why a line is not an entry.
#[derive(Debug)]
pub struct BadLine(pub String);

impl<'p> JsonEntry<'p> {
    pub fn new(program: &'p Program) -> JsonEntry<'p> {
        JsonEntry {
            program,
            slots: vec![None; program.fields.len()],
            realtime: None,
            cursor: None,
        }
    }

    /// Replace the current entry with the one on `line`.
    pub fn parse(&mut self, line: &str) -> Result<(), BadLine> {
        self.slots.iter_mut().for_each(|s| *s = None);
        self.realtime = None;
        self.cursor = None;
        let mut de = serde_json::Deserializer::from_str(line);
        let read = de.deserialize_map(Fields(self)).and_then(|()| de.end());
        read.map_err(|e| {
            // Nothing of a refused line stays.
            self.slots.iter_mut().for_each(|s| *s = None);
            self.realtime = None;
            self.cursor = None;
            match e.classify() {
                serde_json::error::Category::Data => BadLine("not a JSON object".into()),
                _ => BadLine(format!("not JSON: {e}")),
            }
        })
    }

    /// Keep one field of the line (a later one of the same name wins).
    fn keep(&mut self, key: &str, v: J) {
        match key {
            "__REALTIME_TIMESTAMP" => {
                self.realtime = match &v {
                    J::String(s) => s.trim().parse().ok(),
                    J::Number(n) => n.as_i64(),
                    _ => None,
                };
            }
            "__CURSOR" => {
                if let J::String(s) = &v {
                    self.cursor = Some(s.clone());
                }
            }
            _ => {}
        }
        if let Some(id) = self.program.field(key) {
            self.slots[usize::from(id.0)] = Some(v);
        }
    }

    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

/// Reads a line's object into a [`JsonEntry`]: the values of the fields
/// it keeps are parsed, the others skipped.
struct Fields<'e, 'p>(&'e mut JsonEntry<'p>);

impl<'de> Visitor<'de> for Fields<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(k)) = map.next_key()? {
            let kept = matches!(&*k, "__REALTIME_TIMESTAMP" | "__CURSOR")
                || self.0.program.field(&k).is_some();
            if kept {
                let v: J = map.next_value()?;
                self.0.keep(&k, v);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A key, borrowed from the line unless it holds escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

fn bytes_of(v: &J) -> Option<Vec<u8>> {
    match v {
        J::String(s) => Some(s.as_bytes().to_vec()),
        J::Number(n) => Some(n.to_string().into_bytes()),
        J::Bool(b) => Some(b.to_string().into_bytes()),
        J::Array(items) if items.iter().all(J::is_number) => items
            .iter()
            .map(|i| i.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect(),
        _ => None,
    }
}

impl EntrySource for JsonEntry<'_> {
    fn fetch(&mut self, id: FieldId, _name: &str, out: &mut RawField) {
        let Some(v) = self.slots.get(usize::from(id.0)).and_then(Option::as_ref) else {
            return;
        };
        match v {
            J::Null => {}
            J::Array(items) if !items.is_empty() && !items.iter().all(J::is_number) => {
                for b in items.iter().filter_map(bytes_of) {
                    out.push(&b);
                }
            }
            other => {
                if let Some(b) = bytes_of(other) {
                    out.push(&b);
                }
            }
        }
    }

    fn realtime(&self) -> Option<i64> {
        self.realtime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        let rules = r#"
chain "c" {
    MESSAGE == "x"
    noop()
}
"#;
        let (rules, diags) = crate::syntax::load_str("test.pyr", rules);
        assert!(diags.is_empty(), "{diags:?}");
        crate::compile::build(rules).program.expect("rules check")
    }

    fn message(e: &mut JsonEntry) -> Vec<Vec<u8>> {
        let id = e.program.field("MESSAGE").expect("MESSAGE is a field");
        let mut out = RawField::default();
        e.fetch(id, "MESSAGE", &mut out);
        out.parts().to_vec()
    }

    #[test]
    fn keeps_the_fields_used_and_reads_over_the_others() {
        let p = program();
        let mut e = JsonEntry::new(&p);
        let line = r#"{"OTHER":{"deep":[1,{"x":null}]},"MESSAGE":"hi","__REALTIME_TIMESTAMP":"1700000000000000","__CURSOR":"s=a;i=1","BIN":[1,2,3]}"#;
        e.parse(line).unwrap();
        assert_eq!(message(&mut e), vec![b"hi".to_vec()]);
        assert_eq!(e.realtime(), Some(1_700_000_000_000_000));
        assert_eq!(e.cursor(), Some("s=a;i=1"));
        // A key written with escapes; a repeated key: the last wins.
        e.parse(r#"{"MESS\u0041GE":"first","MESSAGE":"second"}"#)
            .unwrap();
        assert_eq!(message(&mut e), vec![b"second".to_vec()]);
        assert_eq!(e.realtime(), None);
        assert_eq!(e.cursor(), None);
        // Non-UTF-8 bytes as an array; a repeated field as an array.
        e.parse(r#"{"MESSAGE":[104,255]}"#).unwrap();
        assert_eq!(message(&mut e), vec![vec![104, 255]]);
        e.parse(r#"{"MESSAGE":["a",[98]]}"#).unwrap();
        assert_eq!(message(&mut e), vec![b"a".to_vec(), b"b".to_vec()]);
        // Too large for journalctl: absent.
        e.parse(r#"{"MESSAGE":null}"#).unwrap();
        assert!(message(&mut e).is_empty());
    }

    #[test]
    fn a_line_that_is_not_an_object_is_refused() {
        let p = program();
        let mut e = JsonEntry::new(&p);
        let why = |e: &mut JsonEntry, l: &str| e.parse(l).map_err(|b| b.0).unwrap_err();
        assert_eq!(why(&mut e, "[1, 2]"), "not a JSON object");
        assert_eq!(why(&mut e, "\"MESSAGE\""), "not a JSON object");
        assert!(why(&mut e, "{\"MESSAGE\": ").starts_with("not JSON: "));
        assert!(why(&mut e, "{} {}").starts_with("not JSON: trailing characters"));
        assert!(why(&mut e, "{\"MESSAGE\" \"x\"}").starts_with("not JSON: "));
        // Nothing of a refused line, nor of the line before, is kept.
        e.parse(r#"{"MESSAGE":"kept"}"#).unwrap();
        assert!(e.parse("nope").is_err());
        assert!(message(&mut e).is_empty());
        assert!(e.parse(r#"{"MESSAGE":"half", "__CURSOR": "#).is_err());
        assert!(message(&mut e).is_empty());
        assert_eq!(e.cursor(), None);
    }
}
