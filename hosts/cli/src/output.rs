//! Writing report files: atomically (temp file, then rename), so an interrupted or failed run
//! never leaves a half-written report next to a good one. And writing to stdout when its reader
//! may go away.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Writes what `write` produces to `dir/name` through a temporary file in the same directory;
/// the temporary file is removed if `write` fails.
pub fn write_atomically(dir: &Path, name: &str, write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&temp).map_err(anyhow::Error::from).and_then(|file| {
        let mut out = BufWriter::with_capacity(1 << 20, file);
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
