//! `counterRaise(counter, for, keepSeconds?, save?)`: adds a tick for the
//! value of field `for` in the counter, and saves the live count (0 while
//! the key is in a grace period).

use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::Effect;
use crate::state::CounterId;
use crate::vm::fields::FieldId;
use crate::vm::value::Value;
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
    prepare,
};

struct CounterRaise {
    name: String,
    counter: CounterId,
    key: FieldId,
    keep_us: Option<i64>,
    save: Option<FieldId>,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let name = p.string("counter")?;
    let counter = p.counter(&name);
    let key = p.field("for")?;
    let keep_us = p
        .seconds("keepSeconds")
        .map(|s| s.saturating_mul(1_000_000));
    let save = p.field_out("save");
    Some(Box::new(CounterRaise {
        name,
        counter,
        key,
        keep_us,
        save,
    }))
}

impl Step for CounterRaise {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let key = ctx
            .get(self.key)
            .cloned()
            .ok_or_else(|| RunError("the `for` field is missing".into()))?;
        let now = ctx.now;
        let value = ctx
            .state
            .counters
            .raise(self.counter, &key, self.keep_us, now);
        if let Some(s) = self.save {
            ctx.set(s, Value::Int(value));
        }
        ctx.emit(Effect::CounterRaise {
            counter: self.name.clone(),
            key,
            value,
        });
        Ok(true)
    }

    fn describe(&self) -> String {
        let mut s = format!("counterRaise({:?}, for: field#{}", self.name, self.key.0);
        if let Some(us) = self.keep_us {
            s.push_str(&format!(", keep: {}s", us / 1_000_000));
        }
        if let Some(f) = self.save {
            s.push_str(&format!(", save: field#{}", f.0));
        }
        s.push(')');
        s
    }
}
