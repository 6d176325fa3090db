//! Entries read from the systemd journal through libsystemd (`sd-journal`).
//!
//! A [`JournalReader`] wraps one `sd_journal` handle: it is opened on the
//! local journals, a directory or explicit files ([`Input`]), positioned at
//! the head, the tail or after a saved cursor ([`Start`]), then advanced with
//! [`JournalReader::next`] and, at the end of what exists,
//! [`JournalReader::wait`]s with a timeout for more. Rotation, vacuuming and
//! new files are libsystemd's job: the reader keeps its position in the
//! handle, and `next` continues after it in whatever files exist now.
//!
//! Fields are read lazily: the first [`EntrySource::fetch`] of an entry
//! enumerates its data once (`sd_journal_enumerate_data`, every occurrence
//! of every field, data threshold 0 so that nothing is truncated) into a
//! buffer reused from entry to entry; later fetches of that entry search it.
//! `__REALTIME_TIMESTAMP`, `__MONOTONIC_TIMESTAMP` and `__CURSOR` are not
//! data fields: they come from their own calls.
//!
//! Threads: the handle is not `Send` (libsystemd's `sd_journal` must stay on
//! the thread that opened it), and neither is a [`JournalReader`]: open it
//! and use it on one thread.

use crate::value::fields::FieldId;
use crate::vm::{EntrySource, RawField};
use std::cell::Cell;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use systemd::journal::{
    Journal, JournalWaitResult, OpenDirectoryOptions, OpenFilesOptions, OpenOptions,
};

/// Which journal files to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The journals of this machine (`sd_journal_open` with
    /// `SD_JOURNAL_LOCAL_ONLY`): system and users' journals, persistent and
    /// runtime. Reading the system journal needs root or the
    /// `systemd-journal` group.
    System,
    /// The journal files in a directory, such as `/var/log/journal/remote`
    /// (`sd_journal_open_directory`); files appearing there later are read
    /// too.
    Directory(PathBuf),
    /// These journal files (`sd_journal_open_files`).
    Files(Vec<PathBuf>),
}

/// Where reading starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// At the first entry.
    Head,
    /// After the last entry existing at open: only entries written later
    /// are returned.
    Tail,
    /// After this cursor (the entry with the cursor itself is NOT returned
    /// again). When that entry no longer exists (vacuumed), reading goes on
    /// from the nearest later entry, which is returned. Only the cursor is
    /// known: entries of other journal files are taken as read up to the
    /// cursor's time (see [`Position`] for the exact form).
    After(String),
    /// Right after what a reader had returned when it saved this
    /// [`Position`]: every entry not returned then is returned, whatever
    /// file it is in, and no entry twice.
    Resume(Position),
}

/// How far back from the last entry returned a resumed reader looks for
/// entries it has not returned yet (files that appeared since, entries of
/// other machines interleaved with the last ones). Entries of a file that
/// arrives later than this with older timestamps are not read.
pub const RESUME_WINDOW_US: u64 = 15 * 60 * 1_000_000;

/// The last sequence number returned from one journal sequence (a seqnum
/// id: the entries one journald, or one remote source, numbered in order).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    seqnum_id: String,
    seqnum: u64,
    realtime: u64,
}

/// Where a reader stands: the cursor of the last entry it returned, and the
/// last sequence number it returned from each journal sequence recently
/// read.
///
/// libsystemd's seek by cursor finds entries of *other* files by boot id
/// and monotonic time, so resuming from the cursor alone passes over
/// entries of other machines or boots (the interleaved sources of a
/// `systemd-journal-remote` collector). A resumed reader instead seeks to
/// [`RESUME_WINDOW_US`] before the last entry and passes over exactly the
/// entries whose sequence number it had already returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    cursor: String,
    seen: Vec<Seen>,
    /// `None`: every sequence read within the window is in `seen`, and an
    /// entry of a sequence not in it is new. For a position known only from
    /// a cursor, the cursor's time: an entry of another sequence counts as
    /// read when it is not later.
    covered_until: Option<u64>,
}

/// The parts of a cursor that order entries: `s=` seqnum id, `i=` seqnum,
/// `t=` realtime (the last of each, when repeated). Read for every entry,
/// so by hand: one pass over the bytes, hexadecimal read directly.
fn cursor_parts(cursor: &str) -> Option<(&str, u64, u64)> {
    let (mut s, mut i, mut t) = (None, None, None);
    let mut rest = cursor;
    loop {
        let (part, next) = match memchr::memchr(b';', rest.as_bytes()) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        match part.as_bytes() {
            [b's', b'=', ..] => s = Some(&part[2..]),
            [b'i', b'=', ..] => i = hex(&part[2..]),
            [b't', b'=', ..] => t = hex(&part[2..]),
            _ => {}
        }
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    Some((s?, i?, t?))
}

/// A hexadecimal `u64`, as `u64::from_str_radix(v, 16)` reads it.
fn hex(v: &str) -> Option<u64> {
    let digits = v.strip_prefix('+').unwrap_or(v);
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        n = n.checked_mul(16)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

impl Position {
    /// The position of a reader that returned the entry of `cursor` and
    /// kept no other record.
    pub fn from_cursor(cursor: &str) -> Position {
        let seen = cursor_parts(cursor)
            .map(|(id, seqnum, realtime)| Seen {
                seqnum_id: id.to_owned(),
                seqnum,
                realtime,
            })
            .into_iter()
            .collect();
        Position {
            cursor: cursor.to_owned(),
            seen,
            covered_until: cursor_parts(cursor).map(|(_, _, t)| t),
        }
    }

    /// A position saved with [`Position::seen_text`].
    pub fn decode(cursor: &str, seen: Option<&str>) -> Position {
        let Some(text) = seen else {
            return Position::from_cursor(cursor);
        };
        let mut out = Vec::new();
        let mut covered_until = None;
        for item in text.split(',').filter(|i| !i.is_empty()) {
            if let Some(t) = item.strip_prefix('~') {
                match u64::from_str_radix(t, 16) {
                    Ok(t) => covered_until = Some(t),
                    Err(_) => return Position::from_cursor(cursor),
                }
                continue;
            }
            let mut parts = item.split(':');
            let (Some(id), Some(seq), Some(rt), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Position::from_cursor(cursor);
            };
            let (Ok(seqnum), Ok(realtime)) =
                (u64::from_str_radix(seq, 16), u64::from_str_radix(rt, 16))
            else {
                return Position::from_cursor(cursor);
            };
            out.push(Seen {
                seqnum_id: id.to_owned(),
                seqnum,
                realtime,
            });
        }
        Position {
            cursor: cursor.to_owned(),
            seen: out,
            covered_until,
        }
    }

    /// The cursor of the last entry.
    pub fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The per-sequence record, as stored beside the cursor
    /// (`ID:SEQNUM:REALTIME,…`, hexadecimal), the sequences last read more
    /// than [`RESUME_WINDOW_US`] before the last entry left out.
    pub fn seen_text(&self) -> String {
        let horizon = self.horizon();
        let mut out = String::new();
        if let Some(t) = self.covered_until {
            out.push_str(&format!("~{t:x}"));
        }
        for s in self.seen.iter().filter(|s| s.realtime >= horizon) {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&format!("{}:{:x}:{:x}", s.seqnum_id, s.seqnum, s.realtime));
        }
        out
    }

    fn last_realtime(&self) -> u64 {
        cursor_parts(&self.cursor).map_or(0, |(_, _, t)| t)
    }

    /// Where a resumed reader starts looking.
    fn horizon(&self) -> u64 {
        self.last_realtime().saturating_sub(RESUME_WINDOW_US)
    }

    /// Whether the entry (seqnum id, seqnum, realtime) was returned before.
    fn covers(&self, id: &str, seqnum: u64, realtime: u64) -> bool {
        match self.seen.iter().find(|s| s.seqnum_id == id) {
            Some(s) => seqnum <= s.seqnum,
            None => self.covered_until.is_some_and(|t| realtime <= t),
        }
    }

    /// Record the entry (seqnum id, seqnum, realtime) as returned.
    fn advance(&mut self, cursor: &str, id: &str, seqnum: u64, realtime: u64) {
        self.cursor.clear();
        self.cursor.push_str(cursor);
        if self
            .covered_until
            .is_some_and(|t| realtime > t.saturating_add(RESUME_WINDOW_US))
        {
            self.covered_until = None;
        }
        match self.seen.iter_mut().find(|s| s.seqnum_id == id) {
            Some(s) => {
                s.seqnum = seqnum;
                s.realtime = realtime;
            }
            None => {
                let horizon = self.horizon();
                self.seen.retain(|s| s.realtime >= horizon);
                self.seen.push(Seen {
                    seqnum_id: id.to_owned(),
                    seqnum,
                    realtime,
                });
            }
        }
    }
}

/// Byte offsets of one `NAME=value` data item in [`JournalReader::data`].
#[derive(Clone, Copy, Debug)]
struct Item {
    start: usize,
    eq: usize,
    end: usize,
}

/// Past this, the data buffer is given back after an entry (a core dump
/// stored in the journal must not stay in memory).
const KEEP_DATA_CAPACITY: usize = 16 << 20;

/// A reader of journal entries. Not `Send`: see the module documentation.
pub struct JournalReader {
    journal: Journal,
    /// The handle is on an entry that `next` returned.
    on_entry: bool,
    /// After a resume: the entries returned before, passed over until the
    /// reader is past the last of them.
    skip: Option<Position>,
    /// The entries returned so far; `None` until the first one.
    position: Option<Position>,
    /// `__REALTIME_TIMESTAMP` of the current entry, once asked.
    realtime: Cell<Option<i64>>,
    /// Whether `data` and `items` hold the current entry's data.
    loaded: bool,
    /// The current entry's data items, `NAME=value` after `NAME=value`:
    /// only those of the fields in `wanted`.
    data: Vec<u8>,
    items: Vec<Item>,
    /// The field names asked for so far. Rules read a handful of an
    /// entry's fields: the others (and a core dump among them) are not
    /// copied. A name asked for the first time is added, and the entry
    /// read again.
    wanted: Vec<Box<[u8]>>,
}

fn io_err(e: systemd::Error) -> io::Error {
    e.into_io_error_with_context()
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("journal path contains a NUL byte: {}", path.display()),
        )
    })
}

/// Seek to [`RESUME_WINDOW_US`] before the position's last entry.
fn seek_before(journal: &mut Journal, p: Position) -> io::Result<Position> {
    if cursor_parts(&p.cursor).is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a journal cursor: {:?}", p.cursor),
        ));
    }
    journal.seek_realtime_usec(p.horizon()).map_err(io_err)?;
    Ok(p)
}

impl JournalReader {
    /// Open `input` and position the reader at `start`.
    pub fn open(input: &Input, start: &Start) -> io::Result<JournalReader> {
        let mut journal = match input {
            Input::System => OpenOptions::default().local_only(true).open(),
            Input::Directory(dir) => OpenDirectoryOptions::default().open_directory(&c_path(dir)?),
            Input::Files(files) => {
                let paths = files
                    .iter()
                    .map(|f| c_path(f))
                    .collect::<io::Result<Vec<_>>>()?;
                OpenFilesOptions::default().open_files(&paths)
            }
        }
        .map_err(io_err)?;
        // The default threshold (64 KiB) truncates larger values.
        journal.set_data_threshold(0).map_err(io_err)?;
        // Set up the inotify watches now, so that the first `wait` waits
        // for changes made after open instead of returning at once.
        journal.fd().map_err(io_err)?;

        let mut skip = None;
        match start {
            Start::Head => journal.seek_head().map_err(io_err)?,
            Start::Tail => {
                journal.seek_tail().map_err(io_err)?;
                // Stand on the last entry, so that `next` moves past it.
                // With no entry at all, every entry to come is new: start
                // at the head (after `seek_tail`, libsystemd's `next` would
                // return the last entry of a file appearing later).
                if journal.previous().map_err(io_err)? == 0 {
                    journal.seek_head().map_err(io_err)?;
                }
            }
            Start::After(cursor) => {
                skip = Some(seek_before(&mut journal, Position::from_cursor(cursor))?)
            }
            Start::Resume(p) => skip = Some(seek_before(&mut journal, p.clone())?),
        }
        let position = skip.clone();
        Ok(JournalReader {
            journal,
            on_entry: false,
            skip,
            position,
            realtime: Cell::new(None),
            loaded: false,
            data: Vec::new(),
            items: Vec::new(),
            wanted: Vec::new(),
        })
    }

    /// Advance to the next entry; `Ok(false)` at the end of what exists now.
    // Not an `Iterator`: the entry is read in place, and `false` is not the
    // end for good (see `wait`).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> io::Result<bool> {
        self.on_entry = false;
        self.realtime.set(None);
        self.loaded = false;
        self.items.clear();
        if self.data.capacity() > KEEP_DATA_CAPACITY {
            self.data = Vec::new();
        } else {
            self.data.clear();
        }
        loop {
            if self.journal.next().map_err(io_err)? == 0 {
                return Ok(false);
            }
            let cursor = self.journal.cursor().map_err(io_err)?;
            let Some((id, seqnum, realtime)) = cursor_parts(&cursor) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected journal cursor {cursor:?}"),
                ));
            };
            if let Some(skip) = &self.skip {
                if skip.covers(id, seqnum, realtime) {
                    continue;
                }
                // Past the window, nothing returned before can follow.
                if realtime > skip.last_realtime().saturating_add(RESUME_WINDOW_US) {
                    self.skip = None;
                }
            }
            self.position
                .get_or_insert_with(|| Position::decode("", Some("")))
                .advance(&cursor, id, seqnum, realtime);
            self.on_entry = true;
            return Ok(true);
        }
    }

    /// Where the reader stands: after the last entry [`next`](Self::next)
    /// returned (`None` before the first), for [`Start::Resume`].
    pub fn position(&self) -> Option<&Position> {
        self.position.as_ref()
    }

    /// Wait until the journal changes or `timeout` passes
    /// (`sd_journal_wait`); returns whether something changed (append,
    /// rotation, new or deleted file). Either way, call [`next`](Self::next)
    /// afterwards: the position is kept across rotation and vacuuming.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        match self.journal.wait(Some(timeout)).map_err(io_err)? {
            JournalWaitResult::Nop => Ok(false),
            JournalWaitResult::Append | JournalWaitResult::Invalidate => Ok(true),
        }
    }

    /// The current entry's cursor.
    pub fn cursor(&self) -> Option<&str> {
        if self.on_entry {
            self.position.as_ref().map(Position::cursor)
        } else {
            None
        }
    }

    /// The current entry's `__REALTIME_TIMESTAMP` in µs
    /// (`sd_journal_get_realtime_usec`), cached after the first call for
    /// this entry.
    pub fn realtime_usec(&mut self) -> io::Result<i64> {
        if let Some(t) = self.realtime.get() {
            return Ok(t);
        }
        let t = self.read_realtime()?;
        self.realtime.set(Some(t));
        Ok(t)
    }

    /// The time of the newest entry of the journal files open
    /// (`sd_journal_get_cutoff_realtime_usec`: read from their headers,
    /// without moving the reader), if known.
    pub fn newest_realtime(&self) -> Option<i64> {
        let (_, to) = self.journal.cutoff_realtime_usec().ok()??;
        i64::try_from(to).ok()
    }

    fn read_realtime(&self) -> io::Result<i64> {
        let usec = self.journal.timestamp_usec().map_err(io_err)?;
        i64::try_from(usec).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("realtime timestamp out of range: {usec}"),
            )
        })
    }

    /// Enumerate the current entry's data items of the `wanted` fields
    /// into `data` and `items`. An error ends the enumeration: the items
    /// read so far are kept.
    fn load(&mut self) {
        self.loaded = true;
        self.data.clear();
        self.items.clear();
        self.journal.restart_data();
        while let Ok(Some(item)) = self.journal.enumerate_data() {
            let bytes = item.data();
            if let Some(eq) = memchr::memchr(b'=', bytes) {
                if !self.wanted.iter().any(|w| **w == bytes[..eq]) {
                    continue;
                }
                let start = self.data.len();
                self.data.extend_from_slice(bytes);
                self.items.push(Item {
                    start,
                    eq: start + eq,
                    end: start + bytes.len(),
                });
            }
        }
    }
}

impl EntrySource for JournalReader {
    /// All occurrences of field `name` in the current entry, as raw bytes.
    /// `__REALTIME_TIMESTAMP` and `__MONOTONIC_TIMESTAMP` (decimal µs) and
    /// `__CURSOR` come from their own calls. Nothing is appended when no
    /// entry is current, or when libsystemd fails to read the entry.
    fn fetch(&mut self, _id: FieldId, name: &str, out: &mut RawField) {
        if !self.on_entry {
            return;
        }
        match name {
            "__REALTIME_TIMESTAMP" => {
                if let Ok(t) = self.realtime_usec() {
                    out.push(t.to_string().as_bytes());
                }
            }
            "__MONOTONIC_TIMESTAMP" => {
                if let Ok((usec, _boot)) = self.journal.monotonic_timestamp() {
                    out.push(usec.to_string().as_bytes());
                }
            }
            "__CURSOR" => {
                if let Some(p) = &self.position {
                    out.push(p.cursor.as_bytes());
                }
            }
            _ => {
                let name = name.as_bytes();
                if !self.wanted.iter().any(|w| **w == *name) {
                    self.wanted.push(name.into());
                    self.loaded = false;
                }
                if !self.loaded {
                    self.load();
                }
                for it in &self.items {
                    if &self.data[it.start..it.eq] == name {
                        out.push(&self.data[it.eq + 1..it.end]);
                    }
                }
            }
        }
    }

    fn realtime(&self) -> Option<i64> {
        if !self.on_entry {
            return None;
        }
        if let Some(t) = self.realtime.get() {
            return Some(t);
        }
        let t = self.read_realtime().ok()?;
        self.realtime.set(Some(t));
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::export;
    use std::time::Instant;

    const BOOT: &str = "0123456789abcdef0123456789abcdef";

    /// One entry in journal export format.
    struct E {
        /// Seconds: `__REALTIME_TIMESTAMP` is `t * 1_000_000`,
        /// `__MONOTONIC_TIMESTAMP` is `t * 1_000`.
        t: u64,
        fields: Vec<(&'static str, Vec<u8>)>,
    }

    fn msg(t: u64, message: &str) -> E {
        E {
            t,
            fields: vec![("MESSAGE", message.as_bytes().to_vec())],
        }
    }

    fn export(entries: &[E]) -> Vec<u8> {
        let mut out = Vec::new();
        for e in entries {
            // A `_BOOT_ID` among the fields replaces the default one.
            let boot = e
                .fields
                .iter()
                .find(|(k, _)| *k == "_BOOT_ID")
                .map_or(BOOT.as_bytes(), |(_, v)| v.as_slice());
            let real = (e.t * 1_000_000).to_string();
            let mono = (e.t * 1_000).to_string();
            export::field(&mut out, "__REALTIME_TIMESTAMP", real.as_bytes());
            export::field(&mut out, "__MONOTONIC_TIMESTAMP", mono.as_bytes());
            export::field(&mut out, "_BOOT_ID", boot);
            for (k, v) in e.fields.iter().filter(|(k, _)| *k != "_BOOT_ID") {
                export::field(&mut out, k, v);
            }
            export::end_entry(&mut out);
        }
        out
    }

    /// Write (or append) `entries` to the journal file `path`.
    fn write_journal(path: &Path, entries: &[E]) {
        export::write_journal(path, &export(entries)).expect("systemd-journal-remote");
    }

    fn get(r: &mut JournalReader, name: &str) -> Vec<Vec<u8>> {
        let mut out = RawField::default();
        r.fetch(FieldId(0), name, &mut out);
        out.parts().to_vec()
    }

    fn message(r: &mut JournalReader) -> String {
        let v = get(r, "MESSAGE");
        assert_eq!(v.len(), 1, "one MESSAGE");
        String::from_utf8(v[0].clone()).unwrap()
    }

    /// The messages of the entries left until the end, with their cursors.
    fn drain(r: &mut JournalReader) -> Vec<(String, String)> {
        let mut got = Vec::new();
        while r.next().unwrap() {
            let m = message(r);
            got.push((m, r.cursor().unwrap().to_owned()));
        }
        got
    }

    fn messages(r: &mut JournalReader) -> Vec<String> {
        drain(r).into_iter().map(|(m, _)| m).collect()
    }

    /// Wait (up to 10 s) until the reader reports a change.
    fn wait_change(r: &mut JournalReader) {
        let start = Instant::now();
        while !r.wait(Duration::from_millis(500)).unwrap() {
            assert!(start.elapsed() < Duration::from_secs(10), "no change seen");
        }
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_the_fields_asked_for_are_copied() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.journal");
        let core = vec![b'c'; 1 << 20];
        let entry = |m: &str| E {
            t: 1_600_000_000,
            fields: vec![
                ("MESSAGE", m.as_bytes().to_vec()),
                ("COREDUMP", core.clone()),
                ("_PID", b"7".to_vec()),
            ],
        };
        write_journal(&file, &[entry("one"), entry("two")]);
        let mut r = JournalReader::open(&Input::Files(vec![file]), &Start::Head).unwrap();
        assert!(r.next().unwrap());
        assert_eq!(message(&mut r), "one");
        assert!(r.data.len() < 100, "the core dump is not copied");
        // A field asked for the first time reads the entry again.
        assert_eq!(get(&mut r, "_PID"), vec![b"7".to_vec()]);
        assert_eq!(message(&mut r), "one");
        assert!(r.next().unwrap());
        assert_eq!(get(&mut r, "_PID"), vec![b"7".to_vec()]);
        assert_eq!(message(&mut r), "two");
        assert!(r.data.len() < 100, "still not copied");
        assert_eq!(get(&mut r, "COREDUMP"), vec![core.clone()]);
    }

    #[test]
    fn head_reads_every_field_intact() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.journal");
        let big: Vec<u8> = (0..(1usize << 20) + 7)
            .map(|i| {
                if i % 1000 == 999 {
                    b'\n'
                } else {
                    b'a' + (i % 26) as u8
                }
            })
            .collect();
        let bad = b"caf\xe9 \xff\xfe end".to_vec();
        write_journal(
            &file,
            &[
                E {
                    t: 1_600_000_000,
                    fields: vec![
                        ("MESSAGE", b"hello".to_vec()),
                        ("FOO", b"a".to_vec()),
                        ("FOO", b"b".to_vec()),
                        ("_PID", b"42".to_vec()),
                    ],
                },
                E {
                    t: 1_600_000_001,
                    fields: vec![("MESSAGE", big.clone()), ("FOO", b"c".to_vec())],
                },
                E {
                    t: 1_600_000_002,
                    fields: vec![("MESSAGE", bad.clone()), ("BIN", b"x\0y".to_vec())],
                },
            ],
        );
        let mut r = JournalReader::open(&Input::Files(vec![file]), &Start::Head).unwrap();
        // libsystemd 252 returns zstd-compressed values whole anyway, but
        // others truncate them at the threshold (64 KiB by default).
        assert_eq!(r.journal.data_threshold().unwrap(), 0);
        assert_eq!(r.realtime(), None, "no entry before next");
        assert!(get(&mut r, "MESSAGE").is_empty());

        assert!(r.next().unwrap());
        assert_eq!(r.realtime(), Some(1_600_000_000_000_000));
        assert_eq!(r.realtime_usec().unwrap(), 1_600_000_000_000_000);
        let mut foo = get(&mut r, "FOO");
        foo.sort();
        assert_eq!(foo, vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(get(&mut r, "MESSAGE"), vec![b"hello".to_vec()]);
        assert_eq!(get(&mut r, "_PID"), vec![b"42".to_vec()]);
        assert_eq!(get(&mut r, "_BOOT_ID"), vec![BOOT.as_bytes().to_vec()]);
        assert!(get(&mut r, "MISSING").is_empty());
        assert!(get(&mut r, "FO").is_empty(), "no prefix match");
        assert_eq!(
            get(&mut r, "__REALTIME_TIMESTAMP"),
            vec![b"1600000000000000".to_vec()]
        );
        assert_eq!(
            get(&mut r, "__MONOTONIC_TIMESTAMP"),
            vec![b"1600000000000".to_vec()]
        );
        let cursor = r.cursor().unwrap().to_owned();
        assert_eq!(get(&mut r, "__CURSOR"), vec![cursor.into_bytes()]);
        // Several appends to `out` keep what was there.
        let mut out = RawField::default();
        out.push(b"x");
        r.fetch(FieldId(3), "FOO", &mut out);
        assert_eq!(out.parts().len(), 3);

        assert!(r.next().unwrap());
        assert_eq!(r.realtime_usec().unwrap(), 1_600_000_001_000_000);
        let m = get(&mut r, "MESSAGE");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].len(), big.len(), "1 MiB MESSAGE not truncated");
        assert!(m[0] == big, "1 MiB MESSAGE intact");
        assert_eq!(
            get(&mut r, "FOO"),
            vec![b"c".to_vec()],
            "fields of this entry only"
        );

        assert!(r.next().unwrap());
        assert_eq!(r.realtime(), Some(1_600_000_002_000_000));
        assert_eq!(get(&mut r, "MESSAGE"), vec![bad]);
        assert_eq!(get(&mut r, "BIN"), vec![b"x\0y".to_vec()]);
        assert!(get(&mut r, "FOO").is_empty());

        assert!(!r.next().unwrap());
        assert!(!r.next().unwrap());
        assert_eq!(r.realtime(), None);
        assert!(get(&mut r, "MESSAGE").is_empty());
    }

    #[test]
    fn after_cursor_and_tail() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.journal");
        let input = Input::Files(vec![file.clone()]);
        write_journal(
            &file,
            &(1..=5)
                .map(|t| msg(t, &format!("m{t}")))
                .collect::<Vec<_>>(),
        );

        let all = drain(&mut JournalReader::open(&input, &Start::Head).unwrap());
        assert_eq!(
            all.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>(),
            strs(&["m1", "m2", "m3", "m4", "m5"])
        );
        for (k, (_, cursor)) in all.iter().enumerate() {
            let mut r = JournalReader::open(&input, &Start::After(cursor.clone())).unwrap();
            let rest: Vec<String> = all[k + 1..].iter().map(|(m, _)| m.clone()).collect();
            assert_eq!(messages(&mut r), rest, "after entry {k}");
        }

        let mut tail = JournalReader::open(&input, &Start::Tail).unwrap();
        let mut after_last = JournalReader::open(&input, &Start::After(all[4].1.clone())).unwrap();
        assert!(!tail.next().unwrap());
        assert!(!tail.wait(Duration::from_millis(200)).unwrap(), "no change");
        assert!(!tail.next().unwrap());
        assert!(!after_last.next().unwrap());

        write_journal(&file, &[msg(6, "m6"), msg(7, "m7")]);
        wait_change(&mut tail);
        assert_eq!(messages(&mut tail), strs(&["m6", "m7"]));
        assert_eq!(messages(&mut after_last), strs(&["m6", "m7"]));
        assert_eq!(
            messages(&mut JournalReader::open(&input, &Start::Tail).unwrap()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn directory_new_files_rotation_and_vacuum() {
        let dir = tempfile::tempdir().unwrap();
        let input = Input::Directory(dir.path().to_owned());
        // An empty directory: Tail returns whatever arrives.
        let mut tail = JournalReader::open(&input, &Start::Tail).unwrap();
        assert!(!tail.next().unwrap());

        write_journal(
            &dir.path().join("a.journal"),
            &[msg(1, "a1"), msg(2, "a2"), msg(3, "a3")],
        );
        write_journal(&dir.path().join("b.journal"), &[msg(4, "b4"), msg(5, "b5")]);
        let mut r = JournalReader::open(&input, &Start::Head).unwrap();
        let first = drain(&mut r);
        assert_eq!(
            first.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>(),
            strs(&["a1", "a2", "a3", "b4", "b5"])
        );
        wait_change(&mut tail);
        assert_eq!(messages(&mut tail), strs(&["a1", "a2", "a3", "b4", "b5"]));

        // A new file while open; the reader stops in its middle.
        write_journal(&dir.path().join("c.journal"), &[msg(6, "c6"), msg(7, "c7")]);
        wait_change(&mut r);
        assert!(r.next().unwrap());
        assert_eq!(message(&mut r), "c6");
        assert!(!r.wait(Duration::from_millis(200)).unwrap());

        // Rotation, as journald does it: the active file is renamed to an
        // archive name, and a new one takes its name.
        let rotate = |n: u32| {
            std::fs::rename(
                dir.path().join("c.journal"),
                dir.path()
                    .join(format!("c@{BOOT}-{n:016x}-{n:016x}.journal")),
            )
            .unwrap();
        };
        rotate(1);
        write_journal(&dir.path().join("c.journal"), &[msg(8, "c8"), msg(9, "c9")]);
        wait_change(&mut r);
        assert_eq!(messages(&mut r), strs(&["c7", "c8", "c9"]));

        // Rotation and vacuuming: the file holding the reader's position
        // (now archived) and the oldest file go.
        rotate(2);
        write_journal(&dir.path().join("c.journal"), &[msg(10, "c10")]);
        std::fs::remove_file(
            dir.path()
                .join(format!("c@{BOOT}-{:016x}-{:016x}.journal", 2, 2)),
        )
        .unwrap();
        std::fs::remove_file(dir.path().join("a.journal")).unwrap();
        wait_change(&mut r);
        assert_eq!(messages(&mut r), strs(&["c10"]));
        assert!(!r.wait(Duration::from_millis(200)).unwrap());
        assert!(!r.next().unwrap());

        // A reader that did not wait meanwhile: libsystemd learns of the
        // changes when it processes the queued notifications; c8 and c9
        // were deleted before it saw them.
        wait_change(&mut tail);
        assert_eq!(messages(&mut tail), strs(&["c6", "c7", "c10"]));

        // A saved cursor whose entry was vacuumed: go on from the nearest
        // later entry, and return it.
        let mut r2 = JournalReader::open(&input, &Start::After(first[1].1.clone())).unwrap();
        assert_eq!(messages(&mut r2), strs(&["b4", "b5", "c6", "c7", "c10"]));
        // A saved cursor that still exists is skipped.
        let mut r3 = JournalReader::open(&input, &Start::After(first[3].1.clone())).unwrap();
        assert_eq!(messages(&mut r3), strs(&["b5", "c6", "c7", "c10"]));
    }

    #[test]
    fn bad_cursor_and_missing_path_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.journal");
        write_journal(&file, &[msg(1, "m1")]);
        assert!(
            JournalReader::open(&Input::Files(vec![file]), &Start::After("junk".into())).is_err()
        );
        assert!(
            JournalReader::open(&Input::Directory(dir.path().join("missing")), &Start::Head)
                .is_err()
        );
    }

    /// Entries of `machines` boots interleaved in time, `n` of them.
    fn interleaved(n: u64, machines: u64) -> Vec<E> {
        (0..n)
            .map(|i| E {
                t: 1_700_000_000 + i,
                fields: vec![
                    ("MESSAGE", format!("m{i}").into_bytes()),
                    (
                        "_BOOT_ID",
                        format!("{:032x}", 0xb007_0000 + i % machines).into_bytes(),
                    ),
                ],
            })
            .collect()
    }

    fn names(range: std::ops::Range<u64>) -> Vec<String> {
        range.map(|i| format!("m{i}")).collect()
    }

    /// A reader opened where `r` stands, through the stored form of its
    /// position.
    fn resumed(input: &Input, r: &JournalReader) -> JournalReader {
        let start = match r.position() {
            Some(p) => Start::Resume(Position::decode(p.cursor(), Some(&p.seen_text()))),
            None => Start::Head,
        };
        JournalReader::open(input, &start).unwrap()
    }

    #[test]
    fn resume_is_exact_after_any_entry_across_files_and_boots() {
        for machines in [1, 3] {
            let dir = tempfile::tempdir().unwrap();
            let entries = interleaved(30, machines);
            write_journal(&dir.path().join("a.journal"), &entries[..15]);
            write_journal(&dir.path().join("b.journal"), &entries[15..]);
            let input = Input::Directory(dir.path().to_owned());
            let all = messages(&mut JournalReader::open(&input, &Start::Head).unwrap());
            assert_eq!(all, names(0..30), "{machines} machines");
            // Saved after 0, 1, …, 30 entries: the last of a file, the first
            // of the next, and everything between.
            for k in 0..=30 {
                let mut r = JournalReader::open(&input, &Start::Head).unwrap();
                for _ in 0..k {
                    assert!(r.next().unwrap());
                }
                let rest = messages(&mut resumed(&input, &r));
                assert_eq!(rest, names(k..30), "{machines} machines, saved after {k}");
            }
        }
    }

    #[test]
    fn resume_reads_the_whole_file_that_appeared_since() {
        // The lost-entry case: a collector's directory holds one file of
        // several machines; the reader stops at its end; a second file of
        // the same machines appears; the reader resumes.
        for machines in [1, 3] {
            let dir = tempfile::tempdir().unwrap();
            let entries = interleaved(40, machines);
            write_journal(&dir.path().join("a.journal"), &entries[..20]);
            let input = Input::Directory(dir.path().to_owned());
            let mut r = JournalReader::open(&input, &Start::Head).unwrap();
            assert_eq!(messages(&mut r), names(0..20));
            write_journal(&dir.path().join("b.journal"), &entries[20..]);
            let rest = messages(&mut resumed(&input, &r));
            assert_eq!(rest, names(20..40), "{machines} machines");
        }
    }

    #[test]
    fn resume_survives_the_vacuuming_of_the_saved_entry() {
        let dir = tempfile::tempdir().unwrap();
        let entries = interleaved(30, 3);
        write_journal(&dir.path().join("a.journal"), &entries[..15]);
        write_journal(&dir.path().join("b.journal"), &entries[15..]);
        let input = Input::Directory(dir.path().to_owned());
        for k in [5, 15] {
            let mut r = JournalReader::open(&input, &Start::Head).unwrap();
            for _ in 0..k {
                assert!(r.next().unwrap());
            }
            let saved = r.position().cloned().unwrap();
            drop(r);
            let gone = dir.path().join("gone.journal");
            std::fs::rename(dir.path().join("a.journal"), &gone).unwrap();
            std::fs::remove_file(&gone).unwrap();
            let mut again = JournalReader::open(
                &input,
                &Start::Resume(Position::decode(saved.cursor(), Some(&saved.seen_text()))),
            )
            .unwrap();
            assert_eq!(messages(&mut again), names(15..30), "saved after {k}");
            write_journal(&dir.path().join("a.journal"), &entries[..15]);
        }
    }

    /// The cursor reader takes what the general one (split, then
    /// `from_str_radix`) takes, on cursors and on text that is not one.
    #[test]
    fn cursor_parts_reads_as_the_general_reader() {
        fn general(cursor: &str) -> Option<(&str, u64, u64)> {
            let (mut s, mut i, mut t) = (None, None, None);
            for part in cursor.split(';') {
                match part.split_at_checked(2) {
                    Some(("s=", v)) => s = Some(v),
                    Some(("i=", v)) => i = u64::from_str_radix(v, 16).ok(),
                    Some(("t=", v)) => t = u64::from_str_radix(v, 16).ok(),
                    _ => {}
                }
            }
            Some((s?, i?, t?))
        }
        let real = "s=5d0c9f3e1a2b4c6d8e9f0a1b2c3d4e5f;i=1a2b;b=0123456789abcdef0123456789abcdef;m=3e8;t=5f5e100;x=deadbeef";
        let mut cases: Vec<String> = vec![
            real.into(),
            String::new(),
            ";".into(),
            "s=;i=0;t=0".into(),
            "s=a;i=+f;t=F".into(),
            "s=a;i=-1;t=1".into(),
            "s=a;i=ffffffffffffffff;t=1".into(),
            "s=a;i=10000000000000000;t=1".into(),
            "s=a;i=1;t=1;i=2;s=b".into(),
            "s=a;i=;t=1".into(),
            "s=a;i=1;t=1;".into(),
            "i=1;t=2".into(),
            "s=é;i=1;t=2".into(),
            "s=a;i=1 ;t=2".into(),
        ];
        // Every cut and every one-byte change of a real cursor.
        for k in 0..=real.len() {
            cases.push(real[..k].into());
            for c in ['0', ';', '=', 'g', '+', 'x'] {
                let mut v: Vec<char> = real.chars().collect();
                if k < v.len() {
                    v[k] = c;
                    cases.push(v.into_iter().collect());
                }
            }
        }
        for c in &cases {
            assert_eq!(cursor_parts(c), general(c), "{c:?}");
        }
        assert_eq!(
            cursor_parts(real),
            Some(("5d0c9f3e1a2b4c6d8e9f0a1b2c3d4e5f", 0x1a2b, 0x5f5e100))
        );
    }

    #[test]
    fn positions_round_trip_and_forget_old_sequences() {
        let p = Position {
            cursor: format!("s=aa;i=5;b=bb;m=1;t={:x};x=0", 2 * RESUME_WINDOW_US),
            seen: vec![
                Seen {
                    seqnum_id: "aa".into(),
                    seqnum: 5,
                    realtime: 2 * RESUME_WINDOW_US,
                },
                Seen {
                    seqnum_id: "old".into(),
                    seqnum: 9,
                    realtime: RESUME_WINDOW_US - 1,
                },
            ],
            covered_until: None,
        };
        let text = p.seen_text();
        assert!(!text.contains("old"), "{text}");
        let back = Position::decode(p.cursor(), Some(&text));
        assert_eq!(back.seen, p.seen[..1]);
        assert!(back.covers("aa", 5, 0) && !back.covers("aa", 6, 0));
        assert!(!back.covers("new", 1, 0), "an unknown sequence is new");
        // Known only by its cursor (state saved by an older version).
        let legacy = Position::decode(p.cursor(), None);
        assert!(legacy.covers("other", 1, 2 * RESUME_WINDOW_US));
        assert!(!legacy.covers("other", 1, 2 * RESUME_WINDOW_US + 1));
        let again = Position::decode(legacy.cursor(), Some(&legacy.seen_text()));
        assert_eq!(again, legacy);
        // Junk is refused rather than read as "from the start".
        assert!(Position::decode("x", Some("zz")).seen.is_empty());
    }
}
