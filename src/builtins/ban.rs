//! `nftBan(IP, nftSetIPv4, nftSetIPv6, banSeconds?)` and
//! `ipsetBan(IP, ipSetIPv4, ipSetIPv6, banSeconds?)`: ban the address in an
//! nftables or ipset set (the IPv6 set when the address contains `:`), for
//! `banSeconds` or forever. One step serves both; only the effect differs.
//!
//! A value that is not an IPv4 or IPv6 address fails the step (an action
//! error: the entry stops there, so nothing after it, such as a mail
//! announcing the ban, runs); the host layer checks the address again
//! before it reaches `nft` or `ipset`.

use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::{self, BanSet, Effect};
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};

pub static NFT: Builtin = Builtin {
    name: "nftBan",
    kind: Kind::Action,
    params: &[
        req("IP", Ty::Field),
        req("nftSetIPv4", Ty::Str),
        req("nftSetIPv6", Ty::Str),
        opt("banSeconds", Ty::Seconds),
    ],
    summary: "bans the address in an nftables set",
    doc: NFT_DOC,
    operator: None,
    form: None,
    prepare: prepare_nft,
};

/// The reference of `nftBan` (docs/language.md, "Builtins").
const NFT_DOC: &str = r#"
bans the address held by the field `IP` in the nftables set `nftSetIPv4`
or `nftSetIPv6` (written `family table set`, e.g. `"inet pyruse ban4"`),
chosen by the address family, for `banSeconds` or forever. A missing
field, or a value that is not an IPv4 or IPv6 address, fails the action:
nothing is banned and the entry stops. `pyrused` creates the sets at
start (`flags timeout`), in a table of its own with a chain that drops
their members; with `set nftBan.setup = false`, they must exist.
"#;

pub static IPSET: Builtin = Builtin {
    name: "ipsetBan",
    kind: Kind::Action,
    params: &[
        req("IP", Ty::Field),
        req("ipSetIPv4", Ty::Str),
        req("ipSetIPv6", Ty::Str),
        opt("banSeconds", Ty::Seconds),
    ],
    summary: "bans the address in an ipset set",
    doc: IPSET_DOC,
    operator: None,
    form: None,
    prepare: prepare_ipset,
};

/// The reference of `ipsetBan` (docs/language.md, "Builtins").
const IPSET_DOC: &str = r#"
the same as `nftBan` with ipset: bans the address held by the field `IP`
in the ipset set `ipSetIPv4` or `ipSetIPv6`, chosen by the address family,
for `banSeconds` or forever. `pyrused` creates the sets at start
(`timeout 0`, `family inet6` for the IPv6 set) and iptables/ip6tables rules
that drop their members; with `set ipsetBan.setup = false`, they must
exist.
"#;

/// Which firewall the ban goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Firewall {
    Nft,
    Ipset,
}

/// A prepared ban: the address field, the set by address family.
struct Ban {
    firewall: Firewall,
    ip: FieldId,
    set4: String,
    set6: String,
    seconds: Option<i64>,
}

fn prepare_nft(p: &mut Prep) -> Option<Box<dyn Step>> {
    prepare(p, Firewall::Nft, "nftSetIPv4", "nftSetIPv6")
}

fn prepare_ipset(p: &mut Prep) -> Option<Box<dyn Step>> {
    prepare(p, Firewall::Ipset, "ipSetIPv4", "ipSetIPv6")
}

fn prepare(p: &mut Prep, firewall: Firewall, set4: &str, set6: &str) -> Option<Box<dyn Step>> {
    Some(Box::new(Ban {
        firewall,
        ip: p.field("IP")?,
        set4: p.string(set4)?,
        set6: p.string(set6)?,
        seconds: p.seconds("banSeconds"),
    }))
}

impl Ban {
    /// The address value and the set it goes to. Text that does not parse
    /// as an address (a capture crafted to smuggle firewall syntax, a host
    /// name) is an error.
    fn target(&self, ctx: &mut Ctx) -> Result<(Value, String), RunError> {
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

impl Step for Ban {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let (ip, set) = self.target(ctx)?;
        let seconds = self.seconds;
        ctx.emit(match self.firewall {
            Firewall::Nft => Effect::NftBan { set, ip, seconds },
            Firewall::Ipset => Effect::IpsetBan { set, ip, seconds },
        });
        Ok(true)
    }

    fn ban_sets(&self) -> Vec<BanSet> {
        let firewall = match self.firewall {
            Firewall::Nft => effects::Firewall::Nft,
            Firewall::Ipset => effects::Firewall::Ipset,
        };
        BanSet::pair(firewall, &self.set4, &self.set6).into()
    }

    fn describe(&self) -> String {
        use crate::syntax::notation::{duration, quote};
        let (name, sets) = match self.firewall {
            Firewall::Nft => ("nftBan", "nftSet"),
            Firewall::Ipset => ("ipsetBan", "ipSet"),
        };
        let seconds = self
            .seconds
            .map_or_else(String::new, |s| format!(", banSeconds: {}", duration(s)));
        format!(
            "{name}(IP: field#{}, {sets}IPv4: {}, {sets}IPv6: {}{seconds})",
            self.ip.0,
            quote(&self.set4),
            quote(&self.set6)
        )
    }
}
