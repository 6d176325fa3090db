//! Core settings of a rule set: mail, storage, command prefixes, decoding,
//! plain log files.
//!
//! In `pyruse.json` these are the top-level keys other than `actions`
//! (docs/legacy-semantics.md §1); in `.pyr` they are `set KEY = VALUE` lines with the same
//! names, dotted (`set email.to = [...]`). Defaults are Pyruse's.

use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{ExprKind, RuleSet, Setting};
use crate::value::fields::Encoding;
use std::path::PathBuf;

mod time_format;
pub use time_format::{TimeFormat, NAMED_FORMATS};

/// A plain log file to follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    /// The `SYSLOG_IDENTIFIER` of its lines.
    pub identifier: String,
    pub time_format: Option<TimeFormat>,
}

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
    /// Whether the daemon creates at start the nftables tables, sets and
    /// drop rules the rules' `nftBan` steps need (`nftBan.setup`).
    pub nft_setup: bool,
    /// Priority of the input chain it creates (`nftBan.priority`).
    pub nft_priority: i32,
    /// Whether it creates the ipset sets and the iptables rules that drop
    /// their members (`ipsetBan.setup`).
    pub ipset_setup: bool,
    /// Commands for those rules (`ipsetBan.iptables`, `ipsetBan.ip6tables`).
    pub iptables: Vec<String>,
    pub ip6tables: Vec<String>,
    /// Hour and minute of the day the daily report is sent (local time).
    pub report_time: (u8, u8),
    /// The size cap of each part of the daily report, in bytes.
    pub report_max_bytes: usize,
    /// Plain log files the daemon follows besides the journal.
    pub log_files: Vec<LogFile>,
    /// How often a plain log file at its end is looked at again.
    pub log_poll_ms: u64,
}

/// The default of `logFiles.pollMilliseconds`.
pub const LOG_POLL_MS: u64 = 250;

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
            // /usr/sbin: Debian's place, and Arch's and Fedora's through
            // their /usr/sbin → bin link.
            nft: vec!["/usr/sbin/nft".into()],
            ipset: vec!["/usr/sbin/ipset".into(), "-exist".into(), "-quiet".into()],
            nft_setup: true,
            nft_priority: DEFAULT_NFT_PRIORITY,
            ipset_setup: true,
            iptables: vec!["/usr/sbin/iptables".into()],
            ip6tables: vec!["/usr/sbin/ip6tables".into()],
            report_time: (0, 0),
            report_max_bytes: crate::report::DEFAULT_MAX_BYTES,
            log_files: Vec::new(),
            log_poll_ms: LOG_POLL_MS,
        }
    }
}

pub use crate::syntax::ast::SETTING_KEYS as KEYS;

/// Priority of the input chain that drops banned addresses: nftables'
/// `filter - 10`, before the usual filter chains (priority `filter`, 0),
/// so that a ban holds whatever they accept.
pub const DEFAULT_NFT_PRIORITY: i32 = -10;

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
            key if (key.starts_with("nftBan.") || key.starts_with("ipsetBan."))
                && KEYS.contains(&key) =>
            {
                self.read_ban(key, &v.kind)?;
            }
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
            "logFiles" => self.log_files = log_files(&v.kind, diags)?,
            "logFiles.pollMilliseconds" => match v.kind {
                ExprKind::Int(ms) if (10..=60_000).contains(&ms) => self.log_poll_ms = ms as u64,
                _ => return Err("a number of milliseconds from 10 to 60000"),
            },
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

impl Config {
    /// `nftBan.*` and `ipsetBan.*`.
    fn read_ban(&mut self, key: &str, v: &ExprKind) -> Result<(), &'static str> {
        let flag = |v: &ExprKind| match *v {
            ExprKind::Bool(b) => Ok(b),
            _ => Err("true or false"),
        };
        match key {
            "nftBan.nft" => self.nft = command(v)?,
            "nftBan.setup" => self.nft_setup = flag(v)?,
            "nftBan.priority" => match *v {
                ExprKind::Int(p) if (-1000..=1000).contains(&p) => self.nft_priority = p as i32,
                _ => return Err("a chain priority, an integer from -1000 to 1000"),
            },
            "ipsetBan.ipset" => self.ipset = command(v)?,
            "ipsetBan.setup" => self.ipset_setup = flag(v)?,
            "ipsetBan.iptables" => self.iptables = command(v)?,
            _ => self.ip6tables = command(v)?,
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

/// `logFiles`: a list of `{ path, identifier, timeFormat }`.
fn log_files(e: &ExprKind, diags: &mut Vec<Diagnostic>) -> Result<Vec<LogFile>, &'static str> {
    const WANT: &str = "a list of { path: \"…\", identifier: \"…\", timeFormat: \"…\" }";
    let ExprKind::List(items) = e else {
        return Err(WANT);
    };
    let mut files = Vec::new();
    for item in items {
        let ExprKind::Object(entries) = &item.kind else {
            return Err(WANT);
        };
        let Some(f) = log_file(entries, item.span, diags) else {
            continue;
        };
        let twice = files.iter().any(|g: &LogFile| g.path == f.path);
        if twice || !f.path.is_absolute() {
            let why = if twice {
                "this log file is already listed"
            } else {
                "the path of a log file is absolute (the daemon runs from /)"
            };
            diags.push(Diagnostic::error(Code::InvalidValue, item.span, why));
            continue;
        }
        files.push(f);
    }
    Ok(files)
}

/// One `{ path, identifier, timeFormat }`; `None` after a diagnostic.
fn log_file(
    entries: &[(String, Span, crate::syntax::ast::Expr)],
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<LogFile> {
    let (mut path, mut identifier, mut time_format) = (None, None, None);
    let mut ok = true;
    for (key, key_span, v) in entries {
        let Some(text) = string(&v.kind) else {
            diags.push(Diagnostic::error(
                Code::ArgumentType,
                v.span,
                format!("`{key}` of a log file is a string, not {}", v.describe()),
            ));
            ok = false;
            continue;
        };
        match key.as_str() {
            "path" if !text.is_empty() => path = Some(text),
            "identifier" if !text.is_empty() => identifier = Some(text),
            "path" | "identifier" => {
                diags.push(Diagnostic::error(
                    Code::InvalidValue,
                    v.span,
                    format!("empty `{key}`"),
                ));
                ok = false;
            }
            "timeFormat" => match TimeFormat::new(&text) {
                Ok(f) => time_format = Some(f),
                Err(why) => {
                    diags.push(Diagnostic::error(Code::InvalidValue, v.span, why));
                    ok = false;
                }
            },
            other => {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        *key_span,
                        format!("a log file has no `{other}`"),
                    )
                    .with_help("a log file is { path: \"…\", identifier: \"…\", timeFormat: \"…\" } (timeFormat optional)"),
                );
                ok = false;
            }
        }
    }
    let missing = |what: &str, diags: &mut Vec<Diagnostic>| {
        diags.push(
            Diagnostic::error(
                Code::InvalidValue,
                span,
                format!("a log file without `{what}`"),
            )
            .with_help("a log file is { path: \"…\", identifier: \"…\", timeFormat: \"…\" } (timeFormat optional)"),
        );
    };
    if path.is_none() && ok {
        missing("path", diags);
    }
    if identifier.is_none() && ok {
        missing("identifier", diags);
    }
    Some(LogFile {
        path: path?.into(),
        identifier: identifier?,
        time_format,
    })
    .filter(|_| ok)
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
            did_you_mean(
                top,
                ["email", "nftBan", "ipsetBan", "dailyReport", "logFiles"],
            )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, text: &str) -> (Config, Vec<Diagnostic>) {
        let (rules, mut diags) = crate::syntax::load_str(name, text);
        let c = Config::from_rules(&rules, &mut diags);
        (c, diags)
    }

    #[test]
    fn ban_set_up_settings_in_pyr_and_in_json() {
        let (c, d) = config("empty.pyr", "");
        assert!(d.is_empty() && c.nft_setup && c.ipset_setup, "{d:?}");
        assert_eq!(c.nft_priority, -10);
        assert_eq!(c.nft, ["/usr/sbin/nft"]);
        let (c, d) = config(
            "rules.pyr",
            "set nftBan.setup = false\nset nftBan.priority = -20\nset ipsetBan.setup = false\n\
             set ipsetBan.iptables = [\"ssh\", \"fw\", \"iptables\"]\n\
             set ipsetBan.ip6tables = [\"ssh\", \"fw\", \"ip6tables\"]\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert!(!c.nft_setup && !c.ipset_setup);
        assert_eq!(c.nft_priority, -20);
        assert_eq!(c.iptables, ["ssh", "fw", "iptables"]);
        assert_eq!(c.ip6tables, ["ssh", "fw", "ip6tables"]);
        let (c, d) = config(
            "pyruse.json",
            r#"{"nftBan": {"nft": ["nft"], "setup": false, "priority": 5}, "ipsetBan": {"setup": false}, "actions": {}}"#,
        );
        assert!(d.is_empty(), "{d:?}");
        assert!(!c.nft_setup && !c.ipset_setup);
        assert_eq!((c.nft_priority, c.nft), (5, vec!["nft".to_owned()]));
    }

    #[test]
    fn bad_ban_set_up_settings_are_diagnosed() {
        let (c, d) = config(
            "rules.pyr",
            "set nftBan.setup = \"no\"\nset nftBan.priority = 5000\nset ipsetBan.setpu = false\n",
        );
        let text: Vec<String> = d.iter().map(|d| d.message.clone()).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(
            text[0].contains("`nftBan.setup` expects true or false"),
            "{text:?}"
        );
        assert!(
            text[1].contains("an integer from -1000 to 1000"),
            "{text:?}"
        );
        assert!(
            text[2].contains("unknown setting `ipsetBan.setpu`"),
            "{text:?}"
        );
        assert!(d[2]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("`ipsetBan.setup`")));
        assert!(c.nft_setup, "a bad value leaves the default");
    }
}
