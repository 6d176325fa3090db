//! `equals(field, value)`, `FIELD == value`: the field is present and equal
//! (Python `==`: an int never equals a string).

use super::{req, Builtin, Kind, Prep, Step, Ty};
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "equals",
    kind: Kind::Filter,
    params: &[req("field", Ty::Field), req("value", Ty::Const)],
    summary: "passes when the field is present and equal to the value",
    doc: DOC,
    operator: Some("=="),
    form: Some("F == v"),
    prepare,
};

/// The reference of `equals` (docs/language.md, "Builtins").
const DOC: &str = r#"
passes when the field is present and equal to the constant (an integer
never equals a string: `PRIORITY == "4"` never passes, and the checker
warns).
"#;

struct Equals {
    field: FieldId,
    value: Value,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let field = p.field("field")?;
    let value = Prep::constant(p.arg("value")?)?;
    Some(Box::new(Equals { field, value }))
}

impl Step for Equals {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        Ok(ctx.get(self.field).is_some_and(|v| v.py_eq(&self.value)))
    }

    fn pure_on(&self) -> Option<FieldId> {
        Some(self.field)
    }

    fn why_not(&self, ctx: &mut Ctx) -> String {
        let wanted = crate::vm::explain::shown(&self.value);
        crate::vm::explain::why_not_value(ctx, self.field, &wanted)
    }

    fn describe(&self) -> String {
        format!(
            "field#{} == {}",
            self.field.0,
            crate::syntax::notation::value(&self.value)
        )
    }
}
