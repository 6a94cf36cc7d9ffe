//! Writing report files: atomically (temp file, then rename), so an interrupted or failed run
//! never leaves a half-written report next to a good one. And writing to stdout when its reader
//! may go away.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Writes what `write` produces to `dir/name` through a temporary file in the same directory;
/// the temporary file is removed if `write` fails. The kernel is asked to start writing the file
/// to disk every few MiB as it grows ([`Writeback`]), and to drop the report it replaces from its
/// cache first ([`drop_cached`]).
pub fn write_atomically(dir: &Path, name: &str, write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    drop_cached(&target);
    let written = std::fs::File::create(&temp).map_err(anyhow::Error::from).and_then(|file| {
        let mut out = BufWriter::with_capacity(1 << 20, Writeback { file, written: 0, started: 0 });
        write(&mut out)?;
        out.flush()?;
        Ok(())
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e.context(format!("writing {}", temp.display())));
    }
    std::fs::rename(&temp, &target).with_context(|| format!("renaming {} to {}", temp.display(), target.display()))?;
    Ok(())
}

/// How much is written between two requests to start writing to disk.
const WRITEBACK_STEP: u64 = 4 << 20;

/// A report file that asks the kernel to start writing its pages to disk every
/// [`WRITEBACK_STEP`] bytes (Linux's `sync_file_range(SYNC_FILE_RANGE_WRITE)`: it starts the
/// writeback and does not wait for the disk). Replacing a file by renaming onto it makes ext4
/// start the writeback of the whole new file inside `rename`, so that a crash does not leave an
/// empty report where the old one was: a 168 MB report spent ~100 ms in `rename` after its last
/// byte (33 ms with this, the rest being the old report's removal). Started as the report is
/// written, that work overlaps the rendering, and the crash safety is the same: the writeback
/// starts before the rename.
struct Writeback {
    file: File,
    /// Bytes written.
    written: u64,
    /// Where the bytes not yet handed to writeback begin.
    started: u64,
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= WRITEBACK_STEP {
            start_writeback(&self.file, self.started, self.written - self.started);
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Starts writing `len` bytes of `file` from `offset` to disk, without waiting. A hint: where it
/// fails (a file system without writeback) the file is written as before, and every write's own
/// error is still returned by `write`.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else { return };
    // SAFETY: the descriptor is open for the call (`file` is borrowed), and the call reads and
    // writes no memory of this process.
    let _ = unsafe { libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &File, _: u64, _: u64) {}

/// Asks the kernel to drop the cached pages of the report at `path` that is about to be
/// replaced (`posix_fadvise(POSIX_FADV_DONTNEED)`); its bytes stay on disk, and stay the report
/// until the rename, so a failed write still keeps it. Two things this saves, both measured on a
/// 168 MB JSON report (BENCHMARKS round 23): the `rename` no longer frees the old report's
/// pages after the last byte is written, and the new report's pages are the ones just freed.
/// On a VM whose balloon takes freed memory back (free page reporting), pages that stayed free
/// for a few seconds cost a fault in the host at their next use: ~9 µs each, ~0.25 s for the
/// report. A hint, like [`start_writeback`]: nothing is done to what is not a regular file (a
/// FIFO would block the open), and a failure changes nothing.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn drop_cached(path: &Path) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        return;
    }
    let Ok(old) = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) else { return };
    // SAFETY: the descriptor is open for the call (`old` lives to the end of this function), and
    // the call reads and writes no memory of this process.
    let _ = unsafe { libc::posix_fadvise(old.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
}

#[cfg(not(target_os = "linux"))]
fn drop_cached(_: &Path) {}

/// Writes to stdout. A reader that went away (`compliance rules | head`) is not an error: the
/// command goes on without stdout — report files are still written and the exit code still says
/// what it concluded — where `println!` would panic. Other write errors are returned.
pub fn stdout(text: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    match std::io::stdout().lock().write_fmt(text) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `println!` through [`stdout`], returning its error with `?`.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}
pub(crate) use say;

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of several writeback steps, written in uneven pieces over an older one, is the
    /// bytes written, and leaves no temporary file; a failed write keeps the older report.
    #[test]
    fn large_reports_are_written_whole_and_replace_atomically() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report.json"), b"old").unwrap();
        let bytes: Vec<u8> = (0..(3 * WRITEBACK_STEP + 12_345)).map(|i| (i % 251) as u8).collect();
        write_atomically(dir.path(), "report.json", |out| {
            let mut rest = &bytes[..];
            let mut piece = 1;
            while !rest.is_empty() {
                let (now, later) = rest.split_at(piece.min(rest.len()));
                out.write_all(now)?;
                rest = later;
                piece = piece * 7 % 5_000_011 + 1;
            }
            Ok(())
        })
        .unwrap();
        assert!(std::fs::read(dir.path().join("report.json")).unwrap() == bytes);

        let failed = write_atomically(dir.path(), "report.json", |out| {
            out.write_all(&bytes[..5 << 20])?;
            anyhow::bail!("the component failed")
        });
        assert!(failed.is_err());
        assert!(std::fs::read(dir.path().join("report.json")).unwrap() == bytes);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["report.json"]);
    }

    /// What the report replaces is looked at only when it is a file: a FIFO in its place does not
    /// block the write (opening it to read would wait for a writer), and is replaced like a file.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_fifo_where_the_report_goes_is_replaced_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.json");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let (done, finished) = std::sync::mpsc::channel();
        let path = dir.path().to_owned();
        std::thread::spawn(move || done.send(write_atomically(&path, "report.json", |out| Ok(out.write_all(b"{}")?)).map_err(|e| e.to_string())));
        let written = finished.recv_timeout(std::time::Duration::from_secs(20)).expect("the write does not block on the FIFO");
        written.unwrap();
        assert!(std::fs::symlink_metadata(&fifo).unwrap().is_file());
        assert_eq!(std::fs::read(&fifo).unwrap(), b"{}");
    }
}
