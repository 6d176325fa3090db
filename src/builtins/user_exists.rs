//! `userExists(field)`: the field is the name of a local user (getpwnam,
//! so NSS sources such as LDAP count), or of a user in a passwd-format file
//! given to `pyrusec replay --passwd` to reproduce another machine.

use super::{not_text, req, Builtin, Kind, Prep, Step, Ty};
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};
use std::collections::HashSet;

pub static BUILTIN: Builtin = Builtin {
    name: "userExists",
    kind: Kind::Filter,
    params: &[req("field", Ty::Field)],
    summary: "passes when the field names a user of this system",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `userExists` (docs/language.md, "Builtins").
const DOC: &str = r#"
passes when the value is the name of a user of this system (as `getpwnam`
finds it, so NSS sources count). A missing field, or a value that is not
text, is a run-time error (the filter takes its `else`). `pyrusec replay
--passwd FILE` and `pyrused --passwd FILE` use a passwd-format file
instead.
"#;

pub use crate::vm::UserDb;

/// The system's user database.
pub struct SystemUsers;

impl UserDb for SystemUsers {
    fn exists(&self, name: &str) -> bool {
        if name.contains('\0') {
            return false;
        }
        matches!(nix::unistd::User::from_name(name), Ok(Some(_)))
    }
}

/// Users listed in a passwd-format file.
#[derive(Clone, Debug)]
pub struct PasswdFile(pub HashSet<String>);

impl PasswdFile {
    pub fn parse(text: &str) -> PasswdFile {
        PasswdFile(
            text.lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .filter_map(|l| l.split(':').next())
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

impl UserDb for PasswdFile {
    fn exists(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

struct UserExists {
    field: FieldId,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let field = p.field("field")?;
    Some(Box::new(UserExists { field }))
}

impl Step for UserExists {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let users = ctx.users;
        match ctx.get(self.field) {
            None => Err(RunError::step("the field is missing")),
            Some(Value::Str(s)) => Ok(users.exists(s)),
            Some(v) => Err(not_text("a user name", v)),
        }
    }

    fn why_not(&self, ctx: &mut Ctx) -> String {
        match ctx.get(self.field) {
            Some(v) => format!(
                "no user named {} (field#{})",
                crate::vm::explain::shown(v),
                self.field.0
            ),
            None => format!("field#{} is missing", self.field.0),
        }
    }

    fn describe(&self) -> String {
        format!("userExists(field: field#{})", self.field.0)
    }
}
