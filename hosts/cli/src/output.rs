//! Writing report files: atomically (temp file, then rename), so an interrupted or failed run
//! never leaves a half-written report next to a good one.

use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `dir/name` through a temporary file in the same directory.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&temp, bytes).with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, &target).with_context(|| format!("renaming {} to {}", temp.display(), target.display()))?;
    Ok(())
}
