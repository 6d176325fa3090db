//! Writing journal files: entries in the journal export format
//! (`systemd-journal-remote`'s input), turned into a real journal file by
//! `systemd-journal-remote -o FILE -`.
//!
//! The tests, the benchmarks and anyone reproducing a journal elsewhere
//! write entries this way, so that what they read back went through the
//! same libsystemd code as a live journal.

use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Where Debian's `systemd-journal-remote` package installs the program.
pub const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";

/// Append one field to `out`: `NAME=value` on a line, or the binary form
/// (name, newline, little-endian 64-bit length, bytes, newline) when the
/// value holds a newline or is not UTF-8.
pub fn field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    if value.contains(&b'\n') || std::str::from_utf8(value).is_err() {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// End the entry whose fields were appended last.
pub fn end_entry(out: &mut Vec<u8>) {
    out.push(b'\n');
}

/// Write (or append to) the journal file `path` from entries in export
/// format, by running [`JOURNAL_REMOTE`].
pub fn write_journal(path: &Path, export: &[u8]) -> io::Result<()> {
    let mut child = Command::new(JOURNAL_REMOTE)
        .arg("-o")
        .arg(path)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{JOURNAL_REMOTE} (package systemd-journal-remote): {e}"),
            )
        })?;
    let stdin = child.stdin.take();
    // Write from a second thread, so that neither side waits on a full pipe.
    let (written, out) = std::thread::scope(|s| {
        let writer = s.spawn(move || match stdin {
            Some(mut stdin) => stdin.write_all(export),
            None => Ok(()),
        });
        let out = child.wait_with_output();
        (writer.join(), out)
    });
    let out = out?;
    written.unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")))?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{JOURNAL_REMOTE} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_forms() {
        let mut out = Vec::new();
        field(&mut out, "MESSAGE", b"plain");
        field(&mut out, "MULTI", b"a\nb");
        field(&mut out, "BYTES", b"\xff");
        end_entry(&mut out);
        let mut want = b"MESSAGE=plain\nMULTI\n".to_vec();
        want.extend_from_slice(&3u64.to_le_bytes());
        want.extend_from_slice(b"a\nb\nBYTES\n");
        want.extend_from_slice(&1u64.to_le_bytes());
        want.extend_from_slice(b"\xff\n\n");
        assert_eq!(out, want);
    }
}
