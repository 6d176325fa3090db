//! Mail delivery over SMTP, the `email.smtp.*` settings of `.pyr` rule sets
//! (Pyruse itself only had sendmail): the message bytes composed by
//! [`crate::report::mail`] go to the configured relay with lettre's blocking
//! SMTP client, one connection per message (greeting, EHLO, STARTTLS and
//! EHLO again when asked, AUTH when a user is set, MAIL, one RCPT per
//! recipient, DATA, QUIT).
//!
//! - `security`: `none` is plain SMTP (default port 25), `starttls` requires
//!   STARTTLS before anything else is said (default port 587: nothing, not
//!   even the credentials, is sent if the relay does not offer it), `tls` is
//!   implicit TLS (default port 465).
//! - TLS is rustls with the *ring* provider, TLS 1.2 or 1.3; the relay's
//!   certificate must be valid for `host` and chain to a root of the system
//!   store (`/etc/ssl/certs`, or `SSL_CERT_FILE` / `SSL_CERT_DIR`), read at
//!   each delivery, so a private CA that the administrator installed works.
//! - Credentials (PLAIN, else LOGIN, as the relay offers) are used when
//!   `user` is set; a missing `password` is an empty one.
//! - The EHLO name is the kernel's host name when it is a valid one, else the
//!   address literal `[127.0.0.1]` (lettre's own behaviour).
//! - Connecting (to each resolved address in turn), and every read and
//!   write, including the TLS handshake, are limited to [`SMTP_TIMEOUT`].
//! - Errors become [`HostError`]s with a short, stable `cause`, to log each
//!   cause once: a 5xx reply (the relay refused the sender, a recipient, the
//!   credentials or the message) cannot be retried, anything else (relay
//!   down or unreachable, 4xx replies, TLS failures, a broken connection) can.
//!
//! The message must have CRLF line ends only (as composed by
//! `report::mail`); its bytes arrive as they are, dot-stuffed on the wire.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport};

use super::HostError;
use crate::config::Smtp;

/// How long connecting, and each read or write, may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The port used when `email.smtp.port` is not set: 25 for `none`, 587 for
/// `starttls` (submission), 465 for `tls` (submissions).
pub fn default_port(security: &str) -> Option<u16> {
    match security {
        "none" => Some(25),
        "starttls" => Some(587),
        "tls" => Some(465),
        _ => None,
    }
}

fn fatal(cause: String, message: String) -> HostError {
    HostError {
        cause,
        message,
        retry: false,
    }
}

fn transient(cause: String, message: String) -> HostError {
    HostError {
        cause,
        message,
        retry: true,
    }
}

/// The EHLO name: the kernel's host name if it is a valid host name.
fn hello_name() -> ClientId {
    let valid = |h: &str| {
        !h.is_empty()
            && h.len() <= 253
            && h.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| valid(h))
        .map_or_else(ClientId::default, ClientId::Domain)
}

/// Send already-formatted message bytes through an SMTP relay, with the
/// envelope from the settings ([`crate::report::mail::smtp_envelope`]).
pub fn send(smtp: &Smtp, envelope: &Envelope, message: &[u8]) -> Result<(), HostError> {
    let host = smtp.host.trim();
    // `[2001:db8::1]` as in a URL: lettre wants the bare address.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(fatal(
            "smtp: no host".into(),
            "email.smtp.host is empty".into(),
        ));
    }
    let unknown_security = || {
        fatal(
            "smtp: security".into(),
            format!(
                "unknown email.smtp.security {:?}: use \"none\", \"starttls\" or \"tls\"",
                smtp.security
            ),
        )
    };
    let Some(port) = smtp.port.or_else(|| default_port(&smtp.security)) else {
        return Err(unknown_security());
    };
    let server = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let tls_parameters = || {
        TlsParameters::new(host.to_string()).map_err(|e| {
            fatal(
                "smtp: tls setup".into(),
                format!("cannot set up TLS for {server}: {e}"),
            )
        })
    };
    let tls = match smtp.security.as_str() {
        "none" => Tls::None,
        "starttls" => Tls::Required(tls_parameters()?),
        "tls" => Tls::Wrapper(tls_parameters()?),
        _ => return Err(unknown_security()),
    };
    let mut builder = SmtpTransport::builder_dangerous(host)
        .port(port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT))
        .hello_name(hello_name());
    if let Some(user) = &smtp.user {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            smtp.password.clone().unwrap_or_default(),
        ));
    }
    // lettre ends DATA with CRLF "." CRLF, the first CRLF always sent by
    // itself: without this, a message that ends with CRLF, as composed
    // messages do, would arrive with an extra empty line.
    let data = message.strip_suffix(b"\r\n").unwrap_or(message);
    builder
        .build()
        .send_raw(envelope, data)
        .map(drop)
        .map_err(|e| error(&e, &server, smtp.security != "none"))
}

/// A lettre error as a host error.
fn error(e: &lettre::transport::smtp::Error, server: &str, tls: bool) -> HostError {
    let message = format!("SMTP delivery through {server} failed: {e}");
    if e.is_permanent() {
        // 5xx: the relay refused the sender, a recipient, the credentials or
        // the message; the same mail would be refused again.
        return fatal("smtp: rejected".into(), message);
    }
    if e.is_transient() {
        // 4xx: greylisting, a full queue, a relay shutting down…
        return transient("smtp: deferred".into(), message);
    }
    if e.is_timeout() {
        return transient(format!("smtp: timeout {server}"), message);
    }
    // rustls reports handshake and certificate failures as I/O errors of
    // kind InvalidData.
    let invalid_data = {
        let mut source = std::error::Error::source(e);
        let mut found = false;
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                found = io.kind() == std::io::ErrorKind::InvalidData;
                break;
            }
            source = s.source();
        }
        found
    };
    let cause = if e.is_tls() || (tls && invalid_data) {
        "tls"
    } else if e.is_client() {
        // The relay lacks what is needed: STARTTLS, an AUTH mechanism
        // lettre knows, 8BITMIME for 8-bit data.
        "unsupported"
    } else if e.is_response() {
        // A reply that is not SMTP, or none (the relay hung up).
        "protocol"
    } else if e.to_string().starts_with("Connection error") {
        // Name resolution, connection refused, no route.
        "connect"
    } else {
        "network"
    };
    transient(format!("smtp: {cause} {server}"), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports() {
        assert_eq!(default_port("none"), Some(25));
        assert_eq!(default_port("starttls"), Some(587));
        assert_eq!(default_port("tls"), Some(465));
        assert_eq!(default_port("ssl"), None);
    }

    fn smtp(host: &str, security: &str) -> Smtp {
        Smtp {
            host: host.into(),
            port: None,
            security: security.into(),
            user: None,
            password: None,
        }
    }

    fn envelope() -> Envelope {
        Envelope::new(
            Some("a@example.org".parse().unwrap()),
            vec!["b@example.org".parse().unwrap()],
        )
        .unwrap()
    }

    #[test]
    fn bad_settings_are_not_retried() {
        let e = send(&smtp("relay.example.org", "ssl"), &envelope(), b"x\r\n").unwrap_err();
        assert_eq!((e.cause.as_str(), e.retry), ("smtp: security", false));
        let e = send(&smtp(" ", "none"), &envelope(), b"x\r\n").unwrap_err();
        assert_eq!((e.cause.as_str(), e.retry), ("smtp: no host", false));
    }

    #[test]
    fn hello_name_is_usable() {
        // Whatever the machine's name, EHLO gets a syntactically valid one.
        let name = hello_name().to_string();
        assert!(!name.is_empty() && !name.contains(char::is_whitespace));
    }
}
