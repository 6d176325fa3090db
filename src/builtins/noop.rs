//! `noop()`: does nothing; used to end an entry's processing on purpose.

use super::{Builtin, Kind, Prep, Step};
use crate::effects::Effect;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "noop",
    kind: Kind::Action,
    params: &[],
    summary: "does nothing (ends the entry when it is the last step of its chain)",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `noop` (docs/language.md, "Builtins").
const DOC: &str = r#"
does nothing. Last in a chain or block, it ends the entry.
"#;

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
