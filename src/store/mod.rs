//! The artifact store: an append-only Delta table with one row per bundle of every harness run, so
//! that plans can be compared across runs, commits and machines, and non-determinism found after the
//! fact. Any Delta reader can read it; dfpolicy reads it back through DataFusion.
//!
//! ```no_run
//! # async fn run(harness_run: &dfpolicy::harness::HarnessRun) -> Result<(), Box<dyn std::error::Error>> {
//! use dfpolicy::store::{ArtifactStore, RunContext};
//! let store = ArtifactStore::new(".dfpolicy/store")?;
//! let appended = store.append(harness_run, &RunContext::detect()).await?;
//! println!("run {} ({} rows)", appended.run_id, appended.rows);
//! for run in store.runs().await? {
//!     println!("{} {} {} cells", run.run_id, run.started, run.cells);
//! }
//! # Ok(()) }
//! ```

mod rows;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::prelude::SessionContext;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError, ensure_table_uri};
use serde::Serialize;

use crate::bundle::PlanBundle;
use crate::compile::CompiledPolicy;
use crate::harness::baseline::{Baseline, BaselineIndex};
use crate::harness::{Cell, CellKey, Comparison, HarnessRun, PolicyUnderTest, compare};

pub use rows::{RunContext, store_schema};

/// How many times an append that lost a race (to create the table, or for a version) is made.
const COMMIT_ATTEMPTS: usize = 8;

/// A store that cannot be opened, written or read: where, what dfpolicy was doing, and the error
/// that stopped it (its `source`).
#[derive(Debug, thiserror::Error)]
#[error("artifact store `{location}`: {action}")]
pub struct StoreError {
    /// The store's location (credentials redacted).
    pub location: String,
    /// What dfpolicy was doing (`cannot append the run`).
    pub action: String,
    /// The error that stopped it.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The Delta table of a store, at a local path or (with the `cloud` feature) an object-store URL.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    location: String,
    url: url::Url,
    /// The bucket's store of an object-storage location, from the environment's settings.
    remote: Option<Arc<dyn object_store::ObjectStore>>,
}

/// What [`ArtifactStore::append`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppendedRun {
    /// The run's id (see [`RunContext::run_id`]).
    pub run_id: String,
    /// Rows written: one per cell.
    pub rows: usize,
    /// The table version of the commit.
    pub version: u64,
}

/// One run of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: String,
    /// RFC 3339, UTC.
    pub started: String,
    /// The commit the run was made at, when known.
    pub git_commit: Option<String>,
    /// The workload's name.
    pub workload: String,
    /// The DataFusion release that planned it.
    pub datafusion_version: String,
    /// Cells of the run.
    pub cells: u64,
    /// Cells that failed.
    pub failed: u64,
}

/// Bundles whose inputs were equal (same plan fingerprint, DataFusion version, policy and query)
/// but whose plans differed: a determinism bug in the planner or an input dfpolicy does not pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeterminismFinding {
    /// The policy's name.
    pub policy: String,
    /// The query cell's name.
    pub query: String,
    /// The fingerprint of the planning inputs that were equal.
    pub plan_fingerprint: String,
    /// The DataFusion release.
    pub datafusion_version: String,
    /// Each distinct plan content digest with the runs that produced it, sorted.
    pub variants: BTreeMap<String, Vec<String>>,
}

impl ArtifactStore {
    /// A store at `location`: a local folder (created on the first append) or, with the `cloud`
    /// feature, an object-store URL (`s3://bucket/path`, `az://container/path`, `gs://bucket/path`)
    /// whose store is configured from the environment alone (`AWS_*`, `AZURE_*`, `GOOGLE_*`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dfpolicy::Result<()> {
    /// use dfpolicy::harness::{Harness, PolicySet, Progress};
    /// use dfpolicy::store::{ArtifactStore, RunContext};
    /// let folder = tempfile::tempdir().unwrap();
    /// let store = ArtifactStore::new(folder.path().display().to_string())?;
    /// let policies = PolicySet::load("policies/baseline.toml")?;
    /// let sales = dfpolicy::Workload::load("workloads/sales/sales.toml")?;
    /// // A harness run makes its own runtime: run it off this one's thread.
    /// let run = std::thread::scope(|scope| {
    ///     scope
    ///         .spawn(|| Harness::new(&policies, &sales).progress(Progress::Hidden).run())
    ///         .join()
    ///         .unwrap()
    /// })?;
    /// let appended = store.append(&run, &RunContext::detect()).await?;
    /// assert_eq!(appended.rows, 4); // one per cell
    /// assert_eq!(store.runs().await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn new(location: impl Into<String>) -> Result<ArtifactStore, StoreError> {
        let location = location.into();
        if let Some((scheme, _)) = location.split_once("://")
            && crate::object_storage::StoreKind::of_scheme(scheme).is_some()
        {
            let url = url::Url::parse(&location).map_err(|e| error(&location, "not a URL", e))?;
            let shown = crate::object_storage::shown(&url);
            crate::object_storage::check_url(&url)
                .map_err(|e| error(&shown, "not a location", e))?;
            let remote = crate::object_storage::open::open_store(&url, &BTreeMap::new())
                .map_err(|e| error(&shown, "cannot open its object store", e))?;
            return Ok(ArtifactStore {
                location: shown,
                url,
                remote: Some(remote),
            });
        }
        if location.starts_with("file://") || !location.contains("://") {
            // A local folder: delta-rs wants it to exist to make a URL of it.
            let path = location.strip_prefix("file://").unwrap_or(&location);
            std::fs::create_dir_all(path)
                .map_err(|e| error(&location, "cannot create the folder", e))?;
        }
        let url =
            ensure_table_uri(&location).map_err(|e| error(&location, "not a table location", e))?;
        Ok(ArtifactStore {
            location: crate::secrets::redact(&location).into_owned(),
            url,
            remote: None,
        })
    }

    /// The store's table, loaded; a table not created yet is returned unloaded (`version()` is
    /// `None`), to be created by the first write.
    async fn table(&self) -> Result<DeltaTable, DeltaTableError> {
        let mut table =
            crate::workload::delta::builder(self.url.clone(), self.remote.as_ref())?.build()?;
        match table.load().await {
            Ok(()) | Err(DeltaTableError::NotATable(_)) => Ok(table),
            Err(e) => Err(e),
        }
    }

    /// Where the store is, as shown (credentials redacted).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Appends one row per cell of `run`, in one commit. Concurrent appends to one store each land
    /// once: delta-rs retries a commit that lost the race for a version, and an append that lost the
    /// race to create the table is made again on the table the winner created.
    pub async fn append(
        &self,
        run: &HarnessRun,
        context: &RunContext,
    ) -> Result<AppendedRun, StoreError> {
        let batch =
            rows::batch(run, context).map_err(|e| self.error("cannot make the run's rows", e))?;
        let rows = batch.num_rows();
        self.check_safe_commits().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let table = self
                .table()
                .await
                .map_err(|e| self.error("cannot open the table", e))?;
            let existed = table.version().is_some();
            match table
                .write(vec![batch.clone()])
                .with_save_mode(SaveMode::Append)
                .with_table_name("dfpolicy_artifacts")
                .await
            {
                Ok(table) => {
                    return Ok(AppendedRun {
                        run_id: context.run_id.clone(),
                        rows,
                        version: table.version().unwrap_or_default(),
                    });
                }
                // Another writer created the table first, or won every retry delta-rs made for
                // the next version: write again. A failed commit wrote nothing the table refers
                // to, so no row lands twice.
                Err(
                    DeltaTableError::Transaction { .. } | DeltaTableError::VersionAlreadyExists(_),
                ) if attempt < COMMIT_ATTEMPTS => continue,
                Err(_) if !existed && attempt < COMMIT_ATTEMPTS => continue,
                Err(e) => return Err(self.error("cannot commit the run", e)),
            }
        }
    }

    /// Every row of the table.
    async fn batches(&self) -> Result<Vec<RecordBatch>, StoreError> {
        let table = self
            .table()
            .await
            .map_err(|e| self.error("cannot open the table", e))?;
        if table.version().is_none() {
            return Ok(Vec::new());
        }
        let ctx = SessionContext::new();
        let provider = table
            .table_provider()
            .with_session(Arc::new(ctx.state()))
            .await
            .map_err(|e| self.error("cannot read the table", e))?;
        ctx.read_table(provider)
            .map_err(|e| self.error("cannot read the table", e))?
            .collect()
            .await
            .map_err(|e| self.error("cannot read the table", e))
    }

    /// Every run, oldest first.
    pub async fn runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        let mut runs: BTreeMap<String, RunSummary> = BTreeMap::new();
        for row in self.rows().await? {
            let run = runs
                .entry(row.run_id.clone())
                .or_insert_with(|| RunSummary {
                    run_id: row.run_id.clone(),
                    started: row.started.clone(),
                    git_commit: row.git_commit.clone(),
                    workload: row.workload.clone(),
                    datafusion_version: row.datafusion_version.clone(),
                    cells: 0,
                    failed: 0,
                });
            run.cells += 1;
            run.failed += u64::from(row.bundle.is_none());
        }
        let mut runs: Vec<RunSummary> = runs.into_values().collect();
        runs.sort_by(|a, b| (&a.started, &a.run_id).cmp(&(&b.started, &b.run_id)));
        Ok(runs)
    }

    /// Compares run `a` (as the baseline) with run `b`, with `check`'s attribution.
    pub async fn diff(&self, a: &str, b: &str) -> Result<Comparison, StoreError> {
        let rows = self.rows().await?;
        let (old, new) = (self.stored_run(&rows, a)?, self.stored_run(&rows, b)?);
        let baseline = Baseline {
            index: BaselineIndex::of(&old),
            environments: old
                .policies
                .iter()
                .filter_map(|(name, p)| p.compiled.clone().ok().map(|c| (name.clone(), c)))
                .collect(),
            bundles: old
                .cells
                .iter()
                .filter_map(|(key, cell)| cell.bundle().map(|b| (key.clone(), b.clone())))
                .collect(),
        };
        Ok(compare(Some(&baseline), &new))
    }

    /// Bundles of equal inputs whose plans differed, over every run of the store.
    pub async fn determinism(&self) -> Result<Vec<DeterminismFinding>, StoreError> {
        // Equal inputs: the same cell, plan fingerprint, DataFusion version and statement text (the
        // fingerprint abstracts constants away).
        type Inputs = (String, String, String, String, Option<String>);
        let mut groups: BTreeMap<Inputs, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for row in self.rows().await? {
            let (Some(fingerprint), Some(digest)) = (row.plan_fingerprint, row.plans_digest) else {
                continue;
            };
            let runs = groups
                .entry((
                    row.policy,
                    row.query,
                    fingerprint,
                    row.datafusion_version,
                    row.statement,
                ))
                .or_default()
                .entry(digest)
                .or_default();
            runs.push(row.run_id);
            runs.sort();
            runs.dedup();
        }
        Ok(groups
            .into_iter()
            .filter(|(_, variants)| variants.len() > 1)
            .map(
                |((policy, query, plan_fingerprint, datafusion_version, _), variants)| {
                    DeterminismFinding {
                        policy,
                        query,
                        plan_fingerprint,
                        datafusion_version,
                        variants,
                    }
                },
            )
            .collect())
    }

    /// A run of the store as a harness run: its policies' environments and its bundles.
    fn stored_run(&self, rows: &[StoredRow], run_id: &str) -> Result<HarnessRun, StoreError> {
        let mine: Vec<&StoredRow> = rows.iter().filter(|r| r.run_id == run_id).collect();
        let first = mine.first().ok_or_else(|| StoreError {
            location: self.location.clone(),
            action: format!("no run `{run_id}` in the store"),
            source: None,
        })?;
        let mut policies = BTreeMap::new();
        let mut cells = BTreeMap::new();
        for row in &mine {
            if let Some(settings) = &row.settings {
                let compiled = CompiledPolicy::from_json(settings).map_err(|e| {
                    self.error(
                        format!("run `{run_id}`: cannot read the policy `{}`", row.policy),
                        e,
                    )
                })?;
                policies
                    .entry(row.policy.clone())
                    .or_insert_with(|| PolicyUnderTest {
                        file: row.policy.clone(),
                        compiled: Ok(compiled),
                        chain: Vec::new(),
                    });
            }
            let cell = match (&row.bundle, &row.error) {
                (Some(bundle), _) => Cell::Built {
                    bundle: Box::new(PlanBundle::from_json(bundle).map_err(|e| {
                        self.error(
                            format!(
                                "run `{run_id}`: cannot read the bundle of `{}/{}`",
                                row.policy, row.query
                            ),
                            e,
                        )
                    })?),
                    repeat_difference: None,
                },
                (None, error) => Cell::Failed {
                    error: error.clone().unwrap_or_default(),
                },
            };
            cells.insert(CellKey::new(&row.policy, &row.query), cell);
        }
        Ok(HarnessRun {
            workload: first.workload.clone(),
            datafusion_version: first.datafusion_version.clone(),
            policies,
            cells,
        })
    }

    async fn rows(&self) -> Result<Vec<StoredRow>, StoreError> {
        let mut rows = Vec::new();
        for batch in self.batches().await? {
            rows.extend(
                StoredRow::read(&batch)
                    .map_err(|e| self.error("a row does not have the store's columns", e))?,
            );
        }
        Ok(rows)
    }

    /// On object storage, concurrent appends are safe only where the server honours create-only
    /// writes (delta-rs' default log store commits with them): asked before every append, and a
    /// server that ignores them is refused rather than risking a lost commit.
    async fn check_safe_commits(&self) -> Result<(), StoreError> {
        let Some(store) = &self.remote else {
            return Ok(());
        };
        let table = crate::object_storage::object_path(&self.url);
        crate::object_storage::open::check_conditional_put(store.as_ref(), &table)
            .await
            .map_err(|e| self.error("cannot commit safely", e))
    }

    fn error(
        &self,
        action: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> StoreError {
        error(&self.location, action, source)
    }
}

fn error(
    location: &str,
    action: impl Into<String>,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> StoreError {
    StoreError {
        location: location.to_string(),
        action: action.into(),
        source: Some(source.into()),
    }
}

/// The columns of a row that reading the store needs.
struct StoredRow {
    run_id: String,
    started: String,
    git_commit: Option<String>,
    workload: String,
    datafusion_version: String,
    policy: String,
    query: String,
    statement: Option<String>,
    plan_fingerprint: Option<String>,
    plans_digest: Option<String>,
    settings: Option<String>,
    bundle: Option<String>,
    error: Option<String>,
}

/// A store row that lacks a column reading needs, or has one of another type.
#[derive(Debug, thiserror::Error)]
enum RowError {
    #[error("the table has no column `{0}`")]
    MissingColumn(String),
    #[error("column `{column}` cannot be read as text")]
    NotText {
        column: String,
        #[source]
        source: datafusion::arrow::error::ArrowError,
    },
}

impl StoredRow {
    fn read(batch: &RecordBatch) -> Result<Vec<StoredRow>, RowError> {
        let text = |name: &str| -> Result<Vec<Option<String>>, RowError> {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| RowError::MissingColumn(name.to_string()))?;
            let column = datafusion::arrow::compute::cast(
                column,
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .map_err(|source| RowError::NotText {
                column: name.to_string(),
                source,
            })?;
            let strings = column.as_string::<i32>();
            Ok((0..strings.len())
                .map(|i| (!strings.is_null(i)).then(|| strings.value(i).to_string()))
                .collect())
        };
        let started = text("run_started")?;
        let [
            run_id,
            git_commit,
            workload,
            version,
            policy,
            query,
            statement,
            fingerprint,
            digest,
            settings,
            bundle,
            error,
        ] = [
            "run_id",
            "git_commit",
            "workload",
            "datafusion_version",
            "policy",
            "query",
            "query_statement",
            "plan_fingerprint",
            "plans_digest",
            "settings",
            "bundle",
            "error",
        ]
        .map(text);
        let (run_id, git_commit, workload, version, policy, query, statement) = (
            run_id?,
            git_commit?,
            workload?,
            version?,
            policy?,
            query?,
            statement?,
        );
        let (fingerprint, digest, settings, bundle, error) =
            (fingerprint?, digest?, settings?, bundle?, error?);
        Ok((0..batch.num_rows())
            .map(|i| StoredRow {
                run_id: run_id[i].clone().unwrap_or_default(),
                started: started[i].clone().unwrap_or_default(),
                git_commit: git_commit[i].clone(),
                workload: workload[i].clone().unwrap_or_default(),
                datafusion_version: version[i].clone().unwrap_or_default(),
                policy: policy[i].clone().unwrap_or_default(),
                query: query[i].clone().unwrap_or_default(),
                statement: statement[i].clone(),
                plan_fingerprint: fingerprint[i].clone(),
                plans_digest: digest[i].clone(),
                settings: settings[i].clone(),
                bundle: bundle[i].clone(),
                error: error[i].clone(),
            })
            .collect())
    }
}
