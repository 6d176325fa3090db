#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ (git-ignored) with seeds taken from the
# repository's own files: rule files, legacy configurations, journal entries,
# the templates and regexes they hold. Safe to run again: files are named by
# their content (SHA-1, as libFuzzer names what it finds), so nothing is
# duplicated and what the fuzzer found is kept.
#
# Usage: fuzz/seed.sh [TARGET...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "seed.sh: python3 is needed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# fail2ban's sample logs, as journal entries, for every service of rules/.
python3 tests/fail2ban/samples.py convert -o "$tmp/entries.jsonl" --index "$tmp/index.jsonl" \
  $(ls rules/services | sed -n 's/\.pyr$//p') >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }

python3 - "$tmp" "$@" <<'EOF'
import glob, gzip, hashlib, json, os, re, sys

tmp, wanted = sys.argv[1], set(sys.argv[2:])
counts = {}

def put(target, text):
    if wanted and target not in wanted:
        return
    data = text.encode() if isinstance(text, str) else text
    if not data:
        return
    folder = os.path.join("fuzz", "corpus", target)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()

# Rule files: .pyr for the parser, JSON for the legacy loader, both compiled.
pyr = sorted(glob.glob("rules/**/*.pyr", recursive=True)) + ["rules/local.pyr.example"]
pyr += sorted(glob.glob("tests/ui/*.pyr"))
jsons = sorted(glob.glob("tests/data/compat/configs/*.json"))
jsons += sorted(glob.glob("tests/data/compat/bad/*.json")) + sorted(glob.glob("tests/ui/*.json"))
def pyr_pieces(text, limit=4096):
    """A .pyr file as it is when small, else its top-level items (a line
    that starts in column 0 opens one; comments stay with what follows)
    gathered in pieces of at most `limit` bytes: small inputs keep the
    executions fast."""
    if len(text) <= limit:
        yield text
        return
    items, cur = [], []
    for line in text.splitlines(keepends=True):
        opens = line[:1] not in ("", " ", "\t", "\n", "}", "]", ")")
        if opens and cur and not all(l.startswith("#") or not l.strip() for l in cur):
            items.append("".join(cur))
            cur = []
        cur.append(line)
    items.append("".join(cur))
    piece = ""
    for item in items:
        if piece and len(piece) + len(item) > limit:
            yield piece
            piece = ""
        piece += item
    if piece:
        yield piece

for p in pyr:
    for piece in pyr_pieces(read(p)):
        put("parse_pyr", piece)
        put("check_compile", piece)
for p in jsons:
    put("load_json", read(p))
    put("check_compile", read(p))

# Journal entries, in chunks of at most 1 KiB (one to three entries): small
# inputs keep the executions fast; a chunk keeps related entries together.
def lines_of(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip()]

def chunks(lines, limit=1024):
    out, size = [], 0
    for l in lines:
        if out and size + len(l) + 1 > limit:
            yield "\n".join(out) + "\n"
            out, size = [], 0
        out.append(l)
        size += len(l) + 1
    if out:
        yield "\n".join(out) + "\n"

groups = {}
entries, index = os.path.join(tmp, "entries.jsonl"), os.path.join(tmp, "index.jsonl")
for line, meta in zip(lines_of(entries), lines_of(index)):
    groups.setdefault(json.loads(meta)["service"], []).append(line)
sources = list(groups.values())
for p in ["rules/samples/demo.jsonl"] + sorted(glob.glob("tests/data/compat/entries/*.jsonl")):
    sources.append(lines_of(p))
sources.append(lines_of("tests/data/compat/entries/corpus-20k.jsonl.gz")[:400])
for lines in sources:
    for c in chunks(lines):
        put("run_entries", c)
        put("json_lines", c)
for l in lines_of("tests/data/compat/entries/edge-cases.jsonl"):
    put("json_lines", l + "\n")

# Templates: every quoted string of the rules that holds a field, every
# JSON string of the legacy configurations that does, and a few specs.
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)

quoted = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
for p in pyr:
    for s in quoted.findall(read(p)):
        s = re.sub(r'\\(.)', r'\1', s)
        if "{" in s:
            put("template", s)
for p in glob.glob("tests/data/compat/configs/*.json"):
    for s in strings(json.loads(read(p))):
        if "{" in s and not s.startswith("^"):
            put("template", s)
for s in [
    "{a}", "{i:>10d}", "{i:+,}", "{i:#x}", "{f:.3e}", "{h:g}", "{g:%}", "{c!r:^20}",
    "{c!a}", "{x!r}", "{l}", "{u}", "{m!r}", "{d}", "{b:d}", "{r:%Y-%m-%d %H:%M:%S%z %Z}",
    "{t:%-d %^a %#Z %_10s %Ey %Od %f %%}", "{y!r}", "{v}", "{a:{w}.{i}}", "{z:>{w}}",
    "{{literal}} {missing:*^9}", "{k:_b}", "{j:08n}", "{s:=5}", "{q:.0f}",
]:
    put("template", s)

# Regexes: the legacy configurations' (Python syntax), each also with a
# subject after a NUL byte; the .pyr ones (native or Python syntax).
def regexes(v, key=None):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from regexes(x, k)
    elif isinstance(v, list):
        for x in v:
            yield from regexes(x, key)
    elif isinstance(v, str) and key in ("re", "regex", "pattern"):
        yield v

subjects = [json.loads(l).get("MESSAGE") for l in lines_of("tests/data/compat/entries/python-re.jsonl")]
subjects = [s for s in subjects if isinstance(s, str)] or [""]
n = 0
for p in sorted(glob.glob("tests/data/compat/configs/*.json")):
    for r in regexes(json.loads(read(p))):
        put("python_regex", r)
        put("python_regex", r + "\0" + subjects[n % len(subjects)])
        n += 1
slashed = re.compile(r'(?:=~|\[|,|^)\s*/((?:[^/\\\n]|\\.)+)/', re.M)
for p in pyr:
    for r in slashed.findall(read(p)):
        put("python_regex", r.replace("\\/", "/"))

for t in sorted(counts):
    print(f"fuzz/corpus/{t}: {counts[t]} new seeds")
EOF
