//! `lowerOrEquals(field, value)` and `greaterOrEquals(field, value)`
//! (`FIELD <= v`, `FIELD >= v`): Python ordering; comparing a string with a
//! number is an error, so the filter takes its `else` branch.

use super::{req, Builtin, Kind, Prep, Step, Ty};
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};
use std::cmp::Ordering;

pub static LOWER_OR_EQUALS: Builtin = Builtin {
    name: "lowerOrEquals",
    kind: Kind::Filter,
    params: &[req("field", Ty::Field), req("value", Ty::Const)],
    summary: "passes when the field is present and lower than or equal to the value",
    doc: LOWER_OR_EQUALS_DOC,
    operator: Some("<="),
    form: Some("F <= v"),
    prepare: prepare_le,
};

/// The reference of `lowerOrEquals` (docs/language.md, "Builtins").
const LOWER_OR_EQUALS_DOC: &str = r#"
passes when the field is present and lower than or equal to the
constant. Ordering a string against a number is a run-time error (the
filter takes its `else`).
"#;

pub static GREATER_OR_EQUALS: Builtin = Builtin {
    name: "greaterOrEquals",
    kind: Kind::Filter,
    params: &[req("field", Ty::Field), req("value", Ty::Const)],
    summary: "passes when the field is present and greater than or equal to the value",
    doc: GREATER_OR_EQUALS_DOC,
    operator: Some(">="),
    form: Some("F >= v"),
    prepare: prepare_ge,
};

/// The reference of `greaterOrEquals` (docs/language.md, "Builtins").
const GREATER_OR_EQUALS_DOC: &str = r#"
passes when the field is present and greater than or equal to the
constant. Ordering a string against a number is a run-time error (the
filter takes its `else`).
"#;

struct Compare {
    field: FieldId,
    value: Value,
    /// The ordering that fails the test.
    fails_on: Ordering,
}

fn prepare_le(p: &mut Prep) -> Option<Box<dyn Step>> {
    prepare(p, Ordering::Greater)
}

fn prepare_ge(p: &mut Prep) -> Option<Box<dyn Step>> {
    prepare(p, Ordering::Less)
}

fn prepare(p: &mut Prep, fails_on: Ordering) -> Option<Box<dyn Step>> {
    let field = p.field("field")?;
    let value = Prep::constant(p.arg("value")?)?;
    Some(Box::new(Compare {
        field,
        value,
        fails_on,
    }))
}

impl Step for Compare {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        match ctx.get(self.field) {
            None => Ok(false),
            Some(v) => match v.py_cmp(&self.value) {
                Ok(o) => Ok(o != self.fails_on),
                Err(e) => Err(RunError::step(e.to_string())),
            },
        }
    }

    fn why_not(&self, ctx: &mut Ctx) -> String {
        let op = if self.fails_on == Ordering::Greater {
            "<="
        } else {
            ">="
        };
        let value = crate::vm::explain::shown(&self.value);
        crate::vm::explain::why_not_value(ctx, self.field, &format!("{op} {value}"))
    }

    fn describe(&self) -> String {
        let op = if self.fails_on == Ordering::Greater {
            "<="
        } else {
            ">="
        };
        format!(
            "field#{} {op} {}",
            self.field.0,
            crate::syntax::notation::value(&self.value)
        )
    }
}
