//! What every command that runs the matrix (`harness`, `check`) takes, and how it is applied.

use std::path::PathBuf;

use super::Stop;
use crate::check::{Check, Checked};
use crate::harness::{self, Harness};
use crate::store::{AppendedRun, ArtifactStore};

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

impl MatrixArgs {
    /// A harness over `policies` × `workload` with these arguments' jobs and progress.
    pub fn harness<'a>(
        &self,
        policies: &'a harness::PolicySet,
        workload: &'a crate::workload::Workload,
    ) -> Harness<'a> {
        let mut harness = Harness::new(policies, workload);
        if let Some(jobs) = self.jobs {
            harness = harness.jobs(jobs);
        }
        if self.quiet {
            harness = harness.progress(harness::Progress::Hidden);
        }
        harness
    }

    /// `check` with these arguments' jobs, progress and store.
    pub fn apply(&self, mut check: Check) -> Result<Check, Stop> {
        if let Some(jobs) = self.jobs {
            check = check.jobs(jobs);
        }
        if self.quiet {
            check = check.progress(harness::Progress::Hidden);
        }
        if let Some(location) = &self.store {
            check = check.store(ArtifactStore::new(location.clone())?);
        }
        Ok(check)
    }
}

/// Says where a checked run was stored, if it was.
pub(super) fn say_stored(checked: &Checked, args: &MatrixArgs) {
    if let (Some(appended), Some(location)) = (&checked.stored, &args.store) {
        say_appended(appended, location);
    }
}

pub(super) fn say_appended(appended: &AppendedRun, location: &str) {
    eprintln!(
        "stored run {} ({} rows, table version {}) in `{location}`",
        appended.run_id, appended.rows, appended.version
    );
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
