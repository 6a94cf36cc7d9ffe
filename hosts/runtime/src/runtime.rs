//! `Runtime`: one compiled component, each scan on an instance in its own store, with its own
//! memory limit and per-call deadline. An instance runs one scan at a time, each a fresh `scan`
//! resource: a parallel scan's helper instances read one group after another, and an instance
//! whose finished scan was dropped is kept for the runtime's next scan (see [`Kept`]).

use std::borrow::Cow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, ComponentExportIndex, Instance, Linker, ResourceAny, ResourceTable};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::types::{EngineInfo, Finding, ReportFormat, ReportMeta, ReportSummary, ResourceResult, RuleInfo, ScanError, ScanOptions, SourceDigest, Status, TrendPoint};
use crate::bindings::frameworks::{Mapping, RuleFrameworksPre};
use crate::bindings::org::{OrgRollupPre, Outcome, Request, RollupFormat, Summary};
use crate::bindings::{Engine as EngineWorld, EnginePre};
use crate::error::RuntimeError;
use crate::limits::Limits;
use crate::parallel::{GroupReader, StopAfter, read_in_order};
use crate::parts::{MAX_PART_BYTES, MIN_PART_BYTES, PartEnd, PartOf, Parted, SourceReading};
use crate::sources::{Chunk, ChunkPool, InputSource, Progress, input_digest, sha256_hex, spawn_reader};

/// The WIT package the embedded component implements; hosts load any 1.x component.
pub const WIT_PACKAGE: &str = "compliance:engine@1.8.0";
/// The interface every component must export (any 1.x version; the host binds 1.0.0's functions).
pub const WORLD_EXPORT: &str = "compliance:engine/scanner@1.0.0";
/// The interface version that added `scan.render-page`.
const SCANNER_1_1: &str = "compliance:engine/scanner@1.1.0";
/// The interface version that added `scan.set-waivers`.
const SCANNER_1_4: &str = "compliance:engine/scanner@1.4.0";
/// The interface version that added `scan.render-export-page`.
const SCANNER_1_5: &str = "compliance:engine/scanner@1.5.0";
/// The interface version that added `scan.take-state` and `scan.absorb-state`.
const SCANNER_1_6: &str = "compliance:engine/scanner@1.6.0";
/// The interface version that added `scan.suspend-source` and `scan.resume-source`.
const SCANNER_1_7: &str = "compliance:engine/scanner@1.7.0";
/// The interface version that added `scan.take-finding-keys`, `scan.give-finding-ids` and
/// `digest-finding-ids`.
const SCANNER_1_8: &str = "compliance:engine/scanner@1.8.0";
/// Size of the pieces a report is rendered in when the component can page it, and of the
/// pieces a scan's state is handed over in.
const PAGE_BYTES: u32 = 4 << 20;

include!("engine_config.rs");

mod id_helper;
use id_helper::{DigestFindingIds, GiveFindingIds, IdHelper, TakeFindingKeys};

/// How often the epoch advances; deadlines are counted in these ticks.
const TICK: Duration = Duration::from_millis(10);

struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limiter,
}

impl HostState {
    fn new(wasi: WasiCtx, limits: StoreLimits) -> Self {
        HostState { wasi, table: ResourceTable::new(), limits: Limiter { limits, largest_memory: 0 } }
    }
}

/// The store's limits, and the largest linear memory its instance has grown to.
struct Limiter {
    limits: StoreLimits,
    largest_memory: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.largest_memory = self.largest_memory.max(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Advances the engine's epoch so per-call deadlines fire; stops when the runtime is dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a scan is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    /// Alert threshold in basis points.
    pub threshold_bp: u32,
    /// Criticality tag key.
    pub criticality_tag: String,
    /// Tag keys for `ec2-required-tags`; empty = the rule pack default.
    pub required_tags: Vec<String>,
    /// The report's `generated_at` (the engine has no clock).
    pub generated_at: String,
    /// A waiver file (SPEC §11), when the scan has one; needs a component of WIT 1.4.0 or later.
    pub waivers: Option<WaiverInput>,
}

/// A waiver file as the host read it: the component parses, validates and digests it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverInput {
    /// Its path or S3 key, as the report will name it.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Whether [`Runtime::load`] may compile the component when no precompiled artifact runs here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compile {
    IfNoArtifactRuns,
    Never,
}

/// The loaded scoring component.
pub struct Runtime {
    engine: wasmtime::Engine,
    pre: EnginePre<HostState>,
    bytes: Cow<'static, [u8]>,
    sha256: String,
    limits: Limits,
    /// The CPU level of the artifact loaded, when it was precompiled.
    precompiled_for: Option<&'static str>,
    /// `scan.render-page`, when the component is 1.1.0 or later.
    render_page: Option<ComponentExportIndex>,
    /// `scan.set-waivers`, `scan.waived-findings` and `scan.render-html-since`, when the
    /// component is 1.4.0 or later.
    set_waivers: Option<ComponentExportIndex>,
    waived_findings: Option<ComponentExportIndex>,
    render_html_since: Option<ComponentExportIndex>,
    /// `scan.render-export-page`, when the component is 1.5.0 or later.
    render_export_page: Option<ComponentExportIndex>,
    /// `scan.take-state` and `scan.absorb-state`, when the component is 1.6.0 or later.
    take_state: Option<ComponentExportIndex>,
    absorb_state: Option<ComponentExportIndex>,
    /// `scan.suspend-source` and `scan.resume-source`, when the component is 1.7.0 or later.
    suspend_source: Option<ComponentExportIndex>,
    resume_source: Option<ComponentExportIndex>,
    /// `scan.take-finding-keys`, `scan.give-finding-ids` and `digest-finding-ids`, when the
    /// component is 1.8.0 or later.
    take_finding_keys: Option<ComponentExportIndex>,
    give_finding_ids: Option<ComponentExportIndex>,
    digest_finding_ids: Option<ComponentExportIndex>,
    /// The `rollup` interface, when the component is 1.2.0 or later.
    rollup: Option<OrgRollupPre<HostState>>,
    frameworks: Option<RuleFrameworksPre<HostState>>,
    kept: Arc<Kept>,
    _ticker: Ticker,
}

/// Instances whose finished scans were dropped, for the runtime's next scans. A new instance
/// starts with an empty linear memory, and every page its scan touches is a page fault; one
/// kept from an earlier scan has those pages already (its memory does not shrink). So a host
/// that scans again and again (the Lambda functions, a loop of `verify`) pays the faults
/// once, as a native program's heap does. The finished scan's resource is dropped only when
/// the instance is taken, so a host that scans once and exits never runs its destructor. Kept
/// only while the memory is at most [`SPARE_MEMORY_BYTES`], at most [`KEPT_INSTANCES`] of them,
/// and never after a call into the instance failed: a trap leaves an instance that cannot be
/// entered again. A kept instance gives the same bytes as a new one: the engine keeps nothing
/// between two scans but freed memory (`kept_instances_score_as_new_ones`).
#[derive(Default)]
struct Kept(Mutex<Vec<KeptInstance>>);

/// An instance kept, with the scan resource its host dropped (none for an instance that only
/// digested finding ids).
struct KeptInstance {
    store: Store<HostState>,
    instance: Instance,
    finished: Option<ResourceAny>,
}

/// How many instances a runtime keeps (each at most [`SPARE_MEMORY_BYTES`] of memory).
const KEPT_INSTANCES: usize = 2;

impl Kept {
    fn take(&self) -> Option<KeptInstance> {
        self.0.lock().ok()?.pop()
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("sha256", &self.sha256).field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Runtime {
    /// The component embedded at build time, loaded from the widest build-time precompiled
    /// artifact this CPU can run (no compilation at start-up), else compiled.
    pub fn embedded(limits: Limits) -> Result<Self, RuntimeError> {
        Self::load(Cow::Borrowed(crate::EMBEDDED_COMPONENT), &crate::PRECOMPILED_COMPONENTS, Compile::IfNoArtifactRuns, limits)
    }

    /// The embedded component from the build-time artifact for one CPU level (`x86-64-v3`,
    /// `x86-64-v2`; the architecture's name elsewhere), never compiled at load: for comparing
    /// the artifacts, which must score and render the same bytes. An error when this build has
    /// no such artifact or this CPU cannot run it.
    pub fn embedded_precompiled_for(level: &str, limits: Limits) -> Result<Self, RuntimeError> {
        let artifact = crate::PRECOMPILED_COMPONENTS.iter().find(|&&(name, artifact)| name == level && !artifact.is_empty());
        let artifact = artifact.ok_or_else(|| RuntimeError::Engine(format!("this build has no component precompiled for {level}")))?;
        Self::load(Cow::Borrowed(crate::EMBEDDED_COMPONENT), std::slice::from_ref(artifact), Compile::Never, limits)
    }

    /// An archived component file.
    pub fn from_file(path: &Path, limits: Limits) -> Result<Self, RuntimeError> {
        let bytes = std::fs::read(path).map_err(|source| RuntimeError::Io { path: path.display().to_string(), source })?;
        Self::from_bytes(Cow::Owned(bytes), limits)
    }

    /// Component bytes; refused unless they are a component exporting `compliance:engine/scanner` 1.x (at least the 1.0.0 functions).
    pub fn from_bytes(bytes: Cow<'static, [u8]>, limits: Limits) -> Result<Self, RuntimeError> {
        Self::load(bytes, &[], Compile::IfNoArtifactRuns, limits)
    }

    fn load(bytes: Cow<'static, [u8]>, precompiled: &[(&'static str, &'static [u8])], compile: Compile, limits: Limits) -> Result<Self, RuntimeError> {
        let mut config = engine_config();
        if std::env::var_os("COMPLIANCE_PERF_MAP").is_some_and(|v| v == "1") {
            // For profiling only: names the component's compiled functions in
            // /tmp/perf-<pid>.map, which `perf report` reads (scripts/profile-component.sh).
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = wasmtime::Engine::new(&config).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        if !wasmparser_is_component(&bytes) {
            return Err(RuntimeError::InvalidComponent("the file is not a WebAssembly component (wrong magic or layer)".to_owned()));
        }
        let deserialized = precompiled.iter().filter(|(_, artifact)| !artifact.is_empty()).find_map(|&(level, artifact)| {
            // SAFETY: `artifact` was produced by build.rs with this exact wasmtime version from
            // `EMBEDDED_COMPONENT` and is embedded in this binary, never read from outside.
            // wasmtime still checks its header (version, target, settings, and that this CPU
            // has every instruction set it was compiled for) and refuses a mismatch, in which
            // case we try the next one, or compile from the component bytes.
            #[allow(unsafe_code)]
            let component = unsafe { Component::deserialize(&engine, artifact) };
            component.ok().map(|component| (level, component))
        });
        let precompiled_for = deserialized.as_ref().map(|&(level, _)| level);
        let component = match deserialized {
            Some((_, component)) => component,
            None if compile == Compile::Never => {
                let levels = precompiled.iter().map(|&(level, _)| level).collect::<Vec<_>>().join(" or ");
                return Err(RuntimeError::Engine(format!("this CPU cannot run the component precompiled for {levels}")));
            }
            None => Component::new(&engine, &*bytes).map_err(|e| RuntimeError::InvalidComponent(format!("{e:#}")))?,
        };
        let method = |interface: &str, name: &str| component.get_export_index(None, interface).and_then(|scanner| component.get_export_index(Some(&scanner), name));
        let render_page = method(SCANNER_1_1, "[method]scan.render-page");
        let (set_waivers, waived_findings) = (method(SCANNER_1_4, "[method]scan.set-waivers"), method(SCANNER_1_4, "[method]scan.waived-findings"));
        let render_html_since = method(SCANNER_1_4, "[method]scan.render-html-since");
        let render_export_page = method(SCANNER_1_5, "[method]scan.render-export-page");
        let (take_state, absorb_state) = (method(SCANNER_1_6, "[method]scan.take-state"), method(SCANNER_1_6, "[method]scan.absorb-state"));
        let (suspend_source, resume_source) = (method(SCANNER_1_7, "[method]scan.suspend-source"), method(SCANNER_1_7, "[method]scan.resume-source"));
        let (take_finding_keys, give_finding_ids) = (method(SCANNER_1_8, "[method]scan.take-finding-keys"), method(SCANNER_1_8, "[method]scan.give-finding-ids"));
        let digest_finding_ids = method(SCANNER_1_8, "digest-finding-ids");
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| RuntimeError::InvalidComponent(format!("it imports something this host does not provide: {e:#}")))?;
        let rollup = OrgRollupPre::new(instance_pre.clone()).ok();
        let frameworks = RuleFrameworksPre::new(instance_pre.clone()).ok();
        let pre = EnginePre::new(instance_pre)
            .map_err(|e| RuntimeError::InvalidComponent(format!("it does not export {WORLD_EXPORT} as this host expects: {e:#}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.clone();
        let ticker_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("component-epoch".to_owned())
            .spawn(move || {
                while !ticker_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticker_engine.increment_epoch();
                }
            })
            .map_err(|e| RuntimeError::Engine(format!("cannot start the deadline thread: {e}")))?;
        let sha256 = sha256_hex(&bytes);
        let kept = Arc::default();
        Ok(Self { engine, pre, bytes, sha256, limits, precompiled_for, render_page, set_waivers, waived_findings, render_html_since, render_export_page, take_state, absorb_state, suspend_source, resume_source, take_finding_keys, give_finding_ids, digest_finding_ids, rollup, frameworks, kept, _ticker: Ticker { stop, thread: Some(thread) } })
    }

    /// Whether the component was loaded from its build-time precompiled artifact.
    pub fn is_precompiled(&self) -> bool {
        self.precompiled_for.is_some()
    }

    /// The CPU level of the build-time artifact the component was loaded from (`x86-64-v3`,
    /// `x86-64-v2`, or the architecture elsewhere); `None` when it was compiled at load.
    pub fn precompiled_for(&self) -> Option<&'static str> {
        self.precompiled_for
    }

    /// sha256 (hex) of the component bytes: the identity of the scoring code.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The component bytes (for archiving).
    pub fn component_bytes(&self) -> &[u8] {
        &self.bytes
    }


    /// Whether the component renders reports in pieces (`render-page`, WIT 1.1.0).
    pub fn renders_in_pages(&self) -> bool {
        self.render_page.is_some()
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether one scan can be read on several instances of the component at once (WIT 1.6.0).
    pub fn scans_in_parallel(&self) -> bool {
        self.take_state.is_some() && self.absorb_state.is_some()
    }

    /// Whether one large source can be read in parts on several instances at once (WIT 1.7.0).
    pub fn splits_sources(&self) -> bool {
        self.scans_in_parallel() && self.suspend_source.is_some() && self.resume_source.is_some()
    }

    /// Whether a parallel scan's finding ids can be digested on a second instance while the
    /// first renders (WIT 1.8.0).
    pub fn digests_ids_apart(&self) -> bool {
        self.take_finding_keys.is_some() && self.give_finding_ids.is_some() && self.digest_finding_ids.is_some()
    }

    /// Whether the component computes organization roll-ups (WIT 1.2.0).
    pub fn rolls_up(&self) -> bool {
        self.rollup.is_some()
    }

    /// Computes the org report from per-account summaries and renders it in each format.
    pub fn roll_up(&self, request: &Request, summaries: &[Summary], formats: &[RollupFormat]) -> Result<Outcome, RuntimeError> {
        let pre = self.rollup.as_ref().ok_or_else(|| RuntimeError::Unsupported { sha256: self.sha256.clone(), what: "the organization roll-up", since: "1.2.0" })?;
        let mut store = self.new_store();
        let world = pre.instantiate(&mut store).map_err(|e| RuntimeError::Trap { context: "instantiation".to_owned(), message: format!("{e:#}") })?;
        Ok(world.compliance_engine_rollup().call_roll_up(&mut store, request, summaries, formats).map_err(|e| self.call_error(e, "roll-up"))??)
    }

    /// The controls each rule evidences (WIT 1.3.0); `None` for a component older than that.
    pub fn framework_mappings(&self) -> Result<Option<Vec<Mapping>>, RuntimeError> {
        let Some(pre) = self.frameworks.as_ref() else { return Ok(None) };
        let mut store = self.new_store();
        let world = pre.instantiate(&mut store).map_err(|e| RuntimeError::Trap { context: "instantiation".to_owned(), message: format!("{e:#}") })?;
        Ok(Some(world.compliance_engine_frameworks().call_mappings(&mut store).map_err(|e| self.call_error(e, "frameworks"))?))
    }

    fn new_store(&self) -> Store<HostState> {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stderr(); // a guest panic message is the best clue there is
        let limits = StoreLimitsBuilder::new().memory_size(self.limits.memory_bytes).instances(4).build();
        let mut store = Store::new(&self.engine, HostState::new(wasi.build(), limits));
        store.limiter(|s| &mut s.limits);
        store.set_hostcall_fuel(self.limits.max_result_bytes);
        store.set_epoch_deadline(self.deadline_ticks());
        store
    }

    /// An instance for a scan: one kept from a finished scan (see [`Kept`]), else a new one.
    fn instance(&self) -> Result<Instantiated, RuntimeError> {
        while let Some(KeptInstance { mut store, instance, finished }) = self.kept.take() {
            store.set_epoch_deadline(self.deadline_ticks());
            // Frees the finished report. Should it fail, the instance is let go for a new one.
            if finished.is_none_or(|finished| finished.resource_drop(&mut store).is_ok())
                && let Ok(world) = EngineWorld::new(&mut store, &instance)
            {
                return Ok((store, world, instance));
            }
        }
        self.instantiate()
    }

    fn instantiate(&self) -> Result<Instantiated, RuntimeError> {
        let mut store = self.new_store();
        let trap = |e: wasmtime::Error| RuntimeError::Trap { context: "instantiation".to_owned(), message: format!("{e:#}") };
        let instance = self.pre.instance_pre().instantiate(&mut store).map_err(trap)?;
        let world = EngineWorld::new(&mut store, &instance).map_err(trap)?;
        Ok((store, world, instance))
    }

    fn deadline_ticks(&self) -> u64 {
        deadline_ticks(&self.limits)
    }

    /// The rule pack, from the component.
    pub fn rules(&self) -> Result<Vec<RuleInfo>, RuntimeError> {
        let (mut store, world, _) = self.instantiate()?;
        world.compliance_engine_scanner().call_rules(&mut store).map_err(|e| self.call_error(e, "rules"))
    }

    /// Engine version and rule pack, from the component.
    pub fn about(&self) -> Result<EngineInfo, RuntimeError> {
        let (mut store, world, _) = self.instantiate()?;
        world.compliance_engine_scanner().call_about(&mut store).map_err(|e| self.call_error(e, "about"))
    }

    fn call_error(&self, error: wasmtime::Error, context: &str) -> RuntimeError {
        call_error(error, context, &self.limits)
    }

    /// Scores the sources (in the given order; [`crate::collect_sources`] sorts them) and
    /// returns the finished scan, ready to render.
    pub fn scan(&self, request: &ScanRequest, sources: Vec<InputSource>, progress: &mut dyn FnMut(Progress)) -> Result<FinishedScan, RuntimeError> {
        let raw_progress = Arc::new(AtomicU64::new(0));
        let mut on_items = |items, source_index| progress(Progress { raw_bytes: raw_progress.load(Ordering::Relaxed), items, source_index });
        let mut reading = self.new_reading(request, true)?;
        let units = sources.into_iter().enumerate().map(|(index, source)| (index, Unit::Whole(source))).collect();
        self.read_sources(&mut reading, units, 0, &raw_progress, &ChunkPool::new(1), &StopAfter::never(), &mut on_items).map_err(Stop::into_error)?;
        self.finish_reading(request, reading, false)
    }

    /// Scores the sources like [`Runtime::scan`], reading them on up to `jobs` instances of the
    /// component at once (WIT 1.6.0; an older component reads on one). The sources are cut, in
    /// their order, into consecutive groups of about equal size, `GROUPS_PER_JOB` per job; a
    /// source larger than two groups' share is read in parts, each its own unit (WIT 1.7.0,
    /// see `parts.rs`). The other instances hand their groups' states over as they are done
    /// and read on, the first takes the states in in group order (see `parallel.rs`) and
    /// finishes. The report
    /// is byte for byte the one [`Runtime::scan`] gives, whatever `jobs` is and whichever
    /// group is done first, and so is the error on a bad source: the first in source order,
    /// as one instance meets it.
    pub fn scan_with_jobs(&self, request: &ScanRequest, sources: Vec<InputSource>, jobs: usize, progress: &mut dyn FnMut(Progress)) -> Result<FinishedScan, RuntimeError> {
        self.scan_in_groups(request, sources, jobs, SPARE_MEMORY_BYTES, progress)
    }

    /// [`Runtime::scan_with_jobs`], keeping a helper's instance for its next group only while
    /// its memory is at most `spare_memory_bytes`.
    fn scan_in_groups(&self, request: &ScanRequest, sources: Vec<InputSource>, jobs: usize, spare_memory_bytes: usize, progress: &mut dyn FnMut(Progress)) -> Result<FinishedScan, RuntimeError> {
        if jobs <= 1 || !self.scans_in_parallel() {
            return self.scan(request, sources, progress);
        }
        let raw_progress = Arc::new(AtomicU64::new(0));
        let pool = ChunkPool::new(jobs);
        let Units { units, parted } = self.units(sources, jobs, &raw_progress, &pool);
        let jobs = jobs.min(units.len());
        if jobs <= 1 {
            // One source, read whole.
            let sources = units.into_iter().filter_map(|((_, unit), _)| if let Unit::Whole(source) = unit { Some(source) } else { None }).collect();
            return self.scan(request, sources, progress);
        }
        let groups = consecutive_groups(units, jobs.saturating_mul(GROUPS_PER_JOB));
        let group_count = groups.len();
        let (progress_tx, progress_rx) = std::sync::mpsc::channel::<(usize, u64, usize)>();
        let reader = Parallel { runtime: self, request, raw_progress: &raw_progress, pool, spare_memory_bytes, progress: progress_tx };
        let reading = std::thread::scope(|scope| {
            // The lead thread owns `reader` and with it the progress channel's only sender: the
            // loop below ends when the lead (and every helper, scoped inside it) is done.
            let lead = std::thread::Builder::new()
                .name("scan-lead".to_owned())
                .spawn_scoped(scope, move || read_in_order(&reader, groups, jobs, jobs.saturating_mul(WINDOW_PER_JOB)))
                .map_err(|e| Stop::Failed(RuntimeError::Engine(format!("cannot start a scan thread: {e}"))))?;
            let mut items = vec![0u64; group_count];
            for (group, count, source_index) in progress_rx {
                if let Some(slot) = items.get_mut(group) {
                    *slot = count;
                }
                progress(Progress { raw_bytes: raw_progress.load(Ordering::Relaxed), items: items.iter().sum(), source_index });
            }
            lead.join().unwrap_or_else(|_| Err(Stop::Failed(RuntimeError::Protocol("a scan thread panicked".to_owned()))))
        });
        for source in &parted {
            source.close();
        }
        self.finish_reading(request, reading.map_err(Stop::into_error)?, true)
    }

    /// The sources as units to read, with their source's index and a weight (bytes when known):
    /// each source whole or, when it weighs at least two groups' share and the component can
    /// read a source in parts, in parts of a share each (at least [`MIN_PART_BYTES`], at most
    /// [`MAX_PART_BYTES`]); and the sources cut into parts.
    fn units(&self, sources: Vec<InputSource>, jobs: usize, raw_progress: &Arc<AtomicU64>, pool: &ChunkPool) -> Units {
        let weights: Vec<(u64, Option<u64>)> = sources.iter().map(weight).collect();
        let share = weights.iter().map(|(weight, _)| weight).sum::<u64>().div_ceil(jobs.saturating_mul(GROUPS_PER_JOB) as u64).max(1);
        let mut units = Vec::with_capacity(sources.len());
        let mut parted = Vec::new();
        for (index, (source, (weight, decoded))) in sources.into_iter().zip(weights).enumerate() {
            // Only a large source's size hint is read (a gzip file's trailer is a read of its
            // own), unless its weight read it already.
            let large = self.splits_sources() && weight >= share.saturating_mul(2);
            let decoded = if large { decoded.or_else(|| source.decoded_size_hint()) } else { None };
            let Some(decoded) = decoded else {
                units.push(((index, Unit::Whole(source)), weight));
                continue;
            };
            let parts = weight.div_ceil(share).min(decoded / MIN_PART_BYTES).max(decoded.div_ceil(MAX_PART_BYTES));
            let parts = usize::try_from(parts).unwrap_or(usize::MAX);
            if parts < 2 {
                units.push(((index, Unit::Whole(source)), weight));
                continue;
            }
            let reading = SourceReading { source, chunk_bytes: self.limits.chunk_bytes, max_source_bytes: self.limits.max_source_bytes, raw_progress: Arc::clone(raw_progress), pool: pool.clone() };
            let source = Arc::new(Parted::new(reading, decoded, parts, jobs.saturating_mul(WINDOW_PER_JOB)));
            for part in 0..source.parts() {
                units.push(((index, Unit::Part(PartOf::new(Arc::clone(&source), part))), (weight / parts as u64).max(1)));
            }
            parted.push(source);
        }
        Units { units, parted }
    }

    /// An instance (a kept one or a new one) with a scan created on it (taking the request's
    /// waivers when `takes_waivers`).
    fn new_reading(&self, request: &ScanRequest, takes_waivers: bool) -> Result<Reading, RuntimeError> {
        self.reading_on(self.instance()?, request, takes_waivers)
    }

    /// A scan created on `instance` (see [`Runtime::new_reading`]).
    fn reading_on(&self, (mut store, world, instance): Instantiated, request: &ScanRequest, takes_waivers: bool) -> Result<Reading, RuntimeError> {
        let options = ScanOptions {
            threshold_bp: request.threshold_bp,
            criticality_tag: request.criticality_tag.clone(),
            required_tags: request.required_tags.clone(),
            max_item_bytes: self.limits.max_item_bytes,
        };
        let api = world.compliance_engine_scanner().scan();
        let scan = api.call_create(&mut store, &options).map_err(|e| self.call_error(e, "create"))??;
        if let (true, Some(waivers)) = (takes_waivers, &request.waivers) {
            let set: SetWaivers = typed_func(&instance, &mut store, self.set_waivers, "set-waivers")?
                .ok_or_else(|| RuntimeError::Unsupported { sha256: self.sha256.clone(), what: "waivers (scan.set-waivers)", since: "1.4.0" })?;
            store.set_epoch_deadline(self.deadline_ticks());
            let (result,) = set.call(&mut store, (scan, waivers.name.clone(), waivers.bytes.clone())).map_err(|e| self.call_error(e, &waivers.name))?;
            result.map_err(|e| match e {
                ScanError::InvalidOption(message) => RuntimeError::InvalidWaivers(message),
                other => RuntimeError::from(other),
            })?;
        }
        Ok(Reading { store, world, instance, scan, digests: Vec::new(), suspended: None })
    }

    /// Reads `units` (of group `group`; each with its source's index among all) onto `reading`,
    /// counting raw bytes in `raw_progress` and reading into buffers from `pool`; `progress`
    /// gets the items read in this call so far and the source's index.
    #[allow(clippy::too_many_arguments)]
    fn read_sources(
        &self,
        reading: &mut Reading,
        units: Vec<(usize, Unit)>,
        group: usize,
        raw_progress: &Arc<AtomicU64>,
        pool: &ChunkPool,
        stop: &StopAfter,
        progress: &mut dyn FnMut(u64, usize),
    ) -> Result<(), Stop> {
        let mut items_before = 0;
        for (source_index, unit) in units {
            let source = match unit {
                Unit::Whole(source) => source,
                Unit::Part(part) => {
                    items_before += self.read_part(reading, part, group, stop, &mut |items| progress(items_before + items, source_index))?;
                    continue;
                }
            };
            let name = source.name.clone();
            reading.store.set_epoch_deadline(self.deadline_ticks());
            reading.world.compliance_engine_scanner().scan().call_begin_source(&mut reading.store, reading.scan, &name).map_err(|e| self.call_error(e, &name))??;
            let rest = spawn_reader(source, self.limits.chunk_bytes, self.limits.max_source_bytes, Arc::clone(raw_progress), pool.clone());
            items_before += self.read_to_end(reading, &name, rest, pool, || stop.stops(group), |items| progress(items_before + items, source_index))?;
        }
        Ok(())
    }

    /// Reads `part` onto `reading` (nothing when the part is absent): begins
    /// the source or resumes it at the part's cut, feeds the part, and suspends the source at
    /// its end or ends it. Returns the items the part held. An error in a part of a source this
    /// scan did not read the start of counts items from the cut ([`Stop::MidSource`]).
    fn read_part(&self, reading: &mut Reading, part: PartOf, group: usize, stop: &StopAfter, on_items: &mut dyn FnMut(u64)) -> Result<u64, Stop> {
        let (parted, index) = (Arc::clone(part.parted()), part.index());
        let Some(part) = part.take()? else { return Ok(0) };
        let (relative, before) = match (index, reading.suspended.take()) {
            (0, _) => (false, 0),
            (_, Some(suspended)) => (suspended.relative, suspended.items),
            (_, None) => (true, 0),
        };
        let name = parted.name.clone();
        let unsupported = || RuntimeError::Protocol("the component cannot read a source in parts".to_owned());
        let result = (|| -> Result<u64, Stop> {
            let Reading { store, world, instance, scan, suspended, .. } = &mut *reading;
            let api = world.compliance_engine_scanner().scan();
            store.set_epoch_deadline(self.deadline_ticks());
            if let Some(array) = part.array {
                let resume: ResumeSource = typed_func(instance, store, self.resume_source, "resume-source")?.ok_or_else(unsupported)?;
                let (result,) = resume.call(&mut *store, (*scan, name.clone(), part.offset, array.to_owned())).map_err(|e| self.call_error(e, &name))?;
                result?;
            } else {
                api.call_begin_source(&mut *store, *scan, &name).map_err(|e| self.call_error(e, &name))??;
            }
            for chunk in part.bytes.chunks(self.limits.chunk_bytes.max(1)) {
                if stop.stops(group) {
                    return Err(Stop::Cancelled);
                }
                store.set_epoch_deadline(self.deadline_ticks());
                let items = api.call_feed(&mut *store, *scan, chunk).map_err(|e| self.call_error(e, &name))??;
                on_items(items - before);
            }
            store.set_epoch_deadline(self.deadline_ticks());
            let items = match part.end {
                PartEnd::Cut => {
                    let suspend: SuspendSource = typed_func(instance, store, self.suspend_source, "suspend-source")?.ok_or_else(unsupported)?;
                    let (result,) = suspend.call(&mut *store, (*scan,)).map_err(|e| self.call_error(e, &name))?;
                    let items = result?;
                    *suspended = Some(Suspended { items, relative });
                    items
                }
                PartEnd::End { sha256, raw_bytes } => self.end_source(reading, SourceDigest { name: name.clone(), sha256, bytes: raw_bytes })?,
                PartEnd::Rest { chunks, reader } => self.read_to_end(reading, &name, (chunks, reader), &parted.pool, || stop.stops(group), |items| on_items(items - before))?,
                PartEnd::Failed(error) => return Err(error.into()),
            };
            Ok(items - before)
        })();
        result.map_err(|stop| match stop {
            Stop::Failed(error) if relative => Stop::MidSource(error),
            other => other,
        })
    }

    /// Hands `reading`'s whole state over, in pieces, and drops its scan: the instance is then
    /// free for another scan, its memory already in place (a fresh instance faults every page
    /// of its memory in anew).
    fn hand_over(&self, reading: Reading) -> Result<(Handed, Instantiated), RuntimeError> {
        let Reading { mut store, world, instance, scan, digests, suspended } = reading;
        let take: TakeState = typed_func(&instance, &mut store, self.take_state, "take-state")?
            .ok_or_else(|| RuntimeError::Protocol("the component cannot hand a scan's state over".to_owned()))?;
        let mut pieces = Vec::new();
        loop {
            store.set_epoch_deadline(self.deadline_ticks());
            let (piece,) = take.call(&mut store, (scan, PAGE_BYTES)).map_err(|e| self.call_error(e, "take-state"))?;
            let piece = piece?;
            if piece.is_empty() {
                break;
            }
            pieces.push(piece);
        }
        store.set_epoch_deadline(self.deadline_ticks());
        scan.resource_drop(&mut store).map_err(|e| self.call_error(e, "dropping a handed-over scan"))?;
        Ok((Handed { pieces, digests, suspended }, (store, world, instance)))
    }

    /// Takes in a state another instance handed over, piece by piece in the order taken.
    fn absorb(&self, reading: &mut Reading, other: Handed) -> Result<(), RuntimeError> {
        let absorb: AbsorbState = typed_func(&reading.instance, &mut reading.store, self.absorb_state, "absorb-state")?
            .ok_or_else(|| RuntimeError::Protocol("the component cannot take a scan's state in".to_owned()))?;
        let Handed { pieces, mut digests, suspended } = other;
        for piece in pieces {
            reading.store.set_epoch_deadline(self.deadline_ticks());
            let (result,) = absorb.call(&mut reading.store, (reading.scan, piece)).map_err(|e| self.call_error(e, "absorb-state"))?;
            result?;
        }
        reading.digests.append(&mut digests);
        // A state that went on with the source suspended here counted its items from the cut.
        let before = reading.suspended.map_or(0, |s| s.items);
        reading.suspended = suspended.map(|s| if s.relative { Suspended { items: before + s.items, relative: false } } else { s });
        Ok(())
    }

    /// Finishes a scan that has read every source; with `id_helper`, and a component of
    /// WIT 1.8.0, the finished scan gets a second instance to digest its finding ids with.
    fn finish_reading(&self, request: &ScanRequest, reading: Reading, id_helper: bool) -> Result<FinishedScan, RuntimeError> {
        let Reading { mut store, world, instance, scan, digests, .. } = reading;
        let api = world.compliance_engine_scanner().scan();
        let manifest: Vec<(String, String)> = digests.iter().map(|d| (d.name.clone(), d.sha256.clone())).collect();
        let meta = ReportMeta {
            generated_at: request.generated_at.clone(),
            component_sha256: self.sha256.clone(),
            input_sha256: input_digest(&manifest),
            sources: digests,
        };
        store.set_epoch_deadline(self.deadline_ticks());
        let summary = api.call_finish(&mut store, scan, &meta).map_err(|e| self.call_error(e, "finish"))??;
        let render_page = typed_func(&instance, &mut store, self.render_page, "render-page")?;
        let waived_findings = typed_func(&instance, &mut store, self.waived_findings, "waived-findings")?;
        let render_html_since = typed_func(&instance, &mut store, self.render_html_since, "render-html-since")?;
        let render_export_page = typed_func(&instance, &mut store, self.render_export_page, "render-export-page")?;
        let take_finding_keys = typed_func(&instance, &mut store, self.take_finding_keys, "take-finding-keys")?;
        let give_finding_ids = typed_func(&instance, &mut store, self.give_finding_ids, "give-finding-ids")?;
        // Without a helper this instance digests every id, as it always could.
        let id_helper = if id_helper && take_finding_keys.is_some() { self.id_helper().ok().flatten() } else { None };
        Ok(FinishedScan {
            store,
            world,
            instance,
            kept: Arc::downgrade(&self.kept),
            failed: AtomicBool::new(false),
            render_page,
            waived_findings,
            render_html_since,
            render_export_page,
            take_finding_keys,
            give_finding_ids,
            id_helper,
            ids_exchanged: false,
            ids_given: 0,
            patient_ids: false,
            component_sha256: self.sha256.clone(),
            scan,
            summary,
            meta,
            limits: self.limits,
        })
    }

    /// A second instance (a kept one or a new one) to digest finding ids on; `None` when the
    /// component cannot.
    fn id_helper(&self) -> Result<Option<IdHelper>, RuntimeError> {
        let (mut store, _, instance) = self.instance()?;
        let digest: Option<DigestFindingIds> = typed_func(&instance, &mut store, self.digest_finding_ids, "digest-finding-ids")?;
        Ok(digest.map(|digest| IdHelper { store, instance, digest }))
    }

    /// Feeds the open source the rest of its bytes, from the thread that reads them, then ends
    /// it and records its digest. Returns the items the source held; `on_items` gets the count
    /// after each chunk.
    fn read_to_end(
        &self,
        reading: &mut Reading,
        name: &str,
        (chunks, reader): (Receiver<Chunk>, JoinHandle<()>),
        pool: &ChunkPool,
        stopped: impl Fn() -> bool,
        mut on_items: impl FnMut(u64),
    ) -> Result<u64, Stop> {
        let api = reading.world.compliance_engine_scanner().scan();
        let fed = (|| loop {
            if stopped() {
                return Err(Stop::Cancelled);
            }
            match chunks.recv() {
                Ok(Chunk::Data(bytes)) => {
                    reading.store.set_epoch_deadline(self.deadline_ticks());
                    let items = api.call_feed(&mut reading.store, reading.scan, &bytes).map_err(|e| self.call_error(e, name))??;
                    pool.give_back(bytes);
                    on_items(items);
                }
                Ok(Chunk::Done { sha256, raw_bytes }) => return Ok((sha256, raw_bytes)),
                Ok(Chunk::Failed(error)) => return Err(error.into()),
                Err(_) => return Err(RuntimeError::Protocol(format!("{name}: the reader stopped without a result")).into()),
            }
        })();
        drop(chunks); // unblocks the reader if we stopped early
        let _ = reader.join();
        let (sha256, bytes) = fed?;
        self.end_source(reading, SourceDigest { name: name.to_owned(), sha256, bytes })
    }

    /// Ends the open source, whose raw bytes `digest` describes, and records the digest.
    /// Returns the items the source held.
    fn end_source(&self, reading: &mut Reading, digest: SourceDigest) -> Result<u64, Stop> {
        reading.store.set_epoch_deadline(self.deadline_ticks());
        let end = reading.world.compliance_engine_scanner().scan().call_end_source(&mut reading.store, reading.scan);
        let items = end.map_err(|e| self.call_error(e, &digest.name))??;
        reading.digests.push(digest);
        Ok(items)
    }
}

/// How many groups per job a parallel scan cuts its sources into: the groups waiting to be
/// taken in by the first instance hold about `WINDOW_PER_JOB / GROUPS_PER_JOB` of the input's
/// state at most, and each read by a helper costs one hand-over.
const GROUPS_PER_JOB: usize = 16;
/// How many groups per job may be claimed past those the first instance holds.
const WINDOW_PER_JOB: usize = 2;
/// A helper's instance keeps the memory its largest group needed (a wasm memory does not
/// shrink): it reads the thread's next group only while that is at most this much, so a large
/// group's memory goes back rather than staying resident beside the first instance's state.
const SPARE_MEMORY_BYTES: usize = 256 << 20;

/// The groups of a parallel scan, read by `parallel::read_in_order`.
struct Parallel<'a> {
    runtime: &'a Runtime,
    request: &'a ScanRequest,
    raw_progress: &'a Arc<AtomicU64>,
    /// Chunk buffers, shared by every instance.
    pool: ChunkPool,
    /// The largest memory a helper's instance may have to be kept for the thread's next group.
    spare_memory_bytes: usize,
    /// (group, items read in the group so far, source index)
    progress: std::sync::mpsc::Sender<(usize, u64, usize)>,
}

impl GroupReader for Parallel<'_> {
    /// The group's units, each with its source's index among all.
    type Group = Vec<(usize, Unit)>;
    type Reading = Reading;
    type Handed = Handed;
    /// An instance whose scan was handed over and dropped, kept for the thread's next group.
    type Spare = Option<Instantiated>;
    type Error = Stop;

    fn read_first(&self, group: Self::Group, stop: &StopAfter) -> Result<Reading, Stop> {
        // The first group's instance finishes the scan, so it takes the waivers.
        let mut reading = self.runtime.new_reading(self.request, true)?;
        self.read_into(&mut reading, 0, group, stop)?;
        Ok(reading)
    }

    fn read_into(&self, reading: &mut Reading, index: usize, units: Self::Group, stop: &StopAfter) -> Result<(), Stop> {
        self.runtime.read_sources(reading, units, index, self.raw_progress, &self.pool, stop, &mut |items, source_index| {
            let _ = self.progress.send((index, items, source_index));
        })
    }

    fn read_alone(&self, spare: &mut Self::Spare, index: usize, group: Self::Group, stop: &StopAfter) -> Result<Handed, Stop> {
        // An instance that failed is not kept: after a trap it cannot be entered again.
        let instance = match spare.take() {
            Some(instance) => instance,
            None => self.runtime.instance()?,
        };
        let mut reading = self.runtime.reading_on(instance, self.request, false)?;
        self.read_into(&mut reading, index, group, stop)?;
        let (handed, instance) = self.runtime.hand_over(reading)?;
        if instance.0.data().limits.largest_memory <= self.spare_memory_bytes {
            *spare = Some(instance);
        }
        Ok(handed)
    }

    fn absorb(&self, reading: &mut Reading, other: Handed) -> Result<(), Stop> {
        Ok(self.runtime.absorb(reading, other)?)
    }

    fn failed_after(&self, reading: &Reading, error: Stop) -> Stop {
        match error {
            Stop::MidSource(error) => Stop::Failed(counted_from(error, reading.suspended.map_or(0, |s| s.items))),
            other => other,
        }
    }

    fn lost(&self, what: String) -> Stop {
        Stop::Failed(RuntimeError::Protocol(what))
    }
}

/// What a parallel scan reads, in order, each unit with its source's index and its weight; and
/// the sources read in parts.
struct Units {
    units: Vec<Weighted<(usize, Unit)>>,
    parted: Vec<Arc<Parted>>,
}

/// What a scan reads: a source whole, or one part of a source read in parts.
enum Unit {
    Whole(InputSource),
    Part(PartOf),
}

/// `error`, met in a part read from a cut, with its item index counted from the source's start,
/// `before` items coming before the cut.
fn counted_from(error: RuntimeError, before: u64) -> RuntimeError {
    match error {
        RuntimeError::Input { kind, source_name, offset, item_index, message } => {
            RuntimeError::Input { kind, source_name, offset, item_index: item_index.map(|index| index + before), message }
        }
        other => other,
    }
}


/// An instance of the component in its own store.
type Instantiated = (Store<HostState>, EngineWorld, Instance);

/// A scan that has read its sources, on its own instance.
struct Reading {
    store: Store<HostState>,
    world: EngineWorld,
    instance: Instance,
    scan: ResourceAny,
    /// The sources read, in order (the groups absorbed after the scan's own).
    digests: Vec<SourceDigest>,
    /// The source this scan suspended at a cut, if any.
    suspended: Option<Suspended>,
}

/// A source suspended at a cut: the items read from it, counted from the cut the scan resumed
/// it at when `relative` (it did not read its start), else from its start.
#[derive(Debug, Clone, Copy)]
struct Suspended {
    items: u64,
    relative: bool,
}

/// A group's scan state, handed over by the instance that read it, and its sources in order.
struct Handed {
    pieces: Vec<Vec<u8>>,
    digests: Vec<SourceDigest>,
    suspended: Option<Suspended>,
}

/// Why reading a group stopped.
enum Stop {
    Failed(RuntimeError),
    /// Failed in a source read from a cut: item indexes count from the cut.
    MidSource(RuntimeError),
    /// A group before it failed.
    Cancelled,
}

impl Stop {
    fn into_error(self) -> RuntimeError {
        match self {
            Stop::Failed(error) | Stop::MidSource(error) => error,
            Stop::Cancelled => RuntimeError::Protocol("the scan was stopped without an error".to_owned()),
        }
    }
}

impl<E: Into<RuntimeError>> From<E> for Stop {
    fn from(error: E) -> Self {
        Stop::Failed(error.into())
    }
}

/// A unit to read and its weight (bytes, when known).
type Weighted<T> = (T, u64);

/// A source's weight: its size, at least 1, except that a `.gz` file weighs what it decompresses
/// to (its gzip trailer says, for a read of its own). Compressed twentyfold, it would weigh a
/// twentieth of the work it is, and groups mixing plain and gzip files would be far from equal.
/// With it, the size hint when it was read ([`InputSource::decoded_size_hint`]).
fn weight(source: &InputSource) -> (u64, Option<u64>) {
    let decoded = if source.name.ends_with(".gz") { source.decoded_size_hint() } else { None };
    (decoded.or(source.size()).unwrap_or(1).max(1), decoded)
}

/// The units cut, in order, into `groups` consecutive non-empty groups of about equal weight.
fn consecutive_groups<T>(units: Vec<Weighted<T>>, groups: usize) -> Vec<Vec<T>> {
    let groups = groups.clamp(1, units.len().max(1));
    let total: u64 = units.iter().map(|(_, weight)| weight).sum();
    let mut out: Vec<Vec<T>> = Vec::with_capacity(groups);
    let mut current = Vec::new();
    let mut before = 0u64; // weight of the groups already closed and the current one
    let count = units.len();
    for (index, (unit, weight)) in units.into_iter().enumerate() {
        current.push(unit);
        before += weight;
        let closed = out.len() as u64 + 1;
        let left_units = count - index - 1;
        let left_groups = groups - out.len() - 1;
        // Close the group once it holds its share, or when every later group needs a unit.
        if left_groups > 0 && (before * groups as u64 >= total * closed || left_units == left_groups) {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
    out
}

/// A function added to the contract after 1.0.0, typed, when the component exports it.
fn typed_func<Params, Results>(
    instance: &Instance,
    store: &mut Store<HostState>,
    index: Option<ComponentExportIndex>,
    name: &str,
) -> Result<Option<wasmtime::component::TypedFunc<Params, Results>>, RuntimeError>
where
    Params: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    Results: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
    index
        .map(|index| instance.get_typed_func(&mut *store, index).map_err(|e| RuntimeError::InvalidComponent(format!("its {name} has another type: {e:#}"))))
        .transpose()
}

/// Per-call deadline in epoch ticks.
fn deadline_ticks(limits: &Limits) -> u64 {
    (limits.call_timeout.as_millis() / TICK.as_millis()).max(1) as u64
}

/// Turns a failed call into the error that says which limit, if any, was hit.
fn call_error(error: wasmtime::Error, context: &str, limits: &Limits) -> RuntimeError {
    let message = format!("{error:#}");
    let context = context.to_owned();
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => RuntimeError::Timeout { context, seconds: limits.call_timeout.as_secs() },
        _ if message.contains("hostcall") => {
            RuntimeError::Trap { context, message: format!("the result is larger than the transfer limit of {} bytes ({message})", limits.max_result_bytes) }
        }
        _ => RuntimeError::Trap {
            context,
            message: format!("{message} (memory limit {} MiB; a trap is a bug or an exhausted limit)", limits.memory_bytes >> 20),
        },
    }
}

/// Recognises the component binary layer before handing bytes to the compiler, so a core
/// module or random file gets a plain message.
fn wasmparser_is_component(bytes: &[u8]) -> bool {
    // "\0asm", then version 0x0d and layer 0x01 for components (core modules have layer 0).
    bytes.len() >= 8 && bytes.get(..4) == Some(b"\0asm") && bytes.get(6..8) == Some(&[0x01, 0x00])
}

/// A scan the component has finished: render it, or read its results.
pub struct FinishedScan {
    store: Store<HostState>,
    world: EngineWorld,
    instance: Instance,
    /// Where the instance goes when this is dropped (see [`Kept`]).
    kept: Weak<Kept>,
    /// Whether a call into the instance failed (it is then not kept).
    failed: AtomicBool,
    render_page: Option<RenderPage>,
    waived_findings: Option<WaivedFindings>,
    render_html_since: Option<RenderHtmlSince>,
    render_export_page: Option<RenderExportPage>,
    /// `scan.take-finding-keys` and `scan.give-finding-ids` (WIT 1.8.0).
    take_finding_keys: Option<TakeFindingKeys>,
    give_finding_ids: Option<GiveFindingIds>,
    /// A second instance to digest finding ids on while this one renders, after a parallel
    /// scan (see `id_helper.rs`).
    id_helper: Option<IdHelper>,
    /// Whether a rendering has had the helper digest ids (once per scan).
    ids_exchanged: bool,
    /// Pieces of ids the helper digested and this instance took in.
    ids_given: u64,
    /// Whether the renderer waits for the helper's ids before each page (tests only).
    patient_ids: bool,
    component_sha256: String,
    scan: ResourceAny,
    /// Headline numbers.
    pub summary: ReportSummary,
    /// Provenance passed to the component (component and input digests, sources).
    pub meta: ReportMeta,
    limits: Limits,
}

/// `scan.set-waivers(name, bytes)`.
type SetWaivers = wasmtime::component::TypedFunc<(ResourceAny, String, Vec<u8>), (Result<(), ScanError>,)>;

/// `scan.take-state(max-bytes)`.
type TakeState = wasmtime::component::TypedFunc<(ResourceAny, u32), (Result<Vec<u8>, ScanError>,)>;

/// `scan.suspend-source()`.
type SuspendSource = wasmtime::component::TypedFunc<(ResourceAny,), (Result<u64, ScanError>,)>;

/// `scan.resume-source(name, offset, item-array)`.
type ResumeSource = wasmtime::component::TypedFunc<(ResourceAny, String, u64, String), (Result<(), ScanError>,)>;

/// `scan.absorb-state(piece)`.
type AbsorbState = wasmtime::component::TypedFunc<(ResourceAny, Vec<u8>), (Result<(), ScanError>,)>;

/// `scan.waived-findings()`.
type WaivedFindings = wasmtime::component::TypedFunc<(ResourceAny,), (Result<Vec<(String, String)>, ScanError>,)>;

/// `scan.render-html-since(trend, previous-generated-at, failed)`.
type RenderHtmlSince = wasmtime::component::TypedFunc<(ResourceAny, Vec<TrendPoint>, String, Vec<FailedBefore>), (Result<Vec<u8>, ScanError>,)>;

/// A rule a resource failed in the previous scan of the same scope (WIT 1.4.0 `failed-before`).
#[derive(Debug, Clone, PartialEq, Eq, wasmtime::component::ComponentType, wasmtime::component::Lower)]
#[component(record)]
pub struct FailedBefore {
    /// Resource type.
    #[component(name = "resource-type")]
    pub resource_type: String,
    /// Resource id.
    #[component(name = "resource-id")]
    pub resource_id: String,
    /// Account.
    #[component(name = "account-id")]
    pub account_id: String,
    /// Region (`global` for global types).
    pub region: String,
    /// The rule it failed.
    #[component(name = "rule-id")]
    pub rule_id: String,
}

/// `scan.render-export-page(format, global-region, max-bytes)`.
type RenderExportPage = wasmtime::component::TypedFunc<(ResourceAny, ExportFormat, String, u32), (Result<Vec<u8>, ScanError>,)>;

/// An export format of WIT 1.5.0 (`export-format`, SPEC §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, wasmtime::component::ComponentType, wasmtime::component::Lower)]
#[component(enum)]
#[repr(u8)]
pub enum ExportFormat {
    /// AWS Security Finding Format: a JSON array for `BatchImportFindings`.
    #[component(name = "asff")]
    Asff,
    /// OCSF 1.5.0 Compliance Findings, one per line.
    #[component(name = "ocsf")]
    Ocsf,
}

impl ExportFormat {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Asff => "asff",
            ExportFormat::Ocsf => "ocsf",
        }
    }
}

/// `scan.render-page(format, trend, max-bytes)`.
type RenderPage = wasmtime::component::TypedFunc<(ResourceAny, ReportFormat, Vec<TrendPoint>, u32), (Result<Vec<u8>, ScanError>,)>;

impl Drop for FinishedScan {
    /// Keeps the instance for the runtime's next scan when it may be (see [`Kept`]).
    fn drop(&mut self) {
        if !self.failed.load(Ordering::Relaxed) {
            keep_instance(&self.kept, &mut self.store, self.instance, Some(self.scan));
        }
        if let Some(helper) = &mut self.id_helper {
            keep_instance(&self.kept, &mut helper.store, helper.instance, None);
        }
    }
}

/// Keeps an instance for the runtime's next scan (with the scan resource it leaves, if any),
/// when its memory is small enough and the runtime keeps fewer than it may; the store left
/// behind is an empty one.
fn keep_instance(kept: &Weak<Kept>, store: &mut Store<HostState>, instance: Instance, finished: Option<ResourceAny>) {
    if store.data().limits.largest_memory > SPARE_MEMORY_BYTES {
        return;
    }
    let Some(kept) = kept.upgrade() else { return };
    let Ok(mut kept) = kept.0.lock() else { return };
    if kept.len() < KEPT_INSTANCES {
        let empty = Store::new(store.engine(), HostState::new(WasiCtx::builder().build(), StoreLimits::default()));
        let store = std::mem::replace(store, empty);
        kept.push(KeptInstance { store, instance, finished });
    }
}

impl FinishedScan {
    fn map(&self, error: wasmtime::Error, context: &str) -> RuntimeError {
        self.failed.store(true, Ordering::Relaxed);
        call_error(error, context, &self.limits)
    }

    /// Renders one format; `trend` is used by HTML only.
    pub fn render(&mut self, format: ReportFormat, trend: &[TrendPoint]) -> Result<Vec<u8>, RuntimeError> {
        self.store.set_epoch_deadline(deadline_ticks(&self.limits));
        let api = self.world.compliance_engine_scanner().scan();
        Ok(api.call_render(&mut self.store, self.scan, format, trend).map_err(|e| self.map(e, "render"))??)
    }

    /// Renders one format into `out` (named `out_name` in errors) and returns the number of
    /// bytes written. With a 1.1.0 component the report comes in pieces of a few MiB, so
    /// neither the component nor this host ever holds all of it; a 1.0.0 component renders it
    /// whole, as before.
    pub fn render_to(&mut self, format: ReportFormat, trend: &[TrendPoint], out: &mut dyn std::io::Write, out_name: &str) -> Result<u64, RuntimeError> {
        let Some(render_page) = self.render_page else {
            let bytes = self.render(format, trend)?;
            out.write_all(&bytes).map_err(|source| RuntimeError::Io { path: out_name.to_owned(), source })?;
            return Ok(bytes.len() as u64);
        };
        self.pipelined(
            matches!(format, ReportFormat::Json | ReportFormat::Csv),
            |scan| {
                let (page,) = render_page.call(&mut scan.store, (scan.scan, format, trend.to_vec(), PAGE_BYTES)).map_err(|e| scan.map(e, "render"))?;
                Ok(page?)
            },
            out,
            out_name,
        )
    }

    /// Exports the findings to `format` into `out` (named `out_name` in errors), in pieces of a
    /// few MiB, and returns the bytes written. Findings on global resources are filed in
    /// `global_region`. Needs a component of WIT 1.5.0 or later.
    pub fn export_to(&mut self, format: ExportFormat, global_region: &str, out: &mut dyn std::io::Write, out_name: &str) -> Result<u64, RuntimeError> {
        let call = self.render_export_page.ok_or_else(|| RuntimeError::Unsupported {
            sha256: self.component_sha256.clone(),
            what: "exports (scan.render-export-page)",
            since: "1.5.0",
        })?;
        self.pipelined(
            true,
            |scan| {
                let (page,) = call.call(&mut scan.store, (scan.scan, format, global_region.to_owned(), PAGE_BYTES)).map_err(|e| scan.map(e, "export"))?;
                Ok(page?)
            },
            out,
            out_name,
        )
    }

    /// Renders and writes the pages `next_page` makes ([`FinishedScan::pipelined_with`]). With
    /// `uses_ids` (the pages carry finding ids), the first such rendering after a parallel scan
    /// has a second instance digest the ids meanwhile (see `id_helper.rs`).
    fn pipelined(&mut self, uses_ids: bool, mut next_page: impl FnMut(&mut Self) -> Result<Vec<u8>, RuntimeError> + Send, out: &mut dyn std::io::Write, out_name: &str) -> Result<u64, RuntimeError> {
        self.with_id_helper(uses_ids, |scan, mut exchange| scan.pipelined_with(move |scan| {
            if let Some(exchange) = exchange.as_deref_mut() {
                exchange.before_page(scan)?;
                scan.store.set_epoch_deadline(deadline_ticks(&scan.limits));
            }
            next_page(scan)
        }, out, out_name))
    }

    /// Writes the pages `next_page` makes (an empty one ends them; each call gets the per-call
    /// deadline afresh) to `out` and returns the bytes written. The component renders on a
    /// helper thread while this one writes the page before, so writing a large report (into
    /// the page cache, over a network) overlaps its rendering instead of following it; at most
    /// two pages wait between the two. A failed
    /// write stops the rendering at its next page; a failed page ends the writing after the
    /// pages before it, and its error is returned.
    fn pipelined_with(&mut self, mut next_page: impl FnMut(&mut Self) -> Result<Vec<u8>, RuntimeError> + Send, out: &mut dyn std::io::Write, out_name: &str) -> Result<u64, RuntimeError> {
        std::thread::scope(|scope| {
            let (pages, arriving) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
            let renderer = scope.spawn(move || loop {
                self.store.set_epoch_deadline(deadline_ticks(&self.limits));
                let page = next_page(self)?;
                // An empty page ends the report; a closed channel means the writing failed,
                // and that error is the one returned.
                if page.is_empty() || pages.send(page).is_err() {
                    return Ok(());
                }
            });
            let mut written = 0u64;
            let mut failed_write = None;
            for page in arriving {
                if let Err(source) = out.write_all(&page) {
                    failed_write = Some(RuntimeError::Io { path: out_name.to_owned(), source });
                    break;
                }
                written += page.len() as u64;
            }
            let rendered = renderer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            match failed_write {
                Some(error) => Err(error),
                None => rendered.map(|()| written),
            }
        })
    }

    /// The HTML report with a "since the previous scan" section (what `failed` lists against
    /// what fails now); a component older than WIT 1.4.0 renders the plain HTML report.
    pub fn render_html_since(&mut self, trend: &[TrendPoint], previous_generated_at: &str, failed: Vec<FailedBefore>) -> Result<Vec<u8>, RuntimeError> {
        let Some(call) = self.render_html_since else { return self.render(ReportFormat::Html, trend) };
        self.store.set_epoch_deadline(deadline_ticks(&self.limits));
        let (result,) = call.call(&mut self.store, (self.scan, trend.to_vec(), previous_generated_at.to_owned(), failed)).map_err(|e| self.map(e, "render"))?;
        Ok(result?)
    }

    /// The waived findings as (finding id, waiver id), in report order; none from a component
    /// older than WIT 1.4.0, which cannot take waivers.
    pub fn waived_findings(&mut self) -> Result<Vec<(String, String)>, RuntimeError> {
        let Some(call) = self.waived_findings else { return Ok(Vec::new()) };
        self.store.set_epoch_deadline(deadline_ticks(&self.limits));
        let (result,) = call.call(&mut self.store, (self.scan,)).map_err(|e| self.map(e, "waived-findings"))?;
        Ok(result?)
    }

    /// Evaluated resources, in report order.
    pub fn resources(&mut self) -> Result<Vec<ResourceResult>, RuntimeError> {
        self.store.set_epoch_deadline(deadline_ticks(&self.limits));
        let api = self.world.compliance_engine_scanner().scan();
        Ok(api.call_resources(&mut self.store, self.scan).map_err(|e| self.map(e, "resources"))??)
    }

    /// Findings with the given statuses, in report order.
    pub fn findings(&mut self, statuses: &[Status]) -> Result<Vec<Finding>, RuntimeError> {
        self.store.set_epoch_deadline(deadline_ticks(&self.limits));
        let api = self.world.compliance_engine_scanner().scan();
        Ok(api.call_findings(&mut self.store, self.scan, statuses).map_err(|e| self.map(e, "findings"))??)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(groups: &[Vec<InputSource>]) -> Vec<Vec<u64>> {
        groups.iter().map(|g| g.iter().map(|s| s.size().unwrap_or(0)).collect()).collect()
    }

    fn sources(sizes: &[usize]) -> Vec<(InputSource, u64)> {
        sizes.iter().enumerate().map(|(i, n)| (InputSource::bytes(format!("{i}.json"), vec![b' '; *n]), *n as u64)).collect()
    }

    #[test]
    fn helpers_keeping_their_instance_or_not_give_the_report_of_one_instance() {
        let runtime = Runtime::embedded(Limits::default()).expect("the embedded component loads");
        let request = request();
        let demo: serde_json::Value = serde_json::from_slice(include_bytes!("../../cli/demo/config-snapshot-demo.json")).expect("the demo snapshot is JSON");
        let items = demo["configurationItems"].as_array().expect("the demo snapshot has items");
        assert!(items.len() >= 24, "{} items", items.len());
        // 12 files, so 2 jobs make 12 groups and the helper reads several of them.
        let sources = || -> Vec<InputSource> {
            let per_file = items.len().div_ceil(12);
            items.chunks(per_file).enumerate().map(|(i, chunk)| InputSource::bytes(format!("{i:02}.json"), serde_json::to_vec(&serde_json::json!({ "configurationItems": chunk })).expect("JSON"))).collect()
        };
        let json = |scan: Result<FinishedScan, RuntimeError>| scan.expect("the scan succeeds").render(ReportFormat::Json, &[]).expect("the report renders");
        let one = json(runtime.scan(&request, sources(), &mut |_| {}));
        for (jobs, keep) in [(2, 0), (2, usize::MAX), (5, 0), (5, SPARE_MEMORY_BYTES)] {
            let parallel = json(runtime.scan_in_groups(&request, sources(), jobs, keep, &mut |_| {}));
            assert!(parallel == one, "{jobs} jobs, instances kept up to {keep} bytes: another report");
        }
    }

    /// After a parallel scan, the first rendering with finding ids has a second instance
    /// digest them: the JSON report, and the CSV and the exports rendered after it with the ids
    /// it was given, are byte for byte those of one instance, with waivers too.
    #[test]
    fn ids_digested_on_a_second_instance_give_the_same_reports() {
        let runtime = Runtime::embedded(Limits::default()).expect("the embedded component loads");
        let request = ScanRequest { waivers: Some(WaiverInput { name: "waivers.yaml".to_owned(), bytes: include_bytes!("../../cli/demo/waivers.yaml").to_vec() }), ..request() };
        let (a, b) = (large_snapshot(2 << 20), large_snapshot(512 << 10));
        let sources = || vec![InputSource::bytes("a.json", a.clone()), InputSource::bytes("b.json", b.clone())];
        let outputs = |scan: &mut FinishedScan| -> Vec<Vec<u8>> {
            let mut outputs = Vec::new();
            for format in [ReportFormat::Json, ReportFormat::Csv, ReportFormat::Html] {
                let mut out = Vec::new();
                scan.render_to(format, &[], &mut out, "report").expect("the report renders");
                outputs.push(out);
            }
            for format in [ExportFormat::Asff, ExportFormat::Ocsf] {
                let mut out = Vec::new();
                scan.export_to(format, "us-east-1", &mut out, "export").expect("the findings export");
                outputs.push(out);
            }
            outputs
        };
        let mut one = runtime.scan(&request, sources(), &mut |_| {}).expect("the scan succeeds");
        assert!(one.id_helper.is_none(), "a scan on one instance has no helper");
        let totals = one.summary.totals;
        assert!(totals.compliant + totals.non_compliant + totals.not_applicable + totals.insufficient_data >= id_helper::MIN_FINDINGS, "{totals:?}");
        let expected = outputs(&mut one);
        let mut parallel = runtime.scan_with_jobs(&request, sources(), 2, &mut |_| {}).expect("the scan succeeds");
        assert!(parallel.id_helper.is_some(), "a parallel scan keeps a helper");
        parallel.patient_ids = true;
        let got = outputs(&mut parallel);
        assert!(parallel.ids_given > 0, "the helper digested ids and they were given");
        for (index, (got, expected)) in got.iter().zip(&expected).enumerate() {
            assert!(got == expected, "output {index} differs from one instance's");
        }
        // Not waiting for the helper, the first instance digests what has not come: the same bytes.
        let mut hurried = runtime.scan_with_jobs(&request, sources(), 2, &mut |_| {}).expect("the scan succeeds");
        assert!(outputs(&mut hurried) == expected);
        // A helper whose calls may move no more than 1,000 bytes fails on its first piece: it is
        // let go, and the first instance digests every id.
        let mut failing = runtime.scan_with_jobs(&request, sources(), 2, &mut |_| {}).expect("the scan succeeds");
        failing.id_helper.as_mut().expect("a helper").store.set_hostcall_fuel(1000);
        failing.patient_ids = true;
        assert!(outputs(&mut failing) == expected, "a failed helper: other bytes");
        assert_eq!(failing.ids_given, 0);
        assert!(failing.id_helper.is_none(), "the failed helper is let go");
    }

    fn kept(runtime: &Runtime) -> usize {
        runtime.kept.0.lock().expect("not poisoned").len()
    }

    /// A runtime takes the instance its last finished scan left, and it scores and renders as
    /// a new one does, whatever the scan before it was: other options, waivers, other sources.
    #[test]
    fn kept_instances_score_as_new_ones() {
        let demo = include_bytes!("../../cli/demo/config-snapshot-demo.json");
        let sources = || vec![InputSource::bytes("demo.json", demo.to_vec())];
        let rendered = |mut scan: FinishedScan| -> Vec<Vec<u8>> {
            [ReportFormat::Json, ReportFormat::Csv, ReportFormat::Html].into_iter().map(|format| scan.render(format, &[]).expect("the report renders")).collect()
        };
        let new = rendered(Runtime::embedded(Limits::default()).expect("the embedded component loads").scan(&request(), sources(), &mut |_| {}).expect("the scan succeeds"));

        let runtime = Runtime::embedded(Limits::default()).expect("the embedded component loads");
        let other = ScanRequest {
            threshold_bp: 9000,
            required_tags: vec!["Owner".to_owned()],
            waivers: Some(WaiverInput { name: "waivers.yaml".to_owned(), bytes: include_bytes!("../../cli/demo/waivers.yaml").to_vec() }),
            ..request()
        };
        let before = runtime.scan(&other, vec![InputSource::bytes("other.json", large_snapshot(1 << 20))], &mut |_| {}).expect("the scan succeeds");
        let before_report = rendered(before);
        assert_eq!(kept(&runtime), 1, "the finished scan's instance is kept");
        let again = runtime.scan(&request(), sources(), &mut |_| {}).expect("the scan succeeds");
        assert_eq!(kept(&runtime), 0, "the kept instance is taken");
        assert!(rendered(again) == new, "a kept instance scores the demo as a new one does");
        assert_eq!(kept(&runtime), 1);
        assert!(before_report != new);

        // Three finished scans alive at once are on three instances; two are kept, no more.
        let (a, b, c) = (runtime.scan(&request(), sources(), &mut |_| {}), runtime.scan(&request(), sources(), &mut |_| {}), runtime.scan(&request(), sources(), &mut |_| {}));
        assert_eq!(kept(&runtime), 0);
        drop((a, b, c));
        assert_eq!(kept(&runtime), KEPT_INSTANCES);
        // A parallel scan's first instance takes one.
        assert!(rendered(runtime.scan_with_jobs(&request(), sources(), 2, &mut |_| {}).expect("the scan succeeds")) == new);
    }

    /// An instance a call failed in is let go, and the next scan has a new one.
    #[test]
    fn instances_a_call_failed_in_are_not_kept() {
        let demo = include_bytes!("../../cli/demo/config-snapshot-demo.json");
        let runtime = Runtime::embedded(Limits { max_result_bytes: 1000, ..Limits::default() }).expect("the embedded component loads");
        let mut scan = runtime.scan(&request(), vec![InputSource::bytes("demo.json", demo.to_vec())], &mut |_| {}).expect("the scan succeeds");
        let items = scan.summary.items;
        let error = scan.render(ReportFormat::Json, &[]).expect_err("a report of more than 1000 bytes is refused");
        assert!(!error.to_string().is_empty());
        drop(scan);
        assert_eq!(kept(&runtime), 0, "the instance is not kept");
        let scan = runtime.scan(&request(), vec![InputSource::bytes("demo.json", demo.to_vec())], &mut |_| {}).expect("the next scan succeeds");
        assert_eq!(scan.summary.items, items);
    }

    fn request() -> ScanRequest {
        ScanRequest { threshold_bp: 7000, criticality_tag: "Criticality".to_owned(), required_tags: Vec::new(), generated_at: "2026-01-01T00:00:00.000Z".to_owned(), waivers: None }
    }

    /// A snapshot of at least `bytes` bytes: the demo's items again and again, each round's
    /// resources renamed except the volumes', so instances in later parts need volumes read
    /// in the first.
    fn large_snapshot(bytes: usize) -> Vec<u8> {
        let demo: serde_json::Value = serde_json::from_slice(include_bytes!("../../cli/demo/config-snapshot-demo.json")).expect("the demo snapshot is JSON");
        let items = demo["configurationItems"].as_array().expect("the demo snapshot has items");
        let mut all = Vec::new();
        let mut size = 0;
        for round in 0.. {
            if size >= bytes {
                break;
            }
            for item in items {
                let mut item = item.clone();
                if round > 0 && item["resourceType"] != "AWS::EC2::Volume" {
                    let id = format!("{}-{round}", item["resourceId"].as_str().unwrap_or_default());
                    item["resourceId"] = serde_json::Value::String(id);
                }
                size += serde_json::to_vec(&item).expect("JSON").len() + 2;
                all.push(item);
            }
        }
        serde_json::to_vec_pretty(&serde_json::json!({ "fileVersion": "1.0", "configurationItems": all })).expect("JSON")
    }

    fn report(scan: Result<FinishedScan, RuntimeError>) -> Vec<u8> {
        scan.expect("the scan succeeds").render(ReportFormat::Json, &[]).expect("the report renders")
    }

    /// The bytes `parted`'s parts hold, read in order, and how many are present; checks that
    /// each begins where the last ended, and ends at a cut but the last, which streams the rest.
    fn read_parts(parted: &Arc<Parted>) -> (Vec<u8>, usize) {
        let mut read = Vec::new();
        let mut present = 0;
        for index in 0..parted.parts() {
            let Some(part) = parted.take(index).expect("the part is read") else { continue };
            present += 1;
            assert_eq!((part.offset, part.array.is_some()), (read.len() as u64, index > 0), "part {index}");
            read.extend_from_slice(&part.bytes);
            match part.end {
                PartEnd::Cut => assert!(index + 1 < parted.parts(), "the last part {index} ends at a cut"),
                PartEnd::Rest { chunks, reader } => {
                    assert_eq!(index + 1, parted.parts(), "part {index} streams the rest");
                    for chunk in chunks {
                        match chunk {
                            Chunk::Data(bytes) => read.extend_from_slice(&bytes),
                            Chunk::Done { .. } => break,
                            Chunk::Failed(error) => panic!("{error}"),
                        }
                    }
                    reader.join().expect("the reader ends");
                }
                PartEnd::End { .. } => {}
                PartEnd::Failed(error) => panic!("{error}"),
            }
        }
        parted.close();
        (read, present)
    }

    /// A size hint far from the truth costs balance, never bytes or memory: too small, the
    /// last part streams most of the source; too large, the first part holds all of it and the
    /// others are absent.
    #[test]
    fn parts_hold_the_source_whatever_its_size_hint_said() {
        let big = large_snapshot(1 << 20);
        let parted = |size: u64| {
            let source = InputSource::bytes("big.json", big.clone());
            let reading = SourceReading { source, chunk_bytes: 64 << 10, max_source_bytes: u64::MAX, raw_progress: Arc::new(AtomicU64::new(0)), pool: ChunkPool::new(1) };
            Arc::new(Parted::new(reading, size, 4, 2))
        };
        let (read, present) = read_parts(&parted(big.len() as u64 / 10));
        assert!(read == big && present == 4, "too small a hint: {present} parts");
        let (read, present) = read_parts(&parted(big.len() as u64 * 10));
        assert!(read == big && present == 1, "too large a hint: {present} parts");
    }

    /// Parts whose group stopped before taking them are given up: the reading thread, one part
    /// ahead at most, still reaches the parts after them, and the threads waiting for those.
    #[test]
    fn parts_given_up_do_not_hold_the_reading_back() {
        let big = large_snapshot(1 << 20);
        let source = InputSource::bytes("big.json", big.clone());
        let reading = SourceReading { source, chunk_bytes: 64 << 10, max_source_bytes: u64::MAX, raw_progress: Arc::new(AtomicU64::new(0)), pool: ChunkPool::new(1) };
        let parted = Arc::new(Parted::new(reading, big.len() as u64, 6, 1));
        let mut parts: Vec<PartOf> = (0..6).map(|index| PartOf::new(Arc::clone(&parted), index)).collect();
        let last = parts.pop().expect("six parts");
        // The first part starts the reading; the next three are given up, one before it is read.
        // A reading held back would wait forever: the takes run on threads, watched.
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let first = parts.remove(0).take();
            drop(parts.drain(..3));
            let waiting = std::thread::spawn(move || last.take());
            let fifth = parts.pop().map(PartOf::take);
            let _ = done.send((first, fifth, waiting.join()));
        });
        let (first, fifth, last) = finished.recv_timeout(Duration::from_secs(120)).expect("the parts after those given up are read");
        let first = first.expect("read").expect("present");
        let fifth = fifth.expect("the fifth").expect("read").expect("present");
        let last = last.expect("no panic").expect("read").expect("present");
        assert!(first.offset == 0 && fifth.offset > first.bytes.len() as u64 && last.offset == fifth.offset + fifth.bytes.len() as u64);
        assert!(matches!(last.end, PartEnd::Rest { .. }));
        parted.close();
    }

    #[test]
    fn a_gzip_file_weighs_what_it_decompresses_to() {
        let dir = tempfile::tempdir().expect("tempdir");
        let json = large_snapshot(1 << 20);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &json).expect("gzip");
        let gz = gz.finish().expect("gzip");
        assert!(gz.len() * 4 < json.len(), "{} bytes compressed to {}", json.len(), gz.len());
        std::fs::write(dir.path().join("a.json.gz"), &gz).expect("write");
        std::fs::write(dir.path().join("b.json"), &json).expect("write");
        let size = json.len() as u64;
        assert_eq!(weight(&InputSource::file("a.json.gz", dir.path().join("a.json.gz"))), (size, Some(size)));
        assert_eq!(weight(&InputSource::file("b.json", dir.path().join("b.json"))), (size, None));
        assert_eq!(weight(&InputSource::bytes("c.json", Vec::new())), (1, None), "empty: the least weight");
        assert_eq!(weight(&InputSource::stdin()), (1, None), "size unknown");
    }

    /// A large source between two small ones, plain and gzip: read in parts on several
    /// instances, it gives the report one instance reading it whole gives.
    #[test]
    fn a_large_source_read_in_parts_gives_the_report_of_one_instance() {
        let runtime = Runtime::embedded(Limits::default()).expect("the embedded component loads");
        let big = large_snapshot(3 << 20);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &big).expect("gzip");
        std::fs::write(dir.path().join("big.json.gz"), gz.finish().expect("gzip")).expect("write");
        let small = || InputSource::bytes("a.json", include_bytes!("../../cli/demo/config-snapshot-demo.json").to_vec());
        let plain = || vec![small(), InputSource::bytes("big.json", big.clone()), InputSource::bytes("c.json", br#"{"configurationItems": []}"#.to_vec())];
        let gzipped = || vec![small(), InputSource::file("big.json.gz", dir.path().join("big.json.gz"))];
        for sources in [&plain as &dyn Fn() -> Vec<InputSource>, &gzipped] {
            for jobs in [2, 3, 7] {
                // The large source is cut into parts, the gzip one by its decompressed size.
                // (The units stay alive while the parts are read: a unit dropped gives its part up.)
                let Units { units, parted } = runtime.units(sources(), jobs, &Arc::new(AtomicU64::new(0)), &ChunkPool::new(1));
                assert_eq!(parted.len(), 1, "{jobs} jobs: the large source only is read in parts");
                assert!(parted.iter().all(|p| p.parts() >= 4), "{jobs} jobs: {parted:?}");
                let parted = parted.first().expect("one source in parts");
                let (read, present) = read_parts(parted);
                assert!(present == parted.parts() && read == big, "{jobs} jobs: {present} parts of {} hold the source", parted.parts());
                drop(units);
            }
            let one = report(runtime.scan(&request(), sources(), &mut |_| {}));
            for (jobs, keep) in [(2, SPARE_MEMORY_BYTES), (3, 0), (7, SPARE_MEMORY_BYTES)] {
                let parallel = report(runtime.scan_in_groups(&request(), sources(), jobs, keep, &mut |_| {}));
                assert!(parallel == one, "{jobs} jobs: another report");
            }
        }
    }

    /// Errors in a source read in parts are those one instance meets: a bad item far into it
    /// (named by its index in the whole source and its offset), a source cut short.
    #[test]
    fn errors_in_a_source_read_in_parts_are_those_of_one_instance() {
        let runtime = Runtime::embedded(Limits::default()).expect("the embedded component loads");
        let big = String::from_utf8(large_snapshot(3 << 20)).expect("UTF-8");
        let late = big.rfind(r#""resourceType": "AWS::EC2::Instance""#).expect("an instance");
        let bad_item = format!("{}\"resourceType\": [1]{}", &big[..late], &big[late + r#""resourceType": "AWS::EC2::Instance""#.len()..]);
        let cut_short = big[..big.len() - 10].to_owned();
        for bad in [bad_item, cut_short] {
            let sources = || vec![InputSource::bytes("big.json", bad.clone().into_bytes()), InputSource::bytes("c.json", b"{}".to_vec())];
            let error = |scan: Result<FinishedScan, RuntimeError>| scan.err().expect("a bad source").to_string();
            let one = error(runtime.scan(&request(), sources(), &mut |_| {}));
            assert!(one.contains("big.json"), "{one}");
            for jobs in [2, 5] {
                let parallel = error(runtime.scan_in_groups(&request(), sources(), jobs, SPARE_MEMORY_BYTES, &mut |_| {}));
                assert_eq!(parallel, one, "{jobs} jobs");
            }
        }
    }

    #[test]
    fn groups_are_consecutive_non_empty_and_about_equal() {
        assert_eq!(sizes(&consecutive_groups(sources(&[10; 8]), 2)), [vec![10; 4], vec![10; 4]]);
        assert_eq!(sizes(&consecutive_groups(sources(&[10; 7]), 3)), [vec![10; 3], vec![10; 2], vec![10; 2]]);
        assert_eq!(sizes(&consecutive_groups(sources(&[100, 1, 1, 1]), 2)), [vec![100], vec![1, 1, 1]]);
        assert_eq!(sizes(&consecutive_groups(sources(&[1, 1, 1, 100]), 2)), [vec![1, 1, 1], vec![100]]);
        assert_eq!(sizes(&consecutive_groups(sources(&[1, 1, 1, 100]), 4)), [vec![1], vec![1], vec![1], vec![100]]);
        assert_eq!(sizes(&consecutive_groups(sources(&[5, 5]), 9)), [vec![5], vec![5]], "at most one group per source");
        assert_eq!(consecutive_groups::<InputSource>(Vec::new(), 3).len(), 1);
        let names: Vec<String> = consecutive_groups(sources(&[3, 1, 4, 1, 5, 9, 2, 6]), 3).into_iter().flatten().map(|s| s.name).collect();
        assert_eq!(names, (0..8).map(|i| format!("{i}.json")).collect::<Vec<_>>(), "in their order");
    }
}
