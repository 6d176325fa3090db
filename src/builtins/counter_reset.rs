//! `counterReset(counter, for, graceSeconds?, save?)`: forgets the ticks of
//! the field's value, optionally starting a grace period during which
//! raises count nothing; saves 0.

use super::counter_raise::CounterStep;
use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::Effect;
use crate::value::Value;
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
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `counterReset` (docs/language.md, "Builtins").
const DOC: &str = r#"
forgets the events of the value of the field `for` in the counter named
`counter`; with `graceSeconds`, starts a grace period during which
`counterRaise` counts nothing. Saves 0 into `save`. A missing `for` field
is an action error.
"#;

struct CounterReset(CounterStep);

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    Some(Box::new(CounterReset(CounterStep::prepare(
        p,
        "graceSeconds",
    )?)))
}

impl Step for CounterReset {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let c = &self.0;
        let key = c.key(ctx)?;
        let now = ctx.now;
        ctx.state
            .counters
            .reset(c.counter, &key, c.duration_us, now);
        if let Some(s) = c.save {
            ctx.set(s, Value::Int(0));
        }
        ctx.emit(Effect::CounterReset {
            counter: c.name.clone(),
            key,
        });
        Ok(true)
    }

    fn describe(&self) -> String {
        self.0.describe("counterReset", "graceSeconds")
    }
}
