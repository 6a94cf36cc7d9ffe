//! The WASI component: a thin adapter that exports `compliance-engine` through the WIT contract
//! in `wit/`. It holds only the generated bindings, `impl Guest`, and WIT↔engine conversions;
//! all logic lives (and is tested) in the engine crate.
//!
//! Built for `wasm32-wasip2` by `hosts/runtime/build.rs`; on other targets it is empty (its
//! tests run natively).
#![cfg(any(target_arch = "wasm32", test))]
#![allow(missing_docs)] // generated bindings
// The generated canonical-ABI glue is unsafe by nature; the only hand-written unsafe code is
// `memcmp` and the allocator (`pools`).
#![allow(unsafe_code)]

mod convert;
mod memcmp;
mod pools;
mod rollup;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: pools::Pools = pools::Pools::new();

use std::cell::RefCell;

use compliance_engine as engine;
use exports::compliance::engine::scanner::{self, Guest, GuestScan};
use compliance::engine::types::{EngineInfo, ExportFormat, Finding, ReportFormat, ReportSummary, ResourceResult, RuleInfo, ScanError, ScanOptions, Status, TrendPoint};

wit_bindgen::generate!({
    world: "engine",
    path: "../../wit",
    generate_all,
});

/// Lifecycle of one scan resource.
enum State {
    Reading(Box<engine::Scan>),
    Finished(Box<engine::ScoreReport>),
    /// `finish` failed or is under way; the scan cannot be used again.
    Spent,
}

/// A render in progress through `render-page`.
struct Render {
    format: ReportFormat,
    trend: Vec<engine::render::TrendPoint>,
    pages: Pages,
}

enum Pages {
    /// Rendered piece by piece.
    Json(engine::render::json::JsonPages),
    Csv(engine::render::csv::CsvPages),
    Html(engine::render::html::HtmlPages),
    /// Rendered whole, handed out from `at`.
    Whole { bytes: Vec<u8>, at: usize },
}

/// An export in progress through `render-export-page`.
struct Export {
    options: engine::render::export::ExportOptions,
    pages: engine::render::export::ExportPages,
}

struct Scan {
    state: RefCell<State>,
    render: RefCell<Option<Render>>,
    export: RefCell<Option<Export>>,
    /// The finished report's finding keys being handed out (`take-finding-keys`).
    keys: RefCell<Option<engine::ids::IdKeysHandOut>>,
}

struct Component;

impl Guest for Component {
    type Scan = Scan;

    fn rules() -> Vec<RuleInfo> {
        engine::RULES.iter().map(convert::rule_info).collect()
    }

    fn digest_finding_ids(keys: Vec<u8>) -> Result<Vec<u8>, ScanError> {
        engine::ids::digest_finding_ids(&keys).map_err(convert::scan_error)
    }

    fn about() -> EngineInfo {
        EngineInfo {
            version: engine::ENGINE_VERSION.to_owned(),
            rule_pack_id: engine::RULE_PACK_ID.to_owned(),
            rule_pack_version: engine::RULE_PACK_VERSION.to_owned(),
        }
    }
}

impl exports::compliance::engine::frameworks::Guest for Component {
    fn mappings() -> Vec<exports::compliance::engine::frameworks::Mapping> {
        use exports::compliance::engine::frameworks::{Basis, Mapping};
        use engine::rules::frameworks::{FRAMEWORKS, Source, mappings, natural};
        FRAMEWORKS
            .into_iter()
            .flat_map(|framework| {
                let mut of_framework: Vec<_> = mappings().filter(|m| m.framework == framework).collect();
                of_framework.sort_by(|a, b| natural(a.requirement, b.requirement).then_with(|| a.rule.cmp(b.rule)));
                of_framework
            })
            .map(|m| Mapping {
                rule_id: m.rule.to_owned(),
                framework_id: m.framework.id().to_owned(),
                framework_name: m.framework.name().to_owned(),
                requirement: m.requirement.to_owned(),
                basis: match m.source {
                    Source::Aws => Basis::Aws,
                    Source::Prowler => Basis::Prowler,
                    Source::Vendor => Basis::VendorAsserted,
                },
            })
            .collect()
    }
}

impl exports::compliance::engine::rollup::Guest for Component {
    fn roll_up(
        request: exports::compliance::engine::rollup::Request,
        summaries: Vec<exports::compliance::engine::rollup::Summary>,
        formats: Vec<exports::compliance::engine::rollup::RollupFormat>,
    ) -> Result<exports::compliance::engine::rollup::Outcome, exports::compliance::engine::rollup::RollupError> {
        rollup::roll_up(request, summaries, formats)
    }
}

fn invalid_state(message: &str) -> ScanError {
    ScanError::InvalidState(message.to_owned())
}

impl Scan {
    fn reading<T>(&self, f: impl FnOnce(&mut engine::Scan) -> Result<T, engine::ScanError>) -> Result<T, ScanError> {
        match &mut *self.state.borrow_mut() {
            State::Reading(scan) => f(scan).map_err(convert::scan_error),
            _ => Err(invalid_state("the scan is already finished")),
        }
    }

    fn finished<T>(&self, f: impl FnOnce(&engine::ScoreReport) -> Result<T, ScanError>) -> Result<T, ScanError> {
        match &*self.state.borrow() {
            State::Finished(report) => f(report),
            _ => Err(invalid_state("the scan is not finished")),
        }
    }
}

impl GuestScan for Scan {
    fn create(options: ScanOptions) -> Result<scanner::Scan, ScanError> {
        let scan = engine::Scan::new(convert::scan_options(options)).map_err(convert::scan_error)?;
        Ok(scanner::Scan::new(Scan { state: RefCell::new(State::Reading(Box::new(scan))), render: RefCell::new(None), export: RefCell::new(None), keys: RefCell::new(None) }))
    }

    fn set_waivers(&self, name: String, bytes: Vec<u8>) -> Result<(), ScanError> {
        self.reading(|scan| scan.set_waivers(&name, &bytes))
    }

    fn begin_source(&self, name: String) -> Result<(), ScanError> {
        self.reading(|scan| scan.begin_source(&name))
    }

    fn feed(&self, chunk: Vec<u8>) -> Result<u64, ScanError> {
        self.reading(|scan| scan.feed(&chunk))
    }

    fn end_source(&self) -> Result<u64, ScanError> {
        self.reading(engine::Scan::end_source)
    }

    fn take_state(&self, max_bytes: u32) -> Result<Vec<u8>, ScanError> {
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX).max(1);
        self.reading(|scan| scan.take_state(max_bytes))
    }

    fn absorb_state(&self, piece: Vec<u8>) -> Result<(), ScanError> {
        self.reading(|scan| scan.absorb_state(&piece))
    }

    fn suspend_source(&self) -> Result<u64, ScanError> {
        self.reading(engine::Scan::suspend_source)
    }

    fn resume_source(&self, name: String, offset: u64, item_array: String) -> Result<(), ScanError> {
        self.reading(|scan| scan.resume_source(&name, offset, &item_array))
    }

    fn finish(&self, meta: compliance::engine::types::ReportMeta) -> Result<ReportSummary, ScanError> {
        let state = std::mem::replace(&mut *self.state.borrow_mut(), State::Spent);
        let State::Reading(scan) = state else {
            return Err(invalid_state("the scan is already finished"));
        };
        let report = (*scan).finish(convert::report_meta(meta)).map_err(convert::scan_error)?;
        let summary = convert::summary(&report);
        *self.state.borrow_mut() = State::Finished(Box::new(report));
        Ok(summary)
    }

    fn render(&self, format: ReportFormat, trend: Vec<TrendPoint>) -> Result<Vec<u8>, ScanError> {
        self.finished(|report| render_whole(report, format, &convert::trend(trend)))
    }

    fn render_page(&self, format: ReportFormat, trend: Vec<TrendPoint>, max_bytes: u32) -> Result<Vec<u8>, ScanError> {
        let trend = convert::trend(trend);
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX).max(1);
        self.finished(|report| {
            let mut slot = self.render.borrow_mut();
            let current = slot.take().filter(|r| r.format == format && r.trend == trend);
            let mut render = match current {
                Some(render) => render,
                None => {
                    let pages = match format {
                        ReportFormat::Json => Pages::Json(engine::render::json::JsonPages::default()),
                        ReportFormat::Csv => Pages::Csv(engine::render::csv::CsvPages::default()),
                        ReportFormat::Html => Pages::Html(engine::render::html::HtmlPages::default()),
                        other => Pages::Whole { bytes: render_whole(report, other, &trend)?, at: 0 },
                    };
                    Render { format, trend, pages }
                }
            };
            let page = match &mut render.pages {
                Pages::Json(pages) => pages.next_page(report, max_bytes).map_err(|e| ScanError::RenderFailed(e.to_string()))?,
                Pages::Csv(pages) => pages.next_page(report, max_bytes),
                Pages::Html(pages) => pages.next_page(report, &render.trend, max_bytes),
                Pages::Whole { bytes, at } => {
                    let end = at.saturating_add(max_bytes).min(bytes.len());
                    let page = bytes.get(*at..end).unwrap_or_default().to_vec();
                    *at = end;
                    page
                }
            };
            if !page.is_empty() {
                *slot = Some(render); // an empty piece ends the render
            }
            Ok(page)
        })
    }

    fn render_export_page(&self, format: ExportFormat, global_region: String, max_bytes: u32) -> Result<Vec<u8>, ScanError> {
        use engine::render::export::{ExportError, ExportFormat as Format, ExportOptions, ExportPages};
        let format = match format {
            ExportFormat::Asff => Format::Asff,
            ExportFormat::Ocsf => Format::Ocsf,
        };
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX).max(1);
        self.finished(|report| {
            let mut slot = self.export.borrow_mut();
            let options = ExportOptions { global_region };
            let current = slot.take().filter(|e| e.pages.format() == format && e.options == options);
            let mut export = current.unwrap_or_else(|| Export { options, pages: ExportPages::new(format) });
            let page = export.pages.next_page(report, &export.options, max_bytes).map_err(|e| match e {
                ExportError::InvalidOption(message) => ScanError::InvalidOption(message),
                ExportError::Render(message) => ScanError::RenderFailed(message),
            })?;
            if !page.is_empty() {
                *slot = Some(export); // an empty piece ends the export
            }
            Ok(page)
        })
    }

    fn take_finding_keys(&self, max_bytes: u32) -> Result<Vec<u8>, ScanError> {
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX).max(1);
        self.finished(|report| Ok(self.keys.borrow_mut().get_or_insert_default().next_piece(report, max_bytes)))
    }

    fn give_finding_ids(&self, ids: Vec<u8>) -> Result<(), ScanError> {
        match &mut *self.state.borrow_mut() {
            State::Finished(report) => report.give_finding_ids(&ids).map_err(convert::scan_error),
            _ => Err(invalid_state("the scan is not finished")),
        }
    }

    fn resources(&self) -> Result<Vec<ResourceResult>, ScanError> {
        self.finished(|report| Ok(report.resources.iter().map(convert::resource).collect()))
    }

    fn render_html_since(&self, trend: Vec<TrendPoint>, previous_generated_at: String, failed: Vec<compliance::engine::types::FailedBefore>) -> Result<Vec<u8>, ScanError> {
        let previous = engine::render::Previous {
            generated_at: previous_generated_at,
            failed: failed.into_iter().map(|f| (f.resource_type, f.resource_id, f.account_id, f.region, f.rule_id)).collect(),
        };
        self.finished(|report| Ok(engine::render::html::render_since(report, &convert::trend(trend), Some(&previous))))
    }

    fn waived_findings(&self) -> Result<Vec<(String, String)>, ScanError> {
        self.finished(|report| Ok(report.findings().filter_map(|(r, f)| report.waiver_of(f).map(|w| (r.finding_id(f), w.id.clone()))).collect()))
    }

    fn findings(&self, statuses: Vec<Status>) -> Result<Vec<Finding>, ScanError> {
        let wanted: Vec<engine::Status> = statuses.into_iter().map(convert::status_from_wit).collect();
        self.finished(|report| {
            Ok(report.findings().filter(|(_, f)| wanted.contains(&f.status)).map(|(r, f)| convert::finding(r, f)).collect())
        })
    }
}

fn render_whole(report: &engine::ScoreReport, format: ReportFormat, trend: &[engine::render::TrendPoint]) -> Result<Vec<u8>, ScanError> {
    match format {
        ReportFormat::Json => engine::render::json::render(report).map_err(|e| ScanError::RenderFailed(e.to_string())),
        ReportFormat::Html => Ok(engine::render::html::render(report, trend)),
        ReportFormat::Csv => Ok(engine::render::csv::render(report)),
        ReportFormat::Table => Ok(engine::render::table::render(report)),
    }
}

export!(Component);
