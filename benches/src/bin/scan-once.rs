//! One native scan of a synthetic snapshot, for instruction counting under callgrind, which
//! counts the same total for the same binary and input whatever else the machine is doing (wall
//! time on a shared 2-core machine is not that steady):
//!
//! ```sh
//! cargo build --release -p compliance-benches --bin scan-once
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='scan_once::scan' \
//!     target/release/scan-once 2000 snapshot     # or: api
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='scan_once::render' \
//!     target/release/scan-once 2000 snapshot json   # the JSON report of that scan (or: html)
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='scan_once::hand_over' \
//!     target/release/scan-once 2000 snapshot handover   # a second scan's state taken in by the first
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='scan_once::scan' \
//!     target/release/scan-once file snapshot.json       # a file of your own (read before counting)
//! ```
//!
//! callgrind prints `Collected : N`, the instructions of the toggled function alone (generating
//! the input is not counted).

use compliance_benches::{Shape, scan_natively, snapshot};
use compliance_engine::render::{html, json};
use compliance_engine::{Scan, ScanOptions, ScoreReport};

/// The function callgrind's `--toggle-collect` names; kept out of line for that.
#[inline(never)]
fn scan(bytes: &[u8]) -> anyhow::Result<ScoreReport> {
    Ok(scan_natively(bytes)?)
}

#[inline(never)]
fn render(report: &ScoreReport, format: &str) -> anyhow::Result<usize> {
    Ok(match format {
        "json" => json::render(report)?.len(),
        "html" => html::render(report, &[]).len(),
        other => anyhow::bail!("format must be `json` or `html`, not `{other}`"),
    })
}

/// Hands `other`'s whole state to `first` in the pieces the CLI uses.
#[inline(never)]
fn hand_over(first: &mut Scan, other: &mut Scan) -> anyhow::Result<usize> {
    let mut bytes = 0;
    loop {
        let piece = other.take_state(4 << 20)?;
        if piece.is_empty() {
            return Ok(bytes);
        }
        bytes += piece.len();
        first.absorb_state(&piece)?;
    }
}

/// Scans two snapshots of `resources` each (different seeds, so different resources) on two
/// scans and hands the second's state to the first, as a parallel scan does.
fn scan_two_and_hand_over(resources: u64, shape: Shape) -> anyhow::Result<()> {
    let mut scans = Vec::new();
    for seed in [42, 43] {
        let mut scan = Scan::new(ScanOptions::default())?;
        scan.begin_source(&format!("synthetic-{seed}.json"))?;
        scan.feed(&snapshot(resources, seed, shape, false))?;
        scan.end_source()?;
        scans.push(scan);
    }
    let (mut first, mut other) = (scans.remove(0), scans.remove(0));
    let start = std::time::Instant::now();
    let bytes = hand_over(&mut first, &mut other)?;
    println!("handed over {bytes} bytes in {:?}", start.elapsed());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some("file") {
        let path = args.nth(1).ok_or_else(|| anyhow::anyhow!("usage: scan-once file PATH"))?;
        let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))?;
        let start = std::time::Instant::now();
        let report = scan(&bytes)?;
        println!("scanned {} items ({} bytes) in {:?}", report.input.items, bytes.len(), start.elapsed());
        return Ok(());
    }
    let resources: u64 = args.next().as_deref().unwrap_or("2000").parse()?;
    let shape = match args.next().as_deref().unwrap_or("snapshot") {
        "snapshot" => Shape::Snapshot,
        "api" => Shape::Api,
        other => anyhow::bail!("shape must be `snapshot` or `api`, not `{other}`"),
    };
    let next = args.next();
    if next.as_deref() == Some("handover") {
        return scan_two_and_hand_over(resources, shape);
    }
    let bytes = snapshot(resources, 42, shape, false);
    let start = std::time::Instant::now();
    let report = scan(&bytes)?;
    println!("scanned {} items ({} bytes) in {:?}", report.input.items, bytes.len(), start.elapsed());
    if let Some(format) = next {
        let start = std::time::Instant::now();
        let size = render(&report, &format)?;
        println!("rendered {format}, {size} bytes, in {:?}", start.elapsed());
    }
    Ok(())
}
