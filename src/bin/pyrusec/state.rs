//! The commands of `pyrusec` on the daemon's state: `status`, `bans ban`,
//! `counters list` and `counters reset`, and how each opens the state (a
//! state directory that does not exist is an error, never created).

use super::{print_diags, Format, StateArgs};
use pyruse::host::{self, NftElement};
use pyruse::state::store::{BanKind, BanOutcome, BanRecord, Batch, Store};
use pyruse::syntax;
use pyruse::syntax::ast::{ExprKind, RuleSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// The rules named by `--rules` (else the daemon's), their configuration,
/// and the state directory. Rules given that do not check are an error.
fn rules_and_dir(args: &StateArgs) -> Result<(RuleSet, pyruse::config::Config, PathBuf), ExitCode> {
    let rules_path = args
        .rules
        .clone()
        .unwrap_or_else(pyruse::daemon::default_rules);
    let (rules, diags) = syntax::load(&rules_path);
    if args.rules.is_some() && diags.iter().any(pyruse::diag::Diagnostic::is_error) {
        print_diags(&diags, &rules.sources, Format::Human);
        return Err(ExitCode::from(1));
    }
    let config = pyruse::check::config_of(&rules);
    let dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&config.storage));
    Ok((rules, config, dir))
}

fn store_error(e: pyruse::state::store::StoreError) -> ExitCode {
    eprintln!("pyrusec: {e}");
    ExitCode::from(2)
}

/// The state, read-only, beside a running daemon.
pub fn open_read(args: &StateArgs) -> Result<(pyruse::config::Config, Store), ExitCode> {
    let (_, config, dir) = rules_and_dir(args)?;
    let store = Store::open_read_only(&dir).map_err(store_error)?;
    Ok((config, store))
}

/// The state, to change it: in a directory that exists (the file is
/// created when missing, so that a ban recorded before the daemon's first
/// start is restored by it).
pub fn open_change(args: &StateArgs) -> Result<(RuleSet, pyruse::config::Config, Store), ExitCode> {
    let (rules, config, dir) = rules_and_dir(args)?;
    let store = Store::open_existing(&dir).map_err(store_error)?;
    Ok((rules, config, store))
}

/// What `status` shows, as its JSON object, from the state read-only.
fn gathered(args: &StateArgs, top: usize) -> Result<serde_json::Value, ExitCode> {
    let (_, _, dir) = rules_and_dir(args)?;
    let store = Store::open_read_only(&dir).map_err(store_error)?;
    let now = pyruse::vm::wall_clock_us();
    pyruse::daemon::inspect::gather(&store, &dir, now, top).map_err(store_error)
}

pub fn cmd_status(args: &StateArgs, format: Format, top: usize) -> ExitCode {
    let status = match gathered(args, top) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match format {
        Format::Json => println!("{status}"),
        Format::Human => print!(
            "{}",
            pyruse::daemon::inspect::human(&status, &jiff::tz::TimeZone::system())
        ),
    }
    ExitCode::SUCCESS
}

/// A duration as the rules write it: `90s`, `10m`, `2h`, `5d`, `1w`.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a duration (write 90s, 10m, 2h, 5d or 1w)");
    let Some(unit) = text.chars().last() else {
        return Err(bad());
    };
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        'w' => 604_800,
        _ => return Err(bad()),
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match digits.parse::<i64>().ok().and_then(|n| n.checked_mul(mult)) {
        Some(0) => Err(format!("{text:?}: a ban lasts at least one second")),
        Some(n) if n <= i64::MAX / 1_000_000 => Ok(n),
        _ => Err(format!("{text:?}: duration out of range")),
    }
}

/// The sets the rules ban addresses of `ip`'s family into: (kind, set).
fn sets_of_rules(rules: &RuleSet, ip: IpAddr) -> Vec<(BanKind, String)> {
    let v6 = ip.is_ipv6();
    let mut out: Vec<(BanKind, String)> = Vec::new();
    for step in rules.chains.iter().flat_map(|c| &c.steps) {
        let arg = |name: &str| {
            step.args
                .iter()
                .rev()
                .find(|a| a.name == name)
                .and_then(|a| match &a.value.kind {
                    ExprKind::Str(s) => Some(s.clone()),
                    _ => None,
                })
        };
        let family = |a4: &str, a6: &str| arg(if v6 { a6 } else { a4 });
        let found = match step.name.as_str() {
            "nftBan" => family("nftSetIPv4", "nftSetIPv6").map(|s| (BanKind::Nft, s)),
            "ipsetBan" => family("ipSetIPv4", "ipSetIPv6").map(|s| (BanKind::Ipset, s)),
            "failure" => {
                let kind = match arg("banAction").as_deref() {
                    Some("ipset") => BanKind::Ipset,
                    _ => BanKind::Nft,
                };
                family("banSetIPv4", "banSetIPv6").map(|s| (kind, s))
            }
            _ => None,
        };
        if let Some(f) = found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// Where a manual ban goes: the set named (an nft set is `family table
/// set`, an ipset one word), else the one set the rules ban that family
/// into, else `inet pyruse ban4`/`ban6`.
fn ban_target(rules: &RuleSet, ip: IpAddr, set: Option<&str>) -> Result<(BanKind, String), String> {
    if let Some(set) = set {
        let words: Vec<&str> = set.split_whitespace().collect();
        let word_ok = |w: &&str| {
            w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        };
        if words.is_empty() || words.len() > 3 || !words.iter().all(word_ok) {
            return Err(format!(
                "{set:?} is not a set: write an nft set as `inet pyruse ban4` \
                 (family, table, set) or an ipset name as one word"
            ));
        }
        let kind = if words.len() == 1 {
            BanKind::Ipset
        } else {
            BanKind::Nft
        };
        return Ok((kind, words.join(" ")));
    }
    let sets = sets_of_rules(rules, ip);
    match sets.as_slice() {
        [] => Ok((
            BanKind::Nft,
            if ip.is_ipv6() {
                "inet pyruse ban6"
            } else {
                "inet pyruse ban4"
            }
            .to_owned(),
        )),
        [one] => Ok(one.clone()),
        many => Err(format!(
            "the rules ban {} addresses into several sets ({}): name one with --set",
            if ip.is_ipv6() { "IPv6" } else { "IPv4" },
            many.iter()
                .map(|(k, s)| format!("{} {s}", k.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// What a manual ban's record names as its rule.
pub const MANUAL_RULE: &str = "manual (pyrusec bans ban)";

/// Record a manual ban; one not carried out is queued as well: a running
/// daemon carries it out (retrying), else its next start.
/// Record a manual ban with what the firewall made of it (`applied`: the
/// firewall's error, if any); a refused ban is queued for the daemon.
fn record_ban(
    store: &mut Store,
    record: BanRecord,
    applied: Result<(), String>,
) -> Result<(), pyruse::state::store::StoreError> {
    let mut batch = Batch::new();
    if applied.is_err() {
        let payload = host::ban_payload(&record.set, &record.ip, record.end_us, MANUAL_RULE);
        batch.outbox(record.kind.as_str(), payload, 0);
    }
    let outcome = BanOutcome {
        kind: record.kind,
        set: record.set.clone(),
        ip: record.ip.clone(),
        result: applied,
    };
    batch.ban(record);
    store.apply(&batch)?;
    store.ban_outcomes(&[outcome])
}

pub fn cmd_ban(
    address: &str,
    duration: Option<&str>,
    set: Option<&str>,
    args: &StateArgs,
) -> ExitCode {
    let Ok(ip) = address.parse::<IpAddr>() else {
        eprintln!("pyrusec: {address:?} is not an IPv4 or IPv6 address");
        return ExitCode::from(2);
    };
    let seconds = match duration.map(parse_duration).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pyrusec: {e}");
            return ExitCode::from(2);
        }
    };
    let (rules, config, dir) = match rules_and_dir(args) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let (kind, set) = match ban_target(&rules, ip, set) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("pyrusec: {e}");
            return ExitCode::from(2);
        }
    };
    let mut store = match Store::open_existing(&dir) {
        Ok(s) => s,
        Err(e) => return store_error(e),
    };
    let now = pyruse::vm::wall_clock_us();
    let end_us = seconds.map(|s| now.saturating_add(s.saturating_mul(1_000_000)));
    let remaining = seconds.map(|s| s as u64);
    let applied = match kind {
        BanKind::Nft => {
            let element = NftElement {
                set: set.clone(),
                ip,
                seconds: remaining,
            };
            host::nft_apply(&config, &[element])
        }
        BanKind::Ipset => host::ipset_apply(&config, &set, ip, remaining),
    };
    let record = BanRecord {
        kind,
        set: set.clone(),
        ip: ip.to_string(),
        end_us,
        rule: MANUAL_RULE.to_owned(),
    };
    if let Err(e) = record_ban(
        &mut store,
        record,
        applied.as_ref().map(|_| ()).map_err(|e| e.message.clone()),
    ) {
        return store_error(e);
    }
    let until = match end_us {
        Some(e) => format!("until {}", pyruse::daemon::inspect::rfc3339(e)),
        None => "with no end (until `pyrusec bans unban`)".to_owned(),
    };
    match applied {
        Ok(()) => {
            println!("banned {ip} in {} set {set} {until}", kind.as_str());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "pyrusec: {}\npyrusec: the ban of {ip} is recorded and queued: a running pyrused \
                 carries it out (retrying), and pyrused applies it at its next start",
                e.message
            );
            ExitCode::from(1)
        }
    }
}

/// `counters list`: the live keys of each counter (or of one), highest
/// counts first, as `status` shows them.
pub fn cmd_counters_list(
    counter: Option<&str>,
    top: usize,
    format: Format,
    args: &StateArgs,
) -> ExitCode {
    let status = match gathered(args, top) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut counters = status["counters"].as_array().cloned().unwrap_or_default();
    if let Some(name) = counter {
        let names: Vec<String> = counters
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect();
        counters.retain(|c| c["name"] == name);
        if counters.is_empty() {
            eprintln!(
                "pyrusec: no counter {name:?} in the rules or the state (counters: {})",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            );
            return ExitCode::from(1);
        }
    }
    match format {
        Format::Json => println!("{}", serde_json::Value::Array(counters)),
        Format::Human => print_counters(&counters, &status["counters_at"]),
    }
    ExitCode::SUCCESS
}

fn print_counters(counters: &[serde_json::Value], at: &serde_json::Value) {
    let tz = jiff::tz::TimeZone::system();
    let local = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map_or_else(String::new, |t| {
                t.to_zoned(tz.clone())
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
    };
    println!("counters at {}", local(at));
    println!(
        "{:<24} {:<40} {:>6} {:<20} grace until",
        "counter", "key", "value", "until"
    );
    for c in counters {
        let name = c["name"].as_str().unwrap_or("?");
        for k in c["top"].as_array().into_iter().flatten() {
            println!(
                "{name:<24} {:<40} {:>6} {:<20} {}",
                k["key"].as_str().unwrap_or("?"),
                k["value"].as_i64().unwrap_or(0),
                local(&k["expires"]),
                local(&k["grace_until"])
            );
        }
    }
}

/// `counters reset COUNTER KEY`: the key is deleted from the file at once
/// and from a running daemon's memory within a second.
pub fn cmd_counters_reset(counter: &str, key: &str, args: &StateArgs) -> ExitCode {
    let (_, _, mut store) = match open_change(args) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let keys = match store.counter_keys_written(counter, key) {
        Ok(k) => k,
        Err(e) => return store_error(e),
    };
    if keys.is_empty() {
        eprintln!("pyrusec: counter {counter:?} has no key {key:?}");
        return ExitCode::from(1);
    }
    let now = pyruse::vm::wall_clock_us();
    for k in &keys {
        if let Err(e) = store.reset_counter(counter, k, now) {
            return store_error(e);
        }
    }
    println!("reset key {key} of counter {counter} (a running pyrused forgets it within a second)");
    ExitCode::SUCCESS
}

/// `bans unban ADDR`: out of every set it is banned in (through the ban
/// command of the rules), out of the store so that a restart does not
/// restore it, and out of the outbox so that a ban queued and not yet
/// carried out does not bring it back.
pub fn cmd_unban(address: &str, args: &StateArgs) -> ExitCode {
    let Ok(ip) = address.parse::<IpAddr>() else {
        eprintln!("pyrusec: {address:?} is not an IPv4 or IPv6 address");
        return ExitCode::from(2);
    };
    let (_, config, mut store) = match open_change(args) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let bans = match store.bans() {
        Ok(b) => b,
        Err(e) => return store_error(e),
    };
    let mut texts = vec![ip.to_string()];
    let mut found = 0;
    for b in bans
        .iter()
        .filter(|b| b.ip.parse::<IpAddr>().ok() == Some(ip))
    {
        found += 1;
        let removed = match b.kind {
            BanKind::Nft => host::nft_remove(&config, &b.set, ip),
            BanKind::Ipset => host::ipset_remove(&config, &b.set, ip),
        };
        if let Err(e) = removed {
            eprintln!("pyrusec: {} (the record is removed anyway)", e.message);
        }
        if let Err(e) = store.remove_ban(b.kind, &b.set, &b.ip) {
            return store_error(e);
        }
        if !texts.contains(&b.ip) {
            texts.push(b.ip.clone());
        }
        println!("unbanned {} from {} set {}", b.ip, b.kind.as_str(), b.set);
    }
    let mut queued = 0;
    for t in &texts {
        match store.drop_queued_bans(t) {
            Ok(n) => queued += n,
            Err(e) => return store_error(e),
        }
    }
    if queued > 0 {
        println!("dropped {queued} queued ban(s) of {ip} not carried out yet");
    }
    if found == 0 && queued == 0 {
        eprintln!("pyrusec: {address} is not banned");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
