//! `pcre(field, re, save?)`, `FIELD =~ /re/ save [a, b]`: a regex search
//! (not anchored) in the field; a missing field is searched as an empty
//! string. On a match the n-th name of `save` gets group n, and every named
//! group is saved under its name; a group that did not take part saves
//! `None`.

use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::diag::{Code, Diagnostic};
use crate::python::re::Matcher;
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "pcre",
    kind: Kind::Filter,
    params: &[
        req("field", Ty::Field),
        req("re", Ty::Regex),
        opt("save", Ty::FieldList),
    ],
    summary: "passes when the regex finds a match in the field; saves the groups",
    doc: DOC,
    operator: None,
    form: Some("F =~ /re/ save [a, b]"),
    prepare,
};

/// The reference of `pcre` (docs/language.md, "Builtins").
const DOC: &str = r#"
searches the field (the regex is not anchored: use `^` and `$`; an absent
field is searched as an empty string). On a match it saves the named
groups, and group *n* under the *n*-th name of `save`; a group that did
not take part in the match is saved as `null`. `save` naming more fields
than the regex has groups is a warning: every match then fails after
saving the first names (a run-time error: the filter takes its `else`).
Searching a value that is not text (an integer field such as `_PID`) is a
run-time error too. `F =~ /re/` is `pcre` without `save`.
"#;

/// A compiled regex with the slots its groups are saved into.
pub struct Capturing {
    pub matcher: Matcher,
    /// (group index, slot): positional `save` names first, then named groups.
    pub saves: Vec<(usize, FieldId)>,
    /// A positional save beyond the last group: Python raises after saving
    /// the names before it.
    pub overflow: bool,
    /// How many of `saves` come from `save` (the others, named groups).
    positional: usize,
}

impl Capturing {
    pub fn new(p: &mut Prep, matcher: Matcher, save: &[FieldId]) -> Capturing {
        let groups = matcher.group_count();
        let mut saves: Vec<(usize, FieldId)> = save
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < groups)
            .map(|(i, &f)| (i + 1, f))
            .collect();
        let overflow = save.len() > groups;
        let positional = saves.len();
        for (idx, name) in matcher.group_names() {
            let id = p.write_field(&name);
            saves.push((idx, id));
        }
        Capturing {
            matcher,
            saves,
            overflow,
            positional,
        }
    }

    /// Whether a search only says whether the text matches: it saves no
    /// group and cannot fail on `save`.
    pub fn is_pure(&self) -> bool {
        self.saves.is_empty() && !self.overflow
    }

    /// Search `field`; on a match, save the groups.
    pub fn run(&self, ctx: &mut Ctx, field: FieldId) -> Result<bool, RunError> {
        let mut groups = std::mem::take(&mut ctx.groups);
        let result = self.search(ctx, field, &mut groups);
        ctx.groups = groups;
        result
    }

    fn search(
        &self,
        ctx: &mut Ctx,
        field: FieldId,
        groups: &mut Vec<Option<(usize, usize)>>,
    ) -> Result<bool, RunError> {
        let text = match ctx.get(field) {
            None => "",
            Some(Value::Str(s)) => s.as_str(),
            Some(v) => {
                return Err(RunError::step(format!(
                    "cannot use a string pattern on a {} value",
                    v.type_name()
                )))
            }
        };
        if !self.matcher.search(text, groups).map_err(RunError::Step)? {
            return Ok(false);
        }
        let found: Vec<(FieldId, Value)> = self
            .saves
            .iter()
            .map(|&(g, id)| {
                let v = groups
                    .get(g)
                    .copied()
                    .flatten()
                    .and_then(|(s, e)| text.get(s..e))
                    .map_or(Value::None, |t| Value::Str(t.to_owned()));
                (id, v)
            })
            .collect();
        for (id, v) in found {
            ctx.set(id, v);
        }
        if self.overflow {
            return Err(RunError::step(
                "`save` names more groups than the regex has",
            ));
        }
        Ok(true)
    }
}

impl Capturing {
    /// The regex and where its groups go, for the disassembler.
    pub fn describe(&self) -> String {
        let source = self.matcher.source();
        let re = crate::syntax::notation::regex_literal(source)
            .unwrap_or_else(|| format!("re({})", crate::syntax::notation::quote(source)));
        let saves: Vec<String> = self.saves[..self.positional]
            .iter()
            .map(|(_, f)| format!("field#{}", f.0))
            .collect();
        if saves.is_empty() {
            re
        } else {
            format!("{re} save [{}]", saves.join(", "))
        }
    }
}

/// Why a search of `field` found nothing, for `replay --explain`.
pub fn subject_did_not_match(ctx: &mut Ctx, field: FieldId, regexes: &str) -> String {
    match ctx.get(field) {
        None => format!(
            "field#{} is missing (searched as \"\") and did not match {regexes}",
            field.0
        ),
        Some(v) => format!(
            "field#{} {} did not match {regexes}",
            field.0,
            crate::vm::explain::shown(v)
        ),
    }
}

struct Pcre {
    field: FieldId,
    re: Capturing,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let field = p.field("field")?;
    let save = p.fields_out("save");
    let matcher = p.regex("re")?;
    if save.len() > matcher.group_count() {
        if let Some(e) = p.arg("save") {
            p.diags.push(
                Diagnostic::warning(
                    Code::InvalidValue,
                    e.span,
                    format!(
                        "`save` names {} fields but the regex has {} groups",
                        save.len(),
                        matcher.group_count()
                    ),
                )
                .with_help("every match will fail after saving the first names; remove the extra names or add groups"),
            );
        }
    }
    let re = Capturing::new(p, matcher, &save);
    Some(Box::new(Pcre { field, re }))
}

impl Step for Pcre {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        self.re.run(ctx, self.field)
    }

    fn pure_on(&self) -> Option<FieldId> {
        self.re.is_pure().then_some(self.field)
    }

    fn why_not(&self, ctx: &mut Ctx) -> String {
        subject_did_not_match(ctx, self.field, &self.re.matcher.describe())
    }

    fn describe(&self) -> String {
        format!("field#{} =~ {}", self.field.0, self.re.describe())
    }
}
