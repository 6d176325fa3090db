//! The daemon's entry sources: the journal (system, a directory, files)
//! through libsystemd, or `journalctl -o json` lines from a file or
//! standard input.
//!
//! JSON lines are read on a thread of their own and handed over through a
//! channel, so that waiting for the next line never blocks signals or
//! watchdog pings.

use crate::journal::sd::{self, JournalReader};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// What to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSpec {
    System,
    Directory(PathBuf),
    Files(Vec<PathBuf>),
    /// A file, or `-` for standard input.
    Json(PathBuf),
}

impl InputSpec {
    /// The key under which the cursor of this input is stored.
    pub fn key(&self) -> String {
        match self {
            InputSpec::System => "system".into(),
            InputSpec::Directory(d) => format!("directory:{}", d.display()),
            InputSpec::Files(f) => format!(
                "files:{}",
                f.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            InputSpec::Json(p) => format!("json:{}", p.display()),
        }
    }

    /// Where the journal files of this input were looked for, when none
    /// was found there (so that nothing can be read), and a hint; `None`
    /// when there is one, and for explicit files and JSON input.
    pub fn nothing_to_read(&self) -> Option<(String, &'static str)> {
        match self {
            InputSpec::System => {
                let dirs = ["/var/log/journal", "/run/log/journal"];
                (!dirs.iter().any(|d| has_journal_files(Path::new(d)))).then(|| {
                    (
                        format!("{} nor {}", dirs[0], dirs[1]),
                        ": is systemd-journald running here? (--directory DIR reads the \
                         journal files of a directory, --json FILE journalctl -o json lines)",
                    )
                })
            }
            InputSpec::Directory(d) => {
                (!has_journal_files(d)).then(|| (d.display().to_string(), ""))
            }
            InputSpec::Files(_) | InputSpec::Json(_) => None,
        }
    }

    /// Where to start without a saved cursor: the tail of the live system
    /// journal, the head of anything else.
    pub fn default_head(&self) -> bool {
        !matches!(self, InputSpec::System)
    }
}

/// Whether `dir`, or a directory in it (journald keeps its files under the
/// machine id), holds a journal file, as libsystemd finds them.
fn has_journal_files(dir: &Path) -> bool {
    let is_journal = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".journal") || n.ends_with(".journal~"))
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        is_journal(&p)
            || p.is_dir()
                && std::fs::read_dir(&p)
                    .is_ok_and(|sub| sub.flatten().any(|s| is_journal(&s.path())))
    })
}

/// A line of JSON input, with its 1-based number.
pub enum JsonLine {
    Line(u64, Vec<u8>),
    Error(String),
    End,
}

pub enum Reader {
    Journal(JournalReader),
    Json {
        rx: Receiver<JsonLine>,
        /// A line received while waiting, handed over by the next `next`.
        buffered: Option<JsonLine>,
        /// The current line.
        current: Option<(u64, Vec<u8>)>,
        ended: bool,
    },
}

/// What `next` found.
pub enum Next {
    Entry,
    /// Nothing more for now (or ever, for a file).
    End,
}

impl Reader {
    /// Open `spec` after `after` (a saved cursor and, for a journal, the
    /// record of sequences saved with it), else at its head or tail.
    pub fn open(
        spec: &InputSpec,
        head: bool,
        after: Option<(String, Option<String>)>,
    ) -> std::io::Result<Reader> {
        let input = match spec {
            InputSpec::System => sd::Input::System,
            InputSpec::Directory(d) => sd::Input::Directory(d.clone()),
            InputSpec::Files(f) => sd::Input::Files(f.clone()),
            InputSpec::Json(p) => {
                let start = match (after, head) {
                    (Some((c, _)), _) => sd::Start::After(c),
                    (None, true) => sd::Start::Head,
                    (None, false) => sd::Start::Tail,
                };
                return Ok(Reader::json(p.clone(), start));
            }
        };
        let start = match (after, head) {
            (Some((c, seen)), _) => sd::Start::Resume(sd::Position::decode(&c, seen.as_deref())),
            (None, true) => sd::Start::Head,
            (None, false) => sd::Start::Tail,
        };
        Ok(Reader::Journal(JournalReader::open(&input, &start)?))
    }

    fn json(path: PathBuf, start: sd::Start) -> Reader {
        let (tx, rx) = std::sync::mpsc::sync_channel(1024);
        let skip_until = match start {
            sd::Start::After(c) => Some(c),
            _ => None,
        };
        std::thread::spawn(move || {
            let input: Box<dyn BufRead> = if path.as_os_str() == "-" {
                Box::new(std::io::BufReader::new(std::io::stdin()))
            } else {
                match std::fs::File::open(&path) {
                    Ok(f) => Box::new(std::io::BufReader::new(f)),
                    Err(e) => {
                        let _ = tx.send(JsonLine::Error(format!(
                            "cannot read {}: {e}",
                            path.display()
                        )));
                        let _ = tx.send(JsonLine::End);
                        return;
                    }
                }
            };
            // A saved cursor is looked for in a file before reading it, so
            // that a cursor the file does not hold never skips it all.
            let mut skip = skip_until.filter(|c| {
                path.as_os_str() != "-"
                    && std::fs::read(&path)
                        .map(|b| String::from_utf8_lossy(&b).contains(c.as_str()))
                        .unwrap_or(false)
            });
            let mut lines = input;
            let mut n = 0u64;
            loop {
                let mut buf = Vec::new();
                match lines.read_until(b'\n', &mut buf) {
                    Ok(0) => break,
                    Ok(_) => {
                        n += 1;
                        if let Some(c) = &skip {
                            if cursor_of(&buf).as_deref() == Some(c.as_str()) {
                                skip = None;
                            }
                            continue;
                        }
                        if tx.send(JsonLine::Line(n, buf)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ =
                            tx.send(JsonLine::Error(format!("reading {}: {e}", path.display())));
                        break;
                    }
                }
            }
            let _ = tx.send(JsonLine::End);
        });
        Reader::Json {
            rx,
            buffered: None,
            current: None,
            ended: false,
        }
    }

    /// Advance to the next entry without waiting. Errors of JSON input are
    /// returned as `Err` and reading goes on.
    pub fn advance(&mut self) -> Result<Next, String> {
        // A short grace, so that a reader thread lagging behind a file is
        // not taken for the end of the input (which commits the state and
        // waits).
        self.advance_within(Duration::from_millis(10))
    }

    /// [`advance`](Self::advance) without the grace of JSON input: while
    /// other inputs have entries, a JSON line not there yet is taken next
    /// time.
    pub fn advance_now(&mut self) -> Result<Next, String> {
        self.advance_within(Duration::ZERO)
    }

    fn advance_within(&mut self, grace: Duration) -> Result<Next, String> {
        match self {
            Reader::Journal(j) => match j.next() {
                Ok(true) => Ok(Next::Entry),
                Ok(false) => Ok(Next::End),
                Err(e) => Err(format!("reading the journal: {e}")),
            },
            Reader::Json {
                rx,
                buffered,
                current,
                ended,
            } => {
                if *ended {
                    return Ok(Next::End);
                }
                let got = match buffered.take() {
                    Some(l) => l,
                    None => match rx.recv_timeout(grace) {
                        Ok(l) => l,
                        Err(RecvTimeoutError::Timeout) => return Ok(Next::End),
                        Err(RecvTimeoutError::Disconnected) => JsonLine::End,
                    },
                };
                match got {
                    JsonLine::Line(n, l) => {
                        *current = Some((n, l));
                        Ok(Next::Entry)
                    }
                    JsonLine::Error(e) => Err(e),
                    JsonLine::End => {
                        *ended = true;
                        Ok(Next::End)
                    }
                }
            }
        }
    }

    /// Whether the input can bring nothing more (a JSON file read to its end).
    pub fn finished(&self) -> bool {
        matches!(self, Reader::Json { ended: true, .. })
    }

    /// Wait for more input, at most `timeout`.
    pub fn wait(&mut self, timeout: Duration) {
        match self {
            Reader::Journal(j) => {
                if j.wait(timeout).is_err() {
                    std::thread::sleep(timeout);
                }
            }
            Reader::Json {
                rx,
                buffered,
                ended,
                ..
            } => {
                if buffered.is_some() {
                    return;
                }
                if *ended {
                    // Nothing more will come: idle (signals, the report
                    // timer) instead of spinning.
                    std::thread::sleep(timeout);
                    return;
                }
                match rx.recv_timeout(timeout) {
                    Ok(l) => *buffered = Some(l),
                    Err(RecvTimeoutError::Disconnected) => *buffered = Some(JsonLine::End),
                    Err(RecvTimeoutError::Timeout) => {}
                }
            }
        }
    }

    /// The record of journal sequences read, saved beside the cursor.
    pub fn seen(&self) -> Option<String> {
        match self {
            Reader::Journal(j) => j.position().map(sd::Position::seen_text),
            Reader::Json { .. } => None,
        }
    }

    pub fn journal(&mut self) -> Option<&mut JournalReader> {
        match self {
            Reader::Journal(j) => Some(j),
            Reader::Json { .. } => None,
        }
    }

    /// The current JSON line, handed over (each line is taken once).
    pub fn take_json_line(&mut self) -> Option<(u64, Vec<u8>)> {
        match self {
            Reader::Json { current, .. } => current.take(),
            Reader::Journal(_) => None,
        }
    }
}

/// The `__CURSOR` of a JSON line, if it has one.
pub fn cursor_of(line: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    v.get("__CURSOR")?.as_str().map(str::to_owned)
}
