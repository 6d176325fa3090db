//! The journal of `alder`, a small self-hosted server (the one
//! `server.json` protects), over about four days from 2026-11-01T00:00Z:
//! one boot, one host, deterministic for a given seed.
//!
//! The server runs HAProxy (TLS in front of nginx's static sites and of
//! Gitea), Postfix (postscreen on port 25, submission, smtps), Dovecot
//! (IMAP, LMTP, SASL for Postfix), Prosody (XMPP), PostgreSQL (open to a
//! backup host, so scanned too), sshd (also reached through a DMZ router,
//! 10.0.0.1, whose kernel logs each forwarded connection as `DNAT/ssh:`),
//! cron, systemd, smartd and a nightly borgmatic backup; its nftables
//! input chain logs dropped packets as `DROP:`.
//!
//! Traffic, in entries (1M entries take about 4 days of log time, with a
//! day/night cycle, crawler and scanner bursts, and an evening when a blog
//! post draws several times the usual visitors):
//!
//! - about 77 % legitimate: web requests (an HAProxy line and an nginx
//!   access line each, some 404s with nginx's error line) and Gitea pages
//!   and git over HTTPS, about half of the whole; IMAP logins and logouts;
//!   XMPP sessions and server-to-server links; PostgreSQL connections of a
//!   local web application and of the backup host, and checkpoints; mail
//!   received (postscreen, smtpd, cleanup, qmgr, LMTP into Dovecot) and
//!   sent (submission, smtp, a few deferrals and a bounce); git pulls over
//!   SSH by a CI runner and by developers, admin SSH sessions with sudo and
//!   su; cron jobs, systemd timers and sessions, smartd, the backup; a few
//!   incidents (a Gitea upgrade with its HAProxy backend down, a failed
//!   certbot run, refused sudo and su) and typos (a wrong IMAP password);
//! - about 23 % attacks (30 % of the first night's entries): sshd password guessing (invalid users, root,
//!   a user not in AllowUsers; some connections up to MaxAuthTries),
//!   pre-authentication scanners, user-name probes through the DMZ router
//!   (kernel `DNAT/ssh:` line with the real source, then sshd's line with
//!   the router's address and the same port), Postfix SASL guessing on
//!   submission and smtps, postscreen DNSBL rejects, PREGREET and relay
//!   tests, dictionary attacks on recipients, Dovecot IMAP/POP3 guessing,
//!   nginx probes (`.env`, `.git/`, `wp-login.php`, `xmlrpc.php`,
//!   phpMyAdmin, phpunit…), HAProxy bad requests, TLS garbage and 401s on
//!   its stats page, Prosody and Gitea login guessing, PostgreSQL password
//!   guessing, and port scans (kernel `DROP:` lines).
//!
//! Attackers come from two pools. About 430 hard hitters run campaigns of
//! a handful to a few dozen attempts, seconds apart: a little more than
//! what gets them banned by either rule set (a firewall would cut the
//! rest), then they come back hours later, about ten times each over the
//! four days. A botnet of 24,000 addresses makes the rest (about a third
//! of the attacks): each address comes once or twice.
//! Legitimate clients (visitors, crawlers, mail servers, the 25 users'
//! devices) come from a separate pool. A fifth of the visitors, a third of
//! the users' devices and a few percent of the attackers use IPv6.
//! Addresses are synthetic; the server's own are documentation ones
//! (203.0.113.10, 2001:db8:4a2::10).
//!
//! Each entry has the two header fields first (`__REALTIME_TIMESTAMP`,
//! `__MONOTONIC_TIMESTAMP`), then its fields in the order journald writes
//! them for its transport (`syslog`, `stdout`, `journal` for systemd's own
//! lines, `kernel`), `_BOOT_ID` among them.
use crate::testing::Rng;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::io::Write;
use std::rc::Rc;

/// One journal entry: its fields in the order journald writes them.
pub type Entry = Vec<(&'static str, Vec<u8>)>;

/// 2026-11-01T00:00:00Z, in microseconds.
const START: u64 = 1_793_491_200_000_000;
/// The boot, 3 days 6 h 32 min before the first entry.
const BOOT: u64 = START - 282_725_123_456;
const SEC: u64 = 1_000_000;
const MIN: u64 = 60 * SEC;
const HOUR: u64 = 60 * MIN;
const DAY: u64 = 24 * HOUR;

const BOOT_ID: &str = "4f1c9a72e08b4d3e9b6a5c21d7e3f086";
const MACHINE_ID: &str = "b7e2c41a9d8f4e06a3152c7d9e8f1a24";
const HOSTNAME: &str = "alder";
const MY_V4: &str = "203.0.113.10";
const MY_V6: &str = "2001:db8:4a2::10";
const ROUTER: &str = "10.0.0.1";
/// The admin's office (trusted by the rules).
const OFFICE: &str = "198.51.100.5";
const CI_RUNNER: &str = "198.51.100.6";
const BACKUP_HOST: &str = "198.51.100.9";

/// -ln((i + 0.5) / 64) × 1024: exponential gaps without floating point.
#[rustfmt::skip]
const EXP: [u64; 64] = [
    4968, 3844, 3320, 2976, 2719, 2513, 2342, 2195, 2067, 1953, 1851, 1758, 1672, 1594, 1520, 1452,
    1388, 1328, 1271, 1217, 1166, 1117, 1070, 1026, 983, 942, 903, 865, 828, 793, 759, 726,
    694, 663, 633, 603, 575, 547, 520, 494, 469, 444, 419, 395, 372, 349, 327, 305,
    284, 263, 243, 223, 203, 184, 165, 146, 128, 110, 92, 75, 58, 41, 24, 8,
];

/// Relative activity of legitimate users by hour (UTC), in percent.
#[rustfmt::skip]
const DIURNAL: [u64; 24] = [
    55, 45, 40, 38, 38, 42, 55, 78, 98, 110, 118, 122,
    124, 122, 120, 121, 126, 132, 136, 134, 126, 112, 92, 70,
];

// ---------------------------------------------------------------- processes

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Kernel,
    Syslog,
    Stdout,
    Journal,
}

/// Who logs a line: the process kinds of the server.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Kernel,
    Systemd,
    Logind,
    Sshd,
    Postscreen,
    Smtpd,
    Submission,
    Smtps,
    Cleanup,
    Qmgr,
    Smtp,
    Lmtp,
    Anvil,
    Dnsblog,
    Dovecot,
    Nginx,
    Haproxy,
    Gitea,
    Prosody,
    Postgres,
    Cron,
    Sudo,
    Su,
    Smartd,
    Borgmatic,
}

/// What journald knows of a process kind.
struct Proc {
    transport: Transport,
    ident: &'static str,
    syslog_pid: bool,
    comm: &'static str,
    exe: &'static str,
    cmdline: &'static str,
    uid: &'static str,
    gid: &'static str,
    cap: &'static str,
    unit: &'static str,
    slice: &'static str,
    invocation: &'static str,
}

const FULL_CAPS: &str = "1ffffffffff";

const fn syslog(
    ident: &'static str,
    comm: &'static str,
    exe: &'static str,
    cmdline: &'static str,
    ids: (&'static str, &'static str, &'static str),
    unit: (&'static str, &'static str, &'static str),
) -> Proc {
    Proc {
        transport: Transport::Syslog,
        ident,
        syslog_pid: true,
        comm,
        exe,
        cmdline,
        uid: ids.0,
        gid: ids.1,
        cap: ids.2,
        unit: unit.0,
        slice: unit.1,
        invocation: unit.2,
    }
}

const ROOT: (&str, &str, &str) = ("0", "0", FULL_CAPS);
const POSTFIX: (&str, &str, &str) = ("106", "112", "0");
const POSTFIX_UNIT: (&str, &str, &str) = (
    "postfix@-.service",
    "system-postfix.slice",
    "0d3f5a6e1c2b4879a1e0f9d8c7b6a5e4",
);

static PROCS: [Proc; 25] = [
    // Kernel
    Proc {
        transport: Transport::Kernel,
        ident: "kernel",
        syslog_pid: false,
        comm: "",
        exe: "",
        cmdline: "",
        uid: "",
        gid: "",
        cap: "",
        unit: "",
        slice: "",
        invocation: "",
    },
    // Systemd
    Proc {
        transport: Transport::Journal,
        ident: "systemd",
        syslog_pid: false,
        comm: "systemd",
        exe: "/usr/lib/systemd/systemd",
        cmdline: "/sbin/init",
        uid: "0",
        gid: "0",
        cap: FULL_CAPS,
        unit: "init.scope",
        slice: "-.slice",
        invocation: "",
    },
    // Logind
    Proc {
        transport: Transport::Journal,
        ident: "systemd-logind",
        syslog_pid: false,
        comm: "systemd-logind",
        exe: "/usr/lib/systemd/systemd-logind",
        cmdline: "/lib/systemd/systemd-logind",
        uid: "0",
        gid: "0",
        cap: "24420020f",
        unit: "systemd-logind.service",
        slice: "system.slice",
        invocation: "5a0e7c3b9d214f68b1c2d3e4f5a69788",
    },
    // Sshd (the command line depends on the connection's user)
    syslog(
        "sshd",
        "sshd",
        "/usr/sbin/sshd",
        "sshd: unknown [priv]",
        ROOT,
        ("ssh.service", "system.slice", "9c1e2d3f4a5b46c7d8e9f0a1b2c3d4e5"),
    ),
    syslog(
        "postfix/postscreen",
        "postscreen",
        "/usr/lib/postfix/sbin/postscreen",
        "postscreen -l -n smtp -t inet -u -c -o stress= -s 2",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/smtpd",
        "smtpd",
        "/usr/lib/postfix/sbin/smtpd",
        "smtpd -n smtpd -t pass -u -c -o stress= -s 2",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/submission/smtpd",
        "smtpd",
        "/usr/lib/postfix/sbin/smtpd",
        "smtpd -n submission -t inet -u -c -o stress= -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/smtps/smtpd",
        "smtpd",
        "/usr/lib/postfix/sbin/smtpd",
        "smtpd -n smtps -t inet -u -c -o stress= -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/cleanup",
        "cleanup",
        "/usr/lib/postfix/sbin/cleanup",
        "cleanup -z -t unix -u -c",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/qmgr",
        "qmgr",
        "/usr/lib/postfix/sbin/qmgr",
        "qmgr -l -t unix -u",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/smtp",
        "smtp",
        "/usr/lib/postfix/sbin/smtp",
        "smtp -t unix -u -c",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/lmtp",
        "lmtp",
        "/usr/lib/postfix/sbin/lmtp",
        "lmtp -t unix -u -c",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/anvil",
        "anvil",
        "/usr/lib/postfix/sbin/anvil",
        "anvil -l -t unix -u -c",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    syslog(
        "postfix/dnsblog",
        "dnsblog",
        "/usr/lib/postfix/sbin/dnsblog",
        "dnsblog -l -t unix -u -c",
        POSTFIX,
        POSTFIX_UNIT,
    ),
    // Dovecot: every process logs through its log process, without a pid
    // in the syslog tag.
    Proc {
        syslog_pid: false,
        ..syslog(
            "dovecot",
            "log",
            "/usr/lib/dovecot/log",
            "dovecot/log",
            ROOT,
            ("dovecot.service", "system.slice", "2b7d9e1f3a4c45e6b7d8c9e0f1a2b3c4"),
        )
    },
    // nginx writes its own syslog header, without a pid.
    Proc {
        syslog_pid: false,
        ..syslog(
            "nginx",
            "nginx",
            "/usr/sbin/nginx",
            "nginx: worker process",
            ("33", "33", "0"),
            ("nginx.service", "system.slice", "7e8f9a0b1c2d43e5f6a7b8c9d0e1f2a3"),
        )
    },
    syslog(
        "haproxy",
        "haproxy",
        "/usr/sbin/haproxy",
        "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock",
        ("108", "116", "0"),
        ("haproxy.service", "system.slice", "c4d5e6f7a8b949c0d1e2f3a4b5c6d7e8"),
    ),
    // Gitea logs to its standard output (the invocation changes with the upgrade).
    Proc {
        transport: Transport::Stdout,
        syslog_pid: false,
        ..syslog(
            "gitea",
            "gitea",
            "/usr/local/bin/gitea",
            "/usr/local/bin/gitea web --config /etc/gitea/app.ini",
            ("109", "115", "0"),
            ("gitea.service", "system.slice", ""),
        )
    },
    syslog(
        "prosody",
        "lua5.4",
        "/usr/bin/lua5.4",
        "lua5.4 /usr/bin/prosody -F",
        ("107", "113", "0"),
        ("prosody.service", "system.slice", "e1f2a3b4c5d646e7f8a9b0c1d2e3f4a5"),
    ),
    syslog(
        "postgres",
        "postgres",
        "/usr/lib/postgresql/15/bin/postgres",
        "postgres: 15/main: checkpointer",
        ("105", "111", "0"),
        (
            "postgresql@15-main.service",
            "system-postgresql.slice",
            "a9b8c7d6e5f44a3b2c1d0e9f8a7b6c5d",
        ),
    ),
    syslog(
        "CRON",
        "cron",
        "/usr/sbin/cron",
        "/usr/sbin/CRON -f",
        ROOT,
        ("cron.service", "system.slice", "3c4d5e6f7a8b49c0a1b2c3d4e5f6a7b8"),
    ),
    // sudo and su run in the user's session (see `session_fields`).
    syslog("sudo", "sudo", "/usr/bin/sudo", "", ("0", "1000", FULL_CAPS), ("", "", "")),
    syslog("su", "su", "/usr/bin/su", "su -", ("0", "1000", FULL_CAPS), ("", "", "")),
    syslog(
        "smartd",
        "smartd",
        "/usr/sbin/smartd",
        "/usr/sbin/smartd -n",
        ROOT,
        ("smartmontools.service", "system.slice", "6f7e8d9c0b1a42f3e4d5c6b7a8f9e0d1"),
    ),
    Proc {
        transport: Transport::Stdout,
        syslog_pid: false,
        ..syslog(
            "borgmatic",
            "borgmatic",
            "/usr/bin/python3.11",
            "/usr/bin/python3 /usr/bin/borgmatic --verbosity -1 --syslog-verbosity 1",
            ROOT,
            ("borgmatic.service", "system.slice", ""),
        )
    },
];

fn proc_of(w: Who) -> &'static Proc {
    &PROCS[w as usize]
}

/// A line waiting for its time.
struct Pending {
    t: u64,
    seq: u64,
    who: Who,
    pid: u32,
    prio: u8,
    fac: u8,
    /// Process-specific: sshd's user, systemd's message kind, a session…
    arg: u32,
    msg: Vec<u8>,
    /// Process-specific text: systemd's unit, a new session's user and
    /// leader for logind, the command line of sudo or of a PostgreSQL
    /// backend; empty if none.
    aux: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        self.t == o.t && self.seq == o.seq
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    /// Reversed: the heap yields the earliest line first.
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.cmp(&self.t).then(o.seq.cmp(&self.seq))
    }
}

// ---------------------------------------------------------------- facilities, priorities

const KERN: u8 = 0;
const MAIL: u8 = 2;
const DAEMON: u8 = 3;
const AUTH: u8 = 4;
const CRON: u8 = 9;
const AUTHPRIV: u8 = 10;
const LOCAL0: u8 = 16;
const LOCAL7: u8 = 23;

const EMERG: u8 = 0;
const ALERT: u8 = 1;
const ERR: u8 = 3;
const WARNING: u8 = 4;
const NOTICE: u8 = 5;
const INFO: u8 = 6;

// sshd's process titles (`arg` of its lines).
const SSH_UNKNOWN: u32 = 0;
const SSH_ROOT: u32 = 1;
const SSH_GIT: u32 = 2;
const SSH_ALICE: u32 = 3;
const SSH_ACCEPTED: u32 = 4;
const SSH_POSTGRES: u32 = 5;
const SSH_TITLES: [&str; 6] = [
    "sshd: unknown [priv]",
    "sshd: root [priv]",
    "sshd: git [priv]",
    "sshd: alice [priv]",
    "sshd: [accepted]",
    "sshd: postgres [priv]",
];

/// systemd's own messages (`arg` of its lines): source place, message id,
/// job type and result.
struct SdKind {
    file: &'static str,
    line: &'static str,
    func: &'static str,
    message_id: &'static str,
    job_type: &'static str,
    job_result: &'static str,
}
const SD_STARTING: u32 = 0;
const SD_STARTED: u32 = 1;
const SD_STOPPING: u32 = 2;
const SD_STOPPED: u32 = 3;
const SD_DEACTIVATED: u32 = 4;
const SD_CONSUMED: u32 = 5;
const SD_EXITED: u32 = 6;
const SD_FAILED_RESULT: u32 = 7;
const SD_FAILED_START: u32 = 8;
const LOGIND_NEW: u32 = 9;
const LOGIND_LOGGED_OUT: u32 = 10;
const LOGIND_REMOVED: u32 = 11;
static SD_KINDS: [SdKind; 12] = [
    SdKind {
        file: "src/core/job.c",
        line: "581",
        func: "job_emit_start_message",
        message_id: "7d4958e842da4a758f6c1cdc7b36dcc5",
        job_type: "start",
        job_result: "",
    },
    SdKind {
        file: "src/core/job.c",
        line: "768",
        func: "job_emit_done_message",
        message_id: "39f53479d3a045ac8e11786248231fbf",
        job_type: "start",
        job_result: "done",
    },
    SdKind {
        file: "src/core/job.c",
        line: "581",
        func: "job_emit_start_message",
        message_id: "de5b426a63be47a7b6ac3eaac82e2f6f",
        job_type: "stop",
        job_result: "",
    },
    SdKind {
        file: "src/core/job.c",
        line: "768",
        func: "job_emit_done_message",
        message_id: "9d1aaa27d60140bd96365438aad20286",
        job_type: "stop",
        job_result: "done",
    },
    SdKind {
        file: "src/core/unit.c",
        line: "5553",
        func: "unit_log_success",
        message_id: "7ad2d189f7e94e70a38c781354912448",
        job_type: "",
        job_result: "",
    },
    SdKind {
        file: "src/core/unit.c",
        line: "2322",
        func: "unit_log_resources",
        message_id: "ae8f7b866b0347b9af31fe1c80b127c0",
        job_type: "",
        job_result: "",
    },
    SdKind {
        file: "src/core/service.c",
        line: "3519",
        func: "service_sigchld_event",
        message_id: "",
        job_type: "",
        job_result: "",
    },
    SdKind {
        file: "src/core/unit.c",
        line: "5580",
        func: "unit_log_failure",
        message_id: "d9b373ed55a64feb8242e02dbe79a49c",
        job_type: "",
        job_result: "",
    },
    SdKind {
        file: "src/core/job.c",
        line: "768",
        func: "job_emit_done_message",
        message_id: "be02cf6855d2428ba40df7e9d022f03d",
        job_type: "start",
        job_result: "failed",
    },
    SdKind {
        file: "src/login/logind-session.c",
        line: "776",
        func: "session_start",
        message_id: "8d45620c1a4348dbb17410da57c60c66",
        job_type: "",
        job_result: "",
    },
    SdKind {
        file: "src/login/logind-session.c",
        line: "855",
        func: "session_stop",
        message_id: "",
        job_type: "",
        job_result: "",
    },
    SdKind {
        file: "src/login/logind-session.c",
        line: "890",
        func: "session_finalize",
        message_id: "3354939424b4456d9802ca8333ed424a",
        job_type: "",
        job_result: "",
    },
];

// ---------------------------------------------------------------- text of the time

struct Civil {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    min: u64,
    sec: u64,
    micro: u64,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Calendar date of a time in µs since the epoch (UTC; H. Hinnant's
/// civil_from_days).
fn civil(t: u64) -> Civil {
    let secs = t / SEC;
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year: year as u64,
        month: month as u64,
        day: day as u64,
        hour: rem / 3600,
        min: rem / 60 % 60,
        sec: rem % 60,
        micro: t % SEC,
    }
}

/// `Nov  1 00:00:02 ` (syslog, as journald keeps it).
struct SyslogTime(u64);
impl fmt::Display for SyslogTime {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let c = civil(self.0);
        write!(
            f,
            "{} {:>2} {:02}:{:02}:{:02} ",
            MONTHS[c.month as usize - 1],
            c.day,
            c.hour,
            c.min,
            c.sec
        )
    }
}
/// `01/Nov/2026:00:00:01 +0000` (nginx's access log).
struct ClfTime(u64);
impl fmt::Display for ClfTime {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let c = civil(self.0);
        write!(
            f,
            "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
            c.day,
            MONTHS[c.month as usize - 1],
            c.year,
            c.hour,
            c.min,
            c.sec
        )
    }
}
/// `01/Nov/2026:00:00:01.123` (HAProxy's accept date).
struct HaTime(u64);
impl fmt::Display for HaTime {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let c = civil(self.0);
        write!(
            f,
            "{:02}/{}/{}:{:02}:{:02}:{:02}.{:03}",
            c.day,
            MONTHS[c.month as usize - 1],
            c.year,
            c.hour,
            c.min,
            c.sec,
            c.micro / 1000
        )
    }
}
/// `2026/11/01 00:00:01` (nginx's error log, Gitea).
struct SlashTime(u64);
impl fmt::Display for SlashTime {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let c = civil(self.0);
        write!(
            f,
            "{}/{:02}/{:02} {:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.min, c.sec
        )
    }
}
/// `2026-11-01 00:00:01.123 UTC` (PostgreSQL's %m).
struct PgTime(u64);
impl fmt::Display for PgTime {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let c = civil(self.0);
        write!(
            f,
            "{}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.min,
            c.sec,
            c.micro / 1000
        )
    }
}
/// `2026-11-02T03:30:01` (borgmatic's archive names).
struct IsoTime(u64);
impl fmt::Display for IsoTime {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let c = civil(self.0);
        write!(
            f,
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.min, c.sec
        )
    }
}

// ---------------------------------------------------------------- random text

/// `n` hexadecimal digits of `v` (upper case when `upper`).
struct Hex(u64, usize, bool);
impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let digits: &[u8; 16] = if self.2 {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut v = self.0;
        let mut buf = [0u8; 16];
        for b in buf[..self.1].iter_mut().rev() {
            *b = digits[(v & 15) as usize];
            v >>= 4;
        }
        f.write_str(std::str::from_utf8(&buf[..self.1]).unwrap_or(""))
    }
}
/// `n` (≤ 20) base-64 characters of `(a, b)`.
struct B64(u64, u64, usize);
impl fmt::Display for B64 {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let (mut a, mut b) = (self.0, self.1);
        let mut buf = [0u8; 20];
        for (i, c) in buf.iter_mut().take(self.2).enumerate() {
            let v = if i < 10 { &mut a } else { &mut b };
            *c = A[(*v & 63) as usize];
            *v >>= 6;
        }
        f.write_str(std::str::from_utf8(&buf[..self.2]).unwrap_or(""))
    }
}

/// splitmix64: addresses and names derived from an index.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// ---------------------------------------------------------------- address pools

/// /16s that attackers come from.
#[rustfmt::skip]
const BAD_V4: [(u8, u8); 40] = [
    (218, 92), (61, 177), (183, 81), (222, 186), (112, 85), (45, 148), (45, 155), (80, 94),
    (92, 255), (141, 98), (185, 156), (185, 224), (193, 32), (194, 26), (195, 178), (103, 145),
    (103, 21), (170, 64), (179, 43), (186, 10), (190, 181), (200, 58), (2, 57), (5, 188),
    (31, 41), (37, 120), (77, 90), (89, 248), (91, 92), (104, 248), (137, 184), (143, 198),
    (159, 203), (164, 90), (167, 94), (178, 128), (206, 189), (116, 110), (121, 202), (171, 244),
];

#[rustfmt::skip]
const BAD_V6: [&str; 6] = [
    "2a0e:b107", "2402:4e00", "2001:470", "2a09:bac1", "2604:a880", "2a03:b0c0",
];

/// /16s of legitimate clients (access providers, mostly European).
#[rustfmt::skip]
const GOOD_V4: [(u8, u8); 22] = [
    (82, 64), (82, 65), (90, 3), (90, 45), (86, 246), (88, 160), (109, 190), (176, 128),
    (78, 192), (92, 184), (37, 165), (81, 250), (93, 22), (212, 195), (84, 102), (176, 180),
    (91, 160), (62, 35), (195, 154), (217, 128), (80, 12), (79, 88),
];

#[rustfmt::skip]
const GOOD_V6: [&str; 6] = [
    "2a01:e0a", "2a01:cb00", "2a02:8428", "2001:861", "2a04:cec0", "2a02:a03f",
];

fn v4(prefixes: &[(u8, u8)], h: u64) -> String {
    let (a, b) = prefixes[(h % prefixes.len() as u64) as usize];
    let c = (h >> 16) & 255;
    let d = 1 + (h >> 24) % 254;
    format!("{a}.{b}.{c}.{d}")
}

fn v6(prefixes: &[&str], h: u64) -> String {
    let p = prefixes[(h % prefixes.len() as u64) as usize];
    let x = h >> 8;
    if x & 1 == 0 {
        // SLAAC, as access providers hand them out.
        format!(
            "{p}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
            (x >> 4) & 0xffff,
            (x >> 20) & 0xffff,
            ((x >> 36) & 0xffff) | 0x200,
            ((x >> 52) & 0xff) << 8 | 0xff,
            0xfe00 | ((x >> 2) & 0xff),
            (x >> 10) & 0xfff | 0x1000
        )
    } else {
        // A hosting provider's server.
        format!("{p}:{:x}::{:x}", (x >> 4) & 0xffff, 1 + ((x >> 20) & 0xfff))
    }
}

/// Attack kinds (of campaigns and of the botnet's hits).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Attack {
    SshPassword,
    SshScan,
    SshDnat,
    Sasl,
    Smtp,
    Imap,
    WebScan,
    HttpBad,
    Xmpp,
    Gitea,
    Pg,
    PortScan,
}

/// Hard hitters of each kind.
const HARD: [(Attack, usize); 12] = [
    (Attack::SshPassword, 90),
    (Attack::SshScan, 25),
    (Attack::SshDnat, 30),
    (Attack::Sasl, 50),
    (Attack::Smtp, 25),
    (Attack::Imap, 30),
    (Attack::WebScan, 50),
    (Attack::HttpBad, 15),
    (Attack::Xmpp, 12),
    (Attack::Gitea, 12),
    (Attack::Pg, 20),
    (Attack::PortScan, 70),
];
/// The botnet's share of each kind (weights).
const BOTNET: [(Attack, usize); 12] = [
    (Attack::SshPassword, 25),
    (Attack::SshScan, 10),
    (Attack::SshDnat, 5),
    (Attack::Sasl, 20),
    (Attack::Smtp, 8),
    (Attack::Imap, 8),
    (Attack::WebScan, 15),
    (Attack::HttpBad, 5),
    (Attack::Xmpp, 2),
    (Attack::Gitea, 2),
    (Attack::Pg, 4),
    (Attack::PortScan, 25),
];
const BOTNET_SIZE: usize = 24_000;
/// Addresses of each crawler.
const CRAWLER_ADDRS: usize = 16;
const VISITORS: usize = 6_000;

struct User {
    name: &'static str,
    /// Addresses of the user's devices.
    addrs: Vec<String>,
}

#[rustfmt::skip]
const USERS: [&str; 25] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "nadia", "olivia", "oscar", "paul", "peggy", "quentin", "rupert", "sybil", "trent",
    "ursula", "victor", "walter", "yves", "zoe", "family",
];

struct Pools {
    hard: Vec<(String, Attack)>,
    botnet: Vec<String>,
    visitors: Vec<String>,
    crawlers: Vec<String>,
    users: Vec<User>,
}

impl Pools {
    fn new(seed: u64) -> Pools {
        let mut n = 0u64;
        let mut next = || {
            n += 1;
            mix(seed ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d))
        };
        let mut hard = Vec::new();
        for &(kind, count) in &HARD {
            for _ in 0..count {
                let h = next();
                // Most scanners and guessers are IPv4; a few are on IPv6.
                let v6ok = !matches!(kind, Attack::SshDnat | Attack::PortScan | Attack::Smtp);
                let addr = if v6ok && h % 100 < 6 {
                    v6(&BAD_V6, h >> 7)
                } else {
                    v4(&BAD_V4, h >> 7)
                };
                hard.push((addr, kind));
            }
        }
        let botnet = (0..BOTNET_SIZE)
            .map(|_| {
                let h = next();
                if h % 100 < 4 {
                    v6(&BAD_V6, h >> 7)
                } else {
                    v4(&BAD_V4, h >> 7)
                }
            })
            .collect();
        let visitors = (0..VISITORS)
            .map(|_| {
                let h = next();
                if h % 100 < 22 {
                    v6(&GOOD_V6, h >> 7)
                } else {
                    v4(&GOOD_V4, h >> 7)
                }
            })
            .collect();
        let users = USERS
            .iter()
            .map(|&name| {
                let k = 1 + next() % 3;
                let mut addrs: Vec<String> = (0..k)
                    .map(|_| {
                        let h = next();
                        if h % 100 < 35 {
                            v6(&GOOD_V6, h >> 7)
                        } else {
                            v4(&GOOD_V4, h >> 7)
                        }
                    })
                    .collect();
                if name == "alice" {
                    addrs.push(OFFICE.to_owned());
                    addrs.push("2a01:e0a:5b1:8e70::a11".to_owned());
                }
                User { name, addrs }
            })
            .collect();
        let crawlers = CRAWLERS
            .iter()
            .flat_map(|c| (0..CRAWLER_ADDRS).map(move |i| format!("{}{}", c.0, 2 + i * 13)))
            .collect();
        Pools {
            hard,
            botnet,
            visitors,
            crawlers,
            users,
        }
    }
}

// ---------------------------------------------------------------- fixed texts

/// Pages of the static sites: path, size.
const PAGES: [(&str, u32); 24] = [
    ("/", 8412),
    ("/blog/", 15233),
    ("/blog/2026/10/self-hosting-mail-in-2026/", 24810),
    ("/blog/2026/09/migrating-to-postgresql-15/", 19022),
    ("/blog/2025/12/a-rule-engine-for-the-journal/", 31207),
    ("/blog/2024/03/nftables-sets-and-timeouts/", 17444),
    ("/about/", 5120),
    ("/tags/rust/", 9981),
    ("/tags/self-hosting/", 11020),
    ("/index.xml", 64220),
    ("/blog/index.xml", 60112),
    ("/css/main.min.css", 18213),
    ("/js/search.min.js", 7420),
    ("/js/instant.page.min.js", 1113),
    ("/images/alder.webp", 48120),
    ("/images/2026/mail-flow.svg", 22301),
    ("/fonts/inter-var.woff2", 97120),
    ("/favicon.ico", 15086),
    ("/robots.txt", 67),
    ("/sitemap.xml", 12880),
    ("/photos/", 7001),
    ("/photos/2026/autumn/IMG_4412.jpg", 412330),
    ("/photos/2026/autumn/IMG_4413.jpg", 398121),
    ("/keys/alice.asc", 3171),
];
/// Files browsers ask for that the sites lack.
const MISSING: [&str; 5] = [
    "/apple-touch-icon.png",
    "/apple-touch-icon-precomposed.png",
    "/favicon.png",
    "/.well-known/traffic-advice",
    "/ads.txt",
];
const BROWSERS: [&str; 10] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Miniflux/2.2.2 (+https://miniflux.app)",
    "FreshRSS/1.24.3 (Linux; https://freshrss.org)",
    "NetNewsWire (RSS Reader; https://netnewswire.com/)",
];
const CRAWLERS: [(&str, &str); 4] = [
    (
        "66.249.66.",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ),
    (
        "40.77.167.",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    ),
    (
        "17.241.227.",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    ),
    (
        "85.208.96.",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    ),
];
const REFERRERS: [&str; 6] = [
    "-",
    "-",
    "https://example.org/",
    "https://example.org/blog/",
    "https://www.google.com/",
    "https://duckduckgo.com/",
];
const SCANNER_UAS: [&str; 8] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "curl/7.88.1",
    "Mozilla/5.0 zgrab/0.x",
    "Mozilla/5.0 (l9scan/2.0.634313e2a313e2b3b3e2a3; +https://leakix.net)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.129 Safari/537.36",
    "-",
];
/// What scanners ask for: method, path.
const PROBES: [(&str, &str); 26] = [
    ("GET", "/.env"),
    ("GET", "/.env.bak"),
    ("GET", "/api/.env"),
    ("GET", "/laravel/.env"),
    ("GET", "/.git/config"),
    ("GET", "/.git/HEAD"),
    ("POST", "/wp-login.php"),
    ("GET", "/wp-login.php"),
    ("POST", "/xmlrpc.php"),
    ("GET", "/wp-admin/setup-config.php"),
    ("GET", "/wp-includes/wlwmanifest.xml"),
    ("GET", "/blog/wp-includes/wlwmanifest.xml"),
    ("GET", "/phpmyadmin/index.php"),
    ("GET", "/pma/index.php"),
    (
        "POST",
        "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    ),
    ("GET", "/cgi-bin/luci/;stok=/locale"),
    ("POST", "/boaform/admin/formLogin"),
    ("GET", "/actuator/env"),
    ("GET", "/.aws/credentials"),
    ("GET", "/owa/auth/logon.aspx"),
    ("POST", "/_ignition/execute-solution"),
    ("GET", "/server-status"),
    ("GET", "/phpinfo.php"),
    ("GET", "/info.php"),
    ("GET", "/config.json"),
    ("GET", "/.vscode/sftp.json"),
];
/// Gitea pages: path, handler.
const GITEA_PAGES: [(&str, &str); 12] = [
    ("/alice/pyruse", "repo/view.go:1067(repo.Home)"),
    (
        "/alice/pyruse/src/branch/main/src/vm",
        "repo/view.go:1067(repo.Home)",
    ),
    (
        "/alice/pyruse/commits/branch/main",
        "repo/commit.go:63(repo.Commits)",
    ),
    ("/alice/dotfiles", "repo/view.go:1067(repo.Home)"),
    ("/alice/pyruse/issues", "repo/issue.go:474(repo.Issues)"),
    (
        "/alice/pyruse/issues/42",
        "repo/issue.go:1297(repo.ViewIssue)",
    ),
    ("/explore/repos", "explore/repo.go:156(explore.Repos)"),
    ("/user/login", "auth/auth.go:149(auth.SignIn)"),
    ("/alice", "user/home.go:601(user.Home)"),
    (
        "/assets/css/index.css?v=1.22.3",
        "web/routing/context.go:113(web.FileHandlerFunc)",
    ),
    (
        "/api/v1/repos/alice/pyruse/commits?limit=1",
        "repo/commits.go:117(repo.GetAllCommits)",
    ),
    (
        "/carol/recipes/raw/branch/main/bread.md",
        "repo/download.go:154(repo.SingleDownload)",
    ),
];
#[rustfmt::skip]
const SSH_USERS: [&str; 30] = [
    "admin", "user", "test", "ubuntu", "oracle", "pi", "ftpuser", "guest", "support",
    "deploy", "debian", "centos", "hadoop", "ansible", "steam", "minecraft", "nagios",
    "jenkins", "ec2-user", "www", "dev", "tomcat", "es", "server", "test1", "user1",
    "vagrant", "odoo", "sol", "validator",
];
const MAIL_GUESSES: [&str; 12] = [
    "info@example.org",
    "admin@example.org",
    "contact@example.org",
    "test@example.org",
    "webmaster@example.org",
    "postmaster@example.org",
    "sales@example.org",
    "info",
    "admin",
    "test",
    "alice@example.org",
    "backup@example.org",
];
const MX_PEERS: [(&str, &str, &str); 10] = [
    ("mail-wm1-f54.google.com", "209.85.128.54", "gmail.com"),
    ("mail-ej1-f45.google.com", "209.85.218.45", "gmail.com"),
    (
        "mail-eur05on2070.outbound.protection.outlook.com",
        "40.107.21.70",
        "outlook.com",
    ),
    ("mout.gmx.net", "212.227.17.20", "gmx.de"),
    ("mail-40131.protonmail.ch", "185.70.40.131", "proton.me"),
    ("smtp2-g21.free.fr", "212.27.42.2", "free.fr"),
    ("out-21.smtp.github.com", "192.30.252.204", "github.com"),
    ("bendel.debian.org", "82.195.75.100", "lists.debian.org"),
    ("mta-out.laposte.net", "160.92.124.66", "laposte.net"),
    ("mail.tuta.com", "185.205.69.211", "tuta.io"),
];
const SENDERS: [&str; 8] = [
    "jean.dupont",
    "noreply",
    "notifications",
    "debian-security-announce-request",
    "m.schmidt",
    "newsletter",
    "sophie",
    "no-reply",
];
const OUT_MX: [(&str, &str, &str); 5] = [
    ("gmail-smtp-in.l.google.com", "142.250.102.27", "gmail.com"),
    (
        "example-net.mail.protection.outlook.com",
        "52.101.68.18",
        "example.net",
    ),
    ("mx00.emig.gmx.net", "212.227.15.9", "gmx.de"),
    ("mail.protonmail.ch", "185.70.42.128", "proton.me"),
    ("mx1.free.fr", "212.27.48.6", "free.fr"),
];
const XMPP_PEERS: [&str; 6] = [
    "jabber.org",
    "conference.jabber.org",
    "movim.eu",
    "jabber.fr",
    "404.city",
    "chat.example.net",
];
#[rustfmt::skip]
const PORTS: [u16; 20] = [
    23, 3389, 445, 8080, 5900, 1433, 6379, 2375, 8443, 81,
    3306, 5060, 8088, 9200, 27017, 11211, 2323, 8291, 7547, 37215,
];

// ---------------------------------------------------------------- the generator

/// An attacker at work: repeats its attempt until `left` is 0.
struct Campaign {
    hitter: usize,
    kind: Attack,
    left: u32,
    next: u64,
    gap: u64,
    /// A variant chosen for the whole campaign (user name, method…).
    variant: u64,
}

/// A legitimate crawler fetching the sites.
struct Crawl {
    bot: usize,
    addr: usize,
    left: u32,
    next: u64,
}

/// Jobs that run on a schedule: (period, offset in the period).
const PERIODIC: [(u64, u64); 10] = [
    (10 * MIN, 7 * SEC),              // 0: sysstat: cron line and systemd timer
    (HOUR, 17 * MIN),                 // 1: cron.hourly
    (15 * MIN, 3 * MIN + 2 * SEC),    // 2: alice's feed fetcher
    (5 * MIN, 40 * SEC),              // 3: PostgreSQL checkpoint
    (30 * MIN, 11 * MIN + 5 * SEC),   // 4: smartd
    (5 * MIN, 2 * MIN + 13 * SEC),    // 5: the CI runner pulls over SSH
    (10 * MIN, 4 * MIN + 31 * SEC),   // 6: postfix anvil statistics
    (DAY, 0),                         // 7: midnight: logrotate, man-db, dpkg-db-backup
    (12 * HOUR, 5 * HOUR + 47 * MIN), // 8: certbot, apt-daily
    (DAY, 3 * HOUR + 30 * MIN),       // 9: the backup
];

/// One-off incidents: (time after the start, kind).
const SCRIPT: [(u64, u8); 8] = [
    (9 * HOUR + 12 * MIN, 0),            // alice mistypes her sudo password
    (DAY + 14 * HOUR + 5 * MIN, 1),      // Gitea upgrade: restart, HAProxy backend down
    (DAY + 21 * HOUR + 40 * MIN, 0),     // sudo typo
    (2 * DAY + 2 * HOUR + 14 * MIN, 2),  // certbot fails
    (2 * DAY + 16 * HOUR + 40 * MIN, 3), // bob tries sudo
    (2 * DAY + 16 * HOUR + 42 * MIN, 4), // bob tries su
    (3 * DAY + 10 * HOUR + 3 * MIN, 0),  // sudo typo
    (3 * DAY + 11 * HOUR + 30 * MIN, 5), // a bounce
];
/// The evening a blog post draws crowds.
const SURGE: (u64, u64) = (2 * DAY + 17 * HOUR, 2 * DAY + 20 * HOUR);

/// Deterministic journal of the server (see the module's documentation).
pub struct Gen {
    rng: Rng,
    pools: Rc<Pools>,
    heap: BinaryHeap<Pending>,
    free: Vec<Vec<u8>>,
    seq: u64,
    last: u64,
    next_legit: u64,
    next_botnet: u64,
    next_launch: u64,
    next_crawl: u64,
    next_surge: u64,
    periodic: [u64; PERIODIC.len()],
    script: usize,
    campaigns: Vec<Campaign>,
    busy: Vec<bool>,
    crawls: Vec<Crawl>,
    /// The last process id handed out.
    pid: u32,
    session: u32,
    /// The unit run that systemd's lines belong to (see `begin_run`).
    run: u32,
    /// Long-lived processes.
    smtpd: [u32; 3],
    cleanup: u32,
    qmgr: u32,
    smtp: u32,
    lmtp: u32,
    postscreen: u32,
    anvil: u32,
    dnsblog: u32,
    dovecot_log: u32,
    nginx: [u32; 2],
    haproxy: u32,
    gitea: u32,
    gitea_run: u32,
    prosody: u32,
    checkpointer: u32,
    checkpointer_seq: u32,
    smartd: u32,
    conn: u64,
}

impl Gen {
    /// The same seed gives the same entries, byte for byte.
    pub fn new(seed: u64) -> Gen {
        let seed = mix(seed);
        let mut g = Gen {
            rng: Rng(seed | 1),
            pools: Rc::new(Pools::new(seed)),
            heap: BinaryHeap::with_capacity(4096),
            free: Vec::with_capacity(4096),
            seq: 0,
            last: 0,
            next_legit: START,
            next_botnet: START + 3 * SEC,
            next_launch: START + 40 * SEC,
            next_crawl: START + 25 * MIN,
            next_surge: START + SURGE.0,
            periodic: [0; PERIODIC.len()],
            script: 0,
            campaigns: Vec::new(),
            busy: Vec::new(),
            crawls: Vec::new(),
            pid: 1_204_611,
            session: 4_211,
            run: 0,
            smtpd: [1_198_233, 1_201_871, 1_203_950],
            cleanup: 1_202_004,
            qmgr: 1_311,
            smtp: 1_203_977,
            lmtp: 1_204_002,
            postscreen: 1_199_740,
            anvil: 1_199_741,
            dnsblog: 1_203_101,
            dovecot_log: 1_288,
            nginx: [1_402, 1_403],
            haproxy: 1_377,
            gitea: 1_519,
            gitea_run: 0,
            prosody: 1_366,
            checkpointer: 1_455,
            checkpointer_seq: 30_118,
            smartd: 1_101,
            conn: 7_311_824,
        };
        g.busy = vec![false; g.pools.hard.len()];
        for (i, &(_, offset)) in PERIODIC.iter().enumerate() {
            g.periodic[i] = START + offset;
        }
        g
    }

    /// Write the next entry into `out` (cleared first).
    pub fn next(&mut self, out: &mut Entry) {
        loop {
            let (src, t) = self.earliest_source();
            if self.heap.peek().is_some_and(|p| p.t <= t) {
                break;
            }
            self.fire(src, t);
        }
        let p = self.heap.pop().expect("a line is pending");
        let t = p.t.max(self.last + 1);
        self.last = t;
        write_entry(&p, t, out, self.gitea_run);
        let Pending {
            mut msg, mut aux, ..
        } = p;
        msg.clear();
        aux.clear();
        self.free.push(msg);
        if aux.capacity() > 0 {
            self.free.push(aux);
        }
    }

    // ------------------------------------------------------------ scheduling

    fn earliest_source(&self) -> (Src, u64) {
        let mut best = (Src::Legit, self.next_legit);
        let mut consider = |s: Src, t: u64| {
            if t < best.1 {
                best = (s, t);
            }
        };
        consider(Src::Botnet, self.next_botnet);
        consider(Src::Launch, self.next_launch);
        consider(Src::CrawlLaunch, self.next_crawl);
        if self.next_surge < START + SURGE.1 {
            consider(Src::Surge, self.next_surge);
        }
        for (i, &t) in self.periodic.iter().enumerate() {
            consider(Src::Periodic(i), t);
        }
        if let Some(&(at, _)) = SCRIPT.get(self.script) {
            consider(Src::Script, START + at);
        }
        for (i, c) in self.campaigns.iter().enumerate() {
            consider(Src::Campaign(i), c.next);
        }
        for (i, c) in self.crawls.iter().enumerate() {
            consider(Src::Crawl(i), c.next);
        }
        best
    }

    fn fire(&mut self, src: Src, t: u64) {
        match src {
            Src::Legit => {
                self.legit(t);
                let pct = DIURNAL[((t / HOUR) % 24) as usize];
                self.next_legit = t + self.gap(1_110_000 * 100 / pct);
            }
            Src::Botnet => {
                self.botnet(t);
                self.next_botnet = t + self.gap(12 * SEC);
            }
            Src::Launch => {
                self.launch(t);
                self.next_launch = t + self.gap(85 * SEC);
            }
            Src::CrawlLaunch => {
                let bot = self.below(CRAWLERS.len());
                let addr = self.below(CRAWLER_ADDRS);
                let left = 100 + self.below(500) as u32;
                self.crawls.push(Crawl {
                    bot,
                    addr,
                    left,
                    next: t,
                });
                self.next_crawl = t + self.gap(3 * HOUR);
            }
            Src::Surge => {
                self.web_visit(t);
                self.next_surge = t + self.gap(450_000);
            }
            Src::Periodic(i) => {
                self.periodic(i, t);
                self.periodic[i] += PERIODIC[i].0;
            }
            Src::Script => {
                let kind = SCRIPT[self.script].1;
                self.script += 1;
                self.incident(kind, t);
            }
            Src::Campaign(i) => self.campaign_step(i, t),
            Src::Crawl(i) => {
                let (bot, addr) = (self.crawls[i].bot, self.crawls[i].addr);
                let p = Rc::clone(&self.pools);
                let ip = &p.crawlers[bot * CRAWLER_ADDRS + addr];
                self.web_page(t, ip, CRAWLERS[bot].1, "HTTP/1.1");
                let c = &mut self.crawls[i];
                c.left -= 1;
                if c.left == 0 {
                    self.crawls.swap_remove(i);
                } else {
                    let g = 600_000 + self.rng.below(2_400_000) as u64;
                    self.crawls[i].next = t + g;
                }
            }
        }
    }

    /// An exponential gap of mean `mean` µs.
    fn gap(&mut self, mean: u64) -> u64 {
        let e = EXP[self.rng.below(64)];
        1 + e * mean / 1024 + self.rng.below((mean / 64).max(1) as usize) as u64
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.below(n)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.rng.below(100) < percent
    }

    /// A uniform value in `lo..hi` µs.
    fn within(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.rng.below((hi - lo).max(1) as usize) as u64
    }

    fn new_pid(&mut self) -> u32 {
        self.pid += 1 + self.rng.below(40) as u32;
        self.pid
    }

    fn port(&mut self) -> u32 {
        32_768 + self.rng.below(28_000) as u32
    }

    fn buf(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        t: u64,
        who: Who,
        pid: u32,
        prio: u8,
        fac: u8,
        arg: u32,
        msg: Vec<u8>,
        aux: Vec<u8>,
    ) {
        self.seq += 1;
        self.heap.push(Pending {
            t,
            seq: self.seq,
            who,
            pid,
            prio,
            fac,
            arg,
            msg,
            aux,
        });
    }

    /// A systemd line about `unit`, in the current run of the unit.
    fn systemd(&mut self, t: u64, kind: u32, prio: u8, unit: fmt::Arguments, msg: fmt::Arguments) {
        let mut m = self.buf();
        let _ = m.write_fmt(msg);
        let a = self.aux(unit);
        self.push(
            t,
            Who::Systemd,
            1,
            prio,
            DAEMON,
            kind | (self.run << 8),
            m,
            a,
        );
    }

    /// A new run of a unit (its invocation and job ids).
    fn begin_run(&mut self) {
        self.run = (self.rng.next() & 0xff_ffff) as u32;
    }

    /// A service started by a timer: Starting, Deactivated, Finished.
    fn oneshot(&mut self, t: u64, unit: &str, desc: &str, run: u64) {
        self.begin_run();
        self.systemd(
            t,
            SD_STARTING,
            INFO,
            format_args!("{unit}"),
            format_args!("Starting {unit} - {desc}..."),
        );
        self.systemd(
            t + run,
            SD_DEACTIVATED,
            INFO,
            format_args!("{unit}"),
            format_args!("{unit}: Deactivated successfully."),
        );
        self.systemd(
            t + run + 300,
            SD_STARTED,
            INFO,
            format_args!("{unit}"),
            format_args!("Finished {unit} - {desc}."),
        );
    }
}

#[derive(Clone, Copy)]
enum Src {
    Legit,
    Botnet,
    Launch,
    CrawlLaunch,
    Surge,
    Periodic(usize),
    Script,
    Campaign(usize),
    Crawl(usize),
}

/// Queues a line: `say!(gen, t, who, pid, prio, facility, arg; "format", args…)`;
/// `say!(gen, t, who, pid, prio, facility, arg, aux; …)` with a process-specific text.
macro_rules! say {
    ($g:expr, $t:expr, $who:expr, $pid:expr, $prio:expr, $fac:expr, $arg:expr; $($fmt:tt)*) => {{
        let (t_, pid_, arg_) = ($t, $pid, $arg);
        let mut m = $g.buf();
        let _ = write!(m, $($fmt)*);
        $g.push(t_, $who, pid_, $prio, $fac, arg_, m, Vec::new());
    }};
    ($g:expr, $t:expr, $who:expr, $pid:expr, $prio:expr, $fac:expr, $arg:expr, $aux:expr; $($fmt:tt)*) => {{
        let (t_, pid_, arg_, aux_) = ($t, $pid, $arg, $aux);
        let mut m = $g.buf();
        let _ = write!(m, $($fmt)*);
        $g.push(t_, $who, pid_, $prio, $fac, arg_, m, aux_);
    }};
}

// ---------------------------------------------------------------- legitimate traffic

impl Gen {
    fn legit(&mut self, t: u64) {
        match self.below(1000) {
            0..=489 => self.web_visit(t),
            490..=649 => self.gitea_visit(t),
            650..=749 => self.imap_login(t),
            750..=779 => self.xmpp_session(t),
            780..=791 => self.xmpp_s2s(t),
            792..=899 => self.pg_local(t),
            900..=903 => self.pg_remote(t),
            904..=914 => self.mail_in(t),
            915..=916 => self.mail_out(t),
            917..=918 => self.ssh_git(t, false),
            919 => {
                if self.chance(10) {
                    self.admin_session(t)
                } else {
                    self.web_visit(t)
                }
            }
            920..=922 => self.haproxy_redirect(t),
            923 => {
                if self.chance(20) {
                    self.typo(t)
                } else {
                    self.web_visit(t)
                }
            }
            _ => self.web_visit(t),
        }
    }

    fn visitor(&mut self) -> (Rc<Pools>, usize) {
        // A few addresses come back often (regulars, feed readers).
        let n = if self.chance(30) { 300 } else { VISITORS };
        (Rc::clone(&self.pools), self.below(n))
    }

    /// A visitor's request: a page, sometimes a missing file.
    fn web_visit(&mut self, t: u64) {
        let (p, v) = self.visitor();
        let ip = &p.visitors[v];
        let ua = BROWSERS[(mix(v as u64) % BROWSERS.len() as u64) as usize];
        let proto = if ua.starts_with("Mozilla") {
            "HTTP/2.0"
        } else {
            "HTTP/1.1"
        };
        if self.chance(5) {
            let path = MISSING[self.below(MISSING.len())];
            self.web_missing(t, ip, path, ua, proto);
        } else {
            self.web_page(t, ip, ua, proto);
        }
    }

    /// One page served through HAProxy: nginx's line, then HAProxy's.
    fn web_page(&mut self, t: u64, ip: &str, ua: &str, proto: &str) {
        let (path, size) = PAGES[self.below(PAGES.len())];
        let (status, bytes) = if self.chance(14) {
            (304, 0)
        } else {
            (200, size)
        };
        let referrer = REFERRERS[self.below(REFERRERS.len())];
        let worker = self.nginx[self.below(2)];
        let ta = 1 + self.below(40) as u64;
        say!(self, t, Who::Nginx, worker, INFO, LOCAL7, 0;
            "{ip} - - [{}] \"GET {path} HTTP/1.1\" {status} {bytes} \"{referrer}\" \"{ua}\"", ClfTime(t));
        self.haproxy_line(
            t + 400,
            ip,
            "web/nginx",
            ta,
            status,
            bytes + 240,
            "GET",
            path,
            proto,
        );
    }

    fn web_missing(&mut self, t: u64, ip: &str, path: &str, ua: &str, proto: &str) {
        let worker = self.nginx[self.below(2)];
        let req = self.conn_id();
        say!(self, t, Who::Nginx, worker, ERR, LOCAL7, 0;
            "{} [error] {worker}#{worker}: *{req} open() \"/var/www/example.org{path}\" failed (2: No such file or directory), client: {ip}, server: example.org, request: \"GET {path} HTTP/1.1\", host: \"example.org\"",
            SlashTime(t));
        say!(self, t + 150, Who::Nginx, worker, INFO, LOCAL7, 0;
            "{ip} - - [{}] \"GET {path} HTTP/1.1\" 404 125 \"-\" \"{ua}\"", ClfTime(t));
        self.haproxy_line(t + 600, ip, "web/nginx", 1, 404, 365, "GET", path, proto);
    }

    fn conn_id(&mut self) -> u64 {
        self.conn += 1 + self.rng.below(6) as u64;
        self.conn
    }

    /// HAProxy's httplog line, logged at the end of the request.
    #[allow(clippy::too_many_arguments)]
    fn haproxy_line(
        &mut self,
        t: u64,
        ip: &str,
        backend: &str,
        ta: u64,
        status: u32,
        bytes: u32,
        method: &str,
        path: &str,
        proto: &str,
    ) {
        let port = self.port();
        let accept = t.saturating_sub(ta * 1000 + 200);
        let tr = self.below(3);
        let conns = 3 + self.below(40);
        let pid = self.haproxy;
        say!(self, t, Who::Haproxy, pid, INFO, LOCAL0, 0;
            "{ip}:{port} [{}] https~ {backend} {tr}/0/0/{}/{ta} {status} {bytes} - - ---- {conns}/{conns}/{}/{}/0 0/0 \"{method} {path} {proto}\"",
            HaTime(accept), ta.saturating_sub(tr as u64 + 1), conns / 3, conns / 4);
    }

    fn haproxy_redirect(&mut self, t: u64) {
        let (p, v) = self.visitor();
        let ip = &p.visitors[v];
        let port = self.port();
        let pid = self.haproxy;
        say!(self, t, Who::Haproxy, pid, INFO, LOCAL0, 0;
            "{ip}:{port} [{}] http http/<NOSRV> 0/-1/-1/-1/0 301 97 - - LR-- 2/1/0/0/0 0/0 \"GET / HTTP/1.1\"",
            HaTime(t - 180));
    }

    /// A Gitea page or a git fetch over HTTPS: Gitea's line, then HAProxy's.
    fn gitea_visit(&mut self, t: u64) {
        let (p, v) = self.visitor();
        let ip = &p.visitors[v];
        let port = self.port();
        let pid = self.gitea;
        if self.chance(25) {
            let repo = if self.chance(70) {
                "alice/pyruse"
            } else {
                "alice/dotfiles"
            };
            let ms = 8 + self.below(30);
            say!(self, t, Who::Gitea, pid, INFO, DAEMON, 0;
                "{} ...s/web/routing/logger.go:102:func1() [I] router: completed GET /{repo}.git/info/refs?service=git-upload-pack for {}:{port}, 200 OK in {ms}.{}ms @ repo/githttp.go:532(repo.GetInfoRefs)",
                SlashTime(t), Bracket(ip), self.below(10));
            self.haproxy_line(
                t + 300,
                ip,
                "gitea/gitea",
                ms as u64 + 1,
                200,
                2140,
                "GET",
                "/alice/pyruse.git/info/refs?service=git-upload-pack",
                "HTTP/1.1",
            );
            let t2 = t + 90_000 + self.within(0, 400_000);
            let ms = 30 + self.below(400);
            say!(self, t2, Who::Gitea, pid, INFO, DAEMON, 0;
                "{} ...s/web/routing/logger.go:102:func1() [I] router: completed POST /{repo}.git/git-upload-pack for {}:{port}, 200 OK in {ms}.{}ms @ repo/githttp.go:489(repo.ServiceUploadPack)",
                SlashTime(t2), Bracket(ip), self.below(10));
            self.haproxy_line(
                t2 + 300,
                ip,
                "gitea/gitea",
                ms as u64 + 1,
                200,
                48_211,
                "POST",
                "/alice/pyruse.git/git-upload-pack",
                "HTTP/1.1",
            );
            return;
        }
        let (path, handler) = GITEA_PAGES[self.below(GITEA_PAGES.len())];
        let (status, text) = if self.chance(6) {
            (404, "404 Not Found")
        } else if self.chance(10) {
            (304, "304 Not Modified")
        } else {
            (200, "200 OK")
        };
        let ms = 3 + self.below(80);
        say!(self, t, Who::Gitea, pid, INFO, DAEMON, 0;
            "{} ...s/web/routing/logger.go:102:func1() [I] router: completed GET {path} for {}:{port}, {text} in {ms}.{}ms @ {handler}",
            SlashTime(t), Bracket(ip), self.below(10));
        let bytes = if status == 304 {
            212
        } else {
            9_000 + self.below(30_000) as u32
        };
        self.haproxy_line(
            t + 300,
            ip,
            "gitea/gitea",
            ms as u64 + 1,
            status,
            bytes,
            "GET",
            path,
            "HTTP/2.0",
        );
    }

    fn user_device(&mut self) -> (Rc<Pools>, usize, usize) {
        let p = Rc::clone(&self.pools);
        let u = self.below(p.users.len());
        let d = self.below(p.users[u].addrs.len());
        (p, u, d)
    }

    /// An IMAP client: login, logout later.
    fn imap_login(&mut self, t: u64) {
        let (p, u, d) = self.user_device();
        let user = p.users[u].name;
        let ip = &p.users[u].addrs[d];
        let lip = if ip.contains(':') { MY_V6 } else { MY_V4 };
        let mpid = self.new_pid();
        let (s1, s2) = (self.rng.next(), self.rng.next());
        let log = self.dovecot_log;
        say!(self, t, Who::Dovecot, log, INFO, MAIL, 0;
            "imap-login: Login: user=<{user}@example.org>, method=PLAIN, rip={ip}, lip={lip}, mpid={mpid}, TLS, session=<{}>",
            B64(s1, s2, 16));
        let later = t + self.within(2 * SEC, 25 * MIN);
        let (i, o) = (100 + self.below(3000), 1000 + self.below(200_000));
        if self.chance(60) {
            say!(self, later, Who::Dovecot, log, INFO, MAIL, 0;
                "imap({user}@example.org)<{mpid}><{}>: Disconnected: Logged out in={i} out={o} deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count={} body_bytes={}",
                B64(s1, s2, 16), o / 9000, o / 2);
        } else {
            say!(self, later, Who::Dovecot, log, INFO, MAIL, 0;
                "imap({user}@example.org)<{mpid}><{}>: Disconnected: Connection closed (IDLE finished {}.{:03} secs ago) in={i} out={o} deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
                B64(s1, s2, 16), self.below(1800), self.below(1000));
        }
    }

    fn c2s_id(&mut self) -> Hex {
        Hex(
            0x55d0_0000_0000 | (self.rng.next() & 0x000f_ffff_fff0),
            12,
            false,
        )
    }

    fn xmpp_session(&mut self, t: u64) {
        let (p, u, _) = self.user_device();
        let user = p.users[u].name;
        let id = self.c2s_id();
        let pid = self.prosody;
        say!(self, t, Who::Prosody, pid, INFO, DAEMON, 0; "c2s{id}: Client connected");
        say!(self, t + 90_000, Who::Prosody, pid, INFO, DAEMON, 0;
            "c2s{id}: Stream encrypted (TLSv1.3) with TLS_AES_256_GCM_SHA384 (256 bits)");
        say!(self, t + 310_000, Who::Prosody, pid, INFO, DAEMON, 0;
            "c2s{id}: Authenticated as {user}@example.org");
        let later = t + self.within(30 * SEC, 90 * MIN);
        let why = if self.chance(70) {
            "connection closed"
        } else {
            "session timeout"
        };
        say!(self, later, Who::Prosody, pid, INFO, DAEMON, 0; "c2s{id}: Client disconnected: {why}");
    }

    fn xmpp_s2s(&mut self, t: u64) {
        let peer = XMPP_PEERS[self.below(XMPP_PEERS.len())];
        let id = Hex(
            0x55d0_0000_0000 | (self.rng.next() & 0x000f_ffff_fff0),
            12,
            false,
        );
        let pid = self.prosody;
        if self.chance(50) {
            say!(self, t, Who::Prosody, pid, INFO, DAEMON, 0;
                "s2sout{id}: Outgoing s2s connection example.org->{peer} complete");
        } else {
            say!(self, t, Who::Prosody, pid, INFO, DAEMON, 0;
                "s2sin{id}: Incoming s2s connection {peer}->example.org complete");
        }
    }

    /// The local web application (tt-rss under php-fpm) connects.
    fn pg_local(&mut self, t: u64) {
        let pid = self.new_pid();
        let a = self.aux(format_args!(
            "postgres: 15/main: ttrss ttrss [local] authentication"
        ));
        say!(self, t, Who::Postgres, pid, INFO, LOCAL0, 0, a;
            "[1-1] {} [{pid}] [unknown]@[unknown] LOG:  connection received: host=[local]", PgTime(t));
        let t2 = t + 1_200 + self.within(0, 3_000);
        let a = self.aux(format_args!("postgres: 15/main: ttrss ttrss [local] idle"));
        say!(self, t2, Who::Postgres, pid, INFO, LOCAL0, 0, a;
            "[2-1] {} [{pid}] ttrss@ttrss LOG:  connection authorized: user=ttrss database=ttrss", PgTime(t2));
    }

    /// A process-specific text (a command line, a unit name) in a recycled buffer.
    fn aux(&mut self, text: fmt::Arguments) -> Vec<u8> {
        let mut a = self.buf();
        let _ = a.write_fmt(text);
        a
    }

    fn pg_remote(&mut self, t: u64) {
        let pid = self.new_pid();
        let port = self.port();
        let a = self.aux(format_args!(
            "postgres: 15/main: backup app {BACKUP_HOST}({port}) authentication"
        ));
        say!(self, t, Who::Postgres, pid, INFO, LOCAL0, 0, a;
            "[1-1] {} [{pid}] [unknown]@[unknown] LOG:  connection received: host={BACKUP_HOST} port={port}", PgTime(t));
        let t2 = t + 18_000 + self.within(0, 9_000);
        let a = self.aux(format_args!(
            "postgres: 15/main: backup app {BACKUP_HOST}({port}) idle"
        ));
        say!(self, t2, Who::Postgres, pid, INFO, LOCAL0, 0, a;
            "[2-1] {} [{pid}] backup@app LOG:  connection authorized: user=backup database=app SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
            PgTime(t2));
    }

    fn qid(&mut self) -> Hex {
        Hex(self.rng.next() | 0x8_0000_0000, 10, true)
    }

    fn smtpd_pid(&mut self) -> u32 {
        let i = self.below(3);
        if self.chance(2) {
            self.smtpd[i] = self.new_pid();
        }
        self.smtpd[i]
    }

    /// A message received from another server and delivered to a mailbox.
    fn mail_in(&mut self, t: u64) {
        let (host, ip, domain) = MX_PEERS[self.below(MX_PEERS.len())];
        let p = Rc::clone(&self.pools);
        let rcpt = p.users[self.below(p.users.len())].name;
        let sender = SENDERS[self.below(SENDERS.len())];
        let sport = self.port();
        let (ps, smtpd, cleanup, qmgr, lmtp, log) = (
            self.postscreen,
            self.smtpd_pid(),
            self.cleanup,
            self.qmgr,
            self.lmtp,
            self.dovecot_log,
        );
        let q = self.qid();
        let (m1, m2) = (self.rng.next(), self.rng.next());
        let size = 3_000 + self.below(90_000);
        say!(self, t, Who::Postscreen, ps, INFO, MAIL, 0; "CONNECT from [{ip}]:{sport} to [{MY_V4}]:25");
        say!(self, t + 2_000, Who::Postscreen, ps, INFO, MAIL, 0; "PASS OLD [{ip}]:{sport}");
        say!(self, t + 3_000, Who::Smtpd, smtpd, INFO, MAIL, 0; "connect from {host}[{ip}]");
        say!(self, t + 95_000, Who::Smtpd, smtpd, INFO, MAIL, 0;
            "Anonymous TLS connection established from {host}[{ip}]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256");
        say!(self, t + 240_000, Who::Smtpd, smtpd, INFO, MAIL, 0; "{q}: client={host}[{ip}]");
        say!(self, t + 310_000, Who::Cleanup, cleanup, INFO, MAIL, 0; "{q}: message-id=<{}@{domain}>", B64(m1, m2, 20));
        say!(self, t + 330_000, Who::Qmgr, qmgr, INFO, MAIL, 0;
            "{q}: from=<{sender}@{domain}>, size={size}, nrcpt=1 (queue active)");
        say!(self, t + 350_000, Who::Smtpd, smtpd, INFO, MAIL, 0;
            "disconnect from {host}[{ip}] ehlo=2 starttls=1 mail=1 rcpt=1 bdat=1 quit=1 commands=7");
        let lpid = self.new_pid();
        let (s1, s2) = (self.rng.next(), self.rng.next());
        say!(self, t + 380_000, Who::Dovecot, log, INFO, MAIL, 0; "lmtp({lpid}): Connect from local");
        say!(self, t + 420_000, Who::Dovecot, log, INFO, MAIL, 0;
            "lmtp({rcpt}@example.org)<{lpid}><{}>: msgid=<{}@{domain}>: saved mail to INBOX", B64(s1, s2, 16), B64(m1, m2, 20));
        say!(self, t + 425_000, Who::Dovecot, log, INFO, MAIL, 0;
            "lmtp({lpid}): Disconnect from local: Client has quit the connection (state=READY)");
        say!(self, t + 424_000, Who::Lmtp, lmtp, INFO, MAIL, 0;
            "{q}: to=<{rcpt}@example.org>, relay=alder.example.org[private/dovecot-lmtp], delay=0.42, delays=0.33/0.01/0.01/0.07, dsn=2.0.0, status=sent (250 2.0.0 <{rcpt}@example.org> {} Saved)",
            B64(s1, s2, 16));
        say!(self, t + 426_000, Who::Qmgr, qmgr, INFO, MAIL, 0; "{q}: removed");
    }

    /// A message sent by a user, relayed to another server.
    fn mail_out(&mut self, t: u64) {
        let (p, u, d) = self.user_device();
        let user = p.users[u].name;
        let ip = &p.users[u].addrs[d];
        let (mx, mxip, domain) = OUT_MX[self.below(OUT_MX.len())];
        let to = SENDERS[self.below(SENDERS.len())];
        let sub = if self.chance(70) {
            Who::Submission
        } else {
            Who::Smtps
        };
        let pid = self.new_pid();
        let q = self.qid();
        let (m1, m2) = (self.rng.next(), self.rng.next());
        let (cleanup, qmgr, smtp) = (self.cleanup, self.qmgr, self.smtp);
        say!(self, t, sub, pid, INFO, MAIL, 0; "connect from unknown[{ip}]");
        say!(self, t + 80_000, sub, pid, INFO, MAIL, 0;
            "Anonymous TLS connection established from unknown[{ip}]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256");
        say!(self, t + 900_000, sub, pid, INFO, MAIL, 0;
            "{q}: client=unknown[{ip}], sasl_method=PLAIN, sasl_username={user}@example.org");
        say!(self, t + 980_000, Who::Cleanup, cleanup, INFO, MAIL, 0; "{q}: message-id=<{}@example.org>", B64(m1, m2, 20));
        say!(self, t + 1_000_000, Who::Qmgr, qmgr, INFO, MAIL, 0;
            "{q}: from=<{user}@example.org>, size={}, nrcpt=1 (queue active)", 1_500 + self.below(60_000));
        let commands = if sub == Who::Submission {
            "ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8"
        } else {
            "ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6"
        };
        say!(self, t + 1_020_000, sub, pid, INFO, MAIL, 0; "disconnect from unknown[{ip}] {commands}");
        say!(self, t + 1_300_000, Who::Smtp, smtp, INFO, MAIL, 0;
            "Trusted TLS connection established to {mx}[{mxip}]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256");
        if self.chance(6) {
            // Greylisted: deferred, sent at the next attempt.
            say!(self, t + 1_700_000, Who::Smtp, smtp, INFO, MAIL, 0;
                "{q}: to=<{to}@{domain}>, relay={mx}[{mxip}]:25, delay=1.7, delays=1/0.01/0.31/0.38, dsn=4.2.0, status=deferred (host {mx}[{mxip}] said: 450 4.2.0 <{to}@{domain}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/{domain}.html (in reply to RCPT TO command))");
            let t2 = t + self.within(5 * MIN, 9 * MIN);
            say!(self, t2, Who::Smtp, smtp, INFO, MAIL, 0;
                "{q}: to=<{to}@{domain}>, relay={mx}[{mxip}]:25, delay=412, delays=411/0.02/0.3/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {})",
                Hex(m1, 10, true));
            say!(self, t2 + 2_000, Who::Qmgr, qmgr, INFO, MAIL, 0; "{q}: removed");
        } else {
            say!(self, t + 2_100_000, Who::Smtp, smtp, INFO, MAIL, 0;
                "{q}: to=<{to}@{domain}>, relay={mx}[{mxip}]:25, delay=2.1, delays=1/0.01/0.35/0.74, dsn=2.0.0, status=sent ({})",
                Accepted(mx, t / SEC, m2));
            say!(self, t + 2_102_000, Who::Qmgr, qmgr, INFO, MAIL, 0; "{q}: removed");
        }
    }

    /// A git fetch over SSH (Gitea's built-in account `git`), with its session.
    fn ssh_git(&mut self, t: u64, ci: bool) {
        let (p, u, d) = self.user_device();
        let ip = if ci {
            CI_RUNNER
        } else {
            p.users[u].addrs[d].as_str()
        };
        let fp = if ci {
            "SHA256:3xQv9yF0RkM8c2W7uJd5tLbNp1aZsGhE4oKiYq6nVrU"
        } else {
            "SHA256:Hk2mP9sLq4vW8xZc1bN6tY3uJ7gF0dR5eAoIiQwEr2T"
        };
        let port = self.port();
        let length = SEC + self.within(0, 3 * SEC);
        self.ssh_session(t, (ip, port), ("git", SSH_GIT, 110), fp, length, 0);
    }

    /// alice logs in (from home, or from the office through the DMZ
    /// router) and works as root for a while.
    fn admin_session(&mut self, t: u64) {
        let fp = "SHA256:q8Wd2nC5vR1xT7yB4mK0jH9gF3sL6pZ2aE8uI1oY5cM";
        let length = self.within(5 * MIN, 70 * MIN);
        let sudo = 1 + self.below(5) as u32;
        let port = self.port();
        let alice = ("alice", SSH_ALICE, 1000);
        if self.chance(40) {
            // Through the DMZ router: its kernel logs the real source,
            // sshd sees the router.
            self.dnat_line(t, OFFICE, port);
            self.ssh_session(t + 400_000, (ROUTER, port), alice, fp, length, sudo);
        } else if self.chance(50) {
            self.ssh_session(t, ("2a01:e0a:5b1:8e70::a11", port), alice, fp, length, sudo);
        } else {
            self.ssh_session(t, (OFFICE, port), alice, fp, length, sudo);
        }
    }

    /// An SSH login (as sshd saw the client: address, port), its session
    /// (logind, a scope), sudo commands in it, and its end.
    fn ssh_session(
        &mut self,
        t: u64,
        from: (&str, u32),
        user: (&str, u32, u32),
        fp: &str,
        length: u64,
        sudo: u32,
    ) {
        let ((ip, port), (user, title, uid)) = (from, user);
        let pid = self.new_pid();
        self.session += 1;
        let s = self.session;
        say!(self, t, Who::Sshd, pid, INFO, AUTH, title;
            "Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 {fp}");
        say!(self, t + 9_000, Who::Sshd, pid, INFO, AUTHPRIV, title;
            "pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)");
        let a = self.aux(format_args!("{uid} {pid}"));
        say!(self, t + 14_000, Who::Logind, 0, INFO, AUTH, LOGIND_NEW | (s << 8), a;
            "New session {s} of user {user}.");
        self.run = s;
        self.systemd(
            t + 16_000,
            SD_STARTED,
            INFO,
            format_args!("session-{s}.scope"),
            format_args!("Started session-{s}.scope - Session {s} of User {user}."),
        );
        for i in 0..sudo {
            self.sudo(
                t + length * (u64::from(i) + 1) / (u64::from(sudo) + 1),
                s,
                false,
            );
        }
        let end = t + length;
        say!(self, end, Who::Sshd, pid, INFO, AUTH, title;
            "Received disconnect from {ip} port {port}:11: disconnected by user");
        say!(self, end + 300, Who::Sshd, pid, INFO, AUTH, title;
            "Disconnected from user {user} {ip} port {port}");
        say!(self, end + 1_500, Who::Sshd, pid, INFO, AUTHPRIV, title;
            "pam_unix(sshd:session): session closed for user {user}");
        self.systemd(
            end + 4_000,
            SD_DEACTIVATED,
            INFO,
            format_args!("session-{s}.scope"),
            format_args!("session-{s}.scope: Deactivated successfully."),
        );
        say!(self, end + 4_500, Who::Logind, 0, INFO, AUTH, LOGIND_LOGGED_OUT | (s << 8);
            "Session {s} logged out. Waiting for processes to exit.");
        say!(self, end + 5_000, Who::Logind, 0, INFO, AUTH, LOGIND_REMOVED | (s << 8);
            "Removed session {s}.");
    }

    /// alice runs a command as root (or mistypes her password first).
    fn sudo(&mut self, t: u64, session: u32, typo: bool) {
        const COMMANDS: [&str; 8] = [
            "/usr/bin/apt update",
            "/usr/bin/apt full-upgrade",
            "/usr/bin/systemctl restart nginx",
            "/usr/bin/journalctl -u postfix@- --since today",
            "/usr/sbin/postqueue -p",
            "/usr/bin/systemctl status gitea",
            "/usr/bin/nft list set ip I ssh_ban",
            "/usr/bin/pyrusec report preview",
        ];
        let cmd = COMMANDS[self.below(COMMANDS.len())];
        let short = cmd.rsplit('/').next().unwrap_or(cmd);
        let pid = self.new_pid();
        let arg = session;
        let mut t = t;
        if typo {
            let a = self.aux(format_args!("sudo {short}"));
            say!(self, t, Who::Sudo, pid, NOTICE, AUTHPRIV, arg, a;
                "pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice");
            t += 3 * SEC;
            let a = self.aux(format_args!("sudo {short}"));
            say!(self, t, Who::Sudo, pid, ALERT, AUTHPRIV, arg, a;
                "   alice : 1 incorrect password attempt ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND={cmd}");
            t += 4 * SEC;
        }
        let a = self.aux(format_args!("sudo {short}"));
        say!(self, t, Who::Sudo, pid, NOTICE, AUTHPRIV, arg, a;
            "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND={cmd}");
        let a = self.aux(format_args!("sudo {short}"));
        say!(self, t + 2_000, Who::Sudo, pid, INFO, AUTHPRIV, arg, a;
            "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)");
        let a = self.aux(format_args!("sudo {short}"));
        say!(self, t + 2 * SEC + self.within(0, 20 * SEC), Who::Sudo, pid, INFO, AUTHPRIV, arg, a;
            "pam_unix(sudo:session): session closed for user root");
    }

    /// A user mistypes a password once.
    fn typo(&mut self, t: u64) {
        let (p, u, d) = self.user_device();
        let user = p.users[u].name;
        let ip = &p.users[u].addrs[d];
        let lip = if ip.contains(':') { MY_V6 } else { MY_V4 };
        let (s1, s2) = (self.rng.next(), self.rng.next());
        let log = self.dovecot_log;
        say!(self, t, Who::Dovecot, log, INFO, MAIL, 0;
            "auth: passwd-file({user}@example.org,{ip},<{}>): Password mismatch", B64(s1, s2, 16));
        say!(self, t + 2_300_000, Who::Dovecot, log, INFO, MAIL, 0;
            "imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<{user}@example.org>, method=PLAIN, rip={ip}, lip={lip}, TLS, session=<{}>",
            B64(s1, s2, 16));
    }

    /// The kernel of the DMZ router logs a connection it forwards to sshd.
    fn dnat_line(&mut self, t: u64, src: &str, port: u32) {
        let id = self.below(65_536);
        let ttl = 40 + self.below(20);
        say!(self, t, Who::Kernel, 0, WARNING, KERN, 0;
            "DNAT/ssh: IN=eth1 OUT=br-dmz MAC=00:0d:b9:4f:2e:10:7c:5a:1c:3d:8e:21:08:00 SRC={src} DST={ROUTER} LEN=60 TOS=0x00 PREC=0x00 TTL={ttl} ID={id} DF PROTO=TCP SPT={port} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0");
    }
}

/// A remote server's answer to the end of a message.
struct Accepted<'a>(&'a str, u64, u64);
impl fmt::Display for Accepted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let Accepted(mx, now, r) = *self;
        if mx.ends_with("google.com") {
            write!(
                f,
                "250 2.0.0 OK  {now} {}.{} - gsmtp",
                Hex(r, 12, false),
                r % 1000
            )
        } else if mx.ends_with("outlook.com") {
            write!(
                f,
                "250 2.6.0 <{}@example.org> [InternalId={}, Hostname=AM0PR02MB{}.eurprd02.prod.outlook.com] {} bytes in 0.041, 51.337 KB/sec Queued mail for delivery",
                B64(r, r >> 7, 20),
                r % 100_000_000_000,
                r % 10_000,
                r % 60_000 + 1_500
            )
        } else {
            write!(f, "250 2.0.0 Ok: queued as {}", Hex(r, 11, true))
        }
    }
}

/// An address as Gitea prints it before a port: IPv6 in brackets.
struct Bracket<'a>(&'a str);
impl fmt::Display for Bracket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.0.contains(':') {
            write!(f, "[{}]", self.0)
        } else {
            f.write_str(self.0)
        }
    }
}

// ---------------------------------------------------------------- periodic jobs and incidents

impl Gen {
    fn periodic(&mut self, i: usize, t: u64) {
        match i {
            0 => {
                self.cron(
                    t,
                    "root",
                    "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
                );
                self.oneshot(
                    t + 120_000,
                    "sysstat-collect.service",
                    "system activity accounting tool",
                    180_000,
                );
            }
            1 => self.cron(t, "root", "cd / && run-parts --report /etc/cron.hourly"),
            2 => self.cron(t, "alice", "/home/alice/bin/fetch-feeds >/dev/null 2>&1"),
            3 => self.checkpoint(t),
            4 => {
                let pid = self.smartd;
                let (attr, name) = if self.chance(50) {
                    (194, "Temperature_Celsius")
                } else {
                    (190, "Airflow_Temperature_Cel")
                };
                let v = 33 + self.below(6);
                say!(self, t, Who::Smartd, pid, INFO, DAEMON, 0;
                    "Device: /dev/sda [SAT], SMART Usage Attribute: {attr} {name} changed from {} to {}", 100 - v, 99 - v);
            }
            5 => {
                let t = t + self.within(0, 4 * SEC);
                self.ssh_git(t, true)
            }
            6 => {
                let p = Rc::clone(&self.pools);
                let ip = &p.botnet[self.below(BOTNET_SIZE)];
                let pid = self.anvil;
                let st = SyslogTime(t - 4 * MIN);
                say!(self, t, Who::Anvil, pid, INFO, MAIL, 0;
                    "statistics: max connection rate 1/60s for (smtp:{ip}) at {st}");
                say!(self, t + 100, Who::Anvil, pid, INFO, MAIL, 0;
                    "statistics: max connection count 1 for (smtp:{ip}) at {st}");
                say!(self, t + 200, Who::Anvil, pid, INFO, MAIL, 0;
                    "statistics: max cache size 2 at {st}");
            }
            7 => {
                self.oneshot(
                    t + 1_200_000,
                    "logrotate.service",
                    "Rotate log files",
                    2_400_000,
                );
                self.oneshot(
                    t + 1_400_000,
                    "dpkg-db-backup.service",
                    "Daily dpkg database backup service",
                    300_000,
                );
                self.oneshot(
                    t + 7 * MIN + 3 * SEC,
                    "man-db.service",
                    "Daily man-db regeneration",
                    1_900_000,
                );
                self.oneshot(
                    t + 16 * MIN + 40 * SEC,
                    "systemd-tmpfiles-clean.service",
                    "Cleanup of Temporary Directories",
                    40_000,
                );
            }
            8 => {
                let t1 = t + self.within(0, 40 * MIN);
                self.oneshot(t1, "certbot.service", "Certbot", 9 * SEC);
                let t2 = t + self.within(20 * MIN, 50 * MIN);
                self.oneshot(
                    t2,
                    "apt-daily.service",
                    "Daily apt download activities",
                    14 * SEC,
                );
            }
            _ => self.backup(t),
        }
    }

    fn cron(&mut self, t: u64, user: &str, cmd: &str) {
        let pid = self.new_pid();
        let uid = if user == "root" { 0 } else { 1000 };
        say!(self, t, Who::Cron, pid, INFO, AUTHPRIV, 0;
            "pam_unix(cron:session): session opened for user {user}(uid={uid}) by (uid=0)");
        say!(self, t + 1_500, Who::Cron, pid, INFO, CRON, 0; "({user}) CMD ({cmd})");
        say!(self, t + SEC + self.within(0, 3 * SEC), Who::Cron, pid, INFO, AUTHPRIV, 0;
            "pam_unix(cron:session): session closed for user {user}");
    }

    fn checkpoint(&mut self, t: u64) {
        let pid = self.checkpointer;
        self.checkpointer_seq += 1;
        let s = self.checkpointer_seq;
        say!(self, t, Who::Postgres, pid, INFO, LOCAL0, 0;
            "[{s}-1] {} [{pid}] LOG:  checkpoint starting: time", PgTime(t));
        let buffers = 20 + self.below(900) as u64;
        // checkpoint_completion_target spreads the writes.
        let write_ms = 1_000 + buffers * 120;
        let sync_ms = 2 + self.below(40) as u64;
        let total_ms = write_ms + sync_ms + self.below(5) as u64;
        let t2 = t + total_ms * 1000;
        self.checkpointer_seq += 1;
        let s = self.checkpointer_seq;
        let recycled = self.below(2);
        let files = 8 + buffers / 25;
        say!(self, t2, Who::Postgres, pid, INFO, LOCAL0, 0;
            "[{s}-1] {} [{pid}] LOG:  checkpoint complete: wrote {buffers} buffers ({}.{}%); 0 WAL file(s) added, 0 removed, {recycled} recycled; write={}.{:03} s, sync={}.{:03} s, total={}.{:03} s; sync files={files}, longest=0.00{} s, average=0.001 s; distance={} kB, estimate={} kB",
            PgTime(t2), buffers / 164, buffers * 10 / 164 % 10,
            write_ms / 1000, write_ms % 1000, sync_ms / 1000, sync_ms % 1000, total_ms / 1000, total_ms % 1000,
            1 + self.below(9), buffers * 9, buffers * 10 + 400);
    }

    fn backup(&mut self, t: u64) {
        let pid = self.new_pid();
        let unit = "borgmatic.service";
        self.begin_run();
        self.systemd(
            t,
            SD_STARTING,
            INFO,
            format_args!("{unit}"),
            format_args!("Starting {unit} - borgmatic backup..."),
        );
        let archive = IsoTime(t + 2 * SEC);
        let mut s = t + 2 * SEC;
        let lines: [&str; 4] = [
            "/etc/borgmatic/config.yaml: Creating archive",
            "/etc/borgmatic/config.yaml: Pruning archives",
            "/etc/borgmatic/config.yaml: Compacting segments",
            "/etc/borgmatic/config.yaml: Running consistency checks",
        ];
        for l in lines {
            say!(self, s, Who::Borgmatic, pid, INFO, DAEMON, 0; "{l}");
            s += self.within(20 * SEC, 6 * MIN);
        }
        say!(self, s, Who::Borgmatic, pid, INFO, DAEMON, 0;
            "Archive name: alder-{archive}");
        say!(self, s + 1_000, Who::Borgmatic, pid, INFO, DAEMON, 0;
            "This archive: {}.{} GB  Compressed: {}.{} GB  Deduplicated: {} MB", 41 + self.below(3), self.below(10), 29, self.below(10), 200 + self.below(900));
        say!(self, s + 2_000, Who::Borgmatic, pid, INFO, DAEMON, 0;
            "summary: /etc/borgmatic/config.yaml: Successfully ran configuration file");
        self.systemd(
            s + 40_000,
            SD_DEACTIVATED,
            INFO,
            format_args!("{unit}"),
            format_args!("{unit}: Deactivated successfully."),
        );
        self.systemd(
            s + 40_300,
            SD_STARTED,
            INFO,
            format_args!("{unit}"),
            format_args!("Finished {unit} - borgmatic backup."),
        );
        let (m, sec, ms) = (4 + self.below(5), self.below(60), self.below(1000));
        self.systemd(
            s + 40_500,
            SD_CONSUMED,
            INFO,
            format_args!("{unit}"),
            format_args!("{unit}: Consumed {m}min {sec}.{ms:03}s CPU time."),
        );
    }

    fn incident(&mut self, kind: u8, t: u64) {
        match kind {
            0 => {
                self.session += 1;
                let s = self.session;
                self.sudo(t, s, true);
            }
            1 => self.gitea_upgrade(t),
            2 => {
                let unit = "certbot.service";
                self.begin_run();
                self.systemd(
                    t,
                    SD_STARTING,
                    INFO,
                    format_args!("{unit}"),
                    format_args!("Starting {unit} - Certbot..."),
                );
                self.systemd(
                    t + 31 * SEC,
                    SD_EXITED,
                    NOTICE,
                    format_args!("{unit}"),
                    format_args!("{unit}: Main process exited, code=exited, status=1/FAILURE"),
                );
                self.systemd(
                    t + 31 * SEC + 200,
                    SD_FAILED_RESULT,
                    WARNING,
                    format_args!("{unit}"),
                    format_args!("{unit}: Failed with result 'exit-code'."),
                );
                self.systemd(
                    t + 31 * SEC + 400,
                    SD_FAILED_START,
                    ERR,
                    format_args!("{unit}"),
                    format_args!("Failed to start {unit} - Certbot."),
                );
            }
            3 => {
                self.session += 1;
                let s = self.session | (1 << 24);
                let pid = self.new_pid();
                let a = self.aux(format_args!("sudo apt install htop"));
                say!(self, t, Who::Sudo, pid, ALERT, AUTHPRIV, s, a;
                    "     bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/apt install htop");
            }
            4 => {
                let s = self.session | (1 << 24);
                let pid = self.new_pid();
                say!(self, t, Who::Su, pid, NOTICE, AUTHPRIV, s;
                    "pam_unix(su-l:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=root");
                say!(self, t + 2 * SEC, Who::Su, pid, NOTICE, AUTH, s; "FAILED SU (to root) bob on pts/1");
            }
            _ => {
                let q = self.qid();
                let (smtp, qmgr) = (self.smtp, self.qmgr);
                say!(self, t, Who::Smtp, smtp, INFO, MAIL, 0;
                    "{q}: to=<j.martin@example.net>, relay=example-net.mail.protection.outlook.com[52.101.68.18]:25, delay=1.4, delays=0.2/0.01/0.5/0.7, dsn=5.1.10, status=bounced (host example-net.mail.protection.outlook.com[52.101.68.18] said: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient j.martin@example.net not found by SMTP address lookup (in reply to RCPT TO command))");
                let b = self.qid();
                say!(self, t + 3_000, Who::Smtp, smtp, INFO, MAIL, 0;
                    "{q}: sender non-delivery notification: {b}");
                say!(self, t + 3_500, Who::Qmgr, qmgr, INFO, MAIL, 0; "{q}: removed");
            }
        }
    }

    /// Gitea is stopped, upgraded and started again; HAProxy notices.
    fn gitea_upgrade(&mut self, t: u64) {
        let unit = "gitea.service";
        self.begin_run();
        let old = self.gitea;
        let ha = self.haproxy;
        self.systemd(
            t,
            SD_STOPPING,
            INFO,
            format_args!("{unit}"),
            format_args!("Stopping {unit} - Gitea (Git with a cup of tea)..."),
        );
        say!(self, t + 2_000, Who::Gitea, old, INFO, DAEMON, 0;
            "{} ...graceful/manager_unix.go:157:handleSignals() [W] PID {old}. Received SIGTERM. Shutting down...", SlashTime(t));
        say!(self, t + 900_000, Who::Gitea, old, INFO, DAEMON, 0;
            "{} cmd/web.go:271:listen() [I] HTTP Listener: 127.0.0.1:3000 Closed", SlashTime(t + 900_000));
        say!(self, t + 950_000, Who::Gitea, old, INFO, DAEMON, 0;
            "{} .../graceful/manager.go:166:doHammerTime() [W] Setting Hammer condition", SlashTime(t + 950_000));
        say!(self, t + 1_100_000, Who::Gitea, old, INFO, DAEMON, 0;
            "{} cmd/web.go:111:showWebStartupMessage() [I] PID: {old} Gitea Web Finished", SlashTime(t + 1_100_000));
        self.systemd(
            t + 1_200_000,
            SD_DEACTIVATED,
            INFO,
            format_args!("{unit}"),
            format_args!("{unit}: Deactivated successfully."),
        );
        self.systemd(
            t + 1_200_300,
            SD_STOPPED,
            INFO,
            format_args!("{unit}"),
            format_args!("Stopped {unit} - Gitea (Git with a cup of tea)."),
        );
        self.systemd(
            t + 1_200_500,
            SD_CONSUMED,
            INFO,
            format_args!("{unit}"),
            format_args!("{unit}: Consumed 1h 12min 41.377s CPU time."),
        );
        say!(self, t + 3_100_000, Who::Haproxy, ha, ALERT, LOCAL0, 0;
            "Server gitea/gitea is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.");
        say!(self, t + 3_100_100, Who::Haproxy, ha, EMERG, LOCAL0, 0; "backend gitea has no server available!");
        // Requests while Gitea is away.
        for k in 0..4u64 {
            let tt = t + 5 * SEC + k * 4 * SEC;
            let p = Rc::clone(&self.pools);
            let ip = &p.visitors[self.below(VISITORS)];
            let port = self.port();
            say!(self, tt, Who::Haproxy, ha, INFO, LOCAL0, 0;
                "{ip}:{port} [{}] https~ gitea/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 4/4/0/0/0 0/0 \"GET /alice/pyruse HTTP/2.0\"",
                HaTime(tt - 200));
        }
        let t2 = t + 24 * SEC;
        self.gitea = self.new_pid();
        self.gitea_run = 1;
        self.begin_run();
        let new = self.gitea;
        self.systemd(
            t2,
            SD_STARTED,
            INFO,
            format_args!("{unit}"),
            format_args!("Started {unit} - Gitea (Git with a cup of tea)."),
        );
        let startup: [&str; 8] = [
            "cmd/web.go:242:runWeb() [I] Starting Gitea on PID: ",
            "cmd/web.go:111:showWebStartupMessage() [I] Gitea version: 1.22.3 built with GNU Make 4.3, go1.22.8 : bindata, sqlite, sqlite_unlock_notify",
            "cmd/web.go:112:showWebStartupMessage() [I] * RunMode: prod",
            "cmd/web.go:113:showWebStartupMessage() [I] * AppPath: /usr/local/bin/gitea",
            "cmd/web.go:114:showWebStartupMessage() [I] * WorkPath: /var/lib/gitea",
            "cmd/web.go:116:showWebStartupMessage() [I] * ConfigFile: /etc/gitea/app.ini",
            "cmd/web.go:304:listen() [I] Listen: http://127.0.0.1:3000",
            "cmd/web.go:308:listen() [I] Starting new Web server: tcp:127.0.0.1:3000 on PID: ",
        ];
        for (k, s) in startup.iter().enumerate() {
            let tt = t2 + 40_000 + k as u64 * 30_000;
            if s.ends_with("PID: ") {
                say!(self, tt, Who::Gitea, new, INFO, DAEMON, 0; "{} {s}{new}", SlashTime(tt));
            } else {
                say!(self, tt, Who::Gitea, new, INFO, DAEMON, 0; "{} {s}", SlashTime(tt));
            }
        }
        say!(self, t2 + 2_100_000, Who::Haproxy, ha, NOTICE, LOCAL0, 0;
            "Server gitea/gitea is UP, reason: Layer4 check passed, check duration: 0ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.");
    }
}

// ---------------------------------------------------------------- attacks

impl Gen {
    /// Starts a campaign of a hard hitter that is not already at work.
    fn launch(&mut self, t: u64) {
        let hitter = self.below(self.busy.len());
        if self.busy[hitter] {
            return;
        }
        let kind = self.pools.hard[hitter].1;
        // (attempts, mean gap between attempts): a little more than what
        // gets an address banned, as a firewall would cut the rest.
        let (lo, hi, gap) = match kind {
            Attack::SshPassword => (5, 12, 14 * SEC),
            Attack::SshScan => (12, 20, 8 * SEC),
            Attack::SshDnat => (6, 12, 9 * SEC),
            Attack::Sasl => (5, 12, 20 * SEC),
            Attack::Smtp => (3, 6, 60 * SEC),
            Attack::Imap => (5, 12, 12 * SEC),
            Attack::WebScan => (6, 20, 1_300_000),
            Attack::HttpBad => (10, 20, 4 * SEC),
            Attack::Xmpp => (5, 10, 9 * SEC),
            Attack::Gitea => (5, 10, 7 * SEC),
            Attack::Pg => (4, 10, 5 * SEC),
            Attack::PortScan => (15, 40, 700_000),
        };
        let left = (lo + self.below(hi - lo + 1)) as u32;
        let variant = self.rng.next();
        self.busy[hitter] = true;
        self.campaigns.push(Campaign {
            hitter,
            kind,
            left,
            next: t,
            gap,
            variant,
        });
    }

    fn campaign_step(&mut self, i: usize, t: u64) {
        let (hitter, kind, variant, gap) = {
            let c = &self.campaigns[i];
            (c.hitter, c.kind, c.variant, c.gap)
        };
        let p = Rc::clone(&self.pools);
        let ip = &p.hard[hitter].0;
        let consumed = self.attempt(t, kind, ip, variant);
        let c = &mut self.campaigns[i];
        c.left = c.left.saturating_sub(consumed);
        if c.left == 0 {
            self.busy[hitter] = false;
            self.campaigns.swap_remove(i);
        } else {
            let g = self.gap(gap);
            self.campaigns[i].next = t + g;
        }
    }

    /// One hit of the botnet: a random kind from a random address.
    fn botnet(&mut self, t: u64) {
        let total: usize = BOTNET.iter().map(|k| k.1).sum();
        let mut r = self.below(total);
        let mut kind = Attack::PortScan;
        for &(k, w) in &BOTNET {
            if r < w {
                kind = k;
                break;
            }
            r -= w;
        }
        let p = Rc::clone(&self.pools);
        let ip = &p.botnet[self.below(BOTNET_SIZE)];
        let variant = self.rng.next();
        self.attempt(t, kind, ip, variant);
    }

    /// One attempt of an attacker; returns how many attempts it made.
    fn attempt(&mut self, t: u64, kind: Attack, ip: &str, variant: u64) -> u32 {
        match kind {
            Attack::SshPassword => return self.ssh_password(t, ip, variant),
            Attack::SshScan => self.ssh_scan(t, ip),
            Attack::SshDnat => self.ssh_dnat_probe(t, ip, variant),
            Attack::Sasl => self.sasl(t, ip, variant),
            Attack::Smtp => self.smtp_spam(t, ip, variant),
            Attack::Imap => self.imap_guess(t, ip, variant),
            Attack::WebScan => self.web_probe(t, ip, variant),
            Attack::HttpBad => self.http_bad(t, ip, variant),
            Attack::Xmpp => self.xmpp_guess(t, ip, variant),
            Attack::Gitea => self.gitea_guess(t, ip, variant),
            Attack::Pg => self.pg_guess(t, ip, variant),
            Attack::PortScan => self.port_scan(t, ip, variant),
        }
        1
    }

    /// A password guess over SSH (some bots use all of MaxAuthTries on one connection).
    fn ssh_password(&mut self, t: u64, ip: &str, variant: u64) -> u32 {
        let pid = self.new_pid();
        let port = self.port();
        let pick = self.below(100);
        let user = if variant.is_multiple_of(3) || pick < 30 {
            "root"
        } else if pick < 34 {
            "postgres"
        } else {
            SSH_USERS[(variant as usize / 7 + self.below(4)) % SSH_USERS.len()]
        };
        let t1 = t + 300_000;
        if user == "root" {
            let tries = if variant % 5 == 1 { 6 } else { 1 };
            say!(self, t1, Who::Sshd, pid, NOTICE, AUTHPRIV, SSH_ROOT;
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user=root");
            let mut tt = t1 + 2_100_000;
            for _ in 0..tries {
                say!(self, tt, Who::Sshd, pid, INFO, AUTH, SSH_ROOT; "Failed password for root from {ip} port {port} ssh2");
                tt += 2_400_000 + self.within(0, 800_000);
            }
            if tries > 1 {
                say!(self, tt, Who::Sshd, pid, ERR, AUTH, SSH_ROOT;
                    "error: maximum authentication attempts exceeded for root from {ip} port {port} ssh2 [preauth]");
                say!(self, tt + 100, Who::Sshd, pid, INFO, AUTH, SSH_ROOT;
                    "Disconnecting authenticating user root {ip} port {port}: Too many authentication failures [preauth]");
                say!(self, tt + 400, Who::Sshd, pid, NOTICE, AUTHPRIV, SSH_ROOT;
                    "PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user=root");
                say!(self, tt + 500, Who::Sshd, pid, NOTICE, AUTHPRIV, SSH_ROOT;
                    "PAM service(sshd) ignoring max retries; 6 > 3");
            } else {
                say!(self, tt, Who::Sshd, pid, INFO, AUTH, SSH_ROOT;
                    "Received disconnect from {ip} port {port}:11: Bye Bye [preauth]");
                say!(self, tt + 200, Who::Sshd, pid, INFO, AUTH, SSH_ROOT;
                    "Disconnected from authenticating user root {ip} port {port} [preauth]");
            }
            return tries;
        }
        let title = if user == "postgres" {
            SSH_POSTGRES
        } else {
            SSH_UNKNOWN
        };
        if user == "postgres" {
            say!(self, t1, Who::Sshd, pid, INFO, AUTH, title;
                "User postgres from {ip} not allowed because not listed in AllowUsers");
        } else {
            say!(self, t1, Who::Sshd, pid, INFO, AUTH, title; "Invalid user {user} from {ip} port {port}");
        }
        say!(self, t1 + 120_000, Who::Sshd, pid, NOTICE, AUTHPRIV, title;
            "pam_unix(sshd:auth): check pass; user unknown");
        say!(self, t1 + 121_000, Who::Sshd, pid, NOTICE, AUTHPRIV, title;
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}");
        let t2 = t1 + 2_000_000 + self.within(0, 600_000);
        say!(self, t2, Who::Sshd, pid, INFO, AUTH, title;
            "Failed password for invalid user {user} from {ip} port {port} ssh2");
        say!(self, t2 + 300_000, Who::Sshd, pid, INFO, AUTH, title;
            "Received disconnect from {ip} port {port}:11: Bye Bye [preauth]");
        say!(self, t2 + 300_200, Who::Sshd, pid, INFO, AUTH, title;
            "Disconnected from invalid user {user} {ip} port {port} [preauth]");
        1
    }

    /// A scanner that connects and leaves before authenticating.
    fn ssh_scan(&mut self, t: u64, ip: &str) {
        let pid = self.new_pid();
        let port = self.port();
        let a = SSH_ACCEPTED;
        match self.below(7) {
            0 | 1 => say!(self, t + 400_000, Who::Sshd, pid, INFO, AUTH, a;
                "Connection closed by {ip} port {port} [preauth]"),
            2 => {
                say!(self, t + 50_000, Who::Sshd, pid, ERR, AUTH, a;
                    "error: kex_exchange_identification: Connection closed by remote host");
                say!(self, t + 50_100, Who::Sshd, pid, INFO, AUTH, a; "Connection closed by {ip} port {port}");
            }
            3 => {
                say!(self, t + 40_000, Who::Sshd, pid, ERR, AUTH, a;
                    "error: kex_exchange_identification: read: Connection reset by peer");
                say!(self, t + 40_100, Who::Sshd, pid, INFO, AUTH, a; "Connection reset by {ip} port {port}");
            }
            4 => {
                say!(self, t + 30_000, Who::Sshd, pid, ERR, AUTH, a;
                    "error: kex_exchange_identification: client sent invalid protocol identifier \"GET / HTTP/1.1\"");
                say!(self, t + 30_100, Who::Sshd, pid, INFO, AUTH, a;
                    "banner exchange: Connection from {ip} port {port}: invalid format");
            }
            5 => say!(self, t + 200_000, Who::Sshd, pid, INFO, AUTH, a;
                "Unable to negotiate with {ip} port {port}: no matching host key type found. Their offer: ssh-rsa,ssh-dss [preauth]"),
            _ => say!(self, t + 900_000, Who::Sshd, pid, INFO, AUTH, SSH_ROOT;
                "Connection closed by authenticating user root {ip} port {port} [preauth]"),
        }
    }

    /// A user-name probe through the DMZ router: the router's kernel names
    /// the source, sshd sees the router.
    fn ssh_dnat_probe(&mut self, t: u64, ip: &str, variant: u64) {
        let port = self.port();
        self.dnat_line(t, ip, port);
        let pid = self.new_pid();
        let user = SSH_USERS[(variant as usize + self.below(8)) % SSH_USERS.len()];
        let t1 = t + 350_000 + self.within(0, 900_000);
        say!(self, t1, Who::Sshd, pid, INFO, AUTH, SSH_UNKNOWN; "Invalid user {user} from {ROUTER} port {port}");
        say!(self, t1 + 250_000, Who::Sshd, pid, INFO, AUTH, SSH_UNKNOWN;
            "Connection closed by invalid user {user} {ROUTER} port {port} [preauth]");
    }

    /// A password guess on submission or smtps (Dovecot answers for Postfix).
    fn sasl(&mut self, t: u64, ip: &str, variant: u64) {
        let who = if variant.is_multiple_of(4) {
            Who::Smtps
        } else {
            Who::Submission
        };
        let pid = self.new_pid();
        let log = self.dovecot_log;
        let user = MAIL_GUESSES[(variant as usize + self.below(3)) % MAIL_GUESSES.len()];
        let (s1, s2) = (self.rng.next(), self.rng.next());
        if variant % 7 == 3 {
            say!(self, t, who, pid, WARNING, MAIL, 0;
                "warning: hostname {}.static.example-hosting.net does not resolve to address {ip}: Name or service not known",
                Hex(variant, 8, false));
        }
        say!(self, t + 1_000, who, pid, INFO, MAIL, 0; "connect from unknown[{ip}]");
        say!(self, t + 120_000, who, pid, INFO, MAIL, 0;
            "Anonymous TLS connection established from unknown[{ip}]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)");
        let why = if user.contains("alice") {
            "Password mismatch"
        } else {
            "unknown user"
        };
        say!(self, t + 1_900_000, Who::Dovecot, log, INFO, MAIL, 0;
            "auth: passwd-file({user},{ip},<{}>): {why}", B64(s1, s2, 16));
        if variant.is_multiple_of(3) {
            say!(self, t + 2_300_000, who, pid, WARNING, MAIL, 0;
                "warning: unknown[{ip}]: SASL PLAIN authentication failed: ");
        } else {
            say!(self, t + 2_300_000, who, pid, WARNING, MAIL, 0;
                "warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
        }
        say!(self, t + 2_310_000, who, pid, INFO, MAIL, 0; "lost connection after AUTH from unknown[{ip}]");
        let cmds = if who == Who::Smtps {
            "ehlo=1 auth=0/1 commands=1/2"
        } else {
            "ehlo=2 starttls=1 auth=0/1 commands=3/4"
        };
        say!(self, t + 2_310_500, who, pid, INFO, MAIL, 0; "disconnect from unknown[{ip}] {cmds}");
    }

    /// A spam bot on port 25: blocklisted, pregreeting, testing for a relay
    /// or guessing recipients.
    fn smtp_spam(&mut self, t: u64, ip: &str, variant: u64) {
        let ps = self.postscreen;
        let port = self.port();
        let helo = [
            "User",
            "WIN-CLJ1B0GQ6JP",
            "ylmf-pc",
            "localhost",
            "mail.example.com",
        ][(variant % 5) as usize];
        say!(self, t, Who::Postscreen, ps, INFO, MAIL, 0; "CONNECT from [{ip}]:{port} to [{MY_V4}]:25");
        match (variant >> 8) % 4 {
            0 | 1 => {
                if self.chance(40) {
                    say!(self, t + 150_000, Who::Postscreen, ps, INFO, MAIL, 0;
                        "PREGREET 11 after 0.15 from [{ip}]:{port}: EHLO {helo}\\r\\n");
                }
                let dnsblog = self.dnsblog;
                say!(self, t + 200_000, Who::Dnsblog, dnsblog, INFO, MAIL, 0;
                    "addr {ip} listed by domain zen.spamhaus.org as 127.0.0.{}", 2 + self.below(3));
                say!(self, t + 6_000_000, Who::Postscreen, ps, INFO, MAIL, 0;
                    "DNSBL rank {} for [{ip}]:{port}", 3 + self.below(5));
                say!(self, t + 7_200_000, Who::Postscreen, ps, INFO, MAIL, 0;
                    "NOQUEUE: reject: RCPT from [{ip}]:{port}: 550 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org; from=<{}@{helo}.com>, to=<{}@example.org>, proto=ESMTP, helo=<{helo}>",
                    Hex(variant, 6, false), USERS[self.below(USERS.len())]);
                say!(self, t + 7_400_000, Who::Postscreen, ps, INFO, MAIL, 0; "DISCONNECT [{ip}]:{port}");
            }
            2 => {
                // The relay test: sender and recipient are the bot's own.
                say!(self, t + 6_100_000, Who::Postscreen, ps, INFO, MAIL, 0; "PASS NEW [{ip}]:{port}");
                let smtpd = self.smtpd_pid();
                let drop = [
                    "spameri@tiscali.it",
                    "pruebas.envio@yandex.com",
                    "k.nowak1983@wp.pl",
                ][(variant % 3) as usize];
                say!(self, t + 6_200_000, Who::Smtpd, smtpd, INFO, MAIL, 0; "connect from unknown[{ip}]");
                say!(self, t + 7_000_000, Who::Smtpd, smtpd, INFO, MAIL, 0;
                    "NOQUEUE: reject: RCPT from unknown[{ip}]: 454 4.7.1 <{drop}>: Relay access denied; from=<{drop}> to=<{drop}> proto=ESMTP helo=<{helo}>");
                say!(self, t + 7_300_000, Who::Smtpd, smtpd, INFO, MAIL, 0;
                    "disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 rset=1 quit=1 commands=4/5");
            }
            _ => {
                // Recipients guessed from a dictionary.
                say!(self, t + 6_100_000, Who::Postscreen, ps, INFO, MAIL, 0; "PASS NEW [{ip}]:{port}");
                let smtpd = self.smtpd_pid();
                say!(self, t + 6_200_000, Who::Smtpd, smtpd, INFO, MAIL, 0; "connect from unknown[{ip}]");
                let n = 1 + self.below(3);
                for k in 0..n {
                    let guess = [
                        "office", "jobs", "hr", "billing", "mary", "john", "accounts", "hello",
                    ][(self.below(8) + k) % 8];
                    say!(self, t + 6_900_000 + k as u64 * 300_000, Who::Smtpd, smtpd, INFO, MAIL, 0;
                        "NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <{guess}@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<{}@{helo}.com> to=<{guess}@example.org> proto=ESMTP helo=<{helo}>",
                        Hex(variant, 6, false));
                }
                say!(self, t + 8_000_000, Who::Smtpd, smtpd, INFO, MAIL, 0;
                    "disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/{n} quit=1 commands=3/{}", n + 3);
            }
        }
    }

    /// A password guess on IMAP or POP3.
    fn imap_guess(&mut self, t: u64, ip: &str, variant: u64) {
        let log = self.dovecot_log;
        let user = MAIL_GUESSES[(variant as usize + self.below(4)) % MAIL_GUESSES.len()];
        let lip = if ip.contains(':') { MY_V6 } else { MY_V4 };
        let (s1, s2) = (self.rng.next(), self.rng.next());
        let why = if user.contains("alice") {
            "Password mismatch"
        } else {
            "unknown user"
        };
        say!(self, t, Who::Dovecot, log, INFO, MAIL, 0;
            "auth: passwd-file({user},{ip},<{}>): {why}", B64(s1, s2, 16));
        if variant.is_multiple_of(4) {
            say!(self, t + 2_100_000, Who::Dovecot, log, INFO, MAIL, 0;
                "pop3-login: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 2 secs): user=<{user}>, method=PLAIN, rip={ip}, lip={lip}, TLS, session=<{}>",
                B64(s1, s2, 16));
        } else {
            say!(self, t + 2_100_000, Who::Dovecot, log, INFO, MAIL, 0;
                "imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<{user}>, method=PLAIN, rip={ip}, lip={lip}, TLS, session=<{}>",
                B64(s1, s2, 16));
        }
    }

    /// A vulnerability scanner's request: nginx's error and access lines, HAProxy's.
    fn web_probe(&mut self, t: u64, ip: &str, variant: u64) {
        let (method, path) =
            PROBES[(variant as usize / 3 + self.below(PROBES.len())) % PROBES.len()];
        let ua = SCANNER_UAS[(variant % SCANNER_UAS.len() as u64) as usize];
        let host = ["example.org", MY_V4, "www.example.org"][(variant % 3) as usize];
        let worker = self.nginx[self.below(2)];
        let req = self.conn_id();
        say!(self, t, Who::Nginx, worker, ERR, LOCAL7, 0;
            "{} [error] {worker}#{worker}: *{req} open() \"/var/www/example.org{}\" failed (2: No such file or directory), client: {ip}, server: example.org, request: \"{method} {path} HTTP/1.1\", host: \"{host}\"",
            SlashTime(t), path.split(';').next().unwrap_or(path));
        say!(self, t + 150, Who::Nginx, worker, INFO, LOCAL7, 0;
            "{ip} - - [{}] \"{method} {path} HTTP/1.1\" 404 125 \"-\" \"{ua}\"", ClfTime(t));
        self.haproxy_line(
            t + 500,
            ip,
            "web/nginx",
            1,
            404,
            365,
            method,
            path,
            "HTTP/1.1",
        );
    }

    /// Garbage, TLS failures and the stats page's password at HAProxy.
    fn http_bad(&mut self, t: u64, ip: &str, variant: u64) {
        let port = self.port();
        let ha = self.haproxy;
        match (variant + self.below(2) as u64) % 4 {
            0 => say!(self, t, Who::Haproxy, ha, INFO, LOCAL0, 0;
                "{ip}:{port} [{}] https~ https~/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 2/2/0/0/0 0/0 \"<BADREQ>\"", HaTime(t - 300)),
            1 => say!(self, t, Who::Haproxy, ha, INFO, LOCAL0, 0;
                "{ip}:{port} [{}] http http/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\"", HaTime(t - 200)),
            2 => say!(self, t, Who::Haproxy, ha, INFO, LOCAL0, 0;
                "{ip}:{port} [{}] https/1: SSL handshake failure", HaTime(t - 100)),
            _ => say!(self, t, Who::Haproxy, ha, INFO, LOCAL0, 0;
                "{ip}:{port} [{}] https~ stats/<NOSRV> -1/-1/-1/-1/0 401 260 - - PR-- 1/1/0/0/0 0/0 \"GET /haproxy?stats HTTP/1.1\"", HaTime(t - 400)),
        }
    }

    fn xmpp_guess(&mut self, t: u64, ip: &str, variant: u64) {
        let id = self.c2s_id();
        let pid = self.prosody;
        let user = ["admin", "test", "info", "alice", "support", "root"]
            [((variant >> 4) as usize + self.below(2)) % 6];
        say!(self, t, Who::Prosody, pid, INFO, DAEMON, 0; "c2s{id}: Client connected");
        say!(self, t + 600_000, Who::Prosody, pid, INFO, DAEMON, 0;
            "example.org:saslauth: Failed authentication attempt (not-authorized) for user {user} from IP: {ip}");
        say!(self, t + 700_000, Who::Prosody, pid, INFO, DAEMON, 0; "c2s{id}: Client disconnected: closed");
    }

    fn gitea_guess(&mut self, t: u64, ip: &str, variant: u64) {
        let port = self.port();
        let pid = self.gitea;
        let user = ["admin", "root", "gitea", "administrator", "alice", "test"]
            [((variant >> 3) as usize + self.below(3)) % 6];
        if user == "alice" {
            say!(self, t, Who::Gitea, pid, INFO, DAEMON, 0;
                "{} ...eb/auth/auth.go:204:SignInPost() [I] Failed authentication attempt for alice from {}:{port}: user's password is invalid [uid: 1, name: alice]",
                SlashTime(t), Bracket(ip));
        } else {
            say!(self, t, Who::Gitea, pid, INFO, DAEMON, 0;
                "{} ...eb/auth/auth.go:204:SignInPost() [I] Failed authentication attempt for {user} from {}:{port}: user does not exist [uid: 0, name: {user}]",
                SlashTime(t), Bracket(ip));
        }
        let ms = 90 + self.below(60);
        say!(self, t + 2_000, Who::Gitea, pid, INFO, DAEMON, 0;
            "{} ...s/web/routing/logger.go:102:func1() [I] router: completed POST /user/login for {}:{port}, 200 OK in {ms}.{}ms @ auth/auth.go:169(auth.SignInPost)",
            SlashTime(t), Bracket(ip), self.below(10));
        self.haproxy_line(
            t + 2_500,
            ip,
            "gitea/gitea",
            ms as u64 + 1,
            200,
            10_412,
            "POST",
            "/user/login",
            "HTTP/1.1",
        );
    }

    /// A password guess on PostgreSQL: the backend's connection line names
    /// the client, its failure does not.
    fn pg_guess(&mut self, t: u64, ip: &str, variant: u64) {
        let pid = self.new_pid();
        let port = self.port();
        let user = ["postgres", "postgres", "admin", "root", "pgsql", "sa"]
            [((variant >> 5) as usize + self.below(2)) % 6];
        let db = if user == "postgres" {
            "postgres"
        } else {
            "template1"
        };
        let a = self.aux(format_args!(
            "postgres: 15/main: {user} {db} {ip}({port}) authentication"
        ));
        say!(self, t, Who::Postgres, pid, INFO, LOCAL0, 0, a;
            "[1-1] {} [{pid}] [unknown]@[unknown] LOG:  connection received: host={ip} port={port}", PgTime(t));
        let t2 = t + 20_000 + self.within(0, 30_000);
        let ts = PgTime(t2);
        let title = |g: &mut Gen| {
            g.aux(format_args!(
                "postgres: 15/main: {user} {db} {ip}({port}) authentication"
            ))
        };
        if variant % 5 == 4 {
            say!(self, t2, Who::Postgres, pid, ERR, LOCAL0, 0, title(self);
                "[2-1] {ts} [{pid}] {user}@{db} FATAL:  no pg_hba.conf entry for host \"{ip}\", user \"{user}\", database \"{db}\", no encryption");
        } else if user == "postgres" {
            say!(self, t2, Who::Postgres, pid, ERR, LOCAL0, 0, title(self);
                "[2-1] {ts} [{pid}] {user}@{db} FATAL:  password authentication failed for user \"{user}\"");
            say!(self, t2 + 10, Who::Postgres, pid, ERR, LOCAL0, 0, title(self);
                "[2-2] {ts} [{pid}] {user}@{db} DETAIL:  Connection matched pg_hba.conf line 102: \"hostssl all all 0.0.0.0/0 scram-sha-256\"");
        } else {
            say!(self, t2, Who::Postgres, pid, ERR, LOCAL0, 0, title(self);
                "[2-1] {ts} [{pid}] {user}@{db} FATAL:  password authentication failed for user \"{user}\"");
            say!(self, t2 + 10, Who::Postgres, pid, ERR, LOCAL0, 0, title(self);
                "[2-2] {ts} [{pid}] {user}@{db} DETAIL:  Role \"{user}\" does not exist.");
            say!(self, t2 + 20, Who::Postgres, pid, ERR, LOCAL0, 0, title(self);
                "[2-3] \tConnection matched pg_hba.conf line 102: \"hostssl all all 0.0.0.0/0 scram-sha-256\"");
        }
    }

    /// A packet the firewall drops (one port of a scan).
    fn port_scan(&mut self, t: u64, ip: &str, variant: u64) {
        let dport = if variant.is_multiple_of(2) {
            PORTS[self.below(PORTS.len())] as u32
        } else {
            1 + self.below(65_535) as u32
        };
        let sport = self.port();
        let id = self.below(65_536);
        if ip.contains(':') {
            say!(self, t, Who::Kernel, 0, WARNING, KERN, 0;
                "DROP: IN=eth0 OUT= MAC=52:54:00:8a:3c:11:fe:54:00:3a:9d:02:86:dd SRC={ip} DST={MY_V6} LEN=60 TC=0 HOPLIMIT=52 FLOWLBL=0 PROTO=TCP SPT={sport} DPT={dport} WINDOW=1024 RES=0x00 SYN URGP=0");
        } else if dport == 5060 {
            say!(self, t, Who::Kernel, 0, WARNING, KERN, 0;
                "DROP: IN=eth0 OUT= MAC=52:54:00:8a:3c:11:fe:54:00:3a:9d:02:08:00 SRC={ip} DST={MY_V4} LEN=440 TOS=0x00 PREC=0x00 TTL=53 ID={id} DF PROTO=UDP SPT={sport} DPT=5060 LEN=420");
        } else {
            say!(self, t, Who::Kernel, 0, WARNING, KERN, 0;
                "DROP: IN=eth0 OUT= MAC=52:54:00:8a:3c:11:fe:54:00:3a:9d:02:08:00 SRC={ip} DST={MY_V4} LEN=44 TOS=0x00 PREC=0x00 TTL={} ID={id} PROTO=TCP SPT={sport} DPT={dport} WINDOW=1024 RES=0x00 SYN URGP=0",
                230 + self.below(20));
        }
    }
}

// ---------------------------------------------------------------- the entry

/// Fills an entry, reusing its field buffers.
struct Out<'a> {
    e: &'a mut Entry,
    n: usize,
}

impl Out<'_> {
    fn field(&mut self, name: &'static str) -> &mut Vec<u8> {
        if self.n == self.e.len() {
            self.e.push((name, Vec::new()));
        } else {
            self.e[self.n].0 = name;
            self.e[self.n].1.clear();
        }
        self.n += 1;
        &mut self.e[self.n - 1].1
    }

    fn s(&mut self, name: &'static str, v: &[u8]) {
        self.field(name).extend_from_slice(v);
    }

    fn num(&mut self, name: &'static str, v: u64) {
        let f = self.field(name);
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = v;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        f.extend_from_slice(&digits[i..]);
    }

    fn fmt(&mut self, name: &'static str, args: fmt::Arguments) {
        let _ = self.field(name).write_fmt(args);
    }

    fn host(&mut self) {
        self.s("_BOOT_ID", BOOT_ID.as_bytes());
        self.s("_MACHINE_ID", MACHINE_ID.as_bytes());
        self.s("_HOSTNAME", HOSTNAME.as_bytes());
    }
}

/// The invocation id of a run of a unit (a session scope's run is its session).
fn invocation(unit: &[u8], run: u32) -> Hex128 {
    if unit.starts_with(b"session-") {
        id128(&u64::from(run).to_le_bytes(), 11)
    } else {
        id128(unit, u64::from(run))
    }
}

/// A 32-hex-digit id derived from a text (invocation ids of scopes and runs).
fn id128(text: &[u8], salt: u64) -> Hex128 {
    let mut h = salt;
    for &b in text {
        h = mix(h ^ u64::from(b));
    }
    Hex128(mix(h), mix(h ^ 0x5555))
}
struct Hex128(u64, u64);
impl fmt::Display for Hex128 {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}{}", Hex(self.0, 16, false), Hex(self.1, 16, false))
    }
}

fn write_entry(p: &Pending, t: u64, out: &mut Entry, gitea_run: u32) {
    let info = proc_of(p.who);
    let mut o = Out { e: out, n: 0 };
    o.num("__REALTIME_TIMESTAMP", t);
    o.num("__MONOTONIC_TIMESTAMP", t - BOOT);
    // Received a few dozen microseconds after it was sent.
    let sent = t - 20 - (p.seq % 180);
    match info.transport {
        Transport::Kernel => {
            o.num("_SOURCE_MONOTONIC_TIMESTAMP", sent - BOOT);
            o.s("_TRANSPORT", b"kernel");
            o.num("PRIORITY", p.prio.into());
            o.num("SYSLOG_FACILITY", p.fac.into());
            o.s("SYSLOG_IDENTIFIER", b"kernel");
            o.s("MESSAGE", &p.msg);
            o.host();
        }
        Transport::Syslog => {
            o.s("_TRANSPORT", b"syslog");
            o.num("PRIORITY", p.prio.into());
            o.num("SYSLOG_FACILITY", p.fac.into());
            o.s("SYSLOG_IDENTIFIER", info.ident.as_bytes());
            if info.syslog_pid {
                o.num("SYSLOG_PID", p.pid.into());
            }
            o.fmt("SYSLOG_TIMESTAMP", format_args!("{}", SyslogTime(sent)));
            o.s("MESSAGE", &p.msg);
            process_fields(&mut o, p, p.pid, info, gitea_run);
            o.num("_SOURCE_REALTIME_TIMESTAMP", sent);
            o.host();
        }
        Transport::Stdout => {
            o.s("_TRANSPORT", b"stdout");
            o.fmt(
                "_STREAM_ID",
                format_args!(
                    "{}",
                    id128(info.ident.as_bytes(), 77 + u64::from(gitea_run))
                ),
            );
            o.num("PRIORITY", p.prio.into());
            o.num("SYSLOG_FACILITY", p.fac.into());
            o.s("SYSLOG_IDENTIFIER", info.ident.as_bytes());
            o.s("MESSAGE", &p.msg);
            process_fields(&mut o, p, p.pid, info, gitea_run);
            o.host();
        }
        Transport::Journal => {
            let k = &SD_KINDS[(p.arg & 0xff) as usize];
            o.num("PRIORITY", p.prio.into());
            o.num("SYSLOG_FACILITY", p.fac.into());
            o.s("CODE_FILE", k.file.as_bytes());
            o.s("CODE_LINE", k.line.as_bytes());
            o.s("CODE_FUNC", k.func.as_bytes());
            o.s("SYSLOG_IDENTIFIER", info.ident.as_bytes());
            if p.who == Who::Logind {
                if !k.message_id.is_empty() {
                    o.s("MESSAGE_ID", k.message_id.as_bytes());
                }
                o.num("SESSION_ID", u64::from(p.arg >> 8));
                if let Some(space) = p.aux.iter().position(|&b| b == b' ') {
                    // A new session: its user and leader process.
                    o.s("USER_ID", &p.aux[..space]);
                    o.s("LEADER", &p.aux[space + 1..]);
                }
            } else {
                o.s("UNIT", &p.aux);
                if !k.message_id.is_empty() {
                    o.s("MESSAGE_ID", k.message_id.as_bytes());
                }
                o.fmt(
                    "INVOCATION_ID",
                    format_args!("{}", invocation(&p.aux, p.arg >> 8)),
                );
            }
            o.s("MESSAGE", &p.msg);
            if !k.job_type.is_empty() {
                o.num("JOB_ID", 100_000 + u64::from(p.arg >> 8) % 900_000);
                o.s("JOB_TYPE", k.job_type.as_bytes());
                if !k.job_result.is_empty() {
                    o.s("JOB_RESULT", k.job_result.as_bytes());
                }
            }
            if (p.arg & 0xff) == SD_EXITED {
                o.s("EXIT_CODE", b"exited");
                o.num("EXIT_STATUS", 1);
            }
            o.s("_TRANSPORT", b"journal");
            let pid = if p.who == Who::Systemd { 1 } else { 402 };
            process_fields(&mut o, p, pid, info, gitea_run);
            o.num("_SOURCE_REALTIME_TIMESTAMP", sent);
            o.host();
        }
    }
    let n = o.n;
    out.truncate(n);
}

/// `_PID` … `_SYSTEMD_INVOCATION_ID`, in journald's order.
fn process_fields(o: &mut Out, p: &Pending, pid: u32, info: &Proc, gitea_run: u32) {
    o.num("_PID", pid.into());
    o.s("_UID", info.uid.as_bytes());
    o.s("_GID", info.gid.as_bytes());
    o.s("_COMM", info.comm.as_bytes());
    o.s("_EXE", info.exe.as_bytes());
    match p.who {
        Who::Sshd => o.s("_CMDLINE", SSH_TITLES[p.arg as usize].as_bytes()),
        Who::Postgres | Who::Sudo if !p.aux.is_empty() => o.s("_CMDLINE", &p.aux),
        _ => o.s("_CMDLINE", info.cmdline.as_bytes()),
    }
    o.s("_CAP_EFFECTIVE", info.cap.as_bytes());
    if matches!(p.who, Who::Sudo | Who::Su) {
        // In the user's SSH session.
        let session = u64::from(p.arg & 0xff_ffff);
        let uid = 1000 + u64::from(p.arg >> 24);
        o.num("_AUDIT_SESSION", session);
        o.num("_AUDIT_LOGINUID", uid);
        o.fmt(
            "_SYSTEMD_CGROUP",
            format_args!("/user.slice/user-{uid}.slice/session-{session}.scope"),
        );
        o.num("_SYSTEMD_SESSION", session);
        o.num("_SYSTEMD_OWNER_UID", uid);
        o.fmt("_SYSTEMD_UNIT", format_args!("session-{session}.scope"));
        o.fmt("_SYSTEMD_SLICE", format_args!("user-{uid}.slice"));
        o.fmt(
            "_SYSTEMD_INVOCATION_ID",
            format_args!("{}", id128(&session.to_le_bytes(), 11)),
        );
        return;
    }
    if info.slice == "system.slice" || info.slice == "-.slice" {
        o.fmt(
            "_SYSTEMD_CGROUP",
            format_args!(
                "{}{}",
                if info.slice == "-.slice" {
                    "/"
                } else {
                    "/system.slice/"
                },
                info.unit
            ),
        );
    } else {
        o.fmt(
            "_SYSTEMD_CGROUP",
            format_args!("/system.slice/{}/{}", info.slice, info.unit),
        );
    }
    o.s("_SYSTEMD_UNIT", info.unit.as_bytes());
    o.s("_SYSTEMD_SLICE", info.slice.as_bytes());
    if !info.invocation.is_empty() {
        o.s("_SYSTEMD_INVOCATION_ID", info.invocation.as_bytes());
    } else if info.transport == Transport::Stdout {
        o.fmt(
            "_SYSTEMD_INVOCATION_ID",
            format_args!("{}", id128(info.unit.as_bytes(), 5 + u64::from(gitea_run))),
        );
    }
}
