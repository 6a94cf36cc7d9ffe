//! `synth-snapshot`: writes a deterministic synthetic AWS Config snapshot.
//!
//! Usage: synth-snapshot RESOURCES OUT [--seed N] [--api] (gzipped when OUT ends in .gz)
//!        synth-snapshot RESOURCES DIR --org FILES [--seed N]  (an organization's export: FILES
//!        snapshot files in DIR, resources re-recorded across files; see `org_export`)

use std::io::{BufWriter, Write};

use anyhow::{Context, bail};
use compliance_benches::{Shape, org_export, write_snapshot};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(count), Some(out)) = (args.first(), args.get(1)) else {
        bail!("usage: synth-snapshot RESOURCES OUT[.gz] [--seed N] [--api] | synth-snapshot RESOURCES DIR --org FILES [--seed N]");
    };
    let count: u64 = count.parse().context("RESOURCES must be a number")?;
    let seed = args.iter().position(|a| a == "--seed").and_then(|i| args.get(i + 1)).map_or(Ok(42), |s| s.parse()).context("--seed takes a number")?;
    if let Some(files) = args.iter().position(|a| a == "--org").map(|i| args.get(i + 1).map(|n| n.parse::<usize>())) {
        let files = files.context("--org takes a number of files")?.context("--org takes a number of files")?;
        std::fs::create_dir_all(out).with_context(|| format!("creating {out}"))?;
        for (name, bytes) in org_export(files, count, seed) {
            let path = std::path::Path::new(out).join(name);
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        return Ok(());
    }
    let shape = if args.iter().any(|a| a == "--api") { Shape::Api } else { Shape::Snapshot };
    let file = std::fs::File::create(out).with_context(|| format!("creating {out}"))?;
    if out.ends_with(".gz") {
        let mut gz = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::new(6));
        write_snapshot(&mut gz, count, seed, shape)?;
        gz.finish()?.flush()?;
    } else {
        let mut writer = BufWriter::new(file);
        write_snapshot(&mut writer, count, seed, shape)?;
        writer.flush()?;
    }
    Ok(())
}
