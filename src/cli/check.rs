//! `dfpolicy check [--policies DIR] [--workload FILE|tpch|tpch-delta] [--baseline DIR] [--format
//! human|json|github] [--html FILE] [--bless] [--repeat N] [--jobs N] [--quiet] [--store URI]
//! [--root DIR] [--deny-warnings]`

use std::io::Write;
use std::path::PathBuf;

use super::harness::{MatrixArgs, build, load_policies};
use super::{EXIT_FINDINGS, EXIT_OK, FindingsFormat, Stop, emit};
use crate::harness::{self, baseline, report, sensitivity};
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

/// One workload checked: the report's text, the exit code, and what the review page shows.
struct Checked {
    text: String,
    code: u8,
    comparison: harness::Comparison,
    run: harness::HarnessRun,
    baseline: Option<baseline::Baseline>,
    folder: PathBuf,
    sweep: Option<sensitivity::Sensitivity>,
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
        let one = check_one(&args, &policies, path, workloads.len() > 1)?;
        code = code.max(one.code);
        documents.push(one.text.clone());
        checked.push(one);
    }
    if let Some(file) = &args.html {
        let reviews: Vec<review::WorkloadReview<'_>> = checked
            .iter()
            .map(|one| review::WorkloadReview {
                comparison: &one.comparison,
                run: &one.run,
                baseline: one.baseline.as_ref(),
                baseline_folder: Some(one.folder.display().to_string()),
                sensitivity: one.sweep.as_ref(),
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

/// Checks one workload against its baseline.
fn check_one(
    args: &Args,
    policies: &harness::PolicySet,
    path: &std::path::Path,
    several: bool,
) -> Result<Checked, Stop> {
    let workload = super::workload::load(path)?;
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
    let run = build(&args.matrix, policies, &workload, args.repeat as usize)?;
    let mut comparison = harness::compare(previous.as_ref(), &run);
    let mut sweep = sensitivity::read_beside(&folder);
    if let Some(sweep) = &sweep {
        sensitivity::explain(&mut comparison, sweep);
    }
    let text = match args.format {
        // Each workload's report under a heading when there are several.
        FindingsFormat::Human if several => format!(
            "workload {} against {}:\n{}",
            workload.name,
            folder.display(),
            report::human(&comparison)
        ),
        FindingsFormat::Human => report::human(&comparison),
        FindingsFormat::Json => report::json(&comparison),
        FindingsFormat::Github => report::github(&comparison, &run, &workload),
    };
    if args.bless {
        baseline::write(&run, &folder)?;
        eprintln!("baseline written to `{}`", folder.display());
        // The sweep `check` explains changes with: every key of the reference policy over this
        // workload.
        if let Some(reference) = sensitivity::reference_policy(policies) {
            let mut options = sensitivity::SweepOptions::default();
            if let Some(jobs) = args.matrix.jobs {
                options.jobs = jobs.max(1);
            }
            let new_sweep = sensitivity::sweep(reference, &workload, &options)?;
            let path = sensitivity::write_beside(&new_sweep, &folder)?;
            eprintln!(
                "sensitivity of `{}` written to `{}` ({} candidates)",
                new_sweep.policy,
                path.display(),
                new_sweep.candidates
            );
            sweep = Some(new_sweep);
        }
        // Blessing accepts changes, not failures, findings or unstable bundles.
        let fails = comparison.cells.iter().any(|cell| {
            matches!(
                cell.status,
                harness::CellStatus::Failed | harness::CellStatus::Unstable
            ) || cell.notes_fail(args.matrix.deny_warnings)
        });
        let code = if fails { EXIT_FINDINGS } else { EXIT_OK };
        return Ok(Checked {
            text,
            code,
            comparison,
            run,
            baseline: previous,
            folder,
            sweep,
        });
    }
    Ok(Checked {
        code: super::exit_code(comparison.fails_with(args.matrix.deny_warnings)),
        text,
        comparison,
        run,
        baseline: previous,
        folder,
        sweep,
    })
}
