//! Arbitrary bytes, cut into arbitrary chunks, through the streaming splitter, shape detection,
//! normalisation and scoring. Any `Err` is fine; a panic, an abort or a hang is a bug.
#![no_main]

use compliance_engine::{ReportMeta, Scan, ScanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk_seed, input)) = data.split_first() else { return };
    let chunk = usize::from(chunk_seed % 64) + 1;
    let options = ScanOptions { max_item_bytes: 1 << 20, ..ScanOptions::default() };
    let Ok(mut scan) = Scan::new(options) else { return };
    if scan.begin_source("fuzz.json").is_err() {
        return;
    }
    for piece in input.chunks(chunk) {
        if scan.feed(piece).is_err() {
            return;
        }
    }
    if scan.end_source().is_ok() {
        let _ = scan.finish(ReportMeta::default());
    }
});
