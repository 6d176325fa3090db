//! `log(message, level?)`: writes the message to the journal at a priority
//! (`SYSLOG_IDENTIFIER=pyruse`), where recidive rules read it back.

use super::prep::Tpl;
use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::diag::Code;
use crate::effects::Effect;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "log",
    kind: Kind::Action,
    params: &[req("message", Ty::Template), opt("level", Ty::Str)],
    summary: "logs the message to the journal (level EMERG … DEBUG, default INFO)",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `log` (docs/language.md, "Builtins").
const DOC: &str = r#"
writes the message (a template) to the journal with
`SYSLOG_IDENTIFIER=pyruse`, at `level`: `EMERG`, `ALERT`, `CRIT`, `ERR`,
`WARNING`, `NOTICE`, `INFO` (default) or `DEBUG`; another level is an
error when the rules are checked. Rules can read these lines back
(recidive).
"#;

pub use crate::effects::LEVELS;

struct Log {
    level: &'static str,
    message: Tpl,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let level = match p.string("level") {
        None => "INFO",
        Some(l) => match LEVELS.iter().find(|x| **x == l) {
            Some(x) => x,
            None => {
                let span = p.arg("level").map_or(p.step_span(), |e| e.span);
                let hint = crate::diag::did_you_mean(&l, LEVELS)
                    .map_or(String::new(), |s| format!("did you mean `{s}`? "));
                p.error(
                    Code::InvalidValue,
                    span,
                    format!("unknown log level `{l}`"),
                    format!("{hint}levels are {}", LEVELS.join(", ")),
                );
                return None;
            }
        },
    };
    let message = p.template("message")?;
    Some(Box::new(Log { level, message }))
}

impl Step for Log {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let message = self.message.render(ctx)?;
        ctx.emit(Effect::Log {
            level: self.level,
            message,
        });
        Ok(true)
    }

    fn describe(&self) -> String {
        format!(
            "log(level: \"{}\", message: {})",
            self.level,
            self.message.source()
        )
    }
}
