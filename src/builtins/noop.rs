//! `noop()`: does nothing; used to end an entry's processing on purpose.

use super::{Builtin, Kind, Prep, Step};
use crate::effects::Effect;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "noop",
    kind: Kind::Action,
    params: &[],
    summary: "does nothing (ends the entry when it is the last step of its chain)",
    operator: None,
    prepare,
};

struct Noop;

fn prepare(_: &mut Prep) -> Option<Box<dyn Step>> {
    Some(Box::new(Noop))
}

impl Step for Noop {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        ctx.emit(Effect::Noop);
        Ok(true)
    }

    fn describe(&self) -> String {
        "noop()".into()
    }
}
