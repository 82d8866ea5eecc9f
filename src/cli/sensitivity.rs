//! `dfpolicy sensitivity --policy FILE [--workload W]... [--keys GLOB] [--jobs N] [--format human|json]
//! [--audit] [--no-bisect]`

use std::io::Write;
use std::path::PathBuf;

use super::{EXIT_FINDINGS, EXIT_OK, ListFormat, Stop, emit, pretty_json};
use crate::registry::SettingClass;
use crate::sensitivity::{self, Sensitivity, SweepOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The base policy: every candidate is it with one setting changed.
    #[arg(long, default_value = "policies/baseline.toml")]
    policy: PathBuf,
    /// The workloads to sweep (repeat for several): a workload file, a snapshot folder's
    /// `workload.toml`, or a built-in workload. Default: `tpch`; with `--audit`, `tpch` and `tpch-sf100`.
    #[arg(long)]
    workload: Vec<PathBuf>,
    /// Only the keys matching this glob (`datafusion.optimizer.*`).
    #[arg(long)]
    keys: Option<String>,
    /// Candidates planned at once (default: the core count).
    #[arg(long)]
    jobs: Option<usize>,
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
    /// Check the classification: every execution-only and writer key must move no plan and no
    /// rendering, every display key only renderings. Exit 1 when a key breaks its class.
    #[arg(long)]
    audit: bool,
    /// Do not look for the exact flip points of integer keys.
    #[arg(long)]
    no_bisect: bool,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let policy = crate::Policy::load(&args.policy).map_err(|error| {
        super::usage(format!(
            "the policy `{}` does not load: {}",
            args.policy.display(),
            crate::report::causes::one_line(&error)
        ))
    })?;
    let keys = args
        .keys
        .as_deref()
        .map(glob::Pattern::new)
        .transpose()
        .map_err(|e| super::usage(format!("`--keys`: {e}")))?;
    let mut options = SweepOptions {
        keys,
        bisect: !args.no_bisect,
        ..SweepOptions::default()
    };
    if let Some(jobs) = args.jobs {
        options.jobs = jobs.max(1);
    }
    if args.audit {
        options.classes = vec![
            SettingClass::ExecutionOnly,
            SettingClass::Writer,
            SettingClass::Display,
        ];
        options.bisect = false;
    }
    let workloads = match (&args.workload[..], args.audit) {
        ([], true) => vec![PathBuf::from("tpch"), PathBuf::from("tpch-sf100")],
        ([], false) => vec![PathBuf::from("tpch")],
        (named, _) => named.to_vec(),
    };
    let workloads = workloads
        .iter()
        .map(|path| super::workload::load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let sweeps = sensitivity::sweep_workloads(&policy.compiled, &workloads, &options)?;
    let mut code = EXIT_OK;
    if args.audit {
        for broken in sweeps.iter().flat_map(Sensitivity::class_breaks) {
            code = EXIT_FINDINGS;
            eprintln!("finding: {broken}");
        }
    }
    let text = match args.format {
        ListFormat::Text => sweeps
            .iter()
            .map(sensitivity::human)
            .collect::<Vec<_>>()
            .join("\n"),
        ListFormat::Json if sweeps.len() == 1 => pretty_json(&sweeps[0]),
        ListFormat::Json => pretty_json(&sweeps),
    };
    emit(out, &text)?;
    Ok(code)
}
