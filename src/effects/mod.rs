//! Effects: what the rules decide to do to the outside world.
//!
//! Builtins never do I/O themselves: they hand an [`Effect`] to an
//! [`EffectSink`]. `pyrusec replay` and `pyrused --dry-run` record them as
//! the effect trace (one JSON object per line, see `docs/effect-trace.md`);
//! the daemon's host layer carries them out.

use crate::value::Value;

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

impl Effect {
    /// The `effect` name in the trace.
    pub fn name(&self) -> &'static str {
        match self {
            Effect::Noop => "noop",
            Effect::DailyReport { .. } => "dailyReport",
            Effect::Email { .. } => "email",
            Effect::Log { .. } => "log",
            Effect::NftBan { .. } => "nftBan",
            Effect::IpsetBan { .. } => "ipsetBan",
            Effect::CounterRaise { .. } => "counterRaise",
            Effect::CounterReset { .. } => "counterReset",
            Effect::DnatCapture { .. } => "dnatCapture",
            Effect::DnatReplace { .. } => "dnatReplace",
            Effect::Remember { .. } => "remember",
            Effect::Recall { .. } => "recall",
            Effect::ActionError { .. } => "error",
        }
    }

    /// The effect as a trace object (without `entry`, `cursor`, `rule`).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value as J;
        let mut m = serde_json::Map::new();
        m.insert("effect".into(), J::String(self.name().into()));
        let opt = |v: &Option<Value>| v.as_ref().map_or(J::Null, value_json);
        match self {
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
