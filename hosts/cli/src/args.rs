//! Command-line arguments. Parsed and validated here, then turned into the objects that work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use compliance_runtime::parse_percent_bp;

/// Offline AWS compliance scans of exported AWS Config data, scored by a reproducible
/// WebAssembly engine.
#[derive(Debug, Parser)]
#[command(name = "compliance", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score AWS Config data (snapshot/history files, API output, events; .json, .json.gz, NDJSON).
    Scan(ScanArgs),
    /// Re-score the inputs of a report (or re-compute an org roll-up from its reports) with the
    /// component it names and compare byte for byte.
    Verify(VerifyArgs),
    /// Roll per-account reports up into one organization report (exact integer sums).
    Rollup(RollupArgs),
    /// What changed between two scans, and why the score moved (compares reports; does not re-score).
    Diff(DiffArgs),
    /// Show the rule pack.
    Rules(RulesArgs),
    /// Show the embedded scoring component, or export it for archiving.
    Component(ComponentArgs),
}

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `report.html`, self-contained.
    Html,
    /// `report.json`, the canonical machine-readable report.
    Json,
    /// `findings.csv`.
    Csv,
    /// Summary table on stdout.
    Table,
    /// `findings.asff.json`: AWS Security Finding Format, an array for Security Hub's
    /// `BatchImportFindings` (checked against AWS's limits when written).
    Asff,
    /// `findings.ocsf.jsonl`: OCSF 1.5.0 Compliance Findings, one per line.
    Ocsf,
}

/// Options shared by commands that load a component and scan.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Score with this archived component instead of the embedded one.
    #[arg(long, value_name = "FILE.wasm")]
    pub component: Option<PathBuf>,
    /// Memory limit of the component, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 3072, value_parser = clap::value_parser!(u64).range(16..=4096))]
    pub memory_limit_mib: u64,
    /// Deadline for each call into the component (one chunk of input, or rendering), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub call_timeout: u64,
    /// Largest decompressed size of one input source, in MiB (protects against gzip bombs).
    #[arg(long, value_name = "MIB", default_value_t = 65536, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_source_mib: u64,
    /// Component instances reading the inputs at once, each a consecutive share of the input
    /// files (so at most one per file). Default: the machine's cores. The report is the same
    /// byte for byte whatever it is; each instance has the memory limit to itself.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub jobs: Option<u64>,
}

impl EngineArgs {
    /// Instances to read the inputs on.
    pub fn jobs(&self) -> usize {
        match self.jobs {
            Some(jobs) => usize::try_from(jobs).unwrap_or(1),
            None => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        }
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, directories (walked recursively) or `-` for stdin. None: the bundled demo snapshot.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output formats, comma-separated; the flag may repeat. Default: html, json and table.
    #[arg(long, short, value_enum, value_delimiter = ',')]
    pub format: Vec<Format>,
    /// Directory for report.json, report.html, findings.csv and the exports.
    #[arg(long, short, value_name = "DIR", default_value = "compliance-report")]
    pub out_dir: PathBuf,
    /// Region the exports file findings on global (IAM) resources in. Default: the one region
    /// of the scanned data; required when the data spans several regions.
    #[arg(long, value_name = "REGION")]
    pub global_region: Option<String>,
    /// Alert threshold in percent (up to two decimals).
    #[arg(long, value_name = "PERCENT", default_value = "70", value_parser = parse_percent_bp)]
    pub threshold: u32,
    /// Tag key that gives a resource's criticality.
    #[arg(long, value_name = "KEY", default_value = "Criticality")]
    pub criticality_tag: String,
    /// Tag keys `ec2-required-tags` demands (comma-separated; default CostCenter,Compliance).
    #[arg(long, value_name = "KEY", value_delimiter = ',')]
    pub required_tag: Vec<String>,
    /// Exit with code 1 when the score is below this percentage.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent_bp)]
    pub fail_under: Option<u32>,
    /// Use this `generated_at` (ISO-8601 UTC) instead of the current time, for reproducible runs.
    #[arg(long, value_name = "TIMESTAMP")]
    pub generated_at: Option<String>,
    /// Waiver file (YAML or JSON): accepted risks with owner, approval, ticket and expiry
    /// (SPEC §11). Waived findings stay in every output, marked; `score_bp` is unchanged and
    /// `score_with_waivers_bp` counts them as compliant. Part of the report's input.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The report.json (or org rollup.json) to reproduce.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// The inputs the report was computed from (same files; names must match the report's
    /// sources): Config data for a report, the per-account reports for an org roll-up.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The waiver file the report was scored with (required when the report names one; its
    /// sha256 must match).
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Output formats of `rollup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RollupFormat {
    /// `rollup.json`, the canonical org report.
    Json,
    /// `rollup.html`, self-contained.
    Html,
    /// Summary on stdout.
    Table,
}

#[derive(Debug, Args)]
pub struct RollupArgs {
    /// Per-account reports (`report.json` of `compliance scan` or of the analyzer), or
    /// directories holding them (every `report.json` below, `latest/` copies aside).
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    /// The previous org report: its account-regions are expected, and listed when missing.
    #[arg(long, value_name = "PREVIOUS_ROLLUP.json")]
    pub expect_from: Option<PathBuf>,
    /// Output formats, comma-separated; the flag may repeat. Default: json, html and table.
    #[arg(long, short, value_enum, value_delimiter = ',')]
    pub format: Vec<RollupFormat>,
    /// Directory for rollup.json and rollup.html.
    #[arg(long, short, value_name = "DIR", default_value = "compliance-report")]
    pub out_dir: PathBuf,
    /// The organization's id or name, shown in the report.
    #[arg(long, value_name = "ID", default_value = "organization")]
    pub org_id: String,
    /// Alert threshold in percent (up to two decimals), for the org and each account.
    #[arg(long, value_name = "PERCENT", default_value = "70", value_parser = parse_percent_bp)]
    pub threshold: u32,
    /// Reports generated more than this many hours before `--generated-at` are stale: listed,
    /// not counted. Default: every report counts however old.
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=8784))]
    pub window_hours: Option<u32>,
    /// Expected account-regions unseen for longer than this are forgotten, not listed missing.
    #[arg(long, value_name = "HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8784))]
    pub forget_after_hours: u32,
    /// Exit with code 1 when the org score is below this percentage.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent_bp)]
    pub fail_under: Option<u32>,
    /// Use this `generated_at` (ISO-8601 UTC) instead of the current time, for reproducible runs.
    #[arg(long, value_name = "TIMESTAMP")]
    pub generated_at: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// A table.
    Table,
    /// JSON.
    Json,
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A summary for the terminal.
    Table,
    /// `compliance-diff/v1`, every entry.
    Json,
    /// Tables for a ticket or a pull request.
    Markdown,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (report.json).
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The later report.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Output format (on stdout).
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: DiffFormat,
    /// Exit 1 when any finding became NON_COMPLIANT (for pipelines).
    #[arg(long)]
    pub fail_on_new: bool,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: RulesFormat,
    /// Only this framework's requirements and the rules that evidence them
    /// (aws-security-hub, cis-aws-3.0.0, pci-dss-4.0.1, nist-800-53-r5).
    #[arg(long, value_name = "ID")]
    pub framework: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct ComponentArgs {
    /// Write the embedded component to this file (for archiving next to reports).
    #[arg(long, value_name = "FILE.wasm")]
    pub export: Option<PathBuf>,
}
