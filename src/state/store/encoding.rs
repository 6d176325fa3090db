//! The encoding of values in the state file.

use crate::value::Value;
use serde_json::Value as J;

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(format!("bad hex digit {:?}", c as char)),
    };
    let pairs = s.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err("odd hex length".into());
    }
    pairs
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

fn uuid_of(s: &str) -> Result<[u8; 16], String> {
    unhex(s)?
        .try_into()
        .map_err(|_| "a UUID has 16 bytes".to_string())
}

fn to_json(v: &Value) -> J {
    let (tag, val) = match v {
        Value::None => ("none", J::Null),
        Value::Bool(b) => ("bool", J::Bool(*b)),
        Value::Int(i) => ("int", J::from(*i)),
        Value::Float(f) => ("float", J::String(format!("{:016x}", f.to_bits()))),
        Value::Str(s) => ("str", J::String(s.clone())),
        Value::Bytes(b) => ("bytes", J::String(hex(b))),
        Value::Time(t) => ("time", J::from(*t)),
        Value::Delta(d) => ("delta", J::from(*d)),
        Value::Uuid(u) => ("uuid", J::String(hex(u))),
        Value::Monotonic(t, u) => ("monotonic", J::Array(vec![J::from(*t), J::String(hex(u))])),
        Value::List(items) => ("list", J::Array(items.iter().map(to_json).collect())),
    };
    let mut m = serde_json::Map::new();
    m.insert(tag.into(), val);
    J::Object(m)
}

fn from_json(j: &J) -> Result<Value, String> {
    let bad = || format!("bad tagged value {j}");
    let J::Object(m) = j else { return Err(bad()) };
    let mut it = m.iter();
    let (Some((tag, v)), None) = (it.next(), it.next()) else {
        return Err(bad());
    };
    let int = |v: &J| v.as_i64().ok_or_else(bad);
    let text = |v: &J| v.as_str().map(str::to_owned).ok_or_else(bad);
    Ok(match (tag.as_str(), v) {
        ("none", J::Null) => Value::None,
        ("bool", J::Bool(b)) => Value::Bool(*b),
        ("int", v) => Value::Int(int(v)?),
        ("float", v) => Value::Float(f64::from_bits(
            u64::from_str_radix(&text(v)?, 16).map_err(|_| bad())?,
        )),
        ("str", v) => Value::Str(text(v)?),
        ("bytes", v) => Value::Bytes(unhex(&text(v)?)?),
        ("time", v) => Value::Time(int(v)?),
        ("delta", v) => Value::Delta(int(v)?),
        ("uuid", v) => Value::Uuid(uuid_of(&text(v)?)?),
        ("monotonic", J::Array(a)) if a.len() == 2 => {
            Value::Monotonic(int(&a[0])?, uuid_of(&text(&a[1])?)?)
        }
        ("list", J::Array(a)) => Value::List(a.iter().map(from_json).collect::<Result<_, _>>()?),
        _ => return Err(bad()),
    })
}

/// The tagged JSON text of a value.
pub fn encode_value(v: &Value) -> String {
    to_json(v).to_string()
}

/// The value of a tagged JSON text.
pub fn decode_value(s: &str) -> Result<Value, String> {
    let j: J = serde_json::from_str(s).map_err(|e| format!("{e} in {s:?}"))?;
    from_json(&j)
}

/// The text of a session's key: a JSON list of tagged values.
pub(super) fn session_key_text(key: &[Value]) -> String {
    J::Array(key.iter().map(to_json).collect()).to_string()
}

/// The key of a session's key text.
pub(super) fn session_key_of(text: &str) -> Result<Vec<Value>, String> {
    let key: J = serde_json::from_str(text).map_err(|e| e.to_string())?;
    key.as_array()
        .ok_or_else(|| "key is not a list".to_string())?
        .iter()
        .map(from_json)
        .collect()
}

/// The text of a session's fields: a JSON list of `[name, tagged value]`.
pub(super) fn session_fields_text(fields: &[(String, Value)]) -> String {
    J::Array(
        fields
            .iter()
            .map(|(n, v)| J::Array(vec![J::String(n.clone()), to_json(v)]))
            .collect(),
    )
    .to_string()
}

/// The fields of a session's fields text.
pub(super) fn session_fields_of(text: &str) -> Result<Vec<(String, Value)>, String> {
    let fields: J = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut pairs = Vec::new();
    for f in fields
        .as_array()
        .ok_or_else(|| "fields is not a list".to_string())?
    {
        match f.as_array().map(Vec::as_slice) {
            Some([J::String(n), v]) => pairs.push((n.clone(), from_json(v)?)),
            _ => return Err(format!("field {f}")),
        }
    }
    Ok(pairs)
}

/// The value with numbers in the form `Value`'s `Hash` uses: `Bool` and
/// integral `Float` become `Int`.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Int(i64::from(*b)),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.2e18 => {
            Value::Int(*f as i64)
        }
        Value::List(items) => Value::List(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The identity of a counter key in the file: equal values (`Value`'s `Eq`)
/// have equal identities.
pub(super) fn ident_value(v: &Value) -> String {
    encode_value(&canonical(v))
}
