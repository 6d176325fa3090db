//! `dailyReport(level, message, details?)`: records the message for the
//! next daily report, in section WARN, INFO or OTHER (any other level).

use super::prep::Tpl;
use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::diag::Code;
use crate::effects::Effect;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "dailyReport",
    kind: Kind::Action,
    params: &[
        req("level", Ty::Str),
        req("message", Ty::Template),
        opt("details", Ty::Str),
    ],
    summary: "records the message for the daily report (WARN, INFO or OTHER section)",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `dailyReport` (docs/language.md, "Builtins").
const DOC: &str = r#"
records the message (a template) for the next daily report, in section
`WARN`, `INFO`, or `OTHER` (any other `level`). `details` says which times
the report shows for a message: `ALL` (default: every occurrence),
`NONE`, `FIRST`, `LAST`, `FIRSTLAST`; another value is an error when the
rules are checked. Messages that differ only by addresses, numbers, hex
ids or user names are grouped into one line of the report (all of them
in `OTHER`, more than five in `WARN` and `INFO`; see
docs/daily-report.md).
"#;

pub const DETAILS: [&str; 5] = ["ALL", "NONE", "FIRST", "LAST", "FIRSTLAST"];

struct DailyReport {
    level: &'static str,
    details: &'static str,
    message: Tpl,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let level = match p.string("level")?.as_str() {
        "WARN" => "WARN",
        "INFO" => "INFO",
        _ => "OTHER",
    };
    let details = match p.string("details") {
        None => "ALL",
        Some(d) => match DETAILS.iter().find(|x| **x == d) {
            Some(x) => x,
            None => {
                let span = p.arg("details").map_or(p.step_span(), |e| e.span);
                let hint = crate::diag::did_you_mean(&d, DETAILS)
                    .map_or(String::new(), |s| format!("did you mean `{s}`? "));
                p.error(
                    Code::InvalidValue,
                    span,
                    format!("unknown details mode `{d}`"),
                    format!("{hint}modes are {}", DETAILS.join(", ")),
                );
                return None;
            }
        },
    };
    let message = p.template("message")?;
    Some(Box::new(DailyReport {
        level,
        details,
        message,
    }))
}

impl Step for DailyReport {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let message = self.message.render(ctx)?;
        ctx.emit(Effect::DailyReport {
            level: self.level,
            message,
            details: self.details,
        });
        Ok(true)
    }

    fn describe(&self) -> String {
        format!(
            "dailyReport(level: \"{}\", message: {}, details: \"{}\")",
            self.level,
            self.message.source(),
            self.details
        )
    }
}
