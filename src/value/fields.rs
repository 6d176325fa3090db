//! Field slots and the conversion of raw journal values into [`Value`]s.
//!
//! Every field name the rules mention is interned into a [`FieldId`] at
//! compile time, with the conversion python-systemd applies to it
//! (docs/legacy-semantics.md §5) decided once from its name. At run time an entry's slot is
//! filled lazily, the first time a step reads it.

use super::Value;

/// Index of a field slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

/// How the bytes of a journal field become a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// UTF-8 text, else bytes.
    Text,
    /// `MESSAGE`: UTF-8 text, else decoded with `8bit-message-encoding`.
    Message,
    /// Python `int()`, else bytes.
    Int,
    /// `uuid.UUID`, else bytes.
    Uuid,
    /// Microseconds since the epoch → local datetime.
    Time,
    /// `__MONOTONIC_TIMESTAMP`: (timedelta, boot id).
    Monotonic,
    /// Microseconds → timedelta.
    Delta,
    /// Always bytes (`COREDUMP`).
    Bytes,
}

impl FieldKind {
    /// The conversion python-systemd 235 applies to a field name.
    pub fn of(name: &str) -> FieldKind {
        match name {
            "MESSAGE" => FieldKind::Message,
            "PRIORITY" | "SYSLOG_FACILITY" | "SYSLOG_PID" | "_UID" | "_GID" | "_PID"
            | "_AUDIT_SESSION" | "_AUDIT_LOGINUID" | "_SYSTEMD_SESSION" | "_SYSTEMD_OWNER_UID"
            | "CODE_LINE" | "ERRNO" | "EXIT_STATUS" | "LEADER" | "SESSION_ID"
            | "USERSPACE_USEC" | "INITRD_USEC" | "KERNEL_USEC" | "COREDUMP_PID"
            | "COREDUMP_UID" | "COREDUMP_GID" | "COREDUMP_SESSION" | "COREDUMP_SIGNAL" => {
                FieldKind::Int
            }
            "MESSAGE_ID" | "_BOOT_ID" | "_MACHINE_ID" => FieldKind::Uuid,
            "__REALTIME_TIMESTAMP" | "_SOURCE_REALTIME_TIMESTAMP" | "COREDUMP_TIMESTAMP" => {
                FieldKind::Time
            }
            "__MONOTONIC_TIMESTAMP" => FieldKind::Monotonic,
            "_SOURCE_MONOTONIC_TIMESTAMP" => FieldKind::Delta,
            "COREDUMP" => FieldKind::Bytes,
            _ => FieldKind::Text,
        }
    }

    /// Whether a value of this field is an integer when it converts.
    pub fn is_int(self) -> bool {
        self == FieldKind::Int
    }
}

/// A decoder for `MESSAGE` values that are not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// ISO-8859-1: every byte is the code point of the same number.
    Latin1,
    /// ISO-8859-15 (Latin-9): Latin-1 with eight code points replaced.
    Latin9,
    /// Windows-1252.
    Cp1252,
    /// ASCII: bytes ≥ 0x80 fail, and the value stays bytes.
    Ascii,
}

impl Encoding {
    /// Python codec names (and their aliases) we decode.
    pub fn from_python_name(name: &str) -> Option<Encoding> {
        let n = name.to_ascii_lowercase().replace('_', "-");
        Some(match n.as_str() {
            "iso-8859-1" | "iso8859-1" | "8859" | "cp819" | "latin" | "latin-1" | "latin1"
            | "l1" | "iso-ir-100" | "csisolatin1" => Encoding::Latin1,
            "iso-8859-15" | "iso8859-15" | "latin-9" | "latin9" | "l9" => Encoding::Latin9,
            "cp1252" | "windows-1252" => Encoding::Cp1252,
            "ascii" | "us-ascii" | "646" => Encoding::Ascii,
            _ => return None,
        })
    }

    /// Decode, or `None` when a byte has no meaning in this encoding.
    pub fn decode(self, bytes: &[u8]) -> Option<String> {
        let mut s = String::with_capacity(bytes.len() + bytes.len() / 4);
        for &b in bytes {
            let c = match self {
                Encoding::Latin1 => char::from(b),
                Encoding::Latin9 => match b {
                    0xA4 => '€',
                    0xA6 => 'Š',
                    0xA8 => 'š',
                    0xB4 => 'Ž',
                    0xB8 => 'ž',
                    0xBC => 'Œ',
                    0xBD => 'œ',
                    0xBE => 'Ÿ',
                    _ => char::from(b),
                },
                Encoding::Cp1252 => match b {
                    0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)]?,
                    _ => char::from(b),
                },
                Encoding::Ascii => {
                    if b < 0x80 {
                        char::from(b)
                    } else {
                        return None;
                    }
                }
            };
            s.push(c);
        }
        Some(s)
    }
}

const CP1252_HIGH: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('‘'),
    Some('’'),
    Some('“'),
    Some('”'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

/// Python's `int()` on bytes: optional surrounding ASCII whitespace, a sign,
/// decimal digits with single underscores between them.
pub fn parse_python_int(bytes: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(bytes).ok()?;
    let s = s.trim_matches(|c: char| c.is_whitespace());
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut n: i64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(10)? as i64;
        n = n.checked_mul(10)?.checked_add(if neg { -d } else { d })?;
    }
    Some(n)
}

/// Python's `uuid.UUID(str)`: 32 hex digits, with optional dashes, braces and
/// `urn:uuid:` prefix.
pub fn parse_uuid(bytes: &[u8]) -> Option<[u8; 16]> {
    let s = std::str::from_utf8(bytes).ok()?;
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let s = s.trim_matches(|c| c == '{' || c == '}');
    let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Convert the raw occurrences of a field into a value, as python-systemd
/// does: one occurrence gives a value, several give a list.
pub fn convert(
    kind: FieldKind,
    parts: &[Vec<u8>],
    encoding: Encoding,
    boot_id: Option<[u8; 16]>,
) -> Option<Value> {
    match parts {
        [] => None,
        [one] => Some(convert_one(kind, one, encoding, boot_id)),
        many => Some(Value::List(
            many.iter()
                .map(|p| convert_one(kind, p, encoding, boot_id))
                .collect(),
        )),
    }
}

/// [`convert`] into an existing slot: a text value reuses the slot's
/// string buffer, so reading the same field entry after entry does not
/// allocate.
pub fn convert_into(
    kind: FieldKind,
    parts: &[Vec<u8>],
    encoding: Encoding,
    boot_id: Option<[u8; 16]>,
    slot: &mut Option<Value>,
) {
    if let ([one], FieldKind::Text | FieldKind::Message) = (parts, kind) {
        if let Ok(text) = std::str::from_utf8(one) {
            if let Some(Value::Str(s)) = slot {
                s.clear();
                s.push_str(text);
            } else {
                *slot = Some(Value::Str(text.to_owned()));
            }
            return;
        }
    }
    *slot = convert(kind, parts, encoding, boot_id);
}

fn convert_one(kind: FieldKind, raw: &[u8], encoding: Encoding, boot: Option<[u8; 16]>) -> Value {
    let bytes = || Value::Bytes(raw.to_vec());
    match kind {
        FieldKind::Text => match std::str::from_utf8(raw) {
            Ok(s) => Value::Str(s.to_owned()),
            Err(_) => bytes(),
        },
        FieldKind::Message => match std::str::from_utf8(raw) {
            Ok(s) => Value::Str(s.to_owned()),
            Err(_) => encoding.decode(raw).map_or_else(bytes, Value::Str),
        },
        FieldKind::Int => parse_python_int(raw).map_or_else(bytes, Value::Int),
        FieldKind::Uuid => parse_uuid(raw).map_or_else(bytes, Value::Uuid),
        FieldKind::Time => parse_python_int(raw).map_or_else(bytes, Value::Time),
        FieldKind::Delta => parse_python_int(raw).map_or_else(bytes, Value::Delta),
        FieldKind::Monotonic => match parse_python_int(raw) {
            Some(us) => Value::Monotonic(us, boot.unwrap_or([0; 16])),
            None => bytes(),
        },
        FieldKind::Bytes => bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_accepts_spaces_signs_and_underscores() {
        assert_eq!(parse_python_int(b" 6 "), Some(6));
        assert_eq!(parse_python_int(b"-12"), Some(-12));
        assert_eq!(parse_python_int(b"1_000"), Some(1000));
        assert_eq!(parse_python_int(b"1__0"), None);
        assert_eq!(parse_python_int(b"6a"), None);
        assert_eq!(parse_python_int(b""), None);
        assert_eq!(parse_python_int(b"99999999999999999999"), None);
    }

    #[test]
    fn latin1_is_really_latin1() {
        // 0x80–0x9F are C1 controls in Latin-1, not Windows-1252 punctuation.
        assert_eq!(
            Encoding::Latin1.decode(&[0x80, 0xE9]).as_deref(),
            Some("\u{80}é")
        );
        assert_eq!(
            Encoding::Cp1252.decode(&[0x80, 0xE9]).as_deref(),
            Some("€é")
        );
        assert_eq!(Encoding::Latin9.decode(&[0xA4]).as_deref(), Some("€"));
        assert_eq!(Encoding::Latin1.decode(&[0xA4]).as_deref(), Some("¤"));
    }

    #[test]
    fn repeated_fields_become_lists_and_bad_ints_stay_bytes() {
        let v = convert(
            FieldKind::Int,
            &[b"6".to_vec(), b"x".to_vec()],
            Encoding::Latin1,
            None,
        );
        match v {
            Some(Value::List(items)) => {
                assert!(matches!(items[0], Value::Int(6)));
                assert!(matches!(&items[1], Value::Bytes(b) if b == b"x"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn uuid_forms() {
        let want = parse_uuid(b"9ec1eb60c72a205286d614fc429eb4b9");
        assert!(want.is_some());
        assert_eq!(parse_uuid(b"{9ec1eb60-c72a-2052-86d6-14fc429eb4b9}"), want);
        assert_eq!(parse_uuid(b"9ec1eb60"), None);
    }
}
