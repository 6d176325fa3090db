//! `counterRaise(counter, for, keepSeconds?, save?)`: adds a tick for the
//! value of field `for` in the counter, and saves the live count (0 while
//! the key is in a grace period).

use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::Effect;
use crate::state::CounterId;
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "counterRaise",
    kind: Kind::Action,
    params: &[
        req("counter", Ty::Str),
        req("for", Ty::Field),
        opt("keepSeconds", Ty::Seconds),
        opt("save", Ty::Field),
    ],
    summary: "counts one more event for the field's value; saves the count",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `counterRaise` (docs/language.md, "Builtins").
const DOC: &str = r#"
adds one event for the value of the field `for` in the counter named
`counter` (a string), expiring after `keepSeconds` (never, without it),
and saves the number of live events (an integer) into the field `save`.
During a grace period it counts nothing and saves 0. A missing `for`
field is an action error.
"#;

/// What counterRaise and counterReset share: the counter, the key field,
/// a duration (keep or grace) and the field the result is saved in.
pub struct CounterStep {
    pub name: String,
    pub counter: CounterId,
    pub key: FieldId,
    pub duration_us: Option<i64>,
    pub save: Option<FieldId>,
}

impl CounterStep {
    pub fn prepare(p: &mut Prep, duration: &str) -> Option<CounterStep> {
        let name = p.string("counter")?;
        Some(CounterStep {
            counter: p.counter(&name),
            name,
            key: p.field("for")?,
            duration_us: p.seconds(duration).map(|s| s.saturating_mul(1_000_000)),
            save: p.field_out("save"),
        })
    }

    /// The value of the `for` field: a missing one fails the action.
    pub fn key(&self, ctx: &mut Ctx) -> Result<Value, RunError> {
        ctx.get(self.key)
            .cloned()
            .ok_or_else(|| RunError::step("the `for` field is missing"))
    }

    pub fn describe(&self, builtin: &str, duration: &str) -> String {
        let mut s = format!(
            "{builtin}(counter: {}, for: field#{}",
            crate::syntax::notation::quote(&self.name),
            self.key.0
        );
        if let Some(us) = self.duration_us {
            s.push_str(&format!(
                ", {duration}: {}",
                crate::syntax::notation::duration(us / 1_000_000)
            ));
        }
        if let Some(f) = self.save {
            s.push_str(&format!(", save: field#{}", f.0));
        }
        s.push(')');
        s
    }
}

struct CounterRaise(CounterStep);

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    Some(Box::new(CounterRaise(CounterStep::prepare(
        p,
        "keepSeconds",
    )?)))
}

impl Step for CounterRaise {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let c = &self.0;
        let key = c.key(ctx)?;
        let now = ctx.now;
        let value = ctx
            .state
            .counters
            .raise(c.counter, &key, c.duration_us, now);
        if let Some(s) = c.save {
            ctx.set(s, Value::Int(value));
        }
        ctx.emit(Effect::CounterRaise {
            counter: c.name.clone(),
            key,
            value,
        });
        Ok(true)
    }

    fn describe(&self) -> String {
        self.0.describe("counterRaise", "keepSeconds")
    }
}
