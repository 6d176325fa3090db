//! The host layer: carries out the effects queued in the state outbox.
//!
//! Commands run with an argument vector, never through a shell. Text from
//! log lines only ever becomes data: a ban's address is parsed as an IP
//! address before it reaches `nft` or `ipset`, and set names come from the
//! rules, not from entries.

use crate::config::Config;
use serde_json::{json, Value as J};
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

pub mod firewall;
pub mod mail;
pub mod smtp;

/// How long an outside command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Outbox payload of a ban.
pub fn ban_payload(set: &str, ip: &str, end_us: Option<i64>, rule: &str) -> J {
    json!({ "set": set, "ip": ip, "end_us": end_us, "rule": rule })
}

/// Why an effect could not be carried out.
#[derive(Debug, Clone, PartialEq)]
pub struct HostError {
    /// Short and stable, to log each cause once (e.g. `nft: not found`).
    pub cause: String,
    pub message: String,
    /// Whether trying again may help (a relay down) or not (a bad address).
    pub retry: bool,
}

impl HostError {
    fn fatal(cause: &str, message: String) -> HostError {
        HostError {
            cause: cause.into(),
            message,
            retry: false,
        }
    }

    fn transient(cause: &str, message: String) -> HostError {
        HostError {
            cause: cause.into(),
            message,
            retry: true,
        }
    }
}

/// Parse a ban address: exactly an IPv4 or IPv6 address, nothing else.
pub fn parse_ip(text: &str) -> Result<IpAddr, HostError> {
    text.parse::<IpAddr>().map_err(|_| {
        HostError::fatal(
            "ban: not an IP address",
            format!("refusing to ban {text:?}: not an IPv4 or IPv6 address"),
        )
    })
}

/// Run a command with an optional standard input, within a time limit.
pub fn run_command(argv: &[String], stdin: Option<&[u8]>) -> Result<(), HostError> {
    run(argv, stdin, false).map(drop)
}

/// Run a command without input, within a time limit; its standard output.
pub fn command_output(argv: &[String]) -> Result<String, HostError> {
    run(argv, None, true)
}

fn run(argv: &[String], stdin: Option<&[u8]>, capture: bool) -> Result<String, HostError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(HostError::fatal("command: empty", "empty command".into()));
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            HostError::transient(
                &format!("{program}: {}", e.kind()),
                format!("cannot run {program}: {e}"),
            )
        })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let data = input.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    // Read the output as it comes, so that a long one never fills the pipe.
    let output = child.stdout.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = std::io::Read::read_to_end(&mut pipe, &mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    });
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if status.success() {
                    return Ok(output.and_then(|t| t.join().ok()).unwrap_or_default());
                }
                return Err(exit_error(argv, status, child.stderr.take()));
            }
            Ok(None) if start.elapsed() > COMMAND_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HostError::transient(
                    &format!("{program}: timeout"),
                    format!(
                        "{program} did not finish within {}s",
                        COMMAND_TIMEOUT.as_secs()
                    ),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                return Err(HostError::transient(
                    &format!("{program}: wait"),
                    format!("waiting for {program}: {e}"),
                ))
            }
        }
    }
}

/// A command that exited with a failure: the command, its status and
/// the start of its standard error.
fn exit_error(
    argv: &[String],
    status: std::process::ExitStatus,
    stderr: Option<std::process::ChildStderr>,
) -> HostError {
    let mut err = String::new();
    if let Some(mut e) = stderr {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    let err: String = err.trim().chars().take(500).collect();
    let detail = if err.is_empty() {
        String::new()
    } else {
        format!(": {err}")
    };
    let program = argv.first().map_or("", String::as_str);
    HostError::transient(
        &format!("{program}: {status}"),
        format!("{} failed ({status}){detail}", argv.join(" ")),
    )
}

/// One nft element to add (or to delete first).
#[derive(Clone, Debug, PartialEq)]
pub struct NftElement {
    /// `family table set`, as in the rules (`inet pyruse ban4`).
    pub set: String,
    pub ip: IpAddr,
    /// Remaining seconds, `None` for no timeout.
    pub seconds: Option<u64>,
}

/// The nft script that applies bans in one transaction (`nft -f -`).
/// As in Pyruse, a new ban of an address already in the set replaces the
/// old one (and its timeout). nft has no "delete if present", so each
/// element is added without timeout, deleted, then added with its timeout:
/// the three succeed whether or not the element was there. Elements go in
/// one command per set and step (nft parses a list of thousands of
/// elements far faster than as many commands); an address banned twice in
/// the batch keeps its last ban, as if the bans had been applied in turn.
pub fn nft_script(elements: &[NftElement]) -> String {
    use std::fmt::Write;
    // Sets in the order they first appear; in each, addresses in the order
    // they first appear, with the timeout of their last ban.
    type Timed = (IpAddr, Option<u64>);
    let mut sets: Vec<(&str, Vec<Timed>)> = Vec::new();
    let mut at: std::collections::HashMap<(&str, IpAddr), (usize, usize)> =
        std::collections::HashMap::new();
    for e in elements {
        match at.get(&(e.set.as_str(), e.ip)) {
            Some(&(i, j)) => sets[i].1[j].1 = e.seconds,
            None => {
                let i = match sets.iter().position(|(s, _)| *s == e.set) {
                    Some(i) => i,
                    None => {
                        sets.push((&e.set, Vec::new()));
                        sets.len() - 1
                    }
                };
                at.insert((&e.set, e.ip), (i, sets[i].1.len()));
                sets[i].1.push((e.ip, e.seconds));
            }
        }
    }
    let mut s = String::new();
    for (set, list) in &sets {
        let plain = list
            .iter()
            .map(|(ip, _)| ip.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(s, "add element {set} {{ {plain} }}");
        let _ = writeln!(s, "delete element {set} {{ {plain} }}");
        let timed: Vec<String> = list
            .iter()
            .map(|(ip, t)| match t {
                Some(t) => format!("{ip} timeout {}s", t.max(&1)),
                None => ip.to_string(),
            })
            .collect();
        let _ = writeln!(s, "add element {set} {{ {} }}", timed.join(", "));
    }
    s
}

/// Apply nft bans in one transaction.
pub fn nft_apply(config: &Config, elements: &[NftElement]) -> Result<(), HostError> {
    if elements.is_empty() {
        return Ok(());
    }
    let mut argv = config.nft.clone();
    argv.push("-f".into());
    argv.push("-".into());
    run_command(&argv, Some(nft_script(elements).as_bytes()))
}

/// Remove an nft ban.
pub fn nft_remove(config: &Config, set: &str, ip: IpAddr) -> Result<(), HostError> {
    let mut argv = config.nft.clone();
    argv.push(format!("delete element {set} {{ {ip} }}"));
    run_command(&argv, None)
}

/// Apply an ipset ban (`ipset -exist add SET IP [timeout N]`): with
/// `-exist`, an existing entry gets the new timeout.
pub fn ipset_apply(
    config: &Config,
    set: &str,
    ip: IpAddr,
    seconds: Option<u64>,
) -> Result<(), HostError> {
    let mut argv = config.ipset.clone();
    argv.push("add".into());
    argv.push(set.into());
    argv.push(ip.to_string());
    if let Some(t) = seconds {
        argv.push("timeout".into());
        argv.push(t.max(1).to_string());
    }
    run_command(&argv, None)
}

/// Remove an ipset ban.
pub fn ipset_remove(config: &Config, set: &str, ip: IpAddr) -> Result<(), HostError> {
    let mut argv = config.ipset.clone();
    argv.push("del".into());
    argv.push(set.into());
    argv.push(ip.to_string());
    run_command(&argv, None)
}

/// Journal priorities of `log` levels.
pub fn priority(level: &str) -> u8 {
    crate::effects::LEVELS
        .iter()
        .position(|l| *l == level)
        .unwrap_or(6) as u8
}

/// Send a line to the journal as Pyruse (`SYSLOG_IDENTIFIER=pyruse`), so
/// that recidive rules read it back; stderr when there is no journal.
pub fn journal_log(level: &str, message: &str) -> Result<(), HostError> {
    let p = format!("PRIORITY={}", priority(level));
    let m = format!("MESSAGE={message}");
    if std::path::Path::new("/run/systemd/journal/socket").exists() {
        systemd::journal::send(&[&m, &p, "SYSLOG_IDENTIFIER=pyruse"]).map_err(|e| {
            HostError::transient("journal: send", format!("cannot write to the journal: {e}"))
        })
    } else {
        eprintln!("pyruse[{level}]: {message}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(set: &str, ip: &str, seconds: Option<u64>) -> NftElement {
        NftElement {
            set: set.into(),
            ip: ip.parse().unwrap(),
            seconds,
        }
    }

    #[test]
    fn nft_script_one_command_per_set_and_step_last_ban_wins() {
        let script = nft_script(&[
            el("inet pyruse ban4", "192.0.2.1", Some(60)),
            el("inet pyruse ban6", "2001:db8::1", None),
            el("inet pyruse ban4", "192.0.2.2", Some(0)),
            el("inet pyruse ban4", "192.0.2.1", Some(3600)),
        ]);
        assert_eq!(
            script,
            "add element inet pyruse ban4 { 192.0.2.1, 192.0.2.2 }\n\
             delete element inet pyruse ban4 { 192.0.2.1, 192.0.2.2 }\n\
             add element inet pyruse ban4 { 192.0.2.1 timeout 3600s, 192.0.2.2 timeout 1s }\n\
             add element inet pyruse ban6 { 2001:db8::1 }\n\
             delete element inet pyruse ban6 { 2001:db8::1 }\n\
             add element inet pyruse ban6 { 2001:db8::1 }\n"
        );
        assert_eq!(nft_script(&[]), "");
    }
}
