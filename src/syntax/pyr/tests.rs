use super::errors::expected_name;
use super::*;
use std::path::PathBuf;

const SAMPLE: &str = r#"# comment to end of line
compat pyruse            # legacy semantics for this file
set email.to = ["hostmaster@example.org"]
set 8bit-message-encoding = "iso-8859-1"
set debug = true

chain "SSH failed logins" {
    SYSLOG_IDENTIFIER == "sshd"
    MESSAGE =~ /^Failed password for (.*) from ([^ ]+) port ([^ ]+) ssh2$/ save [sshUser, clientIP, clientPort]
        else goto "… SSH not allowed"
    dnatReplace(addr: clientIP, port: clientPort, saddrInto: clientIP,)
    PRIORITY <= 4 else { noop() }      # inline block
    clientIP in [10.0.0.0/8, 192.168.1.96/29, 127.0.0.1, ::1, 2001:db8:1000::/48, fe80::/10] then goto "x"
    MESSAGE =~ any [/a\/b/, /c/]
    `odd name` >= 90s then { in(field: x, values: []) else { noop() } } else { `odd call`(`odd arg`: 1w) }
    email(message: "SSH attack from {clientIP} on {sshUser}@{_HOSTNAME}.", subject: "\u{1F600} \"q\"\t\\")
    counterRaise(counter: "c", for: `in`, keepSeconds: 10m, save: n, x: [null, true, false, -12, 2.5, 5d, 2h])
}

chain "… SSH not allowed" {
    noop()
}
"#;

fn parse(text: &str) -> (RuleSet, Vec<Diagnostic>) {
    let mut rules = RuleSet::default();
    let mut diags = Vec::new();
    load_str("test.pyr", text, &mut rules, &mut diags);
    (rules, diags)
}

#[test]
fn offsets_in_strings_map_back_to_the_source() {
    let rules = parse_ok("set a = \"x\\n\\u{1F600}y{f}\\\"z\"");
    let e = &rules.settings[0].value;
    let ExprKind::Str(v) = &e.kind else { panic!() };
    let text = &rules.sources.file(e.span.file).text;
    let at = |needle: &str| {
        let off = v.find(needle).unwrap();
        let src = string_source_offset(text, e.span, off);
        text[src..].chars().next().unwrap()
    };
    assert_eq!(at("x"), 'x');
    assert_eq!(at("\n"), '\\');
    assert_eq!(at("y"), 'y');
    assert_eq!(at("{f}"), '{');
    assert_eq!(at("\"z"), '\\');
    assert_eq!(at("z"), 'z');
    assert_eq!(
        string_source_offset(text, e.span, 999),
        e.span.end as usize - 1
    );
}

fn parse_ok(text: &str) -> RuleSet {
    let (rules, diags) = parse(text);
    assert!(
        diags.is_empty(),
        "{:?}",
        diags.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
    rules
}

fn kinds(step: &Step) -> Vec<(String, String)> {
    step.args
        .iter()
        .map(|a| (a.name.clone(), format!("{:?}", a.value.kind)))
        .collect()
}

fn args(step: &Step) -> Vec<(&str, &ExprKind)> {
    step.args
        .iter()
        .map(|a| (a.name.as_str(), &a.value.kind))
        .collect()
}

#[test]
fn lowers_the_sample() {
    let rules = parse_ok(SAMPLE);
    assert_eq!(rules.file_compat, vec![Compat::Pyruse]);
    let keys: Vec<&str> = rules.settings.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["email.to", "8bit-message-encoding", "debug"]);
    let texts: Vec<String> = rules.chains.iter().map(|c| c.label.to_string()).collect();
    let labels: Vec<(&str, bool)> = rules
        .chains
        .iter()
        .zip(&texts)
        .map(|(c, text)| (text.as_str(), c.label.is_block()))
        .collect();
    assert_eq!(
        labels,
        [
            ("SSH failed logins", false),
            ("\u{1}block@test.pyr:12:24", true),
            ("\u{1}block@test.pyr:15:28", true),
            ("\u{1}block@test.pyr:15:60", true),
            ("\u{1}block@test.pyr:15:78", true),
            ("… SSH not allowed", false),
        ]
    );
    let steps = &rules.chains[0].steps;
    let names: Vec<(&str, Form)> = steps.iter().map(|s| (s.name.as_str(), s.form)).collect();
    assert_eq!(
        names,
        [
            ("equals", Form::Operator),
            ("pcre", Form::Operator),
            ("dnatReplace", Form::Call),
            ("lowerOrEquals", Form::Operator),
            ("inNetworks", Form::Operator),
            ("pcreAny", Form::Operator),
            ("greaterOrEquals", Form::Operator),
            ("email", Form::Call),
            ("counterRaise", Form::Call),
        ]
    );
    assert!(steps.iter().all(|s| s.kind == StepKind::Either));
    assert_eq!(
        kinds(&steps[0]),
        [
            ("field".into(), "Field(\"SYSLOG_IDENTIFIER\")".into()),
            ("value".into(), "Str(\"sshd\")".into())
        ]
    );
    let ExprKind::List(save) = &steps[1].args[2].value.kind else {
        panic!()
    };
    assert!(matches!(&save[1].kind, ExprKind::Field(f) if f == "clientIP"));
    assert_eq!(steps[1].else_.as_ref().unwrap().label, "… SSH not allowed");
    assert_eq!(
        steps[3].else_.as_ref().unwrap().label.to_string(),
        "\u{1}block@test.pyr:12:24"
    );
    // The target of a block has the span of the block.
    let t = steps[3].else_.as_ref().unwrap();
    assert_eq!(rules.sources.slice(t.span), "{ noop() }");
    let ExprKind::List(nets) = &steps[4].args[1].value.kind else {
        panic!()
    };
    assert!(matches!(&nets[4].kind, ExprKind::Network(n) if n == "2001:db8:1000::/48"));
    assert_eq!(steps[4].args[1].name, "nets");
    assert_eq!(steps[4].then.as_ref().unwrap().label, "x");
    let ExprKind::List(res) = &steps[5].args[1].value.kind else {
        panic!()
    };
    assert!(matches!(&res[0].kind, ExprKind::Regex(r) if r == "a\\/b"));
    assert!(matches!(&steps[6].args[0].value.kind, ExprKind::Field(f) if f == "odd name"));
    assert!(matches!(
        steps[6].args[1].value.kind,
        ExprKind::Duration(90)
    ));
    assert!(matches!(&steps[7].args[1].value.kind, ExprKind::Str(s) if s == "\u{1F600} \"q\"\t\\"));
    let a = args(&steps[8]);
    assert!(matches!(a[1].1, ExprKind::Field(f) if f == "in"));
    assert!(matches!(a[2].1, ExprKind::Duration(600)));
    assert_eq!(
        format!("{:?}", a[4].1).matches("kind:").count(),
        7,
        "{:?}",
        a[4].1
    );
    let ExprKind::List(x) = a[4].1 else { panic!() };
    let xs: Vec<String> = x.iter().map(|e| format!("{:?}", e.kind)).collect();
    assert_eq!(
        xs,
        [
            "Null",
            "Bool(true)",
            "Bool(false)",
            "Int(-12)",
            "Float(2.5)",
            "Duration(432000)",
            "Duration(7200)"
        ]
    );
    // Nested blocks come after their parent, in written order.
    let inner = &rules.chains[2].steps[0];
    assert_eq!(inner.name, "in");
    assert_eq!(inner.args[1].name, "values");
    assert_eq!(
        inner.else_.as_ref().unwrap().label.to_string(),
        "\u{1}block@test.pyr:15:60"
    );
    assert_eq!(rules.chains[4].steps[0].name, "odd call");
    assert_eq!(rules.chains[4].steps[0].args[0].name, "odd arg");
}

#[test]
fn spans_point_at_what_was_written() {
    let rules = parse_ok("chain \"a\" {\n    FOO == 1 else goto \"b\"\n}\n");
    let s = &rules.chains[0].steps[0];
    let src = &rules.sources;
    assert_eq!(src.slice(s.span), "FOO == 1 else goto \"b\"");
    assert_eq!(src.slice(s.name_span), "==");
    assert_eq!(src.slice(s.args[0].value.span), "FOO");
    assert_eq!(src.slice(s.args[1].value.span), "1");
    assert_eq!(src.slice(s.else_.as_ref().unwrap().span), "\"b\"");
    assert_eq!(src.slice(rules.chains[0].label_span), "\"a\"");
    assert_eq!(src.locate(s.span), "test.pyr:2:5");
}

#[test]
fn in_lists_of_networks_only_are_in_networks() {
    let rules =
        parse_ok("chain \"a\" { A in [::1] B in [] C in [10.0.0.0/8, \"x\"] D in [\"10.0.0.1\"] }");
    let names: Vec<(&str, &str)> = rules.chains[0]
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.args[1].name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("inNetworks", "nets"),
            ("in", "values"),
            ("in", "values"),
            ("in", "values")
        ]
    );
}

#[test]
fn literals() {
    let rules = parse_ok(
        r#"set a = [0s, 1m, 3600, -1, 1.5e3, 1e-7, 127.0.0.1, fe80::1, ::ffff:1.2.3.4/128, `a b`, `x\`y\\z`, {k: 1, "l m": []}, "\0\r\n"]"#,
    );
    let ExprKind::List(items) = &rules.settings[0].value.kind else {
        panic!()
    };
    let got: Vec<String> = items.iter().map(|e| format!("{:?}", e.kind)).collect();
    assert_eq!(
        got[..10],
        [
            "Duration(0)",
            "Duration(60)",
            "Int(3600)",
            "Int(-1)",
            "Float(1500.0)",
            "Float(1e-7)",
            "Network(\"127.0.0.1\")",
            "Network(\"fe80::1\")",
            "Network(\"::ffff:1.2.3.4/128\")",
            "Field(\"a b\")",
        ]
    );
    assert_eq!(got[10], "Field(\"x`y\\\\z\")");
    let rules = parse_ok("set a = `a\\nb\\u{1}`\nset `` = 1");
    assert!(matches!(&rules.settings[0].value.kind, ExprKind::Field(f) if f == "a\nb\u{1}"));
    assert_eq!(rules.settings[1].key, "");
    assert!(got[11].starts_with("Object([(\"k\""));
    assert_eq!(got[12], "Str(\"\\0\\r\\n\")");
}

#[test]
fn setting_keys() {
    let rules = parse_ok("set 8bit-message-encoding = \"x\"\nset `odd key` = 1\nset nftBan.nft = [\"/usr/sbin/nft\"]");
    let keys: Vec<&str> = rules.settings.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["8bit-message-encoding", "odd key", "nftBan.nft"]);
}

#[test]
fn keywords_as_fields_need_backquotes() {
    let rules = parse_ok(
        "chain \"a\" { `in` == 1 `save` =~ /x/ save [`then`, y] in(field: x, values: [1]) }",
    );
    let s = &rules.chains[0].steps;
    assert_eq!(s[0].name, "equals");
    assert_eq!(s[1].name, "pcre");
    assert_eq!(s[2].name, "in");
    assert_eq!(s[2].form, Form::Call);
    let (_, diags) = parse("chain \"a\" { save == 1 }");
    assert_eq!(diags.len(), 1);
}

#[test]
fn compat_must_come_first_and_once() {
    let (rules, diags) = parse("compat pyruse\ncompat pyruse\n");
    assert_eq!(rules.file_compat, vec![Compat::Pyruse]);
    assert_eq!(diags[0].message, "`compat pyruse` is written twice");
    let (rules, diags) = parse("set x = 1\ncompat pyruse\nchain \"a\" {}\n");
    assert!(diags.is_empty());
    assert_eq!(rules.file_compat, vec![Compat::Pyruse]);
    let (rules, diags) = parse("chain \"a\" {}\ncompat pyruse\n");
    assert_eq!(
        diags[0].message,
        "`compat pyruse` must come before any chain"
    );
    assert_eq!(rules.file_compat, vec![Compat::Native]);
    let (rules, _) = parse("chain \"a\" {}\n");
    assert_eq!(rules.file_compat, vec![Compat::Native]);
}

#[test]
fn bad_escapes_are_reported_at_their_place() {
    let (rules, diags) =
        parse("chain \"a\" {\n  log(message: \"ok \\q and \\u{D800} and \\u{41\")\n}\n");
    let got: Vec<(String, &str, &str)> = diags
        .iter()
        .map(|d| {
            let s = d.span.unwrap();
            (
                rules.sources.locate(s),
                rules.sources.slice(s),
                d.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("test.pyr:2:20".to_string(), "\\q", "unknown escape `\\q`"),
            (
                "test.pyr:2:27".to_string(),
                "\\u{D800}",
                "bad Unicode escape: `D800` is not a Unicode character"
            ),
            (
                "test.pyr:2:40".to_string(),
                "\\u{41",
                "bad Unicode escape: expected 1 to 6 hex digits and `}`"
            ),
        ]
    );
    // The step with a bad string is dropped, the chain is kept.
    assert_eq!(rules.chains.len(), 1);
}

#[test]
fn out_of_range_numbers() {
    let (_, diags) = parse("set a = [99999999999999999999, 99999999999999999w, 1e999]");
    let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "integer out of range",
            "duration out of range",
            "number out of range"
        ]
    );
}

/// (input, line:col, message, help) for typical mistakes.
const MISTAKES: &[(&str, &str, &str, &str)] = &[
        (
            "chain Foo {\n    noop()\n}\n",
            "1:7",
            "expected a string (the chain label), found `Foo`",
            "labels are strings: write chain \"Foo\" {",
        ),
        (
            "chain \"a\" {\n    FOO = \"x\"\n}\n",
            "2:9",
            "expected `(` or an operator (`==`, `<=`, `>=`, `in`, `=~`), found `=`",
            "compare with `==`",
        ),
        (
            "chain \"a\" {\n    log(message: \"abc)\n}\n",
            "2:18",
            "this string is not closed",
            "a string ends with `\"` on the same line",
        ),
        (
            "chain \"a\" {\n    FOO == 1\n",
            "2:13",
            "missing `}` to close the `{` of line 1",
            "insert `}` at the end of line 2 to close the `{` of line 1",
        ),
        (
            "chain \"a\" {\n    FOO == 1\nchain \"b\" {\n    noop()\n}\n",
            "2:13",
            "missing `}` to close the `{` of line 1",
            "insert `}` at the end of line 2 to close the `{` of line 1",
        ),
        (
            "chain \"a\" {\n    FOO == 1 else \"x\"\n}\n",
            "2:19",
            "expected `goto` or `{`, found a string",
            "write `else goto \"…\"`",
        ),
        (
            "chain \"a\" {\n    FOO == 1 else goto Other chain\n}\n",
            "2:24",
            "expected a string (the label of the chain to jump to), found `Other`",
            "labels are strings: write else goto \"Other chain\"",
        ),
        (
            "chain \"a\" {\n    log(\"hello\")\n}\n",
            "2:9",
            "expected an argument name or `)`, found a string",
            "arguments are named",
        ),
        (
            "chain \"a\" {\n    log(message: \"x\" level: \"INFO\")\n}\n",
            "2:22",
            "expected `,` or `)`, found `level`",
            "separate arguments with `,`",
        ),
        (
            "chain \"a\" {\n    noop\n}\n",
            "3:1",
            "expected `(` or an operator (`==`, `<=`, `>=`, `in`, `=~`), found `}`",
            "a call needs parentheses, even without arguments: `noop()`",
        ),
        (
            "chain \"a\" {\n    FOO == 1 else goto \"x\" then goto \"y\"\n}\n",
            "2:28",
            "expected a step or `}`, found `then`",
            "`then` comes before `else`",
        ),
        (
            "chain \"a\" {\n    MESSAGE =~ \"^x\"\n}\n",
            "2:16",
            "expected `any` or a regex `/…/`, found a string",
            "regexes are written between slashes: /…/",
        ),
        (
            "chain \"a\" {\n    MESSAGE =~ /^x\n}\n",
            "2:16",
            "this regex is not closed",
            "a regex ends with an unescaped `/` on the same line",
        ),
        (
            "chain \"a\" {\n    FOO != 1\n}\n",
            "2:9",
            "expected `(` or an operator (`==`, `<=`, `>=`, `in`, `=~`), found `!=`",
            "there is no negated test",
        ),
        (
            "chain \"a\" {\n    FOO in \"a\"\n}\n",
            "2:12",
            "expected `[`, found a string",
            "`in` takes a list",
        ),
        (
            "set email.to [\"x\"]\n",
            "1:14",
            "expected `=`, found `[`",
            "write a setting as `set KEY = VALUE`",
        ),
        (
            "compat legacy\n",
            "1:8",
            "expected `pyruse`, found `legacy`",
            "the only compatibility mode is `compat pyruse`",
        ),
        (
            "chains \"a\" {}\n",
            "1:1",
            "expected `chain`, `service`, `param`, `set`, `example`, `include`, `compat` or the end of the file, found `chains`",
            "did you mean `chain`?",
        ),
        (
            "chain \"a\" {}\n}\n",
            "2:1",
            "expected `chain`, `service`, `param`, `set`, `example`, `include`, `compat` or the end of the file, found `}`",
            "this `}` closes nothing",
        ),
        (
            "chain \"a\" {\n    FOO == 1;\n}\n",
            "2:13",
            "expected a step, `}` or `then`/`else`, found `;`",
            "steps need no separator",
        ),
        (
            "include rules.pyr\n",
            "1:9",
            "expected a string (the path of the file to include), found `rules`",
            "paths are strings: write include \"rules.pyr\"",
        ),
        (
            "chain \"a\" {\n    FOO == 'x'\n}\n",
            "2:12",
            "expected a value, found `'`",
            "strings are written between double quotes",
        ),
        (
            "chain \"a\" {\n    log(message = \"x\")\n}\n",
            "2:17",
            "expected `:`, found `=`",
            "arguments are written `name: value`",
        ),
        (
            "chain \"a\" {\n    x(a: [1, 2)\n}\n",
            "2:15",
            "expected `,` or `]`, found `)`",
            "add `]` before this `)`, to close the `[` of line 2, column 10",
        ),
        (
            "chain \"a\" {\n    in == 3\n}\n",
            "2:8",
            "expected `(`, found `==`",
            "`in` is a keyword",
        ),
        (
            "chain \"a\" {\n    FOO == 10x\n}\n",
            "2:12",
            "expected a value, found `10x`",
            "durations are written 90s, 10m, 2h, 5d or 1w",
        ),
        (
            "chain \"a {\n    noop()\n}\n",
            "1:7",
            "this string is not closed",
            "a string ends with `\"` on the same line",
        ),
        (
            "chain \"a\" {\n    FOO =~ /x/ save [a b]\n}\n",
            "2:24",
            "expected `,` or `]`, found `b`",
            "separate list elements with `,`",
        ),
    ];

#[test]
fn syntax_errors_say_what_and_where() {
    for (input, at, message, help) in MISTAKES {
        let (rules, diags) = parse(input);
        assert_eq!(
            diags.len(),
            1,
            "{input}: {:?}",
            diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        let d = &diags[0];
        assert_eq!(d.code, Code::Syntax);
        assert_eq!(
            rules.sources.locate(d.span.unwrap()),
            format!("test.pyr:{at}"),
            "{input}"
        );
        assert_eq!(d.message, *message, "{input}");
        let h = d.help.as_deref().unwrap_or("");
        assert!(h.contains(help), "{input}: help is {h:?}");
        assert!(!d.message.contains("Rule") && !h.contains("Rule"));
        // It renders.
        assert!(d.render(&rules.sources, false).contains("pyr::syntax"));
    }
}

#[test]
fn unclosed_brace_is_placed_by_indentation() {
    // The `}` of line 4 lines up with the chain: the `else` block lacks its
    // own, after `noop()`.
    let (rules, diags) = parse("chain \"a\" {\n    FOO == 1 else {\n        noop()\n}\n");
    let d = &diags[0];
    assert_eq!(rules.sources.locate(d.span.unwrap()), "test.pyr:3:15");
    let related: Vec<(String, &str)> = d
        .related
        .iter()
        .map(|(s, l)| (rules.sources.locate(*s), l.as_str()))
        .collect();
    assert_eq!(
        related[0],
        ("test.pyr:2:19".into(), "this `{` is never closed")
    );
    assert_eq!(
        related[1],
        (
            "test.pyr:4:1".into(),
            "this `}` lines up with an outer block but closes the `{` of line 2"
        )
    );
    // Without indentation to go by, the opening brace is shown.
    let (rules, diags) = parse("chain \"a\" {\nnoop()\n");
    let d = &diags[0];
    assert_eq!(rules.sources.locate(d.span.unwrap()), "test.pyr:3:1");
    assert_eq!(rules.sources.locate(d.related[0].0), "test.pyr:1:11");
    assert_eq!(d.related[0].1, "this `{` is not closed");
}

#[test]
fn every_rule_has_a_human_name() {
    // No name may leak a rule identifier.
    for name in [
        Rule::step,
        Rule::rbrace,
        Rule::kw_then,
        Rule::expr,
        Rule::chain_label,
        Rule::target_label,
        Rule::include_path,
        Rule::arg_name,
        Rule::field,
        Rule::EOI,
    ] {
        let (_, n) = expected_name(name);
        assert!(!n.contains('_'), "{n}");
    }
}

/// A tiny deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn never_panics() {
    // Every prefix of the sample.
    for (i, _) in SAMPLE.char_indices() {
        let _ = parse(&SAMPLE[..i]);
    }
    // Random bytes, and random soups of tokens.
    let tokens = [
        "chain",
        "\"a\"",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ",",
        ":",
        "==",
        "=~",
        "<=",
        "in",
        "any",
        "save",
        "then",
        "else",
        "goto",
        "set",
        "x",
        "`y`",
        "/r/",
        "1",
        "-2",
        "2.5",
        "10m",
        "::1",
        "10.0.0.0/8",
        "\"",
        "/",
        "`",
        "\\",
        "#",
        "\n",
        " ",
        "\u{1}",
        "é",
        "\"\\u{",
        "compat",
        "pyruse",
        "include",
        "null",
        "=",
        ".",
        "-",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = (rng.next() % 60) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = parse(&String::from_utf8_lossy(&bytes));
        let soup: String = (0..len)
            .map(|_| tokens[(rng.next() % tokens.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(if rng.next() & 1 == 0 { " " } else { "" });
        let _ = parse(&soup);
    }
    // Random edits of the sample.
    for _ in 0..500 {
        let mut s: Vec<char> = SAMPLE.chars().collect();
        for _ in 0..3 {
            let at = (rng.next() % s.len() as u64) as usize;
            let t = tokens[(rng.next() % tokens.len() as u64) as usize];
            match rng.next() % 3 {
                0 => {
                    s.remove(at);
                }
                1 => s.splice(at..at, t.chars()).for_each(drop),
                _ => s.truncate(at.max(1)),
            }
        }
        let _ = parse(&s.into_iter().collect::<String>());
    }
    // Deep nesting is refused, not a stack overflow.
    for open in ["[", "{", "(", "chain \"a\" { x == 1 else "] {
        let text = format!("set a = {}", open.repeat(100_000));
        let (_, diags) = parse(&text);
        assert_eq!(diags.len(), 1);
    }
    let deep = format!("set a = {}1{}", "[".repeat(60), "]".repeat(60));
    assert!(parse(&deep).1.is_empty());
}

#[test]
fn includes_go_in_place() {
    let mut files: std::collections::HashMap<&str, &str> = [
        (
            "b.pyr",
            "chain \"b1\" { noop() }\ninclude \"c.pyr\"\nchain \"b2\" { noop() }",
        ),
        ("c.pyr", "compat pyruse\nchain \"c\" { noop() }"),
    ]
    .into_iter()
    .collect();
    let mut calls = Vec::new();
    let mut resolve = |from: &str, path: &str| -> Result<Vec<(String, String)>, String> {
        calls.push(format!("{from}->{path}"));
        files
            .remove(path)
            .map(|t| vec![(path.to_string(), t.to_string())])
            .ok_or_else(|| format!("cannot read `{path}`"))
    };
    let mut rules = RuleSet::default();
    let diags = parse_str(
            "a.pyr",
            "chain \"a1\" { x == 1 else { noop() } }\ninclude \"b.pyr\"\ninclude \"nope.pyr\"\nchain \"a2\" { noop() }",
            &mut rules,
            Some(&mut resolve),
        );
    let labels: Vec<String> = rules.chains.iter().map(|c| c.label.to_string()).collect();
    assert_eq!(
        labels,
        ["a1", "\u{1}block@a.pyr:1:26", "b1", "c", "b2", "a2"]
    );
    assert_eq!(
        rules.file_compat,
        [Compat::Native, Compat::Native, Compat::Pyruse]
    );
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::Io);
    assert_eq!(rules.sources.slice(diags[0].span.unwrap()), "\"nope.pyr\"");
    assert_eq!(calls, ["a.pyr->b.pyr", "b.pyr->c.pyr", "a.pyr->nope.pyr"]);
}

#[test]
fn included_legacy_json_keeps_its_place_and_semantics() {
    let old = r#"{ "actions": { "Old": [ { "action": "action_noop" } ] }, "debug": true }"#;
    let renamed = r#"  { "actions": { "Renamed": [ { "action": "action_noop" } ] } }"#;
    let broken = "{\n  \"actions\": {\n    \"Bad\": [ 1 2 ]\n  }\n}\n";
    let mut resolve = |_: &str, path: &str| -> Result<Vec<(String, String)>, String> {
        let text = match path {
            "old.json" => old,
            "renamed.pyr" => renamed,
            "broken.json" => broken,
            _ => return Err(format!("cannot read `{path}`")),
        };
        Ok(vec![(path.to_string(), text.to_string())])
    };
    let mut rules = RuleSet::default();
    let diags = parse_str(
        "a.pyr",
        "chain \"First\" { noop() }\ninclude \"old.json\"\ninclude \"renamed.pyr\"\nchain \"Last\" { noop() }",
        &mut rules,
        Some(&mut resolve),
    );
    assert!(diags.is_empty(), "{diags:?}");
    let labels: Vec<String> = rules.chains.iter().map(|c| c.label.to_string()).collect();
    assert_eq!(labels, ["First", "Old", "Renamed", "Last"]);
    // Legacy semantics for the JSON files, whatever their names.
    assert_eq!(
        rules.file_compat,
        [Compat::Native, Compat::Pyruse, Compat::Pyruse]
    );
    let syntaxes: Vec<Syntax> = rules.sources.files().map(|(_, f)| f.syntax).collect();
    assert_eq!(syntaxes, [Syntax::Pyr, Syntax::Json, Syntax::Json]);
    assert_eq!(rules.settings.len(), 1);
    assert_eq!(rules.settings[0].key, "debug");

    // An error in an included JSON file points into that file.
    let mut rules = RuleSet::default();
    let diags = parse_str(
        "b.pyr",
        "include \"broken.json\"",
        &mut rules,
        Some(&mut resolve),
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, Code::JsonSyntax);
    assert_eq!(
        diags[0].message,
        "expected `,` or `]` after an array element, found `2`"
    );
    assert_eq!(
        rules.sources.locate(diags[0].span.unwrap()),
        "broken.json:3:16"
    );
}

#[test]
fn include_cycles_are_errors() {
    let mut resolve = |_: &str, path: &str| -> Result<Vec<(String, String)>, String> {
        let text = match path {
            "b.pyr" => "include \"c.pyr\"",
            _ => "include \"a.pyr\"",
        };
        Ok(vec![(path.to_string(), text.to_string())])
    };
    let mut rules = RuleSet::default();
    let diags = parse_str("a.pyr", "include \"b.pyr\"", &mut rules, Some(&mut resolve));
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::IncludeCycle);
    assert_eq!(
        diags[0].message,
        "include cycle: `a.pyr` includes `b.pyr` includes `c.pyr` includes `a.pyr`"
    );
    assert_eq!(rules.sources.locate(diags[0].span.unwrap()), "c.pyr:1:9");
    // Without a resolver, an include is an error too.
    let (_, diags) = parse("include \"x.pyr\"");
    assert_eq!(diags[0].code, Code::Io);
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pyr-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn loads_files_and_directories() {
    let dir = temp_dir("load");
    std::fs::create_dir_all(dir.join("inc")).unwrap();
    std::fs::write(
        dir.join("b.pyr"),
        "chain \"b\" { noop() }\ninclude \"inc/x.pyr\"",
    )
    .unwrap();
    std::fs::write(dir.join("a.pyr"), "chain \"a\" { noop() }").unwrap();
    std::fs::write(dir.join("B.pyr"), "chain \"B\" { noop() }").unwrap();
    std::fs::write(dir.join("notes.txt"), "not rules").unwrap();
    std::fs::write(
        dir.join("inc/x.pyr"),
        "include \"y.pyr\"\nchain \"x\" { noop() }",
    )
    .unwrap();
    std::fs::write(dir.join("inc/y.pyr"), "chain \"y\" { noop() }").unwrap();
    std::fs::write(dir.join("inc/z.pyr"), "chain \"z\" { noop() }").unwrap();

    let (rules, diags) = load(&dir);
    assert!(
        diags.is_empty(),
        "{:?}",
        diags.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
    let labels: Vec<String> = rules.chains.iter().map(|c| c.label.to_string()).collect();
    assert_eq!(labels, ["B", "a", "b", "y", "x"]);
    assert!(rules.sources.files().all(|(_, f)| f.syntax == Syntax::Pyr));
    assert_eq!(rules.file_compat.len(), rules.sources.files().count());

    // An included directory brings its files in order.
    std::fs::write(dir.join("main.pyr"), "include \"inc\"").unwrap();
    let (rules, diags) = load(&dir.join("main.pyr"));
    let labels: Vec<String> = rules.chains.iter().map(|c| c.label.to_string()).collect();
    assert_eq!(
        labels,
        ["y", "x", "y", "z"],
        "{:?}",
        diags.iter().map(|d| &d.message).collect::<Vec<_>>()
    );

    // A cycle through the file system.
    std::fs::write(dir.join("inc/y.pyr"), "include \"../b.pyr\"").unwrap();
    let (rules, diags) = load(&dir.join("b.pyr"));
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::IncludeCycle);
    assert!(
        diags[0].message.starts_with("include cycle: `"),
        "{}",
        diags[0].message
    );
    assert_eq!(rules.sources.slice(diags[0].span.unwrap()), "\"../b.pyr\"");

    // Unreadable.
    let (_, diags) = load(&dir.join("missing.pyr"));
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::Io);
    assert!(diags[0].span.is_none());
    std::fs::write(dir.join("bad.pyr"), b"chain \"\xff\" {}").unwrap();
    let (_, diags) = load(&dir.join("bad.pyr"));
    assert_eq!(diags[0].code, Code::Io);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn same_file_twice_gets_distinct_block_labels() {
    let mut resolve = |_: &str, p: &str| -> Result<Vec<(String, String)>, String> {
        Ok(vec![(
            p.to_string(),
            "chain \"x\" { a == 1 else { noop() } }".to_string(),
        )])
    };
    let mut rules = RuleSet::default();
    let _ = parse_str(
        "m.pyr",
        "include \"i.pyr\"\ninclude \"i.pyr\"",
        &mut rules,
        Some(&mut resolve),
    );
    let labels: Vec<&Label> = rules
        .chains
        .iter()
        .filter(|c| c.label.is_block())
        .map(|c| &c.label)
        .collect();
    assert_eq!(labels.len(), 2);
    assert_ne!(labels[0], labels[1]);
}

#[test]
fn network_literals() {
    for ok in [
        "10.0.0.0/8",
        "192.168.1.96/29",
        "127.0.0.1",
        "::1",
        "2001:db8:1000::/48",
        "fe80::/10",
        "::",
        "::ffff:1.2.3.4",
        "999.1.1.1",
    ] {
        assert!(is_network_literal(ok), "{ok}");
    }
    for no in [
        "10.0.0",
        "1.2.3.4.5",
        "fe80:1",
        "x",
        "10.0.0.0/8 ",
        " ::1",
        "fe80::1%eth0",
        "1.2.3.4/",
    ] {
        assert!(!is_network_literal(no), "{no}");
    }
    assert!(is_identifier("clientIP") && !is_identifier("in") && !is_identifier("a b"));
    assert!(is_setting_key("8bit-message-encoding") && !is_setting_key("a..b"));
}
