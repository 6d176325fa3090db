"""Read the case tables of Rust test files: a small reader of the Rust
expressions the tables use (string, byte-string and char literals, numbers,
paths, calls, tuples, arrays, `vec![…]`, `&`, unary `-`, `.to_vec()` and
the like), enough for expectations.py. It does not know Rust beyond that:
a table written in another shape is reported, not guessed.
"""

import re

TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<raw>(?P<rawb>b?)r(?P<hashes>\#*)"(?P<rawbody>.*?)"(?P=hashes))
  | (?P<str>(?P<strb>b?)"(?P<body>(?:[^"\\]|\\.)*)")
  | (?P<char>b?'(?P<cbody>[^'\\]|\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.))')
  | (?P<lifetime>'[A-Za-z_]\w*)
  | (?P<num>(?:0x[0-9a-fA-F_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)
             (?:[iu](?:8|16|32|64|128|size)|f32|f64)?)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<punct>::|=>|->|\.\.=?|[-+*/%&|^!<>=(){}\[\];:,.\#?@$~])
    """,
    re.X | re.S,
)

ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|\n\s*|.)", re.S)
SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "0": "\0", "'": "'", '"': '"'}


def unescape(body, as_bytes):
    def one(m):
        e = m.group(1)
        if e[0] == "x":
            return chr(int(e[1:], 16))
        if e[0] == "u":
            return chr(int(e[2:-1], 16))
        if e[0] == "\n":
            return ""
        return SIMPLE[e]

    text = ESCAPE.sub(one, body)
    return text.encode("latin-1") if as_bytes else text


class Tok:
    def __init__(self, kind, value, line):
        self.kind, self.value, self.line = kind, value, line

    def __repr__(self):
        return f"{self.kind}:{self.value!r}@{self.line}"


def tokenize(text):
    toks = []
    pos = 0
    line = 1
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise SyntaxError(f"line {line}: cannot read {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        if kind in ("rawb", "hashes", "rawbody", "strb", "body", "cbody"):
            kind = next(k for k in ("raw", "str", "char") if m.group(k))
        if kind == "raw":
            body = m.group("rawbody")
            toks.append(Tok("str", body.encode("latin-1") if m.group("rawb") else body, line))
        elif kind == "str":
            toks.append(Tok("str", unescape(m.group("body"), bool(m.group("strb"))), line))
        elif kind == "char":
            toks.append(Tok("char", unescape(m.group("cbody"), False), line))
        elif kind == "num":
            t = m.group().replace("_", "")
            t = re.sub(r"(?:[iu](?:8|16|32|64|128|size)|f32|f64)$", "", t)
            if t.startswith("0x"):
                v = int(t, 16)
            elif re.search(r"[.eE]", t):
                v = float(t)
            else:
                v = int(t)
            toks.append(Tok("num", v, line))
        elif kind in ("ident", "punct", "lifetime"):
            toks.append(Tok(kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    return toks


# Values of the expression tree.
class Call:
    def __init__(self, path, args, line):
        self.path, self.args, self.line = path, args, line

    def __repr__(self):
        return f"{self.path}({', '.join(map(repr, self.args))})"


class Path:
    def __init__(self, path, line):
        self.path, self.line = path, line

    def __repr__(self):
        return self.path


class Tuple(tuple):
    """A tuple of the source, with the line it starts on."""

    line = None


class Parser:
    def __init__(self, toks, i=0):
        self.toks, self.i = toks, i

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else Tok("eof", None, -1)

    def at(self, value, k=0):
        t = self.peek(k)
        return t.kind == "punct" and t.value == value

    def take(self, value=None):
        t = self.peek()
        if value is not None and not (t.kind == "punct" and t.value == value):
            raise SyntaxError(f"line {t.line}: expected {value!r}, found {t.value!r}")
        self.i += 1
        return t

    def items(self, close):
        out = []
        while not self.at(close):
            out.append(self.expr())
            if self.at(","):
                self.take()
            elif not self.at(close):
                t = self.peek()
                raise SyntaxError(f"line {t.line}: expected ',' or {close!r}, found {t.value!r}")
        self.take(close)
        return out

    def expr(self):
        t = self.peek()
        if self.at("&"):
            self.take()
            return self.expr()
        if self.at("-"):
            self.take()
            v = self.expr()
            if isinstance(v, (int, float)):
                return -v
            raise SyntaxError(f"line {t.line}: '-' before {v!r}")
        v = self.primary()
        while self.at(".") and self.peek(1).kind == "ident":
            self.take()
            name = self.take().value
            if self.at("("):
                self.take()
                args = self.items(")")
                if name in ("to_vec", "to_owned", "to_string", "into") and not args:
                    continue
            raise SyntaxError(f"line {t.line}: method .{name}")
        return v

    def primary(self):
        t = self.take()
        if t.kind in ("str", "num", "char"):
            return t.value
        if t.kind == "punct" and t.value == "[":
            return list(self.items("]"))
        if t.kind == "punct" and t.value == "(":
            items = self.items(")")
            if len(items) == 1:
                return items[0]
            out = Tuple(items)
            out.line = t.line
            return out
        if t.kind == "ident":
            path = t.value
            while self.at("::") and self.peek(1).kind == "ident":
                self.take()
                path += "::" + self.take().value
            if self.at("!") and (self.at("[", 1) or self.at("(", 1)):
                self.take()
                close = {"[": "]", "(": ")"}[self.take().value]
                args = self.items(close)
                if path == "vec":
                    return list(args)
                return Call(path + "!", args, t.line)
            if self.at("("):
                self.take()
                return Call(path, self.items(")"), t.line)
            if path == "true":
                return True
            if path == "false":
                return False
            return Path(path, t.line)
        raise SyntaxError(f"line {t.line}: unexpected {t.value!r}")


def is_p(tok, value):
    """The token is the punctuation or keyword `value` (not a literal)."""
    return tok.kind in ("punct", "ident") and tok.value == value


def find(toks, seq, start=0):
    """Index of the first token sequence equal to `seq` (values)."""
    n = len(seq)
    for i in range(start, len(toks) - n + 1):
        if all(is_p(toks[i + k], seq[k]) for k in range(n)):
            return i
    return -1


def elements(toks, i):
    """The elements of the array whose `[` is at token `i` (or `&[`), each
    with its line."""
    while is_p(toks[i], "&"):
        i += 1
    if not is_p(toks[i], "["):
        raise SyntaxError(f"line {toks[i].line}: expected an array")
    p = Parser(toks, i + 1)
    out = []
    while not p.at("]"):
        line = p.peek().line
        out.append((line, p.expr()))
        if p.at(","):
            p.take()
    return out


def const_array(toks, name):
    """The elements of `const NAME: … = &[ … ];`, each with its line."""
    i = find(toks, ["const", name])
    if i < 0:
        raise SyntaxError(f"no const {name}")
    while not is_p(toks[i], "="):
        i += 1
    return elements(toks, i + 1)


def calls(toks, name, start=0, end=None):
    """Each call `name(…)` between two token indexes, as (line, args),
    skipping the definition `fn name(`."""
    end = len(toks) if end is None else end
    out = []
    i = start
    while i < end:
        t = toks[i]
        if (
            t.kind == "ident"
            and t.value == name
            and is_p(toks[i + 1], "(")
            and not any(is_p(toks[i - 1], v) for v in ("fn", ".", "::"))
        ):
            p = Parser(toks, i + 2)
            out.append((t.line, p.items(")")))
            i = p.i
        else:
            i += 1
    return out


def fn_body(toks, name):
    """Token range of the body of `fn name`."""
    i = find(toks, ["fn", name])
    if i < 0:
        raise SyntaxError(f"no fn {name}")
    while not is_p(toks[i], "{"):
        i += 1
    depth = 0
    for j in range(i, len(toks)):
        if is_p(toks[j], "{"):
            depth += 1
        elif is_p(toks[j], "}"):
            depth -= 1
            if depth == 0:
                return i, j
    raise SyntaxError(f"fn {name} does not end")


def lets(toks, start, end):
    """`let NAME = EXPR;` bindings in a token range, by position."""
    out = []
    i = start
    while i < end:
        if is_p(toks[i], "let") and toks[i + 1].kind == "ident" and is_p(toks[i + 2], "="):
            p = Parser(toks, i + 3)
            try:
                value = p.expr()
            except SyntaxError:
                value = None
            out.append((i, toks[i + 1].value, value))
        i += 1
    return out


def for_in_array(toks, fn):
    """The elements of the array of the first `for … in [ … ]` in the body
    of `fn`, each with its line."""
    start, end = fn_body(toks, fn)
    i = find(toks, ["in", "["], start)
    if i < 0 or i > end:
        raise SyntaxError(f"no `for … in [` in fn {fn}")
    return elements(toks, i + 1)
