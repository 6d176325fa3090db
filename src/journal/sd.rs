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

use crate::vm::fields::FieldId;
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
    /// from the nearest later entry, which is returned.
    After(String),
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
    /// The handle is on an entry that the next `next` returns without
    /// moving (`Start::After` a cursor that no longer exists).
    pending: bool,
    /// `__REALTIME_TIMESTAMP` of the current entry, once asked.
    realtime: Cell<Option<i64>>,
    /// Whether `data` and `items` hold the current entry's data.
    loaded: bool,
    /// The current entry's data items, `NAME=value` after `NAME=value`.
    data: Vec<u8>,
    items: Vec<Item>,
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

        let mut pending = false;
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
                journal.seek_cursor(cursor.as_str()).map_err(io_err)?;
                // `seek_cursor` + `next` lands on the cursor's entry, or on
                // the nearest later one when it is gone.
                if journal.next().map_err(io_err)? > 0 {
                    pending = !journal.test_cursor(cursor.as_str()).map_err(io_err)?;
                }
            }
        }
        Ok(JournalReader {
            journal,
            on_entry: false,
            pending,
            realtime: Cell::new(None),
            loaded: false,
            data: Vec::new(),
            items: Vec::new(),
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
        if std::mem::take(&mut self.pending) {
            self.on_entry = true;
            return Ok(true);
        }
        self.on_entry = self.journal.next().map_err(io_err)? > 0;
        Ok(self.on_entry)
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

    /// The current entry's cursor (`sd_journal_get_cursor`).
    pub fn cursor(&mut self) -> io::Result<String> {
        self.journal.cursor().map_err(io_err)
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

    fn read_realtime(&self) -> io::Result<i64> {
        let usec = self.journal.timestamp_usec().map_err(io_err)?;
        i64::try_from(usec).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("realtime timestamp out of range: {usec}"),
            )
        })
    }

    /// Enumerate the current entry's data items into `data` and `items`.
    /// An error ends the enumeration: the items read so far are kept.
    fn load(&mut self) {
        self.loaded = true;
        self.journal.restart_data();
        while let Ok(Some(item)) = self.journal.enumerate_data() {
            let bytes = item.data();
            if let Some(eq) = bytes.iter().position(|&b| b == b'=') {
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
                if let Ok(c) = self.journal.cursor() {
                    out.push(c.as_bytes());
                }
            }
            _ => {
                if !self.loaded {
                    self.load();
                }
                let name = name.as_bytes();
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
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    const BOOT: &str = "0123456789abcdef0123456789abcdef";
    const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";

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
            out.extend_from_slice(
                format!(
                    "__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID={BOOT}\n",
                    e.t * 1_000_000,
                    e.t * 1_000
                )
                .as_bytes(),
            );
            for (k, v) in &e.fields {
                if v.contains(&b'\n') || std::str::from_utf8(v).is_err() {
                    out.extend_from_slice(k.as_bytes());
                    out.push(b'\n');
                    out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                    out.extend_from_slice(v);
                    out.push(b'\n');
                } else {
                    out.extend_from_slice(k.as_bytes());
                    out.push(b'=');
                    out.extend_from_slice(v);
                    out.push(b'\n');
                }
            }
            out.push(b'\n');
        }
        out
    }

    /// Write (or append) `entries` to the journal file `path`.
    fn write_journal(path: &Path, entries: &[E]) {
        let mut child = Command::new(JOURNAL_REMOTE)
            .arg("-o")
            .arg(path)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run systemd-journal-remote (package systemd-journal-remote)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&export(entries))
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "systemd-journal-remote failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
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
            got.push((m, r.cursor().unwrap()));
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
        let cursor = r.cursor().unwrap();
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
}
