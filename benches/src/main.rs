//! `synth-snapshot`: writes a deterministic synthetic AWS Config snapshot.
//!
//! Usage: synth-snapshot RESOURCES OUT [--seed N] [--api] (gzipped when OUT ends in .gz)

use std::io::{BufWriter, Write};

use anyhow::{Context, bail};
use compliance_benches::{Shape, write_snapshot};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(count), Some(out)) = (args.first(), args.get(1)) else {
        bail!("usage: synth-snapshot RESOURCES OUT[.gz] [--seed N] [--api]");
    };
    let count: u64 = count.parse().context("RESOURCES must be a number")?;
    let seed = args.iter().position(|a| a == "--seed").and_then(|i| args.get(i + 1)).map_or(Ok(42), |s| s.parse()).context("--seed takes a number")?;
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
