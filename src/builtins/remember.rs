//! `remember(session, key, fields, keepSeconds?)` and `recall(session,
//! key)`: fields of one entry restored into a later entry of the same
//! session, for failures logged without the address that an earlier line
//! of the same connection had (sshd's `Disconnecting: Too many
//! authentication failures` after `Connection from ADDR`, a mail queue id).
//!
//! - `remember` keeps the values of `fields` (those present) under the
//!   session name and the values of the `key` fields (`[_HOSTNAME, _PID]`,
//!   a queue id…) for `keepSeconds` (10 minutes by default). A filter that
//!   always passes, so the entry goes on to the next chains; an entry
//!   without one of the key fields keeps nothing.
//! - `recall` finds what is remembered under the same session and key
//!   values and writes those fields into the entry: it passes when found,
//!   and fails otherwise. The fields it may write are those the
//!   `remember` steps of the session name.
//!
//! Sessions are kept in the state (and its file) like counters, on the
//! entries' clock, at most `state::MAX_SESSIONS` of them.

use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::Effect;
use crate::state::{Remembered, SessionKey};
use crate::syntax::ast::ExprKind;
use crate::value::fields::FieldId;
use crate::vm::{Ctx, RunError};

pub static REMEMBER: Builtin = Builtin {
    name: "remember",
    kind: Kind::Filter,
    params: &[
        req("session", Ty::Str),
        req("key", Ty::FieldOrList),
        req("fields", Ty::FieldOrList),
        opt("keepSeconds", Ty::Seconds),
    ],
    summary: "keeps fields under a session key for a while (always passes)",
    doc: REMEMBER_DOC,
    operator: None,
    form: None,
    prepare: prepare_remember,
};

/// The reference of `remember` (docs/language.md, "Builtins").
const REMEMBER_DOC: &str = r#"
keeps the values of `fields` (a field or a list; those present in the
entry) under the session name and the values of the `key` fields (a field
or a list, e.g. `[_HOSTNAME, _PID]`), for `keepSeconds` (default 10
minutes). Always passes. An entry without one of the key fields, or with
none of `fields`, keeps nothing.
"#;

pub static RECALL: Builtin = Builtin {
    name: "recall",
    kind: Kind::Filter,
    params: &[req("session", Ty::Str), req("key", Ty::FieldOrList)],
    summary: "writes back the fields remembered under the session key; fails when none",
    doc: RECALL_DOC,
    operator: None,
    form: None,
    prepare: prepare_recall,
};

/// The reference of `recall` (docs/language.md, "Builtins").
const RECALL_DOC: &str = r#"
finds what was remembered under the same session and key values and
writes those fields back into the entry. Passes when something was found,
fails otherwise (also when the entry lacks one of the key fields). It can
write the fields that the `remember` steps of that session name.

sshd logs `Disconnecting: Too many authentication failures` without the
client's address, which the first line of the same connection gave:

```pyr
chain "sshd: client of the connection" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Connection from (?P<clientIP>\S+) port \d+ on /
    remember(session: "sshd", key: [_HOSTNAME, _PID], fields: [clientIP], keepSeconds: 10m)
}

chain "sshd: too many failures" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Disconnecting: Too many authentication failures/
    recall(session: "sshd", key: [_HOSTNAME, _PID]) else { noop() }
    failure(IP: clientIP, service: "sshd")
}
```
"#;

pub const DEFAULT_KEEP_SECONDS: i64 = 600;

/// A list of fields, `[field#1, field#4]` (the disassembler names them).
fn slots(fields: impl Iterator<Item = FieldId>) -> String {
    let names: Vec<String> = fields.map(|f| format!("field#{}", f.0)).collect();
    format!("[{}]", names.join(", "))
}

struct Remember {
    session: String,
    key: Vec<FieldId>,
    fields: Vec<(FieldId, String)>,
    keep_seconds: i64,
}

struct Recall {
    session: String,
    key: Vec<FieldId>,
    /// The fields the session's `remember` steps keep.
    fields: Vec<(String, FieldId)>,
}

fn prepare_remember(p: &mut Prep) -> Option<Box<dyn Step>> {
    Some(Box::new(Remember {
        session: p.string("session")?,
        key: p.fields_in("key").into_iter().map(|(id, _)| id).collect(),
        fields: p.fields_in("fields"),
        keep_seconds: p.seconds("keepSeconds").unwrap_or(DEFAULT_KEEP_SECONDS),
    }))
}

fn prepare_recall(p: &mut Prep) -> Option<Box<dyn Step>> {
    let session = p.string("session")?;
    let mut names: Vec<String> = Vec::new();
    for step in p
        .rules
        .chains
        .iter()
        .flat_map(|c| &c.steps)
        .filter(|s| s.name == "remember")
    {
        let arg = |n: &str| step.args.iter().rev().find(|a| a.name == n);
        let same = arg("session")
            .is_some_and(|a| matches!(&a.value.kind, ExprKind::Str(s) if *s == session));
        if let (true, Some(f)) = (same, arg("fields")) {
            for n in Prep::field_names(&f.value) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
    }
    let fields = names
        .into_iter()
        .map(|n| {
            let id = p.write_field(&n);
            (n, id)
        })
        .collect();
    Some(Box::new(Recall {
        session,
        key: p.fields_in("key").into_iter().map(|(id, _)| id).collect(),
        fields,
    }))
}

/// The session key of the entry; `None` when a key field is missing.
fn key_of(ctx: &mut Ctx, session: &str, fields: &[FieldId]) -> Option<SessionKey> {
    let mut values = Vec::with_capacity(fields.len());
    for &f in fields {
        values.push(ctx.get(f)?.clone());
    }
    Some((session.to_owned(), values))
}

impl Step for Remember {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        // Without its key (a line read from a file has no `_PID`), the
        // session cannot be followed: nothing to keep.
        let Some(key) = key_of(ctx, &self.session, &self.key) else {
            return Ok(true);
        };
        let mut fields = Vec::with_capacity(self.fields.len());
        for (id, name) in &self.fields {
            if let Some(v) = ctx.get(*id) {
                fields.push((name.clone(), v.clone()));
            }
        }
        if fields.is_empty() {
            return Ok(true);
        }
        let now = ctx.now;
        let until = now.saturating_add(self.keep_seconds.saturating_mul(1_000_000));
        ctx.emit(Effect::Remember {
            session: self.session.clone(),
            key: key.1.clone(),
            fields: fields.clone(),
            seconds: self.keep_seconds,
        });
        ctx.state
            .sessions
            .remember(key, Remembered { fields, until }, now);
        Ok(true)
    }

    fn describe(&self) -> String {
        format!(
            "remember(session: {}, key: {}, fields: {}, keepSeconds: {})",
            crate::syntax::notation::quote(&self.session),
            slots(self.key.iter().copied()),
            slots(self.fields.iter().map(|(f, _)| *f)),
            crate::syntax::notation::duration(self.keep_seconds)
        )
    }
}

impl Step for Recall {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        for &f in &self.key {
            ctx.load(f);
        }
        if self.key.iter().any(|&f| ctx.peek(f).is_none()) {
            return Ok(false);
        }
        let now = ctx.now;
        let found = {
            let ctx = &*ctx;
            let key = &self.key;
            ctx.state
                .sessions
                .find(&self.session, key.len(), |j| ctx.peek(key[j]), now)
                .map(|r| r.fields.clone())
        };
        let Some(set) = found else {
            return Ok(false);
        };
        let mut key = Vec::with_capacity(self.key.len());
        for &f in &self.key {
            if let Some(v) = ctx.peek(f) {
                key.push(v.clone());
            }
        }
        for (name, value) in &set {
            if let Some((_, id)) = self.fields.iter().find(|(n, _)| n == name) {
                ctx.set(*id, value.clone());
            }
        }
        ctx.emit(Effect::Recall {
            session: self.session.clone(),
            key,
            set,
        });
        Ok(true)
    }

    fn why_not(&self, ctx: &mut Ctx) -> String {
        for &f in &self.key {
            if ctx.get(f).is_none() {
                return format!("the key field field#{} is missing", f.0);
            }
        }
        format!(
            "nothing remembered in session {:?} for this key",
            self.session
        )
    }

    fn describe(&self) -> String {
        format!(
            "recall(session: {}, key: {}), writes {}",
            crate::syntax::notation::quote(&self.session),
            slots(self.key.iter().copied()),
            slots(self.fields.iter().map(|(_, f)| *f))
        )
    }
}
