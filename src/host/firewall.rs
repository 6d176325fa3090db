//! Setting up what bans go into, at start: the nftables tables, sets and
//! drop rules, the ipset sets and the iptables rules that drop their
//! members.
//!
//! nftables: for each table the rules name (`inet pyruse` in `inet pyruse
//! ban4`), a table that does not exist is created, marked with a comment
//! ([`TABLE_MARK`]), with the sets (`flags timeout`, `ipv4_addr` or
//! `ipv6_addr`) and a chain `input` hooked at input that drops packets
//! whose source is in one of them. A table with the mark is brought up to
//! date in one transaction: sets the rules name since are added, and the
//! chain is written again with the configured priority, dropping the
//! members of every address set of the table (those the rules no longer
//! name still hold recorded bans). A table without the mark is
//! the administrator's: nothing in it is changed, only the sets the rules
//! need are looked for. Nothing outside those tables is touched.
//!
//! ipset: the sets are created when absent (`ipset create NAME hash:ip
//! family inet|inet6 timeout 0 -exist`), and iptables (IPv4) or ip6tables
//! (IPv6) get a chain [`IPTABLES_CHAIN`] with one rule per set that drops its
//! members, and a jump to it at the top of `INPUT`. nftables cannot match
//! ipset sets; iptables can (on Debian 12, iptables is iptables-nft: the
//! rules live in the nftables table `ip filter` / `ip6 filter`). What exists
//! already is left as it is.

use super::{command_output, run_command, HostError};
use crate::config::Config;
use crate::effects::{BanSet, Firewall};

/// The comment of the nftables tables pyrused creates and keeps up.
pub const TABLE_MARK: &str = "managed by pyrused: ban sets and the chain that drops their members";
/// The chain of such a table that drops the members of its sets.
pub const NFT_CHAIN: &str = "input";
/// The iptables and ip6tables chain that drops the members of ipset sets.
pub const IPTABLES_CHAIN: &str = "pyruse-bans";

/// What setting up one table or family gave, to be logged.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Ready.
    Done(String),
    /// Left alone on purpose (the administrator's table).
    Left(String),
    /// Could not be done: the command and its error, and the cause to log
    /// it under once.
    Failed { cause: String, message: String },
}

impl Outcome {
    fn failed(message: String) -> Outcome {
        Outcome::Failed {
            cause: message.clone(),
            message,
        }
    }

    /// A command that failed: logged under its own message, or, when it
    /// cannot run at all, under the cause its bans fail with too.
    fn command_failed(e: &HostError, message: String) -> Outcome {
        let cause = if e.message.starts_with("cannot run ") {
            e.cause.clone()
        } else {
            message.clone()
        };
        Outcome::Failed { cause, message }
    }
}

/// One nftables table to set up: its sets by address family.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NftTable {
    pub family: String,
    pub name: String,
    pub v4: Vec<String>,
    pub v6: Vec<String>,
}

impl NftTable {
    fn title(&self) -> String {
        format!("{} {}", self.family, self.name)
    }
}

/// The error of a command, naming the command.
fn failed(argv: &[String], e: &HostError) -> String {
    let command = argv.join(" ");
    if e.message.starts_with(&command) {
        e.message.clone()
    } else {
        format!("{command}: {}", e.message)
    }
}

/// An nftables name (table, set) that needs no quoting.
fn nft_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Split `family table set`; an error says why it cannot be set up.
pub fn parse_nft_set(name: &str) -> Result<(&str, &str, &str), String> {
    let parts: Vec<&str> = name.split_whitespace().collect();
    let [family, table, set] = parts[..] else {
        return Err(format!(
            "nftables set {name:?} is not written `family table set` (e.g. `inet pyruse ban4`)"
        ));
    };
    if !matches!(family, "inet" | "ip" | "ip6") {
        return Err(format!(
            "nftables set {name:?}: only tables of family inet, ip or ip6 are set up, not {family}"
        ));
    }
    if !nft_identifier(table) || !nft_identifier(set) {
        return Err(format!(
            "nftables set {name:?}: table and set names are letters, digits, `_`, `-` and `.`"
        ));
    }
    Ok((family, table, set))
}

/// The nftables tables of the sets, in order, and what cannot be set up.
pub fn nft_tables(sets: &[BanSet]) -> (Vec<NftTable>, Vec<String>) {
    let mut tables: Vec<NftTable> = Vec::new();
    let mut problems = Vec::new();
    for s in sets.iter().filter(|s| s.firewall == Firewall::Nft) {
        let (family, table, set) = match parse_nft_set(&s.name) {
            Ok(x) => x,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let wrong_family = (family == "ip" && s.ipv6) || (family == "ip6" && !s.ipv6);
        if wrong_family {
            let (v, t) = if s.ipv6 { (6, 4) } else { (4, 6) };
            problems.push(format!(
                "nftables set {:?} is named for IPv{v} addresses, but a table of family {family} \
                 sees only IPv{t}: use an inet table",
                s.name
            ));
            continue;
        }
        let i = match tables
            .iter()
            .position(|t| t.family == family && t.name == table)
        {
            Some(i) => i,
            None => {
                tables.push(NftTable {
                    family: family.into(),
                    name: table.into(),
                    ..NftTable::default()
                });
                tables.len() - 1
            }
        };
        let t = &mut tables[i];
        let (mine, other) = if s.ipv6 {
            (&mut t.v6, &t.v4)
        } else {
            (&mut t.v4, &t.v6)
        };
        if other.iter().any(|o| o == set) {
            problems.push(format!(
                "nftables set {:?} is named for both IPv4 and IPv6 addresses: a set holds one \
                 family; name two sets",
                s.name
            ));
        } else if !mine.iter().any(|o| o == set) {
            mine.push(set.into());
        }
    }
    (tables, problems)
}

/// The script (`nft -f -`) that creates the table, or brings a table of
/// pyrused's up to date, in one transaction: sets added when absent (their
/// elements kept), the chain deleted and written again.
pub fn nft_table_script(t: &NftTable, priority: i32) -> String {
    use std::fmt::Write;
    let at = t.title();
    let mut s = format!("add table {at} {{ comment \"{TABLE_MARK}\"; }}\n");
    for (sets, ty) in [(&t.v4, "ipv4_addr"), (&t.v6, "ipv6_addr")] {
        for set in sets {
            let _ = writeln!(s, "add set {at} {set} {{ type {ty}; flags timeout; }}");
        }
    }
    // `add` then `delete`: whether or not the chain was there, the new one
    // takes the configured priority (a base chain's cannot be changed).
    let chain = format!("{at} {NFT_CHAIN}");
    let _ = writeln!(s, "add chain {chain}");
    let _ = writeln!(s, "flush chain {chain}");
    let _ = writeln!(s, "delete chain {chain}");
    let _ = writeln!(
        s,
        "add chain {chain} {{ type filter hook input priority {priority}; policy accept; }}"
    );
    for (sets, proto) in [(&t.v4, "ip"), (&t.v6, "ip6")] {
        for set in sets {
            let _ = writeln!(s, "add rule {chain} {proto} saddr @{set} drop");
        }
    }
    s
}

/// Set up every nftables table the sets name (see the module's doc).
pub fn nft_setup(config: &Config, sets: &[BanSet]) -> Vec<Outcome> {
    let (tables, problems) = nft_tables(sets);
    let mut out: Vec<Outcome> = problems.into_iter().map(Outcome::failed).collect();
    for t in &tables {
        out.extend(nft_setup_table(config, t));
    }
    out
}

fn nft_setup_table(config: &Config, t: &NftTable) -> Vec<Outcome> {
    let at = t.title();
    let mut list = config.nft.clone();
    list.extend(["-t", "list", "table", &t.family, &t.name].map(String::from));
    let mut t = t.clone();
    match command_output(&list) {
        Ok(text) if text.contains(TABLE_MARK) => {
            // Its sets the rules no longer name still hold recorded bans:
            // the chain keeps dropping their members.
            for (set, ipv6) in listed_sets(&text) {
                if !t.v4.contains(&set) && !t.v6.contains(&set) {
                    if ipv6 { &mut t.v6 } else { &mut t.v4 }.push(set);
                }
            }
        }
        Ok(text) => return users_table(&t, &text),
        // nft ran, and says there is no such table.
        Err(e) if e.message.contains("Error: No such file or directory") => {}
        Err(e) => {
            let m = format!(
                "cannot set up the nftables table {at}: {}",
                failed(&list, &e)
            );
            return vec![Outcome::command_failed(&e, m)];
        }
    }
    let mut apply = config.nft.clone();
    apply.extend(["-f", "-"].map(String::from));
    let script = nft_table_script(&t, config.nft_priority);
    match run_command(&apply, Some(script.as_bytes())) {
        Ok(()) => {
            let sets: Vec<&str> = t.v4.iter().chain(&t.v6).map(String::as_str).collect();
            vec![Outcome::Done(format!(
                "nftables table {at} ready: sets {}, chain {NFT_CHAIN} (priority {}) drops their members",
                sets.join(", "),
                config.nft_priority
            ))]
        }
        Err(e) => {
            let m = format!(
                "cannot set up the nftables table {at}: {}",
                failed(&apply, &e)
            );
            vec![Outcome::command_failed(&e, m)]
        }
    }
}

/// The address sets of a table listed by `nft -t list table`, and whether
/// each holds IPv6 addresses.
fn listed_sets(listing: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut lines = listing.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("set ").and_then(|l| l.strip_suffix(" {")) else {
            continue;
        };
        match lines.next() {
            Some("type ipv4_addr") => out.push((name.to_owned(), false)),
            Some("type ipv6_addr") => out.push((name.to_owned(), true)),
            _ => {}
        }
    }
    out
}

/// A table pyrused did not create: left as it is; the sets it lacks are
/// named.
fn users_table(t: &NftTable, listing: &str) -> Vec<Outcome> {
    let at = t.title();
    let has = |set: &str| listing.lines().any(|l| l.trim() == format!("set {set} {{"));
    let mut out = vec![Outcome::Left(format!(
        "nftables table {at} exists and pyrused did not create it: left as it is (its sets need \
         `flags timeout`, and a chain of yours must drop their members)"
    ))];
    for set in t.v4.iter().chain(&t.v6).filter(|s| !has(s)) {
        out.push(Outcome::failed(format!(
            "nftables set {at} {set} does not exist, and its table is not pyrused's to change: \
             bans into it fail until you create it"
        )));
    }
    out
}

/// An ipset set name that can be passed on: 1 to 31 visible characters.
fn ipset_name(s: &str) -> bool {
    (1..=31).contains(&s.len()) && s.chars().all(|c| c.is_ascii_graphic())
}

/// Create the ipset sets, and the iptables/ip6tables rules that drop their
/// members (see the module's doc).
pub fn ipset_setup(config: &Config, sets: &[BanSet]) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut ready: [Vec<&str>; 2] = [Vec::new(), Vec::new()];
    for s in sets.iter().filter(|s| s.firewall == Firewall::Ipset) {
        if !ipset_name(&s.name) {
            out.push(Outcome::failed(format!(
                "ipset set {:?}: a name is 1 to 31 visible characters",
                s.name
            )));
            continue;
        }
        let family = if s.ipv6 { "inet6" } else { "inet" };
        let mut argv = config.ipset.clone();
        argv.extend(
            [
                "create", &s.name, "hash:ip", "family", family, "timeout", "0", "-exist",
            ]
            .map(String::from),
        );
        match run_command(&argv, None) {
            Ok(()) => ready[usize::from(s.ipv6)].push(&s.name),
            Err(e) => {
                let m = format!(
                    "cannot create the ipset set {}: {}",
                    s.name,
                    failed(&argv, &e)
                );
                out.push(Outcome::command_failed(&e, m));
            }
        }
    }
    for (names, tables) in ready.iter().zip([&config.iptables, &config.ip6tables]) {
        if !names.is_empty() {
            out.push(iptables_setup(tables, names));
        }
    }
    out
}

/// The chain of drop rules in one of iptables and ip6tables, and the jump
/// to it from `INPUT`; each part added only when absent.
fn iptables_setup(tables: &[String], sets: &[&str]) -> Outcome {
    let cmd = |args: &[&str]| {
        let mut argv = tables.to_vec();
        argv.push("-w".into());
        argv.extend(args.iter().map(|a| a.to_string()));
        argv
    };
    let chain = IPTABLES_CHAIN;
    let ensure = |check: Vec<String>, add: Vec<String>| {
        if run_command(&check, None).is_ok() {
            return Ok(());
        }
        run_command(&add, None).map_err(|e| (failed(&add, &e), e))
    };
    let mut steps: Vec<(Vec<String>, Vec<String>)> =
        vec![(cmd(&["-n", "-L", chain]), cmd(&["-N", chain]))];
    for set in sets {
        let rule = |op| {
            [
                op,
                chain,
                "-m",
                "set",
                "--match-set",
                set,
                "src",
                "-j",
                "DROP",
            ]
        };
        steps.push((cmd(&rule("-C")), cmd(&rule("-A"))));
    }
    steps.push((
        cmd(&["-C", "INPUT", "-j", chain]),
        cmd(&["-I", "INPUT", "-j", chain]),
    ));
    let program = tables.last().map_or("iptables", String::as_str);
    for (check, add) in steps {
        if let Err((message, e)) = ensure(check, add) {
            let m = format!(
                "cannot set up the {program} rules that drop the members of ipset sets {}: {message}",
                sets.join(", ")
            );
            return Outcome::command_failed(&e, m);
        }
    }
    Outcome::Done(format!(
        "ipset sets {} ready; {program} chain {chain}, jumped to from INPUT, drops their members",
        sets.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nft(name: &str, ipv6: bool) -> BanSet {
        BanSet {
            firewall: Firewall::Nft,
            name: name.into(),
            ipv6,
        }
    }

    #[test]
    fn sets_group_by_table_and_bad_names_are_named() {
        let (tables, problems) = nft_tables(&[
            nft("inet pyruse ban4", false),
            nft("inet pyruse ban6", true),
            nft("ip legacy ssh", false),
            nft("inet pyruse ban4", false),
            nft("ip legacy ssh6", true),
            nft("inet pyruse both", false),
            nft("inet pyruse both", true),
            nft("netdev t s", false),
            nft("inet pyruse", false),
            nft("inet t {s}", false),
        ]);
        assert_eq!(
            tables,
            [
                NftTable {
                    family: "inet".into(),
                    name: "pyruse".into(),
                    v4: vec!["ban4".into(), "both".into()],
                    v6: vec!["ban6".into()],
                },
                NftTable {
                    family: "ip".into(),
                    name: "legacy".into(),
                    v4: vec!["ssh".into()],
                    v6: vec![],
                },
            ]
        );
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems[0].contains("\"ip legacy ssh6\" is named for IPv6"));
        assert!(problems[1].contains("both IPv4 and IPv6"));
        assert!(problems[2].contains("family inet, ip or ip6 are set up, not netdev"));
        assert!(problems[3].contains("`family table set`"));
        assert!(problems[4].contains("letters, digits"));
    }

    #[test]
    fn address_sets_are_read_from_a_listing() {
        let listing = format!(
            "table inet pyruse {{\n\tcomment \"{TABLE_MARK}\"\n\tset old4 {{\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}}\n\n\
             \tset ports {{\n\t\ttype inet_service\n\t}}\n\n\tset old6 {{\n\t\ttype ipv6_addr\n\t}}\n\n\
             \tchain input {{\n\t\ttype filter hook input priority filter - 10; policy accept;\n\t}}\n}}\n"
        );
        assert_eq!(
            listed_sets(&listing),
            [("old4".to_owned(), false), ("old6".to_owned(), true)]
        );
    }

    #[test]
    fn the_script_creates_sets_and_rewrites_its_chain() {
        let t = NftTable {
            family: "inet".into(),
            name: "pyruse".into(),
            v4: vec!["ban4".into()],
            v6: vec!["ban6".into()],
        };
        assert_eq!(
            nft_table_script(&t, -10),
            format!(
                "add table inet pyruse {{ comment \"{TABLE_MARK}\"; }}\n\
                 add set inet pyruse ban4 {{ type ipv4_addr; flags timeout; }}\n\
                 add set inet pyruse ban6 {{ type ipv6_addr; flags timeout; }}\n\
                 add chain inet pyruse input\n\
                 flush chain inet pyruse input\n\
                 delete chain inet pyruse input\n\
                 add chain inet pyruse input {{ type filter hook input priority -10; policy accept; }}\n\
                 add rule inet pyruse input ip saddr @ban4 drop\n\
                 add rule inet pyruse input ip6 saddr @ban6 drop\n"
            )
        );
    }
}
