//! Entries as `journalctl -o json` lines.
//!
//! Values are strings; a value that is not valid UTF-8 is an array of byte
//! values; a repeated field is an array of such values; `null` is a field
//! too large for journalctl (without `--all`), taken as absent. Only the
//! fields the program uses are kept from each line.

use crate::value::fields::FieldId;
use crate::vm::{EntrySource, Program, RawField};
use serde_json::Value as J;

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
        let value: J = serde_json::from_str(line).map_err(|e| BadLine(format!("not JSON: {e}")))?;
        let J::Object(map) = value else {
            return Err(BadLine("not a JSON object".into()));
        };
        self.slots.iter_mut().for_each(|s| *s = None);
        self.realtime = None;
        self.cursor = None;
        for (k, v) in map {
            match k.as_str() {
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
            if let Some(id) = self.program.field(&k) {
                self.slots[usize::from(id.0)] = Some(v);
            }
        }
        Ok(())
    }

    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
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
