//! One native scan of a synthetic snapshot, for instruction counting under callgrind, which
//! counts the same total for the same binary and input whatever else the machine is doing (wall
//! time on a shared 2-core machine is not that steady):
//!
//! ```sh
//! cargo build --release -p compliance-benches --bin scan-once
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='scan_once::scan' \
//!     target/release/scan-once 2000 snapshot     # or: api
//! ```
//!
//! callgrind prints `Collected : N`, the instructions of the scan alone (generating the input is
//! not counted).

use compliance_benches::{Shape, snapshot};
use compliance_engine::{ReportMeta, Scan, ScanOptions};

#[inline(never)]
fn scan(bytes: &[u8]) -> anyhow::Result<u64> {
    let mut scan = Scan::new(ScanOptions::default())?;
    scan.begin_source("synthetic.json")?;
    for chunk in bytes.chunks(1 << 20) {
        scan.feed(chunk)?;
    }
    scan.end_source()?;
    Ok(scan.finish(ReportMeta::default())?.input.items)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let resources: u64 = args.next().as_deref().unwrap_or("2000").parse()?;
    let shape = match args.next().as_deref().unwrap_or("snapshot") {
        "snapshot" => Shape::Snapshot,
        "api" => Shape::Api,
        other => anyhow::bail!("shape must be `snapshot` or `api`, not `{other}`"),
    };
    let bytes = snapshot(resources, 42, shape, false);
    let start = std::time::Instant::now();
    let items = scan(&bytes)?;
    println!("scanned {items} items ({} bytes) in {:?}", bytes.len(), start.elapsed());
    Ok(())
}
