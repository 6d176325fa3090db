#!/usr/bin/env python3
# Copyright (C) the Pyruse authors. GPL-3.0-or-later.
"""Score Pyruse rules against fail2ban's annotated sample logs.

fail2ban ships, for each of its filters, a sample log in which every tested
line is preceded by an annotation:

    # failJSON: { "time": "2005-02-25T14:34:10", "match": true , "host": "194.117.26.69" }
    Feb 25 14:34:10 belka sshd[31602]: Failed password for invalid user ROOT from 194.117.26.69 port 50273 ssh2

`# filterOptions: [{...}, ...]` switches the filter options (the fail2ban
"mode") for the lines that follow, `# fileOptions: {...}` sets options common
to the whole file (`"logtype": "journal"`: the lines are already in the shape
fail2ban's journal backend builds, `host ident[pid]: message`), and
`# addFILE: "name"` includes another sample file.  This script reads those
files (default directory: tests/data/fail2ban/logs, then our own annotated
samples in tests/data/fail2ban/extra), turns every line into a journal entry
shaped like `journalctl -o json` output, replays them through the rules with
`pyrusec replay`, and checks which lines raised the service's counter.

Usage (from the repository root):

    tests/fail2ban/samples.py convert sshd dropbear -o /tmp/entries.jsonl
        # writes /tmp/entries.jsonl and /tmp/entries.index.jsonl (one JSON
        # object per entry: service, file, line, annotated, match, host, modes)
    tests/fail2ban/samples.py score sshd              # the whole rules/ library
    tests/fail2ban/samples.py score -v sshd dropbear  # list misses / false positives
    tests/fail2ban/samples.py score --rules rules/services/sshd.pyr --json sshd
    tests/fail2ban/samples.py score --min-rate 95 sshd dropbear   # for CI
    PYRUSEC=/path/to/pyrusec tests/fail2ban/samples.py score sshd

Options of `score`:
    --pyrusec PATH  the pyrusec binary (default: $PYRUSEC, else
                    target/debug/pyrusec, else `pyrusec` on the PATH)
    --rules PATH    a rule file or directory (default: rules/, the library as
                    shipped: every service runs, as in a deployment)
    --logs DIR      sample directory (repeatable; default: the two above)
    --all-chains    score every mode with the rules as shipped (no mode
                    override: the service's default mode)
    --min-rate R    exit 1 when a service catches less than R of its targets
                    (0.95, or 95 as a percentage)
    --json          machine-readable summary on stdout
    -v              list every miss and false positive with file:line and text

Conversion of a sample line into a journal entry
------------------------------------------------
* Syslog-prefixed lines (`Mmm dd hh:mm:ss [host] ident[pid]: text`, also
  with an ISO-8601 date, `Mmm dd yyyy hh:mm:ss`, RFC 5424, `[ident]` tags and
  journald's tag parsing) become SYSLOG_IDENTIFIER=ident, SYSLOG_PID=_PID=pid,
  _HOSTNAME=host, MESSAGE=text.  `ident/sub[pid]` (postfix/smtpd) stays whole.
  For files (or option blocks) of logtype "journal" the date is absent:
  `host ident[pid]: text`, with fail2ban's `test.prefix-line` prepended.
  A `yyyy-mm-dd hh:mm:ss` date (blank instead of T) is the date of many
  services' own files: after it, only a tag with a [pid] is believed.
* Any other line is in the service's own file format: MESSAGE is the whole
  line (its own date included), SYSLOG_IDENTIFIER is the service's default
  journal identifier (table DEFAULT_IDENTIFIER below), _HOSTNAME is
  "f2b-sample".  So is a line whose "tag" after a syslog date (no host, no
  pid) is one of the service's own log-file words (OWN_FILE_TAGS: BIND's
  categories, "Oct 23 02:06:39 security: info: client ...").
* __REALTIME_TIMESTAMP (µs, decimal string): the failJSON "time" (a local
  time of fail2ban's test zone, CET/CEST, as fail2ban reads it); else the
  line's own date: syslog/ISO/RFC 5424 for syslog lines, and for lines in
  a service's own format their leading date (ISO 8601 with T or a blank and
  an optional offset, as MongoDB's 2016-11-20T00:04:00.110+0100; BIND's
  11-Aug-2013 08:51:16.063; nginx's 2013/06/09 07:57:47; asterisk's
  [2013-06-09 07:57:47]; apache's [Sun Jun 09 07:57:47 2013]; a syslog date), in the test zone unless an
  offset is given (year borrowed from the previous timestamp when absent,
  2005 at first); else the previous timestamp plus one second.  Timestamps
  may go backwards between unrelated samples; Pyruse's clock never does.
* __CURSOR is unique per entry.  Values that are not UTF-8 are written as
  arrays of byte values, as journalctl does.

Scoring
-------
* A line is a *target* when it is annotated `"match": true` and its host is
  an IP address.  Addresses compare after normalisation (ipaddress module;
  an IPv4-mapped IPv6 address equals its IPv4 address).  fail2ban writes
  some IPv4 addresses with leading zeros ("192.030.0.6"), which the ipaddress
  module refuses: such an address is read as *decimal* octets with the zeros
  dropped (192.30.0.6), on both sides (failJSON host and counter key).  No
  real daemon prints that (sshd uses inet_ntop); the sample only checks that
  the address is taken as written.  Hosts that are names are out of scope.
* A target is *caught* in a mode when the rules emit, for that entry, a
  counterRaise whose counter is the service name and whose key equals the
  host (`failure(IP: …)` counts under its service's name).  Only counters
  named after the service count (rules/20-ssh.pyr's counter "ssh" does not).
* A *false positive* is an annotated `"match": false` line for which such a
  counterRaise happens (whatever its key).  Unannotated lines are fed as
  context; a raise on them is reported as "context raised", not an error.
* Modes.  Each line records the fail2ban modes it is tested in
  (filterOptions, minus those its "constraint" excludes; a block that names
  no mode is in fail2ban's default mode, DEFAULT_MODE).  When the rules
  declare the service (`service "NAME"`) with a `param mode`, each mode is
  scored through the real mechanism: a temporary rule file
      include "<absolute rules path>/"
      set NAME.mode = "<mode>"
  replayed with `pyrusec replay`, so that exactly the chains whose
  `when $mode ...` holds run, with the rest of the library around them.  The
  service's modes are read from the rules' text (the default of `param mode`
  and every value its `when $mode` clauses name); a fail2ban mode with
  another name is translated by MODE_MAP, fail2ban's default mode stands for
  the library's default, and a mode still unknown is reported ("NOT A MODE
  OF THE RULES", `unknown_modes` in JSON) and its targets count as missed.
  Services without `param mode` (or with --all-chains) are scored once, as
  shipped, for all their modes.  A line is scored in each of its modes;
  overall, a target is caught when it is caught in every mode it is tested
  in, and a line is a false positive when it is one in any mode.
* The same temporary file empties failure()'s ignore list (`set
  NAME.ignore = []` when the library declares `ignore`, else a global
  `param ignore = []`): fail2ban's samples use 127.0.0.1 often, and the
  scoring measures detection, not the ignore policy.  Hosts written with
  zero-padded octets (192.030.0.6), which failure() refuses as not an
  address, are out of scope.
* Exit status: 0; 1 when there is a false positive, or a service below
  --min-rate; 2 on errors (no sample file, pyrusec failing, rules that do
  not check).
* By default the replay loads the whole rules/ directory, as shipped: every
  service sees every line (failure() lets the entry go on), but chains
  outside the services (rules/20-ssh.pyr...) that end an entry with an
  action still hide it from the services after them.
"""

import argparse
import ast
import calendar
import datetime
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Sample files of a log source the library does not read on purpose.
OTHER_SOURCES = {
    # fail2ban's own "Ban ADDR" lines: Pyruse's recidive reads the ban
    # lines Pyruse itself logs (extra/recidive).
    "recidive": "fail2ban's own ban log; recidive reads Pyruse's ban lines",
}

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LOG_DIRS = [REPO / "tests/data/fail2ban/logs", REPO / "tests/data/fail2ban/extra"]

# Service (fail2ban sample name) -> SYSLOG_IDENTIFIER given to lines written in
# the service's own file format (the identifier under which the service's
# stderr or syslog output reaches the journal).  Syslog-shaped lines keep the
# identifier of their tag.  Services not listed use their own name.
DEFAULT_IDENTIFIER = {
    "3proxy": "3proxy",
    "apache-auth": "apache2",
    "apache-badbots": "apache2",
    "apache-botsearch": "apache2",
    "apache-fakegooglebot": "apache2",
    "apache-modsecurity": "apache2",
    "apache-nohome": "apache2",
    "apache-noscript": "apache2",
    "apache-overflows": "apache2",
    "apache-pass": "apache2",
    "apache-shellshock": "apache2",
    "php-url-fopen": "apache2",
    "zoneminder": "apache2",
    "assp": "assp",
    "asterisk": "asterisk",
    "bitwarden": "bitwarden",
    "centreon": "centreon",
    "counter-strike": "hlds",
    "directadmin": "directadmin",
    "domino-smtp": "domino",
    "dovecot": "dovecot",
    "ejabberd-auth": "ejabberd",
    "exim": "exim",
    "exim-spam": "exim",
    "freeswitch": "freeswitch",
    "gitlab": "gitlab",
    "grafana": "grafana",
    "groupoffice": "groupoffice",
    "guacamole": "guacamole",
    "horde": "horde",
    "kerio": "kerio",
    "lighttpd-auth": "lighttpd",
    "mongodb-auth": "mongod",
    "monit": "monit",
    "monitorix": "monitorix",
    "mssql-auth": "sqlservr",
    "murmur": "murmurd",
    "mysqld-auth": "mysqld",
    "named-refused": "named",
    "nginx-bad-request": "nginx",
    "nginx-botsearch": "nginx",
    "nginx-http-auth": "nginx",
    "nginx-limit-req": "nginx",
    "nsd": "nsd",
    "openhab": "openhab",
    "openwebmail": "openwebmail",
    "oracleims": "oracleims",
    "portsentry": "portsentry",
    "recidive": "fail2ban-server",
    "roundcube-auth": "roundcube",
    "selinux-ssh": "audit",
    "softethervpn": "vpnserver",
    "squid": "squid",
    "squirrelmail": "squirrelmail",
    "sshd": "sshd",
    "stunnel": "stunnel",
    "tine20": "tine20",
    "traefik-auth": "traefik",
    "znc-adminlog": "znc",
}

# Sample files that belong to another service's rules (fail2ban includes them
# with `# addFILE:`); scoring the file alone scores it against that service.
SAMPLE_SERVICE = {"sshd-journal": "sshd"}

# The filter's default mode (fail2ban's `mode = ...`), used for lines tested
# with options that do not name a mode.
DEFAULT_MODE = {"postfix": "more", "freeswitch": "extra"}

# Words that look like a syslog tag (`word:` after a syslog date, no host,
# no pid) but are the service's own log-file prefix: BIND's categories, when
# named writes its own file with `print-time` and `print-category`
# ("Oct 23 02:06:39 security: info: client ...").  Such a line stays in the
# service's own format (SYSLOG_IDENTIFIER from DEFAULT_IDENTIFIER).
OWN_FILE_TAGS = {
    "named-refused": {
        "client", "cname", "config", "database", "default", "delegation-only",
        "dispatch", "dnssec", "dnstap", "edns-disabled", "general", "lame-servers",
        "network", "notify", "nsid", "queries", "query-errors", "rate-limit",
        "resolver", "rpz", "rpz-passthru", "security", "serve-stale", "spill",
        "sslkeylog", "trust-anchor-telemetry", "unmatched", "update",
        "update-security", "xfer-in", "xfer-out", "zoneload",
    },
}

# fail2ban mode name -> the library's mode name, per service, for services
# whose rules name a mode differently.  A fail2ban mode that is neither here
# nor one of the service's modes (the default of its `param mode` and the
# values its `when $mode ...` clauses name) is reported as unknown, and its
# targets count as missed.
MODE_MAP = {}

def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)

# ---------------------------------------------------------------- times

def _last_sunday(year, month):
    last = calendar.monthrange(year, month)[1]
    d = datetime.date(year, month, last)
    return last - (d.weekday() + 1) % 7


def local_to_epoch(dt):
    """A naive local time of fail2ban's test zone (CET-01CEST-02,M3.5.0,M10.5.0)
    to epoch seconds (float)."""
    y = dt.year
    dst_start = datetime.datetime(y, 3, _last_sunday(y, 3), 2, 0, 0)
    dst_end = datetime.datetime(y, 10, _last_sunday(y, 10), 3, 0, 0)
    offset = 2 if dst_start <= dt < dst_end else 1
    utc = dt - datetime.timedelta(hours=offset)
    return calendar.timegm(utc.timetuple()) + dt.microsecond / 1e6


def parse_json_time(t):
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"):
        try:
            return local_to_epoch(datetime.datetime.strptime(t, fmt))
        except ValueError:
            pass
    return None


MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}

RE_3164 = re.compile(
    r"^(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})(?:\s+(?P<year>\d{4}))?\s+"
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?P<frac>\.\d+)?\s+")
RE_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?P<frac>[.,]\d+)?(?P<tz>Z|[+-]\d{2}:?\d{2})?\s+")
RE_5424 = re.compile(
    r"^<\d{1,3}>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) (?P<msgid>\S+) ")


def _frac_us(frac):
    if not frac:
        return 0
    digits = frac[1:][:6]
    return int(digits.ljust(6, "0"))


def date_3164(m, year):
    mon = MONTHS.get(m.group("mon").lower())
    if mon is None:
        return None
    y = int(m.group("year")) if m.group("year") else year
    try:
        dt = datetime.datetime(y, mon, int(m.group("day")), int(m.group("h")),
                               int(m.group("m")), int(m.group("s")), _frac_us(m.group("frac")))
    except ValueError:
        return None
    return local_to_epoch(dt)


def date_iso(m):
    try:
        dt = datetime.datetime(int(m.group("y")), int(m.group("mo")), int(m.group("d")),
                               int(m.group("h")), int(m.group("m")), int(m.group("s")),
                               _frac_us(m.group("frac")))
    except ValueError:
        return None
    tz = m.group("tz")
    if not tz:
        return local_to_epoch(dt)
    if tz == "Z":
        off = 0
    else:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        off = sign * (int(digits[:2]) * 60 + int(digits[2:]))
    return calendar.timegm(dt.timetuple()) + dt.microsecond / 1e6 - off * 60


def date_5424(ts):
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$", ts)
    if not m:
        return None
    return date_iso(RE_ISO.match(ts + " "))

# ---------------------------------------------------------------- syslog prefix

IDENT = r"[A-Za-z0-9_][A-Za-z0-9_.()/@+-]*"
RE_TAG_COLON = re.compile(r"^(?P<ident>" + IDENT + r")(?:\[(?P<pid>\d+)\])?:$")
RE_TAG_PID = re.compile(r"^(?P<ident>" + IDENT + r")\[(?P<pid>\d+)\]$")
RE_TAG_BRACKET = re.compile(r"^\[(?P<ident>[A-Za-z][A-Za-z0-9_.-]*)\]:?$")
RE_PID_COLON = re.compile(r"^\[(?P<pid>\d+)\]:$")
RE_TOKEN = re.compile(r"\s*(\S+)")


def _after(rest, end):
    """The message after a tag ending at `end`: one separating blank skipped,
    as journald does."""
    if end < len(rest) and rest[end] in " \t":
        end += 1
    return rest[end:]


def parse_tag(rest, bracket_ok):
    """journald-like parsing of `[host] ident[pid]: message`.  Returns
    (host, ident, pid, message) or None."""
    t1 = RE_TOKEN.match(rest)
    if not t1:
        return None
    tok1 = t1.group(1)
    m = RE_TAG_COLON.match(tok1)
    if m:
        return None, m.group("ident"), m.group("pid"), _after(rest, t1.end())
    if bracket_ok:
        m = RE_TAG_BRACKET.match(tok1)
        if m:
            return None, m.group("ident"), None, _after(rest, t1.end())
    m = RE_TAG_PID.match(tok1)
    if m:
        return None, m.group("ident"), m.group("pid"), _after(rest, t1.end())
    t2 = RE_TOKEN.match(rest, t1.end())
    if not t2:
        return None
    tok2 = t2.group(1)
    m = RE_TAG_COLON.match(tok2)
    if m:
        return tok1, m.group("ident"), m.group("pid"), _after(rest, t2.end())
    m = RE_PID_COLON.match(tok2)
    if m and re.match("^" + IDENT + "$", tok1):
        return None, tok1, m.group("pid"), _after(rest, t2.end())
    m = RE_TAG_PID.match(tok2)
    if m:
        return tok1, m.group("ident"), m.group("pid"), _after(rest, t2.end())
    return None


def skip_5424_sd(rest):
    """Skips RFC 5424 structured data (`-` or `[id k="v"...]...`) and the blank after it."""
    if rest.startswith("- "):
        return rest[2:]
    if rest == "-":
        return ""
    i = 0
    while i < len(rest) and rest[i] == "[":
        i += 1
        in_quote = False
        while i < len(rest):
            c = rest[i]
            if in_quote:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_quote = False
            elif c == '"':
                in_quote = True
            elif c == "]":
                break
            i += 1
        i += 1
    if i < len(rest) and rest[i] == " ":
        i += 1
    return rest[i:]


def convert_line(text, service, journal, prefix, year):
    """Returns (fields without timestamps/cursor, epoch seconds or None)."""
    m = RE_5424.match(text)
    if m:
        msg = skip_5424_sd(text[m.end():])
        pid = None if m.group("pid") == "-" else m.group("pid")
        f = {"_HOSTNAME": m.group("host"), "SYSLOG_IDENTIFIER": m.group("app"),
             "MESSAGE": msg, "_TRANSPORT": "syslog"}
        if pid:
            f["SYSLOG_PID"] = f["_PID"] = pid
        return f, date_5424(m.group("ts"))
    candidates = []
    m = RE_3164.match(text)
    if m:
        candidates.append((text[m.end():], True, date_3164(m, year), False))
    m = RE_ISO.match(text)
    if m:
        # `yyyy-mm-dd hh:mm:ss` (a blank, not RFC 3339's T) is the date of many
        # services' own log files (exim, domino...): a syslog tag must then
        # carry a pid to be believed.
        candidates.append((text[m.end():], False, date_iso(m), text[10] != "T"))
    if journal:
        candidates.append(((prefix or "") + text, False, None, False))
    own_tags = OWN_FILE_TAGS.get(service, ())
    for rest, bracket_ok, ts, need_pid in candidates:
        parsed = parse_tag(rest, bracket_ok)
        if parsed and not (need_pid and parsed[2] is None):
            host, ident, pid, msg = parsed
            if host is None and pid is None and ident in own_tags:
                continue  # the service's own file, not a syslog tag
            f = {"_HOSTNAME": host or "f2b-sample", "SYSLOG_IDENTIFIER": ident,
                 "MESSAGE": msg, "_TRANSPORT": "syslog"}
            if pid:
                f["SYSLOG_PID"] = f["_PID"] = pid
            return f, ts
    return ({"_HOSTNAME": "f2b-sample",
             "SYSLOG_IDENTIFIER": DEFAULT_IDENTIFIER.get(service, service),
             "MESSAGE": text, "_TRANSPORT": "stdout"}, own_date(text, year))


# Leading dates of services' own log files.
RE_BIND = re.compile(  # BIND: 11-Aug-2013 08:51:16.063
    r"^(?P<day>\d{1,2})-(?P<mon>[A-Za-z]{3})-(?P<year>\d{4})\s+"
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?P<frac>\.\d+)?\s")
RE_SLASH = re.compile(  # nginx: 2013/06/09 07:57:47
    r"^(?P<y>\d{4})\/(?P<mo>\d{2})\/(?P<d>\d{2})\s+(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?P<frac>\.\d+)?(?P<tz>)\s")
RE_BRACKET_ISO = re.compile(  # asterisk: [2013-06-09 07:57:47]
    r"^\[(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?P<frac>[.,]\d+)?(?P<tz>)\]")
RE_APACHE = re.compile(  # apache: [Sun Jun 09 07:57:47.123456 2013]
    r"^\[[A-Za-z]{3} (?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2}) (?P<h>\d{2}):(?P<m>\d{2}):"
    r"(?P<s>\d{2})(?P<frac>\.\d+)? (?P<year>\d{4})\]")


def own_date(text, year):
    """The date at the start of a line in a service's own format (ISO 8601
    with T or a blank, MongoDB's +hhmm offsets included; BIND's
    dd-Mon-yyyy; nginx's yyyy/mm/dd; asterisk's [yyyy-mm-dd hh:mm:ss];
    apache's [Www Mmm dd hh:mm:ss yyyy];
    a syslog date), as epoch seconds, or None."""
    m = RE_ISO.match(text + " ") or RE_SLASH.match(text + " ") or RE_BRACKET_ISO.match(text)
    if m:
        return date_iso(m)
    for rx in (RE_BIND, RE_APACHE, RE_3164):
        m = rx.match(text + " ")
        if m:
            return date_3164(m, year)
    return None

# ---------------------------------------------------------------- sample files

RE_ANNOT = re.compile(r"^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$")


def safe_eval(expr, name, opts):
    """Evaluates fail2ban's `constraint`/`test.condition` expressions, which
    only compare `name` and `opts.get(...)` with constants."""
    tree = ast.parse(expr, mode="eval")
    allowed = (ast.Expression, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Not, ast.And, ast.Or,
               ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Constant, ast.Name, ast.Load,
               ast.Call, ast.Attribute, ast.Tuple, ast.List)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ValueError(f"unsupported expression {expr!r}")
        if isinstance(node, ast.Name) and node.id not in ("name", "opts"):
            raise ValueError(f"unsupported name in {expr!r}")
        if isinstance(node, ast.Attribute) and node.attr != "get":
            raise ValueError(f"unsupported attribute in {expr!r}")
    return eval(compile(tree, "<constraint>", "eval"), {"__builtins__": {}},
                {"name": name, "opts": opts})


def find_sample(fname, log_dirs):
    for d in log_dirs:
        p = Path(d) / fname
        if p.is_file():
            return p
    return None


def read_samples(service, log_dirs):
    """Reads the samples of a service like fail2ban's samplestestcase does.
    Returns a list of dicts (one per fed line)."""
    name = SAMPLE_SERVICE.get(service, service)
    default_mode = DEFAULT_MODE.get(name, "normal")
    files = []  # (path, label)
    for d in log_dirs:
        p = Path(d) / service
        if p.is_file():
            files.append(p)
    if not files:
        die(f"samples.py: no sample file for {service!r} in "
                         + ", ".join(str(d) for d in log_dirs))
    queue = list(files)
    seen = set()
    samples = []
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        rel = path.name if path.parent.name == "logs" else f"{path.parent.name}/{path.name}"
        lines = path.read_bytes().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        lines = [l.decode("utf-8", "surrogateescape").rstrip("\r") for l in lines]
        common_opts = {}  # fileOptions apply to their own file
        filter_tests = None  # list of opts dicts
        ignore_block = False
        i = 0
        while i < len(lines):
            line = lines[i]
            lnnum = i + 1
            i += 1
            faildata = None
            m = RE_ANNOT.match(line)
            if m:
                kind, data = m.group(1), json.loads(m.group(2))
                if kind == "fileOptions":
                    common_opts = data
                    continue
                if kind == "filterOptions":
                    filter_tests = []
                    ignore_block = False
                    for fd in (data if isinstance(data, list) else [data]):
                        opts = dict(common_opts)
                        opts.update(fd)
                        if opts.get("test.condition"):
                            ignore_block = not safe_eval(opts["test.condition"], name, opts)
                        if not ignore_block:
                            filter_tests.append(opts)
                    continue
                if kind == "addFILE":
                    p = find_sample(data, log_dirs)
                    if p is None:
                        die(f"samples.py: {rel}:{lnnum}: addFILE {data!r} not found")
                    queue.append(p)
                    continue
                faildata = data
                if i >= len(lines):
                    break
                line = lines[i]
                lnnum = i + 1
                i += 1
            elif ignore_block or line.startswith("#") or not line.strip():
                continue
            if ignore_block:
                continue
            tests = filter_tests if filter_tests else [dict(common_opts)]
            modes = []
            for opts in tests:
                if faildata and faildata.get("constraint") and \
                        not safe_eval(faildata["constraint"], name, opts):
                    continue
                mode = opts.get("mode") or default_mode
                if mode not in modes:
                    modes.append(mode)
            journal = any(o.get("logtype") == "journal" for o in tests)
            prefix = next((o["test.prefix-line"] for o in tests if o.get("test.prefix-line")), None)
            samples.append({
                "service": name,
                "file": rel,
                "line": lnnum,
                "text": line,
                "annotated": faildata is not None,
                "match": bool(faildata.get("match", False)) if faildata else False,
                # fail2ban names the address "host", or "ip4"/"ip6" (raw IP tags)
                "host": next((faildata[k] for k in ("host", "ip4", "ip6") if faildata.get(k)),
                             None) if faildata else None,
                "time": faildata.get("time") if faildata else None,
                "desc": faildata.get("desc") if faildata else None,
                "modes": modes,
                "_journal": journal,
                "_prefix": prefix,
            })
    return samples


def to_entries(samples, start_index=0, state=None):
    """Turns samples into journal entries (dicts).  `state` carries the clock
    across calls."""
    if state is None:
        state = {"ts": None}
    entries = []
    for k, s in enumerate(samples):
        fields, line_ts = convert_line(
            s["text"], s["service"], s["_journal"], s["_prefix"],
            datetime.datetime.utcfromtimestamp(state["ts"]).year if state["ts"] else 2005)
        ts = parse_json_time(s["time"]) if s["time"] else None
        if ts is None:
            ts = line_ts
        if ts is None:
            ts = (state["ts"] + 1) if state["ts"] is not None else local_to_epoch(
                datetime.datetime(2005, 1, 1))
        state["ts"] = ts
        us = int(round(ts * 1e6))
        idx = start_index + k
        entry = {"__CURSOR": f"s=f2b0samples;i={idx:x};b=0;m={idx:x};t={us:x};x=0",
                 "__REALTIME_TIMESTAMP": str(us)}
        for key, val in fields.items():
            entry[key] = json_value(val)
        entries.append(entry)
    return entries


def json_value(s):
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return list(s.encode("utf-8", "surrogateescape"))


def printable(text):
    """Text for reports: bytes that are not UTF-8 become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def index_record(idx, s):
    return {"entry": idx, "service": s["service"], "file": s["file"], "line": s["line"],
            "annotated": s["annotated"], "match": s["match"], "host": s["host"],
            "modes": s["modes"], "text": printable(s["text"])}

# ---------------------------------------------------------------- addresses

RE_ZERO_V4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def norm_ip(value):
    if not isinstance(value, str):
        return None
    v = value.strip()
    if v.startswith("[") and v.endswith("]"):
        v = v[1:-1]
    try:
        a = ipaddress.ip_address(v)
    except ValueError:
        if RE_ZERO_V4.match(v):
            octets = [int(o, 10) for o in v.split(".")]
            if all(o <= 255 for o in octets):
                return ipaddress.IPv4Address(".".join(map(str, octets)))
        return None
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        return a.ipv4_mapped
    return a

# ---------------------------------------------------------------- replay

def find_pyrusec(arg):
    for cand in (arg, os.environ.get("PYRUSEC")):
        if cand:
            return cand
    for rel in ("target/debug/pyrusec", "target/release/pyrusec"):
        p = REPO / rel
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    p = shutil.which("pyrusec")
    if p:
        return p
    die("samples.py: no pyrusec found (use --pyrusec or $PYRUSEC)")


def replay(pyrusec, rules, entries_path, cwd):
    proc = subprocess.run([pyrusec, "replay", str(rules), str(entries_path)],
                          cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in (0,):
        sys.stderr.write(proc.stderr)
        die(f"samples.py: `{pyrusec} replay {rules} {entries_path}` "
                         f"exited with {proc.returncode}")
    effects = []
    for l in proc.stdout.splitlines():
        l = l.strip()
        if l:
            effects.append(json.loads(l))
    return effects

# ---------------------------------------------------------------- the library

RE_PYR_SERVICE = re.compile(r'^\s*service\s+"((?:[^"\\]|\\.)*)"')
RE_PYR_PARAM = re.compile(r'^\s*param\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$')
RE_PYR_INCLUDE = re.compile(r'^\s*include\s+"((?:[^"\\]|\\.)*)"')
RE_PYR_WHEN = re.compile(
    r'^[ \t]*chain\s+"(?:[^"\\\n]|\\.)*"\s+when\s+\$(?:(?P<svc>[A-Za-z_][A-Za-z0-9_-]*)\.)?mode\s*'
    r'(?:==\s*(?P<one>"(?:[^"\\]|\\.)*")|in\s*\[(?P<many>[^\]]*)\])', re.M)
RE_PYR_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def pyr_unescape(body):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def pyr_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rules_files(path, seen=None):
    """The .pyr files a rules path loads (a file, or the *.pyr of a
    directory in name order), following `include`s."""
    path = Path(path)
    seen = set() if seen is None else seen
    if path.is_dir():
        files = sorted((p for p in path.glob("*.pyr") if p.is_file()), key=lambda p: p.name)
    elif path.is_file():
        files = [path]
    else:
        return []
    out = []
    for f in files:
        r = f.resolve()
        if r in seen:
            continue
        seen.add(r)
        out.append(f)
        try:
            text = f.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            m = RE_PYR_INCLUDE.match(line)
            if m:
                inc = pyr_unescape(m.group(1))
                out.extend(rules_files(Path(inc) if os.path.isabs(inc) else f.parent / inc, seen))
    return out


def library_info(rules_path):
    """What the rules declare, read from their text:
    {"services": {name: {"mode": default of `param mode` or None,
                         "modes": the default and every value a
                                  `when $mode ...` clause names,
                         "params": the service's own parameters}},
     "globals": names of the global parameters}."""
    info = {"services": {}, "globals": set()}
    new = lambda: {"mode": None, "modes": set(), "params": set()}
    for f in rules_files(rules_path):
        try:
            text = f.read_text(errors="replace")
        except OSError:
            continue
        scopes = []  # (offset, service)
        service = None
        offset = 0
        for line in text.splitlines(keepends=True):
            m = RE_PYR_SERVICE.match(line)
            if m:
                service = pyr_unescape(m.group(1))
                info["services"].setdefault(service, new())
                scopes.append((offset, service))
            m = RE_PYR_PARAM.match(line)
            if m:
                if service is None:
                    info["globals"].add(m.group(1))
                else:
                    svc = info["services"][service]
                    svc["params"].add(m.group(1))
                    v = RE_PYR_STRING.match(m.group(2).strip())
                    if m.group(1) == "mode" and v:
                        svc["mode"] = pyr_unescape(v.group(1))
                        svc["modes"].add(svc["mode"])
            offset += len(line)
        for m in RE_PYR_WHEN.finditer(text):
            owner = None
            for off, name in scopes:
                if off <= m.start():
                    owner = name
            owner = m.group("svc") or owner
            if owner is None:
                continue
            values = [m.group("one")[1:-1]] if m.group("one") else \
                RE_PYR_STRING.findall(m.group("many"))
            svc = info["services"].setdefault(owner, new())
            for v in values:
                svc["modes"].add(pyr_unescape(v))
    return info


def rules_path_of(args):
    """(text shown, absolute path) of the rules to load."""
    rules = args.rules or "rules/"
    p = Path(rules)
    if not p.is_absolute() and not p.exists() and (REPO / rules).exists():
        p = REPO / rules
    if not p.exists():
        die(f"samples.py: no rules at {rules}")
    return rules, p.resolve()

# ---------------------------------------------------------------- scoring

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]


def zero_padded(value):
    """"192.030.0.6": read by norm_ip, but not an address for Rust's parser."""
    if not isinstance(value, str) or not RE_ZERO_V4.match(value.strip()):
        return False
    try:
        ipaddress.ip_address(value.strip())
        return False
    except ValueError:
        return True


def mode_plan(name, modes, svc, args):
    """fail2ban mode -> the library mode to set (None: the rules as
    shipped; "?": a mode the service does not know)."""
    plan = {}
    for m in modes:
        if args.all_chains or svc is None or svc["mode"] is None:
            plan[m] = None
            continue
        ours = MODE_MAP.get(name, {}).get(m, m)
        if ours not in svc["modes"] and m == DEFAULT_MODE.get(name, "normal"):
            ours = svc["mode"]  # fail2ban's default mode is the library's default
        plan[m] = ours if ours in svc["modes"] else "?"
    return plan


def score_service(service, args, pyrusec):
    name = SAMPLE_SERVICE.get(service, service)
    samples = read_samples(service, args.logs)
    entries = to_entries(samples)
    rules_shown, rules_abs = rules_path_of(args)
    lib = library_info(rules_abs)
    svc = lib["services"].get(name)
    # failure() ignores loopback by default; the samples test detection (and
    # fail2ban's use 127.0.0.1 often), so the scoring empties the ignore
    # list: an override when the library declares `ignore`, else a global
    # parameter that every failure() without an ignore list of its own takes.
    unignore = svc is not None
    if "ignore" in lib["globals"] or (svc and "ignore" in svc["params"]):
        unignore_line = f"set {name}.ignore = []"
    else:
        unignore_line = "param ignore = []"

    all_modes = []
    for s in samples:
        for m in s["modes"]:
            if m not in all_modes:
                all_modes.append(m)
    plan = mode_plan(name, all_modes, svc, args)

    raises_by = {}  # library mode (None: as shipped) -> entry -> [keys]
    with tempfile.TemporaryDirectory(prefix="pyruse-f2b-") as tmp:
        ep = Path(tmp) / "entries.jsonl"
        with ep.open("w") as f:
            for e in entries:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
        for ours in dict.fromkeys(plan.values()):
            if ours == "?":
                continue
            sets = []
            if ours is not None:
                sets.append(f"set {name}.mode = {pyr_string(ours)}")
            if unignore:
                sets.append(unignore_line)
            if sets:
                inc = str(rules_abs) + ("/" if rules_abs.is_dir() else "")
                rp = Path(tmp) / "score.pyr"
                rp.write_text(f"# samples.py: {name}, mode {ours}\ninclude {pyr_string(inc)}\n"
                              + "\n".join(sets) + "\n")
            else:
                rp = rules_abs
            raises = {}
            for eff in replay(pyrusec, rp, ep, tmp):
                if eff.get("effect") == "counterRaise" and eff.get("counter") == name:
                    raises.setdefault(eff["entry"], []).append(eff.get("key"))
            raises_by[ours] = raises

    per_mode = {m: {"total": 0, "caught": 0, "false_positives": 0,
                    "rules_mode": plan[m] if plan[m] != "?" else None,
                    "unknown": plan[m] == "?"} for m in all_modes}
    result = {"service": name, "rules": rules_shown, "entries": len(entries), "total": 0,
              "caught": 0, "false_positives": 0, "misses": [], "false_positive_list": [],
              "out_of_scope": [], "context_raised": [], "modes": per_mode, "files": {},
              "param_mode": svc["mode"] if svc else None,
              "library_modes": sorted(svc["modes"]) if svc else [],
              "unknown_modes": [m for m in all_modes if plan[m] == "?"],
              "library_service": svc is not None}

    def where(idx, s):
        return {"entry": idx, "file": s["file"], "line": s["line"], "host": s["host"],
                "text": printable(s["text"]), "desc": s["desc"]}

    for idx, s in enumerate(samples):
        if not s["modes"]:
            continue
        host_ip = norm_ip(s["host"]) if s["match"] else None
        if s["match"] and host_ip is None:
            w = where(idx, s)
            w["reason"] = "host not an IP address"
            result["out_of_scope"].append(w)
            continue
        if s["match"] and s["file"] in OTHER_SOURCES:
            w = where(idx, s)
            w["reason"] = OTHER_SOURCES[s["file"]]
            result["out_of_scope"].append(w)
            continue
        missed_modes, fp_modes, got_keys = [], [], set()
        for m in s["modes"]:
            keys = [] if plan[m] == "?" else raises_by[plan[m]].get(idx, [])
            got_keys.update(k for k in keys if k is not None)
            if s["match"]:
                if not any(norm_ip(k) == host_ip for k in keys):
                    missed_modes.append(m)
            elif keys:
                if s["annotated"]:
                    per_mode[m]["false_positives"] += 1
                fp_modes.append(m)
        if s["match"]:
            reason = None
            if missed_modes and svc is not None and not unignore and \
                    any(host_ip in n for n in LOOPBACK if n.version == host_ip.version):
                reason = "loopback address: failure() ignores it by default"
            elif missed_modes and svc is not None and zero_padded(s["host"]):
                reason = ("zero-padded IPv4 address: no daemon writes it, and failure() "
                          "refuses it as not an address")
            if reason:
                w = where(idx, s)
                w["reason"] = reason
                result["out_of_scope"].append(w)
                continue
            for m in s["modes"]:
                per_mode[m]["total"] += 1
                per_mode[m]["caught"] += 0 if m in missed_modes else 1
            result["total"] += 1
            fs = result["files"].setdefault(s["file"], {"total": 0, "caught": 0})
            fs["total"] += 1
            fs["caught"] += 0 if missed_modes else 1
            if missed_modes:
                w = where(idx, s)
                w["modes"] = missed_modes
                w["raised"] = sorted(got_keys)
                unknown = [m for m in missed_modes if plan[m] == "?"]
                if unknown:
                    w["unknown_modes"] = unknown
                result["misses"].append(w)
            else:
                result["caught"] += 1
        elif fp_modes:
            w = where(idx, s)
            w["modes"] = fp_modes
            w["raised"] = sorted(got_keys)
            if s["annotated"]:
                result["false_positives"] += 1
                result["false_positive_list"].append(w)
            else:
                result["context_raised"].append(w)
    return result


def rate(caught, total):
    return caught / total if total else 1.0


def print_human(res, verbose, min_rate=None):
    nip = sum(1 for w in res["out_of_scope"] if w.get("reason") == "host not an IP address")
    nloop = sum(1 for w in res["out_of_scope"] if w.get("reason", "").startswith("loopback"))
    nzero = sum(1 for w in res["out_of_scope"] if w.get("reason", "").startswith("zero-padded"))
    nother = len(res["out_of_scope"]) - nip - nloop - nzero
    low = "  BELOW --min-rate" if min_rate is not None and \
        rate(res["caught"], res["total"]) < min_rate else ""
    print(f"{res['service']}: {res['caught']}/{res['total']} caught "
          f"({100.0 * rate(res['caught'], res['total']):.1f} %), "
          f"{res['false_positives']} false positive(s), "
          f"{nip} out of scope (host not an IP)"
          + (f", {nloop} loopback (ignored by failure())" if nloop else "")
          + (f", {nzero} zero-padded address(es)" if nzero else "")
          + (f", {nother} from a log source not read" if nother else "")
          + f"  [{res['rules']}]{low}")
    if not res.get("library_service", True):
        print(f"    (no `service \"{res['service']}\"` in the rules: counted as shipped)")
    elif res.get("param_mode"):
        print(f"    param mode = \"{res['param_mode']}\"; modes of the rules: "
              + ", ".join(res["library_modes"]))
    for m, st in res["modes"].items():
        if st.get("unknown"):
            print(f"    mode {m:<12} NOT A MODE OF THE RULES: its {st['total']} target(s) "
                  f"count as missed (map it in MODE_MAP)")
            continue
        via = f" (set {res['service']}.mode = \"{st['rules_mode']}\")" \
            if st.get("rules_mode") not in (None, m) else ""
        print(f"    mode {m:<12} {st['caught']}/{st['total']} caught "
              f"({100.0 * rate(st['caught'], st['total']):.1f} %), "
              f"{st['false_positives']} false positive(s){via}")
    if len(res["files"]) > 1:
        for f, st in res["files"].items():
            print(f"    file {f:<17} {st['caught']}/{st['total']} caught")
    if res["context_raised"]:
        print(f"    {len(res['context_raised'])} unannotated context line(s) raised the counter")
    if verbose:
        for title, key in (("miss", "misses"), ("FALSE POSITIVE", "false_positive_list"),
                           ("context raised", "context_raised"),
                           ("out of scope", "out_of_scope")):
            for w in res[key]:
                extra = ""
                if "modes" in w:
                    extra += f" modes={','.join(w['modes'])}"
                if w.get("unknown_modes"):
                    extra += f" (unknown modes: {','.join(w['unknown_modes'])})"
                if w.get("raised"):
                    extra += f" raised={','.join(map(str, w['raised']))}"
                if key == "out_of_scope" and w.get("reason"):
                    extra += f" ({w['reason']})"
                print(f"  {title}: {w['file']}:{w['line']} host={w['host']}{extra}")
                print(f"      {w['text']}")

# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="convert samples to journal entries (JSON lines)")
    c.add_argument("services", nargs="+")
    c.add_argument("-o", "--output", required=True)
    c.add_argument("--index", help="side file (default: OUTPUT with .index.jsonl)")
    c.add_argument("--logs", action="append", help="sample directory (repeatable)")
    s = sub.add_parser("score", help="replay the samples through the rules and score them")
    s.add_argument("services", nargs="+")
    s.add_argument("--pyrusec")
    s.add_argument("--rules")
    s.add_argument("--json", action="store_true")
    s.add_argument("--all-chains", action="store_true",
                   help="score every mode with the rules as shipped (no mode override)")
    s.add_argument("--min-rate", type=float,
                   help="exit 1 when a service catches less than this share of its targets "
                        "(0.95, or 95 for a percentage)")
    s.add_argument("-v", "--verbose", action="store_true")
    s.add_argument("--logs", action="append", help="sample directory (repeatable)")
    args = ap.parse_args(argv)
    args.logs = [Path(d) for d in args.logs] if args.logs else DEFAULT_LOG_DIRS

    if args.cmd == "convert":
        out = Path(args.output)
        index = Path(args.index) if args.index else out.with_name(
            (out.name[:-6] if out.name.endswith(".jsonl") else out.name) + ".index.jsonl")
        state = {"ts": None}
        n = 0
        with out.open("w") as fo, index.open("w") as fi:
            for svc in args.services:
                samples = read_samples(svc, args.logs)
                for k, e in enumerate(to_entries(samples, n, state)):
                    fo.write(json.dumps(e, ensure_ascii=False) + "\n")
                    fi.write(json.dumps(index_record(n + k, samples[k]), ensure_ascii=False) + "\n")
                n += len(samples)
        print(f"{n} entries written to {out} (index: {index})", file=sys.stderr)
        return 0

    if args.min_rate is not None:
        if args.min_rate > 1:
            args.min_rate /= 100.0
        if not 0 <= args.min_rate <= 1:
            die("samples.py: --min-rate is a share (0.95) or a percentage (95)")
    pyrusec = find_pyrusec(args.pyrusec)
    results = [score_service(svc, args, pyrusec) for svc in args.services]
    if args.json:
        json.dump({"services": {svc: r for svc, r in zip(args.services, results)}},
                  sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        for r in results:
            print_human(r, args.verbose, args.min_rate)
    low = args.min_rate is not None and any(
        rate(r["caught"], r["total"]) < args.min_rate for r in results)
    return 1 if low or any(r["false_positives"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
