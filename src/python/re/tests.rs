use super::*;

/// What is checked, pattern, subject, expected groups (None: no match).
type SearchCase = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static [Option<&'static str>]>,
);

/// (what, Python pattern, subject, groups of Python's `re.search`), the
/// expected values printed by Python 3.11.7.
#[rustfmt::skip]
const SEARCH_CASES: &[SearchCase] = &[
    ("$ before a final newline, tail position", r#"Message is (?P<state>frozen|thawed)$"#, "1rABC Message is frozen\n", Some(&[Some("Message is frozen"), Some("frozen")])),
    ("$ before a final newline, tail position", r#"Message is (?P<state>frozen|thawed)$"#, "1rABC Message is frozen", Some(&[Some("Message is frozen"), Some("frozen")])),
    ("$ before a final newline, tail position", r#"Message is (?P<state>frozen|thawed)$"#, "1rABC Message is thawed\n\n", None),
    ("\\Z is the absolute end", r#"^queue (?P<n>[0-9]+)\Z"#, "queue 12", Some(&[Some("queue 12"), Some("12")])),
    ("\\Z is the absolute end", r#"^queue (?P<n>[0-9]+)\Z"#, "queue 12\n", None),
    ("[ && -- in classes are literal", r#"^token [[]([a-z&&-]+)[]] done$"#, "token [a&b-c] done", Some(&[Some("token [a&b-c] done"), Some("a&b-c")])),
    ("[ && -- in classes are literal", r#"^token [[]([a-z&&-]+)[]] done$"#, "token [abc] done", Some(&[Some("token [abc] done"), Some("abc")])),
    ("[ && -- in classes are literal", r#"^token [[]([a-z&&-]+)[]] done$"#, "token [a~b] done", None),
    ("back-reference", r#"Redirect to: https://[^/]*/sso/\?r=(.*), client: (?P<thatIP>[^,]*), request: "POST /sso/\?r=\1 HTTP/1\.1"$"#, "Redirect to: https://sso.example.org/sso/?r=/app, client: 203.0.113.9, request: \"POST /sso/?r=/app HTTP/1.1\"", Some(&[Some("Redirect to: https://sso.example.org/sso/?r=/app, client: 203.0.113.9, request: \"POST /sso/?r=/app HTTP/1.1\""), Some("/app"), Some("203.0.113.9")])),
    ("back-reference", r#"Redirect to: https://[^/]*/sso/\?r=(.*), client: (?P<thatIP>[^,]*), request: "POST /sso/\?r=\1 HTTP/1\.1"$"#, "Redirect to: https://sso.example.org/sso/?r=/app, client: 203.0.113.9, request: \"POST /sso/?r=/other HTTP/1.1\"", None),
    ("negative look-aheads", r#"^\[[A-Z](?!OTICE)(?!EBUG)[A-Z]*\] (?P<what>.*)$"#, "[NOTICE] fpm is running", None),
    ("negative look-aheads", r#"^\[[A-Z](?!OTICE)(?!EBUG)[A-Z]*\] (?P<what>.*)$"#, "[DEBUG] x", None),
    ("negative look-aheads", r#"^\[[A-Z](?!OTICE)(?!EBUG)[A-Z]*\] (?P<what>.*)$"#, "[WARNING] child 12 exited", Some(&[Some("[WARNING] child 12 exited"), Some("child 12 exited")])),
    ("look-behind and look-ahead", r#"(?<=client: )(?P<thatIP>[0-9.]+)(?=, server)"#, "open() failed, client: 198.51.100.4, server: www", Some(&[Some("198.51.100.4"), Some("198.51.100.4")])),
    ("look-behind and look-ahead", r#"(?<=client: )(?P<thatIP>[0-9.]+)(?=, server)"#, "client: 198.51.100.4 server: www", None),
    ("$ inside a group", r#"(a$)"#, "a\n", Some(&[Some("a"), Some("a")])),
    ("$ inside a group", r#"(a$)"#, "a", Some(&[Some("a"), Some("a")])),
    ("$ inside a group", r#"(a$)"#, "a\n\n", None),
    ("$ followed by more pattern", r#"a$\n"#, "a\n", Some(&[Some("a\n")])),
    ("$ followed by more pattern", r#"a$\n"#, "a\n\n", None),
    ("$ in an alternation", r#"a$|(b)"#, "a\n", Some(&[Some("a"), None])),
    ("$ in an alternation", r#"a$|(b)"#, "xb", Some(&[Some("b"), Some("b")])),
    ("$ in an alternation", r#"a$|(b)"#, "a\nb", Some(&[Some("b"), Some("b")])),
    ("$ in an optional group", r#"x(?:y$)?"#, "xy\n", Some(&[Some("xy")])),
    ("$ in an optional group", r#"x(?:y$)?"#, "xyz", Some(&[Some("x")])),
    ("multiline ^ and $", r#"(?m)^(b)$"#, "a\nb\nc", Some(&[Some("b"), Some("b")])),
    ("multiline ^ and $", r#"(?m)^(b)$"#, "a\nbc", None),
    ("multiline ^ and $", r#"(?m)^(b)$"#, "b\n", Some(&[Some("b"), Some("b")])),
    ("^ is the start of the string", r#"^a"#, "x\na", None),
    ("^ is the start of the string", r#"^a"#, "ab", Some(&[Some("a")])),
    ("scoped multiline", r#"(?m:^b)$"#, "a\nb", Some(&[Some("b")])),
    ("scoped multiline", r#"(?m:^b)$"#, "a\nb\nc", None),
    ("dot and DOTALL", r#"a.c"#, "a\nc", None),
    ("dot and DOTALL", r#"a.c"#, "abc", Some(&[Some("abc")])),
    ("dot and DOTALL", r#"(?s)a.c"#, "a\nc", Some(&[Some("a\nc")])),
    ("scoped DOTALL", r#"(?s:a.)c."#, "a\nc\n", None),
    ("scoped DOTALL", r#"(?s:a.)c."#, "a\ncd", Some(&[Some("a\ncd")])),
    ("] first in a class", r#"[]a]+"#, "x]a]y", Some(&[Some("]a]")])),
    ("negated class with ]", r#"[^]a]+"#, "]ab]", Some(&[Some("b")])),
    ("- at the end of a class", r#"[a-]+"#, "x-a-", Some(&[Some("-a-")])),
    ("escaped ] in a class", r#"[\]]"#, "a]", Some(&[Some("]")])),
    ("[-- is literal", r#"x[--]"#, "x-", Some(&[Some("x-")])),
    ("[-- is literal", r#"x[--]"#, "xa", None),
    ("[~~ is literal", r#"x[~~]"#, "x~", Some(&[Some("x~")])),
    ("[[ is literal", r#"[[a]+"#, "x[a[", Some(&[Some("[a[")])),
    ("class with \\w and -", r#"[\w-]+"#, "ab-c_d e", Some(&[Some("ab-c_d")])),
    ("\\W and \\d in a class", r#"[\W\d]+"#, "ab 12-x", Some(&[Some(" 12-")])),
    ("\\b in a class is backspace", r#"[\b]"#, "a\u{8}", Some(&[Some("\u{8}")])),
    ("negated \\S and \\n", r#"[^\S\n]+"#, "a \t\nb", Some(&[Some(" \t")])),
    ("{ that is not a repeat", r#"a{"#, "a{", Some(&[Some("a{")])),
    ("{x} is literal", r#"a{x}"#, "a{x}", Some(&[Some("a{x}")])),
    ("{1,x is literal", r#"a{1,x"#, "a{1,x", Some(&[Some("a{1,x")])),
    ("{} is literal", r#"a{}"#, "a{}", Some(&[Some("a{}")])),
    ("{,n}", r#"x{,2}"#, "xxx", Some(&[Some("xx")])),
    ("{,}", r#"x{,}"#, "xxx", Some(&[Some("xxx")])),
    ("{n,}", r#"x{2,}"#, "x", None),
    ("{n,}", r#"x{2,}"#, "xxxx", Some(&[Some("xxxx")])),
    ("lazy {m,n}?", r#"(a{2,3}?)"#, "aaaa", Some(&[Some("aa"), Some("aa")])),
    ("lazy +?", r#"(a+?)(a*)"#, "aaa", Some(&[Some("aaa"), Some("a"), Some("aa")])),
    ("lazy ??", r#"(a??)(a)"#, "aa", Some(&[Some("a"), Some(""), Some("a")])),
    ("Unicode \\d", r#"\d+"#, "x\u{661}\u{662}\u{663}", Some(&[Some("\u{661}\u{662}\u{663}")])),
    ("ASCII \\d", r#"(?a)\d+"#, "x\u{661}\u{662}\u{663}", None),
    ("ASCII \\d", r#"(?a)\d+"#, "x12", Some(&[Some("12")])),
    ("Python \\w includes No characters", r#"\w+"#, "x\u{b2}y z", Some(&[Some("x\u{b2}y")])),
    ("Python \\w excludes marks", r#"\w+"#, "e\u{301}x", Some(&[Some("e")])),
    ("ASCII \\w", r#"(?a)\w+"#, "\u{e9}t\u{e9}", Some(&[Some("t")])),
    ("Python \\s includes \\x1c", r#"a\sb"#, "a\u{1c}b", Some(&[Some("a\u{1c}b")])),
    ("Python \\s includes \\x1c", r#"a\sb"#, "a\u{a0}b", Some(&[Some("a\u{a0}b")])),
    ("Python \\s includes \\x1c", r#"a\sb"#, "a\u{200b}b", None),
    ("ASCII \\s", r#"(?a)a\sb"#, "a\u{1c}b", None),
    ("ASCII \\s", r#"(?a)a\sb"#, "a\u{b}b", Some(&[Some("a\u{b}b")])),
    ("\\b with Python word characters", r#"\bx\b"#, "x\u{b2}", None),
    ("\\b with Python word characters", r#"\bx\b"#, "x y", Some(&[Some("x")])),
    ("\\b with Python word characters", r#"\bx\b"#, "e\u{301}x", Some(&[Some("x")])),
    ("\\b with Python word characters", r#"\bx\b"#, "\u{b2}x", None),
    ("\\b with Python word characters", r#"\bx\b"#, "x\u{203f}", Some(&[Some("x")])),
    ("\\B with Python word characters", r#"x\B"#, "x\u{b2}", Some(&[Some("x")])),
    ("\\B with Python word characters", r#"x\B"#, "x y", None),
    ("\\B with Python word characters", r#"x\B"#, "xy", Some(&[Some("x")])),
    ("\\B never matches an empty string", r#"\B"#, "", None),
    ("\\B never matches an empty string", r#"\B"#, " ", Some(&[Some("")])),
    ("\\B never matches an empty string", r#"\B"#, "a", None),
    ("\\B alternatives on an empty string", r#"\B|(x?)"#, "", Some(&[Some(""), Some("")])),
    ("ASCII \\b", r#"(?a)\bx"#, "\u{e9}x", Some(&[Some("x")])),
    ("ASCII \\b", r#"(?a)\bx"#, "ax", None),
    ("ASCII \\B", r#"(?a)x\B"#, "x\u{e9}", None),
    ("ASCII \\B", r#"(?a)x\B"#, "xa", Some(&[Some("x")])),
    ("IGNORECASE", r#"(?i)HeLLo"#, "say hello", Some(&[Some("hello")])),
    ("scoped IGNORECASE", r#"(?i:a)b"#, "Ab", Some(&[Some("Ab")])),
    ("scoped IGNORECASE", r#"(?i:a)b"#, "AB", None),
    ("IGNORECASE turned off", r#"(?i)a(?-i:b)"#, "AB", None),
    ("IGNORECASE turned off", r#"(?i)a(?-i:b)"#, "Ab", Some(&[Some("Ab")])),
    ("Unicode IGNORECASE folds the Kelvin sign", r#"(?i)k"#, "\u{212a}", Some(&[Some("\u{212a}")])),
    ("ASCII IGNORECASE does not", r#"(?ai)k"#, "\u{212a}", None),
    ("ASCII IGNORECASE does not", r#"(?ai)k"#, "K", Some(&[Some("K")])),
    ("ASCII IGNORECASE classes", r#"(?ai)[a-c]+"#, "xABc\u{212a}", Some(&[Some("ABc")])),
    ("ASCII IGNORECASE negated classes", r#"(?ai)[^a-z]+"#, "aB1\u{e9}", Some(&[Some("1\u{e9}")])),
    ("IGNORECASE back-reference", r#"(?i)(ab)\1"#, "abAB", Some(&[Some("abAB"), Some("ab")])),
    ("IGNORECASE back-reference", r#"(?i)(ab)\1"#, "abAc", None),
    ("ASCII IGNORECASE back-reference", r#"(?ai)(ab)\1"#, "abAB", Some(&[Some("abAB"), Some("ab")])),
    ("verbose mode", "(?x) a b # a comment\n c", "abc", Some(&[Some("abc")])),
    ("verbose mode", "(?x) a b # a comment\n c", "a b c", None),
    ("verbose escaped space", r#"(?x)a\ b"#, "a b", Some(&[Some("a b")])),
    ("verbose space in a class", r#"(?x)a[ ]b"#, "a b", Some(&[Some("a b")])),
    ("verbose does not join {1, 2}", r#"(?x)a{1, 2}"#, "a{1,2}", Some(&[Some("a{1,2}")])),
    ("verbose does not join {1, 2}", r#"(?x)a{1, 2}"#, "aa", None),
    ("scoped verbose", r#"(?x: a b )c d"#, "abc d", Some(&[Some("abc d")])),
    ("octal escapes", r#"\101\0\012"#, "A\u{0}\n", Some(&[Some("A\u{0}\n")])),
    ("octal escape in a class", r#"[\12]"#, "a\n", Some(&[Some("\n")])),
    ("hex and unicode escapes", r#"\x41\u00e9\U0001F600"#, "A\u{e9}\u{1f600}", Some(&[Some("A\u{e9}\u{1f600}")])),
    ("escaped punctuation", r#"\-\#\ \.\&\~"#, "-# .&~", Some(&[Some("-# .&~")])),
    ("a lone surrogate never matches", r#"a|\ud800"#, "a", Some(&[Some("a")])),
    ("a class of a lone surrogate", r#"x[\ud800]|y"#, "xy", Some(&[Some("y")])),
    ("a negated class of a lone surrogate", r#"[^\ud800]"#, "\n", Some(&[Some("\n")])),
    ("possessive repeat", r#"a++a"#, "aaa", None),
    ("possessive repeat of an alternation", r#"(?:a|ab)*+c"#, "abac", Some(&[Some("ac")])),
    ("possessive repeat never re-enters an iteration", r#"(?:\D{1,3}){2}+"#, "\nb", None),
    ("possessive repeat never re-enters an iteration", r#"(?:\D{1,3}){2}+"#, "abcd", Some(&[Some("abcd")])),
    ("atomic group", r#"(?>a|ab)c"#, "abc", None),
    ("atomic group", r#"(?>a|ab)c"#, "ac", Some(&[Some("ac")])),
    ("conditional", r#"(<)?\w+(?(1)>|$)"#, "<a>", Some(&[Some("<a>"), Some("<")])),
    ("conditional", r#"(<)?\w+(?(1)>|$)"#, "a", Some(&[Some("a"), None])),
    ("conditional", r#"(<)?\w+(?(1)>|$)"#, "<a", Some(&[Some("a"), None])),
    ("named conditional", r#"(?P<q>")?x(?(q)")"#, "\"x\"", Some(&[Some("\"x\""), Some("\"")])),
    ("named conditional", r#"(?P<q>")?x(?(q)")"#, "x", Some(&[Some("x"), None])),
    ("named conditional", r#"(?P<q>")?x(?(q)")"#, "\"x", Some(&[Some("x"), None])),
    ("conditional on a later group", r#"(?:(?(1)b|a)(c))+"#, "acbc", Some(&[Some("acbc"), Some("c")])),
    ("named back-reference", r#"(?P<w>\w+) (?P=w)"#, "hello hello", Some(&[Some("hello hello"), Some("hello")])),
    ("named back-reference", r#"(?P<w>\w+) (?P=w)"#, "hello world", None),
    ("repeated group keeps the last iteration", r#"(?:(a)|b)+"#, "ab", Some(&[Some("ab"), Some("a")])),
    ("repeated group in a loop, fancy engine", r#"(?:(a)|b(?=c))+"#, "abc", Some(&[Some("ab"), Some("a")])),
    ("look-ahead is atomic", r#"(?=|(a))(?:\1|c)"#, "a", None),
    ("repeated look-around", r#"(?:(?=a))*a"#, "a", Some(&[Some("a")])),
    ("group of nothing repeated", r#"()*x"#, "x", Some(&[Some("x"), Some("")])),
    ("comments", r#"a(?#comment)*"#, "aaa", Some(&[Some("aaa")])),
    ("empty alternatives", r#"(|a)b"#, "ab", Some(&[Some("ab"), Some("a")])),
    ("non-ASCII literal", r#"\u00e9+|ß"#, "x\u{e9}\u{e9}", Some(&[Some("\u{e9}\u{e9}")])),
    ("leftmost-first alternation", r#"(a|ab)(c|bcd)(d*)"#, "abcd", Some(&[Some("abcd"), Some("a"), Some("bcd"), Some("")])),
    ("zero-width repeat of ^", r#"(?:^)*a"#, "ba", Some(&[Some("a")])),
    ("global flags after a comment", r#"(?#c)(?i)a"#, "A", Some(&[Some("A")])),
    ("conditional with branches that translate to nothing", r#"(a)?(?(1)(?:)*|)b"#, "b", Some(&[Some("b"), None])),
    ("conditional with branches that translate to nothing", r#"(a)?(?(1)(?:)*|)b"#, "ab", Some(&[Some("ab"), Some("a")])),
    ("conditional with branches that translate to nothing", r#"(a)?(?(1)|(?:)*)b"#, "ab", Some(&[Some("ab"), Some("a")])),
    ("conditional with branches that translate to nothing", r#"(a)?(?(1)|(?:)*)b"#, "b", Some(&[Some("b"), None])),
    ("back-reference in a look-behind", r#"(ab)(?<=\1)"#, "xabab", Some(&[Some("ab"), Some("ab")])),
    ("atomic group in a loop keeps captures", r#"(?>(a)b|)*"#, "ab", Some(&[Some("ab"), Some("a")])),
    ("scoped ASCII inside IGNORECASE", r#"(?i)(?a:k)\u212a"#, "K\u{212a}", Some(&[Some("K\u{212a}")])),
    ("scoped ASCII inside IGNORECASE", r#"(?i)(?a:k)\u212a"#, "\u{212a}\u{212a}", None),
];

/// The main matcher, and the fancy-regex one when the main one is not.
fn matchers(pattern: &str) -> Vec<Matcher> {
    let main = Matcher::python(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
    let mut all = vec![];
    if main.engine() == Engine::Regex {
        let t = translate_for(pattern, Engine::Fancy)
            .expect("translates")
            .expect("fancy can do anything");
        all.push(Matcher::from_translated(&t).expect("fancy compiles"));
    }
    all.insert(0, main);
    all
}

fn groups<'t>(m: &Matcher, subject: &'t str) -> Option<Vec<Option<&'t str>>> {
    let mut out = vec![Some((0, 0)); 7]; // stale content must be cleared
    let found = m.search(subject, &mut out).expect("no engine error");
    if !found {
        assert!(out.is_empty());
        return None;
    }
    assert_eq!(out.len(), m.group_count() + 1);
    Some(out.iter().map(|g| g.map(|(a, b)| &subject[a..b])).collect())
}

#[test]
fn search_like_python() {
    for &(what, pattern, subject, expected) in SEARCH_CASES {
        for m in matchers(pattern) {
            assert_eq!(
                groups(&m, subject).as_deref(),
                expected,
                "{what}: {pattern:?} on {subject:?} with {:?}",
                m.engine()
            );
        }
    }
}

fn spans(pattern: &str, subject: &str) -> Option<Vec<Option<(usize, usize)>>> {
    let m = Matcher::python(pattern).unwrap();
    let mut out = Vec::new();
    m.search(subject, &mut out).unwrap().then_some(out)
}

#[test]
fn tail_dollar_stays_on_the_regex_engine_and_ends_before_the_newline() {
    let p = "Message is (?P<state>frozen|thawed)$";
    let t = translate(p).unwrap();
    assert_eq!(t.engine, Engine::Regex);
    assert_eq!(t.group_count, 1);
    assert_eq!(t.group_names, vec![(1, "state".to_string())]);
    let m = Matcher::python(p).unwrap();
    assert_eq!(m.group_names(), vec![(1, "state".to_string())]);
    assert_eq!(m.describe(), format!("/{p}/"));
    assert_eq!(m.as_str(), p);
    // Python: (6, 23) and (17, 23) in both cases.
    let expected = Some(vec![Some((6, 23)), Some((17, 23))]);
    assert_eq!(spans(p, "1rABC Message is frozen\n"), expected);
    assert_eq!(spans(p, "1rABC Message is frozen"), expected);
    assert_eq!(spans(p, "1rABC Message is thawed\n\n"), None);
    // A hidden group before a Python group: numbering is kept.
    assert_eq!(spans("a$|(b)", "a\n"), Some(vec![Some((0, 1)), None]));
    assert_eq!(spans("a$|(b)", "b"), Some(vec![Some((0, 1)), Some((0, 1))]));
    // A literal "\n" before `$` is still part of the match.
    assert_eq!(spans("a\\n$", "a\n\n"), Some(vec![Some((0, 2))]));
    assert_eq!(translate("a\\n$").unwrap().engine, Engine::Regex);
}

#[test]
fn engines_chosen() {
    for (p, engine) in [
        (
            r"^(\S+) sshd\[\d+\]: Invalid user (?P<user>.*) from (?P<ip>\S+)$",
            Engine::Regex,
        ),
        (r"\bword\b", Engine::Regex),
        (r"(?m)a$\n", Engine::Regex),
        (r"(a$)", Engine::Fancy),
        (r"a$\n", Engine::Fancy),
        (r"(a)\1", Engine::Fancy),
        (r"a(?=b)", Engine::Fancy),
        (r"(?>a)", Engine::Fancy),
        (r"a*+", Engine::Fancy),
        (r"(a)?(?(1)b|c)", Engine::Fancy),
    ] {
        assert_eq!(translate(p).unwrap().engine, engine, "{p}");
    }
}

#[test]
fn group_count_and_names() {
    let m = Matcher::python(r"(a)(?P<x>b)(?:c)(d)(?P<y>e)?").unwrap();
    assert_eq!(m.group_count(), 4);
    assert_eq!(
        m.group_names(),
        vec![(2, "x".to_string()), (4, "y".to_string())]
    );
    // Names Rust would refuse are fine: they never reach the Rust pattern.
    let m = Matcher::python(r"(?P<état>é)(?P=état)").unwrap();
    assert_eq!(m.group_names(), vec![(1, "état".to_string())]);
}

#[test]
fn word_boundary_variants() {
    let t = translate(r"\bx\B").unwrap();
    assert_eq!(t.engine, Engine::Regex);
    assert!(t.for_word_mismatch.is_some());
    assert!(t.for_empty_subject.is_some());
    assert!(translate(r"(?a)\bx").unwrap().for_word_mismatch.is_none());
    assert!(translate(r"\bx").unwrap().for_empty_subject.is_none());
}

/// (pattern, start, end, message start); Python 3.11.7 rejects each
/// pattern with that message (its positions differ in a few cases: here
/// the range covers the offending text).
#[rustfmt::skip]
const ERROR_CASES: &[(&str, usize, usize, &str)] = &[
    (r"(abc", 0, 1, "missing ), unterminated subpattern"),
    (r"a\q", 1, 3, r"bad escape \q"),
    (r"[a-", 0, 1, "unterminated character set"),
    (r"[z-a]", 1, 4, "bad character range z-a"),
    (r"[a-\d]", 1, 5, r"bad character range a-\d"),
    (r"a**", 2, 3, "multiple repeat"),
    (r"*a", 0, 1, "nothing to repeat"),
    (r"{2}", 0, 3, "nothing to repeat"),
    (r"a{3,2}", 2, 6, "min repeat greater than max repeat"),
    (r"(?<name>x)", 1, 4, "unknown extension ?<n"),
    (r"a(?i)b", 1, 5, "global flags not at the start of the expression"),
    (r"(?P<1a>x)", 4, 6, "bad character in group name '1a'"),
    (r"(?P=nope)", 4, 8, "unknown group name 'nope'"),
    (r"\2(a)", 1, 2, "invalid group reference 2"),
    (r"(a)\2", 4, 5, "invalid group reference 2"),
    (r"(a\1)", 2, 4, "cannot refer to an open group"),
    (r"(?<=a+)b", 0, 7, "look-behind requires fixed-width pattern"),
    (r"(?<=a|bc)", 0, 9, "look-behind requires fixed-width pattern"),
    (r"(?<=(a)\1)", 7, 9, "cannot refer to group defined in the same lookbehind subpattern"),
    (r")", 0, 1, "unbalanced parenthesis"),
    ("\\", 0, 1, "bad escape (end of pattern)"),
    (r"(?L)a", 2, 3, "bad inline flags: cannot use 'L' flag with a str pattern"),
    (r"(?au)a", 3, 4, "bad inline flags: flags 'a', 'u' and 'L' are incompatible"),
    (r"(?a)(?u)a", 4, 8, "ASCII and UNICODE flags are incompatible"),
    (r"(?i-i:a)", 5, 6, "bad inline flags: flag turned on and off"),
    (r"(?(1)a|b|c)(x)", 8, 9, "conditional backref with more than two branches"),
    (r"(?(2)a)(b)", 3, 4, "invalid group reference 2"),
    (r"(?(x)a)", 3, 4, "unknown group name 'x'"),
    (r"(?(0)a)", 3, 4, "bad group number"),
    (r"(?P<a>x)(?P<a>y)", 12, 13, "redefinition of group name 'a' as group 2; was group 1"),
    (r"\x4", 0, 3, r"incomplete escape \x4"),
    (r"\u12", 0, 4, r"incomplete escape \u12"),
    (r"\U00110000", 0, 10, r"bad escape \U00110000"),
    (r"\777", 0, 4, r"octal escape value \777 outside of range 0-0o377"),
    (r"[\8]", 1, 3, r"bad escape \8"),
    (r"(?z)", 1, 3, "unknown extension ?z"),
    (r"(?P>x)", 1, 4, "unknown extension ?P>"),
    (r"a{99999999999}", 1, 14, "the repetition number is too large"),
    (r"(?#unterminated", 0, 1, "missing ), unterminated comment"),
    (r"(?", 0, 2, "unexpected end of pattern"),
    (r"x(?t)", 1, 5, "global flags not at the start of the expression"),
    ("é\\q", 2, 4, r"bad escape \q"),
];

#[test]
fn errors_like_python() {
    for &(pattern, start, end, message) in ERROR_CASES {
        let e = Matcher::python(pattern).expect_err(pattern);
        assert_eq!((e.start, e.end), (start, end), "{pattern:?}: {e}");
        assert!(e.message.starts_with(message), "{pattern:?}: {e}");
        assert!(!e.help.is_empty());
    }
    let e = translate(r"(?<name>x)").unwrap_err();
    assert!(e.help.contains("(?P<name>...)"), "{e}");
}

/// Patterns Python accepts but this module refuses, with the range.
#[test]
fn unsupported_features_are_errors() {
    for (pattern, start, end, message) in [
        (r"\N{EM DASH}", 0, 11, "named Unicode escapes"),
        (r"(?t)a", 0, 4, "the TEMPLATE flag"),
        (
            r"x(a?)*",
            5,
            6,
            "repeat of a part that can match the empty string",
        ),
        (
            r"(a|)+x",
            4,
            5,
            "repeat of a part that can match the empty string",
        ),
        (
            r"(?:(a*)b?){1,3}",
            10,
            15,
            "repeat of a part that can match the empty string",
        ),
        (
            r"(a(?(1)b))",
            5,
            6,
            "a conditional inside the group it tests",
        ),
        (r"(a)(?(٣)b)", 6, 8, "bad character in group name"),
    ] {
        let e = translate(pattern).expect_err(pattern);
        assert_eq!((e.start, e.end), (start, end), "{pattern:?}: {e}");
        assert!(e.message.starts_with(message), "{pattern:?}: {e}");
    }
    // Exact repeats and non-empty groups are fine.
    for pattern in [
        r"(a?){3}",
        r"(a+)*",
        r"(?:(a)|b?)*",
        r"(a*)",
        r"(a)?+",
        r"(?>(?:(a)|b)*)",
    ] {
        translate(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
    }
}

#[test]
fn engine_errors_map_back_to_python() {
    // Too big for the regex crate: the whole pattern.
    let p = r"(?:\w{1000}){1000}";
    let e = Matcher::python(p).unwrap_err();
    assert_eq!((e.start, e.end), (0, p.len()));
    assert!(e.message.contains("size limit"), "{e}");
    // Too deep for fancy-regex: the Python group where it gives up.
    let p = format!("{}a{}\\1", "(".repeat(70), ")".repeat(70));
    let e = Matcher::python(&p).unwrap_err();
    assert_eq!((e.start, e.end), (63, 78), "{e}");
    // Translated::python_span
    let t = translate(r"ab(c)").unwrap();
    let c = t.pattern.find('c').unwrap();
    assert_eq!(t.python_span(c), (3, 4));
    assert_eq!(t.python_span(t.pattern.len() + 10), (0, 5));
}

#[test]
fn backtracking_limit_is_an_error() {
    let m = Matcher::python(r"(a+)+\1$").unwrap();
    assert_eq!(m.engine(), Engine::Fancy);
    let text = format!("{}b", "a".repeat(40));
    let mut out = vec![];
    let r = m.search(&text, &mut out);
    assert!(r.is_err(), "{r:?}");
    assert!(out.is_empty());
    // The same matcher still works on reasonable text.
    assert_eq!(m.search("xaa", &mut out), Ok(true));
    assert_eq!(out, vec![Some((1, 3)), Some((1, 2))]);
}

#[test]
fn case_insensitive_back_references_need_ascii_subjects() {
    let m = Matcher::python(r"(?i)(ab)\1").unwrap();
    let mut out = vec![];
    assert_eq!(m.search("xabAB", &mut out), Ok(true));
    assert!(m.search("é abAB", &mut out).is_err());
    assert!(translate(r"(?i)(ab)\1").unwrap().ascii_subjects_only);
    assert!(!translate(r"(ab)\1").unwrap().ascii_subjects_only);
}

#[test]
fn native_patterns() {
    let m = Matcher::native(r"(?P<x>a)(b)").unwrap();
    assert_eq!(m.engine(), Engine::Regex);
    assert_eq!(m.group_count(), 2);
    assert_eq!(m.group_names(), vec![(1, "x".to_string())]);
    assert_eq!(m.describe(), "/(?P<x>a)(b)/");
    let mut out = vec![];
    assert_eq!(m.search("zab", &mut out), Ok(true));
    assert_eq!(out, vec![Some((1, 3)), Some((1, 2)), Some((2, 3))]);
    // Rust's own `$` semantics.
    assert_eq!(m.search("", &mut out), Ok(false));
    let m = Matcher::native("a$").unwrap();
    assert_eq!(m.search("a\n", &mut out), Ok(false));
    // Look-around and back-references fall back to fancy-regex.
    for p in [r"(?<=a)b", r"(a)\1", r"a(?!b)"] {
        assert_eq!(Matcher::native(p).unwrap().engine(), Engine::Fancy, "{p}");
    }
    let m = Matcher::native(r"(?<=a)(b)").unwrap();
    assert_eq!(m.search("ab", &mut out), Ok(true));
    assert_eq!(out, vec![Some((1, 2)), Some((1, 2))]);
    // Errors point into the pattern.
    for (p, start, end) in [
        ("a(", 1, 2),
        ("a{2,1}", 1, 6),
        ("é(", 2, 3),
        (r"(?<=a+", 6, 6),
    ] {
        let e = Matcher::native(p).unwrap_err();
        assert_eq!((e.start, e.end), (start, end), "{p:?}: {e}");
    }
    // Other fancy-only syntax is not enabled by the fallback.
    assert!(Matcher::native(r"(?>a)").is_err());
}

#[test]
fn matcher_is_shareable() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<Matcher>();
    let m = Matcher::python(r"(\d+)").unwrap();
    let m2 = m.clone();
    std::thread::scope(|s| {
        for i in 0..4 {
            let m = &m;
            s.spawn(move || {
                let mut out = vec![];
                for j in 0..200 {
                    let text = format!("x{i}{j}y");
                    assert_eq!(m.search(&text, &mut out), Ok(true));
                    assert_eq!(
                        out[1].map(|(a, b)| &text[a..b]),
                        Some(&text[1..text.len() - 1])
                    );
                }
            });
        }
    });
    let mut out = vec![];
    assert_eq!(m2.search("a1", &mut out), Ok(true));
}
