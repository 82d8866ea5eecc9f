//! `dfpolicy harness [--policies DIR] [--workload FILE|tpch|tpch-delta] [--out DIR] [--jobs N]
//! [--quiet] [--store URI]`

use std::io::Write;
use std::path::PathBuf;

use super::matrix::{MatrixArgs, load_policies, say_appended, say_stored};
use super::{EXIT_FINDINGS, EXIT_OK, Stop, emit, workload};
use crate::check::Check;
use crate::harness::{self, report};
use crate::store::{ArtifactStore, RunContext};

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
    let (run, comparison) = match &args.out {
        // The bundles written as a baseline folder: a bless without the sweep, compared with what
        // the folder held before.
        Some(folder) => {
            let check = Check::new(policies, workload)
                .baseline(folder)
                .bless(true)
                .sweep_on_bless(false)
                .deny_warnings(args.matrix.deny_warnings);
            let checked = args.matrix.apply(check)?.run()?;
            say_stored(&checked, &args.matrix);
            (checked.run, checked.comparison)
        }
        None => {
            let run = args.matrix.harness(&policies, &workload).run()?;
            if let Some(location) = &args.matrix.store {
                let store = ArtifactStore::new(location.clone())?;
                let appended = super::block_on(store.append(&run, &RunContext::detect()))?;
                say_appended(&appended, location);
            }
            let comparison = harness::compare(None, &run);
            (run, comparison)
        }
    };
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
