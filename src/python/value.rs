//! Python's semantics of values: `==` across the numeric tower (`1 ==
//! True == 1.0`), ordering that raises `TypeError` between unrelated types,
//! and a `hash` consistent with `==`, so that counter keys and DNAT links
//! match exactly as Python Pyruse's dictionaries did.

use crate::value::{TypeMismatch, Value};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

impl Value {
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
    use crate::value::Value;

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
