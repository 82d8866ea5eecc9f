//! The harness: every policy × every query of a workload as a matrix of plan bundles, written as a
//! reviewable baseline folder ([`baseline`]), compared with a committed one and every change
//! attributed to its causes ([`compare`]), and reported for people, machines and GitHub
//! ([`report`]).
//!
//! ```no_run
//! use dfpolicy::harness::{Harness, PolicySet};
//! use dfpolicy::Workload;
//! let policies = PolicySet::load("policies")?;
//! let workload = Workload::load("tpch")?;
//! let run = Harness::new(&policies, &workload).jobs(2).run()?;
//! for (key, cell) in &run.cells {
//!     println!("{key}: {}", if cell.bundle().is_some() { "ok" } else { "failed" });
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod baseline;
pub(crate) mod compare;
mod first_rule;
pub mod planning;
mod policies;
pub mod report;
mod snapshot;

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::bundle::{Bundler, CaptureStep, PlanBundle};
use crate::workload::Workload;
use planning::{PlanningEnvironment, PlanningError, QueryCell, plan_cells};

pub use baseline::{Baseline, BaselineError};
pub use compare::{Cause, CellChange, CellStatus, Comparison, compare, plan_content_digest};
pub(crate) use first_rule::first_differing_rule;
pub use first_rule::{FirstDifference, TraceStepId, plans_at_first_differing_rule};
pub use planning::default_jobs;
pub use policies::{PolicySet, PolicyUnavailable, PolicyUnderTest, UnreadablePolicies};
pub use snapshot::{
    SNAPSHOT_WORKLOAD_FILE, SnapshotCaptureError, SnapshotWriteError, capture_snapshot,
    snapshot_tpch, write_snapshot_folder,
};

/// One cell of the matrix: a policy's name and a query's name, with the parameter set after `@`
/// when the query has sets (`q01@early`). Ordered by policy, then query.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    /// The policy.
    pub policy: String,
    /// The query.
    pub query: String,
}

impl CellKey {
    /// The cell of `query` under `policy`.
    pub fn new(policy: impl Into<String>, query: impl Into<String>) -> CellKey {
        CellKey {
            policy: policy.into(),
            query: query.into(),
        }
    }

    /// `policy/query`, as the index and the reports write it.
    pub fn parse(text: &str) -> Option<CellKey> {
        let (policy, query) = text.split_once('/')?;
        Some(CellKey::new(policy, query))
    }
}

impl fmt::Display for CellKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.policy, self.query)
    }
}

/// What one cell produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The bundle. With `repeat`, the first build, and what a later build did differently.
    Built {
        /// The bundle.
        bundle: Box<PlanBundle>,
        /// `None`, or the first difference between builds of the same bundle (a determinism bug).
        repeat_difference: Option<String>,
    },
    /// The policy did not load, the workload could not be set up under it, the bundle failed, or
    /// its query did not plan (a warning of the SQL planner, parameter binding, logical optimizer or
    /// physical planner step).
    Failed {
        /// The error, on one line.
        error: String,
    },
}

impl Cell {
    /// The bundle of a built cell.
    pub fn bundle(&self) -> Option<&PlanBundle> {
        match self {
            Cell::Built { bundle, .. } => Some(bundle),
            Cell::Failed { .. } => None,
        }
    }
}

/// Every cell of one harness run, sorted.
#[derive(Debug, Clone)]
pub struct HarnessRun {
    /// The workload's name.
    pub workload: String,
    /// The DataFusion release that planned it.
    pub datafusion_version: String,
    /// The policies, by name, as loaded.
    pub policies: BTreeMap<String, PolicyUnderTest>,
    /// Every cell.
    pub cells: BTreeMap<CellKey, Cell>,
}

/// A failure that stops the whole run (a single cell's failure does not).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The async runtime did not start.
    #[error("cannot start a tokio runtime")]
    Runtime(#[source] std::io::Error),
    /// A worker thread panicked.
    #[error("a harness worker panicked")]
    WorkerPanicked,
}

/// Why no cell of a policy can be built: it does not load, or its workload cannot be set up under it.
#[derive(Debug, thiserror::Error)]
enum PolicySetupError {
    #[error(transparent)]
    Policy(#[from] PolicyUnavailable),
    #[error(transparent)]
    Planning(PlanningError),
}

/// Whether a run draws a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// On a terminal's stderr, unless `CI` is set.
    Auto,
    /// Never.
    Hidden,
}

/// One harness run to make: `.jobs(n)`, `.repeat(n)`, `.progress(..)`, then `.run()`.
pub struct Harness<'a> {
    policies: &'a PolicySet,
    workload: &'a Workload,
    jobs: usize,
    repeat: usize,
    progress: Progress,
}

impl<'a> Harness<'a> {
    /// A run of every policy of `policies` × every query cell of `workload`.
    ///
    /// ```
    /// use dfpolicy::harness::{Harness, PolicySet, Progress};
    /// let policies = PolicySet::load("policies/baseline.toml")?;
    /// let sales = dfpolicy::Workload::load("workloads/sales/sales.toml")?;
    /// let run = Harness::new(&policies, &sales)
    ///     .progress(Progress::Hidden)
    ///     .run()?;
    /// // Three queries, one of them with two parameter sets: four cells per policy.
    /// assert_eq!(run.cells.len(), policies.policies.len() * 4);
    /// assert!(run.cells.values().all(|cell| cell.bundle().is_some()));
    /// # Ok::<(), dfpolicy::Error>(())
    /// ```
    pub fn new(policies: &'a PolicySet, workload: &'a Workload) -> Harness<'a> {
        Harness {
            policies,
            workload,
            jobs: default_jobs(),
            repeat: 1,
            progress: Progress::Auto,
        }
    }

    /// Bundles built at once (default: the core count). The output does not depend on it.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Builds every bundle this many times and records the first difference between builds.
    pub fn repeat(mut self, times: usize) -> Self {
        self.repeat = times.max(1);
        self
    }

    /// Whether the run draws a progress bar (default: on a terminal, unless `CI` is set).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// The cells this run builds: every loaded policy × every query (each parameter set of a query
    /// with sets), sorted.
    ///
    /// A query file that did not load is a cell too (it fails with its findings): nothing the user
    /// wrote disappears from a run.
    pub fn cells(&self) -> Vec<CellKey> {
        let mut names: Vec<String> = planning::query_cells(self.workload)
            .iter()
            .map(QueryCell::name)
            .chain(
                self.workload
                    .unplanned_queries()
                    .iter()
                    .map(|query| query.name.clone()),
            )
            .collect();
        names.sort();
        self.policies
            .policies
            .keys()
            .flat_map(|policy| {
                names
                    .iter()
                    .map(move |name| CellKey::new(policy.clone(), name.clone()))
            })
            .collect()
    }

    /// Builds every cell. Cells of a policy that does not load, and bundles that fail, become failed
    /// cells; only a failure to start the workers stops the run.
    ///
    /// One policy after another through the one planning loop ([`planning::plan_cells`]): the
    /// policies share one runtime environment (footers and statistics read once), and only one
    /// policy's tables are registered at a time.
    pub fn run(&self) -> Result<HarnessRun, HarnessError> {
        let environment = PlanningEnvironment::new().jobs(self.jobs);
        let keys = self.cells();
        let bar = progress_bar(self.progress, keys.len() as u64);
        let repeat = self.repeat;
        let mut cells = BTreeMap::new();
        for (name, policy) in &self.policies.policies {
            let built = match &policy.compiled {
                Ok(compiled) => plan_cells(
                    compiled,
                    self.workload,
                    &environment,
                    async |bundler, cell| {
                        let built = build_cell(bundler, cell, repeat).await;
                        bar.set_message(format!("{name}/{}", cell.name()));
                        bar.inc(1);
                        built
                    },
                )
                .map_err(PolicySetupError::Planning),
                Err(error) => Err(PolicySetupError::Policy(error.clone())),
            };
            for unplanned in self.workload.unplanned_queries() {
                bar.inc(1);
                let error = unplanned.summary();
                cells.insert(
                    CellKey::new(name.clone(), &unplanned.name),
                    Cell::Failed { error },
                );
            }
            match built {
                Ok(built) => {
                    for (query, cell) in built {
                        cells.insert(CellKey::new(name.clone(), query), cell);
                    }
                }
                Err(PolicySetupError::Planning(PlanningError::WorkerPanicked)) => {
                    return Err(HarnessError::WorkerPanicked);
                }
                Err(PolicySetupError::Planning(PlanningError::Runtime(error))) => {
                    return Err(HarnessError::Runtime(error));
                }
                // Every cell of the policy fails with its message: the chain on a line.
                Err(error) => {
                    let error = crate::report::causes::one_line(&error);
                    let failing: Vec<&CellKey> = keys
                        .iter()
                        .filter(|key| key.policy == *name && !cells.contains_key(*key))
                        .collect();
                    for key in failing {
                        bar.inc(1);
                        cells.insert(
                            key.clone(),
                            Cell::Failed {
                                error: error.clone(),
                            },
                        );
                    }
                }
            }
        }
        bar.finish_and_clear();
        Ok(HarnessRun {
            workload: self.workload.name.clone(),
            datafusion_version: crate::registry::DATAFUSION_VERSION.to_string(),
            policies: self.policies.policies.clone(),
            cells,
        })
    }
}

/// Builds one bundle, `repeat` times; a bundle that fails is a failed cell.
async fn build_cell(bundler: &Bundler, cell: &QueryCell<'_>, repeat: usize) -> Cell {
    let first = match cell.bundle(bundler).build().await {
        Ok(bundle) => bundle,
        Err(error) => {
            return Cell::Failed {
                error: bundler
                    .normalizer()
                    .normalize(&crate::report::causes::one_line(&error)),
            };
        }
    };
    // A query that does not plan is a failed cell: the bundle would carry no plans to compare.
    let planning: Vec<String> = first
        .warnings
        .iter()
        .filter(|w| {
            matches!(
                w.step,
                CaptureStep::InitialLogical
                    | CaptureStep::BindParameters
                    | CaptureStep::OptimizedLogical
                    | CaptureStep::Physical
            )
        })
        .map(|w| format!("{}: {}", w.step, w.message))
        .collect();
    if !planning.is_empty() {
        return Cell::Failed {
            error: planning.join("; "),
        };
    }
    let mut repeat_difference = None;
    for attempt in 2..=repeat {
        let difference = match cell.bundle(bundler).build().await {
            Ok(bundle) if bundle == first => None,
            Ok(bundle) => Some(format!(
                "build {attempt} differs from build 1: {}",
                first_json_difference(&first.to_json(), &bundle.to_json())
            )),
            Err(error) => Some(format!(
                "build {attempt} failed: {}",
                crate::report::causes::one_line(&error)
            )),
        };
        if difference.is_some() {
            repeat_difference = difference;
            break;
        }
    }
    Cell::Built {
        bundle: Box::new(first),
        repeat_difference,
    }
}

/// The first line that differs between two texts, both sides.
fn first_json_difference(left: &str, right: &str) -> String {
    let mut lines = left.lines().zip(right.lines()).enumerate();
    match lines.find(|(_, (l, r))| l != r) {
        Some((number, (l, r))) => format!("line {}: `{}` vs `{}`", number + 1, l.trim(), r.trim()),
        None => "one is longer".to_string(),
    }
}

fn progress_bar(progress: Progress, length: u64) -> ProgressBar {
    let visible = progress == Progress::Auto
        && std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none();
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(length), target);
    bar.set_style(
        ProgressStyle::with_template("bundles [{bar:30}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}
