use super::apply::mapping_dead_at;
use super::encoding::ident_value;
use super::*;
use crate::state::{CounterEntry, Mapping, Remembered};
use crate::value::Value;
use std::time::{Duration, Instant};

const S: i64 = 1_000_000;

fn s(x: &str) -> Value {
    Value::Str(x.into())
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn entry(ticks: &[i64], grace: Option<i64>) -> CounterEntry {
    CounterEntry {
        ticks: ticks.to_vec(),
        grace_until: grace,
    }
}

fn all_variants() -> Vec<Value> {
    let u = *b"0123456789abcdef";
    vec![
        Value::None,
        Value::Bool(true),
        Value::Bool(false),
        Value::Int(0),
        Value::Int(i64::MIN),
        Value::Int(i64::MAX),
        Value::Float(1.5),
        Value::Float(-0.0),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NAN),
        Value::Float(1e300),
        Value::Str(String::new()),
        Value::Str("ünï \"cödé\" \\ \n 🦀".into()),
        Value::Bytes(vec![]),
        Value::Bytes(vec![0, 0xff, 0x80, b'a']),
        Value::Time(1_700_000_000_123_456),
        Value::Time(-1),
        Value::Delta(-5),
        Value::Uuid(u),
        Value::Monotonic(123_456, u),
        Value::List(vec![]),
        Value::List(vec![
            s("a"),
            Value::Int(1),
            Value::List(vec![Value::None, Value::Bytes(vec![1])]),
        ]),
    ]
}

/// Exact equality, variant and bits (Value's `==` is Python's).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => {
            std::mem::discriminant(a) == std::mem::discriminant(b)
                && format!("{a:?}") == format!("{b:?}")
        }
    }
}

#[test]
fn every_value_variant_round_trips() {
    for v in all_variants() {
        let text = encode_value(&v);
        let back = decode_value(&text).unwrap();
        assert!(same(&v, &back), "{v:?} -> {text} -> {back:?}");
    }
    assert_eq!(encode_value(&s("1.2.3.4")), r#"{"str":"1.2.3.4"}"#);
    assert_eq!(encode_value(&Value::Int(5)), r#"{"int":5}"#);
    for bad in [
        "",
        "3",
        r#"{"str":1}"#,
        r#"{"what":1}"#,
        r#"{"uuid":"00"}"#,
        r#"{"bytes":"0g"}"#,
        r#"{"int":1,"str":"a"}"#,
    ] {
        assert!(decode_value(bad).is_err(), "{bad}");
    }
}

#[test]
fn every_value_variant_round_trips_through_the_file() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    for (i, v) in all_variants().into_iter().enumerate() {
        b.set_counter(&format!("c{i:02}"), &v, &entry(&[i as i64], None));
        b.add_mapping(Mapping {
            saddr: v.clone(),
            sport: Some(v.clone()),
            keys: [Some(v.clone()), None, Some(v), Some(Value::None)],
            stamp: i as i64,
            shift: 3,
        });
    }
    st.commit("system", "c", &b).unwrap();
    drop(st);
    let st = Store::open(d.path()).unwrap();
    let counters = st.load_counters().unwrap();
    let maps = st.load_mappings().unwrap();
    for (i, v) in all_variants().iter().enumerate() {
        let (cat, key, e) = &counters[i];
        assert_eq!(cat, &format!("c{i:02}"));
        assert!(same(key, v), "{key:?} vs {v:?}");
        assert_eq!(e, &entry(&[i as i64], None));
        let m = &maps[i];
        assert!(same(&m.saddr, v));
        assert!(same(m.sport.as_ref().unwrap(), v));
        assert!(same(m.keys[0].as_ref().unwrap(), v));
        assert!(m.keys[1].is_none());
        assert!(same(m.keys[3].as_ref().unwrap(), &Value::None));
        assert_eq!((m.stamp, m.shift), (i as i64, 3));
    }
}

#[test]
fn equal_values_share_a_counter_identity() {
    let one = [
        Value::Int(1),
        Value::Bool(true),
        Value::Float(1.0),
        Value::List(vec![]),
    ];
    assert_eq!(ident_value(&one[0]), ident_value(&one[1]));
    assert_eq!(ident_value(&one[0]), ident_value(&one[2]));
    assert_ne!(ident_value(&one[0]), ident_value(&s("1")));
    assert_ne!(ident_value(&Value::Float(1.5)), ident_value(&Value::Int(1)));
    assert_eq!(
        ident_value(&Value::List(vec![Value::Bool(false)])),
        ident_value(&Value::List(vec![Value::Float(-0.0)]))
    );
    assert_ne!(ident_value(&Value::Time(1)), ident_value(&Value::Int(1)));
}

#[test]
fn cursors_are_per_source() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    assert_eq!(st.load_cursor("system").unwrap(), None);
    st.commit("system", "s=1", &Batch::new()).unwrap();
    st.commit("/var/log/journal/remote", "r=1", &Batch::new())
        .unwrap();
    st.commit("system", "s=2", &Batch::new()).unwrap();
    drop(st);
    let st = Store::open(d.path()).unwrap();
    assert_eq!(st.load_cursor("system").unwrap().as_deref(), Some("s=2"));
    assert_eq!(
        st.load_cursor("/var/log/journal/remote")
            .unwrap()
            .as_deref(),
        Some("r=1")
    );
    assert_eq!(st.load_cursor("other").unwrap(), None);
}

#[test]
fn file_positions_commit_with_the_cursor_and_the_batch_or_not_at_all() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    b.set_counter("fails", &s("a"), &entry(&[10], None));
    b.set_position("logfile:/a.log", "1:2:30");
    b.set_position("logfile:/a.log", "1:2:40");
    b.set_position("logfile:/b.log", "1:3:5");
    assert!(!b.is_empty());
    st.commit("system", "s=1", &b).unwrap();
    assert_eq!(
        st.load_cursor("logfile:/a.log").unwrap().as_deref(),
        Some("1:2:40"),
        "the last one"
    );
    assert_eq!(
        st.load_cursor("logfile:/b.log").unwrap().as_deref(),
        Some("1:3:5")
    );
    assert_eq!(st.load_cursor("system").unwrap().as_deref(), Some("s=1"));
    // Without a journal cursor too.
    b.clear();
    assert!(b.is_empty());
    b.set_position("logfile:/a.log", "1:2:50");
    st.apply(&b).unwrap();
    assert_eq!(
        st.load_cursor("logfile:/a.log").unwrap().as_deref(),
        Some("1:2:50")
    );
    assert_eq!(st.load_cursor("system").unwrap().as_deref(), Some("s=1"));
    // A failed transaction writes no position.
    b.clear();
    b.set_position("logfile:/a.log", "1:2:60");
    b.report(ReportRecord {
        level: "WARN".into(),
        message: "m".into(),
        details: "NONE".into(),
        time_us: 1,
    });
    st.conn.execute_batch("DROP TABLE report").unwrap();
    assert!(st.apply(&b).is_err());
    assert_eq!(
        st.load_cursor("logfile:/a.log").unwrap().as_deref(),
        Some("1:2:50")
    );
}

#[test]
fn batch_keeps_the_last_state_of_a_counter_key() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    b.set_counter("fails", &s("a"), &entry(&[10], None));
    b.set_counter("fails", &s("a"), &entry(&[10, 20], None));
    b.set_counter("fails", &s("b"), &entry(&[5], None));
    b.delete_counter("fails", &s("b"));
    b.set_counter("fails", &s("c"), &entry(&[5], None));
    b.set_counter("fails", &s("c"), &entry(&[], None)); // empty: deleted
    b.set_counter("fails", &Value::Int(1), &entry(&[1], None));
    b.set_counter("fails", &Value::Bool(true), &entry(&[1, 2], None));
    b.set_counter("other", &s("a"), &entry(&[], Some(99)));
    assert_eq!(b.counters["fails"].len(), 4);
    st.commit("system", "1", &b).unwrap();
    let mut got = st.load_counters().unwrap();
    got.sort_by_key(|(c, k, _)| (c.clone(), encode_value(k)));
    assert_eq!(
        got,
        vec![
            ("fails".into(), Value::Int(1), entry(&[1, 2], None)),
            ("fails".into(), s("a"), entry(&[10, 20], None)),
            ("other".into(), s("a"), entry(&[], Some(99))),
        ]
    );

    // A later batch with the same key under another spelling replaces
    // the row; a deletion removes it.
    let mut b = Batch::new();
    b.set_counter("fails", &Value::Float(1.0), &entry(&[7], None));
    b.delete_counter("other", &s("a"));
    st.commit("system", "2", &b).unwrap();
    let got = st.load_counters().unwrap();
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .any(|(c, k, e)| c == "fails" && same(k, &Value::Float(1.0)) && e.ticks == [7]));
    assert!(!got.iter().any(|(c, _, _)| c == "other"));

    b.clear();
    assert!(b.is_empty());
    assert_eq!(st.retain_counter_categories(&["other"]).unwrap(), 2);
    assert!(st.load_counters().unwrap().is_empty());
}

#[test]
fn sweep_deletes_dead_counters_and_mappings_only() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    b.set_counter("c", &s("dead"), &entry(&[10 * S, 20 * S], None));
    b.set_counter("c", &s("tick"), &entry(&[10 * S, 31 * S], None));
    b.set_counter("c", &s("grace"), &entry(&[], Some(40 * S)));
    b.set_counter("c", &s("forever"), &entry(&[i64::MAX], None));
    let m = |name: &str, stamp| Mapping {
        saddr: s(name),
        sport: None,
        keys: Default::default(),
        stamp,
        shift: 2,
    };
    // alive while (now_s >> 2) <= stamp, i.e. now_s < 4 * (stamp + 1).
    b.add_mapping(m("dies at 28", 6));
    b.add_mapping(m("dies at 32", 7));
    b.add_mapping(m("dies at 36", 8));
    st.commit("system", "1", &b).unwrap();

    let mut b = Batch::new();
    b.sweep(29 * S);
    b.sweep(30 * S);
    st.commit("system", "2", &b).unwrap();
    let mut keys: Vec<_> = st
        .load_counters()
        .unwrap()
        .into_iter()
        .map(|(_, k, _)| k)
        .collect();
    keys.sort_by_key(encode_value);
    assert_eq!(keys, vec![s("forever"), s("grace"), s("tick")]);
    let names: Vec<_> = st
        .load_mappings()
        .unwrap()
        .into_iter()
        .map(|m| m.saddr)
        .collect();
    assert_eq!(names, vec![s("dies at 32"), s("dies at 36")]);
}

#[test]
fn mapping_dead_at_agrees_with_alive() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let shift = (next() % 12) as u32;
        let stamp = (next() % 4000) as i64 - 2000;
        let now_s = (next() % 80_000) as i64 - 40_000;
        let m = Mapping {
            saddr: Value::None,
            sport: None,
            keys: Default::default(),
            stamp,
            shift,
        };
        let now_us = now_s * S + (next() % 1_000_000) as i64;
        assert_eq!(
            m.alive(now_us),
            now_us.div_euclid(S) < mapping_dead_at(stamp, shift),
            "stamp {stamp} shift {shift} now {now_us}"
        );
    }
    assert_eq!(mapping_dead_at(i64::MAX, 63), i64::MAX);
    assert_eq!(mapping_dead_at(i64::MIN, 63), i64::MIN);
}

#[test]
fn mappings_keep_capture_order_across_batches() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    for i in 0..5 {
        let mut b = Batch::new();
        for j in 0..3 {
            b.add_mapping(Mapping {
                saddr: Value::Int(i * 3 + j),
                sport: Some(s("22")),
                keys: [Some(s("10.0.0.1")), Some(s("22")), None, None],
                stamp: 1 << 40,
                shift: 6,
            });
        }
        st.commit("system", &i.to_string(), &b).unwrap();
    }
    let got: Vec<_> = st
        .load_mappings()
        .unwrap()
        .into_iter()
        .map(|m| m.saddr)
        .collect();
    assert_eq!(got, (0..15).map(Value::Int).collect::<Vec<_>>());
}

fn ban(kind: BanKind, set: &str, ip: &str, end: Option<i64>, rule: &str) -> BanRecord {
    BanRecord {
        kind,
        set: set.into(),
        ip: ip.into(),
        end_us: end,
        rule: rule.into(),
    }
}

#[test]
fn bans_replace_remove_and_expire() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    b.ban(ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(100), "r:1:1"));
    b.ban(ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(200), "r:2:1"));
    b.ban(ban(BanKind::Ipset, "ip4 f s", "1.2.3.4", None, "r:3:1"));
    b.ban(ban(BanKind::Nft, "ip6 f s", "::1", Some(50), "r:4:1"));
    st.commit("system", "1", &b).unwrap();
    let mut b = Batch::new();
    b.ban(ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(300), "r:5:1"));
    b.ban(ban(BanKind::Nft, "ip4 f s", "5.6.7.8", Some(150), "r:6:1"));
    st.commit("system", "2", &b).unwrap();
    drop(st);
    let mut st = Store::open(d.path()).unwrap();
    assert_eq!(
        st.bans().unwrap(),
        vec![
            ban(BanKind::Ipset, "ip4 f s", "1.2.3.4", None, "r:3:1"),
            ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(300), "r:5:1"),
            ban(BanKind::Nft, "ip4 f s", "5.6.7.8", Some(150), "r:6:1"),
            ban(BanKind::Nft, "ip6 f s", "::1", Some(50), "r:4:1"),
        ]
    );
    assert!(st.remove_ban(BanKind::Nft, "ip6 f s", "::1").unwrap());
    assert!(!st.remove_ban(BanKind::Nft, "ip6 f s", "::1").unwrap());
    assert_eq!(st.drop_expired_bans(150).unwrap(), 1);
    assert_eq!(st.drop_expired_bans(150).unwrap(), 0);
    assert_eq!(
        st.bans().unwrap(),
        vec![
            ban(BanKind::Ipset, "ip4 f s", "1.2.3.4", None, "r:3:1"),
            ban(BanKind::Nft, "ip4 f s", "1.2.3.4", Some(300), "r:5:1"),
        ]
    );
    assert_eq!(st.drop_expired_bans(i64::MAX).unwrap(), 1);
    assert_eq!(st.bans().unwrap().len(), 1);
}

#[test]
fn a_ban_is_pending_until_the_firewall_takes_or_refuses_it() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let outcome = |ip: &str, result: Result<(), String>| BanOutcome {
        kind: BanKind::Nft,
        set: "inet pyruse ban4".into(),
        ip: ip.into(),
        result,
    };
    let status = |st: &Store| -> Vec<(String, BanStatus)> {
        let all = st.bans_with_status().unwrap();
        all.into_iter().map(|(b, s)| (b.ip, s)).collect()
    };
    let mut b = Batch::new();
    for ip in ["192.0.2.1", "192.0.2.2"] {
        b.ban(ban(
            BanKind::Nft,
            "inet pyruse ban4",
            ip,
            Some(100),
            "r:1:1",
        ));
    }
    st.commit("system", "1", &b).unwrap();
    assert_eq!(
        status(&st),
        [
            ("192.0.2.1".into(), BanStatus::Pending),
            ("192.0.2.2".into(), BanStatus::Pending)
        ]
    );
    st.ban_outcomes(&[
        outcome("192.0.2.1", Ok(())),
        outcome("192.0.2.2", Err("nft: no such table".into())),
        // A ban removed meanwhile (an unban) is not brought back.
        outcome("192.0.2.3", Ok(())),
    ])
    .unwrap();
    assert_eq!(
        status(&st),
        [
            ("192.0.2.1".into(), BanStatus::Applied),
            (
                "192.0.2.2".into(),
                BanStatus::Failed("nft: no such table".into())
            )
        ]
    );
    // A retry that succeeds, with the outbox in the same transaction.
    st.outbox_settle_bans(&[], &[outcome("192.0.2.2", Ok(()))])
        .unwrap();
    assert_eq!(status(&st)[1].1, BanStatus::Applied);
    // A new ban of the same address waits for the firewall again.
    let mut b = Batch::new();
    b.ban(ban(
        BanKind::Nft,
        "inet pyruse ban4",
        "192.0.2.1",
        Some(200),
        "r:2:1",
    ));
    st.commit("system", "2", &b).unwrap();
    assert_eq!(status(&st)[0].1, BanStatus::Pending);
    assert_eq!(st.bans().unwrap().len(), 2);
}

fn rec(msg: &str, t: i64) -> ReportRecord {
    ReportRecord {
        level: "WARN".into(),
        message: msg.into(),
        details: "FIRST".into(),
        time_us: t,
    }
}

#[test]
fn report_records_and_last_sent() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    assert_eq!(st.last_report_sent().unwrap(), None);
    let mut b = Batch::new();
    b.report(rec("b", 20));
    b.report(rec("a", 10));
    b.report(rec("c", 30));
    b.report(rec("a", 10));
    st.commit("system", "1", &b).unwrap();
    assert_eq!(
        st.report_records().unwrap(),
        vec![rec("a", 10), rec("a", 10), rec("b", 20), rec("c", 30)]
    );
    st.report_sent(20, 1000).unwrap();
    drop(st);
    let mut st = Store::open(d.path()).unwrap();
    assert_eq!(st.last_report_sent().unwrap(), Some(1000));
    assert_eq!(st.report_records().unwrap(), vec![rec("c", 30)]);
    st.report_sent(30, 2000).unwrap();
    assert_eq!(st.last_report_sent().unwrap(), Some(2000));
    assert!(st.report_records().unwrap().is_empty());
}

const ALL_KINDS: &[&str] = &["email", "nftBan"];

#[test]
fn sessions_round_trip_and_are_swept_when_over() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    let r = |until| Remembered {
        fields: vec![
            ("clientIP".into(), Value::Str("192.0.2.1".into())),
            ("n".into(), Value::Int(3)),
        ],
        until,
    };
    let key = vec![Value::Str("host".into()), Value::Int(42)];
    b.set_session("sshd".into(), key.clone(), r(100));
    b.set_session("sshd".into(), vec![Value::Int(1)], r(10));
    st.commit("system", "1", &b).unwrap();
    drop(st);
    let mut st = Store::open(d.path()).unwrap();
    let mut got = st.load_sessions().unwrap();
    got.sort_by_key(|(_, _, r)| r.until);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], ("sshd".to_owned(), key, r(100)));
    let mut b = Batch::new();
    b.sweep(50);
    st.commit("system", "2", &b).unwrap();
    assert_eq!(
        st.load_sessions().unwrap().len(),
        1,
        "the one over at 10 is gone"
    );
}

#[test]
fn outbox_filters_by_kind_and_trims_the_oldest() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    for n in 0..5 {
        b.outbox("email", serde_json::json!({ "n": n }), 100);
    }
    b.outbox("nft", serde_json::json!({ "n": 9 }), 200);
    st.apply(&b).unwrap();
    let bans = st.outbox_due(1000, &["nft", "ipset"], 10).unwrap();
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0].payload["n"], 9);
    assert_eq!(st.outbox_trim(&["email"], 2).unwrap(), 3);
    let mails = st.outbox_due(1000, &["email"], 10).unwrap();
    let ns: Vec<_> = mails.iter().map(|i| i.payload["n"].as_i64()).collect();
    assert_eq!(ns, vec![Some(3), Some(4)]);
    assert_eq!(st.outbox_len().unwrap(), 3);
}

#[test]
fn outbox_delivers_in_order_with_retries() {
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    let p = |n: i64| serde_json::json!({"effect": "email", "n": n, "s": "é\n"});
    b.outbox("email", p(1), 100);
    b.outbox("nftBan", p(2), 50);
    b.outbox("email", p(3), 100);
    b.outbox("email", p(4), 500);
    st.apply(&b).unwrap();
    assert_eq!(st.load_cursor("system").unwrap(), None);
    assert_eq!(st.outbox_len().unwrap(), 4);
    assert!(st.outbox_due(49, ALL_KINDS, 10).unwrap().is_empty());
    let due = st.outbox_due(100, ALL_KINDS, 10).unwrap();
    let ns: Vec<_> = due
        .iter()
        .map(|i| i.payload["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, vec![2, 1, 3]);
    assert_eq!(due[0].kind, "nftBan");
    assert_eq!(due[0].payload, p(2));
    assert_eq!((due[0].attempts, due[0].last_error.as_deref()), (0, None));
    assert_eq!(st.outbox_due(100, ALL_KINDS, 2).unwrap().len(), 2);

    let retry = |next_at_us, error: &str| Settled::Retry {
        id: due[1].id,
        next_at_us,
        error: error.into(),
    };
    st.outbox_settle(&[
        Settled::Done(due[0].id),
        retry(400, "smtp: connection refused"),
    ])
    .unwrap();
    st.outbox_settle(&[retry(450, "smtp: timeout")]).unwrap();
    drop(st);
    let st = Store::open(d.path()).unwrap();
    let due = st.outbox_due(100, ALL_KINDS, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].payload, p(3));
    let all = st.outbox_due(i64::MAX, ALL_KINDS, 10).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].payload, p(1));
    assert_eq!(all[1].attempts, 2);
    assert_eq!(all[1].next_at_us, 450);
    assert_eq!(all[1].last_error.as_deref(), Some("smtp: timeout"));
}

#[test]
fn files_are_for_root_only() {
    let d = temp();
    let dir = d.path().join("a/pyruse");
    let mut st = Store::open(&dir).unwrap();
    let mut b = Batch::new();
    b.set_counter("c", &s("k"), &entry(&[1], None));
    st.commit("system", "1", &b).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let db = dir.join(FILE_NAME);
    for f in [
        db.clone(),
        dir.join("state.sqlite-wal"),
        dir.join("state.sqlite-shm"),
    ] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    drop(st);

    // Looser modes left by someone else are tightened at open.
    fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();
    let st = Store::open(&dir).unwrap();
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&dir.join("state.sqlite-wal")), 0o600);
    assert_eq!(mode(&dir.join("state.sqlite-shm")), 0o600);
    drop(st);
}

fn open_err(dir: &Path) -> StoreError {
    match Store::open(dir) {
        Ok(_) => panic!("opened"),
        Err(e) => e,
    }
}

#[test]
fn a_foreign_or_damaged_file_is_an_error_not_a_panic() {
    // Not SQLite at all.
    let d = temp();
    fs::write(
        d.path().join(FILE_NAME),
        "this is not a database\n".repeat(100),
    )
    .unwrap();
    let e = open_err(d.path());
    assert!(matches!(e, StoreError::NotStateFile { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("is not a Pyruse state file"), "{msg}");
    assert!(msg.contains(FILE_NAME), "{msg}");

    // Shorter than SQLite's header.
    let d = temp();
    fs::write(d.path().join(FILE_NAME), "SQLite").unwrap();
    assert!(matches!(
        open_err(d.path()),
        StoreError::NotStateFile { .. }
    ));

    // Another program's SQLite database.
    let d = temp();
    let c = Connection::open(d.path().join(FILE_NAME)).unwrap();
    c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(c);
    let e = open_err(d.path());
    assert!(e.to_string().contains("not a Pyruse state file"), "{e}");

    // A directory where the file should be.
    let d = temp();
    fs::create_dir(d.path().join(FILE_NAME)).unwrap();
    let e = open_err(d.path());
    assert!(e.to_string().contains(FILE_NAME), "{e}");

    // A newer schema.
    let d = temp();
    drop(Store::open(d.path()).unwrap());
    let c = Connection::open(d.path().join(FILE_NAME)).unwrap();
    c.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(c);
    let e = open_err(d.path());
    assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e:?}");

    // A Pyruse file with damaged pages (garbage after the header page).
    let d = temp();
    let mut st = Store::open(d.path()).unwrap();
    let mut b = Batch::new();
    for i in 0..2000 {
        b.set_counter("c", &Value::Int(i), &entry(&[i; 8], None));
    }
    st.commit("system", "1", &b).unwrap();
    drop(st); // checkpoints the WAL into the file
    let db = d.path().join(FILE_NAME);
    let mut bytes = fs::read(&db).unwrap();
    assert!(bytes.len() > 3 * 4096);
    for (i, x) in bytes[4096..].iter_mut().enumerate() {
        *x = (i * 7 % 251) as u8;
    }
    fs::write(&db, bytes).unwrap();
    let r = Store::open(d.path()).and_then(|st| st.load_counters().map(drop));
    let e = r.expect_err("damaged file accepted");
    eprintln!("damaged file: {e}");
    assert!(e.to_string().contains(FILE_NAME), "{e}");

    // An empty file is a fresh store.
    let d = temp();
    fs::write(d.path().join(FILE_NAME), "").unwrap();
    let st = Store::open(d.path()).unwrap();
    assert_eq!(st.load_cursor("system").unwrap(), None);
}

// -- kill -9 -----------------------------------------------------------

const CHILD_ENV: &str = "PYRUSE_STORE_KILL9_DIR";

/// Batch `n` of the child: cursor `n`, the counter's count is `n`, and
/// one mapping, report record and outbox item per batch.
fn child_batch(n: i64) -> Batch {
    let mut b = Batch::new();
    // Touched twice: only the last state counts.
    b.set_counter("seq", &s("k"), &entry(&[0], None));
    b.set_counter(
        "seq",
        &s("k"),
        &entry(&vec![i64::MAX; (n % 500) as usize], Some(n)),
    );
    for j in 0..20 {
        b.set_counter(
            "noise",
            &Value::Int((n * 20 + j) % 5000),
            &entry(&[n], None),
        );
    }
    b.add_mapping(Mapping {
        saddr: Value::Int(n),
        sport: None,
        keys: Default::default(),
        stamp: i64::MAX,
        shift: 0,
    });
    b.report(rec(&n.to_string(), n));
    b.outbox("email", serde_json::json!({ "n": n }), n);
    b
}

/// Not a test by itself: the child process of the kill -9 test.
#[test]
fn kill9_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut st = Store::open(Path::new(&dir)).unwrap();
    let mut n: i64 = st
        .load_cursor("system")
        .unwrap()
        .map_or(0, |c| c.parse().unwrap());
    loop {
        n += 1;
        st.commit("system", &n.to_string(), &child_batch(n))
            .unwrap();
    }
}

fn check_invariants(dir: &Path) -> i64 {
    let st = Store::open(dir).unwrap();
    let check: String = st
        .conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let Some(n) = st.load_cursor("system").unwrap() else {
        assert!(st.load_counters().unwrap().is_empty());
        return 0;
    };
    let n: i64 = n.parse().unwrap();
    let seq: Vec<_> = st
        .load_counters()
        .unwrap()
        .into_iter()
        .filter(|(c, _, _)| c == "seq")
        .collect();
    assert_eq!(seq.len(), 1);
    let e = &seq[0].2;
    assert_eq!(
        e.grace_until,
        Some(n),
        "cursor {n} but counter of batch {:?}",
        e.grace_until
    );
    assert_eq!(e.ticks.len() as i64, n % 500);
    let maps = st.load_mappings().unwrap();
    assert_eq!(maps.len() as i64, n);
    assert_eq!(maps.last().unwrap().saddr, Value::Int(n));
    let reports = st.report_records().unwrap();
    assert_eq!(reports.len() as i64, n);
    assert_eq!(reports.last().unwrap().time_us, n);
    assert_eq!(st.outbox_len().unwrap() as i64, n);
    n
}

#[test]
fn kill9_at_random_times_leaves_a_consistent_file() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let d = temp();
    let exe = std::env::current_exe().unwrap();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    eprintln!("kill9 seed {seed}");
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut last = 0;
    let mut progressed = 0;
    for round in 0..20 {
        let mut child = std::process::Command::new(&exe)
            .args([
                "state::store::tests::kill9_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, d.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Let it start and commit, then kill it at a random moment.
        let wait = Duration::from_millis(30 + rand(250));
        let start = Instant::now();
        while start.elapsed() < wait {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("round {round}: child exited early: {status}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let n = check_invariants(d.path());
        assert!(n >= last, "round {round}: cursor went back {last} -> {n}");
        if n > last {
            progressed += 1;
        }
        last = n;
    }
    assert!(progressed >= 10, "the child made too little progress");
    eprintln!("kill9: {last} batches over 20 kills");
}

#[test]
fn read_only_and_existing_opens_create_nothing() {
    let tmp = temp();
    let missing = tmp.path().join("missing");
    assert!(matches!(
        Store::open_read_only(&missing),
        Err(StoreError::NoStateDir { .. })
    ));
    assert!(matches!(
        Store::open_existing(&missing),
        Err(StoreError::NoStateDir { .. })
    ));
    assert!(!missing.exists());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(
        Store::open_read_only(&empty),
        Err(StoreError::NoStateFile { .. })
    ));
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    // An existing directory gets its state file when opened for changes.
    let mut w = Store::open_existing(&empty).unwrap();
    let mut b = Batch::new();
    b.set_counter("ssh", &s("192.0.2.1"), &entry(&[10 * S], None));
    w.commit("system", "c1", &b).unwrap();
    // A reader sees the commit, and cannot write.
    let mut r = Store::open_read_only(&empty).unwrap();
    assert_eq!(r.load_cursor("system").unwrap().as_deref(), Some("c1"));
    assert!(r.apply(&b).is_err());
}

#[test]
fn a_counter_reset_is_queued_and_done_with_a_batch() {
    let tmp = temp();
    let mut st = Store::open(tmp.path()).unwrap();
    let mut b = Batch::new();
    b.set_counter(
        "ssh",
        &s("192.0.2.1"),
        &entry(&[10 * S, 20 * S, 30 * S], None),
    );
    b.set_counter("ssh", &Value::Int(7), &entry(&[15 * S], None));
    b.set_counter("ssh", &s("192.0.2.2"), &entry(&[], Some(40 * S)));
    st.commit("system", "c1", &b).unwrap();

    // Highest count at the time asked first; a key in grace counts 0.
    let top = st.counter_top("ssh", 12 * S, 10).unwrap();
    let got: Vec<(Value, i64, i64, Option<i64>)> = top
        .into_iter()
        .map(|r| (r.key, r.value, r.expires_us, r.grace_until_us))
        .collect();
    assert_eq!(
        got,
        vec![
            (s("192.0.2.1"), 2, 30 * S, None),
            (Value::Int(7), 1, 15 * S, None),
            (s("192.0.2.2"), 0, 40 * S, Some(40 * S)),
        ]
    );
    assert_eq!(st.counter_sizes(16 * S).unwrap(), vec![("ssh".into(), 2)]);
    // Keys are found as they are written, whatever their type.
    assert_eq!(
        st.counter_keys_written("ssh", "7").unwrap(),
        vec![Value::Int(7)]
    );
    assert!(st
        .counter_keys_written("ssh", "192.0.2.9")
        .unwrap()
        .is_empty());

    st.reset_counter("ssh", &s("192.0.2.1"), 5).unwrap();
    assert!(st
        .counter_keys_written("ssh", "192.0.2.1")
        .unwrap()
        .is_empty());
    let cmds = st.commands().unwrap();
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0].kind, "counterReset");
    assert_eq!(cmds[0].payload["counter"], "ssh");
    assert_eq!(
        decode_value(cmds[0].payload["key"].as_str().unwrap()).unwrap(),
        s("192.0.2.1")
    );
    // The daemon's batch carries the command out with its status record.
    let mut done = Batch::new();
    done.command_done(cmds[0].id);
    done.set_status("{\"pid\":1}".into());
    assert!(!done.is_empty());
    st.apply(&done).unwrap();
    assert!(st.commands().unwrap().is_empty());
    assert_eq!(st.status_record().unwrap().as_deref(), Some("{\"pid\":1}"));
    done.clear();
    assert!(done.is_empty());
}
