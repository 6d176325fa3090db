//! Effects: what the rules decide to do to the outside world.
//!
//! Builtins never do I/O themselves: they hand an [`Effect`] to an
//! [`EffectSink`]. `pyrusec replay` and `pyrused --dry-run` record them as
//! the effect trace (one JSON object per line, see `docs/effect-trace.md`);
//! the daemon's host layer carries them out.

use crate::value::Value;

/// The firewall a ban goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Firewall {
    /// An nftables set, named `family table set`.
    Nft,
    /// An ipset set.
    Ipset,
}

/// A set a ban step may ban into: what the daemon creates at start.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BanSet {
    pub firewall: Firewall,
    /// As the rules write it (`inet pyruse ban4`, `ssh4`).
    pub name: String,
    /// Whether it holds IPv6 addresses (else IPv4).
    pub ipv6: bool,
}

impl BanSet {
    /// The IPv4 and IPv6 sets of a ban step.
    pub fn pair(firewall: Firewall, v4: &str, v6: &str) -> [BanSet; 2] {
        [(v4, false), (v6, true)].map(|(name, ipv6)| BanSet {
            firewall,
            name: name.to_owned(),
            ipv6,
        })
    }
}

/// One effect, with the values it was decided with.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Noop,
    DailyReport {
        level: &'static str,
        message: String,
        details: &'static str,
    },
    Email {
        subject: String,
        message: String,
    },
    Log {
        level: &'static str,
        message: String,
    },
    NftBan {
        set: String,
        ip: Value,
        seconds: Option<i64>,
    },
    IpsetBan {
        set: String,
        ip: Value,
        seconds: Option<i64>,
    },
    CounterRaise {
        counter: String,
        key: Value,
        value: i64,
    },
    CounterReset {
        counter: String,
        key: Value,
    },
    DnatCapture {
        saddr: Value,
        sport: Option<Value>,
        addr: Option<Value>,
        port: Option<Value>,
        daddr: Option<Value>,
        dport: Option<Value>,
    },
    DnatReplace {
        set: Vec<(String, Value)>,
    },
    /// `remember`: fields kept for a session.
    Remember {
        session: String,
        key: Vec<Value>,
        fields: Vec<(String, Value)>,
        seconds: i64,
    },
    /// `recall`: the fields written back from a session.
    Recall {
        session: String,
        key: Vec<Value>,
        set: Vec<(String, Value)>,
    },
    /// An action failed: nothing of it was carried out, and the entry
    /// stops there. Recorded so that the trace never shows an action that
    /// did not happen as if it had (the daemon logs it instead).
    ActionError {
        message: String,
    },
}

/// The effect kinds, as the trace names them, in the order of
/// [`Effect::kind`].
pub const KINDS: [&str; 13] = [
    "noop",
    "dailyReport",
    "email",
    "log",
    "nftBan",
    "ipsetBan",
    "counterRaise",
    "counterReset",
    "dnatCapture",
    "dnatReplace",
    "remember",
    "recall",
    "error",
];

impl Effect {
    /// The index of the effect's kind in [`KINDS`].
    pub fn kind(&self) -> usize {
        match self {
            Effect::Noop => 0,
            Effect::DailyReport { .. } => 1,
            Effect::Email { .. } => 2,
            Effect::Log { .. } => 3,
            Effect::NftBan { .. } => 4,
            Effect::IpsetBan { .. } => 5,
            Effect::CounterRaise { .. } => 6,
            Effect::CounterReset { .. } => 7,
            Effect::DnatCapture { .. } => 8,
            Effect::DnatReplace { .. } => 9,
            Effect::Remember { .. } => 10,
            Effect::Recall { .. } => 11,
            Effect::ActionError { .. } => 12,
        }
    }

    /// The `effect` name in the trace.
    pub fn name(&self) -> &'static str {
        KINDS[self.kind()]
    }
}

/// A value of a trace line, written without building a JSON tree first.
#[derive(Clone, Copy)]
enum Out<'a> {
    Str(&'a str),
    Int(i64),
    Entry(u64),
    OptInt(Option<i64>),
    Val(&'a Value),
    OptVal(Option<&'a Value>),
    Obj(&'a [(String, Value)]),
    List(&'a [Value]),
}

impl Out<'_> {
    fn write(self, out: &mut Vec<u8>) {
        use std::io::Write;
        let json = |out: &mut Vec<u8>, j: &serde_json::Value| {
            let _ = serde_json::to_writer(out, j);
        };
        let this = match self {
            Out::Val(Value::Str(s)) | Out::OptVal(Some(Value::Str(s))) => Out::Str(s),
            Out::Val(Value::Int(i)) | Out::OptVal(Some(Value::Int(i))) => Out::Int(*i),
            other => other,
        };
        match this {
            Out::Str(s) => {
                let _ = serde_json::to_writer(out, s);
            }
            Out::Int(i) | Out::OptInt(Some(i)) => {
                let _ = write!(out, "{i}");
            }
            Out::Entry(n) => {
                let _ = write!(out, "{n}");
            }
            Out::OptInt(None) | Out::OptVal(None) => out.extend_from_slice(b"null"),
            Out::Val(v) | Out::OptVal(Some(v)) => json(out, &value_json(v)),
            Out::Obj(pairs) => json(out, &object(pairs)),
            Out::List(items) => json(
                out,
                &serde_json::Value::Array(items.iter().map(value_json).collect()),
            ),
        }
    }
}

impl Effect {
    /// The trace line of the effect (without the newline), appended to
    /// `out`: a JSON object of `effect`, `entry`, `cursor` and `rule` when
    /// given, and the effect's own values, keys in alphabetical order
    /// (`docs/effect-trace.md`), written without building a JSON tree.
    pub fn write_trace_line<'a>(
        &'a self,
        out: &mut Vec<u8>,
        entry: u64,
        cursor: Option<&'a str>,
        rule: Option<&'a str>,
    ) {
        let mut items: [(&str, Out<'_>); 14] = [("", Out::Int(0)); 14];
        let mut n = 0;
        let mut put = |k: &'static str, v: Out<'a>| {
            if n < items.len() {
                items[n] = (k, v);
                n += 1;
            }
        };
        self.trace_items(&mut put);
        put("effect", Out::Str(self.name()));
        put("entry", Out::Entry(entry));
        if let Some(c) = cursor {
            put("cursor", Out::Str(c));
        }
        if let Some(r) = rule {
            put("rule", Out::Str(r));
        }
        let items = &mut items[..n];
        items.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out.push(b'{');
        for (i, (k, v)) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"\":");
            v.write(out);
        }
        out.push(b'}');
    }

    /// The keys of the effect's own values (all but `effect`, `entry`,
    /// `cursor`, `rule`), for [`Effect::write_trace_line`].
    fn trace_items<'a>(&'a self, put: &mut impl FnMut(&'static str, Out<'a>)) {
        match self {
            Effect::Noop => {}
            Effect::DailyReport {
                level,
                message,
                details,
            } => {
                put("level", Out::Str(level));
                put("message", Out::Str(message));
                put("details", Out::Str(details));
            }
            Effect::Email { subject, message } => {
                put("subject", Out::Str(subject));
                put("message", Out::Str(message));
            }
            Effect::Log { level, message } => {
                put("level", Out::Str(level));
                put("message", Out::Str(message));
            }
            Effect::NftBan { set, ip, seconds } | Effect::IpsetBan { set, ip, seconds } => {
                put("set", Out::Str(set));
                put("ip", Out::Val(ip));
                put("seconds", Out::OptInt(*seconds));
            }
            Effect::CounterRaise {
                counter,
                key,
                value,
            } => {
                put("counter", Out::Str(counter));
                put("key", Out::Val(key));
                put("value", Out::Int(*value));
            }
            Effect::CounterReset { counter, key } => {
                put("counter", Out::Str(counter));
                put("key", Out::Val(key));
            }
            Effect::DnatCapture {
                saddr,
                sport,
                addr,
                port,
                daddr,
                dport,
            } => {
                put("saddr", Out::Val(saddr));
                put("sport", Out::OptVal(sport.as_ref()));
                put("addr", Out::OptVal(addr.as_ref()));
                put("port", Out::OptVal(port.as_ref()));
                put("daddr", Out::OptVal(daddr.as_ref()));
                put("dport", Out::OptVal(dport.as_ref()));
            }
            Effect::DnatReplace { set } => put("set", Out::Obj(set)),
            Effect::Remember {
                session,
                key,
                fields,
                seconds,
            } => {
                put("session", Out::Str(session));
                put("key", Out::List(key));
                put("fields", Out::Obj(fields));
                put("seconds", Out::Int(*seconds));
            }
            Effect::Recall { session, key, set } => {
                put("session", Out::Str(session));
                put("key", Out::List(key));
                put("set", Out::Obj(set));
            }
            Effect::ActionError { message } => put("message", Out::Str(message)),
        }
    }
}

/// Field names and values as a JSON object.
fn object(pairs: &[(String, Value)]) -> serde_json::Value {
    serde_json::Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), value_json(v)))
            .collect(),
    )
}

/// Journal priorities by name, in priority order (0 = EMERG).
pub const LEVELS: [&str; 8] = [
    "EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
];

/// A value as JSON, for the effect trace: text, numbers, booleans and lists
/// as themselves, anything else as Python's `str()` of it.
pub fn value_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::List(items) => J::Array(items.iter().map(value_json).collect()),
        other => J::String(crate::python::format::render_plain(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The effect as a JSON tree (without `entry`, `cursor`, `rule`): the
    /// straightforward rendering that the direct writer must match.
    fn to_json(e: &Effect) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value as J;
        let mut m = serde_json::Map::new();
        m.insert("effect".into(), J::String(e.name().into()));
        let opt = |v: &Option<Value>| v.as_ref().map_or(J::Null, value_json);
        match e {
            Effect::Noop => {}
            Effect::DailyReport {
                level,
                message,
                details,
            } => {
                m.insert("level".into(), J::String((*level).into()));
                m.insert("message".into(), J::String(message.clone()));
                m.insert("details".into(), J::String((*details).into()));
            }
            Effect::Email { subject, message } => {
                m.insert("subject".into(), J::String(subject.clone()));
                m.insert("message".into(), J::String(message.clone()));
            }
            Effect::Log { level, message } => {
                m.insert("level".into(), J::String((*level).into()));
                m.insert("message".into(), J::String(message.clone()));
            }
            Effect::NftBan { set, ip, seconds } | Effect::IpsetBan { set, ip, seconds } => {
                m.insert("set".into(), J::String(set.clone()));
                m.insert("ip".into(), value_json(ip));
                m.insert("seconds".into(), seconds.map_or(J::Null, J::from));
            }
            Effect::CounterRaise {
                counter,
                key,
                value,
            } => {
                m.insert("counter".into(), J::String(counter.clone()));
                m.insert("key".into(), value_json(key));
                m.insert("value".into(), J::from(*value));
            }
            Effect::CounterReset { counter, key } => {
                m.insert("counter".into(), J::String(counter.clone()));
                m.insert("key".into(), value_json(key));
            }
            Effect::DnatCapture {
                saddr,
                sport,
                addr,
                port,
                daddr,
                dport,
            } => {
                m.insert("saddr".into(), value_json(saddr));
                m.insert("sport".into(), opt(sport));
                m.insert("addr".into(), opt(addr));
                m.insert("port".into(), opt(port));
                m.insert("daddr".into(), opt(daddr));
                m.insert("dport".into(), opt(dport));
            }
            Effect::DnatReplace { set } => {
                m.insert("set".into(), object(set));
            }
            Effect::Remember {
                session,
                key,
                fields,
                seconds,
            } => {
                m.insert("session".into(), J::String(session.clone()));
                m.insert("key".into(), J::Array(key.iter().map(value_json).collect()));
                m.insert("fields".into(), object(fields));
                m.insert("seconds".into(), J::from(*seconds));
            }
            Effect::Recall { session, key, set } => {
                m.insert("session".into(), J::String(session.clone()));
                m.insert("key".into(), J::Array(key.iter().map(value_json).collect()));
                m.insert("set".into(), object(set));
            }
            Effect::ActionError { message } => {
                m.insert("message".into(), J::String(message.clone()));
            }
        }
        m
    }

    /// The line as a JSON tree renders it: the reference the direct
    /// writer must match byte for byte.
    fn reference(e: &Effect, entry: u64, cursor: Option<&str>, rule: Option<&str>) -> String {
        let mut m = to_json(e);
        m.insert("entry".into(), serde_json::Value::from(entry));
        if let Some(c) = cursor {
            m.insert("cursor".into(), c.into());
        }
        if let Some(r) = rule {
            m.insert("rule".into(), r.into());
        }
        serde_json::Value::Object(m).to_string()
    }

    #[test]
    fn trace_lines_written_directly_match_the_json_tree() {
        let s = |t: &str| Value::Str(t.into());
        let odd = [
            Value::None,
            Value::Bool(true),
            Value::Int(-7),
            Value::Float(0.1),
            Value::Float(f64::NAN),
            Value::Float(1e300),
            s("quote \" backslash \\ newline \n tab \t nul \0 é 😀 \u{1b}[31m"),
            Value::Bytes(vec![0xff, b'a']),
            Value::Time(1_700_000_000_123_456),
            Value::Delta(-1),
            Value::Uuid([7; 16]),
            Value::Monotonic(5, [1; 16]),
            Value::List(vec![s("a"), Value::Int(1), Value::None]),
        ];
        let mut effects = vec![
            Effect::Noop,
            Effect::DailyReport {
                level: "WARN",
                message: "m \"x\"".into(),
                details: "ALL",
            },
            Effect::Email {
                subject: "s".into(),
                message: "line\nline".into(),
            },
            Effect::Log {
                level: "INFO",
                message: "l".into(),
            },
            Effect::ActionError {
                message: "e".into(),
            },
        ];
        for v in &odd {
            let opt = |o: bool| o.then(|| v.clone());
            effects.extend([
                Effect::NftBan {
                    set: "inet pyruse ban4".into(),
                    ip: v.clone(),
                    seconds: Some(3600),
                },
                Effect::IpsetBan {
                    set: "I".into(),
                    ip: v.clone(),
                    seconds: None,
                },
                Effect::CounterRaise {
                    counter: "c".into(),
                    key: v.clone(),
                    value: 3,
                },
                Effect::CounterReset {
                    counter: "c".into(),
                    key: v.clone(),
                },
                Effect::DnatCapture {
                    saddr: v.clone(),
                    sport: opt(true),
                    addr: opt(false),
                    port: opt(true),
                    daddr: None,
                    dport: opt(true),
                },
                Effect::DnatReplace {
                    set: vec![
                        ("b".into(), v.clone()),
                        ("a".into(), s("x")),
                        ("b".into(), s("last")),
                    ],
                },
                Effect::Remember {
                    session: "sshd".into(),
                    key: vec![v.clone(), s("k")],
                    fields: vec![("f".into(), v.clone())],
                    seconds: 600,
                },
                Effect::Recall {
                    session: "sshd".into(),
                    key: vec![v.clone()],
                    set: vec![("z".into(), v.clone()), ("y".into(), Value::None)],
                },
            ]);
        }
        // Every kind is in the sample, and KINDS names each as the trace does.
        let kinds: std::collections::BTreeSet<usize> = effects.iter().map(Effect::kind).collect();
        assert_eq!(kinds.len(), KINDS.len());
        for e in &effects {
            assert_eq!(KINDS[e.kind()], e.name());
        }
        let mut out = Vec::new();
        for e in &effects {
            for (cursor, rule) in [
                (None, None),
                (Some("s=1;i=2"), Some("rules/x.pyr:1:5")),
                (Some("c"), None),
                (None, Some("action_email")),
            ] {
                out.clear();
                e.write_trace_line(&mut out, 42, cursor, rule);
                assert_eq!(
                    String::from_utf8(out.clone()).unwrap(),
                    reference(e, 42, cursor, rule),
                    "{e:?}"
                );
            }
        }
    }
}
