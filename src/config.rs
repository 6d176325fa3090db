//! Core settings of a rule set: mail, storage, command prefixes, decoding.
//!
//! In `pyruse.json` these are the top-level keys other than `actions`
//! (docs/legacy-semantics.md §1); in `.pyr` they are `set KEY = VALUE` lines with the same
//! names, dotted (`set email.to = [...]`). Defaults are Pyruse's.

use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::syntax::ast::{ExprKind, RuleSet};
use crate::value::fields::Encoding;

/// SMTP delivery, an option of `.pyr` rule sets (Pyruse only had sendmail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: Option<u16>,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub user: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub email_from: String,
    pub email_to: Vec<String>,
    pub email_subject: String,
    pub sendmail: Vec<String>,
    pub smtp: Option<Smtp>,
    pub storage: String,
    pub message_encoding: Encoding,
    pub debug: bool,
    pub nft: Vec<String>,
    pub ipset: Vec<String>,
    /// Hour and minute of the day the daily report is sent (local time).
    pub report_time: (u8, u8),
}

impl Default for Config {
    fn default() -> Config {
        Config {
            email_from: "pyruse".into(),
            email_to: vec!["hostmaster".into()],
            email_subject: "Pyruse Report".into(),
            sendmail: vec!["/usr/bin/sendmail".into(), "-t".into()],
            smtp: None,
            storage: "/var/lib/pyruse".into(),
            message_encoding: Encoding::Latin1,
            debug: false,
            nft: vec!["/usr/bin/nft".into()],
            ipset: vec!["/usr/bin/ipset".into(), "-exist".into(), "-quiet".into()],
            report_time: (0, 0),
        }
    }
}

pub use crate::syntax::ast::SETTING_KEYS as KEYS;

impl Config {
    /// Read the settings of a rule set, reporting bad values.
    pub fn from_rules(rules: &RuleSet, diags: &mut Vec<Diagnostic>) -> Config {
        let mut c = Config::default();
        let mut smtp_host = None;
        let mut smtp = Smtp {
            host: String::new(),
            port: None,
            security: "starttls".into(),
            user: None,
            password: None,
        };
        for s in &rules.settings {
            let v = &s.value;
            let mut bad = |want: &str| {
                diags.push(
                    Diagnostic::error(
                        Code::ArgumentType,
                        v.span,
                        format!("`{}` expects {want}, not {}", s.key, v.describe()),
                    )
                    .with_help(format!("write {want} here")),
                );
            };
            let string = |e: &ExprKind| match e {
                ExprKind::Str(x) => Some(x.clone()),
                _ => None,
            };
            let strings = |e: &ExprKind| match e {
                ExprKind::List(items) => items.iter().map(|i| string(&i.kind)).collect(),
                _ => None,
            };
            match s.key.as_str() {
                "email.from" => match string(&v.kind) {
                    Some(x) => c.email_from = x,
                    None => bad("a string"),
                },
                "email.to" => match strings(&v.kind) {
                    Some(x) => c.email_to = x,
                    None => bad("a list of strings"),
                },
                "email.subject" => match string(&v.kind) {
                    Some(x) => c.email_subject = x,
                    None => bad("a string"),
                },
                "email.sendmail" => match strings(&v.kind) {
                    Some(x) if !x.is_empty() => c.sendmail = x,
                    _ => bad("a non-empty list of strings (the command and its arguments)"),
                },
                "email.smtp.host" => match string(&v.kind) {
                    Some(x) => smtp_host = Some(x),
                    None => bad("a string"),
                },
                "email.smtp.port" => match v.kind {
                    ExprKind::Int(p) if (1..=65535).contains(&p) => smtp.port = Some(p as u16),
                    _ => bad("a port number"),
                },
                "email.smtp.security" => match string(&v.kind).as_deref() {
                    Some(x @ ("none" | "starttls" | "tls")) => smtp.security = x.into(),
                    _ => bad("\"none\", \"starttls\" or \"tls\""),
                },
                "email.smtp.user" => match string(&v.kind) {
                    Some(x) => smtp.user = Some(x),
                    None => bad("a string"),
                },
                "email.smtp.password" => match string(&v.kind) {
                    Some(x) => smtp.password = Some(x),
                    None => bad("a string"),
                },
                "storage" => match string(&v.kind) {
                    Some(x) => c.storage = x,
                    None => bad("a string"),
                },
                "8bit-message-encoding" => match string(&v.kind) {
                    Some(x) => match Encoding::from_python_name(&x) {
                        Some(e) => c.message_encoding = e,
                        None => diags.push(
                            Diagnostic::error(
                                Code::InvalidValue,
                                v.span,
                                format!("unsupported encoding `{x}`"),
                            )
                            .with_help("use iso-8859-1 (latin-1), iso-8859-15, cp1252 or ascii"),
                        ),
                    },
                    None => bad("a string"),
                },
                "debug" => match v.kind {
                    ExprKind::Bool(b) => c.debug = b,
                    _ => bad("true or false"),
                },
                "nftBan.nft" => match strings(&v.kind) {
                    Some(x) if !x.is_empty() => c.nft = x,
                    _ => bad("a non-empty list of strings (the command and its arguments)"),
                },
                "ipsetBan.ipset" => match strings(&v.kind) {
                    Some(x) if !x.is_empty() => c.ipset = x,
                    _ => bad("a non-empty list of strings (the command and its arguments)"),
                },
                "dailyReport.time" => match string(&v.kind).as_deref().and_then(parse_hhmm) {
                    Some(t) => c.report_time = t,
                    None => bad("a time of day like \"00:00\""),
                },
                other => {
                    let top = other.split('.').next().unwrap_or(other);
                    let hint = did_you_mean(other, KEYS.iter().copied())
                        .or_else(|| {
                            did_you_mean(top, ["email", "nftBan", "ipsetBan", "dailyReport"])
                                .and_then(|t| KEYS.iter().copied().find(|k| k.starts_with(t)))
                                .map(|k| k.split('.').next().unwrap_or(k))
                        })
                        .map_or(String::new(), |k| format!("did you mean `{k}`? "));
                    diags.push(
                        Diagnostic::warning(
                            Code::UnknownSetting,
                            s.key_span,
                            format!("unknown setting `{other}` is ignored"),
                        )
                        .with_help(format!("{hint}known settings: {}", KEYS.join(", "))),
                    );
                }
            }
        }
        if let Some(host) = smtp_host {
            smtp.host = host;
            c.smtp = Some(smtp);
        }
        c
    }
}

fn parse_hhmm(s: &str) -> Option<(u8, u8)> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}
