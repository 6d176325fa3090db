#!/usr/bin/env python3
"""Re-print, with the Python that runs this script, the expected values of
the tests that say "printed by Python", and compare them with the Rust tests.

The engine reproduces CPython 3.11 (3.11.7 printed the values). The cases are
read from the Rust test files themselves (see rust_tables.py), so that a case
added there is covered here too:

* src/python/format/tests.rs: `check`, `ok`, `render_err`, `plain` and the
  table of `load_errors` — `str.format_map` over a dict whose `__missing__`
  returns None, datetimes built as
  `datetime.fromtimestamp(t, timezone.utc).astimezone()` under the case's
  `TZ`, `str()` and `repr()` of each value;
* src/python/re/tests.rs: SEARCH_CASES (`re.search` and its groups),
  ERROR_CASES (`re.error`'s message; positions are the engine's own byte
  ranges and are only shown), and the patterns of
  `unsupported_features_are_errors` (which Python accepts);
* src/syntax/json/tests.rs: PYTHON_VERDICTS (`json.loads` accepts or not);
* the few Python facts of src/vm/value.rs, src/vm/fields.rs and of the
  `$` spans in src/python/re/tests.rs, held below as Python expressions.

Each case prints as one line, `[same]` when Python gives what the Rust test
expects, `[DIFF]` (followed by the Rust expectation) when not, and
`[engine]` when the Rust test states the engine's own behaviour where Python
does something else (see DELIBERATE). Results are written as Rust literals,
ready to paste into a table.

Usage, from the repository root:

    python3 src/python/gen/expectations.py            # every case
    python3 src/python/gen/expectations.py --diff     # only [DIFF] lines
    python3 src/python/gen/expectations.py --section re

The exit status is 1 when a case differs.
"""

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
import uuid
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rust_tables as rt  # after the path is set

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
FORMAT_TESTS = "src/python/format/tests.rs"
RE_TESTS = "src/python/re/tests.rs"
JSON_TESTS = "src/syntax/json/tests.rs"

# Cases whose Rust expectation is the engine's own, with the reason. Keys are
# (file, template or pattern).
DELIBERATE = {
    (FORMAT_TESTS, "{x:{w}}"): "widths above 65535 are refused (Python would allocate them)",
    (FORMAT_TESTS, "{t:%Y}"): "a time outside Python's datetime range is a render error",
    (FORMAT_TESTS, "{t}"): "a time outside Python's datetime range renders as its microseconds",
    (RE_TESTS, "(a)(?(٣)b)"): "Python rejects this one for another reason (there is no group 3); "
    "the engine refuses a group number not in ASCII digits in any case",
}

# Python facts behind the asserts of src/vm/value.rs, src/vm/fields.rs and
# src/python/re/tests.rs that are not tables: (test, Python expression, what
# the Rust test expects, written as Python prints it).
FACTS = [
    ("value.rs int_and_str_are_unequal_but_unorderable", "4 == '4'", "False"),
    ("value.rs int_and_str_are_unequal_but_unorderable", "4 < '4'", "TypeError"),
    ("value.rs numeric_tower_compares_across_types", "1 == True", "True"),
    ("value.rs numeric_tower_compares_across_types", "2 == 2.0", "True"),
    ("value.rs numeric_tower_compares_across_types", "3 > 2.5", "True"),
    ("value.rs strings_order_by_code_point", "'B' < 'a'", "True"),
    ("fields.rs python_int_accepts_spaces_signs_and_underscores", "int(b' 6 ')", "6"),
    ("fields.rs python_int_accepts_spaces_signs_and_underscores", "int(b'-12')", "-12"),
    ("fields.rs python_int_accepts_spaces_signs_and_underscores", "int(b'1_000')", "1000"),
    ("fields.rs python_int_accepts_spaces_signs_and_underscores", "int(b'1__0')", "ValueError"),
    ("fields.rs python_int_accepts_spaces_signs_and_underscores", "int(b'6a')", "ValueError"),
    ("fields.rs python_int_accepts_spaces_signs_and_underscores", "int(b'')", "ValueError"),
    # The engine keeps the bytes of an int that does not fit an i64.
    (
        "fields.rs python_int_accepts_spaces_signs_and_underscores",
        "int(b'99999999999999999999') > 2**63 - 1",
        "True",
    ),
    ("fields.rs latin1_is_really_latin1", "bytes([0x80, 0xE9]).decode('latin-1')", "'\\x80é'"),
    ("fields.rs latin1_is_really_latin1", "bytes([0x80, 0xE9]).decode('cp1252')", "'€é'"),
    ("fields.rs latin1_is_really_latin1", "bytes([0xA4]).decode('iso8859-15')", "'€'"),
    ("fields.rs latin1_is_really_latin1", "bytes([0xA4]).decode('latin-1')", "'¤'"),
    (
        "fields.rs uuid_forms",
        "uuid.UUID('{9ec1eb60-c72a-2052-86d6-14fc429eb4b9}')"
        " == uuid.UUID('9ec1eb60c72a205286d614fc429eb4b9')",
        "True",
    ),
    ("fields.rs uuid_forms", "uuid.UUID('9ec1eb60')", "ValueError"),
    (
        "re/tests.rs tail_dollar_stays_on_the_regex_engine_and_ends_before_the_newline",
        "[re.search(r'Message is (?P<state>frozen|thawed)$', s).span(g)"
        " for s in ('1rABC Message is frozen\\n', '1rABC Message is frozen') for g in (0, 1)]",
        "[(6, 23), (17, 23), (6, 23), (17, 23)]",
    ),
]


# ---------------------------------------------------------------------------
# Rust literals


def lit(v):
    """A Python value as the Rust tests write it."""
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        out = []
        for c in v:
            if c in '\\"':
                out.append("\\" + c)
            elif c == "\n":
                out.append("\\n")
            elif c == "\t":
                out.append("\\t")
            elif c == "\r":
                out.append("\\r")
            elif ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or not c.isprintable():
                out.append(f"\\u{{{ord(c):x}}}")
            else:
                out.append(c)
        return '"' + "".join(out) + '"'
    if isinstance(v, tuple) and len(v) == 2 and v[0] in ("Ok", "Err", "Some"):
        return f"{v[0]}({lit(v[1])})"
    if isinstance(v, list):
        return "&[" + ", ".join(lit(x) for x in v) + "]"
    return repr(v)


def rust_value(v):
    """Rust tree → Python value: Ok/Err/Some become tagged tuples, Option's
    None becomes None."""
    if isinstance(v, rt.Call) and v.path in ("Ok", "Err", "Some") and len(v.args) == 1:
        return (v.path, rust_value(v.args[0]))
    if isinstance(v, rt.Path) and v.path == "None":
        return None
    if isinstance(v, list):
        return [rust_value(x) for x in v]
    if isinstance(v, tuple):
        return tuple(rust_value(x) for x in v)
    return v


# ---------------------------------------------------------------------------
# Journal values (`Value` of src/vm/value.rs) as Python Pyruse saw them


class Unrepresentable(Exception):
    """An input Python cannot hold (e.g. a time beyond year 9999)."""


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def set_zone(name):
    os.environ["TZ"] = name
    time.tzset()


def py_value(v, env):
    """A Rust `Value` expression → the Python object Pyruse had."""
    if isinstance(v, rt.Path):
        if v.path in env:
            return env[v.path]
        consts = {
            "Value::None": None,
            "f64::INFINITY": float("inf"),
            "f64::NEG_INFINITY": float("-inf"),
            "f64::NAN": float("nan"),
            "i64::MIN": -(2**63),
            "i64::MAX": 2**63 - 1,
        }
        if v.path in consts:
            return consts[v.path]
        raise SyntaxError(f"line {v.line}: unknown name {v.path}")
    if isinstance(v, list):
        return [py_value(x, env) for x in v]
    if not isinstance(v, rt.Call):
        return v
    args = [py_value(a, env) for a in v.args]
    name = v.path.removeprefix("Value::")
    if name in ("s", "Str"):
        return str(args[0])
    if name == "Int":
        return int(args[0])
    if name == "Float":
        return float(args[0])
    if name == "Bool":
        return bool(args[0])
    if name == "Bytes":
        return bytes(args[0])
    if name == "List":
        return list(args[0])
    if name == "Uuid":
        return uuid.UUID(bytes=bytes(args[0]))
    if name == "Delta":
        return delta(args[0])
    if name == "Monotonic":
        return (delta(args[0]), uuid.UUID(bytes=bytes(args[1])))
    if name == "Time":
        try:
            return (EPOCH + dt.timedelta(microseconds=args[0])).astimezone()
        except OverflowError as e:
            raise Unrepresentable(f"datetime of {args[0]} µs: {e}") from None
    raise SyntaxError(f"line {v.line}: unknown value {v.path}")


def delta(us):
    try:
        return dt.timedelta(microseconds=us)
    except OverflowError as e:
        raise Unrepresentable(f"timedelta of {us} µs: {e}") from None


class PyruseDict(dict):
    """The entry as Pyruse handed it to `str.format_map`."""

    def __missing__(self, key):
        return None


def format_map(template, values):
    try:
        return ("Ok", template.format_map(PyruseDict(values)))
    except Exception as e:  # Python's message is the result
        return ("Err", str(e))


# ---------------------------------------------------------------------------
# Output


class Report:
    def __init__(self, only_diff):
        self.only_diff = only_diff
        self.counts = {}

    def line(self, section, status, where, case, python, rust=None):
        self.counts.setdefault(section, {}).setdefault(status, 0)
        self.counts[section][status] += 1
        if self.only_diff and status != "DIFF":
            return
        print(f"[{status}] {where} {case} -> {python}")
        if status == "DIFF":
            print(f"       rust test: {rust}")

    def compare(self, section, where, case, python, rust, deliberate=None):
        if python == rust:
            self.line(section, "same", where, case, lit(python))
        elif deliberate:
            shown = lit(python)
            if len(shown) > 80:
                shown = f"{shown[:60]}… ({len(shown)} characters)"
            self.line(section, "engine", where, case, f"{shown}; {deliberate}")
        else:
            self.line(section, "DIFF", where, case, lit(python), lit(rust))

    def summary(self):
        print()
        for section, c in self.counts.items():
            parts = ", ".join(f"{n} {s}" for s, n in sorted(c.items()))
            print(f"{section}: {parts}")
        return any(c.get("DIFF") for c in self.counts.values())


# ---------------------------------------------------------------------------
# Sections


def tokens(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return rt.tokenize(f.read())


def format_section(report):
    path = FORMAT_TESTS
    toks = tokens(path)
    env = {"BOOT": bytes(v for _, v in rt.const_array(toks, "BOOT"))}
    bindings = rt.lets(toks, 0, len(toks))

    def named(v, at):
        """Resolve a `let` variable used as an argument."""
        if isinstance(v, rt.Path):
            found = [b for b in bindings if b[1] == v.path and b[0] < at]
            if found:
                return found[-1][2]
        return v

    def at_line(line):
        return next(i for i, t in enumerate(toks) if t.line >= line)

    def where(line):
        return f"{path}:{line}"

    def values(pairs, line):
        return {name: py_value(v, env) for name, v in named(pairs, at_line(line))}

    def one(line, template, pairs, zone, rust, label=""):
        set_zone(zone)
        case = f"{zone}{label} {lit(template)}"
        try:
            python = format_map(template, values(pairs, line))
        except Unrepresentable as e:
            reason = DELIBERATE.get((path, template), str(e))
            report.line("format", "engine", where(line), case, f"(no Python value: {reason})")
            return
        report.compare("format", where(line), case, python, rust, DELIBERATE.get((path, template)))

    for line, (value, zone, cases) in rt.calls(toks, "check"):
        for case in cases:
            template, expected = case
            where_ = getattr(case, "line", None) or line
            one(where_, template, [("x", value)], zone, rust_value(expected), f" x={value!r}")
    for line, (template, pairs, zone, expected) in rt.calls(toks, "ok"):
        one(line, template, pairs, zone, ("Ok", expected))
    for line, (template, pairs, zone, message) in rt.calls(toks, "render_err"):
        one(line, template, pairs, zone, ("Err", message))
    for line, (value, zone, expected_str, expected_repr) in rt.calls(toks, "plain"):
        set_zone(zone)
        case = f"{zone} str/repr of {value!r}"
        try:
            v = py_value(value, env)
        except Unrepresentable as e:
            report.line("format", "engine", where(line), case, f"(no Python value: {e})")
            continue
        python = (str(v), repr(v))
        report.compare("format", where(line), case, python, (expected_str, expected_repr))
    # Load errors: the field x holds a str, i an int.
    set_zone("UTC")
    for line, (template, message) in rt.for_in_array(toks, "load_errors"):
        python = format_map(template, {"x": "abc", "i": 1234})
        report.compare("format", where(line), f"load {lit(template)}", python, ("Err", message))


def re_section(report):
    path = RE_TESTS
    toks = tokens(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FutureWarning on "[[", DeprecationWarning on (?t)
        re_cases(report, path, toks)


def re_cases(report, path, toks):
    for line, (_what, pattern, subject, expected) in rt.const_array(toks, "SEARCH_CASES"):
        m = re.search(pattern, subject)
        python = None
        if m is not None:
            groups = (m.group(0),) + m.groups()
            python = ("Some", [None if g is None else ("Some", g) for g in groups])
        case = f"{lit(pattern)} on {lit(subject)}"
        report.compare("re", f"{path}:{line}", case, python, rust_value(expected))
    # The Rust test checks that the engine's message starts with the one of
    # the table; Python's must too.
    for line, (pattern, start, end, message) in rt.const_array(toks, "ERROR_CASES"):
        try:
            re.compile(pattern)
            python, case = "(accepted)", f"error of {lit(pattern)}"
        except Exception as e:  # re.error, or ValueError and OverflowError
            msg = getattr(e, "msg", str(e))
            python = message if msg.startswith(message) else msg
            kind = type(e).__name__ if type(e).__module__ == "builtins" else "re.error"
            case = f"error of {lit(pattern)} ({kind}"
            if getattr(e, "pos", None) is not None:
                case += f" at byte {len(pattern[: e.pos].encode())}"
            case += f"; the test's range {start}..{end})"
        report.compare("re", f"{path}:{line}", case, python, message)
    refused = rt.for_in_array(toks, "unsupported_features_are_errors")
    for line, (pattern, _start, _end, _message) in refused:
        try:
            re.compile(pattern)
            python = "accepted"
        except re.error as e:
            python = f"rejected: {e.msg}"
        report.compare(
            "re", f"{path}:{line}", f"Python on {lit(pattern)}", python, "accepted",
            DELIBERATE.get((path, pattern)),
        )


def json_section(report):
    path = JSON_TESTS
    toks = tokens(path)
    for line, (text, accepted) in rt.const_array(toks, "PYTHON_VERDICTS"):
        try:
            json.loads(text)
            python = True
        except ValueError:
            python = False
        report.compare("json", f"{path}:{line}", f"json.loads({lit(text)})", python, accepted)


def facts_section(report):
    for test, expr, expected in FACTS:
        try:
            python = repr(eval(expr, {"re": re, "uuid": uuid}))  # the expressions of FACTS
        except Exception as e:
            python = type(e).__name__
        report.compare("facts", test, expr, python, expected)


SECTIONS = {
    "format": format_section,
    "re": re_section,
    "json": json_section,
    "facts": facts_section,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--diff", action="store_true", help="print only the cases that differ")
    parser.add_argument("--section", choices=sorted(SECTIONS), action="append")
    args = parser.parse_args()
    if sys.version_info[:2] != (3, 11):
        print(
            f"expectations.py: warning: Python {sys.version.split()[0]}; the tests hold what "
            "Python 3.11 printed",
            file=sys.stderr,
        )
    report = Report(args.diff)
    for name in args.section or SECTIONS:
        SECTIONS[name](report)
    sys.exit(1 if report.summary() else 0)


if __name__ == "__main__":
    main()
