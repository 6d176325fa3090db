//! Runtime values: what a journal field, a regex capture or a counter holds.
//!
//! The variants follow what python-systemd hands to Pyruse (docs/legacy-semantics.md §5), so
//! that comparisons and template rendering keep Pyruse's results: a field
//! typed as an integer compares as one, a field that is not valid UTF-8 stays
//! bytes, a repeated field is a list.
//!
//! This is the vocabulary every layer shares (values, field ids, field
//! kinds, encodings); it depends on nothing else in the crate.

pub mod fields;

pub use fields::{Encoding, FieldId, FieldKind};

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

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

    /// Numeric view for Python's numeric tower (bool ⊂ int ⊂ float).
    fn number(&self) -> Option<Num> {
        match self {
            Value::Bool(b) => Some(Num::Int(i64::from(*b))),
            Value::Int(i) => Some(Num::Int(*i)),
            Value::Float(f) => Some(Num::Float(*f)),
            _ => None,
        }
    }

    /// Python `==`: values of unrelated types are simply unequal.
    pub fn py_eq(&self, other: &Value) -> bool {
        if let (Some(a), Some(b)) = (self.number(), other.number()) {
            return a.cmp(b) == Some(Ordering::Equal);
        }
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Delta(a), Value::Delta(b)) => a == b,
            (Value::Uuid(a), Value::Uuid(b)) => a == b,
            (Value::Monotonic(a, x), Value::Monotonic(b, y)) => a == b && x == y,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y))
            }
            _ => false,
        }
    }

    /// Python ordering (`<`, `<=`, …): an error where Python raises
    /// `TypeError`, e.g. `str` against `int`.
    pub fn py_cmp(&self, other: &Value) -> Result<Ordering, TypeMismatch> {
        let mismatch = || TypeMismatch {
            left: self.type_name(),
            right: other.type_name(),
        };
        if let (Some(a), Some(b)) = (self.number(), other.number()) {
            // NaN compares false both ways in Python; `<=` is then false,
            // which we express as "greater".
            return Ok(a.cmp(b).unwrap_or(Ordering::Greater));
        }
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => Ok(a.as_str().cmp(b.as_str())),
            (Value::Bytes(a), Value::Bytes(b)) => Ok(a.cmp(b)),
            (Value::Time(a), Value::Time(b)) => Ok(a.cmp(b)),
            (Value::Delta(a), Value::Delta(b)) => Ok(a.cmp(b)),
            (Value::Uuid(a), Value::Uuid(b)) => Ok(a.cmp(b)),
            (Value::Monotonic(a, x), Value::Monotonic(b, y)) => {
                if a != b {
                    Ok(a.cmp(b))
                } else {
                    Ok(x.cmp(y))
                }
            }
            (Value::List(a), Value::List(b)) => {
                for (x, y) in a.iter().zip(b) {
                    if !x.py_eq(y) {
                        return x.py_cmp(y);
                    }
                }
                Ok(a.len().cmp(&b.len()))
            }
            _ => Err(mismatch()),
        }
    }
}

#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (Num::Int(a), Num::Float(b)) => (a as f64).partial_cmp(&b),
            (Num::Float(a), Num::Int(b)) => a.partial_cmp(&(b as f64)),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b),
        }
    }
}

/// Equality for use as a map key (counter keys, DNAT index): Python's `==`,
/// with `hash` consistent with it.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.py_eq(other)
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::None => 0u8.hash(state),
            Value::Bool(b) => i64::from(*b).hash(state),
            Value::Int(i) => i.hash(state),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.2e18 {
                    (*f as i64).hash(state)
                } else {
                    f.to_bits().hash(state)
                }
            }
            Value::Str(s) => s.hash(state),
            Value::Bytes(b) => b.hash(state),
            Value::Time(t) | Value::Delta(t) => t.hash(state),
            Value::Uuid(u) => u.hash(state),
            Value::Monotonic(t, u) => (t, u).hash(state),
            Value::List(items) => items.hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_and_str_are_unequal_but_unorderable() {
        let i = Value::Int(4);
        let s = Value::Str("4".into());
        assert!(!i.py_eq(&s));
        assert!(i.py_cmp(&s).is_err());
    }

    #[test]
    fn numeric_tower_compares_across_types() {
        assert!(Value::Int(1).py_eq(&Value::Bool(true)));
        assert!(Value::Int(2).py_eq(&Value::Float(2.0)));
        assert_eq!(
            Value::Int(3).py_cmp(&Value::Float(2.5)),
            Ok(Ordering::Greater)
        );
    }

    #[test]
    fn strings_order_by_code_point() {
        assert_eq!(
            Value::Str("B".into()).py_cmp(&Value::Str("a".into())),
            Ok(Ordering::Less)
        );
    }
}
