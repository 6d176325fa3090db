//! Every expected string below was printed by CPython 3.11
//! (`str.format_map` over a dict whose `__missing__` returns None, with
//! datetimes built as `datetime.fromtimestamp(t, timezone.utc).astimezone()`
//! under the given `TZ`).

use super::*;

const BOOT: [u8; 16] = [
    0x9e, 0xc1, 0xeb, 0x60, 0xc7, 0x2a, 0x20, 0x52, 0x86, 0xd6, 0x14, 0xfc, 0x42, 0x9e, 0xb4, 0xb9,
];

fn s(t: &str) -> Value {
    Value::Str(t.to_owned())
}

/// The zone, or `None` when the time zone database is missing.
fn zone(name: &str) -> Option<TimeZone> {
    if name == "UTC" {
        return Some(TimeZone::UTC);
    }
    TimeZone::get(name).ok()
}

fn render(
    tpl: &str,
    vals: &[(&str, Value)],
    tz: &TimeZone,
    missing: Missing,
) -> Result<String, RenderError> {
    let t = Template::parse(tpl).unwrap_or_else(|e| panic!("{tpl:?} does not parse: {e:?}"));
    let values: Vec<Option<&Value>> = t
        .fields()
        .iter()
        .map(|f| vals.iter().find(|(n, _)| n == f).map(|(_, v)| v))
        .collect();
    let mut out = String::from("<");
    t.render(&|k| values[k], missing, tz, &mut out)?;
    assert!(out.starts_with('<'));
    Ok(out[1..].to_owned())
}

#[track_caller]
fn ok(tpl: &str, vals: &[(&str, Value)], tz: &str, expected: &str) {
    let Some(tz) = zone(tz) else { return };
    assert_eq!(
        render(tpl, vals, &tz, Missing::PythonNone).as_deref(),
        Ok(expected),
        "template {tpl:?}"
    );
}

#[track_caller]
fn render_err(tpl: &str, vals: &[(&str, Value)], tz: &str, message: &str) {
    let Some(tz) = zone(tz) else { return };
    match render(tpl, vals, &tz, Missing::PythonNone) {
        Err(e) => assert_eq!(e.message, message, "template {tpl:?}"),
        Ok(out) => panic!("template {tpl:?} rendered {out:?}, expected error {message:?}"),
    }
}

#[track_caller]
fn parse_err(tpl: &str, message: &str) {
    match Template::parse(tpl) {
        Err(e) => {
            assert_eq!(e.message, message, "template {tpl:?}");
            assert!(
                e.start <= e.end && e.end <= tpl.len(),
                "range of {tpl:?}: {e:?}"
            );
            assert!(tpl.is_char_boundary(e.start) && tpl.is_char_boundary(e.end));
            assert!(!e.help.is_empty());
        }
        Ok(_) => panic!("template {tpl:?} parsed, expected error {message:?}"),
    }
}

/// Renders each template (reading the field `x` = `v`) in zone `tz`.
#[track_caller]
fn check(v: &Value, tz: &str, cases: &[(&str, Result<&str, &str>)]) {
    let Some(zone) = zone(tz) else { return };
    for (tpl, expected) in cases {
        let got = render(tpl, &[("x", v.clone())], &zone, Missing::PythonNone);
        let got = got.as_deref().map_err(|e| e.message.as_str());
        assert_eq!(got, *expected, "template {tpl:?} with {v:?}");
    }
}

#[track_caller]
fn plain(v: Value, tz: &str, expected_str: &str, expected_repr: &str) {
    let Some(tz) = zone(tz) else { return };
    assert_eq!(render_str(&v, &tz), expected_str, "str of {v:?}");
    assert_eq!(render_repr(&v, &tz), expected_repr, "repr of {v:?}");
}

#[test]
fn must_pass_examples() {
    let vals = [
        ("fails", Value::Int(3)),
        ("thatIP", s("203.0.113.9")),
        ("__REALTIME_TIMESTAMP", Value::Time(1709337606000123)),
        ("_HOSTNAME", s("dmz")),
        ("_BOOT_ID", Value::Uuid(BOOT)),
        ("PRIORITY", Value::Int(4)),
    ];
    ok(
        "[{fails:^9d}] {thatIP} banned at {__REALTIME_TIMESTAMP} on {_HOSTNAME} (boot {_BOOT_ID}, prio {PRIORITY:02d}, missing {noSuchField})",
        &vals,
        "UTC",
        "[    3    ] 203.0.113.9 banned at 2024-03-02 00:00:06.000123+00:00 on dmz (boot 9ec1eb60-c72a-2052-86d6-14fc429eb4b9, prio 04, missing None)",
    );
    ok(
        "token {tok!r} {tok:>12}|{tok:-^9}|",
        &[("tok", s("a&b-c"))],
        "UTC",
        "token 'a&b-c'        a&b-c|--a&b-c--|",
    );
    ok(
        "token {tok!r} {tok:>12}|{tok:-^9}|",
        &[("tok", s("abc"))],
        "UTC",
        "token 'abc'          abc|---abc---|",
    );
    let vals = [
        (
            "_CMDLINE",
            Value::Bytes(b"/usr/bin/perl -e print\xff\xfe'\\".to_vec()),
        ),
        ("MULTI", Value::List(vec![s("one"), s("two")])),
        ("PRIORITY", Value::Int(6)),
        ("_PID", Value::Int(1234567)),
        ("_UID", Value::Int(1000)),
        ("_BOOT_ID", Value::Uuid(BOOT)),
        ("__REALTIME_TIMESTAMP", Value::Time(1709337699000099)),
        ("_SOURCE_REALTIME_TIMESTAMP", Value::Time(1709337599999000)),
    ];
    ok(
        "cmd={_CMDLINE} multi={MULTI} prio={PRIORITY:>3} pid={_PID:,} uid={_UID:x} boot={_BOOT_ID} t={__REALTIME_TIMESTAMP} src={_SOURCE_REALTIME_TIMESTAMP} none={NOPE} braces={{x}}",
        &vals,
        "UTC",
        "cmd=b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\" multi=['one', 'two'] prio=  6 pid=1,234,567 uid=3e8 boot=9ec1eb60-c72a-2052-86d6-14fc429eb4b9 t=2024-03-02 00:01:39.000099+00:00 src=2024-03-01 23:59:59.999000+00:00 none=None braces={x}",
    );
}

#[test]
fn non_utc_zone() {
    // Europe/Paris from the tz database; a fixed +01:00 zone without it
    // (the same offset in winter).
    let tz = TimeZone::get("Europe/Paris").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(1)));
    let t = [("t", Value::Time(1709337606000123))];
    assert_eq!(
        render("{t} {t:%H:%M %z}", &t, &tz, Missing::PythonNone).as_deref(),
        Ok("2024-03-02 01:00:06.000123+01:00 01:00 +0100")
    );
    assert_eq!(
        render_str(&Value::Time(1709337600000000), &tz),
        "2024-03-02 01:00:00+01:00"
    );
    // Summer time and a zone with a half-hour offset.
    ok(
        "{t} {t:%z %Z}",
        &[("t", Value::Time(1720000000000000))],
        "Europe/Paris",
        "2024-07-03 11:46:40+02:00 +0200 CEST",
    );
    ok(
        "{t} {t:%z %Z}",
        &[("t", Value::Time(1720000000000000))],
        "Asia/Kolkata",
        "2024-07-03 15:16:40+05:30 +0530 IST",
    );
    // Paris mean time before 1911: an offset with seconds.
    ok(
        "{t} {t:%z}",
        &[("t", Value::Time(-2208988800000000))],
        "Europe/Paris",
        "1900-01-01 00:09:21+00:09:21 +000921",
    );
}

#[test]
fn format_specs() {
    // str
    check(
        &s("a&b-c"),
        "UTC",
        &[
            ("[{x:}]", Ok("[a&b-c]")),
            ("[{x:>12}]", Ok("[       a&b-c]")),
            ("[{x:<8}]", Ok("[a&b-c   ]")),
            ("[{x:^9}]", Ok("[  a&b-c  ]")),
            ("[{x:-^9}]", Ok("[--a&b-c--]")),
            ("[{x:*>6}]", Ok("[*a&b-c]")),
            ("[{x:0>6}]", Ok("[0a&b-c]")),
            ("[{x:05}]", Ok("[a&b-c]")),
            ("[{x:.2}]", Ok("[a&]")),
            ("[{x:10.3}]", Ok("[a&b       ]")),
            ("[{x:^10.1}]", Ok("[    a     ]")),
            ("[{x:s}]", Ok("[a&b-c]")),
            ("[{x:>5s}]", Ok("[a&b-c]")),
            ("[{x:é^7}]", Ok("[éa&b-cé]")),
            ("[{x:😀<4}]", Ok("[a&b-c]")),
            ("[{x:<}]", Ok("[a&b-c]")),
            ("[{x:=<5}]", Ok("[a&b-c]")),
            (
                "[{x:=5}]",
                Err("'=' alignment not allowed in string format specifier"),
            ),
            (
                "[{x:+}]",
                Err("Sign not allowed in string format specifier"),
            ),
            (
                "[{x: }]",
                Err("Space not allowed in string format specifier"),
            ),
            (
                "[{x:#}]",
                Err("Alternate form (#) not allowed in string format specifier"),
            ),
            (
                "[{x:z}]",
                Err("Negative zero coercion (z) not allowed in string format specifier"),
            ),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'str'"),
            ),
            ("[{x:,}]", Err("Cannot specify ',' with 's'.")),
            ("[{x:_}]", Err("Cannot specify '_' with 's'.")),
            ("[{x:x<4}]", Ok("[a&b-c]")),
        ],
    );
    check(
        &s("é☃😀"),
        "UTC",
        &[
            ("[{x:>6}]", Ok("[   é☃😀]")),
            ("[{x:.2}]", Ok("[é☃]")),
            ("[{x:_^7.1}]", Ok("[___é___]")),
        ],
    );
    check(
        &s(""),
        "UTC",
        &[("[{x:^6}]", Ok("[      ]")), ("[{x:.0}]", Ok("[]"))],
    );
    // int
    check(
        &Value::Int(1234567),
        "UTC",
        &[
            ("[{x:}]", Ok("[1234567]")),
            ("[{x:d}]", Ok("[1234567]")),
            ("[{x:^9d}]", Ok("[ 1234567 ]")),
            ("[{x:02d}]", Ok("[1234567]")),
            ("[{x:>3}]", Ok("[1234567]")),
            ("[{x:<5}]", Ok("[1234567]")),
            ("[{x:^6}]", Ok("[1234567]")),
            ("[{x:=+8}]", Ok("[+1234567]")),
            ("[{x:+}]", Ok("[+1234567]")),
            ("[{x: }]", Ok("[ 1234567]")),
            ("[{x:-}]", Ok("[1234567]")),
            ("[{x:,}]", Ok("[1,234,567]")),
            ("[{x:_}]", Ok("[1_234_567]")),
            ("[{x:010,}]", Ok("[01,234,567]")),
            ("[{x:09,}]", Ok("[1,234,567]")),
            ("[{x:08_}]", Ok("[1_234_567]")),
            ("[{x:0=10,}]", Ok("[01,234,567]")),
            ("[{x:<010}]", Ok("[1234567000]")),
            ("[{x:^010}]", Ok("[0123456700]")),
            ("[{x:x}]", Ok("[12d687]")),
            ("[{x:X}]", Ok("[12D687]")),
            ("[{x:#x}]", Ok("[0x12d687]")),
            ("[{x:#X}]", Ok("[0X12D687]")),
            ("[{x:#010x}]", Ok("[0x0012d687]")),
            ("[{x:#010_x}]", Ok("[0x012_d687]")),
            ("[{x:_b}]", Ok("[1_0010_1101_0110_1000_0111]")),
            ("[{x:012_b}]", Ok("[1_0010_1101_0110_1000_0111]")),
            ("[{x:#b}]", Ok("[0b100101101011010000111]")),
            ("[{x:o}]", Ok("[4553207]")),
            ("[{x:#o}]", Ok("[0o4553207]")),
            ("[{x:n}]", Ok("[1234567]")),
            ("[{x:e}]", Ok("[1.234567e+06]")),
            ("[{x:.2e}]", Ok("[1.23e+06]")),
            ("[{x:f}]", Ok("[1234567.000000]")),
            ("[{x:.1f}]", Ok("[1234567.0]")),
            ("[{x:g}]", Ok("[1.23457e+06]")),
            ("[{x:%}]", Ok("[123456700.000000%]")),
            ("[{x:.1%}]", Ok("[123456700.0%]")),
            ("[{x:,.2f}]", Ok("[1,234,567.00]")),
            ("[{x:c}]", Err("%c arg not in range(0x110000)")),
            ("[{x:5c}]", Err("%c arg not in range(0x110000)")),
            ("[{x:05c}]", Err("%c arg not in range(0x110000)")),
            ("[{x:*^+9,d}]", Ok("[+1,234,567]")),
            (
                "[{x:.2}]",
                Err("Precision not allowed in integer format specifier"),
            ),
            (
                "[{x:z}]",
                Err("Negative zero coercion (z) not allowed in integer format specifier"),
            ),
            (
                "[{x:s}]",
                Err("Unknown format code 's' for object of type 'int'"),
            ),
        ],
    );
    check(
        &Value::Int(-42),
        "UTC",
        &[
            ("[{x:}]", Ok("[-42]")),
            ("[{x:d}]", Ok("[-42]")),
            ("[{x:^9d}]", Ok("[   -42   ]")),
            ("[{x:02d}]", Ok("[-42]")),
            ("[{x:>3}]", Ok("[-42]")),
            ("[{x:<5}]", Ok("[-42  ]")),
            ("[{x:^6}]", Ok("[ -42  ]")),
            ("[{x:=+8}]", Ok("[-     42]")),
            ("[{x:+}]", Ok("[-42]")),
            ("[{x: }]", Ok("[-42]")),
            ("[{x:-}]", Ok("[-42]")),
            ("[{x:,}]", Ok("[-42]")),
            ("[{x:_}]", Ok("[-42]")),
            ("[{x:010,}]", Ok("[-0,000,042]")),
            ("[{x:09,}]", Ok("[-0,000,042]")),
            ("[{x:08_}]", Ok("[-000_042]")),
            ("[{x:0=10,}]", Ok("[-0,000,042]")),
            ("[{x:<010}]", Ok("[-420000000]")),
            ("[{x:^010}]", Ok("[000-420000]")),
            ("[{x:x}]", Ok("[-2a]")),
            ("[{x:X}]", Ok("[-2A]")),
            ("[{x:#x}]", Ok("[-0x2a]")),
            ("[{x:#X}]", Ok("[-0X2A]")),
            ("[{x:#010x}]", Ok("[-0x000002a]")),
            ("[{x:#010_x}]", Ok("[-0x00_002a]")),
            ("[{x:_b}]", Ok("[-10_1010]")),
            ("[{x:012_b}]", Ok("[-0_0010_1010]")),
            ("[{x:#b}]", Ok("[-0b101010]")),
            ("[{x:o}]", Ok("[-52]")),
            ("[{x:#o}]", Ok("[-0o52]")),
            ("[{x:n}]", Ok("[-42]")),
            ("[{x:e}]", Ok("[-4.200000e+01]")),
            ("[{x:.2e}]", Ok("[-4.20e+01]")),
            ("[{x:f}]", Ok("[-42.000000]")),
            ("[{x:.1f}]", Ok("[-42.0]")),
            ("[{x:g}]", Ok("[-42]")),
            ("[{x:%}]", Ok("[-4200.000000%]")),
            ("[{x:.1%}]", Ok("[-4200.0%]")),
            ("[{x:,.2f}]", Ok("[-42.00]")),
            ("[{x:c}]", Err("%c arg not in range(0x110000)")),
            ("[{x:5c}]", Err("%c arg not in range(0x110000)")),
            ("[{x:05c}]", Err("%c arg not in range(0x110000)")),
            ("[{x:*^+9,d}]", Ok("[***-42***]")),
            (
                "[{x:.2}]",
                Err("Precision not allowed in integer format specifier"),
            ),
            (
                "[{x:z}]",
                Err("Negative zero coercion (z) not allowed in integer format specifier"),
            ),
            (
                "[{x:s}]",
                Err("Unknown format code 's' for object of type 'int'"),
            ),
        ],
    );
    check(
        &Value::Int(0),
        "UTC",
        &[
            ("[{x:}]", Ok("[0]")),
            ("[{x:d}]", Ok("[0]")),
            ("[{x:^9d}]", Ok("[    0    ]")),
            ("[{x:02d}]", Ok("[00]")),
            ("[{x:>3}]", Ok("[  0]")),
            ("[{x:<5}]", Ok("[0    ]")),
            ("[{x:^6}]", Ok("[  0   ]")),
            ("[{x:=+8}]", Ok("[+      0]")),
            ("[{x:+}]", Ok("[+0]")),
            ("[{x: }]", Ok("[ 0]")),
            ("[{x:-}]", Ok("[0]")),
            ("[{x:,}]", Ok("[0]")),
            ("[{x:_}]", Ok("[0]")),
            ("[{x:010,}]", Ok("[00,000,000]")),
            ("[{x:09,}]", Ok("[0,000,000]")),
            ("[{x:08_}]", Ok("[0_000_000]")),
            ("[{x:0=10,}]", Ok("[00,000,000]")),
            ("[{x:<010}]", Ok("[0000000000]")),
            ("[{x:^010}]", Ok("[0000000000]")),
            ("[{x:x}]", Ok("[0]")),
            ("[{x:X}]", Ok("[0]")),
            ("[{x:#x}]", Ok("[0x0]")),
            ("[{x:#X}]", Ok("[0X0]")),
            ("[{x:#010x}]", Ok("[0x00000000]")),
            ("[{x:#010_x}]", Ok("[0x000_0000]")),
            ("[{x:_b}]", Ok("[0]")),
            ("[{x:012_b}]", Ok("[00_0000_0000]")),
            ("[{x:#b}]", Ok("[0b0]")),
            ("[{x:o}]", Ok("[0]")),
            ("[{x:#o}]", Ok("[0o0]")),
            ("[{x:n}]", Ok("[0]")),
            ("[{x:e}]", Ok("[0.000000e+00]")),
            ("[{x:.2e}]", Ok("[0.00e+00]")),
            ("[{x:f}]", Ok("[0.000000]")),
            ("[{x:.1f}]", Ok("[0.0]")),
            ("[{x:g}]", Ok("[0]")),
            ("[{x:%}]", Ok("[0.000000%]")),
            ("[{x:.1%}]", Ok("[0.0%]")),
            ("[{x:,.2f}]", Ok("[0.00]")),
            ("[{x:c}]", Ok("[\u{0}]")),
            ("[{x:5c}]", Ok("[    \u{0}]")),
            ("[{x:05c}]", Ok("[0000\u{0}]")),
            ("[{x:*^+9,d}]", Ok("[***+0****]")),
            (
                "[{x:.2}]",
                Err("Precision not allowed in integer format specifier"),
            ),
            (
                "[{x:z}]",
                Err("Negative zero coercion (z) not allowed in integer format specifier"),
            ),
            (
                "[{x:s}]",
                Err("Unknown format code 's' for object of type 'int'"),
            ),
        ],
    );
    check(
        &Value::Int(128512),
        "UTC",
        &[("[{x:c}]", Ok("[😀]")), ("[{x:^5c}]", Ok("[  😀  ]"))],
    );
    check(
        &Value::Int(i64::MIN),
        "UTC",
        &[
            ("[{x:,}]", Ok("[-9,223,372,036,854,775,808]")),
            (
                "[{x:#b}]",
                Ok("[-0b1000000000000000000000000000000000000000000000000000000000000000]"),
            ),
            ("[{x:e}]", Ok("[-9.223372e+18]")),
        ],
    );
    check(
        &Value::Int(9223372036854775807),
        "UTC",
        &[
            ("[{x:x}]", Ok("[7fffffffffffffff]")),
            ("[{x:_d}]", Ok("[9_223_372_036_854_775_807]")),
            ("[{x:.3g}]", Ok("[9.22e+18]")),
        ],
    );
    // bool
    check(
        &Value::Bool(true),
        "UTC",
        &[
            ("[{x:}]", Ok("[True]")),
            ("[{x:d}]", Ok("[1]")),
            ("[{x:>5}]", Ok("[    1]")),
            ("[{x:^7}]", Ok("[   1   ]")),
            ("[{x:x}]", Ok("[1]")),
            ("[{x:.2f}]", Ok("[1.00]")),
            ("[{x:+}]", Ok("[+1]")),
            (
                "[{x:s}]",
                Err("Unknown format code 's' for object of type 'bool'"),
            ),
        ],
    );
    check(
        &Value::Bool(false),
        "UTC",
        &[("[{x}]", Ok("[False]")), ("[{x:05}]", Ok("[00000]"))],
    );
    // float
    check(
        &Value::Float(2.5),
        "UTC",
        &[
            ("[{x:}]", Ok("[2.5]")),
            ("[{x:.2f}]", Ok("[2.50]")),
            ("[{x:.0f}]", Ok("[2]")),
            ("[{x:#.0f}]", Ok("[2.]")),
            ("[{x:.2e}]", Ok("[2.50e+00]")),
            ("[{x:E}]", Ok("[2.500000E+00]")),
            ("[{x:.3g}]", Ok("[2.5]")),
            ("[{x:G}]", Ok("[2.5]")),
            ("[{x:#g}]", Ok("[2.50000]")),
            ("[{x:.3}]", Ok("[2.5]")),
            ("[{x:#}]", Ok("[2.5]")),
            ("[{x:%}]", Ok("[250.000000%]")),
            ("[{x:n}]", Ok("[2.5]")),
            ("[{x:,.2f}]", Ok("[2.50]")),
            ("[{x:_}]", Ok("[2.5]")),
            ("[{x:015,.2f}]", Ok("[0,000,000,002.50]")),
            ("[{x:+010.1f}]", Ok("[+0000002.5]")),
            ("[{x:=+12.3e}]", Ok("[+  2.500e+00]")),
            ("[{x:z}]", Ok("[2.5]")),
            ("[{x:z.1f}]", Ok("[2.5]")),
            ("[{x:^12}]", Ok("[    2.5     ]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(
        &Value::Float(-0.0),
        "UTC",
        &[
            ("[{x:}]", Ok("[-0.0]")),
            ("[{x:.2f}]", Ok("[-0.00]")),
            ("[{x:.0f}]", Ok("[-0]")),
            ("[{x:#.0f}]", Ok("[-0.]")),
            ("[{x:.2e}]", Ok("[-0.00e+00]")),
            ("[{x:E}]", Ok("[-0.000000E+00]")),
            ("[{x:.3g}]", Ok("[-0]")),
            ("[{x:G}]", Ok("[-0]")),
            ("[{x:#g}]", Ok("[-0.00000]")),
            ("[{x:.3}]", Ok("[-0.0]")),
            ("[{x:#}]", Ok("[-0.0]")),
            ("[{x:%}]", Ok("[-0.000000%]")),
            ("[{x:n}]", Ok("[-0]")),
            ("[{x:,.2f}]", Ok("[-0.00]")),
            ("[{x:_}]", Ok("[-0.0]")),
            ("[{x:015,.2f}]", Ok("[-000,000,000.00]")),
            ("[{x:+010.1f}]", Ok("[-0000000.0]")),
            ("[{x:=+12.3e}]", Ok("[-  0.000e+00]")),
            ("[{x:z}]", Ok("[0.0]")),
            ("[{x:z.1f}]", Ok("[0.0]")),
            ("[{x:^12}]", Ok("[    -0.0    ]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(
        &Value::Float(0.125),
        "UTC",
        &[
            ("[{x:}]", Ok("[0.125]")),
            ("[{x:.2f}]", Ok("[0.12]")),
            ("[{x:.0f}]", Ok("[0]")),
            ("[{x:#.0f}]", Ok("[0.]")),
            ("[{x:.2e}]", Ok("[1.25e-01]")),
            ("[{x:E}]", Ok("[1.250000E-01]")),
            ("[{x:.3g}]", Ok("[0.125]")),
            ("[{x:G}]", Ok("[0.125]")),
            ("[{x:#g}]", Ok("[0.125000]")),
            ("[{x:.3}]", Ok("[0.125]")),
            ("[{x:#}]", Ok("[0.125]")),
            ("[{x:%}]", Ok("[12.500000%]")),
            ("[{x:n}]", Ok("[0.125]")),
            ("[{x:,.2f}]", Ok("[0.12]")),
            ("[{x:_}]", Ok("[0.125]")),
            ("[{x:015,.2f}]", Ok("[0,000,000,000.12]")),
            ("[{x:+010.1f}]", Ok("[+0000000.1]")),
            ("[{x:=+12.3e}]", Ok("[+  1.250e-01]")),
            ("[{x:z}]", Ok("[0.125]")),
            ("[{x:z.1f}]", Ok("[0.1]")),
            ("[{x:^12}]", Ok("[   0.125    ]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(
        &Value::Float(1e+16),
        "UTC",
        &[
            ("[{x:}]", Ok("[1e+16]")),
            ("[{x:.2f}]", Ok("[10000000000000000.00]")),
            ("[{x:.0f}]", Ok("[10000000000000000]")),
            ("[{x:#.0f}]", Ok("[10000000000000000.]")),
            ("[{x:.2e}]", Ok("[1.00e+16]")),
            ("[{x:E}]", Ok("[1.000000E+16]")),
            ("[{x:.3g}]", Ok("[1e+16]")),
            ("[{x:G}]", Ok("[1E+16]")),
            ("[{x:#g}]", Ok("[1.00000e+16]")),
            ("[{x:.3}]", Ok("[1e+16]")),
            ("[{x:#}]", Ok("[1.e+16]")),
            ("[{x:%}]", Ok("[1000000000000000000.000000%]")),
            ("[{x:n}]", Ok("[1e+16]")),
            ("[{x:,.2f}]", Ok("[10,000,000,000,000,000.00]")),
            ("[{x:_}]", Ok("[1e+16]")),
            ("[{x:015,.2f}]", Ok("[10,000,000,000,000,000.00]")),
            ("[{x:+010.1f}]", Ok("[+10000000000000000.0]")),
            ("[{x:=+12.3e}]", Ok("[+  1.000e+16]")),
            ("[{x:z}]", Ok("[1e+16]")),
            ("[{x:z.1f}]", Ok("[10000000000000000.0]")),
            ("[{x:^12}]", Ok("[   1e+16    ]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(
        &Value::Float(1e-05),
        "UTC",
        &[
            ("[{x:}]", Ok("[1e-05]")),
            ("[{x:.2f}]", Ok("[0.00]")),
            ("[{x:.0f}]", Ok("[0]")),
            ("[{x:#.0f}]", Ok("[0.]")),
            ("[{x:.2e}]", Ok("[1.00e-05]")),
            ("[{x:E}]", Ok("[1.000000E-05]")),
            ("[{x:.3g}]", Ok("[1e-05]")),
            ("[{x:G}]", Ok("[1E-05]")),
            ("[{x:#g}]", Ok("[1.00000e-05]")),
            ("[{x:.3}]", Ok("[1e-05]")),
            ("[{x:#}]", Ok("[1.e-05]")),
            ("[{x:%}]", Ok("[0.001000%]")),
            ("[{x:n}]", Ok("[1e-05]")),
            ("[{x:,.2f}]", Ok("[0.00]")),
            ("[{x:_}]", Ok("[1e-05]")),
            ("[{x:015,.2f}]", Ok("[0,000,000,000.00]")),
            ("[{x:+010.1f}]", Ok("[+0000000.0]")),
            ("[{x:=+12.3e}]", Ok("[+  1.000e-05]")),
            ("[{x:z}]", Ok("[1e-05]")),
            ("[{x:z.1f}]", Ok("[0.0]")),
            ("[{x:^12}]", Ok("[   1e-05    ]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(
        &Value::Float(123456789.0),
        "UTC",
        &[
            ("[{x:}]", Ok("[123456789.0]")),
            ("[{x:.2f}]", Ok("[123456789.00]")),
            ("[{x:.0f}]", Ok("[123456789]")),
            ("[{x:#.0f}]", Ok("[123456789.]")),
            ("[{x:.2e}]", Ok("[1.23e+08]")),
            ("[{x:E}]", Ok("[1.234568E+08]")),
            ("[{x:.3g}]", Ok("[1.23e+08]")),
            ("[{x:G}]", Ok("[1.23457E+08]")),
            ("[{x:#g}]", Ok("[1.23457e+08]")),
            ("[{x:.3}]", Ok("[1.23e+08]")),
            ("[{x:#}]", Ok("[123456789.0]")),
            ("[{x:%}]", Ok("[12345678900.000000%]")),
            ("[{x:n}]", Ok("[1.23457e+08]")),
            ("[{x:,.2f}]", Ok("[123,456,789.00]")),
            ("[{x:_}]", Ok("[123_456_789.0]")),
            ("[{x:015,.2f}]", Ok("[0,123,456,789.00]")),
            ("[{x:+010.1f}]", Ok("[+123456789.0]")),
            ("[{x:=+12.3e}]", Ok("[+  1.235e+08]")),
            ("[{x:z}]", Ok("[123456789.0]")),
            ("[{x:z.1f}]", Ok("[123456789.0]")),
            ("[{x:^12}]", Ok("[123456789.0 ]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(
        &Value::Float(-1234567.891),
        "UTC",
        &[
            ("[{x:}]", Ok("[-1234567.891]")),
            ("[{x:.2f}]", Ok("[-1234567.89]")),
            ("[{x:.0f}]", Ok("[-1234568]")),
            ("[{x:#.0f}]", Ok("[-1234568.]")),
            ("[{x:.2e}]", Ok("[-1.23e+06]")),
            ("[{x:E}]", Ok("[-1.234568E+06]")),
            ("[{x:.3g}]", Ok("[-1.23e+06]")),
            ("[{x:G}]", Ok("[-1.23457E+06]")),
            ("[{x:#g}]", Ok("[-1.23457e+06]")),
            ("[{x:.3}]", Ok("[-1.23e+06]")),
            ("[{x:#}]", Ok("[-1234567.891]")),
            ("[{x:%}]", Ok("[-123456789.100000%]")),
            ("[{x:n}]", Ok("[-1.23457e+06]")),
            ("[{x:,.2f}]", Ok("[-1,234,567.89]")),
            ("[{x:_}]", Ok("[-1_234_567.891]")),
            ("[{x:015,.2f}]", Ok("[-001,234,567.89]")),
            ("[{x:+010.1f}]", Ok("[-1234567.9]")),
            ("[{x:=+12.3e}]", Ok("[-  1.235e+06]")),
            ("[{x:z}]", Ok("[-1234567.891]")),
            ("[{x:z.1f}]", Ok("[-1234567.9]")),
            ("[{x:^12}]", Ok("[-1234567.891]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(&Value::Float(1.7976931348623157e+308), "UTC", &[
    ("[{x:}]", Ok("[1.7976931348623157e+308]")),
    ("[{x:.2f}]", Ok("[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.00]")),
    ("[{x:.0f}]", Ok("[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368]")),
    ("[{x:#.0f}]", Ok("[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.]")),
    ("[{x:.2e}]", Ok("[1.80e+308]")),
    ("[{x:E}]", Ok("[1.797693E+308]")),
    ("[{x:.3g}]", Ok("[1.8e+308]")),
    ("[{x:G}]", Ok("[1.79769E+308]")),
    ("[{x:#g}]", Ok("[1.79769e+308]")),
    ("[{x:.3}]", Ok("[1.8e+308]")),
    ("[{x:#}]", Ok("[1.7976931348623157e+308]")),
    ("[{x:%}]", Ok("[inf%]")),
    ("[{x:n}]", Ok("[1.79769e+308]")),
    ("[{x:,.2f}]", Ok("[179,769,313,486,231,570,814,527,423,731,704,356,798,070,567,525,844,996,598,917,476,803,157,260,780,028,538,760,589,558,632,766,878,171,540,458,953,514,382,464,234,321,326,889,464,182,768,467,546,703,537,516,986,049,910,576,551,282,076,245,490,090,389,328,944,075,868,508,455,133,942,304,583,236,903,222,948,165,808,559,332,123,348,274,797,826,204,144,723,168,738,177,180,919,299,881,250,404,026,184,124,858,368.00]")),
    ("[{x:_}]", Ok("[1.7976931348623157e+308]")),
    ("[{x:015,.2f}]", Ok("[179,769,313,486,231,570,814,527,423,731,704,356,798,070,567,525,844,996,598,917,476,803,157,260,780,028,538,760,589,558,632,766,878,171,540,458,953,514,382,464,234,321,326,889,464,182,768,467,546,703,537,516,986,049,910,576,551,282,076,245,490,090,389,328,944,075,868,508,455,133,942,304,583,236,903,222,948,165,808,559,332,123,348,274,797,826,204,144,723,168,738,177,180,919,299,881,250,404,026,184,124,858,368.00]")),
    ("[{x:+010.1f}]", Ok("[+179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.0]")),
    ("[{x:=+12.3e}]", Ok("[+ 1.798e+308]")),
    ("[{x:z}]", Ok("[1.7976931348623157e+308]")),
    ("[{x:z.1f}]", Ok("[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.0]")),
    ("[{x:^12}]", Ok("[1.7976931348623157e+308]")),
    ("[{x:d}]", Err("Unknown format code 'd' for object of type 'float'")),
]);
    check(
        &Value::Float(f64::INFINITY),
        "UTC",
        &[
            ("[{x:}]", Ok("[inf]")),
            ("[{x:.2f}]", Ok("[inf]")),
            ("[{x:.0f}]", Ok("[inf]")),
            ("[{x:#.0f}]", Ok("[inf]")),
            ("[{x:.2e}]", Ok("[inf]")),
            ("[{x:E}]", Ok("[INF]")),
            ("[{x:.3g}]", Ok("[inf]")),
            ("[{x:G}]", Ok("[INF]")),
            ("[{x:#g}]", Ok("[inf]")),
            ("[{x:.3}]", Ok("[inf]")),
            ("[{x:#}]", Ok("[inf]")),
            ("[{x:%}]", Ok("[inf%]")),
            ("[{x:n}]", Ok("[inf]")),
            ("[{x:,.2f}]", Ok("[inf]")),
            ("[{x:_}]", Ok("[inf]")),
            ("[{x:015,.2f}]", Ok("[000000000000inf]")),
            ("[{x:+010.1f}]", Ok("[+000000inf]")),
            ("[{x:=+12.3e}]", Ok("[+        inf]")),
            ("[{x:z}]", Ok("[inf]")),
            ("[{x:z.1f}]", Ok("[inf]")),
            ("[{x:^12}]", Ok("[    inf     ]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(
        &Value::Float(f64::NAN),
        "UTC",
        &[
            ("[{x:}]", Ok("[nan]")),
            ("[{x:.2f}]", Ok("[nan]")),
            ("[{x:.0f}]", Ok("[nan]")),
            ("[{x:#.0f}]", Ok("[nan]")),
            ("[{x:.2e}]", Ok("[nan]")),
            ("[{x:E}]", Ok("[NAN]")),
            ("[{x:.3g}]", Ok("[nan]")),
            ("[{x:G}]", Ok("[NAN]")),
            ("[{x:#g}]", Ok("[nan]")),
            ("[{x:.3}]", Ok("[nan]")),
            ("[{x:#}]", Ok("[nan]")),
            ("[{x:%}]", Ok("[nan%]")),
            ("[{x:n}]", Ok("[nan]")),
            ("[{x:,.2f}]", Ok("[nan]")),
            ("[{x:_}]", Ok("[nan]")),
            ("[{x:015,.2f}]", Ok("[000000000000nan]")),
            ("[{x:+010.1f}]", Ok("[+000000nan]")),
            ("[{x:=+12.3e}]", Ok("[+        nan]")),
            ("[{x:z}]", Ok("[nan]")),
            ("[{x:z.1f}]", Ok("[nan]")),
            ("[{x:^12}]", Ok("[    nan     ]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
    check(
        &Value::Float(1921825758892393.2),
        "UTC",
        &[
            ("[{x:}]", Ok("[1921825758892393.2]")),
            ("[{x:.2f}]", Ok("[1921825758892393.25]")),
            ("[{x:.0f}]", Ok("[1921825758892393]")),
            ("[{x:#.0f}]", Ok("[1921825758892393.]")),
            ("[{x:.2e}]", Ok("[1.92e+15]")),
            ("[{x:E}]", Ok("[1.921826E+15]")),
            ("[{x:.3g}]", Ok("[1.92e+15]")),
            ("[{x:G}]", Ok("[1.92183E+15]")),
            ("[{x:#g}]", Ok("[1.92183e+15]")),
            ("[{x:.3}]", Ok("[1.92e+15]")),
            ("[{x:#}]", Ok("[1921825758892393.2]")),
            ("[{x:%}]", Ok("[192182575889239328.000000%]")),
            ("[{x:n}]", Ok("[1.92183e+15]")),
            ("[{x:,.2f}]", Ok("[1,921,825,758,892,393.25]")),
            ("[{x:_}]", Ok("[1_921_825_758_892_393.2]")),
            ("[{x:015,.2f}]", Ok("[1,921,825,758,892,393.25]")),
            ("[{x:+010.1f}]", Ok("[+1921825758892393.2]")),
            ("[{x:=+12.3e}]", Ok("[+  1.922e+15]")),
            ("[{x:z}]", Ok("[1921825758892393.2]")),
            ("[{x:z.1f}]", Ok("[1921825758892393.2]")),
            ("[{x:^12}]", Ok("[1921825758892393.2]")),
            (
                "[{x:d}]",
                Err("Unknown format code 'd' for object of type 'float'"),
            ),
        ],
    );
}

#[test]
fn other_types_conversions_and_nested_specs() {
    // other types: str() and the NoneType-like errors
    check(
        &Value::None,
        "UTC",
        &[
            ("[{x}] [{x!s}]", Ok("[None] [None]")),
            ("[{x!r}] [{x!a}]", Ok("[None] [None]")),
            (
                "[{x!r:>60.40}]",
                Ok("[                                                        None]"),
            ),
            (
                "[{x:>5}]",
                Err("unsupported format string passed to NoneType.__format__"),
            ),
            ("[{x:}] [{x!r:}]", Ok("[None] [None]")),
        ],
    );
    check(&Value::Bytes(b"/usr/bin/perl -e print\xff\xfe'\\".to_vec()), "UTC", &[
    ("[{x}] [{x!s}]", Ok("[b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"] [b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"]")),
    ("[{x!r}] [{x!a}]", Ok("[b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"] [b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"]")),
    ("[{x!r:>60.40}]", Ok("[                        b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"]")),
    ("[{x:>5}]", Err("unsupported format string passed to bytes.__format__")),
    ("[{x:}] [{x!r:}]", Ok("[b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"] [b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"]")),
]);
    check(&Value::Uuid(BOOT), "UTC", &[
    ("[{x}] [{x!s}]", Ok("[9ec1eb60-c72a-2052-86d6-14fc429eb4b9] [9ec1eb60-c72a-2052-86d6-14fc429eb4b9]")),
    ("[{x!r}] [{x!a}]", Ok("[UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9')] [UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9')]")),
    ("[{x!r:>60.40}]", Ok("[                    UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4]")),
    ("[{x:>5}]", Err("unsupported format string passed to UUID.__format__")),
    ("[{x:}] [{x!r:}]", Ok("[9ec1eb60-c72a-2052-86d6-14fc429eb4b9] [UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9')]")),
]);
    check(
        &Value::List(vec![s("one"), s("two")]),
        "UTC",
        &[
            ("[{x}] [{x!s}]", Ok("[['one', 'two']] [['one', 'two']]")),
            ("[{x!r}] [{x!a}]", Ok("[['one', 'two']] [['one', 'two']]")),
            (
                "[{x!r:>60.40}]",
                Ok("[                                              ['one', 'two']]"),
            ),
            (
                "[{x:>5}]",
                Err("unsupported format string passed to list.__format__"),
            ),
            ("[{x:}] [{x!r:}]", Ok("[['one', 'two']] [['one', 'two']]")),
        ],
    );
    check(&Value::Delta(93784000005), "UTC", &[
    ("[{x}] [{x!s}]", Ok("[1 day, 2:03:04.000005] [1 day, 2:03:04.000005]")),
    ("[{x!r}] [{x!a}]", Ok("[datetime.timedelta(days=1, seconds=7384, microseconds=5)] [datetime.timedelta(days=1, seconds=7384, microseconds=5)]")),
    ("[{x!r:>60.40}]", Ok("[                    datetime.timedelta(days=1, seconds=7384,]")),
    ("[{x:>5}]", Err("unsupported format string passed to datetime.timedelta.__format__")),
    ("[{x:}] [{x!r:}]", Ok("[1 day, 2:03:04.000005] [datetime.timedelta(days=1, seconds=7384, microseconds=5)]")),
]);
    check(&Value::Monotonic(5000000, BOOT), "UTC", &[
    ("[{x}] [{x!s}]", Ok("[(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))] [(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))]")),
    ("[{x!r}] [{x!a}]", Ok("[(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))] [(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))]")),
    ("[{x!r:>60.40}]", Ok("[                    (datetime.timedelta(seconds=5), UUID('9e]")),
    ("[{x:>5}]", Err("unsupported format string passed to tuple.__format__")),
    ("[{x:}] [{x!r:}]", Ok("[(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))] [(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))]")),
]);
    check(
        &s("é☃😀\u{0}"),
        "UTC",
        &[
            ("[{x!a}]", Ok("['\\xe9\\u2603\\U0001f600\\x00']")),
            ("[{x!r:^9}]", Ok("['é☃😀\\x00']")),
            ("[{x!s:.2}]", Ok("[é☃]")),
        ],
    );
    check(
        &Value::List(vec![s("é"), Value::Bytes(b"\xff".to_vec())]),
        "UTC",
        &[("[{x!a}]", Ok("[['\\xe9', b'\\xff']]"))],
    );
    // nested specs
    ok(
        "{x:>{w}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "      abc",
    );
    ok("{i:{w}{w}}", &[("t", Value::Time(1709337606000123)), ("x", s("abc")), ("i", Value::Int(1234)), ("w", Value::Int(9)), ("f", s("%Y-%m-%d")), ("s", s(">6")), ("n", Value::None)], "UTC", "                                                                                               1234");
    ok(
        "{x:*^{w}.{w}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "***abc***",
    );
    ok(
        "{t:{f}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "2024-03-02",
    );
    ok(
        "{t:{f} %H}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "2024-03-02 00",
    );
    ok(
        "{x:{s}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "   abc",
    );
    ok(
        "{i:{s}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "  1234",
    );
    ok(
        "{x:{w:d}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "abc      ",
    );
    ok(
        "{x!r:{s}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        " 'abc'",
    );
    render_err(
        "{x:{n}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "Invalid format specifier 'None' for object of type 'str'",
    );
    render_err(
        "{i:{x}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "Invalid format specifier 'abc' for object of type 'int'",
    );
    render_err(
        "{x:{missing}}",
        &[
            ("t", Value::Time(1709337606000123)),
            ("x", s("abc")),
            ("i", Value::Int(1234)),
            ("w", Value::Int(9)),
            ("f", s("%Y-%m-%d")),
            ("s", s(">6")),
            ("n", Value::None),
        ],
        "UTC",
        "Invalid format specifier 'None' for object of type 'str'",
    );
}

#[test]
fn datetimes_and_strftime() {
    // datetime str and strftime
    check(&Value::Time(1709337606000123), "UTC", &[
    ("{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}", Ok("2024-03-02 00:00:06.000123+00:00 | 2024-03-02 00:00:06 +0000 UTC Sat Mar 062 000123")),
]);
    check(&Value::Time(1709337699000099), "UTC", &[
    ("{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}", Ok("2024-03-02 00:01:39.000099+00:00 | 2024-03-02 00:01:39 +0000 UTC Sat Mar 062 000099")),
]);
    check(&Value::Time(1709337599999000), "UTC", &[
    ("{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}", Ok("2024-03-01 23:59:59.999000+00:00 | 2024-03-01 23:59:59 +0000 UTC Fri Mar 061 999000")),
]);
    check(
        &Value::Time(0),
        "UTC",
        &[(
            "{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}",
            Ok("1970-01-01 00:00:00+00:00 | 1970-01-01 00:00:00 +0000 UTC Thu Jan 001 000000"),
        )],
    );
    check(
        &Value::Time(-2208988800000000),
        "UTC",
        &[(
            "{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}",
            Ok("1900-01-01 00:00:00+00:00 | 1900-01-01 00:00:00 +0000 UTC Mon Jan 001 000000"),
        )],
    );
    check(&Value::Time(1), "UTC", &[
    ("{x} | {x:%Y-%m-%d %H:%M:%S %z %Z %a %b %j %f}", Ok("1970-01-01 00:00:00.000001+00:00 | 1970-01-01 00:00:00 +0000 UTC Thu Jan 001 000001")),
]);
    check(&Value::Time(1709337606000123), "Europe/Paris", &[
    ("{x:%c}", Ok("Sat Mar  2 01:00:06 2024")),
    ("{x:%x %X}", Ok("03/02/24 01:00:06")),
    ("{x:%D %F %T %R %r}", Ok("03/02/24 2024-03-02 01:00:06 01:00 01:00:06 AM")),
    ("{x:%A %B %h %p %P}", Ok("Saturday March Mar AM am")),
    ("{x:%I %l %k %e %u %w}", Ok("01  1  1  2 6 6")),
    ("{x:%U %W %V %G %g %y %C}", Ok("08 09 09 2024 24 24 20")),
    ("{x:%s}", Ok("1709337606")),
    ("{x:%n%t%%}", Ok("\n\t%")),
    ("{x:%-d %_d %0e %-m %-H}", Ok("2  2 02 3 1")),
    ("{x:%^a %^B %#a %#p %^p}", Ok("SAT MARCH SAT am AM")),
    ("{x:%5Y %-5Y %_5Y %05Y %3j %-j}", Ok("02024  2024  2024 02024 062 62")),
    ("{x:%10a %-10a %010a %_10d %-10d}", Ok("       Sat        Sat 0000000Sat          2          2")),
    ("{x:%Ey %Od %OB %Oh %Ex}", Ok("24 02 March Mar 03/02/24")),
    ("{x:%Ea %Ej %OY %Q %q %:z %+ %i}", Ok("%Ea %Ej %OY %Q %q %:z %+ %i")),
    ("{x:%-z %10z %10Z %^Z %010Z}", Ok("              0000000000")),
    ("{x:%5 %}", Ok("  %5 %")),
    ("{x:%d\u{0}b}", Ok("02")),
    ("{x:%10f %-f %^f %5%}", Ok("      %10f %-f %^F     %")),
    ("{x:%#5Eh}", Ok("%#5EH")),
    ("{x:%E}", Ok("%E")),
    ("{x:%1023Y}", Ok("000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002024")),
    ("{x:%1024Y}", Ok("0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002024")),
    ("{x:%2000Y}", Ok("00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002024")),
    ("{x:%5000Y}", Ok("")),
    ("{x:%15s %015s %-15s}", Ok("     1709337606 000001709337606      1709337606")),
    ("{x:%#10Q}", Ok("     %#10Q")),
    ("{x:%^5é}", Ok(" %^5É")),
    ("{x:%f}", Ok("000123")),
    ("{x:%%f %%%z}", Ok("%f %+0100")),
    ("{x:at %Hh}", Ok("at 01h")),
]);
}

#[test]
fn str_and_repr_of_values() {
    plain(Value::None, "UTC", "None", "None");
    plain(Value::Bool(true), "UTC", "True", "True");
    plain(Value::Bool(false), "UTC", "False", "False");
    plain(Value::Int(-5), "UTC", "-5", "-5");
    plain(
        Value::Int(i64::MIN),
        "UTC",
        "-9223372036854775808",
        "-9223372036854775808",
    );
    plain(Value::Float(2.5), "UTC", "2.5", "2.5");
    plain(Value::Float(1e+16), "UTC", "1e+16", "1e+16");
    plain(Value::Float(1e-05), "UTC", "1e-05", "1e-05");
    plain(Value::Float(-0.0), "UTC", "-0.0", "-0.0");
    plain(Value::Float(0.1), "UTC", "0.1", "0.1");
    plain(Value::Float(f64::INFINITY), "UTC", "inf", "inf");
    plain(Value::Float(f64::NAN), "UTC", "nan", "nan");
    plain(Value::Float(2.0), "UTC", "2.0", "2.0");
    plain(s("it's"), "UTC", "it's", "\"it's\"");
    plain(s("say \"hi\""), "UTC", "say \"hi\"", "'say \"hi\"'");
    plain(
        s("both ' and \""),
        "UTC",
        "both ' and \"",
        "'both \\' and \"'",
    );
    plain(
        s("tab\there\nnl\r\u{0}\u{7f}\u{80} \u{ad} é ☃ \u{200b} 😀 \u{feff} \\"),
        "UTC",
        "tab\there\nnl\r\u{0}\u{7f}\u{80} \u{ad} é ☃ \u{200b} 😀 \u{feff} \\",
        "'tab\\there\\nnl\\r\\x00\\x7f\\x80\\xa0\\xad é ☃ \\u200b 😀 \\ufeff \\\\'",
    );
    plain(Value::Bytes(b"'".to_vec()), "UTC", "b\"'\"", "b\"'\"");
    plain(Value::Bytes(b"'\"".to_vec()), "UTC", "b'\\'\"'", "b'\\'\"'");
    plain(Value::Bytes(b"\"".to_vec()), "UTC", "b'\"'", "b'\"'");
    plain(
        Value::Bytes(b"/usr/bin/perl -e print\xff\xfe'\\".to_vec()),
        "UTC",
        "b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"",
        "b\"/usr/bin/perl -e print\\xff\\xfe'\\\\\"",
    );
    plain(
        Value::Bytes(b"\x09\x0a\x0d\x00\x1f\x7f\x80 ~".to_vec()),
        "UTC",
        "b'\\t\\n\\r\\x00\\x1f\\x7f\\x80 ~'",
        "b'\\t\\n\\r\\x00\\x1f\\x7f\\x80 ~'",
    );
    plain(
        Value::Uuid(BOOT),
        "UTC",
        "9ec1eb60-c72a-2052-86d6-14fc429eb4b9",
        "UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9')",
    );
    plain(Value::List(vec![s("a'b"), Value::Int(3), Value::None, Value::Bytes(b"\x01'".to_vec()), Value::List(vec![s("x")]), Value::Float(2.0), Value::Bool(true), Value::Uuid(BOOT), Value::Delta(5)]), "UTC", "[\"a'b\", 3, None, b\"\\x01'\", ['x'], 2.0, True, UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'), datetime.timedelta(microseconds=5)]", "[\"a'b\", 3, None, b\"\\x01'\", ['x'], 2.0, True, UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'), datetime.timedelta(microseconds=5)]");
    plain(Value::List(vec![]), "UTC", "[]", "[]");
    plain(Value::Delta(0), "UTC", "0:00:00", "datetime.timedelta(0)");
    plain(
        Value::Delta(5000000),
        "UTC",
        "0:00:05",
        "datetime.timedelta(seconds=5)",
    );
    plain(
        Value::Delta(93784000005),
        "UTC",
        "1 day, 2:03:04.000005",
        "datetime.timedelta(days=1, seconds=7384, microseconds=5)",
    );
    plain(
        Value::Delta(-1),
        "UTC",
        "-1 day, 23:59:59.999999",
        "datetime.timedelta(days=-1, seconds=86399, microseconds=999999)",
    );
    plain(
        Value::Delta(-86400000000),
        "UTC",
        "-1 day, 0:00:00",
        "datetime.timedelta(days=-1)",
    );
    plain(
        Value::Delta(172800000000),
        "UTC",
        "2 days, 0:00:00",
        "datetime.timedelta(days=2)",
    );
    plain(
        Value::Delta(i64::MIN),
        "UTC",
        "-106751992 days, 19:59:05.224192",
        "datetime.timedelta(days=-106751992, seconds=71945, microseconds=224192)",
    );
    plain(
        Value::Monotonic(5000000, BOOT),
        "UTC",
        "(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))",
        "(datetime.timedelta(seconds=5), UUID('9ec1eb60-c72a-2052-86d6-14fc429eb4b9'))",
    );
    plain(Value::Time(1709337606000123), "UTC", "2024-03-02 00:00:06.000123+00:00", "datetime.datetime(2024, 3, 2, 0, 0, 6, 123, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))");
    plain(Value::Time(1709337606000000), "UTC", "2024-03-02 00:00:06+00:00", "datetime.datetime(2024, 3, 2, 0, 0, 6, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))");
    plain(Value::Time(1709337600000000), "UTC", "2024-03-02 00:00:00+00:00", "datetime.datetime(2024, 3, 2, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))");
    plain(Value::Time(1709337606000123), "Europe/Paris", "2024-03-02 01:00:06.000123+01:00", "datetime.datetime(2024, 3, 2, 1, 0, 6, 123, tzinfo=datetime.timezone(datetime.timedelta(seconds=3600), 'CET'))");
    plain(Value::Time(1720000000000000), "Europe/Paris", "2024-07-03 11:46:40+02:00", "datetime.datetime(2024, 7, 3, 11, 46, 40, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200), 'CEST'))");
    plain(Value::Time(1709337606000123), "America/New_York", "2024-03-01 19:00:06.000123-05:00", "datetime.datetime(2024, 3, 1, 19, 0, 6, 123, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400), 'EST'))");
    plain(Value::Time(1720000000000000), "America/New_York", "2024-07-03 05:46:40-04:00", "datetime.datetime(2024, 7, 3, 5, 46, 40, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=72000), 'EDT'))");
    plain(Value::Time(1709337606000123), "Asia/Kolkata", "2024-03-02 05:30:06.000123+05:30", "datetime.datetime(2024, 3, 2, 5, 30, 6, 123, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800), 'IST'))");
    plain(Value::Time(1720000000000000), "Asia/Kolkata", "2024-07-03 15:16:40+05:30", "datetime.datetime(2024, 7, 3, 15, 16, 40, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800), 'IST'))");
    plain(Value::Time(-2208988800000000), "Europe/Paris", "1900-01-01 00:09:21+00:09:21", "datetime.datetime(1900, 1, 1, 0, 9, 21, tzinfo=datetime.timezone(datetime.timedelta(seconds=561), 'PMT'))");
}

#[test]
fn load_errors() {
    for (tpl, message) in [
        // structural
        ("{", "Single '{' encountered in format string"),
        ("}", "Single '}' encountered in format string"),
        ("a}b", "Single '}' encountered in format string"),
        ("x{", "Single '{' encountered in format string"),
        ("{x", "expected '}' before end of string"),
        ("{x:>5", "unmatched '{' in format spec"),
        (
            "{x!",
            "end of string while looking for conversion specifier",
        ),
        ("{x!r", "unmatched '{' in format spec"),
        ("{x!}", "unmatched '{' in format spec"),
        ("{x!rr}", "expected ':' after conversion specifier"),
        ("{x!x}", "Unknown conversion specifier x"),
        ("{x!é}", "Unknown conversion specifier \\xe9"),
        ("{x! }", "Unknown conversion specifier \\x20"),
        ("{x!}}", "Unknown conversion specifier }"),
        ("{x!:}", "Unknown conversion specifier :"),
        ("{}", "Format string contains positional fields"),
        ("{0}", "Format string contains positional fields"),
        ("{00}", "Format string contains positional fields"),
        ("{:>5}", "Format string contains positional fields"),
        ("{!r}", "Format string contains positional fields"),
        ("{٣}", "Format string contains positional fields"),
        (
            "{99999999999999999999}",
            "Too many decimal digits in format string",
        ),
        (
            "{99999999999999999999a}",
            "Too many decimal digits in format string",
        ),
        ("{a{b}c}", "unexpected '{' in field name"),
        ("{x:{i:{i}}}", "Max string recursion exceeded"),
        ("{x:{}}", "Format string contains positional fields"),
        ("{x:{y}", "unmatched '{' in format spec"),
        ("{x:}}", "Single '}' encountered in format string"),
        ("{x:zz}", "Unknown format code 'z' for object of type 'str'"),
        (
            "{x!r:d}",
            "Unknown format code 'd' for object of type 'str'",
        ),
        ("{x!s:+}", "Sign not allowed in string format specifier"),
        (
            "{x!a:=5}",
            "'=' alignment not allowed in string format specifier",
        ),
        ("{x:,_}", "Cannot specify both ',' and '_'."),
        ("{x:_,}", "Cannot specify both ',' and '_'."),
        ("{x:.}", "Format specifier missing precision"),
        (
            "{x:1000000000000000000000}",
            "Too many decimal digits in format string",
        ),
        (
            "{i:5.2d}",
            "Precision not allowed in integer format specifier",
        ),
        (
            "{i:.2c}",
            "Precision not allowed in integer format specifier",
        ),
        ("{x:,s}", "Cannot specify ',' with 's'."),
        ("{x:,c}", "Cannot specify ',' with 'c'."),
        (
            "{x:3#<z+}",
            "Invalid format specifier '3#<z+' for object of type 'str'",
        ),
        (
            "{i:+c}",
            "Sign not allowed with integer format specifier 'c'",
        ),
        (
            "{i:#c}",
            "Alternate form (#) not allowed with integer format specifier 'c'",
        ),
        ("{i:_c}", "Cannot specify '_' with 'c'."),
        ("{i:,n}", "Cannot specify ',' with 'n'."),
    ] {
        parse_err(tpl, message);
    }
}

#[test]
fn fields_ranges_and_literals() {
    let t = Template::parse("{b} {a:>{w}} {b!r} {a:{b}} {w:%H}").unwrap();
    assert_eq!(t.fields(), ["b", "a", "w"]);
    assert_eq!(t.field_ranges(), [(1, 2), (5, 6), (9, 10)]);
    assert_eq!(t.as_literal(), None);
    let t = Template::parse("a {{b}} c").unwrap();
    assert_eq!(t.as_literal(), Some("a {b} c"));
    assert!(t.fields().is_empty());
    assert_eq!(Template::parse("").unwrap().as_literal(), Some(""));
    let t = Template::parse("x {{{é} y").unwrap();
    assert_eq!(t.fields(), ["é"]);
    assert_eq!(t.field_ranges(), [(5, 7)]);
}

#[test]
fn error_ranges_and_help() {
    let e = Template::parse("ab {} cd").unwrap_err();
    assert_eq!((e.start, e.end), (3, 5));
    assert_eq!(e.help, "name the field: {FIELD}");
    let e = Template::parse("ab } cd").unwrap_err();
    assert_eq!((e.start, e.end), (3, 4));
    let e = Template::parse("x {a!q} y").unwrap_err();
    assert_eq!(
        (e.start, e.end, e.message.as_str()),
        (4, 6, "Unknown conversion specifier q")
    );
    let e = Template::parse("x {a:zz} y").unwrap_err();
    assert_eq!((e.start, e.end), (5, 7));
    let e = Template::parse("x {a.b} y").unwrap_err();
    assert_eq!((e.start, e.end), (4, 6));
    assert_eq!(e.help, "a field is a plain name: write {a}");
    let e = Template::parse("x {a[0]} y").unwrap_err();
    assert_eq!((e.start, e.end), (4, 7));
    let e = Template::parse("{a:70000}").unwrap_err();
    assert_eq!(e.message, "format width or precision above 65535");
    // A strftime spec is left to the value: fine for a datetime.
    assert!(Template::parse("{a:%H:%M}").is_ok());
    assert!(Template::parse("{a:=5}").is_ok());
    assert!(Template::parse("{a:.2%}").is_ok());
}

#[test]
fn render_errors_name_the_field_and_write_nothing() {
    let t = Template::parse("a {x} {y:d} b").unwrap();
    let vals = [s("1"), s("2")];
    let mut out = String::from("keep");
    let e = t
        .render(
            &|k| vals.get(k),
            Missing::PythonNone,
            &TimeZone::UTC,
            &mut out,
        )
        .unwrap_err();
    assert_eq!(e.field, "y");
    assert_eq!(
        e.message,
        "Unknown format code 'd' for object of type 'str'"
    );
    assert_eq!(out, "keep");
    render_err(
        "{x:>5}",
        &[],
        "UTC",
        "unsupported format string passed to NoneType.__format__",
    );
    render_err(
        "{x:{w}}",
        &[("x", s("a")), ("w", Value::Int(70000))],
        "UTC",
        "format width or precision above 65535",
    );
    render_err(
        "{t:%Y}",
        &[("t", Value::Time(i64::MAX))],
        "UTC",
        "the time 9223372036854775807 µs after the epoch is out of Python's datetime range",
    );
    ok(
        "{t}",
        &[("t", Value::Time(i64::MAX))],
        "UTC",
        "9223372036854775807",
    );
}

#[test]
fn missing_fields_render_empty_in_native_mode() {
    let empty =
        |tpl: &str| render(tpl, &[("w", Value::Int(3))], &TimeZone::UTC, Missing::Empty).unwrap();
    assert_eq!(empty("[{x}]"), "[]");
    assert_eq!(empty("[{x!r}]"), "[]");
    assert_eq!(empty("[{x:>5}]"), "[     ]");
    assert_eq!(empty("[{x:*^4}]"), "[****]");
    assert_eq!(empty("[{x:05d}]"), "[00000]");
    assert_eq!(empty("[{x:%H:%M}]"), "[]");
    assert_eq!(empty("[{x:>{w}}]"), "[   ]");
    assert_eq!(empty("[{w:>{x}}]"), "[3]");
    assert_eq!(
        render("[{x}]", &[], &TimeZone::UTC, Missing::PythonNone).unwrap(),
        "[None]"
    );
}

#[test]
fn plain_uses_the_system_zone_only_for_datetimes() {
    assert_eq!(render_plain(&Value::Int(3)), "3");
    assert_eq!(
        render_plain(&Value::Uuid(BOOT)),
        "9ec1eb60-c72a-2052-86d6-14fc429eb4b9"
    );
    assert_eq!(render_plain(&Value::Delta(5_000_000)), "0:00:05");
}

#[test]
fn no_panic_on_any_template() {
    // A deterministic pseudo-random walk over the characters that
    // matter to the parser and the renderers.
    let alphabet: Vec<char> = "{}{}!:rsa0159<>^=+-_,.#%zcdxXbeEfgGn[]éY{{}}\u{663}\0 "
        .chars()
        .collect();
    let values = [
        Value::None,
        Value::Bool(true),
        Value::Int(-1234),
        Value::Int(i64::MIN),
        Value::Float(-0.5),
        Value::Float(f64::NAN),
        s("é☃"),
        Value::Bytes(vec![0, 39, 255]),
        Value::Time(1709337606000123),
        Value::Time(i64::MIN),
        Value::Delta(i64::MIN),
        Value::Uuid(BOOT),
        Value::Monotonic(-1, BOOT),
        Value::List(vec![s("'\""), Value::None]),
    ];
    let mut rng = crate::testing::Rng(0x2545_f491_4f6c_dd1d);
    let mut next = |n: usize| rng.below(n);
    let tz = TimeZone::UTC;
    for _ in 0..20_000 {
        let len = 1 + next(10);
        let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
        let Ok(t) = Template::parse(&text) else {
            continue;
        };
        let picks: Vec<&Value> = t
            .fields()
            .iter()
            .map(|_| &values[next(values.len())])
            .collect();
        for missing in [Missing::PythonNone, Missing::Empty] {
            let mut out = String::new();
            let _ = t.render(&|k| picks.get(k).copied(), missing, &tz, &mut out);
            let _ = t.render(&|_| None, missing, &tz, &mut out);
        }
    }
}
