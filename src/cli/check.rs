//! `dfpolicy check [--policies DIR] [--workload FILE|tpch|tpch-delta] [--baseline DIR] [--format
//! human|json|github] [--html FILE] [--bless] [--repeat N] [--jobs N] [--quiet] [--store URI]
//! [--root DIR] [--deny-warnings]`

use std::io::Write;
use std::path::PathBuf;

use super::matrix::{MatrixArgs, load_policies};
use super::{EXIT_OK, FindingsFormat, Stop, emit};
use crate::check::{Check, CheckError, Checked};
use crate::harness::report;
use crate::review;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArgs,
    /// The workloads to check, each against its own baseline (repeat the option for several): a
    /// workload file or snapshot folder's `workload.toml`, or a built-in workload. Default: `tpch`
    /// (planned over generated SF 0.01 data) and `tpch-sf100` (planned from its metadata snapshot);
    /// `tpch` alone with `--baseline`.
    #[arg(long)]
    workload: Vec<PathBuf>,
    /// The baseline folder of the one workload checked (default: `baselines/<workload name>`).
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
    /// Also write the review page here: one self-contained HTML file (the matrix, every changed
    /// cell's causes and plan diffs, every plan as a tree, the policies and the sensitivity sweep).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// The workloads `check` runs when none is named.
pub const DEFAULT_WORKLOADS: &[&str] = &["tpch", "tpch-sf100"];

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let workloads: Vec<PathBuf> = match (&args.workload[..], &args.baseline) {
        ([], None) => DEFAULT_WORKLOADS.iter().map(PathBuf::from).collect(),
        ([], Some(_)) => vec![PathBuf::from("tpch")],
        (_, Some(_)) if args.workload.len() > 1 => {
            return Err(super::usage(
                "`--baseline` names the folder of one workload; check several workloads without it \
                 (each against `baselines/<workload name>`)"
                    .to_string(),
            ));
        }
        (named, _) => named.to_vec(),
    };
    let policies = load_policies(&args.matrix)?;
    let mut documents = Vec::new();
    let mut code = EXIT_OK;
    let mut checked = Vec::new();
    for path in &workloads {
        let workload = super::workload::load(path)?;
        let mut check = Check::new(policies.clone(), workload.clone())
            .bless(args.bless)
            .repeat(args.repeat as usize)
            .deny_warnings(args.matrix.deny_warnings);
        check = args.matrix.apply(check)?;
        if let Some(folder) = &args.baseline {
            check = check.baseline(folder);
        }
        let one = check.run().map_err(|error| match error {
            CheckError::NoBaseline { .. } => super::usage(error.to_string()),
            other => Stop::from(other),
        })?;
        super::matrix::say_stored(&one, &args.matrix);
        if let Some(blessed) = &one.blessed {
            eprintln!("baseline written to `{}`", one.baseline_folder.display());
            if let (Some(path), Some(sweep)) = (&blessed.sensitivity_file, &one.sensitivity) {
                eprintln!(
                    "sensitivity of `{}` written to `{}` ({} candidates)",
                    sweep.policy,
                    path.display(),
                    sweep.candidates
                );
            }
        }
        code = code.max(super::exit_code(one.fails()));
        documents.push(render(&one, args.format, &workload, workloads.len() > 1));
        checked.push(one);
        release_freed_memory();
    }
    if let Some(file) = &args.html {
        let reviews: Vec<review::WorkloadReview<'_>> = checked
            .iter()
            .map(|one| review::WorkloadReview {
                comparison: &one.comparison,
                run: &one.run,
                baseline: one.baseline.as_ref(),
                baseline_folder: Some(one.baseline_folder.display().to_string()),
                sensitivity: one.sensitivity.as_ref(),
            })
            .collect();
        super::write_file(file, &review::check_page(&reviews))?;
        eprintln!("review page written to `{}`", file.display());
    }
    let text = match (args.format, documents.len()) {
        // Several JSON documents are one array, in the order the workloads were named.
        (FindingsFormat::Json, n) if n > 1 => format!(
            "[\n{}\n]\n",
            documents
                .iter()
                .map(|d| d.trim_end())
                .collect::<Vec<_>>()
                .join(",\n")
        ),
        _ => documents.concat(),
    };
    emit(out, &text)?;
    Ok(code)
}

/// One workload's report in the chosen format; under a heading when several are checked.
fn render(
    checked: &Checked,
    format: FindingsFormat,
    workload: &crate::workload::Workload,
    several: bool,
) -> String {
    let comparison = &checked.comparison;
    match format {
        FindingsFormat::Human if several => format!(
            "workload {} against {}:\n{}",
            workload.name,
            checked.baseline_folder.display(),
            report::human(comparison)
        ),
        FindingsFormat::Human => report::human(comparison),
        FindingsFormat::Json => report::json(comparison),
        FindingsFormat::Github => report::github(comparison, &checked.run, workload),
    }
}

/// Hands the memory one workload's planning freed back to the system before the next workload is
/// planned. glibc keeps freed memory in the arena of the worker thread that freed it, and the next
/// workload's workers are new threads: without this, `check` of `tpch` then `tpch-sf100` peaked at
/// 652 MB against 340 MB in the other order.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free memory at the top of glibc's heaps to the system; it
    // touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}
