//! Mail delivery. The message is composed by [`crate::report::mail`], then
//! handed to an SMTP relay when `email.smtp.host` is set, else to sendmail
//! Pyruse's way: exactly the configured argv (by default
//! `/usr/bin/sendmail -t`), the message on its standard input.

use super::{run_command, HostError};
use crate::config::Config;
use crate::report::mail::{self, MailSettings};

pub fn settings(config: &Config) -> MailSettings {
    MailSettings {
        from: config.email_from.clone(),
        to: config.email_to.clone(),
    }
}

fn deliver(config: &Config, message: &[u8]) -> Result<(), HostError> {
    match &config.smtp {
        Some(smtp) => {
            let envelope = mail::smtp_envelope(&settings(config)).map_err(|e| HostError {
                cause: "smtp: envelope".into(),
                message: format!("cannot send by SMTP: {e}"),
                retry: false,
            })?;
            super::smtp::send(smtp, &envelope, message)
        }
        None => run_command(&config.sendmail, Some(message)),
    }
}

/// A message that cannot be composed (a bad address in the settings) will
/// not compose better later: no retry.
fn compose_error(e: mail::MailError) -> HostError {
    HostError {
        cause: "email: address".into(),
        message: format!("cannot compose the mail: {e}"),
        retry: false,
    }
}

/// Send a text mail (the `email` action) with the core `email` settings.
pub fn send_text(config: &Config, subject: &str, message: &str) -> Result<(), HostError> {
    let now = crate::vm::wall_clock_us();
    let bytes =
        mail::text_message(&settings(config), subject, message, now).map_err(compose_error)?;
    deliver(config, &bytes)
}

/// Send the daily report.
pub fn send_report(
    config: &Config,
    subject: &str,
    report: &crate::report::Report,
) -> Result<(), HostError> {
    let now = crate::vm::wall_clock_us();
    let bytes =
        mail::report_message(&settings(config), subject, report, now).map_err(compose_error)?;
    deliver(config, &bytes)
}
