//! Bans against real nftables sets, in a private network namespace
//! (`unshare -n`): failed logins from a journal file ban IPv4 and IPv6
//! addresses with timeouts; text crafted to smuggle nft syntax through a
//! captured "address" changes nothing; a restart restores flushed bans; an
//! unbanned address stays out after a restart. From an empty ruleset the
//! daemon sets up its table, sets and drop rule (and ipset sets with their
//! iptables rules), the same at every start, leaving the administrator's
//! table alone; with the set-up off, a ban the firewall refuses is listed
//! as failed, never as in force.

use crate::common::*;
use std::process::Command;

const RULES: &str = r#"set nftBan.nft = ["nft"]

chain "SSH failed logins" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for \S+ from (?P<ip>.+?) port [0-9]+ ssh2$/
    counterRaise(counter: "ssh", for: ip, keepSeconds: 1h, save: n)
    n >= 2 else { noop() }
    nftBan(IP: ip, nftSetIPv4: "inet pyruse ban4", nftSetIPv6: "inet pyruse ban6", banSeconds: 1h)
}
"#;

fn entries(now_us: i64) -> String {
    failed_logins(
        now_us,
        &[
            "203.0.113.5",
            "2001:db8::66",
            // An "address" that tries to close the nft set expression and
            // add a command of its own.
            "192.0.2.1 } ; flush ruleset ; add element inet pyruse ban4 { 198.51.100.99",
        ],
    )
}

/// Two failed logins from each client, in the last ten seconds.
fn failed_logins(now_us: i64, clients: &[&str]) -> String {
    let mut out = String::new();
    let mut t = now_us - 10_000_000;
    for c in clients {
        for i in 0..2 {
            t += 100_000;
            out.push_str(
                &serde_json::json!({
                    "__REALTIME_TIMESTAMP": t.to_string(),
                    "__MONOTONIC_TIMESTAMP": (t / 1000).to_string(),
                    "_BOOT_ID": "9ec1eb60c72a205286d614fc429eb4b9",
                    "_HOSTNAME": "bastion",
                    "SYSLOG_IDENTIFIER": "sshd",
                    "PRIORITY": "5",
                    "MESSAGE": format!("Failed password for root from {c} port {} ssh2", 40000 + i),
                })
                .to_string(),
            );
            out.push('\n');
        }
    }
    out
}

/// The text between two markers of the script's output.
fn section<'a>(out: &'a str, name: &str) -> &'a str {
    let start = out
        .find(&format!("=== {name}"))
        .unwrap_or_else(|| panic!("no section {name} in:\n{out}"));
    let rest = &out[start + name.len() + 4..];
    &rest[..rest.find("=== ").unwrap_or(rest.len())]
}

/// Run a shell script in a private network namespace; its standard output
/// and error, once it has succeeded.
fn in_network_namespace(script: &str) -> (String, String) {
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", script])
        .env("TZ", "UTC")
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "script failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// The nftables table and sets the rules ban into, as shell commands.
const NFT_SETS: &str = "nft add table inet pyruse\n\
     nft add set inet pyruse ban4 '{ type ipv4_addr; flags timeout; }'\n\
     nft add set inet pyruse ban6 '{ type ipv6_addr; flags timeout; }'\n";

/// Rules and a journal of failed logins in a temporary directory; the
/// shell commands that run the daemon over them and `pyrusec bans`.
struct Setup {
    _tmp: tempfile::TempDir,
    daemon: String,
    bans: Box<dyn Fn(&str) -> String>,
}

fn setup(rules_text: &str) -> Setup {
    setup_with(rules_text, &entries(pyruse::vm::wall_clock_us()))
}

/// [`setup`] with other journal entries (`journalctl -o json` lines).
fn setup_with(rules_text: &str, lines: &str) -> Setup {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.pyr");
    std::fs::write(&rules, rules_text).expect("rules");
    let journal = tmp.path().join("journal");
    std::fs::create_dir(&journal).expect("mkdir");
    make_journal(lines, &journal.join("ssh.journal"));
    let state = tmp.path().join("state");
    let daemon = format!(
        "{} --rules {} --directory {} --state-dir {} --exit-at-end",
        env!("CARGO_BIN_EXE_pyrused"),
        rules.display(),
        journal.display(),
        state.display()
    );
    let (r, st) = (rules.display().to_string(), state.display().to_string());
    let bans = Box::new(move |cmd: &str| {
        format!(
            "{} bans {cmd} --rules {r} --state-dir {st}",
            env!("CARGO_BIN_EXE_pyrusec")
        )
    });
    Setup {
        _tmp: tmp,
        daemon,
        bans,
    }
}

#[test]
fn nft_bans_restore_and_unban_in_a_network_namespace() {
    if !can_run(
        "nft_bans_restore_and_unban_in_a_network_namespace",
        &["nft"],
    ) {
        return;
    }
    let Setup { _tmp, daemon, bans } = setup(RULES);
    let (unban, list) = (bans("unban 203.0.113.5"), bans("list"));
    let script = format!(
        "set -e\n\
         {NFT_SETS}\
         nft add chain inet pyruse input '{{ type filter hook input priority 0; }}'\n\
         nft add rule inet pyruse input ip saddr @ban4 drop\n\
         {daemon}\n\
         echo '=== RUN'; nft list ruleset\n\
         nft flush set inet pyruse ban4; nft flush set inet pyruse ban6\n\
         echo '=== FLUSHED'; nft list ruleset\n\
         {daemon}\n\
         echo '=== RESTART'; nft list ruleset\n\
         echo '=== UNBAN'; {unban}\n\
         {daemon}\n\
         echo '=== AFTER'; nft list ruleset\n\
         echo '=== LIST'; {list}\n\
         echo '=== END'\n"
    );
    let (stdout, stderr) = in_network_namespace(&script);

    let run = section(&stdout, "RUN");
    assert!(
        run.contains("203.0.113.5 timeout"),
        "IPv4 banned with a timeout:\n{run}"
    );
    assert!(
        run.contains("2001:db8::66 timeout"),
        "IPv6 banned in the IPv6 set:\n{run}"
    );
    // The timeout is what remains of the hour, not more.
    assert!(
        run.contains("timeout 59m"),
        "remaining time of the ban:\n{run}"
    );
    // Smuggled syntax changed nothing: no extra element, the rule is still there.
    assert!(
        !run.contains("198.51.100.99") && !run.contains("192.0.2.1"),
        "{run}"
    );
    assert!(run.contains("ip saddr @ban4 drop"), "{run}");
    assert!(
        stderr.contains("refusing to ban"),
        "the bad address is logged: {stderr}"
    );
    assert_eq!(
        stderr.matches("refusing to ban").count(),
        1,
        "logged once per cause: {stderr}"
    );

    let flushed = section(&stdout, "FLUSHED");
    assert!(!flushed.contains("203.0.113.5"), "{flushed}");
    let restart = section(&stdout, "RESTART");
    assert!(
        restart.contains("203.0.113.5 timeout") && restart.contains("2001:db8::66 timeout"),
        "restored:\n{restart}"
    );

    assert!(section(&stdout, "UNBAN").contains("unbanned 203.0.113.5"));
    let after = section(&stdout, "AFTER");
    assert!(
        !after.contains("203.0.113.5"),
        "an unbanned address stays out after a restart:\n{after}"
    );
    assert!(after.contains("2001:db8::66"), "{after}");
    let list = section(&stdout, "LIST");
    assert!(
        list.contains("2001:db8::66") && !list.contains("203.0.113.5"),
        "{list}"
    );
}

#[test]
fn ipset_bans_restore_and_unban_in_a_network_namespace() {
    if !can_run(
        "ipset_bans_restore_and_unban_in_a_network_namespace",
        &["ipset"],
    ) {
        return;
    }
    let rules = RULES
        .replace("set nftBan.nft = [\"nft\"]", "set ipsetBan.ipset = [\"ipset\", \"-exist\", \"-quiet\"]")
        .replace(
            "nftBan(IP: ip, nftSetIPv4: \"inet pyruse ban4\", nftSetIPv6: \"inet pyruse ban6\", banSeconds: 1h)",
            "ipsetBan(IP: ip, ipSetIPv4: \"ssh4\", ipSetIPv6: \"ssh6\", banSeconds: 10m)",
        );
    let Setup { _tmp, daemon, bans } = setup(&rules);
    let unban = bans("unban 2001:db8::66");
    let script = format!(
        "set -e\n\
         ipset create ssh4 hash:ip timeout 0\n\
         ipset create ssh6 hash:ip family inet6 timeout 0\n\
         {daemon}\n\
         echo '=== RUN'; ipset list\n\
         ipset flush ssh4; ipset flush ssh6\n\
         {daemon}\n\
         echo '=== RESTART'; ipset list\n\
         {unban}\n\
         {daemon}\n\
         echo '=== AFTER'; ipset list\n\
         echo '=== END'\n"
    );
    let (stdout, _) = in_network_namespace(&script);
    let run = section(&stdout, "RUN");
    assert!(
        run.contains("203.0.113.5 timeout 5"),
        "IPv4 in ssh4 with what remains of 10 min:\n{run}"
    );
    assert!(
        run.contains("2001:db8::66 timeout 5"),
        "IPv6 in ssh6:\n{run}"
    );
    assert!(!run.contains("198.51.100.99"), "{run}");
    let restart = section(&stdout, "RESTART");
    assert!(
        restart.contains("203.0.113.5") && restart.contains("2001:db8::66"),
        "restored:\n{restart}"
    );
    let after = section(&stdout, "AFTER");
    assert!(
        after.contains("203.0.113.5") && !after.contains("2001:db8::66"),
        "unbanned stays out:\n{after}"
    );
}

/// 10,000 failed logins from as many addresses, each banned at once.
fn many_attackers(now_us: i64, n: u32) -> String {
    let mut out = String::new();
    for i in 0..n {
        let t = now_us - 60_000_000 + i64::from(i);
        let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        out.push_str(
            &serde_json::json!({
                "__REALTIME_TIMESTAMP": t.to_string(),
                "__MONOTONIC_TIMESTAMP": (t / 1000).to_string(),
                "_BOOT_ID": "9ec1eb60c72a205286d614fc429eb4b9",
                "SYSLOG_IDENTIFIER": "sshd",
                "MESSAGE": format!("Failed password for root from {ip} port 4242 ssh2"),
            })
            .to_string(),
        );
        out.push('\n');
    }
    out
}

#[test]
fn ten_thousand_bans_all_reach_the_set() {
    if !can_run("ten_thousand_bans_all_reach_the_set", &["nft"]) {
        return;
    }
    let rules = RULES.replace("n >= 2", "n >= 1");
    let lines = many_attackers(pyruse::vm::wall_clock_us(), 10_000);
    let Setup { _tmp, daemon, .. } = setup_with(&rules, &lines);
    let script = format!(
        "set -e\n\
         {NFT_SETS}\
         {daemon}\n\
         echo '=== SET'; nft -j list set inet pyruse ban4\n\
         echo '=== END'\n"
    );
    let (stdout, stderr) = in_network_namespace(&script);
    let set: serde_json::Value =
        serde_json::from_str(section(&stdout, "SET").trim()).expect("nft -j prints JSON");
    let elements = set["nftables"]
        .as_array()
        .and_then(|a| a.iter().find_map(|o| o["set"]["elem"].as_array()))
        .map_or(0, Vec::len);
    assert_eq!(elements, 10_000, "every address is in the set:\n{stderr}");
    let banned = stderr.matches("(given up)").count() + stderr.matches("will retry").count();
    assert_eq!(banned, 0, "no ban failed:\n{stderr}");
}

/// Prints, for each source address, whether a TCP connection from it to
/// a closed port of 127.0.0.1 is refused (the packet got through) or times
/// out (dropped).
const PROBE: &str = "python3 -c '
import socket
for src in [\"127.0.0.5\", \"127.0.0.6\"]:
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(1)
    try:
        s.connect((\"127.0.0.1\", 9))
        print(src, \"connected\")
    except ConnectionRefusedError:
        print(src, \"refused\")
    except socket.timeout:
        print(src, \"dropped\")
'";

/// A table of the administrator's, present before pyrused starts.
const USER_TABLE: &str = "nft add table inet user\n\
     nft add chain inet user keep '{ type filter hook input priority 0; policy accept; }'\n\
     nft add rule inet user keep tcp dport 22 accept\n";

/// Failed logins of the usual clients, and of 127.0.0.5 (loopback, so that
/// the namespace can check that its packets are dropped).
fn attacks() -> String {
    failed_logins(
        pyruse::vm::wall_clock_us(),
        &["203.0.113.5", "2001:db8::66", "127.0.0.5"],
    )
}

#[test]
fn the_daemon_sets_up_its_nft_table_from_an_empty_ruleset() {
    if !can_run(
        "the_daemon_sets_up_its_nft_table_from_an_empty_ruleset",
        &["nft", "python3"],
    ) {
        return;
    }
    let Setup { _tmp, daemon, bans } = setup_with(RULES, &attacks());
    // The same rules, naming a new IPv4 set and another chain priority.
    let newer = _tmp.path().join("newer.pyr");
    let newer_rules = format!(
        "set nftBan.priority = -20\n{}",
        RULES.replace("inet pyruse ban4", "inet pyruse web4")
    );
    std::fs::write(&newer, newer_rules).expect("rules");
    let rules = _tmp.path().join("rules.pyr").display().to_string();
    let daemon_newer = daemon.replace(&rules, &newer.display().to_string());
    let list = bans("list");
    let script = format!(
        "set -e\n\
         ip link set lo up\n\
         echo '=== EMPTY'; nft list ruleset\n\
         {USER_TABLE}\
         echo '=== USER BEFORE'; nft list table inet user\n\
         {daemon}\n\
         echo '=== FIRST'; nft list ruleset\n\
         echo '=== FIRST TERSE'; nft -t list ruleset\n\
         echo '=== PROBE'; {PROBE}\n\
         echo '=== LIST'; {list}\n\
         {daemon}\n\
         echo '=== SECOND TERSE'; nft -t list ruleset\n\
         echo '=== AGAIN'; nft list ruleset\n\
         {daemon_newer}\n\
         echo '=== NEWER'; nft list ruleset\n\
         echo '=== NEWER PROBE'; {PROBE}\n\
         echo '=== USER AFTER'; nft list table inet user\n\
         echo '=== END'\n"
    );
    let (stdout, stderr) = in_network_namespace(&script);
    assert_eq!(
        section(&stdout, "EMPTY").trim(),
        "",
        "the ruleset was empty"
    );

    let first = section(&stdout, "FIRST");
    // The table, marked as pyrused's, with its sets (of the right type,
    // with timeouts) holding the banned addresses, and the drop rules.
    let table = first
        .find("table inet pyruse {")
        .map(|at| &first[at..])
        .unwrap_or_else(|| panic!("no table inet pyruse:\n{first}\n{stderr}"));
    assert!(
        table.contains(pyruse::host::firewall::TABLE_MARK),
        "{table}"
    );
    let set = |name: &str| {
        let at = table
            .find(&format!("set {name} {{"))
            .unwrap_or_else(|| panic!("no set {name}:\n{table}"));
        &table[at..at + table[at..].find("\n\t}").unwrap_or(0)]
    };
    let (ban4, ban6) = (set("ban4"), set("ban6"));
    assert!(
        ban4.contains("type ipv4_addr") && ban4.contains("flags timeout"),
        "{ban4}"
    );
    assert!(
        ban6.contains("type ipv6_addr") && ban6.contains("flags timeout"),
        "{ban6}"
    );
    assert!(
        ban4.contains("203.0.113.5 timeout") && ban4.contains("127.0.0.5 timeout"),
        "{ban4}"
    );
    assert!(ban6.contains("2001:db8::66 timeout"), "{ban6}");
    assert!(
        table.contains("type filter hook input priority filter - 10; policy accept;")
            && table.contains("ip saddr @ban4 drop")
            && table.contains("ip6 saddr @ban6 drop"),
        "a chain hooked at input drops the members of both sets:\n{table}"
    );
    assert!(
        stderr.contains("nftables table inet pyruse ready"),
        "the set-up is logged:\n{stderr}"
    );
    // The drop rule works: the banned source is dropped, another is not.
    let probe = section(&stdout, "PROBE");
    assert!(
        probe.contains("127.0.0.5 dropped") && probe.contains("127.0.0.6 refused"),
        "{probe}"
    );
    let list = section(&stdout, "LIST");
    let line = |ip: &str| {
        list.lines()
            .find(|l| l.starts_with(ip))
            .unwrap_or_else(|| panic!("{ip} not listed:\n{list}"))
            .to_owned()
    };
    assert!(line("203.0.113.5").contains(" in force "), "{list}");
    assert!(line("2001:db8::66").contains(" in force "), "{list}");

    // A second start changes nothing: no second table, chain or rule.
    assert_eq!(
        section(&stdout, "FIRST TERSE"),
        section(&stdout, "SECOND TERSE"),
        "a second start leaves the same ruleset"
    );
    let second = section(&stdout, "AGAIN");
    assert_eq!(second.matches("table inet pyruse").count(), 1, "{second}");
    assert_eq!(second.matches("ip saddr @ban4 drop").count(), 1, "{second}");
    assert!(second.contains("203.0.113.5 timeout"), "{second}");

    // Rules that name a new set: it is added, with its drop rule, and the
    // old set still drops the bans it holds; the new priority holds.
    let newer = section(&stdout, "NEWER");
    assert!(newer.contains("set web4 {"), "{newer}");
    assert!(
        newer.contains("ip saddr @web4 drop") && newer.contains("ip saddr @ban4 drop"),
        "{newer}"
    );
    assert!(
        newer.contains("type filter hook input priority -20;"),
        "{newer}"
    );
    assert!(
        section(&stdout, "NEWER PROBE").contains("127.0.0.5 dropped"),
        "{stdout}"
    );
    assert_eq!(
        section(&stdout, "USER BEFORE"),
        section(&stdout, "USER AFTER"),
        "the administrator's table is untouched"
    );
}

#[test]
fn with_set_up_off_and_no_table_a_refused_ban_is_not_in_force() {
    if !can_run(
        "with_set_up_off_and_no_table_a_refused_ban_is_not_in_force",
        &["nft"],
    ) {
        return;
    }
    let rules = format!("set nftBan.setup = false\n{RULES}");
    let Setup { _tmp, daemon, bans } = setup(&rules);
    let list = bans("list");
    let script = format!(
        "set -e\n\
         {daemon}\n\
         echo '=== RULESET'; nft list ruleset\n\
         echo '=== LIST'; {list}\n\
         echo '=== END'\n"
    );
    let (stdout, stderr) = in_network_namespace(&script);
    assert_eq!(
        section(&stdout, "RULESET").trim(),
        "",
        "set-up off: nothing created"
    );
    assert!(!stderr.contains("set up"), "{stderr}");
    assert!(stderr.contains("stopped after 6 entries"), "{stderr}");
    let list = section(&stdout, "LIST");
    assert!(!list.contains("in force"), "{list}");
    for ip in ["203.0.113.5", "2001:db8::66"] {
        let at = list
            .find(ip)
            .unwrap_or_else(|| panic!("{ip} not listed:\n{list}"));
        let rest = &list[at..];
        let mut lines = rest.lines();
        assert!(
            lines.next().is_some_and(|l| l.contains(" failed ")),
            "{list}"
        );
        let why = lines.next().unwrap_or("");
        assert!(
            why.starts_with("    nft -f - failed") && why.contains("No such file or directory"),
            "the firewall's error, on the next line:\n{list}"
        );
    }
}

#[test]
fn a_set_up_that_fails_is_logged_and_the_daemon_goes_on() {
    if !can_run(
        "a_set_up_that_fails_is_logged_and_the_daemon_goes_on",
        &["nft"],
    ) {
        return;
    }
    let Setup { _tmp, daemon, bans } = setup(RULES);
    let list = bans("list");
    // pyrused's table, where its IPv4 set was made for IPv6 addresses.
    let mark = pyruse::host::firewall::TABLE_MARK;
    let script = format!(
        "set -e\n\
         nft add table inet pyruse '{{ comment \"{mark}\"; }}'\n\
         nft add set inet pyruse ban4 '{{ type ipv6_addr; flags timeout; }}'\n\
         {daemon}\n\
         echo '=== LIST'; {list}\n\
         echo '=== END'\n"
    );
    let (stdout, stderr) = in_network_namespace(&script);
    assert!(
        stderr.contains("cannot set up the nftables table inet pyruse: nft -f - failed")
            && stderr.contains("Error: datatype mismatch"),
        "the command and its error are logged:\n{stderr}"
    );
    assert!(stderr.contains("stopped after 6 entries"), "{stderr}");
    let list = section(&stdout, "LIST");
    let v4 = list.lines().find(|l| l.starts_with("203.0.113.5"));
    assert!(v4.is_some_and(|l| l.contains(" failed ")), "{list}");
}

#[test]
fn ipset_sets_and_their_drop_rules_set_themselves_up() {
    if !can_run(
        "ipset_sets_and_their_drop_rules_set_themselves_up",
        &["ipset", "iptables", "ip6tables", "python3"],
    ) {
        return;
    }
    let rules = RULES
        .replace(
            "set nftBan.nft = [\"nft\"]",
            "set ipsetBan.ipset = [\"ipset\", \"-exist\", \"-quiet\"]\n\
             set ipsetBan.iptables = [\"iptables\"]\n\
             set ipsetBan.ip6tables = [\"ip6tables\"]",
        )
        .replace(
            "nftBan(IP: ip, nftSetIPv4: \"inet pyruse ban4\", nftSetIPv6: \"inet pyruse ban6\", banSeconds: 1h)",
            "ipsetBan(IP: ip, ipSetIPv4: \"ssh4\", ipSetIPv6: \"ssh6\", banSeconds: 10m)",
        );
    let Setup { _tmp, daemon, bans } = setup_with(&rules, &attacks());
    let list = bans("list");
    let script = format!(
        "set -e\n\
         ip link set lo up\n\
         {daemon}\n\
         echo '=== SETS'; ipset list\n\
         echo '=== V4'; iptables -S\n\
         echo '=== V6'; ip6tables -S\n\
         echo '=== PROBE'; {PROBE}\n\
         echo '=== LIST'; {list}\n\
         {daemon}\n\
         echo '=== V4 AGAIN'; iptables -S\n\
         echo '=== V6 AGAIN'; ip6tables -S\n\
         echo '=== END'\n"
    );
    let (stdout, stderr) = in_network_namespace(&script);
    let sets = section(&stdout, "SETS");
    let ssh4 = &sets[sets.find("Name: ssh4").expect("ssh4 created")..];
    let ssh6 = &sets[sets.find("Name: ssh6").expect("ssh6 created")..];
    assert!(
        ssh4.contains("Header: family inet hash") && ssh4.contains("timeout"),
        "{sets}"
    );
    assert!(ssh6.contains("Header: family inet6 hash"), "{sets}");
    assert!(sets.contains("203.0.113.5 timeout") && sets.contains("2001:db8::66 timeout"));
    let v4 = section(&stdout, "V4");
    assert!(
        v4.contains("-A INPUT -j pyruse-bans")
            && v4.contains("-A pyruse-bans -m set --match-set ssh4 src -j DROP"),
        "{v4}\n{stderr}"
    );
    let v6 = section(&stdout, "V6");
    assert!(
        v6.contains("-A INPUT -j pyruse-bans")
            && v6.contains("-A pyruse-bans -m set --match-set ssh6 src -j DROP"),
        "{v6}"
    );
    let probe = section(&stdout, "PROBE");
    assert!(
        probe.contains("127.0.0.5 dropped") && probe.contains("127.0.0.6 refused"),
        "{probe}"
    );
    let list = section(&stdout, "LIST");
    assert_eq!(list.matches(" in force ").count(), 3, "{list}");
    assert_eq!(
        v4,
        section(&stdout, "V4 AGAIN"),
        "a second start adds nothing"
    );
    assert_eq!(
        v6,
        section(&stdout, "V6 AGAIN"),
        "a second start adds nothing"
    );
}

#[test]
fn a_reload_sets_the_firewall_up_again_and_restores_the_bans() {
    if !can_run(
        "a_reload_sets_the_firewall_up_again_and_restores_the_bans",
        &["nft"],
    ) {
        return;
    }
    let Setup { _tmp, daemon, .. } = setup(RULES);
    let follow = daemon.replace(" --exit-at-end", "");
    let wait_ban = "for i in $(seq 100); do \
                    nft list set inet pyruse ban4 2>/dev/null | grep -q 203.0.113.5 && break; \
                    sleep 0.1; done";
    // Debian's nftables.conf starts with `flush ruleset`: reloading
    // nftables removes pyrused's table; reloading pyrused brings it back.
    let script = format!(
        "set -e\n\
         {follow} &\n\
         pid=$!\n\
         {wait_ban}\n\
         nft flush ruleset\n\
         echo '=== FLUSHED'; nft list ruleset\n\
         kill -HUP $pid\n\
         {wait_ban}\n\
         echo '=== RELOADED'; nft list ruleset\n\
         kill -TERM $pid; wait $pid\n\
         echo '=== END'\n"
    );
    let (stdout, stderr) = in_network_namespace(&script);
    assert_eq!(section(&stdout, "FLUSHED").trim(), "", "{stdout}");
    let reloaded = section(&stdout, "RELOADED");
    assert!(
        reloaded.contains("203.0.113.5 timeout")
            && reloaded.contains("2001:db8::66 timeout")
            && reloaded.contains("ip saddr @ban4 drop"),
        "table, sets, rules and bans are back:\n{reloaded}\n{stderr}"
    );
}

/// The code block of the README that follows the line `<!-- MARKER … -->`.
fn readme_block(marker: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let at = readme
        .find(&format!("<!-- {marker}"))
        .unwrap_or_else(|| panic!("no <!-- {marker} in the README"));
    let rest = &readme[at..];
    let open = rest.find("\n```").expect("a code block after the marker") + 4;
    let body = &rest[open..];
    let body = &body[body.find('\n').expect("the fence line") + 1..];
    body[..body.find("```").expect("the end of the block")].to_owned()
}

/// The README's manual set-up (`apply` runs it, from `FILE`), with rules
/// that turn the daemon's set-up off: the bans are in force and their
/// source dropped.
fn manual_set_up_works(marker: &str, rules: &str, apply: &str) {
    let block = readme_block(marker);
    let Setup { _tmp, daemon, bans } = setup_with(rules, &attacks());
    let file = _tmp.path().join("manual");
    std::fs::write(&file, &block).expect("recipe");
    let apply = apply.replace("FILE", &file.display().to_string());
    let list = bans("list");
    let script = format!(
        "set -e\n\
         ip link set lo up\n\
         {apply}\n\
         {daemon}\n\
         echo '=== PROBE'; {PROBE}\n\
         echo '=== LIST'; {list}\n\
         echo '=== END'\n"
    );
    let (stdout, stderr) = in_network_namespace(&script);
    assert!(!stderr.contains("set up"), "set-up is off:\n{stderr}");
    let probe = section(&stdout, "PROBE");
    assert!(
        probe.contains("127.0.0.5 dropped") && probe.contains("127.0.0.6 refused"),
        "{block}\n{probe}"
    );
    let list = section(&stdout, "LIST");
    assert_eq!(list.matches(" in force ").count(), 3, "{block}\n{list}");
}

#[test]
fn the_readme_manual_nft_set_up_works() {
    if !can_run("the_readme_manual_nft_set_up_works", &["nft", "python3"]) {
        return;
    }
    let rules = format!("set nftBan.setup = false\n{RULES}");
    manual_set_up_works("manual nft set-up", &rules, "nft -f FILE");
}

#[test]
fn the_readme_manual_ipset_set_up_works() {
    if !can_run(
        "the_readme_manual_ipset_set_up_works",
        &["ipset", "iptables", "ip6tables", "python3"],
    ) {
        return;
    }
    let rules = RULES
        .replace(
            "set nftBan.nft = [\"nft\"]",
            "set ipsetBan.setup = false\nset ipsetBan.ipset = [\"ipset\", \"-exist\", \"-quiet\"]",
        )
        .replace(
            "nftBan(IP: ip, nftSetIPv4: \"inet pyruse ban4\", nftSetIPv6: \"inet pyruse ban6\", banSeconds: 1h)",
            "ipsetBan(IP: ip, ipSetIPv4: \"ssh4\", ipSetIPv6: \"ssh6\", banSeconds: 10m)",
        );
    manual_set_up_works("manual ipset set-up", &rules, "sh -e FILE");
}

#[test]
fn a_ban_that_fails_after_a_flush_sets_the_firewall_up_again() {
    if !can_run(
        "a_ban_that_fails_after_a_flush_sets_the_firewall_up_again",
        &["nft", "mkfifo"],
    ) {
        return;
    }
    let Setup { _tmp, daemon, .. } = setup(RULES);
    let journal = _tmp.path().join("journal").display().to_string();
    let fifo = _tmp.path().join("entries").display().to_string();
    // Entries from a pipe, so that new ones come after the flush.
    let follow = daemon
        .replace(&format!("--directory {journal}"), &format!("--json {fifo}"))
        .replace(" --exit-at-end", "");
    let lines = |ip: &str| {
        failed_logins(pyruse::vm::wall_clock_us(), &[ip])
            .replace('\'', "")
            .lines()
            .map(|l| format!("echo '{l}' >&3\n"))
            .collect::<String>()
    };
    let wait_for = |ip: &str| {
        format!(
            "for i in $(seq 300); do \
             nft list set inet pyruse ban4 2>/dev/null | grep -q {ip} && break; sleep 0.1; done"
        )
    };
    let script = format!(
        "set -e\n\
         mkfifo {fifo}\n\
         {follow} &\n\
         pid=$!\n\
         exec 3>{fifo}\n\
         {first}\
         {wait_first}\n\
         nft flush ruleset\n\
         {second}\
         {wait_second}\n\
         echo '=== RECOVERED'; nft list ruleset\n\
         kill -TERM $pid; wait $pid\n\
         echo '=== END'\n",
        first = lines("203.0.113.5"),
        wait_first = wait_for("203.0.113.5"),
        second = lines("198.51.100.7"),
        wait_second = wait_for("198.51.100.7"),
    );
    let (stdout, stderr) = in_network_namespace(&script);
    let recovered = section(&stdout, "RECOVERED");
    // The new ban failed (no table), the set-up ran again before its
    // retry, and the bans recorded before the flush were applied again.
    assert!(
        recovered.contains("198.51.100.7 timeout")
            && recovered.contains("203.0.113.5 timeout")
            && recovered.contains("ip saddr @ban4 drop"),
        "{recovered}\n{stderr}"
    );
    assert!(stderr.contains("will retry"), "{stderr}");
}
