//! `check` as one library call: every policy × every query cell of a workload built through the
//! harness, compared with the workload's committed baseline, every change attributed to its causes
//! and explained by the baseline's settings sweep; with [`Check::bless`], the baseline (and its
//! sweep) rewritten instead; with [`Check::store`], the run appended to an artifact store.
//! `dfpolicy check` and `dfpolicy harness --out` are this call and a renderer.
//!
//! Options first, then `.await` (delta-rs' operation builders), or [`Check::run`] from synchronous
//! code:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use dfpolicy::harness::{PolicySet, report};
//! use dfpolicy::{Check, Workload};
//! let checked = Check::new(PolicySet::load("policies")?, Workload::load("tpch")?)
//!     .baseline("baselines/tpch")
//!     .jobs(2)
//!     .await?;
//! print!("{}", report::human(&checked.comparison));
//! std::process::exit(if checked.fails() { 1 } else { 0 });
//! # }
//! ```
//!
//! It sits after [`crate::store`] in the pipeline: it uses the harness, the sweep and the store,
//! and nothing below it uses it.

use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use crate::harness::baseline::{self, Baseline, BaselineError};
use crate::harness::planning::{PlanningError, on_workers};
use crate::harness::{
    self, CellStatus, Comparison, Harness, HarnessError, HarnessRun, PolicySet, Progress,
};
use crate::sensitivity::{self, Sensitivity, SensitivityError, SweepOptions};
use crate::store::{AppendedRun, ArtifactStore, RunContext, StoreError};
use crate::workload::Workload;

/// One workload checked against its baseline: options, then [`Check::run`] or `.await`.
#[derive(Debug, Clone)]
pub struct Check {
    policies: PolicySet,
    workload: Workload,
    baseline: Option<PathBuf>,
    bless: bool,
    sweep: bool,
    repeat: usize,
    jobs: Option<usize>,
    progress: Progress,
    deny_warnings: bool,
    store: Option<ArtifactStore>,
}

/// What a check found and did.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The baseline folder compared with (and written, when blessing).
    pub baseline_folder: PathBuf,
    /// The baseline as it was before the run; `None` when there was none (only when blessing).
    pub baseline: Option<Baseline>,
    /// Every cell of the run.
    pub run: HarnessRun,
    /// The run against the baseline, each changed cell with its causes and, where the baseline
    /// keeps a sweep, whether the sweep expected it.
    pub comparison: Comparison,
    /// The baseline's sweep, which the comparison was explained with; after a bless, the sweep
    /// it wrote.
    pub sensitivity: Option<Sensitivity>,
    /// What a bless wrote; `None` when the check did not bless.
    pub blessed: Option<Blessed>,
    /// The row the run became in the artifact store, with [`Check::store`].
    pub stored: Option<AppendedRun>,
    deny_warnings: bool,
    bless: bool,
}

/// What [`Check::bless`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blessed {
    /// The sweep's file beside the baseline, when one was written.
    pub sensitivity_file: Option<PathBuf>,
}

/// Why a check could not be made (a changed or failed cell is a finding, not an error).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// No baseline to compare with, and the check does not bless.
    #[error(
        "no baseline at `{}` (no index.json): `dfpolicy check --bless` writes one",
        folder.display()
    )]
    NoBaseline {
        /// The folder that has no baseline.
        folder: PathBuf,
    },
    /// The harness run stopped.
    #[error(transparent)]
    Harness(#[from] HarnessError),
    /// The baseline could not be read or written.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// Blessing could not sweep the reference policy's settings.
    #[error("cannot sweep the reference policy's settings for the baseline")]
    Sensitivity(#[from] SensitivityError),
    /// The run could not be appended to the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The worker that writes the run to the store failed.
    #[error("cannot write the run to the store")]
    StoreWorker(#[source] PlanningError),
    /// The check's task stopped (panicked or was cancelled).
    #[error("the check's task stopped")]
    Task(#[source] tokio::task::JoinError),
}

impl Check {
    /// Every policy of `policies` × every query cell of `workload`, against
    /// `baselines/<workload name>` unless [`Check::baseline`] says otherwise.
    ///
    /// ```
    /// use dfpolicy::Check;
    /// use dfpolicy::harness::{CellStatus, PolicySet, Progress};
    /// let baseline = tempfile::tempdir().unwrap();
    /// let check = |bless| -> dfpolicy::Result<dfpolicy::Checked> {
    ///     let policies = PolicySet::load("policies/baseline.toml")?;
    ///     let sales = dfpolicy::Workload::load("workloads/sales/sales.toml")?;
    ///     Ok(Check::new(policies, sales)
    ///         .baseline(baseline.path())
    ///         .bless(bless)
    ///         .sweep_on_bless(false)
    ///         .progress(Progress::Hidden)
    ///         .run()?)
    /// };
    /// check(true)?; // writes the baseline
    /// let checked = check(false)?; // compares with it
    /// let statuses: Vec<_> = checked.comparison.cells.iter().map(|c| c.status).collect();
    /// assert_eq!(statuses, [CellStatus::Unchanged; 4]);
    /// // It still fails: CSV files carry no row counts, below the policy's
    /// // `minimum_quality = "estimated"`, a finding of every bundle.
    /// assert!(checked.fails());
    /// # Ok::<(), dfpolicy::Error>(())
    /// ```
    pub fn new(policies: PolicySet, workload: Workload) -> Check {
        Check {
            policies,
            workload,
            baseline: None,
            bless: false,
            sweep: true,
            repeat: 1,
            jobs: None,
            progress: Progress::Auto,
            deny_warnings: false,
            store: None,
        }
    }

    /// The baseline folder (default: `baselines/<workload name>`, relative to the working
    /// directory).
    pub fn baseline(mut self, folder: impl Into<PathBuf>) -> Self {
        self.baseline = Some(folder.into());
        self
    }

    /// Rewrite the baseline with this run's bundles instead of failing on changes; no baseline
    /// is needed before. The check still fails on failed or unstable cells and on findings.
    pub fn bless(mut self, bless: bool) -> Self {
        self.bless = bless;
        self
    }

    /// Whether a bless also sweeps the reference policy's settings and keeps the sweep beside the
    /// baseline (default: yes; `dfpolicy harness --out` writes bundles only).
    pub fn sweep_on_bless(mut self, sweep: bool) -> Self {
        self.sweep = sweep;
        self
    }

    /// Build every bundle this many times; a bundle that differs between builds fails the check.
    pub fn repeat(mut self, times: usize) -> Self {
        self.repeat = times.max(1);
        self
    }

    /// Cells planned at once (default: the core count); the result does not depend on it.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = Some(jobs.max(1));
        self
    }

    /// Whether the run draws a progress bar (default: on a terminal, unless `CI` is set).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Fail on advisory warnings too (a join planned over unknown row counts, say).
    pub fn deny_warnings(mut self, deny: bool) -> Self {
        self.deny_warnings = deny;
        self
    }

    /// Append the run to this artifact store (one row per cell).
    pub fn store(mut self, store: ArtifactStore) -> Self {
        self.store = Some(store);
        self
    }

    /// The baseline folder this check reads (and a bless writes).
    pub fn baseline_folder(&self) -> PathBuf {
        self.baseline
            .clone()
            .unwrap_or_else(|| Path::new("baselines").join(&self.workload.name))
    }

    /// Builds, compares, attributes, explains, and blesses or stores as asked. Blocks: the
    /// harness plans on worker threads of its own.
    pub fn run(self) -> Result<Checked, CheckError> {
        let folder = self.baseline_folder();
        let previous = if baseline::exists(&folder) {
            Some(baseline::read(&folder)?)
        } else if self.bless {
            None
        } else {
            return Err(CheckError::NoBaseline { folder });
        };
        let mut harness = Harness::new(&self.policies, &self.workload)
            .repeat(self.repeat)
            .progress(self.progress);
        if let Some(jobs) = self.jobs {
            harness = harness.jobs(jobs);
        }
        let run = harness.run()?;
        let stored = match &self.store {
            Some(store) => Some(append(store, &run)?),
            None => None,
        };
        let mut comparison = harness::compare(previous.as_ref(), &run);
        // Changes are explained with the sweep the baseline kept: was this change expected
        // before the run?
        let mut sweep = sensitivity::read_beside(&folder);
        if let Some(sweep) = &sweep {
            sensitivity::explain(&mut comparison, sweep);
        }
        let mut blessed = None;
        if self.bless {
            baseline::write(&run, &folder)?;
            let mut sensitivity_file = None;
            // The sweep `check` explains changes with: every key of the reference policy over
            // this workload.
            if let Some(reference) = self
                .sweep
                .then(|| sensitivity::reference_policy(&self.policies))
                .flatten()
            {
                let mut options = SweepOptions::default();
                if let Some(jobs) = self.jobs {
                    options.jobs = jobs;
                }
                let new_sweep = sensitivity::sweep(reference, &self.workload, &options)?;
                sensitivity_file = Some(sensitivity::write_beside(&new_sweep, &folder)?);
                sweep = Some(new_sweep);
            }
            blessed = Some(Blessed { sensitivity_file });
        }
        Ok(Checked {
            baseline_folder: folder,
            baseline: previous,
            run,
            comparison,
            sensitivity: sweep,
            blessed,
            stored,
            deny_warnings: self.deny_warnings,
            bless: self.bless,
        })
    }
}

impl Checked {
    /// Whether the check fails (exit 1): a changed, added, removed, failed or unstable cell, or a
    /// bundle's findings (and advisory warnings, when denied). A bless accepts changes, not
    /// failures, findings or unstable bundles.
    pub fn fails(&self) -> bool {
        if self.bless {
            self.comparison.cells.iter().any(|cell| {
                matches!(cell.status, CellStatus::Failed | CellStatus::Unstable)
                    || cell.notes_fail(self.deny_warnings)
            })
        } else {
            self.comparison.fails_with(self.deny_warnings)
        }
    }
}

/// Appends `run` to `store` on a worker of its own (a check may itself run inside an async
/// runtime).
fn append(store: &ArtifactStore, run: &HarnessRun) -> Result<AppendedRun, CheckError> {
    let context = RunContext::detect();
    on_workers(1, &[()], |runtime, ()| {
        runtime.block_on(store.append(run, &context))
    })
    .map_err(CheckError::StoreWorker)?
    .pop()
    .expect("one result")
    .map_err(CheckError::Store)
}

impl IntoFuture for Check {
    type Output = Result<Checked, CheckError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    /// Runs the check on tokio's blocking pool, so the caller's runtime keeps serving other tasks.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || self.run())
                .await
                .map_err(CheckError::Task)?
        })
    }
}
