//! Runtime values: what a journal field, a regex capture or a counter holds.
//!
//! The variants follow what python-systemd hands to Pyruse (docs/legacy-semantics.md §5), so
//! that comparisons and template rendering keep Pyruse's results: a field
//! typed as an integer compares as one, a field that is not valid UTF-8 stays
//! bytes, a repeated field is a list.
//!
//! This is the vocabulary every layer shares (values, field ids, field
//! kinds, encodings); it depends on nothing else in the crate. How values
//! compare, hash and order (Python's `==`, `<`, `hash`) is Python's
//! semantics, in `crate::python::value`.

pub mod fields;

pub use fields::{Encoding, FieldId, FieldKind};

use std::fmt;

/// One value. `None` is Python's `None` (a regex group that did not take
/// part), which is *present* in the entry; a field that is absent from the
/// entry is not a `Value` at all (`Option<Value>` is `None`).
#[derive(Clone, Debug)]
pub enum Value {
    /// Python `None`.
    None,
    /// A boolean constant from the rules (Python `bool`, a subtype of `int`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point constant from the rules.
    Float(f64),
    /// A text value.
    Str(String),
    /// Raw bytes: a journal value that is not valid UTF-8 (or not convertible
    /// to the type of its field).
    Bytes(Vec<u8>),
    /// A point in time, microseconds since the Unix epoch (Python aware
    /// `datetime` in the process' local zone).
    Time(i64),
    /// A duration in microseconds (Python `timedelta`).
    Delta(i64),
    /// A UUID (Python `uuid.UUID`).
    Uuid([u8; 16]),
    /// `__MONOTONIC_TIMESTAMP`: (timedelta, boot id), as python-systemd
    /// builds it.
    Monotonic(i64, [u8; 16]),
    /// A field that occurs several times in one entry.
    List(Vec<Value>),
}

/// Why two values cannot be ordered: Python raises `TypeError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeMismatch {
    pub left: &'static str,
    pub right: &'static str,
}

impl fmt::Display for TypeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot order a value of type {} against one of type {}",
            self.left, self.right
        )
    }
}

impl Value {
    /// The Python type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Time(_) => "datetime",
            Value::Delta(_) => "timedelta",
            Value::Uuid(_) => "UUID",
            Value::Monotonic(..) => "tuple",
            Value::List(_) => "list",
        }
    }

    /// The text of a `Str` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}
