//! `email(message, subject?)`: sends a text mail with the core `email`
//! settings. In legacy files (`compat pyruse`, JSON) the subject is sent as
//! written, as Pyruse did; in native `.pyr` it is a template too.

use super::prep::Tpl;
use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::Effect;
use crate::syntax::ast::Compat;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "email",
    kind: Kind::Action,
    params: &[req("message", Ty::Template), opt("subject", Ty::Template)],
    summary: "sends the message by mail (subject default: Pyruse Notification)",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `email` (docs/language.md, "Builtins").
const DOC: &str = r#"
mails the message (a template) to `email.to`, from `email.from` (see
[Settings](#settings)). `subject` defaults to `Pyruse Notification`; it is
a template in native `.pyr`, literal with `compat pyruse` and in
`pyruse.json`.
"#;

pub const DEFAULT_SUBJECT: &str = "Pyruse Notification";

enum Subject {
    Literal(String),
    Template(Tpl),
}

struct Email {
    subject: Subject,
    message: Tpl,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let subject = match (p.compat, p.arg("subject").is_some()) {
        (_, false) => Subject::Literal(DEFAULT_SUBJECT.into()),
        (Compat::Pyruse, true) => Subject::Literal(p.string("subject")?),
        (Compat::Native, true) => Subject::Template(p.template("subject")?),
    };
    let message = p.template("message")?;
    Some(Box::new(Email { subject, message }))
}

impl Step for Email {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let subject = match &self.subject {
            Subject::Literal(s) => s.clone(),
            Subject::Template(t) => t.render(ctx)?,
        };
        let message = self.message.render(ctx)?;
        ctx.emit(Effect::Email { subject, message });
        Ok(true)
    }

    fn describe(&self) -> String {
        let subject = match &self.subject {
            // Sent as written: as a `.pyr` template, with its braces doubled.
            Subject::Literal(s) => {
                crate::syntax::notation::quote(&s.replace('{', "{{").replace('}', "}}"))
            }
            Subject::Template(t) => t.source(),
        };
        format!(
            "email(subject: {subject}, message: {})",
            self.message.source()
        )
    }
}
