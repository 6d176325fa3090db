//! `ipsetBan(IP, ipSetIPv4, ipSetIPv6, banSeconds?)`: bans the address in
//! an ipset set, for `banSeconds` or forever.

use super::nft_ban::{prepare_ban, Ban};
use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::effects::Effect;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "ipsetBan",
    kind: Kind::Action,
    params: &[
        req("IP", Ty::Field),
        req("ipSetIPv4", Ty::Str),
        req("ipSetIPv6", Ty::Str),
        opt("banSeconds", Ty::Seconds),
    ],
    summary: "bans the address in an ipset set",
    operator: None,
    prepare,
};

struct IpsetBan(Ban);

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    Some(Box::new(IpsetBan(prepare_ban(
        p,
        "ipSetIPv4",
        "ipSetIPv6",
    )?)))
}

impl Step for IpsetBan {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let (ip, set) = self.0.target(ctx)?;
        ctx.emit(Effect::IpsetBan {
            set,
            ip,
            seconds: self.0.seconds,
        });
        Ok(true)
    }

    fn describe(&self) -> String {
        format!(
            "ipsetBan(field#{}, v4: {:?}, v6: {:?}, seconds: {:?})",
            self.0.ip.0, self.0.set4, self.0.set6, self.0.seconds
        )
    }
}
