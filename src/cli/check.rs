//! `dfpolicy check [--policies DIR] [--workload FILE|tpch|tpch-delta] [--baseline DIR] [--format
//! human|json|github] [--bless] [--repeat N] [--jobs N] [--quiet] [--store URI]`

use std::io::Write;
use std::path::PathBuf;

use super::harness::{MatrixArgs, build, load};
use super::{EXIT_FINDINGS, EXIT_OK, FindingsFormat, Stop, emit};
use crate::harness::{self, baseline, report};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArgs,
    /// The baseline folder (default: `baselines/<workload name>`).
    #[arg(long)]
    baseline: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Human)]
    format: FindingsFormat,
    /// Rewrite the baseline with this run's bundles instead of failing on changes.
    #[arg(long)]
    bless: bool,
    /// Build every bundle this many times; a bundle that differs between builds fails the check.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let (policies, workload) = load(&args.matrix)?;
    let folder = args
        .baseline
        .clone()
        .unwrap_or_else(|| PathBuf::from("baselines").join(&workload.name));
    let previous = if baseline::exists(&folder) {
        Some(baseline::read(&folder)?)
    } else if args.bless {
        None
    } else {
        return Err(super::usage(format!(
            "no baseline at `{}` (no index.json): `dfpolicy check --bless` writes one",
            folder.display()
        )));
    };
    let run = build(&args.matrix, &policies, &workload, args.repeat as usize)?;
    let comparison = harness::compare(previous.as_ref(), &run);
    let text = match args.format {
        FindingsFormat::Human => report::human(&comparison),
        FindingsFormat::Json => report::json(&comparison),
        FindingsFormat::Github => report::github(&comparison, &run, &workload),
    };
    emit(out, &text)?;
    if args.bless {
        baseline::write(&run, &folder)?;
        eprintln!("baseline written to `{}`", folder.display());
        // Blessing accepts changes, not failures, findings or unstable bundles.
        let fails = comparison.cells.iter().any(|cell| {
            matches!(
                cell.status,
                harness::CellStatus::Failed | harness::CellStatus::Unstable
            ) || !cell.findings.is_empty()
        });
        return Ok(if fails { EXIT_FINDINGS } else { EXIT_OK });
    }
    Ok(if comparison.fails() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
