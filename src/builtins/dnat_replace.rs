//! `dnatReplace(addr?, port?, daddr?, dport?, saddrInto?, sportInto?)`:
//! finds the live mapping captured by `dnatCapture` whose service-side
//! values equal the entry's, and writes the real client address and port
//! into the entry. When several mappings match, the oldest live one wins (as
//! in Pyruse); mappings are indexed, so the lookup does not scan.

use super::{opt, Builtin, Kind, Prep, Step, Ty};
use crate::diag::Code;
use crate::effects::Effect;
use crate::state::MatchMask;
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "dnatReplace",
    kind: Kind::Action,
    params: &[
        opt("addr", Ty::Field),
        opt("port", Ty::Field),
        opt("daddr", Ty::Field),
        opt("dport", Ty::Field),
        opt("saddrInto", Ty::Field),
        opt("sportInto", Ty::Field),
    ],
    summary: "writes the real client captured by dnatCapture into the entry",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `dnatReplace` (docs/language.md, "Builtins").
const DOC: &str = r#"
in the service's rules: finds the live link whose values match the
entry's fields named by `addr`, `port`, `daddr`, `dport` (at least one),
and writes the real client address into the field `saddrInto` and its
port into `sportInto` (at least one of the two; the port is `null` when
the link has none). When several links match, the oldest wins. Without a
match, or when a match field is missing, nothing is written.

With a router that logs the SSH connections it forwards (see
[The DNAT correction](../README.md#the-dnat-correction) in the README):

```pyr
chain "Capture DNAT for SSH" {
    SYSLOG_IDENTIFIER == "kernel"
    MESSAGE =~ /^DNAT\/ssh:.* SRC=(?P<dnatSaddr>[^ ]+) DST=(?P<dnatAddr>[^ ]+) .* SPT=(?P<dnatPort>[^ ]+) DPT=(?P<dnatDport>[^ ]+) /
    dnatCapture(
        saddr: dnatSaddr,
        addr: dnatAddr, addrValue: "127.0.0.1",
        port: dnatPort,
        dport: dnatDport, dportValue: "22",
        keepSeconds: 63s,
    )
}

chain "SSH failed logins" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for (?P<sshUser>\S+) from (?P<clientIP>\S+) port (?P<clientPort>\d+) ssh2$/
    dnatReplace(addr: clientIP, port: clientPort, saddrInto: clientIP)
    email(message: "SSH attack from {clientIP} on {sshUser}@{_HOSTNAME}.")
}
```
"#;

struct DnatReplace {
    /// addr, port, daddr, dport.
    keys: [Option<FieldId>; 4],
    mask: MatchMask,
    saddr_into: Option<(FieldId, String)>,
    sport_into: Option<(FieldId, String)>,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let keys = [
        p.field("addr"),
        p.field("port"),
        p.field("daddr"),
        p.field("dport"),
    ];
    let mask = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.is_some())
        .fold(0u8, |m, (i, _)| m | (1 << i));
    if mask == 0 {
        p.error(
            Code::MissingArgument,
            p.step_span(),
            "dnatReplace needs at least one of `addr`, `port`, `daddr`, `dport`",
            "name the fields that identify the connection as the service logged it, e.g. addr: clientIP, port: clientPort",
        );
        return None;
    }
    let into = |p: &mut Prep, name: &str| {
        let label = match &p.arg(name)?.kind {
            crate::syntax::ast::ExprKind::Field(s) | crate::syntax::ast::ExprKind::Str(s) => {
                s.clone()
            }
            _ => return None,
        };
        Some((p.field_out(name)?, label))
    };
    let saddr_into = into(p, "saddrInto");
    let sport_into = into(p, "sportInto");
    if saddr_into.is_none() && sport_into.is_none() {
        p.error(
            Code::MissingArgument,
            p.step_span(),
            "dnatReplace needs `saddrInto` or `sportInto`",
            "name the field that receives the real client address, e.g. saddrInto: clientIP",
        );
        return None;
    }
    if !p.tables.dnat_masks.contains(&mask) {
        p.tables.dnat_masks.push(mask);
    }
    Some(Box::new(DnatReplace {
        keys,
        mask,
        saddr_into,
        sport_into,
    }))
}

impl Step for DnatReplace {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let mut want: [Option<Value>; 4] = Default::default();
        let mut complete = true;
        for (i, k) in self.keys.iter().enumerate() {
            if let Some(f) = k {
                match ctx.get(*f) {
                    Some(v) => want[i] = Some(v.clone()),
                    None => complete = false,
                }
            }
        }
        let mut set = Vec::new();
        if complete {
            let now = ctx.now;
            if let Some(m) = ctx.state.dnat.lookup(self.mask, &want, now) {
                let (saddr, sport) = (m.saddr.clone(), m.sport.clone().unwrap_or(Value::None));
                if let Some((f, name)) = &self.saddr_into {
                    ctx.set(*f, saddr.clone());
                    set.push((name.clone(), saddr));
                }
                if let Some((f, name)) = &self.sport_into {
                    ctx.set(*f, sport.clone());
                    set.push((name.clone(), sport));
                }
            }
        }
        ctx.emit(Effect::DnatReplace { set });
        Ok(true)
    }

    fn describe(&self) -> String {
        let names = ["addr", "port", "daddr", "dport"];
        let mut args: Vec<String> = self
            .keys
            .iter()
            .zip(names)
            .filter_map(|(k, n)| k.map(|f| format!("{n}: field#{}", f.0)))
            .collect();
        for (into, name) in [
            (&self.saddr_into, "saddrInto"),
            (&self.sport_into, "sportInto"),
        ] {
            if let Some((f, _)) = into {
                args.push(format!("{name}: field#{}", f.0));
            }
        }
        format!("dnatReplace({})", args.join(", "))
    }
}
