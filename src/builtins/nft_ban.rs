//! `nftBan(IP, nftSetIPv4, nftSetIPv6, banSeconds?)`: bans the address in
//! an nftables set (the IPv6 set when the address contains `:`), for
//! `banSeconds` or forever. A value that is not an IPv4 or IPv6 address
//! fails the step (an action error: the entry stops there, so nothing after
//! it, such as a mail announcing the ban, runs); the host layer checks the
//! address again before it reaches `nft`.

use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::Effect;
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "nftBan",
    kind: Kind::Action,
    params: &[
        req("IP", Ty::Field),
        req("nftSetIPv4", Ty::Str),
        req("nftSetIPv6", Ty::Str),
        opt("banSeconds", Ty::Seconds),
    ],
    summary: "bans the address in an nftables set",
    operator: None,
    prepare,
};

/// What nftBan and ipsetBan share: pick the set by address family.
pub struct Ban {
    pub ip: FieldId,
    pub set4: String,
    pub set6: String,
    pub seconds: Option<i64>,
}

impl Ban {
    /// The address value and the set it goes to. Text that does not parse
    /// as an address (a capture crafted to smuggle firewall syntax, a host
    /// name) is an error.
    pub fn target(&self, ctx: &mut Ctx) -> Result<(Value, String), RunError> {
        match ctx.get(self.ip) {
            None => Err(RunError::step("the IP field is missing")),
            Some(Value::Str(s)) if s.parse::<std::net::IpAddr>().is_err() => Err(RunError::step(
                format!("refusing to ban {s:?}: not an IPv4 or IPv6 address"),
            )),
            Some(Value::Str(s)) => {
                let set = if s.contains(':') {
                    &self.set6
                } else {
                    &self.set4
                };
                Ok((Value::Str(s.clone()), set.clone()))
            }
            Some(v) => Err(super::not_text("the IP", v)),
        }
    }
}

struct NftBan(Ban);

pub fn prepare_ban(p: &mut Prep, set4: &str, set6: &str) -> Option<Ban> {
    Some(Ban {
        ip: p.field("IP")?,
        set4: p.string(set4)?,
        set6: p.string(set6)?,
        seconds: p.seconds("banSeconds"),
    })
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    Some(Box::new(NftBan(prepare_ban(
        p,
        "nftSetIPv4",
        "nftSetIPv6",
    )?)))
}

impl Step for NftBan {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let (ip, set) = self.0.target(ctx)?;
        ctx.emit(Effect::NftBan {
            set,
            ip,
            seconds: self.0.seconds,
        });
        Ok(true)
    }

    fn describe(&self) -> String {
        format!(
            "nftBan(field#{}, v4: {:?}, v6: {:?}, seconds: {:?})",
            self.0.ip.0, self.0.set4, self.0.set6, self.0.seconds
        )
    }
}
