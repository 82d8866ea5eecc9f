//! The one planning loop: a workload's query cells planned under one compiled policy. Everything
//! that plans a workload — the harness's matrix, a snapshot capture, a settings sweep — calls
//! [`plan_cells`] and adds only what is its own (building whole bundles and repeating them, a
//! recording store, one changed setting).
//!
//! The loop owns what every caller needs alike: the session factory, the workload's tables
//! registered once in a [`Bundler`], each query's parameter sets as cells of their own, and the
//! workers (each a thread with its own single-threaded async runtime: planning is CPU work). The
//! sessions of every policy planned through one [`PlanningEnvironment`] share one DataFusion runtime
//! environment per distinct `[runtime]` section, so Parquet footers, file statistics and listings
//! are read and kept once per workload, not once per policy.
//!
//! ```no_run
//! use dfpolicy::harness::planning::{PlanningEnvironment, plan_cells};
//! use dfpolicy::{Policy, Workload};
//! let policy = Policy::load("policies/baseline.toml")?;
//! let workload = Workload::load("tpch")?;
//! let environment = PlanningEnvironment::new().jobs(2);
//! let plans = plan_cells(&policy.compiled, &workload, &environment, async |bundler, cell| {
//!     cell.bundle(bundler).plan().await.map(|plans| plans.physical.is_some())
//! })?;
//! for (cell, planned) in plans {
//!     println!("{cell}: {}", matches!(planned, Ok(true)));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::ObjectStore;

use crate::bundle::{BundleBuilder, Bundler};
use crate::compile::{CompiledPolicy, RuntimeSettings};
use crate::session::SessionFactory;
use crate::workload::{Query, Workload, WorkloadError};

/// One cell of a workload: a query, or one parameter set of a query with sets (`q01@early`).
#[derive(Debug, Clone, Copy)]
pub struct QueryCell<'a> {
    /// The query.
    pub query: &'a Query,
    /// The parameter set's name, for a query with sets.
    pub parameter_set: Option<&'a str>,
}

impl<'a> QueryCell<'a> {
    /// The cell's name: the query's, with `@set` for a parameter set.
    pub fn name(&self) -> String {
        match self.parameter_set {
            None => self.query.name.clone(),
            Some(set) => format!("{}@{set}", self.query.name),
        }
    }

    /// The cell's bundle in `bundler`, its parameter set chosen.
    pub fn bundle<'b>(&self, bundler: &'b Bundler) -> BundleBuilder<'b>
    where
        'a: 'b,
    {
        let builder = bundler.bundle(self.query);
        match self.parameter_set {
            Some(set) => builder.parameters(set),
            None => builder,
        }
    }
}

/// Every query of the workload as cells, sorted by name; a query with parameter sets gives one
/// cell per set.
pub fn query_cells(workload: &Workload) -> Vec<QueryCell<'_>> {
    let mut cells: Vec<QueryCell<'_>> = workload
        .queries()
        .iter()
        .flat_map(|query| {
            let sets: Vec<Option<&str>> = if query.parameter_sets.is_empty() {
                vec![None]
            } else {
                query
                    .parameter_sets
                    .iter()
                    .map(|set| Some(set.name.as_str()))
                    .collect()
            };
            sets.into_iter().map(move |parameter_set| QueryCell {
                query,
                parameter_set,
            })
        })
        .collect();
    cells.sort_by_key(QueryCell::name);
    cells
}

/// What the policies planned over one workload share: the runtime environments (one per distinct
/// `[runtime]` section, made on first use), object stores that replace the sessions' own for some
/// URLs, and the number of workers.
#[derive(Default)]
pub struct PlanningEnvironment {
    runtimes: Mutex<Vec<(RuntimeSettings, Arc<RuntimeEnv>)>>,
    object_stores: Vec<(url::Url, Arc<dyn ObjectStore>)>,
    jobs: Option<usize>,
}

impl PlanningEnvironment {
    /// An environment with nothing shared yet.
    pub fn new() -> PlanningEnvironment {
        PlanningEnvironment::default()
    }

    /// Cells planned at once (default: the core count). What is planned does not depend on it.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = Some(jobs.max(1));
        self
    }

    /// Sessions read `url` through `store` (see [`SessionFactory::with_object_store`]): how a
    /// snapshot capture records what planning reads.
    pub fn with_object_store(mut self, url: url::Url, store: Arc<dyn ObjectStore>) -> Self {
        self.object_stores.push((url, store));
        self
    }

    /// Policies whose `[runtime]` section is `settings` plan in `runtime` instead of one made from
    /// it: how a sweep gives its candidates caches large enough for a lake's footers.
    pub fn with_runtime_env(self, settings: RuntimeSettings, runtime: Arc<RuntimeEnv>) -> Self {
        self.runtimes
            .lock()
            .expect("no holder panics")
            .push((settings, runtime));
        self
    }

    fn job_count(&self) -> usize {
        self.jobs.unwrap_or_else(default_jobs)
    }

    /// The factory of `compiled`: its sessions share the runtime environment of every policy with
    /// the same `[runtime]` section, and read through this environment's object stores.
    pub fn factory(&self, compiled: &CompiledPolicy) -> Result<SessionFactory, PlanningError> {
        let mut factory = SessionFactory::new(compiled.clone()).map_err(PlanningError::Session)?;
        for (url, store) in &self.object_stores {
            factory = factory.with_object_store(url.clone(), Arc::clone(store));
        }
        let mut runtimes = self.runtimes.lock().expect("no holder panics");
        let shared = match runtimes.iter().find(|(s, _)| *s == compiled.runtime) {
            Some((_, runtime)) => Arc::clone(runtime),
            None => {
                let runtime = factory.runtime_env().map_err(PlanningError::Session)?;
                runtimes.push((compiled.runtime.clone(), Arc::clone(&runtime)));
                runtime
            }
        };
        Ok(factory.with_runtime_env(shared))
    }
}

/// Why a policy's cells cannot be planned at all (one cell's failure is the caller's business).
#[derive(Debug, thiserror::Error)]
pub enum PlanningError {
    /// DataFusion refused the policy's session.
    #[error("no session can be built")]
    Session(#[source] datafusion::error::DataFusionError),
    /// The workload's tables could not be registered.
    #[error("the workload cannot be set up")]
    Workload(#[source] Box<WorkloadError>),
    /// The async runtime did not start.
    #[error("cannot start a tokio runtime")]
    Runtime(#[source] std::io::Error),
    /// A worker thread panicked.
    #[error("a planning worker panicked")]
    WorkerPanicked,
}

/// Plans every cell of `workload` under `compiled`: the factory and the workload's tables set up
/// once (a built-in workload's data generated on first use), then `each` called for every cell on
/// the environment's workers, with the bundler and the cell. The results by cell name, sorted,
/// whatever the number of workers.
pub fn plan_cells<R: Send>(
    compiled: &CompiledPolicy,
    workload: &Workload,
    environment: &PlanningEnvironment,
    each: impl AsyncFn(&Bundler, &QueryCell<'_>) -> R + Sync,
) -> Result<BTreeMap<String, R>, PlanningError> {
    let factory = environment.factory(compiled)?;
    let cells = query_cells(workload);
    let names = cells.iter().map(QueryCell::name);
    let workload_error = |error| PlanningError::Workload(Box::new(error));
    let bundler = on_workers(1, &[()], |runtime, ()| {
        runtime.block_on(Bundler::new(&factory, workload))
    })?
    .pop()
    .expect("one result")
    .map_err(workload_error)?;
    let results = on_workers(environment.job_count(), &cells, |runtime, cell| {
        runtime.block_on(each(&bundler, cell))
    })?;
    Ok(names.zip(results).collect())
}

/// A runtime for one worker: single-threaded, since planning is CPU work done one cell at a time.
fn new_runtime() -> Result<tokio::runtime::Runtime, PlanningError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PlanningError::Runtime)
}

/// [`plan_cells`] on one worker the caller already has: the set-up and every cell in order on
/// `runtime`, on the caller's thread (which must not be inside an async runtime). How a sweep plans
/// each candidate on its own workers, whose runtimes (and their blocking threads, which read local
/// files) then live for the whole sweep instead of one candidate.
pub fn plan_cells_on<R>(
    runtime: &tokio::runtime::Runtime,
    compiled: &CompiledPolicy,
    workload: &Workload,
    environment: &PlanningEnvironment,
    each: impl AsyncFn(&Bundler, &QueryCell<'_>) -> R,
) -> Result<BTreeMap<String, R>, PlanningError> {
    let factory = environment.factory(compiled)?;
    let bundler = runtime
        .block_on(Bundler::new(&factory, workload))
        .map_err(|error| PlanningError::Workload(Box::new(error)))?;
    Ok(query_cells(workload)
        .iter()
        .map(|cell| (cell.name(), runtime.block_on(each(&bundler, cell))))
        .collect())
}

/// The core count, or 1 when it cannot be read.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `each` over `work` on `jobs` threads, each with an async runtime of its own that `each`
/// blocks on; the results in the order of `work`, whatever the number of threads. A current-thread
/// runtime per worker: planning is CPU work, and each worker plans one cell at a time. The threads
/// are new, so a caller inside an async runtime may call it (it blocks that caller's thread); one
/// worker outside an async runtime runs on the caller's thread.
pub(crate) fn on_workers<T: Sync, R: Send>(
    jobs: usize,
    work: &[T],
    each: impl Fn(&tokio::runtime::Runtime, &T) -> R + Sync,
) -> Result<Vec<R>, PlanningError> {
    // One worker on a thread outside any async runtime (a sweep's candidate, on the sweep's own
    // worker): no new thread, whose stack and allocator arena cost more than a small planning.
    if jobs.min(work.len()) <= 1 && tokio::runtime::Handle::try_current().is_err() {
        let runtime = new_runtime()?;
        return Ok(work.iter().map(|item| each(&runtime, item)).collect());
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, R>> = Mutex::default();
    std::thread::scope(|scope| -> Result<(), PlanningError> {
        let mut workers = Vec::new();
        for _ in 0..jobs.min(work.len()).max(1) {
            let runtime = new_runtime()?;
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
            worker.join().map_err(|_| PlanningError::WorkerPanicked)?;
        }
        Ok(())
    })?;
    Ok(results
        .into_inner()
        .expect("no worker panics")
        .into_values()
        .collect())
}
