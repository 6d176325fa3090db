//! The records of a period, gathered one by one into the rows of the
//! report, in bounded memory (a day can hold millions of records).
//!
//! - `OTHER`: one row per shape ([`super::shape`]), in the order of its
//!   first occurrence, with its count, first and last time and the first
//!   message as example.
//! - `WARN` and `INFO`: one row per distinct message, as Pyruse wrote
//!   them, as long as a shape has at most [`MAX_VARIANTS`] distinct
//!   messages; a shape with more becomes one row (count, first and last
//!   time as `details` allows, an example). So a rule that reports every
//!   line of a service, each with its own address, gives one row, and a
//!   handful of distinct warnings still show each one.
//! - At most [`MAX_SHAPES`] shapes are kept per section; the records of
//!   further shapes are counted (lines, first and last time), and the
//!   report says so.
//! - The times of an `ALL` row: the first and the last [`TIMES_KEPT`], and
//!   how many between them.

use std::collections::{HashMap, VecDeque};

use super::shape;

/// Shapes kept per section; the records of others are only counted.
pub const MAX_SHAPES: usize = 10_000;
/// Distinct messages of one shape listed each on its own row (WARN, INFO).
pub const MAX_VARIANTS: usize = 5;
/// Times listed at each end of an `ALL` row.
pub const TIMES_KEPT: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Details {
    All,
    None,
    First,
    Last,
    FirstLast,
}

impl Details {
    fn parse(s: &str) -> Details {
        match s {
            "NONE" => Details::None,
            "FIRST" => Details::First,
            "LAST" => Details::Last,
            "FIRSTLAST" => Details::FirstLast,
            _ => Details::All,
        }
    }
}

/// The times of a group of records.
#[derive(Clone, Debug, Default)]
struct Kept {
    count: u64,
    first: i64,
    last: i64,
    /// The first times (in arrival order).
    head: Vec<i64>,
    /// The last times after `head` (at most [`TIMES_KEPT`]).
    tail: VecDeque<i64>,
}

impl Kept {
    fn add(&mut self, t: i64, keep_each: bool) {
        if self.count == 0 {
            (self.first, self.last) = (t, t);
        }
        self.count += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        if !keep_each {
            return;
        }
        if self.head.len() < TIMES_KEPT {
            self.head.push(t);
            return;
        }
        if self.tail.len() == TIMES_KEPT {
            self.tail.pop_front();
        }
        self.tail.push_back(t);
    }
}

/// How the times of a row are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Times {
    /// Every time; `skipped` more between `head` and `tail`.
    Each {
        head: Vec<i64>,
        skipped: u64,
        tail: Vec<i64>,
    },
    From(i64),
    Until(i64),
    FromUntil(i64, i64),
    Hidden,
}

/// One row of WARN or INFO.
#[derive(Clone, Debug)]
pub(super) struct Row {
    /// The message, or the shape as text (`<IP>`…) when `example` is set.
    pub message: String,
    pub example: Option<String>,
    pub count: u64,
    pub times: Times,
}

/// One row of OTHER.
#[derive(Clone, Debug)]
pub(super) struct OtherRow {
    pub message: String,
    pub example: Option<String>,
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

/// The records of shapes beyond [`MAX_SHAPES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Unkept {
    pub lines: u64,
    pub first: i64,
    pub last: i64,
}

impl Unkept {
    fn add(&mut self, t: i64) {
        if self.lines == 0 {
            (self.first, self.last) = (t, t);
        }
        self.lines += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
}

struct Variant {
    message: String,
    details: Details,
    kept: Kept,
}

/// A shape of WARN or INFO: its distinct messages, or once there are too
/// many, one merged row.
struct Group {
    shape: String,
    variants: Vec<Variant>,
    merged: Option<Variant>,
}

impl Group {
    fn add(&mut self, message: &str, details: &str, t: i64) {
        if let Some(m) = self.merged.as_mut() {
            m.kept.add(t, false);
            return;
        }
        if let Some(v) = self.variants.iter_mut().find(|v| v.message == message) {
            let each = v.details == Details::All;
            v.kept.add(t, each);
            return;
        }
        let details = Details::parse(details);
        let mut kept = Kept::default();
        kept.add(t, details == Details::All);
        self.variants.push(Variant {
            message: message.to_owned(),
            details,
            kept,
        });
        if self.variants.len() > MAX_VARIANTS {
            self.merge();
        }
    }

    /// Fold the variants into one row: the earliest record gives the
    /// example and the details mode.
    fn merge(&mut self) {
        let variants = std::mem::take(&mut self.variants);
        let mut kept = Kept::default();
        let mut earliest: Option<&Variant> = None;
        for v in &variants {
            if kept.count == 0 {
                (kept.first, kept.last) = (v.kept.first, v.kept.last);
            }
            kept.count += v.kept.count;
            kept.first = kept.first.min(v.kept.first);
            kept.last = kept.last.max(v.kept.last);
            if earliest.is_none_or(|e| v.kept.first < e.kept.first) {
                earliest = Some(v);
            }
        }
        let (message, details) = earliest.map_or((String::new(), Details::All), |e| {
            (e.message.clone(), e.details)
        });
        self.merged = Some(Variant {
            message,
            details,
            kept,
        });
    }

    fn rows(self, out: &mut Vec<(String, Row)>) {
        if let Some(m) = self.merged {
            let shown = shape::display(&self.shape);
            let k = &m.kept;
            let times = match m.details {
                Details::None => Times::Hidden,
                Details::First => Times::From(k.first),
                Details::Last => Times::Until(k.last),
                Details::All | Details::FirstLast => Times::FromUntil(k.first, k.last),
            };
            let row = Row {
                message: shown.clone(),
                example: Some(m.message),
                count: k.count,
                times,
            };
            out.push((shown, row));
            return;
        }
        for v in self.variants {
            out.push((v.message.clone(), variant_row(v)));
        }
    }
}

fn variant_row(v: Variant) -> Row {
    let k = v.kept;
    let times = match v.details {
        Details::All => each(&k),
        Details::None => Times::Hidden,
        Details::First => Times::From(k.first),
        Details::Last => Times::Until(k.last),
        Details::FirstLast if k.count < 2 => each(&k),
        Details::FirstLast => Times::FromUntil(k.first, k.last),
    };
    Row {
        message: v.message,
        example: None,
        count: k.count,
        times,
    }
}

fn each(k: &Kept) -> Times {
    let mut head = k.head.clone();
    if head.is_empty() {
        // A FIRSTLAST row with one occurrence keeps no list.
        head.push(k.first);
    }
    let tail: Vec<i64> = k.tail.iter().copied().collect();
    let listed = (head.len() + tail.len()) as u64;
    Times::Each {
        head,
        skipped: k.count.saturating_sub(listed),
        tail,
    }
}

/// One OTHER shape.
struct OtherGroup {
    shape: String,
    example: String,
    varied: bool,
    count: u64,
    first: i64,
    last: i64,
}

/// The shapes of one section, by shape.
struct Index {
    by_shape: HashMap<String, usize>,
    unkept: Unkept,
    records: u64,
}

impl Index {
    fn new() -> Index {
        Index {
            by_shape: HashMap::new(),
            unkept: Unkept::default(),
            records: 0,
        }
    }

    /// The index of `shape`'s group; `None` when it is new and the cap is
    /// reached (the record is then counted as unkept); `Some(len)` when new.
    fn slot(&mut self, shape: &str, len: usize, t: i64) -> Option<usize> {
        self.records += 1;
        if let Some(&i) = self.by_shape.get(shape) {
            return Some(i);
        }
        if len >= MAX_SHAPES {
            self.unkept.add(t);
            return None;
        }
        self.by_shape.insert(shape.to_owned(), len);
        Some(len)
    }
}

/// Gathers records (best in time order) into the rows of the report.
pub struct Collector {
    buf: String,
    warn: (Index, Vec<Group>),
    info: (Index, Vec<Group>),
    other: (Index, Vec<OtherGroup>),
}

impl Default for Collector {
    fn default() -> Self {
        Collector::new()
    }
}

/// What the collector gathered, ready to render.
pub(super) struct Collected {
    /// WARN, INFO: rows sorted by message (or shape) in code point order.
    pub sections: [Vec<Row>; 2],
    /// Records of WARN, INFO, OTHER.
    pub records: [u64; 3],
    pub other: Vec<OtherRow>,
    pub unkept: [Unkept; 3],
}

impl Collector {
    pub fn new() -> Collector {
        Collector {
            buf: String::new(),
            warn: (Index::new(), Vec::new()),
            info: (Index::new(), Vec::new()),
            other: (Index::new(), Vec::new()),
        }
    }

    /// One record: `level` `WARN`, `INFO`, or anything else for OTHER.
    pub fn add(&mut self, level: &str, message: &str, details: &str, time_us: i64) {
        shape::shape(message, &mut self.buf);
        let shape = self.buf.as_str();
        let (index, groups) = match level {
            "WARN" => &mut self.warn,
            "INFO" => &mut self.info,
            _ => {
                let (index, groups) = &mut self.other;
                add_other(index, groups, shape, message, time_us);
                return;
            }
        };
        let Some(i) = index.slot(shape, groups.len(), time_us) else {
            return;
        };
        if i == groups.len() {
            groups.push(Group {
                shape: shape.to_owned(),
                variants: Vec::new(),
                merged: None,
            });
        }
        groups[i].add(message, details, time_us);
    }

    pub(super) fn finish(self) -> Collected {
        let rows = |groups: Vec<Group>| {
            let mut keyed = Vec::new();
            for g in groups {
                g.rows(&mut keyed);
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            keyed.into_iter().map(|(_, r)| r).collect::<Vec<Row>>()
        };
        let other = self
            .other
            .1
            .into_iter()
            .map(|g| OtherRow {
                message: if g.varied {
                    shape::display(&g.shape)
                } else {
                    g.example.clone()
                },
                example: g.varied.then_some(g.example),
                count: g.count,
                first: g.first,
                last: g.last,
            })
            .collect();
        Collected {
            records: [
                self.warn.0.records,
                self.info.0.records,
                self.other.0.records,
            ],
            unkept: [self.warn.0.unkept, self.info.0.unkept, self.other.0.unkept],
            sections: [rows(self.warn.1), rows(self.info.1)],
            other,
        }
    }
}

fn add_other(index: &mut Index, groups: &mut Vec<OtherGroup>, shape: &str, message: &str, t: i64) {
    let Some(i) = index.slot(shape, groups.len(), t) else {
        return;
    };
    match groups.get_mut(i) {
        Some(g) => {
            g.count += 1;
            g.first = g.first.min(t);
            g.last = g.last.max(t);
            g.varied = g.varied || g.example != message;
        }
        None => groups.push(OtherGroup {
            shape: shape.to_owned(),
            example: message.to_owned(),
            varied: false,
            count: 1,
            first: t,
            last: t,
        }),
    }
}
