use super::*;

/// The complete file from the Pyruse documentation, whose "SSH failed
/// logins" chain forgets the `}` that closes `"args": {` (line 25).
const PYRUSE_BROKEN: &str = r#"{
  "actions": {
    "Capture DNAT for SSH": [
      { "filter": "filter_pcre",
        "args": {
          "field": "MESSAGE",
          "re": "^DNAT/ssh:.* SRC=([^ ]+) DST=([^ ]+) .* SPT=([^ ]+) DPT=([^ ]+) ",
          "save": [ "dnatSaddr", "dnatAddr", "dnatPort", "dnatDport" ]
        }
      },
      { "action": "action_dnatCapture",
        "args": {
          "saddr": "dnatSaddr",
          "addr":  "dnatAddr",  "addrValue":  "127.0.0.1",
          "port":  "dnatPort",
          "dport": "dnatDport", "dportValue": "22"
        }
      }
    ],
    "SSH failed logins": [
      { "filter": "filter_equals",
        "args": { "field": "SYSLOG_IDENTIFIER", "value": "sshd" }
      },
      { "filter": "filter_pcre",
        "args": {
          "field": "MESSAGE",
          "re": "^Failed password for (.*) from ([^ ]+) port ([^ ]+) ssh2$",
          "save": [ "sshUser", "clientIP", "clientPort" ]
      },
      { "action": "action_dnatReplace",
        "args": { "addr": "clientIP", "port": "clientPort", "saddrInto": "clientIP" }
      },
      { "action": "action_email",
        "args": { "message": "SSH attack from {clientIP} on {sshUser}@{_HOSTNAME}." }
      }
    ]
  },
  "debug": true
}
"#;

const SAVE_LINE: &str = "\"save\": [ \"sshUser\", \"clientIP\", \"clientPort\" ]";

/// The same file with the missing `}` restored.
fn pyruse_fixed() -> String {
    let with_brace = format!("{SAVE_LINE}\n        }}");
    PYRUSE_BROKEN.replace(SAVE_LINE, &with_brace)
}

fn fail(text: &str) -> JsonError {
    match parse(text) {
        Ok(json) => panic!("{text:?} parsed as {json:?}"),
        Err(e) => e,
    }
}

fn ok(text: &str) -> Json {
    match parse(text) {
        Ok(json) => json,
        Err(e) => panic!("{text:?} failed: {e:?}"),
    }
}

fn range_of(text: &str, needle: &str) -> Range {
    let start = text.find(needle).expect("needle in text");
    Range::new(start, start + needle.len())
}

/// 1-based line and 1-based column (in chars) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Same value as serde_json's, objects compared as Python dicts (last
/// duplicate wins).
fn same(ours: &Json, theirs: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (&ours.kind, theirs) {
        (JsonKind::Null, Value::Null) => true,
        (JsonKind::Bool(a), Value::Bool(b)) => a == b,
        (JsonKind::Int(a), Value::Number(b)) => {
            b.as_i64() == Some(*a) || (b.as_i64().is_none() && b.as_f64() == Some(*a as f64))
        }
        (JsonKind::Float(a), Value::Number(b)) => b.as_f64() == Some(*a),
        (JsonKind::Str(a), Value::String(b)) => a == b,
        (JsonKind::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (JsonKind::Object(members), Value::Object(map)) => {
            let mut keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.len() == map.len()
                && map
                    .iter()
                    .all(|(k, v)| ours.get(k).is_some_and(|mine| same(mine, v)))
        }
        _ => false,
    }
}

fn shifted(j: &Json, by: usize) -> Json {
    let shift = |r: Range| Range::new(r.start + by, r.end + by);
    let kind = match &j.kind {
        JsonKind::Array(items) => JsonKind::Array(items.iter().map(|i| shifted(i, by)).collect()),
        JsonKind::Object(members) => JsonKind::Object(
            members
                .iter()
                .map(|m| Member {
                    key: m.key.clone(),
                    key_range: shift(m.key_range),
                    value: shifted(&m.value, by),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Json {
        kind,
        range: shift(j.range),
    }
}

/// Every range slices the source to its token: parsing the slice alone
/// gives the same node; keys slice to their quoted text, in source order.
fn check_ranges(text: &str, j: &Json) {
    let own = &text[j.range.start..j.range.end];
    assert_eq!(shifted(&ok(own), j.range.start), *j, "range of {own:?}");
    match &j.kind {
        JsonKind::Array(items) => {
            let mut last = j.range.start;
            for item in items {
                assert!(item.range.start > last);
                last = item.range.end;
                check_ranges(text, item);
            }
        }
        JsonKind::Object(members) => {
            let mut last = j.range.start;
            for m in members {
                assert!(m.key_range.start > last, "members in source order");
                assert!(m.value.range.start > m.key_range.end);
                last = m.value.range.end;
                let key_text = &text[m.key_range.start..m.key_range.end];
                assert_eq!(ok(key_text).kind, JsonKind::Str(m.key.clone()));
                check_ranges(text, &m.value);
            }
        }
        _ => {}
    }
}

const VALID: &[&str] = &[
    "{}",
    "[]",
    " \t\r\n{ \"a\" : [ 1 , -2.5e3 , true , false , null , \"x\" ] } \n",
    r#"{"z": 1, "a": 2, "m": {"y": [], "b": {}}, "é": "\u00e9\ud83d\ude00\n\t\"\\\/"}"#,
    r#"[0, -0, 1E+2, 0e0, -0.0, 1.5e-10, 9223372036854775807, -9223372036854775808]"#,
    r#"[9223372036854775808, 123456789012345678901234567890, 1e300, 0.1]"#,
    r#""just a string""#,
    "42",
    r#"{"": "", " ": [[[[{"deep": [null]}]]]]}"#,
    "\"raw é 😀 \u{7f} tab-free\"",
];

#[test]
fn valid_documents_match_serde_json() {
    let fixed = pyruse_fixed();
    let mut docs: Vec<&str> = VALID.to_vec();
    docs.push(&fixed);
    for doc in docs {
        let ours = ok(doc);
        let theirs: serde_json::Value = serde_json::from_str(doc).expect("serde_json");
        assert!(same(&ours, &theirs), "{doc}: {ours:?} vs {theirs:?}");
        check_ranges(doc, &ours);
        assert_eq!(
            ours.range,
            Range::new(doc.len() - doc.trim_start().len(), doc.trim_end().len())
        );
    }
}

#[test]
fn member_order_and_duplicates_are_kept() {
    let doc = r#"{"b": 1, "a": 2, "b": 3, "c": {"x": 0}, "a": 4}"#;
    let json = ok(doc);
    let JsonKind::Object(members) = &json.kind else {
        panic!("not an object")
    };
    let keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["b", "a", "b", "c", "a"]);
    assert_eq!(json.get("b").map(|v| &v.kind), Some(&JsonKind::Int(3)));
    assert_eq!(json.get("a").map(|v| &v.kind), Some(&JsonKind::Int(4)));
    assert_eq!(json.get("nope"), None);
    assert_eq!(members[2].key_range, Range::new(17, 20));
    assert_eq!(members[2].value.range, Range::new(22, 23));
    assert_eq!(
        json.get("c").and_then(|c| c.get("x")).map(|x| x.range),
        Some(Range::new(36, 37))
    );
    assert_eq!(members[0].value.get("b"), None);
}

#[test]
fn values_and_type_names() {
    let json = ok(VALUES);
    let JsonKind::Array(items) = &json.kind else {
        panic!("not an array")
    };
    let names: Vec<&str> = items.iter().map(Json::type_name).collect();
    assert_eq!(
        names,
        [
            "null",
            "true/false",
            "number",
            "number",
            "number",
            "string",
            "array",
            "object",
            "number",
            "number",
            "number",
            "number",
            "number"
        ]
    );
    assert_eq!(items[2].kind, JsonKind::Int(7));
    assert_eq!(items[3].kind, JsonKind::Float(7.0));
    assert_eq!(items[4].kind, JsonKind::Float(100.0));
    assert!(matches!(items[8].kind, JsonKind::Float(f) if f.is_nan()));
    assert_eq!(items[9].kind, JsonKind::Float(f64::INFINITY));
    assert_eq!(items[10].kind, JsonKind::Float(f64::NEG_INFINITY));
    assert_eq!(
        items[11].kind,
        JsonKind::Int(0),
        "Python reads -0 as the int 0"
    );
    assert_eq!(items[12].kind, JsonKind::Float(1e20));
    assert_eq!(items[10].range, range_of(VALUES, "-Infinity"));
}

const VALUES: &str =
    r#"[null, true, 7, 7.0, 1e2, "s", [], {}, NaN, Infinity, -Infinity, -0, 99999999999999999999]"#;

/// Inputs and whether Python 3.11's `json.loads` accepts them (generated
/// by running Python on each).
const PYTHON_VERDICTS: &[(&str, bool)] = &[
    ("0", true),
    ("-0", true),
    ("1.5", true),
    ("-1.5e-3", true),
    ("1E+2", true),
    ("0e0", true),
    ("-0.0", true),
    ("1e999", true),
    ("-1e999", true),
    ("9223372036854775807", true),
    ("-9223372036854775808", true),
    ("9223372036854775808", true),
    ("123456789012345678901234567890", true),
    ("\"\\u0000\"", true),
    ("\"\\ud800\"", true),
    ("\"\\udc00x\"", true),
    ("\"\\ud83d\\ude00\"", true),
    ("\"\\ud800\\u0041\"", true),
    (" \t\r\n[] \n", true),
    ("NaN", true),
    ("-Infinity", true),
    ("Infinity", true),
    ("[Infinity,NaN,-Infinity]", true),
    ("{\"a\":[]}", true),
    ("\"\u{7f}\"", true),
    ("\"é\u{1f600}\"", true),
    ("{\"\":\"\"}", true),
    ("\"\\/\"", true),
    ("\"\\b\\f\\n\\r\\t\\\"\\\\\"", true),
    ("[-0.0]", true),
    ("{\"a\":1,\"a\":2}", true),
    ("true", true),
    ("false", true),
    ("null", true),
    ("[[[[]]]]", true),
    ("{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}", true),
    ("\"\\u00E9\\u00e9\"", true),
    ("", false),
    ("  ", false),
    ("-NaN", false),
    ("+1", false),
    (".5", false),
    ("1.", false),
    ("01", false),
    ("-01", false),
    ("00", false),
    ("-", false),
    ("1e", false),
    ("1e+", false),
    ("1.5.3", false),
    ("[1-2]", false),
    ("\u{feff}{}", false),
    (" \u{feff}{}", false),
    ("\"\u{1}\"", false),
    ("\"a\tb\"", false),
    ("\"a\nb\"", false),
    ("[1,]", false),
    ("{\"a\":1,}", false),
    ("{'a':1}", false),
    ("'a'", false),
    ("\"\\U0041\"", false),
    ("\"\\x\"", false),
    ("\"\\u12\"", false),
    ("\"\\u12G4\"", false),
    ("\"\\ud800\\u12\"", false),
    ("\"\\ud800\\u12\"", false),
    ("nan", false),
    ("inf", false),
    ("True", false),
    ("None", false),
    ("[1 2]", false),
    ("{\"a\" 1}", false),
    ("{\"a\":1 \"b\":2}", false),
    ("[1]]", false),
    ("{}}", false),
    ("// c\n{}", false),
    ("{} // c", false),
    ("/* c */ {}", false),
    ("# c\n{}", false),
    ("\u{c}1", false),
    ("\u{b}1", false),
    ("\u{a0}1", false),
    ("1 2", false),
    ("\"abc", false),
    ("\"", false),
    ("[", false),
    ("{", false),
    ("{\"a\"", false),
    ("{\"a\":", false),
    ("[1,", false),
    ("tru", false),
    ("nul", false),
    ("nullx", false),
    ("truex", false),
    ("{\"a\":1}x", false),
    ("0x10", false),
    ("{,}", false),
    ("[,]", false),
    ("[1,,2]", false),
    ("{\"a\"::1}", false),
    ("{1:2}", false),
    ("{\"a\"=1}", false),
    ("[1;2]", false),
    ("{\"a\":-}", false),
    ("-infinity", false),
    ("-Infinityx", false),
    ("Infinity1", false),
    ("1true", false),
    ("[1true]", false),
    ("\"\\", false),
    ("\"\\\"", false),
    ("[01.5]", false),
    ("1e5.0", false),
    ("0.e1", false),
    ("1.e1", false),
    ("-.5", false),
    ("\u{201c}a\u{201d}", false),
    ("{\u{201c}a\u{201d}:1}", false),
    ("[١]", false),
    ("\u{2028} 1", false),
    ("1\u{a0}", false),
    ("[1]\u{0}", false),
    ("\"\u{a0}\"", true),
    ("\"\u{2028}\"", true),
];

#[test]
fn accepts_exactly_what_python_accepts() {
    for (text, python) in PYTHON_VERDICTS {
        let ours = parse(text);
        assert_eq!(ours.is_ok(), *python, "{text:?}: {ours:?}");
    }
    let digits = "1".repeat(PYTHON_INT_MAX_DIGITS);
    assert!(matches!(ok(&digits).kind, JsonKind::Float(f) if f.is_infinite()));
    assert!(parse(&format!("-{digits}")).is_ok());
    let e = fail(&format!("{digits}1"));
    assert_eq!(e.range, Range::new(0, PYTHON_INT_MAX_DIGITS + 1));
    assert!(e.message.contains("4301 digits"), "{}", e.message);
    assert!(parse(&format!("{digits}1.0")).is_ok());
    assert!(parse(&format!("{digits}1e0")).is_ok());
}

#[test]
fn surrogates() {
    assert_eq!(ok(r#""\ud83d\ude00""#).kind, JsonKind::Str("😀".into()));
    assert_eq!(ok(r#""\uD83D\uDE00""#).kind, JsonKind::Str("😀".into()));
    assert_eq!(ok(r#""\ud800""#).kind, JsonKind::Str("\u{fffd}".into()));
    assert_eq!(ok(r#""\udc00x""#).kind, JsonKind::Str("\u{fffd}x".into()));
    assert_eq!(
        ok(r#""\ud800\u0041""#).kind,
        JsonKind::Str("\u{fffd}A".into())
    );
    assert_eq!(
        ok(r#""\ud800\ud800\udc00""#).kind,
        JsonKind::Str("\u{fffd}\u{10000}".into())
    );
    assert_eq!(ok(r#""\u0000""#).kind, JsonKind::Str("\0".into()));
    let e = fail(r#""\ud800\u12""#);
    assert_eq!(e.range, Range::new(7, 11));
}

#[test]
fn source_offset_follows_escapes() {
    let text = r#"{"re": "a\\b\u00e9c\"d😀e\ud83d\ude00f"}"#;
    let json = ok(text);
    let re = json.get("re").expect("re");
    assert_eq!(re.kind, JsonKind::Str("a\\béc\"d😀e😀f".into()));
    let lit = re.range;
    let l = lit.start + 1;
    let expect = [
        (0, l),
        (1, l + 1),
        (2, l + 3),
        (3, l + 4),
        (4, l + 4),
        (5, l + 10),
        (6, l + 11),
        (7, l + 13),
        (8, l + 14),
        (10, l + 14),
        (12, l + 18),
        (13, l + 19),
        (15, l + 19),
        (17, l + 31),
        (18, l + 32),
        (100, l + 32),
    ];
    for (decoded, source) in expect {
        assert_eq!(
            source_offset(text, lit, decoded),
            source,
            "decoded offset {decoded}"
        );
    }
    // An error at the `b` of the decoded regex points at the source `b`.
    let JsonKind::Str(s) = &re.kind else { panic!() };
    let b = s.find('b').expect("b");
    assert_eq!(&text[source_offset(text, lit, b)..][..1], "b");
    let c = s.find('c').expect("c");
    assert_eq!(&text[source_offset(text, lit, c)..][..1], "c");
    // The key's range works the same way.
    let JsonKind::Object(members) = &json.kind else {
        panic!()
    };
    assert_eq!(source_offset(text, members[0].key_range, 1), 3);
    // Not a string literal: no panic, clamped.
    assert_eq!(source_offset(text, Range::new(0, 1), 3), 3);
    assert_eq!(source_offset(text, Range::new(500, 501), 3), text.len());
    assert_eq!(source_offset("\"ab", Range::new(0, 3), 9), 3);
}

#[test]
fn control_characters_in_strings() {
    let text = "{\"a\": \"x\ty\"}";
    let e = fail(text);
    assert_eq!(e.range, Range::new(8, 9));
    assert!(e.message.contains("tab (U+0009)"), "{}", e.message);
    assert_eq!(e.help, "write `\\t` instead of a raw tab");
    let text = "{\"a\": \"abc\n}";
    let e = fail(text);
    assert_eq!(e.range, Range::new(10, 11));
    assert!(e.message.contains("line feed (U+000A)"), "{}", e.message);
    assert_eq!(
        e.related,
        vec![(Range::new(6, 7), "the string starts here".to_string())]
    );
    let e = fail("\"\u{1}\"");
    assert_eq!(e.range, Range::new(1, 2));
    assert!(e.help.contains("\\u0001"));
    assert!(parse("\"\u{7f}\"").is_ok());
}

#[test]
fn trailing_commas() {
    let e = fail("[1, 2, ]");
    assert_eq!(e.range, Range::new(5, 6));
    assert_eq!(e.message, "trailing comma before `]`");
    assert_eq!(e.help, "remove this comma");
    assert_eq!(
        e.related,
        vec![(Range::new(7, 8), "the array ends here".to_string())]
    );
    let e = fail("{\"a\": 1,\n}");
    assert_eq!(e.range, Range::new(7, 8));
    assert_eq!(e.help, "remove this comma");
    assert_eq!(e.related[0].0, Range::new(9, 10));
}

#[test]
fn single_and_typographic_quotes() {
    let e = fail("{'a': 1}");
    assert_eq!(e.range, Range::new(1, 4));
    assert_eq!(e.message, "expected a string key, found `'a'`");
    assert_eq!(e.help, "JSON strings use double quotes: write `\"a\"`");
    let e = fail("{\"a\": 'b c'}");
    assert_eq!(e.range, Range::new(6, 11));
    assert_eq!(e.message, "expected a value after `:`, found `'b c'`");
    assert!(e.help.starts_with("JSON strings use double quotes"));
    let e = fail("['unclosed\n]");
    assert_eq!(e.range, Range::new(1, 2));
    let e = fail("{\u{201c}a\u{201d}: 1}");
    assert_eq!(e.range, Range::new(1, 8));
    assert!(e.help.contains("typographic"));
}

#[test]
fn comments() {
    let e = fail("{ // hi\n \"a\": 1 }");
    assert_eq!(e.range, Range::new(2, 7));
    assert_eq!(e.message, "unexpected comment `// hi`");
    assert_eq!(e.help, "JSON has no comments: remove it");
    let e = fail("/* x */ {}");
    assert_eq!(e.range, Range::new(0, 7));
    let e = fail("{} /* open");
    assert_eq!(e.range, Range::new(3, 10));
    let e = fail("# note\r\n{}");
    assert_eq!(e.range, Range::new(0, 6));
    assert_eq!(e.help, "JSON has no comments: remove it");
}

#[test]
fn byte_order_mark() {
    let e = fail("\u{feff}{}");
    assert_eq!(e.range, Range::new(0, 3));
    assert!(e.message.contains("byte order mark (BOM)"), "{}", e.message);
    let e = fail(" \u{feff}{}");
    assert_eq!(e.range, Range::new(1, 4));
    assert_eq!(
        e.message,
        "expected a JSON value, found a byte order mark (U+FEFF)"
    );
}

#[test]
fn escapes() {
    let e = fail(r#"["\d+"]"#);
    assert_eq!(e.range, Range::new(2, 4));
    assert_eq!(e.message, "invalid escape `\\d` in a string");
    assert!(e.help.contains("`\\\\`"), "{}", e.help);
    let e = fail(r#"["\é"]"#);
    assert_eq!(e.range, Range::new(2, 5));
    let e = fail(r#"["\u12G4"]"#);
    assert_eq!(e.range, Range::new(2, 8));
    assert_eq!(
        e.message,
        "invalid unicode escape `\\u12G4`: `\\u` needs 4 hexadecimal digits"
    );
    let e = fail(r#"["\u12"]"#);
    assert_eq!(e.range, Range::new(2, 6));
    let e = fail(r#"["abc"#);
    assert_eq!(e.range, Range::new(5, 5));
    assert_eq!(e.message, "unexpected end of file inside a string");
    assert_eq!(e.related[0].0, Range::new(1, 2));
    let e = fail(r#"["\"#);
    assert_eq!(e.range, Range::new(3, 3));
}

#[test]
fn keys_colons_and_commas() {
    let e = fail("{field: 1}");
    assert_eq!(e.range, Range::new(1, 6));
    assert_eq!(e.message, "expected a string key, found `field`");
    assert_eq!(
        e.help,
        "keys are strings in double quotes: write `\"field\"`"
    );
    let e = fail("{\"a\" 1}");
    assert_eq!(e.range, Range::new(5, 6));
    assert_eq!(e.message, "expected `:` after the key, found `1`");
    assert_eq!(e.related, vec![(Range::new(1, 4), "this key".to_string())]);
    let e = fail("{\"a\" = 1}");
    assert!(e.help.contains("not `=`"));
    let e = fail("{\"a\": 1 \"b\": 2}");
    assert_eq!(e.range, Range::new(8, 11));
    assert_eq!(
        e.message,
        "expected `,` or `}` after an object member, found `\"b\"`"
    );
    assert_eq!(
        e.related[0],
        (
            Range::new(7, 7),
            "a `,` is probably missing here".to_string()
        )
    );
    let e = fail("[1 2]");
    assert_eq!(e.range, Range::new(3, 4));
    assert_eq!(
        e.message,
        "expected `,` or `]` after an array element, found `2`"
    );
    let e = fail("[\"a\": 1]");
    assert!(e.help.contains("use an object"));
    let e = fail("{\"a\": 1, {\"b\": 2}}");
    assert_eq!(e.message, "expected a string key, found `{`");
    assert_eq!(e.range, Range::new(9, 10));
    assert_eq!(
        e.related,
        vec![(Range::new(0, 1), "this object is still open".to_string())]
    );
    let e = fail("[1,,2]");
    assert_eq!(e.range, Range::new(3, 4));
    assert_eq!(e.help, "remove the extra `,`");
    let e = fail("{\"a\": }");
    assert_eq!(e.message, "expected a value after `:`, found `}`");
}

#[test]
fn literals_and_stray_characters() {
    let e = fail("True");
    assert_eq!(e.range, Range::new(0, 4));
    assert_eq!(e.message, "expected a JSON value, found `True`");
    assert_eq!(e.help, "JSON literals are lowercase: write `true`");
    assert_eq!(fail("{\"a\": None}").help, "write `null`");
    assert_eq!(fail("[nan]").help, "write `NaN`");
    assert_eq!(fail("{\"a\": tru}").help, "did you mean `true`?");
    assert_eq!(fail("[nul]").help, "did you mean `null`?");
    assert_eq!(fail("[-inf]").range, Range::new(1, 5));
    let e = fail("{\u{a0}}");
    assert_eq!(e.range, Range::new(1, 3));
    assert_eq!(
        e.message,
        "expected a string key, found a no-break space (U+00A0)"
    );
    assert!(e.help.contains("invisible"));
    let e = fail("[1]\0");
    assert_eq!(e.range, Range::new(3, 4));
    assert_eq!(
        e.message,
        "found a NUL character (U+0000) after the end of the document"
    );
}

#[test]
fn numbers() {
    let cases = [
        (
            "[01]",
            Range::new(1, 3),
            "remove the leading zero: write `1`",
        ),
        (
            "[-007]",
            Range::new(1, 5),
            "remove the leading zero: write `-7`",
        ),
        (
            "[1.]",
            Range::new(1, 3),
            "write digits after the point, as in `1.0`, or drop the point",
        ),
        (
            "-",
            Range::new(0, 1),
            "write a number such as `-1` or `-0.5`, or `-Infinity`",
        ),
        (
            "[1e+]",
            Range::new(1, 4),
            "write the exponent's digits, as in `1e6` or `2.5e-3`",
        ),
        (
            "0x10",
            Range::new(0, 4),
            "JSON has no hexadecimal numbers: write the number in decimal",
        ),
        ("[1-2]", Range::new(1, 4), ""),
        ("[1.5.3]", Range::new(1, 6), ""),
        (
            "+1",
            Range::new(0, 2),
            "remove the `+`: JSON numbers have no plus sign",
        ),
        (
            ".5",
            Range::new(0, 2),
            "write a digit before the decimal point: `0.5`",
        ),
    ];
    for (text, range, help) in cases {
        let e = fail(text);
        assert_eq!(e.range, range, "{text}");
        if !help.is_empty() {
            assert_eq!(e.help, help, "{text}");
        }
    }
    assert_eq!(
        fail("[01]").message,
        "invalid number `01`: a number cannot start with `0` followed by digits"
    );
    assert_eq!(fail("+1").message, "expected a JSON value, found `+1`");
}

#[test]
fn extra_data_and_empty_documents() {
    let e = fail("{}}");
    assert_eq!(e.range, Range::new(2, 3));
    assert_eq!(e.message, "unexpected `}` after the end of the document");
    assert_eq!(
        e.related,
        vec![(Range::new(1, 2), "the document ends here".to_string())]
    );
    let e = fail("{} x");
    assert_eq!(e.message, "unexpected `x` after the end of the document");
    assert_eq!(fail("1 2").range, Range::new(2, 3));
    let e = fail("");
    assert_eq!(e.range, Range::new(0, 0));
    assert_eq!(e.message, "expected a JSON value, found end of file");
    assert_eq!(fail("  \n").range, Range::new(3, 3));
}

#[test]
fn end_of_file_inside_containers() {
    let e = fail("{\"a\": {");
    assert_eq!(e.range, Range::new(7, 7));
    assert_eq!(
        e.message,
        "unexpected end of file: 2 objects are still open"
    );
    assert_eq!(e.help, "close them with `}}`");
    let text = "{\"a\": [1, {\"b\": 2}";
    let e = fail(text);
    assert_eq!(e.range, Range::at(text.len()));
    assert_eq!(
        e.message,
        "unexpected end of file: 1 object and 1 array are still open"
    );
    assert_eq!(e.help, "close them with `]}`");
    assert_eq!(
        e.related,
        vec![
            (Range::new(6, 7), "this array is still open".to_string()),
            (Range::new(0, 1), "this object is still open".to_string()),
        ]
    );
    let e = fail("[");
    assert_eq!(e.message, "unexpected end of file: 1 array is still open");
    assert_eq!(e.help, "close it with `]`");
    let e = fail("{\"a\":");
    assert_eq!(
        e.help,
        "complete the last member or element, then close it with `}`"
    );
}

#[test]
fn nesting_depth_is_limited() {
    let deep = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(parse(&deep).is_ok());
    let too_deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    let e = fail(&too_deep);
    assert_eq!(e.range, Range::new(MAX_DEPTH, MAX_DEPTH + 1));
    assert!(e.message.starts_with("too deeply nested"));
    let e = fail(&"[{\"a\":".repeat(200_000));
    assert!(e.message.starts_with("too deeply nested"));
    assert!(fail(&"[".repeat(1_000_000))
        .message
        .starts_with("too deeply nested"));
}

#[test]
fn huge_string() {
    let big = format!("[\"{}\"]", "é".repeat(500_000));
    let json = ok(&big);
    let JsonKind::Array(items) = json.kind else {
        panic!()
    };
    assert_eq!(items[0].range, Range::new(1, big.len() - 1));
}

#[test]
fn missing_brace_in_the_documentation_example() {
    let text = PYRUSE_BROKEN;
    let e = fail(text);
    let save = text.find(SAVE_LINE).expect("save line") + SAVE_LINE.len();
    assert_eq!(e.range, Range::at(save));
    assert_eq!(line_col(text, e.range.start), (28, 58));
    assert_eq!(
        e.message,
        "missing `}` to close the object opened on line 25"
    );
    assert_eq!(
        e.help,
        "insert `}` to close `\"args\": {` (line 25) before the `}` on line 29"
    );
    let (args_brace, label) = &e.related[0];
    assert_eq!(label, "this object is never closed");
    assert_eq!(line_col(text, args_brace.start), (25, 17));
    assert_eq!(&text[args_brace.start..args_brace.end], "{");
    let (closer, label) = &e.related[1];
    assert_eq!(line_col(text, closer.start), (29, 7));
    assert_eq!(
        label,
        "this `}` lines up with line 24 but closes the object opened on line 25"
    );
    let (found, label) = &e.related[2];
    assert_eq!(line_col(text, found.start), (30, 7));
    assert_eq!(
        label,
        "the error shows up here: expected a string key, found `{`"
    );
    // Inserting the `}` where the error says gives the valid file.
    let mut repaired = text.to_string();
    repaired.insert(e.range.start, '}');
    assert!(parse(&repaired).is_ok());
    assert!(parse(&pyruse_fixed()).is_ok());
}

#[test]
fn missing_bracket_of_the_wrong_kind() {
    let text = r#"{
  "actions": {
    "x": [
      { "filter": "filter_pcre",
        "args": {
          "save": [ "a", "b"
        }
      }
    ]
  }
}"#;
    let e = fail(text);
    assert_eq!(line_col(text, e.range.start), (6, 29));
    assert_eq!(e.range.start, e.range.end);
    assert_eq!(e.message, "missing `]` to close the array opened on line 6");
    assert_eq!(
        e.help,
        "insert `]` to close `\"save\": [` (line 6) before the `}` on line 7"
    );
    assert_eq!(line_col(text, e.related[0].0.start), (6, 19));
    assert_eq!(e.related[1].1, "the array must be closed before this `}`");
    assert_eq!(e.related.len(), 2);
}

#[test]
fn missing_bracket_found_by_indentation() {
    let text = "{\n  \"rows\": [\n    [ 1, 2,\n      3\n  ],\n  \"n\": 1\n}\n";
    let e = fail(text);
    assert_eq!(line_col(text, e.range.start), (4, 8));
    assert_eq!(e.message, "missing `]` to close the array opened on line 3");
    assert_eq!(
        e.help,
        "insert `]` to close the `[` (line 3) before the `]` on line 5"
    );

    // The error only shows up at the end of the file.
    let text = "{\n  \"a\": {\n    \"b\": {\n      \"c\": 1\n  },\n  \"d\": 2\n}\n";
    let e = fail(text);
    assert_eq!(line_col(text, e.range.start), (4, 13));
    assert_eq!(
        e.message,
        "missing `}` to close the object opened on line 3"
    );
    assert_eq!(
        e.help,
        "insert `}` to close `\"b\": {` (line 3) before the `}` on line 5"
    );
    assert_eq!(
        e.related[2].1,
        "the error shows up here: unexpected end of file: 1 object is still open"
    );
}

#[test]
fn heuristic_falls_back_to_the_plain_error() {
    // A closer indented like an outer object, but adding a `}` there
    // does not help: the error is a missing comma.
    let text = "{\n  \"a\": {\n    \"b\": { \"c\": 1\n  }\n  },\n  \"d\": 1 \"e\": 2\n}\n";
    let e = fail(text);
    assert_eq!(
        e.message,
        "expected `,` or `}` after an object member, found `\"e\"`"
    );
    assert_eq!(line_col(text, e.range.start), (6, 10));
    // A neatly indented file that is merely cut short.
    let fixed = pyruse_fixed();
    let cut = &fixed[..fixed.find("\"debug\"").expect("debug")];
    let e = fail(cut);
    assert!(
        e.message
            .starts_with("expected a string key, found end of file")
            || e.message.starts_with("unexpected end of file"),
        "{}",
        e.message
    );
    assert_eq!(e.range, Range::at(cut.len()));
}

fn assert_sane(text: &str, result: &Result<Json, JsonError>) {
    if let Err(e) = result {
        let mut ranges = vec![e.range];
        ranges.extend(e.related.iter().map(|(r, _)| *r));
        for r in ranges {
            assert!(r.start <= r.end && r.end <= text.len(), "{r:?} in {text:?}");
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
        assert!(!e.message.is_empty() && !e.help.is_empty());
    }
}

#[test]
fn no_panic_on_truncations_and_edits() {
    let fixed = pyruse_fixed();
    for doc in [PYRUSE_BROKEN, fixed.as_str(), VALID[3]] {
        for (i, _) in doc.char_indices().chain([(doc.len(), ' ')]) {
            let prefix = &doc[..i];
            assert_sane(prefix, &parse(prefix));
            let suffix = &doc[i..];
            assert_sane(suffix, &parse(suffix));
        }
    }
    for (i, c) in fixed.char_indices() {
        let mut deleted = fixed.clone();
        deleted.replace_range(i..i + c.len_utf8(), "");
        assert_sane(&deleted, &parse(&deleted));
        for insert in ["}", "]", "\"", ","] {
            let mut inserted = fixed.clone();
            inserted.insert_str(i, insert);
            assert_sane(&inserted, &parse(&inserted));
        }
    }
}

#[test]
fn no_panic_on_random_input() {
    let alphabet: Vec<char> =
        "{}[]:,\"\\u0123456789abcdefEe.+-ntrufalsINaNy \n\t'/*#é😀\u{a0}\u{feff}\u{0}"
            .chars()
            .collect();
    let mut rng = crate::testing::Rng(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next();
    for round in 0..20_000 {
        let len = (next() % 48) as usize;
        let text: String = if round % 4 == 0 {
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        };
        let result = parse(&text);
        assert_sane(&text, &result);
        if let Ok(json) = &result {
            if !text.contains("NaN") {
                check_ranges(&text, json);
            }
        }
        let literal = Range::new((next() % 50) as usize, (next() % 50) as usize);
        let _ = source_offset(&text, literal, (next() % 60) as usize);
    }
}

/// Whether the grammar and the diagnosis agree on `text`: the grammar
/// accepts it exactly when the diagnosis finds no error.
fn agree(text: &str) -> bool {
    let grammar = nesting_fits(text)
        && JsonParser::parse(Rule::document, text)
            .ok()
            .and_then(|mut pairs| pairs.next())
            .and_then(|doc| doc.into_inner().next())
            .is_some_and(|value| build(text, value).is_ok());
    grammar == diagnose::scan(text).is_none()
}

#[test]
fn grammar_and_diagnosis_agree() {
    let fixed = pyruse_fixed();
    let mut texts: Vec<String> = PYTHON_VERDICTS.iter().map(|(t, _)| t.to_string()).collect();
    texts.extend(VALID.iter().map(|t| t.to_string()));
    texts.push(VALUES.to_string());
    texts.push(PYRUSE_BROKEN.to_string());
    for (i, c) in fixed.char_indices() {
        texts.push(fixed[..i].to_string());
        let mut deleted = fixed.clone();
        deleted.replace_range(i..i + c.len_utf8(), "");
        texts.push(deleted);
    }
    for text in &texts {
        assert!(agree(text), "{text:?}");
    }
    let alphabet: Vec<char> = "{}[]:,\"\\u0123456789aefEe.+-ntrulsINaNy \n\t'é\u{1}"
        .chars()
        .collect();
    let mut rng = crate::testing::Rng(0x2545_f491_4f6c_dd1d);
    let mut next = move || rng.next();
    let pieces = [
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"a\"",
        "\"\\u00e9\"",
        "1",
        "-0.5e3",
        "true",
        "null",
        "NaN",
        "-Infinity",
        " ",
        "\n",
    ];
    for round in 0..20_000 {
        let len = (next() % 24) as usize;
        let text: String = if round % 2 == 0 {
            (0..len)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect()
        } else {
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        };
        assert!(agree(&text), "{text:?}");
    }
}

#[test]
fn deep_nesting_does_not_reach_the_grammar() {
    let e = fail(&"[".repeat(100_000));
    assert_eq!(e.range, Range::new(MAX_DEPTH, MAX_DEPTH + 1));
    assert!(e.message.starts_with("too deeply nested"), "{}", e.message);
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(fail(&deep).message.starts_with("too deeply nested"));
    let objects = "{\"a\":".repeat(MAX_DEPTH - 1) + "{}" + &"}".repeat(MAX_DEPTH - 1);
    assert!(parse(&objects).is_ok());
    // Brackets inside strings do not count.
    let quoted = format!("[\"{}\"]", "[".repeat(100_000));
    assert!(parse(&quoted).is_ok());
    // An earlier error is still the one reported.
    let e = fail(&format!("[1 2, {}", "[".repeat(100_000)));
    assert_eq!(e.range, Range::new(3, 4));
}
