//! Mail composition: the text mail of `email(…)` and the daily report mail,
//! as RFC 5322 message bytes (CRLF line ends) for `sendmail -t` or SMTP.
//!
//! Bodies are UTF-8 and quoted-printable (lettre's encoder: lines of at most
//! 76 octets, soft breaks), the subject is an RFC 2047 encoded-word when it
//! is not plain ASCII (lettre's header encoder, which also folds it and makes
//! header injection through CR/LF impossible). The message carries `Date`
//! (from `date_us`, in UTC), `Message-ID`, `MIME-Version` and
//! `Auto-Submitted: auto-generated` (RFC 3834: no vacation replies).
//!
//! ## Addresses
//!
//! Pyruse users write `a@b.c`, `Name <a@b.c>`, and bare local names such as
//! `pyruse` and `hostmaster` (Pyruse's defaults). lettre's `Address` always
//! has a domain, and its `MessageBuilder` wants `Address`es for `From`, `To`
//! and the SMTP envelope. So:
//!
//! - Full addresses are parsed and checked by lettre ([`Mailbox`]).
//! - A bare local name (`pyruse`, or `Name <pyruse>`) must be an RFC 5322
//!   dot-atom; it is kept bare in the headers, **not** qualified with a host
//!   name: `sendmail -t` (Postfix, Exim, OpenSMTPD, sendmail) qualifies it
//!   itself with the configured origin domain, exactly as it did for Pyruse.
//!   Over SMTP such a name cannot be used: [`smtp_envelope`] refuses it.
//! - The message is therefore not built with `MessageBuilder` but from the
//!   same pieces that `Message::formatted()` writes: a lettre [`Headers`]
//!   block (typed `Date`, `Subject`, `Message-ID`, `MIME-Version`; `From`
//!   and `To` encoded here with the encoder lettre uses, `email-encoding`,
//!   and folded between mailboxes), then a blank line and a lettre [`Body`]
//!   (text mail) or a formatted lettre [`MultiPart`] (report).
//! - Display names are limited to 256 characters, so that no header line
//!   can exceed 998 octets.
//!
//! The `Message-ID` is `<time.pid.counter.random@domain>`, the domain being
//! the `From` address's domain, or for a bare `From` the kernel's host name
//! (`/proc/sys/kernel/hostname`), or `localhost`.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use email_encoding::headers::writer::EmailWriter;
use lettre::address::Envelope;
use lettre::message::header::{
    self, ContentTransferEncoding, ContentType, HeaderName, HeaderValue, Headers,
};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::Address;

use super::Report;

/// The core `email` settings that shape a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailError {
    /// An address of `email.from` or `email.to` that cannot be used.
    Address { input: String, reason: String },
    /// `email.to` is empty.
    NoRecipient,
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailError::Address { input, reason } => {
                write!(f, "invalid mail address {input:?}: {reason}")
            }
            MailError::NoRecipient => f.write_str("no mail recipient (email.to is empty)"),
        }
    }
}

impl std::error::Error for MailError {}

/// A parsed address: a full one, or a bare local name for `sendmail -t`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailAddress {
    /// `a@b.c` or `Name <a@b.c>`.
    Full(Mailbox),
    /// `pyruse` or `Name <pyruse>`: kept as written, qualified by sendmail.
    Local { name: Option<String>, user: String },
}

impl MailAddress {
    fn name(&self) -> Option<&str> {
        match self {
            MailAddress::Full(m) => m.name.as_deref(),
            MailAddress::Local { name, .. } => name.as_deref(),
        }
        .filter(|n| !n.trim().is_empty())
    }

    /// The addr-spec as it goes into the header.
    fn addr_spec(&self) -> String {
        match self {
            MailAddress::Full(m) => m.email.to_string(),
            MailAddress::Local { user, .. } => user.clone(),
        }
    }

    fn domain(&self) -> Option<&str> {
        match self {
            MailAddress::Full(m) => Some(m.email.domain()),
            MailAddress::Local { .. } => None,
        }
    }
}

fn address_error(input: &str, reason: &str) -> MailError {
    MailError::Address {
        input: input.into(),
        reason: reason.into(),
    }
}

/// RFC 5322 `atext`.
fn atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// RFC 5322 `dot-atom-text`.
fn dot_atom(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|a| !a.is_empty() && a.chars().all(atext))
}

/// Parse an address as Pyruse users write them: full addresses `a@b.c`,
/// `Name <a@b.c>` (checked by lettre), and bare local names `pyruse`,
/// `Name <pyruse>` (an RFC 5322 dot-atom, kept bare for `sendmail -t`).
pub fn parse_address(input: &str) -> Result<MailAddress, MailError> {
    if input.contains(['\r', '\n', '\0']) {
        return Err(address_error(input, "contains a line break or NUL"));
    }
    let s = input.trim();
    if s.is_empty() {
        return Err(address_error(input, "empty"));
    }
    let parsed = if s.contains('@') {
        s.parse::<Mailbox>()
            .map(MailAddress::Full)
            .map_err(|e| address_error(input, &e.to_string()))?
    } else {
        parse_local(input, s)?
    };
    match parsed.name() {
        Some(n) if n.chars().count() > 256 => Err(address_error(input, "name too long")),
        _ => Ok(parsed),
    }
}

/// `pyruse` or `Name <pyruse>`.
fn parse_local(input: &str, s: &str) -> Result<MailAddress, MailError> {
    let (name, user) = match (s.rfind('<'), s.strip_suffix('>')) {
        (Some(open), Some(inner)) => {
            let name = s[..open].trim();
            let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\\\"", "\"").replace("\\\\", "\\"),
                None => name.to_string(),
            };
            (
                Some(name).filter(|n| !n.is_empty()),
                inner[open + 1..].trim(),
            )
        }
        _ => (None, s),
    };
    if !dot_atom(user) || user.len() > 64 {
        return Err(address_error(
            input,
            "neither user@domain nor a local user name (letters, digits, . and !#$%&'*+-/=?^_`{|}~)",
        ));
    }
    Ok(MailAddress::Local {
        name,
        user: user.into(),
    })
}

/// The SMTP envelope of the settings' addresses. Bare local names have no
/// meaning over SMTP (a relay would reject or qualify them at its whim), so
/// they are refused here: qualify them in the settings to use SMTP.
pub fn smtp_envelope(settings: &MailSettings) -> Result<Envelope, MailError> {
    let full = |s: &str| match parse_address(s)? {
        MailAddress::Full(m) => Ok(m.email),
        MailAddress::Local { .. } => Err(address_error(
            s,
            "a bare local name works with sendmail only; SMTP needs user@domain",
        )),
    };
    let from: Address = full(&settings.from)?;
    let to = settings
        .to
        .iter()
        .map(|s| full(s))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(Some(from), to).map_err(|_| MailError::NoRecipient)
}

/// Header lines are folded to stay within this many octets when possible.
const FOLD_AT: usize = 76;

/// One mailbox, encoded as lettre encodes it (`email-encoding`), starting
/// at column `col`.
fn encode_mailbox(a: &MailAddress, col: usize) -> String {
    let mut out = String::new();
    {
        let mut w = EmailWriter::new(&mut out, col, 0, false);
        let spec = a.addr_spec();
        // Writing to a String cannot fail, and every piece is encodable
        // (parse_address refused CR, LF and NUL).
        let _ = match a.name() {
            Some(n) => email_encoding::headers::quoted_string::encode(n, &mut w).and_then(|()| {
                w.space();
                fmt::Write::write_str(&mut w.folding(), &format!("<{spec}>"))
            }),
            None => fmt::Write::write_str(&mut w, &spec),
        };
    }
    out
}

/// `From`/`To` header value: lettre's encoding of each mailbox, folded
/// between mailboxes too (lettre does not), so that many recipients still
/// make lines of at most 76 octets.
fn mailboxes_header(name: &'static str, list: &[MailAddress]) -> HeaderValue {
    let raw = list
        .iter()
        .map(|a| match a.name() {
            Some(n) => format!("{n} <{}>", a.addr_spec()),
            None => a.addr_spec(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let first_line = |s: &str| s.find("\r\n").unwrap_or(s.len());
    let mut encoded = String::new();
    let mut col = name.len() + ": ".len();
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            encoded.push(',');
            col += 1;
            if col + 1 + first_line(&encode_mailbox(a, col + 1)) > FOLD_AT {
                encoded.push_str("\r\n ");
                col = 1;
            } else {
                encoded.push(' ');
                col += 1;
            }
        }
        let piece = encode_mailbox(a, col);
        col = match piece.rfind("\r\n") {
            Some(p) => piece.len() - p - 2,
            None => col + piece.len(),
        };
        encoded.push_str(&piece);
    }
    HeaderValue::dangerous_new_pre_encoded(HeaderName::new_from_ascii_str(name), raw, encoded)
}

fn host_name() -> Option<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let h = h.trim();
    dot_atom(h).then(|| h.to_string())
}

fn message_id(date_us: i64, domain: Option<&str>) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(date_us);
    h.write_u64(n);
    let domain = domain
        .filter(|d| dot_atom(d))
        .map(str::to_string)
        .or_else(host_name)
        .unwrap_or_else(|| "localhost".into());
    format!(
        "<{date_us}.{}.{n}.{:016x}@{domain}>",
        std::process::id(),
        h.finish()
    )
}

/// The message headers, before the part's own (`Content-Type`, …).
fn headers(settings: &MailSettings, subject: &str, date_us: i64) -> Result<Headers, MailError> {
    let from = parse_address(&settings.from)?;
    if settings.to.is_empty() {
        return Err(MailError::NoRecipient);
    }
    let to = settings
        .to
        .iter()
        .map(|s| parse_address(s))
        .collect::<Result<Vec<_>, _>>()?;
    // httpdate renders years 1970 to 9999 only.
    let us = date_us.clamp(0, 253_402_300_799_999_999) as u64;
    let date = SystemTime::UNIX_EPOCH + Duration::from_micros(us);
    let mut h = Headers::new();
    h.set(header::Date::new(date));
    h.insert_raw(mailboxes_header("From", std::slice::from_ref(&from)));
    h.insert_raw(mailboxes_header("To", &to));
    h.set(header::Subject::from(subject.to_string()));
    h.set(header::MessageId::from(message_id(date_us, from.domain())));
    h.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".into(),
    ));
    h.set(header::MIME_VERSION_1_0);
    Ok(h)
}

fn qp_part(content_type: ContentType, body: &str) -> SinglePart {
    SinglePart::builder()
        .header(content_type)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(body.to_string())
}

/// A text mail (action email): UTF-8 subject and body, quoted-printable
/// body, all recipients.
pub fn text_message(
    settings: &MailSettings,
    subject: &str,
    body: &str,
    date_us: i64,
) -> Result<Vec<u8>, MailError> {
    let mut h = headers(settings, subject, date_us)?;
    // As lettre's `MessageBuilder::body` does (a `SinglePart` would add a
    // CRLF to the body).
    let body = Body::new_with_encoding(body.to_string(), ContentTransferEncoding::QuotedPrintable)
        .expect("quoted-printable encodes any text");
    h.set(ContentType::TEXT_PLAIN);
    h.set(body.encoding());
    let mut out = h.to_string().into_bytes();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body.into_vec());
    if !out.ends_with(b"\r\n") {
        // A quoted-printable soft line break: the message ends with CRLF,
        // the decoded body stays as it was.
        out.extend_from_slice(b"=\r\n");
    }
    Ok(out)
}

/// The daily report: one multipart/alternative mail with the text and HTML
/// parts, in this order (the last one is the preferred).
pub fn report_message(
    settings: &MailSettings,
    subject: &str,
    report: &Report,
    date_us: i64,
) -> Result<Vec<u8>, MailError> {
    let h = headers(settings, subject, date_us)?;
    let body = MultiPart::alternative()
        .singlepart(qp_part(ContentType::TEXT_PLAIN, &report.text))
        .singlepart(qp_part(ContentType::TEXT_HTML, &report.html));
    // What lettre's `Message::formatted()` writes for a MIME body.
    let mut out = h.to_string().into_bytes();
    out.extend_from_slice(&body.formatted());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    /// Python's `email` package (policy.default) reads the message back.
    const PARSE: &str = r#"
import sys, json, email
from email import policy
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
def addrs(h):
    v = msg[h]
    return [[a.display_name, a.addr_spec] for a in v.addresses] if v is not None else None
def defects(m):
    out = [type(d).__name__ + ": " + str(d) for d in m.defects]
    for k, v in m.items():
        out += [k + ": " + str(d) for d in getattr(v, "defects", ())]
    return out
parts = []
for p in msg.walk():
    parts.append({
        "type": p.get_content_type(),
        "charset": p.get_content_charset(),
        "cte": p.get("Content-Transfer-Encoding"),
        "content": None if p.is_multipart() else p.get_content(),
        "defects": defects(p) if p is not msg else [],
    })
print(json.dumps({
    "keys": list(msg.keys()),
    "from": addrs("From"),
    "to": addrs("To"),
    "bcc": msg["Bcc"],
    "subject": str(msg["Subject"]),
    "date": msg["Date"].datetime.isoformat(),
    "message_id": msg["Message-ID"],
    "mime_version": msg["MIME-Version"],
    "auto_submitted": msg["Auto-Submitted"],
    "defects": defects(msg),
    "parts": parts,
}))
"#;

    fn parse(message: &[u8]) -> serde_json::Value {
        let mut child = Command::new("python3")
            .args(["-c", PARSE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 is needed by this test");
        child.stdin.take().unwrap().write_all(message).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "python3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Every line ends with CRLF, has at most 78 octets, and is ASCII.
    fn check_lines(message: &[u8]) {
        assert!(message.is_ascii(), "8-bit octets in the message");
        let text = std::str::from_utf8(message).unwrap();
        assert!(text.ends_with("\r\n"));
        for line in text.split_inclusive('\n') {
            assert!(line.ends_with("\r\n"), "bare LF: {line:?}");
            assert!(line.len() - 2 <= 78, "{} octets: {line:?}", line.len() - 2);
        }
    }

    /// Defects other than the one expected for bare local names.
    fn unexpected_defects(v: &serde_json::Value) -> Vec<String> {
        let all: Vec<String> = serde_json::from_value(v.clone()).unwrap();
        all.into_iter()
            .filter(|d| !d.ends_with("addr-spec local part with no domain"))
            .collect()
    }

    fn settings() -> MailSettings {
        MailSettings {
            from: "Pyruse on gw <pyruse@gw.example.org>".into(),
            to: vec![
                "hostmaster".into(),
                "Jérôme Dupont <jerome@example.org>".into(),
                "\"Ops, Team\" <ops@example.org>".into(),
                "root@localhost".into(),
                "Postmaster <postmaster>".into(),
            ],
        }
    }

    const DATE_US: i64 = 1_709_337_606_123_456; // 2024-03-02T00:00:06.123456Z

    fn unlf(s: &serde_json::Value) -> String {
        s.as_str().unwrap().replace("\r\n", "\n")
    }

    #[test]
    fn text_mail_headers_and_body() {
        let subject = "Ban 203.0.113.7 — tentative d’intrusion ✓";
        let body = "Bonjour,\n\nl’adresse 203.0.113.7 est bannie (sshd).\nLine with = and trailing space \n\tand a tab.\n";
        let m = text_message(&settings(), subject, body, DATE_US).unwrap();
        check_lines(&m);
        let head = std::str::from_utf8(&m).unwrap();
        assert!(
            head.starts_with("Date: Sat, 02 Mar 2024 00:00:06 +0000\r\n"),
            "{head}"
        );
        let p = parse(&m);
        assert_eq!(p["subject"], subject);
        assert_eq!(
            p["from"],
            serde_json::json!([["Pyruse on gw", "pyruse@gw.example.org"]])
        );
        assert_eq!(
            p["to"],
            serde_json::json!([
                ["", "hostmaster"],
                ["Jérôme Dupont", "jerome@example.org"],
                ["Ops, Team", "ops@example.org"],
                ["", "root@localhost"],
                ["Postmaster", "postmaster"],
            ])
        );
        assert_eq!(p["date"], "2024-03-02T00:00:06+00:00");
        assert_eq!(p["mime_version"], "1.0");
        assert_eq!(p["auto_submitted"], "auto-generated");
        let id = p["message_id"].as_str().unwrap();
        assert!(
            id.starts_with('<') && id.ends_with("@gw.example.org>"),
            "{id}"
        );
        assert_eq!(unexpected_defects(&p["defects"]), Vec::<String>::new());
        let parts = p["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0]["type"], "text/plain");
        assert_eq!(parts[0]["charset"], "utf-8");
        assert_eq!(parts[0]["cte"], "quoted-printable");
        assert_eq!(unlf(&parts[0]["content"]), body);
    }

    #[test]
    fn report_mail_is_multipart_alternative_text_then_html() {
        let report = Report {
            text: "= Pyruse report for gw\n\n== Warnings (WARN): nothing\n\n(nothing)\nÉté ✓\n"
                .into(),
            html: "<!DOCTYPE html>\n<html lang=\"en\"><body><p>Été &amp; ✓ =3D</p></body></html>\n"
                .into(),
        };
        let m = report_message(&settings(), "Pyruse Report — gw", &report, DATE_US).unwrap();
        check_lines(&m);
        let p = parse(&m);
        assert_eq!(p["subject"], "Pyruse Report — gw");
        assert_eq!(p["to"].as_array().unwrap().len(), 5);
        assert_eq!(unexpected_defects(&p["defects"]), Vec::<String>::new());
        let parts = p["parts"].as_array().unwrap();
        let types: Vec<&str> = parts.iter().map(|x| x["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["multipart/alternative", "text/plain", "text/html"]);
        for part in &parts[1..] {
            assert_eq!(part["charset"], "utf-8");
            assert_eq!(part["cte"], "quoted-printable");
            assert_eq!(unexpected_defects(&part["defects"]), Vec::<String>::new());
        }
        assert_eq!(unlf(&parts[1]["content"]), report.text);
        assert_eq!(unlf(&parts[2]["content"]), report.html);
    }

    #[test]
    fn real_report_round_trips_with_long_and_hostile_lines() {
        let huge = format!("{}<script>x</script>", "y".repeat(1 << 20));
        let records = vec![
            super::super::Record {
                level: "WARN".into(),
                message: huge.clone(),
                details: "ALL".into(),
                time_us: DATE_US,
            },
            super::super::Record {
                level: "OTHER".into(),
                message: format!("{}é", "é=".repeat(3000)),
                details: "ALL".into(),
                time_us: DATE_US,
            },
        ];
        let report = super::super::build(&records, 0, DATE_US, "gw", &jiff::tz::TimeZone::UTC);
        let m = report_message(&settings(), "Report", &report, DATE_US).unwrap();
        check_lines(&m);
        let p = parse(&m);
        let parts = p["parts"].as_array().unwrap();
        assert!(
            unlf(&parts[1]["content"]) == report.text,
            "text part changed"
        );
        assert!(
            unlf(&parts[2]["content"]) == report.html,
            "HTML part changed"
        );
    }

    #[test]
    fn ten_thousand_char_line_is_folded_and_decodes_back() {
        let body = format!("start\n{}\nend — ✓\n", "0123456789".repeat(1000));
        let m = text_message(&settings(), "long", &body, DATE_US).unwrap();
        check_lines(&m);
        let p = parse(&m);
        assert!(unlf(&p["parts"][0]["content"]) == body, "long body changed");
        // A body without final newline, with CR and NUL, also comes back.
        let body = "a\u{0}b\rc";
        let m = text_message(&settings(), "ctl", body, DATE_US).unwrap();
        check_lines(&m);
        assert_eq!(parse(&m)["parts"][0]["content"], body);
    }

    #[test]
    fn pyruse_defaults_stay_bare_local_names() {
        let s = MailSettings {
            from: "pyruse".into(),
            to: vec!["hostmaster".into()],
        };
        let m = text_message(&s, "Pyruse Notification", "hi\n", DATE_US).unwrap();
        let text = std::str::from_utf8(&m).unwrap();
        assert!(
            text.contains("\r\nFrom: pyruse\r\nTo: hostmaster\r\n"),
            "{text}"
        );
        let p = parse(&m);
        assert_eq!(p["from"], serde_json::json!([["", "pyruse"]]));
        assert_eq!(p["to"], serde_json::json!([["", "hostmaster"]]));
        let id = p["message_id"].as_str().unwrap();
        assert!(
            id.starts_with('<') && id.ends_with('>') && id.contains('@'),
            "{id}"
        );
        // Two messages never share an id.
        let m2 = text_message(&s, "Pyruse Notification", "hi\n", DATE_US).unwrap();
        assert_ne!(parse(&m2)["message_id"], p["message_id"]);
    }

    #[test]
    fn subject_cannot_inject_headers() {
        let subject = "x\r\nBcc: evil@example.com\r\n\r\nbody";
        let m = text_message(&settings(), subject, "real body", DATE_US).unwrap();
        check_lines(&m);
        let p = parse(&m);
        assert_eq!(p["bcc"], serde_json::Value::Null);
        assert_eq!(unlf(&p["parts"][0]["content"]), "real body");
        assert!(p["subject"]
            .as_str()
            .unwrap()
            .contains("Bcc: evil@example.com"));
    }

    #[test]
    fn many_recipients_and_long_subject_are_folded() {
        let s = MailSettings {
            from: "pyruse".into(),
            to: (0..40)
                .map(|i| format!("Recipient Number {i} <user{i}@example.org>"))
                .collect(),
        };
        let subject = "Ünïcödé ".repeat(40);
        let m = text_message(&s, &subject, "x", DATE_US).unwrap();
        check_lines(&m);
        let p = parse(&m);
        assert_eq!(p["subject"], subject);
        assert_eq!(p["to"].as_array().unwrap().len(), 40);
        assert_eq!(
            p["to"][39],
            serde_json::json!(["Recipient Number 39", "user39@example.org"])
        );
    }

    #[test]
    fn address_forms() {
        let local = |name: Option<&str>, user: &str| MailAddress::Local {
            name: name.map(str::to_string),
            user: user.into(),
        };
        assert_eq!(parse_address("pyruse").unwrap(), local(None, "pyruse"));
        assert_eq!(
            parse_address(" hostmaster ").unwrap(),
            local(None, "hostmaster")
        );
        assert_eq!(
            parse_address("first.last+tag").unwrap(),
            local(None, "first.last+tag")
        );
        assert_eq!(
            parse_address("Ops <ops>").unwrap(),
            local(Some("Ops"), "ops")
        );
        assert_eq!(
            parse_address("\"Ops \\\"A\\\" Team\" <ops>").unwrap(),
            local(Some("Ops \"A\" Team"), "ops")
        );
        assert_eq!(parse_address("<ops>").unwrap(), local(None, "ops"));
        match parse_address("Jo <jo@example.org>").unwrap() {
            MailAddress::Full(m) => {
                assert_eq!(m.name.as_deref(), Some("Jo"));
                assert_eq!(m.email.to_string(), "jo@example.org");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_address("a@b.c"), Ok(MailAddress::Full(_))));
        // Long names would make header lines over 998 octets.
        assert!(parse_address(&format!("{} <a@b.c>", "n".repeat(257))).is_err());
        assert!(parse_address(&format!("{} <a>", "n".repeat(257))).is_err());
        assert!(parse_address(&format!("{} <a>", "n".repeat(256))).is_ok());
        assert!(parse_address(&"u".repeat(65)).is_err());
        for bad in [
            "",
            "  ",
            "two words",
            "a..b",
            ".a",
            "a.",
            "<>",
            "a@",
            "@b.c",
            "a@b@c",
            "x\ny",
            "x\r\nBcc: y@z",
            "Name <a b>",
            "ünï",
        ] {
            assert!(parse_address(bad).is_err(), "{bad:?} accepted");
        }
        let e = parse_address("two words").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid mail address \"two words\""),
            "{e}"
        );
    }

    #[test]
    fn errors() {
        let mut s = settings();
        s.to.clear();
        assert_eq!(text_message(&s, "s", "b", 0), Err(MailError::NoRecipient));
        s.to.push("not an address".into());
        assert!(matches!(
            report_message(
                &s,
                "s",
                &Report {
                    text: String::new(),
                    html: String::new()
                },
                0
            ),
            Err(MailError::Address { .. })
        ));
        // Dates outside what a Date header can say are clamped, not a panic.
        let m = text_message(&settings(), "s", "b", i64::MIN).unwrap();
        assert!(std::str::from_utf8(&m)
            .unwrap()
            .starts_with("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
        assert!(text_message(&settings(), "s", "b", i64::MAX).is_ok());
    }

    #[test]
    fn smtp_envelope_needs_full_addresses() {
        let s = MailSettings {
            from: "Pyruse <pyruse@gw.example.org>".into(),
            to: vec!["a@example.org".into(), "B <b@example.org>".into()],
        };
        let e = smtp_envelope(&s).unwrap();
        assert_eq!(e.from().unwrap().to_string(), "pyruse@gw.example.org");
        assert_eq!(e.to().len(), 2);
        let bare = settings(); // has "hostmaster"
        assert!(
            matches!(smtp_envelope(&bare), Err(MailError::Address { input, .. }) if input == "hostmaster")
        );
        let none = MailSettings {
            from: "a@b.c".into(),
            to: vec![],
        };
        assert_eq!(smtp_envelope(&none), Err(MailError::NoRecipient));
    }
}
