//! `counterReset(counter, for, graceSeconds?, save?)`: forgets the ticks of
//! the field's value, optionally starting a grace period during which
//! raises count nothing; saves 0.

use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::Effect;
use crate::state::CounterId;
use crate::vm::fields::FieldId;
use crate::vm::value::Value;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "counterReset",
    kind: Kind::Action,
    params: &[
        req("counter", Ty::Str),
        req("for", Ty::Field),
        opt("graceSeconds", Ty::Seconds),
        opt("save", Ty::Field),
    ],
    summary: "resets the count of the field's value, with an optional grace period",
    prepare,
};

struct CounterReset {
    name: String,
    counter: CounterId,
    key: FieldId,
    grace_us: Option<i64>,
    save: Option<FieldId>,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let name = p.string("counter")?;
    let counter = p.counter(&name);
    let key = p.field("for")?;
    let grace_us = p
        .seconds("graceSeconds")
        .map(|s| s.saturating_mul(1_000_000));
    let save = p.field_out("save");
    Some(Box::new(CounterReset {
        name,
        counter,
        key,
        grace_us,
        save,
    }))
}

impl Step for CounterReset {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let key = ctx
            .get(self.key)
            .cloned()
            .ok_or_else(|| RunError("the `for` field is missing".into()))?;
        let now = ctx.now;
        ctx.state
            .counters
            .reset(self.counter, &key, self.grace_us, now);
        if let Some(s) = self.save {
            ctx.set(s, Value::Int(0));
        }
        ctx.emit(Effect::CounterReset {
            counter: self.name.clone(),
            key,
        });
        Ok(true)
    }

    fn describe(&self) -> String {
        let mut s = format!("counterReset({:?}, for: field#{}", self.name, self.key.0);
        if let Some(us) = self.grace_us {
            s.push_str(&format!(", grace: {}s", us / 1_000_000));
        }
        if let Some(f) = self.save {
            s.push_str(&format!(", save: field#{}", f.0));
        }
        s.push(')');
        s
    }
}
