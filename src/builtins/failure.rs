//! `failure(IP, service, maxFailures?, findTime?, banTime?, ignore?,
//! banAction?, banSetIPv4?, banSetIPv6?, mail?)`: one failure of a client
//! against a service, fail2ban's jail in one step.
//!
//! - An address in `ignore` is never counted (loopback by default).
//! - Otherwise the failure is counted under the service's name for
//!   `findTime`; at `maxFailures` the address is banned for `banTime`
//!   (`nftBan` or `ipsetBan` in the set of its family), the ban is logged
//!   (`SERVICE: banned ADDR for Ns after N failures`, priority NOTICE,
//!   which the recidive service reads back), and mailed when `mail` is on.
//! - **Once per incident**: the ban starts a grace period of `banTime` on
//!   the counter, during which further failures count 0, so they ban,
//!   log and mail nothing more; recidive therefore sees one line per ban.
//!
//! It is a filter that always passes: written last in its chain, the entry
//! then goes on to the next chains, so that every service sees every line
//! (as fail2ban's jails do) and the line still reaches the daily report.
//!
//! In a library service, the arguments not written are the service's
//! parameters (see `syntax::params`).

use super::in_networks::Nets;
use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::diag::Code;
use crate::effects::{BanSet, Effect, Firewall};
use crate::state::CounterId;
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};
use std::net::IpAddr;

pub static BUILTIN: Builtin = Builtin {
    name: "failure",
    kind: Kind::Filter,
    params: &[
        req("IP", Ty::Field),
        req("service", Ty::Str),
        opt("maxFailures", Ty::Count),
        opt("findTime", Ty::Seconds),
        opt("banTime", Ty::Seconds),
        opt("ignore", Ty::Networks),
        opt("banAction", Ty::Str),
        opt("banSetIPv4", Ty::Str),
        opt("banSetIPv6", Ty::Str),
        opt("mail", Ty::Bool),
    ],
    summary: "counts a failure of the address against the service; bans it once at maxFailures",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `failure` (docs/language.md, "Builtins").
const DOC: &str = r#"
fail2ban's jail in one step. `IP` is the field holding the client's
address; `service` names the counter (filled in inside a library service,
with the service's parameters for the other arguments).

- An address in `ignore` (networks; default loopback, `127.0.0.0/8` and
  `::1`) is not counted.
- Otherwise the failure is counted under the service's name for `findTime`
  (seconds, default 10 minutes). At `maxFailures` (a count, default 5) the
  address is banned for `banTime` (seconds, default 1 hour) with `nftBan`
  or `ipsetBan` according to `banAction` (`"nft"`, the default, or
  `"ipset"`; another value is an error when the rules are checked) into
  `banSetIPv4` or `banSetIPv6` (default `"inet pyruse ban4"`, `"inet
  pyruse ban6"`); the ban is logged at `NOTICE` (`SERVICE: banned ADDR for
  Ns after N failures`, which the recidive service reads back) and, with
  `mail: true` (the default is `false`), mailed (subject `Pyruse: ADDR
  banned (SERVICE)`).
- The ban starts a grace period of `banTime`: further failures of that
  address count 0 and ban, log and mail nothing more. One incident gives
  one ban.
- It is a filter that **always passes**: written last in a chain, the entry
  goes on to the next chains, so that every service sees every line (as
  each fail2ban jail reads the whole log) and the line still reaches the
  daily report. A missing field, or a value that is not an IPv4 or IPv6
  address, is a run-time error: nothing is counted and the filter takes
  its `else`.
"#;

pub const DEFAULT_MAX_FAILURES: i64 = 5;
pub const DEFAULT_FIND_TIME: i64 = 600;
pub const DEFAULT_BAN_TIME: i64 = 3600;
pub const DEFAULT_SET_IPV4: &str = "inet pyruse ban4";
pub const DEFAULT_SET_IPV6: &str = "inet pyruse ban6";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BanAction {
    Nft,
    Ipset,
}

struct Failure {
    ip: FieldId,
    service: String,
    counter: CounterId,
    max: i64,
    find_us: i64,
    ban_seconds: i64,
    ignore: Nets,
    action: BanAction,
    set4: String,
    set6: String,
    mail: bool,
    hostname: FieldId,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let ip = p.field("IP")?;
    let service = p.string("service")?;
    let action = match p.string("banAction").as_deref() {
        None | Some("nft") => BanAction::Nft,
        Some("ipset") => BanAction::Ipset,
        Some(other) => {
            let span = p.arg("banAction").map_or(p.step_span(), |e| e.span);
            p.error(
                Code::InvalidValue,
                span,
                format!("unknown ban action `{other}`"),
                "write \"nft\" (nftables sets) or \"ipset\"",
            );
            return None;
        }
    };
    let ignore = match p.arg("ignore") {
        Some(_) => Nets::prepare(p, "ignore")?,
        None => Nets {
            v4: vec![(0x7f00_0000, 0xff00_0000)],
            v6: vec![(1, u128::MAX)],
        },
    };
    let max = match p.arg("maxFailures").map(|e| &e.kind) {
        Some(crate::syntax::ast::ExprKind::Int(n)) => *n,
        _ => DEFAULT_MAX_FAILURES,
    };
    let mail = matches!(
        p.arg("mail").map(|e| &e.kind),
        Some(crate::syntax::ast::ExprKind::Bool(true))
    );
    Some(Box::new(Failure {
        ip,
        counter: p.counter(&service),
        service,
        max,
        find_us: p
            .seconds("findTime")
            .unwrap_or(DEFAULT_FIND_TIME)
            .saturating_mul(1_000_000),
        ban_seconds: p.seconds("banTime").unwrap_or(DEFAULT_BAN_TIME),
        ignore,
        action,
        set4: p
            .string("banSetIPv4")
            .unwrap_or_else(|| DEFAULT_SET_IPV4.into()),
        set6: p
            .string("banSetIPv6")
            .unwrap_or_else(|| DEFAULT_SET_IPV6.into()),
        mail,
        hostname: p.tables.intern("_HOSTNAME"),
    }))
}

impl Step for Failure {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let text = match ctx.get(self.ip) {
            None => return Err(RunError::step("the IP field is missing")),
            Some(Value::Str(s)) => s.clone(),
            Some(v) => return Err(super::not_text("the IP", v)),
        };
        let Ok(addr) = text.parse::<IpAddr>() else {
            return Err(RunError::step(format!(
                "refusing to count {text:?}: not an IPv4 or IPv6 address"
            )));
        };
        if self.ignore.contains(addr) {
            return Ok(true);
        }
        let key = Value::Str(text);
        let now = ctx.now;
        let n = ctx
            .state
            .counters
            .raise(self.counter, &key, Some(self.find_us), now);
        ctx.emit(Effect::CounterRaise {
            counter: self.service.clone(),
            key: key.clone(),
            value: n,
        });
        if n < self.max {
            return Ok(true);
        }
        let ban_us = self.ban_seconds.saturating_mul(1_000_000);
        ctx.state
            .counters
            .reset(self.counter, &key, Some(ban_us), now);
        ctx.emit(Effect::CounterReset {
            counter: self.service.clone(),
            key: key.clone(),
        });
        let set = if addr.is_ipv6() {
            &self.set6
        } else {
            &self.set4
        }
        .clone();
        let seconds = Some(self.ban_seconds);
        ctx.emit(match self.action {
            BanAction::Nft => Effect::NftBan {
                set,
                ip: key,
                seconds,
            },
            BanAction::Ipset => Effect::IpsetBan {
                set,
                ip: key,
                seconds,
            },
        });
        let (service, secs) = (&self.service, self.ban_seconds);
        ctx.emit(Effect::Log {
            level: "NOTICE",
            message: format!("{service}: banned {addr} for {secs}s after {n} failures"),
        });
        if self.mail {
            let host = match ctx.get(self.hostname) {
                Some(Value::Str(h)) => format!(" on {h}"),
                _ => String::new(),
            };
            ctx.emit(Effect::Email {
                subject: format!("Pyruse: {addr} banned ({service})"),
                message: format!(
                    "{addr} was banned for {secs} seconds after {n} failures against {service}{host}."
                ),
            });
        }
        Ok(true)
    }

    fn ban_sets(&self) -> Vec<BanSet> {
        let firewall = match self.action {
            BanAction::Nft => Firewall::Nft,
            BanAction::Ipset => Firewall::Ipset,
        };
        BanSet::pair(firewall, &self.set4, &self.set6).into()
    }

    fn describe(&self) -> String {
        use crate::syntax::notation::{duration, quote};
        format!(
            "failure(IP: field#{}, service: {}, maxFailures: {}, findTime: {}, banTime: {}, banAction: {}, banSetIPv4: {}, banSetIPv6: {}, mail: {})",
            self.ip.0,
            quote(&self.service),
            self.max,
            duration(self.find_us / 1_000_000),
            duration(self.ban_seconds),
            match self.action {
                BanAction::Nft => "\"nft\"",
                BanAction::Ipset => "\"ipset\"",
            },
            quote(&self.set4),
            quote(&self.set6),
            self.mail
        )
    }
}
