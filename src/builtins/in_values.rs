//! `in(field, values)`, `FIELD in [a, b]`: the field is present and equal to
//! one of the values.

use super::{req, Builtin, Kind, Prep, Step, Ty};
use crate::syntax::ast::ExprKind;
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "in",
    kind: Kind::Filter,
    params: &[req("field", Ty::Field), req("values", Ty::ConstList)],
    summary: "passes when the field is present and equal to one of the values",
    doc: DOC,
    operator: Some("in"),
    form: Some("F in [a, b]"),
    prepare,
};

/// The reference of `in` (docs/language.md, "Builtins").
const DOC: &str = r#"
passes when the field is present and equal to one of the constants (an
integer never equals a string).
"#;

struct In {
    field: FieldId,
    values: Vec<Value>,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let field = p.field("field")?;
    let ExprKind::List(items) = &p.arg("values")?.kind else {
        return None;
    };
    let values = items
        .iter()
        .map(Prep::constant)
        .collect::<Option<Vec<_>>>()?;
    Some(Box::new(In { field, values }))
}

impl Step for In {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        Ok(ctx
            .get(self.field)
            .is_some_and(|v| self.values.iter().any(|c| v.py_eq(c))))
    }

    fn pure_on(&self) -> Option<FieldId> {
        Some(self.field)
    }

    fn why_not(&self, ctx: &mut Ctx) -> String {
        let list: Vec<String> = self.values.iter().map(crate::vm::explain::shown).collect();
        let wanted = format!("one of [{}]", list.join(", "));
        crate::vm::explain::why_not_value(ctx, self.field, &wanted)
    }

    fn describe(&self) -> String {
        format!(
            "field#{} in {}",
            self.field.0,
            crate::syntax::notation::value(&Value::List(self.values.clone()))
        )
    }
}
