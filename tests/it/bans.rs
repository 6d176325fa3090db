//! Bans against real nftables sets, in a private network namespace
//! (`unshare -n`): failed logins from a journal file ban IPv4 and IPv6
//! addresses with timeouts; text crafted to smuggle nft syntax through a
//! captured "address" changes nothing; a restart restores flushed bans; an
//! unbanned address stays out after a restart.

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
    let clients = [
        "203.0.113.5",
        "2001:db8::66",
        // An "address" that tries to close the nft set expression and add
        // a command of its own.
        "192.0.2.1 } ; flush ruleset ; add element inet pyruse ban4 { 198.51.100.99",
    ];
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
