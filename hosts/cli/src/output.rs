//! Writing report files: atomically (temp file, then rename), so an interrupted or failed run
//! never leaves a half-written report next to a good one. And writing to stdout when its reader
//! may go away.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Writes what `write` produces to `dir/name` through a temporary file in the same directory;
/// the temporary file is removed if `write` fails. The kernel is asked to start writing the file
/// to disk every few MiB as it grows ([`Writeback`]).
pub fn write_atomically(dir: &Path, name: &str, write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
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
}
