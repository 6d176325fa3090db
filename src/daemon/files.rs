//! Following plain log files as `tail -F` does, by polling: a file at its
//! end is looked at again every `logFiles.pollMilliseconds` (250 ms by
//! default), which bounds the delay between a line written and the line
//! read.
//!
//! - **Rotation by renaming** (logrotate's default): once the path names
//!   another file, the file being read is read to its end, and then until
//!   it has not grown for [`ROTATION_GRACE`] (the service may write to it
//!   until it reopens its log), then the new file from its start.
//! - **copytruncate**: a file shorter than what was read of it was
//!   truncated: it is read again from its start.
//! - **A missing file** is waited for (logged once); it is read from its
//!   start when it appears.
//!
//! The position of each file, `DEV:INODE:OFFSET` after the last line
//! handed out, commits with the rest of the state. At start it is looked
//! for at the path, else, when the file was rotated while the daemon was
//! stopped, among the files of its directory (`access.log.1`), so that
//! its last lines are read before the new file.

use super::log::{Level, Logger};
use crate::journal::plain::{Lines, LogFile, PlainEntry};
use crate::state::store::{Batch, Store};
use crate::vm::Program;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a file replaced at its path must stay unchanged before the
/// new one is read.
pub const ROTATION_GRACE: Duration = Duration::from_secs(2);

/// The file being read.
struct Open {
    file: BufReader<File>,
    dev: u64,
    ino: u64,
    /// Where it was found (the path, or a rotated name at start).
    name: PathBuf,
}

/// One followed file.
pub struct Follower {
    pub spec: LogFile,
    /// Its key in the store.
    pub key: String,
    cur: Option<Open>,
    pub lines: Lines,
    /// Offset after the last line handed out.
    offset: u64,
    /// When the file being read last gave bytes.
    grew_at: Instant,
    /// Not looked at again before this (it was at its end).
    next_look: Instant,
    interval: Duration,
    /// How long a replaced file must stay unchanged ([`ROTATION_GRACE`]).
    grace: Duration,
    /// The file is missing and that was logged.
    missing: bool,
    /// Long lines cut, logged once per file.
    cut_logged: bool,
}

/// Where to start a file.
pub enum StartAt {
    Head,
    Tail,
    /// A saved position: `DEV:INODE:OFFSET`.
    Saved(String),
}

impl Follower {
    pub fn new(spec: LogFile, interval: Duration) -> Follower {
        let now = Instant::now();
        Follower {
            key: format!("logfile:{}", spec.path.display()),
            spec,
            cur: None,
            lines: Lines::default(),
            offset: 0,
            grew_at: now,
            next_look: now,
            interval,
            grace: ROTATION_GRACE,
            missing: false,
            cut_logged: false,
        }
    }

    /// Open the file where reading starts.
    pub fn start(&mut self, at: StartAt, log: &mut Logger) {
        let path = self.spec.path.clone();
        match at {
            StartAt::Head => {
                self.open_path(log);
            }
            StartAt::Tail => {
                if self.open_path(log) {
                    self.seek_end(log);
                }
            }
            StartAt::Saved(text) => match parse_position(&text) {
                Some((dev, ino, offset)) => self.resume(dev, ino, offset, log),
                None => {
                    let msg = format!(
                        "{}: the saved position `{text}` is not one; reading from the end",
                        path.display()
                    );
                    log.log(Level::Warning, &msg);
                    if self.open_path(log) {
                        self.seek_end(log);
                    }
                }
            },
        }
    }

    /// Open the file saved as `dev:ino`, at the path or rotated beside it,
    /// at `offset`.
    fn resume(&mut self, dev: u64, ino: u64, offset: u64, log: &mut Logger) {
        let path = &self.spec.path;
        let at_path = std::fs::metadata(path)
            .ok()
            .filter(|m| m.dev() == dev && m.ino() == ino)
            .map(|_| path.clone());
        let found = at_path.or_else(|| find_inode(path, dev, ino));
        let Some(name) = found else {
            let msg = format!(
                "{}: the file read last is gone (rotated away while pyrused was stopped); \
                 reading the current one from its start",
                path.display()
            );
            log.log(Level::Warning, &msg);
            self.open_path(log);
            return;
        };
        if name != *path {
            let msg = format!(
                "{}: rotated while pyrused was stopped: reading the rest of {} first",
                path.display(),
                name.display()
            );
            log.log(Level::Notice, &msg);
        }
        match open(&name) {
            Ok(mut o) => {
                let size = o.file.get_ref().metadata().map_or(0, |m| m.len());
                let offset = if size < offset {
                    let msg = format!(
                        "{}: shorter than when pyrused stopped (truncated): reading from its start",
                        name.display()
                    );
                    log.log(Level::Notice, &msg);
                    0
                } else {
                    offset
                };
                if o.file.seek(SeekFrom::Start(offset)).is_ok() {
                    self.offset = offset;
                    o.name = name;
                    self.cur = Some(o);
                    self.grew_at = Instant::now();
                }
            }
            Err(e) => {
                let msg = format!("{}: cannot open {}: {e}", path.display(), name.display());
                log.log(Level::Warning, &msg);
                self.open_path(log);
            }
        }
    }

    fn seek_end(&mut self, log: &mut Logger) {
        if let Some(o) = self.cur.as_mut() {
            match o.file.seek(SeekFrom::End(0)) {
                Ok(end) => self.offset = end,
                Err(e) => {
                    let msg = format!("{}: cannot go to its end: {e}", self.spec.path.display());
                    log.log(Level::Warning, &msg);
                }
            }
        }
    }

    /// Open the file at the path, from its start; false when it cannot.
    fn open_path(&mut self, log: &mut Logger) -> bool {
        let path = &self.spec.path;
        match open(path) {
            Ok(o) => {
                if std::mem::take(&mut self.missing) {
                    log.log(Level::Notice, &format!("{}: reading it", path.display()));
                }
                self.cur = Some(o);
                self.offset = 0;
                self.lines.reset();
                self.grew_at = Instant::now();
                true
            }
            Err(e) => {
                if !std::mem::replace(&mut self.missing, true) {
                    let msg = format!("{}: cannot read it ({e}); waiting for it", path.display());
                    log.log(Level::Warning, &msg);
                }
                self.cur = None;
                false
            }
        }
    }

    /// The position to save: `DEV:INODE:OFFSET` after the last line handed
    /// out; `None` before the file was ever opened.
    pub fn position(&self) -> Option<String> {
        let o = self.cur.as_ref()?;
        Some(format!("{}:{}:{}", o.dev, o.ino, self.offset))
    }

    /// The next line into `self.lines.line`; false when there is none for
    /// now.
    pub fn next_line(&mut self, now: Instant, log: &mut Logger) -> bool {
        if now < self.next_look {
            return false;
        }
        loop {
            if self.cur.is_none() && !self.open_path(log) {
                self.next_look = now + self.interval;
                return false;
            }
            let Some(o) = self.cur.as_mut() else {
                return false;
            };
            let before = self.lines.partial;
            match self.lines.next(&mut o.file) {
                Ok(Some(n)) => {
                    self.offset += n;
                    self.grew_at = now;
                    self.note_cut(log);
                    return true;
                }
                Ok(None) => {
                    if self.lines.partial != before {
                        self.grew_at = now;
                    }
                }
                Err(e) => {
                    let msg = format!("{}: cannot read it: {e}", self.spec.path.display());
                    log.once(Level::Err, &msg, &msg);
                    self.next_look = now + self.interval;
                    return false;
                }
            }
            match self.at_end(now, log) {
                AtEnd::Again => {}
                AtEnd::Line => return true,
                AtEnd::Wait => {
                    self.next_look = now + self.interval;
                    return false;
                }
            }
        }
    }

    /// At the end of the file being read: truncated, rotated, or nothing
    /// new yet.
    fn at_end(&mut self, now: Instant, log: &mut Logger) -> AtEnd {
        let Some(o) = self.cur.as_mut() else {
            return AtEnd::Again;
        };
        let read = self.offset + self.lines.partial;
        let size = o.file.get_ref().metadata().map_or(read, |m| m.len());
        if size < read {
            let msg = format!(
                "{}: truncated (copytruncate): reading it from its start",
                o.name.display()
            );
            log.log(Level::Info, &msg);
            if o.file.seek(SeekFrom::Start(0)).is_ok() {
                self.offset = 0;
                self.lines.reset();
                return AtEnd::Again;
            }
            return AtEnd::Wait;
        }
        let replaced = match std::fs::metadata(&self.spec.path) {
            Ok(m) => m.dev() != o.dev || m.ino() != o.ino,
            // Gone: the old file is read while the new one is not there.
            Err(_) => false,
        };
        if !replaced || now.duration_since(self.grew_at) < self.grace {
            return AtEnd::Wait;
        }
        if let Some(n) = self.lines.flush() {
            self.offset += n;
            return AtEnd::Line;
        }
        let msg = format!(
            "{}: rotated: reading the new file",
            self.spec.path.display()
        );
        log.log(Level::Info, &msg);
        self.cur = None;
        AtEnd::Again
    }

    fn note_cut(&mut self, log: &mut Logger) {
        if self.lines.truncated && !std::mem::replace(&mut self.cut_logged, true) {
            let msg = format!(
                "{}: a line longer than {} bytes was cut to that length (logged once)",
                self.spec.path.display(),
                crate::journal::plain::MAX_LINE
            );
            log.log(Level::Warning, &msg);
        }
    }
}

enum AtEnd {
    /// Read again (a new file, or from the start).
    Again,
    /// The last, unfinished line of a rotated file is in `lines`.
    Line,
    Wait,
}

fn open(path: &Path) -> std::io::Result<Open> {
    // Not a FIFO (opening one waits for a writer), a device, a directory.
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let file = File::open(path)?;
    let m = file.metadata()?;
    if !m.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(Open {
        file: BufReader::with_capacity(1 << 16, file),
        dev: m.dev(),
        ino: m.ino(),
        name: path.to_owned(),
    })
}

/// `DEV:INODE:OFFSET`.
fn parse_position(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split(':').map(str::parse::<u64>);
    let p = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    parts.next().is_none().then_some(p)
}

/// The file of `path`'s directory that is `dev:ino` (a rotated log).
fn find_inode(path: &Path, dev: u64, ino: u64) -> Option<PathBuf> {
    let dir = path.parent()?;
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let m = e.metadata().ok()?;
        (m.is_file() && m.dev() == dev && m.ino() == ino).then(|| e.path())
    })
}

/// The followed files, read in turn with the journal.
pub struct Files {
    pub followers: Vec<Follower>,
    /// The source of the next entry to try: 0 the journal, `i + 1` file `i`.
    turn: usize,
    /// The source of the current entry: `None` the journal, `Some(i)` file `i`.
    pub current: Option<usize>,
    /// The entry of the current line.
    pub entry: PlainEntry,
    /// Files are read as they are, without waiting for a replaced one to
    /// settle (`--exit-at-end`).
    settled: bool,
}

impl Files {
    /// The files of `program`'s settings, each where it starts: `head`
    /// (`Some(true)`: the start, `Some(false)`: the end), else its saved
    /// position, else its end (a file that appears later: its start).
    /// `settled`: the files are not written any more (`--exit-at-end`): a
    /// replaced one is not waited for.
    pub fn open(
        program: &Program,
        head: Option<bool>,
        settled: bool,
        store: &Store,
        log: &mut Logger,
    ) -> Files {
        let mut files = Files {
            followers: Vec::new(),
            turn: 0,
            current: None,
            entry: PlainEntry::new(program),
            settled,
        };
        files.follow(program, head, store, log, false);
        files
    }

    /// After a reload: the files of the new rules, each added or dropped
    /// one logged.
    pub fn reload(&mut self, program: &Program, store: &Store, log: &mut Logger) {
        self.follow(program, None, store, log, true);
    }

    /// Follow the files of `program`'s settings: those already followed
    /// go on where they are, new ones start as in [`open`](Self::open);
    /// `announce`: log each file added or dropped.
    fn follow(
        &mut self,
        program: &Program,
        head: Option<bool>,
        store: &Store,
        log: &mut Logger,
        announce: bool,
    ) {
        let interval = Duration::from_millis(program.config.log_poll_ms);
        let mut old = std::mem::take(&mut self.followers);
        for spec in &program.config.log_files {
            if let Some(i) = old.iter().position(|f| f.spec.path == spec.path) {
                let mut f = old.swap_remove(i);
                f.spec = spec.clone();
                f.interval = interval;
                self.followers.push(f);
                continue;
            }
            let mut f = Follower::new(spec.clone(), interval);
            if self.settled {
                f.grace = Duration::ZERO;
            }
            let at = match head {
                Some(true) => StartAt::Head,
                Some(false) => StartAt::Tail,
                None => match store.load_position(&f.key) {
                    Ok(Some((saved, _))) => StartAt::Saved(saved),
                    Ok(None) => StartAt::Tail,
                    Err(e) => {
                        let msg = format!(
                            "{}: cannot read its saved position ({e}); reading from its end",
                            spec.path.display()
                        );
                        log.log(Level::Warning, &msg);
                        StartAt::Tail
                    }
                },
            };
            f.start(at, log);
            if announce {
                log.log(Level::Info, &format!("following {}", spec.path.display()));
            }
            self.followers.push(f);
        }
        for f in old.iter().filter(|_| announce) {
            let msg = format!("no longer following {}", f.spec.path.display());
            log.log(Level::Info, &msg);
        }
        self.entry = PlainEntry::new(program);
        self.turn = 0;
        self.current = None;
    }

    pub fn is_empty(&self) -> bool {
        self.followers.is_empty()
    }

    /// The next entry, from the journal (`journal` moves it; `false`:
    /// without waiting at all) or a file, in turn; false when none has one.
    pub fn next(
        &mut self,
        log: &mut Logger,
        journal: &mut dyn FnMut(&mut Logger, bool) -> bool,
    ) -> bool {
        let now = Instant::now();
        let n = self.followers.len() + 1;
        for k in 0..n {
            let i = (self.turn + k) % n;
            let got = match i.checked_sub(1) {
                None => journal(log, false),
                Some(f) => self.followers[f].next_line(now, log),
            };
            if got {
                self.turn = (i + 1) % n;
                self.current = i.checked_sub(1);
                return true;
            }
        }
        // Nothing anywhere: the journal is given its usual grace before
        // saying so.
        if journal(log, true) {
            self.turn = 1 % n;
            self.current = None;
            return true;
        }
        false
    }

    /// Make the current file line the entry; its time is read from the
    /// line when the file has a time format, else it is `read_at`.
    pub fn take_line(
        &mut self,
        i: usize,
        tz: &TimeZone,
        read_at: i64,
        log: &mut Logger,
    ) -> &mut PlainEntry {
        let f = &self.followers[i];
        let found = f.spec.time_format.as_ref().map(|tf| {
            let now = Timestamp::from_microsecond(read_at).unwrap_or_else(|_| Timestamp::now());
            tf.find(&f.lines.line, tz, now)
        });
        if let Some(None) = found {
            let path = f.spec.path.display();
            let written = f
                .spec
                .time_format
                .as_ref()
                .map_or("", |t| t.written.as_str());
            let cause = format!("{path}: no time");
            let msg = format!("{path}: a line has no time of format `{written}` in its first bytes: its reading time stands for it");
            log.once(Level::Warning, &cause, &msg);
        }
        let time = found.flatten().unwrap_or(read_at);
        self.entry.set(&f.lines.line, &f.spec.identifier, time);
        &mut self.entry
    }

    /// The positions to commit with the state.
    pub fn positions(&self, batch: &mut Batch) {
        for f in &self.followers {
            if let Some(p) = f.position() {
                batch.set_position(&f.key, &p);
            }
        }
    }

    /// How long until a file is looked at again (at most `max`).
    pub fn wait(&self, max: Duration) -> Duration {
        let now = Instant::now();
        self.followers
            .iter()
            .map(|f| f.next_look.saturating_duration_since(now))
            .fold(max, Duration::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn follower(path: &Path) -> Follower {
        let spec = LogFile {
            path: path.to_owned(),
            identifier: "t".into(),
            time_format: None,
        };
        Follower::new(spec, Duration::from_millis(0))
    }

    fn drain(f: &mut Follower, log: &mut Logger) -> Vec<String> {
        let mut got = Vec::new();
        while f.next_line(Instant::now(), log) {
            got.push(String::from_utf8_lossy(&f.lines.line).into_owned());
        }
        got
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open");
        f.write_all(text.as_bytes()).expect("write");
    }

    #[test]
    fn lines_are_read_whole_as_they_are_written() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("a.log");
        let mut log = Logger::new();
        let mut f = follower(&p);
        f.start(StartAt::Head, &mut log);
        assert!(drain(&mut f, &mut log).is_empty(), "missing: nothing");
        append(&p, "one\ntw");
        assert_eq!(drain(&mut f, &mut log), ["one"]);
        append(&p, "o\nthree\n");
        assert_eq!(drain(&mut f, &mut log), ["two", "three"]);
        let pos = f.position().expect("position");
        assert!(pos.ends_with(":14"), "{pos}");
    }

    #[test]
    fn a_saved_position_resumes_at_the_next_line_even_after_a_rotation() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("a.log");
        let mut log = Logger::new();
        append(&p, "1\n2\n");
        let mut f = follower(&p);
        f.start(StartAt::Head, &mut log);
        assert_eq!(drain(&mut f, &mut log), ["1", "2"]);
        let saved = f.position().expect("position");
        append(&p, "3\n");
        std::fs::rename(&p, d.path().join("a.log.1")).expect("rename");
        append(&p, "4\n");
        let mut g = follower(&p);
        g.start(StartAt::Saved(saved), &mut log);
        assert_eq!(drain(&mut g, &mut log), ["3"]);
        g.grew_at = Instant::now() - ROTATION_GRACE;
        assert_eq!(drain(&mut g, &mut log), ["4"]);
    }

    #[test]
    fn what_is_not_a_regular_file_is_waited_for_never_read() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("fifo");
        let ok = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mkfifo");
        let mut log = Logger::new();
        for path in [p.as_path(), d.path()] {
            let mut f = follower(path);
            f.start(StartAt::Head, &mut log);
            assert!(drain(&mut f, &mut log).is_empty());
            assert!(f.missing, "{}", path.display());
        }
    }

    #[test]
    fn positions_that_are_not_are_refused() {
        assert_eq!(parse_position("1:2:3"), Some((1, 2, 3)));
        for bad in ["", "1:2", "1:2:3:4", "a:b:c", "1:2:-3"] {
            assert_eq!(parse_position(bad), None, "{bad}");
        }
    }
}
