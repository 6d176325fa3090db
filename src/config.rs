//! Core settings of a rule set: mail, storage, command prefixes, decoding.
//!
//! In `pyruse.json` these are the top-level keys other than `actions`
//! (docs/legacy-semantics.md §1); in `.pyr` they are `set KEY = VALUE` lines with the same
//! names, dotted (`set email.to = [...]`). Defaults are Pyruse's.

use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{ExprKind, RuleSet, Setting};
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
    /// The size cap of each part of the daily report, in bytes.
    pub report_max_bytes: usize,
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
            report_max_bytes: crate::report::DEFAULT_MAX_BYTES,
        }
    }
}

pub use crate::syntax::ast::SETTING_KEYS as KEYS;

impl Config {
    /// Read the settings of a rule set, reporting bad values.
    pub fn from_rules(rules: &RuleSet, diags: &mut Vec<Diagnostic>) -> Config {
        let mut c = Config::default();
        let mut smtp = SmtpSettings {
            host: None,
            rest: Smtp {
                host: String::new(),
                port: None,
                security: "starttls".into(),
                user: None,
                password: None,
            },
        };
        for s in &rules.settings {
            if let Err(want) = c.read(&mut smtp, s, diags) {
                let v = &s.value;
                diags.push(
                    Diagnostic::error(
                        Code::ArgumentType,
                        v.span,
                        format!("`{}` expects {want}, not {}", s.key, v.describe()),
                    )
                    .with_help(format!("write {want} here")),
                );
            }
        }
        if let Some(host) = smtp.host {
            smtp.rest.host = host;
            c.smtp = Some(smtp.rest);
        }
        c
    }

    /// Reads setting `s`. `Err(want)`: its value is not the `want` its key
    /// expects. An unsupported encoding or an unknown key is reported here.
    fn read(
        &mut self,
        smtp: &mut SmtpSettings,
        s: &Setting,
        diags: &mut Vec<Diagnostic>,
    ) -> Result<(), &'static str> {
        let v = &s.value;
        match s.key.as_str() {
            key @ ("email.from" | "email.to" | "email.subject" | "email.sendmail") => {
                self.read_email(key, &v.kind)?;
            }
            key if key.starts_with("email.smtp.") && KEYS.contains(&key) => {
                smtp.read(key, &v.kind)?;
            }
            "storage" => self.storage = string(&v.kind).ok_or("a string")?,
            "8bit-message-encoding" => {
                let x = string(&v.kind).ok_or("a string")?;
                match Encoding::from_python_name(&x) {
                    Some(e) => self.message_encoding = e,
                    None => diags.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            v.span,
                            format!("unsupported encoding `{x}`"),
                        )
                        .with_help("use iso-8859-1 (latin-1), iso-8859-15, cp1252 or ascii"),
                    ),
                }
            }
            "debug" => match v.kind {
                ExprKind::Bool(b) => self.debug = b,
                _ => return Err("true or false"),
            },
            "nftBan.nft" => self.nft = command(&v.kind)?,
            "ipsetBan.ipset" => self.ipset = command(&v.kind)?,
            "dailyReport.time" => {
                self.report_time = string(&v.kind)
                    .as_deref()
                    .and_then(parse_hhmm)
                    .ok_or("a time of day like \"00:00\"")?;
            }
            "dailyReport.maxSize" => {
                if let Some(n) = report_max_bytes(v, diags)? {
                    self.report_max_bytes = n;
                }
            }
            other => diags.push(unknown_setting(other, s.key_span)),
        }
        Ok(())
    }

    /// `email.from`, `email.to`, `email.subject`, `email.sendmail`.
    fn read_email(&mut self, key: &str, v: &ExprKind) -> Result<(), &'static str> {
        match key {
            "email.from" => self.email_from = string(v).ok_or("a string")?,
            "email.to" => self.email_to = strings(v).ok_or("a list of strings")?,
            "email.subject" => self.email_subject = string(v).ok_or("a string")?,
            _ => self.sendmail = command(v)?,
        }
        Ok(())
    }
}

/// The `email.smtp.*` settings read so far: mail goes by SMTP when a host
/// is set.
struct SmtpSettings {
    host: Option<String>,
    rest: Smtp,
}

impl SmtpSettings {
    fn read(&mut self, key: &str, v: &ExprKind) -> Result<(), &'static str> {
        match key {
            "email.smtp.host" => self.host = Some(string(v).ok_or("a string")?),
            "email.smtp.port" => match *v {
                ExprKind::Int(p) if (1..=65535).contains(&p) => self.rest.port = Some(p as u16),
                _ => return Err("a port number"),
            },
            "email.smtp.security" => match string(v).as_deref() {
                Some(x @ ("none" | "starttls" | "tls")) => self.rest.security = x.into(),
                _ => return Err("\"none\", \"starttls\" or \"tls\""),
            },
            "email.smtp.user" => self.rest.user = Some(string(v).ok_or("a string")?),
            _ => self.rest.password = Some(string(v).ok_or("a string")?),
        }
        Ok(())
    }
}

fn string(e: &ExprKind) -> Option<String> {
    match e {
        ExprKind::Str(x) => Some(x.clone()),
        _ => None,
    }
}

fn strings(e: &ExprKind) -> Option<Vec<String>> {
    match e {
        ExprKind::List(items) => items.iter().map(|i| string(&i.kind)).collect(),
        _ => None,
    }
}

/// A command and its arguments: a non-empty list of strings.
fn command(e: &ExprKind) -> Result<Vec<String>, &'static str> {
    match strings(e) {
        Some(x) if !x.is_empty() => Ok(x),
        _ => Err("a non-empty list of strings (the command and its arguments)"),
    }
}

/// A key no setting has: a warning, with the closest setting.
fn unknown_setting(key: &str, span: Span) -> Diagnostic {
    let top = key.split('.').next().unwrap_or(key);
    let hint = did_you_mean(key, KEYS.iter().copied())
        .or_else(|| {
            did_you_mean(top, ["email", "nftBan", "ipsetBan", "dailyReport"])
                .and_then(|t| KEYS.iter().copied().find(|k| k.starts_with(t)))
                .map(|k| k.split('.').next().unwrap_or(k))
        })
        .map_or(String::new(), |k| format!("did you mean `{k}`? "));
    Diagnostic::warning(
        Code::UnknownSetting,
        span,
        format!("unknown setting `{key}` is ignored"),
    )
    .with_help(format!("{hint}known settings: {}", KEYS.join(", ")))
}

/// `dailyReport.maxSize`: bytes, at least [`crate::report::MIN_MAX_BYTES`];
/// `None` when too small (reported here).
fn report_max_bytes(
    v: &crate::syntax::ast::Expr,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<usize>, &'static str> {
    use crate::report::{DEFAULT_MAX_BYTES, MIN_MAX_BYTES};
    match v.kind {
        ExprKind::Int(n) if n >= MIN_MAX_BYTES as i64 => {
            Ok(Some(usize::try_from(n).unwrap_or(usize::MAX)))
        }
        ExprKind::Int(n) => {
            diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    v.span,
                    format!("a daily report of at most {n} bytes is too small"),
                )
                .with_help(format!(
                    "write at least {MIN_MAX_BYTES} (the default is {DEFAULT_MAX_BYTES})"
                )),
            );
            Ok(None)
        }
        _ => Err("a size in bytes (an integer)"),
    }
}

fn parse_hhmm(s: &str) -> Option<(u8, u8)> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}
