//! Mail delivery: sendmail, Pyruse's way: exactly the configured argv (by
//! default `/usr/bin/sendmail -t`), with the message, composed by
//! [`crate::report::mail`], on its standard input.

use super::host::{run_command, HostError};
use crate::config::Config;
use crate::report::mail::{self, MailSettings};

pub fn settings(config: &Config) -> MailSettings {
    MailSettings {
        from: config.email_from.clone(),
        to: config.email_to.clone(),
    }
}

fn deliver(config: &Config, message: &[u8]) -> Result<(), HostError> {
    run_command(&config.sendmail, Some(message))
}

/// Send a text mail (the `email` action) with the core `email` settings.
pub fn send_text(config: &Config, subject: &str, message: &str) -> Result<(), HostError> {
    let bytes = mail::text_message(
        &settings(config),
        subject,
        message,
        crate::vm::wall_clock_us(),
    )
    .map_err(|e| HostError {
        cause: "email: address".into(),
        message: format!("cannot compose the mail: {e}"),
        retry: false,
    })?;
    deliver(config, &bytes)
}

/// Send the daily report.
pub fn send_report(
    config: &Config,
    subject: &str,
    report: &crate::report::Report,
) -> Result<(), HostError> {
    let bytes = mail::report_message(
        &settings(config),
        subject,
        report,
        crate::vm::wall_clock_us(),
    )
    .map_err(|e| HostError {
        cause: "email: address".into(),
        message: format!("cannot compose the report: {e}"),
        retry: false,
    })?;
    deliver(config, &bytes)
}
