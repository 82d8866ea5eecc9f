//! Delta Lake tables: opening at a pinned version, the facts reported per table, and which files a
//! planned query's Delta scans selected.
//!
//! File selection happens at planning time: `TableProvider::scan` replays the Delta log with the
//! query's predicates, skips files by partition values and by the log's per-file statistics, and plans
//! a `DeltaScanExec` over a Parquet `DataSourceExec` holding exactly the selected files
//! (deltalake-core 1.1's `delta_datafusion/table_provider` and `delta_datafusion/scan`). The
//! selected files are the distinct `object_meta.location`s of that child's file groups, since
//! DataFusion may split one file into several byte ranges.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::ExecutionPlan;
use deltalake::delta_datafusion::DeltaScanExec;
use deltalake::logstore::LogStore;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use object_store::ObjectStore;

use super::files::FileSource;
use super::table::{Location, Table};
use serde::Serialize;

/// What a Delta table is at the version a session reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeltaFacts {
    /// The table's root as a URL (`file:///…/lineitem/`).
    pub uri: String,
    /// The version read: the pinned one, or the latest when unpinned.
    pub version: u64,
    /// Files active in that version.
    pub active_files: usize,
    /// Rows in those files, from the log's per-file statistics (`numRecords`); `None` when a file
    /// has no statistics in the log.
    pub rows: Option<u64>,
    /// Partition columns (those the active files have values for), sorted.
    pub partition_columns: Vec<String>,
    /// The active files' paths relative to the table root, in the log's order (which is the order
    /// of a scan's file groups).
    #[serde(skip)]
    pub files: Vec<String>,
}

/// The URL scheme a Delta table served from a snapshot is opened under.
pub const SNAPSHOT_SCHEME: &str = "dfpolicy-snapshot";

/// delta-rs makes a log store per URL scheme through a factory; dfpolicy gives its own schemes (the
/// snapshot's, and with the `cloud` feature S3's, Azure's and GCS's) delta-rs' default log store,
/// which commits with conditional puts (`PutMode::Create`) and needs no lock service. The snapshot
/// scheme is read-only: dfpolicy never commits to a snapshot.
pub fn register_default_log_store(scheme: &str) {
    static REGISTERED: std::sync::Mutex<BTreeSet<String>> = std::sync::Mutex::new(BTreeSet::new());
    let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    if registered.insert(scheme.to_string()) {
        let url = url::Url::parse(&format!("{scheme}://")).expect("a valid URL");
        deltalake::logstore::logstore_factories().insert(url, Arc::new(DefaultLogStores));
    }
}

/// See [`register_default_log_store`].
struct DefaultLogStores;

impl deltalake::logstore::LogStoreFactory for DefaultLogStores {
    fn with_options(
        &self,
        prefixed_store: deltalake::logstore::ObjectStoreRef,
        root_store: deltalake::logstore::ObjectStoreRef,
        location: &url::Url,
        options: &deltalake::logstore::StorageConfig,
    ) -> deltalake::DeltaResult<Arc<dyn LogStore>> {
        Ok(deltalake::logstore::default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// The builder of the Delta table at `url`, read through `store` when one is given (the root store
/// of a bucket, or a snapshot's), under delta-rs' default log store for the URL's scheme; else
/// through delta-rs' own store for the scheme.
pub fn builder(
    url: url::Url,
    store: Option<&Arc<dyn ObjectStore>>,
) -> Result<DeltaTableBuilder, DeltaTableError> {
    let Some(store) = store else {
        return DeltaTableBuilder::from_url(url);
    };
    register_default_log_store(url.scheme());
    Ok(DeltaTableBuilder::from_url(url.clone())?.with_storage_backend(Arc::clone(store), url))
}

/// Opens a Delta table at `version`, or at its latest version: a remote table through its
/// bucket's store, a local table through the store its files are served from (a snapshot's, say),
/// else delta-rs' own.
pub async fn open(
    location: &Location,
    version: Option<u64>,
    served_from: &FileSource,
) -> Result<DeltaTable, DeltaTableError> {
    let url = location
        .url(served_from)
        .map_err(|_| DeltaTableError::InvalidTableLocation(location.to_string()))?;
    let builder = match (location, served_from) {
        (Location::Remote(remote), _) => builder(url, Some(&remote.store))?,
        (Location::Local(_), FileSource::Snapshot(served)) => {
            // The Delta kernel insists that a `file://` table's folder exists on disk; a snapshot's
            // does not. Under a scheme of its own the table is read through the snapshot's store
            // alone, at the same paths.
            // (`Url::set_scheme` cannot leave `file`, a special scheme.)
            let served_url = url::Url::parse(&format!("{SNAPSHOT_SCHEME}://{}", url.path()))
                .map_err(|_| DeltaTableError::InvalidTableLocation(url.to_string()))?;
            builder(served_url, Some(&served.store))?
        }
        (Location::Local(_), FileSource::Disk) => builder(url, None)?,
    };
    match version {
        Some(version) => builder.with_version(version).load().await,
        None => builder.load().await,
    }
}

/// Opens a workload's Delta table at its pinned (else latest) version, with its facts; delta-rs errors
/// become DataFusion errors, as the session reports them.
pub async fn open_with_facts(
    table: &Table,
) -> datafusion::common::Result<(DeltaTable, DeltaFacts)> {
    let external = |e: DeltaTableError| datafusion::common::DataFusionError::External(Box::new(e));
    let table = open(&table.location, table.version, &table.served_from)
        .await
        .map_err(external)?;
    let facts = facts(&table).map_err(external)?;
    Ok((table, facts))
}

/// The facts of an opened table.
pub fn facts(table: &DeltaTable) -> Result<DeltaFacts, DeltaTableError> {
    let snapshot = table.snapshot()?;
    let mut rows = Some(0u64);
    let mut active_files = 0;
    let mut partition_columns = BTreeSet::new();
    let mut files = Vec::new();
    for file in snapshot.log_data().iter() {
        active_files += 1;
        files.push(file.path().into_owned());
        partition_columns.extend(file.partition_values_map().into_keys());
        let records = file.stats().and_then(|stats| {
            serde_json::from_str::<serde_json::Value>(&stats)
                .ok()?
                .get("numRecords")?
                .as_u64()
        });
        rows = rows.zip(records).map(|(sum, n)| sum + n);
    }
    Ok(DeltaFacts {
        uri: table.table_url().to_string(),
        version: table.version().unwrap_or_default(),
        active_files,
        rows,
        partition_columns: partition_columns.into_iter().collect(),
        files,
    })
}

/// The object store URL delta-rs registers for a table (remote tables' scans read through it); with
/// the table root, it tells which table a `DeltaScanExec` belongs to.
pub fn object_store_url(table: &DeltaTable) -> String {
    table.log_store().object_store_url().to_string()
}

/// One Delta scan of a physical plan: which table, and how many of its files the scan reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeltaScanFiles {
    /// The workload's name for the table; `None` when the scan reads a table the workload does not
    /// declare (one a query file created).
    pub table: Option<String>,
    /// The version the scan reads.
    pub version: Option<u64>,
    /// Files active in that version.
    pub files_in_version: Option<usize>,
    /// Files the scan reads after partition and statistics skipping: the distinct files of the
    /// Parquet scan below the `DeltaScanExec` (DataFusion may split one file into byte ranges).
    pub files_selected: usize,
    /// The files selected, relative to the table root, sorted.
    pub selected: Vec<String>,
    /// The predicate the Parquet scan prunes row groups and pages with, as DataFusion prints it;
    /// partition-only predicates are applied by the Delta log replay instead and do not appear here.
    pub parquet_predicate: Option<String>,
}

/// A registered Delta table a plan may scan: its name and facts, and its object store URL.
#[derive(Debug, Clone)]
pub struct RegisteredDelta {
    /// The table's declared name.
    pub name: String,
    /// Its version, files and rows as read.
    pub facts: DeltaFacts,
    /// The object store URL its scans read through.
    pub object_store_url: String,
}

/// Every Delta scan of a physical plan, in plan order (depth first, left to right), each attributed
/// to its table: `scanned` names the workload tables the query reads (its logical plan's table
/// scans), which tells two tables over one location apart (see [`ScanOwners`]).
pub fn delta_scans(
    plan: &Arc<dyn ExecutionPlan>,
    tables: &[RegisteredDelta],
    scanned: &BTreeSet<String>,
) -> Vec<DeltaScanFiles> {
    let mut scans = Vec::new();
    let _ = plan.apply(|node| {
        if node.downcast_ref::<DeltaScanExec>().is_some() {
            scans.push(scan_files(node, tables));
            return Ok(TreeNodeRecursion::Jump);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    let candidates: Vec<ScanCandidates> = scans
        .iter()
        .map(|(scan, at_location)| ScanCandidates {
            tables: at_location.iter().map(|t| t.name.clone()).collect(),
            files: scan.selected.clone(),
        })
        .collect();
    let owners = ScanOwners::new(tables, scanned).owners(&candidates);
    scans
        .into_iter()
        .zip(owners)
        .map(|((mut scan, _), owner)| {
            let table = owner.and_then(|name| tables.iter().find(|t| t.name == name));
            scan.table = table.map(|t| t.name.clone());
            scan.version = table.map(|t| t.facts.version);
            scan.files_in_version = table.map(|t| t.facts.active_files);
            scan
        })
        .collect()
}

/// Which workload table each scan of one plan reads, when several tables share a location (one
/// Delta table declared at two versions, `events` and `events_v0`, or one folder declared twice). Of
/// the tables at a scan's location: those whose version holds every file the scan reads, then those
/// the query reads; a scan left with one candidate gets it, and the others, in plan order, get the
/// first candidate no other scan got (each narrowing only when it leaves a candidate).
pub struct ScanOwners<'a> {
    deltas: &'a [RegisteredDelta],
    scanned: &'a BTreeSet<String>,
}

/// One scan to attribute: the declared names of the tables at its location, best first, and the
/// files it reads, relative to the table root.
pub struct ScanCandidates {
    /// Declared names of the tables at the scan's location, best first.
    pub tables: Vec<String>,
    /// The files it reads, relative to the table root.
    pub files: Vec<String>,
}

impl<'a> ScanOwners<'a> {
    /// `scanned`: the workload tables the query reads, by declared name.
    pub fn new(deltas: &'a [RegisteredDelta], scanned: &'a BTreeSet<String>) -> Self {
        ScanOwners { deltas, scanned }
    }

    /// The owner of each scan, in the scans' order.
    pub fn owners(&self, scans: &[ScanCandidates]) -> Vec<Option<String>> {
        let narrowed: Vec<Vec<&String>> = scans.iter().map(|scan| self.plausible(scan)).collect();
        let mut owners: Vec<Option<String>> = narrowed
            .iter()
            .map(|left| match left.as_slice() {
                [only] => Some((*only).clone()),
                _ => None,
            })
            .collect();
        for (index, mut left) in narrowed.into_iter().enumerate() {
            if owners[index].is_some() {
                continue;
            }
            narrow(&mut left, |name| {
                !owners.iter().flatten().any(|given| given == *name)
            });
            owners[index] = left.first().map(|name| (*name).clone());
        }
        owners
    }

    fn plausible<'s>(&self, scan: &'s ScanCandidates) -> Vec<&'s String> {
        let mut left: Vec<&String> = scan.tables.iter().collect();
        if left.len() > 1 {
            let holds_every_file = |name: &&String| {
                self.deltas
                    .iter()
                    .find(|d| d.name == **name)
                    .is_none_or(|d| {
                        let version: HashSet<&str> =
                            d.facts.files.iter().map(String::as_str).collect();
                        scan.files.iter().all(|f| version.contains(f.as_str()))
                    })
            };
            narrow(&mut left, holds_every_file);
            narrow(&mut left, |name| self.scanned.contains(*name));
        }
        left
    }
}

/// Keeps the candidates that pass, unless none does.
fn narrow<T>(candidates: &mut Vec<T>, keep: impl Fn(&T) -> bool) {
    let kept: Vec<bool> = candidates.iter().map(keep).collect();
    if kept.contains(&true) {
        let mut kept = kept.into_iter();
        candidates.retain(|_| kept.next().unwrap_or(false));
    }
}

/// The files one Delta scan reads (relative to its location's root), and the tables at that location.
fn scan_files<'t>(
    scan: &Arc<dyn ExecutionPlan>,
    tables: &'t [RegisteredDelta],
) -> (DeltaScanFiles, Vec<&'t RegisteredDelta>) {
    let mut stores = BTreeSet::new();
    let mut selected = BTreeSet::new();
    let mut predicate = None;
    let _ = scan.apply(|node| {
        if let Some(source) = node.downcast_ref::<DataSourceExec>()
            && let Some(config) = source.data_source().downcast_ref::<FileScanConfig>()
        {
            stores.insert(config.object_store_url.to_string());
            for group in &config.file_groups {
                for file in group.files() {
                    selected.insert(file.object_meta.location.to_string());
                }
            }
            if predicate.is_none() {
                predicate = config.file_source.filter().map(|p| p.to_string());
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    // delta-rs reads local files through DataFusion's file store, with paths from the file system
    // root; other stores it registers under its own `delta-rs://` URL.
    let at_location: Vec<&RegisteredDelta> = tables
        .iter()
        .filter(|t| {
            let root = root_prefix(&t.facts.uri);
            stores.contains(&t.object_store_url)
                || (!root.is_empty() && selected.iter().any(|f| f.starts_with(&root)))
        })
        .collect();
    let root = at_location.first().map(|t| root_prefix(&t.facts.uri));
    let selected: Vec<String> = selected
        .into_iter()
        .map(|location| match &root {
            Some(root) => location
                .strip_prefix(root.as_str())
                .unwrap_or(&location)
                .to_string(),
            None => location,
        })
        .collect();
    let files = DeltaScanFiles {
        table: None,
        version: None,
        files_in_version: None,
        files_selected: selected.len(),
        selected,
        parquet_predicate: predicate,
    };
    (files, at_location)
}

/// The object store path of a table root (`tmp/x/lineitem/`; below the bucket on object storage),
/// for making file paths relative.
fn root_prefix(uri: &str) -> String {
    let path = url::Url::parse(uri)
        .ok()
        .and_then(|u| match u.to_file_path() {
            Ok(p) => Some(p.to_string_lossy().trim_start_matches('/').to_string()),
            Err(()) if u.scheme() != "file" => {
                Some(crate::object_storage::object_path(&u).as_ref().to_string())
            }
            Err(()) => None,
        })
        .unwrap_or_default();
    if path.is_empty() || path.ends_with('/') {
        path
    } else {
        format!("{path}/")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_roots_are_object_store_prefixes() {
        assert_eq!(
            super::root_prefix("file:///data/delta/lineitem/"),
            "data/delta/lineitem/"
        );
        assert_eq!(
            super::root_prefix("file:///data/delta/lineitem"),
            "data/delta/lineitem/"
        );
        assert_eq!(
            super::root_prefix("s3://lake/delta/lineitem/"),
            "delta/lineitem/"
        );
    }
}
