//! One module per subcommand.

pub mod component;
pub mod diff;
pub mod export;
pub mod rollup;
pub mod rules;
pub mod scan;
pub mod verify;

use std::time::Duration;

use anyhow::Context;
use compliance_runtime::{Limits, Runtime};

use crate::args::EngineArgs;

/// Loads the embedded component, or the archived one the arguments name.
pub fn load_runtime(args: &EngineArgs) -> anyhow::Result<Runtime> {
    let limits = Limits {
        memory_bytes: usize::try_from(args.memory_limit_mib << 20).unwrap_or(usize::MAX),
        call_timeout: Duration::from_secs(args.call_timeout),
        max_source_bytes: args.max_source_mib.saturating_mul(1 << 20),
        ..Limits::default()
    };
    match &args.component {
        Some(path) => Runtime::from_file(path, limits).with_context(|| format!("loading component {}", path.display())),
        None => Ok(Runtime::embedded(limits)?),
    }
}

/// Runs a scan with a progress bar on stderr for long inputs (hidden when stderr is not a
/// terminal; indicatif checks).
pub fn scan_with_progress(
    runtime: &Runtime,
    request: &compliance_runtime::ScanRequest,
    sources: Vec<compliance_runtime::InputSource>,
    jobs: usize,
) -> anyhow::Result<compliance_runtime::FinishedScan> {
    // Known for files, unknown for stdin: then there is no bar.
    let total_bytes: Option<u64> = sources.iter().map(compliance_runtime::InputSource::size).sum();
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    const LONG_INPUT: u64 = 16 << 20;
    let bar = match total_bytes {
        Some(total) if total >= LONG_INPUT => {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        }
        _ => ProgressBar::hidden(),
    };
    let finished = runtime.scan_with_jobs(request, sources, jobs, &mut |p| {
        bar.set_position(p.raw_bytes);
        bar.set_message(format!("{} items", p.items));
    });
    bar.finish_and_clear();
    Ok(finished?)
}
