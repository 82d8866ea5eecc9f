//! `dfpolicy workload validate PATH... [--format human|json|github] [--strict]`,
//! `dfpolicy workload show FILE|tpch|tpch-delta [--format text|json]` and
//! `dfpolicy workload snapshot FILE|tpch|tpch-delta --out DIR [--policies DIR]`

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use super::{FindingsArgs, ListFormat, Stop, emit, exit_code, pretty_json};
use crate::report::{Noun, render};
use crate::workload::show::{render_text, workload_facts};
use crate::workload::{Workload, WorkloadError, validate_workloads};

#[derive(Debug, Subcommand)]
pub enum Args {
    /// Validate workload files (or the built-in `tpch`, `tpch-delta`) and their query files.
    Validate(ValidateArgs),
    /// Print a workload's tables: format, location, Delta version, files and exact row counts.
    Show(ShowArgs),
    /// Capture what planning reads of a workload's tables — every query under every policy — into a
    /// metadata snapshot folder (`snapshot.json` and `snapshot.bin`).
    Snapshot(SnapshotArgs),
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// A workload file, or `tpch` / `tpch-delta` (their data is generated on first use).
    workload: PathBuf,
    /// The snapshot folder to write (created if missing; its snapshot files are replaced).
    #[arg(long)]
    out: PathBuf,
    /// The policies to plan under: a folder (every `*.toml` below it) or one policy file.
    #[arg(long, default_value = "policies")]
    policies: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Workload files, or `tpch` / `tpch-delta`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    findings: FindingsArgs,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A workload file, or `tpch` / `tpch-delta` (their data is generated on first use).
    workload: PathBuf,
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    match args {
        Args::Validate(args) => {
            let report = validate_workloads(&args.paths);
            emit(out, &render::render(&report, args.findings.format))?;
            if args.findings.format == crate::report::Format::Human {
                for path in &args.paths {
                    if let Some((snapshot, source)) = crate::workload::snapshot_of(path) {
                        emit(
                            out,
                            &format!(
                                "note: {} is the metadata snapshot `{snapshot}` of `{source}`: \
                                 plans only, no data\n",
                                crate::report::display_path(path)
                            ),
                        )?;
                    }
                }
            }
            Ok(exit_code(report.fails(args.findings.strict)))
        }
        Args::Show(args) => {
            let workload = load(&args.workload)?;
            let facts = super::block_on(workload_facts(&workload))?;
            match args.format {
                ListFormat::Text => emit(out, &render_text(&facts))?,
                ListFormat::Json => emit(out, &pretty_json(&facts))?,
            }
            Ok(super::EXIT_OK)
        }
        Args::Snapshot(args) => {
            let policies = crate::harness::PolicySet::load(&args.policies)?;
            let workload = load(&args.workload)?;
            let snapshot = super::block_on(crate::harness::capture_snapshot(&policies, &workload))?;
            let workload_file =
                crate::harness::write_snapshot_folder(&workload, &snapshot, &args.out)?;
            emit(
                out,
                &format!(
                    "snapshot of workload `{}` planned under {}\n{}written to {}; use it as a workload: {}\n",
                    workload.name,
                    Noun::POLICY.count(policies.policies.len()),
                    snapshot.summary(),
                    crate::report::display_path(&args.out),
                    crate::report::display_path(&workload_file)
                ),
            )?;
            Ok(super::EXIT_OK)
        }
    }
}

/// Loads a workload, printing its findings to stderr when it does not load.
pub(super) fn load(path: &std::path::Path) -> Result<Workload, Stop> {
    Workload::load(path).map_err(|error| match error {
        WorkloadError::Invalid(diagnostics) => {
            for d in &diagnostics {
                eprintln!("{}\n", render::human(d));
            }
            Stop::Findings
        }
        other => Stop::from(other),
    })
}
