//! `dnatCapture(saddr, sport?, addr?/addrValue?, port?/portValue?,
//! daddr?/daddrValue?, dport?/dportValue?, keepSeconds?)`: remembers, for a
//! while, that the real client `saddr:sport` reaches the service as
//! `addr:port` on `daddr:dport` (see the README's DNAT example). A field
//! reference wins when the field is present; the `…Value` constant is the
//! fallback. Nothing is stored without `saddr` or without an `addr` value.

use super::{opt, req, Builtin, Kind, Prep, Step, Ty};
use crate::diag::Code;
use crate::effects::Effect;
use crate::state::{dnat_shift, Mapping};
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};

pub static BUILTIN: Builtin = Builtin {
    name: "dnatCapture",
    kind: Kind::Action,
    params: &[
        req("saddr", Ty::Field),
        opt("sport", Ty::Field),
        opt("addr", Ty::Field),
        opt("addrValue", Ty::Str),
        opt("port", Ty::Field),
        opt("portValue", Ty::Str),
        opt("daddr", Ty::Field),
        opt("daddrValue", Ty::Str),
        opt("dport", Ty::Field),
        opt("dportValue", Ty::Str),
        opt("keepSeconds", Ty::Seconds),
    ],
    summary: "remembers the real client behind a DNAT or proxy log line",
    doc: DOC,
    operator: None,
    form: None,
    prepare,
};

/// The reference of `dnatCapture` (docs/language.md, "Builtins").
const DOC: &str = r#"
remembers, for a short while, that the real client `saddr`:`sport`
reaches a service behind a NAT router or proxy as `addr`:`port` on
`daddr`:`dport`. `saddr`, `sport`, `addr`, `port`, `daddr`, `dport` are
fields; a field wins when present, and the string constant of the same
name with `Value` (`addrValue`, `portValue`, `daddrValue`, `dportValue`)
is the fallback. `saddr` is required, and `addr` or `addrValue`; nothing
is remembered when the entry has no `saddr` field, or no `addr` value. The
link lives between 1× and 2× `keepSeconds` (default 63 s) rounded up to a
power of two (63 s → between 64 and 128 s).
"#;

/// A value read from a field, or a constant when the field is absent.
struct Source {
    field: Option<FieldId>,
    value: Option<Value>,
}

impl Source {
    fn read(&self, ctx: &mut Ctx) -> Option<Value> {
        self.field
            .and_then(|f| ctx.get(f).cloned())
            .or_else(|| self.value.clone())
    }
}

struct DnatCapture {
    saddr: FieldId,
    sport: Option<FieldId>,
    /// addr, port, daddr, dport.
    keys: [Source; 4],
    shift: u32,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    if p.arg("addr").is_none() && p.arg("addrValue").is_none() {
        p.error(
            Code::MissingArgument,
            p.step_span(),
            "dnatCapture needs `addr` or `addrValue`",
            "give the field holding the address the service sees (addr: …), or that address as a constant (addrValue: \"…\")",
        );
        return None;
    }
    let saddr = p.field("saddr")?;
    let sport = p.field("sport");
    let mut source = |f: &str, v: &str| Source {
        field: p.field(f),
        value: p.string(v).map(Value::Str),
    };
    let keys = [
        source("addr", "addrValue"),
        source("port", "portValue"),
        source("daddr", "daddrValue"),
        source("dport", "dportValue"),
    ];
    let keep = p.seconds("keepSeconds").unwrap_or(63);
    Some(Box::new(DnatCapture {
        saddr,
        sport,
        keys,
        shift: dnat_shift(keep),
    }))
}

impl Step for DnatCapture {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let Some(saddr) = ctx.get(self.saddr).cloned() else {
            return Ok(true);
        };
        let sport = self.sport.and_then(|f| ctx.get(f).cloned());
        let keys = [
            self.keys[0].read(ctx),
            self.keys[1].read(ctx),
            self.keys[2].read(ctx),
            self.keys[3].read(ctx),
        ];
        if keys[0].is_none() {
            return Ok(true);
        }
        let now = ctx.now;
        let stamp = 1 + (now.div_euclid(1_000_000) >> self.shift);
        ctx.emit(Effect::DnatCapture {
            saddr: saddr.clone(),
            sport: sport.clone(),
            addr: keys[0].clone(),
            port: keys[1].clone(),
            daddr: keys[2].clone(),
            dport: keys[3].clone(),
        });
        ctx.state.dnat.capture(
            Mapping {
                saddr,
                sport,
                keys,
                stamp,
                shift: self.shift,
            },
            now,
        );
        Ok(true)
    }

    fn describe(&self) -> String {
        let mut args = vec![format!("saddr: field#{}", self.saddr.0)];
        if let Some(f) = self.sport {
            args.push(format!("sport: field#{}", f.0));
        }
        for (s, name) in self.keys.iter().zip(["addr", "port", "daddr", "dport"]) {
            if let Some(f) = s.field {
                args.push(format!("{name}: field#{}", f.0));
            }
            if let Some(v) = &s.value {
                args.push(format!(
                    "{name}Value: {}",
                    crate::syntax::notation::value(v)
                ));
            }
        }
        // The time a link is kept, as rounded up to a power of two.
        args.push(format!(
            "keepSeconds: {}",
            crate::syntax::notation::duration(1i64 << self.shift.min(62))
        ));
        format!("dnatCapture({})", args.join(", "))
    }
}
