//! `pcreAny(field, re)`, `FIELD =~ any [/a/, /b/]`: the first regex of the
//! list that finds a match wins; its named groups are saved.

use super::pcre::Capturing;
use super::{req, Builtin, Kind, Prep, Step, Ty};
use crate::value::fields::FieldId;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "pcreAny",
    kind: Kind::Filter,
    params: &[req("field", Ty::Field), req("re", Ty::RegexList)],
    summary:
        "passes when one of the regexes finds a match; the first that does saves its named groups",
    doc: DOC,
    operator: None,
    form: Some("F =~ any [/a/, /b/]"),
    prepare,
};

/// The reference of `pcreAny` (docs/language.md, "Builtins").
const DOC: &str = r#"
`re` is a list of regexes, tried in order; the first that matches wins and
saves its named groups. Each regex searches the field as `pcre` does.
"#;

struct PcreAny {
    field: FieldId,
    res: Vec<Capturing>,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let field = p.field("field")?;
    let matchers = p.regexes("re")?;
    let res = matchers
        .into_iter()
        .map(|m| Capturing::new(p, m, &[]))
        .collect();
    Some(Box::new(PcreAny { field, res }))
}

impl Step for PcreAny {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        for re in &self.res {
            if re.run(ctx, self.field)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn pure_on(&self) -> Option<FieldId> {
        self.res
            .iter()
            .all(Capturing::is_pure)
            .then_some(self.field)
    }

    fn why_not(&self, ctx: &mut Ctx) -> String {
        let n = self.res.len();
        let what = if n == 1 {
            self.res.iter().map(|r| r.matcher.describe()).collect()
        } else {
            format!("any of its {n} regexes")
        };
        super::pcre::subject_did_not_match(ctx, self.field, &what)
    }

    fn describe(&self) -> String {
        let res: Vec<String> = self.res.iter().map(Capturing::describe).collect();
        format!("field#{} =~ any [{}]", self.field.0, res.join(", "))
    }
}
