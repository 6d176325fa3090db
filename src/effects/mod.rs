//! Effects: what the rules decide to do to the outside world.
//!
//! Builtins never do I/O themselves: they hand an [`Effect`] to an
//! [`EffectSink`]. `pyrusec replay` and `pyrused --dry-run` record them as
//! the effect trace (one JSON object per line, see `docs/effect-trace.md`);
//! the daemon's host layer carries them out.

pub mod host;
pub mod mail;
pub mod smtp;
pub mod trace;

use crate::vm::value::Value;
use crate::vm::Pc;

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
        let opt = |v: &Option<Value>| v.as_ref().map_or(J::Null, Value::to_json);
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
                m.insert("ip".into(), ip.to_json());
                m.insert("seconds".into(), seconds.map_or(J::Null, J::from));
            }
            Effect::CounterRaise {
                counter,
                key,
                value,
            } => {
                m.insert("counter".into(), J::String(counter.clone()));
                m.insert("key".into(), key.to_json());
                m.insert("value".into(), J::from(*value));
            }
            Effect::CounterReset { counter, key } => {
                m.insert("counter".into(), J::String(counter.clone()));
                m.insert("key".into(), key.to_json());
            }
            Effect::DnatCapture {
                saddr,
                sport,
                addr,
                port,
                daddr,
                dport,
            } => {
                m.insert("saddr".into(), saddr.to_json());
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
                m.insert(
                    "key".into(),
                    J::Array(key.iter().map(Value::to_json).collect()),
                );
                m.insert("fields".into(), object(fields));
                m.insert("seconds".into(), J::from(*seconds));
            }
            Effect::Recall { session, key, set } => {
                m.insert("session".into(), J::String(session.clone()));
                m.insert(
                    "key".into(),
                    J::Array(key.iter().map(Value::to_json).collect()),
                );
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
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
}

/// Receives effects in the order the rules decide them.
pub trait EffectSink {
    fn effect(&mut self, pc: Pc, effect: Effect);
}

/// Keeps effects in memory (tests, batching).
#[derive(Default)]
pub struct Collect(pub Vec<(Pc, Effect)>);

impl EffectSink for Collect {
    fn effect(&mut self, pc: Pc, effect: Effect) {
        self.0.push((pc, effect));
    }
}
