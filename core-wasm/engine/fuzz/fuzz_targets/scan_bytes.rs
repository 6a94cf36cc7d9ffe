//! Arbitrary bytes, cut into arbitrary chunks, through the streaming splitter, shape detection,
//! normalisation and scoring. Any `Err` is fine; a panic, an abort or a hang is a bug. Input
//! that scans is also read twice — by one scan, and by two whose states are joined
//! (`take_state`/`absorb_state`, in pieces of an arbitrary size) — and the two reports must be
//! equal, and equal to the report of the same bytes fed in one chunk; and the bytes themselves,
//! after the first bytes of a genuine piece of handed-over state (so that they get past its
//! format mark), must be refused without changing the scan, or taken in without a panic. The
//! bytes are also read in two parts, cut after the first chunk where the source can be
//! suspended (between two items of an item array): the rest on a scan of its own, resumed from
//! the cut and absorbed by the first, must give the report one scan gives. The
//! bytes are also parsed whole by the engine's JSON parser (its own fast reader where it can
//! answer) and by `serde_json` (the definition it must match): the same value, or the same
//! error. Fed in one chunk, items are read in place by that reader; fed in small chunks, the
//! splitter delimits them first: the reports (or errors) of both must agree.
#![no_main]

use compliance_engine::value::Value;
use compliance_engine::{ReportMeta, Scan, ScanOptions};
use libfuzzer_sys::fuzz_target;

fn options() -> ScanOptions {
    ScanOptions { max_item_bytes: 1 << 20, ..ScanOptions::default() }
}

fn read(scan: &mut Scan, name: &str, input: &[u8], chunk: usize) -> bool {
    read_or_error(scan, name, input, chunk).is_ok()
}

fn read_or_error(scan: &mut Scan, name: &str, input: &[u8], chunk: usize) -> Result<(), String> {
    scan.begin_source(name).map_err(|e| e.to_string())?;
    input.chunks(chunk).try_for_each(|piece| scan.feed(piece).map(drop)).map_err(|e| e.to_string())?;
    scan.end_source().map(drop).map_err(|e| e.to_string())
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk_seed, input)) = data.split_first() else { return };
    let arena = bumpalo::Bump::new();
    let parsed = Value::parse(input, &arena).map_err(|e| e.to_string());
    assert_eq!(parsed, Value::parse_with_serde_json(input, &arena).map_err(|e| e.to_string()), "the parser reads what serde_json reads");
    let chunk = usize::from(chunk_seed % 64) + 1;
    let Ok(mut scan) = Scan::new(options()) else { return };
    let meta = || ReportMeta { generated_at: "2026-01-01T00:00:00Z".into(), ..ReportMeta::default() };
    let chunked = read_or_error(&mut scan, "fuzz.json", input, chunk);
    if let Err(error) = &chunked {
        // In one chunk (items read in place), the same error.
        let Ok(mut one) = Scan::new(options()) else { return };
        assert_eq!(read_or_error(&mut one, "fuzz.json", input, input.len().max(1)).err().as_ref(), Some(error), "one chunk or many, the same error");
        let Ok(mut handing) = Scan::new(options()) else { return };
        let genuine = handing.take_state(1).expect("an empty scan hands over its head");
        let mut state = genuine[..genuine.len().min(8 + usize::from(chunk_seed % 24))].to_vec();
        state.extend_from_slice(input);
        if let (Ok(mut other), Ok(fresh)) = (Scan::new(options()), Scan::new(options())) {
            match other.absorb_state(&state) {
                Err(_) => assert_eq!(other.finish(meta()), fresh.finish(meta()), "a refused piece changes nothing"),
                Ok(()) => drop(other.finish(meta())),
            }
        }
        return;
    }
    let Ok(mut twice) = Scan::new(options()) else { return };
    let Ok(mut second) = Scan::new(options()) else { return };
    assert!(read(&mut twice, "again.json", input, chunk) && read(&mut second, "again.json", input, chunk), "the same bytes scan again");
    let piece_bytes = usize::from(chunk_seed) * 7 + 1;
    loop {
        let piece = second.take_state(piece_bytes).expect("a scan between sources hands its state over");
        if piece.is_empty() {
            break;
        }
        scan.absorb_state(&piece).expect("a scan takes in what a scan of the same options handed over");
    }
    let Ok(mut sequential) = Scan::new(options()) else { return };
    assert!(read(&mut sequential, "fuzz.json", input, chunk) && read(&mut sequential, "again.json", input, chunk));
    // Read in one chunk, the splitter takes sixty-four bytes at a time where small chunks
    // leave it sixteen or one: how the bytes arrive must not change what they say.
    let Ok(mut whole) = Scan::new(options()) else { return };
    assert!(read(&mut whole, "fuzz.json", input, input.len().max(1)) && read(&mut whole, "again.json", input, input.len().max(1)), "the bytes scan in one chunk as in small ones");
    // In two parts: the first scan suspends the source at a cut, another reads on from there.
    let Ok(mut first) = Scan::new(options()) else { return };
    assert!(first.begin_source("fuzz.json").is_ok());
    let mut cut = None;
    let mut fed = 0;
    for piece in input.chunks(chunk) {
        first.feed(piece).expect("the bytes scan again");
        fed += piece.len();
        if first.suspend_source().is_ok() {
            cut = Some(fed);
            break;
        }
    }
    if let Some(cut) = cut {
        let mut followed = false;
        for array in ["configurationItems", "Results"] {
            let Ok(mut rest) = Scan::new(options()) else { return };
            rest.resume_source("fuzz.json", cut as u64, array).expect("a new scan resumes a source at any offset");
            // Read as the other kind of item array, the rest may not scan: then try the other.
            if !(input[cut..].chunks(chunk).all(|piece| rest.feed(piece).is_ok()) && rest.end_source().is_ok()) {
                continue;
            }
            let mut taken = true;
            loop {
                let piece = rest.take_state(piece_bytes).expect("a scan between sources hands its state over");
                if piece.is_empty() {
                    break;
                }
                if first.absorb_state(&piece).is_err() {
                    taken = false;
                    break;
                }
            }
            if taken {
                followed = true;
                break;
            }
        }
        assert!(followed, "the rest of the source, read from the cut, follows the first part");
        let Ok(mut once) = Scan::new(options()) else { return };
        assert!(read(&mut once, "fuzz.json", input, chunk));
        assert_eq!(first.finish(meta()), once.finish(meta()), "read in two parts, the report one scan gives");
    }
    let joined = scan.finish(meta());
    let sequential = sequential.finish(meta());
    assert_eq!(joined, sequential, "joined states give the report one scan gives");
    assert_eq!(whole.finish(meta()), sequential, "one chunk or many, the same report");
});
