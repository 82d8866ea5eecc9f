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
pub mod compare;
mod first_rule;
mod policies;
pub mod report;
pub mod sensitivity;
mod snapshot;

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::bundle::{Bundler, CaptureStep, PlanBundle};
use crate::session::SessionFactory;
use crate::workload::{Query, Workload};

pub use baseline::{Baseline, BaselineError};
pub use compare::{Cause, CellChange, CellStatus, Comparison, compare, plan_content_digest};
pub use first_rule::{FirstDifference, TraceStepId, plans_at_first_differing_rule};
pub use policies::{PolicySet, PolicyUnavailable, PolicyUnderTest, UnreadablePolicies};
pub use snapshot::{
    SNAPSHOT_WORKLOAD_FILE, SnapshotCaptureError, SnapshotWriteError, capture_snapshot,
    snapshot_tpch, write_snapshot_folder,
};

/// One cell of the matrix: a policy's name and a query's name, with the parameter set after `@`
/// when the query has sets (`q01@early`). Ordered by policy, then query.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    pub policy: String,
    pub query: String,
}

impl CellKey {
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
        bundle: Box<PlanBundle>,
        /// `None`, or the first difference between builds of the same bundle (a determinism bug).
        repeat_difference: Option<String>,
    },
    /// The policy did not load, the workload could not be set up under it, the bundle failed, or
    /// its query did not plan (a warning of the SQL planner, parameter binding, logical optimizer or
    /// physical planner step).
    Failed { error: String },
}

impl Cell {
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
    pub workload: String,
    pub datafusion_version: String,
    /// The policies, by name, as loaded.
    pub policies: BTreeMap<String, PolicyUnderTest>,
    pub cells: BTreeMap<CellKey, Cell>,
}

/// A failure that stops the whole run (a single cell's failure does not).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("cannot start a tokio runtime")]
    Runtime(#[source] std::io::Error),
    #[error("a harness worker panicked")]
    WorkerPanicked,
}

/// Why no cell of a policy can be built: it does not load, or its workload cannot be set up under it.
#[derive(Debug, thiserror::Error)]
enum PolicySetupError {
    #[error(transparent)]
    Policy(#[from] PolicyUnavailable),
    #[error("no session can be built")]
    Session(#[source] datafusion::error::DataFusionError),
    #[error("the workload cannot be set up")]
    Workload(#[source] crate::workload::WorkloadError),
}

/// Whether a run draws a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// On a terminal's stderr, unless `CI` is set.
    Auto,
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

    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// The cells this run builds: every loaded policy × every query (each parameter set of a query
    /// with sets), sorted.
    pub fn cells(&self) -> Vec<CellKey> {
        let mut keys: Vec<CellKey> = self
            .policies
            .policies
            .keys()
            .flat_map(|policy| {
                query_cells(self.workload)
                    .into_iter()
                    .map(move |(query, _, _)| CellKey::new(policy.clone(), query))
            })
            .collect();
        keys.sort();
        keys
    }

    /// Builds every cell. Cells of a policy that does not load, and bundles that fail, become failed
    /// cells; only a failure to start the workers stops the run.
    pub fn run(&self) -> Result<HarnessRun, HarnessError> {
        let setup = runtime()?;
        let queries = query_cells(self.workload);
        // One bundler per policy: the workload's tables registered once (and its data generated
        // on first use), shared by the workers.
        let mut bundlers: BTreeMap<&str, Result<Bundler, PolicySetupError>> = BTreeMap::new();
        for (name, policy) in &self.policies.policies {
            let bundler = match &policy.compiled {
                Ok(compiled) => SessionFactory::new(compiled.clone())
                    .map_err(PolicySetupError::Session)
                    .and_then(|factory| {
                        setup
                            .block_on(Bundler::new(&factory, self.workload))
                            .map_err(PolicySetupError::Workload)
                    }),
                Err(error) => Err(PolicySetupError::Policy(error.clone())),
            };
            bundlers.insert(name.as_str(), bundler);
        }
        drop(setup);

        let work: Vec<WorkItem> = bundlers
            .iter()
            .flat_map(|(policy, bundler)| {
                queries.iter().map(move |(name, query, set)| {
                    (CellKey::new(*policy, name.clone()), bundler, *query, *set)
                })
            })
            .collect();
        let bar = progress_bar(self.progress, work.len() as u64);
        let repeat = self.repeat;
        let built = on_workers(self.jobs, &work, |runtime, (key, bundler, query, set)| {
            let cell = match bundler {
                Ok(bundler) => build_cell(runtime, bundler, query, *set, repeat),
                // Every cell of the policy fails with its message: the chain on a line.
                Err(error) => Cell::Failed {
                    error: crate::report::causes::one_line(error),
                },
            };
            bar.set_message(key.to_string());
            bar.inc(1);
            cell
        })?;
        let cells = work
            .iter()
            .zip(built)
            .map(|((key, ..), cell)| (key.clone(), cell))
            .collect();
        bar.finish_and_clear();
        Ok(HarnessRun {
            workload: self.workload.name.clone(),
            datafusion_version: crate::registry::DATAFUSION_VERSION.to_string(),
            policies: self.policies.policies.clone(),
            cells,
        })
    }
}

/// One cell to build: its key, its policy's bundler (or why there is none), the query and the
/// parameter set.
type WorkItem<'a> = (
    CellKey,
    &'a Result<Bundler, PolicySetupError>,
    &'a Query,
    Option<&'a str>,
);

/// The core count, or 1 when it cannot be read.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Every query of the workload as cells: `(cell name, query, parameter set)`; a query with
/// parameter sets gives one cell per set (`q01@early`).
fn query_cells(workload: &Workload) -> Vec<(String, &Query, Option<&str>)> {
    let mut cells = Vec::new();
    for query in workload.queries() {
        if query.parameter_sets.is_empty() {
            cells.push((query.name.clone(), query, None));
        } else {
            for set in &query.parameter_sets {
                cells.push((
                    format!("{}@{}", query.name, set.name),
                    query,
                    Some(set.name.as_str()),
                ));
            }
        }
    }
    cells.sort_by(|a, b| a.0.cmp(&b.0));
    cells
}

/// Builds one bundle, `repeat` times; a bundle that fails is a failed cell.
fn build_cell(
    runtime: &tokio::runtime::Runtime,
    bundler: &Bundler,
    query: &Query,
    set: Option<&str>,
    repeat: usize,
) -> Cell {
    let build = || {
        let mut builder = bundler.bundle(query);
        if let Some(set) = set {
            builder = builder.parameters(set);
        }
        runtime.block_on(builder.build())
    };
    let first = match build() {
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
        let again = build();
        let difference = match again {
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

/// A current-thread runtime per worker: planning is CPU work, and each worker plans one bundle at a
/// time.
/// Runs `each` over `work` on `jobs` threads, each with an async runtime of its own that `each`
/// blocks on; the results in the order of `work`, whatever the number of threads.
pub(crate) fn on_workers<T: Sync, R: Send>(
    jobs: usize,
    work: &[T],
    each: impl Fn(&tokio::runtime::Runtime, &T) -> R + Sync,
) -> Result<Vec<R>, HarnessError> {
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, R>> = Mutex::default();
    std::thread::scope(|scope| -> Result<(), HarnessError> {
        let mut workers = Vec::new();
        for _ in 0..jobs.min(work.len()).max(1) {
            let runtime = runtime()?;
            let (next, results, each) = (&next, &results, &each);
            workers.push(scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = work.get(index) else { break };
                    let result = each(&runtime, item);
                    results
                        .lock()
                        .expect("no worker panics")
                        .insert(index, result);
                }
            }));
        }
        for worker in workers {
            worker.join().map_err(|_| HarnessError::WorkerPanicked)?;
        }
        Ok(())
    })?;
    Ok(results
        .into_inner()
        .expect("no worker panics")
        .into_values()
        .collect())
}

fn runtime() -> Result<tokio::runtime::Runtime, HarnessError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(HarnessError::Runtime)
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
