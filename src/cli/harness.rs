//! `dfpolicy harness [--policies DIR] [--workload FILE|tpch|tpch-delta] [--out DIR] [--jobs N]
//! [--quiet] [--store URI]`

use std::io::Write;
use std::path::PathBuf;

use super::{EXIT_FINDINGS, EXIT_OK, Stop, emit, workload};
use crate::harness::{self, Harness, baseline, report};
use crate::store::{ArtifactStore, RunContext};

/// What every command that runs the matrix takes.
#[derive(Debug, clap::Args)]
pub struct MatrixArgs {
    /// A policy folder (every `*.toml` below it) or one policy file.
    #[arg(long, default_value = "policies")]
    pub policies: PathBuf,
    /// Bundles built at once (default: the core count); the output is the same whatever it is.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// No progress bar (there is none when stderr is not a terminal or `CI` is set, either).
    #[arg(long)]
    pub quiet: bool,
    /// Append one row per bundle to the artifact store at this location (a local folder, or an
    /// object-store URL with a cloud feature).
    #[arg(long)]
    pub store: Option<String>,
    /// Directory that the policies' `extends` parents must live under (default: the policy folder,
    /// or the working directory when that folder is below it).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Exit 1 on advisory warnings too (a join planned over unknown row counts, say); failed
    /// capture steps and findings always give exit 1.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArgs,
    /// A workload file or snapshot folder's `workload.toml`, or a built-in workload (`tpch`,
    /// `tpch-delta`: data generated on first use; `tpch-sf10`, `tpch-sf100`: metadata snapshots).
    #[arg(long, default_value = "tpch")]
    workload: PathBuf,
    /// Write the bundles as a baseline folder here (cells that changed since the folder's previous
    /// contents are marked in the table).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let policies = load_policies(&args.matrix)?;
    let workload = workload::load(&args.workload)?;
    let run = build(&args.matrix, &policies, &workload, 1)?;
    let previous = match &args.out {
        Some(folder) if baseline::exists(folder) => Some(baseline::read(folder)?),
        _ => None,
    };
    let comparison = harness::compare(previous.as_ref(), &run);
    if let Some(folder) = &args.out {
        baseline::write(&run, folder)?;
    }
    emit(out, &report::table(&comparison))?;
    emit(out, &report::counts_line(&comparison))?;
    for (key, cell) in &run.cells {
        for warning in cell.bundle().map_or(&[][..], |b| &b.warnings[..]) {
            eprintln!("warning: {key}: {}: {}", warning.step, warning.message);
        }
    }
    let failed_or_findings = run.cells.values().any(|cell| {
        cell.bundle()
            .is_none_or(|b| b.fails(args.matrix.deny_warnings))
    });
    Ok(if failed_or_findings {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// Loads the policies (their findings go to stderr; a policy that does not load becomes failed
/// cells).
pub(super) fn load_policies(args: &MatrixArgs) -> Result<harness::PolicySet, Stop> {
    let policies = harness::PolicySet::load_under(&args.policies, args.root.as_deref());
    let policies = policies.map_err(|problems| {
        for d in &problems.0 {
            eprintln!("{}\n", crate::report::render::human(d));
        }
        super::usage(format!(
            "no policies read from `{}`",
            args.policies.display()
        ))
    })?;
    for d in &policies.diagnostics {
        eprintln!("{}\n", crate::report::render::human(d));
    }
    Ok(policies)
}

/// Runs the matrix as the arguments say.
pub(super) fn build(
    args: &MatrixArgs,
    policies: &harness::PolicySet,
    workload: &crate::workload::Workload,
    repeat: usize,
) -> Result<harness::HarnessRun, Stop> {
    let mut harness = Harness::new(policies, workload).repeat(repeat);
    if let Some(jobs) = args.jobs {
        harness = harness.jobs(jobs);
    }
    if args.quiet {
        harness = harness.progress(harness::Progress::Hidden);
    }
    let run = harness.run()?;
    if let Some(location) = &args.store {
        let store = ArtifactStore::new(location.clone())?;
        let appended = super::block_on(store.append(&run, &RunContext::detect()))?;
        eprintln!(
            "stored run {} ({} rows, table version {}) in `{location}`",
            appended.run_id, appended.rows, appended.version
        );
    }
    Ok(run)
}
