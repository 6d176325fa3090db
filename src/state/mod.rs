//! The engine's memory between entries: counters, DNAT mappings and
//! remembered sessions.
//!
//! All times are microseconds on the engine clock (the entries'
//! `__REALTIME_TIMESTAMP`, docs/legacy-semantics.md §13), so replaying old entries gives the
//! results they had when they happened.

pub mod store;

use crate::value::Value;
use std::collections::{HashMap, VecDeque};

/// Index of a counter category, interned at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CounterId(pub u16);

/// One key of a counter category: expiry times of its ticks and an optional
/// grace end. `i64::MAX` is "never".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CounterEntry {
    pub ticks: Vec<i64>,
    pub grace_until: Option<i64>,
}

impl CounterEntry {
    fn clean(&mut self, now: i64) {
        self.ticks.retain(|&t| t > now);
        if self.grace_until.is_some_and(|g| g <= now) {
            self.grace_until = None;
        }
    }

    fn is_empty(&self) -> bool {
        self.ticks.is_empty() && self.grace_until.is_none()
    }
}

/// Counters by category and key (docs/legacy-semantics.md §9).
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub categories: Vec<HashMap<Value, CounterEntry>>,
    /// Operations on each category since its last sweep.
    ops: Vec<u32>,
    /// Keys forgotten early because their counter was full.
    pub evicted: u64,
}

const SWEEP_EVERY: u32 = 4096;

/// At most this many keys per counter. A new key past it makes an
/// arbitrary key forgotten (expired keys are swept regularly anyway): a
/// distributed attack keeps memory bounded at the cost of a few counts,
/// instead of growing without end.
pub const MAX_COUNTER_KEYS: usize = 1_000_000;

impl Counters {
    pub fn new(categories: usize) -> Counters {
        Counters {
            categories: vec![HashMap::new(); categories],
            ops: vec![0; categories],
            evicted: 0,
        }
    }

    fn category(&mut self, id: CounterId, now: i64) -> &mut HashMap<Value, CounterEntry> {
        let idx = usize::from(id.0);
        if idx >= self.categories.len() {
            self.categories.resize_with(idx + 1, HashMap::new);
        }
        if idx >= self.ops.len() {
            self.ops.resize(idx + 1, 0);
        }
        let ops = &mut self.ops[idx];
        *ops = ops.saturating_add(1);
        let cat = &mut self.categories[idx];
        // Sweeping costs the size of the category: do it once the
        // operations on it since the last sweep reach half its size (what
        // the sweep kept plus what came since), so that it costs O(1) per
        // operation however many keys, and a category holds at most about
        // twice its live keys. Each category counts its own operations: a
        // large one is swept as regularly as a small one.
        let half = u32::try_from(cat.len() / 2).unwrap_or(u32::MAX);
        if *ops >= SWEEP_EVERY.max(half) {
            *ops = 0;
            cat.retain(|_, e| {
                e.clean(now);
                !e.is_empty()
            });
        }
        cat
    }

    /// Add a tick (unless the key is in grace) and return the live count.
    pub fn raise(&mut self, id: CounterId, key: &Value, keep: Option<i64>, now: i64) -> i64 {
        let cat = self.category(id, now);
        let mut evicted = false;
        if cat.len() >= MAX_COUNTER_KEYS && !cat.contains_key(key) {
            // The periodic sweep removes expired keys; here, make room.
            if let Some(k) = cat.keys().next().cloned() {
                cat.remove(&k);
                evicted = true;
            }
        }
        let entry = match cat.get_mut(key) {
            Some(e) => e,
            None => cat.entry(key.clone()).or_default(),
        };
        entry.clean(now);
        let count = if entry.grace_until.is_some() {
            0
        } else {
            entry
                .ticks
                .push(keep.map_or(i64::MAX, |k| now.saturating_add(k)));
            entry.ticks.len() as i64
        };
        self.evicted += u64::from(evicted);
        count
    }

    /// Drop the key's ticks, and start a grace period when asked.
    pub fn reset(&mut self, id: CounterId, key: &Value, grace: Option<i64>, now: i64) {
        let cat = self.category(id, now);
        match grace {
            Some(g) => {
                let entry = match cat.get_mut(key) {
                    Some(e) => e,
                    None => cat.entry(key.clone()).or_default(),
                };
                entry.ticks.clear();
                entry.grace_until = Some(now.saturating_add(g));
            }
            None => {
                cat.remove(key);
            }
        }
    }
}

/// A remembered DNAT link (docs/legacy-semantics.md §12).
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    pub saddr: Value,
    pub sport: Option<Value>,
    /// addr, port, daddr, dport: the service-side values.
    pub keys: [Option<Value>; 4],
    /// Stamp `t` and shift `b`: alive while `(now_s >> b) <= t`.
    pub stamp: i64,
    pub shift: u32,
}

impl Mapping {
    pub fn alive(&self, now_us: i64) -> bool {
        (now_us.div_euclid(1_000_000) >> self.shift) <= self.stamp
    }
}

/// Which of addr/port/daddr/dport a lookup matches on (bits 0–3).
pub type MatchMask = u8;

/// DNAT mappings, indexed by the match fields of each `dnatReplace` of the
/// program, so a lookup costs one hash probe instead of Pyruse's scan.
/// When several live mappings match, the oldest wins, as in Pyruse.
#[derive(Clone, Debug, Default)]
pub struct Dnat {
    next_id: u64,
    mappings: HashMap<u64, Mapping>,
    order: VecDeque<u64>,
    masks: Vec<MatchMask>,
    index: HashMap<(MatchMask, [Option<Value>; 4]), VecDeque<u64>>,
    /// Live mappings forgotten early because the table was full.
    pub evicted: u64,
}

/// At most this many DNAT links are remembered; past it, the oldest live
/// ones are forgotten first.
pub const MAX_DNAT_MAPPINGS: usize = 100_000;

impl Dnat {
    /// `masks`: the distinct match-field sets that lookups will use.
    pub fn new(masks: Vec<MatchMask>) -> Dnat {
        Dnat {
            masks,
            ..Dnat::default()
        }
    }

    fn key(mask: MatchMask, keys: &[Option<Value>; 4]) -> (MatchMask, [Option<Value>; 4]) {
        let mut k: [Option<Value>; 4] = Default::default();
        for (i, slot) in k.iter_mut().enumerate() {
            if mask & (1 << i) != 0 {
                *slot = keys[i].clone();
            }
        }
        (mask, k)
    }

    pub fn capture(&mut self, m: Mapping, now_us: i64) {
        // Forget the oldest mappings once dead, or past the cap, so memory
        // stays bounded.
        while let Some(&id) = self.order.front() {
            let full = self.mappings.len() >= MAX_DNAT_MAPPINGS;
            let alive = self.mappings.get(&id).is_some_and(|m| m.alive(now_us));
            if alive && !full {
                break;
            }
            if alive {
                self.evicted += 1;
            }
            self.forget(id);
        }
        let id = self.next_id;
        self.next_id += 1;
        for &mask in &self.masks {
            self.index
                .entry(Self::key(mask, &m.keys))
                .or_default()
                .push_back(id);
        }
        self.order.push_back(id);
        self.mappings.insert(id, m);
    }

    /// Forget the oldest mapping, `id`, and its index entries.
    fn forget(&mut self, id: u64) {
        self.order.pop_front();
        if let Some(m) = self.mappings.remove(&id) {
            for &mask in &self.masks {
                let key = Self::key(mask, &m.keys);
                if let Some(ids) = self.index.get_mut(&key) {
                    ids.retain(|&i| i != id);
                    if ids.is_empty() {
                        self.index.remove(&key);
                    }
                }
            }
        }
    }

    /// The oldest live mapping whose masked keys equal `want`.
    pub fn lookup(
        &mut self,
        mask: MatchMask,
        want: &[Option<Value>; 4],
        now_us: i64,
    ) -> Option<&Mapping> {
        let key = Self::key(mask, want);
        let ids = self.index.get_mut(&key)?;
        let mappings = &self.mappings;
        ids.retain(|id| mappings.get(id).is_some_and(|m| m.alive(now_us)));
        let found = ids.front().copied();
        if ids.is_empty() {
            self.index.remove(&key);
        }
        found.and_then(|id| self.mappings.get(&id))
    }

    pub fn len(&self) -> usize {
        self.mappings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mappings.is_empty()
    }

    /// All mappings, oldest first (for persistence).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Mapping> {
        self.order.iter().filter_map(|id| self.mappings.get(id))
    }
}

/// Number of significant bits of `keep_seconds` (63 → 6, 120 → 7).
pub fn dnat_shift(keep_seconds: i64) -> u32 {
    if keep_seconds <= 0 {
        0
    } else {
        64 - (keep_seconds as u64).leading_zeros()
    }
}

/// Fields kept by `remember` for a session, until a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Remembered {
    pub fields: Vec<(String, Value)>,
    /// Engine clock (µs) at which it is forgotten.
    pub until: i64,
}

/// A session: the `session` name and the values of its key fields.
pub type SessionKey = (String, Vec<Value>);

/// At most this many sessions are remembered; past it, the sessions that
/// are over are forgotten, then arbitrary ones.
pub const MAX_SESSIONS: usize = 100_000;

/// Sessions remembered by `remember`, for `recall`, found by a hash of the
/// session name and key values, so that a lookup builds no key (no
/// allocation for the entries it does not concern).
#[derive(Clone, Debug, Default)]
pub struct Sessions {
    map: HashMap<u64, Vec<(SessionKey, Remembered)>>,
    len: usize,
    /// Insertions since the last sweep.
    ops: usize,
    /// Sessions forgotten early because the table was full.
    pub evicted: u64,
}

/// The hash a session is found by.
pub fn session_hash<'v>(session: &str, values: impl Iterator<Item = &'v Value>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    session.hash(&mut h);
    for v in values {
        v.hash(&mut h);
    }
    h.finish()
}

impl Sessions {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keep `r` under `key`, replacing what was there.
    pub fn remember(&mut self, key: SessionKey, r: Remembered, now: i64) {
        let h = session_hash(&key.0, key.1.iter());
        if let Some(slot) = self
            .map
            .get_mut(&h)
            .and_then(|b| b.iter_mut().find(|(k, _)| *k == key))
        {
            slot.1 = r;
            return;
        }
        // Forget the sessions that are over once the insertions since the
        // last sweep reach half the table (O(1) per entry; at most about
        // twice the live sessions), and past the cap an arbitrary one.
        self.ops += 1;
        if self.ops >= (self.len / 2).max(1024) {
            self.ops = 0;
            self.sweep(now);
        }
        if self.len >= MAX_SESSIONS && self.forget_any() {
            self.evicted += 1;
        }
        self.map.entry(h).or_default().push((key, r));
        self.len += 1;
    }

    /// Forget the sessions over at `now`.
    fn sweep(&mut self, now: i64) {
        let mut len = 0;
        self.map.retain(|_, bucket| {
            bucket.retain(|(_, r)| r.until > now);
            len += bucket.len();
            !bucket.is_empty()
        });
        self.len = len;
    }

    /// Forget some session; false when there is none.
    fn forget_any(&mut self) -> bool {
        let Some(&h) = self.map.keys().next() else {
            return false;
        };
        if let Some(bucket) = self.map.get_mut(&h) {
            bucket.pop();
            if bucket.is_empty() {
                self.map.remove(&h);
            }
        }
        self.len -= 1;
        true
    }

    /// What is remembered under the session `name` and the key values
    /// `value(0)`, `value(1)`… (`n` of them), while it lives.
    pub fn find<'v>(
        &self,
        name: &str,
        n: usize,
        value: impl Fn(usize) -> Option<&'v Value>,
        now: i64,
    ) -> Option<&Remembered> {
        let h = session_hash(name, (0..n).map_while(&value));
        self.map.get(&h)?.iter().find_map(|(k, r)| {
            (k.0 == name
                && k.1.len() == n
                && k.1.iter().enumerate().all(|(j, v)| value(j) == Some(v))
                && r.until > now)
                .then_some(r)
        })
    }

    /// What is remembered under `key`, while it lives.
    pub fn recall(&self, key: &SessionKey, now: i64) -> Option<&Remembered> {
        self.find(&key.0, key.1.len(), |j| key.1.get(j), now)
    }
}

/// All state the rules keep between entries.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub counters: Counters,
    pub dnat: Dnat,
    pub sessions: Sessions,
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn counter_ticks_expire_and_grace_blocks_raises() {
        let mut c = Counters::new(1);
        let id = CounterId(0);
        let k = Value::Str("1.2.3.4".into());
        assert_eq!(c.raise(id, &k, Some(10 * S), 0), 1);
        assert_eq!(c.raise(id, &k, Some(10 * S), 5 * S), 2);
        assert_eq!(c.raise(id, &k, Some(10 * S), 11 * S), 2);
        c.reset(id, &k, Some(60 * S), 12 * S);
        assert_eq!(c.raise(id, &k, Some(10 * S), 13 * S), 0);
        assert_eq!(c.raise(id, &k, Some(10 * S), 73 * S), 1);
    }

    #[test]
    fn sessions_live_until_their_end_and_stay_bounded() {
        let mut s = Sessions::default();
        let key = |n: i64| ("sshd".to_owned(), vec![Value::Int(n)]);
        let r = |until| Remembered {
            fields: vec![("ip".into(), Value::Str("192.0.2.1".into()))],
            until,
        };
        s.remember(key(1), r(10 * S), 0);
        assert!(s.recall(&key(1), 9 * S).is_some());
        assert!(s.recall(&key(1), 10 * S).is_none());
        assert!(s.recall(&key(2), 0).is_none());
        for n in 0..MAX_SESSIONS as i64 + 10 {
            s.remember(key(n), r(100 * S + n), 0);
        }
        assert_eq!(s.len(), MAX_SESSIONS);
        assert!(
            s.recall(&key(MAX_SESSIONS as i64 + 9), 0).is_some(),
            "the newest stays"
        );
        assert!(s.evicted > 0);
    }

    #[test]
    fn sessions_over_are_forgotten_however_many_come() {
        // A new session every millisecond, each lasting 10 seconds: about
        // 10,000 live at any time, and the table never far above that.
        let mut s = Sessions::default();
        let ms = S / 1000;
        let mut peak = 0;
        for n in 0..200_000i64 {
            let r = Remembered {
                fields: Vec::new(),
                until: n * ms + 10 * S,
            };
            s.remember(("sshd".to_owned(), vec![Value::Int(n)]), r, n * ms);
            peak = peak.max(s.len());
        }
        assert!(peak <= 2 * 10_000 + 1024, "{peak} sessions at the peak");
        assert_eq!(s.evicted, 0);
    }

    #[test]
    fn dnat_retention_is_between_one_and_two_powers_of_two() {
        assert_eq!(dnat_shift(63), 6);
        assert_eq!(dnat_shift(64), 7);
        assert_eq!(dnat_shift(120), 7);
        let m = Mapping {
            saddr: Value::Str("a".into()),
            sport: None,
            keys: Default::default(),
            stamp: 1 + (1000 >> 6),
            shift: 6,
        };
        // 1000 >> 6 = 15, stamp 16: alive while now >> 6 <= 16, i.e. now < 1088.
        assert!(m.alive(1087 * S));
        assert!(!m.alive(1088 * S));
    }

    #[test]
    fn dnat_links_stay_bounded_and_their_index_with_them() {
        let mut d = Dnat::new(vec![0b0011]);
        let mk = |n: usize| Mapping {
            saddr: Value::Str(format!("client {n}")),
            sport: None,
            keys: [
                Some(Value::Str("10.0.0.1".into())),
                Some(Value::Str(n.to_string())),
                None,
                None,
            ],
            stamp: i64::MAX,
            shift: 6,
        };
        for n in 0..MAX_DNAT_MAPPINGS + 10 {
            d.capture(mk(n), 0);
        }
        assert_eq!(d.len(), MAX_DNAT_MAPPINGS);
        assert_eq!(d.evicted, 10);
        assert_eq!(d.index.len(), MAX_DNAT_MAPPINGS, "no stale index entries");
        let newest = mk(MAX_DNAT_MAPPINGS + 9).keys;
        assert!(d.lookup(0b0011, &newest, 0).is_some());
        assert!(
            d.lookup(0b0011, &mk(0).keys, 0).is_none(),
            "the oldest went first"
        );
    }

    #[test]
    fn counters_stay_bounded() {
        let mut c = Counters::new(1);
        let id = CounterId(0);
        for n in 0..MAX_COUNTER_KEYS as i64 + 5 {
            c.raise(id, &Value::Int(n), Some(3600 * S), 0);
        }
        assert_eq!(c.categories[0].len(), MAX_COUNTER_KEYS);
        assert_eq!(c.evicted, 5);
    }

    #[test]
    fn every_counter_forgets_its_expired_keys_however_large() {
        // Four counters raised in turn with new keys, one entry per
        // millisecond, keys kept 10 minutes: each holds about 150,000 live
        // keys, and none grows past what its sweeps allow, whichever grew
        // first. (When one counter's operations also decided the others'
        // sweeps, the first to grow past the rest was never swept again.)
        let mut c = Counters::new(4);
        let keep = 600 * S;
        let ms = S / 1000;
        let mut peak = [0usize; 4];
        for n in 0..2_000_000i64 {
            let cat = (n % 4) as u16;
            // One counter is ahead from the start.
            let id = CounterId(if n < 50_000 { 0 } else { cat });
            c.raise(id, &Value::Int(n), Some(keep), n * ms);
            let i = usize::from(id.0);
            peak[i] = peak[i].max(c.categories[i].len());
        }
        for (i, p) in peak.iter().enumerate() {
            assert!(*p < 2 * 150_000 + 50_000, "counter {i} peaked at {p} keys");
        }
        assert_eq!(c.evicted, 0);
    }

    #[test]
    fn dnat_lookup_finds_oldest_live_match() {
        let mut d = Dnat::new(vec![0b0011]);
        let keys = |a: &str, p: &str| {
            [
                Some(Value::Str(a.into())),
                Some(Value::Str(p.into())),
                None,
                None,
            ]
        };
        let mk = |s: &str, stamp| Mapping {
            saddr: Value::Str(s.into()),
            sport: None,
            keys: keys("10.0.0.1", "22"),
            stamp,
            shift: 6,
        };
        d.capture(mk("first", 100), 0);
        d.capture(mk("second", 200), 0);
        let want = keys("10.0.0.1", "22");
        assert_eq!(
            d.lookup(0b0011, &want, 0).map(|m| m.saddr.clone()),
            Some(Value::Str("first".into()))
        );
        // After the first expires, the second wins.
        let later = (101 << 6) * S;
        assert_eq!(
            d.lookup(0b0011, &want, later).map(|m| m.saddr.clone()),
            Some(Value::Str("second".into()))
        );
        assert!(d.lookup(0b0011, &keys("10.0.0.1", "23"), 0).is_none());
    }
}
