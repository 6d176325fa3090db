//! `inNetworks(field, nets)`, `FIELD in [10.0.0.0/8, ::1]`: the field is an
//! IP address inside one of the networks. Networks are parsed once; an
//! address containing `:` is IPv6 (as in Pyruse). A value that is not an
//! address (a zone index `fe80::1%eth0`, `999.1.1.1`) is an error: the
//! filter takes its `else` branch.

use super::{not_text, req, Builtin, Kind, Prep, Step, Ty};
use crate::diag::Code;
use crate::syntax::ast::ExprKind;
use crate::value::fields::FieldId;
use crate::value::Value;
use crate::vm::{Ctx, RunError};
use std::net::{Ipv4Addr, Ipv6Addr};

pub static BUILTIN: Builtin = Builtin {
    name: "inNetworks",
    kind: Kind::Filter,
    params: &[req("field", Ty::Field), req("nets", Ty::Networks)],
    summary: "passes when the field is an IP address inside one of the networks",
    doc: DOC,
    operator: None,
    form: Some("F in [10.0.0.0/8, ::1]"),
    prepare,
};

/// The reference of `inNetworks` (docs/language.md, "Builtins").
const DOC: &str = r#"
passes when the field is an IPv4 or IPv6 address inside one of the
networks (an address containing `:` is IPv6; a bare address is a
one-address network). Networks are validated at load time. An absent
field does not pass; a value that is not an address (`999.1.1.1`, a zone
index as in `fe80::1%eth0`) is a run-time error (the filter takes its
`else`). `F in […]` means `inNetworks` when the list is not empty and
every item is a network literal, and `in` otherwise.
"#;

/// A parsed network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    V4 { addr: u32, mask: u32 },
    V6 { addr: u128, mask: u128 },
}

/// Parse `addr/len` or a bare address, as Pyruse reads it.
pub fn parse_net(text: &str) -> Result<Net, String> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => {
            let len: u32 = l
                .parse()
                .map_err(|_| format!("`{l}` is not a prefix length"))?;
            (a, Some(len))
        }
        None => (text, None),
    };
    if addr.contains(':') {
        let a: Ipv6Addr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv6 address"))?;
        let len = len.unwrap_or(128);
        if len > 128 {
            return Err(format!("an IPv6 prefix length is at most 128, not {len}"));
        }
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        Ok(Net::V6 {
            addr: u128::from(a) & mask,
            mask,
        })
    } else {
        let a: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv4 address"))?;
        let len = len.unwrap_or(32);
        if len > 32 {
            return Err(format!("an IPv4 prefix length is at most 32, not {len}"));
        }
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        Ok(Net::V4 {
            addr: u32::from(a) & mask,
            mask,
        })
    }
}

/// A list of networks, split by family: (address, mask) pairs.
#[derive(Clone, Debug, Default)]
pub struct Nets {
    pub v4: Vec<(u32, u32)>,
    pub v6: Vec<(u128, u128)>,
}

impl Nets {
    /// The networks of argument `name`; an invalid one is reported.
    pub fn prepare(p: &mut Prep, name: &str) -> Option<Nets> {
        let e = p.arg(name)?.clone();
        let ExprKind::List(items) = &e.kind else {
            return None;
        };
        let mut nets = Nets::default();
        let mut ok = true;
        for item in items {
            let (ExprKind::Str(t) | ExprKind::Network(t)) = &item.kind else {
                ok = false;
                continue;
            };
            match parse_net(t) {
                Ok(Net::V4 { addr, mask }) => nets.v4.push((addr, mask)),
                Ok(Net::V6 { addr, mask }) => nets.v6.push((addr, mask)),
                Err(why) => {
                    ok = false;
                    p.error(
                        Code::InvalidNetwork,
                        item.span,
                        format!("invalid network: {why}"),
                        "write an address (192.0.2.1, 2001:db8::1) or a network (192.0.2.0/24, 2001:db8::/32)",
                    );
                }
            }
        }
        ok.then_some(nets)
    }

    /// Whether the address is in one of the networks.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        match ip {
            std::net::IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().any(|&(n, m)| a & m == n)
            }
            std::net::IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().any(|&(n, m)| a & m == n)
            }
        }
    }
}

struct InNetworks {
    field: FieldId,
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

fn prepare(p: &mut Prep) -> Option<Box<dyn Step>> {
    let field = p.field("field")?;
    let Nets { v4, v6 } = Nets::prepare(p, "nets")?;
    Some(Box::new(InNetworks { field, v4, v6 }))
}

impl Step for InNetworks {
    fn call(&self, ctx: &mut Ctx) -> Result<bool, RunError> {
        let Some(v) = ctx.get(self.field) else {
            return Ok(false);
        };
        let Value::Str(s) = v else {
            return Err(not_text("an address", v));
        };
        if s.contains(':') {
            let a: Ipv6Addr = s
                .parse()
                .map_err(|_| RunError::step(format!("`{s}` is not an IPv6 address")))?;
            let a = u128::from(a);
            Ok(self.v6.iter().any(|&(n, m)| a & m == n))
        } else {
            let a: Ipv4Addr = s
                .parse()
                .map_err(|_| RunError::step(format!("`{s}` is not an IPv4 address")))?;
            let a = u32::from(a);
            Ok(self.v4.iter().any(|&(n, m)| a & m == n))
        }
    }

    fn why_not(&self, ctx: &mut Ctx) -> String {
        let all = self.describe();
        let nets = all.split_once(" in ").map_or("", |(_, n)| n);
        crate::vm::explain::why_not_value(ctx, self.field, &format!("in {nets}"))
    }

    fn describe(&self) -> String {
        let mut nets: Vec<String> = self
            .v4
            .iter()
            .map(|&(a, m)| format!("{}/{}", Ipv4Addr::from(a), m.count_ones()))
            .collect();
        nets.extend(
            self.v6
                .iter()
                .map(|&(a, m)| format!("{}/{}", Ipv6Addr::from(a), m.count_ones())),
        );
        format!("field#{} in [{}]", self.field.0, nets.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_masked_and_bare_addresses_are_hosts() {
        assert_eq!(parse_net("192.168.1.97/29"), parse_net("192.168.1.96/29"));
        assert_eq!(
            parse_net("::1"),
            Ok(Net::V6 {
                addr: 1,
                mask: u128::MAX
            })
        );
        assert!(parse_net("10.0.0.0/33").is_err());
        assert!(parse_net("999.1.1.1").is_err());
    }
}
